package main

import (
	"context"
	"testing"
	"time"

	"gridline.dev/gridline/store/storetest"
)

// TestAuditPanel damages the fixture (a gap between two basic grids, an overlap between the two
// subdistricts) behind the write rules' back, as an old import could have, and runs
// web-map/test-coverage (node's test runner driving Chromium) against the served map.
func TestAuditPanel(t *testing.T) {
	needBrowser(t)
	a := startApp(t, nil)
	ctx := context.Background()
	conn := storetest.Raw(t, a.db) // behind the store's back, as an old import could have
	for _, q := range []string{
		// The second basic grid gives up a 0.0005° strip on its west side: a gap beside the first.
		`UPDATE grids SET geom = ST_Multi(ST_MakeEnvelope(113.6105, 34.70, 113.62, 34.72, 4326)) WHERE code = '410103001001002'`,
		// The second subdistrict reaches 0.0005° into the first: an overlap (and a gap in itself).
		`UPDATE grids SET geom = ST_Multi(ST_MakeEnvelope(113.6195, 34.70, 113.64, 34.74, 4326)) WHERE code = '410103002'`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The server refreshes its index on the change notification.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := a.get(t, "/v1/coverage?rules=gap,overlap")
		if s, _ := body["summary"].(map[string]any); s != nil && s["findings"].(float64) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the damage did not reach the audit: %v", body["summary"])
		}
		time.Sleep(200 * time.Millisecond)
	}
	runBrowserTests(t, "test-coverage/", []string{"the audit panel"}, "GRIDLINE_BASE_URL="+a.base)
}
