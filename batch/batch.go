// Package batch is the wire side of batch resolution (POST /v1/resolve): it reads points as a JSON
// array, a GeoJSON FeatureCollection or CSV, converts them to WGS84 a chunk at a time, locates them
// in a resolve.GridIndex and writes one result per point as NDJSON or CSV, streaming both ways in
// bounded memory. Locating a point is resolve's; this package knows the formats around it.
package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
)

// Transformer converts points from an EPSG code to WGS84 (the store does it through PostGIS).
type Transformer interface {
	Transform(ctx context.Context, srid int, xs, ys []float64) ([]float64, []float64, error)
}

// Input formats for a batch.
const (
	FormatJSON    = "json"    // [{"id":..,"lon":..,"lat":..,"crs":..}, ...] or [[lon,lat], ...]
	FormatGeoJSON = "geojson" // a FeatureCollection of Points; id from the feature's id or properties.id
	FormatCSV     = "csv"     // id,lon,lat[,crs] with or without that header
)

// Output formats for a batch.
const (
	OutNDJSON = "ndjson"
	OutCSV    = "csv"
)

// Options are what a batch applies to every point.
type Options struct {
	In, Out    string
	DefaultCRS geo.CRS
	At         time.Time
	Transform  Transformer // for EPSG codes other than 4326/4490; nil refuses them
	// Addresses matches records given by an address (a CSV address column, a JSON "address"
	// member) instead of a point; nil refuses them.
	Addresses *address.Matcher
}

// record is one point of a batch as read.
type record struct {
	id       []byte // raw JSON (a string or number) or, from CSV, the text
	idIsJSON bool
	where    string // "line 12" or "element 12": where the record came from, for errors
	lon, lat float64
	crs      geo.CRS
	err      *gridline.Error
	p        orb.Point // WGS84 once converted
	// An address record: the text, and once matched, what it matched.
	addr      string
	hasAddr   bool
	label     string
	precision address.Precision
	conf      float64
}

// chunkSize is how many points are converted, resolved and written together: EPSG conversion
// goes to PostGIS once per chunk, and memory stays bounded whatever the batch size.
const chunkSize = 4096

