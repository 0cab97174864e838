package importers

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"

	"gridline.dev/gridline"
	"gridline.dev/gridline/internal/xlsx"
)

// xlsxAsCSV reads the first sheet of the XLSX file at path (xlsx.ReadText) as UTF-8 CSV for the
// list parsers: every row as data, cells as text, line N of the CSV is row N of the sheet (rows
// the sheet leaves out are blank lines, which the CSV reader skips), every line as wide as the
// widest row.
func xlsxAsCSV(path, name string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	rows, err := xlsx.ReadText(f, st.Size())
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalid, "cannot read %s: %v", filepath.Base(name), err).With("file", name)
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.Cells))
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	line := 1
	for _, r := range rows {
		for ; line < r.Line; line++ {
			buf.WriteByte('\n')
		}
		w.Write(append(r.Cells, make([]string, width-len(r.Cells))...)) //nolint:errcheck // a bytes.Buffer does not fail
		w.Flush()
		line++
	}
	return buf.Bytes(), w.Error()
}
