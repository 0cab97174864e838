// Package stats computes the figures districts are judged by (统计考核, issue #16): per basic grid,
// community, subdistrict, district, department or worker and period, counts of what happened to
// cases (reported, filed, closed, due, closed on time ...) and the rates made of them, the average
// time of each step of the loop, and points (积分) from a rule table. The counting is done in SQL
// by the store (Store.StatsCounts); this package defines the figures, parses periods and buckets
// in the district's time zone, derives rates and points, and assembles the monthly brief. It knows
// nothing of HTTP or SQL.
package stats

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"gridline.dev/gridline"
)

// Group is what a row of figures is about.
type Group string

const (
	GroupGrid        Group = "grid"        // basic grids (the chain's grid-level entry)
	GroupCommunity   Group = "community"   // the chain's community
	GroupSubdistrict Group = "subdistrict" // the chain's subdistrict
	GroupDistrict    Group = "district"    // the chain's district
	GroupDepartment  Group = "department"  // the department a case is dispatched to (its lead)
	GroupWorker      Group = "worker"      // the grid worker a case is dispatched to; patrol figures: the worker who reported
)

// Groups are the groups in the order docs/api.md lists them.
var Groups = []Group{GroupGrid, GroupCommunity, GroupSubdistrict, GroupDistrict, GroupDepartment, GroupWorker}

// Level is the grid level a grid-like group keys on ("" for department and worker).
func (g Group) Level() string {
	switch g {
	case GroupGrid, GroupCommunity, GroupSubdistrict, GroupDistrict:
		return string(g)
	}
	return ""
}

// Bucket splits a group's row into one row per day, week (from Monday) or month.
type Bucket string

const (
	BucketNone  Bucket = "none"
	BucketDay   Bucket = "day"
	BucketWeek  Bucket = "week"
	BucketMonth Bucket = "month"
)

// MaxDays is the longest period a request may ask for.
const MaxDays = 366

// Scope is the grid subtree the figures are computed over (ID 0: every case the caller reads).
type Scope struct {
	ID    int64  `json:"id,omitempty"`
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level string `json:"level"`
}

// Query is one request for figures.
type Query struct {
	Group  Group
	Scope  Scope
	From   time.Time // the first day, midnight in Loc
	To     time.Time // the last day (inclusive), midnight in Loc
	Bucket Bucket
	Loc    *time.Location
	// Access: the cases the caller may read (as GET /v1/cases).
	Access Access
	// Now is when the figures are counted: a handling step counts as due once its due time has
	// passed (or its case is closed). Service sets it from its clock.
	Now time.Time
}

// Access is the part of the case base a caller reads.
type Access struct {
	Everywhere bool
	Roots      []int64  // grid subtrees
	DeptScope  []string // departments
}

// Start and End are the half-open instants of the period.
func (q Query) Start() time.Time { return q.From }

// End is the instant after the period's last day.
func (q Query) End() time.Time { return q.To.AddDate(0, 0, 1) }

// ParsePeriod reads from/to (YYYY-MM-DD, inclusive) or month (YYYY-MM) in loc; exactly one of the
// two forms. A period is at most MaxDays long.
func ParsePeriod(from, to, month string, loc *time.Location) (time.Time, time.Time, error) {
	if month != "" {
		if from != "" || to != "" {
			return time.Time{}, time.Time{}, gridline.Errorf(gridline.EInvalid, "give either month=YYYY-MM or from= and to=, not both").With("field", "month")
		}
		m, err := time.ParseInLocation("2006-01", month, loc)
		if err != nil || m.Year() < 2000 || m.Year() > 2100 {
			return time.Time{}, time.Time{}, gridline.Errorf(gridline.EInvalidDate, "month %q is not a month of the form YYYY-MM (2000 to 2100)", gridline.Excerpt(month)).With("field", "month")
		}
		return m, m.AddDate(0, 1, -1), nil
	}
	if from == "" || to == "" {
		return time.Time{}, time.Time{}, gridline.Errorf(gridline.EInvalid, "a period is needed: month=YYYY-MM, or from=YYYY-MM-DD and to=YYYY-MM-DD (inclusive)").With("field", "from")
	}
	var ds [2]time.Time
	for i, v := range []struct{ name, s string }{{"from", from}, {"to", to}} {
		d, err := gridline.ParseDate(v.name, v.s)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		ds[i] = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	}
	if ds[0].After(ds[1]) {
		return time.Time{}, time.Time{}, gridline.Errorf(gridline.EInvalid, "from %s is after to %s: the period runs from its first day to its last", from, to).With("field", "from")
	}
	if days := int(ds[1].Sub(ds[0]).Hours()/24+0.5) + 1; days > MaxDays {
		return time.Time{}, time.Time{}, gridline.Errorf(gridline.EInvalid, "the period %s to %s is %d days long: ask for at most %d days at once", from, to, days, MaxDays).With("field", "to")
	}
	return ds[0], ds[1], nil
}

