package main

import (
	"fmt"
	"strconv"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/patrol"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

// patrolService builds the patrol service from the environment:
// GRIDLINE_POSITION_RETENTION_DAYS (default 90) bounds the positions kept,
// GRIDLINE_ON_DUTY_MINUTES (default 15) is how recent a position puts its worker on duty.
func patrolService(getenv func(string) string, db *store.DB, res *resolve.Resolver, clock gridline.Clock, loc *time.Location) (*patrol.Service, error) {
	var opt patrol.Options
	if v := getenv("GRIDLINE_POSITION_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return nil, fmt.Errorf("GRIDLINE_POSITION_RETENTION_DAYS %q is not a number of days from 1 to 3650", v)
		}
		opt.Retention = n
	}
	if v := getenv("GRIDLINE_ON_DUTY_MINUTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1440 {
			return nil, fmt.Errorf("GRIDLINE_ON_DUTY_MINUTES %q is not a number of minutes from 1 to 1440", v)
		}
		opt.OnDuty = time.Duration(n) * time.Minute
	}
	return patrol.New(db, res, clock, loc, opt), nil
}
