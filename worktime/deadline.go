package worktime

import (
	"slices"
	"time"
)

// How a limit is counted: each unit is a rate at which the clock runs at each instant, and an
// amount of minutes at that rate.
//   - natural_minute: the clock always runs; n minutes.
//   - working_hour: it runs inside the working hours of working days; 60n minutes.
//   - working_day: it runs all day on working days; 1440n minutes. A step started at 10:00 on a
//     working day is due at 10:00 n working days on; one started on a holiday is due at the end of
//     its n-th working day.
//   - natural_day: it always runs; 1440n minutes (wall-clock 24 hours: the district's zone has no
//     daylight saving time).
//
// A pause stops the clock of every unit. The warning time is when 80% of the limit is used, in
// the limit's own unit.

// maxDays bounds the walk of a deadline: a calendar patched to have no working day for ten years
// gives a deadline ten years on instead of a loop without end.
const maxDays = 3660

// minutes is how many minutes of its unit the limit is.
func (l Limit) minutes() time.Duration {
	switch l.Unit {
	case WorkingHour:
		return time.Duration(l.Amount) * time.Hour
	case WorkingDay, NaturalDay:
		return time.Duration(l.Amount) * 24 * time.Hour
	}
	return time.Duration(l.Amount) * time.Minute
}

// Valid says whether l's unit is one of the four and its amount positive.
func (l Limit) Valid() bool {
	switch l.Unit {
	case NaturalMinute, WorkingHour, WorkingDay, NaturalDay:
		return l.Amount > 0
	}
	return false
}

// interval is [a, b).
type interval struct{ a, b time.Time }

// runs calls f with the stretches of time, in order from from on, during which a clock of unit u
// runs, pauses left out, until f returns false or maxDays have passed.
func (c *Calendar) runs(u Unit, from time.Time, pauses []interval, f func(interval) bool) {
	t := from.In(c.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
	for range maxDays {
		next := day.AddDate(0, 0, 1)
		var parts []interval
		switch u {
		case WorkingHour:
			if c.IsWorkday(day) {
				for _, s := range c.spansOn(day) {
					parts = append(parts, interval{
						time.Date(day.Year(), day.Month(), day.Day(), s.From/60, s.From%60, 0, 0, c.loc),
						time.Date(day.Year(), day.Month(), day.Day(), s.To/60, s.To%60, 0, 0, c.loc)})
				}
			}
		case WorkingDay:
			if c.IsWorkday(day) {
				parts = append(parts, interval{day, next})
			}
		default:
			parts = append(parts, interval{day, next})
		}
		for _, p := range parts {
			if p.a.Before(from) {
				p.a = from
			}
			for _, q := range minus(p, pauses) {
				if q.b.After(q.a) && !f(q) {
					return
				}
			}
		}
		day = next
	}
}

// minus is p without the (sorted, non-overlapping) pauses.
func minus(p interval, pauses []interval) []interval {
	out := []interval{p}
	for _, q := range pauses {
		last := out[len(out)-1]
		if !q.a.Before(last.b) || !q.b.After(last.a) {
			continue
		}
		out = out[:len(out)-1]
		if q.a.After(last.a) {
			out = append(out, interval{last.a, q.a})
		}
		if q.b.Before(last.b) {
			out = append(out, interval{q.b, last.b})
		} else {
			break
		}
	}
	return out
}

// advance is the instant at which a clock of unit u started at from, stopped during pauses, has
// run d.
func (c *Calendar) advance(u Unit, from time.Time, d time.Duration, pauses []interval) time.Time {
	if d <= 0 {
		return from
	}
	at := from
	c.runs(u, from, pauses, func(iv interval) bool {
		n := iv.b.Sub(iv.a)
		if d <= n {
			at = iv.a.Add(d)
			return false
		}
		d -= n
		at = iv.b
		return true
	})
	return at
}

// Add is the instant a limit l started at from ends, with no pause.
func (c *Calendar) Add(from time.Time, l Limit) time.Time {
	return c.advance(l.Unit, from, l.minutes(), nil)
}

// Deadline is the step's due and warning times as the calendar counts them at now. A pause that has
// not ended (a zero To) is counted as ending at now: the step is Paused, and Due and Warn are as if
// its clock restarted now. Extensions in the limit's unit add to the limit (the warning comes at
// 80% of the extended limit); one in another unit moves the due time on by its own amount from
// where it was.
func (c *Calendar) Deadline(sc StepClock, now time.Time) Deadline {
	var d Deadline
	var pauses []interval
	for _, p := range sc.Pauses {
		to := p.To
		if to.IsZero() {
			to = now
			if p.From.Before(now) || p.From.Equal(now) {
				d.Paused = true
			}
		}
		if to.After(p.From) {
			pauses = append(pauses, interval{p.From, to})
		}
	}
	slices.SortFunc(pauses, func(a, b interval) int { return a.a.Compare(b.a) })
	// merge overlapping pauses
	merged := pauses[:0]
	for _, p := range pauses {
		if n := len(merged); n > 0 && !p.a.After(merged[n-1].b) {
			if p.b.After(merged[n-1].b) {
				merged[n-1].b = p.b
			}
			continue
		}
		merged = append(merged, p)
	}
	pauses = merged

	total := sc.Limit.minutes()
	var others []Limit
	for _, e := range sc.Extensions {
		if e.Unit == sc.Limit.Unit {
			total += e.minutes()
		} else {
			others = append(others, e)
		}
	}
	d.Warn = c.advance(sc.Limit.Unit, sc.Start, total*8/10, pauses)
	d.Due = c.advance(sc.Limit.Unit, d.Warn, total-total*8/10, pauses)
	for _, e := range others {
		d.Due = c.advance(e.Unit, d.Due, e.minutes(), pauses)
	}
	return d
}

// WorkingSpans are the stretches of working hours (working days, office hours) in [from, to), in
// order: the statistics count a step's working time as its overlap with them (package stats).
func (c *Calendar) WorkingSpans(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	c.runs(WorkingHour, from, nil, func(iv interval) bool {
		if !iv.a.Before(to) {
			return false
		}
		b := iv.b
		if b.After(to) {
			b = to
		}
		out = append(out, [2]time.Time{iv.a, b})
		return true
	})
	return out
}
