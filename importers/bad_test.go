package importers_test

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
)

// poly is a GeoJSON feature with a polygon ring and properties.
func feature(props, geom string) string {
	return `{"type":"Feature","properties":{` + props + `},"geometry":` + geom + `}`
}

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

const inGrid1 = `{"type":"Polygon","coordinates":[[[113.601,34.701],[113.609,34.701],[113.609,34.709],[113.601,34.709],[113.601,34.701]]]}`

// exported writes the fixture's basic grids as a Shapefile into dir and returns the .shp.
func exported(t *testing.T, eng *importers.Engine, encoding string) string {
	t.Helper()
	x, err := eng.Export(context.Background(), importers.ExportOptions{Format: "shapefile", Level: gridline.LevelGrid, Layer: gridline.LayerComprehensive, At: from, Encoding: encoding})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	dir := t.TempDir()
	b, err := os.ReadFile(x.Path)
	if err != nil {
		t.Fatal(err)
	}
	zp := filepath.Join(dir, "grids.zip")
	os.WriteFile(zp, b, 0o600)
	if err := unzipTo(zp, dir); err != nil {
		t.Fatal(err)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*.shp"))
	return m[0]
}

// TestBadInput feeds the importer what districts really send, and checks that each is refused
// with a message that says what is wrong, and that nothing was written.
func TestBadInput(t *testing.T) {
	db, eng := fixtureDB(t)
	ctx := context.Background()
	before := countVersions(t, db)
	grid := importers.Mapping{Level: gridline.LevelGrid}
	p := `"code":"410103001001009","name":"新网格","parent_code":"410103001001"`
	cases := []struct {
		name    string
		files   func(t *testing.T) []string
		opt     importers.Options
		errCode string // the error's code, or "" when the report holds the problem
		want    string // a substring of the error or of the first problem
	}{
		{"truncated zip", func(t *testing.T) []string {
			shp := exported(t, eng, "")
			b, _ := os.ReadFile(filepath.Join(filepath.Dir(shp), "grids.zip"))
			return []string{writeFile(t, "cut.zip", string(b[:len(b)/2]))}
		}, importers.Options{}, gridline.EInvalid, "not a readable zip archive"},
		{"shapefile without .shx", func(t *testing.T) []string {
			shp := exported(t, eng, "")
			os.Remove(strings.TrimSuffix(shp, ".shp") + ".shx")
			return []string{shp}
		}, importers.Options{}, gridline.EInvalid, "has no .shx file"},
		{"shapefile without .dbf", func(t *testing.T) []string {
			shp := exported(t, eng, "")
			os.Remove(strings.TrimSuffix(shp, ".shp") + ".dbf")
			return []string{shp}
		}, importers.Options{}, gridline.EInvalid, "has no .dbf file"},
		{"unreadable .prj", func(t *testing.T) []string {
			shp := exported(t, eng, "")
			os.WriteFile(strings.TrimSuffix(shp, ".shp")+".prj", []byte("GEOGCS[broken"), 0o600)
			return []string{shp}
		}, importers.Options{}, gridline.EInvalid, "GDAL cannot read the coordinate system"},
		{"wrong encoding", func(t *testing.T) []string {
			return []string{exported(t, eng, "gbk")}
		}, importers.Options{Encoding: "utf-8"}, gridline.EInvalid, "are not UTF-8 as given"},
		{"unclosed ring", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(p, `{"type":"Polygon","coordinates":[[[113.601,34.701],[113.609,34.701],[113.609,34.709],[113.601,34.709]]]}`)))}
		}, importers.Options{Mapping: grid}, "", "feature 1 (code 410103001001009): its geometry cannot be read: a ring is not closed"},
		{"self-intersection", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(p, `{"type":"Polygon","coordinates":[[[113.601,34.701],[113.609,34.709],[113.609,34.701],[113.601,34.709],[113.601,34.701]]]}`)))}
		}, importers.Options{Mapping: grid}, "", "feature 1 (code 410103001001009): geometry is not valid: Self-intersection"},
		{"zero features", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection())}
		}, importers.Options{Mapping: grid}, gridline.EInvalid, "holds no features"},
		{"points where polygons were expected", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(p, `{"type":"Point","coordinates":[113.605,34.705]}`)))}
		}, importers.Options{Mapping: grid}, "", "feature 1 (code 410103001001009): is a point where a polygon was expected"},
		{"mixed geometry types", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(p, inGrid1),
				feature(`"code":"410103001001008","name":"线","parent_code":"410103001001"`, `{"type":"LineString","coordinates":[[113.605,34.705],[113.606,34.706]]}`)))}
		}, importers.Options{Mapping: grid}, "", "feature 2 (code 410103001001008): is a linestring where a polygon was expected"},
		{"metres given as degrees", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(p, `{"type":"Polygon","coordinates":[[[38500000,3840000],[38501000,3840000],[38501000,3841000],[38500000,3840000]]]}`)))}
		}, importers.Options{Mapping: grid}, "", "which are not degrees: the file looks projected (metres)"},
		{"duplicate code", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(p, inGrid1), feature(p, inGrid1)))}
		}, importers.Options{Mapping: grid}, "", "code 410103001001009 appears 2 times in the file (features 1, 2)"},
		{"child outside its parent", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(p, `{"type":"Polygon","coordinates":[[[113.65,34.75],[113.66,34.75],[113.66,34.76],[113.65,34.76],[113.65,34.75]]]}`)))}
		}, importers.Options{Mapping: grid}, "", "feature 1 (code 410103001001009): lies"},
		{"unknown parent", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(`"code":"410103001001009","name":"x","parent_code":"999"`, inGrid1)))}
		}, importers.Options{Mapping: grid}, "", "parent code 999 is neither in the file nor a grid valid on 2025-01-01"},
		{"CSV with a missing column", func(t *testing.T) []string {
			return []string{writeFile(t, "a.csv", "WKT,name\n\"POLYGON((113.601 34.701,113.609 34.701,113.609 34.709,113.601 34.701))\",x\n")}
		}, importers.Options{Mapping: grid}, gridline.EInvalid, "the file has no code column"},
		{"CSV of lon/lat points", func(t *testing.T) []string {
			return []string{writeFile(t, "a.csv", "code,name,parent_code,lon,lat\n410103001001009,新网格,410103001001,113.605,34.705\n")}
		}, importers.Options{Mapping: grid}, "", "feature 1 (code 410103001001009): is a point where a polygon was expected"},
		{"KMZ without a KML inside", func(t *testing.T) []string {
			p := filepath.Join(t.TempDir(), "a.kmz")
			f, _ := os.Create(p)
			zw := zip.NewWriter(f)
			w, _ := zw.Create("icon.png")
			w.Write([]byte("not a map"))
			zw.Close()
			f.Close()
			return []string{p}
		}, importers.Options{}, gridline.EInvalid, "a.kmz holds no .kml file"},
		{"file over the size limit", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(p, inGrid1)))}
		}, importers.Options{Mapping: grid}, gridline.ETooLarge, "over the import limit of 100 bytes"},
		{"retiring a parent with children", func(t *testing.T) []string {
			return []string{writeFile(t, "a.geojson", collection(feature(`"code":"410103001","name":"淮河路街道","parent_code":"410103"`,
				`{"type":"Polygon","coordinates":[[[113.60,34.70],[113.62,34.70],[113.62,34.74],[113.60,34.74],[113.60,34.70]]]}`)))}
		}, importers.Options{Mapping: importers.Mapping{Level: gridline.LevelSubdistrict}, Retire: true}, "", "retiring 410103002 (not in the file) would leave its child 410103002001 without a parent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := eng
			if tc.errCode == gridline.ETooLarge {
				e = importers.New(db, importers.Config{MaxBytes: 100})
			}
			opt := tc.opt
			opt.From, opt.Apply = from, true
			rep, err := e.Import(ctx, tc.files(t), opt)
			switch {
			case tc.errCode != "":
				if gridline.ErrorCode(err) != tc.errCode || !strings.Contains(gridline.ErrorMessage(err), tc.want) {
					t.Fatalf("error %q (%s), want %s containing %q", err, gridline.ErrorCode(err), tc.errCode, tc.want)
				}
			case err != nil:
				t.Fatalf("error %v, want a report with a problem containing %q", err, tc.want)
			case rep.OK() || rep.Applied || len(rep.Problems) == 0:
				t.Fatalf("import went through: %+v", rep.ImportReport)
			case !strings.Contains(rep.Problems[0].String(), tc.want):
				t.Fatalf("first problem %q, want it to contain %q (all: %v)", rep.Problems[0].String(), tc.want, rep.Problems)
			}
			if n := countVersions(t, db); n != before {
				t.Fatalf("%d grid versions after a refused import, had %d", n, before)
			}
			if n := stagingLeft(t, db); n != 0 {
				t.Fatalf("%d staging tables left", n)
			}
		})
	}
}

func TestRepairIsReported(t *testing.T) {
	db, eng := fixtureDB(t)
	// A bow tie inside basic grid 410103001001001's area: repaired into two triangles.
	gj := collection(feature(`"code":"410103001001009","name":"新网格","parent_code":"410103001001"`,
		`{"type":"Polygon","coordinates":[[[113.601,34.701],[113.609,34.709],[113.609,34.701],[113.601,34.709],[113.601,34.701]]]}`))
	rep, err := eng.Import(context.Background(), []string{writeFile(t, "a.geojson", gj)}, importers.Options{From: from, Apply: true, Repair: true, Mapping: importers.Mapping{Level: gridline.LevelGrid}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Repaired != 1 || !strings.Contains(rep.Lists.Repaired[0].String(), "feature 1 (code 410103001001009): repaired: Self-intersection") {
		t.Fatalf("%+v %v", rep.ImportReport, rep.Lists.Repaired)
	}
	g, err := db.Grid(context.Background(), "410103001001009", from)
	if err != nil || len(g.Geometry) != 2 {
		t.Fatalf("repaired grid: %v %v", g, err)
	}
}
