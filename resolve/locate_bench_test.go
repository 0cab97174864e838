package resolve_test

import (
	"math/rand"
	"testing"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store/storetest"
)

// BenchmarkLocate is one Locate of a random point in the fixture district (no overlay).
func BenchmarkLocate(b *testing.B) {
	r := fixtureResolver(b)
	ix := r.Index()
	at := storetest.FixtureFrom.AddDate(1, 0, 0)
	rng := rand.New(rand.NewSource(1))
	pts := make([]orb.Point, 1024)
	for i := range pts {
		pts[i] = orb.Point{113.60 + rng.Float64()*0.04, 34.70 + rng.Float64()*0.04}
	}
	var loc resolve.Location
	scratch := make([]int32, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		scratch = ix.Locate(pts[i%len(pts)], at, &loc, scratch)
	}
}
