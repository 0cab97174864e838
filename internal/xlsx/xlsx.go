// Package xlsx reads the first sheet of an Office Open XML workbook (.xlsx) as rows of cell
// texts: what the table imports (backlog, staff and case lists) need of a spreadsheet, with the
// sheet's own row numbers, and nothing of styles, formulas or writing.
package xlsx

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

// Limits: an imported list is a table, not a workbook of any size.
const (
	maxXLSXPart  = 256 << 20 // the largest part (sheet, shared strings) read, uncompressed
	maxXLSXCells = 16384     // columns in a row
)

// Row is one row of a sheet: its number (1 is the sheet's first row) and its cells' texts, by
// column (A is 0; a missing cell is "").
type Row struct {
	Line  int
	Cells []string
}

// Read reads the first worksheet of an Office Open XML workbook as rows of cell texts, each
// with its row number (1 is the sheet's first row). Shared strings, inline strings, numbers and
// booleans are read as the text they hold; a number stays a number (a date is Excel's serial day
// number, which the caller reads where a date belongs). Formulas give their cached value.
func Read(r io.ReaderAt, size int64) ([]Row, error) { return read(r, size, false) }

// ReadText is Read with the cells a date or time format shows as dates and times written as
// GDAL's XLSX driver writes them as text: 2006/01/02, 2006/01/02 15:04:05 or 15:04:05 (the
// lists importers once converted through ogr2ogr read these).
func ReadText(r io.ReaderAt, size int64) ([]Row, error) { return read(r, size, true) }

func read(r io.ReaderAt, size int64, text bool) ([]Row, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not an XLSX file (it is not a zip archive): %v", err)
	}
	files := map[string]*zip.File{}
	for _, f := range z.File {
		files[f.Name] = f
	}
	sheet, err := firstSheet(files)
	if err != nil {
		return nil, err
	}
	var kinds map[int]timeKind
	var base time.Time
	if text {
		kinds, base = timeStyles(files)
	}
	var shared []string
	if f := files["xl/sharedStrings.xml"]; f != nil {
		if shared, err = readShared(f); err != nil {
			return nil, err
		}
	}
	f := files[sheet]
	if f == nil {
		return nil, fmt.Errorf("not an XLSX file: its first sheet %s is missing", sheet)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, maxXLSXPart))
	var rows []Row
	var cur *Row
	var cell struct {
		col      int
		typ      string
		style    int
		text     strings.Builder
		inValue  bool
		inInline bool
	}
	next := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("damaged XLSX sheet: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				n := len(rows) + 1
				if v := attr(t, "r"); v != "" {
					if i, err := strconv.Atoi(v); err == nil && i > 0 {
						n = i
					}
				}
				rows = append(rows, Row{Line: n})
				cur = &rows[len(rows)-1]
				next = 0
			case "c":
				cell.col, cell.typ = next, attr(t, "t")
				cell.style, _ = strconv.Atoi(attr(t, "s"))
				if ref := attr(t, "r"); ref != "" {
					if c, ok := column(ref); ok {
						cell.col = c
					}
				}
				next = cell.col + 1
				cell.text.Reset()
			case "v":
				cell.inValue = true
			case "is":
				cell.inInline = true
			}
		case xml.CharData:
			if cell.inValue || cell.inInline {
				cell.text.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				cell.inValue = false
			case "is":
				cell.inInline = false
			case "c":
				if cur == nil || cell.col >= maxXLSXCells {
					continue
				}
				v := cell.text.String()
				if cell.typ == "s" {
					i, err := strconv.Atoi(strings.TrimSpace(v))
					if err != nil || i < 0 || i >= len(shared) {
						return nil, fmt.Errorf("damaged XLSX sheet: row %d refers to shared string %q, which is not there", cur.Line, v)
					}
					v = shared[i]
				} else if k := kinds[cell.style]; k != 0 && (cell.typ == "" || cell.typ == "n") {
					v = k.format(base, v)
				}
				for len(cur.Cells) <= cell.col {
					cur.Cells = append(cur.Cells, "")
				}
				cur.Cells[cell.col] = v
			}
		}
	}
	return rows, nil
}

