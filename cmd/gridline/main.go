// Command gridline is the one binary: serve the API and map, build the demo district, and the
// tools around them. Configuration comes from flags and the environment; DATABASE_URL wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the deployment's time zone must load on machines without zoneinfo

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/api"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/drafts"
	"gridline.dev/gridline/escalation"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/printpdf"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/tiles"
	webmap "gridline.dev/gridline/web-map"
	"gridline.dev/gridline/worktime"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gridline:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `usage: gridline <command> [flags]

commands:
  serve     serve the API and the web map (GRIDLINE_ADDR, default 127.0.0.1:8080)
  demo      build the demo district (二七区, Zhengzhou) into an empty database,
            or with --grids N a synthetic region of N basic grids
  migrate   apply the database migrations and exit
  tegola-config  write a tegola configuration serving the same layers from the same table
  import    import grids from GeoJSON, Shapefile, GeoPackage, KML/KMZ, CSV or FlatGeobuf
            (a dry run unless --apply; gridline import --help)
  export    export grids as geojson, shapefile, gpkg, csv, kml or fgb (gridline export --help)
  audit     audit coverage, codes, staffing and workload (gridline audit --help);
            exit 0 clean, 1 findings in --fail-on, 2 could not run
  token     API tokens for changing data: list, create [--admin] [--user USER] NAME, revoke ID
  user      accounts: list, create, passwd, disable (gridline user for help)
  grant     grant USERNAME ROLE SCOPE: a role on all, grid:ID|CODE or department:CODE
  revoke    revoke GRANT_ID
  audit-log audit-log verify: check the audit log's hash chain
  cases     cases import [--dry-run] [--crs C] [--json] FILE: a backlog of cases (CSV/XLSX), all or nothing

environment:
  DATABASE_URL   the PostGIS database (required; ` + "`make run`" + ` sets it to the local cluster)
  GRIDLINE_ADDR  listen address for serve
  GRIDLINE_TZ    the deployment's time zone, which decides "today" (default Asia/Shanghai)
  GRIDLINE_STATEMENT_TIMEOUT  the longest a database statement may run, e.g. 60s or 5m
                 (default 60s; a cancelled request does not stop its query, this does)
  GRIDLINE_DB_MAX_CONNS  the most database connections the pool holds
                 (default the larger of 4 and the number of CPUs)
  GRIDLINE_INTAKE_BATCH  the most new cases one intake transaction holds (default 64; 1: each alone)
  GRIDLINE_CHROMIUM      the Chromium that prints the monthly brief's PDF (default /usr/bin/chromium)
  GRIDLINE_CHROMIUM_WARM true: start it when serve starts, not at the first print (make run does)
  GRIDLINE_TOKEN_CACHE   how long an API token's principal is remembered, up to 10s (default 10s;
                 0: read for each request); any change to accounts, grants or tokens empties it
  GRIDLINE_ANONYMOUS_PEOPLE  how anonymous callers see grid staff: full, masked (default) or none
  GRIDLINE_CORS_ORIGINS      comma-separated origins whose pages may call the API (default: none, CORS off)
  GRIDLINE_SECURE_COOKIES    true behind a TLS-terminating proxy: the session cookie is marked Secure
  GRIDLINE_SIGN_IN_TO_READ   true: no anonymous viewing (everything but the map's files needs a sign-in)
  GRIDLINE_OPEN311_JURISDICTION  the jurisdiction_id Open311 clients may send (default gridline)
  GRIDLINE_OPEN311_CONTACT       the contact line of Open311 discovery
`

// run is the whole program, so tests can run it on port 0.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runWith(ctx, gridline.SystemClock{}, args, getenv, stdout, stderr)
}

