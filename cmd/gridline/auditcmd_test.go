package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"gridline.dev/gridline/coverage"
)

// The fixture (storetest.Fixture) tiles its district exactly; its second basic grid,
// 410103001001002, has no full-time worker (its community's chief answers for it).
const vacantFixtureGrid = "410103001001002"

func TestCoverageEndpoint(t *testing.T) {
	a := startApp(t, nil)
	code, body := a.get(t, "/v1/coverage?at=2025-01-01")
	if code != 200 {
		t.Fatalf("GET /v1/coverage = %d %v", code, body)
	}
	sum, _ := body["summary"].(map[string]any)
	if sum["grids"] != float64(15) {
		t.Errorf("summary %v: want 15 grids", sum)
	}
	fc, _ := body["findings"].(map[string]any)
	feats, _ := fc["features"].([]any)
	if fc["type"] != "FeatureCollection" || len(feats) == 0 {
		t.Fatalf("findings %v: want a FeatureCollection with the vacancy", fc)
	}
	vacant := false
	for _, f := range feats {
		p := f.(map[string]any)["properties"].(map[string]any)
		switch p["rule"] {
		case coverage.RuleGap, coverage.RuleOverlap, coverage.RuleSliver, coverage.RuleOutsideParent, coverage.RuleInvalidGeometry:
			t.Errorf("the fixture tiles its district exactly, but: %v", p)
		case coverage.RuleVacantPost:
			codes := p["codes"].([]any)
			if codes[0] == vacantFixtureGrid && p["fallback"] == true && p["as_of"] == "2025-01-01" && p["severity"] == "error" {
				vacant = true
			}
		}
	}
	if !vacant {
		t.Errorf("the vacancy of %s is missing from %v", vacantFixtureGrid, feats)
	}
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/coverage?scope=999999", 404, "not_found"},
		{"/v1/coverage?at=2025-13-01", 400, "invalid_date"},
		{"/v1/coverage?rules=gaps", 400, "invalid_request"},
		{"/v1/coverage?layers=special", 400, "invalid_request"},
		{"/v1/coverage?min_area=-1", 400, "invalid_request"},
		{"/v1/coverage?format=xml", 400, "invalid_request"},
		{"/v1/coverage/changes", 400, "invalid_request"},
		{"/v1/coverage/changes?from=2025-02-30", 400, "invalid_date"},
		{"/v1/coverage/changes?from=2025-01-01&scope=999999", 404, "not_found"},
	} {
		if code, body := a.get(t, c.path); code != c.status || errCode(body) != c.code {
			t.Errorf("GET %s = %d %v, want %d %s", c.path, code, body, c.status, c.code)
		}
	}
	// A scope: one community's subtree.
	if code, body := a.get(t, "/v1/coverage?scope=410103001001&at=2025-01-01&rules=staffing"); code != 200 || body["summary"].(map[string]any)["grids"] != float64(6) {
		t.Errorf("scope 410103001001: %d %v, want its 6 grids (itself, 2 basic, 2 micro, 1 special)", code, body["summary"])
	}
	// CSV.
	resp, err := http.Get(a.base + "/v1/coverage?at=2025-01-01&format=csv&rules=vacant_post")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(coverage.CSVHeader, ",") {
		t.Errorf("CSV: %v %v", rows, err)
	}
	// Changes: everything was added between 2023 and 2025.
	code, body = a.get(t, "/v1/coverage/changes?from=2023-06-01&to=2025-01-01")
	if counts, _ := body["counts"].(map[string]any); code != 200 || counts["added"] != float64(15) {
		t.Errorf("changes = %d %v, want 15 grids added", code, body)
	}
	code, body = a.get(t, "/v1/coverage/changes?from=2024-06-01&to=2025-01-01")
	if ch, _ := body["changes"].([]any); code != 200 || len(ch) != 0 {
		t.Errorf("changes = %d %v, want none", code, body)
	}
}

func TestAuditCommand(t *testing.T) {
	a := startApp(t, nil)
	env := map[string]string{"DATABASE_URL": a.dbURL, "GRIDLINE_TZ": "Asia/Shanghai"}
	getenv := func(k string) string { return env[k] }
	audit := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"audit"}, args...), getenv, &out, &out)
		return out.String(), err
	}
	// The vacancy is an error: exit 1 by default.
	out, err := audit("--at", "2025-01-01")
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("audit: %v (exit %d), want exit 1 for the vacancy\n%s", err, exitCode(err), out)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep["summary"] == nil {
		t.Fatalf("audit --format json: %v\n%s", err, out)
	}
	// Only geometry fails: the fixture is clean.
	if out, err := audit("--at", "2025-01-01", "--fail-on", "gap,overlap,sliver,outside_parent", "--format", "geojson"); err != nil {
		t.Errorf("audit --fail-on gap,...: %v, want exit 0\n%s", err, out)
	} else if !strings.Contains(out, `"FeatureCollection"`) {
		t.Errorf("audit --format geojson:\n%s", out)
	}
	if out, err := audit("--at", "2025-01-01", "--scope", "410103002", "--format", "csv"); err != nil {
		t.Errorf("audit of a subdistrict with no problem: %v\n%s", err, out)
	} else if !strings.HasPrefix(out, strings.Join(coverage.CSVHeader, ",")) {
		t.Errorf("audit --format csv:\n%s", out)
	}
	// Could not run: exit 2.
	for _, args := range [][]string{
		{"--scope", "999999"},
		{"--at", "tomorrow"},
		{"--fail-on", "gaps"},
		{"--format", "xml"},
	} {
		if _, err := audit(args...); exitCode(err) != 2 {
			t.Errorf("audit %v: %v (exit %d), want exit 2", args, err, exitCode(err))
		}
	}
	env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // openDB retries for a while: a cancelled context gives up at once
	var buf bytes.Buffer
	if err := run(ctx, []string{"audit"}, getenv, &buf, &buf); exitCode(err) != 2 {
		t.Errorf("audit without a database: %v (exit %d), want exit 2", err, exitCode(err))
	}
}
