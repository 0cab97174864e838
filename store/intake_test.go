package store_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

func intakeCategory(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := storetest.Raw(t, db).Exec(context.Background(), `INSERT INTO case_categories (code, standard, name, class_code, kind) VALUES ('0101', 'legacy', '私搭乱建', '01', 'incident')`); err != nil {
		t.Fatal(err)
	}
}

func newIntake(i int, externalID string) *dispatch.NewCase {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return &dispatch.NewCase{NumberDay: "20260302",
		Case: dispatch.Case{Source: dispatch.SourceHotline, CategoryCode: "0101", Urgency: dispatch.Normal, Lon: 113.6 + float64(i)*1e-4, Lat: 34.7,
			State: dispatch.Reported, GridChain: []int64{}, Flags: []string{}, CoDepartments: []string{}, Routing: []byte(`{}`),
			Description: fmt.Sprint("case ", i), ExternalID: externalID, ReportedAt: now, UpdatedAt: now},
		Events:  []dispatch.Event{{At: now, Kind: dispatch.KindReport, To: dispatch.Reported}},
		Steps:   []dispatch.Step{{Step: dispatch.StepFile, StartedAt: now}},
		Notices: []dispatch.Notice{{Kind: "near_boundary", ToKind: "grid", ToRef: "1", Message: fmt.Sprint("notice ", i)}},
	}
}

// rowsOf counts the rows of the intake tables.
func rowsOf(t *testing.T, db *store.DB) (cases, events, steps, notices int) {
	t.Helper()
	err := storetest.Raw(t, db).QueryRow(context.Background(), `SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_events),
		(SELECT count(*) FROM case_steps), (SELECT count(*) FROM case_notices)`).Scan(&cases, &events, &steps, &notices)
	if err != nil {
		t.Fatal(err)
	}
	return
}

