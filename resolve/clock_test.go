package resolve_test

import (
	"context"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai, on machines without zoneinfo

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store/storetest"
)

// An answer that names no date is for today in the deployment's time zone: in Asia/Shanghai
// (UTC+8) the boundary that takes effect on 1 January answers from midnight there, which is 16:00
// UTC on 31 December, not eight hours later at midnight UTC.
func TestTodayTurnsAtLocalMidnight(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	newYear := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	v1 := gridline.Grid{ID: 1, VersionID: 1, Version: 1, Code: "410103", Name: "二七区", Level: gridline.LevelDistrict,
		Layer: gridline.LayerComprehensive, ValidFrom: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), ValidTo: &newYear,
		Geometry: storetest.Box(113.5, 34.6, 113.7, 34.8)}
	v2 := v1
	v2.VersionID, v2.Version, v2.ValidFrom, v2.ValidTo = 2, 2, newYear, nil
	v2.Geometry = storetest.Box(113.5, 34.6, 113.8, 34.8)
	src := &fakeStore{grids: map[int64]gridline.Grid{}, stamps: map[int64]int64{}}
	src.put(v1)
	src.put(v2)
	// 23:59:59 on 31 December in Shanghai.
	clock := fakeclock.New(time.Date(2024, 12, 31, 15, 59, 59, 0, time.UTC))
	r := resolve.NewIncremental(src, clock, shanghai)
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	in := resolve.InputPoint{Lon: 113.6, Lat: 34.7, CRS: "wgs84"}
	answer := func() (string, int) {
		t.Helper()
		a := r.Answer(in, orb.Point{in.Lon, in.Lat}, r.Today())
		if len(a.Chain) != 1 {
			t.Fatalf("at %s the point is in %d grids, want the district", a.At, len(a.Chain))
		}
		return a.At, a.Chain[0].Version
	}
	if at, v := answer(); at != "2024-12-31" || v != 1 {
		t.Fatalf("at 23:59:59 in Shanghai: the answer is for %s from version %d, want 2024-12-31 and version 1", at, v)
	}
	now := clock.Advance(time.Second)
	if at, v := answer(); at != "2025-01-01" || v != 2 {
		t.Fatalf("at midnight in Shanghai (%s): the answer is for %s from version %d, want 2025-01-01 and version 2", now.UTC(), at, v)
	}
	if d := now.UTC().Day(); d != 31 {
		t.Fatalf("the test is wrong: in UTC it should still be 31 December, not the %dth", d)
	}
	// The index's age is measured on the same clock.
	if age := r.Status().AgeSeconds; age != 1 {
		t.Fatalf("index age = %v s one (fake) second after it was built, want 1", age)
	}
}
