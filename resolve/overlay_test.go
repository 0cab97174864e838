package resolve

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

// latticeRegion is a district of n×n basic grids on a 0.001° lattice (shared edges and vertices
// everywhere), with version ids 1.. and stamps.
func latticeRegion(n int) ([]gridline.Grid, map[int64]int64) {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const x0, y0, s = 113.6, 34.7, 0.001
	grids := []gridline.Grid{{ID: 1, VersionID: 1, Code: "410103", Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive,
		Geometry: box(x0, y0, x0+float64(n)*s, y0+float64(n)*s), ValidFrom: day}}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			id := int64(len(grids) + 1)
			grids = append(grids, gridline.Grid{ID: id, VersionID: id, Code: fmt.Sprintf("410103001001%03d", len(grids)), ParentID: 1,
				Level: gridline.LevelGrid, Layer: gridline.LayerComprehensive, ValidFrom: day,
				Geometry: box(x0+float64(i)*s, y0+float64(j)*s, x0+float64(i+1)*s, y0+float64(j+1)*s)})
		}
	}
	stamps := map[int64]int64{}
	for _, g := range grids {
		stamps[g.VersionID] = 1
	}
	return grids, stamps
}

// TestOverlayAgreesWithRebuild applies random sequences of added, deleted, reshaped and renamed
// versions through update (which keeps an overlay) and checks that every query gives exactly the
// answers of an index built from scratch over the same versions.
func TestOverlayAgreesWithRebuild(t *testing.T) {
	const n, s = 30, 0.001
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for seed := int64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewSource(seed))
		grids, stamps := latticeRegion(n)
		ix := Build(grids, nil, day)
		ix.stamps = stamps
		nextVer, nextID, seq := int64(len(grids)+1), int64(len(grids)+1), int64(1)
		box := func() orb.MultiPolygon {
			i, j := rng.Intn(n), rng.Intn(n)
			w, h := 1+rng.Intn(3), 1+rng.Intn(3)
			return box(113.6+float64(i)*s, 34.7+float64(j)*s, 113.6+float64(i+w)*s, 34.7+float64(j+h)*s)
		}
		for step := 0; step < 25; step++ {
			seq++
			st := make(map[int64]int64, len(ix.stamps))
			for v, x := range ix.stamps {
				st[v] = x
			}
			var changed []gridline.Grid
			touched := map[int64]bool{}
			for k := 0; k < 1+rng.Intn(6); k++ {
				live := ix.grids[1+rng.Intn(len(ix.grids)-1)] // never the district
				if touched[live.VersionID] {
					continue
				}
				switch op := rng.Intn(4); op {
				case 0: // a new version of a new grid
					g := gridline.Grid{ID: nextID, VersionID: nextVer, Code: fmt.Sprintf("410103001002%03d", nextID%1000), ParentID: 1,
						Level: gridline.LevelGrid, Layer: gridline.LayerComprehensive, ValidFrom: day.AddDate(0, 0, -rng.Intn(3)), Geometry: box()}
					nextID++
					nextVer++
					st[g.VersionID] = seq
					changed = append(changed, g)
				case 1: // deleted
					if _, ok := st[live.VersionID]; ok {
						delete(st, live.VersionID)
						touched[live.VersionID] = true
					}
				case 2: // reshaped
					if _, ok := st[live.VersionID]; ok {
						live.Geometry = box()
						st[live.VersionID] = seq
						changed = append(changed, live)
						touched[live.VersionID] = true
					}
				case 3: // renamed
					if _, ok := st[live.VersionID]; ok {
						live.Name = fmt.Sprintf("renamed %d", seq)
						st[live.VersionID] = seq
						changed = append(changed, live)
						touched[live.VersionID] = true
					}
				}
			}
			ix = ix.update(true, st, changed, false, nil, day)
			ref := Build(ix.grids, nil, day)
			if err := sameAnswers(ix, ref, rng, n, day); err != nil {
				d, m := ix.Overlay()
				t.Fatalf("seed %d step %d (delta %d, masked %d): %v", seed, step, d, m, err)
			}
		}
		if d, _ := ix.Overlay(); d == 0 {
			t.Errorf("seed %d: no overlay was exercised", seed)
		}
	}
}

// sameAnswers compares Locate, Nearest and Across of a and b at lattice vertices, edge midpoints,
// random points and points outside.
func sameAnswers(a, b *GridIndex, rng *rand.Rand, n int, at time.Time) error {
	const s = 0.001
	var la, lb Location
	var sa, sb []int32
	for k := 0; k < 600; k++ {
		var p orb.Point
		switch k % 4 {
		case 0:
			p = orb.Point{113.6 + float64(rng.Intn(n+1))*s, 34.7 + float64(rng.Intn(n+1))*s}
		case 1:
			p = orb.Point{113.6 + (float64(rng.Intn(n))+0.5)*s, 34.7 + float64(rng.Intn(n+1))*s}
		case 2:
			p = orb.Point{113.6 + rng.Float64()*float64(n)*s, 34.7 + rng.Float64()*float64(n)*s}
		default:
			p = orb.Point{113.6 - 0.002 + rng.Float64()*(float64(n)*s+0.004), 34.7 - 0.002 + rng.Float64()*0.001}
		}
		sa = a.spat.Load().covering(p, sa[:0])
		sb = b.spat.Load().covering(p, sb[:0])
		if !slices.Equal(sa, sb) {
			return fmt.Errorf("covering %v: %v, rebuild %v", p, sa, sb)
		}
		a.Locate(p, at, &la, nil)
		b.Locate(p, at, &lb, nil)
		if la.Chain != lb.Chain || !slices.Equal(la.Ties, lb.Ties) || !slices.Equal(la.Special, lb.Special) {
			return fmt.Errorf("locate %v: %+v, rebuild %+v", p, la, lb)
		}
		ia, da, oka := a.Nearest(p, at, 500)
		ib, db, okb := b.Nearest(p, at, 500)
		if !sameNearest(ia, da, oka, ib, db, okb) {
			return fmt.Errorf("nearest %v: %d %v %v, rebuild %d %v %v", p, ia, da, oka, ib, db, okb)
		}
		if own := la.Deepest(); own >= 0 {
			ia, da, oka := a.Across(p, own, at, 200)
			ib, db, okb := b.Across(p, own, at, 200)
			if !sameNearest(ia, da, oka, ib, db, okb) {
				return fmt.Errorf("across %v from %d: %d %v %v, rebuild %d %v %v", p, own, ia, da, oka, ib, db, okb)
			}
		}
		var keepOdd = func(i int32) bool { return i%2 == 1 }
		ia, da, oka = a.spat.Load().nearest(p, 300, keepOdd)
		ib, db, okb = b.spat.Load().nearest(p, 300, keepOdd)
		if !sameNearest(ia, da, oka, ib, db, okb) || (oka && ia%2 != 1) {
			return fmt.Errorf("nearest odd %v: %d %v %v, rebuild %d %v %v", p, ia, da, oka, ib, db, okb)
		}
	}
	return nil
}

