// Package webmap serves gridline's web map: the MapLibre GL JS page built by npm into dist/ (see
// package.json and build.mjs; `make web` or `make build` builds it) and embedded in the binary.
// When the bundle has not been built, the map's address answers with a page that says so.
package webmap

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Config is what the page reads from /config.json: an optional raster basemap. With none (the
// default) the map draws the grids alone and needs no internet.
type Config struct {
	// BasemapURL is an XYZ raster tile template ({z}/{x}/{y}), e.g. a tile server on the intranet.
	BasemapURL string `json:"basemap_url,omitempty"`
	// BasemapCRS is the datum the basemap is drawn in: wgs84 (default) or gcj02 (AMap, Tencent).
	// With gcj02 the page asks for grids and tiles with ?crs=gcj02 so that they line up.
	BasemapCRS string `json:"basemap_crs,omitempty"`
	// BasemapAttribution is shown in the map's corner.
	BasemapAttribution string `json:"basemap_attribution,omitempty"`
}

// ConfigFromEnv reads GRIDLINE_BASEMAP_URL, GRIDLINE_BASEMAP_CRS and GRIDLINE_BASEMAP_ATTRIBUTION.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		BasemapURL:         strings.TrimSpace(getenv("GRIDLINE_BASEMAP_URL")),
		BasemapCRS:         strings.ToLower(strings.TrimSpace(getenv("GRIDLINE_BASEMAP_CRS"))),
		BasemapAttribution: strings.TrimSpace(getenv("GRIDLINE_BASEMAP_ATTRIBUTION")),
	}
}

// notBuilt is served at / when dist/ holds no index.html.
const notBuilt = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridline</title></head>
<body style="font-family:sans-serif;margin:3em">
<h1>网格地图尚未构建 · web map not built: run make build</h1>
<p>The web map is built with npm into web-map/dist and embedded in the binary.
Run <code>make build</code> (or <code>make web</code>, then <code>go build</code>) and start gridline again.
The API works without it: <a href="/healthz">/healthz</a>, /v1/resolve, /v1/grids, /tiles/…</p>
</body></html>
`

type file struct {
	data, gz []byte
	etag     string
	ctype    string
}

// Map serves the web map's files.
type Map struct {
	files  map[string]*file
	config []byte
}

// Handler serves the embedded map with cfg.
func Handler(cfg Config) *Map { return newMap(dist, cfg) }

func newMap(fsys fs.FS, cfg Config) *Map {
	m := &Map{files: map[string]*file{}}
	m.config, _ = json.Marshal(cfg)
	sub, err := fs.Sub(fsys, "dist")
	if err != nil {
		return m
	}
	fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path.Base(p), ".") || strings.HasSuffix(p, ".gz") {
			return nil
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(data)
		f := &file{data: data, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: contentType(p)}
		if gz, err := fs.ReadFile(sub, p+".gz"); err == nil {
			f.gz = gz
		}
		m.files["/"+p] = f
		return nil
	})
	return m
}

// pages are the other pages' short addresses: the dispatcher's console, the grid worker's
// phone page and the statistics page (issue #16).
var pages = map[string]string{"/console": "/console.html", "/m": "/worker.html", "/stats": "/stats.html"}

// File is the bundle's file name (as "brief.js"), or nil when the bundle has none: the server
// inlines the monthly brief's chart script into the brief (api/statsweb.go).
func (m *Map) File(name string) []byte {
	if f := m.files["/"+name]; f != nil {
		return f.data
	}
	return nil
}

// Built reports whether the bundle is there (dist/index.html).
func (m *Map) Built() bool { return m.files["/index.html"] != nil }

// Owns reports whether path is one of the map's: /, /config.json and the bundle's files. The
// server sends every other path to its API routes (and their JSON 404).
func (m *Map) Owns(p string) bool {
	return p == "/" || p == "/index.html" || p == "/config.json" || m.files[p] != nil || pages[p] != ""
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

func (m *Map) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	p := r.URL.Path
	switch p {
	case "/config.json":
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-cache")
		w.Write(m.config)
		return
	case "/":
		p = "/index.html"
	}
	if pages[p] != "" {
		p = pages[p]
	}
	f := m.files[p]
	if f == nil {
		if p == "/index.html" {
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(notBuilt))
			return
		}
		http.NotFound(w, r)
		return
	}
	// The files keep their names from build to build: ask again each time, the ETag makes it a 304.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	if f.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	data := f.data
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		data = f.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}

// BasemapOrigin is the scheme and host of the configured basemap ("" without one): the one
// origin besides the server's own that the map's Content-Security-Policy lets it load from.
func (m *Map) BasemapOrigin() string {
	var cfg Config
	if json.Unmarshal(m.config, &cfg) != nil || cfg.BasemapURL == "" {
		return ""
	}
	u, err := url.Parse(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(cfg.BasemapURL, "{z}", "0"), "{x}", "0"), "{y}", "0"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