// ParseGroup reads group= (default def).
func ParseGroup(s string, def Group) (Group, error) {
	if s == "" {
		return def, nil
	}
	if slices.Contains(Groups, Group(s)) {
		return Group(s), nil
	}
	return "", gridline.Errorf(gridline.EInvalid, "group %q is not one of grid, community, subdistrict, district, department, worker", gridline.Excerpt(s)).With("field", "group")
}

// ParseBucket reads bucket= (default none).
func ParseBucket(s string) (Bucket, error) {
	switch Bucket(s) {
	case "", BucketNone:
		return BucketNone, nil
	case BucketDay, BucketWeek, BucketMonth:
		return Bucket(s), nil
	}
	return "", gridline.Errorf(gridline.EInvalid, "bucket %q is not one of day, week, month, none", gridline.Excerpt(s)).With("field", "bucket")
}

// Counts are the counted figures of one group and bucket, as the store computes them.
type Counts struct {
	Reported       int `json:"reported"`
	Filed          int `json:"filed"`
	Voided         int `json:"voided"`
	Closed         int `json:"closed"`
	SelfHandled    int `json:"self_handled"`
	Due            int `json:"due"`
	Postponed      int `json:"postponed"`
	ClosedOnTime   int `json:"closed_on_time"`
	Overdue        int `json:"overdue"`
	Dispatched     int `json:"dispatched"`
	Redispatched   int `json:"redispatched"`
	Returned       int `json:"returned"`
	Reworked       int `json:"reworked"`
	PatrolReported int `json:"patrol_reported"`
	PatrolValid    int `json:"patrol_valid"`
	Missed         int `json:"missed"`
}

// CountNames are the counted figures in the order of Counts (the codes a points rule may use).
var CountNames = []string{"reported", "filed", "voided", "closed", "self_handled", "due", "postponed", "closed_on_time", "overdue",
	"dispatched", "redispatched", "returned", "reworked", "patrol_reported", "patrol_valid", "missed"}

// ptrs are the fields of c in the order of CountNames.
func (c *Counts) ptrs() []*int {
	return []*int{&c.Reported, &c.Filed, &c.Voided, &c.Closed, &c.SelfHandled, &c.Due, &c.Postponed, &c.ClosedOnTime, &c.Overdue,
		&c.Dispatched, &c.Redispatched, &c.Returned, &c.Reworked, &c.PatrolReported, &c.PatrolValid, &c.Missed}
}

// Get is the counted figure named name (one of CountNames).
func (c *Counts) Get(name string) (int, bool) {
	i := slices.Index(CountNames, name)
	if i < 0 {
		return 0, false
	}
	return *c.ptrs()[i], true
}

func (c *Counts) add(o *Counts) {
	a, b := c.ptrs(), o.ptrs()
	for i := range a {
		*a[i] += *b[i]
	}
}

// Steps are the steps of the loop whose average time is reported.
var Steps = []string{"file", "dispatch", "sign", "handle", "verify", "close"}

// StepTime is the time the steps of one name took in one group and bucket: their number and
// the sums of their natural and working seconds.
type StepTime struct {
	N              int
	Seconds        float64
	WorkingSeconds float64
}

// Cell is what the store answers for one group and bucket.
type Cell struct {
	Key    string // the grid code, the department code, the worker's person id
	Name   string
	Level  string // the grid's level; "department"; "worker"
	GridID int64  // the grid's identity (grid groups)
	Bucket string // "" (none), 2026-11-03, 2026-W45, 2026-11
	Counts
	Steps map[string]StepTime
}

// Row is one row of GET /v1/stats: a group (and bucket) with its counts, rates, times and points.
type Row struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	GridID int64  `json:"grid_id,omitempty"`
	Bucket string `json:"bucket"`
	Counts
	OnTimeCloseRate      *float64           `json:"on_time_close_rate"`
	CloseRate            *float64           `json:"close_rate"`
	ReworkRate           *float64           `json:"rework_rate"`
	AccurateDispatchRate *float64           `json:"accurate_dispatch_rate"`
	ValidReportRate      *float64           `json:"valid_report_rate"`
	MissedReportRate     *float64           `json:"missed_report_rate"`
	AvgStepHours         map[string]float64 `json:"avg_step_hours"`
	AvgStepWorkingHours  map[string]float64 `json:"avg_step_working_hours"`
	Points               float64            `json:"points"`

	steps map[string]StepTime
}

