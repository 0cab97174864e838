package demo

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/planar"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// Erqi takes seconds, so the tests share one district (seed 1); the determinism test builds a
// second one.
var erqiCache struct {
	sync.Mutex
	d   *District
	err error
}

func erqiDistrict(t *testing.T) (*District, *store.DB) {
	t.Helper()
	db := testDB(t)
	erqiCache.Lock()
	defer erqiCache.Unlock()
	if erqiCache.d == nil && erqiCache.err == nil {
		start := time.Now()
		erqiCache.d, erqiCache.err = Erqi(context.Background(), db, Options{Seed: 1})
		t.Logf("Erqi built the district in %v", time.Since(start).Round(time.Millisecond))
	}
	if erqiCache.err != nil {
		t.Fatalf("Erqi: %v", erqiCache.err)
	}
	return erqiCache.d, db
}

type layerLevel struct {
	layer gridline.Layer
	level gridline.Level
}

func TestErqiCounts(t *testing.T) {
	d, _ := erqiDistrict(t)
	got := map[layerLevel]int{}
	for _, g := range d.Grids {
		got[layerLevel{g.Layer, g.Level}]++
	}
	tests := []struct {
		name     string
		key      layerLevel
		min, max int
	}{
		{"district", layerLevel{gridline.LayerComprehensive, gridline.LevelDistrict}, 1, 1},
		{"subdistricts", layerLevel{gridline.LayerComprehensive, gridline.LevelSubdistrict}, 16, 16},
		{"communities", layerLevel{gridline.LayerComprehensive, gridline.LevelCommunity}, 176, 176},
		{"basic grids", layerLevel{gridline.LayerComprehensive, gridline.LevelGrid}, 1350, 1650},
		{"micro grids", layerLevel{gridline.LayerComprehensive, gridline.LevelMicro}, 9000, 12000},
		{"special grids", layerLevel{gridline.LayerSpecial, gridline.LevelGrid}, 150, 500},
		{"police grids", layerLevel{gridline.LayerPolice, gridline.LevelGrid}, 30, 60},
	}
	total := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if n := got[tc.key]; n < tc.min || n > tc.max {
				t.Errorf("%d %s, want %d to %d", n, tc.name, tc.min, tc.max)
			}
		})
		total += got[tc.key]
	}
	if total != len(d.Grids) {
		t.Errorf("%d grids of other layers or levels: %v", len(d.Grids)-total, got)
	}
	// Micro grids per basic grid.
	micros := map[int64]int{}
	for _, g := range d.Grids {
		if g.Level == gridline.LevelMicro {
			micros[g.ParentID]++
		}
	}
	for _, g := range d.Grids {
		// 6 to 8 are planned; mending a grid cut in two can take one or two away.
		if g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelGrid && (micros[g.ID] < 4 || micros[g.ID] > 8) {
			t.Errorf("basic grid %s has %d micro grids, want 4 to 8 (6 to 8 planned)", g.Code, micros[g.ID])
		}
	}
}

func TestErqiRealDivisions(t *testing.T) {
	d, _ := erqiDistrict(t)
	divs, err := loadDivisions()
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]gridline.Grid{}
	for _, g := range d.Grids {
		byCode[g.Code] = g
	}
	want := append([]division{divs.District}, append(divs.Subdistricts, divs.Communities...)...)
	for _, v := range want {
		g, ok := byCode[v.Code]
		if !ok || g.Name != v.Name || string(g.Level) != v.Level {
			t.Errorf("division %s %s (%s): got grid %q %q", v.Code, v.Name, v.Level, g.Name, g.Level)
			continue
		}
		if v.Level != "district" && d.Grids[g.ParentID-1].Code != v.Parent {
			t.Errorf("%s %s: parent %s, want %s", v.Code, v.Name, d.Grids[g.ParentID-1].Code, v.Parent)
		}
	}
	// The towns are the largest subdistricts, 马寨镇 the westernmost.
	type sub struct {
		code string
		area float64
		lon  float64
	}
	var subs []sub
	for _, g := range d.Grids {
		if g.Level == gridline.LevelSubdistrict {
			c, a := planar.CentroidArea(g.Geometry)
			subs = append(subs, sub{g.Code, a, c[0]})
		}
	}
	towns := map[string]bool{"410103015": true, "410103016": true, "410103100": true}
	for _, s := range subs {
		for _, o := range subs {
			if towns[s.code] && !towns[o.code] && s.area <= o.area {
				t.Errorf("town %s (%.5f) is not larger than urban subdistrict %s (%.5f)", s.code, s.area, o.code, o.area)
			}
			if s.code == "410103100" && o.code != s.code && o.lon <= s.lon {
				t.Errorf("马寨镇 (centroid lon %.4f) is not west of %s (%.4f)", s.lon, o.code, o.lon)
			}
		}
	}
}

