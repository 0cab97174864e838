package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/store"
)

// TestOGCAPIWithGDAL has GDAL's OAPIF driver list the collections and read every feature.
func TestOGCAPIWithGDAL(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogrinfo", "ogr2ogr")
	a := startApp(t, nil)
	ogc := "OAPIF:" + a.base + "/ogc"
	out, err := exec.Command("ogrinfo", "-ro", "-so", "-q", ogc).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	for _, c := range []string{"comprehensive-district", "comprehensive-subdistrict", "comprehensive-community", "comprehensive-grid", "comprehensive-micro", "special-grid", "police-grid"} {
		if !regexp.MustCompile(`(?m)^\d+: ` + c + `\b`).Match(out) {
			t.Errorf("ogrinfo does not list collection %s:\n%s", c, out)
		}
	}
	// Every feature of every collection, one page of two at a time so that the next links are followed.
	out, err = exec.Command("ogrinfo", "-ro", "-al", "-so", "-oo", "PAGE_SIZE=2", ogc).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo -al -so: %v\n%s", err, out)
	}
	counts := regexp.MustCompile(`Feature Count: (\d+)`).FindAllSubmatch(out, -1)
	total := 0
	for _, m := range counts {
		n := 0
		for _, c := range m[1] {
			n = n*10 + int(c-'0')
		}
		total += n
	}
	if total != 15 {
		t.Errorf("GDAL counts %d features in all, want the fixture's 15:\n%s", total, out)
	}
	dst := filepath.Join(t.TempDir(), "grid.geojson")
	out, err = exec.Command("ogr2ogr", "-f", "GeoJSON", "-oo", "PAGE_SIZE=2", dst, ogc, "comprehensive-grid").CombinedOutput()
	if err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, out)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
			Geometry   map[string]any `json:"geometry"`
		} `json:"features"`
	}
	b, _ := os.ReadFile(dst)
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 4 {
		t.Fatalf("ogr2ogr read %d basic grids, want 4", len(fc.Features))
	}
	for _, f := range fc.Features {
		if f.Geometry["type"] != "MultiPolygon" || f.Properties["code"] == nil || f.Properties["parent_code"] == nil {
			t.Errorf("feature read by GDAL lacks geometry or properties: %v", f.Properties)
		}
	}

	t.Run("datetime before the fixture", func(t *testing.T) {
		code, body := a.get(t, "/ogc/collections/comprehensive-grid/items?datetime=2023-06-01")
		if code != 200 || body["numberMatched"].(float64) != 0 {
			t.Fatalf("%d %v", code, body)
		}
	})
	t.Run("property filter and bbox", func(t *testing.T) {
		code, body := a.get(t, "/ogc/collections/comprehensive-grid/items?parent_code=410103001001&bbox=113.605,34.70,113.606,34.71")
		if code != 200 || body["numberMatched"].(float64) != 1 {
			t.Fatalf("%d %v", code, body)
		}
		f := body["features"].([]any)[0].(map[string]any)
		if f["properties"].(map[string]any)["code"] != "410103001001001" {
			t.Fatalf("%v", f["properties"])
		}
		code, item := a.get(t, "/ogc/collections/comprehensive-grid/items/7")
		if code != 200 || item["properties"].(map[string]any)["code"] != "410103001001001" {
			t.Fatalf("item 7: %d %v", code, item)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, p := range []string{"/ogc/collections/nope", "/ogc/collections/comprehensive-grid/items/999999"} {
			if code, body := a.get(t, p); code != 404 || errCode(body) != "not_found" {
				t.Errorf("%s: %d %v", p, code, body)
			}
		}
		for _, dt := range []string{"2025-01-01/2024-01-01", "x/..", "2024-01-01/2025-01-01/2026-01-01", "2024-13-01"} {
			if code, body := a.get(t, "/ogc/collections/comprehensive-grid/items?datetime="+dt); code != 400 || errCode(body) != "invalid_date" {
				t.Errorf("datetime %s: %d %v", dt, code, body)
			}
		}
		if code, body := a.get(t, "/ogc/collections/comprehensive-grid/items/7?datetime=2024-01-01/2025-01-01"); code != 400 || errCode(body) != "invalid_request" {
			t.Errorf("an interval for one feature: %d %v", code, body)
		}
	})
	t.Run("conformance and openapi", func(t *testing.T) {
		code, body := a.get(t, "/ogc/conformance")
		if code != 200 || len(body["conformsTo"].([]any)) != 3 {
			t.Fatalf("%d %v", code, body)
		}
		code, body = a.get(t, "/ogc/api")
		if code != 200 || body["openapi"] != "3.0.3" {
			t.Fatalf("%d %v", code, body)
		}
	})
	// An interval selects every version valid on some day of it: grid 7 renamed from 2025-06-01
	// has two versions, and each open or closed interval finds those it overlaps.
	t.Run("datetime intervals", func(t *testing.T) {
		ctx := context.Background()
		g, err := a.db.Grid(ctx, "410103001001001", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		g.Name, g.ValidFrom = "淮北街社区第一网格", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
		if _, err := a.db.SaveGrid(ctx, *g, store.DefaultTolerance); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			datetime string
			names    []string
		}{
			{"2025-01-01/2025-12-31", []string{"淮北街社区第1网格", "淮北街社区第一网格"}},
			{"../2025-05-31", []string{"淮北街社区第1网格"}},
			{"2025-06-01/..", []string{"淮北街社区第一网格"}},
			{"2025-06-01T08:00:00%2B08:00/", []string{"淮北街社区第一网格"}},
			{"../..", []string{"淮北街社区第1网格", "淮北街社区第一网格"}},
			{"2023-01-01/2023-12-31", nil},
			{"2025-03-01", []string{"淮北街社区第1网格"}},
		} {
			code, body := a.get(t, "/ogc/collections/comprehensive-grid/items?code=410103001001001&datetime="+tc.datetime)
			if code != 200 {
				t.Fatalf("datetime %s: %d %v", tc.datetime, code, body)
			}
			var names []string
			for _, f := range body["features"].([]any) {
				p := f.(map[string]any)["properties"].(map[string]any)
				if p["parent_code"] != "410103001001" {
					t.Errorf("datetime %s: parent_code %v", tc.datetime, p["parent_code"])
				}
				names = append(names, p["name"].(string))
			}
			if strings.Join(names, ",") != strings.Join(tc.names, ",") || body["numberMatched"].(float64) != float64(len(tc.names)) {
				t.Errorf("datetime %s: %v (matched %v), want %v", tc.datetime, names, body["numberMatched"], tc.names)
			}
		}
	})
}

