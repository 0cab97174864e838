package store_test

import (
	"context"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

func fixtureAddress(lon, lat float64, road, door, building, unit string, hh int) gridline.Address {
	return gridline.Address{Province: "河南省", City: "郑州市", District: "二七区", Subdistrict: "淮河路街道", Community: "淮北街社区",
		Road: road, Door: door, Building: building, Unit: unit, Households: hh, Lon: lon, Lat: lat,
		ValidFrom: storetest.FixtureFrom, Provenance: gridline.ProvenanceReal}
}

func TestAddressRegister(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	inside := gridline.WithActor(ctx, restricted(4)) // community 淮北街社区: x 113.60..113.62, y 34.70..34.72
	before := countAudit(t, db)
	a := fixtureAddress(113.605, 34.701, "淮北街", "12", "3", "2", 24)
	got, err := db.CreateAddress(inside, &a)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || countAudit(t, db) != before+1 {
		t.Fatalf("created %+v with %d audit rows", got, countAudit(t, db)-before)
	}
	// The same place again: a conflict, not a 500.
	dup := a
	if _, err := db.CreateAddress(inside, &dup); gridline.ErrorCode(err) != gridline.EConflict {
		t.Fatalf("duplicate: %v", err)
	}
	// Outside the actor's grids: refused, nothing written.
	out := fixtureAddress(113.63, 34.71, "建新街", "1", "1", "1", 10)
	if _, err := db.CreateAddress(inside, &out); gridline.ErrorCode(err) != gridline.EForbidden {
		t.Fatalf("outside: %v", err)
	}
	// Outside every grid: a rule error.
	far := fixtureAddress(100, 30, "建新街", "1", "1", "1", 10)
	if _, err := db.CreateAddress(ctx, &far); gridline.ErrorCode(err) != gridline.ERule {
		t.Fatalf("far: %v", err)
	}
	// Moving it out of reach is refused; within reach allowed.
	moved := *got
	moved.Lon = 113.63
	if _, err := db.UpdateAddress(inside, &moved); gridline.ErrorCode(err) != gridline.EForbidden {
		t.Fatalf("move out: %v", err)
	}
	moved.Lon, moved.Households = 113.615, 30
	if _, err := db.UpdateAddress(inside, &moved); err != nil {
		t.Fatal(err)
	}
	rows, aliases, err := db.Addresses(ctx)
	if err != nil || len(rows) != 1 || rows[0].Households != 30 || len(aliases) != 0 {
		t.Fatalf("rows %+v aliases %v err %v", rows, aliases, err)
	}
	// Households per grid: basic grid 8 (x 113.61..113.62) holds the 30, its community too.
	hh, err := db.HouseholdsByGrid(ctx, storetest.FixtureFrom)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	for _, h := range hh {
		by[h.Code] = h.Register
	}
	if by["410103001001002"] != 30 || by["410103001001"] != 30 || by["410103001001001"] != 0 || by["410103"] != 30 {
		t.Fatalf("households by grid: %v", by)
	}
	// pg_trgm sees Chinese (the database has a UTF-8 ctype).
	m, sim, err := db.MatchAddressesTrgm(ctx, "二七区淮北街12号3号楼2单元", storetest.FixtureFrom, 0.3)
	if err != nil || m == nil || m.ID != got.ID || sim <= 0.3 {
		t.Fatalf("trgm: %+v %v %v", m, sim, err)
	}
	if err := db.DeleteAddress(inside, got.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Address(ctx, got.ID); gridline.ErrorCode(err) != gridline.ENotFound {
		t.Fatalf("after delete: %v", err)
	}
	// Bulk load: all or nothing.
	bad := []gridline.Address{fixtureAddress(113.605, 34.701, "淮北街", "1", "1", "1", 5), fixtureAddress(113.605, 34.701, "淮北街", "1", "1", "1", 5)}
	if err := db.LoadAddresses(ctx, bad); gridline.ErrorCode(err) != gridline.EConflict {
		t.Fatalf("duplicate load: %v", err)
	}
	if rows, _, _ := db.Addresses(ctx); len(rows) != 0 {
		t.Fatalf("a failed load left %d rows", len(rows))
	}
	if err := db.LoadAddresses(ctx, bad[:1]); err != nil {
		t.Fatal(err)
	}
}
