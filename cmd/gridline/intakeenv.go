package main

import (
	"fmt"
	"strconv"
	"time"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/store"
)

// intakeOptions reads GRIDLINE_INTAKE_BATCH, the most new cases one intake transaction holds
// (store/intake.go; 1 writes each case alone).
func intakeOptions(getenv func(string) string, opt *store.Options) error {
	v := getenv("GRIDLINE_INTAKE_BATCH")
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return fmt.Errorf("GRIDLINE_INTAKE_BATCH %q: give the most cases one intake transaction holds, 1..1000 (1 writes each alone)", v)
	}
	if n == 1 {
		n = -1
	}
	opt.IntakeBatch = n
	return nil
}

// tokenCacheTTL reads GRIDLINE_TOKEN_CACHE: how long an API token's principal is remembered
// (default accounts.MaxTokenCacheTTL; 0 reads it for every request). A change to accounts, grants
// or tokens by any process is announced by the database (migration 0015) and empties the cache
// on arrival; while the announcements do not arrive (the listener is reconnecting) nothing is
// remembered.
func tokenCacheTTL(getenv func(string) string) (time.Duration, error) {
	v := getenv("GRIDLINE_TOKEN_CACHE")
	if v == "" {
		return accounts.MaxTokenCacheTTL, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > accounts.MaxTokenCacheTTL {
		return 0, fmt.Errorf("GRIDLINE_TOKEN_CACHE %q: give a duration from 0 (no cache) to %s, such as 2s", v, accounts.MaxTokenCacheTTL)
	}
	return d, nil
}
