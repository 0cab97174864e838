// Command escalatebench measures how fast the escalation sweeper finds the steps that turned
// yellow or red among a million open cases (issue #15: under 1 s), and how fast it escalates
// them. It generates the cases and their open steps with SQL (1% yellow, 1% red at the
// benchmark's "now", the rest green, a few paused or ended), then times:
//   - the count of yellow and red open steps (store.CountLateSteps: what a dashboard asks),
//   - the sweeper's first batch (store.EscalateDue: select and lock 100 due steps, do their rung),
//   - a whole sweep (escalation.Sweeper.Sweep) that does the due rung of every late step.
//
// It creates and drops its own database (gridline_escbench) on the server DATABASE_URL names.
//
//	go run ./bench/escalatebench -cases 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"gridline.dev/gridline/bench/internal/benchdb"
	"gridline.dev/gridline/escalation"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/store"
)

func main() {
	cases := flag.Int("cases", 1000000, "open cases, each with one open step")
	runs := flag.Int("runs", 5, "runs of each query (the median is reported)")
	keep := flag.Bool("keep", false, "keep the database afterwards")
	flag.Parse()
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		fmt.Fprintln(os.Stderr, "escalatebench: set DATABASE_URL")
		os.Exit(2)
	}
	if err := bench(context.Background(), admin, *cases, *runs, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "escalatebench:", err)
		os.Exit(1)
	}
}

func median(n int, fn func() error) (time.Duration, error) {
	var ds []time.Duration
	for range n {
		t := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

func bench(ctx context.Context, admin string, n, runs int, keep bool) error {
	url, drop, err := benchdb.Create(ctx, admin, "gridline_escbench")
	if err != nil {
		return err
	}
	if !keep {
		defer drop()
	}
	db, err := store.Open(ctx, url, store.Options{StatementTimeout: 30 * time.Minute})
	if err != nil {
		return err
	}
	defer db.Close()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	t0 := time.Now()
	// People holding the posts of a small chain, and the cases: started in the last 10 days, their
	// warn and due times spread so that 1% are yellow and 1% red now; every 500th paused, every
	// 700th ended.
	setup := []string{
		`INSERT INTO people (id, name) VALUES (1, 'worker'), (2, 'chief'), (3, 'street')`,
		`INSERT INTO assignments (person_id, grid_id, role, valid_from) VALUES (1, 400, 'full_time_worker', '2020-01-01'), (2, 300, 'grid_chief', '2020-01-01'), (3, 200, 'grid_chief', '2020-01-01')`,
		`INSERT INTO case_categories (code, standard, name, class_code, kind) VALUES ('0101', 'legacy', 'bench', '01', 'incident')`,
		`INSERT INTO cases (id, number, source, category_code, urgency, geom, grid_id, grid_chain, state, party_kind, party_ref, reported_at, updated_at)
		 SELECT i, 'B' || i, 'patrol', '0101', 'normal', ST_SetSRID(ST_Point(113.6, 34.7), 4326), 400, '{100,200,300,400}', 'dispatched', 'worker', '1', $1::timestamptz, $1::timestamptz
		 FROM generate_series(1, $2::int) i`,
		// x in [0, 1): the step's position; x < 0.01 red (due passed), x < 0.02 yellow (warn passed)
		`INSERT INTO case_steps (case_id, step, party_kind, party_ref, grid_id, limit_amount, limit_unit, started_at, warn_at, due_at, paused_at, ended_at)
		 SELECT i, 'handle', 'worker', '1', 400, 1, 'working_day', $1::timestamptz - interval '1 day',
		   CASE WHEN i % 500 = 0 THEN NULL ELSE $1::timestamptz + (x - 0.02) * interval '10 days' END,
		   CASE WHEN i % 500 = 0 THEN NULL ELSE $1::timestamptz + (x - 0.01) * interval '10 days' + interval '1 hour' * (x >= 0.01)::int END,
		   CASE WHEN i % 500 = 0 THEN $1::timestamptz END, CASE WHEN i % 700 = 0 THEN $1::timestamptz END
		 FROM (SELECT i, ((i::bigint * 7919) % 100000) / 100000.0 AS x FROM generate_series(1, $2::int) i) g`,
		`ANALYZE cases`, `ANALYZE case_steps`,
	}
	for i, q := range setup {
		var args []any
		if i == 3 || i == 4 {
			args = []any{now, n}
		}
		if _, err := pool.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("%.60s: %w", q, err)
		}
	}
	fmt.Printf("generated %d open cases with one open step each in %s\n\n", n, time.Since(t0).Round(time.Second))

	var yellow, red int
	dCount, err := median(runs, func() error {
		var err error
		yellow, red, err = db.CountLateSteps(ctx, now)
		return err
	})
	if err != nil {
		return err
	}
	rows, err := pool.Query(ctx, `EXPLAIN (FORMAT TEXT) SELECT count(*) FROM case_steps WHERE ended_at IS NULL AND paused_at IS NULL AND warn_at <= $1`, now)
	if err != nil {
		return err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	plan := strings.Join(lines, "\n")
	// The first batch of the sweeper: select and lock 100 due steps, do their rung, commit.
	sw := escalation.New(db, fakeclock.New(now), time.UTC, slog.New(slog.NewTextHandler(io.Discard, nil)), escalation.Config{Batch: 100})
	tb := time.Now()
	first, err := db.EscalateDue(ctx, now, now, 100)
	if err != nil {
		return err
	}
	dBatch := time.Since(tb)
	// One whole sweep: rung 1 (yellow: tell the handler) of every yellow or red step, then rung 2
	// (red: the post above) of the red ones, in batches of 100.
	t1 := time.Now()
	done := len(first)
	for {
		k, err := sw.Sweep(ctx)
		if err != nil {
			return err
		}
		if k == 0 {
			break
		}
		done += k
	}
	dSweep := time.Since(t1)

	fmt.Printf("| what | median of %d | result |\n|---|---|---|\n", runs)
	fmt.Printf("| count the yellow and red open steps among %d (store.CountLateSteps) | %s | %d yellow, %d red |\n", n, dCount.Round(time.Microsecond), yellow, red)
	fmt.Printf("| the sweeper's first batch: select and lock 100 due steps (FOR UPDATE SKIP LOCKED), do their rung, commit | %s (once) | %d steps |\n", dBatch.Round(time.Microsecond), len(first))
	fmt.Printf("| escalate them all: %d rungs (notification + case event + level each), batches of 100 | %s (once) | %.0f rungs/s |\n", done, dSweep.Round(time.Millisecond), float64(done)/dSweep.Seconds())
	fmt.Printf("\nplan of the count:\n\n    %s\n", strings.ReplaceAll(plan, "\n", "\n    "))
	return nil
}
