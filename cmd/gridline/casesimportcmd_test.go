package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// TestCasesImport: a backlog is checked row by row, filed through the dispatch engine's routing
// all at once, and with one bad row nothing is filed and the row's line is reported.
func TestCasesImport(t *testing.T) {
	ctx := context.Background()
	db, cmd, write := casesImportFixture(t)
	raw := storetest.Raw(t, db)
	var lon, lat float64
	if err := raw.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids WHERE level = 'grid' ORDER BY code LIMIT 1) q`).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	header := "category,lon,lat,description,reported_at,state\n"
	good := write("good.csv", header+
		fmt.Sprintf("0102,%f,%f,路口垃圾,2026-11-03 14:05,closed\n", lon, lat)+
		fmt.Sprintf("0102,%f,%f,又有垃圾,2026-11-04 09:00,dispatched\n", lon, lat))
	bad := write("bad.csv", header+
		fmt.Sprintf("0102,%f,%f,ok,2026-11-03 14:05,closed\n", lon, lat)+
		fmt.Sprintf("9999,%f,%f,no such category,2026-11-03 14:05,closed\n", lon, lat))
	count := func() int {
		var n int
		raw.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&n)
		return n
	}

	out, err := cmd("cases", "import", "--dry-run", good)
	if err != nil || !strings.Contains(out, "would import 2 cases") || count() != 0 {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = cmd("cases", "import", bad)
	if err == nil || !strings.Contains(out, "line 3: category:") || count() != 0 {
		t.Fatalf("a bad row: %v\n%s (%d cases)", err, out, count())
	}
	out, err = cmd("cases", "import", good)
	if err != nil || !strings.Contains(out, "imported 2 cases, closed 1, dispatched 1") || count() != 2 {
		t.Fatalf("%v\n%s", err, out)
	}
	var states, kinds string
	var chain int
	raw.QueryRow(ctx, `SELECT string_agg(c.state, ',' ORDER BY c.id), max(cardinality(c.grid_chain)),
		(SELECT string_agg(kind, ',' ORDER BY id) FROM case_events) FROM cases c`).Scan(&states, &chain, &kinds)
	if states != "closed,dispatched" || chain == 0 || kinds != "report,import,report,import" {
		t.Errorf("states %s, chain %d, events %s", states, chain, kinds)
	}
	var audited int
	raw.QueryRow(ctx, `SELECT cardinality(target_ids) FROM audit_log WHERE action = 'cases.import'`).Scan(&audited)
	if audited != 2 {
		t.Errorf("audit row names %d cases", audited)
	}
}

// casesImportFixture is a database with the test fixture's grids and the demo's case lists, the
// whole program's command line on it, and a function that writes a file for it to read.
func casesImportFixture(t *testing.T) (db *store.DB, cmd func(args ...string) (string, error), write func(name, body string) string) {
	t.Helper()
	url := storetest.NewURL(t)
	ctx := context.Background()
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	actx := gridline.WithActor(ctx, &gridline.Actor{Username: "test", Reach: func(string) (bool, []int64) { return true, nil }})
	for _, l := range []struct {
		what string
		data []byte
	}{{"categories", demo.CaseCategories}, {"departments", demo.Departments}, {"rules", demo.ResponsibilityRules}} {
		if rep, err := importers.ImportCaseList(actx, db, l.what, l.data, "utf-8"); err != nil || len(rep.Problems) > 0 {
			t.Fatal(l.what, err, rep)
		}
	}
	env := map[string]string{"DATABASE_URL": url, "GRIDLINE_TZ": "Asia/Shanghai"}
	cmd = func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, func(k string) string { return env[k] }, &out, io.Discard)
		return out.String(), err
	}
	dir := t.TempDir()
	write = func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return db, cmd, write
}