// runWith is run on clock: the one clock, which whatever asks what day it is asks, so that tests
// of the whole program can set the time (an internal/fakeclock; startApp's withClock).
func runWith(ctx context.Context, clock gridline.Clock, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, clock, stdout, log)
	case "demo":
		return demoCmd(ctx, args[1:], getenv, stdout)
	case "migrate":
		loc, err := location(getenv)
		if err != nil {
			return err
		}
		db, err := openDB(ctx, getenv)
		if err != nil {
			return err
		}
		err = seedCalendar(ctx, db, clock, loc, log)
		db.Close()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "tegola-config":
		return tegolaConfig(ctx, args[1:], getenv, stdout)
	case "import":
		return importCmd(ctx, args[1:], getenv, clock, stdout)
	case "export":
		return exportCmd(ctx, args[1:], getenv, clock, stdout)
	case "token":
		return tokenCmd(ctx, args[1:], getenv, stdout)
	case "audit":
		return auditCmd(ctx, args[1:], getenv, clock, stdout)
	case "user":
		return userCmd(ctx, args[1:], getenv, stdout)
	case "grant", "revoke":
		return grantCmd(ctx, args[0] == "revoke", args[1:], getenv, stdout)
	case "audit-log":
		return auditLogCmd(ctx, args[1:], getenv, stdout)
	case "cases":
		if len(args) > 1 && args[1] == "import" {
			return casesImportCmd(ctx, args[2:], getenv, clock, stdout)
		}
		return errors.New("cases: give a subcommand: cases import FILE")
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func openDB(ctx context.Context, getenv func(string) string) (*store.DB, error) {
	url := getenv("DATABASE_URL")
	if url == "" {
		return nil, errors.New("DATABASE_URL is not set: run `make run`, or set it to a PostGIS database")
	}
	opt, err := dbOptions(getenv)
	if err != nil {
		return nil, err
	}
	// The database may still be starting: retry for a while before giving up, unless the error
	// is not an outage or the command is stopped.
	for attempt := 1; ; attempt++ {
		db, err := store.Open(ctx, url, opt)
		if err == nil || gridline.ErrorCode(err) != gridline.EUnavailable || attempt == 30 {
			return db, err
		}
		wait := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, fmt.Errorf("stopped waiting for the database (%v): %w", err, ctx.Err())
		case <-wait.C:
		}
	}
}

// dbOptions reads the database settings from the environment.
func dbOptions(getenv func(string) string) (store.Options, error) {
	var opt store.Options
	if v := getenv("GRIDLINE_STATEMENT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond || d.Milliseconds() > math.MaxInt32 {
			return opt, fmt.Errorf("GRIDLINE_STATEMENT_TIMEOUT %q: give a duration of at least 1ms and under 596h, such as 60s or 5m", v)
		}
		opt.StatementTimeout = d
	}
	if v := getenv("GRIDLINE_DB_MAX_CONNS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			return opt, fmt.Errorf("GRIDLINE_DB_MAX_CONNS %q: give the number of connections, a whole number of at least 1", v)
		}
		opt.MaxConns = int32(n)
	}
	return opt, intakeOptions(getenv, &opt)
}

