package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/patrol"
)

// Patrols: the positions grid workers' phones send (migration 0012). See package patrol.

// OwnGrids are the grid identities of person's posts valid on day.
func (db *DB) OwnGrids(ctx context.Context, person int64, day time.Time) ([]int64, error) {
	var ids []int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT grid_id), '{}') FROM assignments
		WHERE person_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)`, person, day).Scan(&ids)
	return ids, classify(err)
}

// OwnGridsOf are the grid identities of the posts valid on day of each of persons (one pass over
// assignments: persons are joined as a table, not searched as an array, for the positions answer
// names everyone's).
func (db *DB) OwnGridsOf(ctx context.Context, persons []int64, day time.Time) (map[int64][]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT a.person_id, a.grid_id FROM assignments a
		JOIN unnest($1::bigint[]) AS p(id) ON p.id = a.person_id
		WHERE a.valid_from <= $2 AND (a.valid_to IS NULL OR a.valid_to > $2) ORDER BY 1, 2`, persons, day)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var p, g int64
		if err := rows.Scan(&p, &g); err != nil {
			return nil, classify(err)
		}
		out[p] = append(out[p], g)
	}
	return out, classify(rows.Err())
}

// PersonExists reports whether person is in the roster.
func (db *DB) PersonExists(ctx context.Context, person int64) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM people WHERE id = $1)`, person).Scan(&ok)
	return ok, classify(err)
}

func optID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// InsertPositions stores ps with COPY and moves each person's last position forward, in one
// transaction.
func (db *DB) InsertPositions(ctx context.Context, ps []patrol.Position) error {
	last := map[int64]int{}
	for i := range ps {
		if j, ok := last[ps[i].PersonID]; !ok || ps[i].At.After(ps[j].At) {
			last[ps[i].PersonID] = i
		}
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(ps) {
				return nil, nil
			}
			p := &ps[i]
			i++
			return []any{p.PersonID, p.At, p.Lon, p.Lat, p.Accuracy, optID(p.GridID), optID(p.OwnGrid)}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"positions"}, []string{"person_id", "at", "lon", "lat", "accuracy", "grid_id", "own_grid"}, src); err != nil {
			return err
		}
		for _, j := range last {
			p := &ps[j]
			if _, err := tx.Exec(ctx, `INSERT INTO worker_positions (person_id, at, lon, lat, accuracy, grid_id, own_grid)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (person_id) DO UPDATE SET at = excluded.at, lon = excluded.lon, lat = excluded.lat,
					accuracy = excluded.accuracy, grid_id = excluded.grid_id, own_grid = excluded.own_grid
				WHERE worker_positions.at <= excluded.at`,
				p.PersonID, p.At, p.Lon, p.Lat, p.Accuracy, optID(p.GridID), optID(p.OwnGrid)); err != nil {
				return err
			}
		}
		return nil
	})
}

// PrunePositions deletes positions older than before (the retention), and last positions too.
func (db *DB) PrunePositions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM positions WHERE at < $1`, before)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM worker_positions WHERE at < $1`, before)
		return err
	})
	return n, err
}

func scanIDs(gridID, ownGrid *int64, p *patrol.Position) {
	if gridID != nil {
		p.GridID = *gridID
	}
	if ownGrid != nil {
		p.OwnGrid = *ownGrid
	}
}

// LastPositions is everyone's last position, with their name.
func (db *DB) LastPositions(ctx context.Context) ([]patrol.Last, error) {
	rows, err := db.pool.Query(ctx, `SELECT w.person_id, p.name, w.at, w.lon, w.lat, w.accuracy, w.grid_id, w.own_grid
		FROM worker_positions w JOIN people p ON p.id = w.person_id ORDER BY w.person_id`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []patrol.Last
	for rows.Next() {
		var l patrol.Last
		var g, o *int64
		if err := rows.Scan(&l.PersonID, &l.Name, &l.At, &l.Lon, &l.Lat, &l.Accuracy, &g, &o); err != nil {
			return nil, classify(err)
		}
		scanIDs(g, o, &l.Position)
		out = append(out, l)
	}
	return out, classify(rows.Err())
}

// Track is person's positions in [from, to), in time order.
func (db *DB) Track(ctx context.Context, person int64, from, to time.Time) ([]patrol.Position, error) {
	rows, err := db.pool.Query(ctx, `SELECT at, lon, lat, accuracy, grid_id, own_grid FROM positions
		WHERE person_id = $1 AND at >= $2 AND at < $3 ORDER BY at`, person, from, to)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []patrol.Position
	for rows.Next() {
		p := patrol.Position{PersonID: person}
		var g, o *int64
		if err := rows.Scan(&p.At, &p.Lon, &p.Lat, &p.Accuracy, &g, &o); err != nil {
			return nil, classify(err)
		}
		scanIDs(g, o, &p)
		out = append(out, p)
	}
	return out, classify(rows.Err())
}

// coveredSQL is the share of the union of grids $1 (versions valid on $2) within $4 metres of the
// lines $3 (WKB MultiLineString): buffered on the geography, so the metres are metres.
const coveredSQL = `
WITH own AS (
    SELECT ST_Union(geom) AS g FROM grids
    WHERE id = ANY($1) AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)
), walked AS (
    SELECT ST_Buffer(ST_GeomFromWKB($3, 4326)::geography, $4)::geometry AS g
)
SELECT CASE WHEN ST_Area(own.g::geography) > 0
            THEN ST_Area(ST_Intersection(own.g, walked.g)::geography) / ST_Area(own.g::geography)
            ELSE 0 END
