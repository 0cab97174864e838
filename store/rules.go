package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"gridline"
)

// DefaultTolerance is how far, in square metres, a child may stick out of its parent: real
// boundaries are digitised independently and never nest to the last bit.
const DefaultTolerance = 1.0

// checkGrids applies the write rules that need the database to the grid versions just written
// (versionIDs), inside the writing transaction: valid geometry; a parent one level up in the same
// layer (special grids under a community; a thematic layer under its own higher level or the
// district); the child inside its parent within tol m²; and the grid's own children still inside
// it. Code uniqueness among versions valid at once is the table's exclusion constraint. Every rule
// lives here so that a single edit, an import and the demo load are checked the same way.
func checkGrids(ctx context.Context, tx pgx.Tx, versionIDs []int64, tol float64) error {
	const q = `
	WITH c AS (SELECT * FROM grids WHERE version_id = ANY($1)),
	lv AS (SELECT ARRAY['district','subdistrict','community','grid','micro'] AS l),
	problems AS (
		SELECT c.code, 'geometry', 'geometry is not valid: ' || ST_IsValidReason(c.geom)
		FROM c WHERE NOT ST_IsValid(c.geom)
		UNION ALL
		SELECT c.code, 'geometry', 'geometry is empty'
		FROM c WHERE ST_IsEmpty(c.geom)
		UNION ALL
		SELECT c.code, 'parent_id', 'a district has no parent'
		FROM c WHERE c.level = 'district' AND c.parent_id IS NOT NULL
		UNION ALL
		SELECT c.code, 'layer', 'a district belongs to the comprehensive layer'
		FROM c WHERE c.level = 'district' AND c.layer <> 'comprehensive'
		UNION ALL
		SELECT c.code, 'parent_id', format('a %s needs a parent', c.level)
		FROM c WHERE c.level <> 'district' AND c.parent_id IS NULL
		UNION ALL
		SELECT c.code, 'parent_id', format('parent %s has no version valid on %s', c.parent_id, c.valid_from)
		FROM c WHERE c.parent_id IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM grids p WHERE p.id = c.parent_id AND p.valid_from <= c.valid_from
			AND (p.valid_to IS NULL OR p.valid_to > c.valid_from))
		UNION ALL
		SELECT c.code, 'parent_id', format('a %s grid of level %s cannot hang under %s %s (%s layer): %s',
			c.layer, c.level, p.level, p.code, p.layer,
			CASE WHEN c.layer = 'comprehensive' THEN 'its parent must be one level up in the comprehensive layer'
			     WHEN c.layer = 'special' THEN 'a special grid hangs under a community'
			     ELSE 'a thematic grid hangs under a higher level of its own layer or under the district' END)
		FROM c, lv, LATERAL (SELECT * FROM grids p WHERE p.id = c.parent_id AND p.valid_from <= c.valid_from
			AND (p.valid_to IS NULL OR p.valid_to > c.valid_from) LIMIT 1) p
		WHERE NOT CASE
			WHEN c.layer = 'comprehensive' THEN p.layer = 'comprehensive'
				AND array_position(lv.l, p.level) = array_position(lv.l, c.level) - 1
			WHEN c.layer = 'special' THEN p.layer = 'comprehensive' AND p.level = 'community'
			ELSE (p.layer = c.layer AND array_position(lv.l, p.level) < array_position(lv.l, c.level))
				OR (p.layer = 'comprehensive' AND p.level = 'district') END
		UNION ALL
		SELECT c.code, 'geometry', format('lies %s m² outside its parent %s (tolerance %s m²)',
			round(out_area::numeric, 1), p.code, $2::float8)
		FROM c, LATERAL (SELECT * FROM grids p WHERE p.id = c.parent_id AND p.valid_from <= c.valid_from
			AND (p.valid_to IS NULL OR p.valid_to > c.valid_from) LIMIT 1) p,
		LATERAL (SELECT CASE WHEN ST_CoveredBy(c.geom, p.geom) THEN 0
			ELSE ST_Area(ST_Difference(c.geom, p.geom)::geography) END AS out_area) a
		WHERE ST_IsValid(c.geom) AND ST_IsValid(p.geom) AND out_area > $2::float8
		UNION ALL
		SELECT c.code, 'geometry', format('child %s would lie %s m² outside the new boundary',
			k.code, round(ST_Area(ST_Difference(k.geom, c.geom)::geography)::numeric, 1))
		FROM c JOIN grids k ON k.parent_id = c.id AND k.valid_from <= c.valid_from
			AND (k.valid_to IS NULL OR k.valid_to > c.valid_from)
		WHERE c.version > 1 AND k.version_id <> ALL($1) AND ST_IsValid(c.geom) AND ST_IsValid(k.geom)
			AND NOT ST_CoveredBy(k.geom, c.geom)
			AND ST_Area(ST_Difference(k.geom, c.geom)::geography) > $2::float8
	)
	SELECT * FROM problems LIMIT 101`
	rows, err := tx.Query(ctx, q, versionIDs, tol)
	if err != nil {
		return err
	}
	defer rows.Close()
	var list []map[string]any
	for rows.Next() {
		var code, field, msg string
		if err := rows.Scan(&code, &field, &msg); err != nil {
			return err
		}
		list = append(list, map[string]any{"code": code, "field": field, "message": msg})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(list) == 0 {
		return nil
	}
	first := list[0]
	e := gridline.Errorf(gridline.ERule, "grid %s: %s", first["code"], first["message"])
	if len(list) > 1 {
		more := fmt.Sprintf(" (and %d more problems)", len(list)-1)
		if len(list) > 100 {
			more = " (and more than 100 other problems)"
			list = list[:100]
		}
		e.Message += more
	}
	return e.With("problems", list)
}
