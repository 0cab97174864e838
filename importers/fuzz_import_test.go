package importers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
)

// fuzzImport feeds any bytes, as a file with extension ext, through the whole import (GDAL
// included) into the fixture database: the import either refuses the file with a user's error or
// reports on it, never fails otherwise, never writes, and leaves no staging table behind.
func fuzzImport(f *testing.F, ext string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	db, eng := fixtureDB(f)
	before := countVersions(f, db)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		work, err := os.MkdirTemp(dir, "in")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(work)
		p := filepath.Join(work, "in"+ext)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := eng.Import(context.Background(), []string{p}, importers.Options{From: from, Mapping: importers.Mapping{Level: gridline.LevelGrid}})
		if err != nil {
			if c := gridline.ErrorCode(err); c == gridline.EInternal || c == gridline.EUnavailable {
				t.Fatalf("import of %q failed with %v (%s), not a user's error", b, err, c)
			}
		} else if rep.Applied {
			t.Fatalf("a dry run applied: %+v", rep.ImportReport)
		}
		if n := countVersions(t, db); n != before {
			t.Fatalf("%d grid versions after a dry run, had %d", n, before)
		}
		if n := stagingLeft(t, db); n != 0 {
			t.Fatalf("%d staging tables left", n)
		}
	})
}

const fuzzParent = `"parent_code":"410103001001"`

func FuzzImportGeoJSON(f *testing.F) {
	fuzzImport(f, ".geojson",
		collection(feature(`"code":"410103001001009","name":"新网格",`+fuzzParent, inGrid1)),
		collection(feature(`"code":"410103001001009","name":"新网格",`+fuzzParent, `{"type":"Polygon","coordinates":[[[1e400,0],[0,1],[1,1],[1e400,0]]]}`)),
		collection(feature(`"code":null,"name":12,"households":"many",`+fuzzParent, `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[113.6,34.7]},`+inGrid1+`]}`)),
		collection(feature(`"code":"410103001001009","name":"新网格",`+fuzzParent, `{"type":"MultiPolygon","coordinates":[[[[113.601,34.701],[113.609,34.701],[113.601,34.701]]]]}`)),
		`{"type":"Feature","properties":{"code":"1"},"geometry":null}`,
		`{"type":"FeatureCollection","features":[`,
		`[1,2,3]`,
		"\xff\xfe{}",
		"",
	)
}

func FuzzImportCSV(f *testing.F) {
	fuzzImport(f, ".csv",
		"code,name,parent_code,WKT\n410103001001009,新网格,410103001001,\"POLYGON((113.601 34.701,113.609 34.701,113.609 34.709,113.601 34.709,113.601 34.701))\"\n",
		"code,name,parent_code,WKT\n410103001001009,新网格,410103001001,\"POLYGON((113.601 34.701,113.609\"\n",
		"code,name,parent_code,lon,lat\n410103001001009,x,410103001001,113.6,NaN\n",
		"code,name,WKT\n\"unterminated,x,POINT(1 2)\n",
		"code;name;wkt\n1;2;3\n",
		"\xb6\xfe\xc6\xdf,\xc7\xf8\n1,2\n",
		"",
	)
}