func TestErqiCodes(t *testing.T) {
	d, _ := erqiDistrict(t)
	seen := map[string]bool{}
	last := map[int64]int{} // parent -> last sequence
	lastPolice := 0
	for _, g := range d.Grids {
		if seen[g.Code] {
			t.Errorf("code %s appears twice", g.Code)
		}
		seen[g.Code] = true
		var p gridline.Grid
		if g.ParentID != 0 {
			p = d.Grids[g.ParentID-1]
		}
		switch {
		case g.Layer == gridline.LayerPolice:
			seq, ok := cutPrefix(g.Code, "410103JW")
			if !ok || len(seq) != 3 || !allDigits(seq) || atoi(seq) != lastPolice+1 {
				t.Errorf("police grid code %s: want 410103JW%03d", g.Code, lastPolice+1)
			}
			lastPolice = atoi(seq)
		case g.Layer == gridline.LayerSpecial:
			seq, ok := cutPrefix(g.Code, p.Code)
			want := max(901, last[g.ParentID]+1)
			if p.Level != gridline.LevelCommunity || !ok || atoi(seq) != want || len(g.Code) != 15 {
				t.Errorf("special grid code %s in %s: want %s%d", g.Code, p.Code, p.Code, want)
			}
			last[g.ParentID] = atoi(seq)
			if !strings.HasSuffix(g.Name, "专属网格") {
				t.Errorf("special grid %s is named %q, want a name ending 专属网格", g.Code, g.Name)
			}
		case g.Level == gridline.LevelGrid || g.Level == gridline.LevelMicro:
			seq, ok := cutPrefix(g.Code, p.Code)
			wantLen := map[gridline.Level]int{gridline.LevelGrid: 15, gridline.LevelMicro: 18}[g.Level]
			if !ok || len(g.Code) != wantLen || !allDigits(g.Code) || atoi(seq) != last[g.ParentID]+1 {
				t.Errorf("%s code %s under %s: want %d digits, %s%03d", g.Level, g.Code, p.Code, wantLen, p.Code, last[g.ParentID]+1)
			}
			last[g.ParentID] = atoi(seq)
		}
	}
	checkRowOrder(t, d)
}

// checkRowOrder checks the sequence numbers run west to east, north to south: in code order, the
// siblings' rows (bands of rowBand height from the parent's northern edge) never go back north,
// and within a row their representative points never go back west.
func checkRowOrder(t *testing.T, d *District) {
	t.Helper()
	pr := projFor(d.Grids[0].Geometry)
	siblings := map[int64][]gridline.Grid{}
	for _, g := range d.Grids {
		if g.Layer == gridline.LayerComprehensive && (g.Level == gridline.LevelGrid || g.Level == gridline.LevelMicro) {
			siblings[g.ParentID] = append(siblings[g.ParentID], g)
		}
	}
	bad := 0
	for pid, gs := range siblings {
		p := d.Grids[pid-1]
		band := rowBand(pr.areaM2(p.Geometry), len(gs))
		top := p.Geometry.Bound().Max[1]
		prevRow, prevLon := -1, math.Inf(-1)
		for _, g := range gs { // in code order
			c, _ := planar.CentroidArea(g.Geometry)
			row := int(math.Floor((top - c[1]) / band))
			if row < prevRow || (row == prevRow && c[0] < prevLon) {
				bad++
				if bad < 5 {
					t.Errorf("%s comes after a grid in row %d at lon %.5f but lies in row %d at lon %.5f", g.Code, prevRow, prevLon, row, c[0])
				}
			}
			prevRow, prevLon = row, c[0]
		}
	}
}

