package dispatch_test

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/worktime"
)

// naturalDeadlines counts every limit in natural time (working hours as hours, working days as
// days): enough to test that the engine asks for deadlines at the right moments; package
// worktime counts working time.
type naturalDeadlines struct{}

func (naturalDeadlines) Limit(category, urgency, step string) (worktime.Limit, bool, error) {
	switch step {
	case "file", "dispatch":
		return worktime.Limit{Amount: 30, Unit: worktime.NaturalMinute}, true, nil
	case "handle":
		if urgency == "urgent" {
			return worktime.Limit{Amount: 2, Unit: worktime.WorkingHour}, true, nil
		}
		return worktime.Limit{Amount: 1, Unit: worktime.WorkingDay}, true, nil
	}
	return worktime.Limit{}, false, nil
}

func span(l worktime.Limit) time.Duration {
	switch l.Unit {
	case worktime.NaturalMinute:
		return time.Duration(l.Amount) * time.Minute
	case worktime.WorkingHour:
		return time.Duration(l.Amount) * time.Hour
	}
	return time.Duration(l.Amount) * 24 * time.Hour
}

func (naturalDeadlines) Deadline(c worktime.StepClock) worktime.Deadline {
	total := span(c.Limit)
	for _, e := range c.Extensions {
		total += span(e)
	}
	due := c.Start.Add(total)
	paused := false
	for _, p := range c.Pauses {
		if p.To.IsZero() {
			paused = true
			continue
		}
		due = due.Add(p.To.Sub(p.From))
	}
	return worktime.Deadline{Due: due, Warn: due.Add(-total / 5), Paused: paused}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*store.DB, *dispatch.Engine, *fakeclock.Clock) {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		what string
		data []byte
	}{{"categories", demo.CaseCategories}, {"departments", demo.Departments}, {"rules", demo.ResponsibilityRules}} {
		rep, err := importers.ImportCaseList(ctx, db, l.what, l.data, "")
		if err != nil || len(rep.Problems) > 0 {
			t.Fatalf("load %s: %v %+v", l.what, err, rep)
		}
	}
	clock := fakeclock.New(t0)
	res := resolve.NewIncremental(db, clock, time.UTC)
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return db, dispatch.New(db, res, naturalDeadlines{}, clock, dispatch.Options{}), clock
}

func who(name string, grants ...accounts.Grant) *accounts.Principal {
	return accounts.NewPrincipal(int64(len(name)), name, 0, grants, accounts.AllPermissions)
}

var (
	dispatcher = who("dispatcher", accounts.Grant{Role: accounts.Dispatcher, Scope: accounts.Scope{Kind: accounts.ScopeAll}})
	supervisor = who("supervisor", accounts.Grant{Role: accounts.Supervisor, Scope: accounts.Scope{Kind: accounts.ScopeAll}})
	worker7    = who("worker7", accounts.Grant{Role: accounts.GridWorker, Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: 7}})
	jiaojing   = who("jiaojing", accounts.Grant{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "jiaojing"}})
	chengguan  = who("chengguan", accounts.Grant{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "chengguan"}})
)

func code(err error) string { return gridline.ErrorCode(err) }

func report(t *testing.T, eng *dispatch.Engine, cat string, lon, lat float64) *dispatch.Intake {
	t.Helper()
	in, err := eng.Report(context.Background(), dispatcher, dispatch.Report{Source: dispatch.SourceHotline, CategoryCode: cat, Lon: lon, Lat: lat, Description: "test"})
	if err != nil {
		t.Fatalf("report %s at %v,%v: %v", cat, lon, lat, err)
	}
	return in
}

