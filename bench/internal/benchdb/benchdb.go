// Package benchdb creates and drops the databases the bench programs (bench/*bench) load their
// data into, on the server an admin URL (DATABASE_URL) names.
package benchdb

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline/store"
)

// Create drops the database name if it exists, creates it afresh, and returns its URL and a
// function that drops it again (errors there are ignored: the program is ending).
func Create(ctx context.Context, admin, name string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	id := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)"); err != nil {
		return "", nil, err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+id); err != nil {
		return "", nil, err
	}
	u, err := URL(admin, name)
	if err != nil {
		return "", nil, err
	}
	return u, func() { Drop(admin, name) }, nil
}

// Open creates the database name afresh (Create), opens the store on it (which migrates it) and
// returns it with a function that closes it and drops the database.
func Open(ctx context.Context, admin, name string, opt store.Options) (*store.DB, func(), error) {
	url, drop, err := Create(ctx, admin, name)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, url, opt)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db, func() { db.Close(); drop() }, nil
}

// URL is the URL of the database name on admin's server, as admin's user.
func URL(admin, name string) (string, error) {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), Path: "/" + name, RawQuery: "sslmode=disable"}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	} else {
		u.User = url.User(cfg.User)
	}
	return u.String(), nil
}

// Drop drops the database name, if it exists, ignoring errors.
func Drop(admin, name string) {
	ctx := context.Background()
	if c, err := pgx.Connect(ctx, admin); err == nil {
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		c.Close(ctx)
	}
}
