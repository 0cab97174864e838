package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/tiles"
)

// tileCacheControl lets browsers and proxies keep tiles but ask again each time: the ETag makes
// the question cheap (304), and a changed grid shows on the next request rather than after an age.
const tileCacheControl = "public, no-cache"

// routeTiles mounts the vector tile endpoints.
func (s *Server) routeTiles(r *mux.Router) {
	r.HandleFunc("/tiles/{layers}/{z}/{x}/{y}.mvt", s.tile).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/tiles/{layers}.json", s.tileJSON).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/styles/default.json", s.style).Methods(http.MethodGet, http.MethodHead)
}

// tileParams reads {layers}, ?at= and ?crs= shared by tiles and TileJSON.
func (s *Server) tileParams(r *http.Request, layerSpec string) ([]string, time.Time, geo.CRS, error) {
	q := r.URL.Query()
	layers, err := s.tiles.ParseLayers(layerSpec)
	if err != nil {
		return nil, time.Time{}, geo.CRS{}, err
	}
	at, err := s.dateParam(q, "at")
	if err != nil {
		return nil, at, geo.CRS{}, err
	}
	c, err := outCRS(q)
	if err != nil {
		return nil, at, c, err
	}
	if c.Name == geo.CGCS2000.Name {
		c = geo.WGS84 // the same tiles: the datums differ by centimetres
	}
	return layers, at, c, nil
}

// tileCoord reads one of z, x, y: a whole number without sign.
func tileCoord(name, v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || len(v) > 12 {
		return 0, gridline.Errorf(gridline.EInvalid, "tile %s %q must be a whole number of at most 12 digits", name, gridline.Excerpt(v)).With("field", name)
	}
	return n, nil
}

// splitTilePath splits a path of the form /tiles/{layers}/{z}/{x}/{y}.mvt as the router's tile route
// would match it; ok is false for anything else, "." and ".." segments included (the router
// cleans those paths first). Tiles are the busiest endpoint: going around the router saves its
// regular expressions and the copy of the request it makes to carry the path variables.
func splitTilePath(p string) (layers, z, x, y string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/tiles/")
	if !ok {
		return
	}
	if rest, ok = strings.CutSuffix(rest, ".mvt"); !ok {
		return
	}
	var parts [4]string
	for i := range parts {
		if i < 3 {
			parts[i], rest, ok = strings.Cut(rest, "/")
			if !ok {
				return
			}
		} else {
			if strings.Contains(rest, "/") {
				return "", "", "", "", false
			}
			parts[i] = rest
		}
		if parts[i] == "" || parts[i] == "." || parts[i] == ".." {
			return "", "", "", "", false
		}
	}
	return parts[0], parts[1], parts[2], parts[3], true
}

// tile is GET /tiles/{layers}/{z}/{x}/{y}.mvt through the router (route normally answers
// these before the router sees them).
func (s *Server) tile(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	s.serveTile(w, r, v["layers"], v["z"], v["x"], v["y"])
}

// tileHeaders are the response headers of one tile, built once when it is generated
// (AnnotateTile) and shared by every response from the cache: header values are one-element
// slices that net/http only reads.
type tileHeaders struct {
	vary, etag, cacheControl, contentType, encoding, length, features, simplified []string
}

// AnnotateTile builds the response headers of a tile when it is generated, for
// tiles.Options.Annotate: the tile service keeps them with the tile in its cache, so that a cached
// tile is answered without building them again.
func AnnotateTile(e tiles.Entry) any {
	one := func(v string) []string { return []string{v} }
	h := &tileHeaders{vary: one("Accept-Encoding"), etag: one(e.ETag), cacheControl: one(tileCacheControl),
		contentType: one("application/vnd.mapbox-vector-tile"), length: one(strconv.Itoa(len(e.Data))), features: one(strconv.Itoa(e.Features))}
	if e.Gzip {
		h.encoding = one("gzip")
	}
	if e.Simplified > tiles.Tolerance {
		h.simplified = one(strconv.FormatFloat(e.Simplified, 'g', -1, 64))
	}
	return h
}

