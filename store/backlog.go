package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
)

// CreateCases writes a backlog of cases in one transaction, each as CreateCase writes one, and one
// audit row for the import (`gridline cases import`): all or none. An error about one case carries
// its index (detail "index").
func (db *DB) CreateCases(ctx context.Context, ncs []*dispatch.NewCase) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		ids := make([]int64, 0, len(ncs))
		var grids []int64
		seen := map[int64]bool{}
		for i, nc := range ncs {
			if err := createCase(ctx, tx, nc); err != nil {
				err = classify(err)
				var ge *gridline.Error
				if errors.As(err, &ge) {
					return ge.With("index", i)
				}
				return err
			}
			ids = append(ids, nc.Case.ID)
			if g := nc.Case.GridID; g != 0 && !seen[g] {
				seen[g] = true
				grids = append(grids, g)
			}
		}
		return appendAudit(ctx, tx, audit{Action: "cases.import", TargetKind: "case", TargetIDs: ids, GridIDs: grids,
			After: map[string]any{"cases": len(ids)}})
	})
}
