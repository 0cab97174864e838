// Command casebench measures case intake (issue #15): POST /v1/cases through the whole server
// (authentication, JSON, routing by the responsibility list, the duplicate search, and the case,
// its first event and its first step written in one transaction with a durable commit), on the
// demo district with its demo case lists, in a database of its own that it drops at the end.
//
// Two figures: sustained throughput with -clients concurrent clients for -seconds, and the
// latency of a single POST (one client, one request at a time). Each is measured twice: routed by
// the in-memory index, and routed by one PostGIS ST_Covers query per case (store.DB.Covering,
// as bench/postgisresolve does for GET /v1/resolve), everything else the same.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/api"
	"gridline.dev/gridline/bench/internal/benchdb"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/tiles"
	"gridline.dev/gridline/worktime"
)

// natural is a Deadlines in natural time, so that every intake computes its first step's due
// and warning times as it will with the working calendar.
type natural struct{}

func (natural) Limit(_, _, step string) (worktime.Limit, bool, error) {
	return worktime.Limit{Amount: 30, Unit: worktime.NaturalMinute}, step == "file", nil
}

func (natural) Deadline(c worktime.StepClock) worktime.Deadline {
	d := time.Duration(c.Limit.Amount) * time.Minute
	return worktime.Deadline{Due: c.Start.Add(d), Warn: c.Start.Add(d * 4 / 5)}
}