func TestErqiHouseholds(t *testing.T) {
	d, _ := erqiDistrict(t)
	checkSums(t, d)
	var rural, urban int
	for _, g := range d.Grids {
		if g.Layer != gridline.LayerComprehensive || g.Level != gridline.LevelGrid {
			continue
		}
		comm := d.Grids[g.ParentID-1]
		lo, hi := 300, 500
		if isRural(division{Code: comm.Code, Name: comm.Name}) {
			lo, hi = 250, 350
			rural++
		} else {
			urban++
		}
		if g.Households < lo || g.Households > hi {
			t.Errorf("basic grid %s (%s) has %d households, want %d-%d", g.Code, comm.Name, g.Households, lo, hi)
		}
		if r := float64(g.Population) / float64(g.Households); r < 2.4 || r > 2.8 {
			t.Errorf("basic grid %s: %.2f people per household, want 2.4-2.8", g.Code, r)
		}
	}
	if rural == 0 || urban == 0 {
		t.Errorf("%d rural and %d urban basic grids: want both", rural, urban)
	}
	for _, g := range d.Grids {
		if g.Level == gridline.LevelMicro && (g.Households < 5 || g.Households > 200) {
			t.Errorf("micro grid %s has %d households, want a few dozen (5-200)", g.Code, g.Households)
		}
		if (g.Layer == gridline.LayerSpecial) != (g.Households == 0) {
			t.Errorf("%s grid %s has %d households: special grids, and only they, have none", g.Layer, g.Code, g.Households)
		}
	}
}

func TestErqiNestingExact(t *testing.T) {
	d, _ := erqiDistrict(t)
	checkIDs(t, d)
	checkNesting(t, d)
	checkFourBounds(t, d)
}

func TestErqiOutline(t *testing.T) {
	d, _ := erqiDistrict(t)
	outline, err := loadOutline()
	if err != nil {
		t.Fatal(err)
	}
	// The district is the union of its subdistricts: the real outline with vertices added where
	// Voronoi edges meet it, so the same area to rounding.
	a, b := planar.Area(outline), planar.Area(d.Grids[0].Geometry)
	if math.Abs(a-b) > 1e-9*a {
		t.Errorf("district area %.12g square degrees, the outline %.12g", b, a)
	}
	// WGS84, not GCJ-02: 二七广场 converted lies inside, and the district moved south-west of the
	// GCJ-02 data by hundreds of metres.
	if !planar.MultiPolygonContains(d.Grids[0].Geometry, wgs(orb.Point{113.6655, 34.7540})) {
		t.Error("the district does not contain the point near 二七广场 (WGS84)")
	}
	if bb := d.Grids[0].Geometry.Bound(); bb.Max[0] > 113.67655-0.004 {
		t.Errorf("district reaches east to %.5f: still in GCJ-02 (max 113.67655)?", bb.Max[0])
	}
}

