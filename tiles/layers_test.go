package tiles

import (
	"reflect"
	"testing"

	"gridline.dev/gridline"
)

// TestPolygonLayers checks the description of the polygon layers that store turns into SQL: the
// layers a Tileset serves, in its order, each selecting exactly the grids tileLayerOf puts in it.
func TestPolygonLayers(t *testing.T) {
	got := PolygonLayers([]gridline.Layer{"water", gridline.LayerPolice, gridline.LayerComprehensive, "grids"})
	var names []string
	for _, l := range got {
		names = append(names, l.Spec.Name)
	}
	// "grids" as a thematic layer would clash with the fixed layer: tileLayerOf draws it nowhere.
	want := []string{LayerDistricts, LayerSubdistricts, LayerCommunities, LayerGrids, LayerMicros, LayerSpecial, "police", "water"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("layers %v, want %v", names, want)
	}
	for _, l := range got {
		if l.Spec.MinZoom <= 0 || l.Spec.MaxZoom != MaxZoom {
			t.Errorf("%s: zooms %d-%d", l.Spec.Name, l.Spec.MinZoom, l.Spec.MaxZoom)
		}
	}
	for _, layer := range []gridline.Layer{gridline.LayerComprehensive, gridline.LayerSpecial, gridline.LayerPolice, "water", "grids"} {
		for _, level := range gridline.Levels {
			g := &gridline.Grid{Layer: layer, Level: level}
			var selected []string
			for _, l := range got {
				if l.Layer == layer && (l.Level == "" || l.Level == level) {
					selected = append(selected, l.Spec.Name)
				}
			}
			switch draw := tileLayerOf(g); {
			case draw == "" && len(selected) != 0, draw != "" && !reflect.DeepEqual(selected, []string{draw}):
				t.Errorf("%s %s: drawn in %q, selected by %v", layer, level, draw, selected)
			}
		}
	}
}
