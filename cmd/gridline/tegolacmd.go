package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"gridline.dev/gridline/store"
	"gridline.dev/gridline/tiles"
)

// tegolaConfig writes a tegola (v0.21, mvt_postgis provider) configuration that serves the same
// layers from the same table, for operators who want tegola beside gridline. The thematic layers
// are read from the database, so the configuration matches the data it is written for.
func tegolaConfig(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tegola-config", flag.ContinueOnError)
	port := fs.String("port", ":9090", "tegola's listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	thematic, err := db.ThematicLayers(ctx)
	if err != nil {
		return err
	}
	var layers []store.TileLayer
	for _, l := range tiles.PolygonLayers(thematic) {
		layers = append(layers, store.TileLayer{Name: l.Spec.Name, MinZoom: l.Spec.MinZoom, MaxZoom: l.Spec.MaxZoom, Layer: l.Layer, Level: l.Level})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# tegola configuration for gridline, written by `gridline tegola-config`.\n")
	fmt.Fprintf(&b, "# Same table and layers as gridline's /tiles; boundaries valid today (gridline also serves ?at=).\n")
	fmt.Fprintf(&b, "[webserver]\nport = %q\n\n", *port)
	fmt.Fprintf(&b, "[[providers]]\nname = \"gridline\"\ntype = \"mvt_postgis\"\nuri = %q\nsrid = 4326\n", db.URL())
	for _, l := range layers {
		fmt.Fprintf(&b, "\n  [[providers.layers]]\n  name = %q\n  geometry_type = \"MultiPolygon\"\n  id_fieldname = \"gid\"\n  srid = 4326\n", l.Name)
		fmt.Fprintf(&b, "  sql = %q\n", store.TegolaLayerSQL(l))
	}
	fmt.Fprintf(&b, "\n[[maps]]\nname = \"gridline\"\n")
	for _, l := range layers {
		fmt.Fprintf(&b, "\n  [[maps.layers]]\n  provider_layer = \"gridline.%s\"\n  min_zoom = %d\n  max_zoom = %d\n", l.Name, l.MinZoom, l.MaxZoom)
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}
