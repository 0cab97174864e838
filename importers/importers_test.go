package importers_test

import (
	"archive/zip"
	"context"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

var from = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// needGDAL fails in CI and skips elsewhere when GDAL's tools are missing.
func needGDAL(t testing.TB) {
	t.Helper()
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr", "ogrinfo", "gdalsrsinfo")
}

// fixtureDB is a database holding storetest.Fixture, and an engine on it.
func fixtureDB(t testing.TB) (*store.DB, *importers.Engine) {
	t.Helper()
	needGDAL(t)
	db := storetest.New(t)
	if err := db.Load(context.Background(), storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	return db, importers.New(db, importers.Config{})
}

func emptyDB(t *testing.T) (*store.DB, *importers.Engine) {
	t.Helper()
	needGDAL(t)
	db := storetest.New(t)
	return db, importers.New(db, importers.Config{})
}

// allGrids maps code to the grid valid on at, with geometry.
func allGrids(t *testing.T, db *store.DB, at time.Time) map[string]gridline.Grid {
	t.Helper()
	out := map[string]gridline.Grid{}
	for _, level := range gridline.Levels {
		gs, _, err := db.Grids(context.Background(), store.GridFilter{At: at, Level: level, Limit: 1000, WithGeometry: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			out[g.Code] = g
		}
	}
	return out
}

func countVersions(t testing.TB, db *store.DB) int {
	t.Helper()
	n, err := db.CountGrids(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stagingLeft counts staging tables left behind.
func stagingLeft(t testing.TB, db *store.DB) int {
	t.Helper()
	// A fuzz target calls this once per input: its pool is closed at once, not when the test ends.
	raw := storetest.Raw(t, db)
	defer raw.Close()
	var n int
	if err := raw.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'staging'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// maxVertexDiff is the largest distance, in degrees, from a vertex of either geometry to the
// other's rings (a Hausdorff distance over vertices, both ways): writers may start a ring at
// another vertex or turn it around, and a file in GCJ-02 or a projected system carries points
// added along long edges, which lie on the stored edges.
func maxVertexDiff(a, b orb.MultiPolygon) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for _, pair := range [][2]orb.MultiPolygon{{a, b}, {b, a}} {
		for _, p := range pair[0] {
			for _, r := range p {
				for _, pt := range r {
					d = math.Max(d, distToRings(pair[1], pt))
				}
			}
		}
	}
	return d
}

func distToRings(mp orb.MultiPolygon, p orb.Point) float64 {
	best := math.Inf(1)
	for _, poly := range mp {
		for _, r := range poly {
			for i := 0; i+1 < len(r); i++ {
				a, b := r[i], r[i+1]
				dx, dy := b[0]-a[0], b[1]-a[1]
				t := 0.0
				if dx != 0 || dy != 0 {
					t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/(dx*dx+dy*dy)))
				}
				best = math.Min(best, math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy))
			}
		}
	}
	return best
}

func TestRoundTripEveryFormat(t *testing.T) {
	src, eng := fixtureDB(t)
	ctx := context.Background()
	want := allGrids(t, src, from)
	for _, tc := range []struct {
		format, encoding string
		exportCRS        string // the file's coordinates
		importCRS        string // what the user says they are; "" when the file says
	}{
		{"geojson", "", "", ""}, {"shapefile", "", "", ""}, {"shapefile", "gbk", "", ""}, {"gpkg", "", "", ""},
		{"csv", "", "", ""}, {"kml", "", "", ""}, {"fgb", "", "", ""},
		// CGCS2000 / 3-degree Gauss-Krüger zone 38 (metres), said by the file.
		{"gpkg", "", "EPSG:4547", ""},
		// GCJ-02, which no file can say: given on import.
		{"geojson", "", "gcj02", "gcj02"},
		{"shapefile", "", "bd09", "bd09"},
	} {
		t.Run(tc.format+tc.encoding+tc.exportCRS, func(t *testing.T) {
			x, err := eng.Export(ctx, importers.ExportOptions{Format: tc.format, At: from, Encoding: tc.encoding, CRS: tc.exportCRS})
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if x.Features != len(want) {
				t.Fatalf("exported %d features, want %d", x.Features, len(want))
			}
			dst, eng2 := emptyDB(t)
			rep, err := eng2.Import(ctx, []string{x.Path}, importers.Options{From: from, Apply: true, CRS: tc.importCRS})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || !rep.Applied || rep.Added != len(want) {
				t.Fatalf("import: ok %v applied %v added %d, want %d; problems %v", rep.OK(), rep.Applied, rep.Added, len(want), rep.Problems)
			}
			if tc.encoding == "gbk" && rep.Encoding != "GB18030" {
				t.Errorf("encoding read as %q, want GB18030 from the .cpg", rep.Encoding)
			}
			got := allGrids(t, dst, from)
			if len(got) != len(want) {
				t.Fatalf("got %d grids, want %d", len(got), len(want))
			}
			for code, w := range want {
				g, ok := got[code]
				if !ok {
					t.Errorf("grid %s missing after the round trip", code)
					continue
				}
				if g.Name != w.Name || g.Level != w.Level || g.Layer != w.Layer || g.Kind != w.Kind || g.Households != w.Households {
					t.Errorf("grid %s: got %s/%s/%s/%s/%d, want %s/%s/%s/%s/%d", code, g.Name, g.Level, g.Layer, g.Kind, g.Households, w.Name, w.Level, w.Layer, w.Kind, w.Households)
				}
				if d := maxVertexDiff(g.Geometry, w.Geometry); d > 1e-7 {
					t.Errorf("grid %s: geometry moved by %g degrees", code, d)
				}
				if (g.ParentID == 0) != (w.ParentID == 0) {
					t.Errorf("grid %s: parent lost or gained", code)
				}
			}
			// The same file again changes nothing.
			rep, err = eng2.Import(ctx, []string{x.Path}, importers.Options{From: from.AddDate(0, 1, 0), Apply: true, CRS: tc.importCRS})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || rep.Added+rep.Changed+rep.Retired != 0 || rep.Unchanged != len(want) {
				t.Fatalf("second import: added %d changed %d retired %d unchanged %d problems %v", rep.Added, rep.Changed, rep.Retired, rep.Unchanged, rep.Problems)
			}
			if n := countVersions(t, dst); n != len(want) {
				t.Fatalf("%d versions after importing the same file twice, want %d", n, len(want))
			}
			if n := stagingLeft(t, dst); n != 0 {
				t.Fatalf("%d staging tables left behind", n)
			}
		})
	}
}

// A KMZ is a zip of a KML (doc.kml) as Google Earth and desktop maps save it.
func TestImportKMZ(t *testing.T) {
	src, eng := fixtureDB(t)
	ctx := context.Background()
	want := allGrids(t, src, from)
	x, err := eng.Export(ctx, importers.ExportOptions{Format: "kml", At: from})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	kml, err := os.ReadFile(x.Path)
	if err != nil {
		t.Fatal(err)
	}
	kmz := filepath.Join(t.TempDir(), "grids.kmz")
	f, err := os.Create(kmz)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create("doc.kml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(kml); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	dst, eng2 := emptyDB(t)
	rep, err := eng2.Import(ctx, []string{kmz}, importers.Options{From: from, Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != "kmz" || !rep.OK() || !rep.Applied || rep.Added != len(want) {
		t.Fatalf("import: format %s ok %v applied %v added %d, want kmz and %d; problems %v", rep.Format, rep.OK(), rep.Applied, rep.Added, len(want), rep.Problems)
	}
	got := allGrids(t, dst, from)
	for code, w := range want {
		if g, ok := got[code]; !ok || g.Name != w.Name || maxVertexDiff(g.Geometry, w.Geometry) > 1e-7 {
			t.Errorf("grid %s: %+v after the KMZ round trip, want %s with the same boundary", code, g.Name, w.Name)
		}
	}
}

// writeFile writes a test input into a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDryRunThenApply(t *testing.T) {
	db, eng := fixtureDB(t)
	ctx := context.Background()
	// A new boundary for one basic grid (the west half of its community, shrunk), a new basic grid
	// filling the rest, the name of another changed; the fourth basic grid missing (retired).
	gj := `{"type":"FeatureCollection","features":[
	{"type":"Feature","properties":{"code":"410103001001001","name":"淮北街社区第1网格","parent_code":"410103001001"},
	 "geometry":{"type":"Polygon","coordinates":[[[113.60,34.70],[113.61,34.70],[113.61,34.72],[113.60,34.72],[113.60,34.70]]]}},
	{"type":"Feature","properties":{"code":"410103001001002","name":"淮北街社区第2网格","parent_code":"410103001001"},
	 "geometry":{"type":"Polygon","coordinates":[[[113.61,34.70],[113.615,34.70],[113.615,34.72],[113.61,34.72],[113.61,34.70]]]}},
	{"type":"Feature","properties":{"code":"410103001001003","name":"淮北街社区第3网格","parent_code":"410103001001"},
	 "geometry":{"type":"Polygon","coordinates":[[[113.615,34.70],[113.62,34.70],[113.62,34.72],[113.615,34.72],[113.615,34.70]]]}},
	{"type":"Feature","properties":{"code":"410103001002001","name":"兴华街第一网格","parent_code":"410103001002"},
	 "geometry":{"type":"Polygon","coordinates":[[[113.60,34.72],[113.62,34.72],[113.62,34.74],[113.60,34.74],[113.60,34.72]]]}}
	]}`
	path := writeFile(t, "grids.geojson", gj)
	opt := importers.Options{From: from, Mapping: importers.Mapping{Level: gridline.LevelGrid}, Retire: true}
	before := countVersions(t, db)
	rep, err := eng.Import(ctx, []string{path}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Applied {
		t.Fatalf("dry run: ok %v applied %v problems %v", rep.OK(), rep.Applied, rep.Problems)
	}
	if rep.Added != 1 || rep.Changed != 2 || rep.Unchanged != 1 || rep.Retired != 1 {
		t.Fatalf("dry run: added %d changed %d unchanged %d retired %d, want 1 2 1 1", rep.Added, rep.Changed, rep.Unchanged, rep.Retired)
	}
	if c := rep.Lists.Retired[0]; c.Code != "410103002001001" || math.Abs(c.AreaM2-8.1e6) > 0.5e6 {
		t.Errorf("retired %+v, want 410103002001001 of about 8.1 km²", c)
	}
	for _, c := range rep.Lists.Changed {
		if c.Code == "410103001001002" && (c.OldAreaM2 == nil || *c.OldAreaM2 < 2*c.AreaM2*0.9 || strings.Join(c.Fields, ",") != "geometry") {
			t.Errorf("changed %+v: want the area halved and only the geometry changed", c)
		}
		if c.Code == "410103001002001" && strings.Join(c.Fields, ",") != "name" {
			t.Errorf("changed %+v: want only the name changed", c)
		}
	}
	if n := countVersions(t, db); n != before {
		t.Fatalf("a dry run wrote: %d versions, had %d", n, before)
	}
	opt.Apply = true
	// The retired grid has no children, so the import goes through.
	rep, err = eng.Import(ctx, []string{path}, opt)
	if err != nil || !rep.OK() || !rep.Applied {
		t.Fatalf("apply: %v %+v", err, rep)
	}
	if n := countVersions(t, db); n != before+3 {
		t.Fatalf("%d versions after apply, want %d", n, before+3)
	}
	g, err := db.Grid(ctx, "410103001002001", from)
	if err != nil || g.Name != "兴华街第一网格" || g.Version != 2 {
		t.Fatalf("renamed grid: %+v %v", g, err)
	}
	old, err := db.Grid(ctx, "410103001002001", from.AddDate(0, 0, -1))
	if err != nil || old.Name != "兴华街社区第1网格" {
		t.Fatalf("the old version is gone: %+v %v", old, err)
	}
	if _, err := db.Grid(ctx, "410103002001001", from); gridline.ErrorCode(err) != gridline.ENotFound {
		t.Fatalf("retired grid still valid: %v", err)
	}
	// Again: nothing to do.
	rep, err = eng.Import(ctx, []string{path}, opt)
	if err != nil || !rep.OK() || rep.Added+rep.Changed+rep.Retired != 0 {
		t.Fatalf("second apply: %v %+v", err, rep)
	}
}

// unzipTo extracts a zip with the system's Go, for tests.
func unzipTo(zipPath, dir string) error {
	r, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f.Name)), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// TestParentByContainment: a file without parent codes finds each parent by where the grid lies.
func TestParentByContainment(t *testing.T) {
	db, eng := fixtureDB(t)
	ctx := context.Background()
	gj := `{"type":"FeatureCollection","features":[
	{"type":"Feature","properties":{"code":"410103002001002","name":"建新街社区第2网格"},
	 "geometry":{"type":"Polygon","coordinates":[[[113.621,34.701],[113.629,34.701],[113.629,34.709],[113.621,34.709],[113.621,34.701]]]}},
	{"type":"Feature","properties":{"code":"410103JW003","name":"警务网格3","layer":"police"},
	 "geometry":{"type":"Polygon","coordinates":[[[113.631,34.701],[113.639,34.701],[113.639,34.709],[113.631,34.709],[113.631,34.701]]]}}]}`
	rep, err := eng.Import(ctx, []string{writeFile(t, "g.geojson", gj)}, importers.Options{From: from, Apply: true, Mapping: importers.Mapping{Level: gridline.LevelGrid}})
	if err != nil || !rep.OK() || rep.Added != 2 {
		t.Fatalf("%v %+v", err, rep)
	}
	g, err := db.Grid(ctx, "410103002001002", from)
	if err != nil || g.ParentID != 6 {
		t.Fatalf("parent of the basic grid: %+v %v, want community 6 (410103002001)", g, err)
	}
	// A thematic grid with no higher grid of its own layer hangs under the district.
	g, err = db.Grid(ctx, "410103JW003", from)
	if err != nil || g.ParentID != 1 {
		t.Fatalf("parent of the police grid: %+v %v, want the district", g, err)
	}
}

func TestImportStaff(t *testing.T) {
	db, eng := fixtureDB(t)
	ctx := context.Background()
	list := "网格编码,岗位,姓名,电话,任职日期,结束日期\n" +
		"410103001001002,专职网格员,钱多多,13800000001,2025-01-01,\n" +
		"410103001001002,full_time_worker,钱多多,13800000001,2025-01-01,\n" +
		"410103999,网格长,孙悟空,13800000002,2025-01-01,\n" +
		"410103001001001,组长,猪八戒,13800000003,2025-01-01,\n" +
		"410103001001001,网格长,沙悟净,13800000004,2025-13-01,\n"
	path := writeFile(t, "staff.csv", list)
	rep, err := eng.ImportStaff(ctx, path, importers.StaffOptions{From: from, Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Valid || rep.ProblemCount != 2 || rep.Problems[0].String() != `line 5 (code 410103001001001): role "组长" is not one of 网格长, 专职网格员, 兼职网格员, 楼栋长, 社区民警, 下沉干部, 部门联络人 (or grid_chief, full_time_worker ...)` {
		t.Fatalf("parse problems: %+v", rep.Problems)
	}
	// The parse problems first; then, fixed, the store's: unknown grid, repeated line.
	list = "网格编码,岗位,姓名,电话,任职日期,结束日期\n" +
		"410103001001002,专职网格员,钱多多,13800000001,2025-01-01,\n" +
		"410103001001002,full_time_worker,钱多多,13800000001,2025-01-01,\n" +
		"410103999,网格长,孙悟空,13800000002,2025-01-01,\n"
	rep, err = eng.ImportStaff(ctx, writeFile(t, "staff.csv", list), importers.StaffOptions{From: from, Apply: true})
	if err != nil || rep.Valid || rep.ProblemCount != 2 || rep.Problems[0].Index != 3 || rep.Problems[1].Index != 4 ||
		!strings.Contains(rep.Problems[1].Message, "no grid with code 410103999") {
		t.Fatalf("%v %+v", err, rep.StaffReport)
	}
	raw := storetest.Raw(t, db)
	var before int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM assignments`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	// GBK, as Excel saves it: a vacant grid gets its full-time worker.
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("网格编码,岗位,姓名,电话,任职日期\n410103001001002,专职网格员,钱多多,13800000001,2025/01/01\n")
	path = writeFile(t, "staff-gbk.csv", gbk)
	rep, err = eng.ImportStaff(ctx, path, importers.StaffOptions{From: from})
	if err != nil || !rep.Valid || rep.Applied || rep.Added != 1 || rep.PeopleAdded != 1 {
		t.Fatalf("dry run: %v %+v", err, rep.StaffReport)
	}
	rep, err = eng.ImportStaff(ctx, path, importers.StaffOptions{From: from, Apply: true})
	if err != nil || !rep.Valid || !rep.Applied || rep.Added != 1 {
		t.Fatalf("apply: %v %+v", err, rep.StaffReport)
	}
	staff, err := db.StaffOf(ctx, []int64{8}, from)
	if err != nil || len(staff[8]) != 2 {
		t.Fatalf("grid 8 staff: %v %v", staff, err)
	}
	rep, err = eng.ImportStaff(ctx, path, importers.StaffOptions{From: from, Apply: true})
	if err != nil || rep.Added+rep.Changed+rep.PeopleAdded != 0 || rep.Unchanged != 1 {
		t.Fatalf("again: %v %+v", err, rep.StaffReport)
	}
	var after int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM assignments`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before+1 {
		t.Fatalf("%d assignments, want %d", after, before+1)
	}
	// The same list as XLSX (read through GDAL): unchanged.
	csvPath := writeFile(t, "staff.csv", "grid_code,role,name,phone,valid_from\n410103001001002,full_time_worker,钱多多,13800000001,2025-01-01\n")
	xlsx := filepath.Join(t.TempDir(), "staff.xlsx")
	if out, err := exec.Command("ogr2ogr", "-f", "XLSX", xlsx, csvPath).CombinedOutput(); err != nil {
		t.Fatalf("make xlsx: %v %s", err, out)
	}
	rep, err = eng.ImportStaff(ctx, xlsx, importers.StaffOptions{From: from})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Unchanged != 1 {
		t.Fatalf("xlsx: %v %+v", err, rep.StaffReport)
	}
}

func TestImportDivisions(t *testing.T) {
	db, eng := fixtureDB(t)
	ctx := context.Background()
	list := "code,name,level,parent_code\n410103,二七区,district,410100\n410103001,淮河路街道办事处,subdistrict,410103\n" +
		"410103002,解放路街道,subdistrict,410103\n410103001001,淮北街社区,community,410103001\n410103009,新街道,subdistrict,410103\n"
	path := writeFile(t, "divisions.csv", list)
	rep, err := eng.ImportDivisions(ctx, path, importers.DivisionOptions{From: from})
	if err != nil || !rep.Valid || rep.Applied || rep.Renamed != 1 || rep.Unchanged != 3 || strings.Join(rep.Missing, ",") != "410103009" {
		t.Fatalf("dry run: %v %+v", err, rep.DivisionReport)
	}
	before := countVersions(t, db)
	if rep, err = eng.ImportDivisions(ctx, path, importers.DivisionOptions{From: from, Apply: true}); err != nil || !rep.Applied {
		t.Fatalf("apply: %v %+v", err, rep)
	}
	g, err := db.Grid(ctx, "410103001", from)
	if err != nil || g.Name != "淮河路街道办事处" || g.Version != 2 || countVersions(t, db) != before+1 {
		t.Fatalf("renamed: %+v %v", g, err)
	}
	// A list that disagrees with the stored hierarchy is refused, line by line.
	bad := writeFile(t, "bad.csv", "code,name,level,parent_code\n410103001001,淮北街社区,subdistrict,410103\n")
	rep, err = eng.ImportDivisions(ctx, bad, importers.DivisionOptions{From: from.AddDate(0, 1, 0), Apply: true})
	if err != nil || rep.Valid || rep.Problems[0].String() != "line 2 (code 410103001001): the list says level subdistrict, the stored grid is a community" {
		t.Fatalf("bad: %v %+v", err, rep.Problems)
	}
}
