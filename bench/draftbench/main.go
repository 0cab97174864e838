// Command draftbench measures the targets of issue 14 on a synthetic region (default 100,000 basic
// grids; -micro adds their micro grids): loading a community's editing neighbourhood, validating a
// reshape of one shared edge (the whole operation: find the grids, move the vertex, the write
// rules' dry run, the coverage audit of the parents touched, the stored revision), publishing a
// draft of about 50 changed grids, and how soon after the commit resolution and tiles show it
// (the change notification, the incremental index refresh, the tile cache invalidation).
//
// It creates and drops its own database (gridline_drafts_bench) on the server DATABASE_URL names.
//
//	go run ./bench/draftbench -grids 100000
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"gridline.dev/gridline"
	"gridline.dev/gridline/bench/internal/benchdb"
	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/drafts"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/tiles"
)

func main() {
	grids := flag.Int("grids", 100000, "basic grids of the synthetic region")
	runs := flag.Int("runs", 7, "runs of each measurement (the median and the slowest are reported)")
	flag.BoolVar(&micro, "micro", false, "add the micro grids (8 per basic grid: 811,800 versions for 100,000 basic grids)")
	flag.IntVar(&pick, "pick", 0, "use the community this many after the middle one (a fresh one for each -reuse)")
	flag.BoolVar(&keep, "keep", false, "keep the database afterwards (for -reuse)")
	flag.BoolVar(&reuse, "reuse", false, "reuse the region of a run with -keep instead of loading it again")
	flag.Parse()
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		fmt.Fprintln(os.Stderr, "draftbench: set DATABASE_URL")
		os.Exit(2)
	}
	if err := bench(context.Background(), admin, *grids, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "draftbench:", err)
		os.Exit(1)
	}
}

// commitSeen is when the first grid change notification arrived since it was last cleared.
var commitSeen atomic.Pointer[time.Time]

var (
	keep, reuse bool
	micro       bool
	pick        int
)