func routing(t *testing.T, c *dispatch.Case) dispatch.Routing {
	t.Helper()
	var rt dispatch.Routing
	if err := json.Unmarshal(c.Routing, &rt); err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestCasesRouting(t *testing.T) {
	_, eng, _ := setup(t)
	cases := []struct {
		name     string
		cat      string
		lon, lat float64
		kind     dispatch.PartyKind
		ref      string // department code or person name
		fallback bool
		grid     string
	}{
		{"small matter: the grid's own worker", "0101", 113.603, 34.715, dispatch.PartyWorker, "赵磊", false, "410103001001001"},
		{"vacant worker: the community's chief", "0101", 113.615, 34.715, dispatch.PartyPost, "刘芳", true, "410103001001002"},
		{"a department by category", "0504", 113.603, 34.715, dispatch.PartyDepartment, "jiaojing", false, "410103001001001"},
		{"a department by class", "0302", 113.625, 34.73, dispatch.PartyDepartment, "zhujian", false, "410103002001001"},
		{"a thematic layer's worker", "06028", 113.625, 34.73, dispatch.PartyWorker, "马超", false, "410103002001001"},
		{"a thematic layer's other grid", "06028", 113.635, 34.73, dispatch.PartyWorker, "朱军", false, "410103002001001"},
		{"a post of the chain", "0201", 113.625, 34.73, dispatch.PartyPost, "杨洋", false, "410103002001001"},
		{"no rule: territorial fallback", "10001", 113.625, 34.73, dispatch.PartyWorker, "吴婷", true, "410103002001001"},
		{"outside every grid: the fallback department", "0101", 113.70, 34.70, dispatch.PartyDepartment, "center", true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := report(t, eng, tc.cat, tc.lon, tc.lat)
			c := in.Case
			if c.Party == nil {
				t.Fatalf("no party; routing %s", c.Routing)
			}
			got := c.Party.Ref
			if c.Party.Kind != dispatch.PartyDepartment {
				got = c.Party.Name
			}
			if got != tc.ref || tc.kind != c.Party.Kind {
				t.Errorf("party %+v, want %s %s; routing %s", c.Party, tc.kind, tc.ref, c.Routing)
			}
			rt := routing(t, c)
			if rt.Fallback != tc.fallback {
				t.Errorf("fallback %v, want %v: %v", rt.Fallback, tc.fallback, rt.Steps)
			}
			if tc.grid == "" {
				if !rt.Outside || c.GridID != 0 || !contains(c.Flags, "outside") {
					t.Errorf("want outside, flagged: %+v %v", rt, c.Flags)
				}
				return
			}
			if rt.Grid == nil || rt.Grid.Code != tc.grid || rt.Grid.VersionID == 0 || c.GridVersionID != rt.Grid.VersionID {
				t.Errorf("grid %+v, want %s with its version", rt.Grid, tc.grid)
			}
			if len(rt.Steps) == 0 || len(c.GridChain) < 3 {
				t.Errorf("no provenance steps or chain: %+v", rt)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestCasesNearBoundaryTellsNeighbour(t *testing.T) {
	db, eng, _ := setup(t)
	in := report(t, eng, "0101", 113.6099, 34.715) // about 9 m west of grid 8
	rt := routing(t, in.Case)
	if rt.NearBoundary == nil || rt.NearBoundary.Code != "410103001001002" || rt.Grid.Code != "410103001001001" {
		t.Fatalf("near boundary %+v in %+v", rt.NearBoundary, rt.Grid)
	}
	var n int
	if err := storetest.Raw(t, db).QueryRow(context.Background(), `SELECT count(*) FROM case_notices WHERE case_id = $1 AND kind = 'near_boundary' AND to_ref = '8'`, in.Case.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("neighbour notices %d, %v", n, err)
	}
}

func post(t *testing.T, eng *dispatch.Engine, p *accounts.Principal, id int64, req dispatch.Request) *dispatch.Case {
	t.Helper()
	c, err := eng.Transition(context.Background(), p, id, req)
	if err != nil {
		t.Fatalf("%s by %s: %v", req.Kind, p.Username, err)
	}
	return c
}

var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 100)...)

func TestCasesLoop(t *testing.T) {
	_, eng, clock := setup(t)
	c := report(t, eng, "0504", 113.603, 34.715).Case // to jiaojing
	if c.State != dispatch.Reported || len(c.Steps) != 1 || c.Steps[0].DueAt == nil || !c.Steps[0].DueAt.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("reported case: %+v steps %+v", c.State, c.Steps)
	}
	clock.Set(t0.Add(5 * time.Minute))
	c = post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindFile})
	c = post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindDispatch})
	if c.State != dispatch.Dispatched || c.Party.Ref != "jiaojing" {
		t.Fatalf("dispatched %s to %+v", c.State, c.Party)
	}
	handle := openStep(c, "handle")
	if handle == nil || !handle.DueAt.Equal(t0.Add(5*time.Minute+24*time.Hour)) {
		t.Fatalf("handle step %+v", handle)
	}
	// Not the party: another department may not sign for it.
	if _, err := eng.Transition(context.Background(), chengguan, c.ID, dispatch.Request{Kind: dispatch.KindSign}); code(err) != gridline.ENotFound && code(err) != gridline.EForbidden {
		t.Fatalf("sign by another department: %v", err)
	}
	c = post(t, eng, jiaojing, c.ID, dispatch.Request{Kind: dispatch.KindSign})
	// Postponed: the clock stops (no due time), then runs again, moved by the pause.
	clock.Set(t0.Add(time.Hour))
	c = post(t, eng, supervisor, c.ID, dispatch.Request{Kind: dispatch.KindPostpone, Reason: "waiting for the owner"})
	if h := openStep(c, "handle"); c.State != dispatch.Postponed || h.DueAt != nil || h.PausedAt == nil {
		t.Fatalf("postponed: %s %+v", c.State, h)
	}
	clock.Set(t0.Add(3 * time.Hour))
	c = post(t, eng, supervisor, c.ID, dispatch.Request{Kind: dispatch.KindResume})
	if h := openStep(c, "handle"); c.State != dispatch.SignedFor || h.DueAt == nil || !h.DueAt.Equal(t0.Add(5*time.Minute+26*time.Hour)) {
		t.Fatalf("resumed: %s %+v", c.State, h)
	}
	// Extension: asked by the party, approved by the dispatcher; the due time moves by it.
	c = post(t, eng, jiaojing, c.ID, dispatch.Request{Kind: dispatch.KindRequestExtension, Reason: "parts", Extension: &worktime.Limit{Amount: 1, Unit: worktime.WorkingDay}})
	c = post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindApproveExtension})
	if h := openStep(c, "handle"); !h.DueAt.Equal(t0.Add(5*time.Minute + 50*time.Hour)) {
		t.Fatalf("extended: %+v", h)
	}
	// Report back needs evidence.
	if _, err := eng.Transition(context.Background(), jiaojing, c.ID, dispatch.Request{Kind: dispatch.KindReportBack}); code(err) != gridline.EInvalid {
		t.Fatalf("report back without evidence: %v", err)
	}
	c = post(t, eng, jiaojing, c.ID, dispatch.Request{Kind: dispatch.KindReportBack, Photos: []dispatch.Photo{{Name: "after.jpg", Bytes: jpeg}}})
	if len(c.Attachments) != 1 || c.Attachments[0].Kind != "after" || c.Attachments[0].ContentType != "image/jpeg" {
		t.Fatalf("attachments %+v", c.Attachments)
	}
	// Verification fails once: rework, counted, the handling clock starts again.
	c = post(t, eng, worker7, c.ID, dispatch.Request{Kind: dispatch.KindRework, Reason: "still parked"})
	if c.State != dispatch.SignedFor || c.ReworkCount != 1 {
		t.Fatalf("rework: %s %d", c.State, c.ReworkCount)
	}
	c = post(t, eng, jiaojing, c.ID, dispatch.Request{Kind: dispatch.KindReportBack, Reason: "towed"})
	c = post(t, eng, worker7, c.ID, dispatch.Request{Kind: dispatch.KindVerify})
	c = post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindClose})
	c = post(t, eng, supervisor, c.ID, dispatch.Request{Kind: dispatch.KindEvaluate, Score: 5})
	if c.State != dispatch.Evaluated || c.ClosedAt == nil {
		t.Fatalf("end: %s", c.State)
	}
	for i, ev := range c.Events {
		if ev.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	if c.Version != len(c.Events) {
		t.Fatalf("version %d, %d events", c.Version, len(c.Events))
	}
	for _, st := range c.Steps {
		if st.EndedAt == nil {
			t.Errorf("step %s still open after evaluation", st.Step)
		}
	}
}

