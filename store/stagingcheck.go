package store

import "context"

// StagingExists tells whether ogr2ogr created the staging table: it exits 0 without creating it
// for a file it opened but could read no layer of (a truncated FlatGeobuf, say), and the import
// must then say so rather than fail on a missing table.
func (db *DB) StagingExists(ctx context.Context, name string) (bool, error) {
	t, err := stagingTable(name)
	if err != nil {
		return false, err
	}
	var ok bool
	// to_regclass is NULL for a table that does not exist, where a cast to regclass would fail.
	err = db.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t).Scan(&ok)
	return ok, classify(err)
}
