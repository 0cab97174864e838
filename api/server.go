// Package api is gridline's HTTP interface: it reads requests, calls the resolver and the store,
// and writes JSON (or GeoJSON, NDJSON, CSV). It holds no domain logic of its own.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/tiles"
	webmap "gridline.dev/gridline/web-map"
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
	tiles         *tiles.Service
	imports       *importers.Engine // imports and exports (api/imports.go, api/exports.go)
	jobs          *jobs.Runner      // runs imports and exports as jobs (api/jobs.go)
	// jobWaitDefault is how long an import or export request waits for its job by default.
	jobWaitDefault time.Duration
	// answerBufs holds *[]byte buffers for GET /v1/resolve answers, reused across requests.
	answerBufs sync.Pool
}

// Options configure a Server.
type Options struct {
	MaxBatchBytes int64 // default 512 MiB
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
}

// NewServer wires the routes to the services it is given; it builds none of its own.
func NewServer(db *store.DB, res *resolve.Resolver, log *slog.Logger, opt Options) *Server {
	if opt.Tiles == nil || opt.Imports == nil || opt.Jobs == nil {
		panic("api.NewServer: Options.Tiles, Options.Imports and Options.Jobs are required")
	}
	if opt.JobWait <= 0 {
		opt.JobWait = 2 * time.Second
	}
	if opt.MaxBatchBytes <= 0 {
		opt.MaxBatchBytes = 512 << 20
	}
	if opt.Clock == nil {
		opt.Clock = gridline.SystemClock{}
	}
	s := &Server{db: db, resolver: res, log: log, clock: opt.Clock, router: mux.NewRouter(), maxBatchBytes: opt.MaxBatchBytes, tiles: opt.Tiles, imports: opt.Imports, jobs: opt.Jobs, jobWaitDefault: min(opt.JobWait, MaxJobWait)}
	r := s.router
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/v1/resolve", s.resolveOne).Methods(http.MethodGet)
	r.HandleFunc("/v1/resolve", s.resolveBatch).Methods(http.MethodPost)
	r.HandleFunc("/v1/grids", s.listGrids).Methods(http.MethodGet)
	r.HandleFunc("/v1/grids/{ref}", s.getGrid).Methods(http.MethodGet)
	r.HandleFunc("/v1/grids/{ref}/children", s.gridChildren).Methods(http.MethodGet)
	r.HandleFunc("/v1/grids/{ref}/versions", s.gridVersions).Methods(http.MethodGet)
	s.routeTiles(r)
	s.routeImports(r)
	s.routeJobs(r)
	s.routeOGC(r)
	if opt.WebMap == nil {
		opt.WebMap = webmap.Handler(webmap.Config{})
	}
	r.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool { return opt.WebMap.Owns(r.URL.Path) }).Methods(http.MethodGet, http.MethodHead).Handler(opt.WebMap)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &gridline.Error{Code: gridline.EMethodNotAllowed, Message: r.Method + " is not allowed on " + r.URL.Path})
	})
	return s
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
