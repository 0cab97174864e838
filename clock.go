package gridline

import "time"

// Clock tells the time. cmd/gridline makes one and passes it to everything that asks what time or
// what day it is, so that a test can set the time (internal/fakeclock) instead of waiting for it:
// the day an answer is for, and the deadlines and schedules that depend on it. Measuring how long
// something took is not asking the time, and uses package time directly.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real time.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Today is the current date in the deployment's time zone loc (China Standard Time unless
// configured), as midnight UTC, the way every date is held. The day changes at midnight in loc,
// not at midnight UTC: at 07:59 on 2 January in Beijing it is still 1 January in UTC.
func Today(c Clock, loc *time.Location) time.Time {
	now := c.Now().In(loc)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
}
