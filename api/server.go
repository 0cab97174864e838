// Package api is gridline's HTTP interface: it reads requests, calls the resolver and the store,
// and writes JSON (or GeoJSON, NDJSON, CSV). It holds no domain logic of its own.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/drafts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/patrol"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/stats"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/tiles"
	webmap "gridline.dev/gridline/web-map"
	"gridline.dev/gridline/worktime"
)

// Server serves the HTTP API.
type Server struct {
	db       *store.DB
	resolver *resolve.Resolver
	log      *slog.Logger
	clock    gridline.Clock
	router   *mux.Router
	// MaxBatchBytes bounds a POST /v1/resolve body.
	maxBatchBytes int64
	bodyIdle      time.Duration // how long a request body may send nothing (api/body.go)
	publicURL     string        // the base of absolute links (Options.PublicURL), without a trailing /
	tiles         *tiles.Service
	imports       *importers.Engine // imports and exports (api/imports.go, api/exports.go)
	coverage      *coverage.Auditor // GET /v1/coverage (api/coverage.go); nil: not configured
	accounts      *accounts.Service // sign-in, sessions and tokens (api/accounts.go)
	anonPeople    gridline.Disclosure
	corsOrigins   map[string]bool // nil: CORS off
	secureCookies bool
	signInToRead  bool
	webMap        *webmap.Map
	jobs          *jobs.Runner    // runs imports and exports as jobs (api/jobs.go)
	drafts        *drafts.Service // planners' drafts (api/drafts.go); nil: not configured
	patrols       *patrol.Service // positions, tracks, routes (api/patrols.go); nil: not configured
	// jobWaitDefault is how long an import or export request waits for its job by default.
	jobWaitDefault time.Duration
	worktime       *worktime.Service // the working calendar and time limits (api/calendar.go); nil: not configured
	open311        Open311Options    // /open311/v2 (api/open311.go)
	live           StreamOptions     // GET /v1/cases/stream (api/stream.go)
	addresses      *address.Register // the address register's matcher (api/addresses.go); nil: empty
	cases          *dispatch.Engine  // incident cases (api/cases.go); nil: not served
	stats          *stats.Service    // the figures (api/stats.go); nil: not served
	// answerBufs holds *[]byte buffers for GET /v1/resolve answers, reused across requests.
	answerBufs sync.Pool
}

