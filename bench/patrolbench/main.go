// Command patrolbench measures the patrol and routing targets of the dispatch map issue on the demo
// district: positions ingested (checked, resolved to their grids with the in-memory index and stored
// with COPY) per second; a route on the synthetic road network; the nearest 5 on-duty workers by road.
// It also times the demo's road network build, and a route on the whole network against one on the
// box around its ends.
//
// It creates and drops its own database (gridline_patrol_bench) on the server DATABASE_URL names.
//
//	go run ./bench/patrolbench -points 500000
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/bench/internal/benchdb"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/patrol"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

func main() {
	points := flag.Int("points", 500_000, "positions to ingest")
	batch := flag.Int("batch", 2_000, "positions per request (one worker's)")
	workers := flag.Int("concurrency", 2, "requests at once")
	routes := flag.Int("routes", 40, "routes and nearest-worker searches to time")
	flag.Parse()
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		fmt.Fprintln(os.Stderr, "patrolbench: set DATABASE_URL")
		os.Exit(2)
	}
	if err := bench(context.Background(), admin, *points, *batch, *workers, *routes); err != nil {
		fmt.Fprintln(os.Stderr, "patrolbench:", err)
		os.Exit(1)
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func quantiles(ds []time.Duration) (time.Duration, time.Duration) {
	slices.Sort(ds)
	return ds[len(ds)/2], ds[len(ds)*95/100]
}

func bench(ctx context.Context, admin string, points, batch, conc, nroutes int) error {
	db, done, err := benchdb.Open(ctx, admin, "gridline_patrol_bench", store.Options{StatementTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer done()
	d, err := demo.Erqi(ctx, db, demo.Options{Seed: 1})
	if err != nil {
		return err
	}
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, store.DefaultTolerance); err != nil {
		return err
	}
	t0 := time.Now()
	edges, names, err := db.BuildSyntheticRoads(ctx, d.Grids[0].ValidFrom)
	if err != nil {
		return err
	}
	fmt.Printf("demo road network: %d synthetic edges, %d road names placed, built in %s\n", edges, names, time.Since(t0).Round(time.Millisecond))

	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	clock := fixedClock{now}
	res := resolve.NewIncremental(db, clock, loc)
	if err := res.Refresh(ctx); err != nil {
		return err
	}
	svc := patrol.New(db, res, clock, loc, patrol.Options{})

	// The patrolling workers, each walking inside their own grid's box.
	type walker struct {
		person int64
		box    orb.Bound
	}
	grids := map[int64]gridline.Grid{}
	for _, g := range d.Grids {
		grids[g.ID] = g
	}
	var ws []walker
	for _, a := range d.Assignments {
		if a.Post == gridline.PostFullTimeWorker {
			ws = append(ws, walker{a.PersonID, grids[a.GridID].Geometry.Bound()})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	mkBatch := func(w walker, end time.Time) []patrol.Point {
		pts := make([]patrol.Point, batch)
		for i := range pts {
			lon := w.box.Min[0] + rng.Float64()*(w.box.Max[0]-w.box.Min[0])
			lat := w.box.Min[1] + rng.Float64()*(w.box.Max[1]-w.box.Min[1])
			acc := 5.0
			pts[i] = patrol.Point{At: end.Add(-time.Duration(batch-i) * time.Second), Lon: &lon, Lat: &lat, Accuracy: &acc}
		}
		return pts
	}
	nb := points / batch
	reqs := make([]struct {
		person int64
		pts    []patrol.Point
	}, nb)
	for i := range reqs {
		w := ws[i%len(ws)]
		// Each worker's batches follow one another in time; the last ends just before now.
		round := nb/len(ws) - i/len(ws)
		reqs[i].person, reqs[i].pts = w.person, mkBatch(w, now.Add(-time.Duration(round)*time.Duration(batch)*time.Second))
	}
	t0 = time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := 0
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(reqs) {
					return
				}
				if _, err := svc.Ingest(ctx, reqs[i].person, "", reqs[i].pts); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	el := time.Since(t0)
	fmt.Printf("ingest: %d positions in %d requests of %d (%d at once), %d workers: %s, %.0f positions/s (target 50,000)\n",
		nb*batch, nb, batch, conc, len(ws), el.Round(time.Millisecond), float64(nb*batch)/el.Seconds())

	// Routes between random places of the district.
	b := d.Grids[0].Geometry.Bound()
	randPt := func() orb.Point {
		return orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
	}
	var rt []time.Duration
	var lengths []float64
	for range nroutes {
		from, to := randPt(), randPt()
		t := time.Now()
		r, err := svc.Route(ctx, from, to)
		if err != nil {
			return err
		}
		rt = append(rt, time.Since(t))
		lengths = append(lengths, r.LengthM)
	}
	slices.Sort(lengths)
	m, p95 := quantiles(rt)
	fmt.Printf("route (random ends anywhere in the district, median length %.0f m): median %s, p95 %s (target 200 ms)\n", lengths[len(lengths)/2], m.Round(time.Millisecond/10), p95.Round(time.Millisecond/10))

	var nt []time.Duration
	found := 0
	for range nroutes {
		at := randPt()
		t := time.Now()
		ns, err := svc.NearestWorkers(ctx, at, 5, nil)
		if err != nil {
			return err
		}
		nt = append(nt, time.Since(t))
		found += len(ns)
	}
	m, p95 = quantiles(nt)
	// Workers with positions: one per request up to the pool's size (the first nb of ws).
	fmt.Printf("nearest 5 on-duty workers by road (%d on duty): median %s, p95 %s (target 300 ms); %.1f found per search\n", min(nb, len(ws)), m.Round(time.Millisecond/10), p95.Round(time.Millisecond/10), float64(found)/float64(nroutes))

	// The console's workers layer: everyone on duty with their own grids (GET /v1/workers/positions).
	var pt []time.Duration
	named, onDuty := 0, 0
	for range nroutes {
		t := time.Now()
		now, err := svc.Workers(ctx, true)
		if err != nil {
			return err
		}
		pt = append(pt, time.Since(t))
		named, onDuty = 0, len(now)
		for _, w := range now {
			if len(w.OwnGrids) > 0 {
				named++
			}
		}
	}
	m, p95 = quantiles(pt)
	fmt.Printf("workers on duty with their own grids (%d, %d with a post): median %s, p95 %s (no target; the console reads it every 30 s)\n", onDuty, named, m.Round(time.Millisecond/10), p95.Round(time.Millisecond/10))
	return nil
}
