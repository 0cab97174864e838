package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gridline.dev/gridline"
)

// Transform converts points from EPSG:srid to WGS84 (EPSG:4326) through PostGIS (PROJ), in one
// query for the whole batch. An srid PostGIS does not know is an unknown_crs error.
func (db *DB) Transform(ctx context.Context, srid int, xs, ys []float64) ([]float64, []float64, error) {
	return db.transform(ctx, srid, 4326, srid, xs, ys)
}

// TransformFromWGS84 converts WGS84 points to EPSG:srid, as Transform does the other way.
func (db *DB) TransformFromWGS84(ctx context.Context, srid int, lon, lat []float64) ([]float64, []float64, error) {
	return db.transform(ctx, 4326, srid, srid, lon, lat)
}

func (db *DB) transform(ctx context.Context, from, to, srid int, xs, ys []float64) ([]float64, []float64, error) {
	if err := db.knownSRID(ctx, srid); err != nil {
		return nil, nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT ST_X(p), ST_Y(p) FROM (
		SELECT ST_Transform(ST_SetSRID(ST_MakePoint(x, y), $1), $4::int) AS p, n
		FROM unnest($2::float8[], $3::float8[]) WITH ORDINALITY AS t(x, y, n)) q ORDER BY n`, from, xs, ys, to)
	if err != nil {
		return nil, nil, transformError(srid, err)
	}
	defer rows.Close()
	lon, lat := make([]float64, 0, len(xs)), make([]float64, 0, len(xs))
	for rows.Next() {
		var x, y float64
		if err := rows.Scan(&x, &y); err != nil {
			return nil, nil, classify(err)
		}
		lon, lat = append(lon, x), append(lat, y)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, transformError(srid, err)
	}
	return lon, lat, nil
}

// transformError is what a failed Transform query means. PostGIS refuses a point PROJ cannot
// transform (outside the coordinate system's area, say) with XX000, which anywhere else is a bug:
// here the transformation is the query's only PostGIS call, so XX000, like a data exception
// (class 22), is the caller's coordinate. A lost connection or a timeout is the database's.
func transformError(srid int, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "XX000" || strings.HasPrefix(pe.Code, "22")) {
		// PostGIS's text (its SQLSTATE, PROJ's words) is for no one: say what to check.
		return gridline.Errorf(gridline.EInvalidCoord, "cannot transform from EPSG:%d: a point is outside the area that coordinate system covers, or not in its units (metres for a projected system, degrees for a geographic one)", srid).With("crs", fmt.Sprintf("EPSG:%d", srid))
	}
	return classify(err)
}

// KnownSRID fails with unknown_crs for an EPSG code PostGIS does not know: an export or a
// transformation to it could only fail later, deeper and less clearly.
func (db *DB) KnownSRID(ctx context.Context, srid int) error { return db.knownSRID(ctx, srid) }

// knownSRID fails with unknown_crs for an SRID that spatial_ref_sys lacks. Known ones are
// remembered (PostGIS does not drop SRIDs), so only the first request for a code pays the query.
func (db *DB) knownSRID(ctx context.Context, srid int) error {
	if _, ok := db.srids.Load(srid); ok {
		return nil
	}
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)`, srid).Scan(&ok)
	if err != nil {
		return classify(err)
	}
	if ok {
		db.srids.Store(srid, true)
	}
	if !ok {
		return &gridline.Error{Code: gridline.EInvalidCRS, Message: fmt.Sprintf("EPSG:%d is not a coordinate system PostGIS knows", srid), Details: map[string]any{"crs": fmt.Sprintf("EPSG:%d", srid)}}
	}
	return nil
}

// Covering lists the version ids of the grid versions whose geometry covers the WGS84 point, by
// PostGIS ST_Covers with the GiST index: the per-request query the in-memory index replaces.
func (db *DB) Covering(ctx context.Context, lon, lat float64) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT version_id FROM grids WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))`, lon, lat)
	if err != nil {
		return nil, classify(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, classify(err)
}

// Projected reports whether EPSG:srid is a projected system (metres or feet), not lon/lat.
func (db *DB) Projected(ctx context.Context, srid int) (bool, error) {
	if err := db.knownSRID(ctx, srid); err != nil {
		return false, err
	}
	var p bool
	err := db.pool.QueryRow(ctx, `SELECT coalesce(proj4text, '') NOT LIKE '%+proj=longlat%' AND srtext NOT LIKE 'GEOGCS%' AND srtext NOT LIKE 'GEOGCRS%'
		FROM spatial_ref_sys WHERE srid = $1`, srid).Scan(&p)
	return p, classify(err)
}
