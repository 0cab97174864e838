package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/store/storetest"
)

// childArgs, in the environment, makes the test binary run gridline itself with these arguments
// (separated by \x1f): a whole gridline process that a test can kill -9.
const childArgs = "GRIDLINE_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		if err := run(context.Background(), strings.Split(a, "\x1f"), os.Getenv, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "gridline:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKillDuringImport kills an applying import with SIGKILL in each of its stages: while
// ogr2ogr stages the file, while the new versions are written, and while they are checked. Each
// time, after a restart, the grids are as they were, no lock is held, and no staging table or
// temporary file is left. Each stage is held still by the test (a wrapped ogr2ogr that waits
// when it has written the staging table, a table lock on grids, the grid write lock), so the kill
// lands in it, observed in pg_stat_activity, with no timing involved.
func TestKillDuringImport(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	realOgr, err := exec.LookPath("ogr2ogr")
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, nil)
	ctx := context.Background()
	raw := storetest.Raw(t, a.db)
	tmp := t.TempDir()
	// Every gridline process of this test (the children and the servers) keeps its files here.
	t.Setenv("TMPDIR", tmp)
	env := map[string]string{"DATABASE_URL": a.dbURL, "GRIDLINE_TZ": "Asia/Shanghai"}
	getenv := func(k string) string { return env[k] }

	// The file: every fixture grid with a new name, so that applying it writes a new version of each.
	src := filepath.Join(t.TempDir(), "grids.geojson")
	if err := run(ctx, []string{"export", "--format", "geojson", "--at", "2025-01-01", "-o", src}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var fc map[string]any
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	for _, f := range fc["features"].([]any) {
		p := f.(map[string]any)["properties"].(map[string]any)
		p["name"] = fmt.Sprint(p["name"], " (renamed)")
	}
	if b, err = json.Marshal(fc); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "renamed.geojson")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}

	// ogr2ogr that, once it has staged the file, signals and waits for ever (it is killed with
	// its parent: Pdeathsig).
	bin := t.TempDir()
	staged := filepath.Join(tmp, "staged")
	wrapper := fmt.Sprintf("#!/bin/sh\n%q \"$@\" || exit $?\ntouch %q\nexec sleep 600\n", realOgr, staged)
	if err := os.WriteFile(filepath.Join(bin, "ogr2ogr"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}

	before := gridsDigest(t, raw)
	stages := []struct {
		name string
		// hold holds the stage still on conn's transaction (nil: the wrapper does) and
		// returns once it is held; reached says whether the import has got there.
		hold    string
		reached func() bool
		path    string
	}{
		{name: "staging (ogr2ogr)", path: bin + string(os.PathListSeparator) + os.Getenv("PATH"),
			reached: func() bool { _, err := os.Stat(staged); return err == nil }},
		// The import closes the old versions (UPDATE) and inserts the new ones (INSERT) in one
		// transaction: held at the first write.
		{name: "write", hold: `LOCK TABLE grids IN SHARE MODE`,
			reached: func() bool { return waiting(t, raw, "UPDATE grids") }},
		// After writing, the rules are checked under the grid write lock (store/rules.go).
		{name: "checks", hold: `SELECT pg_advisory_xact_lock(1735551332)`,
			reached: func() bool { return waiting(t, raw, "pg_advisory_xact_lock") }},
	}
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			var blocker *pgxpool.Conn
			if st.hold != "" {
				if blocker, err = raw.Acquire(ctx); err != nil {
					t.Fatal(err)
				}
				defer blocker.Release()
				if _, err := blocker.Exec(ctx, "BEGIN; "+st.hold); err != nil {
					t.Fatal(err)
				}
			}
			path := st.path
			if path == "" {
				path = os.Getenv("PATH")
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childArgs+"="+strings.Join([]string{"import", "--apply", "--from", "2025-06-01", file}, "\x1f"),
				"DATABASE_URL="+a.dbURL, "PATH="+path)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			for deadline := time.Now().Add(2 * time.Minute); !st.reached(); time.Sleep(20 * time.Millisecond) {
				select {
				case err := <-exited:
					t.Fatalf("the import ended before the stage: %v\n%s", err, out.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("the import did not reach the stage\n%s", out.String())
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-exited
			if blocker != nil {
				if _, err := blocker.Exec(ctx, "ROLLBACK"); err != nil {
					t.Fatal(err)
				}
			}
			// The killed process's sessions end once PostgreSQL notices (a session waiting for a
			// lock notices when it gets it and answers a client that is gone).
			for deadline := time.Now().Add(time.Minute); otherSessions(t, raw) > 0 || ownerLocks(t, raw) > 1; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the killed import's sessions did not end")
				}
			}
			if got := gridsDigest(t, raw); got != before {
				t.Fatalf("the grids changed: %s, were %s", got, before)
			}
			// A restart cleans up what is left.
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			pr, pw := io.Pipe()
			go func() {
				done <- run(rctx, []string{"serve", "--addr", "127.0.0.1:0"}, getenv, pw, io.Discard)
				pw.Close()
			}()
			buf := make([]byte, 4096)
			if _, err := pr.Read(buf); err != nil { // "serving on": the start-up sweep has run
				t.Fatal(err)
			}
			go io.Copy(io.Discard, pr) //nolint:errcheck // drain
			var tables []string
			rows, _ := raw.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'staging'`)
			for rows.Next() {
				var n string
				rows.Scan(&n)
				tables = append(tables, n)
			}
			rows.Close()
			var locks int
			// Advisory locks other than the servers' owner locks (7411002, owner).
			raw.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT (classid = 7411002 AND objsubid = 2)
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks)
			leftovers, _ := filepath.Glob(filepath.Join(tmp, "gridline-*", "*", "*"))
			cancel()
			<-done
			if len(tables) > 0 || locks > 0 || len(leftovers) > 0 {
				t.Fatalf("after the restart: staging tables %v, %d advisory locks, files %v", tables, locks, leftovers)
			}
			if got := gridsDigest(t, raw); got != before {
				t.Fatalf("the grids changed: %s, were %s", got, before)
			}
		})
	}
}

// gridsDigest sums up every grid version.
func gridsDigest(t *testing.T, raw *pgxpool.Pool) string {
	t.Helper()
	var d string
	if err := raw.QueryRow(context.Background(), `SELECT count(*) || ':' || md5(coalesce(string_agg(version_id || name || coalesce(valid_to::text, ''), ',' ORDER BY version_id), '')) FROM grids`).Scan(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// waiting says whether a session of gridline waits for a lock in a statement containing text.
func waiting(t *testing.T, raw *pgxpool.Pool, text string) bool {
	t.Helper()
	var n int
	if err := raw.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND application_name = 'gridline.dev/gridline' AND wait_event_type = 'Lock' AND position($1 in query) > 0`, text).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// otherSessions counts the sessions on the test database that are not the test's own or the
// test server's (whose pool is idle): those of the killed process.
func otherSessions(t *testing.T, raw *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
		AND backend_type = 'client backend' AND query NOT LIKE 'LISTEN%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ownerLocks counts the processes holding an owner lock on the test database.
func ownerLocks(t *testing.T, raw *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7411002 AND objsubid = 2
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
