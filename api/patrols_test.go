package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/patrol"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// patrolServer is the API over the fixture database, its synthetic road network built, with the
// patrol service on a fake clock (2026-03-01 17:00 in Shanghai).
func patrolServer(t *testing.T) (*httptest.Server, *store.DB, *fakeClock) {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.BuildSyntheticRoads(ctx, storetest.FixtureFrom); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	res := resolve.NewIncremental(db, clock, shanghai(t))
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	svc := patrol.New(db, res, clock, shanghai(t), patrol.Options{})
	srv := wire(db, res, nil, Options{Accounts: accounts.New(db, accounts.Options{Now: clock.Now}), Patrols: svc, Clock: clock}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, db, clock
}

// workerToken is a grid worker's phone token: an account linked to person, grid_worker on grid.
func workerToken(t *testing.T, db *store.DB, person, grid int64) string {
	t.Helper()
	ctx := context.Background()
	a, err := accounts.CreateAccount(ctx, db, accounts.NewAccount{Username: fmt.Sprintf("worker%d", person), Password: storetest.Password, PersonID: person})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddGrant(ctx, accounts.Grant{AccountID: a.ID, Role: accounts.GridWorker, Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: grid}}); err != nil {
		t.Fatal(err)
	}
	tok, err := db.CreateToken(ctx, a.ID, "phone", false)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func pt(at time.Time, lon, lat float64) map[string]any {
	return map[string]any{"at": at.Format(time.RFC3339), "lon": lon, "lat": lat, "accuracy": 5}
}

func TestPatrols(t *testing.T) {
	ts, db, _ := patrolServer(t)
	raw := storetest.Raw(t, db)
	ctx := context.Background()
	zhao := workerToken(t, db, 7, 7) // 赵磊, full-time worker of basic grid 7 (x 113.60..113.61, y 34.70..34.72)
	zhou := workerToken(t, db, 9, 9) // 周杰, grid 9 (y 34.72..34.74)
	disp := storetest.Token(t, db, "dispatcher", storetest.Everywhere(accounts.Dispatcher))
	admin := storetest.Token(t, db, "admin", storetest.Everywhere(accounts.Administrator))

	// 赵磊 walks east along lat 34.705 inside grid 7, a point a minute, then steps into grid 8.
	start := time.Date(2026, 3, 1, 8, 45, 0, 0, time.UTC) // 16:45 in Shanghai, a quarter of an hour before the clock
	var pts []map[string]any
	var want float64
	var prev orb.Point
	for i := 0; i <= 8; i++ {
		p := orb.Point{113.601 + 0.001*float64(i), 34.705}
		pts = append(pts, pt(start.Add(time.Duration(i)*time.Minute), p[0], p[1]))
		if i > 0 {
			want += orbgeo.Distance(prev, p)
		}
		prev = p
	}
	for i, x := range []float64{113.612, 113.613} {
		p := orb.Point{x, 34.705}
		pts = append(pts, pt(start.Add(time.Duration(9+i)*time.Minute), p[0], p[1]))
		want += orbgeo.Distance(prev, p)
		prev = p
	}

	t.Run("a bad point stores nothing and is named", func(t *testing.T) {
		bad := append([]map[string]any{}, pts...)
		bad[3] = map[string]any{"at": start.Format(time.RFC3339), "lon": 113.6}
		code, body := call(t, nil, http.MethodPost, ts.URL+"/v1/positions", zhao, map[string]any{"positions": bad})
		if code != http.StatusBadRequest || errDetail(body, "field") != "lat" || errDetail(body, "index") != 3.0 {
			t.Fatalf("%d %v", code, body)
		}
		bad[3] = pt(start, 113.6, 34.7)
		bad[3]["crs"] = "EPSG:nonsense"
		if code, body = call(t, nil, http.MethodPost, ts.URL+"/v1/positions", zhao, map[string]any{"positions": bad}); code != http.StatusBadRequest || errDetail(body, "field") != "crs" || errDetail(body, "index") != 3.0 {
			t.Fatalf("%d %v", code, body)
		}
		bad[3] = pt(start.Add(time.Hour*2), 113.6, 34.7) // after the clock's now
		if code, body = call(t, nil, http.MethodPost, ts.URL+"/v1/positions", zhao, map[string]any{"positions": bad}); code != http.StatusBadRequest || errDetail(body, "field") != "at" {
			t.Fatalf("%d %v", code, body)
		}
		var n int
		if err := raw.QueryRow(ctx, `SELECT count(*) FROM positions`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d positions stored after refused batches (%v)", n, err)
		}
	})

	t.Run("a worker sends their own; others' need an administrator", func(t *testing.T) {
		code, body := call(t, nil, http.MethodPost, ts.URL+"/v1/positions", zhao, map[string]any{"positions": pts})
		if code != http.StatusCreated || body["stored"] != float64(len(pts)) || body["person_id"] != 7.0 {
			t.Fatalf("%d %v", code, body)
		}
		if code, body = call(t, nil, http.MethodPost, ts.URL+"/v1/positions", zhao, map[string]any{"person_id": 9, "positions": pts[:1]}); code != http.StatusForbidden {
			t.Fatalf("%d %v", code, body)
		}
		// An administrator sends 周杰's point for him, in GCJ-02 (a phone map app's): stored in WGS84.
		glon, glat := geo.WGS84ToGCJ02(113.615, 34.73)
		g := pt(start.Add(10*time.Minute), glon, glat)
		g["crs"] = "gcj02"
		if code, body = call(t, nil, http.MethodPost, ts.URL+"/v1/positions", admin, map[string]any{"person_id": 9, "positions": []map[string]any{g}}); code != http.StatusCreated {
			t.Fatalf("%d %v", code, body)
		}
		var lon float64
		if err := raw.QueryRow(ctx, `SELECT lon FROM positions WHERE person_id = 9`).Scan(&lon); err != nil || math.Abs(lon-113.615) > 1e-5 {
			t.Fatalf("stored lon %v (%v)", lon, err)
		}
		// 周杰's own phone sends nothing wrong: a WGS84 point without a crs.
		if code, body = call(t, nil, http.MethodPost, ts.URL+"/v1/positions", zhou, map[string]any{"positions": []map[string]any{pt(start.Add(11*time.Minute), 113.615, 34.73)}}); code != http.StatusCreated {
			t.Fatalf("%d %v", code, body)
		}
	})

	t.Run("where workers are", func(t *testing.T) {
		if code, body := call(t, nil, http.MethodGet, ts.URL+"/v1/workers/positions", zhao, nil); code != http.StatusForbidden {
			t.Fatalf("a worker sees everyone: %d %v", code, body)
		}
		code, body := call(t, nil, http.MethodGet, ts.URL+"/v1/workers/positions?on_duty=true", disp, nil)
		ws, _ := body["workers"].([]any)
		if code != http.StatusOK || len(ws) != 2 {
			t.Fatalf("%d %v", code, body)
		}
		w := ws[0].(map[string]any)
		g, _ := w["grid"].(map[string]any)
		if w["person_id"] != 7.0 || w["on_duty"] != true || w["in_own_grid"] != false || g["code"] != "410103001001002" || w["lon"] != 113.613 {
			t.Fatalf("赵磊 now: %v", w)
		}
		// Where he should be: his own grid, named (the console shows it and dispatches to it).
		own, _ := w["own_grids"].([]any)
		if len(own) != 1 || own[0].(map[string]any)["id"] != 7.0 || own[0].(map[string]any)["code"] == "" || own[0].(map[string]any)["name"] == "" {
			t.Fatalf("赵磊's own grids: %v", w["own_grids"])
		}
	})

	t.Run("the day's track and figures", func(t *testing.T) {
		code, body := call(t, nil, http.MethodGet, ts.URL+"/v1/workers/7/track?date=2026-03-01", zhao, nil)
		if code != http.StatusOK || body["type"] != "Feature" {
			t.Fatalf("%d %v", code, body)
		}
		props := body["properties"].(map[string]any)
		if d := props["distance_m"].(float64); math.Abs(d-want) > 0.2 {
			t.Fatalf("distance %v, want %v", d, want)
		}
		// The minute from the last point in grid 7 to the first in grid 8 is inside (the time from a
		// point counts where the point is); the minute between the two points in grid 8 is outside.
		if props["outside_minutes"] != 1.0 {
			t.Fatalf("outside %v", props["outside_minutes"])
		}
		// Covered: the 30 m band along the 0.008° walked inside grid 7, over grid 7's area,
		// against PostGIS's own figure for the same band.
		var share float64
		if err := raw.QueryRow(ctx, `SELECT ST_Area(ST_Intersection(g.geom, ST_Buffer(ST_GeomFromText('LINESTRING(113.601 34.705, 113.613 34.705)', 4326)::geography, 30)::geometry)::geography) / ST_Area(g.geom::geography)
			FROM grids g WHERE g.id = 7`).Scan(&share); err != nil {
			t.Fatal(err)
		}
		if c := props["covered_share"].(float64); math.Abs(c-share) > 1e-6 || c <= 0 {
			t.Fatalf("covered %v, PostGIS %v", c, share)
		}
		geom := body["geometry"].(map[string]any)
		if lines := geom["coordinates"].([]any); len(lines) != 1 || len(lines[0].([]any)) != len(pts) {
			t.Fatalf("track %v", geom)
		}
		if code, body = call(t, nil, http.MethodGet, ts.URL+"/v1/workers/9/track", zhao, nil); code != http.StatusForbidden {
			t.Fatalf("a worker sees another's track: %d %v", code, body)
		}
	})

	t.Run("summary: days without a patrol", func(t *testing.T) {
		code, body := call(t, nil, http.MethodGet, ts.URL+"/v1/patrols/summary?grid=4&date=2026-03-01", disp, nil)
		if code != http.StatusOK {
			t.Fatalf("%d %v", code, body)
		}
		days := map[string]any{}
		for _, g := range body["grids"].([]any) {
			g := g.(map[string]any)
			days[g["code"].(string)] = g["days_without_patrol"]
		}
		// Grid 7 was patrolled today; grid 8's worker never sent a position; community 4's chief neither.
		// (The school's special grid has a chief too.)
		if days["410103001001001"] != 0.0 || days["410103001001002"] != nil || len(days) != 4 {
			t.Fatalf("%v", days)
		}
		if code, body = call(t, nil, http.MethodGet, ts.URL+"/v1/patrols/summary?grid=4&date=2026-03-03", disp, nil); code != http.StatusOK {
			t.Fatalf("%d %v", code, body)
		}
		for _, g := range body["grids"].([]any) {
			if g := g.(map[string]any); g["code"] == "410103001001001" && g["days_without_patrol"] != 2.0 {
				t.Fatalf("two days later: %v", g)
			}
		}
		if code, body = call(t, nil, http.MethodGet, ts.URL+"/v1/patrols/summary?grid=nope", disp, nil); code != http.StatusBadRequest || errDetail(body, "field") != "grid" {
			t.Fatalf("%d %v", code, body)
		}
	})

	t.Run("routes on roads, checked against pgRouting", func(t *testing.T) {
		code, body := call(t, nil, http.MethodGet, ts.URL+"/v1/routes?from=113.605,34.7005&to=113.615,34.7195", disp, nil)
		if code != http.StatusOK {
			t.Fatalf("%d %v", code, body)
		}
		props := body["properties"].(map[string]any)
		var cost float64
		if err := raw.QueryRow(ctx, `WITH p AS (
			SELECT row_number() OVER () AS pid, e.id AS edge_id, ST_LineLocatePoint(e.geom, q.g) AS fraction
			FROM (VALUES (1, ST_SetSRID(ST_MakePoint(113.605, 34.7005), 4326)), (2, ST_SetSRID(ST_MakePoint(113.615, 34.7195), 4326))) q(i, g),
			LATERAL (SELECT id, geom FROM roads ORDER BY geom <-> q.g LIMIT 1) e ORDER BY q.i)
			SELECT agg_cost FROM pgr_withPointsCost('SELECT id, source, target, cost, cost AS reverse_cost FROM roads',
				'SELECT pid, edge_id, fraction FROM (VALUES ' || (SELECT string_agg(format('(%s, %s, %s)', pid, edge_id, fraction), ',') FROM p) || ') v(pid, edge_id, fraction)',
				-1, -2, false)`).Scan(&cost); err != nil {
			t.Fatal(err)
		}
		if s := props["seconds"].(float64); math.Abs(s-cost) > 0.01 {
			t.Fatalf("route takes %v s, pgr_withPointsCost says %v", s, cost)
		}
		line := body["geometry"].(map[string]any)["coordinates"].([]any)
		first, last := line[0].([]any), line[len(line)-1].([]any)
		// From and to are snapped onto their nearest roads: the district's southern edge, and the
		// border between the two communities.
		if math.Abs(first[0].(float64)-113.605) > 1e-9 || math.Abs(first[1].(float64)-34.70) > 1e-9 ||
			math.Abs(last[0].(float64)-113.615) > 1e-9 || math.Abs(last[1].(float64)-34.72) > 1e-9 {
			t.Fatalf("route from %v to %v", first, last)
		}
		var length float64
		if err := raw.QueryRow(ctx, `SELECT ST_Length(ST_GeomFromGeoJSON($1)::geography)`, fmt.Sprintf(`{"type":"LineString","coordinates":%s}`, jsonOf(line))).Scan(&length); err != nil {
			t.Fatal(err)
		}
		if math.Abs(length-props["length_m"].(float64)) > 0.5 {
			t.Fatalf("length %v, line %v", props["length_m"], length)
		}
		if props["snap_from_m"].(float64) < 50 || props["snap_from_m"].(float64) > 60 {
			t.Fatalf("snapped %v m", props["snap_from_m"])
		}
		if code, body = call(t, nil, http.MethodGet, ts.URL+"/v1/routes?from=113.6&to=1,2", disp, nil); code != http.StatusBadRequest || errDetail(body, "field") != "from" {
			t.Fatalf("%d %v", code, body)
		}
	})

	t.Run("nearest workers by road", func(t *testing.T) {
		code, body := call(t, nil, http.MethodGet, ts.URL+"/v1/routes/nearest-workers?at=113.6135,34.7055&n=5", disp, nil)
		fs, _ := body["features"].([]any)
		if code != http.StatusOK || len(fs) != 2 {
			t.Fatalf("%d %v", code, body)
		}
		var secs []float64
		for _, f := range fs {
			p := f.(map[string]any)["properties"].(map[string]any)
			secs = append(secs, p["route"].(map[string]any)["seconds"].(float64))
		}
		if w := fs[0].(map[string]any)["properties"].(map[string]any)["worker"].(map[string]any); w["person_id"] != 7.0 || secs[0] > secs[1] {
			t.Fatalf("nearest %v, %v", w, secs)
		}

		if code, body = call(t, nil, http.MethodGet, ts.URL+"/v1/routes/nearest-workers?at=113.6135,34.7055&n=1", disp, nil); code != http.StatusOK || len(body["features"].([]any)) != 1 {
			t.Fatalf("%d %v", code, body)
		}
	})
}

// errDetail is a detail of an error answer.
func errDetail(body map[string]any, key string) any {
	e, _ := body["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	return d[key]
}
