// Package store keeps gridline's data in PostGIS: grids with their dated versions, people and their
// assignments. Its exported methods open their own transactions and call unexported helpers that
// take a pgx.Tx, so a bulk load and a single edit go through the same checks (see rules.go).
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"gridline.dev/gridline"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is gridline's database.
type DB struct {
	pool  *pgxpool.Pool
	url   string
	srids sync.Map         // int -> true: SRIDs known to exist (see knownSRID)
	files *attachmentFiles // nil: case attachments in the database (attachfiles.go)
	// intake gathers concurrent CreateCase calls into one transaction (store/intake.go); nil
	// writes each alone.
	intake *intakeQueue
}

// Options tune a connection.
type Options struct {
	// StatementTimeout bounds every statement: cancelling an HTTP request does not stop a query.
	// Zero is DefaultStatementTimeout. PostgreSQL counts it in whole milliseconds, up to 2^31-1.
	StatementTimeout time.Duration
	// MaxConns is the most connections the pool holds; zero is pgxpool's default, the larger of 4
	// and the number of CPUs. Listen opens one more of its own.
	MaxConns int32
	// IntakeBatch is the most new cases one intake transaction holds (store/intake.go): zero is
	// DefaultIntakeBatch, a negative number writes each case in a transaction of its own.
	IntakeBatch int
}

// DefaultStatementTimeout is the statement timeout when Options do not set one: room for the
// checks of a large import, and an end to a runaway query.
const DefaultStatementTimeout = 60 * time.Second

// Open connects to url and applies the migrations that have not run yet.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	// A timeout under a millisecond would be sent as 0, which PostgreSQL reads as no timeout.
	if opt.StatementTimeout < 0 || opt.StatementTimeout > 0 && opt.StatementTimeout < time.Millisecond || opt.StatementTimeout.Milliseconds() > math.MaxInt32 {
		return nil, fmt.Errorf("statement timeout %s: it must be at least 1ms and under %s", opt.StatementTimeout, time.Duration(math.MaxInt32)*time.Millisecond)
	}
	if opt.MaxConns < 0 {
		return nil, fmt.Errorf("pool size %d: it must be at least 1 (or 0 for the default)", opt.MaxConns)
	}
	if opt.StatementTimeout == 0 {
		opt.StatementTimeout = DefaultStatementTimeout
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(opt.StatementTimeout.Milliseconds())
	cfg.ConnConfig.RuntimeParams["application_name"] = "gridline.dev/gridline"
	// JIT compilation is for long analytic queries. gridline's are short, or are imports whose
	// PostGIS calls make the planner's costs huge: JIT then spent 270 ms compiling each statement
	// of a 100,000-grid import that ran in 700 ms without it.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	// An import's temporary tables hold a row per feature; 8 MB (the default) spills them to
	// files. The memory is taken only by the sessions that use temporary tables, as they fill.
	cfg.ConnConfig.RuntimeParams["temp_buffers"] = "128MB"
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	db := &DB{pool: pool, url: url}
	if opt.IntakeBatch == 0 {
		opt.IntakeBatch = DefaultIntakeBatch
	}
	if opt.IntakeBatch > 0 {
		db.intake = newIntakeQueue(opt.IntakeBatch)
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close releases the connections.
func (db *DB) Close() {
	if db.intake != nil {
		db.intake.close()
	}
	db.pool.Close()
}

// URL is the connection string the store was opened with.
func (db *DB) URL() string { return db.url }

// migrate runs the embedded migrations in name order, each once, all in one transaction under an
// advisory lock so that several processes starting together do not race.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7411001)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		for _, name := range names {
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name).Scan(&done); err != nil {
				return err
			}
			if done {
				continue
			}
			sql, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
				return err
			}
		}
		return nil
	})
}

// tx runs fn in a transaction, committing when it returns nil.
func (db *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit(ctx))
}

