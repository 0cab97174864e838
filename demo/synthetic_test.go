package demo

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

func countLevels(d *District) map[gridline.Level]int {
	n := map[gridline.Level]int{}
	for _, g := range d.Grids {
		n[g.Level]++
	}
	return n
}

func TestSyntheticCounts(t *testing.T) {
	tests := []struct {
		name                string
		n                   int
		micro               bool
		subdistricts, comms int
		minMicro, maxMicro  int
	}{
		{name: "one grid", n: 1, subdistricts: 1, comms: 1},
		{name: "one full community", n: 9, subdistricts: 1, comms: 1},
		{name: "short last row", n: 10, subdistricts: 1, comms: 2},
		{name: "square", n: 100, subdistricts: 4, comms: 16},
		{name: "short last row of communities", n: 1234, subdistricts: 16, comms: 144},
		{name: "with micro grids", n: 250, micro: true, subdistricts: 4, comms: 34, minMicro: 6 * 250, maxMicro: 8 * 250},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			build := Synthetic
			if tc.micro {
				build = SyntheticWithMicro
			}
			d, err := build(tc.n, 7, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := countLevels(d)
			if got[gridline.LevelDistrict] != 1 || got[gridline.LevelSubdistrict] != tc.subdistricts ||
				got[gridline.LevelCommunity] != tc.comms || got[gridline.LevelGrid] != tc.n {
				t.Errorf("levels %v, want 1 district, %d subdistricts, %d communities, %d basic grids", got, tc.subdistricts, tc.comms, tc.n)
			}
			if m := got[gridline.LevelMicro]; m < tc.minMicro || m > tc.maxMicro {
				t.Errorf("%d micro grids, want %d to %d", m, tc.minMicro, tc.maxMicro)
			}
			checkIDs(t, d)
			checkSums(t, d)
			checkNesting(t, d)
			checkFourBounds(t, d)
			checkSyntheticCodes(t, d)
			for _, g := range d.Grids {
				if g.Level == gridline.LevelGrid && (g.Households < 300 || g.Households > 500) {
					t.Errorf("basic grid %s has %d households, want 300-500", g.Code, g.Households)
				}
				if !g.ValidFrom.Equal(DefaultValidFrom) {
					t.Errorf("grid %s valid from %s, want the default %s", g.Code, g.ValidFrom, DefaultValidFrom)
				}
			}
		})
	}
}

// checkSyntheticCodes: unique, of the right length for their level, each the parent's code plus a
// three-digit sequence numbered from 001 without gaps.
func checkSyntheticCodes(t *testing.T, d *District) {
	t.Helper()
	wantLen := map[gridline.Level]int{gridline.LevelDistrict: 6, gridline.LevelSubdistrict: 9, gridline.LevelCommunity: 12, gridline.LevelGrid: 15, gridline.LevelMicro: 18}
	seen := map[string]bool{}
	last := map[int64]int{} // parent -> last sequence seen
	for _, g := range d.Grids {
		if seen[g.Code] {
			t.Errorf("code %s appears twice", g.Code)
		}
		seen[g.Code] = true
		if len(g.Code) != wantLen[g.Level] || !allDigits(g.Code) {
			t.Errorf("%s code %s: want %d digits", g.Level, g.Code, wantLen[g.Level])
			continue
		}
		if g.ParentID == 0 {
			continue
		}
		p := d.Grids[g.ParentID-1]
		if !strings.HasPrefix(g.Code, p.Code) {
			t.Errorf("code %s does not start with its parent's %s", g.Code, p.Code)
		}
		seq := atoi(g.Code[len(g.Code)-3:])
		if seq != last[g.ParentID]+1 {
			t.Errorf("code %s follows sequence %d under %s", g.Code, last[g.ParentID], p.Code)
		}
		last[g.ParentID] = seq
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestSyntheticDeterministic(t *testing.T) {
	a, err := SyntheticWithMicro(300, 42, Options{ValidFrom: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := SyntheticWithMicro(300, 42, Options{ValidFrom: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs with the same seed differ")
	}
	c, err := SyntheticWithMicro(300, 43, Options{ValidFrom: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Grids[0].Geometry, c.Grids[0].Geometry) {
		t.Error("seeds 42 and 43 give the same district outline: the seed does not reach the lattice")
	}
	if a.Grids[0].ValidFrom != time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) || a.Assignments[0].ValidFrom != a.Grids[0].ValidFrom {
		t.Errorf("valid_from %s / %s, want 2025-03-01 from Options", a.Grids[0].ValidFrom, a.Assignments[0].ValidFrom)
	}
}

func TestSyntheticLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 grids")
	}
	const n = 100000
	d, err := Synthetic(n, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := countLevels(d)
	if got[gridline.LevelGrid] != n || got[gridline.LevelSubdistrict] > 961 {
		t.Fatalf("levels %v, want %d basic grids and at most 961 subdistricts", got, n)
	}
	checkIDs(t, d)
	checkSyntheticCodes(t, d)
	checkNesting(t, d)
}

func TestSyntheticRejects(t *testing.T) {
	for _, n := range []int{0, -5, syntheticMaxN + 1} {
		if _, err := Synthetic(n, 1, Options{}); err == nil {
			t.Errorf("Synthetic(%d) gave no error", n)
		}
	}
}

func BenchmarkSynthetic100k(b *testing.B) {
	for b.Loop() {
		if _, err := Synthetic(100000, 1, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSyntheticWithMicro100k(b *testing.B) {
	for b.Loop() {
		if _, err := SyntheticWithMicro(100000, 1, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// The lattice reads four bounds off cell owners; Erqi computes them from the polygons' shared
// segments. On the same region both must agree.
func TestSyntheticFourBoundsMatchGeometry(t *testing.T) {
	d, err := SyntheticWithMicro(250, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pr := projFor(d.Grids[0].Geometry)
	for _, level := range []gridline.Level{gridline.LevelSubdistrict, gridline.LevelCommunity, gridline.LevelGrid, gridline.LevelMicro} {
		var gs []gridline.Grid
		var geoms []orb.MultiPolygon
		for _, g := range d.Grids {
			if g.Level == level {
				gs = append(gs, g)
				geoms = append(geoms, g.Geometry)
			}
		}
		want := boundsOf(geoms, pr, func(i, j int) bool { return gs[i].ParentID == gs[j].ParentID }, func(j int) string { return gs[j].Name })
		diff := 0
		for i, g := range gs {
			if g.Bounds != want[i] {
				diff++
				if diff <= 3 {
					t.Errorf("%s %s: four bounds %v from the lattice, %v from the geometry", level, g.Code, g.Bounds, want[i])
				}
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d of %d grids differ", level, diff, len(gs))
		}
	}
}
