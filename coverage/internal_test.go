package coverage

import (
	"math"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

func box(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func reversed(r orb.Ring) orb.Ring {
	r = slices.Clone(r)
	slices.Reverse(r)
	return r
}

// TestEdgesCancel checks the proof of a clean family on hand-made cases (coordinates in degrees):
// it must accept exact tilings whatever the rings' stored orientation and wherever one side of a
// border has vertices the other lacks, and refuse gaps, overlaps and children outside.
func TestEdgesCancel(t *testing.T) {
	parent := orb.MultiPolygon{{box(0, 0, 2, 1)}}
	cases := []struct {
		name     string
		parent   orb.MultiPolygon
		children []orb.MultiPolygon
		clean    bool
	}{
		{"two halves", parent, []orb.MultiPolygon{{{box(0, 0, 1, 1)}}, {{box(1, 0, 2, 1)}}}, true},
		{"a child stored clockwise", parent, []orb.MultiPolygon{{{reversed(box(0, 0, 1, 1))}}, {{box(1, 0, 2, 1)}}}, true},
		{"a child with a hole and the child filling it", orb.MultiPolygon{{box(0, 0, 3, 3)}},
			[]orb.MultiPolygon{{{box(0, 0, 3, 3), box(1, 1, 2, 2)}}, {{box(1, 1, 2, 2)}}}, true},
		{"the same, the hole stored counter-clockwise", orb.MultiPolygon{{box(0, 0, 3, 3)}},
			[]orb.MultiPolygon{{{box(0, 0, 3, 3), reversed(reversed(box(1, 1, 2, 2)))}}, {{reversed(box(1, 1, 2, 2))}}}, true},
		{"a gap", parent, []orb.MultiPolygon{{{box(0, 0, 0.9, 1)}}, {{box(1, 0, 2, 1)}}}, false},
		{"an overlap", parent, []orb.MultiPolygon{{{box(0, 0, 1.1, 1)}}, {{box(1, 0, 2, 1)}}}, false},
		{"a child twice", parent, []orb.MultiPolygon{{{box(0, 0, 1, 1)}}, {{box(0, 0, 1, 1)}}, {{box(1, 0, 2, 1)}}}, false},
		{"a child outside", parent, []orb.MultiPolygon{{{box(0, 0, 1, 1)}}, {{box(1, 0, 2.5, 1)}}}, false},
		// The parent lacks the vertices (1, 0) and (1, 1) where the children's border meets it.
		{"the parent without the children's vertices", parent, []orb.MultiPolygon{{{box(0, 0, 1, 1)}}, {{box(1, 0, 2, 1)}}}, true},
		{"a child with an extra vertex on the parent's edge", parent, []orb.MultiPolygon{
			{{orb.Ring{{0, 0}, {0.5, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}, {{box(1, 0, 2, 1)}}}, true},
		{"a child with a vertex 1 mm off the parent's edge", parent, []orb.MultiPolygon{
			{{orb.Ring{{0, 0}, {0.5, -1e-8}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}, {{box(1, 0, 2, 1)}}}, false},
		{"a child split along the border twice", parent, []orb.MultiPolygon{
			{{orb.Ring{{0, 0}, {0.5, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}, {{orb.Ring{{0, 0}, {0.5, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}, {{box(1, 0, 2, 1)}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			grids := gridSlice{{ID: 1, Code: "1", Geometry: c.parent}}
			f := family{parent: 0}
			for k, g := range c.children {
				grids = append(grids, grids[0])
				grids[k+1].ID, grids[k+1].ParentID, grids[k+1].Geometry = int64(k+2), 1, g
				f.children = append(f.children, int32(k+1))
			}
			s := &scope{ix: grids}
			e := &edgeCounter{m: map[segment]int32{}}
			if got := e.clean(s, f); got != c.clean {
				t.Errorf("clean = %v, want %v", got, c.clean)
			}
			// The counter is reused for the next family: a dirty one must not leak into it.
			if !e.clean(s, family{parent: 0, children: []int32{0}}) {
				t.Error("the parent alone is not its own exact tiling after a dirty family")
			}
		})
	}
}

func TestGini(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{400, 400, 400, 400}, 0},
		{[]float64{0, 0, 0, 100}, 0.75},
		{[]float64{100, 200, 300}, 2.0 / 9},
		{[]float64{0, 0}, 0},
	} {
		if got := gini(c.xs); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("gini(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	b := balance("p", "grid", []float64{300, 500})
	if b.Mean != 400 || b.CV != 0.25 || b.Gini != 0.125 {
		t.Errorf("balance(300, 500) = %+v, want mean 400, cv 0.25, gini 0.125", b)
	}
}