// Options configure a Server.
type Options struct {
	MaxBatchBytes int64 // default 512 MiB
	// BodyIdle is how long a request body (a batch, an upload) may send nothing before it is cut
	// off with 408 request_timeout, or a final error line once an answer streams (default
	// DefaultBodyIdle; cmd/gridline reads GRIDLINE_BODY_IDLE).
	BodyIdle time.Duration
	// PublicURL is the base of the absolute links in OGC API and TileJSON answers and styles, as
	// clients reach the server (https://grids.example.gov.cn, or with a path behind a proxy).
	// Empty: the address the request's connection arrived on. Never the request's Host header,
	// which the client chooses. cmd/gridline reads GRIDLINE_PUBLIC_URL.
	PublicURL string
	// Tiles serves /tiles (required). cmd/gridline builds it over the same resolver, with
	// AnnotateTile as its Options.Annotate, and refreshes it on every index swap.
	Tiles *tiles.Service
	// Imports runs imports and exports (required); it carries the upload limit of POST /v1/imports.
	Imports *importers.Engine
	// Jobs runs imports and exports in the background (required).
	Jobs *jobs.Runner
	// JobWait is how long an import or export request waits for its job before it answers 202
	// with the job's address (default 2 s; a request's ?wait= overrides it, up to MaxJobWait).
	JobWait time.Duration
	// WebMap is the web map served at / (nil: the one embedded by package webmap, with no
	// basemap; cmd/gridline configures it from GRIDLINE_BASEMAP_URL/_CRS/_ATTRIBUTION). Paths it
	// does not own stay the API's.
	WebMap *webmap.Map
	// Clock is the time answers are stamped with (default the system clock); "today" is the
	// resolver's.
	Clock gridline.Clock
	// Coverage runs coverage audits (GET /v1/coverage); nil answers them 503.
	Coverage *coverage.Auditor
	// Drafts runs planners' drafts (POST /v1/drafts ...); nil answers them 503.
	Drafts *drafts.Service
	// Accounts signs people in and turns credentials into principals (required).
	Accounts *accounts.Service
	// SecureCookies marks the session cookie Secure on every request, for a server behind a
	// TLS-terminating proxy (a request that arrives over TLS gets it anyway).
	SecureCookies bool
	// SignInToRead refuses every read to anonymous callers, except the map's own files, sign-in
	// and /healthz: for a deployment that does not allow anonymous viewing. Off by default.
	SignInToRead bool
	// CORSOrigins are the origins (https://example.org) whose pages may call the API from a
	// browser with an API token. None (the default): CORS is off.
	CORSOrigins []string
	// Patrols serves positions, tracks, patrol figures and routes on roads (api/patrols.go); nil
	// answers them 503.
	Patrols *patrol.Service
	// AnonymousPeople is how anonymous callers see the people responsible for grids: full,
	// masked (the default) or none. Signed-in users with a role on the grid see them in full.
	AnonymousPeople gridline.Disclosure
	// Worktime is the working calendar and the time limits (api/calendar.go), reloaded at once
	// after a change through the API; nil: the calendar's warnings are not reported.
	Worktime *worktime.Service
	// Open311 serves Open311 GeoReport v2 under /open311/v2 (api/open311.go).
	Open311 Open311Options
	// Stream serves GET /v1/cases/stream and the webhook subscriptions (api/stream.go).
	Stream StreamOptions
	// Addresses matches addresses against the standard address register (GET /v1/resolve?address=,
	// /v1/addresses); nil: an empty register.
	Addresses *address.Register
	// Cases is the incident engine (api/cases.go); nil serves no case endpoints.
	Cases *dispatch.Engine
	// Printer prints the monthly brief to PDF (api/statsweb.go; printpdf.Chromium); nil or
	// without Chromium: GET /v1/stats/brief.pdf answers 503, the HTML brief still works.
	Printer PDFPrinter
	// Stats computes the figures districts are judged by (api/stats.go); nil serves no /v1/stats.
	Stats *stats.Service
}

// NewServer wires the routes to the services it is given; it builds none of its own.
func NewServer(db *store.DB, res *resolve.Resolver, log *slog.Logger, opt Options) *Server {
	if opt.Tiles == nil || opt.Imports == nil || opt.Accounts == nil || opt.Jobs == nil {
		panic("api.NewServer: Options.Tiles, Options.Imports, Options.Accounts and Options.Jobs are required")
	}
	if opt.JobWait <= 0 {
		opt.JobWait = 2 * time.Second
	}
	if opt.MaxBatchBytes <= 0 {
		opt.MaxBatchBytes = 512 << 20
	}
	if opt.BodyIdle <= 0 {
		opt.BodyIdle = DefaultBodyIdle
	}
	if opt.Clock == nil {
		opt.Clock = gridline.SystemClock{}
	}
	s := &Server{db: db, resolver: res, log: log, clock: opt.Clock, router: mux.NewRouter(), maxBatchBytes: opt.MaxBatchBytes, bodyIdle: opt.BodyIdle, publicURL: strings.TrimRight(opt.PublicURL, "/"), tiles: opt.Tiles, imports: opt.Imports, jobs: opt.Jobs, jobWaitDefault: min(opt.JobWait, MaxJobWait)}
	r := s.router
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/v1/resolve", s.resolveOne).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/v1/resolve", s.resolveBatch).Methods(http.MethodPost)
	r.HandleFunc("/v1/grids", s.listGrids).Methods(http.MethodGet)
	r.HandleFunc("/v1/grids/{ref}", s.getGrid).Methods(http.MethodGet)
	r.HandleFunc("/v1/grids/{ref}/children", s.gridChildren).Methods(http.MethodGet)
	r.HandleFunc("/v1/grids/{ref}/versions", s.gridVersions).Methods(http.MethodGet)
	s.routeTiles(r)
	s.routeImports(r)
	s.routeJobs(r)
	s.routeOGC(r)
	s.coverage = opt.Coverage
	s.routeCoverage(r)
	s.accounts = opt.Accounts
	s.anonPeople = opt.AnonymousPeople
	s.secureCookies, s.signInToRead = opt.SecureCookies, opt.SignInToRead
	for _, o := range opt.CORSOrigins {
		if s.corsOrigins == nil {
			s.corsOrigins = map[string]bool{}
		}
		s.corsOrigins[strings.TrimRight(o, "/")] = true
	}
	if s.anonPeople == "" {
		s.anonPeople = gridline.DiscloseMasked
	}
	s.routeAccounts(r)
	s.worktime = opt.Worktime
	s.routeCalendar(r)
	s.routeNotifications(r)
	s.routeOpen311(r, opt.Open311)
	s.routeStream(r, opt.Stream)
	s.drafts = opt.Drafts
	s.routeDrafts(r)
	s.addresses = opt.Addresses
	s.routeAddresses(r)
	s.cases = opt.Cases
	s.routeCases(r)
	s.stats = opt.Stats
	s.routeStats(r)
	s.routePatrols(r, opt.Patrols)
	s.routeConsole(r)
	s.routeStatsWeb(r, opt.Printer)
	if opt.WebMap == nil {
		opt.WebMap = webmap.Handler(webmap.Config{})
	}
	s.webMap = opt.WebMap
	r.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool { return opt.WebMap.Owns(r.URL.Path) }).Methods(http.MethodGet, http.MethodHead).Handler(withSecurityHeaders(opt.WebMap))
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(s.methodNotAllowed)
	return s
}

