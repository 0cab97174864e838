package importers_test

import (
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCaseListXLSX compares the XLSX reader with GDAL, which read these lists before: XLSX files
// ogr2ogr writes from CSV (text cells; then typed cells: numbers, dates, date-times, times) read
// as the CSV ogr2ogr makes of them with OGR_XLSX_HEADERS=DISABLE and OGR_XLSX_FIELD_TYPES=STRING,
// its header line dropped.
func TestCaseListXLSX(t *testing.T) {
	_, eng := fixtureDB(t)
	lists := map[string]string{
		"text": "code,standard,name,parent\n" +
			"06010,GB/T 30428,\"路口, 垃圾\",06\n" +
			"06011,,\"说 \"\"乱扔\"\"\",06\n" +
			"07,,市容 环境,\n",
		"typed": "grid_code,phone,valid_from,at,time,share\n" +
			"410103001001002,13800000001,2025-01-01,2025-01-01 08:30:00,12:15:00,2.5\n" +
			"410103001001003,13800000002,1999-12-31,2026-11-03 23:59:59,00:00:01,-0.125\n",
	}
	for name, list := range lists {
		dir := t.TempDir()
		csvPath := filepath.Join(dir, "list.csv")
		if err := os.WriteFile(csvPath, []byte(list), 0o600); err != nil {
			t.Fatal(err)
		}
		xlsx := filepath.Join(dir, "list.xlsx")
		if out, err := exec.Command("ogr2ogr", "-f", "XLSX", xlsx, csvPath, "-oo", "AUTODETECT_TYPE="+map[bool]string{true: "YES", false: "NO"}[name == "typed"]).CombinedOutput(); err != nil {
			t.Fatalf("make xlsx: %v %s", err, out)
		}
		gdalCSV := filepath.Join(dir, "gdal.csv")
		if out, err := exec.Command("ogr2ogr", "--config", "OGR_XLSX_HEADERS", "DISABLE", "--config", "OGR_XLSX_FIELD_TYPES", "STRING", "-f", "CSV", gdalCSV, xlsx).CombinedOutput(); err != nil {
			t.Fatalf("gdal: %v %s", err, out)
		}
		gdal, err := os.ReadFile(gdalCSV)
		if err != nil {
			t.Fatal(err)
		}
		want, err := csv.NewReader(strings.NewReader(string(gdal))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want = want[1:]
		data, err := eng.CaseListData(context.Background(), xlsx, "list.xlsx")
		if err != nil {
			t.Fatal(err)
		}
		got, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v in %s", name, err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q\nGDAL  %q", name, got, want)
		}
		if text, _ := csv.NewReader(strings.NewReader(list)).ReadAll(); name == "text" && !reflect.DeepEqual(got, text) {
			t.Errorf("text: got %q\nfrom %q", got, text)
		}
	}
	bad := writeFile(t, "bad.xlsx", "not a zip")
	if _, err := eng.CaseListData(context.Background(), bad, "bad.xlsx"); err == nil || !strings.Contains(err.Error(), "bad.xlsx") {
		t.Fatalf("a damaged XLSX: %v", err)
	}
}
