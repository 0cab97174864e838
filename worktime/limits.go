package worktime

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"

	"gridline.dev/gridline"
)

// Rule is one time limit: for a step of the case loop, for the categories it matches, at an
// urgency, the limit of the step. Code is a category's code (the rule is for that category) or a
// class's code prefix ("01" for every 01xx category); empty, it is the default for every category.
// Urgency empty is any urgency. The most specific rule wins: the longest matching code (a
// category over its class, a class over the default), then a rule for the urgency over one for
// any. A rule with a Standard matches only the categories of that catalogue: the legacy code 0101
// and the GB/T 47678.5 code 01001 share the prefix 01 but not their class.
type Rule struct {
	Standard string `json:"standard"` // the catalogue the code is from; empty: any
	Code     string `json:"code"`
	Urgency  string `json:"urgency"`
	Step     string `json:"step"`
	Limit    Limit  `json:"limit"`
}

// Rules are a set of time limits.
type Rules []Rule

// Find is the limit of step for a category of code in the catalogue standard (empty: unknown, any
// rule's standard matches) at urgency: the most specific rule's.
func (rs Rules) Find(code, standard, urgency, step string) (Limit, bool) {
	best, bestScore := -1, -1
	for i, r := range rs {
		if r.Step != step || !strings.HasPrefix(code, r.Code) || r.Urgency != "" && r.Urgency != urgency ||
			r.Standard != "" && standard != "" && r.Standard != standard {
			continue
		}
		score := len(r.Code) * 2
		if r.Urgency != "" {
			score++
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return Limit{}, false
	}
	return rs[best].Limit, true
}

// LimitsHeader is the header of a time-limit CSV file.
var LimitsHeader = []string{"standard", "code", "urgency", "step", "amount", "unit"}

// ParseUnit reads a unit by its name.
func ParseUnit(s string) (Unit, bool) {
	switch u := Unit(strings.TrimSpace(s)); u {
	case NaturalMinute, WorkingHour, WorkingDay, NaturalDay:
		return u, true
	}
	return "", false
}

// ParseLimitsCSV reads a time-limit CSV file (header LimitsHeader; code and urgency may be empty):
// all of it or nothing, each error with its line. Two rules for the same code, urgency and step
// are an error.
func ParseLimitsCSV(r io.Reader) (Rules, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(LimitsHeader)
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, gridline.Errorf(gridline.EInvalid, "time limits: the file is empty; its first line is the header %s", strings.Join(LimitsHeader, ","))
		}
		return nil, gridline.Errorf(gridline.EInvalid, "time limits, line 1: %v", err).With("line", 1)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	for i, h := range head {
		if strings.TrimSpace(h) != LimitsHeader[i] {
			return nil, gridline.Errorf(gridline.EInvalid, "time limits, line 1: column %d is %q, expected %q; the header is %s", i+1, h, LimitsHeader[i], strings.Join(LimitsHeader, ",")).With("line", 1)
		}
	}
	var rs Rules
	seen := map[[3]string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, gridline.Errorf(gridline.EInvalid, "time limits, line %d: %v", line, err).With("line", line)
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		bad := func(field, format string, args ...any) error {
			return gridline.Errorf(gridline.EInvalid, "time limits, line %d: "+format, append([]any{line}, args...)...).With("line", line).With("field", field)
		}
		if rec[3] == "" {
			return nil, bad("step", "the step is empty; name the step of the loop (dispatch, handle, verify ...)")
		}
		n, err := strconv.Atoi(rec[4])
		if err != nil || n <= 0 {
			return nil, bad("amount", "amount %q is not a whole number above 0", rec[4])
		}
		u, ok := ParseUnit(rec[5])
		if !ok {
			return nil, bad("unit", "unit %q is not one of natural_minute, working_hour, working_day, natural_day", rec[5])
		}
		key := [3]string{rec[1], rec[2], rec[3]}
		if prev, dup := seen[key]; dup {
			return nil, bad("code", "a second rule for code %q, urgency %q, step %q (the first is on line %d); keep one", rec[1], rec[2], rec[3], prev)
		}
		seen[key] = line
		rs = append(rs, Rule{Standard: rec[0], Code: rec[1], Urgency: rec[2], Step: rec[3], Limit: Limit{n, u}})
	}
	return rs, nil
}
