// Package resolve answers "whose grid is this point in, and who is responsible?" from an in-memory
// spatial index of every grid version, built from the store and rebuilt when grids or staff change.
//
// Boundary rule: a point on a shared edge or vertex is covered by both grids (as PostGIS ST_Covers
// says). Within one layer and level the grid with the smallest code is chosen, every time; the
// answer marks it on_boundary and names the other grid as near_boundary at distance 0.
package resolve

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
)

// NearBoundaryMetres is how close to its basic grid's boundary a point must be for the answer to
// name the grid across that boundary.
const NearBoundaryMetres = 30.0

// Store is the store as the resolver reads it incrementally.
type Store interface {
	// GridChanges returns every version's change stamp, and the full rows of the versions whose
	// stamp differs from known (all rows when known is nil).
	GridChanges(ctx context.Context, known map[int64]int64) (map[int64]int64, []gridline.Grid, error)
	// AllStaff returns every assignment with its person.
	AllStaff(ctx context.Context) ([]gridline.Staff, error)
}

// Resolver holds the current index and swaps in a new one when the data change.
type Resolver struct {
	src   Store
	clock gridline.Clock
	loc   *time.Location

	cur  atomic.Pointer[GridIndex]
	live atomic.Bool // whether change notifications are arriving (the index is current)

	mu           sync.Mutex // serialises rebuilds
	gridsPending atomic.Bool
	staffPending atomic.Bool
	changed      chan struct{} // capacity 1: a burst of changes becomes one rebuild
	onSwap       []func()      // called after each new index is swapped in (under mu)

	spaces sync.Pool // *answerSpace, reused by AppendAnswer

	compacting atomic.Bool    // a background full build of the spatial index is running
	compactWG  sync.WaitGroup // for WaitCompacted
}

// NewIncremental makes a resolver that, after the first load, reads only the grid versions whose
// change stamp moved, reloads staff only when staff changed, and keeps the spatial index when no
// geometry changed: an edit reaches answers (and tiles) in milliseconds, not a full reload. Call
// Refresh before the first lookup. loc is the deployment's time zone, which decides what "today"
// is; clock gives the time.
func NewIncremental(src Store, clock gridline.Clock, loc *time.Location) *Resolver {
	r := &Resolver{src: src, clock: clock, loc: loc, changed: make(chan struct{}, 1)}
	r.live.Store(true)
	return r
}

