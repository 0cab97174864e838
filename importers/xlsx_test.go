package importers_test

import (
	"context"
	"encoding/csv"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCaseListXLSX compares the XLSX reader with GDAL: a case list written to XLSX by ogr2ogr
// reads back as the CSV it was made from, row for row (the header row included).
func TestCaseListXLSX(t *testing.T) {
	_, eng := fixtureDB(t)
	list := "code,standard,name,parent\n" +
		"06010,GB/T 30428,\"路口, 垃圾\",06\n" +
		"06011,,\"说 \"\"乱扔\"\"\",06\n" +
		"07,,市容 环境,\n"
	csvPath := writeFile(t, "list.csv", list)
	xlsx := filepath.Join(t.TempDir(), "list.xlsx")
	if out, err := exec.Command("ogr2ogr", "-f", "XLSX", xlsx, csvPath).CombinedOutput(); err != nil {
		t.Fatalf("make xlsx: %v %s", err, out)
	}
	data, err := eng.CaseListData(context.Background(), xlsx, "list.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	want, _ := csv.NewReader(strings.NewReader(list)).ReadAll()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	bad := writeFile(t, "bad.xlsx", "not a zip")
	if _, err := eng.CaseListData(context.Background(), bad, "bad.xlsx"); err == nil || !strings.Contains(err.Error(), "bad.xlsx") {
		t.Fatalf("a damaged XLSX: %v", err)
	}
}
