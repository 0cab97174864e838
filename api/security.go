package api

import (
	"net/http"
	"strings"

	webmap "gridline.dev/gridline/web-map"
)

// mapCSP is the web map's Content-Security-Policy: its own scripts, styles, tiles and API and
// nothing external, except the configured basemap's origin (images and the fetches MapLibre makes
// for them). 'unsafe-inline' styles: the legend and MapLibre's controls set style attributes;
// no inline script runs. MapLibre's worker is a module file from the server ('self'); blob:
// images are its decoded tiles. frame-ancestors 'none': no other site may frame the map.
func mapCSP(basemapOrigin string) string {
	extra := ""
	if basemapOrigin != "" {
		extra = " " + basemapOrigin
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data: blob:" + extra,
		"connect-src 'self'" + extra,
		"worker-src 'self' blob:",
		"child-src 'self' blob:",
		"font-src 'self' data:",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// withSecurityHeaders sends the web map's pages with their security headers.
func withSecurityHeaders(m *webmap.Map) http.Handler {
	csp := mapCSP(m.BasemapOrigin())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		m.ServeHTTP(w, r)
	})
}

// cors answers cross-origin requests from the configured origins (Options.CORSOrigins) and
// reports whether it answered the request (a preflight). Without configured origins it is never
// called: no CORS headers, so other sites' pages cannot read the API from a browser. Credentials
// are not allowed across origins: another site's page uses an API token, never the session cookie.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !s.corsOrigins[origin] {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, X-Feature-Count, Content-Disposition")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// openPath reports whether r may be answered to anonymous callers when SignInToRead is on: the
// map's own files (so that its sign-in form loads), signing in and out, and the health check.
func (s *Server) openPath(r *http.Request) bool {
	p := r.URL.Path
	return p == "/v1/session" || p == "/healthz" || s.webMap.Owns(p)
}
