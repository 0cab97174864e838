package coverage

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

// Kinds of change.
const (
	ChangeAdded    = "added"    // a grid valid on to but not on from
	ChangeRetired  = "retired"  // a grid valid on from but not on to
	ChangeReshaped = "reshaped" // a new boundary
	ChangeEdited   = "edited"   // the same boundary, other attributes changed
)

// Change is what happened to one grid between two dates.
type Change struct {
	Change     string         `json:"change"`
	ID         int64          `json:"id"`
	Code       string         `json:"code"`
	Name       string         `json:"name"`
	Level      gridline.Level `json:"level"`
	Layer      gridline.Layer `json:"layer"`
	FromCode   string         `json:"from_code,omitempty"` // when the code changed
	Fields     []string       `json:"fields,omitempty"`    // the attributes that changed
	AreaFromM2 float64        `json:"area_from_m2,omitempty"`
	AreaToM2   float64        `json:"area_to_m2,omitempty"`
	AreaDiffM2 float64        `json:"area_change_m2,omitempty"`
	FromVer    int            `json:"from_version,omitempty"`
	ToVer      int            `json:"to_version,omitempty"`
}

// Changes is the answer of ChangesBetween.
type Changes struct {
	Scope   string         `json:"scope"`
	From    string         `json:"from"`
	To      string         `json:"to"`
	Counts  map[string]int `json:"counts"`
	Changes []Change       `json:"changes"`
}

// ChangesBetween lists what changed in scope (the scope grid's subtree on either date; "" for
// everything) between the versions valid on from and those valid on to: grids added, retired,
// reshaped (with the change of area) and edited. An unknown scope (on both dates) is not_found.
func (a *Auditor) ChangesBetween(ctx context.Context, scopeCode string, from, to time.Time) (*Changes, error) {
	ix := a.index()
	if ix == nil {
		return nil, gridline.Errorf(gridline.EUnavailable, "the grid index is not built yet: try again in a few seconds")
	}
	if to.Before(from) {
		return nil, gridline.Errorf(gridline.EInvalid, "to %s is before from %s", gridline.Date(to), gridline.Date(from)).With("field", "to")
	}
	sf, errF := newScope(ix, scopeCode, from)
	st, errT := newScope(ix, scopeCode, to)
	if errF != nil && errT != nil {
		return nil, errT
	}
	before, after := map[int64]int32{}, map[int64]int32{}
	if errF == nil {
		for _, i := range sf.members {
			before[ix.Grid(i).ID] = i
		}
	}
	if errT == nil {
		for _, i := range st.members {
			after[ix.Grid(i).ID] = i
		}
	}
	out := &Changes{Scope: scopeCode, From: gridline.Date(from), To: gridline.Date(to), Counts: map[string]int{}, Changes: []Change{}}
	var geoms []orb.MultiPolygon
	type slot struct{ change, side int } // side 0: area from, 1: area to
	var slots []slot
	add := func(c Change, fromG, toG *gridline.Grid) {
		k := len(out.Changes)
		out.Changes = append(out.Changes, c)
		if fromG != nil {
			geoms, slots = append(geoms, fromG.Geometry), append(slots, slot{k, 0})
		}
		if toG != nil {
			geoms, slots = append(geoms, toG.Geometry), append(slots, slot{k, 1})
		}
	}
	for id, j := range after {
		g := ix.Grid(j)
		c := Change{ID: id, Code: g.Code, Name: g.Name, Level: g.Level, Layer: g.Layer, ToVer: g.Version}
		i, ok := before[id]
		if !ok {
			c.Change = ChangeAdded
			add(c, nil, g)
			continue
		}
		if i == j {
			continue // the same version on both dates
		}
		f := ix.Grid(i)
		c.FromVer = f.Version
		c.Fields = changedFields(f, g)
		if f.Code != g.Code {
			c.FromCode = f.Code
		}
		switch {
		case !orb.Equal(f.Geometry, g.Geometry):
			c.Change = ChangeReshaped
			add(c, f, g)
		case len(c.Fields) > 0:
			c.Change = ChangeEdited
			out.Changes = append(out.Changes, c)
		}
	}
	for id, i := range before {
		if _, ok := after[id]; !ok {
			f := ix.Grid(i)
			add(Change{Change: ChangeRetired, ID: id, Code: f.Code, Name: f.Name, Level: f.Level, Layer: f.Layer, FromVer: f.Version}, f, nil)
		}
	}
	if len(geoms) > 0 {
		as, err := a.measure.Areas(ctx, geoms)
		if err != nil {
			return nil, err
		}
		for k, s := range slots {
			c := &out.Changes[s.change]
			if s.side == 0 {
				c.AreaFromM2 = round(as[k], 1)
			} else {
				c.AreaToM2 = round(as[k], 1)
			}
		}
		for k := range out.Changes {
			c := &out.Changes[k]
			c.AreaDiffM2 = round(c.AreaToM2-c.AreaFromM2, 1)
		}
	}
	for _, c := range out.Changes {
		out.Counts[c.Change]++
	}
	slices.SortFunc(out.Changes, func(a, b Change) int {
		if d := a.Level.Rank() - b.Level.Rank(); d != 0 {
			return d
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out, nil
}

// changedFields names the attributes (other than geometry and validity) that differ.
func changedFields(a, b *gridline.Grid) []string {
	var out []string
	if a.Code != b.Code {
		out = append(out, "code")
	}
	if a.Name != b.Name {
		out = append(out, "name")
	}
	if a.ParentID != b.ParentID {
		out = append(out, "parent_id")
	}
	if a.Level != b.Level {
		out = append(out, "level")
	}
	if a.Kind != b.Kind {
		out = append(out, "kind")
	}
	if a.Households != b.Households {
		out = append(out, "households")
	}
	if a.Population != b.Population {
		out = append(out, "population")
	}
	if a.Bounds != b.Bounds {
		out = append(out, "four_bounds")
	}
	if !orb.Equal(a.Geometry, b.Geometry) {
		out = append(out, "geometry")
	}
	return out
}
