package tiles

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"gridline.dev/gridline"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// benchGrids is the number of basic grids of the synthetic region (each cut into 6 to 8 micro
// grids): TILES_BENCH_GRIDS, default 2000 (about 17,000 grid versions).
func benchGrids() int {
	if n, err := strconv.Atoi(os.Getenv("TILES_BENCH_GRIDS")); err == nil && n > 0 {
		return n
	}
	return 2000
}

var bench struct {
	once sync.Once
	d    *demo.District
	src  *Tileset
	err  error
}

func benchData(b *testing.B) (*demo.District, *Tileset) {
	bench.once.Do(func() {
		bench.d, bench.err = demo.SyntheticWithMicro(benchGrids(), 1, demo.Options{})
		if bench.err != nil {
			return
		}
		bench.src = sourceOf(bench.d)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.d, bench.src
}

// sourceOf is a tile source over the district's grids, numbered as versions 1, 2, ...
func sourceOf(d *demo.District) *Tileset {
	gs := append([]gridline.Grid(nil), d.Grids...)
	for i := range gs {
		gs[i].VersionID = int64(i + 1)
	}
	return NewTileset(resolve.Build(gs, nil, time.Now()))
}

var benchZooms = []uint32{10, 12, 14, 16}

// centreTile is the tile at zoom z over the middle of the synthetic region.
func centreTile(src *Tileset, z uint32) maptile.Tile {
	b, _ := src.Bounds([]string{LayerGrids}, demo.DefaultValidFrom)
	return maptile.At(b.Center(), maptile.Zoom(z))
}

// BenchmarkGenerate cuts uncached tiles from the in-memory index: polygon layers only (comparable
// with BenchmarkPostGIS), and with labels.
func BenchmarkGenerate(b *testing.B) {
	_, src := benchData(b)
	at := demo.DefaultValidFrom.AddDate(1, 0, 0)
	for _, set := range []struct {
		name   string
		layers []string
	}{
		{"polygons", []string{LayerSubdistricts, LayerCommunities, LayerGrids, LayerMicros}},
		{"polygons+labels", []string{LayerSubdistricts, LayerCommunities, LayerGrids, LayerMicros, LayerLabels}},
	} {
		for _, z := range benchZooms {
			b.Run(fmt.Sprintf("%s/z%d", set.name, z), func(b *testing.B) {
				t := centreTile(src, z)
				var last *Tile
				b.ReportAllocs()
				for b.Loop() {
					var err error
					last, err = src.Generate(Request{Layers: set.layers, Z: z, X: t.X, Y: t.Y, At: at, CRS: geo.WGS84}, 20000)
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(last.Features), "features")
				b.ReportMetric(float64(len(last.Data)), "bytes")
			})
		}
	}
}

// BenchmarkGenerateGCJ02 is BenchmarkGenerate's polygons at z14 shifted to GCJ-02.
func BenchmarkGenerateGCJ02(b *testing.B) {
	_, src := benchData(b)
	t := centreTile(src, 14)
	at := demo.DefaultValidFrom.AddDate(1, 0, 0)
	for b.Loop() {
		if _, err := src.Generate(Request{Layers: []string{LayerSubdistricts, LayerCommunities, LayerGrids, LayerMicros}, Z: 14, X: t.X, Y: t.Y, At: at, CRS: geo.GCJ02}, 20000); err != nil {
			b.Fatal(err)
		}
	}
}

// postgisTiles cuts the polygon layers of the comprehensive layer in the database, with the plain
// ST_AsMVT query (store.PlainTiles) and gridline's properties, each layer at its zooms.
func postgisTiles(db *store.DB) *store.PlainTiles {
	var layers []store.TileLayer
	for _, l := range PolygonLayers(nil) {
		if l.Layer == gridline.LayerComprehensive {
			layers = append(layers, store.TileLayer{Name: l.Spec.Name, MinZoom: l.Spec.MinZoom, MaxZoom: l.Spec.MaxZoom, Layer: l.Layer, Level: l.Level})
		}
	}
	return db.PlainTiles(layers, true)
}

// BenchmarkPostGIS cuts the same tiles as BenchmarkGenerate/polygons with ST_AsMVT on the same
// data, loaded into a fresh test database (DATABASE_URL).
func BenchmarkPostGIS(b *testing.B) {
	d, src := benchData(b)
	db := storetest.New(b)
	ctx := context.Background()
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, store.DefaultTolerance); err != nil {
		b.Fatal(err)
	}
	at := demo.DefaultValidFrom.AddDate(1, 0, 0)
	pg := postgisTiles(db)
	for _, z := range benchZooms {
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) {
			t := centreTile(src, z)
			var data []byte
			for b.Loop() {
				var err error
				if data, err = pg.Tile(ctx, int(z), int(t.X), int(t.Y), at); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "bytes")
		})
	}
}

// BenchmarkSwap is the work the first tile request after an index swap does: preparing the new
// source and comparing it with the old one to find what to invalidate.
func BenchmarkSwap(b *testing.B) {
	_, src := benchData(b)
	for b.Loop() {
		next := NewTileset(src.ix)
		if boxes, ok := Changed(src, next); !ok || len(boxes) != 0 {
			b.Fatalf("%d changes", len(boxes))
		}
	}
	b.ReportMetric(float64(src.ix.Len()), "versions")
}

// TestNoLargerThanPostGIS keeps the tile-bytes target of BENCHMARKS.md as a test: over every tile
// of a synthetic region at z12 and z14, and a sample at z16, gridline's polygon tiles take no more
// bytes than PostGIS's ST_AsMVT (the query pg_tileserv and Martin run) gives for the same
// features with the same properties. Bytes, not time: the same data give the same bytes.
func TestNoLargerThanPostGIS(t *testing.T) {
	d, err := demo.SyntheticWithMicro(1500, 1, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	src := sourceOf(d)
	pg := postgisTiles(db)
	at := demo.DefaultValidFrom.AddDate(1, 0, 0)
	region, _ := src.Bounds([]string{LayerGrids}, at)
	for _, z := range []uint32{12, 14, 16} {
		layers := []string{LayerSubdistricts, LayerCommunities, LayerGrids}
		if z >= 15 {
			layers = append(layers, LayerMicros)
		}
		lo := maptile.At(orb.Point{region.Min[0], region.Max[1]}, maptile.Zoom(z))
		hi := maptile.At(orb.Point{region.Max[0], region.Min[1]}, maptile.Zoom(z))
		step := uint32(1)
		for (hi.X-lo.X+1)*(hi.Y-lo.Y+1)/(step*step) > 300 {
			step++
		}
		var ours, theirs, n int
		for x := lo.X; x <= hi.X; x += step {
			for y := lo.Y; y <= hi.Y; y += step {
				tile, err := src.Generate(Request{Layers: layers, Z: z, X: x, Y: y, At: at, CRS: geo.WGS84}, 0)
				if err != nil {
					t.Fatal(err)
				}
				data, err := pg.Tile(ctx, int(z), int(x), int(y), at)
				if err != nil {
					t.Fatal(err)
				}
				ours, theirs, n = ours+len(tile.Data), theirs+len(data), n+1
			}
		}
		t.Logf("z%d, %d tiles: gridline %d bytes, ST_AsMVT %d", z, n, ours, theirs)
		if ours > theirs {
			t.Errorf("z%d, %d tiles: gridline's tiles take %d bytes, ST_AsMVT's %d", z, n, ours, theirs)
		}
	}
}
