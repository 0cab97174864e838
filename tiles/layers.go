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
	{LayerSubdistricts, 8, MaxZoom, "subdistricts (街道/乡镇) of the comprehensive layer"},
	{LayerCommunities, 10, MaxZoom, "communities (社区/村) of the comprehensive layer"},
	{LayerGrids, 12, MaxZoom, "basic grids (基础网格) of the comprehensive layer"},
	{LayerMicros, 15, MaxZoom, "micro grids (微网格)"},
	{LayerSpecial, 13, MaxZoom, "special grids (专属网格) around one institution; kind says which"},
}

// outlines are the widths, in screen pixels, of the outlines the default style (Style) draws for
// each polygon layer; every thematic layer's is thematicOutline.
var outlines = map[string]float64{
	LayerSubdistricts: 2.5, LayerCommunities: 1.8, LayerGrids: 1.0, LayerMicros: 0.6, LayerSpecial: 1.2,
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

// tileLayerOf is the polygon tile layer a grid version is drawn in, or "" for none (districts,
// and thematic layers whose name clashes with a fixed layer).
func tileLayerOf(g *gridline.Grid) string {
	switch g.Layer {
	case gridline.LayerComprehensive:
		switch g.Level {
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
	"name": "String", "level": "String: subdistrict, community, grid or micro", "layer": "String: comprehensive, special or a thematic layer",
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

// PolygonLayers are the fixed polygon layers with their zoom ranges, and for each the SQL
// condition on the grids table that selects its features (for tools that read the table
// directly, such as the tegola configuration).
func PolygonLayers() []struct {
	Spec  LayerSpec
	Where string
} {
	out := []struct {
		Spec  LayerSpec
		Where string
	}{}
	for _, l := range fixedLayers {
		var where string
		switch l.Name {
		case LayerSubdistricts:
			where = "layer = 'comprehensive' AND level = 'subdistrict'"
		case LayerCommunities:
			where = "layer = 'comprehensive' AND level = 'community'"
		case LayerGrids:
			where = "layer = 'comprehensive' AND level = 'grid'"
		case LayerMicros:
			where = "layer = 'comprehensive' AND level = 'micro'"
		case LayerSpecial:
			where = "layer = 'special'"
		}
		out = append(out, struct {
			Spec  LayerSpec
			Where string
		}{l, where})
	}
	return out
}

// ThematicMinZoom is where thematic layers (police ...) start.
const ThematicMinZoom = thematicMinZoom

// StaffedSQL is a boolean SQL expression for the staffed property of a feature, for tools that
// cut tiles from the grids table directly (the tegola configuration, the benchmark's plain
// ST_AsMVT query): whether the primary post (gridline.PrimaryPost) of the grids row named by
// alias is held on the SQL date expression at. Both arguments are SQL written by the caller,
// never user input.
func StaffedSQL(alias, at string) string {
	role := func(level gridline.Level, layer gridline.Layer) string {
		return "'" + string(gridline.PrimaryPost(level, layer)) + "'"
	}
	is := func(col, v string) string { return alias + "." + col + " = '" + v + "'" }
	// The branches in PrimaryPost's order.
	return "EXISTS (SELECT 1 FROM assignments a WHERE a.grid_id = " + alias + ".id AND a.role = CASE" +
		" WHEN " + is("layer", string(gridline.LayerPolice)) + " THEN " + role(gridline.LevelGrid, gridline.LayerPolice) +
		" WHEN " + is("layer", string(gridline.LayerSpecial)) + " THEN " + role(gridline.LevelGrid, gridline.LayerSpecial) +
		" WHEN " + is("level", string(gridline.LevelGrid)) + " THEN " + role(gridline.LevelGrid, gridline.LayerComprehensive) +
		" WHEN " + is("level", string(gridline.LevelMicro)) + " THEN " + role(gridline.LevelMicro, gridline.LayerComprehensive) +
		" ELSE " + role(gridline.LevelCommunity, gridline.LayerComprehensive) + " END" +
		" AND a.valid_from <= " + at + " AND (a.valid_to IS NULL OR a.valid_to > " + at + "))"
}