func TestErqiStaff(t *testing.T) {
	d, _ := erqiDistrict(t)
	roles := map[int64]map[gridline.Post]int{}
	for _, a := range d.Assignments {
		if roles[a.GridID] == nil {
			roles[a.GridID] = map[gridline.Post]int{}
		}
		roles[a.GridID][a.Post]++
	}
	var basic, vacant, micro, stewards int
	for _, g := range d.Grids {
		r := roles[g.ID]
		switch {
		case g.Layer == gridline.LayerComprehensive && (g.Level == gridline.LevelDistrict || g.Level == gridline.LevelSubdistrict || g.Level == gridline.LevelCommunity):
			if r[gridline.PostGridChief] != 1 {
				t.Errorf("%s %s has %d grid chiefs, want 1", g.Code, g.Name, r[gridline.PostGridChief])
			}
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelGrid:
			basic++
			switch r[gridline.PostFullTimeWorker] {
			case 0:
				vacant++
			case 1:
			default:
				t.Errorf("basic grid %s has %d full-time workers", g.Code, r[gridline.PostFullTimeWorker])
			}
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelMicro:
			micro++
			if r[gridline.PostBuildingSteward] > 0 {
				stewards++
			}
		case g.Layer == gridline.LayerSpecial:
			if r[gridline.PostGridChief] != 1 || r[gridline.PostFullTimeWorker] != 1 {
				t.Errorf("special grid %s: roles %v, want a grid chief and a full-time worker", g.Code, r)
			}
		case g.Layer == gridline.LayerPolice:
			if n := r[gridline.PostPoliceOfficer]; n < 1 || n > 2 {
				t.Errorf("police grid %s has %d officers, want 1 or 2", g.Code, n)
			}
		}
	}
	if share := float64(vacant) / float64(basic); vacant == 0 || share > 0.05 {
		t.Errorf("%d of %d basic grids without a full-time worker: want a few (1-5%%)", vacant, basic)
	}
	if share := float64(stewards) / float64(micro); share < 0.7 || share > 0.95 {
		t.Errorf("%d of %d micro grids have a building steward: want most", stewards, micro)
	}
	phones := map[string]bool{}
	for _, p := range d.People {
		if !mobile.MatchString(p.Phone) || phones[p.Phone] {
			t.Errorf("person %d: phone %q is not a fresh 11-digit mobile number", p.ID, p.Phone)
		}
		phones[p.Phone] = true
		if n := len([]rune(p.Name)); n < 2 || n > 3 || !strings.Contains(p.Note, "虚构") {
			t.Errorf("person %d: name %q, note %q: want a 2-3 character name and a note saying it is fictitious", p.ID, p.Name, p.Note)
		}
	}
}

func TestErqiSpecialGrids(t *testing.T) {
	d, _ := erqiDistrict(t)
	kinds := map[string]bool{}
	for _, k := range gridline.SpecialKinds {
		kinds[k] = true
	}
	pr := newProj(113.6, 34.7)
	for _, g := range d.Grids {
		if g.Layer != gridline.LayerSpecial {
			continue
		}
		if !kinds[g.Kind] {
			t.Errorf("special grid %s: kind %q is not one of gridline.SpecialKinds", g.Code, g.Kind)
		}
		b := g.Geometry.Bound()
		w := (b.Max[0] - b.Min[0]) * pr.kx
		h := (b.Max[1] - b.Min[1]) * pr.ky
		if math.Max(w, h) < 80 || math.Max(w, h) > 360 {
			t.Errorf("special grid %s is %.0f x %.0f m, want 80-250 m sides", g.Code, w, h)
		}
	}
}

