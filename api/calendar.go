package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/worktime"
)

// routeCalendar is the working calendar and the time limits of the case loop: anyone reads the
// calendar, a signed-in caller with cases.read reads the limits, and a caller with
// cases.supervise on the whole district (a district supervisor, an administrator) changes them.
func (s *Server) routeCalendar(r *mux.Router) {
	r.HandleFunc("/v1/calendar/days", s.getCalendarDays).Methods(http.MethodGet)
	r.Handle("/v1/calendar/days", s.need(accounts.CasesSupervise, "changing the working calendar", s.putCalendarDays)).Methods(http.MethodPut)
	r.HandleFunc("/v1/calendar/hours", s.getWorkingHours).Methods(http.MethodGet)
	r.Handle("/v1/calendar/hours", s.need(accounts.CasesSupervise, "changing the working hours", s.putWorkingHours)).Methods(http.MethodPut)
	r.Handle("/v1/time-limits", s.need(accounts.CasesRead, "reading the time limits", s.getTimeLimits)).Methods(http.MethodGet)
	r.Handle("/v1/time-limits", s.need(accounts.CasesSupervise, "importing time limits", s.importTimeLimits)).Methods(http.MethodPost, http.MethodPut)
}

// districtWide refuses a change to district-wide settings by a caller whose grant of perm does not
// cover the whole district.
func districtWide(r *http.Request, perm accounts.Permission, what string) error {
	if every, _ := principalFrom(r).Reach(perm); !every {
		return gridline.Errorf(gridline.EForbidden, "%s needs %s on the whole district (a district supervisor or an administrator); your grants hold it only on some grids", what, perm)
	}
	return nil
}

// worktimeChanged reloads this server's calendar and limits at once (the other servers do within
// their refresh interval) and, when the calendar or the hours changed, recomputes the deadlines of
// the open steps on it; it says how many moved.
func (s *Server) worktimeChanged(ctx context.Context, calendar bool) int {
	if s.worktime == nil {
		return 0
	}
	if err := s.worktime.Refresh(ctx); err != nil {
		s.log.Warn("working calendar refresh", "err", err)
		return 0
	}
	if !calendar {
		return 0
	}
	n, err := s.worktime.Recompute(ctx, s.db)
	if err != nil {
		s.log.Warn("recomputing the open steps' deadlines", "err", err, "moved", n)
	}
	return n
}

// getCalendarDays is GET /v1/calendar/days?year=YYYY (default this year): the calendar's rows of
// the year, official and local patches, each working day of the year that the calendar counts
// differently from its weekday, and the calendar's warnings.
func (s *Server) getCalendarDays(w http.ResponseWriter, r *http.Request) {
	loc := s.resolver.Today().Location()
	year := s.clock.Now().In(loc).Year()
	if v := r.URL.Query().Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 1900 || y > 2200 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "year %q must be a year like 2026", gridline.Excerpt(v)).With("field", "year"))
			return
		}
		year = y
	}
	days, err := s.db.CalendarYear(r.Context(), year)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if days == nil {
		days = []worktime.Day{}
	}
	body := map[string]any{"year": year, "days": days, "warnings": []string{}}
	if s.worktime != nil {
		if ws := s.worktime.Warnings(); ws != nil {
			body["warnings"] = ws
		}
		official := false
		for _, d := range days {
			official = official || d.Source != worktime.PatchSource
		}
		body["official_data"] = official
	}
	writeJSON(w, http.StatusOK, body)
}

