package coverage

import (
	"context"
	"fmt"
	"time"

	"gridline.dev/gridline"
)

// RuleHouseholdsMismatch: a grid's own households figure differs from what the standard address
// register (标准地址库) records at the addresses whose point it covers (issue #17).
const RuleHouseholdsMismatch = "households_mismatch"

// RegisterHouseholds counts, per grid identity, the households the address register records at
// the points each comprehensive grid valid on at covers. ok is false when the register is empty
// (nothing to compare). *store.DB implements it with PostGIS.
type RegisterHouseholds interface {
	RegisterHouseholds(ctx context.Context, at time.Time) (counts map[int64]int, ok bool, err error)
}

// WithHouseholds makes the auditor compare grids' households with the register's (the rule
// households_mismatch); without it the rule finds nothing.
func (a *Auditor) WithHouseholds(h RegisterHouseholds) *Auditor {
	a.households = h
	return a
}

// householdsMismatch reports every comprehensive grid in scope whose households differ from the
// register's count by more than opt.HouseholdsTolerance (a share of the grid's figure, at least one
// household).
func (a *Auditor) householdsMismatch(ctx context.Context, s *scope, opt Options, c *collector) error {
	if a.households == nil {
		return nil
	}
	counts, ok, err := a.households.RegisterHouseholds(ctx, s.at)
	if err != nil || !ok {
		return err
	}
	for _, i := range s.members {
		g := s.grid(i)
		if g.Layer != gridline.LayerComprehensive {
			continue
		}
		reg := counts[g.ID]
		diff := reg - g.Households
		allowed := max(1, int(opt.HouseholdsTolerance*float64(g.Households)))
		if diff <= allowed && -diff <= allowed {
			continue
		}
		f := pointFinding(s, i, RuleHouseholdsMismatch, SeverityWarning,
			fmt.Sprintf("grid %s records %d households, the address register %d at the addresses inside it (%+d)", g.Code, g.Households, reg, diff))
		f.Details = map[string]any{"grid_households": g.Households, "register_households": reg, "difference": diff}
		c.add(f)
	}
	return nil
}
