package resolve_test

import (
	"context"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store/storetest"
)

// fixtureResolver is a resolver over the hand-built fixture, with no database behind it.
func fixtureResolver(t testing.TB) *resolve.Resolver {
	d := storetest.Fixture()
	for i := range d.Grids {
		d.Grids[i].VersionID = int64(i + 1)
	}
	var staff []gridline.Staff
	byID := map[int64]gridline.Person{}
	for _, p := range d.People {
		byID[p.ID] = p
	}
	for _, a := range d.Assignments {
		p := byID[a.PersonID]
		staff = append(staff, gridline.Staff{GridID: a.GridID, Post: a.Post, PersonID: p.ID, Name: p.Name, Phone: p.Phone, ValidFrom: a.ValidFrom})
	}
	r := resolve.New(func(context.Context) ([]gridline.Grid, []gridline.Staff, error) { return d.Grids, staff, nil }, time.UTC)
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}
