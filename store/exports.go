package store

import (
	"context"
	"time"

	"gridline.dev/gridline"
)

// ExportFilter selects the grids an export writes. Zero fields do not filter, except At.
type ExportFilter struct {
	Level gridline.Level
	Layer gridline.Layer
	At    time.Time // versions valid on this date (required)
}

// StageExport copies the grids f selects into staging table name (export_<id>), with the columns
// an export file carries, for ogr2ogr to read: a table and not a query, because ogr2ogr's -sql
// cannot take parameters. Parents come before their children. It returns the number of rows.
// Column names are at most 10 characters, which is what a Shapefile keeps.
func (db *DB) StageExport(ctx context.Context, name string, f ExportFilter) (int, error) {
	t, err := stagingTable(name)
	if err != nil {
		return 0, err
	}
	tag, err := db.pool.Exec(ctx, `CREATE UNLOGGED TABLE `+t+` AS
		SELECT row_number() OVER (ORDER BY `+levelRank("g.level")+`, g.layer, g.code)::int AS ogc_fid,
			g.code, g.name, g.level, g.layer, g.kind, coalesce(p.code, '') AS parent,
			g.households, g.population, g.valid_from::text AS valid_from, coalesce(g.valid_to::text, '') AS valid_to,
			g.bound_east AS b_east, g.bound_south AS b_south, g.bound_west AS b_west, g.bound_north AS b_north,
			g.geom
		FROM grids g LEFT JOIN grids p ON p.id = g.parent_id AND p.valid_from <= $1 AND (p.valid_to IS NULL OR p.valid_to > $1)
		WHERE g.valid_from <= $1 AND (g.valid_to IS NULL OR g.valid_to > $1)
		AND ($2 = '' OR g.level = $2) AND ($3 = '' OR g.layer = $3)
		ORDER BY 1`, f.At, string(f.Level), string(f.Layer))
	if err != nil {
		return 0, classify(err)
	}
	// The primary key is what ogr2ogr takes as the feature id instead of writing it as a column.
	if _, err := db.pool.Exec(ctx, `ALTER TABLE `+t+` ADD PRIMARY KEY (ogc_fid)`); err != nil {
		return 0, classify(err)
	}
	return int(tag.RowsAffected()), nil
}
