package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	webmap "gridline.dev/gridline/web-map"
)

// needBrowser calls testenv.Missing unless the browser tests can run: the web map built into
// this binary, node with web-map's node_modules, and Chromium.
func needBrowser(t *testing.T) {
	t.Helper()
	if !webmap.Handler(webmap.Config{}).Built() {
		testenv.Missing(t, "the web map is not built into this binary: run make web (or make test)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Missing(t, "node is not installed")
	}
	if _, err := os.Stat("../../web-map/node_modules/playwright-core"); err != nil {
		testenv.Missing(t, "web-map/node_modules is missing: run make web")
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		testenv.Missing(t, "no Chromium at %s: run scripts/setup.sh deps as root", chromiumPath())
	}
}

// chromiumPath is $CHROMIUM, or Debian's Chromium.
func chromiumPath() string {
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	return "/usr/bin/chromium"
}

// runBrowserTests runs node's test runner on dir of web-map (which drives Chromium through
// playwright-core) with env added, fails t unless every test passed, none was skipped and each of
// want ran, and returns the directory of screenshots.
func runBrowserTests(t *testing.T, dir string, want []string, env ...string) string {
	t.Helper()
	artifacts, _ := filepath.Abs("../../test-artifacts")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", dir)
	cmd.Dir = "../../web-map"
	cmd.Env = append(append(os.Environ(), "GRIDLINE_ARTIFACTS="+artifacts, "CHROMIUM="+chromiumPath()), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test web-map/%s:\n%s", dir, out)
	if err != nil {
		t.Fatalf("browser tests in web-map/%s failed: %v", dir, err)
	}
	// The spec reporter ends with "ℹ skipped N" (the TAP reporter "# skipped N").
	if regexp.MustCompile(`skipped [1-9]`).Match(out) {
		t.Fatalf("browser tests in web-map/%s were skipped", dir)
	}
	for _, w := range want {
		if !strings.Contains(string(out), "✔ "+w) {
			t.Fatalf("the browser test %q did not run", w)
		}
	}
	return artifacts
}

// TestWebMap serves the map from the binary and runs web-map/test (node's test runner driving
// Chromium through playwright-core) against it.
func TestWebMap(t *testing.T) {
	needBrowser(t)
	a := startApp(t, nil)
	storetest.Account(t, a.db, "viewer", storetest.Everywhere(accounts.Viewer))
	// A national set of districts and nothing below them, as GIS officers load first (issue #11).
	many := startAppWith(t, nil, manyDistricts(manyDistrictsN))

	t.Run("routes", func(t *testing.T) {
		resp, err := http.Get(a.base + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `<div id="map">`) {
			t.Fatalf("GET / = %d %.200s", resp.StatusCode, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET / security headers: %v", resp.Header)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("CORS headers sent without being configured")
		}
		if code, body := a.get(t, "/config.json"); code != 200 || body == nil {
			t.Fatalf("GET /config.json = %d %v", code, body)
		}
		for _, p := range []string{"/v1/nothing", "/nothing", "/tiles"} {
			if code, body := a.get(t, p); code != 404 || errCode(body) != "not_found" {
				t.Fatalf("GET %s = %d %v, want the JSON 404", p, code, body)
			}
		}
		if code, _ := a.get(t, "/healthz"); code != 200 {
			t.Fatalf("healthz = %d", code)
		}
	})

	artifacts := runBrowserTests(t, "test/", []string{"the map loads", "signing in shows who", "many districts"},
		"GRIDLINE_BASE_URL="+a.base, "GRIDLINE_ADMIN_PASSWORD="+a.adminPassword, "GRIDLINE_VIEWER_PASSWORD="+storetest.Password,
		"GRIDLINE_DISTRICTS_URL="+many.base, fmt.Sprintf("GRIDLINE_DISTRICTS_N=%d", manyDistrictsN))
	t.Logf("screenshot: %s", filepath.Join(artifacts, "web-map.png"))
}

// manyDistrictsN is how many districts manyDistricts makes for the browser test: more than the
// tree's page and the old first-100 list.
const manyDistrictsN = 450

// manyDistricts is n districts side by side over central China and no lower levels.
func manyDistricts(n int) *store.Dataset {
	d := &store.Dataset{}
	for i := 0; i < n; i++ {
		x, y := 100+float64(i%30)*0.4, 25+float64(i/30)*0.4
		d.Grids = append(d.Grids, gridline.Grid{ID: int64(i + 1), Version: 1, Code: fmt.Sprintf("%06d", 500000+i), Name: fmt.Sprintf("测试区%d", i),
			Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive, ValidFrom: storetest.FixtureFrom,
			Geometry: storetest.Box(x, y, x+0.35, y+0.35)})
	}
	return d
}