// serveTile answers a tile request: a Mapbox vector tile (v2). A tile in the cache is answered
// from it directly, when the request has no query; anything else goes through the parsing that
// validates every parameter (in the same order as before: layers, at, crs, z/x/y).
func (s *Server) serveTile(w http.ResponseWriter, r *http.Request, layerSpec, zs, xs, ys string) {
	gz := acceptsGzip(r)
	if r.URL.RawQuery == "" {
		z, errz := strconv.ParseUint(zs, 10, 32)
		x, errx := strconv.ParseUint(xs, 10, 32)
		y, erry := strconv.ParseUint(ys, 10, 32)
		if errz == nil && errx == nil && erry == nil {
			if e, ok := s.tiles.Cached(layerSpec, uint32(z), uint32(x), uint32(y), s.resolver.Today(), geo.WGS84, gz); ok {
				s.writeTile(w, r, e)
				return
			}
		}
	}
	layers, at, c, err := s.tileParams(r, layerSpec)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var zxy [3]uint64
	for i, v := range [3][2]string{{"z", zs}, {"x", xs}, {"y", ys}} {
		if zxy[i], err = tileCoord(v[0], v[1]); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	z, x, y := zxy[0], zxy[1], zxy[2]
	if z > tiles.MaxZoom {
		s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "zoom %d is beyond the deepest zoom, %d", z, tiles.MaxZoom))
		return
	}
	if n := uint64(1) << z; x >= n || y >= n {
		s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "tile %d/%d/%d is outside the world: x and y must be below %d at zoom %d", z, x, y, n, z))
		return
	}
	e, err := s.tiles.Get(tiles.Request{Layers: layers, Z: uint32(z), X: uint32(x), Y: uint32(y), At: at, CRS: c}, gz)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeTile(w, r, e)
}

// writeTile writes a tile with its headers, or 304 when If-None-Match names its ETag.
func (s *Server) writeTile(w http.ResponseWriter, r *http.Request, e tiles.Entry) {
	th, _ := e.Meta.(*tileHeaders)
	if th == nil {
		th = AnnotateTile(e).(*tileHeaders)
	}
	h := w.Header()
	h["Vary"] = th.vary
	h["Etag"] = th.etag
	h["Cache-Control"] = th.cacheControl
	if etagMatch(r.Header.Get("If-None-Match"), e.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = th.contentType
	if th.encoding != nil {
		h["Content-Encoding"] = th.encoding
	}
	h["Content-Length"] = th.length
	h["X-Tile-Features"] = th.features
	if th.simplified != nil {
		h["X-Tile-Simplified"] = th.simplified
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(e.Data)
	}
}

// acceptsGzip reports whether Accept-Encoding allows gzip (not with q=0).
func acceptsGzip(r *http.Request) bool {
	for rest := r.Header.Get("Accept-Encoding"); rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if n := strings.TrimSpace(name); !strings.EqualFold(n, "gzip") && n != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// etagMatch reports whether an If-None-Match header names etag (weak comparison, or *).
func etagMatch(header, etag string) bool {
	for header != "" {
		var t string
		t, header, _ = strings.Cut(header, ",")
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// passQuery keeps ?at= and ?crs= for the URLs a document points to.
func passQuery(r *http.Request) string {
	q := url.Values{}
	for _, k := range []string{"at", "crs"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// tileJSON is GET /tiles/{layers}.json: TileJSON 3.0.0.
func (s *Server) tileJSON(w http.ResponseWriter, r *http.Request) {
	layers, at, c, err := s.tileParams(r, mux.Vars(r)["layers"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u := s.publicBase(r) + "/tiles/" + strings.Join(layers, ",") + "/{z}/{x}/{y}.mvt" + passQuery(r)
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, s.tiles.TileJSON(layers, u, at, c))
}

// style is GET /styles/default.json: a MapLibre style over every layer, without a basemap.
func (s *Server) style(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, err := s.dateParam(q, "at"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := outCRS(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	all := s.tiles.Tileset().Layers()
	var sources []tiles.StyleSource
	for len(all) > 0 {
		n := min(len(all), s.tiles.MaxLayers())
		chunk := all[:n]
		all = all[n:]
		names := make([]string, len(chunk))
		for i, l := range chunk {
			names[i] = l.Name
		}
		sources = append(sources, tiles.StyleSource{URL: s.publicBase(r) + "/tiles/" + strings.Join(names, ",") + ".json" + passQuery(r), Layers: chunk})
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, tiles.Style(sources))
}
