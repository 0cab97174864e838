package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// termProgress draws an import's or an export's progress on one line of a terminal: a bar by
// stage, the stage, the counters and the time so far. It is an importers.Progress.
type termProgress struct {
	w                      io.Writer
	what                   string
	stages                 []string
	start                  time.Time
	mu                     sync.Mutex
	stage                  string
	read, checked, written int64
	stop, stopped          chan struct{}
}

// isTerminal says whether w is a terminal (a character device), not a file or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startProgress starts drawing on w when it is a terminal, and returns nil (no progress)
// otherwise: a file or a pipe gets only the result.
func startProgress(w io.Writer, what string, stages ...string) *termProgress {
	if !isTerminal(w) {
		return nil
	}
	p := &termProgress{w: w, what: what, stages: stages, start: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				fmt.Fprint(p.w, "\r\033[K") // clear the line for the result
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *termProgress) draw() {
	p.mu.Lock()
	stage, read, checked, written := p.stage, p.read, p.checked, p.written
	p.mu.Unlock()
	done := 0
	for i, s := range p.stages {
		if s == stage {
			done = i
		}
	}
	const width = 20
	fill := width * done / max(len(p.stages)-1, 1)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	fmt.Fprintf(p.w, "\r\033[K%s [%s] %s · %d read · %d checked · %d written · %s", p.what, bar, stage, read, checked, written,
		time.Since(p.start).Round(time.Second))
}

// Stop clears the line; safe on nil.
func (p *termProgress) Stop() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.stopped
}

func (p *termProgress) Stage(s string) {
	p.mu.Lock()
	p.stage = s
	p.mu.Unlock()
}

func (p *termProgress) SetRead(n int64) {
	p.mu.Lock()
	p.read = n
	p.mu.Unlock()
}

func (p *termProgress) SetChecked(n int64) {
	p.mu.Lock()
	p.checked = n
	p.mu.Unlock()
}

func (p *termProgress) SetWritten(n int64) {
	p.mu.Lock()
	p.written = n
	p.mu.Unlock()
}
