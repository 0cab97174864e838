package worktime

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gridline.dev/gridline"
)

// Store is what the Service needs of the database: the calendar, the working hours, the time
// limits, the catalogue standard of each category code, and a number that changes whenever one
// of them does.
type Store interface {
	CalendarDays(ctx context.Context) ([]Day, error)
	WorkingHours(ctx context.Context) ([]Schedule, error)
	TimeLimits(ctx context.Context) (Rules, error)
	CategoryStandards(ctx context.Context) (map[string]string, error)
	WorktimeVersion(ctx context.Context) (int64, error)
}

// WarnAhead is how far ahead the Service looks for a year without official holidays.
const WarnAhead = 60 * 24 * time.Hour

// Service holds the district's calendar and time limits as loaded from the store, reloads them
// when they change (Refresh, Run), and answers the case loop's questions: a step's limit and its
// deadline. It is safe for concurrent use.
type Service struct {
	st    Store
	clock gridline.Clock
	loc   *time.Location
	log   *slog.Logger

	mu        sync.RWMutex
	version   int64
	cal       *Calendar
	rules     Rules
	standards map[string]string // category code -> catalogue standard
	loaded    bool
}

// NewService loads the calendar and limits from st.
func NewService(ctx context.Context, st Store, clock gridline.Clock, loc *time.Location, log *slog.Logger) (*Service, error) {
	s := &Service{st: st, clock: clock, loc: loc, log: log}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Refresh reloads the calendar and limits if they changed since they were loaded.
func (s *Service) Refresh(ctx context.Context) error {
	v, err := s.st.WorktimeVersion(ctx)
	if err != nil {
		return err
	}
	s.mu.RLock()
	same := s.loaded && v == s.version
	s.mu.RUnlock()
	if same {
		return nil
	}
	days, err := s.st.CalendarDays(ctx)
	if err != nil {
		return err
	}
	hours, err := s.st.WorkingHours(ctx)
	if err != nil {
		return err
	}
	if len(hours) == 0 {
		hours = nil
	}
	rules, err := s.st.TimeLimits(ctx)
	if err != nil {
		return err
	}
	standards, err := s.st.CategoryStandards(ctx)
	if err != nil {
		return err
	}
	cal, err := NewCalendar(s.loc, days, hours)
	if err != nil {
		return fmt.Errorf("working calendar: %w", err)
	}
	s.mu.Lock()
	s.cal, s.rules, s.standards, s.version, s.loaded = cal, rules, standards, v, true
	s.mu.Unlock()
	for _, w := range s.Warnings() {
		s.log.Warn("working calendar", "warning", w)
	}
	return nil
}

// Run refreshes every interval until ctx is done, and logs the calendar's warnings once a day.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("working calendar refresh", "err", err)
			}
		}
	}
}

// Calendar is the calendar as last loaded.
func (s *Service) Calendar() *Calendar {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cal
}

// Rules are the time limits as last loaded.
func (s *Service) Rules() Rules {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rules
}

// Warnings say what is missing from the calendar: a year within WarnAhead without official
// holidays (its deadlines count only weekends off until it is loaded or patched).
func (s *Service) Warnings() []string {
	var out []string
	for _, y := range s.Calendar().MissingYears(s.clock.Now(), WarnAhead) {
		out = append(out, fmt.Sprintf("the working calendar has no official holidays for %d; upgrade github.com/6tail/lunar-go to a release with the State Council's %d schedule, or add the days with PUT /v1/calendar/days", y, y))
	}
	return out
}

// Limit is the time limit of step for the category of code at urgency (the most specific rule's);
// false when no rule matches.
func (s *Service) Limit(categoryCode, urgency, step string) (Limit, bool, error) {
	s.mu.RLock()
	rules, standard := s.rules, s.standards[categoryCode]
	s.mu.RUnlock()
	l, ok := rules.Find(categoryCode, standard, urgency, step)
	return l, ok, nil
}

// Deadline is sc's deadline by the calendar, now.
func (s *Service) Deadline(sc StepClock) Deadline {
	return s.Calendar().Deadline(sc, s.clock.Now())
}

// OpenStep is an open, running step's clock as stored; Stored is the stored form, which the
// store compares when it writes the new deadline (a transition that changed the clock since wrote
// its own).
type OpenStep struct {
	ID     int64
	Clock  StepClock
	Stored string
}

// StepStore is what Recompute needs: the clocks of the open, running steps with a limit, by id,
// and a way to write their new deadlines.
type StepStore interface {
	OpenStepClocks(ctx context.Context, after int64, limit int) ([]OpenStep, error)
	SetStepDeadlines(ctx context.Context, steps []OpenStep, deadlines []Deadline) (int, error)
}

// Recompute recomputes the deadline of every open, running step on the calendar as now loaded
// (after a holiday patch or new working hours), in batches, and says how many deadlines moved.
func (s *Service) Recompute(ctx context.Context, st StepStore) (int, error) {
	moved := 0
	var after int64
	for {
		steps, err := st.OpenStepClocks(ctx, after, 1000)
		if err != nil || len(steps) == 0 {
			return moved, err
		}
		cal, now := s.Calendar(), s.clock.Now()
		ds := make([]Deadline, len(steps))
		for i, st := range steps {
			ds[i] = cal.Deadline(st.Clock, now)
		}
		n, err := st.SetStepDeadlines(ctx, steps, ds)
		moved += n
		if err != nil {
			return moved, err
		}
		after = steps[len(steps)-1].ID
	}
}
