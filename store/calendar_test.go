package store_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/worktime"
)

func TestCalendarStore(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	loaded, err := db.SeedCalendar(ctx, 2025, 2028, worktime.Official)
	if err != nil || len(loaded) != 3 {
		t.Fatalf("seed: %v %v, want 2025-2027", loaded, err)
	}
	again, err := db.SeedCalendar(ctx, 2025, 2028, worktime.Official)
	if err != nil || len(again) != 0 {
		t.Fatalf("second seed loaded %v %v", again, err)
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	clock := fakeclock.New(time.Date(2026, 3, 10, 17, 0, 0, 0, shanghai))
	svc, err := worktime.NewService(ctx, db, clock, shanghai, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	due := func() time.Time {
		return svc.Deadline(worktime.StepClock{Start: clock.Now(), Limit: worktime.Limit{Amount: 1, Unit: worktime.WorkingHour}}).Due
	}
	if got := due(); !got.Equal(time.Date(2026, 3, 11, 9, 30, 0, 0, shanghai)) {
		t.Fatalf("due %s", got)
	}
	n0 := countAudit(t, db)
	if err := db.PatchCalendar(ctx, []worktime.Day{{Date: "2026-03-11", Kind: worktime.Holiday, Name: "typhoon"}}, nil); err != nil {
		t.Fatal(err)
	}
	if countAudit(t, db) != n0+1 {
		t.Error("the patch was not audited")
	}
	if err := svc.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := due(); !got.Equal(time.Date(2026, 3, 12, 9, 30, 0, 0, shanghai)) {
		t.Fatalf("after the patch: due %s", got)
	}
	days, _ := db.CalendarYear(ctx, 2026)
	if len(days) != 40 {
		t.Errorf("2026 has %d rows, want 39 official + 1 patch", len(days))
	}
	if err := db.PatchCalendar(ctx, nil, []string{"2026-03-12"}); err == nil || !strings.Contains(err.Error(), "no local patch") {
		t.Errorf("removing a patch that is not there: %v", err)
	}
	if err := db.PatchCalendar(ctx, nil, []string{"2026-03-11"}); err != nil {
		t.Fatal(err)
	}
	_ = svc.Refresh(ctx)
	if got := due(); !got.Equal(time.Date(2026, 3, 11, 9, 30, 0, 0, shanghai)) {
		t.Fatalf("after removing the patch: due %s", got)
	}

	// working hours and limits
	if err := db.SetWorkingHours(ctx, []worktime.Schedule{{From: "01-01", Spans: []worktime.Span{{From: 480, To: 1080}}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetWorkingHours(ctx, []worktime.Schedule{{From: "13-01", Spans: nil}}); err == nil {
		t.Error("a bad schedule was stored")
	}
	rules, err := worktime.ParseLimitsCSV(strings.NewReader("standard,code,urgency,step,amount,unit\n,,,handle,2,working_day\n,01,urgent,handle,2,working_hour\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceTimeLimits(ctx, rules); err != nil {
		t.Fatal(err)
	}
	_ = svc.Refresh(ctx)
	if got := due(); !got.Equal(time.Date(2026, 3, 10, 18, 0, 0, 0, shanghai)) {
		t.Fatalf("with 08:00-18:00: due %s", got)
	}
	if l, ok, _ := svc.Limit("0103", "urgent", "handle"); !ok || l != (worktime.Limit{Amount: 2, Unit: worktime.WorkingHour}) {
		t.Errorf("limit %v %v", l, ok)
	}
	if l, ok, _ := svc.Limit("0501", "normal", "handle"); !ok || l != (worktime.Limit{Amount: 2, Unit: worktime.WorkingDay}) {
		t.Errorf("default limit %v %v", l, ok)
	}
	clock.Set(time.Date(2027, 11, 20, 0, 0, 0, 0, shanghai))
	if w := svc.Warnings(); len(w) != 1 || !strings.Contains(w[0], "2028") {
		t.Errorf("warnings %v", w)
	}
}
