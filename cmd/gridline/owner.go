package main

import (
	"context"
	"fmt"
	"os"

	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/store"
)

// ownedEngine claims an owner for this process (store.ClaimOwner) and builds the import engine
// on it: its staging tables carry the owner in their names and its files go in the owner's own
// temporary directory, so that a server's cleanup never takes them for leftovers while this
// process lives, and removes them once it is gone. done releases it all.
func ownedEngine(ctx context.Context, db *store.DB, cfg importers.Config) (eng *importers.Engine, owner *store.Owner, instance string, done func(), err error) {
	owner, err = db.ClaimOwner(ctx)
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("claim an owner id: %w", err)
	}
	instance, err = db.InstanceID(ctx)
	if err != nil {
		owner.Close()
		return nil, nil, "", nil, err
	}
	own := jobs.OwnTempDir(os.TempDir(), instance, owner.ID)
	if err := os.MkdirAll(own, 0o700); err != nil {
		owner.Close()
		return nil, nil, "", nil, err
	}
	cfg.TempDir, cfg.Owner = own, owner.ID
	return importers.New(db, cfg), owner, instance, func() {
		os.RemoveAll(own)
		owner.Close()
	}, nil
}
