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
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/api"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// newServerOpt is newServer with the given options (MaxBatchBytes 64 kB unless set), and a write
// token.
func newServerOpt(t testing.TB, opt api.Options) (http.Handler, string) {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(db, gridline.SystemClock{}, time.UTC)
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	token := storetest.Token(t, db, "importer", storetest.Everywhere(accounts.Planner), storetest.Everywhere(accounts.Supervisor))
	if opt.MaxBatchBytes == 0 {
		opt.MaxBatchBytes = 1 << 16
	}
	return api.Wire(db, res, slog.New(slog.NewTextHandler(io.Discard, nil)), opt, tiles.Options{}, importers.Config{MaxBytes: 1 << 20}).Handler(), token
}

// countingReader is a body of max bytes of x that counts what was read of it.
type countingReader struct {
	n, max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = 'x'
	}
	c.n += int64(len(p))
	return len(p), nil
}

// TestContentLengthOverLimit: a body that declares more than the limit is refused with 413 before
// any of it is read, on every endpoint that takes a body.
func TestContentLengthOverLimit(t *testing.T) {
	h, token := newServerOpt(t, api.Options{})
	for _, tc := range []struct{ name, path, ctype string }{
		{"batch", "/v1/resolve", "text/csv"},
		{"import", "/v1/imports", "multipart/form-data; boundary=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{max: 2 << 30}
			req := httptest.NewRequest("POST", tc.path, body)
			req.ContentLength = 2 << 30
			req.Header.Set("Content-Type", tc.ctype)
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "too_large") || body.n != 0 {
				t.Fatalf("status %d %s after reading %d bytes; want 413 too_large having read nothing", w.Code, w.Body.String(), body.n)
			}
		})
	}
}

// TestBodyIdle: a batch body that stops sending is cut off with an answer once it has sent
// nothing for the idle limit, rather than held until the connection's deadline.
func TestBodyIdle(t *testing.T) {
	h, _ := newServerOpt(t, api.Options{BodyIdle: 200 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		pw.Write([]byte("id,lon,lat\na,113.6055,34.7055\n"))
		// ... and then nothing more, without closing the body.
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/resolve", pr)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// The record before the pause was resolved and streamed (200), so the answer ends with the
	// error in the stream's last line; before any output it would be a 408.
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var e struct{ Error *gridline.Error }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil || e.Error == nil || e.Error.Code != gridline.ETimeout {
		t.Fatalf("status %d, the answer does not end with a %s error: %s", resp.StatusCode, gridline.ETimeout, b)
	}

	// Nothing read before the pause: a plain 408.
	pr2, pw2 := io.Pipe()
	defer pw2.Close()
	go pw2.Write([]byte("id,lon,"))
	req, _ = http.NewRequest("POST", srv.URL+"/v1/resolve", pr2)
	req.Header.Set("Content-Type", "text/csv")
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	b, _ = io.ReadAll(resp2.Body)
	if resp2.StatusCode != http.StatusRequestTimeout || json.Unmarshal(b, &e) != nil || e.Error == nil || e.Error.Code != gridline.ETimeout {
		t.Fatalf("status %d %s, want 408 %s", resp2.StatusCode, b, gridline.ETimeout)
	}
}

// TestEndlessField: a CSV field or JSON string that never ends is refused as soon as it passes
// the record limit (batch.MaxLineBytes, batch.MaxTokenBytes), not held until the body limit.
func TestEndlessField(t *testing.T) {
	h, _ := newServerOpt(t, api.Options{MaxBatchBytes: 1 << 30})
	for _, tc := range []struct{ ctype, head, want string }{
		{"text/csv", "id,lon,lat\nx", "line 2 is longer than"},
		{"application/json", `[{"id":"`, "element 1: a string longer than"},
	} {
		body := &countingReader{max: 50 << 20}
		req := httptest.NewRequest("POST", "/v1/resolve", io.MultiReader(strings.NewReader(tc.head), body))
		req.ContentLength = -1
		req.Header.Set("Content-Type", tc.ctype)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), tc.want) || body.n > 1<<20 {
			t.Fatalf("%s: status %d %s after reading %d bytes", tc.ctype, w.Code, w.Body.String(), body.n)
		}
	}
}

// TestLinksIgnoreHost: absolute links in OGC API and TileJSON answers are built from the public
// URL, or the address the connection arrived on, never from the Host header a client sends.
func TestLinksIgnoreHost(t *testing.T) {
	for _, public := range []string{"", "https://grids.example.gov.cn/gridline"} {
		h, _ := newServerOpt(t, api.Options{PublicURL: public})
		srv := httptest.NewServer(h)
		want := public
		if want == "" {
			want = srv.URL
		}
		for _, path := range []string{"/ogc", "/ogc/collections", "/tiles/grids.json", "/styles/default.json"} {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Host = "evil.example"
			req.Header.Set("X-Forwarded-Proto", "https")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || strings.Contains(string(b), "evil.example") || !strings.Contains(string(b), want+"/") {
				t.Fatalf("public URL %q, %s: status %d, links not at %s: %.400s", public, path, resp.StatusCode, want, b)
			}
		}
		srv.Close()
	}
}
