package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb/geojson"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// OGC API - Features, Part 1: Core, with GeoJSON and an OpenAPI 3.0 description, mounted under
// /ogc so that it stays apart from /v1 and /tiles. There is one collection per level of each layer
// (comprehensive-grid, police-grid ...); features are grid versions valid on a date (datetime,
// default today), identified by the grid's id.

const ogcBase = "/ogc"

// ogcConformance is what the service claims.
var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
}

const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

func (s *Server) routeOGC(r *mux.Router) {
	o := r.PathPrefix(ogcBase).Subrouter()
	// The routes take every method and refuse all but GET and HEAD themselves: gorilla/mux lets a
	// method mismatch in a subrouter fall through to not_found.
	get := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				s.methodNotAllowed(w, r)
				return
			}
			h(w, r)
		}
	}
	o.HandleFunc("", get(s.ogcLanding))
	o.HandleFunc("/", get(s.ogcLanding))
	o.HandleFunc("/conformance", get(s.ogcConformance))
	o.HandleFunc("/api", get(s.ogcAPI))
	o.HandleFunc("/collections", get(s.ogcCollections))
	o.HandleFunc("/collections/{cid}", get(s.ogcCollection))
	o.HandleFunc("/collections/{cid}/items", get(s.ogcItems))
	o.HandleFunc("/collections/{cid}/items/{fid}", get(s.ogcItem))
}

type ogcLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// ogcRoot is the absolute URL of /ogc (see publicBase): clients such as GDAL follow the links as
// given.
func (s *Server) ogcRoot(r *http.Request) string { return s.publicBase(r) + ogcBase }

func (s *Server) ogcLanding(w http.ResponseWriter, r *http.Request) {
	root := s.ogcRoot(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"title":       "gridline.dev/gridline",
		"description": "Grid boundaries (网格) by level and layer, as of any date, as OGC API - Features.",
		"links": []ogcLink{
			{root, "self", "application/json", "this document"},
			{root + "/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"},
			{root + "/conformance", "conformance", "application/json", "conformance classes"},
			{root + "/collections", "data", "application/json", "the collections"},
		},
	})
}

func (s *Server) ogcConformance(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"conformsTo": ogcConformance})
}

// collectionID names the collection of a level of a layer.
func collectionID(layer gridline.Layer, level gridline.Level) string {
	return string(layer) + "-" + string(level)
}

// parseCollectionID reads layer-level.
func parseCollectionID(id string) (gridline.Layer, gridline.Level, bool) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return "", "", false
	}
	layer, level := gridline.Layer(id[:i]), gridline.Level(id[i+1:])
	return layer, level, layer.Valid() && level.Valid()
}

func (s *Server) collectionJSON(r *http.Request, c store.Collection) map[string]any {
	root := s.ogcRoot(r)
	id := collectionID(c.Layer, c.Level)
	return map[string]any{
		"id":          id,
		"title":       string(c.Layer) + " " + string(c.Level),
		"description": "grids of level " + string(c.Level) + " in the " + string(c.Layer) + " layer; " + strconv.Itoa(c.Current) + " valid today",
		"itemType":    "feature",
		"crs":         []string{crs84},
		"extent": map[string]any{
			"spatial":  map[string]any{"bbox": [][]float64{{c.BBox.Min[0], c.BBox.Min[1], c.BBox.Max[0], c.BBox.Max[1]}}, "crs": crs84},
			"temporal": map[string]any{"interval": [][]any{{c.First.Format(time.RFC3339), nil}}, "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
		},
		"links": []ogcLink{
			{root + "/collections/" + id, "self", "application/json", ""},
			{root + "/collections/" + id + "/items", "items", "application/geo+json", "the grids"},
		},
	}
}

func (s *Server) ogcCollections(w http.ResponseWriter, r *http.Request) {
	cs, err := s.db.Collections(r.Context(), s.resolver.Today())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list := make([]map[string]any, 0, len(cs))
	for _, c := range cs {
		list = append(list, s.collectionJSON(r, c))
	}
	root := s.ogcRoot(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"links":       []ogcLink{{root + "/collections", "self", "application/json", ""}},
		"collections": list,
	})
}