// Resolve locates every point read from in with ix (the resolver's current index, nil before the
// first build) and writes one result per point to out, streaming, in bounded memory. A record
// that cannot be read or resolved gets an error result in its place and the batch goes on; input
// whose structure is broken (so nothing after it can be read) ends the batch with an error.
// started tells whether any output was written before that error.
func Resolve(ctx context.Context, ix *resolve.GridIndex, in io.Reader, out io.Writer, opt Options) (n int, started bool, err error) {
	if ix == nil {
		return 0, false, gridline.Errorf(gridline.EUnavailable, "the resolution index is not built yet")
	}
	var next func() (*record, error)
	switch opt.In {
	case FormatJSON, FormatGeoJSON:
		next, err = jsonReader(&jsonLimiter{r: in})
	case FormatCSV:
		next = csvReader(in)
	default:
		return 0, false, gridline.Errorf(gridline.EInvalid, "unknown input format %q: use json, geojson or csv", gridline.Excerpt(opt.In))
	}
	if err != nil {
		return 0, false, err
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	w := &batchWriter{w: bw, csv: opt.Out == OutCSV, ix: ix, at: opt.At, layers: ix.Layers()}
	chunk := make([]record, 0, chunkSize)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := convert(ctx, chunk, opt.Transform, opt.Addresses, opt.At); err != nil {
			return err
		}
		if w.csv && !w.headed {
			// The header waits for the first records: address columns when they have addresses.
			for i := range chunk {
				w.addrCols = w.addrCols || chunk[i].hasAddr
			}
			w.header()
		}
		for i := range chunk {
			w.write(&chunk[i])
		}
		n += len(chunk)
		chunk = chunk[:0]
		started = true
		return bw.Flush()
	}
	for {
		rec, rerr := next()
		if rec != nil {
			if rec.err == nil && rec.crs.Name == "" {
				rec.crs = opt.DefaultCRS
			}
			chunk = append(chunk, *rec)
			if len(chunk) == chunkSize {
				if err := flush(); err != nil {
					return n, started, err
				}
				if ctx.Err() != nil {
					return n, started, ctx.Err()
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ferr := flush(); ferr != nil {
				return n, started, ferr
			}
			return n, started, rerr
		}
	}
	if err := flush(); err != nil {
		return n, started, err
	}
	if w.csv && !w.headed {
		w.header()
		bw.Flush()
	}
	return n, started || n > 0, nil
}

// convert turns every record's point into WGS84, checking ranges; EPSG points go to the
// transformer in one call per code.
func convert(ctx context.Context, recs []record, tr Transformer, am *address.Matcher, at time.Time) error {
	byCode := map[int][]int{}
	for i := range recs {
		rc := &recs[i]
		if rc.err != nil {
			continue
		}
		if rc.hasAddr {
			matchAddress(rc, am, at)
			continue
		}
		if e := resolve.CheckCoordinate(rc.lon, rc.lat, rc.crs); e != nil {
			rc.err = e.With("where", rc.where)
			continue
		}
		if rc.crs.Local() {
			lon, lat := rc.crs.ToWGS84(rc.lon, rc.lat)
			rc.p = orb.Point{lon, lat}
			continue
		}
		byCode[rc.crs.EPSG] = append(byCode[rc.crs.EPSG], i)
	}
	for code, idx := range byCode {
		if tr == nil {
			for _, i := range idx {
				recs[i].err = gridline.Errorf(gridline.EInvalidCRS, "%s: EPSG:%d cannot be converted here", recs[i].where, code)
			}
			continue
		}
		xs, ys := make([]float64, len(idx)), make([]float64, len(idx))
		for k, i := range idx {
			xs[k], ys[k] = recs[i].lon, recs[i].lat
		}
		lon, lat, err := tr.Transform(ctx, code, xs, ys)
		if err != nil {
			if gridline.ErrorCode(err) == gridline.EUnavailable {
				return err
			}
			for _, i := range idx {
				recs[i].err = &gridline.Error{Code: gridline.ErrorCode(err), Message: recs[i].where + ": " + gridline.ErrorMessage(err)}
			}
			continue
		}
		for k, i := range idx {
			recs[i].p = orb.Point{lon[k], lat[k]}
		}
	}
	return nil
}

// matchAddress resolves an address record to its point, or marks why it cannot be.
func matchAddress(rc *record, am *address.Matcher, at time.Time) {
	if am == nil {
		rc.err = gridline.Errorf(gridline.EInvalid, "%s: this server has no address register: send lon and lat", rc.where)
		return
	}
	if len(rc.addr) > MaxAddressBytes {
		rc.err = gridline.Errorf(gridline.EInvalid, "%s: the address is %d bytes long; an address is at most %d bytes", rc.where, len(rc.addr), MaxAddressBytes).With("field", "address")
		return
	}
	res := am.Resolve(rc.addr, at)
	if !res.Resolved {
		rc.err = gridline.Errorf(gridline.ENotFound, "%s: the address was not resolved: %s", rc.where, res.Reason).With("field", "address")
		return
	}
	rc.p = orb.Point{res.Best.Lon, res.Best.Lat}
	rc.label, rc.precision, rc.conf = res.Best.Label, res.Best.Precision, res.Best.Confidence
	rc.lon, rc.lat = res.Best.Lon, res.Best.Lat
}

// MaxAddressBytes is the longest address a batch record may hold.
const MaxAddressBytes = 1024

// batchWriter writes results as NDJSON or CSV, appending into one buffer to stay allocation-light.
type batchWriter struct {
	w      *bufio.Writer
	csv    bool
	ix     *resolve.GridIndex
	at     time.Time
	layers []gridline.Layer
	loc    resolve.Location
	buf    []byte
	sc     []int32
	// addrCols adds the address columns to the CSV header; headed is set once it is written.
	addrCols, headed bool
}

// header writes the CSV header: the point, a column per level (gridline.Levels), the special
// grids, a column per thematic layer of the index, the boundary, and the error.
func (bw *batchWriter) header() {
	cols := []string{"id", "lon", "lat", "wgs84_lon", "wgs84_lat", "covered"}
	for _, l := range gridline.Levels {
		cols = append(cols, string(l))
	}
	cols = append(cols, "special")
	for _, l := range bw.layers {
		cols = append(cols, string(l))
	}
	cols = append(cols, "boundary_m", "near_grid", "error")
	if bw.addrCols {
		cols = append(cols, "address", "precision", "confidence")
	}
	bw.headed = true
	bw.w.WriteString(strings.Join(cols, ",") + "\n")
}

// write writes the result for one record: it locates the point, then appends the line in the
// output format to the reused buffer and hands it to the buffered writer.
func (bw *batchWriter) write(rc *record) {
	boundary, near := bw.locate(rc)
	var b []byte
	if bw.csv {
		b = bw.appendCSV(bw.buf[:0], rc, boundary, near)
	} else {
		b = bw.appendNDJSON(bw.buf[:0], rc, boundary, near)
	}
	bw.w.Write(b)
	bw.buf = b
}

// locate fills bw.loc with the grids covering a readable record's point and, when a
// comprehensive grid covers it, measures the distance to the boundary of its basic grid (or of
// the deepest grid found) and names the grid across that boundary when it is near enough.
// boundary is -1 and near empty when there is nothing to measure.
func (bw *batchWriter) locate(rc *record) (boundary float64, near string) {
	if rc.err == nil {
		bw.sc = bw.ix.Locate(rc.p, bw.at, &bw.loc, bw.sc)
	}
	boundary = -1
	if rc.err == nil && bw.loc.Covered() {
		own := bw.loc.Chain[gridline.LevelGrid.Rank()]
		if own < 0 {
			own = bw.loc.Deepest()
		}
		boundary = bw.ix.BoundaryDistance(rc.p, own)
		if boundary <= resolve.NearBoundaryMetres {
			if i, _, ok := bw.ix.Across(rc.p, own, bw.at, resolve.NearBoundaryMetres); ok {
				near = bw.ix.Grid(i).Code
			}
		}
	}
	return boundary, near
}

// appendCSV appends the record's CSV line, with the columns of header: the point as given, then
// either the error in the last column or what locate found.
func (bw *batchWriter) appendCSV(b []byte, rc *record, boundary float64, near string) []byte {
	b = appendCSVField(b, string(rc.idText()))
	b = append(b, ',')
	b = strconv.AppendFloat(b, rc.lon, 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, rc.lat, 'f', -1, 64)
	if rc.err != nil {
		// Every column of header is empty up to the error.
		b = append(b, ",,,"...)
		for range gridline.Levels {
			b = append(b, ',')
		}
		b = append(b, ',')
		for range bw.layers {
			b = append(b, ',')
		}
		b = append(b, ",,,"...)
		b = appendCSVField(b, rc.err.Code+": "+rc.err.Message)
		if bw.addrCols {
			b = append(b, ",,,"...)
		}
		return append(b, '\n')
	}
	b = append(b, ',')
	b = strconv.AppendFloat(b, round7(rc.p[0]), 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, round7(rc.p[1]), 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendBool(b, bw.loc.Covered())
	for _, i := range bw.loc.Chain {
		b = append(b, ',')
		if i >= 0 {
			b = append(b, bw.ix.Grid(i).Code...)
		}
	}
	b = append(b, ',')
	for k, i := range bw.loc.Special {
		if k > 0 {
			b = append(b, ';')
		}
		b = append(b, bw.ix.Grid(i).Code...)
	}
	for _, l := range bw.layers {
		b = append(b, ',')
		first := true
		for _, i := range bw.loc.Thematic {
			if bw.ix.Grid(i).Layer == l {
				if !first {
					b = append(b, ';')
				}
				b = append(b, bw.ix.Grid(i).Code...)
				first = false
			}
		}
	}
	b = append(b, ',')
	if boundary >= 0 {
		b = strconv.AppendFloat(b, roundCM(boundary), 'f', -1, 64)
	}
	b = append(b, ',')
	b = append(b, near...)
	b = append(b, ',')
	if bw.addrCols {
		b = append(b, ',')
		b = appendCSVField(b, rc.label)
		b = append(b, ',')
		b = append(b, rc.precision...)
		b = append(b, ',')
		if rc.hasAddr {
			b = strconv.AppendFloat(b, rc.conf, 'f', -1, 64)
		}
	}
	return append(b, '\n')
}

// appendNDJSON appends the record's JSON line: its id, then either the error or what locate
// found, leaving out the levels and layers that no grid covers.
func (bw *batchWriter) appendNDJSON(b []byte, rc *record, boundary float64, near string) []byte {
	b = append(b, `{"id":`...)
	b = append(b, rc.idJSON()...)
	if rc.err != nil {
		b = append(b, `,"error":`...)
		e, _ := json.Marshal(rc.err)
		b = append(b, e...)
		return append(b, "}\n"...)
	}
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, round7(rc.p[0]), 'f', -1, 64)
	b = append(b, `,"lat":`...)
	b = strconv.AppendFloat(b, round7(rc.p[1]), 'f', -1, 64)
	b = append(b, `,"covered":`...)
	b = strconv.AppendBool(b, bw.loc.Covered())
	for r, i := range bw.loc.Chain {
		if i >= 0 {
			b = append(b, `,"`...)
			b = append(b, gridline.Levels[r]...)
			b = append(b, `":`...)
			b = strconv.AppendQuote(b, bw.ix.Grid(i).Code)
		}
	}
	if len(bw.loc.Special) > 0 {
		b = append(b, `,"special":[`...)
		for k, i := range bw.loc.Special {
			if k > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, bw.ix.Grid(i).Code)
		}
		b = append(b, ']')
	}
	for _, i := range bw.loc.Thematic {
		b = append(b, `,"`...)
		b = append(b, bw.ix.Grid(i).Layer...)
		b = append(b, `":`...)
		b = strconv.AppendQuote(b, bw.ix.Grid(i).Code)
	}
	if boundary >= 0 {
		b = append(b, `,"boundary_m":`...)
		b = strconv.AppendFloat(b, roundCM(boundary), 'f', -1, 64)
	}
	if near != "" {
		b = append(b, `,"near_grid":`...)
		b = strconv.AppendQuote(b, near)
	}
	if rc.hasAddr {
		b = append(b, `,"address":{"label":`...)
		b = strconv.AppendQuote(b, rc.label)
		b = append(b, `,"precision":`...)
		b = strconv.AppendQuote(b, string(rc.precision))
		b = append(b, `,"confidence":`...)
		b = strconv.AppendFloat(b, rc.conf, 'f', -1, 64)
		b = append(b, '}')
	}
	return append(b, "}\n"...)
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

// roundCM rounds metres to the centimetre, as resolve's answers do.
func roundCM(m float64) float64 { return math.Round(m*100) / 100 }

func (rc *record) idJSON() []byte {
	if len(rc.id) == 0 {
		return []byte("null")
	}
	if rc.idIsJSON {
		return rc.id
	}
	// JSON quoting, not Go's: an id read from CSV may hold any bytes.
	b, _ := json.Marshal(string(rc.id))
	return b
}

func (rc *record) idText() []byte {
	if rc.idIsJSON && len(rc.id) > 0 && rc.id[0] == '"' {
		var s string
		if json.Unmarshal(rc.id, &s) == nil {
			return []byte(s)
		}
	}
	return rc.id
}

func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// csvReader reads id,lon,lat[,crs] lines, each within MaxLineBytes. A first line whose lon is not
// a number is a header.
func csvReader(in io.Reader) func() (*record, error) {
	cr := csv.NewReader(&lineLimiter{r: in})
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	line := 0
	cols := map[string]int{"id": 0, "lon": 1, "lat": 2, "crs": 3}
	return func() (*record, error) {
		for {
			fields, err := cr.Read()
			line++
			if err == io.EOF {
				return nil, io.EOF
			}
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					pe = nil
				}
				if pe != nil {
					line = pe.Line
					// A malformed line is reported in its place; the reader can go on after it.
					if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
						return &record{where: fmt.Sprintf("line %d", pe.Line), err: gridline.Errorf(gridline.EInvalid, "line %d: %v", pe.Line, pe.Err).With("line", pe.Line)}, nil
					}
				}
				if pe != nil {
					return nil, gridline.Errorf(gridline.EInvalid, "line %d: %v", line, err).With("line", line)
				}
				return nil, fmt.Errorf("reading line %d: %w", line, err)
			}
			if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
				continue // blank line
			}
			if line == 1 {
				if _, err := strconv.ParseFloat(strings.TrimSpace(get(fields, cols["lon"])), 64); err != nil {
					// A header: learn the column order from it.
					named := map[string]int{}
					for i, f := range fields {
						named[strings.ToLower(strings.TrimSpace(f))] = i
					}
					_, hasAddr := named["address"]
					if _, ok := named["lon"]; !ok && !hasAddr {
						return nil, gridline.Errorf(gridline.EInvalid, "line 1: the header %q has no lon column (expected id,lon,lat[,crs])", gridline.Excerpt(strings.Join(fields, ","))).With("line", 1)
					}
					if _, ok := named["lat"]; !ok && !hasAddr {
						return nil, gridline.Errorf(gridline.EInvalid, "line 1: the header %q has no lat column (expected id,lon,lat[,crs])", gridline.Excerpt(strings.Join(fields, ","))).With("line", 1)
					}
					cols = map[string]int{"id": -1, "crs": -1, "lon": -1, "lat": -1, "address": -1}
					for k, v := range named {
						cols[k] = v
					}
					continue
				}
			}
			rc := &record{where: fmt.Sprintf("line %d", line), id: []byte(get(fields, cols["id"]))}
			if a, ok := cols["address"]; ok && a >= 0 && strings.TrimSpace(get(fields, cols["lon"])) == "" {
				rc.addr, rc.hasAddr = get(fields, a), true
				return rc, nil
			}
			if len(fields) < 3 && cols["lat"] >= len(fields) {
				rc.err = gridline.Errorf(gridline.EInvalid, "line %d: expected id,lon,lat[,crs], got %d fields", line, len(fields)).With("line", line)
				return rc, nil
			}
			var perr error
			if rc.lon, perr = strconv.ParseFloat(strings.TrimSpace(get(fields, cols["lon"])), 64); perr != nil {
				rc.err = gridline.Errorf(gridline.EInvalidCoord, "line %d: lon %q is not a number", line, gridline.Excerpt(get(fields, cols["lon"]))).With("line", line).With("field", "lon")
				return rc, nil
			}
			if rc.lat, perr = strconv.ParseFloat(strings.TrimSpace(get(fields, cols["lat"])), 64); perr != nil {
				rc.err = gridline.Errorf(gridline.EInvalidCoord, "line %d: lat %q is not a number", line, gridline.Excerpt(get(fields, cols["lat"]))).With("line", line).With("field", "lat")
				return rc, nil
			}
			if c := strings.TrimSpace(get(fields, cols["crs"])); c != "" {
				crs, err := geo.ParseCRS(c)
				if err != nil {
					rc.err = gridline.Errorf(gridline.EInvalidCRS, "line %d: %v", line, err).With("line", line).With("field", "crs")
					return rc, nil
				}
				rc.crs = crs
			}
			return rc, nil
		}
	}
}

