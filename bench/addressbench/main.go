// Command addressbench measures address matching (issue #17) and writes the figures for
// BENCHMARKS.md: the gazetteer matcher side by side with plain PostgreSQL (pg_trgm similarity on the
// whole address) on the demo register and its people-written test set, the matcher's throughput on
// one core against a 200,000-row register, and 1,000,000 addresses streamed through the batch
// resolver in bounded memory. It creates and drops its own database (gridline_addr_bench).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/batch"
	"gridline.dev/gridline/bench/internal/benchdb"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

func main() {
	trgmN := flag.Int("trgm", 600, "test addresses sent to pg_trgm (each is one query)")
	setN := flag.Int("set", 2400, "test addresses for the matcher")
	batchN := flag.Int("batch", 1000000, "addresses streamed through the batch resolver")
	flag.Parse()
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		fmt.Fprintln(os.Stderr, "addressbench: set DATABASE_URL")
		os.Exit(2)
	}
	if err := run(context.Background(), admin, *trgmN, *setN, *batchN); err != nil {
		fmt.Fprintln(os.Stderr, "addressbench:", err)
		os.Exit(1)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(ctx context.Context, admin string, trgmN, setN, batchN int) error {
	db, done, err := benchdb.Open(ctx, admin, "gridline_addr_bench", store.Options{StatementTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer done()
	var ctype string
	ctype, _ = db.CType(ctx)
	d, err := demo.Erqi(ctx, db, demo.Options{Seed: 1})
	if err != nil {
		return err
	}
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, store.DefaultTolerance); err != nil {
		return err
	}
	start := time.Now()
	rows := demo.Addresses(d, 1)
	gen := time.Since(start)
	start = time.Now()
	if err := db.LoadAddresses(ctx, rows); err != nil {
		return err
	}
	load := time.Since(start)
	fmt.Printf("demo register: %d rows (generated in %s, loaded in %s); database LC_CTYPE %s\n\n", len(rows), gen.Round(time.Millisecond), load.Round(time.Millisecond), ctype)
	ix := resolve.Build(d.Grids, nil, time.Now())
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	microOf := func(lon, lat float64) int64 {
		var loc resolve.Location
		ix.Locate(orb.Point{lon, lat}, at, &loc, nil)
		if i := loc.Chain[gridline.LevelMicro.Rank()]; i >= 0 {
			return ix.Grid(i).ID
		}
		return -1
	}
	set := demo.AddressTestSet(rows, setN)
	m := address.NewMatcher(rows, nil)
	// The matcher.
	right, wrongHigh := 0, 0
	t0, c0 := time.Now(), cpuTime()
	results := make([]*address.Result, len(set))
	for i, c := range set {
		results[i] = m.Resolve(c.Text, at)
	}
	wall, cpu := time.Since(t0), cpuTime()-c0
	for i, c := range set {
		r := results[i]
		if r.Resolved && r.Best.Precision.Level() == gridline.LevelMicro && microOf(r.Best.Lon, r.Best.Lat) == microOf(c.Want.Lon, c.Want.Lat) {
			right++
		} else if r.Resolved && r.Best.Confidence >= address.Threshold {
			wrongHigh++
		}
	}
	fmt.Printf("| method | addresses | right building's grid | wrong answers at confidence >= %.1f | per address |\n|---|---|---|---|---|\n", address.Threshold)
	fmt.Printf("| gazetteer matcher (in process) | %d | %d (%.1f%%) | %d | %.1f µs wall, %.1f µs CPU |\n", len(set), right, 100*float64(right)/float64(len(set)), wrongHigh,
		float64(wall.Microseconds())/float64(len(set)), float64(cpu.Microseconds())/float64(len(set)))
	// pg_trgm on the whole string, on an even sample of the same set, at the default threshold
	// (0.3) and at 0.1 (more candidates, found more often, slower).
	step := max(1, len(set)/trgmN)
	for _, threshold := range []float64{0.3, 0.1} {
		var lat []time.Duration
		tr, tn, tnone := 0, 0, 0
		for i := 0; i < len(set); i += step {
			c := set[i]
			t := time.Now()
			a, _, err := db.MatchAddressesTrgm(ctx, c.Text, at, threshold)
			lat = append(lat, time.Since(t))
			if err != nil {
				return err
			}
			tn++
			if a == nil {
				tnone++
				continue
			}
			if microOf(a.Lon, a.Lat) == microOf(c.Want.Lon, c.Want.Lat) {
				tr++
			}
		}
		slices.Sort(lat)
		var sum time.Duration
		for _, l := range lat {
			sum += l
		}
		fmt.Printf("| pg_trgm: most similar label among those with similarity >= %.1f (GIN gin_trgm_ops) | %d | %d (%.1f%%); %d found nothing | (no confidence) | median %.1f ms, mean %.1f ms, p95 %.1f ms |\n",
			threshold, tn, tr, 100*float64(tr)/float64(tn), tnone, ms(lat[len(lat)/2]), ms(sum/time.Duration(len(lat))), ms(lat[len(lat)*95/100]))
	}
	fmt.Println()
	// Throughput on one core against 200,000 rows.
	big := address.SyntheticRegister(200000, 1)
	t0 = time.Now()
	bm := address.NewMatcher(big, nil)
	build := time.Since(t0)
	bset := demo.AddressTestSet(big, 20000)
	prev := runtime.GOMAXPROCS(1)
	t0, c0 = time.Now(), cpuTime()
	for _, c := range bset {
		bm.Resolve(c.Text, at)
	}
	wall, cpu = time.Since(t0), cpuTime()-c0
	runtime.GOMAXPROCS(prev)
	fmt.Printf("200,000-row register (address.SyntheticRegister, matcher built in %s): %d addresses on one core (GOMAXPROCS=1) in %s wall, %s CPU: %.0f addresses/s by wall clock, %.0f per CPU-second\n\n",
		build.Round(time.Millisecond), len(bset), wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
		float64(len(bset))/wall.Seconds(), float64(len(bset))/cpu.Seconds())
	// 1,000,000 addresses through the batch resolver, streamed.
	pr, pw := io.Pipe()
	go func() {
		var b bytes.Buffer
		b.WriteString("id,address\n")
		for i := 0; i < batchN; i++ {
			fmt.Fprintf(&b, "%d,%s\n", i, set[i%len(set)].Text)
			if b.Len() > 1<<16 {
				pw.Write(b.Bytes())
				b.Reset()
			}
		}
		pw.Write(b.Bytes())
		pw.Close()
	}()
	var peak uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	cw := &countWriter{}
	t0 = time.Now()
	n, _, err := batch.Resolve(ctx, ix, pr, cw, batch.Options{In: batch.FormatCSV, Out: batch.OutNDJSON, At: at, Addresses: m})
	close(stop)
	if err != nil {
		return err
	}
	fmt.Printf("batch: %d addresses (CSV address column) through batch.Resolve in %s (%.0f/s, all cores), %d MB of NDJSON out; heap in use %d MB before, peak %d MB during (register and index included)\n",
		n, time.Since(t0).Round(time.Millisecond), float64(n)/time.Since(t0).Seconds(), cw.n>>20, base.HeapInuse>>20, peak>>20)
	return nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
