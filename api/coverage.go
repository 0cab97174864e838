package api

import (
	"bytes"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/coverage"
)

func (s *Server) routeCoverage(r *mux.Router) {
	r.HandleFunc("/v1/coverage", s.coverageAudit).Methods(http.MethodGet)
	r.HandleFunc("/v1/coverage/changes", s.coverageChanges).Methods(http.MethodGet)
}

// floatParam reads an optional non-negative number.
func floatParam(q url.Values, name string) (float64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, gridline.Errorf(gridline.EInvalid, "%s %q is not a finite non-negative number", name, v).With("field", name)
	}
	return f, nil
}

// coverageRequest reads the query of GET /v1/coverage.
func (s *Server) coverageRequest(q url.Values) (coverage.Request, error) {
	var req coverage.Request
	var err error
	if req.At, err = s.dateParam(q, "at"); err != nil {
		return req, err
	}
	req.Scope = q.Get("scope")
	if req.Rules, err = coverage.ParseRules(q.Get("rules")); err != nil {
		return req, err
	}
	if req.Layers, err = coverage.ParseLayers(q.Get("layers")); err != nil {
		return req, err
	}
	if req.Options.MinAreaM2, err = floatParam(q, "min_area"); err != nil {
		return req, err
	}
	if req.Options.SliverWidthM, err = floatParam(q, "sliver_width"); err != nil {
		return req, err
	}
	n, err := floatParam(q, "max_grids_per_person")
	req.Options.MaxGridsPerPerson = int(n)
	return req, err
}

// coverageAudit answers GET /v1/coverage: the audit of a scope on a date, as JSON (summary and a
// FeatureCollection of findings), GeoJSON or CSV (format=). A closed request cancels the audit.
func (s *Server) coverageAudit(w http.ResponseWriter, r *http.Request) {
	if s.coverage == nil {
		s.writeError(w, r, gridline.Errorf(gridline.EUnavailable, "coverage audits are not configured on this server"))
		return
	}
	q := r.URL.Query()
	req, err := s.coverageRequest(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	format := q.Get("format")
	switch format {
	case "", "json", "geojson", "csv":
	default:
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "format %q is not json, geojson or csv", format).With("field", "format"))
		return
	}
	rep, err := s.coverage.Audit(r.Context(), req)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client has gone
		}
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	ctype := "application/json"
	switch format {
	case "geojson":
		err, ctype = rep.WriteGeoJSON(&buf), "application/geo+json"
	case "csv":
		err, ctype = rep.WriteCSV(&buf), "text/csv; charset=utf-8"
	default:
		err = rep.WriteJSON(&buf)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// coverageChanges answers GET /v1/coverage/changes?from=&to=&scope=: the grids added, retired,
// reshaped (with the change of area) and edited between two dates, for the monthly review. to
// defaults to today; from is required.
func (s *Server) coverageChanges(w http.ResponseWriter, r *http.Request) {
	if s.coverage == nil {
		s.writeError(w, r, gridline.Errorf(gridline.EUnavailable, "coverage audits are not configured on this server"))
		return
	}
	q := r.URL.Query()
	if q.Get("from") == "" {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "from is required: the first date to compare, YYYY-MM-DD").With("field", "from"))
		return
	}
	from, err := gridline.ParseDate("from", q.Get("from"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	to, err := s.dateParam(q, "to")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ch, err := s.coverage.ChangesBetween(r.Context(), q.Get("scope"), from, to)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ch)
}
