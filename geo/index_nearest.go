package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Distance queries: the polygon nearest a point, and the distance from a point to a boundary.

// nearCellLimit bounds the cells Nearest scans edge by edge; wider searches go polygon by polygon.
const nearCellLimit = 4096

// Nearest returns the polygon nearest to p (distance 0 if it covers p) among those for which keep(i) is true (keep may be nil), searching out to maxMetres; ok=false if none. Distance in metres (see BoundaryDistance below).
//
// Distances are those of BoundaryDistance: metres in a local equirectangular projection around p.
// Ties go to the lower index, as does the choice among several polygons covering p.
func (ix *PolygonIndex) Nearest(p orb.Point, maxMetres float64, keep func(int32) bool) (i int32, metres float64, ok bool) {
	x, y := p[0], p[1]
	if !finite(x) || !finite(y) {
		return -1, 0, false
	}
	blk, ents := ix.cell(x, y)
	for _, e := range ents {
		poly := int32(uint32(e))
		if coversEntry(blk, e, x, y) && (keep == nil || keep(poly)) {
			return poly, 0, true
		}
	}
	if !(maxMetres >= 0) || ix.nx == 0 {
		return -1, 0, false
	}
	pr := newProjection(p)
	// The box that holds every point within maxMetres, grown a little against rounding.
	dLat := maxMetres / pr.ky * (1 + 1e-9)
	dLon := 360.0
	if pr.kx > 1e-9 {
		dLon = maxMetres / pr.kx * (1 + 1e-9)
	}
	box := orb.Bound{Min: orb.Point{x - dLon, y - dLat}, Max: orb.Point{x + dLon, y + dLat}}
	if box.Max[0] < ix.x0 || box.Min[0] > ix.x1 || box.Max[1] < ix.y0 || box.Min[1] > ix.y1 {
		return -1, 0, false
	}
	g := gridSpec{x0: ix.x0, y0: ix.y0, w: ix.w, h: ix.h, nx: ix.nx, ny: ix.ny, m: ix.margin}
	c0, c1 := g.colLo(box.Min[0]), g.colHi(box.Max[0])
	r0, r1 := g.rowLo(box.Min[1]), g.rowHi(box.Max[1])

	best, bestD2 := int32(-1), maxMetres*maxMetres
	consider := func(poly int32, d2 float64) {
		if d2 > bestD2 || (d2 == bestD2 && best >= 0 && poly >= best) {
			return
		}
		if keep == nil || keep(poly) {
			best, bestD2 = poly, d2
		}
	}
	if int(c1-c0+1)*int(r1-r0+1) <= nearCellLimit {
		// Every boundary point within reach lies in one of these cells, on an edge listed there.
		for r := r0; r <= r1; r++ {
			for c := c0; c <= c1; c++ {
				cell := int(r)*ix.nx + int(c)
				blk := ix.blob[ix.cellStart[cell]:ix.cellStart[cell+1]]
				if len(blk) == 0 {
					continue
				}
				for _, e := range blk[1 : 1+blk[0]] {
					if e>>32 == 0 {
						continue
					}
					d2 := math.Inf(1)
					recordEdges(blk, ringsAt(blk, e), func(ed edge) {
						d2 = min(d2, pr.segment(orb.Point{ed.x1, ed.y1}, orb.Point{ed.x2, ed.y2}).d2)
					})
					consider(int32(uint32(e)), d2)
				}
			}
		}
	} else {
		// Polygon by polygon over the coarse cells the box touches. A polygon listed in several
		// cells is seen several times, which a minimum does not mind; the bounding-box test
		// makes the repeats cheap, and avoids the sort that Candidates needs.
		cx0, cy0, cx1, cy1 := ix.coarseRange(box)
		for cy := cy0; cy <= cy1; cy++ {
			for cx := cx0; cx <= cx1; cx++ {
				c := cy*ix.cnx + cx
				for _, poly := range ix.coarsePolys[ix.coarseStart[c]:ix.coarseStart[c+1]] {
					// Filter before measuring: the filter is cheap, measuring a ring is not; and
					// skip a polygon whose bounding box is already farther than the best found.
					if !ix.bounds[poly].Intersects(box) || boxD2(&pr, ix.bounds[poly], x, y) > bestD2 {
						continue
					}
					if keep != nil && !keep(poly) {
						continue
					}
					d2 := math.Inf(1)
					for k := ix.polyRing[poly]; k < ix.polyRing[poly+1]; k++ {
						pts := ix.pts[ix.ringOff[k]:ix.ringOff[k+1]]
						if s, ok := pr.ring(pts); ok {
							d2 = min(d2, s.d2)
						}
					}
					consider(poly, d2)
				}
			}
		}
	}
	if best < 0 {
		return -1, 0, false
	}
	return best, math.Sqrt(bestD2), true
}

