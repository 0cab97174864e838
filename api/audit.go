package api

import (
	"net/http"
	"strconv"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/store"
)

// getAudit is GET /v1/audit?username=&action=&target_kind=&target=&since=&until=&limit=&before=:
// the audit log, newest first. An administrator sees every row; a supervisor the rows that
// concern grids of their scope (a grid changed there, or a grant on one).
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AuditFilter{Username: q.Get("username"), Action: q.Get("action"), TargetKind: q.Get("target_kind")}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"target", &f.TargetID}, {"before", &f.Before}} {
		if v := q.Get(p.name); v != "" {
			if *p.dst, err = strconv.ParseInt(v, 10, 64); err != nil || *p.dst <= 0 {
				s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "%s %q must be a positive id", p.name, v).With("field", p.name))
				return
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit <= 0 || f.Limit > 1000 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "limit %q must be a number from 1 to 1000", v).With("field", "limit"))
			return
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			if *p.dst, err = time.Parse(time.RFC3339, v); err != nil {
				if *p.dst, err = gridline.ParseDate(p.name, v); err != nil {
					s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "%s %q must be a date (YYYY-MM-DD) or a time (RFC 3339, 2026-01-02T15:04:05+08:00)", p.name, v).With("field", p.name))
					return
				}
				*p.dst = time.Date(p.dst.Year(), p.dst.Month(), p.dst.Day(), 0, 0, 0, 0, s.resolver.Today().Location())
			}
		}
	}
	f.Everywhere, f.Within = principalFrom(r).Reach(accounts.AuditRead)
	rows, err := s.db.Audit(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": rows})
}
