package main

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/store/storetest"
)

// TestPatrolMap runs the browser tests of the console's patrols and routes (web-map/test-patrols,
// issue #16) against the whole program on the fixture with its synthetic road network: two
// workers' positions sent through the API (周杰 outside his own grid), both on the map, one
// selected with his track and figures, and a case's nearest workers by road with the route drawn
// and the case dispatched from the card to the worker chosen there, checked here through the API.
func TestPatrolMap(t *testing.T) {
	needBrowser(t)
	ctx := context.Background()
	a := startApp(t, nil)
	if err := loadCaseListsIfEmpty(ctx, a.db, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.db.BuildSyntheticRoads(ctx, storetest.FixtureFrom); err != nil {
		t.Fatal(err)
	}
	storetest.Account(t, a.db, "dispatcher", storetest.Everywhere(accounts.Dispatcher))
	api := storetest.Token(t, a.db, "hotline-api", storetest.Everywhere(accounts.Dispatcher))
	admin := storetest.Token(t, a.db, "phones-admin", storetest.Everywhere(accounts.Administrator))
	supervisor := storetest.Token(t, a.db, "supervisor", storetest.Everywhere(accounts.Supervisor))
	if code, body := call(t, a, "PUT", "/v1/time-limits", supervisor, "text/csv", demo.TimeLimits()); code != 200 {
		t.Fatalf("time limits: %d %v", code, body)
	}

	// The server runs on the real clock: the positions are of the last minutes, within the
	// district's day (the track is today's), so just after midnight in Shanghai wait a little.
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(shanghai)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, shanghai)
	if since := now.Sub(midnight); since < 30*time.Second {
		time.Sleep(30*time.Second - since)
		now = time.Now().In(shanghai)
	}
	start := now.Add(-8 * time.Minute)
	if start.Before(midnight) {
		start = midnight.Add(time.Second)
	}
	step := now.Add(-5*time.Second).Sub(start) / 8
	// 赵磊 (person 7, full-time worker of grid 7) walks north inside his grid along lon 113.6015,
	// near the district's western border road; 周杰 (person 9, grid 9) stands in grid 10, outside
	// his own grid and farther from the case by road.
	var zhao, zhou []map[string]any
	for i := 0; i <= 8; i++ {
		at := start.Add(time.Duration(i) * step).Format(time.RFC3339Nano)
		zhao = append(zhao, map[string]any{"at": at, "lon": 113.6015, "lat": 34.705 + 0.0005*float64(i), "accuracy": 5})
		zhou = append(zhou, map[string]any{"at": at, "lon": 113.6250, "lat": 34.7150 + 0.0001*float64(i%2), "accuracy": 5})
	}
	for person, pts := range map[int]any{7: zhao, 9: zhou} {
		if code, body := callJSON(t, a, "POST", "/v1/positions", admin, map[string]any{"person_id": person, "crs": "wgs84", "positions": pts}); code != 201 {
			t.Fatalf("positions of %d: %d %v", person, code, body)
		}
	}

	// A filed case in grid 7, to be dispatched to the nearest worker by road from its card.
	code, body := callJSON(t, a, "POST", "/v1/cases", api, map[string]any{"source": "hotline", "category_code": "0101", "description": "巡查路线测试", "lon": 113.6035, "lat": 34.7125, "crs": "wgs84"})
	if code != 201 {
		t.Fatalf("intake: %d %v", code, body)
	}
	id := int64(body["case"].(map[string]any)["id"].(float64))
	if code, body := callJSON(t, a, "POST", fmt.Sprintf("/v1/cases/%d/events", id), api, map[string]any{"kind": "file", "expect_version": 1}); code != 200 {
		t.Fatalf("file: %d %v", code, body)
	}

	runBrowserTests(t, "test-patrols/", []string{"workers on the map, a worker's track and figures, and the nearest workers by road in a case's card"},
		"GRIDLINE_BASE_URL="+a.base, "GRIDLINE_PASSWORD="+storetest.Password, "GRIDLINE_TOKEN="+api,
		fmt.Sprintf("GRIDLINE_CASE=%d", id), "GRIDLINE_NEAR=7", "GRIDLINE_OUTSIDE=9")

	// The dispatch from the card, read through the API: to 周杰 (chosen in the card rather than
	// routing's suggestion, grid 7's own worker) on his grid 9, by the dispatcher.
	code, body = call(t, a, "GET", fmt.Sprintf("/v1/cases/%d", id), api, "", nil)
	if code != 200 || body["state"] != "dispatched" {
		t.Fatalf("case after the console: %d %v", code, body["state"])
	}
	party, _ := body["party"].(map[string]any)
	if party["kind"] != "worker" || party["ref"] != "9" || party["name"] != "周杰" {
		t.Fatalf("party: %v", party)
	}
	// The case row keeps kind, ref and name; the dispatch event records the post's grid too.
	events, _ := body["events"].([]any)
	last, _ := events[len(events)-1].(map[string]any)
	data, _ := last["data"].(map[string]any)
	sent, _ := data["party"].(map[string]any)
	if last["kind"] != "dispatch" || last["actor_name"] != "dispatcher" || sent["grid"] != 9.0 || sent["grid_code"] != "410103001002001" {
		t.Fatalf("last event: %v", last)
	}
}
