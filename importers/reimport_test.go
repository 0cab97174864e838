package importers_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// fullPrecisionDistricts is n districts side by side near Zhengzhou whose corners carry all 17
// significant digits a float64 has, as boundaries converted from another datum do.
func fullPrecisionDistricts(n int) *store.Dataset {
	r := rand.New(rand.NewSource(11))
	d := &store.Dataset{}
	for i := 0; i < n; i++ {
		x0, y0 := 113.0+float64(i%10)*0.05, 34.5+float64(i/10)*0.05
		j := func() float64 { return 0.002 + r.Float64()*0.003 }
		ring := orb.Ring{{x0 + j(), y0 + j()}, {x0 + 0.025 + r.Float64()*0.01, y0 + j()}, {x0 + 0.05 - j(), y0 + j()},
			{x0 + 0.05 - j(), y0 + 0.05 - j()}, {x0 + j(), y0 + 0.05 - j()}}
		ring = append(ring, ring[0])
		d.Grids = append(d.Grids, gridline.Grid{ID: int64(i + 1), Version: 1, Code: fmt.Sprintf("4101%02d", i+1), Name: fmt.Sprintf("区%d", i+1),
			Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive, ValidFrom: storetest.FixtureFrom, Geometry: orb.MultiPolygon{{ring}}})
	}
	return d
}

// Re-importing what gridline exported changes nothing, in every format and coordinate system:
// a dry run on the same day and a later one find every grid unchanged (the formats' last digits
// differ from the stored ones by 1e-14 to 5e-13 degrees, which is no change).
func TestReimportExportChangesNothing(t *testing.T) {
	needGDAL(t)
	ctx := context.Background()
	db := storetest.New(t)
	const n = 40
	if err := db.Load(ctx, fullPrecisionDistricts(n), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	eng := importers.New(db, importers.Config{})
	at := storetest.FixtureFrom
	for _, tc := range []struct{ format, exportCRS, importCRS string }{
		{"geojson", "", ""}, {"shapefile", "", ""}, {"gpkg", "", ""}, {"csv", "", ""}, {"kml", "", ""}, {"fgb", "", ""},
		{"geojson", "gcj02", "gcj02"}, {"shapefile", "bd09", "bd09"}, {"geojson", "EPSG:4547", ""}, {"gpkg", "EPSG:4547", ""},
	} {
		t.Run(tc.format+tc.exportCRS, func(t *testing.T) {
			x, err := eng.Export(ctx, importers.ExportOptions{Format: tc.format, At: at, CRS: tc.exportCRS})
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			for _, day := range []time.Time{at, at.AddDate(0, 1, 0)} {
				rep, err := eng.Import(ctx, []string{x.Path}, importers.Options{From: day, CRS: tc.importCRS})
				if err != nil {
					t.Fatal(err)
				}
				if !rep.OK() || rep.Unchanged != n || rep.Changed+rep.Added+rep.Retired != 0 {
					t.Errorf("dry run from %s: ok %v unchanged %d changed %d added %d; problems %v; changed %v", gridline.Date(day), rep.OK(),
						rep.Unchanged, rep.Changed, rep.Added, rep.Problems, rep.Lists.Changed)
				}
			}
		})
	}
}
