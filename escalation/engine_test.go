package escalation_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/escalation"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/worktime"
)

// TestCaseLoopOnTheCalendar wires the case loop to the real working calendar (worktime.Service on
// the seeded table and the demo time limits) and the sweeper: a case dispatched on the Friday
// before 春节 2026 is due on the make-up Saturday 02-14, turns yellow and red there, and is
// escalated to its grid worker and then up the chain, while the case loop goes on.
func TestCaseLoopOnTheCalendar(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		what string
		data []byte
	}{{"categories", demo.CaseCategories}, {"departments", demo.Departments}, {"rules", demo.ResponsibilityRules}} {
		if rep, err := importers.ImportCaseList(ctx, db, l.what, l.data, ""); err != nil || len(rep.Problems) > 0 {
			t.Fatalf("load %s: %v %+v", l.what, err, rep)
		}
	}
	if _, err := db.SeedCalendar(ctx, 2025, 2027, worktime.Official); err != nil {
		t.Fatal(err)
	}
	rules, err := worktime.ParseLimitsCSV(demo.TimeLimits())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceTimeLimits(ctx, rules); err != nil {
		t.Fatal(err)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := func(s string) time.Time {
		tt, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	clock := fakeclock.New(at("2026-02-13 15:55"))
	log := slog.New(slog.DiscardHandler)
	wt, err := worktime.NewService(ctx, db, clock, sh, log)
	if err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(db, clock, sh)
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	eng := dispatch.New(db, res, wt, clock, dispatch.Options{})
	dispatcher := accounts.NewPrincipal(1, "dispatcher", 0, []accounts.Grant{{Role: accounts.Dispatcher, Scope: accounts.Scope{Kind: accounts.ScopeAll}}}, accounts.AllPermissions)

	in, err := eng.Report(ctx, dispatcher, dispatch.Report{Source: dispatch.SourceHotline, CategoryCode: "0101", Lon: 113.603, Lat: 34.715, Description: "a shed on the pavement"})
	if err != nil {
		t.Fatal(err)
	}
	c := in.Case
	clock.Set(at("2026-02-13 16:00"))
	for _, k := range []dispatch.Kind{dispatch.KindFile, dispatch.KindDispatch} {
		if c, err = eng.Transition(ctx, dispatcher, c.ID, dispatch.Request{Kind: k}); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	var handle *dispatch.Step
	for i := range c.Steps {
		if c.Steps[i].Step == dispatch.StepHandle && c.Steps[i].EndedAt == nil {
			handle = &c.Steps[i]
		}
	}
	// 0101 normal: 1 working day (demo limits, class 01). Friday 16:00 + 1 working day is the
	// make-up Saturday 02-14 at 16:00; 80% of it (19.2 h of working day) is Saturday 11:12.
	if handle == nil || handle.DueAt == nil || !handle.DueAt.Equal(at("2026-02-14 16:00")) || !handle.WarnAt.Equal(at("2026-02-14 11:12")) {
		t.Fatalf("handle step %+v", handle)
	}
	// A patch that makes the make-up Saturday a day off moves the open step's deadline past 春节
	// (recomputed from its stored clock), and removing it moves it back.
	dueOf := func() (due time.Time) {
		t.Helper()
		if err := storetest.Raw(t, db).QueryRow(ctx, `SELECT due_at FROM case_steps WHERE id = $1`, handle.ID).Scan(&due); err != nil {
			t.Fatal(err)
		}
		return due
	}
	for _, p := range []struct {
		days   []worktime.Day
		remove []string
		due    string
	}{{[]worktime.Day{{Date: "2026-02-14", Kind: worktime.Holiday, Name: "snow"}}, nil, "2026-02-24 16:00"}, {nil, []string{"2026-02-14"}, "2026-02-14 16:00"}} {
		if err := db.PatchCalendar(ctx, p.days, p.remove); err != nil {
			t.Fatal(err)
		}
		if err := wt.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := wt.Recompute(ctx, db); err != nil || n < 1 {
			t.Fatalf("recompute: %d %v", n, err)
		}
		if got := dueOf(); !got.Equal(at(p.due)) {
			t.Fatalf("after patching %v/%v: due %s, want %s", p.days, p.remove, got.In(sh), p.due)
		}
	}
	sw := escalation.New(db, clock, sh, log, escalation.Config{})
	raw := storetest.Raw(t, db)
	rungs := func() (n int) {
		t.Helper()
		if err := raw.QueryRow(ctx, `SELECT coalesce(max(rung), 0) FROM escalations WHERE step_id = $1`, handle.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, p := range []struct {
		at   string
		rung int
	}{{"2026-02-14 11:00", 0}, {"2026-02-14 11:12", 1}, {"2026-02-14 16:00", 2}, {"2026-02-14 19:59", 2}, {"2026-02-14 20:00", 3}} {
		clock.Set(at(p.at))
		if _, err := sw.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rungs(); got != p.rung {
			t.Fatalf("at %s: rung %d, want %d", p.at, got, p.rung)
		}
	}
	// the worker (赵磊, grid 7's full-time worker) was told at yellow
	var worker int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM notifications n JOIN people p ON p.id = n.person_id WHERE n.step_id = $1 AND n.rung = 1 AND p.name = '赵磊'`, handle.ID).Scan(&worker); err != nil || worker != 1 {
		t.Fatalf("the worker's notification: %d %v", worker, err)
	}
	// The case reads back with its escalation events, and the loop goes on after them.
	c, err = eng.Case(ctx, dispatcher, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	escalated := 0
	for _, e := range c.Events {
		if e.Kind == dispatch.KindEscalate && strings.Contains(string(e.Data), `"step": "handle"`) {
			escalated++
		}
	}
	if escalated != 3 {
		t.Errorf("%d escalate events, want 3: %+v", escalated, c.Events)
	}
	supervisor := accounts.NewPrincipal(2, "supervisor", 0, []accounts.Grant{{Role: accounts.Supervisor, Scope: accounts.Scope{Kind: accounts.ScopeAll}}}, accounts.AllPermissions)
	if _, err := eng.Transition(ctx, supervisor, c.ID, dispatch.Request{Kind: dispatch.KindSupervise, Reason: "hurry"}); err != nil {
		t.Errorf("a transition after the escalations: %v", err)
	}
}