func location(getenv func(string) string) (*time.Location, error) {
	name := getenv("GRIDLINE_TZ")
	if name == "" {
		name = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("GRIDLINE_TZ %q: %w", name, err)
	}
	return loc, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, clock gridline.Clock, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "listen address (default $GRIDLINE_ADDR or 127.0.0.1:8080)")
	demoIfEmpty := fs.Bool("demo-if-empty", false, "build the demo district first when the database holds no grids")
	demoCases := fs.Int("demo-cases", demoCaseCount, "with --demo-if-empty: how many synthetic cases (about a month's) the new demo district gets (0: none)")
	tileCacheMB := fs.Int("tile-cache-mb", 64, "memory budget of the vector tile cache in MiB (0 disables it)")
	maxImportMB := fs.Int64("max-import-mb", 512, "the largest upload POST /v1/imports accepts, in MiB")
	escalateEvery := fs.Duration("escalate-every", 30*time.Second, "how often the open steps of cases are swept for escalations due (every server sweeps; each escalation happens once)")
	jobWait := fs.Duration("job-wait", 2*time.Second, "how long an import or export request waits for its job before answering 202 with the job's address (a request's ?wait= overrides it)")
	sweepEvery := fs.Duration("sweep-every", 5*time.Minute, "how often leftovers of stopped processes (staging tables, temporary files, interrupted jobs) are looked for")
	attachmentsDir := fs.String("attachments-dir", "", "store the photos of cases as files in this directory instead of in PostgreSQL (default $GRIDLINE_ATTACHMENTS_DIR; empty: in PostgreSQL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sweepEvery <= 0 || *jobWait < 0 || *escalateEvery <= 0 {
		return errors.New("serve: --sweep-every and --escalate-every must be positive and --job-wait not negative")
	}
	if *addr == "" {
		*addr = getenv("GRIDLINE_ADDR")
	}
	if *addr == "" {
		*addr = "127.0.0.1:8080"
	}
	loc, err := location(getenv)
	if err != nil {
		return err
	}
	started := time.Now()
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := useAttachmentsDir(db, *attachmentsDir, getenv); err != nil {
		return err
	}
	if err := printAdminToken(ctx, db, stdout); err != nil {
		return err
	}
	var demoDistrict *demo.District // built just now: the demo's month of cases follows once the index is built
	if *demoIfEmpty {
		if demoDistrict, err = loadDemoIfEmpty(ctx, db, demoOptions{seed: 1}, stdout); err != nil {
			return err
		}
		if err := loadCaseListsIfEmpty(ctx, db, stdout); err != nil {
			return err
		}
	}
	if err := seedCalendar(ctx, db, clock, loc, log); err != nil {
		return err
	}
	workTime, err := worktime.NewService(ctx, db, clock, loc, log)
	if err != nil {
		return err
	}
	res := resolve.NewIncremental(db, clock, loc)
	tokenCache, err := tokenCacheTTL(getenv)
	if err != nil {
		return err
	}
	// API tokens' principals are remembered for tokenCache and forgotten at every change to
	// accounts, grants or tokens that the listener below hears of (from any process).
	accountSvc := accounts.New(db, accounts.Options{Now: clock.Now, TokenCacheTTL: tokenCache})
	accountSvc.FollowChanges(false) // until the listener is connected
	// Every change to grids or staff, from this process or another on the same database, rebuilds
	// the index. The listener is connected before the first build, so no change falls between.
	lctx, cancelListen := context.WithCancel(ctx)
	defer cancelListen()
	listening := make(chan struct{})
	var once sync.Once
	// The address register's matcher is rebuilt on changes to the register, the index on the rest.
	register := address.NewRegister(db)
	onChange := func(table string) {
		switch table {
		case "addresses", "address_aliases":
			register.Changed()
		case "accounts", "grants", "api_tokens":
			accountSvc.Forget()
		case "":
			accountSvc.Forget()
			register.Changed()
			res.Changed(table)
		default:
			res.Changed(table)
		}
	}
	go db.Listen(lctx, onChange, func(err error) {
		res.SetLive(err == nil)
		accountSvc.FollowChanges(err == nil)
		if err == nil {
			once.Do(func() { close(listening) })
		} else {
			log.Warn("lost the database connection; resolving from the in-memory index until it returns", "err", err)
		}
	})
	select {
	case <-listening:
	case <-ctx.Done():
		return nil // stopped before it began serving, as it would have been after
	case <-time.After(10 * time.Second):
		log.Warn("could not LISTEN for changes yet; building the index anyway")
	}
	if err := res.Refresh(ctx); err != nil {
		return err
	}
	go res.Run(lctx, func(err error) { log.Warn("index refresh failed; keeping the previous index", "err", err) })
	if err := register.Refresh(ctx); err != nil {
		return err
	}
	go register.Run(lctx, func(err error) { log.Warn("address register refresh failed; keeping the previous one", "err", err) })
	log.Info("resolution index built", "grid_versions", res.Status().Grids, "since_start", time.Since(started).Round(time.Millisecond))
	// The demo's month of cases, before the escalation sweeper starts: its events are all in the past.
	if demoDistrict != nil {
		if err := loadDemoCases(ctx, db, demoDistrict, res, workTime, clock, loc, 1, *demoCases, stdout); err != nil {
			return err
		}
	}

	tileOpt := tiles.Options{CacheBytes: int64(*tileCacheMB) << 20, Annotate: api.AnnotateTile}
	if *tileCacheMB <= 0 {
		tileOpt.CacheBytes = -1
	}
	people, err := gridline.ParseDisclosure(getenv("GRIDLINE_ANONYMOUS_PEOPLE"))
	if err != nil {
		return fmt.Errorf("GRIDLINE_ANONYMOUS_PEOPLE: %w", err)
	}
	tileSvc := tiles.NewService(res, tileOpt)
	// Cut over the tile source and invalidate the cache when the index changes, on the refresh
	// goroutine, rather than in the first tile request after it.
	res.OnSwap(func() { tileSvc.Tileset() })
	// Imports and exports run as jobs owned by this process; the janitor removes what processes
	// that are gone left behind, now and every few minutes.
	auditor := newAuditor(res, db)
	eng, owner, instance, release, err := ownedEngine(ctx, db, importers.Config{MaxBytes: *maxImportMB << 20, Audit: importAudit(auditor, nil)})
	if err != nil {
		return err
	}
	defer release()
	runner := jobs.New(db, clock, log, jobs.Config{Owner: owner.ID})
	defer runner.Close()
	janitor := jobs.NewJanitor(db, clock, log, owner.ID, os.TempDir(), instance, time.Hour)
	if err := janitor.Sweep(ctx); err != nil {
		log.Warn("cleanup of leftovers failed", "err", err)
	}
	go janitor.Run(lctx, *sweepEvery, owner.Keep)
	// The calendar and the time limits are reloaded when another server changes them; late steps
	// are escalated by every server, each rung once.
	go workTime.Run(lctx, time.Minute)
	go escalation.New(db, clock, loc, log, escalation.Config{Every: *escalateEvery}).Run(lctx)
	patrols, err := patrolService(getenv, db, res, clock, loc)
	if err != nil {
		return err
	}
	go patrols.RunPruner(lctx, *sweepEvery, log)
	apiOpt := api.Options{Patrols: patrols, Tiles: tileSvc, Imports: eng, Jobs: runner, JobWait: *jobWait,
		Coverage: auditor, Accounts: accountSvc, AnonymousPeople: people, CORSOrigins: corsOrigins(getenv("GRIDLINE_CORS_ORIGINS")),
		SecureCookies: getenv("GRIDLINE_SECURE_COOKIES") == "true", SignInToRead: getenv("GRIDLINE_SIGN_IN_TO_READ") == "true",
		WebMap: webmap.Handler(webmap.ConfigFromEnv(getenv)), Clock: clock, Worktime: workTime, Addresses: register,
		Drafts: drafts.New(db, auditor, clock, loc, drafts.Options{})}
	// The monthly brief's PDF: one headless Chromium, started at the first print and kept warm.
	printer := printpdf.New(getenv("GRIDLINE_CHROMIUM"))
	defer printer.Close()
	if getenv("GRIDLINE_CHROMIUM_WARM") == "true" && printer.Available() {
		// Started now rather than at the first print (about 2 s more for that one).
		go func() {
			if err := printer.Start(); err != nil {
				log.Warn("could not start Chromium for the monthly brief's PDF; it will be tried again at the first print", "err", err)
			}
		}()
	}
	apiOpt.Printer = printer
	if err := httpOptions(getenv, &apiOpt); err != nil {
		return err
	}
	if apiOpt.Cases, err = casesEngine(db, res, workTime, clock, loc, getenv, register); err != nil {
		return err
	}
	apiOpt.Stats = statsService(db, workTime, clock, loc)
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	apiOpt.Stream, apiOpt.Open311 = startLive(liveCtx, db, clock, log, getenv, apiOpt.Cases)
	srv := api.NewServer(db, res, log, apiOpt)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(stopLive) // ends the event streams, which Shutdown would otherwise wait for
	if !isLoopback(ln.Addr()) {
		log.Warn("serving on a non-loopback address without TLS: passwords, session cookies and API tokens cross the network in clear text; put a TLS-terminating proxy in front, or listen on 127.0.0.1", "addr", ln.Addr().String())
	}
	fmt.Fprintf(stdout, "gridline serving on http://%s (ready %s after start)\n", ln.Addr(), time.Since(started).Round(time.Millisecond))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
}

