package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gridline.dev/gridline/store"
)

// StatsFixture is the case history whose figures the statistics tests know by hand (issue #16).
// It loads Fixture's grids and writes, as rows, two categories (0101 patrol-findable, 0102 not),
// one department (chengguan), two grid workers (accounts w7 and wx: W reports on patrol, X is
// dispatched to), and ten cases with their events and handling steps, all in November 2026 in
// Asia/Shanghai except C7 (reported in October) and C10 (1 December local time, 30 November UTC).
// Times below are local (UTC+8). Basic grids: g7 = 410103001001001, g8 = 410103001001002 (both in
// community 410103001001), g9 = 410103001002001 (community 410103001002; both communities in
// subdistrict 410103001), g10 = 410103002001001 (subdistrict 410103002).
//
//	C1  g7  patrol by W, 0101: reported 11-02 09:00, filed 09:30, dispatched to chengguan 10:00,
//	        handle step 11-02 10:00 .. 11-03 10:00 (due 11-04 10:00), closed 11-03 14:00; its file
//	        step 09:00 .. 09:30 ended too
//	C2  g7  hotline 0101, 11-05 10:00, 10 m from C3: filed 10:10, dispatched to worker W 10:20,
//	        returned 11:00, dispatched to chengguan 12:00, reported back, reworked 11-07 15:00,
//	        closed 11-08 18:00; handle steps 11-05 10:20..11:00 (due 11-07 10:20),
//	        11-05 12:00..11-07 10:00 (due 11-07 12:00), 11-07 15:00..11-08 10:00 (due 11-09 15:00)
//	C3  g7  patrol by W, 0101, 11-05 08:00; voided 09:00
//	C4  g8  public 0101, 11-10 09:00, no patrol report near: filed 09:30, dispatched to chengguan
//	        10:00, postponed 11-11 09:00 (handle step paused then, due_at NULL)
//	C5  g8  public 0102 (not patrol-findable), 11-12 09:00: filed 09:30, dispatched to worker X
//	        10:00, signed; handle step due 11-14 10:00, still open
//	C6  g9  patrol by W, 0101, self-handled at once 11-20 10:00
//	C7  g10 hotline 0101, reported 10-30 10:00 (October), filed 10:30, dispatched to chengguan
//	        11:00; handle step 10-30 11:00 .. 11-03 08:00 (due 11-02 11:00), closed 11-03 09:00 (late)
//	C8  g10 hotline 0101, 11-28 10:00: filed 10:30, dispatched to chengguan 11:00, handle due
//	        12-02 11:00, open
//	C9  g10 public 0102, 11-30 23:30 (15:30 UTC): reported only
//	C10 g10 public 0102, 12-01 00:30 (11-30 16:30 UTC): reported only
//	C11 g10 public 0101, 11-15 09:00, merged into C8 (merged cases count nowhere)
type StatsPeople struct {
	W, X int64 // person ids of the two grid workers
}

// StatsLoc is the fixture's time zone.
var StatsLoc = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// At is local time "MM-DD HH:MM" of 2026 in StatsLoc.
func At(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-"+s, StatsLoc)
	if err != nil {
		panic(err)
	}
	return t
}

