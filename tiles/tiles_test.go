package tiles

import (
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store/storetest"
)

// fixture is the storetest district as an index, with version ids set as the store would.
func fixture(t testing.TB, edit func(gs []gridline.Grid) []gridline.Grid) *resolve.GridIndex {
	t.Helper()
	d := storetest.Fixture()
	gs := d.Grids
	for i := range gs {
		gs[i].VersionID = gs[i].ID
	}
	if edit != nil {
		gs = edit(gs)
	}
	names := map[int64]string{}
	for _, p := range d.People {
		names[p.ID] = p.Name
	}
	var staff []gridline.Staff
	for _, a := range d.Assignments {
		staff = append(staff, gridline.Staff{GridID: a.GridID, Post: a.Post, PersonID: a.PersonID, Name: names[a.PersonID], ValidFrom: a.ValidFrom, ValidTo: a.ValidTo})
	}
	return resolve.Build(gs, staff, time.Now())
}

var day = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// fixtureTile is the tile at zoom z holding the fixture's centre; the test fails if the fixture
// (113.60..113.64, 34.70..34.74) is not wholly inside it, since counts below assume it is.
func fixtureTile(t testing.TB, z maptile.Zoom) maptile.Tile {
	t.Helper()
	tile := maptile.At(orb.Point{113.62, 34.72}, z)
	b := tile.Bound()
	if !b.Contains(orb.Point{113.60, 34.70}) || !b.Contains(orb.Point{113.64, 34.74}) {
		t.Fatalf("fixture is not inside tile %v at zoom %d", tile, z)
	}
	return tile
}

func decode(t *testing.T, data []byte) map[string]*mvt.Layer {
	t.Helper()
	ls, err := mvt.Unmarshal(data)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	out := map[string]*mvt.Layer{}
	for _, l := range ls {
		if l.Version != 2 {
			t.Errorf("layer %s has version %d, want 2", l.Name, l.Version)
		}
		if l.Extent != Extent {
			t.Errorf("layer %s has extent %d", l.Name, l.Extent)
		}
		out[l.Name] = l
	}
	return out
}

func codes(l *mvt.Layer) []string {
	var out []string
	for _, f := range l.Features {
		out = append(out, f.Properties["code"].(string))
	}
	sort.Strings(out)
	return out
}

