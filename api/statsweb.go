package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/statsbrief"
)

// PDFPrinter prints a self-contained HTML page to PDF: printpdf.Chromium, a headless Chromium
// kept warm between prints. Available reports whether the browser is installed.
type PDFPrinter interface {
	Available() bool
	PDF(ctx context.Context, html []byte) ([]byte, error)
}

// maxBriefMonths bounds the months of one brief (one page each).
const maxBriefMonths = 12

// pdfTimeout bounds one print of the brief.
const pdfTimeout = 30 * time.Second

var monthRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// routeStatsWeb serves the monthly brief of the statistics (issue #16) as printable HTML and as
// PDF. Both read GET /v1/stats/brief (api/stats.go) in-process, so that the brief shows exactly
// the figures, permissions and scope of that endpoint.
func (s *Server) routeStatsWeb(r *mux.Router, printer PDFPrinter) {
	r.Handle("/v1/stats/brief.html", s.need(accounts.CasesRead, "reading the monthly brief", s.briefHTML)).Methods(http.MethodGet)
	r.Handle("/v1/stats/brief.pdf", s.need(accounts.CasesRead, "reading the monthly brief", func(w http.ResponseWriter, r *http.Request) {
		s.briefPDF(w, r, printer)
	})).Methods(http.MethodGet)
}

// renderBrief reads the brief of every month asked (month=2026-11, or month=2026-10,2026-11 for
// one page each) and renders them. A failure answers the error and returns nil.
func (s *Server) renderBrief(w http.ResponseWriter, r *http.Request) (html []byte, csp string, name string) {
	q := r.URL.Query()
	var months []string
	for _, v := range q["month"] {
		for _, m := range strings.Split(v, ",") {
			if m = strings.TrimSpace(m); m != "" {
				months = append(months, m)
			}
		}
	}
	if len(months) == 0 {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "month is missing: send month=YYYY-MM (or month=2026-10,2026-11 for one page each)").With("field", "month"))
		return nil, "", ""
	}
	if len(months) > maxBriefMonths {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "month: %d months asked; at most %d pages in one brief", len(months), maxBriefMonths).With("field", "month"))
		return nil, "", ""
	}
	briefs := make([]statsbrief.Brief, 0, len(months))
	for _, m := range months {
		if !monthRE.MatchString(m) {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalidDate, "month: %q is not a month; send YYYY-MM, as 2026-11", gridline.Excerpt(m)).With("field", "month"))
			return nil, "", ""
		}
		sub := url.Values{"month": {m}}
		if scope := q.Get("scope"); scope != "" {
			sub.Set("scope", scope)
		}
		if mc := q.Get("min_cases"); mc != "" {
			sub.Set("min_cases", mc)
		}
		status, body := s.internalGet(r, "/v1/stats/brief", sub)
		if status != http.StatusOK {
			// The brief's own error, in the one error shape, as it is.
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			w.Write(body)
			return nil, "", ""
		}
		var b statsbrief.Brief
		if err := json.Unmarshal(body, &b); err != nil {
			s.writeError(w, r, fmt.Errorf("statsweb: reading GET /v1/stats/brief: %w", err))
			return nil, "", ""
		}
		briefs = append(briefs, b)
	}
	html, csp, err := statsbrief.Render(briefs, s.webMap.File("brief.js"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, "", ""
	}
	name = "brief-" + briefs[0].Scope.Code + "-" + months[0]
	if len(months) > 1 {
		name += "_" + months[len(months)-1]
	}
	return html, csp, name
}

// briefHTML is GET /v1/stats/brief.html?scope=&month=: the brief as one self-contained HTML
// document (data embedded, the chart script inlined), one A4 page per month.
func (s *Server) briefHTML(w http.ResponseWriter, r *http.Request) {
	html, csp, _ := s.renderBrief(w, r)
	if html == nil {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	w.Write(html)
}

// briefPDF is GET /v1/stats/brief.pdf?scope=&month=: the same document printed by headless
// Chromium (one page per month).
func (s *Server) briefPDF(w http.ResponseWriter, r *http.Request, printer PDFPrinter) {
	if printer == nil || !printer.Available() {
		s.writeError(w, r, gridline.Errorf(gridline.EUnavailable, "the PDF of the brief needs Chromium, which is not installed on this server (install Debian's chromium, as scripts/setup.sh deps does, or set GRIDLINE_CHROMIUM to its path); the brief as HTML to print works without it: GET /v1/stats/brief.html with the same parameters").With("needs", "chromium"))
		return
	}
	html, _, name := s.renderBrief(w, r)
	if html == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), pdfTimeout)
	defer cancel()
	pdf, err := printer.PDF(ctx, html)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client went away
		}
		s.log.Error("printing the brief", "err", err)
		s.writeError(w, r, gridline.Errorf(gridline.EUnavailable, "the brief could not be printed to PDF just now (%v); try again, or print GET /v1/stats/brief.html from a browser", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `inline; filename="`+name+`.pdf"`)
	h.Set("Cache-Control", "private, no-store")
	w.Write(pdf)
}

// internalGet answers GET path?query as the server would answer the caller of r (its principal
// comes along in the context), without a round trip through the network.
func (s *Server) internalGet(r *http.Request, path string, query url.Values) (int, []byte) {
	sub := r.Clone(r.Context())
	sub.Method = http.MethodGet
	sub.URL = &url.URL{Path: path, RawQuery: query.Encode()}
	sub.RequestURI = sub.URL.RequestURI()
	sub.Header.Set("Accept", "application/json")
	sub.Body = http.NoBody
	rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	s.router.ServeHTTP(rec, sub)
	return rec.status, rec.body.Bytes()
}

// bufferedResponse is a ResponseWriter into memory, for internalGet.
type bufferedResponse struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(status int) {
	if !b.wrote {
		b.status, b.wrote = status, true
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}