// StatsFixture loads the fixture (see StatsPeople) into a fresh database.
func StatsFixture(t testing.TB, db *store.DB) StatsPeople {
	t.Helper()
	ctx := context.Background()
	if err := db.Load(ctx, Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	w := Account(t, db, "w7")
	x := Account(t, db, "wx")
	p := StatsPeople{W: w.PersonID, X: x.PersonID}
	raw := Raw(t, db)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO case_categories (code, standard, name, class_code, class_name, kind, patrol_findable) VALUES
		('0101', 'legacy', '暴露垃圾', '01', '市容环境', 'incident', true),
		('0102', 'legacy', '噪声扰民', '01', '市容环境', 'incident', false)`)
	exec(`INSERT INTO departments (code, name) VALUES ('chengguan', '城管')`)
	chains := map[int64][]int64{7: {1, 2, 4, 7}, 8: {1, 2, 4, 8}, 9: {1, 2, 5, 9}, 10: {1, 3, 6, 10}}
	// a point in each basic grid (C2 is 10 m from C3)
	points := map[string][2]float64{"g7a": {113.6050, 34.7100}, "g7b": {113.6050, 34.71009},
		"g8": {113.6150, 34.7100}, "g9": {113.6100, 34.7300}, "g10": {113.6300, 34.7200}}
	type ev struct {
		at   string
		kind string
	}
	type step struct {
		start, end, due, paused string
	}
	type cs struct {
		n                int
		grid             int64
		pt               string
		source, category string
		reporter         int64 // account id
		reported         string
		state            string
		partyKind        string
		partyRef         string
		closed           string
		flags            []string
		events           []ev
		handle           []step
		other            map[string]step // other steps by name
	}
	dept := "chengguan"
	ps := func(id int64) string { return fmt.Sprint(id) }
	list := []cs{
		{1, 7, "g7a", "patrol", "0101", w.ID, "11-02 09:00", "closed", "department", dept, "11-03 14:00", nil,
			[]ev{{"11-02 09:30", "file"}, {"11-02 10:00", "dispatch"}, {"11-02 11:00", "sign"}, {"11-03 10:00", "report_back"}, {"11-03 12:00", "verify"}, {"11-03 14:00", "close"}},
			[]step{{"11-02 10:00", "11-03 10:00", "11-04 10:00", ""}}, map[string]step{"file": {"11-02 09:00", "11-02 09:30", "", ""}}},
		{2, 7, "g7b", "hotline", "0101", 0, "11-05 10:00", "closed", "department", dept, "11-08 18:00", nil,
			[]ev{{"11-05 10:10", "file"}, {"11-05 10:20", "dispatch"}, {"11-05 11:00", "return"}, {"11-05 12:00", "dispatch"}, {"11-07 10:00", "report_back"},
				{"11-07 15:00", "rework"}, {"11-08 10:00", "report_back"}, {"11-08 12:00", "verify"}, {"11-08 18:00", "close"}},
			[]step{{"11-05 10:20", "11-05 11:00", "11-07 10:20", ""}, {"11-05 12:00", "11-07 10:00", "11-07 12:00", ""}, {"11-07 15:00", "11-08 10:00", "11-09 15:00", ""}}, nil},
		{3, 7, "g7a", "patrol", "0101", w.ID, "11-05 08:00", "voided", "", "", "", nil, []ev{{"11-05 09:00", "void"}}, nil, nil},
		{4, 8, "g8", "public", "0101", 0, "11-10 09:00", "postponed", "department", dept, "", nil,
			[]ev{{"11-10 09:30", "file"}, {"11-10 10:00", "dispatch"}, {"11-11 09:00", "postpone"}},
			[]step{{"11-10 10:00", "", "", "11-11 09:00"}}, nil},
		{5, 8, "g8", "public", "0102", 0, "11-12 09:00", "signed_for", "worker", ps(x.PersonID), "", nil,
			[]ev{{"11-12 09:30", "file"}, {"11-12 10:00", "dispatch"}, {"11-12 11:00", "sign"}},
			[]step{{"11-12 10:00", "", "11-14 10:00", ""}}, nil},
		{6, 9, "g9", "patrol", "0101", w.ID, "11-20 10:00", "closed", "", "", "11-20 10:00", []string{"self_handled"},
			[]ev{{"11-20 10:00", "self_handle"}}, nil, nil},
		{7, 10, "g10", "hotline", "0101", 0, "10-30 10:00", "closed", "department", dept, "11-03 09:00", nil,
			[]ev{{"10-30 10:30", "file"}, {"10-30 11:00", "dispatch"}, {"11-03 08:00", "report_back"}, {"11-03 08:30", "verify"}, {"11-03 09:00", "close"}},
			[]step{{"10-30 11:00", "11-03 08:00", "11-02 11:00", ""}}, nil},
		{8, 10, "g10", "hotline", "0101", 0, "11-28 10:00", "dispatched", "department", dept, "", nil,
			[]ev{{"11-28 10:30", "file"}, {"11-28 11:00", "dispatch"}},
			[]step{{"11-28 11:00", "", "12-02 11:00", ""}}, nil},
		{9, 10, "g10", "public", "0102", 0, "11-30 23:30", "reported", "", "", "", nil, nil, nil, nil},
		{10, 10, "g10", "public", "0102", 0, "12-01 00:30", "reported", "", "", "", nil, nil, nil, nil},
		{11, 10, "g10", "public", "0101", 0, "11-15 09:00", "merged", "", "", "", nil, []ev{{"11-15 09:10", "merge"}}, nil, nil},
	}
	opt := func(s string) *time.Time {
		if s == "" {
			return nil
		}
		x := At(s)
		return &x
	}
	for _, c := range list {
		pt := points[c.pt]
		var pk *string
		if c.partyKind != "" {
			pk = &c.partyKind
		}
		flags := c.flags
		if flags == nil {
			flags = []string{}
		}
		rep := "{}"
		if c.reporter != 0 {
			rep = fmt.Sprintf(`{"account": %d}`, c.reporter)
		}
		var id int64
		if err := raw.QueryRow(ctx, `INSERT INTO cases (number, source, category_code, urgency, geom, grid_id, grid_chain, state, party_kind, party_ref,
				flags, reporter, reported_at, updated_at, closed_at)
			VALUES ($1, $2, $3, 'normal', ST_SetSRID(ST_MakePoint($4, $5), 4326), $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $13, $14) RETURNING id`,
			fmt.Sprintf("C%d", c.n), c.source, c.category, pt[0], pt[1], c.grid, chains[c.grid], c.state, pk, c.partyRef,
			flags, rep, At(c.reported), opt(c.closed)).Scan(&id); err != nil {
			t.Fatalf("case C%d: %v", c.n, err)
		}
		exec(`INSERT INTO case_events (case_id, seq, at, kind, to_state) VALUES ($1, 1, $2, 'report', 'reported')`, id, At(c.reported))
		for i, e := range c.events {
			exec(`INSERT INTO case_events (case_id, seq, at, kind, to_state) VALUES ($1, $2, $3, $4, 'x')`, id, i+2, At(e.at), e.kind)
		}
		add := func(name string, s step) {
			exec(`INSERT INTO case_steps (case_id, step, started_at, ended_at, due_at, paused_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				id, name, At(s.start), opt(s.end), opt(s.due), opt(s.paused))
		}
		for _, s := range c.handle {
			add("handle", s)
		}
		for name, s := range c.other {
			add(name, s)
		}
	}
	return p
}
