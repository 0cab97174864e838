// Package patrol is where grid workers are and where they went: it checks and resolves the
// positions their phones send (each point to its grid, with the in-memory index), hands them to the
// store in one batch, and turns stored positions into tracks and the day's figures (distance walked,
// time outside one's own grid, the share of one's grid the patrol covered, days without a patrol).
// It also asks the store for routes on roads and the nearest on-duty workers by road. It knows
// nothing of HTTP or SQL: it declares the store methods it needs (Store).
package patrol

import (
	"context"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
)

// Position is one point a phone sent, as stored: in WGS84, with the grid it fell in.
type Position struct {
	PersonID int64
	At       time.Time
	Lon, Lat float64
	Accuracy float32
	GridID   int64 // the deepest comprehensive grid holding the point, 0 outside the district
	OwnGrid  int64 // the worker's own grid holding the point, 0 when outside all of them
}

// Point is one point as a client sends it.
type Point struct {
	At       time.Time `json:"at"`
	Lon      *float64  `json:"lon"`
	Lat      *float64  `json:"lat"`
	CRS      string    `json:"crs,omitempty"`
	Accuracy *float64  `json:"accuracy,omitempty"`
}

// Store is what patrol needs from the database.
type Store interface {
	// OwnGrids are the grid identities of person's posts valid on day.
	OwnGrids(ctx context.Context, person int64, day time.Time) ([]int64, error)
	// PersonExists reports whether person is in the roster.
	PersonExists(ctx context.Context, person int64) (bool, error)
	// InsertPositions stores ps (and the last position of each person) in one transaction.
	InsertPositions(ctx context.Context, ps []Position) error
	// Transform converts points from EPSG srid to WGS84 (projected CRSs).
	Transform(ctx context.Context, srid int, xs, ys []float64) ([]float64, []float64, error)
	// PrunePositions deletes positions older than before.
	PrunePositions(ctx context.Context, before time.Time) (int64, error)
	LastPositions(ctx context.Context) ([]Last, error)
	// OwnGridsOf are the grid identities of the posts valid on day of each of persons.
	OwnGridsOf(ctx context.Context, persons []int64, day time.Time) (map[int64][]int64, error)
	Track(ctx context.Context, person int64, from, to time.Time) ([]Position, error)
	// CoveredShare is the share of the union of grids (valid on day) within bufferM of lines.
	CoveredShare(ctx context.Context, grids []int64, day time.Time, lines []orb.LineString, bufferM float64) (float64, error)
	// PatrolWorkers are the people holding posts valid on day on grid root or below it.
	PatrolWorkers(ctx context.Context, root int64, day time.Time) ([]Worker, error)
	// LastPatrols is, per grid with a post on root or below, the last time before `before` its
	// own worker was inside it.
	LastPatrols(ctx context.Context, root int64, day, before time.Time) ([]GridPatrol, error)
	Route(ctx context.Context, from, to orb.Point) (*Route, error)
	RoutesFrom(ctx context.Context, at orb.Point, targets []Target, n int) ([]TargetRoute, error)
}

// Last is a person's last position.
type Last struct {
	Position
	Name string
}

// Worker is a person holding a post on a grid.
type Worker struct {
	PersonID int64
	Name     string
	GridID   int64
	Post     gridline.Post
}

// GridPatrol is a grid's last patrol.
type GridPatrol struct {
	GridID     int64      `json:"grid_id"`
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	LastPatrol *time.Time `json:"last_patrol"`
}

// Route is a route on roads.
type Route struct {
	Line     orb.LineString `json:"-"`
	LengthM  float64        `json:"length_m"`
	Seconds  float64        `json:"seconds"`
	Roads    []string       `json:"roads"`       // the names along it, in order, without repeats
	SnapFrom float64        `json:"snap_from_m"` // how far from was from the road it was snapped to
	SnapTo   float64        `json:"snap_to_m"`
}

// Target is a point a route may end at (a worker's last position).
type Target struct {
	ID    int64
	Point orb.Point
}

// TargetRoute is the route to one target.
type TargetRoute struct {
	ID    int64
	Route Route
}

// Options tune a Service.
type Options struct {
	OnDuty    time.Duration // a position this recent puts its worker on duty (default 15 min)
	Gap       time.Duration // a longer silence breaks a track (default 10 min)
	BufferM   float64       // the width a patrol covers on each side of its track (default 30 m)
	Retention int           // days positions are kept (default 90)
	MaxPoints int           // points per request (default 100,000)
	Future    time.Duration // how far ahead of the clock a point may be stamped (default 5 min)
}

