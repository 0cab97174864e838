// Package xlsx reads the first sheet of an Office Open XML workbook (.xlsx) as rows of cell
// texts: what the table imports (backlog, staff and case lists) need of a spreadsheet, with the
// sheet's own row numbers, and nothing of styles, formulas or writing.
package xlsx

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
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
func Read(r io.ReaderAt, size int64) ([]Row, error) {
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
