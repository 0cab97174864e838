package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline/internal/testenv"
	webmap "gridline.dev/gridline/web-map"
)

// TestAuditPanel damages the fixture (a gap between two basic grids, an overlap between the two
// subdistricts) behind the write rules' back, as an old import could have, and runs
// web-map/test-coverage (node's test runner driving Chromium) against the served map.
func TestAuditPanel(t *testing.T) {
	webDir, err := filepath.Abs("../../web-map")
	if err != nil {
		t.Fatal(err)
	}
	if !webmap.Handler(webmap.Config{}).Built() {
		testenv.Missing(t, "the web map is not built into this binary: run make web (or make test)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		testenv.Missing(t, "web-map/node_modules is missing: run make web")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		testenv.Missing(t, "no Chromium at %s: run scripts/setup.sh deps as root", chromium)
	}
	a := startApp(t, nil)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		// The second basic grid gives up a 0.0005° strip on its west side: a gap beside the first.
		`UPDATE grids SET geom = ST_Multi(ST_MakeEnvelope(113.6105, 34.70, 113.62, 34.72, 4326)) WHERE code = '410103001001002'`,
		// The second subdistrict reaches 0.0005° into the first: an overlap (and a gap in itself).
		`UPDATE grids SET geom = ST_Multi(ST_MakeEnvelope(113.6195, 34.70, 113.64, 34.74, 4326)) WHERE code = '410103002'`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The server refreshes its index on the change notification.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := a.get(t, "/v1/coverage?rules=gap,overlap")
		if s, _ := body["summary"].(map[string]any); s != nil && s["findings"].(float64) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the damage did not reach the audit: %v", body["summary"])
		}
		time.Sleep(200 * time.Millisecond)
	}
	artifacts, _ := filepath.Abs("../../test-artifacts")
	nctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(nctx, node, "--test", "--test-reporter=spec", "test-coverage/")
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "GRIDLINE_BASE_URL="+a.base, "GRIDLINE_ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test web-map/test-coverage:\n%s", out)
	if err != nil {
		t.Fatalf("audit panel tests failed: %v", err)
	}
	if strings.Contains(string(out), "# skipped 1") || !strings.Contains(string(out), "✔ the audit panel") {
		t.Fatal("the browser test did not run")
	}
}
