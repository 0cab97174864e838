package importers_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/importers"
)

// A district with a 24.8 km straight edge, drawn in GCJ-02 or in a Gauss-Krüger zone, keeps
// that edge where it was drawn: points 5-30 m either side of it, in the file's own coordinates,
// fall inside and outside the stored district as they should (converted at the vertices only,
// the edge bent 30 m in GCJ-02 and 9.7 m in EPSG:4547).
func TestLongEdgesStayWhereDrawn(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		crs  string
		a, b [2]float64 // the long edge; the third corner is (b.x, a.y), to its right
	}{
		{crs: "gcj02", a: [2]float64{113.50, 34.60}, b: [2]float64{113.77, 34.62}},
		{crs: "EPSG:4547", a: [2]float64{640000, 3780000}, b: [2]float64{657000, 3798000}},
	} {
		t.Run(tc.crs, func(t *testing.T) {
			db, eng := emptyDB(t)
			a, b := tc.a, tc.b
			c := [2]float64{b[0], a[1]}
			if tc.crs == "gcj02" {
				c = [2]float64{b[0], a[1] - 0.1}
			}
			gj := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"100001","name":"长边区","level":"district"},
				"geometry":{"type":"Polygon","coordinates":[[[%.10f,%.10f],[%.10f,%.10f],[%.10f,%.10f],[%.10f,%.10f]]]}}]}`,
				a[0], a[1], c[0], c[1], b[0], b[1], a[0], a[1])
			rep, err := eng.Import(ctx, []string{writeFile(t, "long.geojson", gj)}, importers.Options{From: from, Apply: true, CRS: tc.crs})
			if err != nil || !rep.OK() {
				t.Fatalf("import: %v %+v", err, rep)
			}
			// Points 5-30 m either side of the edge, in the file's coordinates.
			var xs, ys []float64
			var inside []bool
			for i := 1; i < 40; i++ {
				f := float64(i) / 40
				px, py := a[0]+f*(b[0]-a[0]), a[1]+f*(b[1]-a[1])
				// Metres east and north per unit of x and y.
				ex, ny := 1.0, 1.0
				if tc.crs == "gcj02" {
					ex, ny = 111195*math.Cos(py*math.Pi/180), 111195
				}
				ux, uy := (b[0]-a[0])*ex, (b[1]-a[1])*ny
				l := math.Hypot(ux, uy)
				ux, uy = ux/l, uy/l
				for _, d := range []float64{5, 10, 30} {
					for _, sgn := range []float64{1, -1} {
						// sgn 1: left of a->b, outside (the third corner is to the right).
						xs = append(xs, px+sgn*d*(-uy)/ex)
						ys = append(ys, py+sgn*d*ux/ny)
						inside = append(inside, sgn < 0)
					}
				}
			}
			var lon, lat []float64
			if tc.crs == "gcj02" {
				for i := range xs {
					x, y := geo.GCJ02ToWGS84(xs[i], ys[i])
					lon, lat = append(lon, x), append(lat, y)
				}
			} else {
				if lon, lat, err = db.Transform(ctx, 4547, xs, ys); err != nil {
					t.Fatal(err)
				}
			}
			wrong := 0
			for i := range lon {
				ids, err := db.Covering(ctx, lon[i], lat[i])
				if err != nil {
					t.Fatal(err)
				}
				if (len(ids) > 0) != inside[i] {
					wrong++
					if wrong <= 5 {
						t.Errorf("point (%.7f, %.7f) in %s is inside: %v, want %v", xs[i], ys[i], tc.crs, len(ids) > 0, inside[i])
					}
				}
			}
			if wrong > 0 {
				t.Errorf("%d of %d points on the wrong side of the long edge", wrong, len(lon))
			}
		})
	}
}
