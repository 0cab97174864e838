package api

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
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
	ts                          *httptest.Server
	db                          *store.DB
	res                         *resolve.Resolver
	clock                       *fakeclock.Clock
	planner, planner2, reviewer string
	narrow, reviewerPlanner     string
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
	// The reviewer's queue has it; the author's own queue does not; mine=1 lists it for the author.
	if q := e.must(t, 200, "GET", "/v1/drafts?queue=1", e.reviewer, nil); len(q["drafts"].([]any)) != 1 {
		t.Fatalf("reviewer's queue: %v", q)
	}
	if q := e.must(t, 200, "GET", "/v1/drafts?queue=1", e.planner, nil); len(q["drafts"].([]any)) != 0 {
		t.Fatalf("the author's queue: %v", q)
	}
	if q := e.must(t, 200, "GET", "/v1/drafts?mine=1&state=submitted", e.planner, nil); len(q["drafts"].([]any)) != 1 {
		t.Fatalf("mine: %v", q)
	}
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
	e.res.Changed("")
	if err := e.res.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, before := e.call(t, "GET", "/v1/grids/410103001001003", "", nil); st != 404 {
		t.Fatalf("the new grid is visible today: %v", before)
	}
	e.must(t, 200, "GET", "/v1/grids/410103001001003?at=2026-03-02", "", nil)
}

