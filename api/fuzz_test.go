package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/api"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// newServer is the API over the fixture district in a fresh database.
func newServer(t testing.TB) http.Handler {
	return newServerLog(t, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newServerLog is newServer logging to log.
func newServerLog(t testing.TB, log *slog.Logger) http.Handler {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(db, gridline.SystemClock{}, time.UTC)
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return api.Wire(db, res, log, api.Options{MaxBatchBytes: 1 << 16}, tiles.Options{}, importers.Config{}).Handler()
}

// FuzzQueries: no query string, path or body makes a handler panic or answer 500, and every
// error is the one JSON shape.
func FuzzQueries(f *testing.F) {
	for _, s := range []string{
		"/v1/resolve?lon=113.6&lat=34.7", "/v1/resolve?lon=1e999&lat=0", "/v1/resolve?lon=113.6&lat=34.7&crs=EPSG:4513",
		"/v1/resolve?lon=500000&lat=3800000&crs=EPSG:4547", "/v1/resolve?lon=0&lat=0&crs=EPSG:0", "/v1/resolve?lon=0&lat=0&at=0000-00-00",
		"/v1/grids?bbox=1,2,3,4&limit=7&offset=3", "/v1/grids?code=%25_&name=%5C", "/v1/grids/410103/children?level=x",
		"/v1/grids/%00", "/v1/grids/99999999999999999999999/versions", "/v1/grids?crs=EPSG:3857",
		"/tiles/grids/14/13364/6503.mvt", "/tiles/grids,communities,labels/14/13364/6503.mvt?at=2024-01-01&crs=bd09",
		"/tiles/grids/22/4194303/4194303.mvt?crs=gcj02", "/tiles/grids,grids/99/1/1.mvt", "/tiles//1/2/3.mvt",
		"/tiles/grids.json?crs=EPSG:4490", "/styles/default.json?at=2024-02-30",
		"/ogc/collections/grids/items?datetime=2024-01-01/..&bbox=113,34,114,35&limit=2", "/ogc/collections/grids/items/1?datetime=..",
	} {
		f.Add("GET", s, "")
	}
	f.Add("POST", "/v1/resolve", `[{"id":1,"lon":113.6,"lat":34.7,"crs":"EPSG:3857"}]`)
	f.Add("POST", "/v1/resolve?crs=gcj02", "id,lon,lat\n1,2,3\n")
	f.Add("GET", "/v1/grids?level="+strings.Repeat("x", 5000), "")
	f.Add("POST", "/v1/resolve", "id"+strings.Repeat(",name", 2000)+"\n")
	h := newServer(f)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if method != "GET" && method != "POST" {
			return
		}
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		req, err := http.NewRequest(method, "http://x"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		if method == "POST" && strings.HasPrefix(body, "id") {
			req.Header.Set("Content-Type", "text/csv")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != 503 {
			t.Fatalf("%s %s: status %d: %s", method, target, w.Code, w.Body.String())
		}
		if w.Code >= 400 {
			var e struct {
				Error *gridline.Error `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s: status %d with a body not in the error shape: %s", method, target, w.Code, w.Body.String())
			}
			// Input is quoted through gridline.Excerpt: a message stays short whatever was sent.
			if len(e.Error.Message) > 1000 {
				t.Fatalf("%s %s: a message of %d bytes: %.300s", method, target, len(e.Error.Message), e.Error.Message)
			}
		}
	})
}

func TestBodyOverLimit(t *testing.T) {
	var logged strings.Builder
	h := newServerLog(t, slog.New(slog.NewTextHandler(&logged, nil)))
	body := "id,lon,lat\n" + strings.Repeat("a,113.6,34.7\n", 10000) // 130 kB > the 64 kB limit
	req := httptest.NewRequest("POST", "/v1/resolve", strings.NewReader(body))
	req.ContentLength = -1 // sent chunked: a declared length over the limit is refused unread (TestContentLengthOverLimit)
	req.Header.Set("Content-Type", "text/csv")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	// The first chunk is resolved and streamed before the limit is reached, so the stream ends
	// with a too_large error line rather than a 413 status.
	if !strings.Contains(w.Body.String(), "too_large") {
		t.Fatalf("status %d, tail %q", w.Code, tail(w.Body.String()))
	}
	// No error status shows that error, so the log does.
	if l := logged.String(); !strings.Contains(l, "batch failed after its answer started") || !strings.Contains(l, "code=too_large") {
		t.Fatalf("the error that ended the stream was not logged; the log:\n%s", l)
	}
	req = httptest.NewRequest("POST", "/v1/resolve", strings.NewReader(`[`+strings.Repeat(" ", 70000)+`]`))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "too_large") {
		t.Fatalf("body over the limit before any output: status %d %s", w.Code, w.Body.String())
	}
}

func tail(s string) string {
	if len(s) > 300 {
		return s[len(s)-300:]
	}
	return s
}

// TestEchoedInputIsAnExcerpt: a long CSV header comes back as a short excerpt in the 400,
// not whole.
func TestEchoedInputIsAnExcerpt(t *testing.T) {
	h := newServer(t)
	body := "id" + strings.Repeat(",name", 1600) + "\n" // 8 kB (within batch.MaxLineBytes), and no lon column
	req := httptest.NewRequest("POST", "/v1/resolve", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || w.Body.Len() > 1000 || !strings.Contains(w.Body.String(), "…") {
		t.Fatalf("status %d, %d bytes: %.300s", w.Code, w.Body.Len(), w.Body.String())
	}
}
