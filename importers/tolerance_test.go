package importers

import (
	"math"
	"testing"
)

// TestCheckTolerance: only a finite tolerance from 0 to MaxTolerance keeps the containment rule.
func TestCheckTolerance(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    float64
		ok   bool
	}{
		{"zero", 0, true}, {"default", 1, true}, {"the most", MaxTolerance, true},
		{"NaN", math.NaN(), false}, {"infinite", math.Inf(1), false}, {"1e308", 1e308, false},
		{"negative", -1, false}, {"minus infinity", math.Inf(-1), false},
	} {
		if err := CheckTolerance(tc.v); (err == nil) != tc.ok {
			t.Errorf("%s: CheckTolerance(%v) = %v", tc.name, tc.v, err)
		}
	}
}
