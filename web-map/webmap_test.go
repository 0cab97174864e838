package webmap

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, path, enc string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if enc != "" {
		r.Header.Set("Accept-Encoding", enc)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestNotBuilt(t *testing.T) {
	m := newMap(fstest.MapFS{"dist/.keep": {}}, Config{})
	if m.Built() {
		t.Fatal("Built() with only .keep")
	}
	w := get(t, m, "/", "")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "web map not built: run make build") {
		t.Fatalf("/ = %d %q", w.Code, w.Body.String())
	}
	if m.Owns("/app.js") || !m.Owns("/") || !m.Owns("/config.json") || m.Owns("/v1/nothing") {
		t.Fatal("Owns is wrong without a bundle")
	}
}

func TestBuilt(t *testing.T) {
	m := newMap(fstest.MapFS{
		"dist/index.html":  {Data: []byte("<!doctype html>map")},
		"dist/app.js":      {Data: []byte("console.log(1)")},
		"dist/app.js.gz":   {Data: []byte("gzipped")},
		"dist/sub/x.css":   {Data: []byte("a{}")},
		"dist/.keep":       {},
		"dist/ignored.txt": {Data: []byte("x")},
	}, Config{BasemapURL: "http://tiles.local/{z}/{x}/{y}.png", BasemapCRS: "gcj02"})
	if !m.Built() {
		t.Fatal("not Built()")
	}
	w := get(t, m, "/", "")
	if w.Code != 200 || w.Body.String() != "<!doctype html>map" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/ = %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	if w := get(t, m, "/app.js", "gzip, br"); w.Body.String() != "gzipped" || w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip app.js = %q %v", w.Body.String(), w.Header())
	}
	w = get(t, m, "/app.js", "")
	if w.Body.String() != "console.log(1)" || w.Header().Get("Content-Encoding") != "" {
		t.Fatalf("plain app.js = %q", w.Body.String())
	}
	etag := w.Header().Get("ETag")
	r := httptest.NewRequest(http.MethodGet, "/app.js", nil)
	r.Header.Set("If-None-Match", etag)
	rw := httptest.NewRecorder()
	m.ServeHTTP(rw, r)
	if etag == "" || rw.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match %s = %d", etag, rw.Code)
	}
	if w := get(t, m, "/sub/x.css", ""); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("css = %d %v", w.Code, w.Header())
	}
	if w := get(t, m, "/config.json", ""); !strings.Contains(w.Body.String(), `"basemap_crs":"gcj02"`) {
		t.Fatalf("config = %s", w.Body.String())
	}
	if w := get(t, m, "/nothing.js", ""); w.Code != 404 {
		t.Fatalf("missing file = %d", w.Code)
	}
	if m.Owns("/.keep") || m.Owns("/app.js.gz") || !m.Owns("/sub/x.css") {
		t.Fatal("Owns is wrong")
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"GRIDLINE_BASEMAP_URL": " http://x/{z}/{x}/{y}.png ", "GRIDLINE_BASEMAP_CRS": "GCJ02"}
	c := ConfigFromEnv(func(k string) string { return env[k] })
	if c.BasemapURL != "http://x/{z}/{x}/{y}.png" || c.BasemapCRS != "gcj02" {
		t.Fatalf("%+v", c)
	}
}
