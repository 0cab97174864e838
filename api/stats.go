package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/stats"
)

// The figures districts are judged by (统计考核, issue #16): GET /v1/stats (JSON or CSV), the
// monthly brief's data (GET /v1/stats/brief) and the points rule table. Package stats defines the
// figures; store/stats.go counts them.

func (s *Server) routeStats(r *mux.Router) {
	if s.stats == nil {
		return
	}
	r.Handle("/v1/stats", s.need(accounts.CasesRead, "reading statistics", s.getStats)).Methods(http.MethodGet)
	r.Handle("/v1/stats/brief", s.need(accounts.CasesRead, "reading the monthly brief", s.getStatsBrief)).Methods(http.MethodGet)
	r.Handle("/v1/stats/points-rules", s.need(accounts.CasesRead, "reading the points rules", s.getPointsRules)).Methods(http.MethodGet)
	r.Handle("/v1/stats/points-rules", s.need(accounts.CasesSupervise, "changing the points rules", s.putPointsRules)).Methods(http.MethodPut)
}

// statsQuery reads the parameters every statistics request shares: scope, period, and the
// caller's reach (the cases it may read, as GET /v1/cases).
func (s *Server) statsQuery(r *http.Request, needPeriod bool) (stats.Query, error) {
	q := stats.Query{Loc: s.stats.Location()}
	v := r.URL.Query()
	for name := range v {
		switch name {
		case "group", "scope", "from", "to", "month", "bucket", "format", "min_cases":
		default:
			return q, gridline.Errorf(gridline.EInvalid, "parameter %q is not one of group, scope, from, to, month, bucket, format, min_cases", gridline.Excerpt(name)).With("field", name)
		}
	}
	var err error
	month := v.Get("month")
	if !needPeriod && month == "" && v.Get("from") == "" && v.Get("to") == "" {
		// the brief defaults to the last whole month
		now := s.clock.Now().In(q.Loc)
		month = time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, q.Loc).Format("2006-01")
	}
	if q.From, q.To, err = stats.ParsePeriod(v.Get("from"), v.Get("to"), month, q.Loc); err != nil {
		return q, err
	}
	p := principalFrom(r)
	q.Access.Everywhere, q.Access.Roots = p.Reach(accounts.CasesRead)
	for _, g := range p.Grants {
		if g.Scope.Kind == accounts.ScopeDepartment && p.CanDepartment(accounts.CasesRead, g.Scope.Department) {
			q.Access.DeptScope = append(q.Access.DeptScope, g.Scope.Department)
		}
	}
	if ref := v.Get("scope"); ref != "" {
		g, err := s.db.Grid(r.Context(), ref, q.To)
		if err != nil {
			if gridline.ErrorCode(err) == gridline.ENotFound {
				return q, gridline.Errorf(gridline.EInvalid, "scope %q is not the code or id of a grid valid on %s", gridline.Excerpt(ref), gridline.Date(q.To)).With("field", "scope")
			}
			return q, err
		}
		q.Scope = stats.Scope{ID: g.ID, Code: g.Code, Name: g.Name, Level: string(g.Level)}
	} else {
		ds, err := s.db.StatsDistricts(r.Context(), q.To)
		if err != nil {
			return q, err
		}
		q.Scope = stats.Scope{Code: "", Name: "all", Level: "all"}
		if len(ds) == 1 {
			q.Scope = ds[0]
		}
	}
	return q, nil
}

// wantsCSV: format=csv, or an Accept header that asks for text/csv.
func wantsCSV(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f == "csv"
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true
		}
	}
	return false
}

