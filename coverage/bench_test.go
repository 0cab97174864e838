package coverage_test

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/resolve"
)

// noMeasure is a Measurer for benchmarks of the Go part: it measures nothing.
type noMeasure struct{}

func (noMeasure) Measure(context.Context, []coverage.Family, float64) ([]coverage.Piece, error) {
	return nil, nil
}
func (noMeasure) Areas(_ context.Context, g []orb.MultiPolygon) ([]float64, error) {
	return make([]float64, len(g)), nil
}

// BenchmarkAuditInMemory is the Go part of the audit of a clean synthetic region (no PostGIS):
// go test ./coverage -run '^$' -bench AuditInMemory
func BenchmarkAuditInMemory(b *testing.B) {
	d, err := demo.Synthetic(100000, 7, demo.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ix := resolve.Build(d.Grids, staffOf(d), time.Now())
	a := coverage.New(func() coverage.Index { return ix }, noMeasure{})
	for _, rules := range []string{"geometry", "hierarchy", "staffing", "workload"} {
		b.Run(rules, func(b *testing.B) {
			for b.Loop() {
				if _, err := a.Audit(context.Background(), coverage.Request{At: auditAt, Rules: []string{rules}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
