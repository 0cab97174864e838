package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// side is the sign of p's side of the polyline l near it: +1 left, -1 right.
func side(l []orb.Point, p orb.Point) float64 {
	best, s := math.Inf(1), 0.0
	for i := 0; i+1 < len(l); i++ {
		a, b := l[i], l[i+1]
		dx, dy := b[0]-a[0], b[1]-a[1]
		t := ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / (dx*dx + dy*dy)
		t = math.Max(0, math.Min(1, t))
		d := math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
		if d < best {
			best, s = d, math.Copysign(1, dx*(p[1]-a[1])-dy*(p[0]-a[0]))
		}
	}
	return s
}

// A 25 km straight edge drawn in GCJ-02 (or BD-09) is a curve in WGS84: converted with its
// vertices only it bends up to tens of metres away, and points 5-30 m from the edge end up on
// the wrong side. Converted with LineToWGS84 the points keep their side and the converted
// edge stays within 0.1 m of the true one.
func TestLineToWGS84LongEdges(t *testing.T) {
	// The edge near 100.385, 36.846 (24-28 km), and others across China.
	edges := [][2]orb.Point{
		{{100.3851444 - 0.14, 36.8457624 - 0.08}, {100.3851444 + 0.14, 36.8457624 + 0.08}},
		{{113.50, 34.60}, {113.77, 34.62}},
		{{116.20, 39.80}, {116.22, 40.03}},
		{{121.30, 31.10}, {121.52, 31.28}},
	}
	for _, crs := range []CRS{GCJ02, BD09} {
		for _, e := range edges {
			a, b := e[0], e[1]
			line := crs.LineToWGS84([]orb.Point{a, b}, ImportEdgeTolerance)
			vertexOnly := []orb.Point{{}, {}}
			vertexOnly[0][0], vertexOnly[0][1] = crs.ToWGS84(a[0], a[1])
			vertexOnly[1][0], vertexOnly[1][1] = crs.ToWGS84(b[0], b[1])
			// Perpendicular offsets of 5-30 m, in metres east and north, then degrees.
			const mPerDeg = 6371008.8 * math.Pi / 180
			cos := math.Cos(a[1] * math.Pi / 180)
			lenM := metres(a[0], a[1], b[0], b[1])
			ux, uy := (b[0]-a[0])*cos*mPerDeg/lenM, (b[1]-a[1])*mPerDeg/lenM
			wrongBefore, worst := 0, 0.0
			for i := 1; i < 200; i++ {
				f := float64(i) / 200
				px, py := a[0]+f*(b[0]-a[0]), a[1]+f*(b[1]-a[1])
				// The true edge, converted point by point.
				tx, ty := crs.ToWGS84(px, py)
				worst = math.Max(worst, distToLine(line, orb.Point{tx, ty}))
				for _, d := range []float64{5, 10, 20, 30} {
					for _, sgn := range []float64{1, -1} {
						// sgn 1 is left of a->b: the normal (-uy, ux).
						wx, wy := crs.ToWGS84(px+sgn*d*(-uy)/(mPerDeg*cos), py+sgn*d*ux/mPerDeg)
						if side(line, orb.Point{wx, wy}) != sgn {
							t.Errorf("%s edge %v: the point %g m %s of it lands on the other side", crs.Name, e, d, map[float64]string{1: "left", -1: "right"}[sgn])
						}
						if side(vertexOnly, orb.Point{wx, wy}) != sgn {
							wrongBefore++
						}
					}
				}
			}
			if worst > 0.1 {
				t.Errorf("%s edge %v: converted edge %.3f m from the true one, want <= 0.1 m", crs.Name, e, worst)
			}
			t.Logf("%s edge of %.1f km: %d points (vertex-only conversion put %d test points on the wrong side); %.3f m from the true edge", crs.Name, lenM/1000, len(line), wrongBefore, worst)
		}
	}
	// Outside China and in WGS84 nothing is added.
	if l := GCJ02.LineToWGS84([]orb.Point{{2, 48}, {3, 49}}, ImportEdgeTolerance); len(l) != 2 {
		t.Errorf("an edge outside China got %d points, want 2", len(l))
	}
	if l := WGS84.LineToWGS84([]orb.Point{{113, 34}, {114, 35}}, ImportEdgeTolerance); len(l) != 2 {
		t.Errorf("a WGS84 edge got %d points, want 2", len(l))
	}
}

// distToLine is the distance in metres from p to the polyline l.
func distToLine(l []orb.Point, p orb.Point) float64 {
	best := math.Inf(1)
	cos := math.Cos(p[1] * math.Pi / 180)
	for i := 0; i+1 < len(l); i++ {
		a, b := l[i], l[i+1]
		ax, ay, bx, by, px, py := a[0]*cos, a[1], b[0]*cos, b[1], p[0]*cos, p[1]
		dx, dy := bx-ax, by-ay
		t := math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/(dx*dx+dy*dy)))
		best = math.Min(best, math.Hypot(px-ax-t*dx, py-ay-t*dy))
	}
	return best * 6371008.8 * math.Pi / 180
}

// A line exported to GCJ-02 and read back needs no more points: the round trip changes nothing.
func TestLineRoundTripAddsNothing(t *testing.T) {
	w := []orb.Point{{113.50, 34.60}, {113.77, 34.62}, {113.70, 34.85}, {113.50, 34.60}}
	for _, crs := range []CRS{GCJ02, BD09} {
		g := crs.LineFromWGS84(w, ExportEdgeTolerance)
		back := crs.LineToWGS84(g, ImportEdgeTolerance)
		if len(back) != len(g) {
			t.Fatalf("%s: %d points exported, %d read back", crs.Name, len(g), len(back))
		}
		for _, p := range back {
			if d := distToLine(w, p); d > 1e-4 {
				t.Errorf("%s: point %v read back %g m off the WGS84 line", crs.Name, p, d)
			}
		}
	}
}
