package dispatch

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/resolve"
)

// NewTable indexes a catalogue, a department list and a responsibility list for routing. Rules
// are kept in the order given (the store gives them by ord, then id); inactive ones are dropped.
func NewTable(cats []Category, depts []Department, rules []Rule) *Table {
	t := &Table{Categories: cats, Departments: depts, byCode: map[string]*Category{}, byDept: map[string]*Department{}}
	for i := range t.Categories {
		t.byCode[t.Categories[i].Code] = &t.Categories[i]
	}
	for i := range t.Departments {
		t.byDept[t.Departments[i].Code] = &t.Departments[i]
	}
	for _, r := range rules {
		if r.Active {
			t.Rules = append(t.Rules, r)
		}
	}
	return t
}

// Category is the catalogue entry code, or nil.
func (t *Table) Category(code string) *Category { return t.byCode[code] }

// Department is department code, or nil.
func (t *Table) Department(code string) *Department { return t.byDept[code] }

// FallbackDepartment is the district's fallback party, or nil when none is marked.
func (t *Table) FallbackDepartment() *Department {
	for i := range t.Departments {
		if d := &t.Departments[i]; d.Fallback && d.Active {
			return d
		}
	}
	return nil
}

// matches reports whether rule r applies to a case of category c and urgency u (the place is
// checked by the router).
func (r *Rule) matchesCase(c *Category, u Urgency) bool {
	switch {
	case r.CategoryCode != "" && r.CategoryCode != c.Code:
		return false
	case r.ClassCode != "" && (r.ClassCode != c.ClassCode || r.Standard != c.Standard):
		return false
	case r.Urgency != "" && r.Urgency != u:
		return false
	}
	return true
}

// describe is the rule as a routing step names it.
func (r *Rule) describe() string {
	var what []string
	switch {
	case r.CategoryCode != "":
		what = append(what, "category "+r.CategoryCode)
	case r.ClassCode != "":
		what = append(what, "class "+r.Standard+"/"+r.ClassCode)
	default:
		what = append(what, "any category")
	}
	if r.PlaceLevel != "" {
		what = append(what, "in a "+r.PlaceLevel+" "+prefixWords(r.PlaceCodePrefix))
	}
	if r.PlaceLayer != "" {
		what = append(what, "in the "+r.PlaceLayer+" layer")
	}
	if r.Urgency != "" {
		what = append(what, string(r.Urgency))
	}
	return fmt.Sprintf("rule %d (ord %d: %s -> %s %s)", r.ID, r.Ord, strings.Join(what, ", "), r.PartyKind, r.PartyRef)
}

func prefixWords(p string) string {
	if p == "" {
		return ""
	}
	return "whose code starts " + p
}

// place is where a point fell, as routing reads it.
type place struct {
	ix    *resolve.GridIndex
	day   time.Time
	loc   resolve.Location
	own   int32 // the case's grid: the basic grid, else the deepest comprehensive level; -1 outside
	chain []int32
}

// Route decides where a case of category cat and urgency u at p (WGS84) goes on date day, from
// the index ix and the table t. It never fails for want of a rule or a person: what no rule and
// no post answers goes to the district's fallback department (Fallback), and a point outside
// every grid too (Outside). Party is nil only when no fallback department is marked.
func Route(ix *resolve.GridIndex, t *Table, p orb.Point, day time.Time, cat *Category, u Urgency) Routing {
	return route(ix, t, p, day, cat, u, nil)
}

