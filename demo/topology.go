package demo

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// Erqi builds every level from one set of noded edges, so two grids that share a border share its
// segments exactly: same vertices, bit for bit. That makes neighbours a matter of matching segments,
// with no tolerance and no geometry library. (Synthetic reads them off its lattice instead, faster,
// and a test checks both ways agree.)

// segKey is a segment with its end points in a canonical order, so both sides of a shared border
// give the same key.
type segKey struct{ ax, ay, bx, by float64 }

func keyOf(a, b orb.Point) segKey {
	if a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) {
		return segKey{a[0], a[1], b[0], b[1]}
	}
	return segKey{b[0], b[1], a[0], a[1]}
}

// outside is the neighbour index of a border with nothing on the other side: the district line.
const outside = -1

// border is what one polygon shares with one neighbour: the length in metres, split by the
// direction each piece faces (east, south, west or north: whichever is nearest its outward normal),
// and weighted by how much it leans each way (the normal's component, when positive) for a grid
// with no border facing some direction squarely.
type border struct {
	length float64
	facing [4]float64 // E, S, W, N
	lean   [4]float64
}

// directions are the unit vectors of east, south, west and north in proj's metres.
var directions = [4]vec{{1, 0}, {0, -1}, {-1, 0}, {0, 1}}

// borders finds, for every polygon, its neighbours among polys (by index; outside for segments no
// other polygon has) and what it shares with each. A segment owned by more than two polygons means
// the input is not a partition; it is then shared with each of the others.
func borders(polys []orb.MultiPolygon, pr proj) []map[int]*border {
	owners := make(map[segKey][]int32, len(polys)*8)
	forEachSegment(polys, func(i int, a, b orb.Point) {
		k := keyOf(a, b)
		o := owners[k]
		if len(o) == 0 || o[len(o)-1] != int32(i) {
			owners[k] = append(o, int32(i))
		}
	})
	out := make([]map[int]*border, len(polys))
	for i := range out {
		out[i] = map[int]*border{}
	}
	forEachSegment(polys, func(i int, a, b orb.Point) {
		pa, pb := pr.fwd(a), pr.fwd(b)
		d := pb.sub(pa)
		l := d.norm()
		if l == 0 {
			return
		}
		// Rings are walked with the interior on the left, so the outward normal is (dy, -dx).
		n := vec{d.y / l, -d.x / l}
		add := func(j int) {
			br := out[i][j]
			if br == nil {
				br = &border{}
				out[i][j] = br
			}
			br.length += l
			best, bestC := 0, -2.0
			for k, dir := range directions {
				c := n.dot(dir)
				if c > 0 {
					br.lean[k] += l * c
				}
				if c > bestC {
					best, bestC = k, c
				}
			}
			br.facing[best] += l
		}
		others := 0
		for _, j := range owners[keyOf(a, b)] {
			if int(j) != i {
				add(int(j))
				others++
			}
		}
		if others == 0 {
			add(outside)
		}
	})
	return out
}

// forEachSegment calls f for every segment of every ring, each ring walked with the polygon's
// interior on its left (shells counter-clockwise, holes clockwise).
func forEachSegment(polys []orb.MultiPolygon, f func(i int, a, b orb.Point)) {
	for i, mp := range polys {
		for _, poly := range mp {
			for ri, r := range poly {
				ccw := ringSignedArea(r) > 0
				forward := ccw == (ri == 0)
				n := len(r)
				for s := 0; s+1 < n; s++ {
					if forward {
						f(i, r[s], r[s+1])
					} else {
						f(i, r[n-1-s], r[n-2-s])
					}
				}
			}
		}
	}
}

// sortedKeys returns a map's keys in increasing order, so every choice made from a map is
// deterministic.
func sortedKeys[V any](m map[int]V) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// neighbour is one neighbour of a grid (outside for the district line) and the border they share.
type neighbour struct {
	j int
	border
}

// neighbours turns a map of borders into a slice ordered by neighbour, for fourBounds.
func neighbours(brd map[int]*border) []neighbour {
	out := make([]neighbour, 0, len(brd))
	for _, j := range sortedKeys(brd) {
		out = append(out, neighbour{j, *brd[j]})
	}
	return out
}

// fourBounds describes, for one grid, what lies east, south, west and north of it (四至).
//
// In each direction the candidates are the neighbours (the district line among them) across the
// borders that face that way, weighted by length; when no border faces a direction squarely, by how
// much their borders lean that way. Of the candidates with at least a third of the strongest
// weight, a sibling is named first (the one with most weight), else a grid of the same level across
// the parent's border, else the district line (区界). nbs must be ordered by neighbour, so ties go
// the same way every time.
func fourBounds(self int, nbs []neighbour, sibling func(j int) bool, name func(j int) string) [4]string {
	var out [4]string
	for dir := range 4 {
		lean := false // no border faces dir squarely: weigh by how much they lean that way
		var top float64
		for i := range nbs {
			top = math.Max(top, nbs[i].facing[dir])
		}
		if top == 0 {
			lean = true
			for i := range nbs {
				top = math.Max(top, nbs[i].lean[dir])
			}
		}
		best, bestRank, bestW := outside, -1, 0.0
		for i := range nbs {
			nb := &nbs[i]
			w := nb.facing[dir]
			if lean {
				w = nb.lean[dir]
			}
			if nb.j == self || w <= 0 || w < top/3 {
				continue
			}
			rank := 1 // a grid of the same level across the parent's border
			switch {
			case nb.j == outside:
				rank = 0
			case sibling(nb.j):
				rank = 2
			}
			if rank > bestRank || (rank == bestRank && w > bestW) {
				best, bestRank, bestW = nb.j, rank, w
			}
		}
		what := districtLine
		if best != outside {
			what = name(best)
		}
		out[dir] = fourBoundsText(dir, what)
	}
	return out
}

// components splits the members of one group into connected pieces (connected through shared
// borders of positive length, not single points). adj gives each item's neighbours with the shared
// length; in says whether an item is in the group. Pieces come out in order of their smallest
// member.
func components(members []int, adj []map[int]float64, in func(int) bool) [][]int {
	seen := map[int]bool{}
	var out [][]int
	for _, m := range members {
		if seen[m] {
			continue
		}
		var comp []int
		stack := []int{m}
		seen[m] = true
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			comp = append(comp, x)
			for _, y := range sortedKeys(adj[x]) {
				if y >= 0 && !seen[y] && in(y) {
					seen[y] = true
					stack = append(stack, y)
				}
			}
		}
		sort.Ints(comp)
		out = append(out, comp)
	}
	return out
}
