package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridline.dev/gridline"
)

// StagingSchema is where ogr2ogr writes imported files and exports stage their rows (migration 0002).
const StagingSchema = "staging"

var stagingName = regexp.MustCompile(`^(import|export)_[a-z0-9_]{1,40}$`)

// stagingTable is the quoted name of staging table name, which must look like import_<id> or
// export_<id>: anything else is a bug, since the importers make the names.
func stagingTable(name string) (string, error) {
	if !stagingName.MatchString(name) {
		return "", fmt.Errorf("store: %q is not a staging table name", name)
	}
	return pgx.Identifier{StagingSchema, name}.Sanitize(), nil
}

// DropStaging removes a staging table; a table that does not exist is not an error.
func (db *DB) DropStaging(ctx context.Context, name string) error {
	t, err := stagingTable(name)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `DROP TABLE IF EXISTS `+t)
	return classify(err)
}

// StagingColumns lists the columns ogr2ogr created for a staged file, in table order, without
// the feature id and the geometry.
func (db *DB) StagingColumns(ctx context.Context, name string) ([]string, error) {
	if _, err := stagingTable(name); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 AND column_name NOT IN ('ogc_fid', 'geom')
		ORDER BY ordinal_position`, StagingSchema, name)
	if err != nil {
		return nil, classify(err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return cols, classify(err)
}

// StagingCount is the number of features in a staged file.
func (db *DB) StagingCount(ctx context.Context, name string) (int, error) {
	t, err := stagingTable(name)
	if err != nil {
		return 0, err
	}
	var n int
	err = db.pool.QueryRow(ctx, `SELECT count(*) FROM `+t).Scan(&n)
	return n, classify(err)
}

// MapStagingCoords rewrites every line and ring of a staged file's geometries with fn, in Go: the
// conversions from GCJ-02 and BD-09 are not in PROJ. fn gets a point as a line of one point; it
// may add points to a line (geo.CRS.LineToWGS84 splits long edges) but not to a single point. The geometries go out as WKB and come back
// through COPY, so a large file costs two passes over the table, not a statement per feature.
func (db *DB) MapStagingCoords(ctx context.Context, name string, fn func([]orb.Point) []orb.Point) error {
	t, err := stagingTable(name)
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT ogc_fid, ST_AsBinary(geom) FROM `+t+` WHERE geom IS NOT NULL`)
		if err != nil {
			return err
		}
		var out [][]any
		for rows.Next() {
			var fid int64
			var b []byte
			if err := rows.Scan(&fid, &b); err != nil {
				rows.Close()
				return err
			}
			g, err := wkb.Unmarshal(b)
			if err != nil {
				rows.Close()
				return fmt.Errorf("feature %d: %w", fid, err)
			}
			g = mapCoords(g, fn)
			nb, err := wkb.Marshal(g)
			if err != nil {
				rows.Close()
				return fmt.Errorf("feature %d: %w", fid, err)
			}
			out = append(out, []any{fid, nb})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE coord_map (fid bigint PRIMARY KEY, wkb bytea) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"coord_map"}, []string{"fid", "wkb"}, pgx.CopyFromRows(out)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE `+t+` s SET geom = ST_SetSRID(ST_GeomFromWKB(m.wkb), ST_SRID(s.geom)) FROM coord_map m WHERE m.fid = s.ogc_fid`)
		return err
	})
}

// mapCoords applies fn to every line of g, and to each point as a line of one (the result is a
// copy: fn must not change its argument).
func mapCoords(g orb.Geometry, fn func([]orb.Point) []orb.Point) orb.Geometry {
	pt := func(p orb.Point) orb.Point { return fn([]orb.Point{p})[0] }
	switch v := g.(type) {
	case orb.Point:
		return pt(v)
	case orb.MultiPoint:
		out := make(orb.MultiPoint, len(v))
		for i, p := range v {
			out[i] = pt(p)
		}
		return out
	case orb.LineString:
		return orb.LineString(fn(v))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(v))
		for i, l := range v {
			out[i] = fn(l)
		}
		return out
	case orb.Ring:
		return orb.Ring(fn(v))
	case orb.Polygon:
		out := make(orb.Polygon, len(v))
		for i, r := range v {
			out[i] = fn(r)
		}
		return out
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(v))
		for i, p := range v {
			out[i] = mapCoords(p, fn).(orb.Polygon)
		}
		return out
	case orb.Collection:
		out := make(orb.Collection, len(v))
		for i, x := range v {
			out[i] = mapCoords(x, fn)
		}
		return out
	}
	return g
}

// ImportColumns names the staging columns that hold each attribute; "" means the file has none.
type ImportColumns struct {
	Code, Name, Level, Layer, Kind, ParentCode, Households, Population string
	East, South, West, North                                           string // 四至
}

// ImportPlan says how to read a staged file of grids and what to do with it.
type ImportPlan struct {
	Table   string // the staging table (import_<id>) ogr2ogr wrote, geometry in EPSG:4326
	Columns ImportColumns
	Level   gridline.Level // the level of features whose level column is absent or empty
	Layer   gridline.Layer // likewise; default comprehensive
	Kind    string         // likewise, for special grids
	// From is the date added grids and new versions start and retired grids end.
	From time.Time
	// Repair makes invalid geometries valid (ST_MakeValid) and reports them; without it they are
	// problems that stop the import.
	Repair bool
	// Retire ends the grids of the file's levels and layers that the file no longer holds.
	Retire bool
	// Apply commits; without it the import runs to the end, checks included, and rolls back.
	Apply     bool
	Tolerance float64 // m² a child may stick out of its parent (DefaultTolerance when 0)
	// ListLimit bounds each list in the report (1000 when 0); the counts are always complete.
	ListLimit int
	// Audit, when set, audits the coverage a dry run without problems would leave: it is given
	// the families the import touches (the parents of every grid it adds, changes or retires,
	// and of the grids it adds or changes, with their children) as they would be on From, and
	// its answer goes into the report's Coverage. Applying imports are not audited.
	Audit func(ctx context.Context, grids []gridline.Grid, at time.Time) (any, error)
}

// ImportProblem is one thing wrong with an import. Index is the feature's number in the file,
// counting from 1, or 0 when the problem concerns a stored grid or the file as a whole.
type ImportProblem struct {
	Index   int    `json:"index"`
	Line    bool   `json:"-"` // Index counts lines of a list (staff), not features
	Code    string `json:"code,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p ImportProblem) String() string {
	var b strings.Builder
	if p.Index > 0 && p.Line {
		fmt.Fprintf(&b, "line %d", p.Index)
	} else if p.Index > 0 {
		fmt.Fprintf(&b, "feature %d", p.Index)
	}
	if p.Code != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "(code %s)", p.Code)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ImportChange is one grid the import adds, changes or retires.
