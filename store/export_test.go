package store

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"gridline.dev/gridline/dispatch"
)

// Classify is classify, for the tests of package store_test.
var Classify = classify

// Pool is the store's own pool, for tests that must see what its connections were set up with or
// end them.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// LevelExpr lets the tests of package store_test run levelExpr against the database.
var LevelExpr = levelExpr

// WriteIntakeBatch writes ncs as the intake writer writes one batch it gathered, and returns each
// case's answer: the tests of group commit need a batch of known members.
func (db *DB) WriteIntakeBatch(ncs []*dispatch.NewCase) []error {
	reqs := make([]*intakeReq, len(ncs))
	for i, nc := range ncs {
		reqs[i] = &intakeReq{ctx: context.Background(), nc: nc, done: make(chan error, 1)}
	}
	db.writeIntake(reqs)
	out := make([]error, len(ncs))
	for i, r := range reqs {
		out[i] = <-r.done
	}
	return out
}