func get(fields []string, i int) string {
	if i < 0 || i >= len(fields) {
		return ""
	}
	return fields[i]
}

// jsonPoint is one element of a JSON batch: an object or a [lon, lat] pair.
type jsonPoint struct {
	ID  json.RawMessage `json:"id"`
	Lon *float64        `json:"lon"`
	Lat *float64        `json:"lat"`
	CRS string          `json:"crs"`
	// Address is matched against the address register when lon and lat are not given.
	Address *string `json:"address"`
}

type geoFeature struct {
	ID       json.RawMessage `json:"id"`
	Type     string          `json:"type"`
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// jsonReader streams the elements of a JSON array, or of a FeatureCollection's "features": which
// one is told by the first token, whatever the Content-Type said.
func jsonReader(in io.Reader) (func() (*record, error), error) {
	dec := json.NewDecoder(in)
	dec.UseNumber()
	jr := &jsonRecords{dec: dec}
	if err := jr.open(); err != nil {
		return nil, err
	}
	return jr.next, nil
}

// jsonRecords reads the records of a JSON batch one element at a time.
type jsonRecords struct {
	dec     *json.Decoder
	geojson bool // the elements are GeoJSON Features
	n       int  // the elements read so far
	done    bool
}

// fail turns an error of the decoder into the error that ends the batch: the client's broken
// JSON says where it broke; a failure to read the body keeps its cause.
func (jr *jsonRecords) fail(err error) error {
	dec := jr.dec
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return gridline.Errorf(gridline.EInvalid, "invalid JSON at byte %d: %v", se.Offset, se).With("offset", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return gridline.Errorf(gridline.EInvalid, "invalid JSON at byte %d: %s", te.Offset, describeJSON(te)).With("offset", te.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return gridline.Errorf(gridline.EInvalid, "the JSON ends early at byte %d (truncated input?)", dec.InputOffset()).With("offset", dec.InputOffset())
	}
	// Not the client's JSON but the reading itself (a body over the limit, a dropped
	// connection): keep the cause for the caller to classify.
	return fmt.Errorf("reading the body at byte %d: %w", dec.InputOffset(), err)
}

// open reads up to the first element: past the array's '[', or through a FeatureCollection's
// members up to and into its "features" array.
func (jr *jsonRecords) open() error {
	dec := jr.dec
	tok, err := dec.Token()
	if err != nil {
		return jr.fail(err)
	}
	switch tok {
	case json.Delim('['):
	case json.Delim('{'):
		// A FeatureCollection: find "features" and step into its array.
		jr.geojson = true
		for {
			kt, err := dec.Token()
			if err != nil {
				return jr.fail(err)
			}
			if kt == json.Delim('}') {
				return gridline.Errorf(gridline.EInvalid, "the JSON object has no \"features\" array: send a GeoJSON FeatureCollection of Points, a JSON array, or CSV")
			}
			key, _ := kt.(string)
			if key == "features" {
				if t, err := dec.Token(); err != nil || t != json.Delim('[') {
					return gridline.Errorf(gridline.EInvalid, "\"features\" must be an array")
				}
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return jr.fail(err)
			}
		}
	default:
		return gridline.Errorf(gridline.EInvalid, "a batch must be a JSON array, a GeoJSON FeatureCollection, or CSV")
	}
	return nil
}

// next reads the next element as a record, io.EOF after the closing bracket. An element that
// cannot be read as a point is a record with an error; JSON that breaks off is the batch's error.
func (jr *jsonRecords) next() (*record, error) {
	dec := jr.dec
	if jr.done || !dec.More() {
		jr.done = true
		// Consume the closing bracket so truncated input is noticed.
		t, err := dec.Token()
		if err != nil && err != io.EOF {
			return nil, jr.fail(err)
		}
		if t != json.Delim(']') {
			return nil, gridline.Errorf(gridline.EInvalid, "the array of points is not closed (truncated input?) after element %d", jr.n).With("element", jr.n)
		}
		return nil, io.EOF
	}
	jr.n++
	n := jr.n
	rc := &record{where: fmt.Sprintf("element %d", n)}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, jr.fail(err)
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case jr.geojson:
		rc.fromFeature(raw, n)
	case len(raw) > 0 && raw[0] == '[':
		rc.fromPair(raw, n)
	default:
		rc.fromObject(raw, n)
	}
	return rc, nil
}

// elementError is the error of a record that element n of a JSON batch could not give.
func elementError(n int, msg string, args ...any) *gridline.Error {
	return gridline.Errorf(gridline.EInvalid, "element %d: "+msg, append([]any{n}, args...)...).With("element", n)
}

// describeJSON says in the project's words what a JSON value should have been, for an error of
// json.Unmarshal into a jsonPoint, a geoFeature or the decoder: which member (if any), what was
// expected and what came. encoding/json's own message names Go types, which mean nothing to a
// client.
func describeJSON(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		got := te.Value
		if i := strings.IndexByte(got, ' '); i > 0 {
			got = got[:i] // "number 1e999": the kind, not the value
		}
		if te.Field == "" {
			return "got " + article(got)
		}
		return fmt.Sprintf("%q must be %s, got %s", te.Field, expectedKind(te.Type), article(got))
	}
	return "it could not be read as JSON"
}