type ImportChange struct {
	Index     int            `json:"index,omitempty"`
	Code      string         `json:"code"`
	Name      string         `json:"name"`
	Level     gridline.Level `json:"level"`
	Layer     gridline.Layer `json:"layer"`
	AreaM2    float64        `json:"area_m2"`
	OldAreaM2 *float64       `json:"old_area_m2,omitempty"`
	Fields    []string       `json:"fields,omitempty"` // for a change: what differs
}

// ImportReport is what an import did, or in a dry run would do.
type ImportReport struct {
	Valid     bool   `json:"ok"` // no problems: the same as OK()
	Applied   bool   `json:"applied"`
	From      string `json:"from"`
	Features  int    `json:"features"`
	Added     int    `json:"added"`
	Changed   int    `json:"changed"`
	Retired   int    `json:"retired"`
	Unchanged int    `json:"unchanged"`
	Repaired  int    `json:"repaired"`
	// FeaturesWithProblems is how many features have a problem. When there are problems, Added,
	// Changed, Unchanged and Retired (and their lists) say what would happen to the other
	// features, as far as the checks got before the problems stopped the import.
	FeaturesWithProblems int             `json:"features_with_problems"`
	Lists                ImportLists     `json:"lists"`
	Problems             []ImportProblem `json:"problems"`
	// ProblemCount is the number of problems found; Problems holds at most ListLimit of them.
	ProblemCount int      `json:"problem_count"`
	Warnings     []string `json:"warnings,omitempty"`
	// Timings are the milliseconds each step took, for benchmarks and slow imports.
	Timings []ImportTiming `json:"timings,omitempty"`
	// Coverage is the coverage audit of what a dry run would leave (ImportPlan.Audit), when asked.
	Coverage any `json:"coverage,omitempty"`
}

// ImportTiming is how long one step of an import took.
type ImportTiming struct {
	Step string  `json:"step"`
	MS   float64 `json:"ms"`
}

// ImportLists are the grids behind the counts, each list cut at the plan's ListLimit.
type ImportLists struct {
	Added    []ImportChange  `json:"added"`
	Changed  []ImportChange  `json:"changed"`
	Retired  []ImportChange  `json:"retired"`
	Repaired []ImportProblem `json:"repaired"`
}

// OK reports whether the import found no problems.
func (r *ImportReport) OK() bool { return r.ProblemCount == 0 }

// errImportProblems stops the import transaction when problems were found; the report holds them.
var errImportProblems = errors.New("import has problems")

// errDryRun rolls back a dry run after its report is complete.
var errDryRun = errors.New("dry run")

// rehearse runs fn in one transaction and commits only when apply is true and fn found no
// problems (it returns errImportProblems then): a dry run is the same work, checks included,
// rolled back. It reports whether it committed.
func (db *DB) rehearse(ctx context.Context, apply bool, fn func(pgx.Tx) error) (bool, error) {
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if !apply {
			return errDryRun
		}
		return nil
	})
	switch {
	case errors.Is(err, errDryRun), errors.Is(err, errImportProblems):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// ImportGrids reads a staged file of grids, checks it and writes it in one transaction: grids
// whose code is new are added, grids whose attributes or geometry differ get a new version from
// plan.From, grids the file holds unchanged are left alone (so importing the same file twice
// changes nothing), and with plan.Retire the grids of the same levels and layers that the file
// does not hold end on plan.From. The write rules are checkGrids's, as for any other write.
//
// Problems with the data are not errors: they are in the report, and nothing is written. The
// error is for the database and for bugs. A dry run (plan.Apply false) does everything, checks
// included, and rolls back.
func (db *DB) ImportGrids(ctx context.Context, plan ImportPlan) (*ImportReport, error) {
	t, err := stagingTable(plan.Table)
	if err != nil {
		return nil, err
	}
	if plan.From.IsZero() {
		return nil, errors.New("store: ImportPlan.From is required")
	}
	if plan.Tolerance == 0 {
		plan.Tolerance = DefaultTolerance
	}
	if plan.ListLimit <= 0 {
		plan.ListLimit = 1000
	}
	if plan.Layer == "" {
		plan.Layer = gridline.LayerComprehensive
	}
	rep := &ImportReport{From: gridline.Date(plan.From), Problems: []ImportProblem{}}
	rep.Lists = ImportLists{Added: []ImportChange{}, Changed: []ImportChange{}, Retired: []ImportChange{}, Repaired: []ImportProblem{}}
	applied, err := db.rehearse(ctx, plan.Apply, func(tx pgx.Tx) error {
		// An apply plans and writes under the grid write lock (see checkGrids), so that a second
		// apply of the same file, started at the same time, plans against the first one's writes
		// and finds nothing to change instead of writing the same versions again.
		if plan.Apply {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, gridWriteLock); err != nil {
				return err
			}
		}
		im := &importRun{tx: tx, plan: plan, rep: rep, staging: t}
		if err := im.run(ctx); err != nil {
			return err
		}
		if !plan.Apply && plan.Audit != nil && rep.ProblemCount == 0 && (rep.Added+rep.Changed+rep.Retired) > 0 {
			if err := im.audit(ctx); err != nil {
				return err
			}
		}
		return auditGridWrite(ctx, tx, "grids.import", gridImportSummary(rep))
	})
	if err != nil {
		return nil, err
	}
	rep.Valid, rep.Applied = rep.ProblemCount == 0, applied
	return rep, nil
}

