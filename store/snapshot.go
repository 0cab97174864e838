package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
)

// Snapshot is every grid version with its geometry and every assignment, read in one consistent
// transaction: what the in-memory resolution index is built from. It is not stamped with the time
// it was read: the store takes the dates it works with from its callers, who have the clock.
type Snapshot struct {
	Grids []gridline.Grid
	Staff []gridline.Staff
}

// Snapshot reads the whole store.
func (db *DB) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{}
	err := db.readOnly(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM grids g ORDER BY g.version_id`)
		if err != nil {
			return err
		}
		if s.Grids, err = collectGrids(rows, true); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, staffQuery+` ORDER BY a.grid_id, array_position($1::text[], a.role), p.name, a.id`, roleOrder())
		if err != nil {
			return err
		}
		s.Staff, err = scanStaff(rows)
		return err
	})
	return s, err
}

// readOnly runs fn in a repeatable-read, read-only transaction.
func (db *DB) readOnly(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	return classify(fn(tx))
}

// GridChanges reads, in one consistent transaction, the change stamp of every grid version and the
// full rows (with geometry) of the versions whose stamp differs from known, or that known lacks.
// With known nil every row is read. Versions in known but not in stamps were deleted.
func (db *DB) GridChanges(ctx context.Context, known map[int64]int64) (stamps map[int64]int64, changed []gridline.Grid, err error) {
	err = db.readOnly(ctx, func(tx pgx.Tx) error {
		if known == nil {
			rows, err := tx.Query(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom), g.change_seq FROM grids g ORDER BY g.version_id`)
			if err != nil {
				return err
			}
			stamps = map[int64]int64{}
			defer rows.Close()
			for rows.Next() {
				var stamp int64
				g, err := scanGrid(rows, true, &stamp)
				if err != nil {
					return err
				}
				stamps[g.VersionID] = stamp
				changed = append(changed, g)
			}
			return rows.Err()
		}
		rows, err := tx.Query(ctx, `SELECT version_id, change_seq FROM grids`)
		if err != nil {
			return err
		}
		stamps = make(map[int64]int64, len(known))
		var want []int64
		for rows.Next() {
			var v, s int64
			if err := rows.Scan(&v, &s); err != nil {
				rows.Close()
				return err
			}
			stamps[v] = s
			if old, ok := known[v]; !ok || old != s {
				want = append(want, v)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(want) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM grids g WHERE g.version_id = ANY($1) ORDER BY g.version_id`, want)
		if err != nil {
			return err
		}
		changed, err = collectGrids(rows, true)
		return err
	})
	return stamps, changed, err
}

// AllStaff reads every assignment with its person.
func (db *DB) AllStaff(ctx context.Context) ([]gridline.Staff, error) {
	rows, err := db.pool.Query(ctx, staffQuery+` ORDER BY a.grid_id, array_position($1::text[], a.role), p.name, a.id`, roleOrder())
	if err != nil {
		return nil, classify(err)
	}
	s, err := scanStaff(rows)
	return s, classify(err)
}
