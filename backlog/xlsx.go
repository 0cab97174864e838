package backlog

import (
	"io"

	workbook "gridline.dev/gridline/internal/xlsx"
)

// readXLSX reads the first sheet of an XLSX workbook as rows, each with its sheet row number
// (internal/xlsx: numbers stay numbers, a date is Excel's serial day number).
func readXLSX(r io.ReaderAt, size int64) ([]row, error) {
	xs, err := workbook.Read(r, size)
	if err != nil {
		return nil, err
	}
	rows := make([]row, len(xs))
	for i, x := range xs {
		rows[i] = row{line: x.Line, cells: x.Cells}
	}
	return rows, nil
}
