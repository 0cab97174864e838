package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/open311"
)

// Open311Options configure /open311/v2 (Options.Open311).
type Open311Options struct {
	// Cases files and finds cases (required for /open311 to be served; nil answers 503).
	Cases open311.Cases
	// Jurisdiction is this server's jurisdiction_id (a request naming another is refused with
	// 404); cmd/gridline reads GRIDLINE_OPEN311_JURISDICTION.
	Jurisdiction string
	// Contact is discovery's contact line.
	Contact string
}

// routeOpen311 mounts Open311 GeoReport v2 under /open311/v2. Everything under /open311 answers
// in Open311's formats, errors included ([{code, description}] in JSON, <errors> in XML).
func (s *Server) routeOpen311(r *mux.Router, opt Open311Options) {
	s.open311 = opt
	r.PathPrefix("/open311/").HandlerFunc(s.serveOpen311)
}

// maxOpen311Form bounds a POST requests body.
const maxOpen311Form = 64 << 10

// serveOpen311 dispatches /open311/v2/<resource>.<format> by hand: the resource names hold dots
// and codes, which the router's patterns would only make harder to read.
func (s *Server) serveOpen311(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/open311/v2/")
	format := open311.XML
	if ok {
		switch {
		case strings.HasSuffix(rest, ".json"):
			rest, format = strings.TrimSuffix(rest, ".json"), open311.JSON
		case strings.HasSuffix(rest, ".xml"):
			rest = strings.TrimSuffix(rest, ".xml")
		default:
			ok = false
		}
	}
	parts := strings.Split(rest, "/")
	if !ok || rest == "" || len(parts) > 2 {
		s.open311Error(w, r, format, &open311.Errors{Status: 404, List: []open311.Error{{Code: 404,
			Description: "no such Open311 resource: " + gridline.Excerpt(r.URL.Path) + " (see /open311/v2/discovery.xml; every resource ends in .xml or .json)"}}})
		return
	}
	method := func(allowed ...string) bool {
		for _, m := range allowed {
			if r.Method == m {
				return true
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.open311Error(w, r, format, &open311.Errors{Status: 405, List: []open311.Error{{Code: 405, Description: r.Method + " is not allowed on " + gridline.Excerpt(r.URL.Path)}}})
		return false
	}
	if parts[0] == "discovery" && len(parts) == 1 {
		if method(http.MethodGet, http.MethodHead) {
			s.open311Write(w, format, open311.DiscoveryOf(s.publicBase(r)+"/open311/v2", s.open311.Contact, s.publicBase(r)+"/v1/session"))
		}
		return
	}
	if s.open311.Cases == nil {
		s.open311Error(w, r, format, open311.ErrorsOf(gridline.Errorf(gridline.EUnavailable, "the case engine is not configured on this server")))
		return
	}
	var q url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxOpen311Form)
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.open311Error(w, r, format, &open311.Errors{Status: 413, List: []open311.Error{{Code: 413, Description: "the request body is larger than 64 KiB"}}})
			} else {
				s.open311Error(w, r, format, &open311.Errors{Status: 400, List: []open311.Error{{Code: 400, Description: "the body must be application/x-www-form-urlencoded: " + gridline.Excerpt(err.Error())}}})
			}
			return
		}
		q = r.Form
	} else {
		q = r.URL.Query()
	}
	if err := open311.CheckJurisdiction(q, s.open311.Jurisdiction); err != nil {
		s.open311Error(w, r, format, err)
		return
	}
	ctx := r.Context()
	switch {
	case parts[0] == "services" && len(parts) == 1:
		if !method(http.MethodGet, http.MethodHead) {
			return
		}
		cats, err := s.open311.Cases.Categories(ctx)
		if err != nil {
			s.open311Error(w, r, format, err)
			return
		}
		s.open311Write(w, format, open311.Services(cats))
	case parts[0] == "services":
		if !method(http.MethodGet, http.MethodHead) {
			return
		}
		if err := s.knownService(ctx, parts[1]); err != nil {
			s.open311Error(w, r, format, err)
			return
		}
		s.open311Write(w, format, open311.DefinitionOf(parts[1]))
	case parts[0] == "requests" && len(parts) == 1 && r.Method == http.MethodPost:
		s.open311Post(w, r, format, q)
	case parts[0] == "requests" && len(parts) == 1:
		if !method(http.MethodGet, http.MethodHead, http.MethodPost) {
			return
		}
		query, err := open311.ParseQuery(q, s.clock.Now())
		if err != nil {
			s.open311Error(w, r, format, err)
			return
		}
		s.open311Requests(w, r, format, query, "")
	case parts[0] == "requests" || parts[0] == "tokens":
		if !method(http.MethodGet, http.MethodHead) {
			return
		}
		s.open311Requests(w, r, format, open311.Query{IDs: []string{parts[1]}, Limit: 1}, parts[0])
	default:
		s.open311Error(w, r, format, &open311.Errors{Status: 404, List: []open311.Error{{Code: 404, Description: "no such Open311 resource: " + gridline.Excerpt(r.URL.Path)}}})
	}
}

