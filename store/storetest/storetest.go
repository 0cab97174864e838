// Package storetest gives integration tests a fresh, empty gridline database on the real PostGIS
// that `make test` starts. It reads the server from DATABASE_URL. Without it the test is skipped on
// a developer's machine and fails in CI (CI=true), so integration tests can never silently not run.
package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/store"
)

var counter atomic.Int64

// AdminURL is the server to create test databases on, or skips/fails t when there is none.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		testenv.Missing(t, "DATABASE_URL is not set; `make test` starts PostGIS and sets it")
	}
	return u
}

// NewURL creates an empty database and returns its URL; it is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", admin, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("gridline_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, counter.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// New opens a fresh migrated database for the test.
func New(t testing.TB) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := store.Open(ctx, NewURL(t), store.Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// Raw is a connection pool of the test's own on db's database, closed when the test ends: for
// tests that check results with PostGIS directly or change rows behind the store's back, as
// another program would. Everything else reaches the database through store's methods, which
// keep its pool to themselves.
func Raw(t testing.TB, db *store.DB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := pgxpool.New(ctx, db.URL())
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}
