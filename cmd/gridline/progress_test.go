package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// The progress line is for terminals only: a file or a pipe gets the result alone.
func TestProgressOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	if p := startProgress(&buf, "import", "prepare", "done"); p != nil {
		t.Fatal("progress on a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := startProgress(f, "import", "prepare", "done"); p != nil {
		t.Fatal("progress on a file")
	}
	var nilBar *termProgress
	nilBar.Stop() // no terminal, nothing to stop
	// Drawn, it shows the stage's share of the bar and the counters.
	p := &termProgress{w: &buf, what: "import", stages: []string{"prepare", "stage", "check", "done"}}
	p.Stage("check")
	p.SetRead(12)
	p.SetChecked(3)
	p.draw()
	if got := buf.String(); !strings.Contains(got, "[=============       ] check · 12 read · 3 checked · 0 written") {
		t.Fatalf("%q", got)
	}
}
