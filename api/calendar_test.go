package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
	"gridline.dev/gridline/worktime"
)

// callRaw sends body as is, of content type ctype.
func callRaw(t *testing.T, method, url, token, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// errMessage is the message of an answer in the error shape.
func errMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCalendarAndTimeLimits(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SeedCalendar(ctx, 2025, 2027, worktime.Official); err != nil {
		t.Fatal(err)
	}
	clock := fakeclock.New(time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC))
	svc, err := worktime.NewService(ctx, db, clock, shanghai(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(fixtureStore{}, clock, shanghai(t))
	ts := httptest.NewServer(wire(db, res, nil, Options{Worktime: svc, Clock: clock}, tiles.Options{}, importers.Config{}).Handler())
	defer ts.Close()
	district := storetest.Token(t, db, "district", storetest.Everywhere(accounts.Supervisor))
	local := storetest.Token(t, db, "local", storetest.Under(accounts.Supervisor, 4))
	viewer := storetest.Token(t, db, "viewer", storetest.Everywhere(accounts.Viewer))

	status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/calendar/days?year=2026", "", nil)
	if status != 200 || len(body["days"].([]any)) != 39 || body["official_data"] != true {
		t.Fatalf("GET days: %d %v", status, body)
	}
	if status, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/calendar/days?year=twenty", "", nil); status != 400 {
		t.Errorf("bad year: %d", status)
	}
	patch := map[string]any{"days": []map[string]any{{"date": "2026-03-11", "kind": "holiday", "name": "typhoon"}}}
	for _, c := range []struct {
		token string
		body  any
		want  int
		msg   string
	}{
		{"", patch, 401, "sign in"},
		{viewer, patch, 403, "cases.supervise"},
		{local, patch, 403, "whole district"},
		{district, map[string]any{"days": []map[string]any{{"date": "2026-02-30", "kind": "holiday", "name": "x"}}}, 400, "not a date"},
		{district, map[string]any{"days": []map[string]any{{"date": "2026-03-11", "kind": "weekend", "name": "x"}}}, 400, "kind"},
		{district, map[string]any{"days": []map[string]any{{"date": "2026-03-11", "kind": "holiday"}}}, 400, "name"},
		{district, map[string]any{"remove": []string{"2026-03-12"}}, 404, "no local patch"},
		{district, map[string]any{}, 400, "nothing to change"},
		{district, patch, 200, ""},
	} {
		status, body := call(t, nil, http.MethodPut, ts.URL+"/v1/calendar/days", c.token, c.body)
		if status != c.want || c.msg != "" && !strings.Contains(errMessage(body), c.msg) {
			t.Errorf("PUT %v: %d %v, want %d with %q", c.body, status, body, c.want, c.msg)
		}
	}
	// this server reloaded its calendar at once
	d := svc.Deadline(worktime.StepClock{Start: time.Date(2026, 3, 10, 17, 0, 0, 0, shanghai(t)), Limit: worktime.Limit{Amount: 1, Unit: worktime.WorkingHour}})
	if !d.Due.Equal(time.Date(2026, 3, 12, 9, 30, 0, 0, shanghai(t))) {
		t.Errorf("after the patch: due %s", d.Due)
	}

	if status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/calendar/hours", "", nil); status != 200 || !strings.Contains(jsonOf(body), `"09:00-12:00"`) {
		t.Errorf("GET hours: %d %v", status, body)
	}
	if status, body := call(t, nil, http.MethodPut, ts.URL+"/v1/calendar/hours", district, map[string]any{"hours": []map[string]any{{"from": "01-01", "spans": []string{"12:00-09:00"}}}}); status != 400 {
		t.Errorf("backwards hours: %d %v", status, body)
	}
	if status, body := call(t, nil, http.MethodPut, ts.URL+"/v1/calendar/hours", district, map[string]any{"hours": []map[string]any{{"from": "01-01", "spans": []string{"08:30-12:00", "14:00-17:30"}}}}); status != 200 {
		t.Errorf("PUT hours: %d %v", status, body)
	}

	send := func(token, csv string) (int, map[string]any) {
		return callRaw(t, http.MethodPost, ts.URL+"/v1/time-limits", token, "text/csv", csv)
	}
	if status, body := send(district, "standard,code,urgency,step,amount,unit\nlegacy,01,,handle,2,working_day\nlegacy,02,,handle,2,fortnights\n"); status != 400 || !strings.Contains(errMessage(body), "line 3") {
		t.Errorf("a bad rule: %d %v", status, body)
	}
	if status, _ := send(local, "standard,code,urgency,step,amount,unit\nlegacy,01,,handle,2,working_day\n"); status != 403 {
		t.Errorf("a local supervisor imported limits: %d", status)
	}
	if status, body := send(district, "standard,code,urgency,step,amount,unit\nlegacy,01,,handle,2,working_day\nlegacy,,,handle,3,working_day\n"); status != 200 || body["rules"] != float64(2) {
		t.Errorf("import: %d %v", status, body)
	}
	if status, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/time-limits", "", nil); status != 401 {
		t.Errorf("anonymous GET time limits: %d", status)
	}
	if status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/time-limits", local, nil); status != 200 || len(body["rules"].([]any)) != 2 {
		t.Errorf("GET time limits: %d %v", status, body)
	}
	if l, ok, _ := svc.Limit("0102", "normal", "handle"); !ok || l.Amount != 2 {
		t.Errorf("limit after the import: %v %v", l, ok)
	}
	if status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/escalation-ladder", local, nil); status != 200 || len(body["rungs"].([]any)) != 4 {
		t.Errorf("GET ladder: %d %v", status, body)
	}
	for _, c := range []struct {
		token string
		rungs []map[string]any
		want  int
	}{
		{local, []map[string]any{{"light": "yellow", "target": "handler", "action": "notify"}}, 403},
		{district, []map[string]any{{"light": "red", "target": "handler", "action": "notify"}, {"light": "yellow", "target": "handler", "action": "notify"}}, 400},
		{district, []map[string]any{{"light": "red", "target": "mayor", "action": "notify"}}, 400},
		{district, []map[string]any{{"light": "red", "overdue_minutes": 60, "target": "chain1", "action": "notify"}, {"light": "red", "overdue_minutes": 30, "target": "chain2", "action": "notify"}}, 400},
		{district, []map[string]any{{"light": "yellow", "target": "handler", "action": "notify"}, {"light": "red", "overdue_minutes": 60, "target": "supervisor", "action": "supervise"}}, 200},
	} {
		if status, body := call(t, nil, http.MethodPut, ts.URL+"/v1/escalation-ladder", c.token, map[string]any{"rungs": c.rungs}); status != c.want {
			t.Errorf("PUT ladder %v: %d %v, want %d", c.rungs, status, body, c.want)
		}
	}
	if status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/escalation-ladder", local, nil); status != 200 || len(body["rungs"].([]any)) != 2 {
		t.Errorf("GET ladder after: %d %v", status, body)
	}
	var audited int
	storetest.Raw(t, db).QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('calendar.patch', 'calendar.hours', 'time_limits.import', 'escalation.ladder')`).Scan(&audited)
	if audited != 4 {
		t.Errorf("%d audit rows, want 4", audited)
	}
}

func TestNotificationsAPI(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	res := resolve.NewIncremental(fixtureStore{}, fakeclock.New(time.Now()), shanghai(t))
	ts := httptest.NewServer(wire(db, res, nil, Options{}, tiles.Options{}, importers.Config{}).Handler())
	defer ts.Close()
	me := storetest.Token(t, db, "me", storetest.Everywhere(accounts.Viewer))
	other := storetest.Token(t, db, "other", storetest.Everywhere(accounts.Viewer))
	raw := storetest.Raw(t, db)
	if _, err := raw.Exec(ctx, `INSERT INTO notifications (person_id, kind, message, created_at)
		SELECT a.person_id, 'escalate', 'late ' || i, now() FROM accounts a, generate_series(1, 3) i WHERE a.username = 'me'`); err != nil {
		t.Fatal(err)
	}
	if status, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/notifications", "", nil); status != 401 {
		t.Errorf("anonymous: %d", status)
	}
	status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/notifications?unread=true", me, nil)
	ns, _ := body["notifications"].([]any)
	if status != 200 || len(ns) != 3 {
		t.Fatalf("mine: %d %v", status, body)
	}
	id := int64(ns[0].(map[string]any)["id"].(float64))
	if status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/notifications", other, nil); status != 200 || len(body["notifications"].([]any)) != 0 {
		t.Errorf("another's: %d %v", status, body)
	}
	url := ts.URL + "/v1/notifications/" + strconv.FormatInt(id, 10) + "/read"
	if status, _ := call(t, nil, http.MethodPost, url, other, nil); status != 404 {
		t.Errorf("another marks mine read: %d", status)
	}
	if status, body := call(t, nil, http.MethodPost, url, me, nil); status != 200 || body["marked"] != float64(1) {
		t.Errorf("mark one: %d %v", status, body)
	}
	if status, body := call(t, nil, http.MethodPost, ts.URL+"/v1/notifications/read", me, nil); status != 200 || body["marked"] != float64(2) {
		t.Errorf("mark all: %d %v", status, body)
	}
	if status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/notifications?unread=true", me, nil); status != 200 || len(body["notifications"].([]any)) != 0 {
		t.Errorf("unread after: %d %v", status, body)
	}
	if status, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/notifications?unread=maybe", me, nil); status != 400 {
		t.Errorf("unread=maybe: %d", status)
	}
}