type importRun struct {
	tx      pgx.Tx
	plan    ImportPlan
	rep     *ImportReport
	staging string
	last    time.Time
	written []int64 // the version ids the write step inserted
}

// step records the time since the previous step.
func (im *importRun) step(name string) {
	now := time.Now()
	if !im.last.IsZero() {
		im.rep.Timings = append(im.rep.Timings, ImportTiming{name, float64(now.Sub(im.last).Microseconds()) / 1000})
	}
	im.last = now
}

// col is the SQL for attribute column name of the staging row s, as trimmed text or NULL; def
// (a parameter reference) when the file has no such column.
func col(name, def string) string {
	if name == "" {
		return def
	}
	return `nullif(btrim(s.` + pgx.Identifier{name}.Sanitize() + `::text), '')`
}

// featureChecks are the checks of each staged feature on its own (imp0's columns; $1 is
// plan.Repair): a condition that is true when the check fails, the field, and the message.
var featureChecks = []struct{ field, fails, message string }{
	{"code", `code IS NULL`, `'has no code'`},
	{"code", `code !~ '^[0-9A-Za-z]{1,32}$'`, `format('code %s must be 1 to 32 letters or digits', code)`},
	{"name", `name IS NULL`, `'has no name'`},
	{"level", `level IS NULL`, `'has no level: map a level column or give the level of the whole file'`},
	{"level", `level NOT IN (` + levelList + `)`,
		`format(` + sqlLiteral("level %s is not one of "+gridline.LevelNames()) + `, level)`},
	{"layer", `layer !~ '^[a-z][a-z0-9_]{0,39}$'`, `format('layer %s must be a lower-case name such as comprehensive, special or police', layer)`},
	{"kind", `layer = 'special' AND kind = ''`, `'a special grid needs a kind (school, hospital, market ...)'`},
	{"households", `hh_raw IS NOT NULL AND households IS NULL`, `format('households %s is not a whole number', hh_raw)`},
	{"population", `pop_raw IS NOT NULL AND population IS NULL`, `format('population %s is not a whole number', pop_raw)`},
	{"geometry", `nogeom`, `'has no geometry'`},
	{"geometry", `NOT nogeom AND gtype NOT IN ('POLYGON', 'MULTIPOLYGON')`, `format('is a %s where a polygon was expected: grids are areas', lower(gtype))`},
	{"geometry", `outside`, `format('coordinates reach (%s, %s), which are not degrees: the file looks projected (metres); give its coordinate system, e.g. --crs EPSG:4547',
		round(far_x::numeric, 1), round(far_y::numeric, 1))`},
	{"geometry", `invalid_reason IS NOT NULL AND NOT $1`, `format('geometry is not valid: %s (repair it with repair=true, or fix the file)', invalid_reason)`},
	{"geometry", `invalid_reason IS NOT NULL AND $1 AND (fixed IS NULL OR ST_IsEmpty(fixed))`,
		`format('geometry is not valid (%s) and repairing it left no area', invalid_reason)`},
}

// featureChecksSQL is one query of (index, code, field, message) over imp0 for featureChecks:
// the features that fail any check are found in one scan, and only those are expanded into a
// row per failed check (expanding every feature cost 6 µs each, more than all the checks).
var featureChecksSQL = func() string {
	var any, values, messages []string
	for i, c := range featureChecks {
		any = append(any, "("+c.fails+")")
		values = append(values, fmt.Sprintf("(%d, '%s', %s)", i, c.field, c.fails))
		messages = append(messages, fmt.Sprintf("WHEN %d THEN %s", i, c.message))
	}
	return `SELECT idx, code, v.field, CASE v.k ` + strings.Join(messages, "\n\t") + ` END
		FROM (SELECT * FROM imp0 WHERE ` + strings.Join(any, "\n\tOR ") + `) f,
		LATERAL (VALUES ` + strings.Join(values, ",\n\t") + `) v(k, field, fails)
		WHERE v.fails`
}()

