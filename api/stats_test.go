package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/stats"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

type statsAPI struct {
	h                                 http.Handler
	supervisor, worker8, dept, viewer string
	dispatcher8                       string
}

// newStatsAPI serves storetest.StatsFixture (its figures are checked one by one in
// store/stats_test.go; here the API's shape, CSV, errors and scope).
func newStatsAPI(t *testing.T) *statsAPI {
	t.Helper()
	db := storetest.New(t)
	storetest.StatsFixture(t, db)
	res := resolve.NewIncremental(db, gridline.SystemClock{}, storetest.StatsLoc)
	clock := fakeclock.New(storetest.At("12-06 12:00"))
	svc := stats.New(db, nil, clock, storetest.StatsLoc)
	a := &statsAPI{h: wire(db, res, nil, Options{Stats: svc, Clock: clock}, tiles.Options{}, importers.Config{}).Handler()}
	a.supervisor = storetest.Token(t, db, "supervisor", storetest.Everywhere(accounts.Supervisor))
	a.worker8 = storetest.Token(t, db, "worker8", storetest.Under(accounts.GridWorker, 8))
	a.dispatcher8 = storetest.Token(t, db, "dispatcher8", storetest.Under(accounts.Dispatcher, 8), storetest.Under(accounts.Supervisor, 8))
	a.dept = storetest.Token(t, db, "cg", accounts.Grant{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "chengguan"}})
	a.viewer = storetest.Token(t, db, "viewer", storetest.Everywhere(accounts.Viewer))
	return a
}