// findCollection reads {cid}; an unknown one is 404.
func (s *Server) findCollection(r *http.Request) (store.Collection, error) {
	id := mux.Vars(r)["cid"]
	layer, level, ok := parseCollectionID(id)
	if ok {
		cs, err := s.db.Collections(r.Context(), s.resolver.Today())
		if err != nil {
			return store.Collection{}, err
		}
		for _, c := range cs {
			if c.Layer == layer && c.Level == level {
				return c, nil
			}
		}
	}
	return store.Collection{}, gridline.Errorf(gridline.ENotFound, "no collection %q: collections are named layer-level, e.g. comprehensive-grid (see %s/collections)", gridline.Excerpt(id), ogcBase).With("collection", id)
}

func (s *Server) ogcCollection(w http.ResponseWriter, r *http.Request) {
	c, err := s.findCollection(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.collectionJSON(r, c))
}

// ogcDatetime reads datetime as one date or an RFC 3339 instant: the boundaries valid then. An
// interval is refused here (see ogcItemsDatetime): a feature asked for by id is one version.
func (s *Server) ogcDatetime(q url.Values) (time.Time, error) {
	v := q.Get("datetime")
	if v == "" {
		return s.resolver.Today(), nil
	}
	if strings.Contains(v, "/") {
		return time.Time{}, gridline.Errorf(gridline.EInvalid, "datetime %q is an interval: a feature is one version of a grid, so give one date (YYYY-MM-DD)", gridline.Excerpt(v)).With("field", "datetime")
	}
	return ogcInstant(v)
}

// ogcInstant is a date or an RFC 3339 instant, as the date it falls on.
func ogcInstant(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		// Its date, within the dates gridline accepts.
		return gridline.ParseDate("datetime", gridline.Date(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)))
	}
	return gridline.ParseDate("datetime", v)
}

// ogcItemsDatetime sets the dates of fq from datetime: one date (the versions valid then, today
// by default), or an interval start/end with ".." or nothing for an open end (every version valid
// on some day of it), as OGC API - Features Core asks.
func (s *Server) ogcItemsDatetime(q url.Values, fq *store.FeatureQuery) error {
	v := q.Get("datetime")
	start, end, isInterval := strings.Cut(v, "/")
	if !isInterval {
		var err error
		fq.At, err = s.ogcDatetime(q)
		return err
	}
	bad := func(why string) error {
		return gridline.Errorf(gridline.EInvalidDate, "datetime %q: %s; write start/end with dates (YYYY-MM-DD) or RFC 3339 instants, '..' for an open end", gridline.Excerpt(v), why).With("field", "datetime")
	}
	if strings.Contains(end, "/") {
		return bad("an interval has two ends")
	}
	var err error
	fq.Interval, fq.At = true, s.resolver.Today()
	if start != "" && start != ".." {
		if fq.From, err = ogcInstant(start); err != nil {
			return bad("its start: " + gridline.ErrorMessage(err))
		}
	}
	if end != "" && end != ".." {
		if fq.To, err = ogcInstant(end); err != nil {
			return bad("its end: " + gridline.ErrorMessage(err))
		}
	}
	if !fq.From.IsZero() && !fq.To.IsZero() && fq.To.Before(fq.From) {
		return bad("it ends before it starts")
	}
	return nil
}

// ogcProps are a feature's properties.
func ogcProps(f *store.Feature) geojson.Properties {
	p := geojson.Properties{
		"code": f.Code, "name": f.Name, "level": string(f.Level), "layer": string(f.Layer), "kind": f.Kind,
		"parent_code": f.ParentCode, "households": f.Households, "population": f.Population,
		"version": f.Version, "valid_from": gridline.Date(f.ValidFrom), "valid_to": nil,
	}
	if f.ValidTo != nil {
		p["valid_to"] = gridline.Date(*f.ValidTo)
	}
	return p
}