// knownService refuses a service_code the catalogue does not have (404, as the specification says).
func (s *Server) knownService(ctx context.Context, code string) error {
	cats, err := s.open311.Cases.Categories(ctx)
	if err != nil {
		return err
	}
	for _, c := range cats {
		if c.Code == code {
			return nil
		}
	}
	return &open311.Errors{Status: 404, List: []open311.Error{{Code: 404, Description: "service_code " + strconvQuote(code) + " was not found: GET services lists the codes"}}}
}

func strconvQuote(s string) string {
	return `"` + strings.ReplaceAll(gridline.Excerpt(s), `"`, `\"`) + `"`
}

// open311Post is POST requests: api_key (a gridline API token with cases.report) first, then the
// form, every problem at once, then the service code; the case is filed through the same intake
// as POST /v1/cases, with the token's account as its actor.
func (s *Server) open311Post(w http.ResponseWriter, r *http.Request, format open311.Format, q url.Values) {
	key := strings.TrimSpace(q.Get("api_key"))
	if key == "" {
		s.open311Error(w, r, format, &open311.Errors{Status: 403, List: []open311.Error{{Code: 403, Description: "api_key was not provided: send a gridline API token (gridline token create) whose account may report cases"}}})
		return
	}
	p, err := s.accounts.FromToken(r.Context(), key)
	if err != nil {
		if gridline.ErrorCode(err) == gridline.EUnauthorized {
			err = &open311.Errors{Status: 403, List: []open311.Error{{Code: 403, Description: "api_key is not a valid API token (unknown, revoked, or its account is disabled)"}}}
		}
		s.open311Error(w, r, format, err)
		return
	}
	if !p.CanSomewhere(accounts.CasesReport) {
		s.open311Error(w, r, format, &open311.Errors{Status: 403, List: []open311.Error{{Code: 403, Description: "api_key's account may not report cases: it needs the permission cases.report (the grid_worker role, or administrator)"}}})
		return
	}
	rep, err := open311.ParseReport(q)
	if err != nil {
		s.open311Error(w, r, format, err)
		return
	}
	ctx := context.WithValue(r.Context(), principalKey{}, p)
	ctx = gridline.WithActor(ctx, p.Actor(clientAddress(r), w.Header().Get("X-Request-Id")))
	if err := s.knownService(ctx, rep.ServiceCode); err != nil {
		s.open311Error(w, r, format, err)
		return
	}
	id, err := s.open311.Cases.File(ctx, p, rep)
	if err != nil {
		s.open311Error(w, r, format, err)
		return
	}
	var account *string
	if rep.AccountID != "" {
		account = &rep.AccountID
	}
	s.open311WriteStatus(w, format, http.StatusCreated, []open311.Created{{ServiceRequestID: id, AccountID: account}})
}

// open311Requests answers GET requests, requests/{id} and tokens/{token}: Open311 shows the cases
// the public reported (sources open311 and public), never staff's own reports.
func (s *Server) open311Requests(w http.ResponseWriter, r *http.Request, format open311.Format, q open311.Query, one string) {
	q.Sources = open311.PublicSources
	cases, err := s.open311.Cases.Find(r.Context(), q)
	if err != nil {
		s.open311Error(w, r, format, err)
		return
	}
	if one != "" && len(cases) == 0 {
		what := "service_request_id"
		if one == "tokens" {
			what = "token"
		}
		s.open311Error(w, r, format, &open311.Errors{Status: 404, List: []open311.Error{{Code: 404, Description: what + " " + strconvQuote(q.IDs[0]) + " was not found"}}})
		return
	}
	if one == "tokens" {
		s.open311Write(w, format, []open311.TokenAnswer{{ServiceRequestID: cases[0].ID, Token: q.IDs[0]}})
		return
	}
	out := make([]open311.Request, len(cases))
	for i, c := range cases {
		out[i] = open311.RequestOf(c)
	}
	s.open311Write(w, format, out)
}

func (s *Server) open311Write(w http.ResponseWriter, format open311.Format, v any) {
	s.open311WriteStatus(w, format, http.StatusOK, v)
}

func (s *Server) open311WriteStatus(w http.ResponseWriter, format open311.Format, status int, v any) {
	w.Header().Set("Content-Type", format.ContentType())
	w.WriteHeader(status)
	w.Write(open311.Encode(format, v))
}

// open311Error writes err in Open311's error format; internal errors are logged, not shown.
func (s *Server) open311Error(w http.ResponseWriter, r *http.Request, format open311.Format, err error) {
	e := open311.ErrorsOf(err)
	if e.Status >= 500 && e.Status != http.StatusServiceUnavailable {
		s.log.Error("open311 request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	s.open311WriteStatus(w, format, e.Status, e)
}
