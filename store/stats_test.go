package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/stats"
	"gridline.dev/gridline/store/storetest"
)

// officeHours is a calendar whose working time is 09:00-17:00 every day (so the hand counts stay
// simple).
type officeHours struct{}

func (officeHours) WorkingSpans(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	f := from.In(storetest.StatsLoc)
	for d := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, storetest.StatsLoc); d.Before(to); d = d.AddDate(0, 0, 1) {
		out = append(out, [2]time.Time{d.Add(9 * time.Hour), d.Add(17 * time.Hour)})
	}
	return out
}

// C is a Counts written in the order of stats.CountNames: reported, filed, voided, closed,
// self_handled, due, postponed, closed_on_time, overdue, dispatched, redispatched, returned,
// reworked, patrol_reported, patrol_valid, missed.
func C(n ...int) stats.Counts {
	if len(n) != 16 {
		panic("C needs 16 numbers")
	}
	return stats.Counts{Reported: n[0], Filed: n[1], Voided: n[2], Closed: n[3], SelfHandled: n[4], Due: n[5], Postponed: n[6],
		ClosedOnTime: n[7], Overdue: n[8], Dispatched: n[9], Redispatched: n[10], Returned: n[11], Reworked: n[12],
		PatrolReported: n[13], PatrolValid: n[14], Missed: n[15]}
}