func ogcFeature(f *store.Feature) *geojson.Feature {
	gf := geojson.NewFeature(f.Geometry)
	gf.ID = f.ID
	gf.Properties = ogcProps(f)
	return gf
}

// ogcItems is /collections/{cid}/items: bbox, limit and offset (with next links), datetime, and
// exact filters on code, name, kind and parent_code.
func (s *Server) ogcItems(w http.ResponseWriter, r *http.Request) {
	c, err := s.findCollection(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	fq := store.FeatureQuery{Layer: c.Layer, Level: c.Level, Code: q.Get("code"), Name: q.Get("name"), Kind: q.Get("kind"), ParentCode: q.Get("parent_code")}
	for _, v := range []string{fq.Code, fq.Name, fq.Kind, fq.ParentCode} {
		if len(v) > 100 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "property filters must be UTF-8 text of at most 100 bytes"))
			return
		}
	}
	if err := s.ogcItemsDatetime(q, &fq); err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := q.Get("bbox"); v != "" {
		if crs := q.Get("bbox-crs"); crs != "" && crs != crs84 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalidCRS, "bbox-crs %q is not supported: give bbox in CRS84 (lon, lat)", gridline.Excerpt(crs)).With("field", "bbox-crs"))
			return
		}
		b, err := parseBBox(v)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		fq.BBox = &b
	}
	// OGC clients ask for what they like; a limit over the maximum is cut, not refused.
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "limit %q must be a whole number from 1", gridline.Excerpt(v)).With("field", "limit"))
			return
		}
		fq.Limit = min(n, 1000)
	} else {
		fq.Limit = 100
	}
	if fq.Offset, err = intParam(q, "offset", 0, 0, 1<<30); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, total, err := s.db.Features(r.Context(), fq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	root := s.ogcRoot(r)
	cid := collectionID(c.Layer, c.Level)
	features := make([]*geojson.Feature, 0, len(list))
	for i := range list {
		features = append(features, ogcFeature(&list[i]))
	}
	self := root + "/collections/" + cid + "/items?" + q.Encode()
	links := []ogcLink{
		{self, "self", "application/geo+json", ""},
		{root + "/collections/" + cid, "collection", "application/json", ""},
	}
	if fq.Offset+len(list) < total {
		nq := r.URL.Query()
		nq.Set("offset", strconv.Itoa(fq.Offset+len(list)))
		nq.Set("limit", strconv.Itoa(fq.Limit))
		links = append(links, ogcLink{root + "/collections/" + cid + "/items?" + nq.Encode(), "next", "application/geo+json", "next page"})
	}
	writeGeoJSON(w, http.StatusOK, map[string]any{
		"type": "FeatureCollection", "features": features, "numberMatched": total, "numberReturned": len(features),
		"timeStamp": s.clock.Now().UTC().Format(time.RFC3339), "links": links,
	})
}