func (a *statsAPI) do(t *testing.T, method, path, token, accept string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
		if method == http.MethodPut {
			r.Header.Set("Content-Type", accept)
		}
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

func (a *statsAPI) answer(t *testing.T, path, token string) stats.Answer {
	t.Helper()
	w := a.do(t, http.MethodGet, path, token, "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, w.Code, w.Body)
	}
	var ans stats.Answer
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	return ans
}

func TestStatsAPI(t *testing.T) {
	a := newStatsAPI(t)

	// JSON: the contract's shape.
	w := a.do(t, http.MethodGet, "/v1/stats?group=community&scope=410103001&month=2026-11", a.supervisor, "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var raw map[string]any
	json.Unmarshal(w.Body.Bytes(), &raw)
	for _, k := range []string{"scope", "group", "from", "to", "bucket", "rows", "total", "definitions"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("answer has no %s", k)
		}
	}
	if sc := raw["scope"].(map[string]any); sc["code"] != "410103001" || sc["level"] != "subdistrict" || raw["from"] != "2026-11-01" || raw["to"] != "2026-11-30" || raw["bucket"] != "none" {
		t.Errorf("scope/period: %v %v %v %v", sc, raw["from"], raw["to"], raw["bucket"])
	}
	rows := raw["rows"].([]any)
	if len(rows) != 2 { // the communities of subdistrict 410103001 with cases: 410103001001, 410103001002
		t.Fatalf("rows: %v", rows)
	}
	r0 := rows[0].(map[string]any)
	for _, k := range []string{"key", "name", "level", "grid_id", "bucket", "reported", "filed", "voided", "closed", "due", "postponed",
		"closed_on_time", "dispatched", "redispatched", "reworked", "patrol_reported", "patrol_valid", "missed", "on_time_close_rate",
		"close_rate", "rework_rate", "accurate_dispatch_rate", "valid_report_rate", "missed_report_rate", "avg_step_hours", "avg_step_working_hours", "points"} {
		if _, ok := r0[k]; !ok {
			t.Errorf("row has no %s: %v", k, r0)
		}
	}
	if r0["key"] != "410103001001" || r0["reported"] != 5.0 || r0["level"] != "community" || r0["on_time_close_rate"] != 2.0/3 && r0["on_time_close_rate"] != 0.6667 {
		t.Errorf("row 0: %v", r0)
	}
	if raw["definitions"].(map[string]any)["on_time_close_rate"] == nil {
		t.Error("no definition of on_time_close_rate")
	}

	// CSV: BOM, header of field names, one line per row and the total.
	for _, req := range []struct{ path, accept string }{
		{"/v1/stats?group=grid&month=2026-11&format=csv", ""},
		{"/v1/stats?group=grid&month=2026-11", "text/csv"},
	} {
		w := a.do(t, http.MethodGet, req.path, a.supervisor, req.accept, nil)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
			t.Fatalf("%s: %d %s %s", req.path, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		b := w.Body.Bytes()
		if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			t.Errorf("no BOM")
		}
		recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1+4+1 || recs[0][0] != "key" || recs[5][0] != "total" {
			t.Fatalf("csv: %v", recs)
		}
		head := strings.Join(recs[0], ",")
		for _, col := range []string{"on_time_close_rate", "avg_step_hours.handle", "avg_step_working_hours.file", "points"} {
			if !strings.Contains(head, col) {
				t.Errorf("csv header has no %s: %s", col, head)
			}
		}
		if recs[1][0] != "410103001001001" || recs[1][1] != "淮北街社区第1网格" || recs[1][5] != "3" {
			t.Errorf("csv row 1: %v", recs[1])
		}
	}

	// Scope: a grid worker of g8 reads only g8's cases: one grid row even for the district.
	ans := a.answer(t, "/v1/stats?group=grid&month=2026-11", a.worker8)
	if len(ans.Rows) != 1 || ans.Rows[0].Key != "410103001001002" || ans.Rows[0].Reported != 2 {
		t.Errorf("worker8: %+v", ans.Rows)
	}
	// a department handler reads chengguan's cases: C1, C2, C4, C7, C8
	ans = a.answer(t, "/v1/stats?group=district&month=2026-11", a.dept)
	if len(ans.Rows) != 1 || ans.Rows[0].Reported != 4 || ans.Rows[0].Closed != 3 {
		t.Errorf("department: %+v", ans.Rows)
	}
	// scope narrows: the subdistrict 410103002 has g10 only
	ans = a.answer(t, "/v1/stats?group=grid&scope=410103002&from=2026-11-01&to=2026-11-30", a.supervisor)
	if len(ans.Rows) != 1 || ans.Rows[0].Key != "410103002001001" || ans.Scope.Name != "解放路街道" {
		t.Errorf("scope 410103002: %+v %+v", ans.Scope, ans.Rows)
	}
	// the default scope is the one district
	if ans = a.answer(t, "/v1/stats?group=department&month=2026-11", a.supervisor); ans.Scope.Code != "410103" || ans.Group != "department" {
		t.Errorf("default scope: %+v", ans.Scope)
	}

	// Errors: the one JSON shape, 4xx.
	for _, c := range []struct {
		path, token string
		status      int
		field       string
	}{
		{"/v1/stats?group=street&month=2026-11", a.supervisor, 400, "group"},
		{"/v1/stats?month=2026-13", a.supervisor, 400, "month"},
		{"/v1/stats?from=2026-11-31&to=2026-12-01", a.supervisor, 400, "from"},
		{"/v1/stats?from=2026-12-01&to=2026-11-01", a.supervisor, 400, "from"},
		{"/v1/stats?from=2025-01-01&to=2026-11-30", a.supervisor, 400, "to"},
		{"/v1/stats?month=2026-11&from=2026-11-01", a.supervisor, 400, "month"},
		{"/v1/stats", a.supervisor, 400, "from"},
		{"/v1/stats?month=2026-11&scope=999999", a.supervisor, 400, "scope"},
		{"/v1/stats?month=2026-11&bucket=year", a.supervisor, 400, "bucket"},
		{"/v1/stats?month=2026-11&format=xml", a.supervisor, 400, "format"},
		{"/v1/stats?month=2026-11&colour=red", a.supervisor, 400, "colour"},
		{"/v1/stats/brief?month=2026-11&min_cases=0", a.supervisor, 400, "min_cases"},
		{"/v1/stats/brief?from=2026-11-01&to=2026-11-30", a.supervisor, 400, "month"},
		{"/v1/stats?month=2026-11", "", 401, ""},
		{"/v1/stats?month=2026-11", a.viewer, 403, ""},
	} {
		w := a.do(t, http.MethodGet, c.path, c.token, "", nil)
		var e struct {
			Error struct {
				Code    string         `json:"code"`
				Message string         `json:"message"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != c.status || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d", c.path, w.Code, w.Body, c.status)
			continue
		}
		if c.field != "" && e.Error.Details["field"] != c.field {
			t.Errorf("%s: field %v, want %s (%s)", c.path, e.Error.Details["field"], c.field, e.Error.Message)
		}
	}
}

func TestStatsBriefAPI(t *testing.T) {
	a := newStatsAPI(t)
	w := a.do(t, http.MethodGet, "/v1/stats/brief?month=2026-11&min_cases=1", a.supervisor, "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var b stats.Brief
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	// the district's month (see store/stats_test.go for the hand counts)
	if b.Month != "2026-11" || b.Total.Reported != 8 || b.Total.Due != 5 || b.Previous.Reported != 1 || b.Previous.Bucket != "2026-10" {
		t.Errorf("total %+v previous %+v", b.Total.Counts, b.Previous.Counts)
	}
	if b.ChildGroup != stats.GroupSubdistrict || len(b.Children) != 2 || len(b.Departments) != 1 || len(b.ByDay) != 30 {
		t.Errorf("children %d departments %d days %d", len(b.Children), len(b.Departments), len(b.ByDay))
	}
	// with at least one case due: g7 (2/2 on time), g8 (0/1), g10 (0/1); g9 has none due
	if len(b.WorstGrids) != 3 || b.WorstGrids[2].Key != "410103001001001" || b.BestGrids[0].Key != "410103001001001" {
		t.Errorf("worst %+v best %+v", b.WorstGrids, b.BestGrids)
	}
	if len(b.Workers) != 2 || b.Workers[0].Points < b.Workers[1].Points {
		t.Errorf("workers %+v", b.Workers)
	}
	if len(b.BySource) == 0 || len(b.ByClass) != 1 || b.ByClass[0].ClassCode != "01" {
		t.Errorf("by source %+v by class %+v", b.BySource, b.ByClass)
	}
	// the brief defaults to the last whole month (the clock says 2026-12-06)
	w = a.do(t, http.MethodGet, "/v1/stats/brief?scope=410103001", a.supervisor, "", nil)
	json.Unmarshal(w.Body.Bytes(), &b)
	if w.Code != 200 || b.Month != "2026-11" || b.ChildGroup != stats.GroupCommunity || b.MinCases != stats.DefaultMinCases {
		t.Errorf("%d month %s children %s min %d", w.Code, b.Month, b.ChildGroup, b.MinCases)
	}
}

func TestStatsPointsRulesAPI(t *testing.T) {
	a := newStatsAPI(t)
	w := a.do(t, http.MethodGet, "/v1/stats/points-rules", a.supervisor, "", nil)
	var got struct {
		Rules []stats.Rule `json:"rules"`
	}
	json.Unmarshal(w.Body.Bytes(), &got)
	if w.Code != 200 || len(got.Rules) != len(stats.DefaultRules) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	// bad rows: the line is named, nothing written
	for _, c := range []struct{ ct, body, want string }{
		{"application/json", `[{"code":"patrol_valid","points":1},{"code":"bananas","points":2}]`, "rule 2"},
		{"application/json", `[{"code":"patrol_valid","points":1},{"code":"patrol_valid","points":2}]`, "rule 2"},
		{"application/json", `{"rules":[{"code":"missed","points":5000}]}`, "rule 1"},
		{"application/json", `[{"code":"missed","pts":1}]`, "JSON"},
		{"text/csv", "code,name,points\nmissed,漏报,-1\nclosed,结案,x\n", "line 3"},
		{"text/csv", "code,name\nmissed,漏报\n", "points"},
	} {
		w := a.do(t, http.MethodPut, "/v1/stats/points-rules", a.supervisor, c.ct, []byte(c.body))
		if w.Code != 400 || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s: %d %s, want 400 naming %q", c.body, w.Code, w.Body, c.want)
		}
	}
	// permissions: a supervisor of one grid may not change the district's rules; a viewer may not
	for _, tok := range []string{a.dispatcher8, a.viewer} {
		if w := a.do(t, http.MethodPut, "/v1/stats/points-rules", tok, "application/json", []byte(`[]`)); w.Code != 403 {
			t.Errorf("PUT by a local account: %d %s", w.Code, w.Body)
		}
	}
	// a change is used at once: 10 points a closed case
	w = a.do(t, http.MethodPut, "/v1/stats/points-rules", a.supervisor, "text/csv", []byte("\ufeffcode,name,points\nclosed,结案,10\n"))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	ans := a.answer(t, "/v1/stats?group=district&month=2026-11", a.supervisor)
	if ans.Rows[0].Points != 40 {
		t.Errorf("points %v, want 4 closed × 10", ans.Rows[0].Points)
	}
	w = a.do(t, http.MethodGet, "/v1/stats/points-rules?format=csv", a.supervisor, "", nil)
	if !strings.Contains(w.Body.String(), "closed,结案,10") {
		t.Errorf("csv rules: %s", w.Body)
	}
	// audited
	w = a.do(t, http.MethodGet, "/v1/audit?action=stats.points_rules", a.supervisor, "", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "stats.points_rules") {
		t.Errorf("audit: %d %s", w.Code, w.Body)
	}
}