// TestErqiPostGIS checks the geometry with PostGIS, on geography (square metres): every geometry
// valid, every parent the union of its children, siblings not overlapping, special grids inside
// their community, police grids tiling the district.
func TestErqiPostGIS(t *testing.T) {
	d, db := erqiDistrict(t)
	ctx := context.Background()
	tx, err := storetest.Raw(t, db).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var ids, parents []int64
	var layers, levels []string
	var geoms [][]byte
	for _, g := range d.Grids {
		w, err := wkb.Marshal(g.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		ids, parents, layers, levels, geoms = append(ids, g.ID), append(parents, g.ParentID), append(layers, string(g.Layer)), append(levels, string(g.Level)), append(geoms, w)
	}
	for _, q := range []string{
		`CREATE TEMP TABLE g (id bigint PRIMARY KEY, parent bigint, layer text, level text, geom geometry(MultiPolygon, 4326)) ON COMMIT DROP`,
		`INSERT INTO g SELECT id, parent, layer, level, ST_GeomFromWKB(w, 4326)
		 FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bytea[]) AS u(id, parent, layer, level, w)`,
		`CREATE INDEX ON g USING gist (geom)`,
		`ANALYZE g`,
	} {
		var args []any
		if strings.HasPrefix(q, "INSERT") {
			args = []any{ids, parents, layers, levels, geoms}
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	checks := []struct {
		name string
		sql  string // returns one number, which must be at most max
		max  float64
	}{
		{"invalid geometries", `SELECT count(*) FROM g WHERE NOT ST_IsValid(geom)`, 0},
		{"largest symmetric difference between a parent and the union of its children (m²)",
			`SELECT coalesce(max(ST_Area(ST_SymDifference(u.geom, p.geom)::geography)), 0)
			 FROM (SELECT parent, ST_Union(geom) AS geom FROM g WHERE layer = 'comprehensive' AND parent <> 0 GROUP BY parent) AS u
			 JOIN g AS p ON p.id = u.parent`, 1},
		{"parents of the comprehensive layer without children",
			`SELECT count(*) FROM g AS p WHERE layer = 'comprehensive' AND level <> 'micro'
			 AND NOT EXISTS (SELECT 1 FROM g AS c WHERE c.parent = p.id AND c.layer = 'comprehensive')`, 0},
		{"largest overlap between two siblings of one layer (m²)",
			`SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
			 FROM g AS a JOIN g AS b ON a.parent = b.parent AND a.layer = b.layer AND a.id < b.id AND a.geom && b.geom
			 WHERE ST_Relate(a.geom, b.geom, '2********')`, 0.01},
		{"special grids not inside their community",
			`SELECT count(*) FROM g AS s JOIN g AS c ON c.id = s.parent WHERE s.layer = 'special' AND NOT ST_Within(s.geom, c.geom)`, 0},
		{"symmetric difference between the district and the union of the police grids (m²)",
			`SELECT ST_Area(ST_SymDifference((SELECT ST_Union(geom) FROM g WHERE layer = 'police'), (SELECT geom FROM g WHERE id = 1))::geography)`, 1},
		{"police grids that are not a single polygon",
			`SELECT count(*) FROM g WHERE layer = 'police' AND ST_NumGeometries(geom) <> 1`, 0},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			var v float64
			if err := tx.QueryRow(ctx, c.sql).Scan(&v); err != nil {
				t.Fatalf("%s: %v", c.sql, err)
			}
			if v > c.max {
				t.Errorf("%s: %g, want at most %g", c.name, v, c.max)
			}
		})
	}
}

func TestErqiDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the district a second time")
	}
	a, db := erqiDistrict(t)
	b, err := Erqi(context.Background(), db, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Grids) != len(b.Grids) || len(a.People) != len(b.People) || len(a.Assignments) != len(b.Assignments) {
		t.Fatalf("two runs: %d/%d grids, %d/%d people, %d/%d assignments", len(a.Grids), len(b.Grids), len(a.People), len(b.People), len(a.Assignments), len(b.Assignments))
	}
	for i := range a.Grids {
		ga, gb := a.Grids[i], b.Grids[i]
		wa, _ := wkb.Marshal(ga.Geometry)
		wb, _ := wkb.Marshal(gb.Geometry)
		ga.Geometry, gb.Geometry = nil, nil
		if !reflect.DeepEqual(ga, gb) || !bytes.Equal(wa, wb) {
			t.Fatalf("grid %d differs between two runs with seed 1: %s %s / %s %s (geometry equal: %v)", i+1, ga.Code, ga.Name, gb.Code, gb.Name, bytes.Equal(wa, wb))
		}
	}
	for i := range a.People {
		if a.People[i] != b.People[i] {
			t.Fatalf("person %d differs: %+v / %+v", i+1, a.People[i], b.People[i])
		}
	}
	for i := range a.Assignments {
		if a.Assignments[i] != b.Assignments[i] {
			t.Fatalf("assignment %d differs", i+1)
		}
	}
}

func TestErqiPlanSeed(t *testing.T) {
	outline, err := loadOutline()
	if err != nil {
		t.Fatal(err)
	}
	divs, err := loadDivisions()
	if err != nil {
		t.Fatal(err)
	}
	var sizes [2][]int
	var clouds [2][]vec
	for i, seed := range []int64{1, 2} {
		p, err := sizeErqi(outline, divs, seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range p.basics {
			sizes[i] = append(sizes[i], b.households)
		}
		p.sample(seed)
		clouds[i] = p.cloud
	}
	if reflect.DeepEqual(sizes[0], sizes[1]) {
		t.Error("seeds 1 and 2 give the same households to every basic grid")
	}
	same := 0
	for i := range clouds[0] {
		if clouds[0][i] == clouds[1][i] {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 1 and 2 draw %d cloud points at the same place", same)
	}
}

// What Erqi is given.
var _ PostGIS = (*store.DB)(nil)
