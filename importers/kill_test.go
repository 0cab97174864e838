//go:build unix

package importers

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cancelling stops a GDAL tool and the processes it started at once: an abandoned export must not
// run on for minutes.
func TestCancelKillsTheProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	e := New(nil, Config{})
	done := make(chan error, 1)
	go func() {
		// A stand-in for ogr2ogr: a child that would run for five minutes, and waits for it.
		_, err := e.runGDAL(ctx, "sh", "-c", "sleep 300 & echo $! > "+pidFile+"; wait")
		done <- err
	}()
	var pid int
	for deadline := time.Now().Add(time.Minute); pid == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the child did not start")
		}
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The child is gone (or a zombie of its dead parent about to be reaped): signal 0 fails, or
	// /proc says Z.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if syscall.Kill(pid, 0) != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d still runs after the cancel", pid)
		}
	}
}

// A tool that fails without an ERROR line is not blamed on one of its warnings.
func TestFailureNotBlamedOnWarnings(t *testing.T) {
	e := New(nil, Config{})
	_, err := e.runGDAL(context.Background(), "sh", "-c", "echo 'Warning 6: driver KML does not support creation option FOO' >&2; echo 'FAILURE: Unable to open datasource' >&2; exit 1")
	var ge *gdalError
	if !errors.As(err, &ge) || strings.Contains(ge.msg, "FOO") || !strings.Contains(ge.msg, "Unable to open datasource") {
		t.Fatalf("%v", err)
	}
	_, err = e.runGDAL(context.Background(), "sh", "-c", "echo 'Warning 6: creation option FOO ignored' >&2; exit 3")
	if !errors.As(err, &ge) || strings.Contains(ge.msg, "FOO") || !strings.Contains(ge.msg, "without saying why") {
		t.Fatalf("%v", err)
	}
}