// Refresh brings the index up to date with the store and swaps it in: everything on the first
// call, otherwise what Changed reported. Concurrent calls coalesce.
func (r *Resolver) Refresh(ctx context.Context) error {
	if r.cur.Load() == nil {
		r.gridsPending.Store(true)
		r.staffPending.Store(true)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	doGrids, doStaff := r.gridsPending.Swap(false), r.staffPending.Swap(false)
	prev := r.cur.Load()
	if prev != nil && !doGrids && !doStaff {
		return nil // another caller already did what was asked
	}
	fail := func(err error) error {
		// Ask again next time: what was pending is still pending.
		r.gridsPending.Store(r.gridsPending.Load() || doGrids)
		r.staffPending.Store(r.staffPending.Load() || doStaff)
		return fmt.Errorf("refresh resolution index: %w", err)
	}
	var known map[int64]int64
	if prev != nil {
		known = prev.stamps
	}
	if known == nil {
		doGrids, doStaff = true, true
	}
	var stamps map[int64]int64
	var changed []gridline.Grid
	var staff []gridline.Staff
	var err error
	if doGrids {
		if stamps, changed, err = r.src.GridChanges(ctx, known); err != nil {
			return fail(err)
		}
	}
	if doStaff {
		if staff, err = r.src.AllStaff(ctx); err != nil {
			return fail(err)
		}
	}
	if known == nil {
		ix := Build(changed, staff, r.clock.Now())
		ix.stamps = stamps
		r.swap(ix)
		return nil
	}
	r.swap(prev.update(doGrids, stamps, changed, doStaff, staff, r.clock.Now()))
	return nil
}

// OnSwap registers fn to run after every new index is swapped in, on the refreshing goroutine,
// so that what derives from the index (the tile cache) is brought up to date before requests
// need it. fn must not call Refresh.
func (r *Resolver) OnSwap(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onSwap = append(r.onSwap, fn)
}

// swap publishes ix and runs the OnSwap hooks; the caller holds mu. An index with an overlay
// gets its full spatial index built in the background.
func (r *Resolver) swap(ix *GridIndex) {
	r.cur.Store(ix)
	for _, fn := range r.onSwap {
		fn()
	}
	if ix.spat.Load().overlay() && r.compacting.CompareAndSwap(false, true) {
		r.compactWG.Add(1)
		go r.compact()
	}
}

// compact builds the full spatial index of the current index while it has an overlay and swaps it
// into that same GridIndex (same positions, same answers: the tile source and cached answers stay
// valid). When a newer index was swapped in meanwhile, that one is compacted in turn. One runs at
// a time, off the refreshing goroutine.
func (r *Resolver) compact() {
	defer r.compactWG.Done()
	for {
		ix := r.cur.Load()
		old := ix.spat.Load()
		if old.overlay() {
			ix.spat.CompareAndSwap(old, full(ix))
		}
		r.compacting.Store(false)
		// A swap that found compacting set relied on this loop: look again.
		if cur := r.cur.Load(); !cur.spat.Load().overlay() || !r.compacting.CompareAndSwap(false, true) {
			return
		}
	}
}

// WaitCompacted waits for the background build of the full spatial index, if one is running
// (for tests and benchmarks).
func (r *Resolver) WaitCompacted() { r.compactWG.Wait() }

// Overlay reports how many versions the index's overlay holds and how many base entries it masks
// (0, 0 when its spatial index is a full one).
func (ix *GridIndex) Overlay() (delta, masked int) {
	s := ix.spat.Load()
	if !s.overlay() {
		return 0, 0
	}
	for _, p := range s.baseToPos {
		if p < 0 {
			masked++
		}
	}
	return len(s.deltaVer), masked
}

// Changed asks for a refresh without waiting for it: table is what changed ("grids", "people",
// "assignments"), or "" when unknown (after a reconnection). Many calls while a refresh runs
// cause one more. Run performs them.
func (r *Resolver) Changed(table string) {
	switch table {
	case "grids":
		r.gridsPending.Store(true)
	case "people", "assignments":
		r.staffPending.Store(true)
	default:
		r.gridsPending.Store(true)
		r.staffPending.Store(true)
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Run refreshes the index after every Changed until ctx ends. A failed refresh keeps the previous
// index and is reported to onError; the next change (or reconnection) tries again.
func (r *Resolver) Run(ctx context.Context, onError func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.changed:
			if err := r.Refresh(ctx); err != nil && ctx.Err() == nil && onError != nil {
				onError(err)
			}
		}
	}
}

// SetLive records whether change notifications are arriving; while they are not, answers say the
// index may be stale.
func (r *Resolver) SetLive(ok bool) { r.live.Store(ok) }

// Index is the current index, nil before the first Refresh.
func (r *Resolver) Index() *GridIndex { return r.cur.Load() }

// Ready reports whether the resolver can answer.
func (r *Resolver) Ready() bool { return r.cur.Load() != nil }

// Today is the current date in the deployment's time zone.
func (r *Resolver) Today() time.Time { return gridline.Today(r.clock, r.loc) }

// Status describes the index an answer came from.
type Status struct {
	BuiltAt    time.Time `json:"built_at"`
	AgeSeconds float64   `json:"age_seconds"`
	Live       bool      `json:"live"` // false while the database cannot be reached: the index may be stale
	Grids      int       `json:"grid_versions"`
}

// Status of the current index.
func (r *Resolver) Status() Status {
	ix := r.cur.Load()
	if ix == nil {
		return Status{}
	}
	age := r.clock.Now().Sub(ix.built)
	return Status{BuiltAt: ix.built, AgeSeconds: math.Round(age.Seconds()*10) / 10, Live: r.live.Load(), Grids: len(ix.grids)}
}

// GridIndex is an immutable snapshot: every grid version, the spatial index over them, and the staff.
type GridIndex struct {
	grids []gridline.Grid // position = spatial index id
	// spat is the spatial index over the positions: a full geo.PolygonIndex, or a base index with an
	// overlay of recent changes until the Resolver swaps in a full one built in the background.
	spat      atomic.Pointer[spatial]
	byID      map[int64][]int32 // grid identity -> its versions' positions
	byVersion map[int64]int32
	staff     map[int64][]gridline.Staff
	built     time.Time
	layers    []gridline.Layer // thematic layers present, sorted
	// districts are the positions of the comprehensive district versions (the roots).
	districts []int32
	// refs caches each position's rendered reference for one date (see Ref).
	refs []atomic.Pointer[cachedRef]
	// stamps are the change stamps of the versions this index holds (incremental refresh only).
	stamps map[int64]int64
}

// Build makes an index from scratch. It is exported for benchmarks and tests.
func Build(grids []gridline.Grid, staff []gridline.Staff, built time.Time) *GridIndex {
	ix := assemble(grids, staffMap(staff), nil, built)
	ix.spat.Store(full(ix))
	return ix
}

func staffMap(staff []gridline.Staff) map[int64][]gridline.Staff {
	m := map[int64][]gridline.Staff{}
	for _, s := range staff {
		m[s.GridID] = append(m[s.GridID], s)
	}
	return m
}

// assemble makes an index over grids, without its spatial index (the caller stores one).
func assemble(grids []gridline.Grid, staff map[int64][]gridline.Staff, stamps map[int64]int64, built time.Time) *GridIndex {
	ix := &GridIndex{grids: grids, byID: make(map[int64][]int32, len(grids)), byVersion: make(map[int64]int32, len(grids)),
		refs: make([]atomic.Pointer[cachedRef], len(grids)), staff: staff, stamps: stamps, built: built}
	seen := map[gridline.Layer]bool{}
	// Most grids have one version: their position lists are one-element windows of one array
	// (an allocation per grid made refreshes slow); a second version appends into its own.
	one := make([]int32, len(grids))
	for i := range grids {
		if l, ok := ix.byID[grids[i].ID]; ok {
			ix.byID[grids[i].ID] = append(l, int32(i))
		} else {
			one[i] = int32(i)
			ix.byID[grids[i].ID] = one[i : i+1 : i+1]
		}
		ix.byVersion[grids[i].VersionID] = int32(i)
		if grids[i].Level == gridline.LevelDistrict && grids[i].Layer == gridline.LayerComprehensive {
			ix.districts = append(ix.districts, int32(i))
		}
		if l := grids[i].Layer; l.Thematic() && !seen[l] {
			seen[l] = true
			ix.layers = append(ix.layers, l)
		}
	}
	sort.Slice(ix.layers, func(a, b int) bool { return ix.layers[a] < ix.layers[b] })
	return ix
}

// update makes the next index, built at built, from this one and what changed: with doGrids, the
// new stamps and the changed rows (a version missing from stamps was deleted); with doStaff, all
// staff. The spatial index is kept when no version was added or deleted and no geometry changed;
// otherwise the previous one gets an overlay of the changes (see overlay.go), or, past deltaLimit,
// is built anew.
func (ix *GridIndex) update(doGrids bool, stamps map[int64]int64, changed []gridline.Grid, doStaff bool, staff []gridline.Staff, built time.Time) *GridIndex {
	grids, st := ix.grids, ix.stamps
	sp := ix.spat.Load()
	var reshaped map[int64]bool
	if doGrids {
		st = stamps
		sameGeometry := len(stamps) == len(ix.grids)
		// Room for the new versions: growing a slice of 100,000 grids would copy it again.
		next := make([]gridline.Grid, len(ix.grids), len(ix.grids)+len(changed))
		copy(next, ix.grids)
		for _, g := range changed {
			i, ok := ix.byVersion[g.VersionID]
			if !ok {
				sameGeometry = false
				continue
			}
			if !orb.Equal(ix.grids[i].Geometry, g.Geometry) {
				sameGeometry = false
				if reshaped == nil {
					reshaped = map[int64]bool{}
				}
				reshaped[g.VersionID] = true
			}
			next[i] = g
		}
		if !sameGeometry {
			// Positions change: drop the deleted versions (in place, by index: a Grid is large),
			// add the new ones; the spatial index gets an overlay or is built anew.
			kept := next[:0]
			for i := range next {
				if _, ok := stamps[next[i].VersionID]; ok {
					if len(kept) != i {
						next[len(kept)] = next[i]
					}
					kept = kept[:len(kept)+1]
				}
			}
			for _, g := range changed {
				if _, ok := ix.byVersion[g.VersionID]; !ok {
					kept = append(kept, g)
				}
			}
			next = kept
		}
		grids = next
		if !sameGeometry {
			sp = nil
		}
	}
	sm := ix.staff
	if doStaff {
		sm = staffMap(staff)
	}
	nx := assemble(grids, sm, st, built)
	if sp == nil {
		sp = ix.spat.Load().next(ix, nx, reshaped)
	}
	if sp == nil {
		sp = full(nx)
	}
	nx.spat.Store(sp)
	return nx
}

// Grid is the version at position i.
func (ix *GridIndex) Grid(i int32) *gridline.Grid { return &ix.grids[i] }

// Len is the number of grid versions.
func (ix *GridIndex) Len() int { return len(ix.grids) }

// Built is when the index was built.
func (ix *GridIndex) Built() time.Time { return ix.built }

func validOn(g *gridline.Grid, at time.Time) bool {
	return !g.ValidFrom.After(at) && (g.ValidTo == nil || g.ValidTo.After(at))
}

// Location is where a point falls: the chosen grid version per level of the comprehensive layer,
// and the special and thematic grids that cover it. Positions are index ids, -1 for none.
type Location struct {
	Chain    [5]int32 // by gridline.Level.Rank(): district .. micro
	Special  []int32
	Thematic []int32 // one per thematic layer that covers the point, ordered by layer
	Ties     []int32 // grids that also cover the point on a shared boundary but lost the tie
}

// Covered reports whether any comprehensive grid covers the point.
func (l *Location) Covered() bool {
	for _, c := range l.Chain {
		if c >= 0 {
			return true
		}
	}
	return false
}

// Deepest is the lowest comprehensive level found (position), or -1.
func (l *Location) Deepest() int32 {
	for i := len(l.Chain) - 1; i >= 0; i-- {
		if l.Chain[i] >= 0 {
			return l.Chain[i]
		}
	}
	return -1
}

// Locate finds the grids covering p (WGS84) on date at. scratch is reused to avoid allocating.
func (ix *GridIndex) Locate(p orb.Point, at time.Time, loc *Location, scratch []int32) []int32 {
	scratch = ix.spat.Load().covering(p, scratch[:0])
	ix.Choose(scratch, at, loc)
	return scratch
}

// Choose fills loc from the positions of the grid versions that cover a point (from the spatial
// index, or from PostGIS): versions valid on at, one per level and layer by the boundary rule.
func (ix *GridIndex) Choose(covering []int32, at time.Time, loc *Location) {
	for i := range loc.Chain {
		loc.Chain[i] = -1
	}
	loc.Special, loc.Thematic, loc.Ties = loc.Special[:0], loc.Thematic[:0], loc.Ties[:0]
	for _, i := range covering {
		g := &ix.grids[i]
		if !validOn(g, at) {
			continue
		}
		switch {
		case g.Layer == gridline.LayerComprehensive:
			r := g.Level.Rank()
			if cur := loc.Chain[r]; cur < 0 {
				loc.Chain[r] = i
			} else if g.Code < ix.grids[cur].Code {
				loc.Ties = append(loc.Ties, cur)
				loc.Chain[r] = i
			} else {
				loc.Ties = append(loc.Ties, i)
			}
		case g.Layer == gridline.LayerSpecial:
			loc.Special = append(loc.Special, i)
		default:
			loc.Thematic = ix.pickThematic(loc, i)
		}
	}
	if len(loc.Special) > 1 {
		slices.SortFunc(loc.Special, func(a, b int32) int { return strings.Compare(ix.grids[a].Code, ix.grids[b].Code) })
	}
}

// pickThematic keeps, per thematic layer and level, the grid with the smallest code.
func (ix *GridIndex) pickThematic(loc *Location, i int32) []int32 {
	g := &ix.grids[i]
	for k, j := range loc.Thematic {
		h := &ix.grids[j]
		if h.Layer == g.Layer && h.Level == g.Level {
			if g.Code < h.Code {
				loc.Ties = append(loc.Ties, j)
				loc.Thematic[k] = i
			} else {
				loc.Ties = append(loc.Ties, i)
			}
			return loc.Thematic
		}
	}
	// slices.SortFunc rather than sort.Slice: the latter boxes the slice, an allocation per point.
	t := append(loc.Thematic, i)
	slices.SortFunc(t, func(a, b int32) int {
		ga, gb := &ix.grids[a], &ix.grids[b]
		if ga.Layer != gb.Layer {
			return strings.Compare(string(ga.Layer), string(gb.Layer))
		}
		return ga.Level.Rank() - gb.Level.Rank()
	})
	return t
}

// versionOn is the position of grid id's version valid on at, or -1.
func (ix *GridIndex) versionOn(id int64, at time.Time) int32 {
	for _, i := range ix.byID[id] {
		if validOn(&ix.grids[i], at) {
			return i
		}
	}
	return -1
}

// Responsible lists the people responsible for grid position i on date at: its own staff, and,
// when its primary post (see gridline.PrimaryPost) is vacant, the parent's responsible people
// marked as fallback (属地兜底), up the hierarchy until someone holds the post.
func (ix *GridIndex) Responsible(i int32, at time.Time) []Contact {
	g := &ix.grids[i]
	var out []Contact
	filled := false
	primary := gridline.PrimaryPost(g.Level, g.Layer)
	for _, s := range ix.staff[g.ID] {
		if !s.ValidOn(at) {
			continue
		}
		out = append(out, Contact{Post: s.Post, PersonID: s.PersonID, Name: s.Name, Phone: s.Phone})
		if s.Post == primary {
			filled = true
		}
	}
	if filled {
		return out
	}
	seen := 0
	for parent := g.ParentID; parent != 0 && seen < 8; seen++ {
		pi := ix.versionOn(parent, at)
		if pi < 0 {
			break
		}
		pg := &ix.grids[pi]
		prole := gridline.PrimaryPost(pg.Level, pg.Layer)
		found := false
		for _, s := range ix.staff[pg.ID] {
			if s.ValidOn(at) && s.Post == prole {
				out = append(out, Contact{Post: s.Post, PersonID: s.PersonID, Name: s.Name, Phone: s.Phone, Fallback: true, FromGrid: pg.Code})
				found = true
			}
		}
		if found {
			break
		}
		parent = pg.ParentID
	}
	return out
}

// Contact is someone responsible for a grid, as an answer shows them.
type Contact struct {
	Post     gridline.Post `json:"role"`
	PersonID int64         `json:"person_id"`
	Name     string        `json:"name"`
	Phone    string        `json:"phone,omitempty"`
	Fallback bool          `json:"fallback,omitempty"`  // the post is vacant: this is the parent's person
	FromGrid string        `json:"from_grid,omitempty"` // the code of the grid the fallback came from
}

// nearestRadii are the search radii tried in turn: most uncovered points (a report just over the
// district line) find a grid within the first, and a wide search costs far more than a narrow one.
var nearestRadii = []float64{100, 500, 2500, 12500}

// Nearest is the comprehensive grid nearest to p on date at within maxMetres, preferring basic
// grids (then communities, subdistricts, the district where there are no basic grids).
//
// Basic grids tile their district, so for a point outside, the nearest point q of the district's
// outline lies on the nearest basic grid: one polygon is measured, then only the metre around q is
// searched. Where that finds nothing (no district, or grids that do not reach its edge) the search
// widens step by step from p.
func (ix *GridIndex) Nearest(p orb.Point, at time.Time, maxMetres float64) (int32, float64, bool) {
	reach, q := math.Inf(1), orb.Point{}
	for _, i := range ix.districts {
		if g := &ix.grids[i]; validOn(g, at) {
			if d, near := geo.BoundaryDistance(p, g.Geometry); d < reach {
				reach, q = d, near
			}
		}
	}
	sp := ix.spat.Load()
	for _, lv := range []gridline.Level{gridline.LevelGrid, gridline.LevelCommunity, gridline.LevelSubdistrict, gridline.LevelDistrict} {
		keep := func(i int32) bool {
			g := &ix.grids[i]
			return g.Layer == gridline.LayerComprehensive && g.Level == lv && validOn(g, at)
		}
		if reach <= maxMetres {
			if i, _, ok := sp.nearest(q, 1, keep); ok {
				d, _ := geo.BoundaryDistance(p, ix.grids[i].Geometry)
				return i, d, true
			}
		}
		for _, r := range append(nearestRadii[:len(nearestRadii):len(nearestRadii)], maxMetres) {
			if r > maxMetres {
				r = maxMetres
			}
			if i, d, ok := sp.nearest(p, r, keep); ok {
				return i, d, true
			}
			if r == maxMetres {
				break
			}
		}
	}
	return -1, 0, false
}

// Across is the nearest grid of the same layer and level as position own, other than own, within
// maxMetres of p: the grid across the boundary.
func (ix *GridIndex) Across(p orb.Point, own int32, at time.Time, maxMetres float64) (int32, float64, bool) {
	g := &ix.grids[own]
	return ix.spat.Load().nearest(p, maxMetres, func(i int32) bool {
		h := &ix.grids[i]
		return i != own && h.ID != g.ID && h.Layer == g.Layer && h.Level == g.Level && validOn(h, at)
	})
}

// BoundaryDistance is the distance in metres from p to the boundary of position i.
func (ix *GridIndex) BoundaryDistance(p orb.Point, i int32) float64 {
	d, _ := geo.BoundaryDistance(p, ix.grids[i].Geometry)
	return d
}

// Position is the index position of the grid version with this version id, or -1.
func (ix *GridIndex) Position(versionID int64) int32 {
	if i, ok := ix.byVersion[versionID]; ok {
		return i
	}
	return -1
}

// VersionOn is the position of grid id's version valid on at, or -1.
func (ix *GridIndex) VersionOn(id int64, at time.Time) int32 { return ix.versionOn(id, at) }