// SameGeometryTolerance is how far apart, in degrees, two geometries' vertices may be for an
// import to call them the same: 1e-9 degrees is about 0.1 mm. Files carry the last digits of a
// coordinate differently (GDAL trims trailing digits; a GCJ-02 or projected file goes through a
// conversion and back): a re-import of an export differs by 1e-14 to 5e-13 degrees, which must
// not make a new version that changes nothing.
const SameGeometryTolerance = 1e-9

// sameGeometry is the SQL that is true when geometries a and b are the same within
// SameGeometryTolerance: equal as stored; or, put in the same order of rings and start points
// (ST_Normalize), vertex by vertex; or, when one carries points the other lacks (a file in GCJ-02
// or a projected system has points added along its long edges), by the Hausdorff distance of
// their vertices to each other. The cheap tests come first: most grids stop at the first.
func sameGeometry(a, b string) string {
	tol := fmt.Sprintf("%g", SameGeometryTolerance)
	return `(` + a + ` = ` + b + ` OR (ST_NPoints(` + a + `) = ST_NPoints(` + b + `) AND NOT EXISTS (
			SELECT 1 FROM ST_DumpPoints(ST_Normalize(` + a + `)) p FULL JOIN ST_DumpPoints(ST_Normalize(` + b + `)) q ON p.path = q.path
			WHERE p.geom IS NULL OR q.geom IS NULL OR abs(ST_X(p.geom) - ST_X(q.geom)) > ` + tol + ` OR abs(ST_Y(p.geom) - ST_Y(q.geom)) > ` + tol + `))
		OR ST_HausdorffDistance(` + a + `, ` + b + `) <= ` + tol + `)`
}

// featureGeom is the SQL for the geometry a feature is written with: its repaired geometry
// (imp0.fixed, in the row called row) or else its staged one (in the staging row called staged)
// as a MultiPolygon.
func featureGeom(row, staged string) string {
	return `coalesce(` + row + `.fixed, ST_Multi(ST_SetSRID(` + staged + `.geom, 4326)))::geometry(MultiPolygon, 4326)`
}

// run is the import inside its transaction, one step after another: read the staged features,
// check each on its own, match them with the stored grids and find their parents, find the grids
// to retire, check the parents and dates, write, check by the store's rules, and summarise. A step
// that finds problems records them in the report and returns errImportProblems, which ends the
// run and rolls the transaction back.
func (im *importRun) run(ctx context.Context) error {
	im.step("")
	for _, step := range []func(context.Context) error{im.readFeatures, im.checkFeatures, im.match, im.findRetired, im.checkParents, im.write} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	err := im.summarise(ctx)
	im.step("summarise")
	return err
}

