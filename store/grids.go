package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridline.dev/gridline"
)

// gridColumns is the select list every grid read uses, in the order scanGrid reads it.
// Geometry is selected as ST_AsBinary: pgx asks for PostGIS geometry in text format, and orb's
// scanners read only binary.
const gridColumns = `g.version_id, g.id, g.version, g.code, g.name, g.level, g.layer, g.kind,
	coalesce(g.parent_id, 0), g.households, g.population, g.valid_from, g.valid_to,
	g.bound_east, g.bound_south, g.bound_west, g.bound_north`

// validAt is the condition "version valid on date $n" for alias g.
func validAt(n int) string {
	return fmt.Sprintf("(g.valid_from <= $%d AND (g.valid_to IS NULL OR g.valid_to > $%d))", n, n)
}

// scanGrid reads one row of gridColumns (and the geometry when withGeom), then any extra columns
// into extra.
func scanGrid(row pgx.Row, withGeom bool, extra ...any) (gridline.Grid, error) {
	var g gridline.Grid
	var level, layer string
	var geom []byte
	dest := []any{&g.VersionID, &g.ID, &g.Version, &g.Code, &g.Name, &level, &layer, &g.Kind,
		&g.ParentID, &g.Households, &g.Population, &g.ValidFrom, &g.ValidTo,
		&g.Bounds.East, &g.Bounds.South, &g.Bounds.West, &g.Bounds.North}
	if withGeom {
		dest = append(dest, &geom)
	}
	dest = append(dest, extra...)
	if err := row.Scan(dest...); err != nil {
		return g, err
	}
	g.Level, g.Layer = gridline.Level(level), gridline.Layer(layer)
	if withGeom {
		mp, err := decodeMultiPolygon(geom)
		if err != nil {
			return g, fmt.Errorf("grid %s: %w", g.Code, err)
		}
		g.Geometry = mp
	}
	return g, nil
}

func decodeMultiPolygon(b []byte) (orb.MultiPolygon, error) {
	geom, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	switch v := geom.(type) {
	case orb.MultiPolygon:
		return v, nil
	case orb.Polygon:
		return orb.MultiPolygon{v}, nil
	}
	return nil, fmt.Errorf("geometry is a %s, not a polygon", geom.GeoJSONType())
}

// GridFilter selects grid versions. Zero fields do not filter.
type GridFilter struct {
	Level        gridline.Level
	Layer        gridline.Layer
	ParentID     int64
	BBox         *orb.Bound // lon/lat; grids whose geometry intersects it
	CodePrefix   string
	Name         string    // substring of the name
	At           time.Time // versions valid on this date (required)
	Limit        int       // default 100, at most 1000
	Offset       int
	WithGeometry bool
}

// Grids lists the grid versions that match f, ordered by code, and the total count that match.
func (db *DB) Grids(ctx context.Context, f GridFilter) ([]gridline.Grid, int, error) {
	if f.At.IsZero() {
		return nil, 0, errors.New("store: GridFilter.At is required")
	}
	args := []any{f.At}
	where := []string{validAt(1)}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Level != "" {
		add("g.level = $?", string(f.Level))
	}
	if f.Layer != "" {
		add("g.layer = $?", string(f.Layer))
	}
	if f.ParentID != 0 {
		add("g.parent_id = $?", f.ParentID)
	}
	if f.CodePrefix != "" {
		// LIKE with text_pattern_ops uses the index; escape the pattern characters.
		add(`g.code LIKE $? ESCAPE '\'`, likeEscape(f.CodePrefix)+"%")
	}
	if f.Name != "" {
		add(`g.name LIKE $? ESCAPE '\'`, "%"+likeEscape(f.Name)+"%")
	}
	if f.BBox != nil {
		args = append(args, f.BBox.Min[0], f.BBox.Min[1], f.BBox.Max[0], f.BBox.Max[1])
		n := len(args)
		where = append(where, fmt.Sprintf("g.geom && ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326) AND ST_Intersects(g.geom, ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326))", n-3, n-2, n-1, n, n-3, n-2, n-1, n))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM grids g WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, classify(err)
	}
	cols := gridColumns
	if f.WithGeometry {
		cols += ", ST_AsBinary(g.geom)"
	}
	args = append(args, f.Limit, f.Offset)
	q := fmt.Sprintf(`SELECT %s FROM grids g WHERE %s ORDER BY g.code, g.id LIMIT $%d OFFSET $%d`, cols, cond, len(args)-1, len(args))
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, classify(err)
	}
	out, err := collectGrids(rows, f.WithGeometry)
	return out, total, classify(err)
}

