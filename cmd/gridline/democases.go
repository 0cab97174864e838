package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/store"
)

// demoCaseCount is how many cases the demo's month holds by default (serve --demo-cases): a
// district of 二七区's size reports thousands a month, but each case's seven or so transitions go
// through the engine one by one, and the load must stay short (measured in the notes).
const demoCaseCount = 500

// demoCaseWorkers is how many cases' transitions are played at once (each case's in order).
const demoCaseWorkers = 8

// loadDemoCases loads a synthetic month of cases on the demo district d (demo/democases.go),
// ending at clock's now, when the database holds no case yet. Every case goes through the real
// engine's intake and transitions: an engine made just for the load, on a stepping clock set to
// each event's time, with the district's working calendar and time limits as its Deadlines.
func loadDemoCases(ctx context.Context, db *store.DB, d *demo.District, ix dispatch.Index, deadlines dispatch.Deadlines, clock gridline.Clock, loc *time.Location, seed int64, n int, stdout io.Writer) error {
	if n <= 0 {
		return nil
	}
	if has, err := db.Cases(ctx, store.CaseFilter{Everywhere: true, Now: clock.Now(), Limit: 1}); err != nil || len(has) > 0 {
		return err
	}
	start := time.Now()
	now := clock.Now()
	scripts := demo.CasePlan(d, deadlines, now, loc, seed, n)
	// Duplicates are not offered (a demo case is not a duplicate of another), and the routing
	// table is read once: the stepping clock moves days at a time.
	newEngine := func(c gridline.Clock) *dispatch.Engine {
		return dispatch.New(db, ix, deadlines, c, dispatch.Options{Location: loc, DuplicateMetres: -1, TableTTL: 1 << 62})
	}
	st, err := demo.PlayCases(ctx, newEngine, scripts, demoCaseWorkers)
	if err != nil {
		return fmt.Errorf("demo cases: %w", err)
	}
	var parts []string
	for _, s := range dispatch.States {
		if st.States[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, st.States[s]))
		}
	}
	fmt.Fprintf(stdout, "demo: %d cases (synthetic, the 30 days to %s), %d transitions through the case engine in %s (reports %s): %s\n",
		st.Cases, now.In(loc).Format("2006-01-02 15:04"), st.Transitions, time.Since(start).Round(time.Millisecond), st.Reports.Round(time.Millisecond), strings.Join(parts, ", "))
	return nil
}
