package gridline_test

import (
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai, on machines without zoneinfo

	"gridline.dev/gridline"
	"gridline.dev/gridline/internal/fakeclock"
)

// Today turns at midnight in the given zone, whatever the clock's own zone.
func TestToday(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		now  time.Time
		loc  *time.Location
		want string
	}{
		{"a second to midnight in Shanghai", time.Date(2024, 12, 31, 15, 59, 59, 0, time.UTC), shanghai, "2024-12-31"},
		{"midnight in Shanghai, 16:00 in UTC", time.Date(2024, 12, 31, 16, 0, 0, 0, time.UTC), shanghai, "2025-01-01"},
		{"the same instant in UTC", time.Date(2024, 12, 31, 16, 0, 0, 0, time.UTC), time.UTC, "2024-12-31"},
		{"a clock in another zone", time.Date(2025, 1, 1, 0, 30, 0, 0, shanghai), time.UTC, "2024-12-31"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := gridline.Today(fakeclock.New(tc.now), tc.loc)
			if gridline.Date(got) != tc.want || got.Location() != time.UTC || got.Hour() != 0 {
				t.Fatalf("Today at %s in %s = %s, want %s at midnight UTC", tc.now, tc.loc, got, tc.want)
			}
		})
	}
}
