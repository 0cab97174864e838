package resolve_test

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store/storetest"
)

// fakeStore is a store in memory with change stamps, counting what it is asked for.
type fakeStore struct {
	grids      map[int64]gridline.Grid // by version id
	stamps     map[int64]int64
	staff      []gridline.Staff
	seq        int64
	rowsRead   int
	staffReads int
}

func (f *fakeStore) put(g gridline.Grid) {
	f.seq++
	f.grids[g.VersionID] = g
	f.stamps[g.VersionID] = f.seq
}

func (f *fakeStore) GridChanges(_ context.Context, known map[int64]int64) (map[int64]int64, []gridline.Grid, error) {
	stamps := map[int64]int64{}
	var changed []gridline.Grid
	for v, s := range f.stamps {
		stamps[v] = s
		if old, ok := known[v]; known == nil || !ok || old != s {
			changed = append(changed, f.grids[v])
		}
	}
	// In order of version id, as a database reading its table would give them in some fixed order:
	// positions in the index are then the same from run to run.
	slices.SortFunc(changed, func(a, b gridline.Grid) int { return cmp.Compare(a.VersionID, b.VersionID) })
	f.rowsRead += len(changed)
	return stamps, changed, nil
}

func (f *fakeStore) AllStaff(context.Context) ([]gridline.Staff, error) {
	f.staffReads++
	return f.staff, nil
}

func TestIncrementalRefresh(t *testing.T) {
	src := &fakeStore{grids: map[int64]gridline.Grid{}, stamps: map[int64]int64{}}
	for i, g := range storetest.Fixture().Grids {
		g.VersionID = int64(i + 1)
		src.put(g)
	}
	ctx := context.Background()
	r := resolve.NewIncremental(src, gridline.SystemClock{}, time.UTC)
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	at := storetest.FixtureFrom.AddDate(1, 0, 0)
	p := orb.Point{113.6055, 34.7055}
	name := func() string {
		var loc resolve.Location
		r.Index().Locate(p, at, &loc, nil)
		return r.Index().Grid(loc.Chain[3]).Name
	}
	if src.rowsRead != 15 || src.staffReads != 1 {
		t.Fatalf("first load read %d rows and staff %d times", src.rowsRead, src.staffReads)
	}

	// A rename reads one row and keeps the spatial index (positions do not move).
	first := r.Index()
	g := src.grids[7]
	g.Name = "改名网格"
	src.put(g)
	r.Changed("grids")
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if src.rowsRead != 16 || src.staffReads != 1 {
		t.Fatalf("after a rename: %d rows read in all, staff read %d times", src.rowsRead, src.staffReads)
	}
	if name() != "改名网格" || r.Index() == first {
		t.Fatalf("rename not visible: %q", name())
	}

	// A boundary change and a new grid: the index is rebuilt and both are found.
	g = src.grids[13] // the special grid
	g.Geometry = storetest.Box(113.600, 34.700, 113.607, 34.707)
	src.put(g)
	src.put(gridline.Grid{ID: 99, VersionID: 99, Version: 1, Code: "410103001001902", Name: "新市场", Level: gridline.LevelGrid,
		Layer: gridline.LayerSpecial, Kind: "market", ParentID: 4, ValidFrom: storetest.FixtureFrom, Geometry: storetest.Box(113.605, 34.705, 113.606, 34.706)})
	r.Changed("grids")
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var loc resolve.Location
	r.Index().Locate(orb.Point{113.601, 34.701}, at, &loc, nil)
	if len(loc.Special) != 1 {
		t.Fatalf("moved special grid not found at its new place: %v", loc.Special)
	}
	r.Index().Locate(p, at, &loc, nil)
	if len(loc.Special) != 2 {
		t.Fatalf("specials at p = %d, want the moved one and the new one", len(loc.Special))
	}

	// A deletion.
	delete(src.grids, 99)
	delete(src.stamps, 99)
	r.Changed("grids")
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	r.Index().Locate(p, at, &loc, nil)
	if len(loc.Special) != 1 || r.Index().Len() != 15 {
		t.Fatalf("after deleting: %d specials, %d versions", len(loc.Special), r.Index().Len())
	}

	// A staff change reads staff, not grids.
	rows := src.rowsRead
	src.staff = []gridline.Staff{{GridID: 8, Post: gridline.PostFullTimeWorker, PersonID: 1, Name: "新人", ValidFrom: storetest.FixtureFrom}}
	r.Changed("assignments")
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if src.rowsRead != rows || src.staffReads != 2 {
		t.Fatalf("a staff change read %d grid rows and staff %d times", src.rowsRead-rows, src.staffReads)
	}
	if got := r.Index().Responsible(r.Index().Position(8), at); len(got) != 1 || got[0].Name != "新人" {
		t.Fatalf("responsible for grid 8 = %+v", got)
	}
}

// TestOverlayCompaction: a boundary change is answered at once from an overlay, and the full
// spatial index built in the background then replaces it in the same index, answering the same.
func TestOverlayCompaction(t *testing.T) {
	src := &fakeStore{grids: map[int64]gridline.Grid{}, stamps: map[int64]int64{}}
	for i, g := range storetest.Fixture().Grids {
		g.VersionID = int64(i + 1)
		src.put(g)
	}
	ctx := context.Background()
	r := resolve.NewIncremental(src, gridline.SystemClock{}, time.UTC)
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	at := storetest.FixtureFrom.AddDate(1, 0, 0)
	g := src.grids[13] // the special grid moves
	g.Geometry = storetest.Box(113.600, 34.700, 113.607, 34.707)
	src.put(g)
	r.Changed("grids")
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ix := r.Index()
	pts := []orb.Point{{113.601, 34.701}, {113.6055, 34.7055}, {113.607, 34.707}, {113.61, 34.72}, {113.599, 34.69}}
	answers := func() []resolve.Location {
		var out []resolve.Location
		for _, p := range pts {
			var loc resolve.Location
			ix.Locate(p, at, &loc, nil)
			out = append(out, loc)
		}
		return out
	}
	before := answers()
	if len(before[0].Special) != 1 {
		t.Fatalf("moved special grid not found at its new place: %+v", before[0])
	}
	r.WaitCompacted()
	if r.Index() != ix {
		t.Fatal("compaction swapped in another GridIndex")
	}
	if d, m := ix.Overlay(); d != 0 || m != 0 {
		t.Fatalf("after compaction: overlay of %d, %d masked", d, m)
	}
	after := answers()
	for i := range pts {
		a, b := before[i], after[i]
		if a.Chain != b.Chain || !slices.Equal(a.Special, b.Special) || !slices.Equal(a.Ties, b.Ties) || !slices.Equal(a.Thematic, b.Thematic) {
			t.Fatalf("%v: overlay %+v, compacted %+v", pts[i], a, b)
		}
	}
}
