package main

import (
	"testing"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/store/storetest"
)

// TestEditMap runs web-map/test-edit (node's test runner driving Chromium with the mouse) against
// the whole program serving the fixture district: a planner of the community 410103001001 splits a
// grid by drawing a line, moves a shared vertex, merges and undoes, draws, submits; a reviewer
// returns it with a comment, then approves; the planner publishes and the tiles of the effective
// date show the new grid.
func TestEditMap(t *testing.T) {
	needBrowser(t)
	a := startApp(t, nil)
	storetest.Account(t, a.db, "planner", storetest.Under(accounts.Planner, 4))
	storetest.Account(t, a.db, "reviewer", storetest.Under(accounts.Reviewer, 4))
	runBrowserTests(t, "test-edit/", []string{"a planner redraws grids on the map", "returned with a comment", "the planner publishes"},
		"GRIDLINE_BASE_URL="+a.base, "GRIDLINE_PASSWORD="+storetest.Password)
}
