package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/worktime"
)

// statsMonth is the month the demo cases of startStatsApp fall in (they are the 30 days to
// demoCasesNow, 2026-11-30).
const statsMonth = "2026-11"

// startStatsApp serves a small synthetic demo district with its month of synthetic cases, loaded
// as serve --demo-if-empty does, for the statistics page and the monthly brief.
func startStatsApp(t *testing.T, cases int) *app {
	t.Helper()
	d, err := demo.Synthetic(60, 1, demo.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	a := startAppWith(t, nil, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments})
	ctx := context.Background()
	if err := loadCaseListsIfEmpty(ctx, a.db, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := loadDemoTimeLimits(ctx, a.db); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	clock := fakeclock.New(demoCasesNow)
	log := slog.New(slog.DiscardHandler)
	if err := seedCalendar(ctx, a.db, clock, loc, log); err != nil {
		t.Fatal(err)
	}
	wt, err := worktime.NewService(ctx, a.db, clock, loc, log)
	if err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(a.db, clock, loc)
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := loadDemoCases(ctx, a.db, d, res, wt, clock, loc, 1, cases, io.Discard); err != nil {
		t.Fatal(err)
	}
	return a
}

var pdfPageRE = regexp.MustCompile(`/Type\s*/Page\b[^s]`)

// TestStatsWeb: the monthly brief's PDF through the whole program (one A4 page per month), then
// the browser tests of web-map/test-stats: the statistics page (filters change the charts and the
// table; the map colours grids) and the printed brief (its pages rendered to PNG by pdftoppm, in
// test-artifacts/, and looked at).
func TestStatsWeb(t *testing.T) {
	needBrowser(t)
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		testenv.Missing(t, "pdftoppm is not installed: run scripts/setup.sh deps as root (poppler-utils)")
	}
	a := startStatsApp(t, 300)
	storetest.Account(t, a.db, "supervisor", storetest.Everywhere(accounts.Supervisor))
	token := storetest.Token(t, a.db, "brief-reader", storetest.Everywhere(accounts.Supervisor))

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", a.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	t.Run("pdf", func(t *testing.T) {
		for _, months := range []string{statsMonth, "2026-10," + statsMonth} {
			resp, pdf := get("/v1/stats/brief.pdf?month=" + months)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
				t.Fatalf("month=%s: %d %s %.60q", months, resp.StatusCode, resp.Header.Get("Content-Type"), pdf)
			}
			if n, want := len(pdfPageRE.FindAll(pdf, -1)), strings.Count(months, ",")+1; n != want {
				t.Errorf("month=%s: %d pages, want %d (one per month)", months, n, want)
			}
			// A4: 595 × 842 points.
			if !bytes.Contains(pdf, []byte("/MediaBox [0 0 594.96 841.92]")) && !regexp.MustCompile(`/MediaBox \[0 0 59[45][.\d]* 84[12][.\d]*\]`).Match(pdf) {
				t.Errorf("month=%s: not A4: %q", months, regexp.MustCompile(`/MediaBox \[[^\]]*\]`).Find(pdf))
			}
		}
	})
	t.Run("html", func(t *testing.T) {
		resp, html := get("/v1/stats/brief.html?month=" + statsMonth)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%d %s", resp.StatusCode, html)
		}
		// Self-contained: no address the browser would load (the chart script is inlined).
		if m := regexp.MustCompile(`(?i)<(script|link|img)[^>]+(src|href)=`).Find(html); m != nil {
			t.Errorf("the brief loads something: %s", m)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'sha256-") {
			t.Errorf("CSP: %s", resp.Header.Get("Content-Security-Policy"))
		}
	})
	runBrowserTests(t, "test-stats/", []string{
		"the statistics page: filters change the charts and the table",
		"the statistics page: the map colours grids by the chosen rate",
		"the printed monthly brief: pages rendered and looked at",
	}, "GRIDLINE_BASE_URL="+a.base, "GRIDLINE_PASSWORD="+storetest.Password, "GRIDLINE_TOKEN="+token, "GRIDLINE_STATS_MONTH="+statsMonth,
		fmt.Sprintf("GRIDLINE_BRIEF_MONTHS=2026-10,%s", statsMonth))
}
