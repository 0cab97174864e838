package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// outCRS reads ?crs= for output geometry: wgs84 (default), cgcs2000, gcj02 or bd09.
func outCRS(q url.Values) (geo.CRS, error) {
	c, err := crsParam(q)
	if err != nil {
		return c, err
	}
	if !c.Local() {
		return c, gridline.Errorf(gridline.EInvalidCRS, "output crs %s is not supported here: use wgs84, cgcs2000, gcj02 or bd09", c.Name).With("field", "crs")
	}
	return c, nil
}

// project converts a WGS84 geometry to c (a copy).
func project(mp orb.MultiPolygon, c geo.CRS) orb.MultiPolygon {
	if c.Name == geo.WGS84.Name || c.Name == geo.CGCS2000.Name {
		return mp
	}
	out := mp.Clone()
	for _, poly := range out {
		for _, ring := range poly {
			for i, p := range ring {
				ring[i][0], ring[i][1] = c.FromWGS84(p[0], p[1])
			}
		}
	}
	return out
}

// gridProps are the properties every grid feature carries.
func gridProps(g *gridline.Grid) geojson.Properties {
	p := geojson.Properties{
		"id": g.ID, "version_id": g.VersionID, "version": g.Version, "code": g.Code, "name": g.Name,
		"level": g.Level, "layer": g.Layer, "parent_id": nil, "households": g.Households,
		"population": g.Population, "valid_from": gridline.Date(g.ValidFrom), "valid_to": nil,
		"four_bounds": g.Bounds,
	}
	if g.Kind != "" {
		p["kind"] = g.Kind
	}
	if g.ParentID != 0 {
		p["parent_id"] = g.ParentID
	}
	if g.ValidTo != nil {
		p["valid_to"] = gridline.Date(*g.ValidTo)
	}
	return p
}

func gridFeature(g *gridline.Grid, c geo.CRS) *geojson.Feature {
	var f *geojson.Feature
	if g.Geometry != nil {
		f = geojson.NewFeature(project(g.Geometry, c))
	} else {
		f = &geojson.Feature{Type: "Feature", Properties: geojson.Properties{}}
	}
	f.ID = g.ID
	f.Properties = gridProps(g)
	return f
}

// featureCollection is a FeatureCollection with paging fields beside it.
type featureCollection struct {
	Type     string             `json:"type"`
	Features []*geojson.Feature `json:"features"`
	Total    int                `json:"total"`
	Limit    int                `json:"limit"`
	Offset   int                `json:"offset"`
	CRS      string             `json:"crs"`
	Next     string             `json:"next,omitempty"`
}

func writeGeoJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: &gridline.Error{Code: gridline.EInternal, Message: "could not encode the response"}})
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func intParam(q url.Values, name string, def, min, max int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, gridline.Errorf(gridline.EInvalid, "%s %q must be a whole number from %d to %d", name, gridline.Excerpt(v), min, max).With("field", name)
	}
	return n, nil
}

// filterParams reads the filters of GET /v1/grids.
func (s *Server) filterParams(q url.Values) (store.GridFilter, geo.CRS, error) {
	var f store.GridFilter
	var err error
	c, err := outCRS(q)
	if err != nil {
		return f, c, err
	}
	if f.At, err = s.dateParam(q, "at"); err != nil {
		return f, c, err
	}
	if v := q.Get("level"); v != "" {
		f.Level = gridline.Level(v)
		if !f.Level.Valid() {
			return f, c, gridline.Errorf(gridline.EInvalid, "level %q is not one of %s", gridline.Excerpt(v), gridline.LevelNames()).With("field", "level")
		}
	}
	if v := q.Get("layer"); v != "" {
		f.Layer = gridline.Layer(v)
		if !f.Layer.Valid() {
			return f, c, gridline.Errorf(gridline.EInvalid, "layer %q is not a layer name", gridline.Excerpt(v)).With("field", "layer")
		}
	}
	if v := q.Get("parent"); v != "" {
		if f.ParentID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return f, c, gridline.Errorf(gridline.EInvalid, "parent %q must be a grid id", gridline.Excerpt(v)).With("field", "parent")
		}
	}
	f.CodePrefix, f.Name = q.Get("code"), q.Get("name")
	if len(f.CodePrefix) > 32 || len(f.Name) > 100 {
		return f, c, gridline.Errorf(gridline.EInvalid, "code or name filter is too long")
	}
	if !utf8.ValidString(f.CodePrefix+f.Name) || strings.ContainsRune(f.CodePrefix+f.Name, 0) {
		return f, c, gridline.Errorf(gridline.EInvalid, "code and name filters must be UTF-8 text without NUL characters")
	}
	if v := q.Get("bbox"); v != "" {
		b, err := parseBBox(v)
		if err != nil {
			return f, c, err
		}
		f.BBox = &b
	}
	if f.Limit, err = intParam(q, "limit", 100, 1, 1000); err != nil {
		return f, c, err
	}
	if f.Offset, err = intParam(q, "offset", 0, 0, 1<<30); err != nil {
		return f, c, err
	}
	f.WithGeometry = q.Get("geometry") != "false"
	return f, c, nil
}

