package api

import (
	"net/http"
	"strconv"
	"strings"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/store"

	"github.com/gorilla/mux"
)

// routeConsole serves what the dispatcher's console and the grid worker's phone page need beyond
// the case endpoints (issue #16): the due times of many cases at once.
func (s *Server) routeConsole(r *mux.Router) {
	r.Handle("/v1/cases/deadlines", s.need(accounts.CasesRead, "reading cases' due times", s.caseDeadlines)).Methods(http.MethodGet)
}

// maxDeadlineIDs bounds GET /v1/cases/deadlines: as many as GET /v1/cases lists at most.
const maxDeadlineIDs = 1000

// caseDeadlines is GET /v1/cases/deadlines?ids=1,2,3: for each case the caller may read, the
// earliest warn_at and due_at of its open steps.
func (s *Server) caseDeadlines(w http.ResponseWriter, r *http.Request) {
	var ids []int64
	for _, v := range r.URL.Query()["ids"] {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x == "" {
				continue
			}
			id, err := strconv.ParseInt(x, 10, 64)
			if err != nil || id <= 0 {
				s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "ids: %q is not a case id; send ids=1,2,3", gridline.Excerpt(x)).With("field", "ids"))
				return
			}
			ids = append(ids, id)
		}
	}
	if len(ids) > maxDeadlineIDs {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "ids: %d cases asked; at most %d at a time", len(ids), maxDeadlineIDs).With("field", "ids"))
		return
	}
	p := principalFrom(r)
	f := store.CaseFilter{DeptScope: []string{}}
	f.Everywhere, f.Roots = p.Reach(accounts.CasesRead)
	if f.Roots == nil {
		f.Roots = []int64{}
	}
	for _, g := range p.Grants {
		if g.Scope.Kind == accounts.ScopeDepartment && p.CanDepartment(accounts.CasesRead, g.Scope.Department) {
			f.DeptScope = append(f.DeptScope, g.Scope.Department)
		}
	}
	d, err := s.db.CaseDeadlines(r.Context(), f, ids)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make(map[string]store.CaseDeadline, len(d))
	for id, x := range d {
		out[strconv.FormatInt(id, 10)] = x
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": s.clock.Now(), "deadlines": out})
}
