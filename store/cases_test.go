package store_test

import (
	"context"
	"testing"
	"time"

	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/store/storetest"
)

// TestCreateCaseAllOrNothing: the intake's one batch is one transaction: a row refused at its
// end (here an attachment the table's CHECK refuses) leaves no case, event or step behind.
func TestCreateCaseAllOrNothing(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	raw := storetest.Raw(t, db)
	if _, err := raw.Exec(ctx, `INSERT INTO case_categories (code, standard, name, class_code, kind) VALUES ('0101', 'legacy', '私搭乱建', '01', 'incident')`); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	nc := func(ct string) *dispatch.NewCase {
		return &dispatch.NewCase{NumberDay: "20260302",
			Case:        dispatch.Case{Source: dispatch.SourceHotline, CategoryCode: "0101", Urgency: dispatch.Normal, Lon: 113.6, Lat: 34.7, State: dispatch.Reported, GridChain: []int64{}, Flags: []string{}, CoDepartments: []string{}, Routing: []byte(`{}`), ReportedAt: now, UpdatedAt: now},
			Events:      []dispatch.Event{{At: now, Kind: dispatch.KindReport, To: dispatch.Reported}},
			Steps:       []dispatch.Step{{Step: dispatch.StepFile, StartedAt: now}},
			Attachments: []dispatch.Attachment{{Kind: "before", ContentType: ct, Size: 3, Bytes: []byte{1, 2, 3}, SHA256: "00000000000000000000000000000000000000000000000000000000000000aa", CreatedAt: now}},
		}
	}
	if err := db.CreateCase(ctx, nc("text/html")); err == nil {
		t.Fatal("an attachment the table refuses was accepted")
	}
	var n int
	if err := raw.QueryRow(ctx, `SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM case_events) + (SELECT count(*) FROM case_steps)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows left behind (%v)", n, err)
	}
	ok := nc("image/png")
	if err := db.CreateCase(ctx, ok); err != nil {
		t.Fatal(err)
	}
	c, err := db.Case(ctx, ok.Case.ID)
	if err != nil || c.Number == "" || len(c.Events) != 1 || len(c.Steps) != 1 || len(c.Attachments) != 1 || c.Attachments[0].EventID != c.Events[0].ID {
		t.Fatalf("%v %+v", err, c)
	}
}

// TestAppendCaseEvent: a system event moves the version on and keeps the state.
func TestAppendCaseEvent(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	raw := storetest.Raw(t, db)
	if _, err := raw.Exec(ctx, `INSERT INTO case_categories (code, standard, name, class_code, kind) VALUES ('0101', 'legacy', '私搭乱建', '01', 'incident')`); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	nc := &dispatch.NewCase{NumberDay: "20260302",
		Case:   dispatch.Case{Source: dispatch.SourceHotline, CategoryCode: "0101", Urgency: dispatch.Normal, Lon: 113.6, Lat: 34.7, State: dispatch.Reported, GridChain: []int64{}, Flags: []string{}, CoDepartments: []string{}, Routing: []byte(`{}`), ReportedAt: now, UpdatedAt: now},
		Events: []dispatch.Event{{At: now, Kind: dispatch.KindReport, To: dispatch.Reported}}}
	if err := db.CreateCase(ctx, nc); err != nil {
		t.Fatal(err)
	}
	ev := &dispatch.Event{At: now.Add(time.Hour), ActorName: "escalation", Kind: dispatch.KindEscalate, Reason: "red"}
	if err := db.AppendCaseEvent(ctx, nc.Case.ID, ev, []dispatch.Notice{{Kind: "escalation", ToKind: "post", ToRef: "4", Message: "late"}}); err != nil {
		t.Fatal(err)
	}
	c, err := db.Case(ctx, nc.Case.ID)
	if err != nil || c.Version != 2 || len(c.Events) != 2 || c.Events[1].Seq != 2 || c.State != dispatch.Reported {
		t.Fatalf("%v %+v", err, c)
	}
	if err := db.AppendCaseEvent(ctx, 999, ev, nil); err == nil {
		t.Fatal("an event for no case was written")
	}
}
