// Command coveragebench measures the coverage audit side by side with the plain PostGIS SQL an
// analyst writes (parent minus the union of its children; a sibling self-join on
// ST_Relate '2********'), on the same data in one run: the demo district, a damaged synthetic
// region, and one parent's 81 children (a draft's audit), clean and damaged.
//
// It creates and drops its own databases (gridline_cov_*) on the server DATABASE_URL names.
//
//	go run ./bench/coveragebench -grids 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/bench/internal/benchdb"
	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

var at = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func main() {
	grids := flag.Int("grids", 100000, "basic grids of the synthetic region")
	faults := flag.Int("faults", 400, "grids damaged in the synthetic region (a vertex moved 3 m)")
	runs := flag.Int("runs", 3, "runs of each audit and of the plain SQL (the median is reported)")
	skipDemo := flag.Bool("skip-demo", false, "leave out the demo district")
	flag.Parse()
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		fmt.Fprintln(os.Stderr, "coveragebench: set DATABASE_URL")
		os.Exit(2)
	}
	ctx := context.Background()
	if err := bench(ctx, admin, *grids, *faults, *runs, *skipDemo); err != nil {
		fmt.Fprintln(os.Stderr, "coveragebench:", err)
		os.Exit(1)
	}
}

// timeIt runs fn n times and returns the median duration and the last result.
func timeIt[T any](n int, fn func() (T, error)) (time.Duration, T, error) {
	var ds []time.Duration
	var last T
	for range n {
		start := time.Now()
		v, err := fn()
		if err != nil {
			return 0, last, err
		}
		ds = append(ds, time.Since(start))
		last = v
	}
	slices.Sort(ds)
	return ds[len(ds)/2], last, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

// region loads d into a fresh database and compares the audit with the plain SQL.
func region(ctx context.Context, admin, name, label string, d *demo.District, runs int, layers []string) error {
	db, done, err := benchdb.Open(ctx, admin, name, store.Options{StatementTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	// A huge tolerance: the damaged region has children outside their parents, which the write
	// rules would refuse.
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, 1e12); err != nil {
		return fmt.Errorf("load %s: %w", label, err)
	}
	if err := db.Analyze(ctx); err != nil {
		return err
	}
	fmt.Printf("\n## %s: %d grid versions (loaded in %s)\n\n", label, len(d.Grids), ms(time.Since(start)))
	start = time.Now()
	snap, err := db.Snapshot(ctx)
	if err != nil {
		return err
	}
	ix := resolve.Build(snap.Grids, snap.Staff, time.Now())
	fmt.Printf("index built from the database in %s (every server holds it already; not counted below)\n\n", ms(time.Since(start)))
	a := coverage.New(func() coverage.Index { return ix }, db)
	geomRules := []string{"geometry"}
	dGeom, rep, err := timeIt(runs, func() (*coverage.Report, error) {
		return a.Audit(ctx, coverage.Request{At: at, Rules: geomRules})
	})
	if err != nil {
		return err
	}
	dAll, repAll, err := timeIt(runs, func() (*coverage.Report, error) { return a.Audit(ctx, coverage.Request{At: at}) })
	if err != nil {
		return err
	}
	geomFindings := 0
	for _, r := range []string{coverage.RuleGap, coverage.RuleOverlap, coverage.RuleSliver} {
		for _, c := range rep.Summary.ByRule[r] {
			geomFindings += c.Count
		}
	}
	plainTotal, plainFound, err := timeIt(runs, func() (int, error) {
		n := 0
		for _, l := range layers {
			pf, err := db.PlainCoverage(ctx, at, l, 1)
			if err != nil {
				return 0, err
			}
			n += len(pf)
		}
		return n, nil
	})
	if err != nil {
		return err
	}
	fmt.Println("| what | time | found |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| audit, geometry rules (median of %d) | %s | %d gaps, overlaps and slivers; %d of %d families measured in PostGIS |\n", runs, ms(dGeom), geomFindings, rep.Summary.Candidates, rep.Summary.Families)
	fmt.Printf("| audit, every rule (median of %d) | %s | %d findings |\n", runs, ms(dAll), repAll.Summary.Findings)
	fmt.Printf("| plain PostGIS SQL, gaps + overlaps, layers %v (median of %d) | %s | %d gaps and overlaps |\n", layers, runs, ms(plainTotal), plainFound)
	fmt.Printf("\naudit steps, geometry rules (last run, ms): %v\n", rep.Summary.StepsMS)
	fmt.Printf("\nratio plain SQL / audit (geometry): %.1fx\n", plainTotal.Seconds()/dGeom.Seconds())
	if plainFound != geomFindings {
		fmt.Printf("\nWARNING: the audit found %d, the plain SQL %d\n", geomFindings, plainFound)
	}
	return nil
}

// damage moves one vertex 3 m in faults basic grids spread over the region.
func damage(d *demo.District, faults int) {
	var basics []int
	for k, g := range d.Grids {
		if g.Level == gridline.LevelGrid {
			basics = append(basics, k)
		}
	}
	if faults <= 0 || len(basics) == 0 {
		return
	}
	step := max(1, len(basics)/faults)
	for f := 0; f < faults && f*step < len(basics); f++ {
		g := &d.Grids[basics[f*step+step/2]]
		ring := slices.Clone(g.Geometry[0][0])
		v := 1 + f%(len(ring)-2)
		dx, dy := 3.0/(111320*math.Cos(ring[v][1]*math.Pi/180)), 3.0/110540
		if f%2 == 1 {
			dx, dy = -dx, -dy
		}
		if f%3 == 2 {
			dx = 0
		}
		ring[v] = orb.Point{ring[v][0] + dx, ring[v][1] + dy}
		g.Geometry = orb.MultiPolygon{append(orb.Polygon{ring}, g.Geometry[0][1:]...)}
	}
}

// family measures the audit of one parent's 81 children (a draft's audit), held outside the
// index: the district of a 9 x 9 synthetic region and its basic grids, with the levels between
// left out.
func family(ctx context.Context, admin string, runs int) error {
	db, done, err := benchdb.Open(ctx, admin, "gridline_cov_family", store.Options{})
	if err != nil {
		return err
	}
	defer done()
	d, err := demo.Synthetic(81, 3, demo.Options{})
	if err != nil {
		return err
	}
	var grids []gridline.Grid
	for _, g := range d.Grids {
		switch g.Level {
		case gridline.LevelDistrict:
			grids = append(grids, g)
		case gridline.LevelGrid:
			g.ParentID = d.Grids[0].ID
			grids = append(grids, g)
		}
	}
	a := coverage.New(func() coverage.Index { return nil }, db)
	fmt.Printf("\n## one parent's %d children (a draft's audit, geometry rules, median of %d)\n\n", len(grids)-1, runs*10)
	fmt.Println("| family | time | findings | measured in PostGIS |")
	fmt.Println("|---|---|---|---|")
	for _, damaged := range []bool{false, true} {
		gs := slices.Clone(grids)
		label := "clean"
		if damaged {
			dd := &demo.District{Grids: gs}
			damage(dd, 3)
			label = "3 grids damaged"
		}
		dur, rep, err := timeIt(runs*10, func() (*coverage.Report, error) {
			return a.AuditGrids(ctx, gs, coverage.Request{At: at, Rules: []string{"geometry"}})
		})
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %s | %d | %d of %d families |\n", label, ms(dur), rep.Summary.Findings, rep.Summary.Candidates, rep.Summary.Families)
	}
	return nil
}

func bench(ctx context.Context, admin string, grids, faults, runs int, skipDemo bool) error {
	fmt.Printf("# coverage audit benchmark, %s\n", time.Now().UTC().Format("2006-01-02 15:04Z"))
	if !skipDemo {
		// Erqi only computes geometry in PostGIS: a migrated, empty database.
		mdb, done, err := benchdb.Open(ctx, admin, "gridline_cov_erqi_build", store.Options{})
		if err != nil {
			return err
		}
		d, err := demo.Erqi(ctx, mdb, demo.Options{Seed: 1})
		done()
		if err != nil {
			return err
		}
		if err := region(ctx, admin, "gridline_cov_erqi", "demo district (二七区), undamaged", d, runs, []string{"comprehensive", "police"}); err != nil {
			return err
		}
	}
	d, err := demo.Synthetic(grids, 7, demo.Options{})
	if err != nil {
		return err
	}
	damage(d, faults)
	label := fmt.Sprintf("synthetic region of %d basic grids, %d damaged (a vertex moved 3 m)", grids, faults)
	if err := region(ctx, admin, "gridline_cov_synthetic", label, d, runs, []string{"comprehensive"}); err != nil {
		return err
	}
	return family(ctx, admin, runs)
}
