package store_test

import (
	"context"
	"testing"

	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

func TestRoadName(t *testing.T) {
	for in, want := range map[string]string{
		"淮河路街道办事处":   "淮河路",
		"淮河路街道":      "淮河路",
		"兴华街社区居民委员会": "兴华街",
		"蜜蜂张街道":      "", // 蜜蜂张 is a village's name, not 蜜蜂张街
		"绿云社区居民委员会":  "",
		"福华街街道":      "福华街",
	} {
		if got := store.RoadName(in); got != want {
			t.Errorf("RoadName(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestSyntheticRoads: the fixture's grid borders become a connected network, one edge per
// distinct border segment, classed by the highest level that has it, named after the roads in
// the units' names, every edge marked synthetic.
func TestSyntheticRoads(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	edges, names, err := db.BuildSyntheticRoads(ctx, storetest.FixtureFrom)
	if err != nil {
		t.Fatal(err)
	}
	raw := storetest.Raw(t, db)
	var distinct, synthetic, components int
	// PostGIS's own count of distinct border segments of today's comprehensive grids.
	if err := raw.QueryRow(ctx, `SELECT count(DISTINCT ST_AsText(ST_Normalize(d.geom))) FROM grids g, ST_DumpSegments(ST_Boundary(g.geom)) d
		WHERE g.layer = 'comprehensive'`).Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(ctx, `SELECT count(*) FILTER (WHERE synthetic) FROM roads`).Scan(&synthetic); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(ctx, `SELECT count(DISTINCT component) FROM pgr_connectedComponents('SELECT id, source, target, cost, cost AS reverse_cost FROM roads')`).Scan(&components); err != nil {
		t.Fatal(err)
	}
	if edges != distinct || synthetic != edges || components != 1 {
		t.Fatalf("%d edges (PostGIS: %d distinct segments), %d synthetic, %d components", edges, distinct, synthetic, components)
	}
	// The border between basic grids 7 and 8 (x = 113.61, y 34.70..34.72) is a street; the
	// community border y = 34.72 is a main road; the micro border y = 34.71 west of 113.61 a lane.
	// (The fixture's boxes are not noded as the demo's grids are: grid 7's east side is one
	// segment where its micro grids have two, so a lane runs along that street too.)
	for _, c := range []struct{ wkt, class string }{
		{"POINT(113.61 34.705)", "street"}, {"POINT(113.605 34.72)", "main"}, {"POINT(113.605 34.71)", "lane"},
	} {
		var ok bool
		if err := raw.QueryRow(ctx, `SELECT coalesce(bool_or(class = $2), false) FROM roads WHERE ST_DWithin(geom, ST_GeomFromText($1, 4326), 1e-9)`, c.wkt, c.class).Scan(&ok); err != nil || !ok {
			t.Errorf("no %s at %s (%v)", c.class, c.wkt, err)
		}
	}
	// Named roads lie inside the unit named after them: 兴华街 inside community 5, 淮河路 inside subdistrict 2.
	var outside int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM roads r JOIN grids g ON g.name = r.name || CASE WHEN g.level = 'community' THEN '社区' ELSE '街道' END
		WHERE NOT ST_CoveredBy(r.geom, g.geom)`).Scan(&outside); err != nil || outside != 0 {
		t.Fatalf("%d named roads outside their unit (%v)", outside, err)
	}
	if names == 0 {
		t.Fatal("no road names placed")
	}
}
