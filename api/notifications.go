package api

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/store"
)

// routeNotifications is the signed-in caller's notifications: the escalations of late steps they
// handle, or of posts they hold above them, or that they supervise.
func (s *Server) routeNotifications(r *mux.Router) {
	r.HandleFunc("/v1/notifications", s.listNotifications).Methods(http.MethodGet)
	r.HandleFunc("/v1/notifications/read", s.readNotifications).Methods(http.MethodPost)
	r.HandleFunc("/v1/notifications/{id}/read", s.readNotifications).Methods(http.MethodPost)
	r.Handle("/v1/escalation-ladder", s.need(accounts.CasesRead, "reading the escalation ladder", s.getLadder)).Methods(http.MethodGet)
	r.Handle("/v1/escalation-ladder", s.need(accounts.CasesSupervise, "changing the escalation ladder", s.putLadder)).Methods(http.MethodPut)
}

// getLadder is GET /v1/escalation-ladder: the rungs, in order.
func (s *Server) getLadder(w http.ResponseWriter, r *http.Request) {
	rungs, err := s.db.EscalationLadder(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rungs == nil {
		rungs = []store.Rung{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rungs": rungs})
}

// putLadder is PUT /v1/escalation-ladder {"rungs": [{"light","overdue_minutes","target","action"}]}:
// replaces the ladder (rungs numbered in order), audited. Steps keep the level they reached.
func (s *Server) putLadder(w http.ResponseWriter, r *http.Request) {
	if err := districtWide(r, accounts.CasesSupervise, "changing the escalation ladder"); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Rungs []store.Rung `json:"rungs"`
	}
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.db.SetEscalationLadder(r.Context(), in.Rungs); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rungs": in.Rungs})
}

// notificationsOf are the caller's notifications: their person's, and those of the departments
// they handle for.
func notificationsOf(r *http.Request) (store.NotificationFilter, error) {
	p := principalFrom(r)
	if p == nil {
		return store.NotificationFilter{}, gridline.Errorf(gridline.EUnauthorized, "notifications are a signed-in person's: sign in (POST /v1/session) or send an API token")
	}
	f := store.NotificationFilter{PersonID: p.PersonID, Departments: []string{}}
	for _, g := range p.Grants {
		if g.Role == accounts.DepartmentHandler && g.Scope.Kind == accounts.ScopeDepartment {
			f.Departments = append(f.Departments, g.Scope.Department)
		}
	}
	return f, nil
}

// listNotifications is GET /v1/notifications?unread=true&before=ID&limit=N: the caller's
// notifications, newest first.
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	f, err := notificationsOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	switch v := q.Get("unread"); v {
	case "", "false":
	case "true":
		f.Unread = true
	default:
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "unread %q must be true or false", gridline.Excerpt(v)).With("field", "unread"))
		return
	}
	if v := q.Get("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before <= 0 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "before %q must be a notification id", gridline.Excerpt(v)).With("field", "before"))
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit <= 0 || f.Limit > 1000 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "limit %q must be a number from 1 to 1000", gridline.Excerpt(v)).With("field", "limit"))
			return
		}
	}
	ns, err := s.db.Notifications(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ns == nil {
		ns = []store.Notification{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": ns})
}

// readNotifications is POST /v1/notifications/{id}/read (one), or POST /v1/notifications/read
// with {"ids": [...]} (those) or no body or {} (all the caller's unread ones).
func (s *Server) readNotifications(w http.ResponseWriter, r *http.Request) {
	f, err := notificationsOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var ids []int64
	if v, ok := mux.Vars(r)["id"]; ok {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "no notification %q: ids are positive numbers", gridline.Excerpt(v)))
			return
		}
		ids = []int64{id}
	} else if r.ContentLength != 0 {
		var in struct {
			IDs []int64 `json:"ids"`
		}
		if err := decodeBody(r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		ids = in.IDs
	}
	n, err := s.db.MarkNotificationsRead(r.Context(), f, ids, s.clock.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"marked": n})
}
