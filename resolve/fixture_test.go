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
	src := &fakeStore{grids: map[int64]gridline.Grid{}, stamps: map[int64]int64{}}
	for i, g := range d.Grids {
		g.VersionID = int64(i + 1)
		src.put(g)
	}
	byID := map[int64]gridline.Person{}
	for _, p := range d.People {
		byID[p.ID] = p
	}
	for _, a := range d.Assignments {
		p := byID[a.PersonID]
		src.staff = append(src.staff, gridline.Staff{GridID: a.GridID, Post: a.Post, PersonID: p.ID, Name: p.Name, Phone: p.Phone, ValidFrom: a.ValidFrom})
	}
	r := resolve.NewIncremental(src, gridline.SystemClock{}, time.UTC)
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}
