package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// restricted is an actor who holds grids.write and staff.write under grid root only.
func restricted(root int64) *gridline.Actor {
	p := accounts.NewPrincipal(7, "planner", 0, []accounts.Grant{{Role: accounts.Planner, Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: root}},
		{Role: accounts.Supervisor, Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: root}}}, accounts.AllPermissions)
	return p.Actor("192.0.2.1", "req-1")
}

func countAudit(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWriteReach: a write is checked inside its transaction against the actor's scope, through
// every version and every parent, and a refused write leaves neither the change nor an audit row.
func TestWriteReach(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	// Community 4 (410103001001) holds basic grids 7 and 8; community 5 holds grid 9.
	inside := gridline.WithActor(ctx, restricted(4))
	g, err := db.Grid(ctx, "410103001001002", storetest.FixtureFrom)
	if err != nil {
		t.Fatal(err)
	}
	before := countAudit(t, db)
	next := *g
	next.ValidFrom = day("2025-01-01")
	next.Name = "renamed inside"
	if _, err := db.SaveGrid(inside, next, store.DefaultTolerance); err != nil {
		t.Fatalf("a change inside the scope: %v", err)
	}
	if n := countAudit(t, db); n != before+1 {
		t.Fatalf("audit rows after one change: %d, want %d", n, before+1)
	}
	var who string
	var targets []int64
	if err := db.Pool().QueryRow(ctx, `SELECT username, target_ids FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&who, &targets); err != nil {
		t.Fatal(err)
	}
	if who != "planner" || len(targets) != 1 || targets[0] != g.ID {
		t.Fatalf("audit row: %s %v", who, targets)
	}

	cases := []struct {
		name string
		ref  string
		edit func(g *gridline.Grid)
	}{
		{"sibling community's grid", "410103001002001", func(g *gridline.Grid) { g.Name = "x" }},
		{"the parent subdistrict", "410103001", func(g *gridline.Grid) { g.Name = "x" }},
		{"moving an outside grid in", "410103001002001", func(g *gridline.Grid) { g.ParentID = 4; g.Geometry = storetest.Box(113.60, 34.70, 113.605, 34.705) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := db.Grid(ctx, c.ref, storetest.FixtureFrom)
			if err != nil {
				t.Fatal(err)
			}
			n := countAudit(t, db)
			next := *g
			next.ValidFrom = day("2025-02-01")
			c.edit(&next)
			_, err = db.SaveGrid(inside, next, store.DefaultTolerance)
			if gridline.ErrorCode(err) != gridline.EForbidden {
				t.Fatalf("got %v, want forbidden", err)
			}
			if after := countAudit(t, db); after != n {
				t.Fatalf("a refused write left an audit row")
			}
			vs, err := db.Versions(ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 1 {
				t.Fatalf("a refused write left %d versions", len(vs))
			}
		})
	}
	// Moving a grid of the scope out to another community is refused too: its old version lies
	// inside, its new one outside.
	g8, err := db.Grid(ctx, "410103001001002", day("2025-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	out := *g8
	out.ValidFrom, out.ParentID, out.Geometry = day("2025-03-01"), 5, storetest.Box(113.60, 34.72, 113.605, 34.725)
	if _, err := db.SaveGrid(inside, out, store.DefaultTolerance); gridline.ErrorCode(err) != gridline.EForbidden {
		t.Fatalf("moving a grid out of the scope: %v, want forbidden", err)
	}
	// Staff: a post in a grid of the scope, and one outside.
	p, err := db.SavePerson(ctx, gridline.Person{Name: "张三", Phone: "13800000000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Assign(inside, gridline.Assignment{PersonID: p.ID, GridID: 7, Post: gridline.PostFullTimeWorker, ValidFrom: storetest.FixtureFrom}); err != nil {
		t.Fatalf("a post inside the scope: %v", err)
	}
	if _, err := db.Assign(inside, gridline.Assignment{PersonID: p.ID, GridID: 9, Post: gridline.PostFullTimeWorker, ValidFrom: storetest.FixtureFrom}); gridline.ErrorCode(err) != gridline.EForbidden {
		t.Fatalf("a post outside the scope: %v, want forbidden", err)
	}
}

// TestAuditAppendOnly: the server's connection cannot UPDATE, DELETE or TRUNCATE the audit log;
// a superuser who disables the trigger can, and the verifier then names the row.
func TestAuditAppendOnly(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	for _, name := range []string{"a1", "a2", "a3", "a4"} {
		if _, err := db.SavePerson(ctx, gridline.Person{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || v.BadID != 0 || v.Rows != 4 {
		t.Fatalf("verify an intact log: %+v %v", v, err)
	}
	for _, q := range []string{`UPDATE audit_log SET username = 'x'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := db.Pool().Exec(ctx, q); err == nil {
			t.Fatalf("%s succeeded through the server's connection", q)
		}
	}
	var ids []int64
	rows, _ := db.Pool().Query(ctx, `SELECT id FROM audit_log ORDER BY id`)
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != 4 {
		t.Fatalf("ids %v %v", ids, err)
	}
	// The test role is a superuser, as an attacker with the database's owner could be: it turns
	// the trigger off and edits the second row.
	tamper := func(q string, args ...any) {
		t.Helper()
		tx, err := db.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if _, err := tx.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tamper(`UPDATE audit_log SET after = '{"name":"someone else"}' WHERE id = $1`, ids[1])
	v, err = db.VerifyAudit(ctx)
	if err != nil || v.BadID != ids[1] {
		t.Fatalf("verify an altered row: %+v %v, want row %d named", v, err, ids[1])
	}
	// Put it right by recomputing its hash (what a careful attacker would do): the next row's
	// link then gives it away.
	tamper(`UPDATE audit_log a SET hash = gridline_audit_hash(a.prev_hash, a) WHERE id = $1`, ids[1])
	v, err = db.VerifyAudit(ctx)
	if err != nil || v.BadID != ids[2] {
		t.Fatalf("verify a re-hashed row: %+v %v, want row %d named", v, err, ids[2])
	}
	tamper(`DELETE FROM audit_log WHERE id = $1`, ids[2])
	v, err = db.VerifyAudit(ctx)
	if err != nil || v.BadID != ids[3] {
		t.Fatalf("verify after a removal: %+v %v, want row %d named", v, err, ids[3])
	}
}

// TestLoadAfterFirstAdmin: the first serve creates the administrator (a person) before
// --demo-if-empty loads the demo, whose people then move past that person's id.
func TestLoadAfterFirstAdmin(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	if _, err := accounts.EnsureAdmin(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatalf("load after the first administrator: %v", err)
	}
	a, err := db.AccountByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.Pool().QueryRow(ctx, `SELECT name FROM people WHERE id = $1`, a.PersonID).Scan(&name); err != nil || name != a.Name {
		t.Fatalf("the administrator's person: %q %v", name, err)
	}
	staff, err := db.StaffOf(ctx, []int64{7}, storetest.FixtureFrom)
	if err != nil || len(staff[7]) == 0 || staff[7][0].Name == a.Name {
		t.Fatalf("staff of grid 7 after the shift: %+v %v", staff, err)
	}
}