// readFeatures reads every staged feature into imp0, typed, with the stored grid whose code it
// has; a file with no features is a problem.
func (im *importRun) readFeatures(ctx context.Context) error {
	tx, p := im.tx, im.plan
	c := p.Columns
	level := "coalesce(" + levelExpr(col(c.Level, "NULL::text")) + ", $2::text)"
	// The geometries stay in the staging table (joined by idx = ogc_fid when needed): copying
	// 100,000 of them into each temporary table cost more than the checks. Only a repaired
	// geometry is kept here (fixed); the geometry a feature is written with is featureGeom.
	q := fmt.Sprintf(`CREATE TEMP TABLE imp0 ON COMMIT DROP AS
		SELECT idx, f.code, f.name, f.level, f.layer, f.kind, parent_code, hh_raw, pop_raw, east, south, west, north,
			gtype, valid, src IS NULL AS nogeom,
			CASE WHEN hh_raw ~ '^[0-9]{1,9}(\.0*)?$' THEN hh_raw::numeric::int END AS households,
			CASE WHEN pop_raw ~ '^[0-9]{1,9}(\.0*)?$' THEN pop_raw::numeric::int END AS population,
			CASE WHEN gtype IN ('POLYGON', 'MULTIPOLYGON') AND NOT outside AND NOT valid AND $4::boolean THEN
				ST_Multi(ST_CollectionExtract(ST_MakeValid(src), 3))
			END::geometry(MultiPolygon, 4326) AS fixed,
			CASE WHEN gtype IN ('POLYGON', 'MULTIPOLYGON') AND NOT valid AND NOT outside THEN ST_IsValidReason(src) END AS invalid_reason,
			outside, CASE WHEN outside THEN ST_XMax(src) END AS far_x, CASE WHEN outside THEN ST_YMax(src) END AS far_y,
			-- The stored grid with this code, if any, whose identity the feature keeps; a new
			-- identity otherwise (coalesce calls nextval only when needed).
			coalesce(g.id, nextval('grid_id_seq')) AS gid, g.version_id AS old_vid, g.valid_from AS old_from, g.valid_to AS old_to
		FROM (SELECT s.ogc_fid::int AS idx, %s AS code, %s AS name, %s AS level,
			coalesce(%s, $3::text) AS layer, coalesce(%s, $1::text) AS kind, %s AS parent_code,
			%s AS hh_raw, %s AS pop_raw, %s AS east, %s AS south, %s AS west, %s AS north,
			GeometryType(s.geom) AS gtype, coalesce(ST_IsValid(s.geom), false) AS valid,
			ST_SetSRID(s.geom, 4326) AS src,
			-- One look at the stored bounding box, not four at the coordinates.
			coalesce(NOT s.geom @ ST_MakeEnvelope(-180, -90, 180, 90), false) AS outside
			FROM %s s) f
		LEFT JOIN grids g ON g.code = f.code AND g.valid_from <= $5 AND (g.valid_to IS NULL OR g.valid_to > $5)`,
		col(c.Code, "NULL::text"), col(c.Name, "NULL::text"), level, col(c.Layer, "NULL::text"), col(c.Kind, "NULL::text"),
		col(c.ParentCode, "NULL::text"), col(c.Households, "NULL::text"), col(c.Population, "NULL::text"),
		col(c.East, "NULL::text"), col(c.South, "NULL::text"), col(c.West, "NULL::text"), col(c.North, "NULL::text"), im.staging)
	if _, err := tx.Exec(ctx, q, p.Kind, nullIfEmpty(string(p.Level)), string(p.Layer), p.Repair, p.From); err != nil {
		return fmt.Errorf("read staged features: %w", err)
	}
	im.step("read")
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM imp0`).Scan(&im.rep.Features); err != nil {
		return err
	}
	if im.rep.Features == 0 {
		return im.fail(ctx, []ImportProblem{{Message: "the file holds no features: nothing to import"}})
	}
	if _, err := tx.Exec(ctx, `ANALYZE imp0 (idx, code, parent_code, level)`); err != nil {
		return err
	}
	im.step("index")
	return nil
}

// checkFeatures runs the checks of each feature on its own (featureChecks) and finds the codes
// the file holds more than once, then lists the geometries it repaired.
func (im *importRun) checkFeatures(ctx context.Context) error {
	p := im.plan
	problems, err := im.problems(ctx, featureChecksSQL+`
		UNION ALL
		SELECT idx, code, 'code', format('code %s appears %s times in the file (features %s)', code, n, list)
		FROM (SELECT idx, code, count(*) OVER w AS n, array_to_string((array_agg(idx) OVER w)[1:10], ', ') AS list
			FROM imp0 WHERE code IS NOT NULL AND code IN (SELECT code FROM imp0 GROUP BY code HAVING count(*) > 1)
			WINDOW w AS (PARTITION BY code ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) d
		WHERE n > 1
		ORDER BY 1, 3`, p.Repair)
	if err != nil {
		return err
	}
	im.step("check features")
	if len(problems) > 0 {
		return im.fail(ctx, problems)
	}
	// A file that mixes points and polygons is reported per feature above; one that is
	// entirely in the wrong system gets one clear message too, in the problems.
	return im.repaired(ctx)
}

// containmentSearch is the SQL of match that finds the parent of a feature c (its geometry fg)
// that names none: of the grids in the file or stored that cover the point on the feature's
// surface and that parentRule allows (checkGrids still decides), one of the feature's own layer
// first, then the lowest level.
func (im *importRun) containmentSearch(ctx context.Context) (string, error) {
	tx := im.tx
	var spatial bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM imp0 WHERE parent_code IS NULL AND level <> 'district')`).Scan(&spatial); err != nil {
		return "", err
	}
	// Without a feature that needs its parent found by containment, the spatial search is not
	// even planned; with one, the file's geometries get a table and an index of their own.
	byContainment := "NULL::bigint"
	if spatial {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE impg ON COMMIT DROP AS
			SELECT c.gid, c.code, c.level, c.layer, `+featureGeom("c", "s")+` AS geom
			FROM imp0 c JOIN `+im.staging+` s ON s.ogc_fid = c.idx;
			CREATE INDEX ON impg USING gist (geom); ANALYZE impg`); err != nil {
			return "", err
		}
		byContainment = `(SELECT p.id FROM (
			SELECT x.gid AS id, x.level, x.layer, x.geom FROM impg x WHERE x.geom && ST_PointOnSurface(fg.geom)
			UNION ALL
			SELECT g.id, g.level, g.layer, g.geom FROM grids g WHERE g.geom && ST_PointOnSurface(fg.geom)
				AND g.valid_from <= $1 AND (g.valid_to IS NULL OR g.valid_to > $1)
				AND NOT EXISTS (SELECT 1 FROM imp0 y WHERE y.code = g.code)) p
			WHERE ST_Covers(p.geom, ST_PointOnSurface(fg.geom)) AND p.id <> c.gid AND ` + parentRule("c.layer", "c.level", "p.layer", "p.level") + `
			ORDER BY p.layer = c.layer DESC, ` + levelRank("p.level") + ` DESC LIMIT 1)`
	}
	return byContainment, nil
}

// match makes imp: each feature with its parent, the attributes it does not carry taken from the
// stored version, and what it does to the stored grid (add, change, same).
func (im *importRun) match(ctx context.Context) error {
	tx, p := im.tx, im.plan
	c := p.Columns
	// The parents (by code in the file or stored; by containment when there is no code),
	// the attributes a file does not carry kept from the stored version, and what differs. One
	// statement that makes a new table: UPDATEs of every row cost a rewrite each.
	byContainment, err := im.containmentSearch(ctx)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `CREATE TEMP TABLE imp ON COMMIT DROP AS
		SELECT b.idx, b.code, b.name, b.level, b.layer, b.kind, b.parent_code, b.fixed, b.gid, b.old_vid, b.old_from, b.old_to,
			b.households, b.population, b.east, b.south, b.west, b.north, b.parent_id, b.fields,
			CASE WHEN b.old_vid IS NULL THEN 'add' WHEN cardinality(b.fields) = 0 THEN 'same' ELSE 'change' END AS action
		FROM (SELECT a.*, CASE WHEN a.old_vid IS NOT NULL THEN array_remove(ARRAY[
				CASE WHEN o.name <> a.name THEN 'name' END,
				CASE WHEN o.level <> a.level THEN 'level' END,
				CASE WHEN o.layer <> a.layer THEN 'layer' END,
				CASE WHEN o.kind <> a.kind THEN 'kind' END,
				CASE WHEN o.parent_id IS DISTINCT FROM a.parent_id THEN 'parent' END,
				CASE WHEN o.households <> a.households THEN 'households' END,
				CASE WHEN o.population <> a.population THEN 'population' END,
				CASE WHEN (o.bound_east, o.bound_south, o.bound_west, o.bound_north) <> (a.east, a.south, a.west, a.north) THEN 'four_bounds' END,
				CASE WHEN NOT `+sameGeometry("o.geom", "a.geom")+` THEN 'geometry' END], NULL) END AS fields
			FROM (SELECT c.idx, c.code, c.name, c.level, c.layer, c.parent_code, c.fixed, fg.geom, c.gid, c.old_vid, c.old_from, c.old_to,
				CASE WHEN c.old_vid IS NOT NULL AND NOT $2::boolean THEN o.kind ELSE c.kind END AS kind,
				coalesce(c.households, o.households, 0) AS households, coalesce(c.population, o.population, 0) AS population,
				coalesce(c.east, o.bound_east, '') AS east, coalesce(c.south, o.bound_south, '') AS south,
				coalesce(c.west, o.bound_west, '') AS west, coalesce(c.north, o.bound_north, '') AS north,
				CASE WHEN c.parent_code IS NOT NULL THEN coalesce(pf.gid, pg.id)
				WHEN c.level <> 'district' THEN `+byContainment+`
				END AS parent_id
				FROM imp0 c
				JOIN `+im.staging+` s ON s.ogc_fid = c.idx
				CROSS JOIN LATERAL (SELECT `+featureGeom("c", "s")+` AS geom) fg
				LEFT JOIN imp0 pf ON pf.code = c.parent_code
				LEFT JOIN grids pg ON pg.code = c.parent_code AND pg.valid_from <= $1 AND (pg.valid_to IS NULL OR pg.valid_to > $1)
				LEFT JOIN grids o ON o.version_id = c.old_vid) a
			LEFT JOIN grids o ON o.version_id = a.old_vid) b`, p.From, c.Kind != "" || p.Kind != "")
	if err != nil {
		return fmt.Errorf("match grids: %w", err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE imp (idx, code, gid, action)`); err != nil {
		return err
	}
	im.step("match")
	return nil
}

