package main

import (
	"context"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store/storetest"
)

// TestCasesImportByAddress: backlog rows with an address and no lon/lat are placed by the address
// register; one address that cannot be placed stops the whole file, its line reported.
func TestCasesImportByAddress(t *testing.T) {
	ctx := context.Background()
	db, cmd, write := casesImportFixture(t)
	row := func(road, door, bld string, lon, lat float64) gridline.Address {
		return gridline.Address{Province: "河南省", City: "郑州市", District: "二七区", Subdistrict: "淮河路街道", Community: "淮北街社区", Road: road, Door: door,
			Building: bld, Lon: lon, Lat: lat, ValidFrom: storetest.FixtureFrom, Provenance: gridline.ProvenanceSynthetic}
	}
	if err := db.LoadAddresses(ctx, []gridline.Address{row("淮北街", "12", "", 113.6050, 34.7050), row("淮北街", "12", "3", 113.6052, 34.7052)}); err != nil {
		t.Fatal(err)
	}
	raw := storetest.Raw(t, db)
	header := "category,lon,lat,address,description,reported_at,state\n"
	good := write("good.csv", header+
		"0102,,,淮北街12号3号楼,路口垃圾,2026-11-03 14:05,closed\n"+
		"0102,113.6100,34.7300,淮北街12号,点与地址都有,2026-11-04 09:00,dispatched\n")
	bad := write("bad.csv", header+
		"0102,,,淮北街12号3号楼,ok,2026-11-03 14:05,closed\n"+
		"0102,,,金水区花园路100号,not in the register,2026-11-03 14:05,closed\n")
	count := func() int {
		var n int
		raw.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&n)
		return n
	}
	out, err := cmd("cases", "import", bad)
	if err == nil || !strings.Contains(out, "line 3: address:") || !strings.Contains(out, "cannot be placed") || count() != 0 {
		t.Fatalf("an address that cannot be placed: %v\n%s (%d cases)", err, out, count())
	}
	out, err = cmd("cases", "import", good)
	if err != nil || !strings.Contains(out, "imported 2 cases") || count() != 2 {
		t.Fatalf("%v\n%s", err, out)
	}
	var lon1, lon2 float64
	var by1 string
	var by2 *string
	if err := raw.QueryRow(ctx, `SELECT ST_X(a.geom), a.routing->'place'->>'by', ST_X(b.geom), b.routing->'place'->>'by'
		FROM cases a, cases b WHERE a.description = '路口垃圾' AND b.description = '点与地址都有'`).Scan(&lon1, &by1, &lon2, &by2); err != nil {
		t.Fatal(err)
	}
	if lon1 != 113.6052 || by1 != "address" || lon2 != 113.6100 || by2 != nil {
		t.Errorf("placed at %v by %q; with a point at %v by %v", lon1, by1, lon2, by2)
	}
}
