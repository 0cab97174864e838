package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/worktime"
)

// TestConsoleMap runs the browser tests of the dispatcher's console and the grid worker's phone
// page (web-map/test-console, issue #16) against the whole program on the fixture with the demo's
// case lists and time limits: a case arrives live and is dispatched from its card, turns red on
// the page's clock, and turns red when the server's clock passes its due time (the escalation
// sweeper marks it, the live stream tells the open page); a worker signs for a case and reports
// back with a photo, checked here through the API.
func TestConsoleMap(t *testing.T) {
	needBrowser(t)
	ctx := context.Background()
	// The server runs on a fake clock, from a working morning to come (so that a step of a
	// working hour ends that morning, and the page's own clock finds it on time); the browser
	// test moves it through clockURL.
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	start := workingMorning(t, loc)
	clock := fakeclock.New(start)
	clockURL := clockControl(t, clock)
	a := startApp(t, nil, withClock(clock), withServeArgs("--escalate-every", "1s"))
	if err := loadCaseListsIfEmpty(ctx, a.db, io.Discard); err != nil {
		t.Fatal(err)
	}
	storetest.Account(t, a.db, "dispatcher", storetest.Everywhere(accounts.Dispatcher))
	storetest.Account(t, a.db, "worker7", storetest.Under(accounts.GridWorker, 7))
	api := storetest.Token(t, a.db, "hotline-api", storetest.Everywhere(accounts.Dispatcher))
	supervisor := storetest.Token(t, a.db, "supervisor", storetest.Everywhere(accounts.Supervisor))
	// The time limits through the API, so that the running worktime service takes them at once.
	if code, body := call(t, a, "PUT", "/v1/time-limits", supervisor, "text/csv", demo.TimeLimits()); code != 200 {
		t.Fatalf("time limits: %d %v", code, body)
	}

	// A case for grid 7's worker, dispatched before the phone page opens, two hours later on the
	// server's clock than the console's cases: moving the clock past theirs leaves it on time
	// (no escalation changes its version under the phone page, whichever file node runs first).
	clock.Set(start.Add(2 * time.Hour))
	code, body := callJSON(t, a, "POST", "/v1/cases", api, map[string]any{"source": "hotline", "category_code": "0101", "description": "楼顶私搭乱建", "lon": 113.603, "lat": 34.715, "crs": "wgs84"})
	if code != 201 {
		t.Fatalf("intake: %d %v", code, body)
	}
	id := int64(body["case"].(map[string]any)["id"].(float64))
	for i, kind := range []string{"file", "dispatch"} {
		if code, body := callJSON(t, a, "POST", fmt.Sprintf("/v1/cases/%d/events", id), api, map[string]any{"kind": kind, "expect_version": i + 1}); code != 200 {
			t.Fatalf("%s: %d %v", kind, code, body)
		}
	}

	clock.Set(start)

	photo, _ := filepath.Abs("../../web-map/test-console/fixtures/photo.png")
	runBrowserTests(t, "test-console/", []string{"a case arrives live, is dispatched from its card and turns red on the page's clock and on the server's",
		"the phone page: a worker signs for a case and reports back with a photo", "the phone page: a new find at the phone's position, self-handled"},
		"GRIDLINE_BASE_URL="+a.base, "GRIDLINE_PASSWORD="+storetest.Password, "GRIDLINE_TOKEN="+api,
		fmt.Sprintf("GRIDLINE_WORKER_CASE=%d", id), "GRIDLINE_PHOTO="+photo, "GRIDLINE_CLOCK_URL="+clockURL)
	if !clock.Now().After(start) {
		t.Fatal("the browser test did not move the server's clock")
	}

	// The worker's report back, read through the API: the state, and the photo's very bytes.
	code, body = call(t, a, "GET", fmt.Sprintf("/v1/cases/%d", id), api, "", nil)
	if code != 200 || body["state"] != "reported_back" {
		t.Fatalf("case after the phone page: %d %v", code, body["state"])
	}
	att, _ := body["attachments"].([]any)
	if len(att) != 1 || att[0].(map[string]any)["kind"] != "after" {
		t.Fatalf("attachments: %v", att)
	}
	want, err := os.ReadFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/cases/%d/attachments/%d", a.base, id, int64(att[0].(map[string]any)["id"].(float64))), nil)
	req.Header.Set("Authorization", "Bearer "+api)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Fatalf("the photo: %d, %d bytes, want the fixture's %d", resp.StatusCode, len(got), len(want))
	}
}

// workingMorning is 09:30 of the first working day after today in loc, by the official calendar
// the server loads (and the default working hours, 09:00-12:00 and 13:30-17:30).
func workingMorning(t *testing.T, loc *time.Location) time.Time {
	t.Helper()
	now := time.Now().In(loc)
	days := append(worktime.Official(now.Year()), worktime.Official(now.Year()+1)...)
	cal, err := worktime.NewCalendar(loc, days, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := time.Date(now.Year(), now.Month(), now.Day()+1, 9, 30, 0, 0, loc)
	for !cal.IsWorkday(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// clockControl serves clock to the browser tests on a loopback port: GET tells its time, POST
// ?to=<RFC 3339 time> sets it. It returns the URL.
func clockControl(t *testing.T, clock *fakeclock.Clock) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			to, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("to"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			clock.Set(to)
		}
		fmt.Fprintln(w, clock.Now().Format(time.RFC3339Nano))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func callJSON(t *testing.T, a *app, method, path, token string, v any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	return call(t, a, method, path, token, "application/json", bytes.NewReader(b))
}

func call(t *testing.T, a *app, method, path, token, ct string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