// findRetired makes ret: with plan.Retire, the grids of the file's levels and layers that the
// file no longer holds; none without it.
func (im *importRun) findRetired(ctx context.Context) error {
	tx, p := im.tx, im.plan
	_, err := tx.Exec(ctx, `CREATE TEMP TABLE ret ON COMMIT DROP AS
		SELECT g.version_id, g.id, g.code, g.name, g.level, g.layer, g.valid_from FROM grids g
		WHERE $2 AND g.valid_from <= $1 AND (g.valid_to IS NULL OR g.valid_to > $1)
		AND (g.layer, g.level) IN (SELECT DISTINCT layer, level FROM imp)
		AND NOT EXISTS (SELECT 1 FROM imp i WHERE i.code = g.code)`, p.From, p.Retire)
	return err
}

// checkParents reports the parents that cannot be found, the new versions that would not start
// after the stored ones, and the retirements that cannot be done.
func (im *importRun) checkParents(ctx context.Context) error {
	p := im.plan
	problems, err := im.problems(ctx, `
		SELECT idx, code, 'parent', format('parent code %s is neither in the file nor a grid valid on %s', parent_code, $1::date)
		FROM imp WHERE parent_code IS NOT NULL AND parent_id IS NULL
		UNION ALL
		SELECT idx, code, 'parent', format('has no parent code and lies in no grid that can be its parent (a %s grid of level %s is found by the point on its surface): add a parent code column, or import the parents first',
			layer, level)
		FROM imp WHERE parent_code IS NULL AND level <> 'district' AND parent_id IS NULL
		UNION ALL
		SELECT idx, code, 'valid_from', format('its stored version starts on %s: a new version must start later than that (choose a later from date)', old_from)
		FROM imp WHERE action = 'change' AND old_from >= $1
		UNION ALL
		SELECT idx, code, 'valid_from', format('it already has a later version from %s: import from that date or later', old_to)
		FROM imp WHERE action = 'change' AND old_to IS NOT NULL
		UNION ALL
		SELECT 0, r.code, 'valid_from', format('cannot retire %s on %s: its version starts that day', r.code, $1::date)
		FROM ret r WHERE r.valid_from >= $1
		UNION ALL
		SELECT 0, r.code, 'retire', format('retiring %s (not in the file) would leave its child %s without a parent: add %s to the file, or move or retire %s',
			r.code, k.code, r.code, k.code)
		FROM ret r JOIN grids k ON k.parent_id = r.id AND k.valid_from <= $1 AND (k.valid_to IS NULL OR k.valid_to > $1)
		WHERE NOT EXISTS (SELECT 1 FROM ret r2 WHERE r2.id = k.id)
		AND NOT EXISTS (SELECT 1 FROM imp i WHERE i.gid = k.id AND i.parent_id IS DISTINCT FROM r.id)
		ORDER BY 1, 2`, p.From)
	if err != nil {
		return err
	}
	im.step("check parents")
	if len(problems) > 0 {
		return im.fail(ctx, problems)
	}
	return nil
}

