package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

// The SQL of tools that cut vector tiles from the grids table itself rather than from the
// in-memory index: the tegola configuration `gridline tegola-config` writes, and the plain
// ST_AsMVT query (what pg_tileserv and Martin run) that tests and benchmarks compare gridline's
// tiles with. Package tiles describes the layers (tiles.PolygonLayers); cmd/gridline and the
// benchmarks hand that description over as TileLayers.

// TileLayer is a polygon tile layer drawn from the grids table: the versions of one layer, and of
// one level of it unless Level is empty, at zooms MinZoom to MaxZoom.
type TileLayer struct {
	Name             string
	MinZoom, MaxZoom int
	Layer            gridline.Layer
	Level            gridline.Level // "" for every level of Layer
}

// ThematicLayers are the thematic layers (neither comprehensive nor special) that any grid
// version belongs to, by name.
func (db *DB) ThematicLayers(ctx context.Context) ([]gridline.Layer, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT layer FROM grids WHERE layer NOT IN ('comprehensive', 'special') ORDER BY layer`)
	if err != nil {
		return nil, classify(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, classify(err)
	}
	out := make([]gridline.Layer, len(names))
	for i, n := range names {
		out[i] = gridline.Layer(n)
	}
	return out, nil
}

// DistrictExtent is the bounding box of every district version; ok is false when there is none.
func (db *DB) DistrictExtent(ctx context.Context) (b orb.Bound, ok bool, err error) {
	var x0, y0, x1, y1 *float64
	err = db.pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM grids WHERE level = 'district') q`).
		Scan(&x0, &y0, &x1, &y1)
	if err != nil || x0 == nil {
		return b, false, classify(err)
	}
	return orb.Bound{Min: orb.Point{*x0, *y0}, Max: orb.Point{*x1, *y1}}, true, nil
}

// tileLayerCond is the condition on a grids row (columns prefixed with prefix: "" or "g.") that
// selects the features of layer l.
func tileLayerCond(prefix string, l TileLayer) string {
	c := prefix + "layer = " + sqlLiteral(string(l.Layer))
	if l.Level != "" {
		c += " AND " + prefix + "level = " + sqlLiteral(string(l.Level))
	}
	return c
}

// staffedSQL is a boolean SQL expression for the staffed property of a feature: whether the
// primary post (gridline.PrimaryPost) of the grids row named by alias is held on the SQL date
// expression at. Both arguments are SQL written in this file, never user input.
func staffedSQL(alias, at string) string {
	role := func(level gridline.Level, layer gridline.Layer) string {
		return sqlLiteral(string(gridline.PrimaryPost(level, layer)))
	}
	is := func(col, v string) string { return alias + "." + col + " = " + sqlLiteral(v) }
	// The branches in PrimaryPost's order.
	return "EXISTS (SELECT 1 FROM assignments a WHERE a.grid_id = " + alias + ".id AND a.role = CASE" +
		" WHEN " + is("layer", string(gridline.LayerPolice)) + " THEN " + role(gridline.LevelGrid, gridline.LayerPolice) +
		" WHEN " + is("layer", string(gridline.LayerSpecial)) + " THEN " + role(gridline.LevelGrid, gridline.LayerSpecial) +
		" WHEN " + is("level", string(gridline.LevelGrid)) + " THEN " + role(gridline.LevelGrid, gridline.LayerComprehensive) +
		" WHEN " + is("level", string(gridline.LevelMicro)) + " THEN " + role(gridline.LevelMicro, gridline.LayerComprehensive) +
		" ELSE " + role(gridline.LevelCommunity, gridline.LayerComprehensive) + " END" +
		" AND a.valid_from <= " + at + " AND (a.valid_to IS NULL OR a.valid_to > " + at + "))"
}

// TegolaLayerSQL is the sql of a tegola (v0.21, mvt_postgis provider) layer serving l from the
// grids table with the same properties as gridline's features, for the versions valid today. The
// !BBOX! token is in 4326 to use the GiST index on geom; geometry and box are moved to 3857 for
// ST_AsMVTGeom, as tegola's documentation prescribes for 4326 data. kind is there only where there
// is one (tegola leaves NULL out of the tile), staffed as package tiles defines it.
func TegolaLayerSQL(l TileLayer) string {
	return "SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_Transform(!BBOX!, 3857)) AS geom, id AS gid, code, name, level, layer, households, population, version, NULLIF(kind, '') AS kind, " +
		staffedSQL("grids", "current_date") + " AS staffed FROM grids WHERE " + tileLayerCond("", l) +
		" AND valid_from <= current_date AND (valid_to IS NULL OR valid_to > current_date) AND geom && !BBOX!"
}

// PlainTiles cuts vector tiles of some layers straight from the grids table with the plain query
// pg_tileserv and Martin run: ST_AsMVTGeom and ST_AsMVT over ST_TileEnvelope, one ST_AsMVT per
// layer, concatenated (a tile is a sequence of layers). It is the reference gridline's own tiles
// are measured and tested against. Make one with DB.PlainTiles.
type PlainTiles struct {
	db  *DB
	sql string
}

// PlainTiles prepares the plain query over layers, each served at its zooms. With props, its
// features carry the same properties as gridline's: kind only where there is one (ST_AsMVT leaves
// NULLs out), staffed as package tiles defines it; without, only the table's own columns (no
// staffed subquery), the query as the benchmarks first ran it, kept as a speed reference.
func (db *DB) PlainTiles(layers []TileLayer, props bool) *PlainTiles {
	extra := ""
	if props {
		extra = `NULLIF(g.kind, '') AS kind, ` + staffedSQL("g", "$4::date") + ` AS staffed,`
	}
	var which, mvts []string
	for _, l := range layers {
		which = append(which, fmt.Sprintf("(%s AND $1 BETWEEN %d AND %d)", tileLayerCond("g.", l), l.MinZoom, l.MaxZoom))
		mvts = append(mvts, fmt.Sprintf("coalesce((SELECT ST_AsMVT(f.*, %s, 4096, 'geom', 'id') FROM f WHERE %s), '')", sqlLiteral(l.Name), tileLayerCond("", l)))
	}
	if len(layers) == 0 {
		which, mvts = []string{"false"}, []string{"''::bytea"}
	}
	// The query box is the tile with its buffer, transformed to 4326 (not the column to 3857) so
	// that the GiST index on geom is used; the clip envelope is the tile itself.
	sql := `
WITH b AS (SELECT ST_TileEnvelope($1, $2, $3) AS env,
                  ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0/4096), 4326) AS q),
f AS (SELECT g.id, g.code, g.name, g.level, g.layer, g.households, g.population, g.version,
             ` + extra + `
             ST_AsMVTGeom(ST_Transform(g.geom, 3857), b.env, 4096, 64, true) AS geom
        FROM grids g, b
       WHERE g.geom && b.q AND g.valid_from <= $4::date AND (g.valid_to IS NULL OR g.valid_to > $4::date)
         AND (` + strings.Join(which, "\n           OR ") + `))
SELECT ` + strings.Join(mvts, "\n    || ")
	return &PlainTiles{db: db, sql: sql}
}

// Tile is tile z/x/y of the versions valid on date at: the layers' MVT bytes one after another,
// empty where no feature falls.
func (p *PlainTiles) Tile(ctx context.Context, z, x, y int, at time.Time) ([]byte, error) {
	var tile []byte
	err := p.db.pool.QueryRow(ctx, p.sql, z, x, y, at).Scan(&tile)
	return tile, classify(err)
}