// get fetches a path and returns the status and the raw body.
func (e *draftEnv) raw(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(e.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// tileOf is the z/x/y of the tile holding lon, lat.
func tileOf(z int, lon, lat float64) string {
	n := math.Exp2(float64(z))
	x := int((lon + 180) / 360 * n)
	y := int((1 - math.Log(math.Tan(lat*math.Pi/180)+1/math.Cos(lat*math.Pi/180))/math.Pi) / 2 * n)
	return fmt.Sprintf("%d/%d/%d", z, x, y)
}

// A draft published for tomorrow: resolution and tiles keep today's grids until midnight in the
// district's time zone, then answer with the new ones by default, without a restart or a rebuild.
func TestDraftRolloverOnEffectiveDay(t *testing.T) {
	e := newDraftEnv(t)
	d := e.newDraft(t, e.planner, "410103001001")
	// Piece 0, the western half, keeps grid 8: the eastern half is the new grid.
	out := e.must(t, 200, "POST", d+"/operations", e.planner, map[string]any{"op": "split", "grid": 8, "staff_to": 0, "lines": []any{line(113.615, 34.69, 113.615, 34.73)}})
	e.submit(t, d, e.planner, out)
	e.must(t, 200, "POST", d+"/approve", e.reviewer, map[string]any{"comment": "ok"})
	e.must(t, 200, "POST", d+"/publish", e.planner, nil)
	e.res.Changed("")
	if err := e.res.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	point := "/v1/resolve?lon=113.618&lat=34.71"
	tile := "/tiles/grids/" + tileOf(14, 113.618, 34.71) + ".mvt"
	check := func(when string, wantNew bool) {
		t.Helper()
		st, body := e.raw(t, point)
		if st != 200 || strings.Contains(body, "410103001001003") != wantNew {
			t.Fatalf("%s: resolve %d, new grid in the answer %v, want %v: %s", when, st, !wantNew, wantNew, body)
		}
		st, body = e.raw(t, tile)
		if st != 200 || strings.Contains(body, "410103001001003") != wantNew {
			t.Fatalf("%s: tile %s %d, new grid in it %v, want %v", when, tile, st, !wantNew, wantNew)
		}
	}
	check("1 March", false)
	if st, body := e.raw(t, point+"&at=2026-03-02"); st != 200 || !strings.Contains(body, "410103001001003") {
		t.Fatalf("at=2026-03-02: %d %s", st, body)
	}
	// 23:59:59 on 1 March in Shanghai, then midnight.
	e.clock.Set(time.Date(2026, 3, 1, 15, 59, 59, 0, time.UTC))
	check("23:59:59 on 1 March", false)
	e.clock.Advance(time.Second)
	check("midnight of 2 March", true)
}

// A vertex shared by two basic grids (and the two micro grids of one of them) is added to their
// common border and then moved: both neighbours change, the micro grids follow, the coverage
// audit of the draft stays clean, and undo/redo step through the revisions.
func TestDraftSharedVertex(t *testing.T) {
	e := newDraftEnv(t)
	d := e.newDraft(t, e.planner, "410103001001")
	e.must(t, 200, "POST", d+"/operations", e.planner, map[string]any{"op": "insert_vertex", "at": []float64{113.61, 34.71}})
	out := e.must(t, 200, "POST", d+"/operations", e.planner, map[string]any{"op": "move_vertex", "from": []float64{113.61, 34.71}, "to": []float64{113.612, 34.7105}})
	codes := map[string]bool{}
	for _, c := range out["changes"].([]any) {
		codes[c.(map[string]any)["code"].(string)] = true
	}
	for _, want := range []string{"410103001001001", "410103001001002", "410103001001001001", "410103001001001002"} {
		if !codes[want] {
			t.Fatalf("moving the shared vertex did not change %s: %v", want, codes)
		}
	}
	for _, p := range out["problems"].([]any) {
		pm := p.(map[string]any)
		switch pm["rule"] {
		case "gap", "overlap", "sliver", "outside_parent", "invalid_geometry":
			t.Fatalf("coverage problem after moving a shared vertex: %v", pm)
		}
		if pm["kind"] == "rule" {
			t.Fatalf("rule problem after moving a shared vertex: %v", pm)
		}
	}
	// The neighbourhood of the community shows the moved vertex in both grids.
	st, body := e.raw(t, d+"/neighbourhood?parent=410103001001")
	if st != 401 {
		t.Fatalf("anonymous neighbourhood: %d", st)
	}
	fc := e.must(t, 200, "GET", d+"/neighbourhood?parent=410103001001", e.planner, nil)
	roles := map[string]int{}
	for _, f := range fc["features"].([]any) {
		p := f.(map[string]any)["properties"].(map[string]any)
		roles[p["role"].(string)]++
		if (p["code"] == "410103001001001" || p["code"] == "410103001001002") && !strings.Contains(fmt.Sprint(f), "113.612") {
			t.Fatalf("grid %v in the neighbourhood lacks the moved vertex", p["code"])
		}
	}
	if roles["parent"] != 1 || roles["child"] != 3 || roles["neighbour"] != 2 {
		t.Fatalf("neighbourhood roles %v (body %s)", roles, body)
	}
	// Undo twice, redo once.
	u := e.must(t, 200, "POST", d+"/undo", e.planner, nil)
	if u["revision"].(float64) != 1 || !u["can_redo"].(bool) {
		t.Fatalf("after undo: revision %v can_redo %v", u["revision"], u["can_redo"])
	}
	u = e.must(t, 200, "POST", d+"/undo", e.planner, nil)
	if u["can_undo"].(bool) || len(u["changes"].([]any)) != 0 {
		t.Fatalf("after two undos: %v", u)
	}
	if st, _ := e.call(t, "POST", d+"/undo", e.planner, nil); st != 409 {
		t.Fatalf("undo at the start: %d", st)
	}
	u = e.must(t, 200, "POST", d+"/redo", e.planner, nil)
	if u["revision"].(float64) != 1 {
		t.Fatalf("redo: revision %v", u["revision"])
	}
	h := e.must(t, 200, "GET", d+"/history", e.planner, nil)
	if n := len(h["revisions"].([]any)); n != 3 {
		t.Fatalf("history: %d revisions", n)
	}
	// Publish and check PostGIS agrees: the two grids still share their border exactly.
	e.must(t, 200, "POST", d+"/redo", e.planner, nil)
	out = e.must(t, 200, "GET", d, e.planner, nil)
	e.submit(t, d, e.planner, out)
	e.must(t, 200, "POST", d+"/approve", e.reviewer, map[string]any{"comment": "ok"})
	e.must(t, 200, "POST", d+"/publish", e.planner, nil)
	if ov := e.sql(t, `SELECT ST_Area(ST_Intersection(a.geom, b.geom)::geography) FROM grids a, grids b
		WHERE a.id = 7 AND b.id = 8 AND a.valid_from = '2026-03-02' AND b.valid_from = '2026-03-02'`); ov > 0.001 {
		t.Fatalf("the neighbours overlap by %.4f m²", ov)
	}
	if gap := e.sql(t, `SELECT ST_Area(ST_Difference(p.geom, ST_Union(c.geom))::geography) FROM grids p JOIN grids c ON c.parent_id = p.id AND c.layer = 'comprehensive'
		AND c.valid_from <= '2026-03-02' AND (c.valid_to IS NULL OR c.valid_to > '2026-03-02')
		WHERE p.id = 4 AND p.valid_to IS NULL GROUP BY p.geom`); gap > 0.001 {
		t.Fatalf("a gap of %.4f m² in the community", gap)
	}
	if got := e.sql(t, `SELECT count(*) FROM grids WHERE id IN (7, 8, 11, 12) AND valid_from = '2026-03-02' AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(113.612, 34.7105), 4326))`); got != 4 {
		t.Fatalf("%v of the four grids have the moved vertex", got)
	}
	// The four bounds were recomputed from the neighbours.
	var east string
	storetest.Raw(t, e.db).QueryRow(context.Background(), `SELECT bound_east FROM grids WHERE id = 7 AND valid_from = '2026-03-02'`).Scan(&east)
	if !strings.Contains(east, "淮北街社区第2网格") {
		t.Fatalf("grid 7's east bound %q does not name grid 8", east)
	}
}

// Merging two grids: one code survives, the other is retired, its post holders and households
// carried over, with lineage.
func TestDraftMerge(t *testing.T) {
	e := newDraftEnv(t)
	d := e.newDraft(t, e.planner, "410103001001")
	out := e.must(t, 200, "POST", d+"/operations", e.planner, map[string]any{"op": "merge", "grids": []int64{7, 8}, "keep_code": 7})
	var kept map[string]any
	for _, c := range out["changes"].([]any) {
		cm := c.(map[string]any)
		if cm["id"].(float64) == 7 {
			kept = cm
		}
		if cm["id"].(float64) == 8 && cm["status"] != "retired" {
			t.Fatalf("grid 8: %v", cm)
		}
	}
	after := kept["after"].(map[string]any)
	if after["households"].(float64) != 800 || len(after["staff"].([]any)) != 2 {
		t.Fatalf("merged grid after: %v", after)
	}
	e.submit(t, d, e.planner, out)
	e.must(t, 200, "POST", d+"/approve", e.reviewer, map[string]any{"comment": "ok"})
	e.must(t, 200, "POST", d+"/publish", e.planner, nil)
	if n := e.sql(t, `SELECT count(*) FROM grids WHERE id = 8 AND (valid_to IS NULL OR valid_to > '2026-03-02')`); n != 0 {
		t.Fatalf("grid 8 is still valid after its merge: %v", n)
	}
	if n := e.sql(t, `SELECT count(*) FROM assignments WHERE grid_id = 7 AND person_id = 8 AND valid_from = '2026-03-02'`); n != 1 {
		t.Fatalf("grid 8's part-time worker did not move to grid 7: %v", n)
	}
	if n := e.sql(t, `SELECT count(*) FROM grid_lineage WHERE grid_id = 7 AND from_grid_id = 8 AND op = 'merge'`); n != 1 {
		t.Fatalf("lineage rows: %v", n)
	}
	if a := e.sql(t, `SELECT ST_Area(ST_SymDifference(g.geom, ST_MakeEnvelope(113.60, 34.70, 113.62, 34.72, 4326))::geography) FROM grids g WHERE id = 7 AND valid_from = '2026-03-02'`); a > 0.01 {
		t.Fatalf("the merged grid differs from the two by %.3f m²", a)
	}
}

// rows counts what a refused request must not write.
func (e *draftEnv) rows(t *testing.T) string {
	t.Helper()
	var g, r, ev, a int
	err := storetest.Raw(t, e.db).QueryRow(context.Background(), `SELECT (SELECT count(*) FROM grids), (SELECT count(*) FROM draft_revisions),
		(SELECT count(*) FROM draft_events), (SELECT count(*) FROM audit_log)`).Scan(&g, &r, &ev, &a)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d grid versions, %d revisions, %d events, %d audit rows", g, r, ev, a)
}

// Bad input: each a clear error, and nothing written.
func TestDraftBadInput(t *testing.T) {
	e := newDraftEnv(t)
	d := e.newDraft(t, e.planner, "410103001001")
	wide := e.newDraft(t, e.planner, "410103001")
	bowtie := map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{113.601, 34.701}, {113.605, 34.705}, {113.605, 34.701}, {113.601, 34.705}, {113.601, 34.701}}}}
	cases := []struct {
		name   string
		token  string
		path   string
		body   any
		status int
		code   string
	}{
		{"self-intersecting drawing", e.planner, d + "/operations", map[string]any{"op": "draw", "parent": 4, "name": "x", "geometry": bowtie}, 400, "invalid_request"},
		{"self-intersecting reshape", e.planner, d + "/operations", map[string]any{"op": "reshape", "grids": []any{map[string]any{"id": 7, "geometry": bowtie}}}, 400, "invalid_request"},
		{"split line not crossing", e.planner, d + "/operations", map[string]any{"op": "split", "grid": 8, "lines": []any{line(113.615, 34.69, 113.615, 34.71)}}, 400, "invalid_request"},
		{"split leaving a sliver", e.planner, d + "/operations", map[string]any{"op": "split", "grid": 8, "lines": []any{line(113.61001, 34.69, 113.61001, 34.73)}}, 400, "invalid_request"},
		{"edit outside the scope", e.planner, d + "/operations", map[string]any{"op": "attributes", "grid": 10, "name": "x"}, 403, "forbidden"},
		{"vertex on the scope's outline", e.planner, d + "/operations", map[string]any{"op": "move_vertex", "from": []float64{113.62, 34.70}, "to": []float64{113.621, 34.70}}, 403, "forbidden"},
		{"reshape opening a gap", e.planner, d + "/operations", map[string]any{"op": "reshape", "grids": []any{map[string]any{"id": 8, "geometry": map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{113.611, 34.70}, {113.62, 34.70}, {113.62, 34.72}, {113.611, 34.72}, {113.611, 34.70}}}}}}}, 422, "rule_violation"},
		{"a planner of another community", e.narrow, d + "/operations", map[string]any{"op": "attributes", "grid": 8, "name": "x"}, 404, "not_found"},
		{"unknown op", e.planner, d + "/operations", map[string]any{"op": "explode"}, 400, "invalid_request"},
		{"merging grids of two parents", e.planner, wide + "/operations", map[string]any{"op": "merge", "grids": []int64{7, 9}}, 422, "rule_violation"},
		{"submitting an empty draft", e.planner, d + "/submit", nil, 400, "invalid_request"},
		{"approving a draft not submitted", e.reviewer, d + "/approve", map[string]any{"comment": "x"}, 409, "conflict"},
		{"an effective date in the past", e.planner, "/v1/drafts", map[string]any{"title": "x", "scope": "410103001001", "effective_date": "2026-03-01"}, 400, "invalid_date"},
		{"a draft outside one's scope", e.narrow, "/v1/drafts", map[string]any{"title": "x", "scope": "410103001001"}, 403, "forbidden"},
		{"anonymous", "", "/v1/drafts", map[string]any{"title": "x", "scope": "410103001001"}, 401, "unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.rows(t)
			st, body := e.call(t, "POST", c.path, c.token, c.body)
			errBody, _ := body["error"].(map[string]any)
			if st != c.status || errBody == nil || errBody["code"] != c.code {
				t.Fatalf("%d %v, want %d %s", st, body, c.status, c.code)
			}
			if after := e.rows(t); after != before {
				t.Fatalf("a refused request wrote: %s, then %s", before, after)
			}
		})
	}
	// Approving one's own draft, publishing a withdrawn draft.
	d2 := e.newDraft(t, e.reviewerPlanner, "410103001001")
	out := e.must(t, 200, "POST", d2+"/operations", e.reviewerPlanner, map[string]any{"op": "attributes", "grid": 7, "households": 420})
	e.submit(t, d2, e.reviewerPlanner, out)
	before := e.rows(t)
	if st, body := e.call(t, "POST", d2+"/approve", e.reviewerPlanner, map[string]any{"comment": "mine"}); st != 403 {
		t.Fatalf("approving one's own draft: %d %v", st, body)
	}
	if after := e.rows(t); after != before {
		t.Fatalf("approving one's own draft wrote: %s, then %s", before, after)
	}
	e.must(t, 200, "POST", d2+"/withdraw", e.reviewerPlanner, nil)
	before = e.rows(t)
	if st, body := e.call(t, "POST", d2+"/publish", e.reviewerPlanner, nil); st != 409 {
		t.Fatalf("publishing a withdrawn draft: %d %v", st, body)
	}
	if after := e.rows(t); after != before {
		t.Fatalf("publishing a withdrawn draft wrote: %s, then %s", before, after)
	}
}

