package escalation_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"gridline.dev/gridline/escalation"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// Grid chain of the cases: district 100 > subdistrict 200 > community 300 > grid 400. The grid
// worker (handler) is person w; community 300's chief is c; subdistrict 200 has no chief but a
// full-time worker s (so the second post above is s); district 100 has nobody.
const steps = 40

type world struct {
	w, c, s, sup int64
	t0           time.Time
}

func setup(t *testing.T, db *store.DB) world {
	t.Helper()
	ctx := context.Background()
	raw := storetest.Raw(t, db)
	var wd world
	// grants written behind the store's back: the chain's grids are ids only, not stored grids
	for _, g := range []struct {
		name string
		grid int64
	}{{"sup", 200}, {"elsewhere", 999}} {
		a := storetest.Account(t, db, g.name)
		if _, err := raw.Exec(ctx, `INSERT INTO grants (account_id, role, scope_kind, scope_grid) VALUES ($1, 'supervisor', 'grid', $2)`, a.ID, g.grid); err != nil {
			t.Fatal(err)
		}
		if g.name == "sup" {
			if err := raw.QueryRow(ctx, `SELECT person_id FROM accounts WHERE id = $1`, a.ID).Scan(&wd.sup); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range []struct {
		dst        *int64
		name, role string
		grid       int64
	}{{&wd.w, "worker", "full_time_worker", 400}, {&wd.c, "chief", "grid_chief", 300}, {&wd.s, "street", "full_time_worker", 200}} {
		if err := raw.QueryRow(ctx, `INSERT INTO people (name) VALUES ($1) RETURNING id`, p.name).Scan(p.dst); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(ctx, `INSERT INTO assignments (person_id, grid_id, role, valid_from) VALUES ($1, $2, $3, '2020-01-01')`, *p.dst, p.grid, p.role); err != nil {
			t.Fatal(err)
		}
	}
	// a worker of community 300 who is not its chief: not told (the chief is)
	if _, err := raw.Exec(ctx, `WITH p AS (INSERT INTO people (name) VALUES ('other') RETURNING id)
		INSERT INTO assignments (person_id, grid_id, role, valid_from) SELECT id, 300, 'full_time_worker', '2020-01-01' FROM p`); err != nil {
		t.Fatal(err)
	}
	wd.t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	if _, err := raw.Exec(ctx, `INSERT INTO case_categories (code, standard, name, class_code, kind) VALUES ('0101', 'legacy', 'x', '01', 'incident')`); err != nil {
		t.Fatal(err)
	}
	_, err := raw.Exec(ctx, `
		WITH c AS (
			INSERT INTO cases (number, source, category_code, urgency, geom, grid_id, grid_chain, state, party_kind, party_ref, reported_at, updated_at)
			SELECT 'T-' || i, 'patrol', '0101', 'normal', ST_SetSRID(ST_Point(113, 34), 4326), 400, '{100,200,300,400}', 'dispatched', 'worker', $2::text, $1, $1
			FROM generate_series(1, $3 + 2) i RETURNING id, number)
		INSERT INTO case_steps (case_id, step, party_kind, party_ref, grid_id, limit_amount, limit_unit, started_at, warn_at, due_at, paused_at, ended_at)
		SELECT id, 'handle', 'worker', $2::text, 400, 20, 'natural_minute', $1, $1 + interval '16 minutes', $1 + interval '20 minutes',
			CASE WHEN number = 'T-' || ($3 + 1) THEN $1 END, CASE WHEN number = 'T-' || ($3 + 2) THEN $1 END
		FROM c`, wd.t0, strconv.FormatInt(wd.w, 10), steps)
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestTwoServersEscalateOnce runs two sweepers, each on its own connection pool as two servers
// would be, on one database with one fake clock, through every rung of the default ladder, and
// checks that each rung was done once to each step: one notification per recipient, one case
// event, the level raised once. The paused and the ended step are never escalated.
func TestTwoServersEscalateOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	db2, err := store.Open(ctx, db.URL(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	wd := setup(t, db)
	clock := fakeclock.New(wd.t0)
	log := slog.New(slog.DiscardHandler)
	servers := []*escalation.Sweeper{
		escalation.New(db, clock, time.UTC, log, escalation.Config{Batch: 3}),
		escalation.New(db2, clock, time.UTC, log, escalation.Config{Batch: 5}),
	}
	sweepBoth := func() int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for _, s := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					n, err := s.Sweep(ctx)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					total += n
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return total
	}
	raw := storetest.Raw(t, db)
	for _, phase := range []struct {
		at   time.Duration
		want int // rungs done in the phase
	}{
		{10 * time.Minute, 0},                      // green
		{17 * time.Minute, steps},                  // yellow: rung 1, the handler
		{19 * time.Minute, 0},                      // still yellow
		{21 * time.Minute, steps},                  // red: rung 2, the post above
		{20*time.Minute + 239*time.Minute, 0},      // not yet 4 h overdue
		{20*time.Minute + 241*time.Minute, steps},  // rung 3, the next post above
		{20*time.Minute + 1441*time.Minute, steps}, // rung 4, the supervisor (督办)
		{30 * 24 * time.Hour, 0},                   // the ladder has no rung 5
	} {
		clock.Set(wd.t0.Add(phase.at))
		if got := sweepBoth(); got != phase.want {
			t.Fatalf("at +%s: %d rungs done, want %d", phase.at, got, phase.want)
		}
	}
	// A server started afresh (a restart) finds nothing left to do.
	if n, err := escalation.New(db2, clock, time.UTC, log, escalation.Config{}).Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("after a restart: %d %v", n, err)
	}
	check := func(what, sql string, want int, args ...any) {
		t.Helper()
		var n int
		if err := raw.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s: %d, want %d", what, n, want)
		}
	}
	check("escalations", `SELECT count(*) FROM escalations`, 4*steps)
	check("notifications", `SELECT count(*) FROM notifications`, 4*steps)
	check("rung 1 to the worker", `SELECT count(*) FROM notifications WHERE rung = 1 AND person_id = $1`, steps, wd.w)
	check("rung 2 to the community chief", `SELECT count(*) FROM notifications WHERE rung = 2 AND person_id = $1 AND grid_id = 300 AND post = 'grid_chief'`, steps, wd.c)
	check("rung 3 to the subdistrict", `SELECT count(*) FROM notifications WHERE rung = 3 AND person_id = $1 AND grid_id = 200`, steps, wd.s)
	check("rung 4 to the supervisor", `SELECT count(*) FROM notifications WHERE rung = 4 AND person_id = $1 AND kind = 'supervise'`, steps, wd.sup)
	check("duplicates", `SELECT count(*) FROM (SELECT step_id, rung, person_id FROM notifications GROUP BY 1, 2, 3 HAVING count(*) > 1) d`, 0)
	check("escalate events", `SELECT count(*) FROM case_events WHERE kind = 'escalate'`, 3*steps)
	check("supervise events", `SELECT count(*) FROM case_events WHERE kind = 'supervise'`, steps)
	check("case versions", `SELECT count(*) FROM cases WHERE version = 5`, steps)
	check("levels", `SELECT count(*) FROM case_steps WHERE escalation_level = 4 AND notified_light = 'red'`, steps)
	check("paused and ended steps", `SELECT count(*) FROM case_steps WHERE escalation_level > 0 AND (paused_at IS NOT NULL OR ended_at IS NOT NULL)`, 0)

	// the worker reads their notifications
	f := store.NotificationFilter{PersonID: wd.w, Unread: true}
	ns, err := db.Notifications(ctx, f)
	if err != nil || len(ns) != steps {
		t.Fatalf("worker's unread: %d %v", len(ns), err)
	}
	if n, err := db.MarkNotificationsRead(ctx, f, []int64{ns[0].ID}, clock.Now()); err != nil || n != 1 {
		t.Fatalf("mark one: %d %v", n, err)
	}
	if _, err := db.MarkNotificationsRead(ctx, store.NotificationFilter{PersonID: wd.c}, []int64{ns[1].ID}, clock.Now()); err == nil {
		t.Error("the chief marked the worker's notification read")
	}
	if n, err := db.MarkNotificationsRead(ctx, f, nil, clock.Now()); err != nil || n != steps-1 {
		t.Fatalf("mark all: %d %v", n, err)
	}
}

// TestVacantPostsAreSkipped: with community 300's chief gone, the post above the grid is the
// subdistrict's, and the one above that (the district) is vacant: rung 3 is done with nobody to
// tell, recorded as such.
func TestVacantPostsAreSkipped(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	wd := setup(t, db)
	raw := storetest.Raw(t, db)
	if _, err := raw.Exec(ctx, `UPDATE assignments SET valid_to = '2021-01-01' WHERE grid_id = 300`); err != nil {
		t.Fatal(err)
	}
	clock := fakeclock.New(wd.t0.Add(20*time.Minute + 241*time.Minute))
	s := escalation.New(db, clock, time.UTC, slog.New(slog.DiscardHandler), escalation.Config{})
	if n, err := s.Sweep(ctx); err != nil || n != 3*steps {
		t.Fatalf("%d %v", n, err)
	}
	var toStreet, none int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE rung = 2 AND person_id = $1`, wd.s).Scan(&toStreet); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM escalations WHERE rung = 3 AND recipients = 0`).Scan(&none); err != nil {
		t.Fatal(err)
	}
	if toStreet != steps || none != steps {
		t.Errorf("rung 2 to the subdistrict: %d; rung 3 with nobody: %d; want %d each", toStreet, none, steps)
	}
}
