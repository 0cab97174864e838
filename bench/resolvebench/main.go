// Command resolvebench measures point-to-grid lookups side by side in one run: the in-memory index
// on one core, against the same lookups done as prepared PostGIS ST_Covers queries (GiST index,
// store.DB.Covering through pgx, two clients) on the same points; and the index on a synthetic
// region of many grids. It prints a Markdown table. Run by bench/run.sh; see BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

func main() {
	url := flag.String("db", os.Getenv("DATABASE_URL"), "database holding the demo district")
	synthetic := flag.Int("synthetic", 100000, "basic grids in the synthetic region (0 to skip)")
	pgSeconds := flag.Float64("pg-seconds", 10, "how long to run the PostGIS queries")
	flag.Parse()
	if err := run(*url, *synthetic, *pgSeconds); err != nil {
		fmt.Fprintln(os.Stderr, "resolvebench:", err)
		os.Exit(1)
	}
}

func randomPoints(b orb.Bound, n int, seed int64) []orb.Point {
	rng := rand.New(rand.NewSource(seed))
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
	}
	return pts
}

// lookupRate runs Locate over pts on this goroutine (one core) for at least minDur.
func lookupRate(ix *resolve.GridIndex, pts []orb.Point, minDur time.Duration) (rate float64, covered int) {
	var loc resolve.Location
	scratch := make([]int32, 0, 32)
	at := time.Now()
	n := 0
	start := time.Now()
	for time.Since(start) < minDur {
		for _, p := range pts {
			scratch = ix.Locate(p, at, &loc, scratch)
			if loc.Covered() {
				covered++
			}
		}
		n += len(pts)
	}
	return float64(n) / time.Since(start).Seconds(), covered
}

func run(url string, synthetic int, pgSeconds float64) error {
	ctx := context.Background()
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	snap, err := db.Snapshot(ctx)
	if err != nil {
		return err
	}
	if len(snap.Grids) == 0 {
		return fmt.Errorf("the database holds no grids: run `gridline demo` first")
	}
	t0 := time.Now()
	ix := resolve.Build(snap.Grids, snap.Staff, time.Now())
	buildDemo := time.Since(t0)
	var b orb.Bound
	for i, g := range snap.Grids {
		if i == 0 {
			b = g.Geometry.Bound()
		}
		b = b.Union(g.Geometry.Bound())
	}
	pts := randomPoints(b, 1<<20, 1)
	runtime.GC()
	demoRate, covered := lookupRate(ix, pts, 3*time.Second)

	// The same points as PostGIS queries: prepared, GiST index, two clients.
	pgRate, pgN, err := postgisRate(ctx, url, pts, time.Duration(pgSeconds*float64(time.Second)))
	if err != nil {
		return err
	}

	fmt.Printf("| measurement | figure |\n|---|---|\n")
	fmt.Printf("| demo district: grid versions in the index | %d (built in %s) |\n", len(snap.Grids), buildDemo.Round(time.Millisecond))
	_ = covered
	fmt.Printf("| demo district: in-memory lookups, one goroutine | **%.0f points/s** (%.0f ns/point; %.0f%% of the random points fall in the district) |\n", demoRate, 1e9/demoRate, 100*coveredShare(ix, pts))
	fmt.Printf("| demo district: PostGIS ST_Covers, prepared, 2 clients | %.0f queries/s (%d queries) |\n", pgRate, pgN)
	fmt.Printf("| ratio index (1 core) / PostGIS (2 clients) | **%.0f×** |\n", demoRate/pgRate)

	if synthetic > 0 {
		t0 := time.Now()
		d, err := demo.Synthetic(synthetic, 1, demo.Options{})
		if err != nil {
			return err
		}
		gen := time.Since(t0)
		for i := range d.Grids {
			d.Grids[i].VersionID = int64(i + 1)
		}
		t0 = time.Now()
		six := resolve.Build(d.Grids, nil, time.Now())
		build := time.Since(t0)
		var sb orb.Bound
		for i, g := range d.Grids {
			if i == 0 {
				sb = g.Geometry.Bound()
			}
			sb = sb.Union(g.Geometry.Bound())
		}
		spts := randomPoints(sb, 1<<20, 2)
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		srate, _ := lookupRate(six, spts, 3*time.Second)
		fmt.Printf("| synthetic region: grids (generated in %s, index built in %s, heap %d MB) | %d |\n", gen.Round(time.Millisecond), build.Round(time.Millisecond), ms.HeapAlloc>>20, len(d.Grids))
		fmt.Printf("| synthetic region: in-memory lookups, one goroutine | **%.0f points/s** (%.0f ns/point) |\n", srate, 1e9/srate)
	}
	return nil
}

func coveredShare(ix *resolve.GridIndex, pts []orb.Point) float64 {
	var loc resolve.Location
	var scratch []int32
	c := 0
	at := time.Now()
	for _, p := range pts[:10000] {
		scratch = ix.Locate(p, at, &loc, scratch)
		if loc.Covered() {
			c++
		}
	}
	return float64(c) / 10000
}

// postgisRate runs store.DB.Covering over pts from two goroutines on a store of two connections
// for dur. pgx prepares and caches the statement on each connection on first use (its default
// query exec mode), so every query after the first two runs a prepared statement.
func postgisRate(ctx context.Context, url string, pts []orb.Point, dur time.Duration) (float64, int64, error) {
	db, err := store.Open(ctx, url, store.Options{MaxConns: 2})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var n atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	start := time.Now()
	for c := 0; c < 2; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; time.Since(start) < dur; i += 2 {
				p := pts[i%len(pts)]
				if _, err := db.Covering(ctx, p[0], p[1]); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				n.Add(1)
			}
		}(c)
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), n.Load(), firstErr
}
