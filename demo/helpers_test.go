package demo

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// testDB is a fresh database on the PostGIS that `make test` starts (see storetest: skipped on a
// laptop without DATABASE_URL, failed in CI).
func testDB(t *testing.T) *store.DB {
	t.Helper()
	return storetest.New(t)
}

// directedSegments lists the segments of mp, each ring walked with the interior on its left.
func directedSegments(mp orb.MultiPolygon) [][2]orb.Point {
	var out [][2]orb.Point
	forEachSegment([]orb.MultiPolygon{mp}, func(_ int, a, b orb.Point) {
		out = append(out, [2]orb.Point{a, b})
	})
	return out
}

// partitionProblems checks, with exact coordinates, that children tile parent: every segment of a
// child is either used backwards by exactly one other child (a shared border with identical
// vertices) or forwards by the parent (the parent's border), and every segment of the parent is
// used forwards by exactly one child. Together with valid polygons, that is no gap, no overlap and
// shared borders with the same vertices on both sides. It returns a description of what is wrong,
// or nil. With a nil parent, only the children are checked: shared borders used once each way, and
// any other segment used once.
func partitionProblems(parent orb.MultiPolygon, children []orb.MultiPolygon) []string {
	type use struct{ fwd, back int }
	seen := map[[2]orb.Point]*use{}
	count := func(a, b orb.Point) *use {
		k := [2]orb.Point{a, b}
		back := false
		if b[0] < a[0] || (b[0] == a[0] && b[1] < a[1]) {
			k, back = [2]orb.Point{b, a}, true
		}
		u := seen[k]
		if u == nil {
			u = &use{}
			seen[k] = u
		}
		if back {
			u.back++
		} else {
			u.fwd++
		}
		return u
	}
	for _, c := range children {
		for _, s := range directedSegments(c) {
			count(s[0], s[1])
		}
	}
	parentSegs := map[[2]orb.Point]bool{}
	for _, s := range directedSegments(parent) {
		parentSegs[s] = true
	}
	var problems []string
	for k, u := range seen {
		a, b := k[0], k[1]
		switch {
		case u.fwd == 1 && u.back == 1: // shared by two children, opposite ways
		case parent == nil && u.fwd+u.back == 1:
		case u.fwd == 1 && u.back == 0 && parentSegs[[2]orb.Point{a, b}]:
		case u.fwd == 0 && u.back == 1 && parentSegs[[2]orb.Point{b, a}]:
		default:
			problems = append(problems, fmt.Sprintf("segment %v-%v used %d times forwards and %d backwards by children (on parent border: %v)",
				a, b, u.fwd, u.back, parentSegs[[2]orb.Point{a, b}] || parentSegs[[2]orb.Point{b, a}]))
		}
	}
	for s := range parentSegs {
		k, fwd := s, true
		if s[1][0] < s[0][0] || (s[1][0] == s[0][0] && s[1][1] < s[0][1]) {
			k, fwd = [2]orb.Point{s[1], s[0]}, false
		}
		u := seen[k]
		if u == nil || (fwd && u.fwd != 1) || (!fwd && u.back != 1) {
			problems = append(problems, fmt.Sprintf("parent segment %v-%v is not on exactly one child's border", s[0], s[1]))
		}
	}
	sort.Strings(problems)
	return problems
}

// checkNesting runs partitionProblems for every parent of the comprehensive layer, and compares
// planar areas too. Police grids tile the district on their own: they must share their borders
// exactly with each other, and cover the district's area, but their outer border has its own
// vertices where police borders meet the district line.
func checkNesting(t *testing.T, d *District) {
	t.Helper()
	children := map[int64][]orb.MultiPolygon{}
	for _, g := range d.Grids {
		if g.ParentID != 0 && g.Layer != gridline.LayerSpecial {
			k := g.ParentID
			if g.Layer == gridline.LayerPolice {
				k = -g.ParentID // police grids tile the district on their own
			}
			children[k] = append(children[k], g.Geometry)
		}
	}
	byID := map[int64]gridline.Grid{}
	for _, g := range d.Grids {
		byID[g.ID] = g
	}
	bad := 0
	for k, cs := range children {
		p := byID[k]
		if k < 0 {
			p = byID[-k]
		}
		var parent orb.MultiPolygon
		if k > 0 {
			parent = p.Geometry
		}
		if probs := partitionProblems(parent, cs); len(probs) > 0 {
			bad++
			if bad <= 5 {
				t.Errorf("children of %s %s (%d) do not tile it exactly: %d problems, first: %s", p.Code, p.Name, len(cs), len(probs), probs[0])
			}
		}
		var sum float64
		for _, c := range cs {
			sum += planar.Area(c)
		}
		if pa := planar.Area(p.Geometry); math.Abs(sum-pa) > 1e-9*pa {
			t.Errorf("children of %s cover %.12g square degrees, the parent %.12g", p.Code, sum, pa)
		}
	}
	if bad > 5 {
		t.Errorf("... %d parents in all are not tiled exactly", bad)
	}
}