// StepsUsed are the step times behind the row's averages (for sums of rows).
func (r *Row) StepsUsed() map[string]StepTime { return r.steps }

func rate(num, den int) *float64 {
	if den <= 0 {
		return nil
	}
	x := math.Round(float64(num)/float64(den)*10000) / 10000
	return &x
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Rates are the numbers 0..1 made of a row's counts (nil when the denominator is 0).
func (r *Row) fill(rules []Rule) {
	c := &r.Counts
	r.OnTimeCloseRate = rate(c.ClosedOnTime, c.Due-c.Postponed)
	r.CloseRate = rate(c.Closed, c.Filed)
	r.ReworkRate = rate(c.Reworked, c.Closed)
	r.AccurateDispatchRate = rate(c.Dispatched-c.Redispatched, c.Dispatched)
	r.ValidReportRate = rate(c.PatrolValid, c.PatrolReported)
	r.MissedReportRate = rate(c.Missed, c.PatrolValid+c.Missed)
	r.AvgStepHours, r.AvgStepWorkingHours = map[string]float64{}, map[string]float64{}
	for _, s := range Steps {
		t, ok := r.steps[s]
		if !ok || t.N == 0 {
			continue
		}
		r.AvgStepHours[s] = round2(t.Seconds / float64(t.N) / 3600)
		r.AvgStepWorkingHours[s] = round2(t.WorkingSeconds / float64(t.N) / 3600)
	}
	r.Points = Points(c, rules)
}

// Points is the points (积分) of counts c under rules: the sum of each rule's points times the
// figure its code names.
func Points(c *Counts, rules []Rule) float64 {
	var p float64
	for _, ru := range rules {
		if n, ok := c.Get(ru.Code); ok {
			p += ru.Points * float64(n)
		}
	}
	return math.Round(p*100) / 100
}

// Rows turns the store's cells into rows (in the store's order) and their total.
func Rows(cells []Cell, rules []Rule) ([]Row, Row) {
	rows := make([]Row, 0, len(cells))
	total := Row{Key: "total", Name: "total", Level: "total", steps: map[string]StepTime{}}
	for _, c := range cells {
		r := Row{Key: c.Key, Name: c.Name, Level: c.Level, GridID: c.GridID, Bucket: c.Bucket, Counts: c.Counts, steps: c.Steps}
		r.fill(rules)
		rows = append(rows, r)
		total.Counts.add(&c.Counts)
		for s, t := range c.Steps {
			x := total.steps[s]
			x.N += t.N
			x.Seconds += t.Seconds
			x.WorkingSeconds += t.WorkingSeconds
			total.steps[s] = x
		}
	}
	total.fill(rules)
	return rows, total
}

// Store is what stats needs of the database.
type Store interface {
	// StatsCells counts the figures of q's cases per group (and bucket), computed in SQL; working
	// is the working time of the period's neighbourhood as [start, end) pairs (for working hours).
	StatsCells(ctx context.Context, q Query, working [][2]time.Time) ([]Cell, error)
	// StatsBreakdown counts reported and closed cases of q's scope by "class" or "source".
	StatsBreakdown(ctx context.Context, q Query, by string) ([]Breakdown, error)
	PointsRules(ctx context.Context) ([]Rule, error)
}

// Calendar gives the working time between two instants (worktime.Calendar's WorkingSpans).
type Calendar interface {
	WorkingSpans(from, to time.Time) [][2]time.Time
}

// Breakdown is a count of cases by class or source.
type Breakdown struct {
	ClassCode string `json:"class_code,omitempty"`
	ClassName string `json:"class_name,omitempty"`
	Source    string `json:"source,omitempty"`
	Reported  int    `json:"reported"`
	Closed    int    `json:"closed"`
}

// Service computes figures.
type Service struct {
	store Store
	cal   func() Calendar // nil or returning nil: working hours equal natural hours are not reported (0)
	clock gridline.Clock
	loc   *time.Location
}

// New makes a service. cal may be nil (no working calendar: working hours are reported as 0).
func New(st Store, cal func() Calendar, clock gridline.Clock, loc *time.Location) *Service {
	if loc == nil {
		loc = time.UTC
	}
	return &Service{store: st, cal: cal, clock: clock, loc: loc}
}

// Location is the district's time zone periods are read in.
func (s *Service) Location() *time.Location { return s.loc }

// Answer is GET /v1/stats.
type Answer struct {
	Scope       Scope             `json:"scope"`
	Group       Group             `json:"group"`
	From        string            `json:"from"`
	To          string            `json:"to"`
	Bucket      Bucket            `json:"bucket"`
	Rows        []Row             `json:"rows"`
	Total       Row               `json:"total"`
	Definitions map[string]string `json:"definitions"`
}

func (s *Service) working(q Query) [][2]time.Time {
	if s.cal == nil {
		return nil
	}
	c := s.cal()
	if c == nil {
		return nil
	}
	// steps that end in the period started at most a few months before it
	return c.WorkingSpans(q.Start().AddDate(0, -6, 0), q.End())
}

// Figures answers one query.
func (s *Service) Figures(ctx context.Context, q Query) (*Answer, error) {
	if q.Loc == nil {
		q.Loc = s.loc
	}
	q.Now = s.clock.Now()
	rules, err := s.store.PointsRules(ctx)
	if err != nil {
		return nil, err
	}
	cells, err := s.store.StatsCells(ctx, q, s.working(q))
	if err != nil {
		return nil, err
	}
	rows, total := Rows(cells, rules)
	return &Answer{Scope: q.Scope, Group: q.Group, From: gridline.Date(q.From), To: gridline.Date(q.To), Bucket: q.Bucket,
		Rows: rows, Total: total, Definitions: Definitions}, nil
}

// Definitions are the figures' definitions, served with every answer: English name, Chinese term,
// formula and how it is counted.
var Definitions = map[string]string{
	"reported":               "reported 上报数: cases reported in the period (their report event)",
	"filed":                  "filed 立案数: cases filed (立案) or self-handled (自处置, filed and closed at once) in the period",
	"voided":                 "voided 作废数: cases voided (作废) in the period",
	"closed":                 "closed 结案数: cases closed (结案) or self-handled in the period",
	"self_handled":           "self_handled 自处置数: cases the grid worker self-handled on the spot in the period",
	"due":                    "due 应结案数: cases whose handling step (处置; the latest one, after a re-dispatch or a rework) is due in the period; a step whose clock is stopped (postponed) counts at the time it was stopped",
	"postponed":              "postponed 缓办数: of the due cases, those postponed (缓办/挂账) at least once",
	"closed_on_time":         "closed_on_time 按期结案数: of the due cases not postponed, those closed at or before the handling step's due time",
	"overdue":                "overdue 超期数: due − postponed − closed on time",
	"dispatched":             "dispatched 派遣数: cases first dispatched (派遣) in the period",
	"redispatched":           "redispatched 重派数: of the dispatched cases, those dispatched a second time (改派) or returned as not theirs (退回)",
	"returned":               "returned 退回数: of the dispatched cases, those returned (退回) at least once",
	"reworked":               "reworked 返工数: of the closed cases, those sent back for rework (返工) at least once",
	"patrol_reported":        "patrol_reported 巡查上报数: cases reported from patrol (source patrol) in the period",
	"patrol_valid":           "patrol_valid 有效上报数: of the patrol reports, those filed or self-handled",
	"missed":                 "missed 漏报数: cases reported by the public, the hotline or Open311 in the period, filed, of a patrol-findable category (case_categories.patrol_findable), with no patrol report of the same category within 50 m in the 24 h before",
	"on_time_close_rate":     "on-time close rate 按期结案率 = closed on time / (due − postponed)",
	"close_rate":             "close rate 结案率 = closed / filed",
	"rework_rate":            "rework rate 返工率 = reworked / closed",
	"accurate_dispatch_rate": "accurate dispatch rate 准确派遣率 = (dispatched − redispatched) / dispatched",
	"valid_report_rate":      "valid report rate 有效上报率 = patrol valid / patrol reported",
	"missed_report_rate":     "missed-report rate 漏报率 = missed / (patrol valid + missed)",
	"avg_step_hours":         "average time per step 环节平均用时: natural hours from a step's start to its end, over the steps (file, dispatch, sign, handle, verify, close) that ended in the period",
	"avg_step_working_hours": "average working time per step 环节平均工作用时: the same in working hours of the working calendar (working days, office hours)",
	"points":                 "points 积分 = Σ rule points × the figure the rule's code names (GET /v1/stats/points-rules)",
}

// DescribeScope is the scope's name in messages.
func (s Scope) String() string {
	if s.ID == 0 {
		return "every case you may read"
	}
	return fmt.Sprintf("%s %s (%s)", s.Level, s.Code, s.Name)
}
