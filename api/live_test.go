package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/live"
	"gridline.dev/gridline/open311"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
	"gridline.dev/gridline/worktime"
)

// noLimits is a Deadlines without time limits (deadlines are the worktime branch's).
type noLimits struct{}

func (noLimits) Limit(string, string, string) (worktime.Limit, bool, error) {
	return worktime.Limit{}, false, nil
}
func (noLimits) Deadline(worktime.StepClock) worktime.Deadline { return worktime.Deadline{} }

// TestOpen311ThroughTheIntake files an Open311 request through the real dispatch engine and the
// case tables, and watches it arrive on a case stream fed by LISTEN/NOTIFY: the whole path.
func TestOpen311ThroughTheIntake(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	admin := storetest.Account(t, db, "admin", storetest.Everywhere(accounts.Administrator))
	actx := gridline.WithActor(ctx, &gridline.Actor{AccountID: admin.ID, Username: "admin", Reach: func(string) (bool, []int64) { return true, nil }})
	for what, data := range map[string][]byte{"categories": demo.CaseCategories, "departments": demo.Departments} {
		if rep, err := importers.ImportCaseList(actx, db, what, data, "utf-8"); err != nil || len(rep.Problems) > 0 {
			t.Fatal(what, err, rep)
		}
	}
	if rep, err := importers.ImportCaseList(actx, db, "rules", demo.ResponsibilityRules, "utf-8"); err != nil || len(rep.Problems) > 0 {
		t.Fatal(err, rep)
	}
	var lon, lat float64
	raw := storetest.Raw(t, db)
	if err := raw.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids WHERE level = 'grid' ORDER BY code LIMIT 1) q`).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	clock := fixedClock{time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	res := resolve.NewIncremental(db, clock, shanghai(t))
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	engine := dispatch.New(db, res, noLimits{}, clock, dispatch.Options{Location: shanghai(t)})
	hub := live.New(db, live.Options{})
	hctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go hub.Run(hctx, func(err error) { t.Error(err) })
	up := make(chan struct{}, 1)
	go db.ListenCases(hctx, hub.Notify, func(err error) {
		if err == nil {
			up <- struct{}{}
		}
	})
	select {
	case <-up:
	case <-time.After(30 * time.Second):
		t.Fatal("LISTEN did not connect")
	}
	srv := wire(db, res, nil, Options{Clock: clock, Open311: Open311Options{Cases: open311.NewEngine(engine, db), Jurisdiction: "erqi.gov.cn"},
		Stream: StreamOptions{Hub: hub}}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close) // after the stream's own cleanup (cleanups run last first)
	key := storetest.Token(t, db, "integration", storetest.Everywhere(accounts.GridWorker))
	watcher := storetest.Token(t, db, "watcher", storetest.Everywhere(accounts.Dispatcher))
	events, _, resp := openStream(t, ts.URL+"/v1/cases/stream", watcher, "")
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	for deadline := time.Now().Add(30 * time.Second); hub.Readers() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stream did not subscribe")
		}
	}

	var code string
	raw.QueryRow(ctx, `SELECT code FROM case_categories WHERE active ORDER BY code LIMIT 1`).Scan(&code)
	form := url.Values{"api_key": {key}, "service_code": {code}, "lat": {ftoa(lat)}, "long": {ftoa(lon)}, "description": {"井盖缺失"},
		"last_name": {"李"}, "first_name": {"明"}, "phone": {"13800000000"}, "attribute[urgency]": {"urgent"}}
	st, _, b := do311(t, "POST", ts.URL+"/open311/v2/requests.json", form)
	if st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	var created []map[string]any
	json.Unmarshal(b, &created)
	number, _ := created[0]["service_request_id"].(string)
	var source, urgency, reporter string
	var account *int64
	if err := raw.QueryRow(ctx, `SELECT c.source, c.urgency, c.reporter->>'name', e.actor_account FROM cases c JOIN case_events e ON e.case_id = c.id AND e.seq = 1 WHERE c.number = $1`, number).
		Scan(&source, &urgency, &reporter, &account); err != nil {
		t.Fatalf("case %q: %v", number, err)
	}
	if source != "open311" || urgency != "urgent" || reporter != "李明" || account == nil {
		t.Errorf("stored %s %s %s %v", source, urgency, reporter, account)
	}

	e := nextEvent(t, events)
	if e.data.Number != number || e.data.State != "reported" || e.data.Kind != "report" || e.data.Point == nil || e.data.Grid == nil {
		t.Errorf("streamed %+v", e.data)
	}

	st, _, b = do311(t, "GET", ts.URL+"/open311/v2/requests/"+number+".json", nil)
	var got []map[string]any
	json.Unmarshal(b, &got)
	if st != 200 || len(got) != 1 || got[0]["status"] != "open" || got[0]["service_code"] != code || got[0]["service_name"] == "" || got[0]["agency_responsible"] == "" || got[0]["requested_datetime"] != "2026-12-06T09:00:00Z" {
		t.Fatalf("%d %s", st, b)
	}
	st, _, b = do311(t, "GET", ts.URL+"/open311/v2/requests.json?status=closed", nil)
	if st != 200 || string(b) != "[]\n" {
		t.Fatalf("closed: %d %s", st, b)
	}
	st, _, b = do311(t, "GET", ts.URL+"/open311/v2/services.xml", nil)
	if st != 200 || len(fields(t, "xml", b, "service")) == 0 {
		t.Fatalf("%d %s", st, b)
	}
	// Address alone cannot be routed: a clear 400, nothing filed.
	st, _, b = do311(t, "POST", ts.URL+"/open311/v2/requests.json", url.Values{"api_key": {key}, "service_code": {code}, "address_string": {"大学路 1 号"}})
	if st != 400 || errors311(t, "json", b)[0].Code != 400 {
		t.Fatalf("%d %s", st, b)
	}
}

func ftoa(f float64) string { b, _ := json.Marshal(f); return string(b) }
