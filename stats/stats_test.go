package stats

import (
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
)

func TestParsePeriod(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	from, to, err := ParsePeriod("", "", "2026-02", loc)
	if err != nil || gridline.Date(from) != "2026-02-01" || gridline.Date(to) != "2026-02-28" || from.Location() != loc {
		t.Errorf("month: %v %v %v", from, to, err)
	}
	if from, to, err = ParsePeriod("2025-12-01", "2026-12-01", "", loc); err != nil || to.Sub(from) != 365*24*time.Hour {
		t.Errorf("366 days: %v %v %v", from, to, err)
	}
	for _, c := range []struct{ from, to, month, field, code string }{
		{"", "", "2026-2", "month", gridline.EInvalidDate},
		{"", "", "1999-12", "month", gridline.EInvalidDate},
		{"2026-01-01", "", "2026-01", "month", gridline.EInvalid},
		{"2026-01-01", "", "", "from", gridline.EInvalid},
		{"2026-02-30", "2026-03-01", "", "from", gridline.EInvalidDate},
		{"2026-03-02", "2026-03-01", "", "from", gridline.EInvalid},
		{"2025-12-01", "2026-12-02", "", "to", gridline.EInvalid},
	} {
		_, _, err := ParsePeriod(c.from, c.to, c.month, loc)
		e, ok := err.(*gridline.Error)
		if !ok || e.Code != c.code || e.Details["field"] != c.field {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestRatesPointsRank(t *testing.T) {
	cells := []Cell{
		{Key: "a", Counts: Counts{Due: 4, Postponed: 1, ClosedOnTime: 3, Closed: 3, Filed: 4, PatrolValid: 2}},
		{Key: "b", Counts: Counts{Due: 3, ClosedOnTime: 1, Overdue: 2}},
		{Key: "c", Counts: Counts{Due: 2, ClosedOnTime: 0, Overdue: 2}}, // under min_cases 3
		{Key: "d", Counts: Counts{Due: 5, ClosedOnTime: 5}, Steps: map[string]StepTime{"handle": {N: 2, Seconds: 7200, WorkingSeconds: 3600}}},
	}
	rows, total := Rows(cells, DefaultRules)
	if *rows[0].OnTimeCloseRate != 1 || rows[0].CloseRate == nil || *rows[0].CloseRate != 0.75 || rows[1].CloseRate != nil {
		t.Errorf("rates: %+v", rows[0])
	}
	// a: 2 patrol_valid + 3 closed_on_time = 5; b: 1 − 4 = −3
	if rows[0].Points != 5 || rows[1].Points != -3 || total.Points != 5-3-4+5 {
		t.Errorf("points %v %v %v", rows[0].Points, rows[1].Points, total.Points)
	}
	if rows[3].AvgStepHours["handle"] != 1 || rows[3].AvgStepWorkingHours["handle"] != 0.5 || total.AvgStepHours["handle"] != 1 {
		t.Errorf("steps %+v", rows[3].AvgStepHours)
	}
	worst, best := Rank(rows, 3, 2)
	if len(worst) != 2 || worst[0].Key != "b" || worst[1].Key != "d" || best[0].Key != "d" || best[1].Key != "a" {
		t.Errorf("worst %v best %v", keys(worst), keys(best))
	}
}

func keys(rs []Row) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

func TestCollapse(t *testing.T) {
	cells := []Cell{
		{Key: "x", Bucket: "2026-10-31", Counts: Counts{Reported: 1}},
		{Key: "x", Bucket: "2026-11-01", Counts: Counts{Reported: 2}, Steps: map[string]StepTime{"file": {N: 1, Seconds: 60}}},
		{Key: "y", Bucket: "2026-11-30", Counts: Counts{Reported: 4}},
		{Key: "x", Bucket: "2026-11-30", Counts: Counts{Reported: 8}, Steps: map[string]StepTime{"file": {N: 1, Seconds: 60}}},
	}
	got := Collapse(cells, "2026-11-01", "2026-11-30")
	if len(got) != 2 || got[0].Key != "x" || got[0].Reported != 10 || got[0].Steps["file"].N != 2 || got[1].Reported != 4 || got[0].Bucket != "" {
		t.Errorf("%+v", got)
	}
}

func TestRules(t *testing.T) {
	rs, err := ParseRulesCSV(strings.NewReader("\ufeffpoints,code\n1,patrol_valid\n-2,overdue\n"))
	if err != nil || len(rs) != 2 || rs[1].Code != "overdue" || rs[1].Points != -2 {
		t.Fatalf("%v %v", rs, err)
	}
	for _, c := range []struct{ csv, want string }{
		{"code,points\npatrol_valid,1\nnope,2\n", "line 3"},
		{"code,points\npatrol_valid,1\npatrol_valid,2\n", "line 3"},
		{"code,points\npatrol_valid,NaN\n", "line 2"},
		{"name,points\nx,1\n", "column code"},
	} {
		_, err := ParseRulesCSV(strings.NewReader(c.csv))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.csv, err, c.want)
		}
	}
	if err := CheckRules(DefaultRules); err != nil {
		t.Error(err)
	}
}
