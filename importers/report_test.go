package importers_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
)

// A dry run with a problem still says what would happen to every other feature, and the totals.
func TestDryRunWithProblemsReportsTheRest(t *testing.T) {
	_, eng := fixtureDB(t)
	ctx := context.Background()
	box := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
	}
	gj := collection(
		// unchanged, renamed, new, and one with no code
		feature(`"code":"410103001001001","name":"淮北街社区第1网格","parent_code":"410103001001"`, box(113.60, 34.70, 113.61, 34.72)),
		feature(`"code":"410103001001002","name":"改名网格","parent_code":"410103001001"`, box(113.61, 34.70, 113.62, 34.72)),
		feature(`"code":"410103001001009","name":"新网格","parent_code":"410103001001"`, box(113.601, 34.701, 113.602, 34.702)),
		feature(`"name":"无编码网格","parent_code":"410103001001"`, box(113.603, 34.701, 113.604, 34.702)),
	)
	for _, day := range []int{0, 1} {
		rep, err := eng.Import(ctx, []string{writeFile(t, "grids.geojson", gj)}, importers.Options{From: from.AddDate(0, day, 0), Mapping: importers.Mapping{Level: gridline.LevelGrid}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || rep.ProblemCount != 1 || rep.FeaturesWithProblems != 1 || rep.Features != 4 {
			t.Fatalf("problems %d in %d features of %d, want 1 in 1 of 4: %v", rep.ProblemCount, rep.FeaturesWithProblems, rep.Features, rep.Problems)
		}
		if rep.Added != 1 || rep.Changed != 1 || rep.Unchanged != 1 || len(rep.Lists.Added) != 1 || rep.Lists.Added[0].Index != 3 {
			t.Errorf("from +%d months: added %d changed %d unchanged %d (lists %+v), want 1 1 1", day, rep.Added, rep.Changed, rep.Unchanged, rep.Lists)
		}
	}
}

// More problems than the list holds: the count is the true number, the list the first N in full.
func TestProblemCountIsTrue(t *testing.T) {
	_, eng := fixtureDB(t)
	ctx := context.Background()
	// 120 small grids straddling their community's west edge (x = 113.60): each sticks out.
	var fs []string
	for i := 0; i < 120; i++ {
		y := 34.7005 + float64(i)*0.00015
		fs = append(fs, feature(fmt.Sprintf(`"code":"410103001001%03d","name":"网格%d","parent_code":"410103001001"`, 100+i, i),
			fmt.Sprintf(`{"type":"Polygon","coordinates":[[[113.5995,%.5f],[113.6005,%.5f],[113.6005,%.5f],[113.5995,%.5f],[113.5995,%.5f]]]}`, y, y, y+0.0001, y+0.0001, y)))
	}
	rep, err := eng.Import(ctx, []string{writeFile(t, "edge.geojson", collection(fs...))}, importers.Options{From: from.AddDate(0, 1, 0),
		Mapping: importers.Mapping{Level: gridline.LevelGrid}, ListLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ProblemCount != 120 || len(rep.Problems) != 100 || rep.FeaturesWithProblems != 120 {
		t.Fatalf("problem count %d, listed %d, features with problems %d; want 120, 100 listed, 120 features", rep.ProblemCount, len(rep.Problems), rep.FeaturesWithProblems)
	}
	if !strings.Contains(rep.Problems[99].Message, "outside its parent 410103001001") || rep.Problems[99].Index == 0 {
		t.Errorf("last listed problem %v", rep.Problems[99])
	}
}

// Problem locations are in the file's own coordinates, and the report says which.
func TestProblemLocationsInFileCoordinates(t *testing.T) {
	_, eng := emptyDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		crs       string
		x0, y0, s float64 // a bow tie crossing itself at (x0+s/2, y0+s/2)
		near      float64
		name      string
	}{
		{"gcj02", 113.60, 34.70, 0.01, 1e-7, "GCJ-02"},
		{"EPSG:4547", 640000, 3780000, 1000, 0.01, "EPSG:4547"},
	} {
		x0, y0, s := tc.x0, tc.y0, tc.s
		gj := collection(feature(`"code":"100001","name":"蝴蝶区","level":"district"`,
			fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}`, x0, y0, x0+s, y0+s, x0+s, y0, x0, y0+s, x0, y0)))
		rep, err := eng.Import(ctx, []string{writeFile(t, "bowtie.geojson", gj)}, importers.Options{From: from, CRS: tc.crs})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) != 1 {
			t.Fatalf("%s: problems %v", tc.crs, rep.Problems)
		}
		msg := rep.Problems[0].Message
		var x, y float64
		i := strings.Index(msg, "[")
		if i < 0 {
			t.Fatalf("%s: no location in %q", tc.crs, msg)
		}
		if _, err := fmt.Sscanf(msg[i:], "[%g %g]", &x, &y); err != nil {
			t.Fatalf("%s: %q: %v", tc.crs, msg, err)
		}
		if math.Abs(x-(x0+s/2)) > tc.near || math.Abs(y-(y0+s/2)) > tc.near || !strings.Contains(msg, "(at the file's "+tc.name+")") {
			t.Errorf("%s: %q, want the crossing at (%g, %g) in the file's %s", tc.crs, msg, x0+s/2, y0+s/2, tc.name)
		}
	}
}
