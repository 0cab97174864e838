package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

func shanghai(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// tileServer is the API over the fixture index, without a database (tiles need none).
func tileServer(t *testing.T, opt tiles.Options) *httptest.Server {
	t.Helper()
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	if err := res.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := wire(nil, res, nil, Options{}, opt, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// rawClient does not decompress, so tests see Content-Encoding as sent.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

type tileResp struct {
	status int
	header http.Header
	body   []byte
}

func fetch(t *testing.T, url string, hdr map[string]string) tileResp {
	t.Helper()
	return request(t, http.MethodGet, url, hdr)
}

// request sends one request with the headers hdr and reads the whole answer.
func request(t *testing.T, method, url string, hdr map[string]string) tileResp {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return tileResp{resp.StatusCode, resp.Header, b}
}

func decodeTile(t *testing.T, r tileResp) map[string]*mvt.Layer {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
		t.Errorf("Content-Type %q", ct)
	}
	var ls mvt.Layers
	var err error
	if r.header.Get("Content-Encoding") == "gzip" {
		ls, err = mvt.UnmarshalGzipped(r.body)
	} else {
		ls, err = mvt.Unmarshal(r.body)
	}
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	out := map[string]*mvt.Layer{}
	for _, l := range ls {
		if l.Version != 2 {
			t.Errorf("layer %s: version %d, want 2", l.Name, l.Version)
		}
		out[l.Name] = l
	}
	return out
}

func tilePath(layers string, z maptile.Zoom, p orb.Point, query string) string {
	t := maptile.At(p, z)
	return "/tiles/" + layers + "/" + itoa(uint64(z)) + "/" + itoa(uint64(t.X)) + "/" + itoa(uint64(t.Y)) + ".mvt" + query
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

var centre = orb.Point{113.62, 34.72} // the fixture's middle

func TestTileLayers(t *testing.T) {
	ts := tileServer(t, tiles.Options{})
	cases := []struct {
		name string
		path string
		want map[string]int // layer -> feature count
	}{
		{"basic grids", tilePath("grids", 12, centre, ""), map[string]int{"grids": 4}},
		{"several layers", tilePath("subdistricts,communities,grids,police", 12, centre, ""), map[string]int{"subdistricts": 2, "communities": 3, "grids": 4, "police": 2}},
		{"layers out of range are left out", tilePath("grids,micros", 12, centre, ""), map[string]int{"grids": 4}},
		{"repeats count once", tilePath("grids,grids", 12, centre, ""), map[string]int{"grids": 4}},
		{"special from z13", tilePath("special", 13, orb.Point{113.606, 34.706}, ""), map[string]int{"special": 1}},
		{"micros at z15", tilePath("micros", 15, orb.Point{113.605, 34.705}, ""), map[string]int{"micros": 1}},
		{"labels at z12", tilePath("labels", 12, centre, ""), map[string]int{"labels": 12}},
		{"before the fixture: empty", tilePath("grids", 12, centre, "?at=2023-01-01"), map[string]int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ls := decodeTile(t, fetch(t, ts.URL+c.path, nil))
			got := map[string]int{}
			for name, l := range ls {
				got[name] = len(l.Features)
			}
			if len(got) != len(c.want) {
				t.Errorf("layers %v, want %v", got, c.want)
			}
			for name, n := range c.want {
				if got[name] != n {
					t.Errorf("layer %s: %d features, want %d", name, got[name], n)
				}
			}
		})
	}
}

func TestTileFeatures(t *testing.T) {
	ts := tileServer(t, tiles.Options{})
	ls := decodeTile(t, fetch(t, ts.URL+tilePath("grids,labels", 12, centre, ""), nil))
	type feat struct {
		id      float64
		code    string
		staffed bool
	}
	var got []feat
	for _, f := range ls["grids"].Features {
		id, _ := f.ID.(float64)
		if id == 0 {
			t.Errorf("feature without an id: %v", f.Properties["code"])
		}
		if _, ok := f.Properties["id"]; ok {
			t.Errorf("feature %v repeats its id as a property", f.ID)
		}
		for _, k := range []string{"code", "name", "level", "layer", "households", "population", "staffed", "version"} {
			if _, ok := f.Properties[k]; !ok {
				t.Errorf("feature %v has no %s", f.ID, k)
			}
		}
		got = append(got, feat{id, f.Properties["code"].(string), f.Properties["staffed"].(bool)})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].id < got[j].id })
	want := []feat{{7, "410103001001001", true}, {8, "410103001001002", false}, {9, "410103001002001", true}, {10, "410103002001001", true}}
	if len(got) != len(want) {
		t.Fatalf("features %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("feature %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Labels carry their level and lie inside their polygon.
	for _, f := range ls["labels"].Features {
		if f.Properties["level"] == nil || f.Properties["polygon_layer"] == nil {
			t.Errorf("label %v lacks level or polygon_layer", f.Properties["code"])
		}
	}
}

func TestTileErrors(t *testing.T) {
	ts := tileServer(t, tiles.Options{MaxLayers: 3})
	cases := []struct {
		name   string
		path   string
		status int
		code   string
	}{
		{"z not a number", "/tiles/grids/a/1/1.mvt", 400, gridline.EInvalid},
		{"negative x", "/tiles/grids/12/-1/1.mvt", 400, gridline.EInvalid},
		{"y with a fraction", "/tiles/grids/12/1/1.5.mvt", 400, gridline.EInvalid},
		{"unknown layer", "/tiles/roads/12/1/1.mvt", 400, gridline.EInvalid},
		{"too many layers", "/tiles/grids,micros,special,labels/12/1/1.mvt", 400, gridline.EInvalid},
		{"empty layer name", "/tiles/grids,/12/1/1.mvt", 400, gridline.EInvalid},
		{"bad date", tilePath("grids", 12, centre, "?at=2024-13-01"), 400, gridline.EInvalidDate},
		{"bad crs", tilePath("grids", 12, centre, "?crs=mars"), 400, gridline.EInvalidCRS},
		{"projected crs", tilePath("grids", 12, centre, "?crs=EPSG:3857"), 400, gridline.EInvalidCRS},
		{"below the layer's zoom", "/tiles/micros/14/0/0.mvt", 404, gridline.ENotFound},
		{"x outside the world", "/tiles/grids/12/4096/0.mvt", 404, gridline.ENotFound},
		{"y outside the world", "/tiles/grids/12/0/4096.mvt", 404, gridline.ENotFound},
		{"beyond the deepest zoom", "/tiles/grids/23/0/0.mvt", 404, gridline.ENotFound},
		{"tilejson of an unknown layer", "/tiles/roads.json", 400, gridline.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := fetch(t, ts.URL+c.path, nil)
			var body struct {
				Error *gridline.Error `json:"error"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil || body.Error == nil {
				t.Fatalf("status %d, body %q is not the error shape", r.status, r.body)
			}
			if r.status != c.status || body.Error.Code != c.code {
				t.Errorf("status %d code %s (%s), want %d %s", r.status, body.Error.Code, body.Error.Message, c.status, c.code)
			}
		})
	}
}

func TestTileGzipETag(t *testing.T) {
	ts := tileServer(t, tiles.Options{})
	url := ts.URL + tilePath("subdistricts,communities,grids", 12, centre, "")
	plain := fetch(t, url, nil)
	zipped := fetch(t, url, map[string]string{"Accept-Encoding": "gzip, deflate"})
	refused := fetch(t, url, map[string]string{"Accept-Encoding": "gzip;q=0"})
	if plain.header.Get("Content-Encoding") != "" || refused.header.Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that did not accept it")
	}
	if zipped.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", zipped.header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, plain.body) {
		t.Error("the gzipped tile is not the plain tile")
	}
	if len(decodeTile(t, zipped)) != 3 {
		t.Error("gzipped tile does not decode to 3 layers")
	}
	for _, r := range []tileResp{plain, zipped} {
		if r.header.Get("Vary") != "Accept-Encoding" || r.header.Get("Cache-Control") == "" || r.header.Get("ETag") == "" {
			t.Errorf("headers %v", r.header)
		}
	}
	if plain.header.Get("ETag") == zipped.header.Get("ETag") {
		t.Error("the plain and gzipped tiles share an ETag")
	}
	cases := []struct {
		name   string
		inm    string
		status int
	}{
		{"same etag", plain.header.Get("ETag"), 304},
		{"in a list", `"x", ` + plain.header.Get("ETag"), 304},
		{"weak", "W/" + plain.header.Get("ETag"), 304},
		{"star", "*", 304},
		{"other etag", `"0000000000000000"`, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := fetch(t, url, map[string]string{"If-None-Match": c.inm})
			if r.status != c.status {
				t.Errorf("status %d, want %d", r.status, c.status)
			}
			if c.status == 304 && (len(r.body) != 0 || r.header.Get("ETag") != plain.header.Get("ETag")) {
				t.Errorf("304 with body %d bytes, ETag %q", len(r.body), r.header.Get("ETag"))
			}
		})
	}
}

// TestTileCRS: with crs=gcj02 the grid's corner lies where GCJ-02 puts it.
func TestTileCRS(t *testing.T) {
	ts := tileServer(t, tiles.Options{})
	for _, c := range []geo.CRS{geo.WGS84, geo.GCJ02, geo.BD09} {
		t.Run(c.Name, func(t *testing.T) {
			lon, lat := c.FromWGS84(113.64, 34.74) // the north-east corner of grid 10
			tile := maptile.At(orb.Point{lon, lat}, 12)
			if !tile.Bound(-0.02).Contains(orb.Point{lon, lat}) {
				t.Fatalf("the corner is too near the edge of tile %v to be unclipped", tile)
			}
			r := fetch(t, ts.URL+tilePath("grids", 12, orb.Point{lon, lat}, "?crs="+c.Name), nil)
			ls := decodeTile(t, r)
			l := ls["grids"]
			l.ProjectToWGS84(tile)
			for _, f := range l.Features {
				if f.Properties["code"] != "410103002001001" {
					continue
				}
				b := f.Geometry.Bound()
				if d := max(abs(b.Max[0]-lon), abs(b.Max[1]-lat)); d > 5e-5 {
					t.Errorf("corner %v, want (%.6f, %.6f): %.6f degrees off", b.Max, lon, lat, d)
				}
				return
			}
			t.Fatal("grid 10 not in the tile")
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestTileJSONAndStyle(t *testing.T) {
	ts := tileServer(t, tiles.Options{})
	r := fetch(t, ts.URL+"/tiles/grids,labels.json?crs=gcj02", nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var tj struct {
		TileJSON     string    `json:"tilejson"`
		Tiles        []string  `json:"tiles"`
		MinZoom      int       `json:"minzoom"`
		MaxZoom      int       `json:"maxzoom"`
		Bounds       []float64 `json:"bounds"`
		VectorLayers []struct {
			ID      string            `json:"id"`
			MinZoom int               `json:"minzoom"`
			Fields  map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal(r.body, &tj); err != nil {
		t.Fatal(err)
	}
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != ts.URL+"/tiles/grids,labels/{z}/{x}/{y}.mvt?crs=gcj02" {
		t.Errorf("tilejson %s tiles %v", tj.TileJSON, tj.Tiles)
	}
	if len(tj.VectorLayers) != 2 || tj.VectorLayers[0].ID != "grids" || tj.VectorLayers[0].MinZoom != 12 || tj.VectorLayers[1].ID != "labels" {
		t.Errorf("vector_layers %+v", tj.VectorLayers)
	}
	if _, ok := tj.VectorLayers[0].Fields["staffed"]; !ok {
		t.Error("no staffed field")
	}
	lon0, lat0 := geo.GCJ02.FromWGS84(113.60, 34.70)
	if len(tj.Bounds) != 4 || abs(tj.Bounds[0]-lon0) > 1e-9 || abs(tj.Bounds[1]-lat0) > 1e-9 {
		t.Errorf("bounds %v, want to start at %.6f, %.6f", tj.Bounds, lon0, lat0)
	}
	if tj.MinZoom != 5 || tj.MaxZoom != 22 {
		t.Errorf("zoom %d..%d", tj.MinZoom, tj.MaxZoom)
	}

	r = fetch(t, ts.URL+"/styles/default.json", nil)
	var style struct {
		Version int                       `json:"version"`
		Glyphs  string                    `json:"glyphs"`
		Sources map[string]map[string]any `json:"sources"`
		Layers  []map[string]any          `json:"layers"`
	}
	if err := json.Unmarshal(r.body, &style); err != nil {
		t.Fatal(err)
	}
	if style.Version != 8 || style.Glyphs != "" || len(style.Sources) != 1 {
		t.Fatalf("style version %d glyphs %q sources %v", style.Version, style.Glyphs, style.Sources)
	}
	// Every source's TileJSON answers, and every layer uses a source-layer the TileJSON names.
	for id, src := range style.Sources {
		u := src["url"].(string)
		r := fetch(t, u, nil)
		if r.status != 200 {
			t.Errorf("source %s: %s answers %d", id, u, r.status)
		}
	}
	ids := map[string]bool{}
	for _, l := range style.Layers {
		ids[l["id"].(string)] = true
		if l["type"] == "symbol" {
			t.Errorf("symbol layer %v without glyphs", l["id"])
		}
	}
	for _, want := range []string{"background", "subdistricts-fill", "grids-line", "micros-fill", "special-fill", "police-line", "labels-point"} {
		if !ids[want] {
			t.Errorf("style has no layer %s", want)
		}
	}
}

// TestTileCacheFollowsWrites: a grid changed through the store, in the way any process would
// change it, shows in the next tile once the index has been rebuilt, though the tile was cached.
func TestTileCacheFollowsWrites(t *testing.T) {
	db := storetest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(db, gridline.SystemClock{}, shanghai(t))
	listening := make(chan struct{})
	var once bool
	go db.Listen(ctx, res.Changed, func(err error) {
		if err == nil && !once {
			once = true
			close(listening)
		}
	})
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("could not LISTEN")
	}
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	go res.Run(ctx, nil)
	srv := wire(db, res, nil, Options{}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	where := orb.Point{113.63, 34.72} // inside basic grid 10 only
	path := ts.URL + tilePath("grids,labels", 16, where, "")
	far := ts.URL + tilePath("grids", 16, orb.Point{113.605, 34.73}, "")
	names := func(r tileResp) []string {
		var out []string
		for _, f := range decodeTile(t, r)["grids"].Features {
			out = append(out, f.Properties["name"].(string))
		}
		return out
	}
	first := fetch(t, path, nil)
	if got := names(first); len(got) != 1 || got[0] != "建新街社区第1网格" {
		t.Fatalf("before: %v", got)
	}
	if r := fetch(t, path, map[string]string{"If-None-Match": first.header.Get("ETag")}); r.status != 304 {
		t.Fatalf("cached tile revalidates with %d", r.status)
	}
	farBefore := fetch(t, far, nil)

	before := res.Index()
	g := storetest.Fixture().Grids[9]
	g.Name, g.ValidFrom = "建新街社区新网格", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.SaveGrid(ctx, g, store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for res.Index() == before {
		if time.Now().After(deadline) {
			t.Fatal("the index was never rebuilt")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The very next request shows the change, and the old ETag no longer matches.
	after := fetch(t, path, map[string]string{"If-None-Match": first.header.Get("ETag")})
	if after.status != 200 {
		t.Fatalf("after the change: status %d, want 200 with the new tile", after.status)
	}
	if got := names(after); len(got) != 1 || got[0] != "建新街社区新网格" {
		t.Errorf("after: %v", got)
	}
	for _, f := range decodeTile(t, after)["labels"].Features {
		if f.Properties["code"] == g.Code && f.Properties["version"] != float64(2) {
			t.Errorf("label version %v, want 2", f.Properties["version"])
		}
	}
	// Asking for the date before the change still gives the old boundary's name.
	old := fetch(t, path+"?at=2024-06-01", nil)
	if got := names(old); len(got) != 1 || got[0] != "建新街社区第1网格" {
		t.Errorf("at 2024-06-01: %v", got)
	}
	// A tile away from the change is still served from the cache, unchanged.
	if r := fetch(t, far, map[string]string{"If-None-Match": farBefore.header.Get("ETag")}); r.status != 304 {
		t.Errorf("far tile: status %d, want 304", r.status)
	}
	stats := srv.tiles.Stats()
	if stats.Swaps < 2 || stats.FullPurges != 1 || stats.Cache.Invalidated == 0 {
		t.Errorf("stats %+v: want one full purge (the first index) and precise invalidation after", stats)
	}
}

func TestSplitTilePath(t *testing.T) {
	cases := []struct {
		path            string
		ok              bool
		layers, z, x, y string
	}{
		{"/tiles/grids/12/3341/1626.mvt", true, "grids", "12", "3341", "1626"},
		{"/tiles/subdistricts,grids/0/0/0.mvt", true, "subdistricts,grids", "0", "0", "0"},
		{"/tiles/grids/a/b/c.mvt", true, "grids", "a", "b", "c"}, // the handler says what is wrong
		{"/tiles/grids/12/1/1.pbf", false, "", "", "", ""},
		{"/tiles/grids/12/1.mvt", false, "", "", "", ""},
		{"/tiles/grids/12/1/1/1.mvt", false, "", "", "", ""},
		{"/tiles/grids//1/1.mvt", false, "", "", "", ""},
		{"/tiles/../12/1/1.mvt", false, "", "", "", ""},
		{"/tiles/grids/./1/1.mvt", false, "", "", "", ""},
		{"/tiles/grids.json", false, "", "", "", ""},
		{"/v1/tiles/grids/12/1/1.mvt", false, "", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			l, z, x, y, ok := splitTilePath(c.path)
			if ok != c.ok || l != c.layers || z != c.z || x != c.x || y != c.y {
				t.Errorf("got %q %q %q %q %v, want %q %q %q %q %v", l, z, x, y, ok, c.layers, c.z, c.x, c.y, c.ok)
			}
		})
	}
}

// TestTileFromCacheSameAnswer: a tile answered from the cache (without parsing the request) has
// the body and headers of the freshly cut one, plain and gzipped, GET and HEAD; repeated layer
// names, which the cache never holds, still get the tile.
func TestTileFromCacheSameAnswer(t *testing.T) {
	ts := tileServer(t, tiles.Options{})
	url := ts.URL + tilePath("subdistricts,communities,grids", 12, centre, "")
	for _, hdr := range []map[string]string{nil, {"Accept-Encoding": "gzip"}} {
		first := fetch(t, url, hdr)
		second := fetch(t, url, hdr)
		if first.status != 200 || second.status != 200 || !bytes.Equal(first.body, second.body) {
			t.Fatalf("status %d then %d, bodies equal %v", first.status, second.status, bytes.Equal(first.body, second.body))
		}
		for _, h := range []string{"Etag", "Content-Length", "Content-Type", "Content-Encoding", "Vary", "Cache-Control", "X-Tile-Features", "X-Tile-Simplified"} {
			if first.header.Get(h) != second.header.Get(h) {
				t.Errorf("%s: %q fresh, %q cached", h, first.header.Get(h), second.header.Get(h))
			}
		}
		head := request(t, http.MethodHead, url, hdr)
		if head.status != 200 || head.header.Get("Etag") != first.header.Get("Etag") || head.header.Get("Content-Length") != first.header.Get("Content-Length") {
			t.Errorf("HEAD: %d, ETag %q, Content-Length %q", head.status, head.header.Get("Etag"), head.header.Get("Content-Length"))
		}
	}
	dup := fetch(t, ts.URL+tilePath("subdistricts,communities,grids,grids", 12, centre, ""), nil)
	if plain := fetch(t, url, nil); dup.status != 200 || !bytes.Equal(dup.body, plain.body) {
		t.Errorf("repeated layer: status %d, same tile %v", dup.status, bytes.Equal(dup.body, plain.body))
	}
	if r := fetch(t, ts.URL+"/tiles/grids/12/1/1.mvt?crs=mars", nil); r.status != 400 {
		t.Errorf("a bad query on a tile path: status %d", r.status)
	}
}

// BenchmarkTileCached is a cached tile answered by the handler (no network): the per-request
// work and allocations of the cache path.
func BenchmarkTileCached(b *testing.B) {
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(b))
	if err := res.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	h := wire(nil, res, nil, Options{}, tiles.Options{}, importers.Config{}).Handler()
	for _, gz := range []bool{false, true} {
		b.Run(map[bool]string{false: "identity", true: "gzip"}[gz], func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, tilePath("subdistricts,communities,grids", 12, centre, ""), nil)
			if gz {
				req.Header.Set("Accept-Encoding", "gzip, deflate, br")
			}
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req) // fills the cache
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			if w.status != 200 {
				b.Fatalf("status %d", w.status)
			}
		})
	}
}

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
