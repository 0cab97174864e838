package tiles

import (
	"container/heap"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// PoleOfInaccessibility is the point inside mp farthest from its boundary (within precision, in
// the units of the coordinates), found by the quadtree search of Mapbox's polylabel: unlike the
// centroid it always lies inside the polygon, even for L- and U-shaped grids. For a multipolygon
// the largest part is labelled. Holes count as boundary.
//
// Coordinates are lon/lat degrees; the search runs in a local equirectangular frame (x scaled by
// the cosine of the latitude) so that "farthest" means metres rather than degrees.
func PoleOfInaccessibility(mp orb.MultiPolygon, precision float64) orb.Point {
	var best orb.Polygon
	bestArea := -1.0
	for _, p := range mp {
		if len(p) == 0 || len(p[0]) < 3 {
			continue
		}
		a := math.Abs(planar.Area(p))
		if a > bestArea {
			best, bestArea = p, a
		}
	}
	if best == nil {
		if len(mp) > 0 && len(mp[0]) > 0 && len(mp[0][0]) > 0 {
			return mp[0][0][0]
		}
		return orb.Point{}
	}
	b := best.Bound()
	k := math.Cos(b.Center()[1] * math.Pi / 180)
	if k < 1e-6 {
		k = 1e-6
	}
	// Scale into the local frame: x' = x*k.
	poly := make(orb.Polygon, len(best))
	for i, r := range best {
		rr := make(orb.Ring, len(r))
		for j, p := range r {
			rr[j] = orb.Point{p[0] * k, p[1]}
		}
		poly[i] = rr
	}
	p := polylabel(poly, precision)
	return orb.Point{p[0] / k, p[1]}
}

type cell struct {
	c    orb.Point // centre
	h    float64   // half the cell size
	d    float64   // distance from the centre to the polygon (negative outside)
	maxD float64   // the greatest distance any point in the cell can have
}

func newCell(c orb.Point, h float64, poly orb.Polygon) *cell {
	d := signedDistance(c, poly)
	return &cell{c: c, h: h, d: d, maxD: d + h*math.Sqrt2}
}

type cellQueue []*cell

func (q cellQueue) Len() int           { return len(q) }
func (q cellQueue) Less(i, j int) bool { return q[i].maxD > q[j].maxD }
func (q cellQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *cellQueue) Push(x any)        { *q = append(*q, x.(*cell)) }
func (q *cellQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

func polylabel(poly orb.Polygon, precision float64) orb.Point {
	b := poly.Bound()
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	size := math.Min(w, h)
	if size == 0 {
		return b.Min
	}
	if precision <= 0 {
		precision = math.Max(w, h) / 1000
	}
	half := size / 2
	q := &cellQueue{}
	for x := b.Min[0]; x < b.Max[0]; x += size {
		for y := b.Min[1]; y < b.Max[1]; y += size {
			heap.Push(q, newCell(orb.Point{x + half, y + half}, half, poly))
		}
	}
	// The centroid of the outer ring is a good first guess; so is the bound's centre.
	best := newCell(ringCentroid(poly[0]), 0, poly)
	if bc := newCell(b.Center(), 0, poly); bc.d > best.d {
		best = bc
	}
	for n := 0; q.Len() > 0 && n < 100000; n++ {
		c := heap.Pop(q).(*cell)
		if c.d > best.d {
			best = c
		}
		if c.maxD-best.d <= precision {
			continue
		}
		h := c.h / 2
		heap.Push(q, newCell(orb.Point{c.c[0] - h, c.c[1] - h}, h, poly))
		heap.Push(q, newCell(orb.Point{c.c[0] + h, c.c[1] - h}, h, poly))
		heap.Push(q, newCell(orb.Point{c.c[0] - h, c.c[1] + h}, h, poly))
		heap.Push(q, newCell(orb.Point{c.c[0] + h, c.c[1] + h}, h, poly))
	}
	return best.c
}

// signedDistance is the distance from p to the polygon's boundary, negative when p is outside.
func signedDistance(p orb.Point, poly orb.Polygon) float64 {
	inside := false
	minSq := math.Inf(1)
	for _, r := range poly {
		n := len(r)
		for i, j := 0, n-1; i < n; j, i = i, i+1 {
			a, b := r[i], r[j]
			if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
				inside = !inside
			}
			if d := segDistSq(p, a, b); d < minSq {
				minSq = d
			}
		}
	}
	d := math.Sqrt(minSq)
	if !inside {
		return -d
	}
	return d
}

// segDistSq is the squared distance from p to segment ab (orb/planar.DistanceFromSegmentSquared).
func segDistSq(p, a, b orb.Point) float64 {
	x, y := a[0], a[1]
	dx, dy := b[0]-x, b[1]-y
	if dx != 0 || dy != 0 {
		t := ((p[0]-x)*dx + (p[1]-y)*dy) / (dx*dx + dy*dy)
		if t > 1 {
			x, y = b[0], b[1]
		} else if t > 0 {
			x += dx * t
			y += dy * t
		}
	}
	dx, dy = p[0]-x, p[1]-y
	return dx*dx + dy*dy
}

func ringCentroid(r orb.Ring) orb.Point {
	var area, x, y float64
	n := len(r)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := r[i], r[j]
		f := a[0]*b[1] - b[0]*a[1]
		x += (a[0] + b[0]) * f
		y += (a[1] + b[1]) * f
		area += f * 3
	}
	if area == 0 {
		if n > 0 {
			return r[0]
		}
		return orb.Point{}
	}
	return orb.Point{x / area, y / area}
}
