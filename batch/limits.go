package batch

import (
	"io"

	"gridline.dev/gridline"
)

// Limits on one record of a batch. A batch may be as large as the server's body limit, but it is
// read a record at a time, and a record is a point: a line, a token or an element over these
// limits is not a coordinate record, and the batch ends with too_large as soon as one is seen,
// before the reader (encoding/csv, encoding/json) holds more of it.
const (
	MaxLineBytes    = 8 << 10  // one CSV line (a record, or the header)
	MaxTokenBytes   = 8 << 10  // one JSON token: a string, a number, a literal
	MaxElementBytes = 64 << 10 // one element of a JSON array (a GeoJSON Feature with its properties)
	maxJSONDepth    = 64       // nesting of JSON arrays and objects
)

// lineLimiter passes a CSV body through, ending it with a too_large error at the first record
// longer than MaxLineBytes. It follows CSV's quoting (RFC 4180, as encoding/csv reads it), since a
// quoted field may span lines: a quote that is never closed is one endless record. The records
// before it are passed whole, so they are answered.
type lineLimiter struct {
	r     io.Reader
	state csvState
	line  int // lines ended so far
	start int // the line the current record began on (0-based)
	run   int // bytes of the current record
	err   error
}

// csvState is where a lineLimiter is within a record.
type csvState uint8

const (
	fieldStart csvState = iota // at the start of a field (spaces before it are trimmed)
	unquoted                   // in a field without quotes
	quoted                     // in a quoted field
	quoteSeen                  // just after a quote in a quoted field: its end, or the first of ""
)

func (l *lineLimiter) Read(p []byte) (int, error) { return readStepping(l.r, p, l.step, &l.err) }

// step takes one byte and tells whether it broke the limit (l.err says how).
func (l *lineLimiter) step(c byte) bool {
	l.run++
	end := false
	switch l.state {
	case fieldStart, unquoted:
		switch {
		case c == '"' && l.state == fieldStart:
			l.state = quoted
		case c == ',':
			l.state = fieldStart
		case c == '\n':
			end = true
		case c == ' ' || c == '\t':
		default:
			l.state = unquoted
		}
	case quoted:
		if c == '"' {
			l.state = quoteSeen
		}
	case quoteSeen:
		switch c {
		case '"':
			l.state = quoted
		case ',':
			l.state = fieldStart
		case '\n':
			end = true
		default:
			l.state = unquoted // malformed: encoding/csv reports it
		}
	}
	if c == '\n' {
		l.line++
	}
	if end {
		l.run, l.start, l.state = 0, l.line, fieldStart
		return false
	}
	if l.run <= MaxLineBytes {
		return false
	}
	if l.start == l.line {
		l.err = gridline.Errorf(gridline.ETooLarge, "line %d is longer than %d bytes: a line is one point, id,lon,lat[,crs]", l.line+1, MaxLineBytes).With("line", l.line+1).With("limit", MaxLineBytes)
	} else {
		l.err = gridline.Errorf(gridline.ETooLarge, "the record from line %d is longer than %d bytes at line %d: a quote that is never closed?", l.start+1, MaxLineBytes, l.line+1).With("line", l.start+1).With("limit", MaxLineBytes)
	}
	return true
}

// jsonLimiter passes a JSON body through, ending it with a too_large error at the first token
// longer than MaxTokenBytes, element of the array of points longer than MaxElementBytes, or
// nesting deeper than maxJSONDepth. It follows JSON's structure (strings and their escapes, the
// brackets) closely enough to know where tokens and elements end; the decoder checks the rest.
type jsonLimiter struct {
	r        io.Reader
	stack    []byte // the open brackets
	inString bool
	escape   bool
	token    int  // bytes of the current token
	elem     int  // bytes of the current element of the points array
	n        int  // elements of the points array begun
	started  bool // the current element has begun
	err      error
}

// pointsLevel tells whether the innermost open bracket holds the points: the top-level array, or
// the array one level inside the top-level object (a FeatureCollection's "features" and, harmlessly,
// its other arrays).
func (l *jsonLimiter) pointsLevel() bool {
	switch len(l.stack) {
	case 1:
		return l.stack[0] == '['
	case 2:
		return l.stack[0] == '{' && l.stack[1] == '['
	}
	return false
}

func (l *jsonLimiter) fail(format string, args ...any) {
	l.err = gridline.Errorf(gridline.ETooLarge, format, args...).With("element", l.n)
}

func (l *jsonLimiter) Read(p []byte) (int, error) { return readStepping(l.r, p, l.step, &l.err) }

// readStepping reads from r into p and hands each byte read to step, stopping before the first
// byte that breaks a limit (step says so and sets *failed); once broken, every read is *failed.
func readStepping(r io.Reader, p []byte, step func(byte) bool, failed *error) (int, error) {
	if *failed != nil {
		return 0, *failed
	}
	n, err := r.Read(p)
	for i, c := range p[:n] {
		if step(c) {
			if i == 0 {
				return 0, *failed
			}
			return i, nil
		}
	}
	return n, err
}

// step takes one byte and tells whether it broke a limit (l.err says which).
func (l *jsonLimiter) step(c byte) bool {
	atPoints := l.pointsLevel() && !l.inString
	if atPoints && !l.started && !isSpace(c) && c != ',' && c != ']' {
		l.started = true // the first byte of an element
		l.n++
	}
	l.elem++
	if l.elem > MaxElementBytes {
		l.fail("element %d is longer than %d bytes: an element is one point", l.n, MaxElementBytes)
		return true
	}
	if l.inString {
		l.token++
		switch {
		case l.escape:
			l.escape = false
		case c == '\\':
			l.escape = true
		case c == '"':
			l.inString = false
			l.token = 0
		}
		if l.token > MaxTokenBytes {
			l.fail("element %d: a string longer than %d bytes (a quote that is never closed?)", l.n, MaxTokenBytes)
			return true
		}
		return false
	}
	switch {
	case c == '"':
		l.inString, l.token = true, 1
	case c == '[' || c == '{':
		l.token = 0
		if len(l.stack) == maxJSONDepth {
			l.fail("element %d: arrays and objects nested more than %d deep", l.n, maxJSONDepth)
			return true
		}
		l.stack = append(l.stack, c)
		if l.pointsLevel() {
			// The array of points opens (or, in a FeatureCollection, another array member).
			l.elem, l.n, l.started = 0, 0, false
		}
	case c == ']' || c == '}':
		l.token = 0
		if len(l.stack) > 0 {
			l.stack = l.stack[:len(l.stack)-1]
		}
	case c == ',' || c == ':' || isSpace(c):
		l.token = 0
		if c == ',' && atPoints {
			l.elem, l.started = 0, false
		}
	default:
		l.token++
		if l.token > MaxTokenBytes {
			l.fail("element %d: a value longer than %d bytes", l.n, MaxTokenBytes)
			return true
		}
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }
