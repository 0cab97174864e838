package store

import (
	"context"

	"gridline.dev/gridline"
)

// RenameGrid corrects the name of grid id's open-ended version in place, without a new version:
// a misspelt name is no change on the ground, so its history need not record it. The triggers
// stamp the row and notify listeners as for any other write (the tile benchmark times how soon
// such an edit shows).
func (db *DB) RenameGrid(ctx context.Context, id int64, name string) error {
	if name == "" {
		return gridline.Errorf(gridline.EInvalid, "grid %d: a name cannot be empty", id)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE grids SET name = $2 WHERE id = $1 AND valid_to IS NULL`, id, name)
	if err != nil {
		return classify(err)
	}
	if tag.RowsAffected() == 0 {
		return gridline.Errorf(gridline.ENotFound, "grid %d has no open-ended version to rename", id)
	}
	return nil
}
