package store

import "github.com/jackc/pgx/v5/pgxpool"

// Classify is classify, for the tests of package store_test.
var Classify = classify

// Pool is the store's own pool, for tests that must see what its connections were set up with or
// end them.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// LevelExpr lets the tests of package store_test run levelExpr against the database.
var LevelExpr = levelExpr
