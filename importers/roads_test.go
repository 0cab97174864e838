package importers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/store/storetest"
)

// A cross of two OSM ways sharing their middle node, a footway ending on it, and a river (no
// highway tag: not a road) crossing without a shared node.
const crossOSM = `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
 <node id="1" lat="34.70" lon="113.60" version="1"/>
 <node id="2" lat="34.70" lon="113.61" version="1"/>
 <node id="3" lat="34.70" lon="113.62" version="1"/>
 <node id="4" lat="34.69" lon="113.61" version="1"/>
 <node id="5" lat="34.71" lon="113.61" version="1"/>
 <node id="6" lat="34.705" lon="113.61" version="1"/>
 <node id="7" lat="34.705" lon="113.615" version="1"/>
 <node id="8" lat="34.69" lon="113.605" version="1"/>
 <node id="9" lat="34.71" lon="113.605" version="1"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="name" v="陇海路"/></way>
 <way id="11" version="1"><nd ref="4"/><nd ref="2"/><nd ref="6"/><nd ref="5"/><tag k="highway" v="residential"/><tag k="name" v="兴华街"/></way>
 <way id="12" version="1"><nd ref="6"/><nd ref="7"/><tag k="highway" v="footway"/></way>
 <way id="13" version="1"><nd ref="8"/><nd ref="9"/><tag k="waterway" v="river"/></way>
</osm>`

func TestImportRoads(t *testing.T) {
	ctx := context.Background()
	db, eng := fixtureDB(t)
	dir := t.TempDir()
	osm := filepath.Join(dir, "cross.osm")
	if err := os.WriteFile(osm, []byte(crossOSM), 0o644); err != nil {
		t.Fatal(err)
	}
	// A dry run writes nothing.
	rep, err := eng.ImportRoads(ctx, []string{osm}, importers.RoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw := storetest.Raw(t, db)
	var n int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM roads`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a dry run wrote %d roads (%v)", n, err)
	}
	// 2 + 3 segments of the cross, 1 of the footway; the river is skipped.
	if rep.Edges != 6 || rep.Skipped != 1 || rep.Classes["main"] != 2 || rep.Classes["street"] != 3 || rep.Classes["lane"] != 1 || rep.ClassColumn != "highway" || rep.NameColumn != "name" {
		t.Fatalf("%+v %+v", rep, rep.RoadReport)
	}
	if rep, err = eng.ImportRoads(ctx, []string{osm}, importers.RoadOptions{Apply: true}); err != nil || !rep.Applied {
		t.Fatal(rep, err)
	}
	// The ways meet at their shared node: a route from the west end of 陇海路 to the footway's end
	// turns up 兴华街.
	r, err := db.Route(ctx, orb.Point{113.601, 34.70}, orb.Point{113.614, 34.705})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Roads) != 2 || r.Roads[0] != "陇海路" || r.Roads[1] != "兴华街" {
		t.Fatalf("route along %v", r.Roads)
	}
	var vertices, synthetic int
	if err := raw.QueryRow(ctx, `SELECT (SELECT count(*) FROM road_vertices), (SELECT count(*) FROM roads WHERE synthetic)`).Scan(&vertices, &synthetic); err != nil || vertices != 7 || synthetic != 0 {
		t.Fatalf("%d vertices, %d synthetic (%v)", vertices, synthetic, err)
	}
	// A GeoJSON file without a class column: every line a street; a file of points holds no roads.
	gj := filepath.Join(dir, "roads.geojson")
	os.WriteFile(gj, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"名称":"工人路"},"geometry":{"type":"LineString","coordinates":[[113.60,34.70],[113.61,34.70]]}}]}`), 0o644) //nolint:errcheck
	if rep, err = eng.ImportRoads(ctx, []string{gj}, importers.RoadOptions{Apply: true}); err != nil || rep.Classes["street"] != 1 || rep.NameColumn != "名称" {
		t.Fatal(rep, err)
	}
	pts := filepath.Join(dir, "points.geojson")
	os.WriteFile(pts, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[113.60,34.70]}}]}`), 0o644) //nolint:errcheck
	if _, err = eng.ImportRoads(ctx, []string{pts}, importers.RoadOptions{Apply: true}); err == nil {
		t.Fatal("a file of points imported as roads")
	}
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM roads WHERE name = '工人路'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("a refused import changed the network: %d (%v)", n, err)
	}
}
