package importers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// DivisionOptions say how to read a division list.
type DivisionOptions struct {
	Encoding string
	From     time.Time
	Apply    bool
}

// DivisionReport is a division list import's report.
type DivisionReport struct {
	File string `json:"file"`
	*store.DivisionReport
}

var divisionColumns = map[string][]string{
	"code":        {"code", "代码", "编码", "区划代码"},
	"name":        {"name", "名称", "区划名称"},
	"level":       {"level", "级别", "层级"},
	"parent_code": {"parent_code", "parent", "上级代码", "上级编码"},
}

// levelNames are the ways division lists write a level.
var divisionCode = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)

var levelNames = map[string]gridline.Level{
	"区": gridline.LevelDistrict, "县": gridline.LevelDistrict, "区县": gridline.LevelDistrict,
	"街道": gridline.LevelSubdistrict, "乡镇": gridline.LevelSubdistrict, "乡": gridline.LevelSubdistrict, "镇": gridline.LevelSubdistrict,
	"社区": gridline.LevelCommunity, "村": gridline.LevelCommunity,
	"网格": gridline.LevelGrid, "微网格": gridline.LevelMicro,
}

// ImportDivisions reads a division list (code,name,level,parent_code, like
// /work/shared/data/erqi-divisions.csv) and names the stored grids after it; see
// store.DB.ImportDivisions. A dry run unless opt.Apply.
func (e *Engine) ImportDivisions(ctx context.Context, path string, opt DivisionOptions) (*DivisionReport, error) {
	name := filepath.Base(path)
	st, err := os.Stat(path)
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalid, "cannot read %s: %s", name, gdalMessage(err.Error()))
	}
	if st.Size() > e.cfg.MaxBytes {
		return nil, gridline.Errorf(gridline.ETooLarge, "%s is over the import limit of %d bytes", name, e.cfg.MaxBytes).With("limit", e.cfg.MaxBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows, problems, err := ParseDivisionCSV(data, opt.Encoding)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return &DivisionReport{File: name, DivisionReport: &store.DivisionReport{Rows: len(rows) + len(problems), Missing: []string{},
			Problems: problems, ProblemCount: len(problems)}}, nil
	}
	r, err := e.db.ImportDivisions(ctx, rows, opt.From, opt.Apply, 0)
	if err != nil {
		return nil, err
	}
	return &DivisionReport{File: name, DivisionReport: r}, nil
}

// ParseDivisionCSV reads a division list; see ParseStaffCSV for the split between problems and
// the error.
func ParseDivisionCSV(data []byte, encoding string) ([]store.DivisionRow, []store.ImportProblem, error) {
	var rows []store.DivisionRow
	var problems []store.ImportProblem
	readProblems, err := readList("division list", "code,name,level,parent_code", data, encoding, divisionColumns,
		[]string{"code", "name", "level"}, func(line int, get func(string) string) {
			d := store.DivisionRow{Index: line, Code: get("code"), Name: get("name"), ParentCode: get("parent_code")}
			lv := get("level")
			if l, ok := levelNames[lv]; ok {
				d.Level = l
			} else {
				d.Level = gridline.Level(strings.ToLower(lv))
			}
			switch {
			case !divisionCode.MatchString(d.Code):
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: d.Code, Field: "code", Message: fmt.Sprintf("code %q must be 1 to 32 letters or digits", d.Code)})
			case d.Name == "":
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: d.Code, Field: "name", Message: "has no name"})
			case !d.Level.Valid():
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: d.Code, Field: "level", Message: fmt.Sprintf("level %q is not one of %s (or 区, 街道, 乡镇, 社区, 村)", lv, gridline.LevelNames())})
			default:
				rows = append(rows, d)
			}
		})
	if err != nil {
		return nil, nil, err
	}
	return rows, append(readProblems, problems...), nil
}

// readList reads a CSV list (a staff or division list): UTF-8 or GBK text (encoding given, or
// detected), a byte-order mark dropped, a header whose columns are found by their names, then fn
// for every non-blank line with a getter of its trimmed fields by attribute. Lines that cannot be
// read as CSV come back as problems; the error is for a file that is not such a list at all.
// what names the list in messages; columns describes the expected header.
func readList(what, columns string, data []byte, encoding string, names map[string][]string, required []string,
	fn func(line int, get func(attr string) string)) ([]store.ImportProblem, error) {
	enc, err := normEncoding(encoding)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	valid := utf8.Valid(data)
	switch {
	case enc == "UTF-8" && !valid:
		return nil, gridline.Errorf(gridline.EInvalid, "the %s is not UTF-8 text: it is probably GBK; give encoding=gbk", what).With("field", "encoding")
	case enc == "GB18030" || (enc == "" && !valid):
		if data, err = simplifiedchinese.GB18030.NewDecoder().Bytes(data); err != nil || !utf8.Valid(data) {
			return nil, gridline.Errorf(gridline.EInvalid, "the %s is neither UTF-8 nor GBK text", what).With("field", "encoding")
		}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, gridline.Errorf(gridline.EInvalid, "the %s is empty: it needs a header line (%s) and one line per entry", what, columns)
	}
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalid, "the %s's header (%s) cannot be read as CSV: %v", what, columns, err)
	}
	col, err := findColumns(what, header, names, required...)
	if err != nil {
		return nil, err
	}
	var problems []store.ImportProblem
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if line > maxStaffRows {
			return nil, gridline.Errorf(gridline.ETooLarge, "the %s has more than %d lines", what, maxStaffRows)
		}
		if err != nil {
			problems = append(problems, store.ImportProblem{Index: line, Line: true, Field: "row", Message: fmt.Sprintf("cannot be read as CSV: %v", err)})
			if len(problems) > 1000 {
				break
			}
			continue
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		fn(line, func(attr string) string {
			if i, ok := col[attr]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		})
	}
	return problems, nil
}

// findColumns finds, for each attribute, the first header column whose name (case-insensitive,
// trimmed) is one of its names, and fails naming what it looked for when a required one is
// missing. what names the file in the message ("staff list").
func findColumns(what string, header []string, names map[string][]string, required ...string) (map[string]int, error) {
	col := map[string]int{}
	for attr, ns := range names {
		for i, h := range header {
			for _, n := range ns {
				if _, ok := col[attr]; !ok && strings.EqualFold(strings.TrimSpace(h), n) {
					col[attr] = i
				}
			}
		}
	}
	for _, attr := range required {
		if _, ok := col[attr]; !ok {
			return nil, gridline.Errorf(gridline.EInvalid, "the %s has no %s column (looked for %s); its columns are: %s",
				what, attr, strings.Join(names[attr], ", "), strings.Join(header, ", ")).With("field", attr)
		}
	}
	return col, nil
}
