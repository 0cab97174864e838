package worktime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/internal/testenv"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func official(t *testing.T, extra ...Day) *Calendar {
	t.Helper()
	var days []Day
	for y := 2025; y <= 2027; y++ {
		days = append(days, Official(y)...)
	}
	c, err := NewCalendar(shanghai, append(days, extra...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOfficial2026(t *testing.T) {
	var hol int
	var makeup []string
	for _, d := range Official(2026) {
		if d.Kind == Holiday {
			hol++
		} else {
			makeup = append(makeup, d.Date[5:])
		}
	}
	if hol != 33 || strings.Join(makeup, " ") != "01-04 02-14 02-28 05-09 09-20 10-10" {
		t.Fatalf("2026: %d holidays, make-up days %v; the State Council's notice has 33 and 01-04 02-14 02-28 05-09 09-20 10-10", hol, makeup)
	}
	if len(Official(2100)) != 0 {
		t.Fatal("2100 has a schedule")
	}
}

func TestDeadlines(t *testing.T) {
	h := func(n int) Limit { return Limit{n, WorkingHour} }
	patch := Day{Date: "2026-03-11", Kind: Holiday, Name: "typhoon", Source: PatchSource, Year: 2026}
	cases := []struct {
		name      string
		clock     StepClock
		now       string
		due, warn string
		paused    bool
		patch     bool
	}{
		{name: "spring festival: friday afternoon into the make-up saturday", clock: StepClock{Start: at("2026-02-13 16:00"), Limit: h(2)},
			due: "2026-02-14 09:30", warn: "2026-02-14 09:06"},
		{name: "spring festival: working days skip the nine days off", clock: StepClock{Start: at("2026-02-13 10:00"), Limit: Limit{3, WorkingDay}},
			due: "2026-02-25 10:00", warn: "2026-02-24 19:36"},
		{name: "started on a holiday: due at the end of the working day", clock: StepClock{Start: at("2026-02-16 10:00"), Limit: Limit{1, WorkingDay}},
			due: "2026-02-25 00:00", warn: "2026-02-24 19:12"},
		{name: "make-up saturday 02-28 counts", clock: StepClock{Start: at("2026-02-27 17:00"), Limit: h(1)},
			due: "2026-02-28 09:30", warn: "2026-02-28 09:18"},
		{name: "weekend", clock: StepClock{Start: at("2026-03-06 17:00"), Limit: h(1)},
			due: "2026-03-09 09:30", warn: "2026-03-09 09:18"},
		{name: "lunch break", clock: StepClock{Start: at("2026-03-10 11:30"), Limit: h(1)},
			due: "2026-03-10 14:00", warn: "2026-03-10 13:48"},
		{name: "ends at noon, not after lunch", clock: StepClock{Start: at("2026-03-10 09:00"), Limit: h(3)},
			due: "2026-03-10 12:00", warn: "2026-03-10 11:24"},
		{name: "natural minutes across midnight", clock: StepClock{Start: at("2026-03-10 23:50"), Limit: Limit{30, NaturalMinute}},
			due: "2026-03-11 00:20", warn: "2026-03-11 00:14"},
		{name: "natural minutes through a holiday", clock: StepClock{Start: at("2026-02-17 10:00"), Limit: Limit{30, NaturalMinute}},
			due: "2026-02-17 10:30", warn: "2026-02-17 10:24"},
		{name: "natural days", clock: StepClock{Start: at("2026-02-13 10:00"), Limit: Limit{2, NaturalDay}},
			due: "2026-02-15 10:00", warn: "2026-02-15 00:24"},
		{name: "started in the evening", clock: StepClock{Start: at("2026-03-10 20:00"), Limit: h(2)},
			due: "2026-03-11 11:00", warn: "2026-03-11 10:36"},
		{name: "started before hours", clock: StepClock{Start: at("2026-03-10 07:00"), Limit: h(1)},
			due: "2026-03-10 10:00", warn: "2026-03-10 09:48"},
		{name: "labour day: five days off", clock: StepClock{Start: at("2026-04-30 17:00"), Limit: h(1)},
			due: "2026-05-06 09:30", warn: "2026-05-06 09:18"},
		{name: "national day: make-up saturday 10-10", clock: StepClock{Start: at("2026-10-09 17:00"), Limit: h(2)},
			due: "2026-10-10 10:30", warn: "2026-10-10 10:06"},
		{name: "paused over lunch and the early afternoon", clock: StepClock{Start: at("2026-03-10 09:00"), Limit: h(4),
			Pauses: []Pause{{From: at("2026-03-10 10:00"), To: at("2026-03-10 14:30")}}},
			due: "2026-03-10 17:30", warn: "2026-03-10 16:42"},
		{name: "paused for days", clock: StepClock{Start: at("2026-03-10 09:00"), Limit: Limit{60, NaturalMinute},
			Pauses: []Pause{{From: at("2026-03-10 09:30"), To: at("2026-03-12 09:30")}}},
			due: "2026-03-12 10:00", warn: "2026-03-12 09:48"},
		{name: "still paused: as if restarted now", clock: StepClock{Start: at("2026-03-10 09:00"), Limit: h(2),
			Pauses: []Pause{{From: at("2026-03-10 10:00")}}}, now: "2026-03-10 11:00",
			due: "2026-03-10 12:00", warn: "2026-03-10 11:36", paused: true},
		{name: "overlapping pauses", clock: StepClock{Start: at("2026-03-10 09:00"), Limit: h(2),
			Pauses: []Pause{{From: at("2026-03-10 09:30"), To: at("2026-03-10 10:30")}, {From: at("2026-03-10 10:00"), To: at("2026-03-10 11:00")}}},
			due: "2026-03-10 14:00", warn: "2026-03-10 13:36"},
		{name: "extension in the same unit", clock: StepClock{Start: at("2026-03-10 09:00"), Limit: h(2), Extensions: []Limit{h(2)}},
			due: "2026-03-10 14:30", warn: "2026-03-10 13:42"},
		{name: "extension in working days", clock: StepClock{Start: at("2026-03-10 09:00"), Limit: h(1), Extensions: []Limit{{1, WorkingDay}}},
			due: "2026-03-11 10:00", warn: "2026-03-10 09:48"},
		{name: "a local patch wins", patch: true, clock: StepClock{Start: at("2026-03-10 17:00"), Limit: h(1)},
			due: "2026-03-12 09:30", warn: "2026-03-12 09:18"},
	}
	plain := official(t)
	patched := official(t, patch)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cal := plain
			if c.patch {
				cal = patched
			}
			now := c.clock.Start
			if c.now != "" {
				now = at(c.now)
			}
			d := cal.Deadline(c.clock, now)
			if !d.Due.Equal(at(c.due)) || !d.Warn.Equal(at(c.warn)) || d.Paused != c.paused {
				t.Errorf("due %s warn %s paused %v; want due %s warn %s paused %v",
					d.Due.In(shanghai).Format("2006-01-02 15:04"), d.Warn.In(shanghai).Format("2006-01-02 15:04"), d.Paused, c.due, c.warn, c.paused)
			}
			if got := LightAt(d, d.Warn.Add(-time.Second)); got != Green {
				t.Errorf("before warn: %s", got)
			}
			if got := LightAt(d, d.Warn); got != Yellow && !d.Warn.Equal(d.Due) {
				t.Errorf("at warn: %s", got)
			}
			if got := LightAt(d, d.Due); got != Red {
				t.Errorf("at due: %s", got)
			}
		})
	}
}

