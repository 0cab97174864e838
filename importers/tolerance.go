package importers

import (
	"math"

	"gridline.dev/gridline"
)

// MaxTolerance is the most, in m², an import lets a child stick out of its parent: a hectare.
// More is no longer a drawing error but a different boundary, and a tolerance of NaN or infinity
// would switch the containment rule off altogether.
const MaxTolerance = 10000

// CheckTolerance refuses a tolerance that is not a finite number from 0 to MaxTolerance.
func CheckTolerance(t float64) error {
	if math.IsNaN(t) || t < 0 || t > MaxTolerance {
		return gridline.Errorf(gridline.EInvalid, "tolerance %g must be a number of square metres from 0 to %d", t, MaxTolerance).With("field", "tolerance")
	}
	return nil
}