// expectedKind names the JSON kind a Go type is read from.
func expectedKind(t reflect.Type) string {
	if t == nil {
		return "a different kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64, reflect.Int32:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a different kind of value"
}

// article puts "a" or "an" before a JSON kind (string, number, object, array, bool).
func article(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	case "bool":
		return "true or false"
	case "":
		return "something else"
	}
	return "a " + kind
}

// fromFeature reads element n of a FeatureCollection: a Point feature, its id from the feature's
// id or else properties.id, and its coordinate system from properties.crs.
func (rc *record) fromFeature(raw []byte, n int) {
	var f geoFeature
	if err := json.Unmarshal(raw, &f); err != nil {
		rc.err = elementError(n, "expected a GeoJSON Feature object: %s", describeJSON(err))
		return
	}
	rc.id, rc.idIsJSON = f.ID, true
	if len(rc.id) == 0 {
		rc.id = f.Properties["id"]
	}
	var xy []float64
	if f.Geometry == nil || f.Geometry.Type != "Point" || json.Unmarshal(f.Geometry.Coordinates, &xy) != nil || len(xy) < 2 {
		rc.err = elementError(n, "the feature's geometry must be a Point with [lon, lat]")
		return
	}
	rc.lon, rc.lat = xy[0], xy[1]
	if c, ok := f.Properties["crs"]; ok {
		var s string
		if json.Unmarshal(c, &s) == nil && s != "" {
			crs, err := geo.ParseCRS(s)
			if err != nil {
				rc.err = gridline.Errorf(gridline.EInvalidCRS, "element %d: %v", n, err).With("element", n)
				return
			}
			rc.crs = crs
		}
	}
}

