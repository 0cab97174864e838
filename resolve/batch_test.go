package resolve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store/storetest"
)

// fixtureResolver is a resolver over the hand-built fixture, with no database behind it.
func fixtureResolver(t testing.TB) *resolve.Resolver {
	d := storetest.Fixture()
	src := &fakeStore{grids: map[int64]gridline.Grid{}, stamps: map[int64]int64{}}
	for i, g := range d.Grids {
		g.VersionID = int64(i + 1)
		src.put(g)
	}
	byID := map[int64]gridline.Person{}
	for _, p := range d.People {
		byID[p.ID] = p
	}
	for _, a := range d.Assignments {
		p := byID[a.PersonID]
		src.staff = append(src.staff, gridline.Staff{GridID: a.GridID, Post: a.Post, PersonID: p.ID, Name: p.Name, Phone: p.Phone, ValidFrom: a.ValidFrom})
	}
	r := resolve.NewIncremental(src, gridline.SystemClock{}, time.UTC)
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBatchFormats(t *testing.T) {
	r := fixtureResolver(t)
	at := storetest.FixtureFrom.AddDate(1, 0, 0)
	cases := []struct {
		name, in, format, out string
		lines                 int
		want                  []string // substrings, one per line
		fails                 string
	}{
		{"json objects", `[{"id":"a","lon":113.6055,"lat":34.7055},{"id":2,"lon":113.65,"lat":34.72}]`, resolve.FormatJSON, resolve.OutNDJSON, 2,
			[]string{`"micro":"410103001001001001"`, `"covered":false`}, ""},
		{"json pairs", `[[113.615,34.71]]`, resolve.FormatJSON, resolve.OutNDJSON, 1, []string{`"grid":"410103001001002"`}, ""},
		{"json point without lat", `[{"id":"x","lon":1}]`, resolve.FormatJSON, resolve.OutNDJSON, 1, []string{`element 1: lon and lat are required`}, ""},
		{"json bad crs", `[{"id":"x","lon":1,"lat":2,"crs":"mars"}]`, resolve.FormatJSON, resolve.OutNDJSON, 1, []string{`unknown_crs`}, ""},
		{"json EPSG without transformer", `[{"id":"x","lon":1,"lat":2,"crs":"EPSG:3857"}]`, resolve.FormatJSON, resolve.OutNDJSON, 1, []string{`unknown_crs`}, ""},
		{"json truncated", `[{"id":"x","lon":113.6,"lat":34.7}`, resolve.FormatJSON, resolve.OutNDJSON, 1, []string{`"covered":true`}, "not closed"},
		{"json syntax error", `[{"id":"x","lon":113.6,"lat":34.7},{"id":]`, resolve.FormatJSON, resolve.OutNDJSON, 1, []string{`"covered":true`}, "invalid JSON"},
		{"csv with header and crs", "id,lon,lat,crs\np,113.6115341,34.7042628,gcj02\n", resolve.FormatCSV, resolve.OutNDJSON, 1, []string{`"micro":"410103001001001001"`}, ""},
		{"csv without header", "p,113.6055,34.7055\n", resolve.FormatCSV, resolve.OutCSV, 2, []string{"id,lon,lat", "410103001001001001"}, ""},
		{"csv reordered header", "lat,lon,id\n34.7055,113.6055,q\n", resolve.FormatCSV, resolve.OutNDJSON, 1, []string{`"id":"q"`}, ""},
		{"csv header without lat", "id,lon\n", resolve.FormatCSV, resolve.OutNDJSON, 0, nil, "no lat column"},
		{"csv bad number keeps going", "a,113.6055,34.7055\nb,x,34.7\nc,113.6055,95\n", resolve.FormatCSV, resolve.OutNDJSON, 3,
			[]string{`"covered":true`, `line 2: lon \"x\" is not a number`, `lat 95 is out of range`}, ""},
		{"csv bare quote", "a,113.6055,34.7055\nb\"x,1,2\n", resolve.FormatCSV, resolve.OutNDJSON, 2, []string{`"covered":true`, `line 2`}, ""},
		{"geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"f"},"geometry":{"type":"Point","coordinates":[113.625,34.71]}},{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}`,
			resolve.FormatGeoJSON, resolve.OutNDJSON, 2, []string{`"community":"410103002001"`, `must be a Point`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, _, err := r.Batch(context.Background(), strings.NewReader(tc.in), &out, resolve.BatchOptions{In: tc.format, Out: tc.out, DefaultCRS: geo.WGS84, At: at})
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

// FuzzBatch: whatever arrives, the batch neither panics nor writes anything but whole JSON lines.
func FuzzBatch(f *testing.F) {
	for _, s := range []string{`[{"id":1,"lon":113.6,"lat":34.7}]`, `[[113.6,34.7],[1e400,2]]`, "id,lon,lat\na,113.6,34.7\n", `{"features":[{"geometry":{"type":"Point","coordinates":[1]}}]}`, `[`, `"`, "a,\"b\n,c"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	r := fixtureResolver(f)
	f.Fuzz(func(t *testing.T, in string, kind uint8) {
		format := []string{resolve.FormatJSON, resolve.FormatCSV, resolve.FormatGeoJSON}[int(kind)%3]
		var out bytes.Buffer
		_, _, _ = r.Batch(context.Background(), strings.NewReader(in), &out, resolve.BatchOptions{In: format, Out: resolve.OutNDJSON, DefaultCRS: geo.WGS84, At: storetest.FixtureFrom})
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				t.Fatalf("output line is not JSON: %q", line)
			}
		}
	})
}
