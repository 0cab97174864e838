package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
)

// DefaultTolerance is how far, in square metres, a child may stick out of its parent: real
// boundaries are digitised independently and never nest to the last bit.
const DefaultTolerance = 1.0

// gridWriteLock is the advisory lock every transaction that writes grids holds from its
// checkGrids to its end (pg_advisory_xact_lock), so that the rules below see every committed write
// that could contradict them: two concurrent edits cannot both pass a check that only one of
// them could (two versions of one code, a parent shrinking while a child grows). Grid writes
// are rare next to reads, which never take it.
const gridWriteLock = 0x67726964 // "grid"

// bulkWrite is the number of written versions from which checkGrids refreshes the planner's
// statistics first.
const bulkWrite = 5000

// checkGrids applies the write rules that need the database to the grid versions just written
// (versionIDs), inside the writing transaction: one version of a grid at a time and one grid per
// code at a time (checked here with btree lookups rather than by gist exclusion constraints,
// which cost more than a whole import: migration 0004); valid geometry; a parent one level up in
// the same layer (special grids under a community; a thematic layer under its own higher level or
// the district); the child inside its parent within tol m²; and the grid's own children still
// inside it. Every rule lives here so that a single edit, an import and the demo load are checked
// the same way. geomChecked says that the caller has already checked every written geometry with
// ST_IsValid and ST_IsEmpty (imports do, to repair or to report by feature index), so that 100,000
// geometries are not checked twice.
func checkGrids(ctx context.Context, tx pgx.Tx, versionIDs []int64, tol float64, geomChecked bool) error {
	return checkGridsList(ctx, tx, versionIDs, tol, geomChecked, 0)
}

// checkGridsList is checkGrids listing up to limit problems in its error's details, with
// "problem_count" the true number of problems (which costs finding them all); limit 0 stops at
// the first 101, as an edit's error needs no more.
func checkGridsList(ctx context.Context, tx pgx.Tx, versionIDs []int64, tol float64, geomChecked bool, limit int) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, gridWriteLock); err != nil {
		return err
	}
	// A bulk write can make the table many times larger than its statistics say, and the checks
	// below planned for the old size have run a 100,000-grid import past the statement timeout.
	// The transaction's own rows count in its ANALYZE. (A dry run rolls the statistics back but
	// not pg_class's row count, which then counts rows that were never committed until the next
	// vacuum: the planner only overestimates for a while.)
	if len(versionIDs) >= bulkWrite {
		if _, err := tx.Exec(ctx, `ANALYZE grids (version_id, id, code, parent_id, level, layer, valid_from, valid_to)`); err != nil {
			return err
		}
	}
	if err := checkOverlaps(ctx, tx, versionIDs, limit); err != nil {
		return err
	}
	q := `
	WITH c AS MATERIALIZED (
		SELECT version_id, id, version, code, level, layer, parent_id, valid_from,
			$3::boolean OR ST_IsValid(geom) AS valid, NOT $3::boolean AND ST_IsEmpty(geom) AS empty
		FROM grids WHERE version_id = ANY($1)),
	-- Each written version with the parent version valid on its first day. The geometries are
	-- not copied into c and cp: the checks that need one read it from grids by version_id. Every
	-- join here is of a CTE with a table by an indexed key, never of two CTEs: the planner cannot
	-- estimate a CTE's distinct values, and a nested loop over two of 100,000 and 10,000 rows
	-- once ran past the statement timeout.
	cp AS MATERIALIZED (
		SELECT c.*, p.version_id AS pvid, p.code AS pcode, p.level AS plevel, p.layer AS player
		FROM c LEFT JOIN LATERAL (SELECT p.version_id, p.code, p.level, p.layer FROM grids p
			WHERE p.id = c.parent_id AND p.valid_from <= c.valid_from AND (p.valid_to IS NULL OR p.valid_to > c.valid_from)
			LIMIT 1) p ON c.parent_id IS NOT NULL),
	problems AS (
		SELECT c.code, 'geometry', 'geometry is not valid: ' || ST_IsValidReason(g.geom)
		FROM c JOIN grids g ON g.version_id = c.version_id WHERE NOT c.valid
		UNION ALL
		SELECT code, 'geometry', 'geometry is empty'
		FROM c WHERE empty
		UNION ALL
		SELECT code, 'parent_id', 'a district has no parent'
		FROM c WHERE level = 'district' AND parent_id IS NOT NULL
		UNION ALL
		SELECT code, 'layer', 'a district belongs to the comprehensive layer'
		FROM c WHERE level = 'district' AND layer <> 'comprehensive'
		UNION ALL
		SELECT code, 'parent_id', format('a %s needs a parent', level)
		FROM c WHERE level <> 'district' AND parent_id IS NULL
		UNION ALL
		SELECT code, 'parent_id', format('parent %s has no version valid on %s', parent_id, valid_from)
		FROM cp WHERE parent_id IS NOT NULL AND pvid IS NULL
		UNION ALL
		SELECT cp.code, 'parent_id', format('a %s grid of level %s cannot hang under %s %s (%s layer): %s',
			cp.layer, cp.level, cp.plevel, cp.pcode, cp.player,
			CASE WHEN cp.layer = 'comprehensive' THEN 'its parent must be one level up in the comprehensive layer'
			     WHEN cp.layer = 'special' THEN 'a special grid hangs under a community'
			     ELSE 'a thematic grid hangs under a higher level of its own layer or under the district' END)
		FROM cp
		WHERE cp.pvid IS NOT NULL AND NOT ` + parentRule("cp.layer", "cp.level", "cp.player", "cp.plevel") + `
		UNION ALL
		SELECT cp.code, 'geometry', format('lies %s m² outside its parent %s (tolerance %s m²)',
			round(ST_Area(ST_Difference(g.geom, pg.geom)::geography)::numeric, 1), cp.pcode, $2::float8)
		FROM cp JOIN grids g ON g.version_id = cp.version_id JOIN grids pg ON pg.version_id = cp.pvid
		-- GEOS refuses to compare with an invalid geometry (its error would hide the clear
		-- problem above). A stored parent is valid, written through these rules; one written in
		-- this same set may not be, unless the caller checked. CASE, unlike AND, fixes the order
		-- of the tests.
		WHERE cp.valid AND CASE WHEN $3::boolean OR pg.version_id <> ALL($1) OR ST_IsValid(pg.geom)
			THEN NOT ST_CoveredBy(g.geom, pg.geom) AND ST_Area(ST_Difference(g.geom, pg.geom)::geography) > $2::float8
			ELSE false END
		UNION ALL
		SELECT c.code, 'geometry', format('child %s would lie %s m² outside the new boundary',
			k.code, round(ST_Area(ST_Difference(k.geom, g.geom)::geography)::numeric, 1))
		FROM c JOIN grids g ON g.version_id = c.version_id
		JOIN grids k ON k.parent_id = c.id AND k.valid_from <= c.valid_from
			AND (k.valid_to IS NULL OR k.valid_to > c.valid_from)
		WHERE c.version > 1 AND k.version_id <> ALL($1) AND c.valid AND CASE WHEN ST_IsValid(k.geom)
			THEN NOT ST_CoveredBy(k.geom, g.geom) AND ST_Area(ST_Difference(k.geom, g.geom)::geography) > $2::float8
			ELSE false END
	)
	SELECT * FROM problems`
	return ruleProblems(ctx, tx, gridline.ERule, q, limit, versionIDs, tol, geomChecked)
}

