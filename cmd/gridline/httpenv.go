package main

import (
	"fmt"
	"time"

	"gridline.dev/gridline/api"
)

// httpOptions reads the settings of the HTTP side from the environment into opt:
// GRIDLINE_BODY_IDLE, how long a request body may send nothing.
func httpOptions(getenv func(string) string, opt *api.Options) error {
	if v := getenv("GRIDLINE_BODY_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Hour {
			return fmt.Errorf("GRIDLINE_BODY_IDLE %q: give a duration from 1s to 1h, such as 30s", v)
		}
		opt.BodyIdle = d
	}
	return nil
}