// Two drafts change the same grid; the second published gets 409 naming it, writes nothing, and
// publishes after a rebase.
func TestDraftConflict(t *testing.T) {
	e := newDraftEnv(t)
	a := e.newDraft(t, e.planner, "410103001001")
	b := e.newDraft(t, e.planner2, "410103001001")
	outA := e.must(t, 200, "POST", a+"/operations", e.planner, map[string]any{"op": "attributes", "grid": 8, "households": 420})
	outB := e.must(t, 200, "POST", b+"/operations", e.planner2, map[string]any{"op": "attributes", "grid": 8, "population": 1200})
	e.submit(t, a, e.planner, outA)
	e.submit(t, b, e.planner2, outB)
	e.must(t, 200, "POST", a+"/approve", e.reviewer, map[string]any{"comment": "ok"})
	e.must(t, 200, "POST", b+"/approve", e.reviewer, map[string]any{"comment": "ok"})
	e.must(t, 200, "POST", a+"/publish", e.planner, nil)
	before := e.rows(t)
	st, body := e.call(t, "POST", b+"/publish", e.planner2, nil)
	if st != 409 || !strings.Contains(fmt.Sprint(body), "410103001001002") {
		t.Fatalf("the second publish: %d %v, want 409 naming 410103001001002", st, body)
	}
	if after := e.rows(t); after != before {
		t.Fatalf("the refused publish wrote: %s, then %s", before, after)
	}
	// Rebased onto the grids as they are now, it is a draft again: reviewed and published anew,
	// over the first draft's version.
	rb := e.must(t, 200, "POST", b+"/rebase", e.planner2, nil)
	if rb["state"] != "draft" {
		t.Fatalf("after rebase: state %v", rb["state"])
	}
	e.submit(t, b, e.planner2, rb)
	e.must(t, 200, "POST", b+"/approve", e.reviewer, map[string]any{"comment": "ok"})
	e.must(t, 200, "POST", b+"/publish", e.planner2, nil)
	if n := e.sql(t, `SELECT count(*) FROM grids WHERE id = 8 AND valid_from = '2026-03-02' AND households = 420 AND population = 1200`); n != 1 {
		t.Fatalf("grid 8 on 2 March does not carry both drafts' changes: %v versions", n)
	}
}

