package api

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/patrol"
)

// Patrols and routes on roads (package patrol): the positions grid workers' phones send, where
// workers are and went, the day's patrol figures, and routes on the road network.

// maxPositionBytes bounds a POST /v1/positions body (100,000 points of about 100 bytes).
const maxPositionBytes = 16 << 20

func (s *Server) routePatrols(r *mux.Router, svc *patrol.Service) {
	s.patrols = svc
	r.Handle("/v1/positions", s.need(accounts.CasesReport, "sending positions", s.postPositions)).Methods(http.MethodPost)
	r.HandleFunc("/v1/workers/positions", s.workerPositions).Methods(http.MethodGet)
	r.HandleFunc("/v1/workers/{person:[0-9]+}/track", s.workerTrack).Methods(http.MethodGet)
	r.HandleFunc("/v1/patrols/summary", s.patrolSummary).Methods(http.MethodGet)
	r.Handle("/v1/routes", s.need(accounts.CasesRead, "finding a route", s.route1)).Methods(http.MethodGet)
	r.HandleFunc("/v1/routes/nearest-workers", s.nearestWorkers).Methods(http.MethodGet)
}

func (s *Server) patrolsReady(w http.ResponseWriter, r *http.Request) bool {
	if s.patrols == nil {
		s.writeError(w, r, gridline.Errorf(gridline.EUnavailable, "patrols are not configured on this server"))
		return false
	}
	return true
}

// watching is the permission that shows workers' positions: dispatchers (cases.dispatch) and
// supervisors (cases.supervise), each on their grids. It returns the check of one grid's chain.
func (s *Server) watching(r *http.Request, what string) (func(chain []int64) bool, error) {
	p := principalFrom(r)
	if p == nil {
		return nil, gridline.Errorf(gridline.EUnauthorized, "%s needs you to sign in (POST /v1/session) or an API token (Authorization: Bearer <token>)", what)
	}
	if !p.CanSomewhere(accounts.CasesDispatch) && !p.CanSomewhere(accounts.CasesSupervise) {
		return nil, accounts.Forbidden(accounts.CasesDispatch, what)
	}
	return func(chain []int64) bool {
		return p.Can(accounts.CasesDispatch, chain) || p.Can(accounts.CasesSupervise, chain)
	}, nil
}

// positionsRequest is the body of POST /v1/positions.
type positionsRequest struct {
	PersonID  int64          `json:"person_id"`
	CRS       string         `json:"crs"`
	Positions []patrol.Point `json:"positions"`
}

// postPositions is POST /v1/positions: a batch of a phone's positions, all stored or none.
func (s *Server) postPositions(w http.ResponseWriter, r *http.Request) {
	if !s.patrolsReady(w, r) {
		return
	}
	p := principalFrom(r)
	body, err := s.body(w, r, "a positions batch", maxPositionBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer body.Close()
	var req positionsRequest
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeError(w, r, jsonBodyError(err))
		return
	}
	person := p.PersonID
	if req.PersonID != 0 && req.PersonID != p.PersonID {
		if !isAdministrator(p) {
			s.writeError(w, r, gridline.Errorf(gridline.EForbidden, "only an administrator may send positions for another person (person_id %d): leave person_id out to send your own", req.PersonID).With("field", "person_id"))
			return
		}
		person = req.PersonID
	}
	if person == 0 {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "account %s is not linked to a person: an administrator sends person_id", p.Username).With("field", "person_id"))
		return
	}
	n, err := s.patrols.Ingest(r.Context(), person, req.CRS, req.Positions)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"stored": n, "person_id": person})
}