func TestGenerateFixture(t *testing.T) {
	src := NewTileset(fixture(t, nil))
	t12, t13, t15 := fixtureTile(t, 12), fixtureTile(t, 12), fixtureTile(t, 12)
	_ = t13
	_ = t15
	cases := []struct {
		name   string
		layers []string
		z      maptile.Zoom
		want   map[string][]string // layer -> codes
	}{
		{"districts from z5", []string{LayerDistricts}, 5, map[string][]string{LayerDistricts: {"410103"}}},
		{"subdistricts at z8", []string{LayerSubdistricts}, 8, map[string][]string{LayerSubdistricts: {"410103001", "410103002"}}},
		{"basic grids at z12", []string{LayerGrids}, t12.Z, map[string][]string{LayerGrids: {"410103001001001", "410103001001002", "410103001002001", "410103002001001"}}},
		{"grids and micros at z15 keep only the layer in range",
			[]string{LayerCommunities, LayerSpecial, LayerMicros}, 15, nil},
		{"special appears from z13", []string{LayerSpecial, LayerGrids}, 13, nil},
		{"police is a thematic layer from z10", []string{"police"}, 10, map[string][]string{"police": {"410103JW001", "410103JW002"}}},
		{"labels at z12 follow their polygons' ranges", []string{LayerLabels}, 12, map[string][]string{LayerLabels: {
			"410103", "410103001", "410103001001", "410103001001001", "410103001001002", "410103001002", "410103001002001",
			"410103002", "410103002001", "410103002001001", "410103JW001", "410103JW002"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctr := maptile.At(orb.Point{113.605, 34.705}, c.z)
			tile, err := src.Generate(Request{Layers: c.layers, Z: uint32(c.z), X: ctr.X, Y: ctr.Y, At: day, CRS: geo.WGS84}, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := decode(t, tile.Data)
			if c.want == nil {
				// Whatever is in the tile must be in range: check by layer names only.
				for name := range got {
					sp, _ := src.Layer(name)
					if int(c.z) < sp.MinZoom {
						t.Errorf("layer %s (from z%d) present at z%d", name, sp.MinZoom, c.z)
					}
				}
				if len(got) == 0 {
					t.Errorf("no layer in the tile")
				}
				return
			}
			if len(got) != len(c.want) {
				t.Errorf("layers %v, want %v", keys(got), c.want)
			}
			for name, want := range c.want {
				l := got[name]
				if l == nil {
					t.Fatalf("no layer %s", name)
				}
				if g := codes(l); !equal(g, want) {
					t.Errorf("%s: codes %v, want %v", name, g, want)
				}
			}
		})
	}
}

func TestFeatureProperties(t *testing.T) {
	src := NewTileset(fixture(t, nil))
	// The z15 tile 113.5986..113.6096, 34.7055..34.7145: the school grid and part of grid 7.
	tile := maptile.At(orb.Point{113.606, 34.706}, 15)
	got, err := src.Generate(Request{Layers: []string{LayerGrids, LayerSpecial, LayerLabels}, Z: 15, X: tile.X, Y: tile.Y, At: day, CRS: geo.WGS84}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ls := decode(t, got.Data)
	byCode := map[string]map[string]any{}
	ids := map[string]any{}
	for _, f := range ls[LayerGrids].Features {
		byCode[f.Properties["code"].(string)] = f.Properties
		ids[f.Properties["code"].(string)] = f.ID
	}
	g7 := byCode["410103001001001"]
	if g7 == nil {
		t.Fatalf("basic grid 7 missing: %v", codes(ls[LayerGrids]))
	}
	if _, ok := g7["id"]; ok {
		t.Error("the grid id is repeated as a property; it belongs in the feature id only")
	}
	want := map[string]any{"name": "淮北街社区第1网格", "level": "grid", "layer": "comprehensive",
		"households": float64(400), "population": float64(1000), "staffed": true, "version": float64(1)}
	for k, v := range want {
		if g7[k] != v {
			t.Errorf("property %s = %v (%T), want %v", k, g7[k], g7[k], v)
		}
	}
	if id, ok := ids["410103001001001"].(float64); !ok || id != 7 {
		t.Errorf("feature id %v, want 7", ids["410103001001001"])
	}
	sp := ls[LayerSpecial]
	if sp == nil || len(sp.Features) != 1 || sp.Features[0].Properties["kind"] != "school" {
		t.Fatalf("special layer: %+v", sp)
	}
	// The school grid has its grid chief: staffed. Label points carry their polygon's layer.
	if sp.Features[0].Properties["staffed"] != true {
		t.Errorf("special grid staffed = %v", sp.Features[0].Properties["staffed"])
	}
	var labelled []string
	for _, f := range ls[LayerLabels].Features {
		if _, ok := f.Geometry.(orb.Point); !ok {
			t.Errorf("label %v is a %T", f.Properties["code"], f.Geometry)
		}
		labelled = append(labelled, f.Properties["polygon_layer"].(string)+":"+f.Properties["code"].(string))
	}
	sort.Strings(labelled)
	// Only two label points (poles) fall in this tile with its buffer: grid 7's at (113.605,
	// 34.71) and the school's at (113.606, 34.706); micro 11's at 34.705 is just below it.
	if want := []string{"grids:410103001001001", "special:410103001001901"}; !equal(labelled, want) {
		t.Errorf("labels %v, want %v", labelled, want)
	}
}

func TestStaffedFollowsDate(t *testing.T) {
	// Grid 8 has only a part-time worker: vacant. Give it a full-time worker from 2025-01-01.
	d := storetest.Fixture()
	gs := d.Grids
	for i := range gs {
		gs[i].VersionID = gs[i].ID
	}
	staff := []gridline.Staff{{GridID: 8, Post: gridline.PostFullTimeWorker, PersonID: 99, ValidFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	src := NewTileset(resolve.Build(gs, staff, time.Now()))
	tile := fixtureTile(t, 12)
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), false}, {day, true}} {
		got, err := src.Generate(Request{Layers: []string{LayerGrids}, Z: 12, X: tile.X, Y: tile.Y, At: c.at, CRS: geo.WGS84}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range decode(t, got.Data)[LayerGrids].Features {
			if f.Properties["code"] == "410103001001002" && f.Properties["staffed"] != c.want {
				t.Errorf("at %s staffed = %v, want %v", gridline.Date(c.at), f.Properties["staffed"], c.want)
			}
		}
	}
}

func TestOutOfRange(t *testing.T) {
	src := NewTileset(fixture(t, nil))
	cases := []struct {
		name    string
		layers  []string
		z, x, y uint32
		code    string
	}{
		{"micros below z15", []string{LayerMicros}, 14, 0, 0, gridline.ENotFound},
		{"all below range", []string{LayerGrids, LayerSpecial}, 11, 0, 0, gridline.ENotFound},
		{"x outside world", []string{LayerGrids}, 12, 4096, 0, gridline.ENotFound},
		{"y outside world", []string{LayerGrids}, 12, 0, 4096, gridline.ENotFound},
		{"beyond max zoom", []string{LayerGrids}, 23, 0, 0, gridline.ENotFound},
		{"unknown layer", []string{"nope"}, 12, 0, 0, gridline.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := src.Generate(Request{Layers: c.layers, Z: c.z, X: c.x, Y: c.y, At: day, CRS: geo.WGS84}, 0)
			if gridline.ErrorCode(err) != c.code {
				t.Errorf("error %v (code %s), want %s", err, gridline.ErrorCode(err), c.code)
			}
		})
	}
}

// TestVersionsByDate: grid 7 gets a second version from 2025-01-01 with a new boundary.
func TestVersionsByDate(t *testing.T) {
	changed := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ix := fixture(t, func(gs []gridline.Grid) []gridline.Grid {
		v2 := gs[6]
		v2.VersionID, v2.Version, v2.ValidFrom, v2.Name = 100, 2, changed, "新第1网格"
		v2.Geometry = storetest.Box(113.60, 34.70, 113.605, 34.72)
		gs[6].ValidTo = &changed
		return append(gs, v2)
	})
	src := NewTileset(ix)
	tile := fixtureTile(t, 12)
	for _, c := range []struct {
		at      time.Time
		version float64
		name    string
	}{{time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), 1, "淮北街社区第1网格"}, {day, 2, "新第1网格"}} {
		got, err := src.Generate(Request{Layers: []string{LayerGrids}, Z: 12, X: tile.X, Y: tile.Y, At: c.at, CRS: geo.WGS84}, 0)
		if err != nil {
			t.Fatal(err)
		}
		l := decode(t, got.Data)[LayerGrids]
		n := 0
		for _, f := range l.Features {
			if f.Properties["code"] == "410103001001001" {
				n++
				if f.Properties["version"] != c.version || f.Properties["name"] != c.name {
					t.Errorf("at %s: version %v name %v, want %v %s", gridline.Date(c.at), f.Properties["version"], f.Properties["name"], c.version, c.name)
				}
			}
		}
		if n != 1 || len(l.Features) != 4 {
			t.Errorf("at %s: %d versions of grid 7 among %d features, want 1 among 4", gridline.Date(c.at), n, len(l.Features))
		}
	}
}

// TestCRSShift: in gcj02 the geometry moves by the GCJ-02 offset (hundreds of metres here).
func TestCRSShift(t *testing.T) {
	src := NewTileset(fixture(t, nil))
	const z = 12
	for _, c := range []geo.CRS{geo.WGS84, geo.GCJ02, geo.BD09} {
		t.Run(c.Name, func(t *testing.T) {
			// The tile holding the shifted corner of grid 7, well inside it so no clipping.
			wantLon, wantLat := c.FromWGS84(113.60, 34.70)
			tile := maptile.At(orb.Point{wantLon, wantLat}, z)
			if !tile.Bound(-0.02).Contains(orb.Point{wantLon, wantLat}) {
				t.Fatalf("corner too near the edge of %v", tile)
			}
			got, err := src.Generate(Request{Layers: []string{LayerGrids}, Z: z, X: tile.X, Y: tile.Y, At: day, CRS: c}, 0)
			if err != nil {
				t.Fatal(err)
			}
			ls, err := mvt.Unmarshal(got.Data)
			if err != nil {
				t.Fatal(err)
			}
			ls.ProjectToWGS84(tile)
			var found bool
			for _, f := range ls[0].Features {
				if f.Properties["code"] != "410103001001001" {
					continue
				}
				found = true
				b := f.Geometry.Bound()
				// One extent unit at z12 is about 10 m, 2e-5 degrees of longitude.
				if math.Abs(b.Min[0]-wantLon) > 5e-5 || math.Abs(b.Min[1]-wantLat) > 5e-5 {
					t.Errorf("corner at %v, want (%.6f, %.6f)", b.Min, wantLon, wantLat)
				}
			}
			if !found {
				t.Fatal("grid 7 not in the tile")
			}
		})
	}
}

func TestMVTWinding(t *testing.T) {
	// A square with a hole; MVT v2 wants the exterior clockwise on screen and holes the other way.
	mp := orb.MultiPolygon{{
		{{113.600, 34.700}, {113.610, 34.700}, {113.610, 34.710}, {113.600, 34.710}, {113.600, 34.700}},
		{{113.603, 34.703}, {113.603, 34.707}, {113.607, 34.707}, {113.607, 34.703}, {113.603, 34.703}},
	}}
	tile := maptile.At(orb.Point{113.605, 34.705}, 14)
	p := newProjector(14, tile.X, tile.Y, geo.WGS84)
	e := newEncoder().(*encoder)
	e.tile = e.tile[:0]
	e.beginLayer()
	if !e.polygons(p, mp, nil, Tolerance, grownTile(reachOf(LayerGrids))) {
		t.Fatal("the square is not in its tile")
	}
	e.feature(1, geomTypePolygon)
	e.endLayer("t")
	ls, err := mvt.Unmarshal(e.tile)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := ls[0].Features[0].Geometry.(orb.Polygon)
	if !ok || len(out) != 2 {
		t.Fatalf("got %v", ls[0].Features[0].Geometry)
	}
	if ringArea(out[0]) <= 0 || ringArea(out[1]) >= 0 {
		t.Errorf("winding: exterior %v hole %v", ringArea(out[0]), ringArea(out[1]))
	}
}

// TestFeatureLimit: over the limit a tile is simplified more coarsely, and still holds every feature.
func TestFeatureLimit(t *testing.T) {
	var gs []gridline.Grid
	id := int64(1)
	// 40 x 40 small basic grids, each a 16-sided polygon, in one z12 tile.
	for i := 0; i < 40; i++ {
		for j := 0; j < 40; j++ {
			cx, cy := 113.601+float64(i)*0.001, 34.701+float64(j)*0.001
			var ring orb.Ring
			for k := 0; k <= 16; k++ {
				a := float64(k%16) / 16 * 2 * math.Pi
				ring = append(ring, orb.Point{cx + 0.0004*math.Cos(a), cy + 0.0004*math.Sin(a)})
			}
			gs = append(gs, gridline.Grid{ID: id, VersionID: id, Version: 1, Code: "g", Name: "g", Level: gridline.LevelGrid,
				Layer: gridline.LayerComprehensive, ValidFrom: storetest.FixtureFrom, Geometry: orb.MultiPolygon{{ring}}})
			id++
		}
	}
	src := NewTileset(resolve.Build(gs, nil, time.Now()))
	tile := maptile.At(orb.Point{113.62, 34.72}, 12)
	req := Request{Layers: []string{LayerGrids}, Z: 12, X: tile.X, Y: tile.Y, At: day, CRS: geo.WGS84}
	full, err := src.Generate(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	coarse, err := src.Generate(req, 100)
	if err != nil {
		t.Fatal(err)
	}
	if full.Features != 1600 || coarse.Features != 1600 {
		t.Errorf("features %d and %d, want 1600 in both", full.Features, coarse.Features)
	}
	if coarse.Simplified <= full.Simplified || len(coarse.Data) >= len(full.Data) {
		t.Errorf("over the limit: tolerance %v (was %v), %d bytes (was %d)", coarse.Simplified, full.Simplified, len(coarse.Data), len(full.Data))
	}
	if n := len(decode(t, coarse.Data)[LayerGrids].Features); n != 1600 {
		t.Errorf("decoded %d features", n)
	}
}

func TestPoleOfInaccessibility(t *testing.T) {
	cases := []struct {
		name string
		mp   orb.MultiPolygon
		want orb.Point // within tol
		tol  float64
	}{
		{"square: the centre", storetest.Box(0, 0, 2, 2), orb.Point{1, 1}, 0.01},
		// An L whose centroid (about 0.83, 0.83) is near the inner corner; the pole lies in the
		// wider arm's middle, distance 0.5 from the edges.
		{"L shape", orb.MultiPolygon{{{{0, 0}, {3, 0}, {3, 1}, {1, 1}, {1, 3}, {0, 3}, {0, 0}}}}, orb.Point{}, 0},
		{"donut: not in the hole", orb.MultiPolygon{{
			{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}},
			{{1, 1}, {1, 3}, {3, 3}, {3, 1}, {1, 1}},
		}}, orb.Point{}, 0},
		{"multipolygon: the largest part", orb.MultiPolygon{storetest.Box(0, 0, 1, 1)[0], storetest.Box(10, 10, 14, 14)[0]}, orb.Point{12, 12}, 0.02},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := PoleOfInaccessibility(c.mp, 0.001)
			if !planar.MultiPolygonContains(c.mp, p) {
				t.Fatalf("pole %v is not inside", p)
			}
			if c.tol > 0 && (math.Abs(p[0]-c.want[0]) > c.tol || math.Abs(p[1]-c.want[1]) > c.tol) {
				t.Errorf("pole %v, want %v", p, c.want)
			}
			// Inside and at least 0.45 (L, donut: the best is 0.5) from every edge.
			if d := signedDistance(orb.Point{p[0] * math.Cos(p[1]*math.Pi/180), p[1]}, scaleX(c.mp, p[1])); d < 0.45 {
				t.Errorf("pole %v is only %.3f from the boundary", p, d)
			}
		})
	}
}