// checkOverlaps refuses two versions of one grid, or two grids with one code, valid on the same
// day (a conflict, as a unique index would say). Each pair of written versions is named once.
func checkOverlaps(ctx context.Context, tx pgx.Tx, versionIDs []int64, limit int) error {
	const q = `
	WITH c AS MATERIALIZED (SELECT version_id, id, code, valid_from, valid_to FROM grids WHERE version_id = ANY($1)),
	pairs AS (
		SELECT c.*, o.id AS oid, o.version_id AS ovid, o.code AS ocode, o.valid_from AS ofrom, o.valid_to AS oto
		FROM c JOIN grids o ON o.code = c.code AND o.id <> c.id
		UNION ALL
		SELECT c.*, o.id, o.version_id, o.code, o.valid_from, o.valid_to
		FROM c JOIN grids o ON o.id = c.id AND o.version_id <> c.version_id)
	SELECT code, 'valid_from', CASE WHEN oid = id
		THEN format('grid %s already has a version valid from %s%s, which overlaps this one (from %s%s): a grid has one version at a time',
			id, ofrom, coalesce(' to ' || oto, ''), valid_from, coalesce(' to ' || valid_to, ''))
		ELSE format('code %s already names grid %s from %s%s, which overlaps this one (from %s%s): a code names one grid at a time',
			code, oid, ofrom, coalesce(' to ' || oto, ''), valid_from, coalesce(' to ' || valid_to, '')) END
	FROM pairs
	WHERE daterange(ofrom, oto) && daterange(valid_from, valid_to)
		AND NOT (ovid = ANY($1) AND ovid > version_id)`
	return ruleProblems(ctx, tx, gridline.EConflict, q, limit, versionIDs)
}

// ruleProblems runs a query of (code, field, message) rows and turns them into one error of the
// given code, its details listing up to 100 problems (limit 0) or up to limit with the true count
// in "problem_count"; no rows is no error.
func ruleProblems(ctx context.Context, tx pgx.Tx, code, q string, limit int, args ...any) error {
	if limit > 0 {
		// Every problem is found to count them, and the grids they concern (the first column).
		q = fmt.Sprintf(`SELECT c1, c2, c3, count(*) OVER (), sum(first) OVER () FROM (
			SELECT p.*, (row_number() OVER (PARTITION BY p.c1) = 1)::int AS first FROM (%s) p(c1, c2, c3)) x LIMIT %d`, q, limit)
	} else {
		q = `SELECT *, 0::bigint, 0::bigint FROM (` + q + `) p LIMIT 101`
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var list []map[string]any
	var total, grids int64
	for rows.Next() {
		var code, field, msg string
		if err := rows.Scan(&code, &field, &msg, &total, &grids); err != nil {
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
	e := gridline.Errorf(code, "grid %s: %s", first["code"], first["message"])
	if limit > 0 {
		if total > 1 {
			e.Message += fmt.Sprintf(" (and %d more problems)", total-1)
		}
		return e.With("problems", list).With("problem_count", int(total)).With("grid_count", int(grids))
	}
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
