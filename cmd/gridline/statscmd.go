package main

import (
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/stats"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/worktime"
)

// statsService computes the figures over the store, with working hours counted on the working
// calendar workTime holds (reloaded when it changes).
func statsService(db *store.DB, workTime *worktime.Service, clock gridline.Clock, loc *time.Location) *stats.Service {
	cal := func() stats.Calendar {
		if workTime == nil {
			return nil
		}
		if c := workTime.Calendar(); c != nil {
			return c
		}
		return nil
	}
	return stats.New(db, cal, clock, loc)
}
