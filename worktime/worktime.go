// Package worktime counts deadlines in working time: a district's working calendar (working hours
// per day, the official public holidays and make-up working days, patched locally), the time
// limits of each step of the case loop, and the deadline and traffic light of a step whose clock
// may have been paused or extended. It knows nothing of HTTP or SQL: the calendar and the limits
// come from the store through the interfaces declared here.
//
// The types in this file are the contract between worktime and dispatch (the case loop asks for
// a step's deadline with them); change them only together.
package worktime

import "time"

// Unit is how a time limit is counted.
type Unit string

const (
	NaturalMinute Unit = "natural_minute" // wall-clock minutes, nights and holidays included
	WorkingHour   Unit = "working_hour"   // hours inside the working hours of working days
	WorkingDay    Unit = "working_day"    // working days: due at the same time of day, n working days on
	NaturalDay    Unit = "natural_day"    // calendar days
)

// Limit is a time limit: an amount of a unit ("2 working_hour").
type Limit struct {
	Amount int  `json:"amount"`
	Unit   Unit `json:"unit"`
}

// Pause is a span during which a step's clock stood still (postponed, waiting for an approval).
// A zero To means the clock is still stopped.
type Pause struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to,omitzero"`
}

// StepClock is everything a step's deadline is computed from: when the step started, its limit,
// the pauses of its clock, and the extensions granted (each adds its limit to the deadline).
// The deadline is recomputed from these and the calendar whenever one of them changes, never
// kept by a timer alone.
type StepClock struct {
	Start      time.Time `json:"start"`
	Limit      Limit     `json:"limit"`
	Pauses     []Pause   `json:"pauses,omitempty"`
	Extensions []Limit   `json:"extensions,omitempty"`
}

// Deadline is when a step is due and when it turns yellow (80% of its limit used). Paused: the
// clock is stopped now, and Due and Warn are as if it restarted at the moment asked about.
type Deadline struct {
	Due    time.Time `json:"due"`
	Warn   time.Time `json:"warn"`
	Paused bool      `json:"paused,omitempty"`
}

// Light is a step's traffic light: green under 80% of its limit, yellow from 80% to 100%, red
// beyond.
type Light string

const (
	Green  Light = "green"
	Yellow Light = "yellow"
	Red    Light = "red"
)

// LightAt is d's light at now.
func LightAt(d Deadline, now time.Time) Light {
	switch {
	case !now.Before(d.Due):
		return Red
	case !now.Before(d.Warn):
		return Yellow
	}
	return Green
}
