package backlog

import (
	"archive/zip"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
)

var shanghai = time.FixedZone("CST", 8*3600)

func opts() Options {
	return Options{Location: shanghai, Now: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
}

func TestReadCSV(t *testing.T) {
	csv := "\ufeffcategory,lon,lat,crs,description,reported_at,state\n" +
		"06010,113.6524,34.7426,,路口垃圾,2026-11-03 14:05,closed\n" +
		"09006,113.658481,34.741453,gcj02,\"占道经营,早市\",2026-11-04T08:00:00+08:00,dispatched\n" +
		"06028,,,,噪声扰民,2026/11/5,reported\n"
	recs, rep, err := Read("b.csv", []byte(csv), opts())
	if err != nil {
		t.Fatal(err, rep.Problems)
	}
	if len(recs) != 3 || rep.Rows != 3 || rep.ByState["closed"] != 1 {
		t.Fatalf("%+v %+v", recs, rep)
	}
	if recs[0].Line != 2 || *recs[0].Lon != 113.6524 || !recs[0].ReportedAt.Equal(time.Date(2026, 11, 3, 6, 5, 0, 0, time.UTC)) {
		t.Errorf("%+v", recs[0])
	}
	if recs[1].CRS != geo.GCJ02 || recs[1].Description != "占道经营,早市" {
		t.Errorf("%+v", recs[1])
	}
	if recs[2].Lon != nil || recs[2].Line != 4 {
		t.Errorf("a row without a place: %+v", recs[2])
	}
}

func TestReadCSVProblems(t *testing.T) {
	csv := "category,lon,lat,description,reported_at,state\n" +
		"06010,113.6,34.7,ok,2026-11-03 14:05,closed\n" +
		",113.6,34.7,no category,2026-11-03 14:05,closed\n" +
		"06010,113.6,,half a place,2026-11-03 14:05,closed\n" +
		"06010,113.6,95,far north,2026-11-03 14:05,closed\n" +
		"06010,113.6,34.7,\"multi\nline\",yesterday,closed\n" +
		"06010,113.6,34.7,future,2027-01-01 00:00,closed\n"
	_, rep, err := Read("b.csv", []byte(csv), opts())
	if err == nil {
		t.Fatal("accepted")
	}
	want := []struct {
		line  int
		field string
		says  string
	}{{3, "category", "category is empty"}, {4, "lon", "lon and lat go together"}, {5, "lat", "out of range"}, {6, "reported_at", "is not a time"}, {8, "reported_at", "in the future"}}
	if len(rep.Problems) != len(want) {
		t.Fatalf("%+v", rep.Problems)
	}
	for i, w := range want {
		p := rep.Problems[i]
		if p.Line != w.line || p.Field != w.field || !strings.Contains(p.Message, w.says) {
			t.Errorf("problem %d: %+v, want line %d %s %q", i, p, w.line, w.field, w.says)
		}
	}
	if !strings.Contains(err.Error(), "5 problems, nothing was imported; the first: line 3") {
		t.Error(err)
	}
	for name, file := range map[string]string{
		"header":   "category,description\n06010,x\n",
		"empty":    "",
		"encoding": "category,description,reported_at,state\n06010,\xb2\xe2,2026-11-03,closed\n",
	} {
		if _, _, err := Read("b.csv", []byte(file), opts()); err == nil || gridline.ErrorCode(err) != gridline.EInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := Read("b.json", []byte("{}"), opts()); err == nil {
		t.Error("json accepted")
	}
}

// xlsx builds a small workbook as Excel writes one: shared strings, a number, a date serial.
func xlsx(t *testing.T) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, _ := z.Create(name)
		w.Write([]byte(body))
	}
	add("[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`)
	add("xl/workbook.xml", `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="案件" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	add("xl/_rels/workbook.xml.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`)
	add("xl/sharedStrings.xml", `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>类别</t></si><si><t>经度</t></si><si><t>纬度</t></si><si><t>问题描述</t></si><si><t>上报时间</t></si><si><t>状态</t></si><si><r><t>路口</t></r><r><t>垃圾</t></r></si><si><t>closed</t></si></sst>`)
	add("xl/worksheets/sheet1.xml", `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c><c r="F1" t="s"><v>5</v></c></row>`+
		`<row r="2"><c r="A2" t="inlineStr"><is><t>06010</t></is></c><c r="B2"><v>113.6524</v></c><c r="C2"><v>34.7426</v></c><c r="D2" t="s"><v>6</v></c><c r="E2" s="1"><v>46329.5</v></c><c r="F2" t="s"><v>7</v></c></row>`+
		`<row r="3"/>`+
		`<row r="5"><c r="A5" t="inlineStr"><is><t>09006</t></is></c><c r="D5" t="inlineStr"><is><t>无地点</t></is></c><c r="E5" t="inlineStr"><is><t>2026-11-04 09:00</t></is></c><c r="F5" t="s"><v>7</v></c></row>`+
		`</sheetData></worksheet>`)
	z.Close()
	return buf.Bytes()
}

func TestReadXLSX(t *testing.T) {
	recs, rep, err := Read("backlog.xlsx", xlsx(t), opts())
	if err != nil {
		t.Fatal(err, rep.Problems)
	}
	if len(recs) != 2 {
		t.Fatalf("%+v", recs)
	}
	r := recs[0]
	// 46329.5 is 2026-11-03 12:00 in the district's time zone.
	if r.Line != 2 || r.Category != "06010" || *r.Lat != 34.7426 || r.Description != "路口垃圾" || !r.ReportedAt.Equal(time.Date(2026, 11, 3, 4, 0, 0, 0, time.UTC)) || r.State != "closed" {
		t.Errorf("%+v at %s", r, r.ReportedAt)
	}
	if recs[1].Line != 5 || recs[1].Lon != nil {
		t.Errorf("%+v", recs[1])
	}
	if _, _, err := Read("x.xlsx", []byte("not a zip"), opts()); err == nil {
		t.Error("a damaged xlsx accepted")
	}
}

type failingIntake struct{ at int }

func (f failingIntake) FileBacklog(_ context.Context, recs []Record) error {
	if f.at >= 0 {
		return gridline.Errorf(gridline.EInvalid, "category %q is not in the catalogue", recs[f.at].Category).With("index", f.at).With("field", "category")
	}
	return nil
}

func TestImportReportsTheIntakesProblemAtItsLine(t *testing.T) {
	csv := "category,description,reported_at,state\n06010,a,2026-11-03,closed\n99999,b,2026-11-03,closed\n"
	recs, rep, err := Read("b.csv", []byte(csv), opts())
	if err != nil {
		t.Fatal(err)
	}
	err = Import(context.Background(), failingIntake{at: 1}, recs, rep, false)
	if err == nil || rep.Imported != 0 || len(rep.Problems) != 1 || rep.Problems[0].Line != 3 || rep.Problems[0].Field != "category" {
		t.Fatalf("%v %+v", err, rep)
	}
	_, rep, _ = Read("b.csv", []byte(csv), opts())
	if err := Import(context.Background(), failingIntake{at: -1}, recs, rep, false); err != nil || rep.Imported != 2 {
		t.Fatal(err, rep)
	}
}
