package store_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// fixtureDB is a fresh database holding storetest.Fixture.
func fixtureDB(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.New(t)
	if err := db.Load(context.Background(), storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	return db
}

// The fixture's basic grids of the comprehensive layer, by code, and whether their primary post
// (a full-time grid worker) is held: 410103001001002 has only a part-time worker.
var fixtureStaffed = map[string]bool{
	"410103001001001": true, "410103001001002": false, "410103001002001": true, "410103002001001": true,
}

var (
	layerGrids  = store.TileLayer{Name: "grids", MinZoom: 12, MaxZoom: 22, Layer: gridline.LayerComprehensive, Level: gridline.LevelGrid}
	layerPolice = store.TileLayer{Name: "police", MinZoom: 10, MaxZoom: 22, Layer: gridline.LayerPolice}
)

func TestThematicLayersAndExtent(t *testing.T) {
	ctx := context.Background()
	empty := storetest.New(t)
	if _, ok, err := empty.DistrictExtent(ctx); ok || err != nil {
		t.Errorf("empty database: extent ok %v, %v", ok, err)
	}
	db := fixtureDB(t)
	got, err := db.ThematicLayers(ctx)
	if err != nil || !reflect.DeepEqual(got, []gridline.Layer{gridline.LayerPolice}) {
		t.Errorf("thematic layers %v, %v; want [police]", got, err)
	}
	b, ok, err := db.DistrictExtent(ctx)
	if want := storetest.Box(113.60, 34.70, 113.64, 34.74).Bound(); err != nil || !ok || b != want {
		t.Errorf("extent %v (ok %v, %v), want %v", b, ok, err, want)
	}
}

// TestTegolaLayerSQL runs each layer's SQL as tegola would, its !BBOX! replaced by a box around
// the fixture, and checks the features and their staffed property.
func TestTegolaLayerSQL(t *testing.T) {
	db := fixtureDB(t)
	raw := storetest.Raw(t, db)
	ctx := context.Background()
	for _, tc := range []struct {
		layer store.TileLayer
		want  map[string]bool // code -> staffed
	}{
		{layerGrids, fixtureStaffed},
		{layerPolice, map[string]bool{"410103JW001": true, "410103JW002": true}},
	} {
		t.Run(tc.layer.Name, func(t *testing.T) {
			sql := strings.ReplaceAll(store.TegolaLayerSQL(tc.layer), "!BBOX!", "ST_MakeEnvelope(113.5, 34.6, 113.7, 34.8, 4326)")
			rows, err := raw.Query(ctx, "SELECT code, staffed FROM ("+sql+") q")
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			got := map[string]bool{}
			for rows.Next() {
				var code string
				var staffed bool
				if err := rows.Scan(&code, &staffed); err != nil {
					t.Fatal(err)
				}
				got[code] = staffed
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("features %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPlainTiles cuts tiles of the fixture with the plain ST_AsMVT query: the layers in their zoom
// ranges, the versions valid on the date asked, and gridline's properties only when asked for.
func TestPlainTiles(t *testing.T) {
	db := fixtureDB(t)
	ctx := context.Background()
	layers := []store.TileLayer{layerGrids, layerPolice}
	// decode gives the codes in each layer of a tile, and the staffed property by code.
	decode := func(data []byte) (map[string][]string, map[string]any) {
		t.Helper()
		ls, err := mvt.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		codes, staffed := map[string][]string{}, map[string]any{}
		for _, l := range ls {
			for _, f := range l.Features {
				c := f.Properties["code"].(string)
				codes[l.Name] = append(codes[l.Name], c)
				if v, ok := f.Properties["staffed"]; ok {
					staffed[c] = v
				}
			}
			sort.Strings(codes[l.Name])
		}
		return codes, staffed
	}
	tileAt := func(q *store.PlainTiles, z maptile.Zoom, at time.Time) []byte {
		t.Helper()
		// Zoom 12 or less: one tile holds the whole fixture.
		tl := maptile.At(orb.Point{113.62, 34.72}, z)
		data, err := q.Tile(ctx, int(tl.Z), int(tl.X), int(tl.Y), at)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	at := storetest.FixtureFrom.AddDate(1, 0, 0)
	full := db.PlainTiles(layers, true)
	codes, staffed := decode(tileAt(full, 12, at))
	want := map[string][]string{"grids": {"410103001001001", "410103001001002", "410103001002001", "410103002001001"}, "police": {"410103JW001", "410103JW002"}}
	if !reflect.DeepEqual(codes, want) {
		t.Errorf("z12: %v, want %v", codes, want)
	}
	for c, s := range fixtureStaffed {
		if staffed[c] != s {
			t.Errorf("z12: %s staffed %v, want %v", c, staffed[c], s)
		}
	}
	if codes, _ := decode(tileAt(full, 11, at)); !reflect.DeepEqual(codes, map[string][]string{"police": want["police"]}) {
		t.Errorf("z11, below the grids' zooms: %v", codes)
	}
	if data := tileAt(full, 12, storetest.FixtureFrom.AddDate(0, 0, -1)); len(data) != 0 {
		t.Errorf("before the fixture's grids are valid: %d bytes", len(data))
	}
	if codes, staffed := decode(tileAt(db.PlainTiles(layers, false), 12, at)); !reflect.DeepEqual(codes, want) || len(staffed) != 0 {
		t.Errorf("without gridline's properties: %v, staffed %v", codes, staffed)
	}
}

func TestRenameGrid(t *testing.T) {
	db := fixtureDB(t)
	ctx := context.Background()
	if err := db.RenameGrid(ctx, 7, "淮北街社区一网格"); err != nil {
		t.Fatal(err)
	}
	g, err := db.Grid(ctx, "410103001001001", storetest.FixtureFrom)
	if err != nil || g.Name != "淮北街社区一网格" || g.Version != 1 {
		t.Fatalf("after the rename: %+v, %v", g, err)
	}
	for _, tc := range []struct {
		name string
		id   int64
		to   string
		code string
	}{
		{"no such grid", 999, "名", gridline.ENotFound},
		{"empty name", 7, "", gridline.EInvalid},
	} {
		var ge *gridline.Error
		if err := db.RenameGrid(ctx, tc.id, tc.to); !errors.As(err, &ge) || ge.Code != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}
