package xlsx

import (
	"archive/zip"
	"bytes"
	"reflect"
	"testing"
)

func book(t *testing.T, sheet, shared string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body)) //nolint:errcheck
	}
	add("xl/workbook.xml", `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="a" sheetId="1" r:id="rId7"/></sheets></workbook>`)
	add("xl/_rels/workbook.xml.rels", `<Relationships><Relationship Id="rId7" Target="/xl/worksheets/s.xml"/></Relationships>`)
	if shared != "" {
		add("xl/sharedStrings.xml", shared)
	}
	add("xl/worksheets/s.xml", sheet)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRead: row numbers across missing rows, cells by their reference (gaps are ""), shared
// strings with rich runs and phonetic runs left out, inline strings, numbers as written.
func TestRead(t *testing.T) {
	b := book(t, `<worksheet><sheetData>`+
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="inlineStr"><is><t>内联</t></is></c></row>`+
		`<row r="4"><c r="B4"><v>13800000001</v></c><c t="s"><v>1</v></c></row>`+
		`</sheetData></worksheet>`,
		`<sst><si><r><t>网格</t></r><r><t>编码</t></r><rPh><t>ワン</t></rPh></si><si><t>06010</t></si></sst>`)
	rows, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{{Line: 1, Cells: []string{"网格编码", "", "内联"}}, {Line: 4, Cells: []string{"", "13800000001", "06010"}}}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("got %+v, want %+v", rows, want)
	}
	b = book(t, `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>5</v></c></row></sheetData></worksheet>`, "")
	if _, err := Read(bytes.NewReader(b), int64(len(b))); err == nil {
		t.Error("a shared string that is not there accepted")
	}
	if _, err := Read(bytes.NewReader([]byte("no zip")), 6); err == nil {
		t.Error("not a zip accepted")
	}
}
