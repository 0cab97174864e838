// Package tiles makes Mapbox vector tiles (MVT v2) of grids from the in-memory resolution index:
// one tile layer per level of the comprehensive layer, one for special grids, one per thematic
// layer, and a layer of label points. It keeps a bounded LRU cache of encoded tiles and drops
// exactly the tiles a change of grids or staff can alter. It knows nothing of HTTP.
package tiles

import (
	"sort"

	"gridline.dev/gridline"
)

// MaxZoom is the deepest zoom any layer is served at.
const MaxZoom = 22

// Names of the fixed tile layers.
const (
	LayerDistricts    = "districts"
	LayerSubdistricts = "subdistricts"
	LayerCommunities  = "communities"
	LayerGrids        = "grids"
	LayerMicros       = "micros"
	LayerSpecial      = "special"
	LayerLabels       = "labels"
)

// thematicMinZoom is where every thematic layer (police ...) starts.
const thematicMinZoom = 10

// LayerSpec describes one tile layer.
type LayerSpec struct {
	Name        string
	MinZoom     int
	MaxZoom     int
	Description string
}

// fixedLayers are the polygon layers every deployment has, in drawing order (largest first).
var fixedLayers = []LayerSpec{
	// Districts from z5, where a county of 1,000 km² is a few pixels wide: a data set of districts
	// alone (a national county set) is drawn, not blank (issue #11).
	{LayerDistricts, 5, MaxZoom, "districts (区/县) of the comprehensive layer"},
	{LayerSubdistricts, 8, MaxZoom, "subdistricts (街道/乡镇) of the comprehensive layer"},
	{LayerCommunities, 10, MaxZoom, "communities (社区/村) of the comprehensive layer"},
	{LayerGrids, 12, MaxZoom, "basic grids (基础网格) of the comprehensive layer"},
	{LayerMicros, 15, MaxZoom, "micro grids (微网格)"},
	{LayerSpecial, 13, MaxZoom, "special grids (专属网格) around one institution; kind says which"},
}

// outlines are the widths, in screen pixels, of the outlines the default style (Style) draws for
// each polygon layer; every thematic layer's is thematicOutline.
var outlines = map[string]float64{
	LayerDistricts: 3.0, LayerSubdistricts: 2.5, LayerCommunities: 1.8, LayerGrids: 1.0, LayerMicros: 0.6, LayerSpecial: 1.2,
}

const thematicOutline = 1.4

func outlineOf(layer string) float64 {
	if w, ok := outlines[layer]; ok {
		return w
	}
	return thematicOutline
}

// reachOf is how far outside a tile (extent units) a polygon of the layer may lie and still paint
// a pixel of it: half the layer's outline and the half pixel over which MapLibre antialiases a
// line's edge. A polygon wholly farther out paints nothing there (MapLibre clips each tile's
// drawing to the tile) and is left out of the tile, as tegola leaves out everything outside it.
// The web map draws its wider selection outline from the grid's own GeoJSON, not from tiles.
func reachOf(layer string) float64 {
	return (outlineOf(layer)/2 + 0.5) * Extent / TilePixels
}

func isFixed(name string) bool {
	if name == LayerLabels {
		return true
	}
	for _, l := range fixedLayers {
		if l.Name == name {
			return true
		}
	}
	return false
}

// tileLayerOf is the polygon tile layer a grid version is drawn in, or "" for none (thematic
// layers whose name clashes with a fixed layer).
func tileLayerOf(g *gridline.Grid) string {
	switch g.Layer {
	case gridline.LayerComprehensive:
		switch g.Level {
		case gridline.LevelDistrict:
			return LayerDistricts
		case gridline.LevelSubdistrict:
			return LayerSubdistricts
		case gridline.LevelCommunity:
			return LayerCommunities
		case gridline.LevelGrid:
			return LayerGrids
		case gridline.LevelMicro:
			return LayerMicros
		}
		return ""
	case gridline.LayerSpecial:
		return LayerSpecial
	}
	if isFixed(string(g.Layer)) {
		return ""
	}
	return string(g.Layer)
}

// fieldsOf are the properties of every feature, as TileJSON vector_layers describe them.
var polygonFields = map[string]string{
	"code": "String: 网格编码 (the grid's stable id is the feature id)",
	"name": "String", "level": "String: district, subdistrict, community, grid or micro", "layer": "String: comprehensive, special or a thematic layer",
	"kind": "String: special grids only (school, hospital ...)", "households": "Number", "population": "Number",
	"staffed": "Boolean: the grid's primary post is filled on the date asked", "version": "Number: the boundary version",
}

func labelFields() map[string]string {
	m := map[string]string{"polygon_layer": "String: the tile layer of the polygon this point labels"}
	for k, v := range polygonFields {
		m[k] = v
	}
	return m
}

// specs lists every layer the source can serve: the fixed ones, the thematic layers present, and
// labels, whose zoom range spans every polygon layer's.
func specsFor(thematic []string) []LayerSpec {
	out := append([]LayerSpec(nil), fixedLayers...)
	sort.Strings(thematic)
	for _, t := range thematic {
		out = append(out, LayerSpec{t, thematicMinZoom, MaxZoom, "thematic layer " + t})
	}
	min := MaxZoom
	for _, l := range out {
		if l.MinZoom < min {
			min = l.MinZoom
		}
	}
	out = append(out, LayerSpec{LayerLabels, min, MaxZoom, "label points at each polygon's pole of inaccessibility, shown over the zoom range of the polygon's layer"})
	return out
}

// PolygonLayer is a polygon tile layer and the grids it draws, described without SQL for tools
// that cut the same layers from the grids table directly (the tegola configuration, the PostGIS
// tiles tests and benchmarks compare with); package store writes their SQL.
type PolygonLayer struct {
	Spec  LayerSpec
	Layer gridline.Layer // the grids' layer
	Level gridline.Level // the grids' level, or "" for every level of Layer
}

// fixedGrids are the grids each fixed polygon layer draws: the rule of tileLayerOf, per layer.
var fixedGrids = map[string]struct {
	layer gridline.Layer
	level gridline.Level
}{
	LayerDistricts:    {gridline.LayerComprehensive, gridline.LevelDistrict},
	LayerSubdistricts: {gridline.LayerComprehensive, gridline.LevelSubdistrict},
	LayerCommunities:  {gridline.LayerComprehensive, gridline.LevelCommunity},
	LayerGrids:        {gridline.LayerComprehensive, gridline.LevelGrid},
	LayerMicros:       {gridline.LayerComprehensive, gridline.LevelMicro},
	LayerSpecial:      {gridline.LayerSpecial, ""},
}

// PolygonLayers are the polygon layers a Tileset over grids of the given thematic layers serves,
// in drawing order: the fixed layers, then the thematic ones by name. A thematic layer whose name
// is a fixed layer's is left out, as tileLayerOf leaves its grids out.
func PolygonLayers(thematic []gridline.Layer) []PolygonLayer {
	var names []string
	for _, t := range thematic {
		if t.Thematic() && !isFixed(string(t)) {
			names = append(names, string(t))
		}
	}
	var out []PolygonLayer
	for _, sp := range specsFor(names) {
		if sp.Name == LayerLabels {
			continue
		}
		if f, ok := fixedGrids[sp.Name]; ok {
			out = append(out, PolygonLayer{sp, f.layer, f.level})
		} else {
			out = append(out, PolygonLayer{sp, gridline.Layer(sp.Name), ""})
		}
	}
	return out
}
