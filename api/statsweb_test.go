package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gridline.dev/gridline/api"
	"gridline.dev/gridline/printpdf"
)

// TestBriefErrors: the monthly brief's HTML and PDF refuse what they cannot answer in the one
// error shape; without Chromium the PDF is a clear 503 that points at the HTML.
func TestBriefErrors(t *testing.T) {
	noChromium, token := newServerOpt(t, api.Options{Printer: printpdf.New("/nonexistent/chromium")})
	noPrinter, token2 := newServerOpt(t, api.Options{})
	for _, c := range []struct {
		name   string
		h      http.Handler
		token  string
		path   string
		status int
		code   string
		says   string
	}{
		{"pdf without Chromium", noChromium, token, "/v1/stats/brief.pdf?month=2026-11", 503, "database_unavailable", "needs Chromium"},
		{"pdf without a printer", noPrinter, token2, "/v1/stats/brief.pdf?month=2026-11", 503, "database_unavailable", "brief.html"},
		{"anonymous", noChromium, "", "/v1/stats/brief.html?month=2026-11", 401, "unauthorized", "sign in"},
		{"no month", noChromium, token, "/v1/stats/brief.html", 400, "invalid_request", "month is missing"},
		{"not a month", noChromium, token, "/v1/stats/brief.html?month=2026-13", 400, "invalid_date", "not a month"},
		{"too many months", noChromium, token, "/v1/stats/brief.html?month=2025-01,2025-02,2025-03,2025-04,2025-05,2025-06,2025-07,2025-08,2025-09,2025-10,2025-11,2025-12,2026-01", 400, "invalid_request", "at most 12"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", c.path, nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			c.h.ServeHTTP(rec, req)
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%d, not the JSON error shape: %s", rec.Code, rec.Body)
			}
			if rec.Code != c.status || body.Error.Code != c.code || !strings.Contains(body.Error.Message, c.says) {
				t.Fatalf("%d %s %q, want %d %s saying %q", rec.Code, body.Error.Code, body.Error.Message, c.status, c.code, c.says)
			}
		})
	}
}