func figures(t *testing.T, svc *stats.Service, g stats.Group, month string, bucket stats.Bucket) *stats.Answer {
	t.Helper()
	from, to, err := stats.ParsePeriod("", "", month, storetest.StatsLoc)
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.Figures(context.Background(), stats.Query{Group: g, From: from, To: to, Bucket: bucket, Access: stats.Access{Everywhere: true}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func byKey(a *stats.Answer) map[string]stats.Row {
	m := map[string]stats.Row{}
	for _, r := range a.Rows {
		m[r.Key+"|"+r.Bucket] = r
	}
	return m
}

// TestStatsFixture checks every counted figure of every group of November 2026 on the fixture of
// storetest.StatsFixture, whose cases are listed there. The expected tables are counted by hand
// from that list.
func TestStatsFixture(t *testing.T) {
	db := storetest.New(t)
	p := storetest.StatsFixture(t, db)
	clock := fakeclock.New(storetest.At("12-06 12:00"))
	svc := stats.New(db, func() stats.Calendar { return officeHours{} }, clock, storetest.StatsLoc)

	//                         rep fil void clo self due post cot over disp redis ret rew prep pval miss
	g7 := C(3, 2, 1, 2, 0, 2, 0, 2, 0, 2, 1, 1, 1, 2, 1, 0)
	// g7: C1, C2, C3 reported; C1, C2 filed and closed; C3 voided; due: C1 (11-04) and C2 (its
	// latest handling step, 11-09), both closed before; dispatched C1, C2; C2 dispatched twice and
	// returned (redispatched, returned) and reworked; patrol: C1 (filed), C3 (voided: not valid);
	// C2 is a hotline report 10 m from C3, reported 2 h after it: not missed.
	g8 := C(2, 2, 0, 0, 0, 2, 1, 0, 1, 2, 0, 0, 0, 0, 0, 1)
	// g8: C4 (postponed: due at its pause, 11-11, counted as postponed) and C5 (due 11-14, open:
	// overdue); C4 is a public report of a patrol-findable category with no patrol report near:
	// missed; C5's category is not patrol-findable.
	g9 := C(1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0)
	// g9: C6, self-handled on patrol: reported, filed, closed, self-handled, a valid patrol report.
	g10 := C(2, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1)
	// g10: reported C8 and C9 (23:30 local on 11-30); C10 is 1 December local time (30 November
	// UTC): not November; C11 was merged: counted nowhere. C7 was reported, filed and dispatched
	// in October, closed 11-03 after its handling step's due time 11-02: due, overdue. C8: filed,
	// dispatched, due in December; a hotline report with no patrol report near: missed.
	sum := func(cs ...stats.Counts) stats.Counts {
		var out stats.Counts
		for _, c := range cs {
			for _, n := range stats.CountNames {
				a, _ := out.Get(n)
				b, _ := c.Get(n)
				setCount(&out, n, a+b)
			}
		}
		return out
	}
	want := map[stats.Group]map[string]stats.Counts{
		stats.GroupGrid:        {"410103001001001": g7, "410103001001002": g8, "410103001002001": g9, "410103002001001": g10},
		stats.GroupCommunity:   {"410103001001": sum(g7, g8), "410103001002": g9, "410103002001": g10},
		stats.GroupSubdistrict: {"410103001": sum(g7, g8, g9), "410103002": g10},
		stats.GroupDistrict:    {"410103": sum(g7, g8, g9, g10)},
		// chengguan handles C1, C2, C4, C7, C8 (C2's first dispatch went to worker W, its last to
		// chengguan: a case counts for its current party). Patrol figures of a department: its
		// cases reported on patrol (C1).
		stats.GroupDepartment: {"chengguan": C(4, 4, 0, 3, 0, 4, 1, 2, 1, 4, 1, 1, 1, 1, 1, 2)},
		// worker X is C5's party; worker W is no case's party now, and reported C1, C3, C6 on patrol.
		stats.GroupWorker: {fmt.Sprint(p.X): C(1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0),
			fmt.Sprint(p.W): C(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 2, 0)},
	}
	for g, rows := range want {
		a := figures(t, svc, g, "2026-11", stats.BucketNone)
		got := byKey(a)
		if len(a.Rows) != len(rows) {
			t.Errorf("%s: %d rows, want %d: %+v", g, len(a.Rows), len(rows), a.Rows)
		}
		for k, c := range rows {
			r, ok := got[k+"|"]
			if !ok {
				t.Errorf("%s: no row %s", g, k)
				continue
			}
			if r.Counts != c {
				t.Errorf("%s %s:\n got %+v\nwant %+v", g, k, r.Counts, c)
			}
		}
	}

	// Rates, points and times of the district: on time 2 / (5 − 1); closed 4 / filed 6; reworked
	// 1 / closed 4; (dispatched 5 − redispatched 1) / 5; patrol valid 2 / 3; missed 2 / (2 + 2).
	// Points with the default rules: patrol_valid 2×1 + self_handled 1×2 + closed_on_time 2×1 +
	// overdue 2×(−2) + returned 1×(−1) + reworked 1×(−2) + missed 2×(−1) = −3.
	d := figures(t, svc, stats.GroupDistrict, "2026-11", stats.BucketNone)
	r := d.Rows[0]
	for _, c := range []struct {
		name string
		got  *float64
		want float64
	}{{"on_time_close_rate", r.OnTimeCloseRate, 0.5}, {"close_rate", r.CloseRate, 0.6667}, {"rework_rate", r.ReworkRate, 0.25},
		{"accurate_dispatch_rate", r.AccurateDispatchRate, 0.8}, {"valid_report_rate", r.ValidReportRate, 0.6667}, {"missed_report_rate", r.MissedReportRate, 0.5}} {
		if c.got == nil || *c.got != c.want {
			t.Errorf("district %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.Points != -3 || d.Total.Points != -3 || d.Total.Counts != r.Counts {
		t.Errorf("district points %v (total %v), want -3; total %+v", r.Points, d.Total.Points, d.Total.Counts)
	}
	if r.Name != "二七区" || r.Level != "district" || r.GridID != 1 {
		t.Errorf("district row %q %q %d", r.Name, r.Level, r.GridID)
	}
	// g9 has no case due: its on-time close rate is null, not 0.
	g := byKey(figures(t, svc, stats.GroupGrid, "2026-11", stats.BucketNone))
	if x := g["410103001002001|"].OnTimeCloseRate; x != nil {
		t.Errorf("g9 on-time close rate %v, want null", *x)
	}
	// Step times of g7: handling steps 24 h (C1), 40 min, 46 h and 19 h (C2's three) end in
	// November: 89.67 / 4 = 22.42 h; in working hours (09:00-17:00 every day) 8, 0.67, 14, 3:
	// 25.67 / 4 = 6.42 h. Its file step (C1): 30 minutes, all in working hours. g10: C7's handling
	// step 10-30 11:00 .. 11-03 08:00 = 93 h, 6 + 8 + 8 + 8 working hours.
	for _, c := range []struct {
		key, step    string
		nat, working float64
	}{{"410103001001001", "handle", 22.42, 6.42}, {"410103001001001", "file", 0.5, 0.5}, {"410103002001001", "handle", 93, 30}} {
		row := g[c.key+"|"]
		if row.AvgStepHours[c.step] != c.nat || row.AvgStepWorkingHours[c.step] != c.working {
			t.Errorf("%s %s: %v h, %v working h; want %v, %v", c.key, c.step, row.AvgStepHours[c.step], row.AvgStepWorkingHours[c.step], c.nat, c.working)
		}
	}

	// October: only C7 (reported, filed, dispatched; a hotline report with no patrol near: missed).
	oct := figures(t, svc, stats.GroupDistrict, "2026-10", stats.BucketNone)
	if len(oct.Rows) != 1 || oct.Rows[0].Counts != C(1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1) {
		t.Errorf("October: %+v", oct.Rows)
	}

	// Weeks (from Monday): 2026-11-01 is a Sunday (week 44, nothing happened); week 45 (11-02 ..
	// 11-08) has C1, C2, C3 reported, C1, C7 and C2 (Sunday 11-08) closed, C1 (11-04) and C7
	// (11-02) due; week 46 has C2 (11-09), C4 (11-11, postponed) and C5 (11-14) due.
	w := byKey(figures(t, svc, stats.GroupDistrict, "2026-11", stats.BucketWeek))
	if _, ok := w["410103|2026-W44"]; ok {
		t.Errorf("a row for week 44: %+v", w["410103|2026-W44"])
	}
	if x := w["410103|2026-W45"]; x.Reported != 3 || x.Closed != 3 || x.Due != 2 {
		t.Errorf("week 45: %+v", x.Counts)
	}
	if x := w["410103|2026-W46"]; x.Due != 3 || x.Postponed != 1 || x.ClosedOnTime != 1 {
		t.Errorf("week 46: %+v", x.Counts)
	}
	// Days in the district's time zone: C9 at 23:30 local on 11-30.
	days := byKey(figures(t, svc, stats.GroupDistrict, "2026-11", stats.BucketDay))
	if x := days["410103|2026-11-30"]; x.Reported != 1 {
		t.Errorf("2026-11-30: %+v", x.Counts)
	}

	// An independent count, written differently: cases closed and cases reported per basic grid
	// in November by cases.closed_at / reported_at in local dates, grouped by cases.grid_id.
	raw := storetest.Raw(t, db)
	rows, err := raw.Query(context.Background(), `
		SELECT g.code,
			count(*) FILTER (WHERE to_char(c.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') = '2026-11'),
			count(*) FILTER (WHERE to_char(c.closed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') = '2026-11')
		FROM cases c JOIN grids g ON g.id = c.grid_id
		WHERE c.state <> 'merged' GROUP BY g.code`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var rep, closed int
		if err := rows.Scan(&code, &rep, &closed); err != nil {
			t.Fatal(err)
		}
		if row := g[code+"|"]; row.Reported != rep || row.Closed != closed {
			t.Errorf("grid %s: stats say %d reported, %d closed; the direct count %d, %d", code, row.Reported, row.Closed, rep, closed)
		}
	}
}

func setCount(c *stats.Counts, name string, v int) {
	for i, n := range stats.CountNames {
		if n == name {
			p := []*int{&c.Reported, &c.Filed, &c.Voided, &c.Closed, &c.SelfHandled, &c.Due, &c.Postponed, &c.ClosedOnTime, &c.Overdue,
				&c.Dispatched, &c.Redispatched, &c.Returned, &c.Reworked, &c.PatrolReported, &c.PatrolValid, &c.Missed}
			*p[i] = v
		}
	}
}