// ogcItem is /collections/{cid}/items/{fid}, fid being the grid's id.
func (s *Server) ogcItem(w http.ResponseWriter, r *http.Request) {
	c, err := s.findCollection(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fid := mux.Vars(r)["fid"]
	id, perr := strconv.ParseInt(fid, 10, 64)
	at, err := s.ogcDatetime(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var list []store.Feature
	if perr == nil && id > 0 {
		if list, _, err = s.db.Features(r.Context(), store.FeatureQuery{Layer: c.Layer, Level: c.Level, At: at, ID: id, Limit: 1}); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	cid := collectionID(c.Layer, c.Level)
	if len(list) == 0 {
		s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "collection %s has no feature %q valid on %s", cid, gridline.Excerpt(fid), gridline.Date(at)))
		return
	}
	root := s.ogcRoot(r)
	f := ogcFeature(&list[0])
	writeGeoJSON(w, http.StatusOK, map[string]any{
		"type": "Feature", "id": f.ID, "geometry": f.Geometry, "properties": f.Properties,
		"links": []ogcLink{
			{root + "/collections/" + cid + "/items/" + fid, "self", "application/geo+json", ""},
			{root + "/collections/" + cid, "collection", "application/json", ""},
		},
	})
}

// ogcAPI is the OpenAPI 3.0 document.
func (s *Server) ogcAPI(w http.ResponseWriter, r *http.Request) {
	root := s.ogcRoot(r)
	param := func(name, in, desc string, schema map[string]any, required bool) map[string]any {
		return map[string]any{"name": name, "in": in, "description": desc, "required": required, "schema": schema}
	}
	str := map[string]any{"type": "string"}
	jsonResp := func(desc, ctype string) map[string]any {
		return map[string]any{"200": map[string]any{"description": desc, "content": map[string]any{ctype: map[string]any{"schema": map[string]any{"type": "object"}}}},
			"default": map[string]any{"description": "an error: {\"error\": {\"code\", \"message\", \"details\"}}"}}
	}
	cid := param("collectionId", "path", "layer-level, e.g. comprehensive-grid", str, true)
	items := []any{cid,
		map[string]any{"$ref": "#/components/parameters/limit"},
		param("offset", "query", "how many features to skip (the next link sets it)", map[string]any{"type": "integer", "minimum": 0, "default": 0}, false),
		param("bbox", "query", "minLon,minLat,maxLon,maxLat (CRS84)", map[string]any{"type": "array", "minItems": 4, "maxItems": 4, "items": map[string]any{"type": "number"}}, false),
		param("datetime", "query", "the boundaries valid on this date (YYYY-MM-DD or an RFC 3339 instant; default today), or every version valid during an interval start/end ('..' for an open end)", str, false),
		param("code", "query", "exact grid code", str, false),
		param("name", "query", "exact name", str, false),
		param("kind", "query", "kind of a special grid", str, false),
		param("parent_code", "query", "exact code of the parent", str, false),
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "gridline OGC API - Features", "version": "1.0.0", "description": "Grid boundaries by level and layer as of any date."},
		"servers": []any{map[string]any{"url": root}},
		"paths": map[string]any{
			"/":            map[string]any{"get": map[string]any{"summary": "landing page", "operationId": "getLandingPage", "responses": jsonResp("the landing page", "application/json")}},
			"/conformance": map[string]any{"get": map[string]any{"summary": "conformance classes", "operationId": "getConformance", "responses": jsonResp("conformance", "application/json")}},
			"/api":         map[string]any{"get": map[string]any{"summary": "this document", "operationId": "getAPI", "responses": jsonResp("OpenAPI", "application/vnd.oai.openapi+json;version=3.0")}},
			"/collections": map[string]any{"get": map[string]any{"summary": "the collections", "operationId": "getCollections", "responses": jsonResp("collections", "application/json")}},
			"/collections/{collectionId}": map[string]any{"get": map[string]any{"summary": "one collection", "operationId": "describeCollection",
				"parameters": []any{cid}, "responses": jsonResp("a collection", "application/json")}},
			"/collections/{collectionId}/items": map[string]any{"get": map[string]any{"summary": "the grids of a collection", "operationId": "getFeatures",
				"parameters": items, "responses": jsonResp("a FeatureCollection", "application/geo+json")}},
			"/collections/{collectionId}/items/{featureId}": map[string]any{"get": map[string]any{"summary": "one grid by its id", "operationId": "getFeature",
				"parameters": []any{cid, param("featureId", "path", "the grid's id", str, true),
					param("datetime", "query", "the version valid on this date; default today", str, false)},
				"responses": jsonResp("a Feature", "application/geo+json")}},
		},
		"components": map[string]any{"parameters": map[string]any{
			"limit": param("limit", "query", "features per page", map[string]any{"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, false),
		}},
	}
	b, err := jsonMarshal(doc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.0")
	w.WriteHeader(http.StatusOK)
	w.Write(append(b, '\n'))
}