// firstSheet is the path of the workbook's first sheet, from its relationships.
func firstSheet(files map[string]*zip.File) (string, error) {
	var wb struct {
		Sheets []struct {
			RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := readXML(files["xl/workbook.xml"], &wb); err != nil || len(wb.Sheets) == 0 {
		return "", fmt.Errorf("not an XLSX file: no workbook with a sheet (xl/workbook.xml)")
	}
	if err := readXML(files["xl/_rels/workbook.xml.rels"], &rels); err != nil {
		return "", fmt.Errorf("not an XLSX file: no workbook relationships (xl/_rels/workbook.xml.rels)")
	}
	for _, r := range rels.Rels {
		if r.ID == wb.Sheets[0].RID {
			if strings.HasPrefix(r.Target, "/") {
				return strings.TrimPrefix(r.Target, "/"), nil
			}
			return path.Join("xl", r.Target), nil
		}
	}
	return "", fmt.Errorf("not an XLSX file: the first sheet's relationship %s is missing", wb.Sheets[0].RID)
}

func readShared(f *zip.File) ([]string, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, maxXLSXPart))
	var out []string
	var b strings.Builder
	inSI, inT, inRPh := false, false, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("damaged XLSX shared strings: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				b.Reset()
			case "t":
				inT = true
			case "rPh": // phonetic runs are not part of the text
				inRPh = true
			}
		case xml.CharData:
			if inSI && inT && !inRPh {
				b.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				out = append(out, b.String())
				inSI = false
			case "t":
				inT = false
			case "rPh":
				inRPh = false
			}
		}
	}
}

func readXML(f *zip.File, v any) error {
	if f == nil {
		return fmt.Errorf("missing")
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, maxXLSXPart)).Decode(v)
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// column is the zero-based column of a cell reference such as "C12".
func column(ref string) (int, bool) {
	n := 0
	i := 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		n = n*26 + int(ref[i]-'A'+1)
		if n > maxXLSXCells {
			return 0, false
		}
	}
	if i == 0 {
		return 0, false
	}
	return n - 1, true
}

// timeKind is what a number format shows of a serial day number: a date, a time of day, or both.
type timeKind int

const (
	showsDate timeKind = 1 << iota
	showsTime
)

// format writes the serial day number v (days since base) as GDAL does; v unchanged if it is not
// a number.
func (k timeKind) format(base time.Time, v string) string {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > 2958466 { // 9999-12-31
		return v
	}
	t := base.Add(time.Duration(math.Round(f*86400)) * time.Second)
	switch k {
	case showsDate:
		return t.Format("2006/01/02")
	case showsTime:
		return t.Format("15:04:05")
	}
	return t.Format("2006/01/02 15:04:05")
}

// builtinTimes are the built-in number formats (ECMA-376 18.8.30, with the Chinese, Japanese
// and Korean ones) that show dates or times.
var builtinTimes = map[int]timeKind{
	14: showsDate, 15: showsDate, 16: showsDate, 17: showsDate, 18: showsTime, 19: showsTime,
	20: showsTime, 21: showsTime, 22: showsDate | showsTime, 27: showsDate, 28: showsDate,
	29: showsDate, 30: showsDate, 31: showsDate, 32: showsTime, 33: showsTime, 34: showsTime,
	35: showsTime, 36: showsDate, 45: showsTime, 46: showsTime, 47: showsTime, 50: showsDate,
	51: showsDate, 52: showsDate, 53: showsDate, 54: showsDate, 55: showsTime, 56: showsTime,
	57: showsDate, 58: showsDate,
}

// timeStyles are the cell styles (indexes of cellXfs) whose number format shows a date or a
// time, and the day serial 0 of the workbook's date system (1899-12-30, or 1904-01-01).
func timeStyles(files map[string]*zip.File) (map[int]timeKind, time.Time) {
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	var wb struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
	}
	if readXML(files["xl/workbook.xml"], &wb) == nil && (wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true") {
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var st struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmt int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if readXML(files["xl/styles.xml"], &st) != nil {
		return nil, base
	}
	fmts := map[int]timeKind{}
	for id, k := range builtinTimes {
		fmts[id] = k
	}
	for _, f := range st.NumFmts {
		fmts[f.ID] = codeKind(f.Code)
	}
	out := map[int]timeKind{}
	for i, x := range st.Xfs {
		if k := fmts[x.NumFmt]; k != 0 {
			out[i] = k
		}
	}
	return out, base
}

// codeKind is what a custom number format code shows: date parts (y, d, or m without h or s),
// time parts (h, s), both or neither. Quoted text, escaped characters and [colour] or [$-locale]
// sections do not count; [h] (elapsed hours) does.
func codeKind(code string) timeKind {
	var k timeKind
	m := false
	for i := 0; i < len(code); i++ {
		switch c := code[i] | 0x20; { // lower case for letters
		case code[i] == '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
		case code[i] == '\\' || code[i] == '_' || code[i] == '*':
			i++
		case code[i] == '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				return k
			}
			if inner := strings.ToLower(code[i+1 : i+j]); strings.Trim(inner, "hms") == "" {
				k |= showsTime
			}
			i += j
		case code[i] == ';': // only the first (positive) section counts
			i = len(code)
		case c == 'y' || c == 'd':
			k |= showsDate
		case c == 'h' || c == 's':
			k |= showsTime
		case c == 'm':
			m = true
		}
	}
	if m && k == 0 {
		k = showsDate
	}
	return k
}