// scaleX puts the largest part of mp in the frame PoleOfInaccessibility searches in.
func scaleX(mp orb.MultiPolygon, lat float64) orb.Polygon {
	best, area := orb.Polygon(nil), -1.0
	for _, p := range mp {
		if a := math.Abs(planar.Area(p)); a > area {
			best, area = p, a
		}
	}
	k := math.Cos(best.Bound().Center()[1] * math.Pi / 180)
	out := orb.Polygon{}
	for _, r := range best {
		var rr orb.Ring
		for _, q := range r {
			rr = append(rr, orb.Point{q[0] * k, q[1]})
		}
		out = append(out, rr)
	}
	return out
}

func TestCacheLRUAndEpoch(t *testing.T) {
	c := NewCache(4 * (1000 + entryOverhead))
	b := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}
	e := Entry{Data: make([]byte, 1000)}
	for i := uint32(0); i < 4; i++ {
		if !c.Put(Key{X: i}, e, b, c.Epoch()) {
			t.Fatalf("put %d refused", i)
		}
	}
	c.Get(Key{X: 0}) // 0 is now the most recently used: 1 goes first
	c.Put(Key{X: 4}, e, b, c.Epoch())
	if _, ok := c.Get(Key{X: 1}); ok {
		t.Error("least recently used entry kept")
	}
	for _, x := range []uint32{0, 2, 3, 4} {
		if _, ok := c.Get(Key{X: x}); !ok {
			t.Errorf("entry %d evicted", x)
		}
	}
	if s := c.Stats(); s.Bytes > s.Budget || s.Evictions != 1 {
		t.Errorf("stats %+v", s)
	}
	old := c.Epoch()
	c.Invalidate(nil)
	if c.Put(Key{X: 9}, e, b, old) {
		t.Error("a tile from before an invalidation was stored")
	}
}

