package importers_test

import (
	"context"
	"sync"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
)

// TestConcurrentApplies: two applies of one file at once both succeed, and the data are as after
// one: the second sees the first's writes and finds the file unchanged (issue #10 saw the second
// answer 422 with PostgreSQL's "Key (id)=(18) already exists").
func TestConcurrentApplies(t *testing.T) {
	db, eng := fixtureDB(t)
	ctx := context.Background()
	// The name of one basic grid changes: each apply, planned alone, would write a new version of it.
	gj := `{"type":"FeatureCollection","features":[
	{"type":"Feature","properties":{"code":"410103001002001","name":"兴华街第一网格","parent_code":"410103001002"},
	 "geometry":{"type":"Polygon","coordinates":[[[113.60,34.72],[113.62,34.72],[113.62,34.74],[113.60,34.74],[113.60,34.72]]]}}
	]}`
	path := writeFile(t, "grids.geojson", gj)
	before := countVersions(t, db)
	opt := importers.Options{From: from, Mapping: importers.Mapping{Level: gridline.LevelGrid}, Apply: true}
	var wg sync.WaitGroup
	reps := make([]*importers.Report, 2)
	errs := make([]error, 2)
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = eng.Import(ctx, []string{path}, opt)
		}()
	}
	wg.Wait()
	changed := 0
	for i := range reps {
		if errs[i] != nil {
			t.Fatalf("apply %d: %v", i, errs[i])
		}
		if !reps[i].OK() {
			t.Fatalf("apply %d: problems %v", i, reps[i].Problems)
		}
		changed += reps[i].Changed
	}
	if changed != 1 || countVersions(t, db) != before+1 {
		t.Fatalf("%d changed in all, %d versions (had %d): want one grid changed once", changed, countVersions(t, db), before)
	}
}