// upload posts files to /v1/imports with form fields and a token.
func upload(t *testing.T, base, token string, fields map[string]string, files ...string) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("file", filepath.Base(f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/imports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return resp.StatusCode, body
}

// TestImportExportHTTP exports over HTTP, then imports the changed file back: token required,
// dry run by default, apply in one go, the same file twice changing nothing.
func TestImportExportHTTP(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	a := startApp(t, nil)
	ctx := context.Background()
	admin, err := a.db.AccountByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	token, err := a.db.CreateToken(ctx, admin.ID, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, a.base+"/v1/exports?format=shapefile&level=grid&layer=comprehensive&at=2025-01-01&encoding=gbk", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	zipped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || resp.Header.Get("X-Feature-Count") != "4" {
		t.Fatalf("export: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), zipped)
	}
	path := filepath.Join(t.TempDir(), "grids.zip")
	os.WriteFile(path, zipped, 0o600)

	if code, body := upload(t, a.base, "", nil, path); code != 401 || errCode(body) != "unauthorized" {
		t.Fatalf("no token: %d %v", code, body)
	}
	if code, body := upload(t, a.base, "glt_nope", nil, path); code != 401 {
		t.Fatalf("bad token: %d %v", code, body)
	}
	before, _ := a.db.CountGrids(ctx)
	code, body := upload(t, a.base, token, map[string]string{"from": "2025-01-01"}, path)
	if code != 200 || body["applied"] != false || body["unchanged"].(float64) != 4 || body["encoding"] != "GB18030" {
		t.Fatalf("dry run of the unchanged export: %d %v", code, body)
	}
	// A bad file: its problem is named, and nothing is written.
	bad := filepath.Join(t.TempDir(), "bad.geojson")
	os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"410103001001009","name":"x","parent_code":"410103001001"},"geometry":{"type":"Point","coordinates":[113.6,34.7]}}]}`), 0o600)
	code, body = upload(t, a.base, token, map[string]string{"from": "2025-01-01", "apply": "true", "level": "grid"}, bad)
	if code != 422 || errCode(body) != "rule_violation" || !strings.Contains(body["error"].(map[string]any)["message"].(string), "feature 1 (code 410103001001009): is a point where a polygon was expected") {
		t.Fatalf("points: %d %v", code, body)
	}
	// The export unchanged, applied: nothing to write.
	code, body = upload(t, a.base, token, map[string]string{"from": "2025-01-01", "apply": "true"}, path)
	if code != 200 || body["applied"] != true || body["added"].(float64)+body["changed"].(float64) != 0 {
		t.Fatalf("apply: %d %v", code, body)
	}
	if after, _ := a.db.CountGrids(ctx); after != before {
		t.Fatalf("%d versions, want %d", after, before)
	}
	staff := filepath.Join(t.TempDir(), "staff.csv")
	os.WriteFile(staff, []byte("网格编码,岗位,姓名,电话,任职日期\n410103001001002,专职网格员,钱多多,13800000001,2025-01-01\n"), 0o600)
	code, body = upload(t, a.base, token, map[string]string{"what": "staff"}, staff)
	if code != 200 || body["applied"] != false || body["assignments_added"].(float64) != 1 {
		t.Fatalf("staff dry run: %d %v", code, body)
	}
}

// TestImportCommand runs `gridline import` and `gridline export` as a user would.
func TestImportCommand(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	a := startApp(t, nil)
	env := map[string]string{"DATABASE_URL": a.dbURL, "GRIDLINE_TZ": "Asia/Shanghai"}
	getenv := func(k string) string { return env[k] }
	dir := t.TempDir()
	gpkg := filepath.Join(dir, "g.gpkg")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"export", "--format", "gpkg", "--at", "2025-01-01", "-o", gpkg}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "exported 15 grids") {
		t.Fatalf("export said %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"import", "--from", "2025-02-01", gpkg}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "dry run") || !strings.Contains(out.String(), "0 added, 0 changed, 0 retired, 15 unchanged") {
		t.Fatalf("import said %q", out.String())
	}
}

// An import's dry run says what coverage the grids it touches would have: a basic grid redrawn
// over its neighbour is an overlap in the report, before anything is written.
func TestImportDryRunAuditsCoverage(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	a := startApp(t, nil)
	env := map[string]string{"DATABASE_URL": a.dbURL, "GRIDLINE_TZ": "Asia/Shanghai"}
	getenv := func(k string) string { return env[k] }
	dir := t.TempDir()
	src := filepath.Join(dir, "grids.geojson")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"export", "--format", "geojson", "--level", "grid", "--layer", "comprehensive", "--at", "2025-01-01", "-o", src}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var fc map[string]any
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	moved := false
	for _, f := range fc["features"].([]any) {
		f := f.(map[string]any)
		if f["properties"].(map[string]any)["code"] == "410103001001002" {
			// 第2网格 reaches 500 m west over 第1网格 (113.60-113.61), inside their community.
			f["geometry"] = map[string]any{"type": "MultiPolygon", "coordinates": [][][][]float64{{{{113.605, 34.70}, {113.62, 34.70}, {113.62, 34.72}, {113.605, 34.72}, {113.605, 34.70}}}}}
			moved = true
		}
	}
	if !moved {
		t.Fatal("the export holds no grid 410103001001002")
	}
	b, _ = json.Marshal(fc)
	if err := os.WriteFile(src, b, 0o644); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if err := run(context.Background(), []string{"import", "--from", "2025-02-01", src}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	text := out.String()
	if !strings.Contains(text, "1 changed") || !strings.Contains(text, "coverage: ") || !strings.Contains(text, "error overlap") {
		t.Fatalf("the dry run does not report the overlap it would make:\n%s", text)
	}

	out.Reset()
	if err := run(context.Background(), []string{"import", "--json", "--from", "2025-02-01", src}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("import --json: %v\n%s", err, out.String())
	}
	var rep struct {
		Coverage struct {
			Summary struct {
				ByRule map[string]map[string]struct {
					Count  int     `json:"count"`
					AreaM2 float64 `json:"area_m2"`
				} `json:"by_rule"`
			} `json:"summary"`
			Findings struct {
				Features []any `json:"features"`
			} `json:"findings"`
		} `json:"coverage"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	ov := rep.Coverage.Summary.ByRule["overlap"]["grid"]
	// 0.005° of longitude by 0.02° of latitude at 34.7°N: about 457 m by 2,218 m.
	if ov.Count != 1 || ov.AreaM2 < 0.9e6 || ov.AreaM2 > 1.1e6 || len(rep.Coverage.Findings.Features) == 0 {
		t.Fatalf("coverage in the JSON report: %+v, %d findings", rep.Coverage.Summary.ByRule, len(rep.Coverage.Findings.Features))
	}
	// Nothing was written: the same file applied is still a change.
	if n, err := a.db.CountGrids(context.Background()); err != nil || n != 15 {
		t.Fatalf("after two dry runs the store holds %d grid versions (%v), want the fixture's 15", n, err)
	}
}