// sameNearest: the same answer, or, at a tie, an answer as near. Two polygons at the same distance
// can measure a last-bit apart when their edges are cut differently into cells (the delta's cell
// grid is not the full index's), so "ties go to the lower position" holds only up to that.
func sameNearest(ia int32, da float64, oka bool, ib int32, db float64, okb bool) bool {
	if oka != okb {
		return false
	}
	return ia == ib && da == db || math.Abs(da-db) <= 1e-9*math.Max(1, db)
}

// TestOverlayLimit: a delta past deltaLimit builds the full index at once.
func TestOverlayLimit(t *testing.T) {
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	grids, stamps := latticeRegion(50) // 2,501 versions: the limit is 2,000
	ix := Build(grids[:1], nil, day)
	ix.stamps = map[int64]int64{1: 1}
	nx := ix.update(true, stamps, grids[1:], false, nil, day)
	if d, m := nx.Overlay(); d != 0 || m != 0 {
		t.Fatalf("overlay of %d, %d masked after adding 2,500 versions; want a full index", d, m)
	}
	nx2 := nx.update(true, map[int64]int64{1: 1, 2: 1}, nil, false, nil, day)
	if d, m := nx2.Overlay(); d != 0 || m != 2499 {
		t.Fatalf("deleting: overlay of %d, %d masked; want 0, 2499", d, m)
	}
	if err := sameAnswers(nx2, Build(nx2.grids, nil, day), rand.New(rand.NewSource(1)), 50, day); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkUpdateOverlay is the in-memory part of a refresh after 50 versions were added and 50
// closed (as a published draft does) on a region of 111,557 versions: with the overlay, no full
// spatial index is built.
func BenchmarkUpdateOverlay(b *testing.B) {
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	grids, stamps := latticeRegion(334)
	ix := Build(grids, nil, day)
	ix.stamps = stamps
	st := make(map[int64]int64, len(stamps)+50)
	for v, x := range stamps {
		st[v] = x
	}
	var changed []gridline.Grid
	for k := 0; k < 50; k++ {
		old := grids[1000+k*37]
		end := day.AddDate(0, 0, 1)
		old.ValidTo = &end
		st[old.VersionID] = 2
		nv := old
		nv.VersionID, nv.ValidFrom, nv.ValidTo = int64(len(grids)+1+k), end, nil
		nv.Geometry = box(113.6+float64(k)*0.001, 34.7, 113.6+float64(k+1)*0.001, 34.7015)
		st[nv.VersionID] = 2
		changed = append(changed, old, nv)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nx := ix.update(true, st, changed, false, nil, day)
		if d, _ := nx.Overlay(); d != 50 {
			b.Fatalf("delta %d", d)
		}
	}
}

// BenchmarkLocateRegion is Locate on a region of 111,557 versions with a full spatial index, and
// with an overlay of 50 new versions (50 closed) over it.
func BenchmarkLocateRegion(b *testing.B) {
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	grids, stamps := latticeRegion(334)
	ix := Build(grids, nil, day)
	ix.stamps = stamps
	st := make(map[int64]int64, len(stamps)+50)
	for v, x := range stamps {
		st[v] = x
	}
	var changed []gridline.Grid
	for k := 0; k < 50; k++ {
		g := grids[1+k*2000]
		g.VersionID = int64(len(grids) + 1 + k)
		st[g.VersionID] = 2
		changed = append(changed, g)
	}
	ov := ix.update(true, st, changed, false, nil, day)
	rng := rand.New(rand.NewSource(1))
	pts := make([]orb.Point, 4096)
	for i := range pts {
		pts[i] = orb.Point{113.6 + rng.Float64()*0.334, 34.7 + rng.Float64()*0.334}
	}
	for _, c := range []struct {
		name string
		ix   *GridIndex
	}{{"full", ix}, {"overlay", ov}} {
		b.Run(c.name, func(b *testing.B) {
			var loc Location
			scratch := make([]int32, 0, 16)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				scratch = c.ix.Locate(pts[i%len(pts)], day, &loc, scratch)
			}
		})
	}
}

// box is a rectangle as a multipolygon (storetest.Box: resolve's internal tests cannot import
// storetest, which reaches resolve again through store and dispatch).
func box(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}
