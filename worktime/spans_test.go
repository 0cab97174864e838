package worktime

import (
	"testing"
	"time"
)

// WorkingSpans: office hours of working days only, cut to [from, to); a holiday and a weekend
// give none, a make-up working day (调休) gives its hours.
func TestWorkingSpans(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	cal, err := NewCalendar(loc, []Day{
		{Date: "2026-11-16", Kind: Holiday, Source: "patch", Year: 2026},
		{Date: "2026-11-15", Kind: MakeupWorkday, Source: "patch", Year: 2026},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		x, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	// Friday 11-13 from 10:00 to Tuesday 11-17 10:00: Fri 10-12 and 13:30-17:30, Sat nothing,
	// Sun 11-15 (make-up day) 9-12 and 13:30-17:30, Mon 11-16 (holiday) nothing, Tue 9-10.
	got := cal.WorkingSpans(at("2026-11-13 10:00"), at("2026-11-17 10:00"))
	want := [][2]string{{"2026-11-13 10:00", "2026-11-13 12:00"}, {"2026-11-13 13:30", "2026-11-13 17:30"},
		{"2026-11-15 09:00", "2026-11-15 12:00"}, {"2026-11-15 13:30", "2026-11-15 17:30"}, {"2026-11-17 09:00", "2026-11-17 10:00"}}
	if len(got) != len(want) {
		t.Fatalf("%d spans, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if !got[i][0].Equal(at(w[0])) || !got[i][1].Equal(at(w[1])) {
			t.Errorf("span %d: %v .. %v, want %s .. %s", i, got[i][0].In(loc), got[i][1].In(loc), w[0], w[1])
		}
	}
}
