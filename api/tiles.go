package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"gridline"
	"gridline/geo"
	"gridline/tiles"
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
func (s *Server) tileParams(r *http.Request) ([]string, time.Time, geo.CRS, error) {
	q := r.URL.Query()
	layers, err := s.tiles.ParseLayers(mux.Vars(r)["layers"])
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
func tileCoord(vars map[string]string, name string) (uint64, error) {
	v := vars[name]
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || len(v) > 12 {
		return 0, gridline.Errorf(gridline.EInvalid, "tile %s %q must be a whole number of at most 12 digits", name, v).With("field", name)
	}
	return n, nil
}

// tile is GET /tiles/{layers}/{z}/{x}/{y}.mvt: a Mapbox vector tile (v2).
func (s *Server) tile(w http.ResponseWriter, r *http.Request) {
	layers, at, c, err := s.tileParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	vars := mux.Vars(r)
	var zxy [3]uint64
	for i, name := range []string{"z", "x", "y"} {
		if zxy[i], err = tileCoord(vars, name); err != nil {
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
	gz := acceptsGzip(r)
	e, err := s.tiles.Get(tiles.Request{Layers: layers, Z: uint32(z), X: uint32(x), Y: uint32(y), At: at, CRS: c}, gz)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", e.ETag)
	h.Set("Cache-Control", tileCacheControl)
	if etagMatch(r.Header.Get("If-None-Match"), e.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	if e.Gzip {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(e.Data)))
	h.Set("X-Tile-Features", strconv.Itoa(e.Features))
	if e.Simplified > tiles.Tolerance {
		h.Set("X-Tile-Simplified", strconv.FormatFloat(e.Simplified, 'g', -1, 64))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(e.Data)
	}
}

// acceptsGzip reports whether Accept-Encoding allows gzip (not with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if n := strings.ToLower(strings.TrimSpace(name)); n != "gzip" && n != "*" {
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
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// baseURL is how the client reached the server, for absolute URLs in TileJSON and styles.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
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
	layers, at, c, err := s.tileParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u := baseURL(r) + "/tiles/" + strings.Join(layers, ",") + "/{z}/{x}/{y}.mvt" + passQuery(r)
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
	all := s.tiles.Source().Layers()
	var sources []tiles.StyleSource
	for len(all) > 0 {
		n := min(len(all), s.tiles.MaxLayers())
		chunk := all[:n]
		all = all[n:]
		names := make([]string, len(chunk))
		for i, l := range chunk {
			names[i] = l.Name
		}
		sources = append(sources, tiles.StyleSource{URL: baseURL(r) + "/tiles/" + strings.Join(names, ",") + ".json" + passQuery(r), Layers: chunk})
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, tiles.Style(sources))
}