// getStats is GET /v1/stats?group=&scope=&month=|from=&to=&bucket=&format=.
func (s *Server) getStats(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if f := v.Get("format"); f != "" && f != "csv" && f != "json" {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "format %q is not json or csv", gridline.Excerpt(f)).With("field", "format"))
		return
	}
	q, err := s.statsQuery(r, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Group, err = stats.ParseGroup(v.Get("group"), stats.GroupGrid); err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Bucket, err = stats.ParseBucket(v.Get("bucket")); err != nil {
		s.writeError(w, r, err)
		return
	}
	ans, err := s.stats.Figures(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if wantsCSV(r) {
		writeStatsCSV(w, ans)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// writeStatsCSV writes the rows (and the total, key "total", last) as CSV: UTF-8 with a BOM so that
// Excel reads the Chinese names, the header the JSON field names, avg_step_hours flattened.
func writeStatsCSV(w http.ResponseWriter, ans *stats.Answer) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	head := []string{"key", "name", "level", "grid_id", "bucket"}
	head = append(head, stats.CountNames...)
	head = append(head, "on_time_close_rate", "close_rate", "rework_rate", "accurate_dispatch_rate", "valid_report_rate", "missed_report_rate")
	for _, st := range stats.Steps {
		head = append(head, "avg_step_hours."+st)
	}
	for _, st := range stats.Steps {
		head = append(head, "avg_step_working_hours."+st)
	}
	head = append(head, "points")
	cw.Write(head)
	num := func(x *float64) string {
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	}
	line := func(row stats.Row) {
		rec := []string{row.Key, row.Name, row.Level, "", row.Bucket}
		if row.GridID != 0 {
			rec[3] = strconv.FormatInt(row.GridID, 10)
		}
		for _, n := range stats.CountNames {
			c, _ := row.Get(n)
			rec = append(rec, strconv.Itoa(c))
		}
		for _, x := range []*float64{row.OnTimeCloseRate, row.CloseRate, row.ReworkRate, row.AccurateDispatchRate, row.ValidReportRate, row.MissedReportRate} {
			rec = append(rec, num(x))
		}
		for _, m := range []map[string]float64{row.AvgStepHours, row.AvgStepWorkingHours} {
			for _, st := range stats.Steps {
				if x, ok := m[st]; ok {
					rec = append(rec, num(&x))
				} else {
					rec = append(rec, "")
				}
			}
		}
		rec = append(rec, strconv.FormatFloat(row.Points, 'f', -1, 64))
		cw.Write(rec)
	}
	for _, row := range ans.Rows {
		line(row)
	}
	line(ans.Total)
	cw.Flush()
	name := "stats-" + string(ans.Group) + "-" + ans.From + "-" + ans.To + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// getStatsBrief is GET /v1/stats/brief?scope=&month=&min_cases=: everything the monthly brief shows.
func (s *Server) getStatsBrief(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if v.Get("from") != "" || v.Get("to") != "" {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "the brief is of one month: give month=YYYY-MM, not from and to").With("field", "month"))
		return
	}
	for _, n := range []string{"group", "bucket", "format"} {
		if v.Get(n) != "" {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "the brief takes scope, month and min_cases, not %s", n).With("field", n))
			return
		}
	}
	minCases := 0
	if m := v.Get("min_cases"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "min_cases %q is not a number from 1 to 1000", gridline.Excerpt(m)).With("field", "min_cases"))
			return
		}
		minCases = n
	}
	q, err := s.statsQuery(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.stats.Brief(r.Context(), q, minCases)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// getPointsRules is GET /v1/stats/points-rules (JSON, or CSV with format=csv / Accept: text/csv).
func (s *Server) getPointsRules(w http.ResponseWriter, r *http.Request) {
	rules, err := s.db.PointsRules(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if wantsCSV(r) {
		var buf bytes.Buffer
		buf.WriteString("\ufeff")
		cw := csv.NewWriter(&buf)
		cw.Write([]string{"code", "name", "points"})
		for _, ru := range rules {
			cw.Write([]string{ru.Code, ru.Name, strconv.FormatFloat(ru.Points, 'f', -1, 64)})
		}
		cw.Flush()
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(buf.Bytes())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rules, "codes": stats.CountNames})
}

// putPointsRules is PUT /v1/stats/points-rules: the whole table, as a JSON array (or {"rules": [...]})
// or as CSV (code,name,points). District-wide cases.supervise; audited; all or nothing.
func (s *Server) putPointsRules(w http.ResponseWriter, r *http.Request) {
	if err := districtWide(r, accounts.CasesSupervise, "changing the points rules"); err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		s.writeError(w, r, gridline.Errorf(gridline.ETooLarge, "the points rules are at most 64 KiB"))
		return
	}
	var rules []stats.Rule
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "text/csv" {
		if rules, err = stats.ParseRulesCSV(bytes.NewReader(body)); err != nil {
			s.writeError(w, r, err)
			return
		}
	} else {
		trimmed := bytes.TrimSpace(body)
		var in struct {
			Rules []stats.Rule `json:"rules"`
		}
		var dec *json.Decoder
		if len(trimmed) > 0 && trimmed[0] == '{' {
			dec = json.NewDecoder(bytes.NewReader(trimmed))
			dec.DisallowUnknownFields()
			err = dec.Decode(&in)
			rules = in.Rules
		} else {
			dec = json.NewDecoder(bytes.NewReader(trimmed))
			dec.DisallowUnknownFields()
			err = dec.Decode(&rules)
		}
		if err != nil {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "the body must be a JSON array of rules [{\"code\":\"patrol_valid\",\"name\":\"有效上报\",\"points\":1}, ...] (or CSV code,name,points with Content-Type: text/csv): %v", err))
			return
		}
	}
	if rules == nil {
		rules = []stats.Rule{}
	}
	if err := s.db.SavePointsRules(r.Context(), rules); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rules})
}
