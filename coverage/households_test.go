package coverage_test

import (
	"context"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// TestHouseholdsMismatch: the register's households per grid (PostGIS, through the store) against
// the grids' own figures; an empty register finds nothing.
func TestHouseholdsMismatch(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	d := storetest.Fixture()
	if err := db.Load(ctx, d, store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	grids := d.Grids
	for k := range grids {
		grids[k].VersionID = grids[k].ID
	}
	ix := resolve.Build(grids, nil, storetest.FixtureFrom)
	a := coverage.New(func() coverage.Index { return ix }, db).WithHouseholds(db)
	req := coverage.Request{Scope: "410103001001001", At: storetest.FixtureFrom, Rules: []string{coverage.RuleHouseholdsMismatch}}
	rep, err := a.Audit(ctx, req)
	if err != nil || len(rep.Findings) != 0 {
		t.Fatalf("empty register: %v %+v", err, rep)
	}
	// Every fixture grid records 400 households: put exactly 400 in micro grid ...001 (x 113.60-113.61,
	// y 34.70-34.71) and 150 in micro grid ...002: basic grid ...001 then holds 550.
	row := func(door string, hh int, lat float64) gridline.Address {
		return gridline.Address{District: "二七区", Road: "淮北街", Door: door, Building: "1", Unit: "1", Households: hh, Lon: 113.605, Lat: lat,
			ValidFrom: storetest.FixtureFrom, Provenance: gridline.ProvenanceSynthetic}
	}
	if err := db.LoadAddresses(ctx, []gridline.Address{row("1", 400, 34.705), row("2", 150, 34.715)}); err != nil {
		t.Fatal(err)
	}
	rep, err = a.Audit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, f := range rep.Findings {
		got[f.Codes[0]] = f.Details["register_households"]
	}
	if len(got) != 2 || got["410103001001001"] != 550 || got["410103001001001002"] != 150 {
		t.Fatalf("findings %v", got)
	}
}