// Drawing a new grid out of a neighbour's area, retiring a grid into its neighbour, moving a grid
// to another parent: each leaves the partition exact.
func TestDraftDrawRetireMove(t *testing.T) {
	e := newDraftEnv(t)
	d := e.newDraft(t, e.planner, "410103001")
	square := map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{113.612, 34.705}, {113.618, 34.705}, {113.618, 34.715}, {113.612, 34.715}, {113.612, 34.705}}}}
	if st, body := e.call(t, "POST", d+"/operations", e.planner, map[string]any{"op": "draw", "parent": 4, "name": "新网格", "geometry": square}); st != 400 {
		t.Fatalf("drawing over covered area without take_from_neighbours: %d %v", st, body)
	}
	out := e.must(t, 200, "POST", d+"/operations", e.planner, map[string]any{"op": "draw", "parent": 4, "name": "新网格", "geometry": square, "take_from_neighbours": true})
	status := map[string]string{}
	for _, c := range out["changes"].([]any) {
		cm := c.(map[string]any)
		status[cm["code"].(string)] = cm["status"].(string)
	}
	if status["410103001001003"] != "new" || status["410103001001002"] != "changed" {
		t.Fatalf("draw: %v", status)
	}
	for _, p := range out["problems"].([]any) {
		pm := p.(map[string]any)
		if pm["kind"] == "rule" || pm["rule"] == "gap" || pm["rule"] == "overlap" {
			t.Fatalf("draw: problem %v", pm)
		}
	}
	// Retire grid 9 (the only grid of community 5) is refused: it has no sibling to go into.
	if st, body := e.call(t, "POST", d+"/operations", e.planner, map[string]any{"op": "retire", "grid": 9, "to": 8}); st != 422 {
		t.Fatalf("retiring into a grid of another parent: %d %v", st, body)
	}
	// Move grid 9 under community 4: a new code under 410103001001.
	out = e.must(t, 200, "POST", d+"/operations", e.planner, map[string]any{"op": "move", "grid": 9, "parent": 4})
	moved := false
	for _, c := range out["changes"].([]any) {
		cm := c.(map[string]any)
		if cm["id"].(float64) == 9 {
			moved = cm["status"] == "moved" && strings.HasPrefix(cm["code"].(string), "410103001001")
		}
	}
	if !moved {
		t.Fatalf("move: %v", out["changes"])
	}
	// Undo the move; retire the new grid into grid 8: the community is as it was.
	e.must(t, 200, "POST", d+"/undo", e.planner, nil)
	out = e.must(t, 200, "POST", d+"/operations", e.planner, map[string]any{"op": "retire", "grid": -1, "to": 8})
	for _, c := range out["changes"].([]any) {
		cm := c.(map[string]any)
		if cm["id"].(float64) == 8 && cm["after"].(map[string]any)["area_m2"].(float64) < cm["before"].(map[string]any)["area_m2"].(float64)-1 {
			t.Fatalf("grid 8 did not get its area back: %v", cm)
		}
	}
}
