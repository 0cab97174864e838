package drafts

import (
	"context"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"gridline.dev/gridline"
)

// Side is a grid before or after a draft, as the change table shows it.
type Side struct {
	AreaM2     float64             `json:"area_m2"`
	Households int                 `json:"households"`
	Population int                 `json:"population"`
	Code       string              `json:"code"`
	Name       string              `json:"name"`
	ParentID   int64               `json:"parent_id,omitempty"`
	FourBounds gridline.FourBounds `json:"four_bounds"`
	Staff      []gridline.Staff    `json:"staff"`
}

// Change is one grid the draft changes.
type Change struct {
	ID     int64  `json:"id"` // negative: a grid the draft makes
	Code   string `json:"code"`
	Status string `json:"status"` // new, changed, retired, moved
	Before *Side  `json:"before"`
	After  *Side  `json:"after"`
	From   []From `json:"from,omitempty"`
}

// Changes lists what the draft changes, grid by grid, with areas and post holders before and
// after.
func (s *Service) Changes(ctx context.Context, d *Draft) ([]Change, error) {
	w := d.Work
	out := []Change{}
	if w == nil || len(w.Grids) == 0 {
		return out, nil
	}
	var ids []int64
	for _, g := range w.Grids {
		if g.ID > 0 {
			ids = append(ids, g.ID)
		}
	}
	base, err := s.st.GridsByID(ctx, ids, d.EffectiveDate)
	if err != nil {
		return nil, err
	}
	byID := map[int64]gridline.Grid{}
	for _, g := range base {
		byID[g.ID] = g
	}
	staffIDs := append([]int64(nil), ids...)
	for _, g := range w.Grids {
		staffIDs = append(staffIDs, g.StaffFrom...)
	}
	staff, err := s.st.StaffOf(ctx, staffIDs, d.EffectiveDate)
	if err != nil {
		return nil, err
	}
	var geoms []orb.MultiPolygon
	for _, g := range w.Grids {
		if b, ok := byID[g.ID]; ok {
			geoms = append(geoms, b.Geometry)
		}
		geoms = append(geoms, g.Geometry)
	}
	areas, err := s.st.Areas(ctx, geoms)
	if err != nil {
		return nil, err
	}
	k := 0
	for _, g := range w.Grids {
		c := Change{ID: g.ID, Code: g.Code, From: g.From}
		if b, ok := byID[g.ID]; ok {
			st := staff[g.ID]
			if st == nil {
				st = []gridline.Staff{}
			}
			c.Before = &Side{AreaM2: round1(areas[k]), Households: b.Households, Population: b.Population, Code: b.Code, Name: b.Name, ParentID: b.ParentID, FourBounds: b.Bounds, Staff: st}
			k++
		}
		after := &Side{AreaM2: round1(areas[k]), Households: g.Households, Population: g.Population, Code: g.Code, Name: g.Name, ParentID: g.ParentID, FourBounds: g.Bounds, Staff: []gridline.Staff{}}
		k++
		if g.ID > 0 {
			after.Staff = append(after.Staff, staff[g.ID]...)
		}
		for _, f := range g.StaffFrom {
			after.Staff = append(after.Staff, staff[f]...)
		}
		switch {
		case g.ID < 0:
			c.Status = "new"
		case g.Retired:
			c.Status = "retired"
			after = nil
		case c.Before != nil && c.Before.ParentID != g.ParentID:
			c.Status = "moved"
		default:
			c.Status = "changed"
		}
		c.After = after
		if g.ID < 0 && g.Retired {
			continue // made and given up in the same draft
		}
		out = append(out, c)
	}
	return out, nil
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

func feature(g *Grid, role, status string) *geojson.Feature {
	f := geojson.NewFeature(g.Geometry)
	f.Properties = geojson.Properties{"id": g.ID, "code": g.Code, "name": g.Name, "level": g.Level, "layer": g.Layer,
		"parent_id": g.ParentID, "households": g.Households, "population": g.Population, "four_bounds": g.Bounds, "status": status}
	if role != "" {
		f.Properties["role"] = role
	}
	return f
}

func (e *edit) status(g *Grid) string {
	if _, ok := e.byID[g.ID]; !ok {
		return "unchanged"
	}
	switch {
	case g.ID < 0:
		return "new"
	case g.Retired:
		return "retired"
	case g.BaseParent != 0 && g.BaseParent != g.ParentID:
		return "moved"
	}
	return "changed"
}

// Neighbourhood is what the map edits: the parent (a code or id), its children as the draft has
// them, and the ring of the parent's neighbours of its level, at full precision.
func (s *Service) Neighbourhood(ctx context.Context, d *Draft, parentRef string) (*geojson.FeatureCollection, error) {
	e := s.newEdit(ctx, d)
	var p *Grid
	if id, err := strconv.ParseInt(parentRef, 10, 64); err == nil && id < 0 {
		// A grid the draft made.
		if p, err = e.get(id); err != nil {
			return nil, err
		}
	} else {
		stored, err := s.st.Grid(ctx, parentRef, d.EffectiveDate)
		if err != nil {
			return nil, err
		}
		if p, err = e.get(stored.ID); err != nil {
			return nil, err
		}
	}
	fc := geojson.NewFeatureCollection()
	fc.Append(feature(p, "parent", e.status(p)))
	kids, err := e.children(p.ID)
	if err != nil {
		return nil, err
	}
	for _, k := range kids {
		fc.Append(feature(k, "child", e.status(k)))
	}
	ring, err := s.st.Ring(ctx, p.ID, d.EffectiveDate)
	if err != nil {
		return nil, err
	}
	near := func(g *Grid) bool {
		return g.ID != p.ID && g.Level == p.Level && g.Layer == p.Layer && g.Geometry.Bound().Intersects(p.Geometry.Bound())
	}
	for _, n := range e.overlay(ring, near) {
		fc.Append(feature(n, "neighbour", e.status(n)))
	}
	return fc, nil
}

// ChangedGrids are the draft's grids after (or, before, as stored) as GeoJSON.
func (s *Service) ChangedGrids(ctx context.Context, d *Draft, before bool) (*geojson.FeatureCollection, error) {
	fc := geojson.NewFeatureCollection()
	if d.Work == nil {
		return fc, nil
	}
	e := s.newEdit(ctx, d)
	if !before {
		for _, g := range d.Work.Grids {
			if g.ID < 0 && g.Retired {
				continue
			}
			fc.Append(feature(g, "", e.status(g)))
		}
		return fc, nil
	}
	var ids []int64
	for _, g := range d.Work.Grids {
		if g.ID > 0 {
			ids = append(ids, g.ID)
		}
	}
	base, err := s.st.GridsByID(ctx, ids, d.EffectiveDate)
	if err != nil {
		return nil, err
	}
	for _, b := range base {
		fc.Append(feature(fromGrid(b), "", e.status(e.byID[b.ID])))
	}
	return fc, nil
}