FROM own, walked WHERE own.g IS NOT NULL`

// CoveredShare is the share (0..1) of the union of grids (valid on day) within bufferM of lines.
func (db *DB) CoveredShare(ctx context.Context, grids []int64, day time.Time, lines []orb.LineString, bufferM float64) (float64, error) {
	if len(lines) == 0 || len(grids) == 0 {
		return 0, nil
	}
	b, err := wkb.Marshal(orb.MultiLineString(lines))
	if err != nil {
		return 0, err
	}
	var share float64
	err = db.pool.QueryRow(ctx, coveredSQL, grids, day, b, bufferM).Scan(&share)
	if err == pgx.ErrNoRows {
		return 0, nil
	}
	return min(share, 1), classify(err)
}

// subtreeSQL are the grid identities of $1 and below it, versions valid on $2.
const subtreeSQL = `
WITH RECURSIVE sub AS (
    SELECT id FROM grids WHERE id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)
    UNION
    SELECT g.id FROM grids g JOIN sub ON g.parent_id = sub.id
    WHERE g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2)
)`

// patrolPosts are the posts whose holders patrol their grid.
var patrolPosts = []string{string(gridline.PostFullTimeWorker), string(gridline.PostPartTimeWorker), string(gridline.PostGridChief)}

// PatrolWorkers are the people holding a patrolling post (grid chief, full- or part-time worker)
// valid on day on grid root or below it.
func (db *DB) PatrolWorkers(ctx context.Context, root int64, day time.Time) ([]patrol.Worker, error) {
	rows, err := db.pool.Query(ctx, subtreeSQL+`
		SELECT a.person_id, p.name, a.grid_id, a.role FROM assignments a
		JOIN sub ON sub.id = a.grid_id JOIN people p ON p.id = a.person_id
		WHERE a.valid_from <= $2 AND (a.valid_to IS NULL OR a.valid_to > $2) AND a.role = ANY($3)
		ORDER BY a.person_id, a.grid_id`, root, day, patrolPosts)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []patrol.Worker
	for rows.Next() {
		var w patrol.Worker
		if err := rows.Scan(&w.PersonID, &w.Name, &w.GridID, &w.Post); err != nil {
			return nil, classify(err)
		}
		out = append(out, w)
	}
	return out, classify(rows.Err())
}

// LastPatrols is, for each grid at or below root with a patrolling post valid on day, the last
// time before `before` that one of its own workers was inside it.
func (db *DB) LastPatrols(ctx context.Context, root int64, day, before time.Time) ([]patrol.GridPatrol, error) {
	rows, err := db.pool.Query(ctx, subtreeSQL+`
		SELECT g.id, g.code, g.name,
		       (SELECT max(at) FROM positions WHERE own_grid = g.id AND at < $4)
		FROM grids g JOIN sub ON sub.id = g.id
		WHERE g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2)
		  AND EXISTS (SELECT 1 FROM assignments a WHERE a.grid_id = g.id AND a.role = ANY($3)
		              AND a.valid_from <= $2 AND (a.valid_to IS NULL OR a.valid_to > $2))
		ORDER BY g.code`, root, day, patrolPosts, before)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []patrol.GridPatrol
	for rows.Next() {
		var g patrol.GridPatrol
		if err := rows.Scan(&g.GridID, &g.Code, &g.Name, &g.LastPatrol); err != nil {
			return nil, classify(err)
		}
		out = append(out, g)
	}
	return out, classify(rows.Err())
}

// DB is the store package patrol needs.
var _ patrol.Store = (*DB)(nil)