// jsonBodyError says what is wrong with a JSON body, and where.
func jsonBodyError(err error) error {
	var ge *gridline.Error
	if errors.As(err, &ge) {
		return ge
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLargeBody("a positions batch", mbe.Limit)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return gridline.Errorf(gridline.EInvalid, "%s must be %s, not a JSON %s (at byte %d)", te.Field, te.Type, te.Value, te.Offset).With("field", te.Field)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return gridline.Errorf(gridline.EInvalid, "the body is not valid JSON: %v (at byte %d)", se, se.Offset)
	}
	if errors.Is(err, io.EOF) {
		return gridline.Errorf(gridline.EInvalid, `the body is empty: send {"positions": [{"at": ..., "lon": ..., "lat": ...}]}`)
	}
	return gridline.Errorf(gridline.EInvalid, "the body cannot be read: %v", err)
}

// workerPositions is GET /v1/workers/positions[?on_duty=true]: each worker's last position, on
// the grids the caller watches.
func (s *Server) workerPositions(w http.ResponseWriter, r *http.Request) {
	if !s.patrolsReady(w, r) {
		return
	}
	can, err := s.watching(r, "seeing where workers are")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	onDuty := false
	switch v := r.URL.Query().Get("on_duty"); v {
	case "", "false":
	case "true":
		onDuty = true
	default:
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "on_duty %q is not true or false", gridline.Excerpt(v)).With("field", "on_duty"))
		return
	}
	ws, err := s.patrols.Workers(r.Context(), onDuty)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []patrol.Now{}
	for _, x := range ws {
		if s.workerVisible(can, x) {
			out = append(out, x)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"workers": out, "on_duty_minutes": s.patrols.Options().OnDuty.Minutes()})
}

// workerVisible: a worker is seen where they are (the grid of their last position).
func (s *Server) workerVisible(can func([]int64) bool, x patrol.Now) bool {
	if x.Grid == nil {
		return can(nil)
	}
	return can(s.patrols.Chain(x.Grid.ID, s.patrols.Today()))
}

// workerTrack is GET /v1/workers/{person}/track?date=: the worker's tracks that day as a GeoJSON
// Feature (MultiLineString) with the day's figures as properties. Workers see their own.
func (s *Server) workerTrack(w http.ResponseWriter, r *http.Request) {
	if !s.patrolsReady(w, r) {
		return
	}
	person, err := strconv.ParseInt(mux.Vars(r)["person"], 10, 64)
	if err != nil {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "person %q is not a number", mux.Vars(r)["person"]).With("field", "person"))
		return
	}
	day, err := s.dateParam(r.URL.Query(), "date")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principalFrom(r)
	if p == nil || p.PersonID != person {
		can, err := s.watching(r, "seeing a worker's track")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !s.trackVisible(r, can, person) {
			s.writeError(w, r, gridline.Errorf(gridline.EForbidden, "person %d holds no post on the grids your grants reach", person))
			return
		}
	}
	d, err := s.patrols.Track(r.Context(), person, day)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, trackFeature(d))
}

// trackVisible: a watcher sees the track of a worker holding a post on a grid they watch.
func (s *Server) trackVisible(r *http.Request, can func([]int64) bool, person int64) bool {
	own, err := s.patrols.OwnGrids(r.Context(), person, s.patrols.Today())
	if err != nil {
		return false
	}
	if len(own) == 0 {
		return can(nil)
	}
	for _, g := range own {
		if can(s.patrols.Chain(g, s.patrols.Today())) {
			return true
		}
	}
	return false
}

func trackFeature(d *patrol.Day) map[string]any {
	return map[string]any{
		"type":       "Feature",
		"geometry":   map[string]any{"type": "MultiLineString", "coordinates": multiLine(d.Tracks)},
		"properties": d,
	}
}

func multiLine(ls []orb.LineString) [][][2]float64 {
	out := make([][][2]float64, len(ls))
	for i, l := range ls {
		out[i] = lineCoords(l)
	}
	return out
}

func lineCoords(l orb.LineString) [][2]float64 {
	c := make([][2]float64, len(l))
	for i, p := range l {
		c[i] = [2]float64{p[0], p[1]}
	}
	return c
}