// route is Route; covering, when not nil, are the grid versions covering p as found elsewhere
// (PostGIS, in the benchmark's comparison) instead of the index's lookup.
func route(ix *resolve.GridIndex, t *Table, p orb.Point, day time.Time, cat *Category, u Urgency, covering []int64) Routing {
	rt := Routing{Point: [2]float64{p[0], p[1]}, Chain: []GridUsed{}, Steps: []string{}, IndexBuilt: ix.Built()}
	pl := place{ix: ix, day: day, own: -1}
	var scratch [16]int32
	if covering == nil {
		ix.Locate(p, day, &pl.loc, scratch[:0])
	} else {
		pos := scratch[:0]
		for _, v := range covering {
			if i := ix.Position(v); i >= 0 {
				pos = append(pos, i)
			}
		}
		ix.Choose(pos, day, &pl.loc)
	}
	for _, i := range pl.loc.Chain {
		if i >= 0 {
			pl.chain = append(pl.chain, i)
			rt.Chain = append(rt.Chain, used(ix, i))
		}
	}
	for _, i := range pl.loc.Thematic {
		rt.Thematic = append(rt.Thematic, used(ix, i))
	}
	rt.Covered = pl.loc.Covered()
	if !rt.Covered {
		rt.Outside = true
		if i, d, ok := ix.Nearest(p, day, resolve.NearestSearchMetres); ok {
			g := ix.Grid(i)
			rt.Nearest = &Neighbour{ID: g.ID, Code: g.Code, Name: g.Name, Metres: roundCM(d)}
			rt.Steps = append(rt.Steps, fmt.Sprintf("the point lies outside every grid (nearest: %s %s, %.0f m)", g.Code, g.Name, d))
		} else {
			rt.Steps = append(rt.Steps, "the point lies outside every grid")
		}
		toFallbackDepartment(&rt, t)
		return rt
	}
	pl.own = pl.loc.Chain[gridline.LevelGrid.Rank()]
	if pl.own < 0 {
		pl.own = pl.loc.Chain[gridline.LevelCommunity.Rank()]
	}
	if pl.own < 0 {
		pl.own = pl.loc.Deepest()
	}
	g := used(ix, pl.own)
	rt.Grid = &g
	rt.Steps = append(rt.Steps, fmt.Sprintf("the point lies in %s %s %s (version %d)", g.Level, g.Code, g.Name, g.Version))
	d := ix.BoundaryDistance(p, pl.own)
	dm := roundCM(d)
	rt.BoundaryMetres = &dm
	if d <= resolve.NearBoundaryMetres {
		if i, dd, ok := ix.Across(p, pl.own, day, resolve.NearBoundaryMetres); ok {
			n := ix.Grid(i)
			rt.NearBoundary = &Neighbour{ID: n.ID, Code: n.Code, Name: n.Name, Metres: roundCM(dd)}
			rt.Steps = append(rt.Steps, fmt.Sprintf("%.1f m from the boundary with %s %s: routed to its own grid, the neighbour is told", d, n.Code, n.Name))
		}
	}
	for k := range t.Rules {
		r := &t.Rules[k]
		rt.Tried++
		if !r.matchesCase(cat, u) {
			continue
		}
		at, ok := pl.placeOf(r)
		if !ok {
			continue
		}
		party, fallback, why, ok := pl.partyOf(r, at, t)
		if !ok {
			rt.Steps = append(rt.Steps, r.describe()+" matched, but "+why+": trying the next rule")
			continue
		}
		rc := *r
		rt.Rule = &rc
		rt.Steps = append(rt.Steps, r.describe()+" matched")
		if why != "" {
			rt.Steps = append(rt.Steps, why)
		}
		rt.Party, rt.Fallback = party, fallback
		return rt
	}
	// Territorial fallback (属地兜底): the grid's own primary post, up the chain.
	rt.Steps = append(rt.Steps, fmt.Sprintf("no rule of %d matched: territorial fallback to the grid's own post", len(t.Rules)))
	if party, why, ok := pl.primaryUp(pl.own); ok {
		if why != "" {
			rt.Steps = append(rt.Steps, why)
		}
		rt.Party, rt.Fallback = party, true
		return rt
	}
	rt.Steps = append(rt.Steps, "no post of the grid's chain is held")
	toFallbackDepartment(&rt, t)
	return rt
}

func toFallbackDepartment(rt *Routing, t *Table) {
	rt.Fallback = true
	if d := t.FallbackDepartment(); d != nil {
		rt.Party = Party{Kind: PartyDepartment, Ref: d.Code, Name: d.Name}
		rt.Steps = append(rt.Steps, fmt.Sprintf("routed to the district's fallback department %s %s", d.Code, d.Name))
		return
	}
	rt.Steps = append(rt.Steps, "no fallback department is marked in the department list: the case waits for a dispatcher")
}

func used(ix *resolve.GridIndex, i int32) GridUsed {
	g := ix.Grid(i)
	return GridUsed{ID: g.ID, VersionID: g.VersionID, Version: g.Version, Code: g.Code, Name: g.Name, Level: string(g.Level), Layer: string(g.Layer)}
}

func roundCM(m float64) float64 { return math.Round(m*100) / 100 }

// placeOf is the grid position rule r's place names for this point (the chain's grid at its
// level, or the thematic grid of its layer; the case's own grid when the rule names no place),
// and whether the point is in that place.
func (pl *place) placeOf(r *Rule) (int32, bool) {
	at := pl.own
	if r.PlaceLayer != "" {
		at = -1
		for _, i := range pl.loc.Thematic {
			if g := pl.ix.Grid(i); string(g.Layer) == r.PlaceLayer && (r.PlaceLevel == "" || string(g.Level) == r.PlaceLevel) {
				at = i
				break
			}
		}
		if at < 0 {
			return -1, false
		}
	} else if r.PlaceLevel != "" {
		rank := gridline.Level(r.PlaceLevel).Rank()
		if rank < 0 || pl.loc.Chain[rank] < 0 {
			return -1, false
		}
		at = pl.loc.Chain[rank]
	}
	if r.PlaceCodePrefix != "" && !strings.HasPrefix(pl.ix.Grid(at).Code, r.PlaceCodePrefix) {
		return -1, false
	}
	return at, true
}

