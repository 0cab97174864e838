package tiles

import "fmt"

// StyleSource is one vector source of a style: a TileJSON URL and the layers it serves.
type StyleSource struct {
	URL    string
	Layers []LayerSpec
}

// Style is a MapLibre GL style (version 8) drawing the layers of the given sources (each a
// TileJSON URL; more than one when there are more layers than one tile may combine), with no external basemap: fills and outlines by level, special and thematic grids
// on top, and label points as circles.
//
// Text labels need glyphs (PBF font ranges) that gridline does not serve, and the style must work
// offline, so it carries no "glyphs" and no text: the labels layer is drawn as points whose
// properties (name, code) a client can show on hover or with its own glyphs.
func Style(sources []StyleSource) map[string]any {
	type paint = map[string]any
	out := []map[string]any{{"id": "background", "type": "background", "paint": paint{"background-color": "#f4f1ea"}}}
	fill := map[string]string{
		LayerDistricts: "#ece4f2", LayerSubdistricts: "#d9e4f5", LayerCommunities: "#e6f0d8", LayerGrids: "#fbe8c8", LayerMicros: "#f7d6d0", LayerSpecial: "#c9b3e6",
	}
	// Outline widths are outlineOf's: a tile leaves out polygons too far off to paint a pixel of
	// their outline (reachOf).
	line := map[string]string{
		LayerDistricts: "#5c2d91", LayerSubdistricts: "#1f4e9c", LayerCommunities: "#3a7d2c", LayerGrids: "#c27c0e", LayerMicros: "#b5483b", LayerSpecial: "#6a3fa0",
	}
	srcOf := map[string]string{}
	var layers []LayerSpec
	srcs := map[string]any{}
	for i, s := range sources {
		id := fmt.Sprintf("gridline-%d", i)
		srcs[id] = map[string]any{"type": "vector", "url": s.URL}
		for _, l := range s.Layers {
			srcOf[l.Name] = id
			layers = append(layers, l)
		}
	}
	for _, l := range layers {
		if l.Name == LayerLabels {
			continue
		}
		fc, ok := fill[l.Name]
		lc, ok2 := line[l.Name]
		opacity := 0.35
		if !ok || !ok2 {
			// A thematic layer: outline only, dashed, so it reads over the comprehensive grids.
			fc, lc, opacity = "#0b7285", "#0b7285", 0.0
		}
		fillPaint := paint{"fill-color": fc, "fill-opacity": opacity}
		if l.Name == LayerGrids || l.Name == LayerMicros {
			// Vacant grids (primary post not filled) stand out.
			fillPaint["fill-color"] = []any{"case", []any{"get", "staffed"}, fc, "#f08c8c"}
		}
		out = append(out, map[string]any{"id": l.Name + "-fill", "type": "fill", "source": srcOf[l.Name], "source-layer": l.Name,
			"minzoom": l.MinZoom, "paint": fillPaint})
		lp := paint{"line-color": lc, "line-width": outlineOf(l.Name)}
		if opacity == 0 {
			lp["line-dasharray"] = []any{3, 2}
		}
		out = append(out, map[string]any{"id": l.Name + "-line", "type": "line", "source": srcOf[l.Name], "source-layer": l.Name,
			"minzoom": l.MinZoom, "paint": lp})
	}
	for _, l := range layers {
		if l.Name == LayerLabels {
			out = append(out, map[string]any{"id": "labels-point", "type": "circle", "source": srcOf[l.Name], "source-layer": LayerLabels,
				"minzoom": l.MinZoom, "paint": paint{
					"circle-radius":       []any{"match", []any{"get", "level"}, "district", 6, "subdistrict", 5, "community", 4, "grid", 3, 2},
					"circle-color":        []any{"case", []any{"get", "staffed"}, "#2b8a3e", "#c92a2a"},
					"circle-stroke-color": "#ffffff", "circle-stroke-width": 1,
				}})
		}
	}
	return map[string]any{
		"version": 8,
		"name":    "gridline default",
		"metadata": map[string]any{
			"gridline:note": "no glyphs are served, so labels are drawn as points without text; add a \"glyphs\" URL and a symbol layer on source-layer \"labels\" to show names",
		},
		"sources": srcs,
		"layers":  out,
	}
}
