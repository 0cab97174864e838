package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/drafts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// draftEnv is the API over the fixture database with drafts on a fake clock (1 March 2026, 09:00
// in Shanghai), a planner and a second planner on subdistrict 410103001 (id 2), a reviewer there,
// and a planner on community 410103001002 (id 5) only.
type draftEnv struct {
	ts                             *httptest.Server
	db                             *store.DB
	res                            *resolve.Resolver
	clock                          *fakeclock.Clock
	planner, planner2, reviewer    string
	narrow, reviewerPlanner, admin string
}

func newDraftEnv(t *testing.T) *draftEnv {
	t.Helper()
	db := storetest.New(t)
	if err := db.Load(context.Background(), storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	clock := fakeclock.New(time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC))
	loc := shanghai(t)
	res := resolve.NewIncremental(db, clock, loc)
	if err := res.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	auditor := coverage.New(func() coverage.Index {
		if ix := res.Index(); ix != nil {
			return ix
		}
		return nil
	}, db)
	svc := drafts.New(db, auditor, clock, loc, drafts.Options{})
	srv := wire(db, res, nil, Options{Drafts: svc, Clock: clock, Coverage: auditor}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &draftEnv{ts: ts, db: db, res: res, clock: clock}
	e.planner = storetest.Token(t, db, "planner", storetest.Under(accounts.Planner, 2))
	e.planner2 = storetest.Token(t, db, "planner2", storetest.Under(accounts.Planner, 2))
	e.reviewer = storetest.Token(t, db, "reviewer", storetest.Under(accounts.Reviewer, 2))
	e.narrow = storetest.Token(t, db, "narrow", storetest.Under(accounts.Planner, 5))
	e.reviewerPlanner = storetest.Token(t, db, "both", storetest.Under(accounts.Planner, 2), storetest.Under(accounts.Reviewer, 2))
	return e
}

func (e *draftEnv) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	return call(t, nil, method, e.ts.URL+path, token, body)
}

// must calls and fails the test unless the status is want.
func (e *draftEnv) must(t *testing.T, want int, method, path, token string, body any) map[string]any {
	t.Helper()
	st, out := e.call(t, method, path, token, body)
	if st != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, st, out, want)
	}
	return out
}

func (e *draftEnv) newDraft(t *testing.T, token, scope string) string {
	t.Helper()
	out := e.must(t, http.StatusCreated, "POST", "/v1/drafts", token, map[string]any{"title": "redraw " + scope, "scope": scope})
	return fmt.Sprintf("/v1/drafts/%v", out["id"])
}

// ackAll acknowledges every coverage finding of the draft and submits it.
func (e *draftEnv) submit(t *testing.T, path, token string, d map[string]any) map[string]any {
	t.Helper()
	var keys []string
	for _, p := range d["problems"].([]any) {
		pm := p.(map[string]any)
		if pm["kind"] == "rule" {
			t.Fatalf("draft has a rule violation: %v", pm)
		}
		keys = append(keys, pm["key"].(string))
	}
	return e.must(t, http.StatusOK, "POST", path+"/submit", token, map[string]any{"acknowledge": keys})
}

func (e *draftEnv) sql(t *testing.T, q string, args ...any) float64 {
	t.Helper()
	var v float64
	if err := storetest.Raw(t, e.db).QueryRow(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func line(x0, y0, x1, y1 float64) map[string]any {
	return map[string]any{"type": "LineString", "coordinates": [][]float64{{x0, y0}, {x1, y1}}}
}

// A split, submitted, approved and published: the pieces cover exactly the old grid (PostGIS
// says so), the new grid has a code by the 15-digit rule and lineage, and the version is visible
// with ?at from the effective date.
func TestDraftSplitPublish(t *testing.T) {
	e := newDraftEnv(t)
	d := e.newDraft(t, e.planner, "410103001")
	out := e.must(t, 200, "POST", d+"/operations", e.planner, map[string]any{"op": "split", "grid": 8, "lines": []any{line(113.615, 34.69, 113.615, 34.73)}})
	// The new piece, grid 8 itself, and grid 9 across the north edge, which gets the vertex the
	// cut made on their shared border (shared borders stay bit-identical).
	status := map[string]string{}
	for _, c := range out["changes"].([]any) {
		cm := c.(map[string]any)
		status[cm["code"].(string)] = cm["status"].(string)
	}
	if status["410103001001003"] != "new" || status["410103001001002"] != "changed" || status["410103001002001"] != "changed" || len(status) != 3 {
		t.Fatalf("split: changes %v", status)
	}
	if out["effective_date"] != "2026-03-02" {
		t.Fatalf("effective date %v, want tomorrow 2026-03-02", out["effective_date"])
	}
	for _, p := range out["problems"].([]any) {
		if p.(map[string]any)["kind"] == "rule" {
			t.Fatalf("split: rule problem %v", p)
		}
	}
	e.submit(t, d, e.planner, out)
	if st, body := e.call(t, "POST", d+"/approve", e.planner, map[string]any{"comment": "fine"}); st != 403 {
		t.Fatalf("the author approving: %d %v, want 403", st, body)
	}
	e.must(t, 200, "POST", d+"/approve", e.reviewer, map[string]any{"comment": "ok"})
	pub := e.must(t, 200, "POST", d+"/publish", e.planner, nil)
	if pub["state"] != "published" {
		t.Fatalf("state %v", pub["state"])
	}
	// The pieces valid on 2 March cover exactly grid 8 as it was on 1 March.
	sym := e.sql(t, `SELECT ST_Area(ST_SymDifference(
		(SELECT ST_Union(geom) FROM grids WHERE (id = 8 OR id IN (SELECT grid_id FROM grid_lineage WHERE from_grid_id = 8)) AND valid_from <= '2026-03-02' AND (valid_to IS NULL OR valid_to > '2026-03-02')),
		(SELECT geom FROM grids WHERE id = 8 AND valid_from <= '2026-03-01' AND (valid_to IS NULL OR valid_to > '2026-03-01')))::geography)`)
	if sym > 0.01 {
		t.Fatalf("the pieces differ from the old grid by %.3f m²", sym)
	}
	if n := e.sql(t, `SELECT count(*) FROM grids WHERE code = '410103001001003' AND valid_from = '2026-03-02'`); n != 1 {
		t.Fatalf("new code 410103001001003: %v versions", n)
	}
	if n := e.sql(t, `SELECT count(*) FROM audit_log WHERE action = 'draft.publish'`); n != 1 {
		t.Fatalf("%v publish audit rows", n)
	}
	// Visible with ?at on the effective date, not before.
	if err := e.res.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, before := e.call(t, "GET", "/v1/grids/410103001001003", "", nil); st != 404 {
		t.Fatalf("the new grid is visible today: %v", before)
	}
	e.must(t, 200, "GET", "/v1/grids/410103001001003?at=2026-03-02", "", nil)
}
