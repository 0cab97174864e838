package drafts

import (
	"math"

	"github.com/paulmach/orb"
)

// Shared boundaries in gridline are bit-identical: neighbours hold the same vertices, bit for bit
// (demo/topology.go builds every level from one set of noded edges; imports are snapped). So a
// vertex is found by exact comparison, and moving it in every grid that has it keeps neighbours
// neighbours without a topology (docs/decisions.md, "Drafts edit shared vertices").

func cloneMP(mp orb.MultiPolygon) orb.MultiPolygon {
	out := make(orb.MultiPolygon, len(mp))
	for i, p := range mp {
		out[i] = make(orb.Polygon, len(p))
		for j, r := range p {
			out[i][j] = append(orb.Ring(nil), r...)
		}
	}
	return out
}

// hasVertex reports whether p is a vertex of mp.
func hasVertex(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		for _, r := range poly {
			for _, q := range r {
				if q == p {
					return true
				}
			}
		}
	}
	return false
}

// vertices is the set of mp's vertices.
func vertices(mp orb.MultiPolygon) map[orb.Point]bool {
	out := map[orb.Point]bool{}
	for _, poly := range mp {
		for _, r := range poly {
			for _, q := range r {
				out[q] = true
			}
		}
	}
	return out
}

// replaceVertex is mp with every occurrence of from moved to to.
func replaceVertex(mp orb.MultiPolygon, from, to orb.Point) orb.MultiPolygon {
	out := cloneMP(mp)
	for _, poly := range out {
		for _, r := range poly {
			for k := range r {
				if r[k] == from {
					r[k] = to
				}
			}
		}
	}
	return out
}

// removeVertex is mp without the vertex p; ok is false when a ring would keep fewer than three
// distinct positions.
func removeVertex(mp orb.MultiPolygon, p orb.Point) (orb.MultiPolygon, bool) {
	out := make(orb.MultiPolygon, len(mp))
	for i, poly := range mp {
		out[i] = make(orb.Polygon, len(poly))
		for j, r := range poly {
			open := r
			if len(r) > 1 && r[0] == r[len(r)-1] {
				open = r[:len(r)-1]
			}
			var kept orb.Ring
			for _, q := range open {
				if q != p {
					kept = append(kept, q)
				}
			}
			if len(kept) != len(open) && len(kept) < 3 {
				return nil, false
			}
			kept = append(kept, kept[0])
			out[i][j] = kept
		}
	}
	return out, true
}

// onSegment reports whether p lies on segment a-b within eps degrees, strictly between its ends.
func onSegment(a, b, p orb.Point, eps float64) bool {
	if p == a || p == b {
		return false
	}
	if p[0] < math.Min(a[0], b[0])-eps || p[0] > math.Max(a[0], b[0])+eps ||
		p[1] < math.Min(a[1], b[1])-eps || p[1] > math.Max(a[1], b[1])+eps {
		return false
	}
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	if l == 0 {
		return false
	}
	d := math.Abs(dx*(p[1]-a[1])-dy*(p[0]-a[0])) / l
	return d <= eps
}

// insertVertex puts p into every segment of mp it lies on (within eps); changed says whether any.
func insertVertex(mp orb.MultiPolygon, p orb.Point, eps float64) (orb.MultiPolygon, bool) {
	out := cloneMP(mp)
	changed := false
	for _, poly := range out {
		for j, r := range poly {
			var nr orb.Ring
			for k := 0; k+1 < len(r); k++ {
				nr = append(nr, r[k])
				if onSegment(r[k], r[k+1], p, eps) {
					nr = append(nr, p)
					changed = true
				}
			}
			nr = append(nr, r[len(r)-1])
			poly[j] = nr
		}
	}
	return out, changed
}

// interiorPoint is a point inside mp's largest polygon: its centroid when inside, else the
// midpoint of the longest horizontal chord through it.
func interiorPoint(mp orb.MultiPolygon) orb.Point {
	var best orb.Polygon
	var bestA float64
	for _, p := range mp {
		if a := math.Abs(ringArea(p[0])); a > bestA {
			best, bestA = p, a
		}
	}
	if best == nil {
		return orb.Point{}
	}
	c := centroid(best[0])
	if polygonContains(best, c) {
		return c
	}
	// A horizontal line through c: the midpoint of its first inside stretch.
	var xs []float64
	for _, r := range best {
		for k := 0; k+1 < len(r); k++ {
			a, b := r[k], r[k+1]
			if (a[1] > c[1]) != (b[1] > c[1]) {
				xs = append(xs, a[0]+(c[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]))
			}
		}
	}
	sortFloats(xs)
	if len(xs) >= 2 {
		return orb.Point{(xs[0] + xs[1]) / 2, c[1]}
	}
	return c
}

func sortFloats(xs []float64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func ringArea(r orb.Ring) float64 {
	var s float64
	for k := 0; k+1 < len(r); k++ {
		s += r[k][0]*r[k+1][1] - r[k+1][0]*r[k][1]
	}
	return s / 2
}

func centroid(r orb.Ring) orb.Point {
	var cx, cy, a float64
	for k := 0; k+1 < len(r); k++ {
		f := r[k][0]*r[k+1][1] - r[k+1][0]*r[k][1]
		cx += (r[k][0] + r[k+1][0]) * f
		cy += (r[k][1] + r[k+1][1]) * f
		a += f
	}
	if a == 0 {
		return r[0]
	}
	return orb.Point{cx / (3 * a), cy / (3 * a)}
}

func ringContains(r orb.Ring, p orb.Point) bool {
	in := false
	for k, j := 0, len(r)-1; k < len(r); j, k = k, k+1 {
		a, b := r[k], r[j]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

func polygonContains(poly orb.Polygon, p orb.Point) bool {
	if len(poly) == 0 || !ringContains(poly[0], p) {
		return false
	}
	for _, h := range poly[1:] {
		if ringContains(h, p) {
			return false
		}
	}
	return true
}

func mpContains(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		if polygonContains(poly, p) {
			return true
		}
	}
	return false
}

// finite reports whether every coordinate of mp is a finite longitude/latitude.
func finiteLonLat(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}