// classify turns database errors a user can cause or must know about into *gridline.Error, by
// their type and SQLSTATE, never by their text. What it leaves alone is a bug, which api/ logs
// and answers as "internal error". That includes XX000, PostgreSQL's internal_error, which
// PostGIS raises for every failure of its own (a GEOS TopologyException, a PROJ error, a ring
// too short to parse): it does not say which, so the writes check what would cause them first
// (gridline.Grid.Validate, the CASE guards in checkGrids), and Transform, whose only PostGIS call
// is the transformation, reads it there.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ge *gridline.Error
	if errors.As(err, &ge) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", "23503":
			// PostgreSQL's own words (its constraint's name, "Key (id)=(18) already exists") are
			// about the schema, not the user's input: say what clashed in the project's.
			switch pe.ConstraintName {
			case "grids_open_code_key":
				return &gridline.Error{Code: gridline.EConflict, Message: "a grid with this code is already valid with no end date" + keyValues(pe.Detail)}
			case "grids_open_id_key":
				return &gridline.Error{Code: gridline.EConflict, Message: "this grid already has a version valid with no end date (was the same change written at the same time?)"}
			}
			if pe.Code == "23503" {
				return &gridline.Error{Code: gridline.EConflict, Message: "the change refers to something that is not stored (or no longer is)"}
			}
			return &gridline.Error{Code: gridline.EConflict, Message: "the change clashes with what is stored (written at the same time?): look at what is stored now and try again"}
		case "23514":
			// The writes check these rules first; a CHECK the database refuses is named by its
			// constraint (which says the table and field), not by PostgreSQL's sentence.
			return &gridline.Error{Code: gridline.ERule, Message: "a value is not one the stored data allows (rule " + pe.ConstraintName + "): see the field's values in docs/api.md"}
		case "22P02":
			return &gridline.Error{Code: gridline.ERule, Message: "a value is not of the type its field holds (a number, a date ...)"}
		case "22023":
			return &gridline.Error{Code: gridline.ERule, Message: "a value is outside the range PostGIS accepts"}
		case "22021", "22P05", "22001", "22003", "22008", "22007":
			return &gridline.Error{Code: gridline.EInvalid, Message: "invalid value: " + pe.Message}
		case "57014":
			return &gridline.Error{Code: gridline.EUnavailable, Message: "the database took too long to answer"}
		}
		if strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "53300" {
			return &gridline.Error{Code: gridline.EUnavailable, Message: "the database is unavailable; try again shortly"}
		}
		return err
	}
	if isConnError(err) {
		return &gridline.Error{Code: gridline.EUnavailable, Message: "the database is unavailable; try again shortly"}
	}
	return err
}

// isConnError reports whether err means that the database could not be reached or that the
// connection to it was lost. An error of the caller's own context is not: the caller gave up, the
// database did not.
func isConnError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ce *pgconn.ConnectError // dialling, TLS or the startup handshake failed
	var ne net.Error            // *net.OpError and the like: refused, reset, broken pipe, timed out
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		// Failed before anything was sent, as on a connection pgx has already closed ("conn closed").
		pgconn.SafeToRetry(err) ||
		// The socket errors themselves, for a path that does not wrap them in a net.Error.
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		// The server closed the connection between messages, or in the middle of one.
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return classify(db.pool.Ping(ctx)) }

// CountGrids is the number of grid versions stored.
func (db *DB) CountGrids(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM grids`).Scan(&n)
	return n, classify(err)
}

// keyValues is ": " and the values of a unique violation's detail, "Key (code, layer)=(4101, x)
// already exists" giving ": 4101, x", or "" when the detail is not of that form.
func keyValues(detail string) string {
	_, rest, ok := strings.Cut(detail, ")=(")
	if !ok {
		return ""
	}
	v, _, ok := strings.Cut(rest, ") already exists")
	if !ok {
		return ""
	}
	return ": " + gridline.Excerpt(v)
}
