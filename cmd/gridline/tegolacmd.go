package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

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
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT layer FROM grids WHERE layer NOT IN ('comprehensive', 'special') ORDER BY layer`)
	if err != nil {
		return err
	}
	var thematic []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return err
		}
		thematic = append(thematic, l)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	type layer struct {
		name, where string
		min, max    int
	}
	var layers []layer
	for _, l := range tiles.PolygonLayers() {
		layers = append(layers, layer{l.Spec.Name, l.Where, l.Spec.MinZoom, l.Spec.MaxZoom})
	}
	for _, t := range thematic {
		// Layer names come from a CHECK constraint ([a-z][a-z0-9_]*), so quoting them is safe.
		layers = append(layers, layer{t, "layer = '" + t + "'", tiles.ThematicMinZoom, tiles.MaxZoom})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# tegola configuration for gridline, written by `gridline tegola-config`.\n")
	fmt.Fprintf(&b, "# Same table and layers as gridline's /tiles; boundaries valid today (gridline also serves ?at=).\n")
	fmt.Fprintf(&b, "[webserver]\nport = %q\n\n", *port)
	fmt.Fprintf(&b, "[[providers]]\nname = \"gridline\"\ntype = \"mvt_postgis\"\nuri = %q\nsrid = 4326\n", db.URL())
	for _, l := range layers {
		// The !BBOX! token is in 4326 to use the GiST index on geom; geometry and box are moved to
		// 3857 for ST_AsMVTGeom, as tegola's documentation prescribes for 4326 data.
		fmt.Fprintf(&b, "\n  [[providers.layers]]\n  name = %q\n  geometry_type = \"MultiPolygon\"\n  id_fieldname = \"gid\"\n  srid = 4326\n", l.name)
		// The same properties as gridline's features: kind only where there is one (NULL is left
		// out of the tile), staffed as the tiles package defines it.
		fmt.Fprintf(&b, "  sql = \"SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_Transform(!BBOX!, 3857)) AS geom, id AS gid, code, name, level, layer, households, population, version, NULLIF(kind, '') AS kind, %s AS staffed FROM grids WHERE %s AND valid_from <= current_date AND (valid_to IS NULL OR valid_to > current_date) AND geom && !BBOX!\"\n", tiles.StaffedSQL("grids", "current_date"), l.where)
	}
	fmt.Fprintf(&b, "\n[[maps]]\nname = \"gridline\"\n")
	for _, l := range layers {
		fmt.Fprintf(&b, "\n  [[maps.layers]]\n  provider_layer = \"gridline.%s\"\n  min_zoom = %d\n  max_zoom = %d\n", l.name, l.min, l.max)
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}
