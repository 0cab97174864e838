package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

func box(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

func day(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }

func mustSave(t *testing.T, db *store.DB, g gridline.Grid) *gridline.Grid {
	t.Helper()
	out, err := db.SaveGrid(context.Background(), g, store.DefaultTolerance)
	if err != nil {
		t.Fatalf("save %s: %v", g.Code, err)
	}
	return out
}

func TestWriteRules(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	from := day("2024-01-01")
	d := mustSave(t, db, gridline.Grid{Code: "410103", Name: "二七区", Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive, ValidFrom: from, Geometry: box(113.5, 34.6, 113.7, 34.8)})
	s := mustSave(t, db, gridline.Grid{Code: "410103001", Name: "淮河路街道", Level: gridline.LevelSubdistrict, Layer: gridline.LayerComprehensive, ParentID: d.ID, ValidFrom: from, Geometry: box(113.5, 34.6, 113.6, 34.7)})
	c := mustSave(t, db, gridline.Grid{Code: "410103001001", Name: "社区", Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: s.ID, ValidFrom: from, Geometry: box(113.5, 34.6, 113.55, 34.65)})

	cases := []struct {
		name string
		g    gridline.Grid
		code string
	}{
		{"child outside its parent", gridline.Grid{Code: "410103001002", Name: "x", Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: s.ID, ValidFrom: from, Geometry: box(113.55, 34.6, 113.65, 34.65)}, gridline.ERule},
		{"parent two levels up", gridline.Grid{Code: "410103001001001", Name: "x", Level: gridline.LevelGrid, Layer: gridline.LayerComprehensive, ParentID: s.ID, ValidFrom: from, Geometry: box(113.5, 34.6, 113.51, 34.61)}, gridline.ERule},
		{"special grid under a subdistrict", gridline.Grid{Code: "410103001901", Name: "x", Level: gridline.LevelGrid, Layer: gridline.LayerSpecial, Kind: "school", ParentID: s.ID, ValidFrom: from, Geometry: box(113.5, 34.6, 113.51, 34.61)}, gridline.ERule},
		{"self-intersecting ring", gridline.Grid{Code: "410103001003", Name: "x", Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: s.ID, ValidFrom: from, Geometry: orb.MultiPolygon{{{{113.5, 34.6}, {113.52, 34.62}, {113.52, 34.6}, {113.5, 34.62}, {113.5, 34.6}}}}}, gridline.ERule},
		// PostGIS cannot read these rings at all and fails with its internal error (XX000), so
		// gridline.Grid.Validate refuses them first, naming the ring.
		{"ring of three points", gridline.Grid{Code: "410103001006", Name: "x", Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: s.ID, ValidFrom: from, Geometry: orb.MultiPolygon{{{{113.5, 34.6}, {113.52, 34.62}, {113.5, 34.6}}}}}, gridline.ERule},
		{"unclosed ring", gridline.Grid{Code: "410103001007", Name: "x", Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: s.ID, ValidFrom: from, Geometry: orb.MultiPolygon{{{{113.5, 34.6}, {113.52, 34.6}, {113.52, 34.62}, {113.5, 34.62}}}}}, gridline.ERule},
		{"duplicate code at the same time", gridline.Grid{Code: "410103001001", Name: "x", Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: s.ID, ValidFrom: from, Geometry: box(113.55, 34.6, 113.6, 34.65)}, gridline.EConflict},
		{"unknown parent", gridline.Grid{Code: "410103001004", Name: "x", Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: 9999, ValidFrom: from, Geometry: box(113.55, 34.6, 113.6, 34.65)}, gridline.ERule},
		{"no name", gridline.Grid{Code: "410103001005", Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: s.ID, ValidFrom: from, Geometry: box(113.55, 34.6, 113.6, 34.65)}, gridline.EInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.SaveGrid(ctx, tc.g, store.DefaultTolerance)
			if got := gridline.ErrorCode(err); got != tc.code {
				t.Fatalf("error code = %q (%v), want %q", got, err, tc.code)
			}
		})
	}
	// Nothing from the rejected writes may remain.
	if n, err := db.CountGrids(ctx); err != nil || n != 3 {
		t.Fatalf("grids after rejected writes = %d, %v; want 3", n, err)
	}

	// A thematic layer may hang under the district; a police grid is allowed to overlap anything.
	mustSave(t, db, gridline.Grid{Code: "410103JW001", Name: "警务网格1", Level: gridline.LevelGrid, Layer: gridline.LayerPolice, ParentID: d.ID, ValidFrom: from, Geometry: box(113.52, 34.62, 113.6, 34.7)})

	// A new version closes the old one; "as of" picks the right one.
	v2 := c
	v2.ValidFrom = day("2025-06-01")
	v2.Geometry = box(113.5, 34.6, 113.56, 34.66)
	saved := mustSave(t, db, *v2)
	if saved.Version != 2 || saved.ID != c.ID {
		t.Fatalf("new version = %d of grid %d, want 2 of %d", saved.Version, saved.ID, c.ID)
	}
	old, err := db.Grid(ctx, "410103001001", day("2025-01-01"))
	if err != nil || old.Version != 1 {
		t.Fatalf("as of 2025-01-01: %+v, %v; want version 1", old, err)
	}
	cur, err := db.Grid(ctx, "410103001001", day("2026-01-01"))
	if err != nil || cur.Version != 2 {
		t.Fatalf("as of 2026-01-01: %+v, %v; want version 2", cur, err)
	}
	if vs, err := db.Versions(ctx, c.ID); err != nil || len(vs) != 2 || vs[0].ValidTo == nil || !vs[0].ValidTo.Equal(day("2025-06-01")) {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	if _, err := db.Grid(ctx, "nope", from); gridline.ErrorCode(err) != gridline.ENotFound {
		t.Fatalf("unknown grid: %v", err)
	}
	// A parent's new boundary may not leave its children outside.
	sv := *s
	sv.ValidFrom = day("2025-07-01")
	sv.Geometry = box(113.53, 34.6, 113.6, 34.7)
	if _, err := db.SaveGrid(ctx, sv, store.DefaultTolerance); gridline.ErrorCode(err) != gridline.ERule {
		t.Fatalf("shrinking a parent past its child: %v, want rule_violation", err)
	}
	chain, err := db.Chain(ctx, c.ID, day("2026-01-01"))
	if err != nil || len(chain) != 2 || chain[0].Code != "410103" || chain[1].Code != "410103001" {
		t.Fatalf("chain = %+v, %v", chain, err)
	}
}

func TestListenSeesCommits(t *testing.T) {
	db := storetest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := make(chan string, 10)
	states := make(chan error, 10)
	go db.Listen(ctx, func(table string) { changes <- table }, func(err error) { states <- err })
	state := func() error {
		t.Helper()
		select {
		case err := <-states:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("the listener reported no state")
			return nil
		}
	}
	if err := state(); err != nil {
		t.Fatalf("listener reported %v first, want connected", err)
	}
	mustSave(t, db, gridline.Grid{Code: "1", Name: "d", Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive, ValidFrom: day("2024-01-01"), Geometry: box(0, 0, 1, 1)})
	select {
	case table := <-changes:
		if table != "grids" {
			t.Fatalf("notification names %q, want grids", table)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change notification after a commit")
	}

	// The listener's connection is killed: it reports the error, reconnects, and asks for a full
	// refresh, since changes may have been missed meanwhile.
	var killed bool
	if err := db.Pool().QueryRow(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN '||$1`, store.ChangesChannel).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the listener's backend: %v, %v", killed, err)
	}
	if err := state(); err == nil {
		t.Fatal("the listener lost its connection and reported no error")
	} else {
		t.Logf("the listener reported: %v", err)
	}
	if err := state(); err != nil {
		t.Fatalf("after a lost connection the listener reported %v, want connected again", err)
	}
	select {
	case table := <-changes:
		if table != "" {
			t.Fatalf("after reconnecting the listener reported %q, want \"\" (anything may have changed)", table)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh asked for after reconnecting")
	}
}

// Versions whose dates overlap are refused however they are closed: the table's partial unique
// indexes only see open-ended versions, so closed ones are checkGrids's (checkOverlaps).
func TestOverlappingVersionsRefused(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	d := mustSave(t, db, gridline.Grid{Code: "410103", Name: "二七区", Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive, ValidFrom: day("2020-01-01"), Geometry: box(113.5, 34.6, 113.7, 34.8)})
	to := day("2022-01-01")
	first := mustSave(t, db, gridline.Grid{Code: "410103001", Name: "甲", Level: gridline.LevelSubdistrict, Layer: gridline.LayerComprehensive, ParentID: d.ID, ValidFrom: day("2020-01-01"), ValidTo: &to, Geometry: box(113.5, 34.6, 113.6, 34.7)})
	inner := day("2021-06-01")
	_, err := db.SaveGrid(ctx, gridline.Grid{Code: "410103001", Name: "乙", Level: gridline.LevelSubdistrict, Layer: gridline.LayerComprehensive, ParentID: d.ID, ValidFrom: day("2021-01-01"), ValidTo: &inner, Geometry: box(113.5, 34.6, 113.6, 34.7)}, store.DefaultTolerance)
	if gridline.ErrorCode(err) != gridline.EConflict {
		t.Fatalf("a second grid with code 410103001 during 2021: %v, want conflict", err)
	}
	// The same code for another grid after the first one ended is fine.
	later := mustSave(t, db, gridline.Grid{Code: "410103001", Name: "丙", Level: gridline.LevelSubdistrict, Layer: gridline.LayerComprehensive, ParentID: d.ID, ValidFrom: to, Geometry: box(113.5, 34.6, 113.6, 34.7)})
	if later.ID == first.ID {
		t.Fatalf("the later grid reused id %d", first.ID)
	}
	if n, err := db.CountGrids(ctx); err != nil || n != 3 {
		t.Fatalf("grid versions = %d, %v; want 3", n, err)
	}
}

// Two writers racing to give one code to two grids over overlapping dates: the write lock makes
// the second see the first, so exactly one of them wins every time. (The partial unique indexes
// cannot help here: both versions are closed.)
func TestConcurrentOverlapsRefused(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	d := mustSave(t, db, gridline.Grid{Code: "410103", Name: "二七区", Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive, ValidFrom: day("2020-01-01"), Geometry: box(113.5, 34.6, 113.7, 34.8)})
	for round := 0; round < 10; round++ {
		code := fmt.Sprintf("41010300%d", round)
		errs := make(chan error, 2)
		for w := 0; w < 2; w++ {
			go func(w int) {
				to := day(fmt.Sprintf("202%d-06-01", 2+w))
				_, err := db.SaveGrid(ctx, gridline.Grid{Code: code, Name: fmt.Sprintf("街道%d", w), Level: gridline.LevelSubdistrict, Layer: gridline.LayerComprehensive,
					ParentID: d.ID, ValidFrom: day(fmt.Sprintf("202%d-01-01", 1+w)), ValidTo: &to, Geometry: box(113.5, 34.6, 113.6, 34.7)}, store.DefaultTolerance)
				errs <- err
			}(w)
		}
		var ok, conflicts int
		for i := 0; i < 2; i++ {
			switch err := <-errs; {
			case err == nil:
				ok++
			case gridline.ErrorCode(err) == gridline.EConflict:
				conflicts++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Fatalf("round %d: %d writes went through and %d were refused, want one of each", round, ok, conflicts)
		}
	}
}

// A dataset whose parent is invalid gets the rule's own message, not GEOS's error from comparing
// its child with it, and nothing is loaded.
func TestLoadInvalidParentIsNamed(t *testing.T) {
	db := storetest.New(t)
	f := day("2024-01-01")
	bowtie := orb.MultiPolygon{{{{113.5, 34.6}, {113.7, 34.8}, {113.7, 34.6}, {113.5, 34.8}, {113.5, 34.6}}}}
	err := db.Load(context.Background(), &store.Dataset{Grids: []gridline.Grid{
		{ID: 1, Version: 1, Code: "410103", Name: "二七区", Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive, ValidFrom: f, Geometry: bowtie},
		{ID: 2, Version: 1, Code: "410103001", Name: "街道", Level: gridline.LevelSubdistrict, Layer: gridline.LayerComprehensive, ParentID: 1, ValidFrom: f, Geometry: box(113.55, 34.61, 113.65, 34.62)},
	}}, store.DefaultTolerance)
	if gridline.ErrorCode(err) != gridline.ERule || !strings.Contains(err.Error(), "grid 410103: geometry is not valid: Self-intersection") {
		t.Fatalf("load with an invalid parent: %v, want the rule's message naming grid 410103", err)
	}
	if n, err := db.CountGrids(context.Background()); err != nil || n != 0 {
		t.Fatalf("%d grid versions after a refused load, %v", n, err)
	}
}

// A point PROJ cannot transform is the caller's coordinate, though PostGIS reports it as its
// internal error (XX000), which anywhere else is a bug.
func TestTransformOutsideTheProjection(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	lon, lat, err := db.Transform(ctx, 4547, []float64{500000}, []float64{3800000})
	if err != nil || len(lon) != 1 || lon[0] < 113 || lon[0] > 115 || lat[0] < 34 || lat[0] > 35 {
		t.Fatalf("EPSG:4547 (500000, 3800000) = %v, %v, %v; want a point near 114°E 34.3°N", lon, lat, err)
	}
	_, _, err = db.Transform(ctx, 4547, []float64{1e30}, []float64{1e30})
	if gridline.ErrorCode(err) != gridline.EInvalidCoord {
		t.Fatalf("EPSG:4547 (1e30, 1e30): %v, want %s", err, gridline.EInvalidCoord)
	}
}

// The statement timeout and the pool size are what Options say, and settings PostgreSQL would
// misread are refused.
func TestOptions(t *testing.T) {
	// Migrated first with the default timeout: creating the extensions can take seconds.
	dbURL := storetest.New(t).URL()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, store.Options{StatementTimeout: 1500 * time.Millisecond, MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var timeout string
	if err := db.Pool().QueryRow(ctx, `SHOW statement_timeout`).Scan(&timeout); err != nil || timeout != "1500ms" {
		t.Fatalf("statement_timeout = %q, %v; want 1500ms", timeout, err)
	}
	if n := db.Pool().Config().MaxConns; n != 3 {
		t.Fatalf("pool size = %d, want 3", n)
	}
	// A statement that runs past the timeout is cancelled by the server: an outage to the user.
	if _, err := db.Pool().Exec(ctx, `SELECT pg_sleep(3)`); gridline.ErrorCode(store.Classify(err)) != gridline.EUnavailable {
		t.Fatalf("a statement past the timeout: %v, want %s", err, gridline.EUnavailable)
	}
	for _, opt := range []store.Options{{StatementTimeout: 500 * time.Microsecond}, {StatementTimeout: -time.Second}, {MaxConns: -1}} {
		if db, err := store.Open(ctx, dbURL, opt); err == nil {
			db.Close()
			t.Errorf("Open with %+v succeeded, want an error", opt)
		}
	}
}
