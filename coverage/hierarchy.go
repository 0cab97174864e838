package coverage

import (
	"fmt"
	"strings"

	"gridline.dev/gridline"
)

// pointFinding is a finding about one grid, located at its box's centre.
func pointFinding(s *scope, i int32, rule, severity, msg string) Finding {
	g := s.grid(i)
	f := Finding{Rule: rule, Severity: severity, Level: g.Level, Layer: g.Layer, Codes: []string{g.Code}, Message: msg}
	if p := s.parent(i); p >= 0 {
		f.ParentCode = s.grid(p).Code
	}
	if len(g.Geometry) > 0 {
		f.Bound = g.Geometry.Bound()
		f.Geometry = f.Bound.Center()
	}
	return f
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// hierarchy runs the rules on codes, names and four bounds.
//
//   - code_prefix: a grid's code extends its parent's (every layer: a police grid 410103JW001
//     under the district 410103 does).
//   - code_format: in the comprehensive and special layers, a code of the level's digits
//     (opt.CodeDigits; special grids as basic grids). Thematic layers number their own way.
//   - duplicate_name: two siblings of one layer with one name.
//   - four_bounds: a comprehensive grid below the district without all four of its bounds.
func hierarchy(s *scope, opt Options, c *collector, want func(...string) bool) {
	names := map[string]int32{}
	for _, i := range s.members {
		g := s.grid(i)
		p := s.parent(i)
		if want(RuleCodePrefix) && p >= 0 {
			if pc := s.grid(p).Code; !strings.HasPrefix(g.Code, pc) || g.Code == pc {
				c.add(pointFinding(s, i, RuleCodePrefix, SeverityError,
					fmt.Sprintf("code %s does not extend its parent's code %s", g.Code, pc)))
			}
		}
		if want(RuleCodeFormat) && !g.Layer.Thematic() {
			lv := g.Level
			if g.Layer == gridline.LayerSpecial {
				lv = gridline.LevelGrid
			}
			if n, ok := opt.CodeDigits[lv]; ok && (len(g.Code) != n || !allDigits(g.Code)) {
				c.add(pointFinding(s, i, RuleCodeFormat, SeverityWarning,
					fmt.Sprintf("code %s of a %s is not %d digits", g.Code, g.Level, n)))
			}
		}
		if want(RuleFourBounds) && g.Layer == gridline.LayerComprehensive && g.Level != gridline.LevelDistrict {
			var missing []string
			b := g.Bounds
			for k, v := range [4]string{b.East, b.South, b.West, b.North} {
				if strings.TrimSpace(v) == "" {
					missing = append(missing, [4]string{"east", "south", "west", "north"}[k])
				}
			}
			if len(missing) > 0 {
				f := pointFinding(s, i, RuleFourBounds, SeverityWarning,
					fmt.Sprintf("grid %s has no %s bound (四至)", g.Code, strings.Join(missing, ", ")))
				f.Details = map[string]any{"missing": missing}
				c.add(f)
			}
		}
	}
	if !want(RuleDuplicateName) {
		return
	}
	for _, p := range s.members {
		clear(names)
		for _, ch := range s.children[p] {
			g := s.grid(ch)
			key := string(g.Layer) + "\x00" + g.Name
			if first, ok := names[key]; ok {
				f := pointFinding(s, ch, RuleDuplicateName, SeverityWarning,
					fmt.Sprintf("%s and %s under %s are both named %s", s.grid(first).Code, g.Code, s.grid(p).Code, g.Name))
				f.Codes = []string{s.grid(first).Code, g.Code}
				c.add(f)
				continue
			}
			names[key] = ch
		}
	}
}