type demoOptions struct {
	seed  int64
	grids int
}

func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	seed := fs.Int64("seed", 1, "random seed: the same seed builds the same district")
	grids := fs.Int("grids", 0, "build a synthetic region of this many basic grids instead of 二七区")
	ifEmpty := fs.Bool("if-empty", false, "do nothing when the database already holds grids")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	opt := demoOptions{seed: *seed, grids: *grids}
	if *ifEmpty {
		_, err := loadDemoIfEmpty(ctx, db, opt, stdout)
		return err
	}
	_, err = loadDemo(ctx, db, opt, stdout)
	return err
}

// loadDemoIfEmpty builds and loads the demo district when the database holds no grids, and answers
// it (nil when the database held grids).
func loadDemoIfEmpty(ctx context.Context, db *store.DB, opt demoOptions, stdout io.Writer) (*demo.District, error) {
	n, err := db.CountGrids(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, nil
	}
	return loadDemo(ctx, db, opt, stdout)
}

func loadDemo(ctx context.Context, db *store.DB, opt demoOptions, stdout io.Writer) (*demo.District, error) {
	start := time.Now()
	var d *demo.District
	var err error
	opts := demo.Options{Seed: opt.seed}
	if opt.grids > 0 {
		d, err = demo.Synthetic(opt.grids, opt.seed, opts)
	} else {
		d, err = demo.Erqi(ctx, db, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("build demo: %w", err)
	}
	built := time.Since(start)
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, store.DefaultTolerance); err != nil {
		return nil, fmt.Errorf("load demo: %w", err)
	}
	if n, err := loadDemoTimeLimits(ctx, db); err != nil {
		return nil, fmt.Errorf("load demo time limits: %w", err)
	} else if n > 0 {
		fmt.Fprintf(stdout, "demo: %d time limits\n", n)
	}
	// The demo's address register: synthetic, generated from the grids just built (demo/addresses.go).
	addrStart := time.Now()
	rows := demo.Addresses(d, opt.seed)
	if err := db.LoadAddresses(ctx, rows); err != nil {
		return nil, fmt.Errorf("load demo addresses: %w", err)
	}
	// The demo's road network is synthetic, built from the grids just loaded (demo/data/PROVENANCE.md).
	roadStart := time.Now()
	edges, names, err := db.BuildSyntheticRoads(ctx, d.Grids[0].ValidFrom)
	if err != nil {
		return nil, fmt.Errorf("build demo roads: %w", err)
	}
	fmt.Fprintf(stdout, "demo: %d grids, %d people, %d assignments (built in %s, loaded in %s); %d synthetic addresses in %s; %d synthetic road edges, %d real road names placed (in %s)\n",
		len(d.Grids), len(d.People), len(d.Assignments), built.Round(time.Millisecond), (addrStart.Sub(start) - built).Round(time.Millisecond),
		len(rows), roadStart.Sub(addrStart).Round(time.Millisecond), edges, names, time.Since(roadStart).Round(time.Millisecond))
	if err := loadCaseListsIfEmpty(ctx, db, stdout); err != nil {
		return nil, err
	}
	return d, nil
}

// isLoopback reports whether addr listens on loopback only.
func isLoopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// corsOrigins splits GRIDLINE_CORS_ORIGINS.
func corsOrigins(v string) []string {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