func TestPatchBeatsOfficialInAnyOrder(t *testing.T) {
	p := Day{Date: "2026-02-14", Kind: Holiday, Name: "local", Source: PatchSource, Year: 2026}
	c1 := official(t, p)
	c2, _ := NewCalendar(shanghai, append([]Day{p}, Official(2026)...), nil)
	for _, c := range []*Calendar{c1, c2} {
		if c.IsWorkday(at("2026-02-14 10:00")) {
			t.Fatal("the patch did not win")
		}
	}
}

func TestSeasons(t *testing.T) {
	summer, _ := ParseSpans("08:30-12:00,14:30-18:00")
	winter, _ := ParseSpans("09:00-12:00, 13:30-17:30")
	c, err := NewCalendar(shanghai, Official(2026), []Schedule{{From: "10-01", Spans: winter}, {From: "05-01", Spans: summer}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Add(at("2026-06-01 11:30"), Limit{1, WorkingHour}); !got.Equal(at("2026-06-01 15:00")) {
		t.Errorf("summer: %s", got)
	}
	if got := c.Add(at("2026-03-02 11:30"), Limit{1, WorkingHour}); !got.Equal(at("2026-03-02 14:00")) {
		t.Errorf("winter before 05-01: %s", got)
	}
	if _, err := NewCalendar(shanghai, nil, []Schedule{{From: "01-01", Spans: []Span{{600, 540}}}}); err == nil {
		t.Error("a backwards span was taken")
	}
	if _, err := ParseSpans("9-12"); err == nil {
		t.Error("9-12 parsed")
	}
}

func TestMissingYears(t *testing.T) {
	c := official(t)
	if m := c.MissingYears(at("2027-06-01 00:00"), WarnAhead); len(m) != 0 {
		t.Errorf("june 2027: %v", m)
	}
	if m := c.MissingYears(at("2027-11-15 00:00"), WarnAhead); len(m) != 1 || m[0] != 2028 {
		t.Errorf("november 2027: %v, want [2028]", m)
	}
}

func TestRules(t *testing.T) {
	rs, err := ParseLimitsCSV(strings.NewReader("\ufeffstandard,code,urgency,step,amount,unit\n" +
		"cjt214,,,handle,3,working_day\ncjt214,01,,handle,2,working_day\ncjt214,0101,,handle,1,working_day\n" +
		"cjt214,,urgent,handle,2,working_hour\ncjt214,01,urgent,handle,90,natural_minute\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code, urg string
		want      Limit
	}{
		{"0101", "normal", Limit{1, WorkingDay}}, {"0102", "normal", Limit{2, WorkingDay}}, {"0201", "normal", Limit{3, WorkingDay}},
		{"0201", "urgent", Limit{2, WorkingHour}}, {"0102", "urgent", Limit{90, NaturalMinute}}, {"0101", "urgent", Limit{1, WorkingDay}},
	} {
		if got, ok := rs.Find(c.code, "", c.urg, "handle"); !ok || got != c.want {
			t.Errorf("%s %s: %v %v, want %v", c.code, c.urg, got, ok, c.want)
		}
	}
	if _, ok := rs.Find("0101", "", "urgent", "verify"); ok {
		t.Error("a rule for a step with none")
	}
	std, _ := ParseLimitsCSV(strings.NewReader("standard,code,urgency,step,amount,unit\nlegacy,01,,handle,1,working_day\n,,,handle,3,working_day\n"))
	if l, _ := std.Find("01001", "gbt47678.5", "normal", "handle"); l.Amount != 3 {
		t.Errorf("a legacy class rule matched a GB/T code: %v", l)
	}
	if l, _ := std.Find("0101", "legacy", "normal", "handle"); l.Amount != 1 {
		t.Errorf("legacy: %v", l)
	}
	for _, bad := range []struct{ csv, msg string }{
		{"", "empty"},
		{"standard,code,step\n", "line 1"},
		{"standard,code,urgency,step,amount,unit\nx,01,,handle,two,working_day\n", "line 2: amount"},
		{"standard,code,urgency,step,amount,unit\nx,01,,handle,2,working_day\nx,01,,handle,2,fortnight\n", "line 3: unit \"fortnight\""},
		{"standard,code,urgency,step,amount,unit\nx,01,,handle,2,working_day\nx,01,,handle,3,working_day\n", "line 3: a second rule"},
		{"standard,code,urgency,step,amount,unit\nx,01,,,2,working_day\n", "line 2: the step is empty"},
		{"standard,code,urgency,step,amount,unit\nx,01,,handle,0,working_day\n", "above 0"},
	} {
		_, err := ParseLimitsCSV(strings.NewReader(bad.csv))
		if err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%q: %v, want an error with %q", bad.csv, err, bad.msg)
		}
	}
}

func TestDemoLimitsParse(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "demo", "data", "time_limits.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := ParseLimitsCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"dispatch", "handle", "verify"} {
		for _, u := range []string{"urgent", "normal"} {
			if _, ok := rs.Find("0101", "legacy", u, step); !ok {
				t.Errorf("the demo set has no %s limit for %s", u, step)
			}
		}
	}
}

// TestCalendarAgainstChineseDays checks every day of 2026 against chinese-days, an independent
// source (npm, pinned in testdata/chinese-days/package.json; npm ci there installs it).
func TestCalendarAgainstChineseDays(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "chinese-days", "node_modules", "chinese-days", "dist", "chinese-days.json"))
	if err != nil {
		testenv.Missing(t, "chinese-days is not installed: cd worktime/testdata/chinese-days && npm ci (%v)", err)
	}
	var oracle struct{ Holidays, Workdays map[string]string }
	if err := json.Unmarshal(b, &oracle); err != nil {
		t.Fatal(err)
	}
	c := official(t)
	n := 0
	for d := at("2026-01-01 12:00"); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		date := d.Format(time.DateOnly)
		_, hol := oracle.Holidays[date]
		_, work := oracle.Workdays[date]
		want := work || !hol && d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		if got := c.IsWorkday(d); got != want {
			t.Errorf("%s: working day %v here, %v in chinese-days", date, got, want)
		}
		e, ok := c.Entry(date)
		if ok != (hol || work) || ok && (e.Kind == Holiday) != hol {
			t.Errorf("%s: entry %+v here; chinese-days holiday %v, make-up %v", date, e, hol, work)
		}
		n++
	}
	if n != 365 {
		t.Fatalf("%d days checked", n)
	}
}