// patrolSummary is GET /v1/patrols/summary?grid=&date=: per worker holding a patrolling post on
// the grid or below, their day; per such grid, the days without a patrol.
func (s *Server) patrolSummary(w http.ResponseWriter, r *http.Request) {
	if !s.patrolsReady(w, r) {
		return
	}
	can, err := s.watching(r, "reading patrol figures")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	day, err := s.dateParam(q, "date")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	grid, err := strconv.ParseInt(q.Get("grid"), 10, 64)
	if err != nil || grid <= 0 {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "grid %q is not a grid id: send grid=<id>", gridline.Excerpt(q.Get("grid"))).With("field", "grid"))
		return
	}
	chain := s.patrols.Chain(grid, day)
	if len(chain) == 0 {
		s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "grid %d does not exist on %s", grid, gridline.Date(day)).With("field", "grid"))
		return
	}
	if !can(chain) {
		s.writeError(w, r, gridline.Errorf(gridline.EForbidden, "your grants do not reach grid %d", grid).With("field", "grid"))
		return
	}
	sum, err := s.patrols.Summary(r.Context(), grid, day)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

// lonLatParam reads a lon,lat query parameter (WGS84).
func lonLatParam(q map[string][]string, name string) (orb.Point, error) {
	v := ""
	if vs := q[name]; len(vs) > 0 {
		v = vs[0]
	}
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return orb.Point{}, gridline.Errorf(gridline.EInvalidCoord, "%s %q is not lon,lat (WGS84, e.g. %s=113.64,34.75)", name, gridline.Excerpt(v), name).With("field", name)
	}
	lon, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lat, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil || math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return orb.Point{}, gridline.Errorf(gridline.EInvalidCoord, "%s %q is not lon,lat with lon in -180..180 and lat in -90..90", name, gridline.Excerpt(v)).With("field", name)
	}
	return orb.Point{lon, lat}, nil
}

func routeFeature(rt *patrol.Route) map[string]any {
	return map[string]any{
		"type":       "Feature",
		"geometry":   map[string]any{"type": "LineString", "coordinates": lineCoords(rt.Line)},
		"properties": rt,
	}
}

// route1 is GET /v1/routes?from=lon,lat&to=lon,lat: the fastest route on roads, as a GeoJSON
// Feature with its length (m) and time (s).
func (s *Server) route1(w http.ResponseWriter, r *http.Request) {
	if !s.patrolsReady(w, r) {
		return
	}
	q := r.URL.Query()
	from, err := lonLatParam(q, "from")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	to, err := lonLatParam(q, "to")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rt, err := s.patrols.Route(r.Context(), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, routeFeature(rt))
}

// nearestWorkers is GET /v1/routes/nearest-workers?at=lon,lat&n=5: the on-duty workers nearest to
// a place by travel on roads, each with their route, as a GeoJSON FeatureCollection.
func (s *Server) nearestWorkers(w http.ResponseWriter, r *http.Request) {
	if !s.patrolsReady(w, r) {
		return
	}
	can, err := s.watching(r, "finding the nearest workers")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	at, err := lonLatParam(q, "at")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n := 5
	if v := q.Get("n"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 50 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "n %q is not a number from 1 to 50", gridline.Excerpt(v)).With("field", "n"))
			return
		}
	}
	ws, err := s.patrols.NearestWorkers(r.Context(), at, n, func(x patrol.Now) bool { return s.workerVisible(can, x) })
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	feats := make([]map[string]any, len(ws))
	for i, x := range ws {
		f := routeFeature(&x.Route)
		f["properties"] = map[string]any{"worker": x.Now, "route": x.Route}
		feats[i] = f
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "FeatureCollection", "features": feats})
}

// isAdministrator: p holds the administrator role on everything (with any credential).
func isAdministrator(p *accounts.Principal) bool {
	for _, g := range p.Grants {
		if g.Role == accounts.Administrator && g.Scope.Kind == accounts.ScopeAll {
			return true
		}
	}
	return false
}