// write ends the changed and retired versions on plan.From, inserts the new grids and versions,
// and checks them by the store's rules.
func (im *importRun) write(ctx context.Context) error {
	tx, p := im.tx, im.plan
	if _, err := tx.Exec(ctx, `UPDATE grids g SET valid_to = $1 FROM imp i WHERE i.action = 'change' AND g.version_id = i.old_vid`, p.From); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE grids g SET valid_to = $1 FROM ret r WHERE g.version_id = r.version_id`, p.From); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `INSERT INTO grids (id, version, code, name, level, layer, kind, parent_id,
			households, population, valid_from, bound_east, bound_south, bound_west, bound_north, geom)
		SELECT i.gid, CASE WHEN i.old_vid IS NULL THEN 1 ELSE (SELECT max(g.version) FROM grids g WHERE g.id = i.gid) + 1 END, i.code, i.name,
			i.level, i.layer, i.kind, i.parent_id, i.households, i.population, $1, i.east, i.south, i.west, i.north, `+featureGeom("i", "s")+`
		FROM imp i JOIN `+im.staging+` s ON s.ogc_fid = i.idx WHERE i.action IN ('add', 'change')
		RETURNING version_id`, p.From)
	if err != nil {
		return err
	}
	vids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	im.written = vids
	im.step("write")
	if err != nil {
		var ge *gridline.Error
		if errors.As(classify(err), &ge) && ge.Code == gridline.EConflict {
			return im.fail(ctx, []ImportProblem{{Message: ge.Message}})
		}
		return err
	}
	if len(vids) > 0 {
		if err := im.checkRules(ctx, vids); err != nil {
			return err
		}
		im.step("checkGrids")
	}
	return nil
}

// familiesSQL selects, inside the import's transaction, the grid versions valid on $2 of every
// family the import touches: the parents of the versions it wrote ($1) and of the versions it
// retired (ret), the grids it wrote themselves (as parents of their children), and every child of
// those parents.
const familiesSQL = `WITH touched AS (
		SELECT g.parent_id AS id FROM grids g WHERE g.version_id = ANY($1) AND g.parent_id IS NOT NULL
		UNION SELECT g.id FROM grids g WHERE g.version_id = ANY($1)
		UNION SELECT g.parent_id FROM grids g JOIN ret r ON r.version_id = g.version_id WHERE g.parent_id IS NOT NULL)
	SELECT ` + gridColumns + `, ST_AsBinary(g.geom) FROM grids g
	WHERE g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2)
		AND (g.id IN (SELECT id FROM touched) OR g.parent_id IN (SELECT id FROM touched))
	ORDER BY g.version_id`

// audit hands the families the import touches, as the rolled-back transaction holds them, to
// the plan's auditor, and puts its answer in the report.
func (im *importRun) audit(ctx context.Context) error {
	rows, err := im.tx.Query(ctx, familiesSQL, im.written, im.plan.From)
	if err != nil {
		return err
	}
	grids, err := collectGrids(rows, true)
	if err != nil {
		return err
	}
	im.rep.Coverage, err = im.plan.Audit(ctx, grids, im.plan.From)
	im.step("coverage audit")
	return err
}

// checkRules runs checkGrids on the versions just written, vids, and turns the problems it finds
// into the report's, each with the index of its feature.
func (im *importRun) checkRules(ctx context.Context, vids []int64) error {
	err := checkGridsList(ctx, im.tx, vids, im.plan.Tolerance, true, im.plan.ListLimit)
	if err == nil {
		return nil
	}
	var ge *gridline.Error
	if !errors.As(err, &ge) {
		return err
	}
	list, _ := ge.Details["problems"].([]map[string]any)
	if len(list) == 0 {
		return im.fail(ctx, []ImportProblem{{Message: ge.Message}})
	}
	var ps []ImportProblem
	for _, m := range list {
		code, _ := m["code"].(string)
		field, _ := m["field"].(string)
		msg, _ := m["message"].(string)
		ps = append(ps, ImportProblem{Code: code, Field: field, Message: msg})
	}
	if err := im.indexByCode(ctx, ps); err != nil {
		return err
	}
	err = im.fail(ctx, ps)
	// The list stops at the plan's limit; the count is every problem the rules found.
	if n, ok := ge.Details["problem_count"].(int); ok && n > im.rep.ProblemCount {
		im.rep.ProblemCount = n
	}
	if n, ok := ge.Details["grid_count"].(int); ok && n > im.rep.FeaturesWithProblems {
		im.rep.FeaturesWithProblems = n
	}
	return err
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// problems runs a query of (index, code, field, message) rows.
func (im *importRun) problems(ctx context.Context, q string, args ...any) ([]ImportProblem, error) {
	rows, err := im.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("check features: %w", err)
	}
	defer rows.Close()
	var out []ImportProblem
	for rows.Next() {
		var p ImportProblem
		var code *string
		if err := rows.Scan(&p.Index, &code, &p.Field, &p.Message); err != nil {
			return nil, err
		}
		if code != nil {
			p.Code = *code
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// indexByCode fills in the feature index of problems that checkGrids names by code.
func (im *importRun) indexByCode(ctx context.Context, ps []ImportProblem) error {
	for i := range ps {
		if ps[i].Code == "" {
			continue
		}
		err := im.tx.QueryRow(ctx, `SELECT idx FROM imp WHERE code = $1 ORDER BY idx LIMIT 1`, ps[i].Code).Scan(&ps[i].Index)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	return nil
}

// fail records the problems, works out what would happen to the other features (outcome), and
// stops the transaction.
func (im *importRun) fail(ctx context.Context, ps []ImportProblem) error {
	im.rep.ProblemCount = len(ps)
	bad := map[int]bool{}
	for _, p := range ps {
		if p.Index > 0 && !p.Line {
			bad[p.Index] = true
		}
	}
	im.rep.FeaturesWithProblems = len(bad)
	if len(ps) > im.plan.ListLimit {
		ps = ps[:im.plan.ListLimit]
	}
	im.rep.Problems = ps
	if err := im.outcome(ctx, bad); err != nil {
		return err
	}
	return errImportProblems
}

// outcome fills the report's counts and lists with what would happen to the features that have
// no problem: a dry run with one bad feature still says what the rest would do. When the
// features' own checks failed, the others are matched with the stored grids first (without
// their parents' and the store's checks, which wait for the problems to be fixed). It runs in a
// savepoint: whatever goes wrong here, the problems are still the report.
func (im *importRun) outcome(ctx context.Context, bad map[int]bool) error {
	if im.rep.Features == 0 {
		return nil
	}
	idx := make([]int32, 0, len(bad))
	for i := range bad {
		idx = append(idx, int32(i))
	}
	sp, err := im.tx.Begin(ctx)
	if err != nil {
		return err
	}
	outer := im.tx
	im.tx = sp
	defer func() { im.tx = outer }()
	err = func() error {
		var matched bool
		if err := sp.QueryRow(ctx, `SELECT to_regclass('pg_temp.imp') IS NOT NULL`).Scan(&matched); err != nil {
			return err
		}
		if !matched {
			if _, err := sp.Exec(ctx, `DELETE FROM imp0 WHERE idx = ANY($1)`, idx); err != nil {
				return err
			}
			if err := im.match(ctx); err != nil {
				return err
			}
			if err := im.findRetired(ctx); err != nil {
				return err
			}
		}
		if _, err := sp.Exec(ctx, `DELETE FROM imp WHERE idx = ANY($1)`, idx); err != nil {
			return err
		}
		return im.summarise(ctx)
	}()
	if err != nil {
		im.rep.Warnings = append(im.rep.Warnings, "what the features without problems would do could not be worked out: "+err.Error())
		return sp.Rollback(ctx)
	}
	return sp.Commit(ctx)
}

func (im *importRun) repaired(ctx context.Context) error {
	if err := im.tx.QueryRow(ctx, `SELECT count(*) FROM imp0 WHERE invalid_reason IS NOT NULL`).Scan(&im.rep.Repaired); err != nil {
		return err
	}
	ps, err := im.problems(ctx, `SELECT idx, code, 'geometry', 'repaired: ' || invalid_reason FROM imp0
		WHERE invalid_reason IS NOT NULL ORDER BY idx LIMIT $1`, im.plan.ListLimit)
	if err != nil {
		return err
	}
	if ps != nil {
		im.rep.Lists.Repaired = ps
	}
	return nil
}

// summarise counts and lists what the import does.
func (im *importRun) summarise(ctx context.Context) error {
	tx, r := im.tx, im.rep
	err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'add'), count(*) FILTER (WHERE action = 'change'),
		count(*) FILTER (WHERE action = 'same'), (SELECT count(*) FROM ret) FROM imp`).Scan(&r.Added, &r.Changed, &r.Unchanged, &r.Retired)
	if err != nil {
		return err
	}
	list := func(q string) ([]ImportChange, error) {
		rows, err := tx.Query(ctx, q, im.plan.ListLimit)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []ImportChange{}
		for rows.Next() {
			var c ImportChange
			var level, layer string
			if err := rows.Scan(&c.Index, &c.Code, &c.Name, &level, &layer, &c.AreaM2, &c.OldAreaM2, &c.Fields); err != nil {
				return nil, err
			}
			c.Level, c.Layer = gridline.Level(level), gridline.Layer(layer)
			out = append(out, c)
		}
		return out, rows.Err()
	}
	// The areas are computed for the listed rows only, after the limit.
	area := `round(ST_Area(` + featureGeom("i", "s") + `::geography)::numeric, 1)::float8`
	if r.Lists.Added, err = list(`SELECT i.idx, i.code, i.name, i.level, i.layer, ` + area + `, NULL::float8, NULL::text[]
		FROM (SELECT * FROM imp WHERE action = 'add' ORDER BY idx LIMIT $1) i JOIN ` + im.staging + ` s ON s.ogc_fid = i.idx ORDER BY i.idx`); err != nil {
		return err
	}
	if r.Lists.Changed, err = list(`SELECT i.idx, i.code, i.name, i.level, i.layer, ` + area + `,
		round(ST_Area(g.geom::geography)::numeric, 1)::float8, i.fields
		FROM (SELECT * FROM imp WHERE action = 'change' ORDER BY idx LIMIT $1) i JOIN ` + im.staging + ` s ON s.ogc_fid = i.idx
		JOIN grids g ON g.version_id = i.old_vid ORDER BY i.idx`); err != nil {
		return err
	}
	r.Lists.Retired, err = list(`SELECT 0, r.code, r.name, r.level, r.layer, round(ST_Area(g.geom::geography)::numeric, 1)::float8, NULL::float8, NULL::text[]
		FROM (SELECT * FROM ret ORDER BY code LIMIT $1) r JOIN grids g ON g.version_id = r.version_id ORDER BY r.code`)
	return err
}
