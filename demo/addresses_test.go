package demo

import (
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/resolve"
)

func TestRoadAndCompoundNames(t *testing.T) {
	for in, want := range map[string]string{"淮河路街道": "淮河路", "蜜蜂张街道": "", "福华街街道": "福华街", "福华南街社区委员会": "福华南街", "淮河社区居民委员会": "", "陇海中路社区居民委员会": "陇海中路"} {
		if got := RoadName(in); got != want {
			t.Errorf("RoadName(%s) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"华润悦府社区居民委员会": "华润悦府", "京广家园南社区居民委员会": "京广家园", "淮河社区居民委员会": ""} {
		if got := CompoundName(in); got != want {
			t.Errorf("CompoundName(%s) = %q, want %q", in, got, want)
		}
	}
	divs, err := loadDivisions()
	if err != nil {
		t.Fatal(err)
	}
	roads, comps := map[string]bool{}, map[string]bool{}
	for _, d := range append(divs.Subdistricts, divs.Communities...) {
		if r := RoadName(d.Name); r != "" {
			roads[r] = true
		}
		if c := CompoundName(d.Name); c != "" {
			comps[c] = true
		}
	}
	t.Logf("%d roads, %d compounds", len(roads), len(comps))
	if len(roads) != 39 {
		t.Errorf("%d real road names, want the 39 of the research note", len(roads))
	}
	if len(comps) < 12 {
		t.Errorf("%d real compound names, want at least 12", len(comps))
	}
}

// microLocator finds the micro grid covering a point with the resolver's index (the planar scan
// of every micro grid was too slow under -race).
func microLocator(d *District) func(p orb.Point) *gridline.Grid {
	grids := slices.Clone(d.Grids)
	for k := range grids {
		grids[k].VersionID = grids[k].ID
	}
	ix := resolve.Build(grids, nil, time.Now())
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func(p orb.Point) *gridline.Grid {
		var loc resolve.Location
		ix.Locate(p, at, &loc, nil)
		if i := loc.Chain[gridline.LevelMicro.Rank()]; i >= 0 {
			return ix.Grid(i)
		}
		return nil
	}
}

func TestErqiAddresses(t *testing.T) {
	d, _ := erqiDistrict(t)
	start := time.Now()
	rows := Addresses(d, 1)
	t.Logf("%d rows in %s", len(rows), time.Since(start))
	if again := Addresses(d, 1); !slices.EqualFunc(rows, again, func(a, b gridline.Address) bool { return a == b }) {
		t.Fatal("the register is not deterministic")
	}
	var micros []*gridline.Grid
	for i := range d.Grids {
		if g := &d.Grids[i]; g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelMicro {
			micros = append(micros, g)
		}
	}
	microOf := microLocator(d)
	hh := map[int64]int{}
	for i := range rows {
		a := &rows[i]
		if err := a.Validate(); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if a.Provenance != gridline.ProvenanceSynthetic {
			t.Fatal("a generated row is not marked synthetic")
		}
		g := microOf(orb.Point{a.Lon, a.Lat})
		if g == nil {
			t.Fatalf("row %d %s is in no micro grid", i, a.Label())
		}
		hh[g.ID] += a.Households
	}
	for _, g := range micros {
		if hh[g.ID] != g.Households {
			t.Errorf("micro grid %s: %d households in the register, %d in the grid", g.Code, hh[g.ID], g.Households)
		}
	}
	// Doors: odd and even on each road.
	parity := map[string][2]int{}
	for _, a := range rows {
		if a.Building == "" {
			n := parity[a.Road]
			if a.Door[len(a.Door)-1]%2 == 1 {
				n[0]++
			} else {
				n[1]++
			}
			parity[a.Road] = n
		}
	}
	for r, n := range parity {
		if n[0]+n[1] > 4 && (n[0] == 0 || n[1] == 0) {
			t.Errorf("road %s has doors on one side only: %v", r, n)
		}
	}
}

// TestErqiAddressAccuracy is the test set of docs/decisions.md: addresses written the ways people
// write them, resolved to the right building's grid.
func TestErqiAddressAccuracy(t *testing.T) {
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
	right := 0
	byRule := map[string][2]int{}
	for _, c := range set {
		r := m.Resolve(c.Text, at)
		want := microOf(orb.Point{c.Want.Lon, c.Want.Lat})
		ok := false
		if r.Resolved && r.Best.Precision.Level() == gridline.LevelMicro {
			ok = want != nil && microOf(orb.Point{r.Best.Lon, r.Best.Lat}) == want
		}
		n := byRule[c.Rule]
		n[1]++
		if ok {
			right++
			n[0]++
		} else {
			conf := 0.0
			if r.Resolved {
				conf = r.Best.Confidence
			}
			if conf >= address.Threshold {
				t.Errorf("wrong grid with confidence %.2f >= %.2f: %s (%s) -> %+v", conf, address.Threshold, c.Text, c.Rule, r.Best)
			} else if testing.Verbose() {
				t.Logf("wrong (conf %.2f): %s (%s) -> %s", conf, c.Text, c.Rule, label(r))
			}
		}
		byRule[c.Rule] = n
	}
	for _, rule := range AddressRules {
		t.Logf("%-22s %d/%d", rule, byRule[rule][0], byRule[rule][1])
	}
	acc := float64(right) / float64(len(set))
	t.Logf("%d of %d (%.1f%%) resolved to the right building's grid", right, len(set), 100*acc)
	if acc < 0.95 {
		t.Errorf("accuracy %.3f < 0.95", acc)
	}
}

func label(r *address.Result) string {
	if !r.Resolved {
		return "unresolved: " + r.Reason
	}
	return r.Best.Label + " (" + string(r.Best.Precision) + ")"
}