// Service is the patrol logic.
type Service struct {
	st    Store
	res   *resolve.Resolver
	clock gridline.Clock
	loc   *time.Location
	opt   Options
}

// New makes a Service.
func New(st Store, res *resolve.Resolver, clock gridline.Clock, loc *time.Location, opt Options) *Service {
	if opt.OnDuty <= 0 {
		opt.OnDuty = 15 * time.Minute
	}
	if opt.Gap <= 0 {
		opt.Gap = 10 * time.Minute
	}
	if opt.BufferM <= 0 {
		opt.BufferM = 30
	}
	if opt.Retention <= 0 {
		opt.Retention = 90
	}
	if opt.MaxPoints <= 0 {
		opt.MaxPoints = 100_000
	}
	if opt.Future <= 0 {
		opt.Future = 5 * time.Minute
	}
	return &Service{st: st, res: res, clock: clock, loc: loc, opt: opt}
}

// Options are the service's settings, defaults filled in.
func (s *Service) Options() Options { return s.opt }

// day is the district's calendar day of t, as a UTC midnight (as gridline.Today gives it).
func (s *Service) day(t time.Time) time.Time {
	l := t.In(s.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// dayBounds are the instants a district day starts and ends.
func (s *Service) dayBounds(day time.Time) (time.Time, time.Time) {
	from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, s.loc)
	return from, from.AddDate(0, 0, 1)
}

func pointErr(i int, field, format string, args ...any) *gridline.Error {
	return gridline.Errorf(gridline.EInvalid, "position %d: "+format, append([]any{i}, args...)...).With("index", i).With("field", field)
}

// Ingest checks, resolves and stores the positions person sent: all of them or, when one is bad,
// none (the error names the first bad point's index and field). defaultCRS applies to points
// without a crs. It returns how many were stored.
func (s *Service) Ingest(ctx context.Context, person int64, defaultCRS string, pts []Point) (int, error) {
	if len(pts) == 0 {
		return 0, gridline.Errorf(gridline.EInvalid, "positions is empty: send at least one point").With("field", "positions")
	}
	if len(pts) > s.opt.MaxPoints {
		return 0, gridline.Errorf(gridline.EInvalid, "%d positions in one request: send at most %d", len(pts), s.opt.MaxPoints).With("field", "positions")
	}
	ix := s.res.Index()
	if ix == nil {
		return 0, gridline.Errorf(gridline.EUnavailable, "the grid index is not loaded yet: try again shortly")
	}
	ok, err := s.st.PersonExists(ctx, person)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, gridline.Errorf(gridline.ENotFound, "person %d is not in the roster", person).With("field", "person_id")
	}
	now := s.clock.Now()
	oldest := now.AddDate(0, 0, -s.opt.Retention)
	out := make([]Position, len(pts))
	crsOf := map[string]geo.CRS{}
	projected := map[int][]int{} // srid -> indexes of points to transform
	for i := range pts {
		p := &pts[i]
		switch {
		case p.At.IsZero():
			return 0, pointErr(i, "at", "at is required (RFC 3339, e.g. 2026-12-06T09:30:00+08:00)")
		case p.At.After(now.Add(s.opt.Future)):
			return 0, pointErr(i, "at", "at %s is in the future: check the phone's clock", p.At.Format(time.RFC3339))
		case p.At.Before(oldest):
			return 0, pointErr(i, "at", "at %s is older than the %d days positions are kept", p.At.Format(time.RFC3339), s.opt.Retention)
		case p.Lon == nil:
			return 0, pointErr(i, "lon", "lon is required")
		case p.Lat == nil:
			return 0, pointErr(i, "lat", "lat is required")
		case math.IsNaN(*p.Lon) || math.IsInf(*p.Lon, 0):
			return 0, pointErr(i, "lon", "lon is not a finite number")
		case math.IsNaN(*p.Lat) || math.IsInf(*p.Lat, 0):
			return 0, pointErr(i, "lat", "lat is not a finite number")
		}
		acc := 0.0
		if p.Accuracy != nil {
			acc = *p.Accuracy
			if math.IsNaN(acc) || acc < 0 || acc > 1e6 {
				return 0, pointErr(i, "accuracy", "accuracy must be metres between 0 and 1,000,000")
			}
		}
		name := p.CRS
		if name == "" {
			name = defaultCRS
		}
		c, ok := crsOf[name]
		if !ok {
			if c, err = geo.ParseCRS(name); err != nil {
				return 0, gridline.Errorf(gridline.EInvalidCRS, "position %d: %v", i, err).With("index", i).With("field", "crs")
			}
			crsOf[name] = c
		}
		x, y := *p.Lon, *p.Lat
		if c.Local() {
			if x < -180 || x > 180 {
				return 0, pointErr(i, "lon", "lon %g is outside -180..180", x)
			}
			if y < -90 || y > 90 {
				return 0, pointErr(i, "lat", "lat %g is outside -90..90", y)
			}
			x, y = c.ToWGS84(x, y)
		} else {
			projected[c.EPSG] = append(projected[c.EPSG], i)
		}
		out[i] = Position{PersonID: person, At: p.At, Lon: x, Lat: y, Accuracy: float32(acc)}
	}
	for srid, idx := range projected {
		xs, ys := make([]float64, len(idx)), make([]float64, len(idx))
		for k, i := range idx {
			xs[k], ys[k] = *pts[i].Lon, *pts[i].Lat
		}
		lon, lat, err := s.st.Transform(ctx, srid, xs, ys)
		if err != nil {
			if e, ok := err.(*gridline.Error); ok {
				return 0, e.With("index", idx[0]).With("field", "crs")
			}
			return 0, err
		}
		for k, i := range idx {
			out[i].Lon, out[i].Lat = lon[k], lat[k]
		}
	}
	// Resolve: the deepest grid, and whether it lies in one of the worker's own grids (asked once
	// per day the batch spans).
	own := map[time.Time][]int64{}
	var loc resolve.Location
	var scratch []int32
	for i := range out {
		p := &out[i]
		d := s.day(p.At)
		grids, ok := own[d]
		if !ok {
			if grids, err = s.st.OwnGrids(ctx, person, d); err != nil {
				return 0, err
			}
			own[d] = grids
		}
		scratch = ix.Locate(orb.Point{p.Lon, p.Lat}, d, &loc, scratch)
		for _, c := range loc.Chain {
			if c < 0 {
				continue
			}
			id := ix.Grid(c).ID
			p.GridID = id
			if p.OwnGrid == 0 && slices.Contains(grids, id) {
				p.OwnGrid = id
			}
		}
		for _, c := range loc.Special {
			if id := ix.Grid(c).ID; p.OwnGrid == 0 && slices.Contains(grids, id) {
				p.OwnGrid = id
			}
		}
	}
	if err := s.st.InsertPositions(ctx, out); err != nil {
		return 0, err
	}
	return len(out), nil
}