// fromPair reads element n of a JSON array given as [lon, lat]: its id is n.
func (rc *record) fromPair(raw []byte, n int) {
	var pair []float64
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) < 2 {
		rc.err = elementError(n, "a point given as an array must be [lon, lat]")
		return
	}
	rc.lon, rc.lat = pair[0], pair[1]
	rc.id, rc.idIsJSON = []byte(strconv.Itoa(n)), true
}

// fromObject reads element n of a JSON array given as {"id":..,"lon":..,"lat":..,"crs":..}.
func (rc *record) fromObject(raw []byte, n int) {
	var jp jsonPoint
	if err := json.Unmarshal(raw, &jp); err != nil {
		rc.err = elementError(n, "expected an object {\"id\":..,\"lon\":..,\"lat\":..} or a pair [lon, lat]: %s", describeJSON(err))
		return
	}
	rc.id, rc.idIsJSON = jp.ID, true
	if jp.Address != nil && jp.Lon == nil && jp.Lat == nil {
		rc.addr, rc.hasAddr = *jp.Address, true
		return
	}
	if jp.Lon == nil || jp.Lat == nil {
		rc.err = gridline.Errorf(gridline.EInvalidCoord, "element %d: lon and lat are required", n).With("element", n)
		return
	}
	rc.lon, rc.lat = *jp.Lon, *jp.Lat
	if jp.CRS != "" {
		crs, err := geo.ParseCRS(jp.CRS)
		if err != nil {
			rc.err = gridline.Errorf(gridline.EInvalidCRS, "element %d: %v", n, err).With("element", n)
			return
		}
		rc.crs = crs
	}
}
