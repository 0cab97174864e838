package batch_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/batch"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/store/storetest"
)

// endless is a body that begins with head and then repeats fill up to 50 MB, counting what was
// read of it.
type endless struct {
	head, fill []byte
	n, max     int
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n >= e.max {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && e.n < e.max {
		if e.n < len(e.head) {
			c := copy(p[k:], e.head[e.n:])
			k += c
			e.n += c
			continue
		}
		c := copy(p[k:], e.fill[(e.n-len(e.head))%len(e.fill):])
		k += c
		e.n += c
	}
	return k, nil
}

// TestRecordLimits: a field, line, string or element that never ends ends the batch with
// too_large, naming the record, after a bounded read of it: memory stays bounded whatever the body
// limit. The records before it are answered.
func TestRecordLimits(t *testing.T) {
	ix := fixtureIndex()
	const body = 50 << 20
	cases := []struct {
		name, format, head, fill string
		where                    string // in the message
		lines                    int    // records answered before it
	}{
		{"csv field that never ends", batch.FormatCSV, "id,lon,lat\na,113.6055,34.7055\nb,", "1", "line 3 is longer than", 1},
		{"csv quote that never closes", batch.FormatCSV, "id,lon,lat\n\"", "a,\n", "the record from line 2 is longer than", 0},
		{"csv quoted field with quotes in it", batch.FormatCSV, "a,113.6055,34.7055\n\"", `""`, "line 2 is longer than", 1},
		{"json string that never ends", batch.FormatJSON, `[[113.6,34.7],{"id":"`, "a", "element 2: a string longer than", 1},
		{"json string of commas and brackets", batch.FormatJSON, `[{"id":"`, `a,],[`, "element 1: a string longer than", 0},
		{"json number that never ends", batch.FormatJSON, `[{"lon":1`, "1", "element 1: a value longer than", 0},
		{"json element that never ends", batch.FormatJSON, `[[1,2],[3,4],{`, `"id":1,`, "element 3 is longer than", 2},
		{"json nesting that never ends", batch.FormatJSON, `[`, `[`, "nested more than", 0},
		{"geojson property that never ends", batch.FormatGeoJSON, `{"type":"FeatureCollection","bbox":[1,2,3,4],"features":[{"type":"Feature","properties":{"name":"`, "网格", "element 1: a string longer than", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &endless{head: []byte(tc.head), fill: []byte(tc.fill), max: body}
			var out bytes.Buffer
			_, _, err := batch.Resolve(context.Background(), ix, in, &out, batch.Options{In: tc.format, Out: batch.OutNDJSON, DefaultCRS: geo.WGS84, At: storetest.FixtureFrom})
			if gridline.ErrorCode(err) != gridline.ETooLarge || !strings.Contains(gridline.ErrorMessage(err), tc.where) {
				t.Fatalf("error %v (code %s), want too_large with %q", err, gridline.ErrorCode(err), tc.where)
			}
			// Read counts bytes, not time: the reader gave up within a small multiple of the
			// limits, not at the end of the 50 MB.
			if in.n > 1<<20 {
				t.Fatalf("read %d bytes of the body before giving up", in.n)
			}
			if got := strings.Count(out.String(), "\n"); got != tc.lines {
				t.Fatalf("%d records answered, want %d: %s", got, tc.lines, out.String())
			}
		})
	}
}

// TestRecordLimitsLeaveRecordsAlone: pretty-printed JSON, long-ish ids and a GeoJSON feature with
// properties are within the limits.
func TestRecordLimitsLeaveRecordsAlone(t *testing.T) {
	ix := fixtureIndex()
	id := strings.Repeat("x", batch.MaxTokenBytes-2)
	for _, in := range []struct{ format, body string }{
		{batch.FormatJSON, "[\n  {\n    \"id\": \"" + id + "\",\n    \"lon\": 113.6,\n    \"lat\": 34.7\n  },\n  [113.6, 34.7]\n]\n"},
		{batch.FormatGeoJSON, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a","note":"` + strings.Repeat("网", 2000) + `","tags":[1,2,3]},"geometry":{"type":"Point","coordinates":[113.6,34.7]}}]}`},
		{batch.FormatCSV, "id,lon,lat\n" + id[:batch.MaxLineBytes-20] + ",113.6,34.7\n"},
	} {
		var out bytes.Buffer
		n, _, err := batch.Resolve(context.Background(), ix, strings.NewReader(in.body), &out, batch.Options{In: in.format, Out: batch.OutNDJSON, DefaultCRS: geo.WGS84, At: storetest.FixtureFrom})
		if err != nil || n == 0 || strings.Contains(out.String(), "error") {
			t.Fatalf("%s: %d records, error %v: %.300s", in.format, n, err, out.String())
		}
	}
}