func main() {
	clients := flag.Int("clients", 16, "concurrent clients for the throughput run")
	seconds := flag.Float64("seconds", 10, "length of each throughput run")
	singles := flag.Int("singles", 500, "POSTs one at a time for the single-request latency")
	grids := flag.Int("grids", 0, "a synthetic district of this many basic grids instead of the demo district")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file")
	tokenCache := flag.Duration("token-cache", accounts.MaxTokenCacheTTL, "how long the server remembers an API token's principal (GRIDLINE_TOKEN_CACHE; the default is the server's); 0: no cache in any row")
	intakeBatch := flag.Int("intake-batch", 0, "the most cases one intake transaction holds (GRIDLINE_INTAKE_BATCH; 0 is the default, 1 each alone)")
	dropIndexes := flag.String("drop-indexes", "", "an experiment: drop these indexes (comma-separated) of the bench's database before the runs, to see what they cost per case")
	durable := flag.Bool("durable", false, "the server's sessions commit with synchronous_commit=on (bench/cases.sh also turns fsync on for the run)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "casebench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f) //nolint:errcheck
		defer pprof.StopCPUProfile()
	}
	if err := run(*clients, *seconds, *singles, *grids, *durable, *tokenCache, *intakeBatch, *dropIndexes); err != nil {
		fmt.Fprintln(os.Stderr, "casebench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(clients int, seconds float64, singles, grids int, durable bool, tokenCache time.Duration, intakeBatch int, dropIndexes string) error {
	ctx := context.Background()
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		return fmt.Errorf("DATABASE_URL is not set")
	}
	dbURL, drop, err := benchdb.Create(ctx, admin, fmt.Sprintf("gridline_casebench_%d", os.Getpid()))
	if err != nil {
		return err
	}
	defer drop()
	name := fmt.Sprintf("gridline_casebench_%d", os.Getpid())
	conn, err := pgx.Connect(ctx, admin) // for the CPU figures of the database's sessions
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	if durable {
		// Every commit of the server's pool waits for its WAL flush: synchronous_commit=on for
		// these sessions only (fsync is the cluster's; bench/cases.sh turns it on for the run).
		q := u.Query()
		q.Set("synchronous_commit", "on")
		u.RawQuery = q.Encode()
	}
	db, err := store.Open(ctx, u.String(), store.Options{MaxConns: 32, IntakeBatch: map[bool]int{true: -1, false: intakeBatch}[intakeBatch == 1]})
	if err != nil {
		return err
	}
	defer db.Close()
	var d *demo.District
	what := "the demo district (二七区)"
	if grids > 0 {
		d, err = demo.Synthetic(grids, 1, demo.Options{Seed: 1})
		what = fmt.Sprintf("a synthetic district of %d basic grids", grids)
	} else {
		d, err = demo.Erqi(ctx, db, demo.Options{Seed: 1})
	}
	if err != nil {
		return err
	}
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, store.DefaultTolerance); err != nil {
		return err
	}
	for _, l := range []struct {
		what string
		data []byte
	}{{"categories", demo.CaseCategories}, {"departments", demo.Departments}, {"rules", demo.ResponsibilityRules}} {
		if rep, err := importers.ImportCaseList(ctx, db, l.what, l.data, ""); err != nil || len(rep.Problems) > 0 {
			return fmt.Errorf("case lists %s: %v %+v", l.what, err, rep)
		}
	}
	clock := gridline.SystemClock{}
	res := resolve.NewIncremental(db, clock, time.UTC)
	if err := res.Refresh(ctx); err != nil {
		return err
	}
	a, err := accounts.CreateAccount(ctx, db, accounts.NewAccount{Username: "bench", Password: "correct horse battery staple", Name: "bench"})
	if err != nil {
		return err
	}
	if _, err := db.AddGrant(ctx, accounts.Grant{AccountID: a.ID, Role: accounts.Dispatcher, Scope: accounts.Scope{Kind: accounts.ScopeAll}}); err != nil {
		return err
	}
	token, err := db.CreateToken(ctx, a.ID, "bench", false)
	if err != nil {
		return err
	}
	cats, err := db.Categories(ctx)
	if err != nil {
		return err
	}
	for _, ix := range strings.Split(dropIndexes, ",") {
		if ix = strings.TrimSpace(ix); ix != "" {
			c, err := pgx.Connect(ctx, u.String())
			if err != nil {
				return err
			}
			_, err = c.Exec(ctx, "DROP INDEX "+pgx.Identifier{ix}.Sanitize())
			c.Close(ctx)
			if err != nil {
				return fmt.Errorf("drop index %s: %w", ix, err)
			}
			fmt.Printf("casebench: index %s dropped for this run (-drop-indexes)\n", ix)
		}
	}
	points := samplePoints(res.Index(), 20000)
	var fsync, sync string
	if err := db.Ping(ctx); err == nil {
		if c, err := pgx.Connect(ctx, u.String()); err == nil {
			c.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &sync) //nolint:errcheck
			c.Close(ctx)
		}
	}
	fmt.Printf("casebench: %s, %d grid versions; %d categories; %d clients for %.0f s; %d single POSTs; server sessions: fsync=%s, synchronous_commit=%s; intake batch %d (0: default %d, 1: each alone)\n\n",
		what, len(d.Grids), len(cats), clients, seconds, singles, fsync, sync, intakeBatch, store.DefaultIntakeBatch)
	fmt.Println("| routing | cases/s sustained | p50 | p99 (sustained) | single POST p50 | single POST p99 | errors | CPU per case: this process (server and clients) + PostgreSQL |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	// The server's default remembers a token's principal (GRIDLINE_TOKEN_CACHE, emptied on every
	// change to accounts, grants or tokens); the second row reads it for every request.
	cached := fmt.Sprintf("in-memory index (token cache %s, the default)", tokenCache)
	modes := []string{cached, "in-memory index, no token cache", fmt.Sprintf("PostGIS query per case (token cache %s)", tokenCache)}
	if tokenCache <= 0 {
		modes = []string{"in-memory index, no token cache", "PostGIS query per case"}
	}
	for _, mode := range modes {
		opt := dispatch.Options{}
		if strings.HasPrefix(mode, "PostGIS") {
			opt.Covering = db.Covering
		}
		cache := tokenCache
		if strings.Contains(mode, "no token cache") {
			cache = 0
		}
		eng := dispatch.New(db, res, natural{}, clock, opt)
		srv, base, err := serve(db, res, eng, cache)
		if err != nil {
			return err
		}
		cpu0, err := cpuNow(ctx, conn, name)
		if err != nil {
			return err
		}
		tp, lat, errs := load(base, token, points, cats, clients, time.Duration(seconds*float64(time.Second)))
		cpu1, err := cpuNow(ctx, conn, name)
		if err != nil {
			return err
		}
		n := int(tp * seconds)
		perCase := fmt.Sprintf("%.2f + %.2f ms", float64(cpu1.self-cpu0.self)/float64(time.Millisecond)/float64(max(n, 1)),
			float64(cpu1.pg-cpu0.pg)/float64(time.Millisecond)/float64(max(n, 1)))
		_, single, errs1 := load(base, token, points, cats, 1, 0, singles)
		srv.Close()
		fmt.Printf("| %s | %.0f | %s | %s | %s | %s | %d | %s |\n", mode, tp, pct(lat, 50), pct(lat, 99), pct(single, 50), pct(single, 99), errs+errs1, perCase)
	}
	var n int
	if err := db.Ping(ctx); err == nil {
		pool, err := pgx.Connect(ctx, dbURL)
		if err == nil {
			pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&n) //nolint:errcheck
			pool.Close(ctx)
		}
	}
	fmt.Printf("\n%d cases written in all\n", n)
	return nil
}

// serve starts the API on a loopback port, as cmd/gridline wires it.
func serve(db *store.DB, res *resolve.Resolver, eng *dispatch.Engine, tokenCache time.Duration) (*http.Server, string, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := gridline.SystemClock{}
	opt := api.Options{Tiles: tiles.NewService(res, tiles.Options{}), Imports: importers.New(db, importers.Config{}),
		Jobs: jobs.New(db, clock, log, jobs.Config{}), Accounts: accounts.New(db, accounts.Options{TokenCacheTTL: tokenCache}), Cases: eng, Clock: clock}
	s := api.NewServer(db, res, log, opt)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck
	return hs, "http://" + ln.Addr().String(), nil
}

// samplePoints are points inside the district, weighted to where the grids are small (where
// people are): a random basic grid's random interior point.
func samplePoints(ix *resolve.GridIndex, n int) []orb.Point {
	rng := rand.New(rand.NewPCG(1, 2))
	var basics []int32
	for i := 0; i < ix.Len(); i++ {
		if g := ix.Grid(int32(i)); g.Level == gridline.LevelGrid && g.Layer == gridline.LayerComprehensive && g.ValidTo == nil {
			basics = append(basics, int32(i))
		}
	}
	var out []orb.Point
	for len(out) < n {
		g := ix.Grid(basics[rng.IntN(len(basics))])
		b := g.Geometry.Bound()
		for try := 0; try < 20; try++ {
			p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
			var loc resolve.Location
			var scratch [16]int32
			ix.Locate(p, time.Now(), &loc, scratch[:0])
			if loc.Covered() {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// load posts cases from clients goroutines for dur (or, with dur 0, count[0] posts in all), and
// returns the rate, the latencies and the number of failed posts.
func load(base, token string, points []orb.Point, cats []dispatch.Category, clients int, dur time.Duration, count ...int) (float64, []time.Duration, int) {
	var mu sync.Mutex
	var lat []time.Duration
	var errs, done atomic.Int64
	var next atomic.Int64
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			var mine []time.Duration
			for {
				i := next.Add(1)
				if dur > 0 && time.Now().After(deadline) || dur == 0 && int(i) > count[0] {
					break
				}
				p := points[int(i)%len(points)]
				cat := cats[int(i*7)%len(cats)]
				body, _ := json.Marshal(map[string]any{"source": "hotline", "category_code": cat.Code, "lon": p[0], "lat": p[1],
					"description": "benchmark case", "reporter": map[string]any{"name": "市民", "phone": "13800000000"}})
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/cases", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body) //nolint:errcheck
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if resp.StatusCode != http.StatusCreated {
					errs.Add(1)
				} else {
					done.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), lat, int(errs.Load())
}

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return fmt.Sprintf("%.1f ms", float64(s[i].Microseconds())/1000)
}

// cpu is CPU time used so far by this process and by the PostgreSQL backends connected to the
// bench's database: a figure of the work per case that the machine's other load changes far less
// than it changes the rate.
type cpu struct{ self, pg time.Duration }

func cpuNow(ctx context.Context, conn *pgx.Conn, dbname string) (cpu, error) {
	var c cpu
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return c, err
	}
	c.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, dbname)
	if err != nil {
		return c, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return c, err
	}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // ended, or another machine
		}
		// Fields after the command (which is in parentheses): state is 3rd, utime 14th, stime 15th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			c.pg += time.Duration(u+s) * (time.Second / 100) // USER_HZ
		}
	}
	return c, nil
}
