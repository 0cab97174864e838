package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/store"
)

// Incident cases (issue #15): intake, the case list, one case with its life, transitions,
// attachments, and the catalogue, departments and responsibility list. The logic is package
// dispatch's; this file reads requests and writes answers.

func (s *Server) routeCases(r *mux.Router) {
	if s.cases == nil {
		return
	}
	r.HandleFunc("/v1/cases", s.postCase).Methods(http.MethodPost)
	r.Handle("/v1/cases", s.need(accounts.CasesRead, "listing cases", s.listCases)).Methods(http.MethodGet)
	r.Handle("/v1/cases/{id:[0-9]+}", s.need(accounts.CasesRead, "reading a case", s.getCase)).Methods(http.MethodGet)
	r.HandleFunc("/v1/cases/{id:[0-9]+}/events", s.postCaseEvent).Methods(http.MethodPost)
	r.Handle("/v1/cases/{id:[0-9]+}/attachments/{aid:[0-9]+}", s.need(accounts.CasesRead, "reading a case's photo", s.getCaseAttachment)).Methods(http.MethodGet)
	r.HandleFunc("/v1/case-categories", s.listCategories).Methods(http.MethodGet)
	r.Handle("/v1/case-categories/import", s.need(accounts.CasesSupervise, "importing the catalogue", s.importCaseList("categories"))).Methods(http.MethodPost)
	r.Handle("/v1/case-categories/{code}", s.need(accounts.CasesSupervise, "changing the catalogue", s.putCategory)).Methods(http.MethodPut)
	r.HandleFunc("/v1/departments", s.listDepartments).Methods(http.MethodGet)
	r.Handle("/v1/departments/import", s.need(accounts.CasesSupervise, "importing the department list", s.importCaseList("departments"))).Methods(http.MethodPost)
	r.Handle("/v1/departments/{code}", s.need(accounts.CasesSupervise, "changing the department list", s.putDepartment)).Methods(http.MethodPut)
	r.Handle("/v1/responsibility-rules", s.need(accounts.CasesRead, "reading the responsibility list", s.listRules)).Methods(http.MethodGet)
	r.Handle("/v1/responsibility-rules", s.need(accounts.CasesSupervise, "changing the responsibility list", s.saveRule)).Methods(http.MethodPost)
	r.Handle("/v1/responsibility-rules/import", s.need(accounts.CasesSupervise, "importing the responsibility list", s.importCaseList("rules"))).Methods(http.MethodPost)
	r.Handle("/v1/responsibility-rules/{id:[0-9]+}", s.need(accounts.CasesSupervise, "changing the responsibility list", s.saveRule)).Methods(http.MethodPut)
	r.Handle("/v1/responsibility-rules/{id:[0-9]+}", s.need(accounts.CasesSupervise, "changing the responsibility list", s.deleteRule)).Methods(http.MethodDelete)
}

// maxCaseBody bounds a case or event request: the photos and a little JSON.
func (s *Server) maxCaseBody() int64 {
	return int64(dispatch.MaxAttachments*s.cases.MaxAttachment()) + 1<<20
}

// caseRequest is POST /v1/cases as JSON (or the "case" part of a multipart form).
type caseRequest struct {
	dispatch.Report
	CRS string `json:"crs"`
	// The point, when sent (these hide Report's own lon and lat): absent, the case is placed by
	// its address (api/caseplace.go).
	Lon *float64 `json:"lon"`
	Lat *float64 `json:"lat"`
}

// readCaseBody reads a JSON body, or a multipart form whose field "case" (or "event") is the JSON
// and whose files photo_before / photo_after / photo are the photos.
func (s *Server) readCaseBody(w http.ResponseWriter, r *http.Request, field string, v any) ([]dispatch.Photo, error) {
	limit := s.maxCaseBody()
	body, err := s.body(w, r, "a case request", limit)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		dec := json.NewDecoder(io.LimitReader(body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return nil, gridline.Errorf(gridline.EInvalid, "the body must be a JSON object with the fields docs/api.md lists (or a multipart form with the JSON in the field %q and the photos as files): %v", field, err)
		}
		return nil, nil
	}
	mr := multipart.NewReader(body, params["boundary"])
	var photos []dispatch.Photo
	seenJSON := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if gridline.ErrorCode(err) != gridline.EInternal {
				return nil, err
			}
			return nil, gridline.Errorf(gridline.EInvalid, "the multipart form cannot be read: %v", err)
		}
		name := part.FormName()
		switch {
		case name == field:
			dec := json.NewDecoder(io.LimitReader(part, 1<<20))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				return nil, gridline.Errorf(gridline.EInvalid, "the form field %q must be a JSON object with the fields docs/api.md lists: %v", field, err).With("field", field)
			}
			seenJSON = true
		case name == "photo" || name == "photo_before" || name == "photo_after":
			if len(photos) == dispatch.MaxAttachments {
				return nil, gridline.Errorf(gridline.EInvalid, "a request carries at most %d photos", dispatch.MaxAttachments).With("field", "photos")
			}
			max := s.cases.MaxAttachment()
			b, err := io.ReadAll(io.LimitReader(part, int64(max)+1))
			if err != nil {
				return nil, err
			}
			if len(b) > max {
				return nil, gridline.Errorf(gridline.ETooLarge, "photo %s is over the limit of %d bytes; send a smaller image", gridline.Excerpt(part.FileName()), max).With("field", name).With("limit", max)
			}
			kind := strings.TrimPrefix(strings.TrimPrefix(name, "photo"), "_")
			photos = append(photos, dispatch.Photo{Name: part.FileName(), Kind: kind, Bytes: b})
		default:
			return nil, gridline.Errorf(gridline.EInvalid, "the form field %q is not %s, photo, photo_before or photo_after", gridline.Excerpt(name), field).With("field", name)
		}
	}
	if !seenJSON {
		return nil, gridline.Errorf(gridline.EInvalid, "the multipart form has no field %q with the JSON", field).With("field", field)
	}
	return photos, nil
}

