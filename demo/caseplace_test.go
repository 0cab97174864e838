package demo

import (
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/address"
	"gridline.dev/gridline/dispatch"
)

// TestErqiCasePlacement: the test set as case intake places it (dispatch.PlaceRefusal): how many
// are placed, why the rest are refused, and that none is placed in a wrong micro grid.
func TestErqiCasePlacement(t *testing.T) {
	d, _ := erqiDistrict(t)
	rows := Addresses(d, 1)
	m := address.NewMatcher(rows, nil)
	n := 2400
	if raceEnabled {
		n = 600
	}
	set := AddressTestSet(rows, n)
	microOf := microLocator(d)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	placed, wrong := 0, 0
	refused := map[string]int{}
	for _, c := range set {
		r := m.Resolve(c.Text, at)
		if why := dispatch.PlaceRefusal(r); why != "" {
			refused[why]++
			continue
		}
		placed++
		if want := microOf(orb.Point{c.Want.Lon, c.Want.Lat}); want == nil || microOf(orb.Point{r.Best.Lon, r.Best.Lat}) != want {
			wrong++
			t.Errorf("placed in a wrong micro grid: %s (%s) -> %s", c.Text, c.Rule, label(r))
		}
	}
	t.Logf("%d of %d placed (%.1f%%), %d in a wrong micro grid; refused: %v", placed, len(set), 100*float64(placed)/float64(len(set)), wrong, refused)
}
