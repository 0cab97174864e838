// Package testenv decides what a test does when something it needs from the machine is missing:
// it skips on a developer's machine, and fails in CI (CI set, as .ci/run exports it), where every
// test must run.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") != "" }

// Missing fails t in CI and skips it elsewhere, with the message formatted from format and args.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatal(msg + " (CI runs every test: its machine must have it)")
	}
	t.Skip(msg)
}

// NeedCommands calls Missing unless every command is on PATH; install names the Debian package
// that brings them.
func NeedCommands(t testing.TB, install string, commands ...string) {
	t.Helper()
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			Missing(t, "%s is not installed (apt-get install %s)", c, install)
		}
	}
}
