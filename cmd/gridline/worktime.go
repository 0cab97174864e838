package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/worktime"
)

// The case loop counts its deadlines with the district's working calendar.
var _ dispatch.Deadlines = (*worktime.Service)(nil)

// firstCalendarYear is the first year of the State Council's schedules in lunar-go.
const firstCalendarYear = 2001

// seedCalendar loads the official holidays and make-up working days of every year up to next
// year that the calendar table lacks (idempotent: `serve` and `migrate` run it at every start).
func seedCalendar(ctx context.Context, db *store.DB, clock gridline.Clock, loc *time.Location, log *slog.Logger) error {
	loaded, err := db.SeedCalendar(ctx, firstCalendarYear, clock.Now().In(loc).Year()+1, worktime.Official)
	if err != nil {
		return fmt.Errorf("seed the working calendar: %w", err)
	}
	if len(loaded) > 0 {
		log.Info("working calendar: official holidays loaded", "years", fmt.Sprint(loaded), "source", worktime.OfficialSource)
	}
	return nil
}

// loadDemoTimeLimits loads the demo set of time limits when none is stored.
func loadDemoTimeLimits(ctx context.Context, db *store.DB) (int, error) {
	if has, err := db.HasTimeLimits(ctx); err != nil || has {
		return 0, err
	}
	rules, err := worktime.ParseLimitsCSV(demo.TimeLimits())
	if err != nil {
		return 0, err
	}
	return len(rules), db.ReplaceTimeLimits(ctx, rules)
}