func TestCacheInvalidateByBound(t *testing.T) {
	c := NewCache(1 << 20)
	near := SearchBound(14, 13372, 6458, geo.WGS84)
	far := SearchBound(14, 0, 0, geo.WGS84)
	low := SearchBound(8, 208, 100, geo.WGS84)
	c.Put(Key{Z: 14, X: 13372, Y: 6458}, Entry{}, near, 0)
	c.Put(Key{Z: 14}, Entry{}, far, 0)
	c.Put(Key{Z: 8, X: 208, Y: 100}, Entry{}, low, 0)
	change := orb.Bound{Min: near.Center(), Max: near.Center()}
	if n := c.Invalidate([]orb.Bound{change}); n != 2 {
		t.Errorf("dropped %d, want 2 (the z14 and the z8 tile over the change)", n)
	}
	if _, ok := c.Get(Key{Z: 14}); !ok {
		t.Error("a tile far from the change was dropped")
	}
}

// swapper is an Indexer whose index a test replaces.
type swapper struct {
	mu sync.Mutex
	ix *resolve.GridIndex
}

func (s *swapper) Index() *resolve.GridIndex { s.mu.Lock(); defer s.mu.Unlock(); return s.ix }
func (s *swapper) set(ix *resolve.GridIndex) { s.mu.Lock(); s.ix = ix; s.mu.Unlock() }