// Prune deletes the positions older than the retention.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	return s.st.PrunePositions(ctx, s.clock.Now().AddDate(0, 0, -s.opt.Retention))
}

// Now is a worker's last position as GET /v1/workers/positions shows it.
type Now struct {
	PersonID int64     `json:"person_id"`
	Name     string    `json:"name"`
	Lon      float64   `json:"lon"`
	Lat      float64   `json:"lat"`
	Accuracy float32   `json:"accuracy"`
	At       time.Time `json:"at"`
	Grid     *GridRef  `json:"grid"`
	InOwn    bool      `json:"in_own_grid"`
	OnDuty   bool      `json:"on_duty"`
	// OwnGrids are the grids of the person's posts today (where they should be; a dispatch to the
	// worker names one of them). Workers fills them; NearestWorkers does not (reading everyone's
	// posts would cost more than the search: the console has them from the positions answer).
	OwnGrids []GridRef `json:"own_grids,omitempty"`
}

// GridRef names a grid.
type GridRef struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

func (s *Service) gridRef(id int64, day time.Time) *GridRef {
	ix := s.res.Index()
	if id == 0 || ix == nil {
		return nil
	}
	if v := ix.VersionOn(id, day); v >= 0 {
		g := ix.Grid(v)
		return &GridRef{ID: g.ID, Code: g.Code, Name: g.Name}
	}
	return &GridRef{ID: id}
}

// Workers are everyone's last positions, with their own grids; onDutyOnly keeps those seen
// within Options.OnDuty.
func (s *Service) Workers(ctx context.Context, onDutyOnly bool) ([]Now, error) {
	out, err := s.workers(ctx, onDutyOnly)
	if err != nil {
		return nil, err
	}
	return out, s.ownGrids(ctx, out)
}

