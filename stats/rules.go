package stats

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gridline.dev/gridline"
)

// Rule is one row of the points rule table (积分规则): a counted figure (its code, one of
// CountNames) and the points each one earns (negative: costs).
type Rule struct {
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	Points float64 `json:"points"`
}

// DefaultRules are the rules migration 0014 installs.
var DefaultRules = []Rule{
	{"patrol_valid", "有效上报", 1}, {"self_handled", "自处置", 2}, {"closed_on_time", "按期结案", 1},
	{"overdue", "超期", -2}, {"returned", "退回", -1}, {"reworked", "返工", -2}, {"missed", "漏报", -1},
}

// CheckRules validates a rule table: each code a counted figure, at most once, points finite and
// within ±1000, names at most 100 characters. Errors name the row (1-based) as line.
func CheckRules(rules []Rule) error {
	if len(rules) > len(CountNames) {
		return gridline.Errorf(gridline.EInvalid, "%d rules: there are only %d counted figures, one rule each", len(rules), len(CountNames))
	}
	seen := map[string]int{}
	for i, r := range rules {
		line := i + 1
		if !slices.Contains(CountNames, r.Code) {
			return gridline.Errorf(gridline.EInvalid, "rule %d: code %q is not a counted figure; use one of %s", line, gridline.Excerpt(r.Code), strings.Join(CountNames, ", ")).
				With("line", line).With("field", "code")
		}
		if j, ok := seen[r.Code]; ok {
			return gridline.Errorf(gridline.EInvalid, "rule %d: code %s is already given by rule %d; give each figure once", line, r.Code, j).With("line", line).With("field", "code")
		}
		seen[r.Code] = line
		if math.IsNaN(r.Points) || math.IsInf(r.Points, 0) || math.Abs(r.Points) > 1000 {
			return gridline.Errorf(gridline.EInvalid, "rule %d: points must be a number from -1000 to 1000", line).With("line", line).With("field", "points")
		}
		if len([]rune(r.Name)) > 100 {
			return gridline.Errorf(gridline.EInvalid, "rule %d: name is longer than 100 characters", line).With("line", line).With("field", "name")
		}
	}
	return nil
}

var header = regexp.MustCompile(`^\x{feff}?code$`)

// ParseRulesCSV reads a rule table as CSV with the header code,name,points (the order of the
// columns is free; name may be left out). Errors name the CSV line.
func ParseRulesCSV(r io.Reader) ([]Rule, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalid, "the CSV has no header line code,name,points").With("line", 1)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		if header.MatchString(h) {
			h = "code"
		}
		col[h] = i
	}
	if _, ok := col["code"]; !ok {
		return nil, gridline.Errorf(gridline.EInvalid, "the CSV header has no column code (the header is code,name,points)").With("line", 1)
	}
	if _, ok := col["points"]; !ok {
		return nil, gridline.Errorf(gridline.EInvalid, "the CSV header has no column points (the header is code,name,points)").With("line", 1)
	}
	var out []Rule
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, gridline.Errorf(gridline.EInvalid, "line %d of the CSV cannot be read: %v", line, err).With("line", line)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p, err := strconv.ParseFloat(get("points"), 64)
		if err != nil {
			return nil, gridline.Errorf(gridline.EInvalid, "line %d: points %q is not a number", line, gridline.Excerpt(get("points"))).With("line", line).With("field", "points")
		}
		out = append(out, Rule{Code: get("code"), Name: get("name"), Points: p})
		if err := CheckRules(out); err != nil {
			var ge *gridline.Error
			if errors.As(err, &ge) {
				ge.Message = strings.Replace(ge.Message, "rule "+strconv.Itoa(len(out)), "line "+strconv.Itoa(line), 1)
				ge.With("line", line)
			}
			return nil, err
		}
	}
	return out, nil
}
