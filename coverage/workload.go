package coverage

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gridline.dev/gridline"
)

// rural says whether a grid lies in a village: its community is named a village (…村, …村委会,
// …村民委员会) or its statistical code ends in a village number (200-399: 001-199 are residents'
// committees). Without a community in its chain a grid is urban.
func (s *scope) rural(i int32) bool {
	for p, steps := i, 0; p >= 0 && steps <= maxFallbackSteps; p, steps = s.parent(p), steps+1 {
		g := s.grid(p)
		if g.Level == gridline.LevelCommunity && g.Layer == gridline.LayerComprehensive {
			return strings.HasSuffix(g.Name, "村") || strings.HasSuffix(g.Name, "村委会") || strings.HasSuffix(g.Name, "村民委员会") ||
				(len(g.Code) == 12 && allDigits(g.Code) && g.Code[9:] >= "200" && g.Code[9:] < "400")
		}
	}
	return false
}

// workload checks every comprehensive grid of a level with a sizing rule: households per
// full-time worker (the grid's households when it has none or one) and residents against the
// rule; and measures the spread of households among siblings (coefficient of variation, Gini):
// per level, and the five most uneven parents, in the summary.
func workload(s *scope, opt Options, c *collector) {
	type group struct {
		parent int32
		level  gridline.Level
		hh     []float64
	}
	groups := map[int32]*group{}
	byLevel := map[gridline.Level][]float64{}
	var order []int32
	for _, i := range s.members {
		g := s.grid(i)
		if g.Layer != gridline.LayerComprehensive {
			continue
		}
		rural := s.rural(i)
		var rule *Sizing
		for k := range opt.Sizing {
			if opt.Sizing[k].Level == g.Level && opt.Sizing[k].Rural == rural {
				rule = &opt.Sizing[k]
				break
			}
		}
		if rule == nil {
			continue
		}
		workers := 0
		for _, st := range s.ix.StaffOf(g.ID) {
			if st.Post == gridline.PostFullTimeWorker && st.ValidOn(s.at) {
				workers++
			}
		}
		per := float64(g.Households) / float64(max(workers, 1))
		p := s.parent(i)
		if groups[p] == nil {
			groups[p] = &group{parent: p, level: g.Level}
			order = append(order, p)
		}
		groups[p].hh = append(groups[p].hh, float64(g.Households))
		byLevel[g.Level] = append(byLevel[g.Level], float64(g.Households))
		var why []string
		if rule.MinHouseholds > 0 && per < float64(rule.MinHouseholds) {
			why = append(why, fmt.Sprintf("%.0f households per full-time worker, under %d", per, rule.MinHouseholds))
		}
		if rule.MaxHouseholds > 0 && per > float64(rule.MaxHouseholds) {
			why = append(why, fmt.Sprintf("%.0f households per full-time worker, over %d", per, rule.MaxHouseholds))
		}
		if rule.MaxPopulation > 0 && g.Population > rule.MaxPopulation {
			why = append(why, fmt.Sprintf("%d residents, over %d", g.Population, rule.MaxPopulation))
		}
		if len(why) == 0 {
			continue
		}
		kind := "urban"
		if rural {
			kind = "rural"
		}
		f := pointFinding(s, i, RuleWorkload, SeverityWarning,
			fmt.Sprintf("%s grid %s: %s", kind, g.Code, strings.Join(why, "; ")))
		f.Details = map[string]any{"households": g.Households, "population": g.Population, "full_time_workers": workers,
			"households_per_worker": round(per, 1), "rural": rural,
			"rule": fmt.Sprintf("%d-%d households, at most %d residents", rule.MinHouseholds, rule.MaxHouseholds, rule.MaxPopulation)}
		c.add(f)
	}
	sum := &c.report.Summary
	levels := make([]gridline.Level, 0, len(byLevel))
	for l := range byLevel {
		levels = append(levels, l)
	}
	slices.SortFunc(levels, func(a, b gridline.Level) int { return a.Rank() - b.Rank() })
	for _, l := range levels {
		sum.Balance = append(sum.Balance, balance("", string(l), byLevel[l]))
	}
	var parents []Balance
	for _, p := range order {
		gr := groups[p]
		if p < 0 || len(gr.hh) < 2 {
			continue
		}
		parents = append(parents, balance(s.grid(p).Code, string(gr.level), gr.hh))
	}
	slices.SortStableFunc(parents, func(a, b Balance) int {
		switch {
		case a.CV > b.CV:
			return -1
		case a.CV < b.CV:
			return 1
		}
		return strings.Compare(a.ParentCode, b.ParentCode)
	})
	sum.Balance = append(sum.Balance, parents[:min(5, len(parents))]...)
}

// balance measures the spread of xs.
func balance(parent, level string, xs []float64) Balance {
	b := Balance{ParentCode: parent, Level: level, Grids: len(xs)}
	if len(xs) == 0 {
		return b
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	b.Mean = round(mean, 1)
	if mean > 0 {
		b.CV = round(math.Sqrt(ss/float64(len(xs)))/mean, 4)
		b.Gini = round(gini(xs), 4)
	}
	return b
}

// gini is the Gini coefficient of non-negative xs: sum over i of (2i - n - 1) x_i over n times
// the sum, with xs sorted ascending and i counted from 1.
func gini(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	var num, den float64
	n := float64(len(s))
	for i, x := range s {
		num += (2*float64(i+1) - n - 1) * x
		den += x
	}
	if den == 0 {
		return 0
	}
	return num / (n * den)
}