// workers are the last positions without their own grids.
func (s *Service) workers(ctx context.Context, onDutyOnly bool) ([]Now, error) {
	last, err := s.st.LastPositions(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := []Now{}
	for _, l := range last {
		on := !l.At.Before(now.Add(-s.opt.OnDuty))
		if onDutyOnly && !on {
			continue
		}
		out = append(out, Now{PersonID: l.PersonID, Name: l.Name, Lon: l.Lon, Lat: l.Lat, Accuracy: l.Accuracy, At: l.At,
			Grid: s.gridRef(l.GridID, s.day(l.At)), InOwn: l.OwnGrid != 0, OnDuty: on})
	}
	return out, nil
}

// ownGrids names the grids of today's posts of ws, in one query.
func (s *Service) ownGrids(ctx context.Context, ws []Now) error {
	if len(ws) == 0 {
		return nil
	}
	ids := make([]int64, len(ws))
	for i := range ws {
		ids[i] = ws[i].PersonID
	}
	today := s.Today()
	own, err := s.st.OwnGridsOf(ctx, ids, today)
	if err != nil {
		return err
	}
	for i := range ws {
		for _, g := range own[ws[i].PersonID] {
			ws[i].OwnGrids = append(ws[i].OwnGrids, *s.gridRef(g, today))
		}
	}
	return nil
}

// Day is one worker's patrol on one day.
type Day struct {
	PersonID       int64            `json:"person_id"`
	Date           string           `json:"date"`
	Points         int              `json:"points"`
	Tracks         []orb.LineString `json:"-"`
	DistanceM      float64          `json:"distance_m"`
	OutsideMinutes float64          `json:"outside_minutes"`
	// Covered is the share (0..1) of the worker's own grids within BufferM of the day's track; nil
	// when the worker holds no post that day.
	Covered  *float64 `json:"covered_share"`
	OwnGrids []int64  `json:"own_grids"`
}

// Track is person's patrol on day: its tracks (broken at silences longer than Options.Gap), the
// distance walked, the time spent outside their own grids and the share of them covered.
func (s *Service) Track(ctx context.Context, person int64, day time.Time) (*Day, error) {
	from, to := s.dayBounds(day)
	ps, err := s.st.Track(ctx, person, from, to)
	if err != nil {
		return nil, err
	}
	own, err := s.st.OwnGrids(ctx, person, day)
	if err != nil {
		return nil, err
	}
	d := Summarise(ps, s.opt.Gap)
	d.PersonID, d.Date, d.OwnGrids = person, gridline.Date(day), own
	if len(own) > 0 {
		share, err := s.st.CoveredShare(ctx, own, day, d.Tracks, s.opt.BufferM)
		if err != nil {
			return nil, err
		}
		d.Covered = &share
	}
	return d, nil
}

// Summarise turns a day's positions (in time order) into tracks, distance and time outside. A
// point starts a new track when the one before it is more than gap older; distance and time are
// counted only within tracks. The time from a point to the next is outside when the point is.
func Summarise(ps []Position, gap time.Duration) *Day {
	d := &Day{Points: len(ps), Tracks: []orb.LineString{}, OwnGrids: []int64{}}
	var cur orb.LineString
	flush := func() {
		if len(cur) >= 2 {
			d.Tracks = append(d.Tracks, cur)
		} else if len(cur) == 1 {
			// A lone point is a track of no length: kept so that it still shows on the map.
			d.Tracks = append(d.Tracks, orb.LineString{cur[0], cur[0]})
		}
		cur = nil
	}
	var outside time.Duration
	for i, p := range ps {
		if i > 0 {
			q := ps[i-1]
			dt := p.At.Sub(q.At)
			if dt > gap {
				flush()
			} else {
				d.DistanceM += orbgeo.Distance(orb.Point{q.Lon, q.Lat}, orb.Point{p.Lon, p.Lat})
				if q.OwnGrid == 0 {
					outside += dt
				}
			}
		}
		cur = append(cur, orb.Point{p.Lon, p.Lat})
	}
	flush()
	d.OutsideMinutes = math.Round(outside.Minutes()*100) / 100
	d.DistanceM = math.Round(d.DistanceM*10) / 10
	return d
}

// Summary is GET /v1/patrols/summary: per worker of a subtree, their day; per grid with a post,
// the days without a patrol.
type Summary struct {
	Date    string     `json:"date"`
	Grid    int64      `json:"grid"`
	Workers []Day      `json:"workers"`
	Grids   []GridDays `json:"grids"`
}

// GridDays is a grid's days without a patrol up to a date: 0 when its worker was in it that day;
// nil when no patrol is on record (within the retention).
type GridDays struct {
	GridPatrol
	DaysWithout *int `json:"days_without_patrol"`
}

// Summary is the patrol summary of grid root's subtree on day.
func (s *Service) Summary(ctx context.Context, root int64, day time.Time) (*Summary, error) {
	ws, err := s.st.PatrolWorkers(ctx, root, day)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	out := &Summary{Date: gridline.Date(day), Grid: root, Workers: []Day{}, Grids: []GridDays{}}
	for _, w := range ws {
		if seen[w.PersonID] {
			continue
		}
		seen[w.PersonID] = true
		d, err := s.Track(ctx, w.PersonID, day)
		if err != nil {
			return nil, err
		}
		out.Workers = append(out.Workers, *d)
	}
	_, end := s.dayBounds(day)
	gp, err := s.st.LastPatrols(ctx, root, day, end)
	if err != nil {
		return nil, err
	}
	for _, g := range gp {
		gd := GridDays{GridPatrol: g}
		if g.LastPatrol != nil {
			n := int(day.Sub(s.day(*g.LastPatrol)).Hours() / 24)
			gd.DaysWithout = &n
		}
		out.Grids = append(out.Grids, gd)
	}
	sort.Slice(out.Grids, func(i, j int) bool { return out.Grids[i].Code < out.Grids[j].Code })
	return out, nil
}

// Route is the route on roads between two WGS84 points.
func (s *Service) Route(ctx context.Context, from, to orb.Point) (*Route, error) {
	return s.st.Route(ctx, from, to)
}

// Nearby is an on-duty worker with the route to them.
type Nearby struct {
	Now
	Route Route `json:"route"`
}

// candidates is how many on-duty workers, nearest in a straight line, are routed to find the
// nearest n by road: roads are rarely more than a few times longer than the straight line.
func candidates(n int) int { return max(4*n, 20) }

// NearestWorkers are the n on-duty workers nearest to at by travel on roads, nearest first, each
// with their route (from the worker to at). keep (nil: all) says which workers the caller may see.
func (s *Service) NearestWorkers(ctx context.Context, at orb.Point, n int, keep func(Now) bool) ([]Nearby, error) {
	all, err := s.workers(ctx, true)
	if err != nil {
		return nil, err
	}
	ws := all[:0]
	for _, w := range all {
		if keep == nil || keep(w) {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool {
		return orbgeo.Distance(at, orb.Point{ws[i].Lon, ws[i].Lat}) < orbgeo.Distance(at, orb.Point{ws[j].Lon, ws[j].Lat})
	})
	ws = ws[:min(len(ws), candidates(n))]
	targets := make([]Target, len(ws))
	byID := map[int64]Now{}
	for i, w := range ws {
		targets[i] = Target{ID: w.PersonID, Point: orb.Point{w.Lon, w.Lat}}
		byID[w.PersonID] = w
	}
	out := []Nearby{}
	if len(targets) == 0 {
		return out, nil
	}
	rs, err := s.st.RoutesFrom(ctx, at, targets, n)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		out = append(out, Nearby{Now: byID[r.ID], Route: r.Route})
	}
	return out, nil
}

// Chain is grid id's identity and its ancestors', as valid on day (from the index): what a
// permission check is asked about. Empty when the grid is unknown.
func (s *Service) Chain(id int64, day time.Time) []int64 {
	ix := s.res.Index()
	var out []int64
	for id != 0 && ix != nil && len(out) < 16 {
		v := ix.VersionOn(id, day)
		if v < 0 {
			break
		}
		out = append(out, id)
		id = ix.Grid(v).ParentID
	}
	return out
}

// Today is the district's date today.
func (s *Service) Today() time.Time { return gridline.Today(s.clock, s.loc) }

// OwnGrids are the grids of person's posts on day.
func (s *Service) OwnGrids(ctx context.Context, person int64, day time.Time) ([]int64, error) {
	return s.st.OwnGrids(ctx, person, day)
}
