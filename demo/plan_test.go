package demo

import (
	"math"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
)

func TestBalancedKMeans(t *testing.T) {
	rng := newRand(5, 0)
	pts := make([]vec, 20000)
	idx := make([]int, len(pts))
	for i := range pts {
		// Denser towards the origin, like a city.
		r := 5000 * rng.Float64() * rng.Float64()
		a := 2 * math.Pi * rng.Float64()
		pts[i] = vec{r * math.Cos(a), r * math.Sin(a)}
		idx[i] = i
	}
	tests := []struct {
		name   string
		shares []float64
		fixed  bool
	}{
		{"equal shares", []float64{1, 1, 1, 1, 1, 1, 1, 1}, false},
		{"skewed shares", []float64{1, 2, 4, 8, 16}, false},
		{"fixed centres", []float64{3, 1, 1, 5}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			init := kmeansPP(pts, idx, len(tc.shares), newRand(1, 1))
			labels, centres := balancedKMeans(pts, idx, tc.shares, init, tc.fixed)
			counts := make([]int, len(tc.shares))
			for _, l := range labels {
				counts[l]++
			}
			var total float64
			for _, s := range tc.shares {
				total += s
			}
			for j, s := range tc.shares {
				want := s / total * float64(len(pts))
				if math.Abs(float64(counts[j])-want) > 0.03*want {
					t.Errorf("cluster %d has %d points, want %.0f (share %g of %g)", j, counts[j], want, s, total)
				}
			}
			if tc.fixed && !reflect.DeepEqual(centres, init) {
				t.Errorf("fixed centres moved: %v -> %v", init, centres)
			}
			again, _ := balancedKMeans(pts, idx, tc.shares, init, tc.fixed)
			if !reflect.DeepEqual(labels, again) {
				t.Error("two runs on the same input differ")
			}
		})
	}
}

func TestSplitInt(t *testing.T) {
	tests := []struct {
		total   int
		weights []float64
		want    []int
	}{
		{10, []float64{1, 1}, []int{5, 5}},
		{10, []float64{1, 1, 1}, []int{4, 3, 3}},
		{7, []float64{0.5, 0.25, 0.25}, []int{3, 2, 2}}, // remainders .5, .75, .75
		{0, []float64{1, 2}, []int{0, 0}},
		{5, []float64{0, 0}, []int{0, 0}},
	}
	for _, tc := range tests {
		if got := splitInt(tc.total, tc.weights); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitInt(%d, %v) = %v, want %v", tc.total, tc.weights, got, tc.want)
		}
	}
}

func TestRowOrder(t *testing.T) {
	// Two rows of 0.01 degrees: the north row first, each row west to east, whatever the small
	// differences of latitude within a row.
	pts := []orb.Point{
		{113.03, 34.985}, // row 1, east
		{113.01, 34.995}, // row 0, west
		{113.02, 34.982}, // row 1, middle
		{113.03, 34.999}, // row 0, east
		{113.00, 34.989}, // row 1, west
	}
	got := rowOrder(pts, 35.0, 0.01)
	if want := []int{1, 3, 4, 2, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("rowOrder = %v, want %v", got, want)
	}
}

func TestCommunityShortName(t *testing.T) {
	tests := []struct {
		name  string
		rural bool
		want  string
	}{
		{"淮河社区居民委员会", false, "淮河社区"},
		{"桐树洼社区居民管理委员会", false, "桐树洼社区"},
		{"福华南街社区委员会", false, "福华南街社区"},
		{"贾寨社区管理委员会", false, "贾寨社区"},
		{"尖岗村委会", true, "尖岗村"},
		{"郑州火车站地区拟居委会", false, "郑州火车站地区"},
	}
	for _, tc := range tests {
		if got := communityShortName(tc.name, tc.rural); got != tc.want {
			t.Errorf("communityShortName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestIsRural(t *testing.T) {
	tests := []struct {
		d    division
		want bool
	}{
		{division{Code: "410103015200", Name: "尖岗村委会"}, true},
		{division{Code: "410103001001", Name: "淮河社区居民委员会"}, false},
		{division{Code: "410103004400", Name: "郑州火车站地区拟居委会"}, false},
	}
	for _, tc := range tests {
		if got := isRural(tc.d); got != tc.want {
			t.Errorf("isRural(%s %s) = %v, want %v", tc.d.Code, tc.d.Name, got, tc.want)
		}
	}
}

func TestLoadData(t *testing.T) {
	divs, err := loadDivisions()
	if err != nil {
		t.Fatal(err)
	}
	if len(divs.Subdistricts) != 16 || len(divs.Communities) != 176 || divs.District.Name != "二七区" {
		t.Errorf("%s with %d subdistricts and %d communities, want 二七区 with 16 and 176", divs.District.Name, len(divs.Subdistricts), len(divs.Communities))
	}
	outline, err := loadOutline()
	if err != nil {
		t.Fatal(err)
	}
	// The file is GCJ-02; converted, every vertex moves south-west by hundreds of metres.
	if n := len(outline[0][0]); n != 244 {
		t.Errorf("outline has %d vertices, want 244", n)
	}
	pr := projFor(outline)
	if a := pr.areaM2(outline) / 1e6; a < 150 || a > 163 {
		t.Errorf("outline area %.1f km², want about 156.6", a)
	}
	gcj := orb.Point{113.631676, 34.766458} // the first vertex as stored
	moved := pr.fwd(gcj).sub(pr.fwd(outline[0][0][0]))
	if d := moved.norm(); d < 300 || d > 800 || moved.x <= 0 {
		t.Errorf("first vertex moved %.0f m (%.0f m east) from GCJ-02 to WGS84, want a few hundred metres west", d, moved.x)
	}
}

func TestSegmentsTouch(t *testing.T) {
	tests := []struct {
		name       string
		a, b, c, d vec
		want       bool
	}{
		{"crossing", vec{0, 0}, vec{2, 2}, vec{0, 2}, vec{2, 0}, true},
		{"apart", vec{0, 0}, vec{1, 0}, vec{0, 1}, vec{1, 1}, false},
		{"touching at an end", vec{0, 0}, vec{1, 0}, vec{1, 0}, vec{1, 1}, true},
		{"collinear, overlapping", vec{0, 0}, vec{2, 0}, vec{1, 0}, vec{3, 0}, true},
		{"collinear, apart", vec{0, 0}, vec{1, 0}, vec{2, 0}, vec{3, 0}, false},
	}
	for _, tc := range tests {
		if got := segmentsTouch(tc.a, tc.b, tc.c, tc.d); got != tc.want {
			t.Errorf("%s: segmentsTouch = %v, want %v", tc.name, got, tc.want)
		}
	}
}
