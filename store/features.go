package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

// Collection is one level of one layer, as OGC API - Features lists it.
type Collection struct {
	Layer   gridline.Layer
	Level   gridline.Level
	Current int       // versions valid on the date asked
	BBox    orb.Bound // of every version ever stored
	First   time.Time // the earliest valid_from
}

// Collections lists the (layer, level) pairs that have ever held a grid.
func (db *DB) Collections(ctx context.Context, at time.Time) ([]Collection, error) {
	rows, err := db.pool.Query(ctx, `SELECT g.layer, g.level, count(*) FILTER (WHERE `+validAt(1)+`),
		ST_XMin(ST_Extent(g.geom)), ST_YMin(ST_Extent(g.geom)), ST_XMax(ST_Extent(g.geom)), ST_YMax(ST_Extent(g.geom)), min(g.valid_from)
		FROM grids g GROUP BY g.layer, g.level
		ORDER BY g.layer <> 'comprehensive', g.layer, `+levelRank("g.level"), at)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []Collection
	for rows.Next() {
		var c Collection
		var layer, level string
		if err := rows.Scan(&layer, &level, &c.Current, &c.BBox.Min[0], &c.BBox.Min[1], &c.BBox.Max[0], &c.BBox.Max[1], &c.First); err != nil {
			return nil, classify(err)
		}
		c.Layer, c.Level = gridline.Layer(layer), gridline.Level(level)
		out = append(out, c)
	}
	return out, classify(rows.Err())
}

// FeatureQuery selects the grids of one collection for OGC API - Features. Property filters are
// exact matches.
type FeatureQuery struct {
	Layer gridline.Layer
	Level gridline.Level
	At    time.Time // the versions valid on this date, unless Interval
	// Interval selects instead every version valid on some day from From to To, both included;
	// a zero From or To leaves that end open. A grid may then have several features.
	Interval   bool
	From, To   time.Time
	BBox       *orb.Bound
	Code       string
	Name       string
	Kind       string
	ParentCode string
	ID         int64 // one feature, by grid id
	Limit      int
	Offset     int
}

// Feature is a grid with its parent's code.
type Feature struct {
	gridline.Grid
	ParentCode string
}

// Features lists the grids q selects, ordered by code, and how many match in all.
func (db *DB) Features(ctx context.Context, q FeatureQuery) ([]Feature, int, error) {
	args := []any{string(q.Layer), string(q.Level)}
	where := []string{"g.layer = $1", "g.level = $2"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	// The parent is named as of the date asked, or for an interval as of the version's first day.
	parentAt := "$3"
	if !q.Interval {
		args = append(args, q.At)
		where = append(where, validAt(3))
	} else {
		parentAt = "g.valid_from"
		if !q.From.IsZero() {
			add("(g.valid_to IS NULL OR g.valid_to > $?)", q.From)
		}
		if !q.To.IsZero() {
			add("g.valid_from <= $?", q.To)
		}
	}
	if q.Code != "" {
		add("g.code = $?", q.Code)
	}
	if q.Name != "" {
		add("g.name = $?", q.Name)
	}
	if q.Kind != "" {
		add("g.kind = $?", q.Kind)
	}
	if q.ID != 0 {
		add("g.id = $?", q.ID)
	}
	if q.ParentCode != "" {
		add("p.code = $?", q.ParentCode)
	}
	if q.BBox != nil {
		// The envelope, not the column, is built from the parameters, so the GiST index is used.
		args = append(args, q.BBox.Min[0], q.BBox.Min[1], q.BBox.Max[0], q.BBox.Max[1])
		n := len(args)
		where = append(where, fmt.Sprintf("g.geom && ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326) AND ST_Intersects(g.geom, ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326))", n-3, n-2, n-1, n, n-3, n-2, n-1, n))
	}
	from := `grids g LEFT JOIN grids p ON p.id = g.parent_id AND p.valid_from <= ` + parentAt + ` AND (p.valid_to IS NULL OR p.valid_to > ` + parentAt + `)`
	cond := strings.Join(where, " AND ")
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM `+from+` WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, classify(err)
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT %s, ST_AsBinary(g.geom), coalesce(p.code, '') FROM %s WHERE %s
		ORDER BY g.code, g.id, g.valid_from LIMIT $%d OFFSET $%d`, gridColumns, from, cond, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, classify(err)
	}
	defer rows.Close()
	var out []Feature
	for rows.Next() {
		var f Feature
		var parent string
		g, err := scanGrid(rowWithExtra{rows, &parent}, true)
		if err != nil {
			return nil, 0, classify(err)
		}
		f.Grid, f.ParentCode = g, parent
		out = append(out, f)
	}
	return out, total, classify(rows.Err())
}

// rowWithExtra lets scanGrid read a row that has one more column after the geometry.
type rowWithExtra struct {
	row   interface{ Scan(...any) error }
	extra any
}

func (r rowWithExtra) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra)...) }
