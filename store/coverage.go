package store

import (
	"context"
	"fmt"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridline.dev/gridline/coverage"
)

// measureSQL measures the families a coverage audit could not prove clean in Go (see package
// coverage). The geometries come as arguments, not from the grids table, so that the audit
// measures exactly the versions its index holds (and a draft or an import can be measured before
// it is written).
//
// $1 family, $2 index position, $3 whether the member is the family's parent, $4 WKB; $5 the area
// (m²) under which a piece is noise; $6-$9 each family's window (xmin, ymin, xmax, ymax, by family
// number + 1): gaps are looked for in the parent's part inside it (see coverage.Family). Invalid geometries are repaired with ST_MakeValid (keeping
// their polygons) so that the rest is still measured, and reported with their reason. Areas are
// on the spheroid (geography); widths are twice the radius of the largest inscribed circle, as GEOS
// and QGIS measure slivers, in metres: the piece scaled by the spheroid's metres per degree at a
// point of it (exact to well under 1% over a piece's extent; ST_Transform to the UTM zone gave the
// same widths at twice the cost of the whole measurement, PROJ's per-call overhead). A gap names the children within a
// centimetre of it (1e-7 degrees).
const measureSQL = `
WITH m AS MATERIALIZED (
    SELECT u.f, u.k, u.p, x.g0, x.ok,
        CASE WHEN x.ok THEN x.g0 ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(x.g0), 3)) END AS g
    FROM unnest($1::int[], $2::int[], $3::bool[], $4::bytea[]) AS u(f, k, p, w),
    LATERAL (SELECT ST_GeomFromWKB(u.w, 4326) AS g0) g,
    LATERAL (SELECT g.g0 AS g0, ST_IsValid(g.g0) AS ok) x
), par AS (
    SELECT f, k, g, ST_Intersection(g, ST_MakeEnvelope(($6::float8[])[f + 1], ($7::float8[])[f + 1],
        ($8::float8[])[f + 1], ($9::float8[])[f + 1], 4326)) AS gw
    FROM m WHERE p
), kids AS (
    SELECT f, k, g FROM m WHERE NOT p
), gaps AS (
    SELECT par.f, -1 AS a, -1 AS b, (ST_Dump(ST_Difference(par.gw, u.g))).geom AS g
    FROM par CROSS JOIN LATERAL (SELECT ST_Union(kids.g) AS g FROM kids WHERE kids.f = par.f) u
    WHERE u.g IS NOT NULL
), pairs AS (
    SELECT a.f, a.k AS a, b.k AS b, ST_CollectionExtract(ST_Intersection(a.g, b.g), 3) AS g
    FROM kids a JOIN kids b ON a.f = b.f AND a.k < b.k AND a.g && b.g AND ST_Relate(a.g, b.g, '2********')
), outside AS (
    SELECT c.f, c.k AS a, -1 AS b, ST_CollectionExtract(ST_Difference(c.g, par.g), 3) AS g
    FROM kids c JOIN par ON par.f = c.f
    WHERE NOT ST_CoveredBy(c.g, par.g)
), pieces AS (
    SELECT 'gap' AS kind, * FROM gaps
    UNION ALL SELECT 'overlap', * FROM pairs
    UNION ALL SELECT 'outside', * FROM outside
), measured AS (
    SELECT pieces.*, ST_Area(pieces.g::geography) AS area FROM pieces WHERE NOT ST_IsEmpty(pieces.g)
)
SELECT kind, f, a, b, '' AS reason, area,
    2 * (ST_MaximumInscribedCircle(ST_Scale(g,
        111412.84 * cos(radians(ST_Y(c))) - 93.5 * cos(3 * radians(ST_Y(c))),
        111132.954 - 559.822 * cos(2 * radians(ST_Y(c))) + 1.175 * cos(4 * radians(ST_Y(c)))))).radius,
    ST_AsBinary(g),
    CASE WHEN kind = 'gap' THEN ARRAY(SELECT kids.k FROM kids WHERE kids.f = measured.f AND ST_DWithin(kids.g, measured.g, 1e-7) ORDER BY kids.k)
         ELSE '{}'::int[] END
FROM measured, LATERAL (SELECT ST_PointOnSurface(measured.g) AS c) pt
WHERE area > $5
UNION ALL
SELECT 'invalid', f, k, -1, ST_IsValidReason(g0), 0, 0, NULL, '{}'::int[] FROM m WHERE NOT ok`

