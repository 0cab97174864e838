// Package backlog reads a backlog of cases from a CSV or XLSX file (`gridline cases import FILE`)
// and files it through the case engine's intake, all or nothing: every row is checked first and
// every problem reported with its line, and the intake files the rows in one transaction or none.
// It knows nothing of HTTP or SQL: the intake is the Intake interface declared here.
package backlog

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
)

// Record is one case of the backlog.
type Record struct {
	Line        int       `json:"line"` // the file's line (CSV) or row (XLSX), 1 being the header
	Category    string    `json:"category"`
	Lon         *float64  `json:"lon,omitempty"` // in CRS; nil when the place is not known yet
	Lat         *float64  `json:"lat,omitempty"`
	CRS         geo.CRS   `json:"-"`
	Address     string    `json:"address,omitempty"`
	Description string    `json:"description"`
	ReportedAt  time.Time `json:"reported_at"`
	State       string    `json:"state"`
	Urgency     string    `json:"urgency,omitempty"`
	Source      string    `json:"source,omitempty"`
}

// Intake files cases (dispatch's intake implements it, wired in cmd/gridline).
type Intake interface {
	// FileBacklog files every record in one transaction, routed as a case reported at its
	// ReportedAt and brought to its State, or files none. A problem with one record is an error
	// carrying that record's index (a *gridline.Error with detail "index").
	FileBacklog(ctx context.Context, recs []Record) error
}

// Problem is one thing wrong with the file, at a line.
type Problem struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Report is what an import did, or would have done.
type Report struct {
	File     string         `json:"file"`
	Rows     int            `json:"rows"`
	Imported int            `json:"imported"`
	DryRun   bool           `json:"dry_run,omitempty"`
	ByState  map[string]int `json:"by_state"`
	Problems []Problem      `json:"problems"`
}

// MaxProblems is how many problems a report lists at most; the rest are counted.
const MaxProblems = 200

// columns maps the header names a file may use (English, as in docs/api.md, and Chinese) to a
// field.
var columns = map[string]string{
	"category": "category", "category_code": "category", "类别": "category", "案件类别": "category", "类别编码": "category", "事件类别": "category",
	"lon": "lon", "longitude": "lon", "x": "lon", "经度": "lon",
	"lat": "lat", "latitude": "lat", "y": "lat", "纬度": "lat",
	"crs": "crs", "坐标系": "crs",
	"address": "address", "地址": "address",
	"description": "description", "描述": "description", "问题描述": "description", "内容": "description",
	"reported_at": "reported_at", "上报时间": "reported_at", "发现时间": "reported_at",
	"state": "state", "状态": "state",
	"urgency": "urgency", "紧急程度": "urgency",
	"source": "source", "来源": "source",
}

var required = []string{"category", "description", "reported_at", "state"}

// Options tune reading.
type Options struct {
	CRS      geo.CRS        // the CRS of rows without a crs column (default WGS84)
	Location *time.Location // the time zone of times without one (GRIDLINE_TZ)
	Now      time.Time      // no case is reported after now
	MaxRows  int            // default 100,000
}

type row struct {
	line  int
	cells []string
}

// ReadFile reads path (.csv or .xlsx) into records, or the problems that stop it.
func ReadFile(path string, opt Options) ([]Record, *Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, gridline.Errorf(gridline.EInvalid, "cannot read %s: %v", path, errors.Unwrap(err))
	}
	return Read(filepath.Base(path), b, opt)
}

// Read reads a file's bytes, named name (its extension says CSV or XLSX).
func Read(name string, b []byte, opt Options) ([]Record, *Report, error) {
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.CRS.Name == "" {
		opt.CRS = geo.WGS84
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = 100000
	}
	rep := &Report{File: name, ByState: map[string]int{}, Problems: []Problem{}}
	var rows []row
	var err error
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		rows, err = readXLSX(bytes.NewReader(b), int64(len(b)))
	case ".csv", ".txt":
		rows, err = readCSV(b)
	default:
		return nil, rep, gridline.Errorf(gridline.EInvalid, "%s: a backlog is a .csv or .xlsx file", name)
	}
	if err != nil {
		return nil, rep, gridline.Errorf(gridline.EInvalid, "%s: %v", name, err)
	}
	// Blank rows (an XLSX sheet's formatting, a trailing line) are not cases.
	kept := rows[:0]
	for _, r := range rows {
		if strings.TrimSpace(strings.Join(r.cells, "")) != "" {
			kept = append(kept, r)
		}
	}
	rows = kept
	if len(rows) == 0 {
		return nil, rep, gridline.Errorf(gridline.EInvalid, "%s is empty: the first row names the columns (%s)", name, strings.Join(required, ", "))
	}
	idx := map[string]int{}
	for i, h := range rows[0].cells {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if f, ok := columns[h]; ok {
			if _, dup := idx[f]; dup {
				return nil, rep, gridline.Errorf(gridline.EInvalid, "%s line %d: two columns mean %s", name, rows[0].line, f).With("line", rows[0].line)
			}
			idx[f] = i
		}
	}
	var missing []string
	for _, f := range required {
		if _, ok := idx[f]; !ok {
			missing = append(missing, f)
		}
	}
	if _, lon := idx["lon"]; lon != func() bool { _, ok := idx["lat"]; return ok }() {
		missing = append(missing, "lon and lat together")
	}
	if len(missing) > 0 {
		return nil, rep, gridline.Errorf(gridline.EInvalid, "%s line %d: the header lacks %s (columns: category, lon, lat, crs, address, description, reported_at, state, urgency, source)", name, rows[0].line, strings.Join(missing, ", ")).With("line", rows[0].line)
	}
	data := rows[1:]
	rep.Rows = len(data)
	if len(data) > opt.MaxRows {
		return nil, rep, gridline.Errorf(gridline.EInvalid, "%s has %d rows, more than the %d one import takes: split it", name, len(data), opt.MaxRows)
	}
	var recs []Record
	for _, r := range data {
		rec, probs := parseRow(r, idx, opt)
		rep.problems(probs...)
		if len(probs) == 0 {
			recs = append(recs, rec)
			rep.ByState[rec.State]++
		}
	}
	return recs, rep, rep.err()
}