// postCase is POST /v1/cases: route and record a report.
func (s *Server) postCase(w http.ResponseWriter, r *http.Request) {
	if err := s.allowed(r, accounts.CasesReport, "reporting a case"); err != nil && !principalFrom(r).CanSomewhere(accounts.CasesDispatch) {
		s.writeError(w, r, err)
		return
	}
	var req caseRequest
	photos, err := s.readCaseBody(w, r, "case", &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep := req.Report
	rep.Photos = photos
	if err := s.casePlace(r, &req, &rep); err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := s.cases.Report(r.Context(), principalFrom(r), rep)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/cases/"+strconv.FormatInt(in.Case.ID, 10))
	writeJSON(w, http.StatusCreated, in)
}

func pathID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(mux.Vars(r)[name], 10, 64)
	return id
}

// getCase is GET /v1/cases/{id}: the case with its events, steps (due times and lights),
// routing provenance and attachments.
func (s *Server) getCase(w http.ResponseWriter, r *http.Request) {
	c, err := s.cases.Case(r.Context(), principalFrom(r), pathID(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// eventRequest is POST /v1/cases/{id}/events.
type eventRequest = dispatch.Request

// postCaseEvent is POST /v1/cases/{id}/events: one transition.
func (s *Server) postCaseEvent(w http.ResponseWriter, r *http.Request) {
	if principalFrom(r) == nil {
		s.writeError(w, r, gridline.Errorf(gridline.EUnauthorized, "a case's transitions need you to sign in or an API token"))
		return
	}
	var req eventRequest
	photos, err := s.readCaseBody(w, r, "event", &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Photos = photos
	c, err := s.cases.Transition(r.Context(), principalFrom(r), pathID(r, "id"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// getCaseAttachment is GET /v1/cases/{id}/attachments/{aid}: the photo's bytes.
func (s *Server) getCaseAttachment(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	if _, err := s.cases.Case(r.Context(), principalFrom(r), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.db.CaseAttachment(r.Context(), id, pathID(r, "aid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(a.Bytes)))
	h.Set("ETag", `"`+a.SHA256+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.Write(a.Bytes)
}

// listCases is GET /v1/cases?state=&light=&grid=&department=&category=&from=&to=&limit=&after=.
func (s *Server) listCases(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	q := r.URL.Query()
	f := store.CaseFilter{Now: s.clock.Now(), Category: q.Get("category"), Department: q.Get("department")}
	f.Everywhere, f.Roots = p.Reach(accounts.CasesRead)
	if f.Roots == nil {
		f.Roots = []int64{}
	}
	f.DeptScope = []string{}
	for _, g := range p.Grants {
		if g.Scope.Kind == accounts.ScopeDepartment && p.CanDepartment(accounts.CasesRead, g.Scope.Department) {
			f.DeptScope = append(f.DeptScope, g.Scope.Department)
		}
	}
	for _, st := range q["state"] {
		for _, x := range strings.Split(st, ",") {
			if !dispatch.State(x).Valid() {
				s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "state %q is not a case state", gridline.Excerpt(x)).With("field", "state"))
				return
			}
			f.States = append(f.States, x)
		}
	}
	switch l := q.Get("light"); l {
	case "", "green", "yellow", "red":
		f.Light = l
	default:
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "light %q is not green, yellow or red", gridline.Excerpt(l)).With("field", "light"))
		return
	}
	for _, n := range []struct {
		name string
		to   *int64
	}{{"grid", &f.Grid}, {"after", &f.AfterID}} {
		if v := q.Get(n.name); v != "" {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil || x <= 0 {
				s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "%s %q is not an id", n.name, gridline.Excerpt(v)).With("field", n.name))
				return
			}
			*n.to = x
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "limit %q is not 1..1000", gridline.Excerpt(v)).With("field", "limit"))
			return
		}
		f.Limit = n
	}
	for _, t := range []struct {
		name string
		to   **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(t.name); v != "" {
			x, err := time.Parse(time.RFC3339, v)
			if err != nil {
				d, derr := gridline.ParseDate(t.name, v)
				if derr != nil {
					s.writeError(w, r, gridline.Errorf(gridline.EInvalidDate, "%s %q is not a date (YYYY-MM-DD) or an RFC 3339 time", t.name, gridline.Excerpt(v)).With("field", t.name))
					return
				}
				x = d
			}
			*t.to = &x
		}
	}
	list, err := s.db.Cases(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"cases": list}
	lim := f.Limit
	if lim == 0 {
		lim = 100
	}
	if len(list) == lim {
		out["next"] = "after=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) {
	list, err := s.db.Categories(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []dispatch.Category{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": list})
}

func (s *Server) listDepartments(w http.ResponseWriter, r *http.Request) {
	list, err := s.db.Departments(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []dispatch.Department{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"departments": list})
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	list, err := s.db.Rules(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []dispatch.Rule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": list})
}

// putCategory is PUT /v1/case-categories/{code}: add or change one entry.
func (s *Server) putCategory(w http.ResponseWriter, r *http.Request) {
	c := dispatch.Category{Active: true, PatrolFindable: true}
	if err := decodeBody(r, &c); err != nil {
		s.writeError(w, r, err)
		return
	}
	c.Code = mux.Vars(r)["code"]
	t, err := s.cases.Table(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := dispatch.CheckCategory(&c, func(code string) bool { return t.Category(code) != nil }); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, _, err := s.db.SaveCategories(r.Context(), []dispatch.Category{c}, "case_category.save"); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cases.Invalidate()
	writeJSON(w, http.StatusOK, c)
}

// putDepartment is PUT /v1/departments/{code}: add or change one department.
func (s *Server) putDepartment(w http.ResponseWriter, r *http.Request) {
	d := dispatch.Department{Active: true}
	if err := decodeBody(r, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	d.Code = mux.Vars(r)["code"]
	if err := dispatch.CheckDepartment(&d); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, _, err := s.db.SaveDepartments(r.Context(), []dispatch.Department{d}, "department.save"); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cases.Invalidate()
	writeJSON(w, http.StatusOK, d)
}

// saveRule is POST /v1/responsibility-rules (add) and PUT /v1/responsibility-rules/{id}.
func (s *Server) saveRule(w http.ResponseWriter, r *http.Request) {
	rule := dispatch.Rule{Active: true}
	if err := decodeBody(r, &rule); err != nil {
		s.writeError(w, r, err)
		return
	}
	rule.ID = pathID(r, "id")
	t, err := s.cases.Table(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := dispatch.CheckRule(&rule, t); err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if rule.ID == 0 {
		status = http.StatusCreated
	}
	if err := s.db.SaveRule(r.Context(), &rule); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cases.Invalidate()
	writeJSON(w, status, rule)
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request) {
	if err := s.db.DeleteRule(r.Context(), pathID(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cases.Invalidate()
	w.WriteHeader(http.StatusNoContent)
}

// importCaseList is POST /v1/{case-categories,departments,responsibility-rules}/import: a CSV
// body, or a multipart form with the file (CSV or XLSX) in field "file"; ?encoding=gbk for a GBK
// CSV. All or nothing: 200 with the report, or 422 with every problem and its line.
func (s *Server) importCaseList(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := s.body(w, r, "a case list", 64<<20)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer body.Close()
		var data []byte
		ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "multipart/form-data" {
			data, err = s.caseListFile(r, multipart.NewReader(body, params["boundary"]))
		} else {
			data, err = io.ReadAll(body)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		rep, err := importers.ImportCaseList(r.Context(), s.db, what, data, r.URL.Query().Get("encoding"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.cases.Invalidate()
		if len(rep.Problems) > 0 {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": gridline.Errorf(gridline.ERule,
				"the %s has %d problems (first: %s): nothing was written; fix the lines and send it again", what, len(rep.Problems), rep.Problems[0]), "report": rep})
			return
		}
		writeJSON(w, http.StatusOK, rep)
	}
}

// caseListFile reads the form's file: CSV as it is, XLSX through importers (internal/xlsx) from a temporary file.
func (s *Server) caseListFile(r *http.Request, mr *multipart.Reader) ([]byte, error) {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, gridline.Errorf(gridline.EInvalid, "the form has no field \"file\" with the list").With("field", "file")
		}
		if err != nil {
			return nil, gridline.Errorf(gridline.EInvalid, "the multipart form cannot be read: %v", err)
		}
		if part.FormName() != "file" {
			continue
		}
		name := part.FileName()
		if !strings.EqualFold(filepath.Ext(name), ".xlsx") {
			var b bytes.Buffer
			_, err := io.Copy(&b, part)
			return b.Bytes(), err
		}
		f, err := os.CreateTemp("", "gridline-caselist-*.xlsx")
		if err != nil {
			return nil, err
		}
		defer os.Remove(f.Name())
		if _, err := io.Copy(f, part); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return s.imports.CaseListData(r.Context(), f.Name(), name)
	}
}
