package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/batch"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store/storetest"
)

// fixtureIndex is an index over the hand-built fixture, with no database behind it.
func fixtureIndex() *resolve.GridIndex {
	d := storetest.Fixture()
	for i := range d.Grids {
		d.Grids[i].VersionID = int64(i + 1)
	}
	return resolve.Build(d.Grids, nil, time.Now())
}

func TestBatchFormats(t *testing.T) {
	ix := fixtureIndex()
	at := storetest.FixtureFrom.AddDate(1, 0, 0)
	cases := []struct {
		name, in, format, out string
		lines                 int
		want                  []string // substrings, one per line
		fails                 string
	}{
		{"json objects", `[{"id":"a","lon":113.6055,"lat":34.7055},{"id":2,"lon":113.65,"lat":34.72}]`, batch.FormatJSON, batch.OutNDJSON, 2,
			[]string{`"micro":"410103001001001001"`, `"covered":false`}, ""},
		{"json pairs", `[[113.615,34.71]]`, batch.FormatJSON, batch.OutNDJSON, 1, []string{`"grid":"410103001001002"`}, ""},
		{"json point without lat", `[{"id":"x","lon":1}]`, batch.FormatJSON, batch.OutNDJSON, 1, []string{`element 1: lon and lat are required`}, ""},
		{"json bad crs", `[{"id":"x","lon":1,"lat":2,"crs":"mars"}]`, batch.FormatJSON, batch.OutNDJSON, 1, []string{`unknown_crs`}, ""},
		{"json EPSG without transformer", `[{"id":"x","lon":1,"lat":2,"crs":"EPSG:3857"}]`, batch.FormatJSON, batch.OutNDJSON, 1, []string{`unknown_crs`}, ""},
		// No Go type name reaches a client: the element, what was expected and what came.
		{"json element neither object nor pair", `[[113.6,34.7],"s"]`, batch.FormatJSON, batch.OutNDJSON, 2,
			[]string{`"covered":true`, `element 2: expected an object {\"id\":..,\"lon\":..,\"lat\":..} or a pair [lon, lat]: got a string`}, ""},
		{"json lon not a number", `[{"id":"x","lon":"113.6","lat":34.7}]`, batch.FormatJSON, batch.OutNDJSON, 1,
			[]string{`element 1: expected an object {\"id\":..,\"lon\":..,\"lat\":..} or a pair [lon, lat]: \"lon\" must be a number, got a string`}, ""},
		{"geojson geometry type not a string", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":7}}]}`, batch.FormatGeoJSON, batch.OutNDJSON, 1,
			[]string{`element 1: expected a GeoJSON Feature object: \"geometry.type\" must be a string, got a number`}, ""},
		{"json truncated", `[{"id":"x","lon":113.6,"lat":34.7}`, batch.FormatJSON, batch.OutNDJSON, 1, []string{`"covered":true`}, "not closed"},
		{"json syntax error", `[{"id":"x","lon":113.6,"lat":34.7},{"id":]`, batch.FormatJSON, batch.OutNDJSON, 1, []string{`"covered":true`}, "invalid JSON"},
		{"csv with header and crs", "id,lon,lat,crs\np,113.6115341,34.7042628,gcj02\n", batch.FormatCSV, batch.OutNDJSON, 1, []string{`"micro":"410103001001001001"`}, ""},
		{"csv without header", "p,113.6055,34.7055\n", batch.FormatCSV, batch.OutCSV, 2, []string{"id,lon,lat", "410103001001001001"}, ""},
		{"csv reordered header", "lat,lon,id\n34.7055,113.6055,q\n", batch.FormatCSV, batch.OutNDJSON, 1, []string{`"id":"q"`}, ""},
		{"csv header without lat", "id,lon\n", batch.FormatCSV, batch.OutNDJSON, 0, nil, "no lat column"},
		{"csv bad number keeps going", "a,113.6055,34.7055\nb,x,34.7\nc,113.6055,95\n", batch.FormatCSV, batch.OutNDJSON, 3,
			[]string{`"covered":true`, `line 2: lon \"x\" is not a number`, `lat 95 is out of range`}, ""},
		{"csv bare quote", "a,113.6055,34.7055\nb\"x,1,2\n", batch.FormatCSV, batch.OutNDJSON, 2, []string{`"covered":true`, `line 2`}, ""},
		{"geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"f"},"geometry":{"type":"Point","coordinates":[113.625,34.71]}},{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}`,
			batch.FormatGeoJSON, batch.OutNDJSON, 2, []string{`"community":"410103002001"`, `must be a Point`}, ""},
		{"geojson feature not an object", `{"type":"FeatureCollection","features":[7]}`, batch.FormatGeoJSON, batch.OutNDJSON, 1,
			[]string{`element 1: expected a GeoJSON Feature object: got a number`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, _, err := batch.Resolve(context.Background(), ix, strings.NewReader(tc.in), &out, batch.Options{In: tc.format, Out: tc.out, DefaultCRS: geo.WGS84, At: at})
			if tc.fails == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if tc.fails != "" && (err == nil || !strings.Contains(err.Error(), tc.fails)) {
				t.Fatalf("error = %v, want one containing %q", err, tc.fails)
			}
			text := strings.TrimSpace(out.String())
			var lines []string
			if text != "" {
				lines = strings.Split(text, "\n")
			}
			if len(lines) != tc.lines {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), tc.lines, out.String())
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %s, want it to contain %s", i+1, lines[i], w)
				}
			}
		})
	}
}

// TestBatchBeforeIndex: a batch that arrives before the first index is built is refused before
// anything is read or written, so the server can still answer with a proper error status.
func TestBatchBeforeIndex(t *testing.T) {
	var out bytes.Buffer
	n, started, err := batch.Resolve(context.Background(), nil, strings.NewReader(`[[113.6,34.7]]`), &out, batch.Options{In: batch.FormatJSON, Out: batch.OutNDJSON, DefaultCRS: geo.WGS84})
	if code := gridline.ErrorCode(err); code != gridline.EUnavailable || n != 0 || started || out.Len() != 0 {
		t.Fatalf("Resolve without an index = %d, %v, %v (code %q), wrote %q; want an %s error and nothing written", n, started, err, code, out.String(), gridline.EUnavailable)
	}
}

// FuzzBatch: whatever arrives, the batch neither panics nor writes anything but whole JSON lines.
func FuzzBatch(f *testing.F) {
	for _, s := range []string{`[{"id":1,"lon":113.6,"lat":34.7}]`, `[[113.6,34.7],[1e400,2]]`, "id,lon,lat\na,113.6,34.7\n", `{"features":[{"geometry":{"type":"Point","coordinates":[1]}}]}`, `[`, `"`, "a,\"b\n,c", `[{"lon":"1"},{"lat":[]}]`, `[{"id":"` + strings.Repeat("a,]", 3000), "\"" + strings.Repeat("a\n", 5000)} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	ix := fixtureIndex()
	f.Fuzz(func(t *testing.T, in string, kind uint8) {
		format := []string{batch.FormatJSON, batch.FormatCSV, batch.FormatGeoJSON}[int(kind)%3]
		var out bytes.Buffer
		_, _, _ = batch.Resolve(context.Background(), ix, strings.NewReader(in), &out, batch.Options{In: format, Out: batch.OutNDJSON, DefaultCRS: geo.WGS84, At: storetest.FixtureFrom})
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				t.Fatalf("output line is not JSON: %q", line)
			}
			if strings.Contains(line, "Go value") || strings.Contains(line, "batch.") {
				t.Fatalf("a Go type name reached the output: %q", line)
			}
		}
	})
}