func openStep(c *dispatch.Case, name string) *dispatch.Step {
	for i := range c.Steps {
		if string(c.Steps[i].Step) == name && c.Steps[i].EndedAt == nil {
			return &c.Steps[i]
		}
	}
	return nil
}

func TestCasesReturnAndRedispatch(t *testing.T) {
	_, eng, _ := setup(t)
	c := report(t, eng, "0504", 113.603, 34.715).Case
	post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindFile})
	post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindDispatch})
	if _, err := eng.Transition(context.Background(), jiaojing, c.ID, dispatch.Request{Kind: dispatch.KindReturn}); code(err) != gridline.EInvalid {
		t.Fatalf("return without a reason: %v", err)
	}
	c = post(t, eng, jiaojing, c.ID, dispatch.Request{Kind: dispatch.KindReturn, Reason: "a private car park: not ours"})
	if c.State != dispatch.Returned || c.ReturnedCount != 1 || openStep(c, "dispatch") == nil || openStep(c, "handle") != nil {
		t.Fatalf("returned: %s %d %+v", c.State, c.ReturnedCount, c.Steps)
	}
	c = post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindDispatch, Party: &dispatch.Party{Kind: dispatch.PartyDepartment, Ref: "chengguan"}})
	c = post(t, eng, chengguan, c.ID, dispatch.Request{Kind: dispatch.KindSign})
	c = post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindCoHandle, Departments: []string{"pcs"}})
	if c.State != dispatch.SignedFor || len(c.CoDepartments) != 1 {
		t.Fatalf("co-handled: %s %v", c.State, c.CoDepartments)
	}
}

