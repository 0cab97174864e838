package demo

import (
	"bytes"
	_ "embed"
	"io"
)

// The demo district's time limits of the case loop (data/time_limits.csv; data/PROVENANCE.md says
// where its figures come from).
//
//go:embed data/time_limits.csv
var timeLimitsCSV []byte

// TimeLimits is the demo set of time limits, a CSV file worktime.ParseLimitsCSV reads.
func TimeLimits() io.Reader { return bytes.NewReader(timeLimitsCSV) }
