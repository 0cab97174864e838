package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/dispatch"
)

// SteppingClock is a clock a caller sets: the demo load moves it to each scripted event's time
// before handing the event to the engine, so the engine records the past as it would have.
type SteppingClock struct {
	mu sync.Mutex
	t  time.Time
}

// Now is the time last set.
func (c *SteppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *SteppingClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// CaseStats counts what PlayCases did.
type CaseStats struct {
	Cases       int
	Transitions int
	States      map[dispatch.State]int
	Reports     time.Duration // how long the intake of every report took
}

// demoPrincipals are the synthetic staff the scripts act as: no accounts, only grants, so the
// engine checks every transition against the roles that own it.
func demoPrincipals(departments []dispatch.Department) map[Actor]*accounts.Principal {
	all := accounts.Scope{Kind: accounts.ScopeAll}
	handler := []accounts.Grant{{Role: accounts.GridWorker, Scope: all}}
	for _, d := range departments {
		handler = append(handler, accounts.Grant{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: d.Code}})
	}
	return map[Actor]*accounts.Principal{
		ActorDispatcher: accounts.NewPrincipal(0, "demo-dispatcher", 0, []accounts.Grant{{Role: accounts.Dispatcher, Scope: all}}, accounts.AllPermissions),
		ActorHandler:    accounts.NewPrincipal(0, "demo-handler", 0, handler, accounts.AllPermissions),
		ActorWorker:     accounts.NewPrincipal(0, "demo-gridworker", 0, []accounts.Grant{{Role: accounts.GridWorker, Scope: all}}, accounts.AllPermissions),
		ActorSupervisor: accounts.NewPrincipal(0, "demo-supervisor", 0, []accounts.Grant{{Role: accounts.Supervisor, Scope: all}, {Role: accounts.Dispatcher, Scope: all}}, accounts.AllPermissions),
	}
}

// evidencePhoto is the synthetic "after" photo of a self-handled case: an 8x8 PNG.
var evidencePhoto = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 64 {
		img.Set(i%8, i/8, color.RGBA{60, 160, 90, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}()

// PlayCases runs scripts through the engine that newEngine makes for a clock: first every report,
// in the scripts' order (so the cases' ids and numbers follow their report times), then each
// case's transitions in order, the cases shared among workers goroutines, each with its own
// engine and clock. Before each call the clock is set to the event's time. It stops at the first
// error: the engine refusing a script is a bug of the script.
func PlayCases(ctx context.Context, newEngine func(gridline.Clock) *dispatch.Engine, scripts []CaseScript, workers int) (CaseStats, error) {
	st := CaseStats{States: map[dispatch.State]int{}}
	if len(scripts) == 0 {
		return st, nil
	}
	clock := &SteppingClock{}
	clock.Set(scripts[0].At)
	eng := newEngine(clock)
	t, err := eng.Table(ctx)
	if err != nil {
		return st, err
	}
	who := demoPrincipals(t.Departments)
	start := time.Now()
	cases := make([]*dispatch.Case, len(scripts))
	for i, s := range scripts {
		clock.Set(s.At)
		r := s.Report
		if s.As == ActorPublic {
			r.Trusted = true
		}
		if r.SelfHandled {
			r.Photos = []dispatch.Photo{{Name: "after.png", Kind: "after", Bytes: evidencePhoto}}
		}
		in, err := eng.Report(ctx, who[s.As], r)
		if err != nil {
			return st, fmt.Errorf("demo case %s: report: %w", r.ExternalID, err)
		}
		cases[i] = in.Case
	}
	st.Reports = time.Since(start)
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clock := &SteppingClock{}
			clock.Set(scripts[0].At)
			eng := newEngine(clock)
			n := 0
			states := map[dispatch.State]int{}
			err := func() error {
				for i := w; i < len(scripts); i += workers {
					s, c := scripts[i], cases[i]
					for _, step := range s.Steps {
						clock.Set(step.At)
						next, err := eng.Transition(ctx, who[step.As], c.ID, step.Req)
						if err != nil {
							return fmt.Errorf("demo case %s (%s, %s): %s at %s: %w", s.Report.ExternalID, c.Number, c.State, step.Req.Kind, step.At.Format(time.RFC3339), err)
						}
						c = next
						n++
					}
					if c.State != s.Want {
						return fmt.Errorf("demo case %s ended %s, not %s", s.Report.ExternalID, c.State, s.Want)
					}
					states[c.State]++
				}
				return nil
			}()
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
				cancel()
			}
			st.Transitions += n
			for k, v := range states {
				st.States[k] += v
				st.Cases += v
			}
		}()
	}
	wg.Wait()
	return st, firstErr
}
