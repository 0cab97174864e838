// Package escalation chases late steps of the case loop up the escalation ladder: every few
// seconds each gridline server sweeps the open steps whose next rung is due (yellow: tell the
// handler; red: tell the post above in the grid's chain, then the one above that, then the
// supervisor, as the ladder in the database says) and does the rung: notifications, a case
// event, the step's escalation level raised, in one transaction. Deadlines are data
// (case_steps.warn_at and due_at, recomputed by the case loop from the calendar), so nothing is
// scheduled ahead and a restart loses nothing; the row locks taken with SKIP LOCKED and the
// level check under them make each rung happen once with any number of servers on one database.
// It knows nothing of HTTP or SQL.
package escalation

import (
	"context"
	"log/slog"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// Store is what the sweeper needs of the database.
type Store interface {
	// EscalateDue does the next rung of up to limit steps whose rung is due at now, in one
	// transaction, each once whatever other servers do; today is the district's date.
	EscalateDue(ctx context.Context, now, today time.Time, limit int) ([]store.Escalation, error)
}

// Config tunes a Sweeper.
type Config struct {
	Every time.Duration // how often to sweep (default 30 s)
	Batch int           // steps per transaction (default 100)
}

// Sweeper escalates late steps.
type Sweeper struct {
	st    Store
	clock gridline.Clock
	loc   *time.Location
	log   *slog.Logger
	cfg   Config
}

// New makes a Sweeper.
func New(st Store, clock gridline.Clock, loc *time.Location, log *slog.Logger, cfg Config) *Sweeper {
	if cfg.Every <= 0 {
		cfg.Every = 30 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	return &Sweeper{st: st, clock: clock, loc: loc, log: log, cfg: cfg}
}

// maxBatches bounds one sweep, so that a backlog (a server down for a day) is worked off over
// several sweeps instead of holding one goroutine for ever.
const maxBatches = 100

// Sweep does every rung due now, a batch per transaction, and says how many it did. A step
// that is several rungs behind moves one rung per batch.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	n := 0
	for range maxBatches {
		now := s.clock.Now().In(s.loc)
		done, err := s.st.EscalateDue(ctx, now, gridline.Today(s.clock, s.loc), s.cfg.Batch)
		if err != nil {
			return n, err
		}
		for _, e := range done {
			s.log.Info("escalated", "case", e.CaseNumber, "step", e.Step, "rung", e.Rung.Rung, "target", e.Rung.Target, "action", e.Rung.Action, "recipients", e.Recipients)
		}
		n += len(done)
		if len(done) == 0 {
			return n, nil
		}
	}
	return n, nil
}

// Run sweeps every Config.Every until ctx is done.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Every)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("escalation sweep failed; trying again at the next", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
