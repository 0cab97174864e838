package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/worktime"
)

// demoCasesNow is the demo load's "now" in the tests: a Monday afternoon.
var demoCasesNow = time.Date(2026, 11, 30, 15, 20, 0, 0, time.FixedZone("CST", 8*3600))

// loadDemoCasesDB loads a small synthetic demo district and n demo cases into a fresh database,
// as serve --demo-if-empty does, and answers the database and what the load printed.
func loadDemoCasesDB(t *testing.T, n int) (*store.DB, string) {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	clock := fakeclock.New(demoCasesNow)
	d, err := loadDemo(ctx, db, demoOptions{seed: 1, grids: 60}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if err := seedCalendar(ctx, db, clock, loc, log); err != nil {
		t.Fatal(err)
	}
	wt, err := worktime.NewService(ctx, db, clock, loc, log)
	if err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(db, clock, loc)
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := loadDemoCases(ctx, db, d, res, wt, clock, loc, 1, n, &out); err != nil {
		t.Fatal(err)
	}
	// a second call finds cases and loads nothing
	if err := loadDemoCases(ctx, db, d, res, wt, clock, loc, 1, n, &out); err != nil {
		t.Fatal(err)
	}
	return db, out.String()
}

// allCases lists every case of db with its light at now, and loads each with its events and steps.
func allCases(t *testing.T, db *store.DB, now time.Time) []*dispatch.Case {
	t.Helper()
	ctx := context.Background()
	var out []*dispatch.Case
	after := int64(0)
	for {
		page, err := db.Cases(ctx, store.CaseFilter{Everywhere: true, Now: now, Limit: 1000, AfterID: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			full, err := db.Case(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			full.Light = c.Light
			out = append(out, full)
			after = c.ID
		}
		if len(page) < 1000 {
			return out
		}
	}
}

func TestDemoCases(t *testing.T) {
	n := demoCaseCount
	db, printed := loadDemoCasesDB(t, n)
	if !strings.HasPrefix(printed, fmt.Sprintf("demo: %d cases", n)) || strings.Count(printed, "\n") != 1 {
		t.Errorf("printed %q, want one line \"demo: %d cases ...\"", printed, n)
	}
	cases := allCases(t, db, demoCasesNow)
	if len(cases) != n {
		t.Fatalf("%d cases, want %d", len(cases), n)
	}
	states := map[dispatch.State]int{}
	lights := map[string]int{}
	kinds := map[dispatch.Kind]int{}
	sources := map[dispatch.Source]int{}
	classes := map[string]int{}
	for _, c := range cases {
		states[c.State]++
		sources[c.Source]++
		classes[c.CategoryCode[:len(c.CategoryCode)-2]]++
		if c.State.Open() && c.Light != "" {
			lights[string(c.Light)]++
		}
		if !c.State.Open() && c.Light != "" {
			t.Errorf("case %s is %s but has light %s", c.Number, c.State, c.Light)
		}
		checkDemoCase(t, c)
		for _, ev := range c.Events {
			kinds[ev.Kind]++
		}
	}
	for _, s := range dispatch.States {
		if s != dispatch.Merged && states[s] == 0 {
			t.Errorf("no demo case is %s (states %v)", s, states)
		}
	}
	for _, l := range []string{"green", "yellow", "red"} {
		if lights[l] == 0 {
			t.Errorf("no open demo case is %s (lights %v)", l, lights)
		}
	}
	for _, k := range []dispatch.Kind{dispatch.KindVoid, dispatch.KindReturn, dispatch.KindRework, dispatch.KindRequestExtension, dispatch.KindApproveExtension,
		dispatch.KindPostpone, dispatch.KindResume, dispatch.KindCoHandle, dispatch.KindSelfHandle, dispatch.KindSupervise, dispatch.KindEvaluate} {
		if kinds[k] == 0 {
			t.Errorf("no demo case has a %s event (kinds %v)", k, kinds)
		}
	}
	for _, s := range []dispatch.Source{dispatch.SourcePatrol, dispatch.SourceHotline, dispatch.SourceCamera, dispatch.SourcePublic} {
		if sources[s] == 0 {
			t.Errorf("no demo case from %s", s)
		}
	}
	// 市容环境 (legacy 01, GB/T 06) and 街面秩序 (legacy 05, GB/T 09) are most of the reports
	if big := classes["01"] + classes["05"] + classes["060"] + classes["090"]; big*2 < n {
		t.Errorf("市容环境 and 街面秩序 are %d of %d cases, want over half (%v)", big, n, classes)
	}
	t.Logf("states %v; lights %v", states, lights)
}

// checkDemoCase checks c against its events: each event starts where the one before ended, the
// last ends in c's state, the counts match, every time is in the past and in order, and the
// open steps agree with the state.
func checkDemoCase(t *testing.T, c *dispatch.Case) {
	t.Helper()
	if len(c.Events) == 0 || c.Events[0].Kind != dispatch.KindReport {
		t.Errorf("case %s: first event is not the report", c.Number)
		return
	}
	prev := c.Events[0]
	returns, reworks := 0, 0
	for i, ev := range c.Events {
		if ev.Seq != i+1 {
			t.Errorf("case %s: event %d has seq %d", c.Number, i+1, ev.Seq)
		}
		if ev.At.After(demoCasesNow) || ev.At.Before(prev.At) {
			t.Errorf("case %s: event %s at %s is in the future or before the one before it", c.Number, ev.Kind, ev.At)
		}
		if i > 0 && ev.From != prev.To {
			t.Errorf("case %s: event %s from %s, but the one before ended in %s", c.Number, ev.Kind, ev.From, prev.To)
		}
		switch ev.Kind {
		case dispatch.KindReturn:
			returns++
		case dispatch.KindRework:
			reworks++
		}
		prev = ev
	}
	if prev.To != c.State {
		t.Errorf("case %s is %s, its last event ended in %s", c.Number, c.State, prev.To)
	}
	if c.ReturnedCount != returns || c.ReworkCount != reworks {
		t.Errorf("case %s counts %d returns, %d reworks; its events %d, %d", c.Number, c.ReturnedCount, c.ReworkCount, returns, reworks)
	}
	open := 0
	for _, st := range c.Steps {
		if st.EndedAt != nil {
			continue
		}
		open++
		if (c.State == dispatch.Postponed) != (st.PausedAt != nil) {
			t.Errorf("case %s is %s with step %s paused=%v", c.Number, c.State, st.Step, st.PausedAt != nil)
		}
		if st.Limit == nil || st.Limit.Amount == 0 {
			t.Errorf("case %s: open step %s has no time limit from the calendar", c.Number, st.Step)
		}
	}
	if c.State.Open() != (open > 0) {
		t.Errorf("case %s is %s with %d open steps", c.Number, c.State, open)
	}
}

// The same seed, district and now give the same cases, events and lights.
func TestDemoCasesDeterministic(t *testing.T) {
	const n = 300
	digest := func(db *store.DB) map[string]string {
		out := map[string]string{}
		for _, c := range allCases(t, db, demoCasesNow) {
			var b strings.Builder
			fmt.Fprintf(&b, "%s %s %s %s %.6f %.6f %s %s", c.Number, c.CategoryCode, c.Source, c.Urgency, c.Lon, c.Lat, c.State, c.Light)
			if c.Party != nil {
				fmt.Fprintf(&b, " %s:%s", c.Party.Kind, c.Party.Ref)
			}
			for _, ev := range c.Events {
				fmt.Fprintf(&b, "|%s %s %s>%s %s %s", ev.At.UTC().Format(time.RFC3339Nano), ev.Kind, ev.From, ev.To, ev.ActorName, ev.Reason)
			}
			for _, st := range c.Steps {
				fmt.Fprintf(&b, "|%s %v %v", st.Step, st.DueAt, st.EndedAt)
			}
			out[c.ExternalID] = b.String()
		}
		return out
	}
	db1, _ := loadDemoCasesDB(t, n)
	db2, _ := loadDemoCasesDB(t, n)
	a, b := digest(db1), digest(db2)
	if len(a) != n || len(b) != n {
		t.Fatalf("%d and %d cases, want %d", len(a), len(b), n)
	}
	for k, v := range a {
		if b[k] != v {
			t.Fatalf("demo case %s differs between two loads:\n%s\n%s", k, v, b[k])
		}
	}
}
