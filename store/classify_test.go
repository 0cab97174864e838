package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// A database nobody answers for is unavailable, not a bug: opening a store on a port nothing
// listens on fails with database_unavailable.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, "postgres://gridline@"+addr+"/gridline?sslmode=disable&connect_timeout=5", store.Options{})
	if err == nil {
		db.Close()
		t.Fatal("opened a database on a port nothing listens on")
	}
	if code := gridline.ErrorCode(err); code != gridline.EUnavailable {
		t.Fatalf("error code = %q (%v), want %q", code, err, gridline.EUnavailable)
	}
}

// A connection the server ends (pg_terminate_backend, as a restart or an administrator would) or
// the network cuts is an outage, whether the query was running, or the connection was idle and its
// next query finds it gone, or pgx already knows it closed.
func TestLostConnection(t *testing.T) {
	db := storetest.New(t)
	raw := storetest.Raw(t, db) // connections of the test's own, to kill and to read errors from
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kill := func(t *testing.T, pid uint32) {
		t.Helper()
		var done bool
		// The second argument waits (up to 10 s) until the backend has gone.
		if err := raw.QueryRow(ctx, `SELECT pg_terminate_backend($1, 10000)`, int32(pid)).Scan(&done); err != nil || !done {
			t.Fatalf("terminate backend %d: %v, %v", pid, done, err)
		}
	}
	unavailable := func(t *testing.T, what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		if code := gridline.ErrorCode(store.Classify(err)); code != gridline.EUnavailable {
			t.Fatalf("%s: %v is classified %q, want %q", what, err, code, gridline.EUnavailable)
		}
		t.Logf("%s: %v", what, err)
	}

	t.Run("while a query runs", func(t *testing.T) {
		conn, err := raw.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		errc := make(chan error, 1)
		go func() { _, err := conn.Exec(ctx, `SELECT pg_sleep(30)`); errc <- err }()
		// Kill the backend once it is inside the sleep.
		for {
			var running bool
			if err := raw.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active')`, int32(conn.Conn().PgConn().PID())).Scan(&running); err != nil {
				t.Fatal(err)
			}
			if running {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatal("the query never started")
			case <-time.After(10 * time.Millisecond):
			}
		}
		kill(t, conn.Conn().PgConn().PID())
		unavailable(t, "the running query", <-errc)
	})

	t.Run("while idle", func(t *testing.T) {
		conn, err := raw.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		kill(t, conn.Conn().PgConn().PID())
		_, err = conn.Exec(ctx, `SELECT 1`)
		unavailable(t, "the next query", err)
		// pgx has closed the connection now: the query after fails before anything is sent, with
		// an error of pgx's own rather than the server's.
		_, err = conn.Exec(ctx, `SELECT 1`)
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			t.Fatalf("a query on a connection pgx closed: %v, want pgx's own error", err)
		}
		unavailable(t, "a query on the closed connection", err)
	})

	t.Run("cut by the network", func(t *testing.T) {
		// A proxy stands for the network: cutting it closes the sockets with no word from the
		// server, so what pgx sees is the socket's end, never a PostgreSQL error.
		u, err := url.Parse(db.URL())
		if err != nil {
			t.Fatal(err)
		}
		target := u.Host
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var mu sync.Mutex
		var open []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				u, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					continue
				}
				mu.Lock()
				open = append(open, c, u)
				mu.Unlock()
				go func() { io.Copy(u, c); u.Close() }()
				go func() { io.Copy(c, u); c.Close() }()
			}
		}()
		u.Host = ln.Addr().String()
		proxied, err := pgxpool.New(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer proxied.Close()
		conn, err := proxied.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		_, err = conn.Exec(ctx, `SELECT 1`)
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			t.Fatalf("a query over a cut connection: %v, want a network error", err)
		}
		unavailable(t, "a query over a cut connection", err)
	})
}

// Errors are classified by their type, never by their text: an error that only says "connection
// refused" is not an outage, and one of the server's own internal errors (XX000, which PostGIS
// raises for anything) is a bug, not the user's.
func TestClassifyByType(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"refused socket", fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), gridline.EUnavailable},
		{"reset socket", fmt.Errorf("read: %w", syscall.ECONNRESET), gridline.EUnavailable},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), gridline.EUnavailable},
		{"cut off mid-message", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), gridline.EUnavailable},
		{"server shutting down", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, gridline.EUnavailable},
		{"statement timeout", &pgconn.PgError{Code: "57014", Message: "canceling statement due to statement timeout"}, gridline.EUnavailable},
		{"the text of an outage, not its type", errors.New("connection refused; broken pipe; unexpected EOF; conn closed"), gridline.EInternal},
		{"the caller gave up", fmt.Errorf("read: %w", &net.OpError{Op: "read", Net: "tcp", Err: context.Canceled}), gridline.EInternal},
		{"the caller's deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), gridline.EInternal},
		{"PostGIS internal error", &pgconn.PgError{Code: "XX000", Message: "lwgeom_difference_prec: GEOS Error: TopologyException"}, gridline.EInternal},
		{"check constraint", &pgconn.PgError{Code: "23514", Message: "new row violates check constraint"}, gridline.ERule},
		{"user error passes through", gridline.Errorf(gridline.ENotFound, "no such grid"), gridline.ENotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := gridline.ErrorCode(store.Classify(tc.err)); got != tc.code {
				t.Fatalf("classify(%v) = %q, want %q", tc.err, got, tc.code)
			}
		})
	}
}
