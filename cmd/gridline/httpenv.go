package main

import (
	"fmt"
	"net/url"
	"time"

	"gridline.dev/gridline/api"
)

// httpOptions reads the settings of the HTTP side from the environment into opt:
// GRIDLINE_BODY_IDLE, how long a request body may send nothing, and GRIDLINE_PUBLIC_URL, the base
// of the absolute links in answers.
func httpOptions(getenv func(string) string, opt *api.Options) error {
	if v := getenv("GRIDLINE_BODY_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Hour {
			return fmt.Errorf("GRIDLINE_BODY_IDLE %q: give a duration from 1s to 1h, such as 30s", v)
		}
		opt.BodyIdle = d
	}
	if v := getenv("GRIDLINE_PUBLIC_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("GRIDLINE_PUBLIC_URL %q: give the URL clients reach the server at, such as https://grids.example.gov.cn or https://example.gov.cn/gridline", v)
		}
		opt.PublicURL = v
	}
	return nil
}
