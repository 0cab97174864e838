package store_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/webhooks"
)

// liveCase writes a case and its first event behind the store's back, as the dispatch engine
// would, and returns the event's id. dept, when set, is the department the case is with.
func liveCase(t *testing.T, raw *pgxpool.Pool, chain []int64, dept string, kind string, at time.Time) (caseID, eventID int64) {
	t.Helper()
	ctx := context.Background()
	tx, err := raw.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO case_categories (code, standard, name, class_code, class_name, kind)
		VALUES ('06010', 'gbt47678.5', '暴露垃圾', '06', '市容环境', 'incident') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	partyKind, partyRef := "worker", "7"
	if dept != "" {
		partyKind, partyRef = "department", dept
	}
	err = tx.QueryRow(ctx, `INSERT INTO cases (number, source, category_code, urgency, description, geom, grid_id, grid_chain, state,
			party_kind, party_ref, party_name, reported_at, updated_at)
		VALUES ('T' || nextval('cases_id_seq'), 'public', '06010', 'normal', 'x', ST_SetSRID(ST_MakePoint(113.65, 34.74), 4326), $1, $2, 'reported',
			$3, $4, 'someone', $5, $5) RETURNING id`, chain[len(chain)-1], chain, partyKind, partyRef, at).Scan(&caseID)
	if err != nil {
		t.Fatal(err)
	}
	err = tx.QueryRow(ctx, `INSERT INTO case_events (case_id, seq, at, kind, to_state) VALUES ($1, 1, $2, $3, 'reported') RETURNING id`,
		caseID, at, kind).Scan(&eventID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_steps (case_id, step, started_at, warn_at, due_at) VALUES ($1, 'file', $2, $3, $4)`,
		caseID, at, at.Add(-time.Minute), at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return caseID, eventID
}

func TestCaseEventsNotifyAndRead(t *testing.T) {
	db := storetest.New(t)
	raw := storetest.Raw(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 10)
	up := make(chan struct{})
	var once sync.Once
	go db.ListenCases(ctx, func(p string) { got <- p }, func(err error) {
		if err == nil {
			once.Do(func() { close(up) })
		}
	})
	<-up
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	if n, err := db.LastSeq(ctx); err != nil || n != 0 {
		t.Fatal(n, err)
	}
	_, id := liveCase(t, raw, []int64{1, 2, 3}, "", "report", at)
	select {
	case p := <-got:
		if p != strconv.FormatInt(id, 10) {
			t.Fatalf("notified %q, want %d", p, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	evs, err := db.Events(ctx, []int64{id})
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	e := evs[0]
	if e.Seq != id || e.Kind != "report" || e.State != "reported" || e.Light != "yellow" || !slices.Equal(e.Chain, []int64{1, 2, 3}) ||
		e.Party.Kind != "worker" || e.Party.Name != "someone" || e.Point == nil || e.Point[0] != 113.65 || !e.At.Equal(at) || e.Number == "" {
		t.Fatalf("%+v", e)
	}
	_, id2 := liveCase(t, raw, []int64{1, 5}, "cg", "report", at)
	if evs, err := db.EventsAfter(ctx, id, 10); err != nil || len(evs) != 1 || evs[0].Seq != id2 || !slices.Equal(evs[0].Departments, []string{"cg"}) {
		t.Fatal(evs, err)
	}
	if n, err := db.LastSeq(ctx); err != nil || n != id2 {
		t.Fatal(n, err)
	}
	// A rolled-back change announces nothing.
	tx, _ := raw.Begin(ctx)
	tx.Exec(ctx, `INSERT INTO case_events (case_id, seq, at, kind, to_state) SELECT case_id, 9, at, 'note', 'reported' FROM case_events WHERE id = $1`, id)
	tx.Rollback(ctx)
	<-got // id2's
	select {
	case p := <-got:
		t.Fatalf("a rolled-back event was announced: %s", p)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestWebhookDeliveries(t *testing.T) {
	db := storetest.New(t)
	raw := storetest.Raw(t, db)
	if err := db.Load(context.Background(), storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	admin := storetest.Account(t, db, "admin", storetest.Everywhere(accounts.Administrator))
	ctx := gridline.WithActor(context.Background(), &gridline.Actor{AccountID: admin.ID, Username: "admin", Reach: func(string) (bool, []int64) { return true, nil }})
	var grid int64
	if err := raw.QueryRow(ctx, `SELECT id FROM grids ORDER BY id LIMIT 1`).Scan(&grid); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	subs := []*webhooks.Subscription{
		{URL: "https://a.example/all"},
		{URL: "https://a.example/dispatched", Kinds: []string{"dispatch"}},
		{URL: "https://a.example/grid", Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: grid}},
		{URL: "https://a.example/cg", Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "cg"}},
	}
	for _, s := range subs {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateWebhook(ctx, s, now); err != nil {
			t.Fatal(err)
		}
	}
	bad := &webhooks.Subscription{URL: "https://a.example/x", Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: 987654321}}
	bad.Validate()
	if err := db.CreateWebhook(ctx, bad, now); gridline.ErrorCode(err) != gridline.EInvalid {
		t.Fatalf("a scope on no grid: %v", err)
	}
	list, err := db.Webhooks(ctx)
	if err != nil || len(list) != 4 || list[0].Secret != "" || list[2].Scope.Grid != grid {
		t.Fatalf("%+v %v", list, err)
	}
	var audited int
	raw.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'webhook.create'`).Scan(&audited)
	if audited != 4 {
		t.Fatalf("%d audit rows", audited)
	}

	liveCase(t, raw, []int64{grid, 99}, "", "report", now)     // all, grid
	liveCase(t, raw, []int64{1000, 1001}, "cg", "report", now) // all, cg
	counts := map[int64]int{}
	for _, s := range subs {
		ds, err := db.Deliveries(ctx, s.ID, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		counts[s.ID] = len(ds)
	}
	if counts[subs[0].ID] != 2 || counts[subs[1].ID] != 0 || counts[subs[2].ID] != 1 || counts[subs[3].ID] != 1 {
		t.Fatalf("deliveries per subscription %v", counts)
	}

	// Two senders claiming at once never take the same delivery.
	var mu sync.Mutex
	claimed := map[int64]int{}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs, err := db.ClaimDeliveries(ctx, now, time.Minute, 10)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, c := range cs {
				claimed[c.ID]++
				if c.Attempts != 1 || c.Secret == "" || len(c.Body) == 0 || c.Kind != "report" {
					t.Errorf("%+v", c)
				}
			}
		}()
	}
	wg.Wait()
	if len(claimed) != 4 {
		t.Fatalf("claimed %v", claimed)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
	}
	// Leased: not due again until the lease ends.
	if cs, _ := db.ClaimDeliveries(ctx, now.Add(30*time.Second), time.Minute, 10); len(cs) != 0 {
		t.Fatalf("claimed again within the lease: %d", len(cs))
	}
	cs, err := db.ClaimDeliveries(ctx, now.Add(2*time.Minute), time.Minute, 1)
	if err != nil || len(cs) != 1 || cs[0].Attempts != 2 {
		t.Fatal(cs, err)
	}
	next := now.Add(5 * time.Minute)
	if err := db.FinishDelivery(ctx, cs[0].ID, webhooks.Result{Status: webhooks.Pending, NextAttemptAt: &next, LastStatus: 503, LastError: "the receiver answered 503", At: now}); err != nil {
		t.Fatal(err)
	}
	ds, _ := db.Deliveries(ctx, cs[0].SubscriptionID, webhooks.Pending, 10)
	found := false
	for _, d := range ds {
		if d.ID == cs[0].ID {
			found = true
			if d.LastStatus != 503 || d.LastError == "" || !d.NextAttemptAt.Equal(next) || d.Attempts != 2 {
				t.Fatalf("%+v", d)
			}
		}
	}
	if !found {
		t.Fatal("the failed delivery is not listed as pending")
	}
	if err := db.DeleteWebhook(ctx, subs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Deliveries(ctx, subs[0].ID, "", 10); gridline.ErrorCode(err) != gridline.ENotFound {
		t.Fatal(err)
	}
	if err := db.DeleteWebhook(ctx, subs[0].ID); gridline.ErrorCode(err) != gridline.ENotFound {
		t.Fatal(err)
	}
}