// methodNotAllowed answers a method a path does not take: the router's, and each subrouter's (a
// subrouter without one lets the request fall through to not_found).
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, gridline.Errorf(gridline.EMethodNotAllowed, "%s is not allowed on %s", gridline.Excerpt(r.Method), gridline.Excerpt(r.URL.Path)))
}

// Router exposes the router so that other packages' handlers (tiles, the web map) can be mounted.
func (s *Server) Router() *mux.Router { return s.router }

// Handler is the whole API with panic recovery.
func (s *Server) Handler() http.Handler { return s.recoverer(http.HandlerFunc(s.route)) }

// route sends the two requests the server answers most straight to their handlers, and everything
// else through the router: the router's matching (path regexps, one route after another) and the
// copy of the request it makes to carry the matched route cost about as much as finding a point's
// grids or answering a cached tile. The router would pick the same handlers for these methods and
// paths: GET /v1/resolve, and GET or HEAD of a tile (see splitTilePath).
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if s.corsOrigins != nil && s.cors(w, r) {
		return
	}
	if s.signInToRead && !s.openPath(r) {
		var err error
		if r, err = s.authenticate(w, r); err == nil && principalFrom(r) == nil {
			err = gridline.Errorf(gridline.EUnauthorized, "this deployment does not allow anonymous reading: sign in (POST /v1/session, or on the map) or send an API token")
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if r.Method == http.MethodGet && r.URL.Path == "/v1/resolve" {
		s.resolveOne(w, r)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if layers, z, x, y, ok := splitTilePath(r.URL.Path); ok {
			s.serveTile(w, r, layers, z, x, y)
			return
		}
	}
	r, err := s.authenticate(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.router.ServeHTTP(w, r)
}

func stack() string { return string(debug.Stack()) }

// healthz answers 200 once the server can resolve points, with the index's state and whether the
// database answers; 503 before the index is built.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	dbErr := s.db.Ping(ctx)
	body := map[string]any{"resolver": s.resolver.Ready(), "database": dbErr == nil, "index": s.resolver.Status()}
	if !s.resolver.Ready() {
		body["status"] = "starting"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	body["status"] = "ok"
	if dbErr != nil {
		body["status"] = "degraded: resolving from the in-memory index while the database is unavailable"
	}
	writeJSON(w, http.StatusOK, body)
}

// publicBase is the base of absolute links: Options.PublicURL, or the scheme and the local address
// the request's connection arrived on (the listen address, made concrete).
func (s *Server) publicBase(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return scheme + "://" + a.String()
	}
	return scheme + "://localhost" // a request that came through no connection (a test's)
}