// Measure implements coverage.Measurer.
func (db *DB) Measure(ctx context.Context, families []coverage.Family, minAreaM2 float64) ([]coverage.Piece, error) {
	var fs, ks []int32
	var ps []bool
	var ws [][]byte
	add := func(f int, m coverage.Member, parent bool) error {
		w, err := wkb.Marshal(m.Geometry)
		if err != nil {
			return fmt.Errorf("encode grid at %d: %w", m.Pos, err)
		}
		fs, ks, ps, ws = append(fs, int32(f)), append(ks, m.Pos), append(ps, parent), append(ws, w)
		return nil
	}
	xmin, ymin, xmax, ymax := make([]float64, len(families)), make([]float64, len(families)), make([]float64, len(families)), make([]float64, len(families))
	for f, fam := range families {
		w := fam.Window
		xmin[f], ymin[f], xmax[f], ymax[f] = w.Min[0], w.Min[1], w.Max[0], w.Max[1]
		if err := add(f, fam.Parent, true); err != nil {
			return nil, err
		}
		for _, c := range fam.Children {
			if err := add(f, c, false); err != nil {
				return nil, err
			}
		}
	}
	rows, err := db.pool.Query(ctx, measureSQL, fs, ks, ps, ws, minAreaM2, xmin, ymin, xmax, ymax)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []coverage.Piece
	for rows.Next() {
		var p coverage.Piece
		var f, a, b int32
		var w []byte
		var around []int32
		if err := rows.Scan(&p.Kind, &f, &a, &b, &p.Reason, &p.AreaM2, &p.WidthM, &w, &around); err != nil {
			return nil, classify(err)
		}
		p.Family, p.A, p.B, p.Around = int(f), a, b, around
		if w != nil {
			if p.Geom, err = wkb.Unmarshal(w); err != nil {
				return nil, fmt.Errorf("decode measured piece: %w", err)
			}
		}
		out = append(out, p)
	}
	return out, classify(rows.Err())
}

// Areas implements coverage.Measurer: areas on the spheroid, in order.
func (db *DB) Areas(ctx context.Context, geoms []orb.MultiPolygon) ([]float64, error) {
	ws := make([][]byte, len(geoms))
	for k, g := range geoms {
		w, err := wkb.Marshal(g)
		if err != nil {
			return nil, fmt.Errorf("encode geometry %d: %w", k, err)
		}
		ws[k] = w
	}
	var out []float64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(array_agg(ST_Area(ST_GeomFromWKB(w, 4326)::geography) ORDER BY n), '{}')
		FROM unnest($1::bytea[]) WITH ORDINALITY AS u(w, n)`, ws).Scan(&out)
	return out, classify(err)
}

// PlainFinding is one gap or overlap as the plain PostGIS SQL finds it.
type PlainFinding struct {
	Kind       string // gap or overlap
	ParentCode string
	Codes      []string // the two siblings of an overlap
	AreaM2     float64
	Geom       orb.Geometry
}

// plainGapsSQL is what an analyst writes for gaps: each parent minus the union of its children of
// one layer, valid on one date ($1 the date, $2 the layer, $3 the noise area).
const plainGapsSQL = `
WITH g AS (
    SELECT * FROM grids WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1)
), parts AS (
    SELECT p.code, (ST_Dump(ST_Difference(p.geom, ST_Union(c.geom)))).geom AS geom
    FROM g p JOIN g c ON c.parent_id = p.id AND c.layer = $2
    GROUP BY p.version_id, p.code, p.geom
)
SELECT 'gap', code, '{}'::text[], ST_Area(geom::geography), ST_AsBinary(geom) FROM parts
WHERE ST_Area(geom::geography) > $3`

// plainOverlapsSQL is what an analyst writes for overlaps: a self-join of siblings of one layer
// whose interiors intersect.
const plainOverlapsSQL = `
WITH g AS (
    SELECT * FROM grids WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1) AND layer = $2
), pairs AS (
    SELECT p.code AS pcode, a.code AS acode, b.code AS bcode, ST_Intersection(a.geom, b.geom) AS geom
    FROM g a JOIN g b ON a.parent_id = b.parent_id AND a.code < b.code
        AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')
    JOIN grids p ON p.id = a.parent_id AND p.valid_from <= $1 AND (p.valid_to IS NULL OR p.valid_to > $1)
)
SELECT 'overlap', pcode, ARRAY[acode, bcode], ST_Area(geom::geography), ST_AsBinary(geom) FROM pairs
WHERE ST_Area(geom::geography) > $3`

// PlainCoverage runs the plain PostGIS SQL for gaps and overlaps of one layer's children on date
// at: the reference the coverage audit is tested and measured against.
func (db *DB) PlainCoverage(ctx context.Context, at time.Time, layer string, minAreaM2 float64) ([]PlainFinding, error) {
	var out []PlainFinding
	for _, q := range []string{plainGapsSQL, plainOverlapsSQL} {
		rows, err := db.pool.Query(ctx, q, at, layer, minAreaM2)
		if err != nil {
			return nil, classify(err)
		}
		for rows.Next() {
			var f PlainFinding
			var w []byte
			if err := rows.Scan(&f.Kind, &f.ParentCode, &f.Codes, &f.AreaM2, &w); err != nil {
				rows.Close()
				return nil, classify(err)
			}
			if f.Geom, err = wkb.Unmarshal(w); err != nil {
				rows.Close()
				return nil, fmt.Errorf("decode plain finding: %w", err)
			}
			out = append(out, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, classify(err)
		}
	}
	return out, nil
}

// Analyze vacuums the grids table and refreshes its statistics, as a benchmark does after a bulk
// load so that every engine it compares reads the table in the same state.
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `VACUUM ANALYZE grids`)
	return classify(err)
}
