package stats

import (
	"cmp"
	"context"
	"slices"
	"time"

	"gridline.dev/gridline"
)

// DefaultMinCases is how many cases a basic grid must have due in the month to be ranked among
// the ten worst or best.
const DefaultMinCases = 3

// DayPoint is one day of the brief's time series.
type DayPoint struct {
	Bucket          string   `json:"bucket"`
	Reported        int      `json:"reported"`
	Closed          int      `json:"closed"`
	OnTimeCloseRate *float64 `json:"on_time_close_rate"`
}

// Brief is GET /v1/stats/brief: everything the monthly brief shows.
type Brief struct {
	Scope       Scope             `json:"scope"`
	Month       string            `json:"month"`
	From        string            `json:"from"`
	To          string            `json:"to"`
	GeneratedAt time.Time         `json:"generated_at"`
	Total       Row               `json:"total"`
	Previous    Row               `json:"previous"`
	ChildGroup  Group             `json:"child_group"`
	Children    []Row             `json:"children"`
	Departments []Row             `json:"departments"`
	ByDay       []DayPoint        `json:"by_day"`
	ByClass     []Breakdown       `json:"by_class"`
	BySource    []Breakdown       `json:"by_source"`
	WorstGrids  []Row             `json:"worst_grids"`
	BestGrids   []Row             `json:"best_grids"`
	Workers     []Row             `json:"workers"`
	MinCases    int               `json:"min_cases"`
	Definitions map[string]string `json:"definitions"`
}

// ChildGroup is the level below a scope's: subdistricts of a district, communities of a
// subdistrict, basic grids of a community (and of anything below).
func ChildGroup(level string) Group {
	switch level {
	case "", "all", "district":
		return GroupSubdistrict
	case "subdistrict":
		return GroupCommunity
	}
	return GroupGrid
}

// Brief assembles the monthly brief of q's scope for the month starting at q.From (q.Group and
// q.Bucket are ignored). minCases <= 0 takes DefaultMinCases.
func (s *Service) Brief(ctx context.Context, q Query, minCases int) (*Brief, error) {
	if minCases <= 0 {
		minCases = DefaultMinCases
	}
	if q.Loc == nil {
		q.Loc = s.loc
	}
	q.Now = s.clock.Now()
	rules, err := s.store.PointsRules(ctx)
	if err != nil {
		return nil, err
	}
	b := &Brief{Scope: q.Scope, Month: q.From.Format("2006-01"), From: gridline.Date(q.From), To: gridline.Date(q.To),
		GeneratedAt: s.clock.Now().In(s.loc), MinCases: minCases, Definitions: Definitions, ChildGroup: ChildGroup(q.Scope.Level)}
	run := func(g Group, bucket Bucket, from, to time.Time) ([]Row, Row, error) {
		qq := q
		qq.Group, qq.Bucket, qq.From, qq.To = g, bucket, from, to
		cells, err := s.store.StatsCells(ctx, qq, s.working(qq))
		if err != nil {
			return nil, Row{}, err
		}
		rows, total := Rows(cells, rules)
		return rows, total, nil
	}
	// the whole scope: the district group's rows summed (a scope is inside one district)
	if _, b.Total, err = run(GroupDistrict, BucketNone, q.From, q.To); err != nil {
		return nil, err
	}
	prevFrom := q.From.AddDate(0, -1, 0)
	if _, b.Previous, err = run(GroupDistrict, BucketNone, prevFrom, q.From.AddDate(0, 0, -1)); err != nil {
		return nil, err
	}
	b.Previous.Bucket = prevFrom.Format("2006-01")
	if b.Children, _, err = run(b.ChildGroup, BucketNone, q.From, q.To); err != nil {
		return nil, err
	}
	if b.Departments, _, err = run(GroupDepartment, BucketNone, q.From, q.To); err != nil {
		return nil, err
	}
	days, _, err := run(GroupDistrict, BucketDay, q.From, q.To)
	if err != nil {
		return nil, err
	}
	b.ByDay = byDay(days, q.From, q.To, rules)
	grids, _, err := run(GroupGrid, BucketNone, q.From, q.To)
	if err != nil {
		return nil, err
	}
	b.WorstGrids, b.BestGrids = Rank(grids, minCases, 10)
	if b.Workers, _, err = run(GroupWorker, BucketNone, q.From, q.To); err != nil {
		return nil, err
	}
	slices.SortStableFunc(b.Workers, func(x, y Row) int { return cmp.Compare(y.Points, x.Points) })
	if b.ByClass, err = s.store.StatsBreakdown(ctx, q, "class"); err != nil {
		return nil, err
	}
	if b.BySource, err = s.store.StatsBreakdown(ctx, q, "source"); err != nil {
		return nil, err
	}
	return b, nil
}

// byDay sums the day rows of every group per day, one point for each day of the period.
func byDay(rows []Row, from, to time.Time, rules []Rule) []DayPoint {
	per := map[string][]Cell{}
	for _, r := range rows {
		per[r.Bucket] = append(per[r.Bucket], Cell{Counts: r.Counts, Steps: r.steps})
	}
	var out []DayPoint
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		k := gridline.Date(d)
		_, t := Rows(per[k], rules)
		out = append(out, DayPoint{Bucket: k, Reported: t.Reported, Closed: t.Closed, OnTimeCloseRate: t.OnTimeCloseRate})
	}
	return out
}

// Rank picks the n basic grids with the lowest on-time close rate (worst, lowest first) and the n
// with the highest (best, highest first), among the grids with at least minCases due; ties go to
// the grid with more cases due, then by key.
func Rank(rows []Row, minCases, n int) (worst, best []Row) {
	var el []Row
	for _, r := range rows {
		if r.Due >= minCases && r.OnTimeCloseRate != nil {
			el = append(el, r)
		}
	}
	by := func(asc bool) []Row {
		x := slices.Clone(el)
		slices.SortStableFunc(x, func(a, b Row) int {
			c := cmp.Compare(*a.OnTimeCloseRate, *b.OnTimeCloseRate)
			if !asc {
				c = -c
			}
			if c == 0 {
				c = cmp.Compare(b.Due, a.Due)
			}
			if c == 0 {
				c = cmp.Compare(a.Key, b.Key)
			}
			return c
		})
		if len(x) > n {
			x = x[:n]
		}
		if x == nil {
			x = []Row{}
		}
		return x
	}
	return by(true), by(false)
}