// boxD2 is a lower bound of the squared distance in metres from (x, y) to anything inside b.
func boxD2(pr *projection, b orb.Bound, x, y float64) float64 {
	dx := math.Max(0, math.Max(b.Min[0]-x, x-b.Max[0]))
	dy := math.Max(0, math.Max(b.Min[1]-y, y-b.Max[1]))
	// The same projection as the ring distances it bounds (degrees to metres at p's latitude).
	mx, my := dx*pr.kx, dy*pr.ky
	return mx*mx + my*my
}

// BoundaryDistance is the distance in metres from p to the nearest point of mp's boundary (all rings), and that point.
//
// Metres are measured in a local equirectangular projection around p: x = Δlon·cos(lat(p)),
// y = Δlat, both in radians times the mean earth radius 6371008.8 m. Over the tens of metres that
// matter here the error against the ellipsoid is far below 0.5% (it grows with the distance's
// latitude span and with the ellipsoid's flattening, about 0.3% at most). An empty mp gives
// +Inf and the zero point.
func BoundaryDistance(p orb.Point, mp orb.MultiPolygon) (metres float64, nearest orb.Point) {
	pr := newProjection(p)
	best := segNear{d2: math.Inf(1)}
	for _, poly := range mp {
		for _, ring := range poly {
			if s, ok := pr.ring(ring); ok && s.d2 < best.d2 {
				best = s
			}
		}
	}
	if math.IsInf(best.d2, 1) {
		return math.Inf(1), orb.Point{}
	}
	return math.Sqrt(best.d2), best.point()
}

// projection is the local equirectangular projection around a point, in metres.
type projection struct {
	p      orb.Point
	kx, ky float64 // metres per degree of lon and of lat
}

func newProjection(p orb.Point) projection {
	return projection{p: p, kx: math.Cos(p[1]*math.Pi/180) * metresPerDegree, ky: metresPerDegree}
}

// segNear is the nearest point of a segment a-b: a + t(b-a), at squared distance d2 (m²).
type segNear struct {
	a, b orb.Point
	t    float64
	d2   float64
}

func (s segNear) point() orb.Point {
	switch s.t {
	case 0:
		return s.a
	case 1:
		return s.b
	}
	return orb.Point{s.a[0] + s.t*(s.b[0]-s.a[0]), s.a[1] + s.t*(s.b[1]-s.a[1])}
}

func (pr *projection) segment(a, b orb.Point) segNear {
	ax, ay := (a[0]-pr.p[0])*pr.kx, (a[1]-pr.p[1])*pr.ky
	dx, dy := (b[0]-a[0])*pr.kx, (b[1]-a[1])*pr.ky
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = max(0, min(1, -(ax*dx+ay*dy)/l))
	}
	qx, qy := ax+t*dx, ay+t*dy
	return segNear{a: a, b: b, t: t, d2: qx*qx + qy*qy}
}

// ring is the nearest point of a ring's edges (closing it if open); ok is false for an empty ring.
func (pr *projection) ring(pts []orb.Point) (segNear, bool) {
	n := len(pts)
	best := segNear{d2: math.Inf(1)}
	try := func(a, b orb.Point) {
		// A NaN distance (from a NaN coordinate) never compares less, so such edges drop out.
		if s := pr.segment(a, b); s.d2 < best.d2 {
			best = s
		}
	}
	if n == 1 {
		try(pts[0], pts[0])
	}
	for k := 0; k+1 < n; k++ {
		try(pts[k], pts[k+1])
	}
	if n >= 2 && pts[n-1] != pts[0] {
		try(pts[n-1], pts[0])
	}
	return best, !math.IsInf(best.d2, 1)
}