// parseBBox reads minLon,minLat,maxLon,maxLat (WGS84).
func parseBBox(v string) (orb.Bound, error) {
	parts := strings.Split(v, ",")
	bad := gridline.Errorf(gridline.EInvalid, "bbox %q must be minLon,minLat,maxLon,maxLat in WGS84 degrees", gridline.Excerpt(v)).With("field", "bbox")
	if len(parts) != 4 {
		return orb.Bound{}, bad
	}
	var f [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || x != x {
			return orb.Bound{}, bad
		}
		f[i] = x
	}
	if f[0] > f[2] || f[1] > f[3] || f[0] < -180 || f[2] > 180 || f[1] < -90 || f[3] > 90 {
		return orb.Bound{}, bad
	}
	return orb.Bound{Min: orb.Point{f[0], f[1]}, Max: orb.Point{f[2], f[3]}}, nil
}

// listGrids is GET /v1/grids.
func (s *Server) listGrids(w http.ResponseWriter, r *http.Request) {
	s.writeGridList(w, r, 0)
}

func (s *Server) writeGridList(w http.ResponseWriter, r *http.Request, parent int64) {
	q := r.URL.Query()
	f, c, err := s.filterParams(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if parent != 0 {
		f.ParentID = parent
	}
	grids, total, err := s.db.Grids(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fc := featureCollection{Type: "FeatureCollection", Features: make([]*geojson.Feature, 0, len(grids)), Total: total, Limit: f.Limit, Offset: f.Offset, CRS: c.Name}
	for i := range grids {
		fc.Features = append(fc.Features, gridFeature(&grids[i], c))
	}
	if f.Offset+len(grids) < total {
		nq := r.URL.Query()
		nq.Set("offset", strconv.Itoa(f.Offset+len(grids)))
		fc.Next = r.URL.Path + "?" + nq.Encode()
	}
	writeGeoJSON(w, http.StatusOK, fc)
}

// findGrid reads {ref} and ?at=.
func (s *Server) findGrid(r *http.Request) (*gridline.Grid, time.Time, error) {
	q := r.URL.Query()
	at, err := s.dateParam(q, "at")
	if err != nil {
		return nil, at, err
	}
	ref := mux.Vars(r)["ref"]
	if len(ref) > 64 || !utf8.ValidString(ref) || strings.ContainsRune(ref, 0) {
		return nil, at, gridline.Errorf(gridline.EInvalid, "grid reference %q must be a code or an id of at most 64 characters", gridline.Excerpt(ref)).With("field", "ref")
	}
	g, err := s.db.Grid(r.Context(), ref, at)
	return g, at, err
}

// getGrid is GET /v1/grids/{id or code}: a Feature with staff, parent chain and child count.
func (s *Server) getGrid(w http.ResponseWriter, r *http.Request) {
	c, err := outCRS(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g, at, err := s.findGrid(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	chain, err := s.db.Chain(ctx, g.ID, at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	children, err := s.db.ChildCount(ctx, g.ID, at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	staff, err := s.db.StaffOf(ctx, []int64{g.ID}, at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := gridFeature(g, c)
	parents := make([]map[string]any, 0, len(chain))
	for _, p := range chain {
		parents = append(parents, map[string]any{"id": p.ID, "code": p.Code, "name": p.Name, "level": p.Level, "layer": p.Layer})
	}
	f.Properties["parents"] = parents
	f.Properties["child_count"] = children
	own := staff[g.ID]
	if own == nil {
		own = []gridline.Staff{}
	}
	primary := gridline.PrimaryPost(g.Level, g.Layer)
	vacant := true
	for _, st := range own {
		if st.Post == primary {
			vacant = false
		}
	}
	ids := make([]int64, 0, len(chain)+1)
	for _, p := range chain {
		ids = append(ids, p.ID)
	}
	d := s.disclosureOn(r, append(ids, g.ID))
	f.Properties["staff"] = discloseStaff(own, d)
	f.Properties["vacant"] = vacant
	if ix := s.resolver.Index(); ix != nil {
		if i := ix.Position(g.VersionID); i >= 0 {
			f.Properties["responsible"] = resolve.DiscloseContacts(ix.Responsible(i, at), d)
		}
	}
	f.Properties["at"] = gridline.Date(at)
	f.Properties["crs"] = c.Name
	writeGeoJSON(w, http.StatusOK, f)
}

// gridChildren is GET /v1/grids/{ref}/children.
func (s *Server) gridChildren(w http.ResponseWriter, r *http.Request) {
	g, _, err := s.findGrid(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeGridList(w, r, g.ID)
}

// gridVersions is GET /v1/grids/{ref}/versions: every version, oldest first.
func (s *Server) gridVersions(w http.ResponseWriter, r *http.Request) {
	c, err := outCRS(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g, _, err := s.findGrid(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	vs, err := s.db.Versions(r.Context(), g.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fc := featureCollection{Type: "FeatureCollection", Features: make([]*geojson.Feature, 0, len(vs)), Total: len(vs), Limit: len(vs), CRS: c.Name}
	for i := range vs {
		fc.Features = append(fc.Features, gridFeature(&vs[i], c))
	}
	writeGeoJSON(w, http.StatusOK, fc)
}
