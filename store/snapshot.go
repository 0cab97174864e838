package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline"
)

// Snapshot is every grid version with its geometry and every assignment, read in one consistent
// transaction: what the in-memory resolution index is built from.
type Snapshot struct {
	Grids []gridline.Grid
	Staff []gridline.Staff
	Taken time.Time
}

// Snapshot reads the whole store.
func (db *DB) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{Taken: time.Now()}
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
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	return classify(fn(tx))
}
