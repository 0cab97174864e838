package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Edge tolerances of the conversions between WGS84 and GCJ-02 or BD-09, in metres. A straight
// edge in one datum is a curve in the other (32-35 m off the chord on edges of 24-28 km), so an
// edge is split, in the datum it was drawn in, until the chord between converted points stays
// within the tolerance of the converted edge. Imports use ImportEdgeTolerance, which keeps a
// stored boundary within 0.1 m of the one drawn; exports use the tighter ExportEdgeTolerance, so
// that an exported file read back in needs no more splitting and changes nothing.
const (
	ImportEdgeTolerance = 0.05
	ExportEdgeTolerance = 0.01
)

// LineToWGS84 converts a line or ring in c to WGS84, splitting its edges in c so that the result
// stays within tolM metres of the true converted edge (see ImportEdgeTolerance). For WGS84 and
// CGCS2000 it is the line unchanged.
func (c CRS) LineToWGS84(pts []orb.Point, tolM float64) []orb.Point {
	if c.Name != "gcj02" && c.Name != "bd09" {
		return pts
	}
	return convertLine(pts, c.ToWGS84, tolM)
}

// LineFromWGS84 is LineToWGS84 the other way: a WGS84 line in c.
func (c CRS) LineFromWGS84(pts []orb.Point, tolM float64) []orb.Point {
	if c.Name != "gcj02" && c.Name != "bd09" {
		return pts
	}
	return convertLine(pts, c.FromWGS84, tolM)
}

// convertLine converts each point of pts with fn and adds points where an edge needs them.
func convertLine(pts []orb.Point, fn func(x, y float64) (float64, float64), tolM float64) []orb.Point {
	conv := func(p orb.Point) orb.Point { x, y := fn(p[0], p[1]); return orb.Point{x, y} }
	if len(pts) == 0 {
		return []orb.Point{}
	}
	out := make([]orb.Point, 0, len(pts))
	prev := pts[0]
	prevC := conv(prev)
	out = append(out, prevC)
	for _, p := range pts[1:] {
		pc := conv(p)
		out = splitEdge(out, prev, p, prevC, pc, fn, tolM, 0)
		out = append(out, pc)
		prev, prevC = p, pc
	}
	return out
}

// splitEdge appends to out the converted points strictly inside the edge a-b (ac, bc converted)
// that keep the converted chords within tolM metres of the converted edge. The deviation is
// looked at a quarter, half and three quarters along: GCJ-02's shortest wave is a third of a
// degree, so an edge short enough to be checked at all is checked where it bends most.
func splitEdge(out []orb.Point, a, b, ac, bc orb.Point, fn func(x, y float64) (float64, float64), tolM float64, depth int) []orb.Point {
	if depth >= 24 || (a == b) {
		return out
	}
	split := false
	var mc orb.Point
	for _, t := range [3]float64{0.5, 0.25, 0.75} {
		x, y := fn(a[0]+t*(b[0]-a[0]), a[1]+t*(b[1]-a[1]))
		if t == 0.5 {
			mc = orb.Point{x, y}
		}
		if metres(x, y, ac[0]+t*(bc[0]-ac[0]), ac[1]+t*(bc[1]-ac[1])) > tolM {
			split = true
			break
		}
	}
	if !split {
		return out
	}
	m := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
	out = splitEdge(out, a, m, ac, mc, fn, tolM, depth+1)
	out = append(out, mc)
	return splitEdge(out, m, b, mc, bc, fn, tolM, depth+1)
}

// metres is the distance between two nearby lon/lat points, on a sphere of the WGS84 mean radius.
func metres(x1, y1, x2, y2 float64) float64 {
	const r = 6371008.8 * math.Pi / 180
	dx := (x2 - x1) * math.Cos((y1+y2)/2*math.Pi/180)
	dy := y2 - y1
	return r * math.Hypot(dx, dy)
}