// checkSums checks that households and population of every comprehensive parent are the sums of
// its children's.
func checkSums(t *testing.T, d *District) {
	t.Helper()
	hh, pop := map[int64]int{}, map[int64]int{}
	for _, g := range d.Grids {
		if g.Layer == gridline.LayerComprehensive && g.ParentID != 0 {
			hh[g.ParentID] += g.Households
			pop[g.ParentID] += g.Population
		}
	}
	for _, g := range d.Grids {
		if g.Layer != gridline.LayerComprehensive || g.Level == gridline.LevelMicro {
			continue
		}
		if _, ok := hh[g.ID]; !ok && g.Level == gridline.LevelGrid {
			continue // a basic grid without micro grids
		}
		if hh[g.ID] != g.Households || pop[g.ID] != g.Population {
			t.Errorf("%s %s: households %d population %d, its children sum to %d and %d", g.Code, g.Name, g.Households, g.Population, hh[g.ID], pop[g.ID])
		}
	}
}

// checkIDs checks that grids, people and assignments are numbered 1..n, that parents come before
// children, that every reference resolves, and that everything passes its Validate.
func checkIDs(t *testing.T, d *District) {
	t.Helper()
	level := map[int64]gridline.Level{}
	for i, g := range d.Grids {
		if g.ID != int64(i+1) {
			t.Fatalf("grid %d has ID %d, want %d", i, g.ID, i+1)
		}
		if err := g.Validate(); err != nil {
			t.Errorf("grid %s: %v", g.Code, err)
		}
		if g.ParentID != 0 {
			pl, ok := level[g.ParentID]
			if !ok {
				t.Errorf("grid %s: parent %d does not come before it", g.Code, g.ParentID)
			} else if g.Layer == gridline.LayerComprehensive && pl.Rank() != g.Level.Rank()-1 {
				t.Errorf("grid %s (%s): parent is a %s", g.Code, g.Level, pl)
			}
		}
		level[g.ID] = g.Level
	}
	for i, p := range d.People {
		if p.ID != int64(i+1) {
			t.Fatalf("person %d has ID %d", i, p.ID)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("person %d: %v", p.ID, err)
		}
	}
	for i, a := range d.Assignments {
		if a.ID != int64(i+1) {
			t.Fatalf("assignment %d has ID %d", i, a.ID)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("assignment %d: %v", a.ID, err)
		}
		if a.PersonID < 1 || a.PersonID > int64(len(d.People)) || a.GridID < 1 || a.GridID > int64(len(d.Grids)) {
			t.Errorf("assignment %d refers to person %d, grid %d: out of range", a.ID, a.PersonID, a.GridID)
		}
	}
}

var (
	mobile      = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	boundPrefix = [4]string{"东至", "南至", "西至", "北至"}
)

// checkFourBounds checks every comprehensive grid below the district has four bounds, each naming
// the district line or a grid of the same level.
func checkFourBounds(t *testing.T, d *District) {
	t.Helper()
	names := map[gridline.Level]map[string]bool{}
	for _, g := range d.Grids {
		if g.Layer != gridline.LayerComprehensive {
			continue
		}
		if names[g.Level] == nil {
			names[g.Level] = map[string]bool{}
		}
		names[g.Level][g.Name] = true
	}
	bad := 0
	for _, g := range d.Grids {
		if g.Layer != gridline.LayerComprehensive || g.Level == gridline.LevelDistrict {
			continue
		}
		for i, s := range [4]string{g.Bounds.East, g.Bounds.South, g.Bounds.West, g.Bounds.North} {
			what, ok := cutPrefix(s, boundPrefix[i])
			if !ok || (what != districtLine && !names[g.Level][what]) || what == g.Name {
				bad++
				if bad < 5 {
					t.Errorf("%s %s: bound %q is not %s followed by 区界 or another %s", g.Code, g.Name, s, boundPrefix[i], g.Level)
				}
			}
		}
	}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) < len(p) || s[:len(p)] != p {
		return s, false
	}
	return s[len(p):], true
}