// TestIntakeConcurrent: many concurrent intakes through the group-commit writer each get their
// own case, with their own events, steps and notices under it.
func TestIntakeConcurrent(t *testing.T) {
	db := storetest.New(t)
	intakeCategory(t, db)
	const n = 200
	ncs := make([]*dispatch.NewCase, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range ncs {
		ncs[i] = newIntake(i, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.CreateCase(context.Background(), ncs[i])
		}()
	}
	wg.Wait()
	ids, numbers := map[int64]bool{}, map[string]bool{}
	for i, nc := range ncs {
		if errs[i] != nil {
			t.Fatalf("case %d: %v", i, errs[i])
		}
		if nc.Case.ID == 0 || ids[nc.Case.ID] || numbers[nc.Case.Number] {
			t.Fatalf("case %d: id %d number %q, not its own", i, nc.Case.ID, nc.Case.Number)
		}
		ids[nc.Case.ID], numbers[nc.Case.Number] = true, true
		if nc.Events[0].CaseID != nc.Case.ID || nc.Steps[0].CaseID != nc.Case.ID || nc.Events[0].ID == 0 || nc.Steps[0].ID == 0 {
			t.Fatalf("case %d: rows not filled: %+v %+v", i, nc.Events[0], nc.Steps[0])
		}
	}
	var wrong int
	if err := storetest.Raw(t, db).QueryRow(context.Background(), `SELECT count(*) FROM cases c
		WHERE description <> 'case ' || round((ST_X(geom) - 113.6) * 1e4)::int
		   OR (SELECT count(*) FROM case_events e WHERE e.case_id = c.id) <> 1
		   OR (SELECT count(*) FROM case_steps s WHERE s.case_id = c.id) <> 1
		   OR (SELECT string_agg(message, ',') FROM case_notices x WHERE x.case_id = c.id) <> 'notice ' || round((ST_X(geom) - 113.6) * 1e4)::int
		   OR (SELECT n.event_id FROM case_notices n WHERE n.case_id = c.id) <> (SELECT e.id FROM case_events e WHERE e.case_id = c.id)`).Scan(&wrong); err != nil || wrong != 0 {
		t.Fatalf("%d cases whose rows are mixed up with another's (%v)", wrong, err)
	}
	if c, e, s, x := rowsOf(t, db); c != n || e != n || s != n || x != n {
		t.Fatalf("rows %d %d %d %d, want %d of each", c, e, s, x, n)
	}
	for _, nc := range ncs[:3] {
		c, err := db.Case(context.Background(), nc.Case.ID)
		if err != nil || c.Description != nc.Case.Description || c.Number != nc.Case.Number {
			t.Fatalf("%v %+v", err, c)
		}
	}
}

// TestIntakeBatchOneFails: in a batch, a case that clashes (an external_id already stored, or one
// repeated in the batch) or that a table refuses fails alone, with the answer it gets alone; the
// others are written.
func TestIntakeBatchOneFails(t *testing.T) {
	db := storetest.New(t)
	intakeCategory(t, db)
	if err := db.CreateCase(context.Background(), newIntake(0, "H-1")); err != nil {
		t.Fatal(err)
	}
	bad := newIntake(3, "")
	now := bad.Case.ReportedAt
	bad.Attachments = []dispatch.Attachment{{Kind: "before", ContentType: "text/html", Size: 3, Bytes: []byte{1, 2, 3},
		SHA256: "00000000000000000000000000000000000000000000000000000000000000aa", CreatedAt: now}}
	batch := []*dispatch.NewCase{newIntake(1, ""), newIntake(2, "H-1"), bad, newIntake(4, "H-2"), newIntake(5, "H-2"), newIntake(6, "")}
	errs := db.WriteIntakeBatch(batch)
	for i, err := range errs {
		want := gridline.ErrorCode(nil)
		switch i {
		case 1, 4:
			want = gridline.EConflict
		case 2:
			want = gridline.ERule
		}
		if gridline.ErrorCode(err) != want {
			t.Errorf("member %d: %v (%s), want %q", i, err, gridline.ErrorCode(err), want)
		}
	}
	if c, e, s, x := rowsOf(t, db); c != 4 || e != 4 || s != 4 || x != 4 {
		t.Fatalf("rows %d %d %d %d, want 4 of each (the stored case and three of the batch)", c, e, s, x)
	}
	var n int
	if err := storetest.Raw(t, db).QueryRow(context.Background(), `SELECT count(*) FROM cases WHERE description IN ('case 1', 'case 4', 'case 6') OR external_id = 'H-1' AND description = 'case 0'`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d of the expected cases stored (%v)", n, err)
	}
}

// TestIntakeBatchDatabaseFails: the connection is cut in the middle of a batch being sent:
// every member of the batch is answered with an error and nothing of any of them is stored; the
// next intake, once the database is back, is written.
func TestIntakeBatchDatabaseFails(t *testing.T) {
	direct := storetest.New(t)
	intakeCategory(t, direct)
	u, err := url.Parse(direct.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{target: u.Host}
	p.start(t)
	u.Host = p.addr
	db, err := store.Open(context.Background(), u.String(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateCase(context.Background(), newIntake(0, "")); err != nil {
		t.Fatal(err)
	}
	p.cut.Store(true)
	batch := make([]*dispatch.NewCase, 8)
	for i := range batch {
		batch[i] = newIntake(i+1, "")
	}
	for i, err := range db.WriteIntakeBatch(batch) {
		if err == nil {
			t.Errorf("member %d was answered as written while the connection was cut", i)
		}
	}
	if p.cuts.Load() == 0 {
		t.Fatal("the proxy cut nothing: the test did not test")
	}
	time.Sleep(200 * time.Millisecond) // the server ends the cut session's transaction
	if c, e, s, x := rowsOf(t, direct); c != 1 || e != 1 || s != 1 || x != 1 {
		t.Fatalf("rows %d %d %d %d after the cut batch, want only the first case's", c, e, s, x)
	}
	p.cut.Store(false)
	if err := db.CreateCase(context.Background(), newIntake(9, "")); err != nil {
		t.Fatalf("after the database came back: %v", err)
	}
	if c, _, _, _ := rowsOf(t, direct); c != 2 {
		t.Fatalf("%d cases, want 2", c)
	}
}

// cutProxy forwards TCP to target; while cut is set, a large write from the client (a batch, not
// a ping) is forwarded only in part and the connection is closed: the database sees half a
// pipeline and no Sync.
type cutProxy struct {
	target, addr string
	cut          atomic.Bool
	cuts         atomic.Int64
}

func (p *cutProxy) start(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *cutProxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	go func() { io.Copy(c, u); c.Close() }()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if p.cut.Load() && n > 1000 {
				u.Write(buf[:n/2]) //nolint:errcheck
				p.cuts.Add(1)
				u.Close()
				c.Close()
				return
			}
			if _, err := u.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	u.Close()
	c.Close()
}