func collectGrids(rows pgx.Rows, withGeom bool) ([]gridline.Grid, error) {
	defer rows.Close()
	var out []gridline.Grid
	for rows.Next() {
		g, err := scanGrid(rows, withGeom)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Grid finds the version of one grid valid on date at, by code or, when no code matches, by
// numeric id. Codes win because standard codes are all digits too.
func (db *DB) Grid(ctx context.Context, idOrCode string, at time.Time) (*gridline.Grid, error) {
	q := `SELECT ` + gridColumns + `, ST_AsBinary(g.geom) FROM grids g WHERE g.code = $2 AND ` + validAt(1)
	g, err := scanGrid(db.pool.QueryRow(ctx, q, at, idOrCode), true)
	if errors.Is(err, pgx.ErrNoRows) {
		if id, perr := strconv.ParseInt(idOrCode, 10, 64); perr == nil {
			q = `SELECT ` + gridColumns + `, ST_AsBinary(g.geom) FROM grids g WHERE g.id = $2 AND ` + validAt(1)
			g, err = scanGrid(db.pool.QueryRow(ctx, q, at, id), true)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &gridline.Error{Code: gridline.ENotFound, Message: fmt.Sprintf("no grid with code or id %q is valid on %s", idOrCode, gridline.Date(at)), Details: map[string]any{"grid": idOrCode, "at": gridline.Date(at)}}
	}
	if err != nil {
		return nil, classify(err)
	}
	return &g, nil
}

// Versions lists every version of grid id, oldest first.
func (db *DB) Versions(ctx context.Context, id int64) ([]gridline.Grid, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM grids g WHERE g.id = $1 ORDER BY g.valid_from`, id)
	if err != nil {
		return nil, classify(err)
	}
	out, err := collectGrids(rows, true)
	return out, classify(err)
}

// Chain is the parent chain of grid id on date at, from the root down to (not including) the grid.
func (db *DB) Chain(ctx context.Context, id int64, at time.Time) ([]gridline.Grid, error) {
	rows, err := db.pool.Query(ctx, `
		WITH RECURSIVE up(gid, parent, depth) AS (
			SELECT g.id, g.parent_id, 0 FROM grids g WHERE g.id = $2 AND `+validAt(1)+`
			UNION ALL
			SELECT g.id, g.parent_id, up.depth + 1 FROM grids g JOIN up ON g.id = up.parent
			WHERE `+validAt(1)+` AND up.depth < 16
		)
		SELECT `+gridColumns+` FROM up JOIN grids g ON g.id = up.gid AND `+validAt(1)+`
		WHERE up.depth > 0 ORDER BY up.depth DESC`, at, id)
	if err != nil {
		return nil, classify(err)
	}
	out, err := collectGrids(rows, false)
	return out, classify(err)
}

// ChildCount is the number of grids whose parent is id on date at.
func (db *DB) ChildCount(ctx context.Context, id int64, at time.Time) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM grids g WHERE g.parent_id = $2 AND `+validAt(1), at, id).Scan(&n)
	return n, classify(err)
}

// staffColumns / staffFrom read assignments joined to people.
const staffQuery = `SELECT a.grid_id, a.role, p.id, p.name, p.phone, a.valid_from, a.valid_to
	FROM assignments a JOIN people p ON p.id = a.person_id`

func scanStaff(rows pgx.Rows) ([]gridline.Staff, error) {
	defer rows.Close()
	var out []gridline.Staff
	for rows.Next() {
		var s gridline.Staff
		var role string
		if err := rows.Scan(&s.GridID, &role, &s.PersonID, &s.Name, &s.Phone, &s.ValidFrom, &s.ValidTo); err != nil {
			return nil, err
		}
		s.Post = gridline.Post(role)
		out = append(out, s)
	}
	return out, rows.Err()
}

// StaffOf lists the assignments valid on date at for the given grids, by grid.
func (db *DB) StaffOf(ctx context.Context, gridIDs []int64, at time.Time) (map[int64][]gridline.Staff, error) {
	rows, err := db.pool.Query(ctx, staffQuery+` WHERE a.grid_id = ANY($1) AND a.valid_from <= $2 AND (a.valid_to IS NULL OR a.valid_to > $2)
		ORDER BY a.grid_id, array_position($3::text[], a.role), p.name`, gridIDs, at, roleOrder())
	if err != nil {
		return nil, classify(err)
	}
	list, err := scanStaff(rows)
	if err != nil {
		return nil, classify(err)
	}
	out := map[int64][]gridline.Staff{}
	for _, s := range list {
		out[s.GridID] = append(out[s.GridID], s)
	}
	return out, nil
}

func roleOrder() []string {
	out := make([]string, len(gridline.Posts))
	for i, r := range gridline.Posts {
		out[i] = string(r)
	}
	return out
}
