package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// getJSON GETs url and decodes its JSON answer.
func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// awaitJob follows a job until it ends. The deadline is a guard against a hang, not a timing
// assertion.
func awaitJob(t *testing.T, base, url string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, body := getJSON(t, base+url)
		if status != 200 {
			t.Fatalf("GET %s: %d %v", url, status, body)
		}
		switch body["state"] {
		case "done", "failed", "cancelled":
			return body
		case "queued", "running":
		default:
			t.Fatalf("state %v", body["state"])
		}
	}
	t.Fatalf("job %s did not end", url)
	return nil
}

func TestExportJob(t *testing.T) {
	ts, _, _ := importServer(t)
	resp, err := http.Get(ts.URL + "/v1/exports?format=geojson&layer=police&at=2025-01-01&wait=0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted map[string]any
	json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || !strings.HasPrefix(loc, "/v1/jobs/") || accepted["url"] != loc || accepted["kind"] != "export" {
		t.Fatalf("%d %q %v", resp.StatusCode, loc, accepted)
	}
	job := awaitJob(t, ts.URL, loc)
	progress, _ := job["progress"].(map[string]any)
	report, _ := job["report"].(map[string]any)
	if job["state"] != "done" || job["file"] != loc+"/file" || report["features"] != 2.0 || progress["features_written"] != 2.0 {
		t.Fatalf("%v", job)
	}
	resp, err = http.Get(ts.URL + loc + "/file")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fc struct {
		Features []any `json:"features"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&fc); err != nil || resp.StatusCode != 200 || len(fc.Features) != 2 ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "grids-police-2025-01-01.geojson") {
		t.Fatalf("%d %v %v", resp.StatusCode, err, fc)
	}
	// A finished job cannot be cancelled: it stays done.
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+loc, nil)
	dresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var after map[string]any
	json.NewDecoder(dresp.Body).Decode(&after)
	dresp.Body.Close()
	if dresp.StatusCode != 200 || after["state"] != "done" {
		t.Fatalf("%d %v", dresp.StatusCode, after)
	}
}

func TestImportJobFails(t *testing.T) {
	ts, _, token := importServer(t)
	status, body := postForm(t, ts.URL+"/v1/imports?wait=0", token, map[string]string{"apply": "true"}, "notes.txt", []byte("hello"))
	url, _ := body["url"].(string)
	if status != http.StatusAccepted || url == "" {
		t.Fatalf("%d %v", status, body)
	}
	job := awaitJob(t, ts.URL, url)
	e, _ := job["error"].(map[string]any)
	if job["state"] != "failed" || e["code"] != "invalid_request" || !strings.Contains(e["message"].(string), "found no dataset") {
		t.Fatalf("%v", job)
	}
	// Cancelling an import needs a token.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+url+"/cancel", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("cancel without a token: %d", resp.StatusCode)
	}
	for _, tc := range []struct {
		url    string
		status int
	}{
		{"/v1/jobs/nope", 404},
		{"/v1/jobs/nope/file", 404},
		{url + "/file", 404},
		{"/v1/exports?format=geojson&wait=-1", 400},
		{"/v1/exports?format=geojson&wait=NaN", 400},
		{"/v1/exports?format=geojson&wait=3600", 400},
	} {
		if status, body := getJSON(t, ts.URL+tc.url); status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.url, status, body, tc.status)
		}
	}
}

// slowServer is importServer whose ogr2ogr never ends (until it is killed).
func slowServer(t *testing.T) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(t.TempDir(), "ogr2ogr")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	srv := wire(db, res, nil, Options{}, tiles.Options{}, importers.Config{Ogr2ogr: slow})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, storetest.Raw(t, db)
}

// runningJob waits for a job of the test database to run, and returns its id.
func runningJob(t *testing.T, raw *pgxpool.Pool) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var id string
		if err := raw.QueryRow(context.Background(), `SELECT id FROM jobs WHERE state = 'running' AND stage = 'write'`).Scan(&id); err == nil {
			return id
		}
	}
	t.Fatal("no job ran")
	return ""
}

// A job stops (and its ogr2ogr with it) when it is cancelled, and when the client waiting for it
// goes away before it has an answer.
func TestJobCancelled(t *testing.T) {
	ts, raw := slowServer(t)
	// Cancelled with DELETE.
	resp, err := http.Get(ts.URL + "/v1/exports?format=geojson&at=2025-01-01&wait=0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	id := runningJob(t, raw)
	if loc != "/v1/jobs/"+id {
		t.Fatalf("Location %q, job %s", loc, id)
	}
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+loc, nil)
	dresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var job map[string]any
	json.NewDecoder(dresp.Body).Decode(&job)
	dresp.Body.Close()
	if dresp.StatusCode != 200 || job["state"] != "cancelled" {
		t.Fatalf("%d %v", dresp.StatusCode, job)
	}

	// The client goes away while it waits.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/v1/exports?format=geojson&at=2025-01-01", nil)
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	id = runningJob(t, raw)
	cancel()
	<-gone
	if job := awaitJob(t, ts.URL, "/v1/jobs/"+id); job["state"] != "cancelled" {
		t.Fatalf("%v", job)
	}
}
