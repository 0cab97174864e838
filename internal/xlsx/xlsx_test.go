package xlsx

import (
	"archive/zip"
	"bytes"
	"io"
	"reflect"
	"testing"
	"time"
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

func TestCodeKind(t *testing.T) {
	for code, want := range map[string]timeKind{
		"General": 0, "0.00": 0, `#,##0.00"元"`: 0, `[$¥-804]#,##0.00`: 0, "0.0E+00": 0, `"d"0`: 0,
		"yyyy-mm-dd": showsDate, `yyyy"年"m"月"d"日"`: showsDate, "mmm": showsDate, `[$-804]yyyy/m/d`: showsDate,
		"hh:mm:ss": showsTime, "[h]:mm": showsTime, "h:mm AM/PM": showsTime, "mm:ss": showsTime,
		"DD/MM/YYYY\\ HH:MM:SS": showsDate | showsTime, "yyyy-mm-dd;@": showsDate,
	} {
		if got := codeKind(code); got != want {
			t.Errorf("codeKind(%q) = %d, want %d", code, got, want)
		}
	}
}

// TestReadText: cells styled with a built-in or custom date or time format are written as text;
// Read leaves the serial numbers; a 1904 workbook counts from 1904-01-01.
func TestReadText(t *testing.T) {
	sheet := `<worksheet><sheetData><row r="1"><c r="A1" s="1"><v>45658</v></c><c r="B1" s="2"><v>45658.5</v></c><c r="C1" s="3"><v>0.25</v></c><c r="D1" s="0"><v>45658</v></c><c r="E1" s="1" t="inlineStr"><is><t>2025-01-01</t></is></c></row></sheetData></worksheet>`
	b := book(t, sheet, "")
	// book has no styles: add them.
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	zr, _ := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	for _, f := range zr.File {
		w, _ := z.Create(f.Name)
		r, _ := f.Open()
		io.Copy(w, r) //nolint:errcheck
		r.Close()
	}
	w, _ := z.Create("xl/styles.xml")
	w.Write([]byte(`<styleSheet><numFmts><numFmt numFmtId="170" formatCode="yyyy-mm-dd hh:mm"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="170"/><xf numFmtId="21"/></cellXfs></styleSheet>`)) //nolint:errcheck
	z.Close()
	b = buf.Bytes()
	rows, err := ReadText(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[0].Cells, []string{"2025/01/01", "2025/01/01 12:00:00", "06:00:00", "45658", "2025-01-01"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ReadText: %q, want %q", got, want)
	}
	if rows, _ = Read(bytes.NewReader(b), int64(len(b))); rows[0].Cells[0] != "45658" {
		t.Errorf("Read: %q", rows[0].Cells)
	}
	if got := showsDate.format(time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC), "1"); got != "1904/01/02" {
		t.Errorf("1904: %s", got)
	}
}