// TestServiceInvalidation: after an index swap that changes grid 10, tiles over it are cut again
// (and show the change) while tiles elsewhere stay cached.
func TestServiceInvalidation(t *testing.T) {
	sw := &swapper{ix: fixture(t, nil)}
	svc := NewService(sw, Options{})
	z := uint32(16)
	over := maptile.At(orb.Point{113.63, 34.72}, maptile.Zoom(z))   // inside grid 10 only
	other := maptile.At(orb.Point{113.605, 34.73}, maptile.Zoom(z)) // grid 9, far from 10
	get := func(tile maptile.Tile) Entry {
		t.Helper()
		e, err := svc.Get(Request{Layers: []string{LayerGrids}, Z: z, X: tile.X, Y: tile.Y, At: day, CRS: geo.WGS84}, false)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	before, _ := get(over), get(other)
	sw.set(fixture(t, func(gs []gridline.Grid) []gridline.Grid {
		gs[9].Name = "改名网格"
		return gs
	}))
	hits := svc.Stats().Cache.Hits
	after := get(over)
	get(other)
	if got := svc.Stats().Cache.Hits - hits; got != 1 {
		t.Errorf("%d cache hits after the swap, want 1 (the tile away from the change)", got)
	}
	if after.ETag == before.ETag {
		t.Error("the tile over the changed grid has the same ETag")
	}
	if f := decode(t, after.Data)[LayerGrids].Features; len(f) != 1 || f[0].Properties["name"] != "改名网格" {
		t.Errorf("features after the change: %v", f)
	}
}

func keys(m map[string]*mvt.Layer) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReach: a polygon in the tile's buffer is in the tile while it comes near enough to paint a
// pixel of its outline there (reachOf its layer), and left out beyond. The test is the polygon's,
// not its bounding box's: a triangle whose box reaches the tile but whose hypotenuse keeps off it
// is left out.
func TestReach(t *testing.T) {
	tile := maptile.At(orb.Point{113.605, 34.705}, 14)
	tb := tile.Bound()
	lon := func(u float64) float64 { return tb.Min[0] + u/Extent*(tb.Max[0]-tb.Min[0]) }
	lat := func(v float64) float64 { return tb.Max[1] - v/Extent*(tb.Max[1]-tb.Min[1]) } // approximately: v down
	square := func(u0, u1 float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{lon(u0), lat(2000)}, {lon(u1), lat(2000)}, {lon(u1), lat(2500)}, {lon(u0), lat(2500)}, {lon(u0), lat(2000)}}}}
	}
	p := newProjector(14, tile.X, tile.Y, geo.WGS84)
	e := newEncoder().(*encoder)
	grids, subs := reachOf(LayerGrids), reachOf(LayerSubdistricts)
	if grids != 8 || subs != 14 {
		t.Fatalf("reach: grids %v, subdistricts %v extent units, want 8 (1 px outline) and 14 (2.5 px)", grids, subs)
	}
	// Beyond the bottom-right corner: the box reaches the tile, the triangle does not.
	corner := orb.MultiPolygon{{{{lon(Extent + 60), lat(Extent - 20)}, {lon(Extent + 60), lat(Extent + 60)}, {lon(Extent - 20), lat(Extent + 60)}, {lon(Extent + 60), lat(Extent - 20)}}}}
	for _, c := range []struct {
		name  string
		mp    orb.MultiPolygon
		layer string
		want  bool
	}{
		{"inside", square(100, 200), LayerGrids, true},
		{"across the edge", square(Extent-10, Extent+30), LayerGrids, true},
		{"in the buffer, within a grid's reach", square(Extent+grids-2, Extent+Buffer-1), LayerGrids, true},
		{"in the buffer, beyond a grid's reach", square(Extent+grids+2, Extent+Buffer-1), LayerGrids, false},
		{"as far, within a subdistrict's reach", square(Extent+grids+2, Extent+Buffer-1), LayerSubdistricts, true},
		{"beyond the buffer", square(Extent+Buffer+4, Extent+Buffer+40), LayerSubdistricts, false},
		{"a triangle off the corner", corner, LayerSubdistricts, false},
	} {
		if got := e.polygons(p, c.mp, nil, Tolerance, grownTile(reachOf(c.layer))); got != c.want {
			t.Errorf("%s: in the tile %v, want %v", c.name, got, c.want)
		}
	}
}
