package batch_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/batch"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/store/storetest"
)

// BenchmarkBatch streams 16,384 points spread over the fixture's bounds (and a little beyond, so
// that some are uncovered) through each input format, written as NDJSON and as CSV. It measures
// the formats and the streaming around Locate, whose own cost the geo benchmarks measure.
func BenchmarkBatch(b *testing.B) {
	ix := fixtureIndex()
	bound := orb.Bound{Min: orb.Point{180, 90}, Max: orb.Point{-180, -90}}
	for i := 0; i < ix.Len(); i++ {
		bound = bound.Union(ix.Grid(int32(i)).Geometry.Bound())
	}
	bound = bound.Pad(0.002)
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 1 << 14
	var js, gj, cs strings.Builder
	js.WriteString("[")
	gj.WriteString(`{"type":"FeatureCollection","features":[`)
	cs.WriteString("id,lon,lat\n")
	for i := range n {
		lon := bound.Min[0] + rng.Float64()*(bound.Max[0]-bound.Min[0])
		lat := bound.Min[1] + rng.Float64()*(bound.Max[1]-bound.Min[1])
		if i > 0 {
			js.WriteString(",")
			gj.WriteString(",")
		}
		fmt.Fprintf(&js, `{"id":"p%d","lon":%.7f,"lat":%.7f}`, i, lon, lat)
		fmt.Fprintf(&gj, `{"type":"Feature","id":%d,"geometry":{"type":"Point","coordinates":[%.7f,%.7f]}}`, i, lon, lat)
		fmt.Fprintf(&cs, "p%d,%.7f,%.7f\n", i, lon, lat)
	}
	js.WriteString("]")
	gj.WriteString("]}")
	bodies := []struct{ format, body string }{{batch.FormatJSON, js.String()}, {batch.FormatGeoJSON, gj.String()}, {batch.FormatCSV, cs.String()}}
	for _, in := range bodies {
		for _, out := range []string{batch.OutNDJSON, batch.OutCSV} {
			b.Run(in.format+"-"+out, func(b *testing.B) {
				opt := batch.Options{In: in.format, Out: out, DefaultCRS: geo.WGS84, At: storetest.FixtureFrom.AddDate(1, 0, 0)}
				for b.Loop() {
					if _, _, err := batch.Resolve(context.Background(), ix, bytes.NewReader([]byte(in.body)), io.Discard, opt); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
			})
		}
	}
}