// partyOf is rule r's party for a point whose rule place is grid position at: why says what
// fallback was taken (or, when not ok, why the rule cannot answer).
func (pl *place) partyOf(r *Rule, at int32, t *Table) (p Party, fallback bool, why string, ok bool) {
	switch r.PartyKind {
	case PartyDepartment:
		d := t.Department(r.PartyRef)
		if d == nil || !d.Active {
			return p, false, fmt.Sprintf("its department %s is not in the department list or not active", r.PartyRef), false
		}
		return Party{Kind: PartyDepartment, Ref: d.Code, Name: d.Name}, false, "", true
	case PartyWorker:
		// The worker of a thematic layer's grid (a police grid's officer) or of the case's grid.
		if r.PartyRef != "" && r.PartyRef != string(pl.ix.Grid(at).Layer) {
			at = -1
			for _, i := range pl.loc.Thematic {
				if string(pl.ix.Grid(i).Layer) == r.PartyRef {
					at = i
					break
				}
			}
			if at < 0 {
				return p, false, "no grid of the " + r.PartyRef + " layer covers the point", false
			}
		}
		p, why, ok := pl.primaryUp(at)
		if !ok {
			return p, false, "no post of the grid's chain is held", false
		}
		return p, why != "", why, true
	case PartyPost:
		level, post, _ := strings.Cut(r.PartyRef, ":")
		rank := gridline.Level(level).Rank()
		if rank < 0 || !gridline.Post(post).Valid() {
			return p, false, fmt.Sprintf("its post %q is not LEVEL:POST", r.PartyRef), false
		}
		i := pl.loc.Chain[rank]
		if i < 0 {
			return p, false, "the point's chain has no " + level, false
		}
		if p, ok := pl.holder(i, gridline.Post(post)); ok {
			p.Kind = PartyPost
			return p, false, "", true
		}
		g := pl.ix.Grid(i)
		up, why, ok := pl.primaryUpFrom(g.ParentID)
		if !ok {
			return p, false, fmt.Sprintf("the post %s of %s is vacant and no post above it is held", post, g.Code), false
		}
		return up, true, fmt.Sprintf("the post %s of %s is vacant: territorial fallback, %s", post, g.Code, why), true
	}
	return p, false, "its party kind " + string(r.PartyKind) + " is unknown", false
}

// holder is the first person holding post on grid position i on the day.
func (pl *place) holder(i int32, post gridline.Post) (Party, bool) {
	g := pl.ix.Grid(i)
	for _, s := range pl.ix.StaffOf(g.ID) {
		if s.Post == post && s.ValidOn(pl.day) {
			return Party{Kind: PartyWorker, Ref: strconv.FormatInt(s.PersonID, 10), Name: s.Name, Post: string(s.Post), Grid: g.ID, GridCode: g.Code}, true
		}
	}
	return Party{}, false
}

// primaryUp is the holder of grid position i's primary post, or of the first held primary post
// of its ancestors (why names that fallback).
func (pl *place) primaryUp(i int32) (Party, string, bool) {
	g := pl.ix.Grid(i)
	if p, ok := pl.holder(i, gridline.PrimaryPost(g.Level, g.Layer)); ok {
		return p, "", true
	}
	p, why, ok := pl.primaryUpFrom(g.ParentID)
	if !ok {
		return p, "", false
	}
	return p, fmt.Sprintf("the post %s of %s is vacant: %s", gridline.PrimaryPost(g.Level, g.Layer), g.Code, why), true
}

// primaryUpFrom walks up from grid identity id to the first grid whose primary post is held.
func (pl *place) primaryUpFrom(id int64) (Party, string, bool) {
	for n := 0; id != 0 && n < 8; n++ {
		i := pl.versionOn(id)
		if i < 0 {
			break
		}
		g := pl.ix.Grid(i)
		if p, ok := pl.holder(i, gridline.PrimaryPost(g.Level, g.Layer)); ok {
			p.Kind = PartyPost
			return p, fmt.Sprintf("taken by the %s of %s %s", p.Post, g.Level, g.Code), true
		}
		id = g.ParentID
	}
	return Party{}, "", false
}

// versionOn is the chain's position of grid identity id (the chain holds the versions valid on
// the day), or -1.
func (pl *place) versionOn(id int64) int32 {
	for _, i := range pl.chain {
		if pl.ix.Grid(i).ID == id {
			return i
		}
	}
	for _, i := range pl.loc.Thematic {
		if pl.ix.Grid(i).ID == id {
			return i
		}
	}
	return -1
}