func (rep *Report) problems(ps ...Problem) {
	rep.Problems = append(rep.Problems, ps...)
}

// err is the report's problems as one error, or nil.
func (rep *Report) err() error {
	if len(rep.Problems) == 0 {
		return nil
	}
	first := rep.Problems[0]
	n := len(rep.Problems)
	if n > MaxProblems {
		rep.Problems = rep.Problems[:MaxProblems]
	}
	return gridline.Errorf(gridline.EInvalid, "%s: %d problems, nothing was imported; the first: line %d: %s", rep.File, n, first.Line, first.Message).
		With("line", first.Line).With("problems", n)
}

func readCSV(b []byte) ([]row, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("the file is not UTF-8 text (save it as CSV UTF-8)")
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var rows []row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, row{line: line, cells: rec})
	}
}

func parseRow(r row, idx map[string]int, opt Options) (Record, []Problem) {
	get := func(f string) string {
		i, ok := idx[f]
		if !ok || i >= len(r.cells) {
			return ""
		}
		return strings.TrimSpace(r.cells[i])
	}
	var probs []Problem
	bad := func(field, format string, args ...any) {
		probs = append(probs, Problem{Line: r.line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	rec := Record{Line: r.line, Category: get("category"), Address: get("address"), Description: get("description"),
		State: strings.ToLower(get("state")), Urgency: strings.ToLower(get("urgency")), Source: strings.ToLower(get("source")), CRS: opt.CRS}
	for _, f := range required {
		if get(f) == "" {
			bad(f, "%s is empty", f)
		}
	}
	if c := get("crs"); c != "" {
		crs, err := geo.ParseCRS(c)
		if err != nil {
			bad("crs", "%v", err)
		}
		rec.CRS = crs
	}
	lon, lat := get("lon"), get("lat")
	switch {
	case lon == "" && lat == "":
	case lon == "" || lat == "":
		bad("lon", "lon and lat go together: give both, or neither while the place is not known")
	default:
		x, errX := strconv.ParseFloat(lon, 64)
		y, errY := strconv.ParseFloat(lat, 64)
		switch {
		case errX != nil || math.IsNaN(x) || math.IsInf(x, 0):
			bad("lon", "lon %q is not a number", gridline.Excerpt(lon))
		case errY != nil || math.IsNaN(y) || math.IsInf(y, 0):
			bad("lat", "lat %q is not a number", gridline.Excerpt(lat))
		case rec.CRS.Geographic() && (y < -90 || y > 90):
			bad("lat", "lat %v is out of range -90..90", y)
		case rec.CRS.Geographic() && (x < -180 || x > 180):
			bad("lon", "lon %v is out of range -180..180", x)
		default:
			rec.Lon, rec.Lat = &x, &y
		}
	}
	if s := get("reported_at"); s != "" {
		t, err := parseTime(s, opt.Location)
		switch {
		case err != nil:
			bad("reported_at", "%v", err)
		case !opt.Now.IsZero() && t.After(opt.Now):
			bad("reported_at", "reported_at %s is in the future", t.In(opt.Location).Format("2006-01-02 15:04"))
		default:
			rec.ReportedAt = t
		}
	}
	if n := utf8.RuneCountInString(rec.Description); n > 4000 {
		bad("description", "description has %d characters, more than 4,000", n)
	}
	return rec, probs
}

// timeLayouts are the forms a reported_at may take; those without a zone are in the district's.
var timeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006/1/2 15:04:05", "2006/1/2 15:04", "2006-01-02", "2006/1/2"}

func parseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	// An XLSX date cell: Excel's serial day number (days since 1899-12-30, the fraction the time
	// of day), in the district's time zone.
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 20000 && f < 80000 {
		day := int(f)
		secs := int(math.Round((f - float64(day)) * 86400))
		return time.Date(1899, 12, 30, 0, 0, secs, 0, loc).AddDate(0, 0, day), nil
	}
	return time.Time{}, fmt.Errorf("reported_at %q is not a time: write 2026-11-03 14:05 (district time) or 2026-11-03T14:05:00+08:00", gridline.Excerpt(s))
}

// Import files recs through in (unless dryRun), all or nothing. An intake error about one record
// becomes a problem at its line.
func Import(ctx context.Context, in Intake, recs []Record, rep *Report, dryRun bool) error {
	if dryRun {
		rep.DryRun = true
		return nil
	}
	if err := in.FileBacklog(ctx, recs); err != nil {
		var ge *gridline.Error
		if errors.As(err, &ge) {
			if i, ok := ge.Details["index"].(int); ok && i >= 0 && i < len(recs) {
				field, _ := ge.Details["field"].(string)
				rep.problems(Problem{Line: recs[i].Line, Field: field, Message: ge.Message})
				return rep.err()
			}
		}
		return err
	}
	rep.Imported = len(recs)
	return nil
}