// putCalendarDays is PUT /v1/calendar/days {"days": [{"date","kind","name"}], "remove": [date]}:
// sets local patches (each wins over the official row of its day) and removes patches, in one
// transaction, audited.
func (s *Server) putCalendarDays(w http.ResponseWriter, r *http.Request) {
	if err := districtWide(r, accounts.CasesSupervise, "changing the working calendar"); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Days []struct {
			Date string           `json:"date"`
			Kind worktime.DayKind `json:"kind"`
			Name string           `json:"name"`
		} `json:"days"`
		Remove []string `json:"remove"`
	}
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(in.Days) == 0 && len(in.Remove) == 0 {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "nothing to change: give days to patch and/or dates to remove"))
		return
	}
	seen := map[string]bool{}
	var days []worktime.Day
	for i, d := range in.Days {
		if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalidDate, "days[%d]: date %q is not a date; write YYYY-MM-DD", i, gridline.Excerpt(d.Date)).With("field", "date").With("index", i))
			return
		}
		if d.Kind != worktime.Holiday && d.Kind != worktime.MakeupWorkday {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "days[%d]: kind %q must be holiday (a day off) or makeup_workday (a working day)", i, gridline.Excerpt(string(d.Kind))).With("field", "kind").With("index", i))
			return
		}
		if d.Name == "" {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "days[%d]: give a name, the reason of the patch (typhoon, local holiday ...)", i).With("field", "name").With("index", i))
			return
		}
		if seen[d.Date] {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "days[%d]: %s is listed twice", i, d.Date).With("field", "date").With("index", i))
			return
		}
		seen[d.Date] = true
		days = append(days, worktime.Day{Date: d.Date, Kind: d.Kind, Name: d.Name, Source: worktime.PatchSource})
	}
	for i, d := range in.Remove {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalidDate, "remove[%d]: %q is not a date; write YYYY-MM-DD", i, gridline.Excerpt(d)).With("field", "remove").With("index", i))
			return
		}
		if seen[d] {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "remove[%d]: %s is both patched and removed; choose one", i, d).With("field", "remove").With("index", i))
			return
		}
	}
	if err := s.db.PatchCalendar(r.Context(), days, in.Remove); err != nil {
		s.writeError(w, r, err)
		return
	}
	moved := s.worktimeChanged(r.Context(), true)
	writeJSON(w, http.StatusOK, map[string]any{"patched": len(days), "removed": len(in.Remove), "deadlines_moved": moved})
}

// getWorkingHours is GET /v1/calendar/hours.
func (s *Server) getWorkingHours(w http.ResponseWriter, r *http.Request) {
	hs, err := s.db.WorkingHours(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"hours": hs, "time_zone": s.resolver.Today().Location().String()})
}

// putWorkingHours is PUT /v1/calendar/hours {"hours": [{"from": "MM-DD", "spans": ["09:00-12:00", ...]}]}.
func (s *Server) putWorkingHours(w http.ResponseWriter, r *http.Request) {
	if err := districtWide(r, accounts.CasesSupervise, "changing the working hours"); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Hours []worktime.Schedule `json:"hours"`
	}
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.db.SetWorkingHours(r.Context(), in.Hours); err != nil {
		s.writeError(w, r, err)
		return
	}
	moved := s.worktimeChanged(r.Context(), true)
	writeJSON(w, http.StatusOK, map[string]any{"hours": in.Hours, "deadlines_moved": moved})
}

// getTimeLimits is GET /v1/time-limits: every rule, as JSON or (Accept: text/csv, ?format=csv)
// as the CSV file an import takes.
func (s *Server) getTimeLimits(w http.ResponseWriter, r *http.Request) {
	rs, err := s.db.TimeLimits(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rs == nil {
		rs = worktime.Rules{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rs})
}

// importTimeLimits is POST /v1/time-limits with a CSV body (worktime.LimitsHeader): it replaces
// every rule, all or nothing; an error names its line.
func (s *Server) importTimeLimits(w http.ResponseWriter, r *http.Request) {
	if err := districtWide(r, accounts.CasesSupervise, "importing time limits"); err != nil {
		s.writeError(w, r, err)
		return
	}
	rs, err := worktime.ParseLimitsCSV(http.MaxBytesReader(w, r.Body, 4<<20))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(rs) == 0 {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "time limits: the file has a header and no rule; every step would go without a deadline"))
		return
	}
	if err := s.db.ReplaceTimeLimits(r.Context(), rs); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.worktimeChanged(r.Context(), false)
	writeJSON(w, http.StatusOK, map[string]any{"rules": len(rs)})
}