func TestCasesSelfHandled(t *testing.T) {
	_, eng, _ := setup(t)
	ctx := context.Background()
	r := dispatch.Report{Source: dispatch.SourcePatrol, CategoryCode: "0105", Lon: 113.603, Lat: 34.715, SelfHandled: true}
	if _, err := eng.Report(ctx, worker7, r); code(err) != gridline.EInvalid {
		t.Fatalf("self-handled without an after photo: %v", err)
	}
	r.Photos = []dispatch.Photo{{Name: "before.jpg", Kind: "before", Bytes: jpeg}, {Name: "after.jpg", Kind: "after", Bytes: jpeg}}
	in, err := eng.Report(ctx, worker7, r)
	if err != nil {
		t.Fatal(err)
	}
	if in.Case.State != dispatch.Closed || !contains(in.Case.Flags, "self_handled") || len(in.Case.Events) != 2 || len(in.Case.Steps) != 0 {
		t.Fatalf("self-handled: %+v", in.Case)
	}
	// Outside the worker's grid: refused.
	r.Lon = 113.625
	if _, err := eng.Report(ctx, worker7, r); code(err) != gridline.EForbidden {
		t.Fatalf("report outside the worker's grid: %v", err)
	}
}

func TestCasesBadInput(t *testing.T) {
	db, eng, _ := setup(t)
	ctx := context.Background()
	count := func() int {
		var n int
		if err := storetest.Raw(t, db).QueryRow(ctx, `SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM case_events) + (SELECT count(*) FROM case_attachments)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	base := count()
	bad := []struct {
		name string
		r    dispatch.Report
		code string
	}{
		{"unknown category", dispatch.Report{CategoryCode: "9999", Lon: 113.603, Lat: 34.715}, gridline.EInvalid},
		{"no category", dispatch.Report{Lon: 113.603, Lat: 34.715}, gridline.EInvalid},
		{"bad source", dispatch.Report{Source: "fax", CategoryCode: "0101", Lon: 113.603, Lat: 34.715}, gridline.EInvalid},
		{"bad urgency", dispatch.Report{Urgency: "now", CategoryCode: "0101", Lon: 113.603, Lat: 34.715}, gridline.EInvalid},
		{"latitude out of range", dispatch.Report{CategoryCode: "0101", Lon: 113.603, Lat: 134.715}, gridline.EInvalidCoord},
		{"photo over the limit", dispatch.Report{CategoryCode: "0101", Lon: 113.603, Lat: 34.715, Photos: []dispatch.Photo{{Name: "big.jpg", Bytes: append(jpeg, make([]byte, dispatch.DefaultMaxAttachment)...)}}}, gridline.ETooLarge},
		{"photo not an image", dispatch.Report{CategoryCode: "0101", Lon: 113.603, Lat: 34.715, Photos: []dispatch.Photo{{Name: "x.jpg", Bytes: []byte("MZ\x90\x00 not an image at all")}}}, gridline.EInvalid},
	}
	for _, tc := range bad {
		if _, err := eng.Report(ctx, dispatcher, tc.r); code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if _, err := eng.Report(ctx, nil, dispatch.Report{CategoryCode: "0101", Lon: 113.603, Lat: 34.715}); code(err) != gridline.EForbidden {
		t.Errorf("anonymous report: %v", err)
	}
	if n := count(); n != base {
		t.Fatalf("bad reports wrote %d rows", n-base)
	}
	c := report(t, eng, "0504", 113.603, 34.715).Case
	for _, tc := range []struct {
		name string
		p    *accounts.Principal
		req  dispatch.Request
		code string
	}{
		{"not from this state", dispatcher, dispatch.Request{Kind: dispatch.KindClose}, gridline.EConflict},
		{"not this role", worker7, dispatch.Request{Kind: dispatch.KindFile}, gridline.EForbidden},
		{"unknown kind", dispatcher, dispatch.Request{Kind: "teleport"}, gridline.EInvalid},
		{"stale version", dispatcher, dispatch.Request{Kind: dispatch.KindFile, ExpectVersion: ptr(7)}, gridline.EConflict},
		{"void without reason", dispatcher, dispatch.Request{Kind: dispatch.KindVoid}, gridline.EInvalid},
	} {
		if _, err := eng.Transition(ctx, tc.p, c.ID, tc.req); code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if _, err := eng.Transition(ctx, dispatcher, 999999, dispatch.Request{Kind: dispatch.KindFile}); code(err) != gridline.ENotFound {
		t.Errorf("no such case: %v", err)
	}
}

func ptr(n int) *int { return &n }

func TestCasesConcurrentTransitions(t *testing.T) {
	_, eng, _ := setup(t)
	c := report(t, eng, "0504", 113.603, 34.715).Case
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := dispatch.KindFile
			reason := ""
			if i%2 == 1 {
				kind, reason = dispatch.KindVoid, "duplicate call "+strconv.Itoa(i)
			}
			_, errs[i] = eng.Transition(context.Background(), dispatcher, c.ID, dispatch.Request{Kind: kind, Reason: reason, ExpectVersion: ptr(c.Version)})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case code(err) != gridline.EConflict:
			t.Errorf("a losing transition: %v, want conflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d transitions won, want 1: %v", won, errs)
	}
	after, err := eng.Case(context.Background(), dispatcher, c.ID)
	if err != nil || len(after.Events) != 2 || after.Version != 2 {
		t.Fatalf("after: %v %+v", err, after)
	}
}

func TestCasesDuplicatesAndMerge(t *testing.T) {
	_, eng, clock := setup(t)
	first := report(t, eng, "0102", 113.603, 34.715).Case
	clock.Set(t0.Add(time.Hour))
	in := report(t, eng, "0102", 113.6033, 34.7151) // about 29 m away
	if len(in.Duplicates) != 1 || in.Duplicates[0].ID != first.ID || in.Duplicates[0].Metres > 50 {
		t.Fatalf("duplicates %+v", in.Duplicates)
	}
	if other := report(t, eng, "0101", 113.6033, 34.7151); len(other.Duplicates) != 0 {
		t.Fatalf("another category offered as duplicate: %+v", other.Duplicates)
	}
	clock.Set(t0.Add(25 * time.Hour))
	if late := report(t, eng, "0102", 113.6033, 34.7151); len(late.Duplicates) != 1 || late.Duplicates[0].ID != in.Case.ID {
		t.Fatalf("after 25 h only the second (24 h old) is a duplicate: %+v", late.Duplicates)
	}
	c := post(t, eng, dispatcher, in.Case.ID, dispatch.Request{Kind: dispatch.KindMerge, Into: first.ID})
	if c.State != dispatch.Merged || c.DuplicateOf != first.ID {
		t.Fatalf("merged: %s %d", c.State, c.DuplicateOf)
	}
}

func TestCasesListsRefuseBadLines(t *testing.T) {
	db, _, _ := setup(t)
	ctx := context.Background()
	rep, err := importers.ImportCaseList(ctx, db, "rules", []byte("ord,category_code,party_kind,party_ref\n1,0101,department,nobody\n2,0101,teleport,\n3,0101,department,center\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 2 || rep.Problems[0].Index != 2 || rep.Problems[1].Index != 3 {
		t.Fatalf("problems %+v", rep.Problems)
	}
	rules, err := db.Rules(ctx)
	if err != nil || len(rules) < 10 {
		t.Fatalf("the list was changed by a refused import: %d rules, %v", len(rules), err)
	}
	_, err = importers.ImportCaseList(gridline.WithActor(ctx, worker7.Actor("", "")), db, "departments", []byte("code,name\nx,X\n"), "")
	if code(err) != gridline.EForbidden {
		t.Fatalf("a grid worker changing the department list: %v", err)
	}
}

// TestCasesDispatchToGridWorker: a worker party with no person but a grid (as the console's
// "the grid's worker" sends it) goes to whoever holds that grid's primary post today.
func TestCasesDispatchToGridWorker(t *testing.T) {
	_, eng, _ := setup(t)
	c := report(t, eng, "0504", 113.603, 34.715).Case
	post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindFile})
	if _, err := eng.Transition(context.Background(), dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindDispatch,
		Party: &dispatch.Party{Kind: dispatch.PartyWorker, Grid: 987654321}}); code(err) != gridline.EInvalid {
		t.Fatalf("the worker of an unknown grid: %v", err)
	}
	c = post(t, eng, dispatcher, c.ID, dispatch.Request{Kind: dispatch.KindDispatch, Party: &dispatch.Party{Kind: dispatch.PartyWorker, Grid: c.GridID}})
	if c.State != dispatch.Dispatched || c.Party == nil || c.Party.Kind != dispatch.PartyWorker || c.Party.Name != "赵磊" || c.Party.Ref == "" {
		t.Fatalf("dispatched to the grid's worker: %s %+v", c.State, c.Party)
	}
}

// TestCasesDuplicateRadius: the duplicate search's box holds the whole 50 m circle, east-west as
// well as north-south: a report just inside 50 m (by PostGIS's distance on the sphere) in each
// direction finds the first, one just outside does not.
func TestCasesDuplicateRadius(t *testing.T) {
	db, eng, _ := setup(t)
	first := report(t, eng, "0102", 113.603, 34.715).Case
	// Degrees for 49 and 51 m at this latitude, then checked by PostGIS.
	for _, c := range []struct {
		name       string
		dlon, dlat float64
		want       bool
	}{
		{"49 m east", 49 / (111320 * math.Cos(34.715*math.Pi/180)), 0, true},
		{"49 m north", 0, 49 / 110900.0, true},
		{"51 m east", 51 / (111320 * math.Cos(34.715*math.Pi/180)), 0, false},
		{"51 m south", 0, -51 / 110900.0, false},
	} {
		lon, lat := 113.603+c.dlon, 34.715+c.dlat
		var d float64
		if err := storetest.Raw(t, db).QueryRow(context.Background(), `SELECT ST_Distance(ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, ST_SetSRID(ST_MakePoint(113.603, 34.715), 4326)::geography)`, lon, lat).Scan(&d); err != nil {
			t.Fatal(err)
		}
		if (d < 50) != c.want {
			t.Fatalf("%s: PostGIS says %.2f m; the test's degrees are wrong", c.name, d)
		}
		in := report(t, eng, "0102", lon, lat)
		found := false
		for _, dup := range in.Duplicates {
			found = found || dup.ID == first.ID
		}
		if found != c.want {
			t.Fatalf("%s (%.2f m): duplicate of the first %v, want %v (%+v)", c.name, d, found, c.want, in.Duplicates)
		}
	}
}