// database is a fresh database name (the one left by the last run with -reuse) and a function
// that drops it (unless -keep).
func database(ctx context.Context, admin, name string) (string, func(), error) {
	drop := func() {
		if !keep {
			benchdb.Drop(admin, name)
		}
	}
	if reuse {
		url, err := benchdb.URL(admin, name)
		return url, drop, err
	}
	url, _, err := benchdb.Create(ctx, admin, name)
	return url, drop, err
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// stats is the median and the slowest of ds.
func stats(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("median %s, slowest %s (%d runs)", ms(s[len(s)/2]), ms(s[len(s)-1]), len(s))
}

var (
	author   = drafts.Caller{AccountID: 0, Username: "bench-planner", CanWrite: func([]int64) bool { return true }, CanReview: func([]int64) bool { return true }}
	reviewer = drafts.Caller{AccountID: -1, Username: "bench-reviewer", CanWrite: func([]int64) bool { return true }, CanReview: func([]int64) bool { return true }}
)

func bench(ctx context.Context, admin string, n, runs int) error {
	url, drop, err := database(ctx, admin, "gridline_drafts_bench")
	if err != nil {
		return err
	}
	defer drop()
	db, err := store.Open(ctx, url, store.Options{StatementTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	gen := demo.Synthetic
	if micro {
		gen = demo.SyntheticWithMicro
	}
	d, err := gen(n, 1, demo.Options{})
	if err != nil {
		return err
	}
	if !reuse {
		if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, store.DefaultTolerance); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	if err := db.Analyze(ctx); err != nil {
		return err
	}
	with := "no micro grids"
	if micro {
		with = "with their micro grids"
	}
	fmt.Printf("synthetic region: %d grid versions (%d basic grids, %s), generated and loaded in %s\n\n", len(d.Grids), n, with, ms(time.Since(start)))

	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return err
	}
	clock := gridline.SystemClock{}
	res := resolve.NewIncremental(db, clock, loc)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan struct{})
	go db.Listen(lctx, func(table string) {
		if table == "grids" && commitSeen.Load() == nil {
			now := time.Now()
			commitSeen.Store(&now)
		}
		res.Changed(table)
	}, func(err error) {
		if err == nil {
			select {
			case <-listening:
			default:
				close(listening)
			}
		}
	})
	<-listening
	if err := res.Refresh(ctx); err != nil {
		return err
	}
	svc := tiles.NewService(res, tiles.Options{CacheBytes: 64 << 20})
	res.OnSwap(func() { svc.Tileset() })
	go res.Run(lctx, func(err error) { fmt.Fprintln(os.Stderr, "refresh:", err) })
	auditor := coverage.New(func() coverage.Index { return res.Index() }, db)
	ds := drafts.New(db, auditor, clock, loc, drafts.Options{})

	// A community in the middle of the region, and its basic grids.
	byID := map[int64]*gridline.Grid{}
	var comms []*gridline.Grid
	for i := range d.Grids {
		g := &d.Grids[i]
		byID[g.ID] = g
		if g.Level == gridline.LevelCommunity {
			comms = append(comms, g)
		}
	}
	kids := map[int64][]*gridline.Grid{}
	for i := range d.Grids {
		g := &d.Grids[i]
		kids[g.ParentID] = append(kids[g.ParentID], g)
	}
	comm := comms[len(comms)/2+pick*40]
	fmt.Printf("community %s: %d basic grids\n\n", comm.Code, len(kids[comm.ID]))

	// 1. The editing neighbourhood, encoded as the API sends it.
	dr, err := ds.Create(ctx, author, "bench neighbourhood", comm.Code, time.Time{})
	if err != nil {
		return err
	}
	var times []time.Duration
	var features, bytes int
	for range runs {
		t0 := time.Now()
		fc, err := ds.Neighbourhood(ctx, dr, comm.Code)
		if err != nil {
			return err
		}
		b, err := json.Marshal(fc)
		if err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		features, bytes = len(fc.Features), len(b)
	}
	fmt.Printf("| loading a community's editing neighbourhood (%d features, %d KB of GeoJSON at full precision) | %s | target < 200 ms |\n", features, bytes/1024, stats(times))

	// 2. Validating a reshape of one shared edge: the border of two basic grids of the community
	// (not on its outline) bent 0.5 m at its middle, sent as the client computes it (a reshape of
	// the two grids); and a vertex shared by the grids around it moved (move_vertex).
	ga, gb, p, q, ok := sharedSegment(kids[comm.ID], comm.Geometry)
	if !ok {
		return fmt.Errorf("no border of two basic grids inside community %s", comm.Code)
	}
	mid := orb.Point{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2}
	times = times[:0]
	var problems int
	for i := range runs {
		bent := orb.Point{mid[0] + 4e-6*float64(i%2*2-1), mid[1] + 3e-6}
		items := []any{}
		for _, g := range []*gridline.Grid{ga, gb} {
			items = append(items, map[string]any{"id": g.ID, "geometry": geojson.NewGeometry(bend(g.Geometry, p, q, bent))})
		}
		op, _ := json.Marshal(map[string]any{"op": "reshape", "grids": items})
		t0 := time.Now()
		out, err := ds.Apply(ctx, author, dr.ID, op)
		if err != nil {
			return fmt.Errorf("reshape: %w", err)
		}
		times = append(times, time.Since(t0))
		problems = len(out.Problems)
		if _, err := ds.Undo(ctx, author, dr.ID); err != nil {
			return err
		}
	}
	fmt.Printf("| validating a reshape of one shared edge: two basic grids' border bent 0.5 m (the op whole: parse, scope, validity, outline unchanged, the write rules' dry run, the coverage audit of the parent, the revision stored; %d problems) | %s | target < 100 ms |\n", problems, stats(times))

	vs := interiorVertices(kids[comm.ID], comm.Geometry)
	if len(vs) == 0 {
		return fmt.Errorf("no vertex inside community %s", comm.Code)
	}
	v := vs[0]
	times = times[:0]
	var changed int
	for i := range runs {
		to := orb.Point{v[0] + 3e-6*float64(i%2*2-1), v[1] + 2e-6}
		op, _ := json.Marshal(map[string]any{"op": "move_vertex", "from": v, "to": to})
		t0 := time.Now()
		out, err := ds.Apply(ctx, author, dr.ID, op)
		if err != nil {
			return fmt.Errorf("move_vertex: %w", err)
		}
		times = append(times, time.Since(t0))
		changed = len(out.Work.Grids)
		if _, err := ds.Undo(ctx, author, dr.ID); err != nil {
			return err
		}
	}
	fmt.Printf("| move_vertex of a vertex shared by %d grids (found by exact coordinates, moved in all) | %s | |\n", changed, stats(times))

	// 3. Publishing a draft of about 50 changed grids in one subdistrict: shared vertices moved
	// in several communities, and one grid renamed (the name shows when it is visible).
	sub := byID[comm.ParentID]
	pd, err := ds.Create(ctx, author, "bench publish", sub.Code, time.Time{})
	if err != nil {
		return err
	}
	marker := fmt.Sprintf("draftbench-%d", time.Now().UnixNano())
	target := kids[comm.ID][0]
	op, _ := json.Marshal(map[string]any{"op": "attributes", "grid": target.ID, "name": marker})
	cur, err := ds.Apply(ctx, author, pd.ID, op)
	if err != nil {
		return err
	}
	ops := 1
	var applyTimes []time.Duration
	for _, c := range kids[sub.ID] {
		if len(cur.Work.Grids) >= 50 {
			break
		}
		for _, p := range interiorVertices(kids[c.ID], c.Geometry) {
			if len(cur.Work.Grids) >= 50 {
				break
			}
			op, _ := json.Marshal(map[string]any{"op": "move_vertex", "from": p, "to": orb.Point{p[0] + 2e-6, p[1] + 2e-6}})
			t0 := time.Now()
			if cur, err = ds.Apply(ctx, author, pd.ID, op); err != nil {
				return fmt.Errorf("move_vertex %v: %w", p, err)
			}
			applyTimes = append(applyTimes, time.Since(t0))
			ops++
		}
	}
	var ack []string
	for _, p := range cur.Problems {
		if p.Kind == drafts.KindRule {
			return fmt.Errorf("the 50-grid draft breaks a rule: %s", p.Message)
		}
		ack = append(ack, p.Key)
	}
	if _, err := ds.Submit(ctx, author, pd.ID, ack); err != nil {
		return err
	}
	if _, err := ds.Review(ctx, reviewer, pd.ID, true, "bench"); err != nil {
		return err
	}
	eff := cur.EffectiveDate
	pt := interior(target.Geometry)
	z := uint32(15)
	tx, ty := tileXY(z, pt)
	treq := tiles.Request{Layers: []string{"grids"}, Z: z, X: tx, Y: ty, At: eff, CRS: geo.WGS84}
	if _, err := svc.Get(treq, false); err != nil { // cached before the publish
		return err
	}
	// Poll resolution and the tile while publishing; the commit's time is when its notification
	// arrives (the listener below records it).
	type seen struct{ resolve, tile time.Time }
	done := make(chan seen, 1)
	stop := make(chan struct{})
	go func() {
		var sn seen
		for sn.resolve.IsZero() || sn.tile.IsZero() {
			select {
			case <-stop:
				done <- sn
				return
			default:
			}
			if sn.resolve.IsZero() {
				ans := res.Answer(resolve.InputPoint{Lon: pt[0], Lat: pt[1], CRS: "wgs84"}, pt, eff)
				for _, g := range ans.Chain {
					if g.Name == marker {
						sn.resolve = time.Now()
					}
				}
			}
			if sn.tile.IsZero() {
				if e, err := svc.Get(treq, false); err == nil && strings.Contains(string(e.Data), marker) {
					sn.tile = time.Now()
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		done <- sn
	}()
	commitSeen.Store(nil)
	t0 := time.Now()
	if _, err := ds.Publish(ctx, author, pd.ID); err != nil {
		close(stop)
		return fmt.Errorf("publish: %w", err)
	}
	publish := time.Since(t0)
	var sn seen
	select {
	case sn = <-done:
	case <-time.After(30 * time.Second):
		close(stop)
		sn = <-done
	}
	commit := t0.Add(publish)
	if c := commitSeen.Load(); c != nil {
		commit = *c
	}
	after := func(t time.Time) string {
		if t.IsZero() {
			return "not within 30 s"
		}
		return ms(t.Sub(commit))
	}
	// The refresh answers from an overlay over the previous spatial index (resolve/overlay.go) and
	// builds the full index in the background: how big the overlay was, and when the full index
	// replaced it.
	overlayDelta, overlayMasked := res.Index().Overlay()
	res.WaitCompacted()
	compacted := time.Now()
	// The existing invalidation under the same load, for comparison (after the publish: a
	// change before it would be a conflict of the draft's): a grid renamed in place
	// (store.RenameGrid, as bench/tiles.sh times it) until resolution answers with the new name.
	other := kids[comm.ID][len(kids[comm.ID])-1]
	op2 := interior(other.Geometry)
	rename := marker + "-rename"
	commitSeen.Store(nil)
	r0 := time.Now()
	if err := db.RenameGrid(ctx, other.ID, rename); err != nil {
		return err
	}
	var renamed time.Duration
	for time.Since(r0) < 60*time.Second {
		ans := res.Answer(resolve.InputPoint{Lon: op2[0], Lat: op2[1], CRS: "wgs84"}, op2, res.Today())
		if len(ans.Chain) > 0 && ans.Chain[len(ans.Chain)-1].Name == rename {
			if c := commitSeen.Load(); c != nil {
				renamed = time.Since(*c)
			} else {
				renamed = time.Since(r0)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	fmt.Printf("| publishing a draft of %d changed grids (%d operations; one transaction: conflict check, versions through checkGrids, four bounds, lineage, audit) | %s | target < 1 s |\n", len(cur.Work.Grids), ops, ms(publish))
	fmt.Printf("| visible after the commit (its notification): resolution with at=%s | %s | target < 1 s |\n", gridline.Date(eff), after(sn.resolve))
	fmt.Printf("| visible after the commit (its notification): the cached tile %d/%d/%d of that date | %s | target < 1 s |\n", z, tx, ty, after(sn.tile))
	fmt.Printf("| the refresh's spatial overlay (versions indexed in the delta / base entries masked), then the full index built in the background and swapped in | %d / %d, full after %s | |\n", overlayDelta, overlayMasked, after(compacted))
	fmt.Printf("| for comparison, the existing invalidation under the same load: a grid renamed in place (store.RenameGrid) until resolution shows it | %s | |\n", ms(renamed))
	// What building the whole spatial index costs (before the overlay, every geometry change did
	// it on the refreshing goroutine; now the background compaction does).
	snap, err := db.Snapshot(ctx)
	if err != nil {
		return err
	}
	b0 := time.Now()
	resolve.Build(snap.Grids, snap.Staff, time.Now())
	fmt.Printf("| for comparison, building the resolver's index of all %d versions (before the overlay, on the refresh path after any geometry change; now in the background) | %s | |\n", len(snap.Grids), ms(time.Since(b0)))
	fmt.Printf("\n(each of the %d move_vertex operations of that draft, validated as the draft grew: %s)\n", len(applyTimes), stats(applyTimes))
	return nil
}

// sharedSegment is a segment p-q of two of gs (basic grids), not on outline.
func sharedSegment(gs []*gridline.Grid, outline orb.MultiPolygon) (*gridline.Grid, *gridline.Grid, orb.Point, orb.Point, bool) {
	type seg struct{ p, q orb.Point }
	owner := map[seg]*gridline.Grid{}
	for _, g := range gs {
		for _, poly := range g.Geometry {
			for _, r := range poly {
				for k := 0; k+1 < len(r); k++ {
					p, q := r[k], r[k+1]
					mid := orb.Point{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2}
					if o, ok := owner[seg{q, p}]; ok && o != g && !onBoundary(outline, mid) {
						return o, g, p, q, true
					}
					owner[seg{p, q}] = g
				}
			}
		}
	}
	return nil, nil, orb.Point{}, orb.Point{}, false
}

// bend is mp with m put between p and q (in either order) wherever they are consecutive.
func bend(mp orb.MultiPolygon, p, q, m orb.Point) orb.MultiPolygon {
	out := orb.Clone(mp).(orb.MultiPolygon)
	for _, poly := range out {
		for j, r := range poly {
			var nr orb.Ring
			for k := 0; k+1 < len(r); k++ {
				nr = append(nr, r[k])
				if r[k] == p && r[k+1] == q || r[k] == q && r[k+1] == p {
					nr = append(nr, m)
				}
			}
			poly[j] = append(nr, r[len(r)-1])
		}
	}
	return out
}

// interiorVertices are the vertices shared by four of gs, off outline.
func interiorVertices(gs []*gridline.Grid, outline orb.MultiPolygon) []orb.Point {
	count := map[orb.Point]int{}
	for _, g := range gs {
		for p := range verts(g.Geometry) {
			count[p]++
		}
	}
	var out []orb.Point
	for p, c := range count {
		if c >= 3 && !onBoundary(outline, p) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] || out[i][0] == out[j][0] && out[i][1] < out[j][1] })
	return out
}

func verts(mp orb.MultiPolygon) map[orb.Point]bool {
	out := map[orb.Point]bool{}
	for _, p := range mp {
		for _, r := range p {
			for _, q := range r {
				out[q] = true
			}
		}
	}
	return out
}

// onBoundary reports whether p lies on a segment of mp (within 1e-9°).
func onBoundary(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		for _, r := range poly {
			for k := 0; k+1 < len(r); k++ {
				a, b := r[k], r[k+1]
				if p == a || p == b {
					return true
				}
				dx, dy := b[0]-a[0], b[1]-a[1]
				l := math.Hypot(dx, dy)
				if l == 0 {
					continue
				}
				if math.Abs(dx*(p[1]-a[1])-dy*(p[0]-a[0]))/l < 1e-9 &&
					p[0] >= math.Min(a[0], b[0])-1e-9 && p[0] <= math.Max(a[0], b[0])+1e-9 &&
					p[1] >= math.Min(a[1], b[1])-1e-9 && p[1] <= math.Max(a[1], b[1])+1e-9 {
					return true
				}
			}
		}
	}
	return false
}

// interior is the centre of mp's box (the synthetic grids are near-rectangular).
func interior(mp orb.MultiPolygon) orb.Point { return mp.Bound().Center() }

func tileXY(z uint32, p orb.Point) (uint32, uint32) {
	n := math.Exp2(float64(z))
	x := (p[0] + 180) / 360 * n
	lat := p[1] * math.Pi / 180
	y := (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n
	return uint32(x), uint32(y)
}
