package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/tiles"
)

func resolveHandler(tb testing.TB, d gridline.Disclosure) http.Handler {
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(tb))
	if err := res.Refresh(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return wire(nil, res, nil, Options{AnonymousPeople: d}, tiles.Options{}, importers.Config{}).Handler()
}

// TestAnonymousPeople: what an anonymous caller sees of the people in a resolve answer, for each
// setting (no database: anonymous requests never need one).
func TestAnonymousPeople(t *testing.T) {
	for _, c := range []struct {
		d              gridline.Disclosure
		name, phone    string
		personIDIsZero bool
	}{
		// The API tests' fixture index carries no phone numbers (cmd/gridline's test checks a
		// masked one through the whole program).
		{gridline.DiscloseFull, "刘芳", "", false},
		{gridline.DiscloseMasked, "刘*", "", true},
		{gridline.DiscloseNone, "", "", true},
	} {
		t.Run(string(c.d), func(t *testing.T) {
			w := httptest.NewRecorder()
			resolveHandler(t, c.d).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/resolve?lon=113.615&lat=34.71", nil))
			var body struct {
				Chain []struct {
					Code        string `json:"code"`
					Responsible []struct {
						Name     string `json:"name"`
						Phone    string `json:"phone"`
						PersonID int64  `json:"person_id"`
						Fallback bool   `json:"fallback"`
					} `json:"responsible"`
				} `json:"chain"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Chain) < 4 {
				t.Fatalf("%d %s %v", w.Code, w.Body, err)
			}
			found := false
			for _, p := range body.Chain[3].Responsible {
				if p.Fallback {
					found = true
					if p.Name != c.name || p.Phone != c.phone || (p.PersonID == 0) != c.personIDIsZero {
						t.Fatalf("fallback shown as %+v, want %s %s", p, c.name, c.phone)
					}
				}
			}
			if !found {
				t.Fatalf("no fallback in %s", w.Body)
			}
		})
	}
}

func TestMasks(t *testing.T) {
	for in, want := range map[string]string{"张三": "张*", "欧阳娜娜": "欧***", "李": "*", "": ""} {
		if got := gridline.MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"13812348768": "138****8768", "037167891234": "037*****1234", "12345": "***45", "": ""} {
		if got := gridline.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkResolveOne is an anonymous GET /v1/resolve answered by the handler (no network), with
// people in full, masked and left out: the masked and empty renderings are made once per day
// with the full one, so the three should cost the same.
func BenchmarkResolveOne(b *testing.B) {
	for _, d := range []gridline.Disclosure{gridline.DiscloseFull, gridline.DiscloseMasked, gridline.DiscloseNone} {
		b.Run(string(d), func(b *testing.B) {
			h := resolveHandler(b, d)
			req := httptest.NewRequest(http.MethodGet, "/v1/resolve?lon=113.615&lat=34.71", nil)
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			if w.status != 200 && w.status != 0 {
				b.Fatalf("status %d", w.status)
			}
		})
	}
}

// TestCORS: off unless configured; a configured origin gets its headers and its preflight.
func TestCORS(t *testing.T) {
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	if err := res.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	off := wire(nil, res, nil, Options{}, tiles.Options{}, importers.Config{}).Handler()
	on := wire(nil, res, nil, Options{CORSOrigins: []string{"https://ops.example.org/"}}, tiles.Options{}, importers.Config{}).Handler()
	get := func(h http.Handler, method, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/v1/resolve?lon=113.615&lat=34.71", nil)
		req.Header.Set("Origin", origin)
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "GET")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := get(off, http.MethodGet, "https://ops.example.org"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS headers without configuration")
	}
	if w := get(on, http.MethodGet, "https://evil.example"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS headers for an origin not configured")
	}
	if w := get(on, http.MethodGet, "https://ops.example.org"); w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "https://ops.example.org" {
		t.Fatalf("configured origin: %d %v", w.Code, w.Header())
	}
	if w := get(on, http.MethodOptions, "https://ops.example.org"); w.Code != 204 || w.Header().Get("Access-Control-Allow-Headers") == "" || w.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
}

// TestSignInToRead: with anonymous viewing off, reads need a credential, except the map's own
// files, signing in and the health check.
func TestSignInToRead(t *testing.T) {
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	if err := res.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := wire(nil, res, nil, Options{SignInToRead: true}, tiles.Options{}, importers.Config{}).Handler()
	for path, want := range map[string]int{"/v1/resolve?lon=113.615&lat=34.71": 401, "/tiles/grids/12/3375/1626.mvt": 401, "/v1/grids": 401, "/v1/exports?format=geojson": 401, "/config.json": 200, "/": 0} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if want == 0 {
			if w.Code == 401 {
				t.Errorf("%s: 401, want the map's page", path)
			}
			continue
		}
		if w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
}
