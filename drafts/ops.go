package drafts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"gridline.dev/gridline"
)

// Op is one operation as POST /v1/drafts/{id}/operations takes it (docs/api.md, "Drafts").
type Op struct {
	Op                 string               `json:"op"`
	From               json.RawMessage      `json:"from,omitempty"`
	To                 json.RawMessage      `json:"to,omitempty"` // a position (move_vertex) or a grid id (retire)
	At                 json.RawMessage      `json:"at,omitempty"`
	Grids              json.RawMessage      `json:"grids,omitempty"` // reshape: [{id, geometry}]; merge: [ids]
	Grid               int64                `json:"grid,omitempty"`
	Lines              []json.RawMessage    `json:"lines,omitempty"`
	StaffTo            *int                 `json:"staff_to,omitempty"`
	Households         json.RawMessage      `json:"households,omitempty"` // split: [..]; attributes: a number
	Population         *int                 `json:"population,omitempty"`
	KeepCode           int64                `json:"keep_code,omitempty"`
	Parent             int64                `json:"parent,omitempty"`
	Level              gridline.Level       `json:"level,omitempty"`
	Name               *string              `json:"name,omitempty"`
	Geometry           json.RawMessage      `json:"geometry,omitempty"`
	TakeFromNeighbours bool                 `json:"take_from_neighbours,omitempty"`
	FourBounds         *gridline.FourBounds `json:"four_bounds,omitempty"`
	Recompute          bool                 `json:"recompute_four_bounds,omitempty"`
}

// Ops lists the operations.
var Ops = []string{"move_vertex", "insert_vertex", "remove_vertex", "reshape", "split", "merge", "draw", "retire", "move", "attributes"}

func invalid(field, format string, args ...any) error {
	return gridline.Errorf(gridline.EInvalid, format, args...).With("field", field)
}

// ParseOp reads one operation, refusing unknown fields and operations.
func ParseOp(raw json.RawMessage) (*Op, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var op Op
	if err := dec.Decode(&op); err != nil {
		return nil, gridline.Errorf(gridline.EInvalid, "the operation must be a JSON object with the fields docs/api.md lists for its op: %v", err)
	}
	if !slices.Contains(Ops, op.Op) {
		return nil, invalid("op", "op %q is not one of %s", gridline.Excerpt(op.Op), strings.Join(Ops, ", "))
	}
	return &op, nil
}

func position(field string, raw json.RawMessage) (orb.Point, error) {
	var p []float64
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil || len(p) != 2 || !finiteLonLat(orb.Point{p[0], p[1]}) {
		return orb.Point{}, gridline.Errorf(gridline.EInvalidCoord, "%s must be a position [lon, lat] in WGS84", field).With("field", field)
	}
	return orb.Point{p[0], p[1]}, nil
}

// polygonal reads a GeoJSON Polygon or MultiPolygon with finite WGS84 positions and closed rings.
func polygonal(field string, raw json.RawMessage) (orb.MultiPolygon, error) {
	if len(raw) == 0 {
		return nil, invalid(field, "%s is required: a GeoJSON Polygon or MultiPolygon", field)
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, invalid(field, "%s is not a GeoJSON geometry: %v", field, err)
	}
	mp := toMulti(g.Geometry())
	if len(mp) == 0 {
		return nil, invalid(field, "%s must be a GeoJSON Polygon or MultiPolygon", field)
	}
	for i, p := range mp {
		if len(p) == 0 {
			return nil, invalid(field, "%s: polygon %d has no rings", field, i+1)
		}
		for j, r := range p {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				return nil, invalid(field, "%s: ring %d of polygon %d needs at least 4 positions, the last the same as the first", field, j+1, i+1)
			}
			for _, q := range r {
				if !finiteLonLat(q) {
					return nil, gridline.Errorf(gridline.EInvalidCoord, "%s: position %v is not a WGS84 longitude/latitude", field, q).With("field", field)
				}
			}
		}
	}
	return mp, nil
}

func lineString(field string, raw json.RawMessage) (orb.LineString, error) {
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, invalid(field, "%s is not a GeoJSON LineString: %v", field, err)
	}
	ls, ok := g.Geometry().(orb.LineString)
	if !ok || len(ls) < 2 {
		return nil, invalid(field, "%s must be a GeoJSON LineString of at least two positions", field)
	}
	for _, q := range ls {
		if !finiteLonLat(q) {
			return nil, gridline.Errorf(gridline.EInvalidCoord, "%s: position %v is not a WGS84 longitude/latitude", field, q).With("field", field)
		}
	}
	return ls, nil
}

// edit is one request's view of a draft: its grids over the stored ones.
type edit struct {
	s     *Service
	ctx   context.Context
	d     *Draft
	work  *Work
	byID  map[int64]*Grid
	db    map[int64]*Grid // stored grids read in this request (copies)
	scope map[int64]bool
}

func (s *Service) newEdit(ctx context.Context, d *Draft) *edit {
	w := d.Work
	if w == nil {
		w = &Work{}
	}
	e := &edit{s: s, ctx: ctx, d: d, work: w, db: map[int64]*Grid{}, scope: map[int64]bool{}}
	e.index()
	return e
}

func (e *edit) index() {
	e.byID = map[int64]*Grid{}
	for _, g := range e.work.Grids {
		e.byID[g.ID] = g
	}
}

// get is grid id as the draft has it.
func (e *edit) get(id int64) (*Grid, error) {
	if g, ok := e.byID[id]; ok {
		return g, nil
	}
	if g, ok := e.db[id]; ok {
		return g, nil
	}
	if id <= 0 {
		return nil, gridline.Errorf(gridline.ENotFound, "draft %d has no grid %d", e.d.ID, id).With("grid", id)
	}
	gs, err := e.s.st.GridsByID(e.ctx, []int64{id}, e.d.EffectiveDate)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		return nil, gridline.Errorf(gridline.ENotFound, "grid %d has no version valid on %s, the draft's effective date", id, gridline.Date(e.d.EffectiveDate)).With("grid", id)
	}
	g := fromGrid(gs[0])
	e.db[id] = g
	return g, nil
}

// put makes g one of the draft's grids.
func (e *edit) put(g *Grid) {
	if _, ok := e.byID[g.ID]; ok {
		return
	}
	delete(e.db, g.ID)
	e.byID[g.ID] = g
	e.work.Grids = append(e.work.Grids, g)
	sort.Slice(e.work.Grids, func(i, j int) bool { return e.work.Grids[i].ID < e.work.Grids[j].ID })
}

// overlay puts the draft's grids over stored ones: the draft's version of each, its new grids
// (when keep says so), without retired grids.
func (e *edit) overlay(stored []gridline.Grid, keep func(g *Grid) bool) []*Grid {
	var out []*Grid
	seen := map[int64]bool{}
	for _, sg := range stored {
		seen[sg.ID] = true
		g, ok := e.byID[sg.ID]
		if !ok {
			if c, ok := e.db[sg.ID]; ok {
				g = c
			} else {
				g = fromGrid(sg)
				e.db[sg.ID] = g
			}
		}
		if !g.Retired && keep(g) {
			out = append(out, g)
		}
	}
	for _, g := range e.work.Grids {
		if !seen[g.ID] && !g.Retired && keep(g) {
			out = append(out, g)
		}
	}
	return out
}

// children are parent's children as the draft has them.
func (e *edit) children(parent int64) ([]*Grid, error) {
	var stored []gridline.Grid
	if parent > 0 {
		var err error
		if stored, err = e.s.st.ChildrenOf(e.ctx, []int64{parent}, e.d.EffectiveDate); err != nil {
			return nil, err
		}
	}
	return e.overlay(stored, func(g *Grid) bool { return g.ParentID == parent }), nil
}

// around are the grids of layer whose geometry reaches into b, as the draft has them.
func (e *edit) around(b orb.Bound, layer gridline.Layer) ([]*Grid, error) {
	stored, err := e.s.st.GridsIn(e.ctx, b, e.d.EffectiveDate, layer)
	if err != nil {
		return nil, err
	}
	return e.overlay(stored, func(g *Grid) bool { return g.Layer == layer && g.Geometry.Bound().Intersects(b) }), nil
}

// inScope reports whether grid id lies in the draft's scope (the scope grid or under it).
func (e *edit) inScope(id int64) (bool, error) {
	if id == e.d.ScopeID {
		return true, nil
	}
	if id == 0 {
		return false, nil
	}
	if v, ok := e.scope[id]; ok {
		return v, nil
	}
	g, err := e.get(id)
	if err != nil {
		return false, err
	}
	v, err := e.inScope(g.ParentID)
	e.scope[id] = v
	return v, err
}

// below reports whether id lies strictly under the scope grid: its outline is the draft's to
// move (the scope grid's own outline is shared with grids outside the scope).
func (e *edit) below(id int64) (bool, error) {
	if id == e.d.ScopeID {
		return false, nil
	}
	return e.inScope(id)
}

// editable is grid id as this draft has it, refused when the draft retired it (field names the
// operation's field) or when it lies outside the draft's scope.
func (e *edit) editable(id int64, field string) (*Grid, error) {
	g, err := e.get(id)
	if err != nil {
		return nil, err
	}
	if g.Retired {
		return nil, invalid(field, "grid %s is retired in this draft", g.Code)
	}
	if err := e.requireScope(g); err != nil {
		return nil, err
	}
	return g, nil
}

func (e *edit) requireScope(gs ...*Grid) error {
	for _, g := range gs {
		ok, err := e.inScope(g.ID)
		if err != nil {
			return err
		}
		if !ok {
			return gridline.Errorf(gridline.EForbidden, "grid %s (id %d) lies outside the draft's scope %s: a draft edits only the grids under its scope; start a draft on a wider scope to change it", g.Code, g.ID, e.d.ScopeCode).With("grid", g.Code)
		}
	}
	return nil
}

func (e *edit) mustBeValid(g *Grid, what string) error {
	reason, err := e.s.st.Invalid(e.ctx, g.Geometry)
	if err != nil {
		return err
	}
	if reason != "" {
		return gridline.Errorf(gridline.EInvalid, "%s would make grid %s invalid: %s", what, g.Code, reason).With("field", "geometry").With("grid", g.Code)
	}
	return nil
}

// nextCode is a free code for a new child of parent: the parent's code and the next sequence of
// three digits after every one ever used (the 15-digit rule; 900 and above are special grids').
func (e *edit) nextCode(parent *Grid, taken map[string]bool) (string, error) {
	codes, err := e.s.st.ChildCodes(e.ctx, parent.Code, 3)
	if err != nil {
		return "", err
	}
	for _, g := range e.work.Grids {
		if strings.HasPrefix(g.Code, parent.Code) && len(g.Code) == len(parent.Code)+3 {
			codes = append(codes, g.Code)
		}
	}
	for c := range taken {
		codes = append(codes, c)
	}
	max := 0
	for _, c := range codes {
		if n, err := strconv.Atoi(c[len(parent.Code):]); err == nil && n < 900 && n > max {
			max = n
		}
	}
	if max >= 899 {
		return "", gridline.Errorf(gridline.ERule, "grid %s has no free child code left (001 to 899 are used)", parent.Code)
	}
	code := fmt.Sprintf("%s%03d", parent.Code, max+1)
	if taken != nil {
		taken[code] = true
	}
	return code, nil
}

// reparent moves the children of from under to, recoding them (and theirs) to extend to's code.
func (e *edit) reparent(kids []*Grid, to *Grid) error {
	taken := map[string]bool{}
	for _, k := range kids {
		k.ParentID = to.ID
		if err := e.recode(k, to, taken); err != nil {
			return err
		}
		e.put(k)
	}
	return nil
}

// recode gives g a code under parent when its code does not extend parent's, and recodes its
// children in turn.
func (e *edit) recode(g, parent *Grid, taken map[string]bool) error {
	if strings.HasPrefix(g.Code, parent.Code) && len(g.Code) == len(parent.Code)+3 {
		return nil
	}
	return e.newCode(g, parent, taken)
}

// newCode gives g the next free code under parent (none of taken, which it adds the code to)
// and recodes g's children to extend it.
func (e *edit) newCode(g, parent *Grid, taken map[string]bool) error {
	code, err := e.nextCode(parent, taken)
	if err != nil {
		return err
	}
	g.Code = code
	e.put(g)
	kids, err := e.children(g.ID)
	if err != nil {
		return err
	}
	sub := map[string]bool{}
	for _, k := range kids {
		if err := e.recode(k, g, sub); err != nil {
			return err
		}
	}
	return nil
}

func (e *edit) newTemp() int64 {
	e.work.NextTemp--
	return e.work.NextTemp
}

// apply runs one operation on the draft's grids.
func (e *edit) apply(op *Op) error {
	switch op.Op {
	case "move_vertex":
		return e.moveVertex(op)
	case "insert_vertex", "remove_vertex":
		return e.vertex(op)
	case "reshape":
		return e.reshape(op)
	case "split":
		return e.split(op)
	case "merge":
		return e.merge(op)
	case "draw":
		return e.draw(op)
	case "retire":
		return e.retire(op)
	case "move":
		return e.move(op)
	case "attributes":
		return e.attributes(op)
	}
	return invalid("op", "op %q is not one of %s", op.Op, strings.Join(Ops, ", "))
}

const vertexEps = 1e-9 // degrees (about 0.1 mm): how far off a segment an inserted vertex may be

func pad(p orb.Point) orb.Bound { return orb.Bound{Min: p, Max: p}.Pad(1e-7) }

// withVertex are the comprehensive grids that have vertex p.
func (e *edit) withVertex(p orb.Point) ([]*Grid, error) {
	gs, err := e.around(pad(p), gridline.LayerComprehensive)
	if err != nil {
		return nil, err
	}
	var out []*Grid
	for _, g := range gs {
		if hasVertex(g.Geometry, p) {
			out = append(out, g)
		}
	}
	return out, nil
}

func (e *edit) moveVertex(op *Op) error {
	from, err := position("from", op.From)
	if err != nil {
		return err
	}
	to, err := position("to", op.To)
	if err != nil {
		return err
	}
	gs, err := e.withVertex(from)
	if err != nil {
		return err
	}
	if len(gs) == 0 {
		return gridline.Errorf(gridline.EInvalid, "no grid has a vertex at [%v, %v]: send a vertex's exact coordinates, as GET /v1/drafts/{id}/neighbourhood gives them", from[0], from[1]).With("field", "from")
	}
	if err := e.requireScope(gs...); err != nil {
		return err
	}
	for _, g := range gs {
		g.Geometry = replaceVertex(g.Geometry, from, to)
		if err := e.mustBeValid(g, "moving the vertex"); err != nil {
			return err
		}
		e.put(g)
	}
	return nil
}

func (e *edit) vertex(op *Op) error {
	at, err := position("at", op.At)
	if err != nil {
		return err
	}
	gs, err := e.around(pad(at), gridline.LayerComprehensive)
	if err != nil {
		return err
	}
	var hit []*Grid
	var geoms []orb.MultiPolygon
	for _, g := range gs {
		var mp orb.MultiPolygon
		ok := false
		if op.Op == "insert_vertex" {
			mp, ok = insertVertex(g.Geometry, at, vertexEps)
		} else if hasVertex(g.Geometry, at) {
			if mp, ok = removeVertex(g.Geometry, at); !ok {
				return gridline.Errorf(gridline.ERule, "removing [%v, %v] would leave grid %s a ring of fewer than three corners", at[0], at[1], g.Code).With("grid", g.Code)
			}
		}
		if ok {
			hit, geoms = append(hit, g), append(geoms, mp)
		}
	}
	if len(hit) == 0 {
		what := "on no grid's boundary segment"
		if op.Op == "remove_vertex" {
			what = "no grid's vertex"
		}
		return gridline.Errorf(gridline.EInvalid, "[%v, %v] is %s: send exact coordinates from GET /v1/drafts/{id}/neighbourhood", at[0], at[1], what).With("field", "at")
	}
	if err := e.requireScope(hit...); err != nil {
		return err
	}
	for i, g := range hit {
		g.Geometry = geoms[i]
		if err := e.mustBeValid(g, strings.ReplaceAll(op.Op, "_", " ")); err != nil {
			return err
		}
		e.put(g)
	}
	return nil
}

func (e *edit) reshape(op *Op) error {
	var items []struct {
		ID       int64           `json:"id"`
		Geometry json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(op.Grids, &items); err != nil || len(items) == 0 {
		return invalid("grids", "grids must be a list of {\"id\", \"geometry\"}: the new geometries of the grids the reshape changes")
	}
	var gs []*Grid
	var before, after []orb.MultiPolygon
	seen := map[int64]bool{}
	for i, it := range items {
		if seen[it.ID] {
			return invalid("grids", "grid %d appears twice in the reshape", it.ID)
		}
		seen[it.ID] = true
		g, err := e.get(it.ID)
		if err != nil {
			return err
		}
		if g.Retired {
			return invalid("grids", "grid %s is retired in this draft", g.Code)
		}
		mp, err := polygonal(fmt.Sprintf("grids[%d].geometry", i), it.Geometry)
		if err != nil {
			return err
		}
		gs, before, after = append(gs, g), append(before, g.Geometry), append(after, mp)
	}
	if err := e.requireScope(gs...); err != nil {
		return err
	}
	for i, g := range gs {
		reason, err := e.s.st.Invalid(e.ctx, after[i])
		if err != nil {
			return err
		}
		if reason != "" {
			return gridline.Errorf(gridline.EInvalid, "the new geometry of grid %s is not valid: %s (a drawing must not cross itself)", g.Code, reason).With("field", fmt.Sprintf("grids[%d].geometry", i)).With("grid", g.Code)
		}
	}
	free := true
	for _, g := range gs {
		ok, err := e.below(g.ParentID)
		if err != nil {
			return err
		}
		free = free && ok
	}
	if !free {
		ub, err := e.s.st.Union(e.ctx, before)
		if err != nil {
			return err
		}
		ua, err := e.s.st.Union(e.ctx, after)
		if err != nil {
			return err
		}
		d, err := e.s.st.SymDifferenceArea(e.ctx, ub, ua)
		if err != nil {
			return err
		}
		if d > e.s.opt.ToleranceM2 {
			return gridline.Errorf(gridline.ERule, "the reshape changes the outline of the grids it touches by %.1f m² (tolerance %.0f m²): it would open a gap or an overlap with grids it does not send, or move their parent's outline, which lies outside the draft's scope; send every grid whose boundary moves", d, e.s.opt.ToleranceM2).With("field", "grids")
		}
	}
	for i, g := range gs {
		g.Geometry = after[i]
		g.From = appendFrom(g.From, From{GridID: g.ID, Op: "reshape"})
		e.put(g)
	}
	return nil
}

func appendFrom(fs []From, f From) []From {
	if slices.Contains(fs, f) {
		return fs
	}
	return append(fs, f)
}

func (e *edit) split(op *Op) error {
	g, err := e.editable(op.Grid, "grid")
	if err != nil {
		return err
	}
	if len(op.Lines) == 0 {
		return invalid("lines", "lines is required: one or more GeoJSON LineStrings that cross grid %s from side to side", g.Code)
	}
	var lines []orb.LineString
	for i, raw := range op.Lines {
		ls, err := lineString(fmt.Sprintf("lines[%d]", i), raw)
		if err != nil {
			return err
		}
		lines = append(lines, ls)
	}
	pieces, err := e.s.st.Split(e.ctx, g.Geometry, lines)
	if err != nil {
		return err
	}
	if len(pieces) < 2 {
		return gridline.Errorf(gridline.EInvalid, "the line does not cut grid %s in two: draw it across the grid, from outside one side to outside another", g.Code).With("field", "lines").With("grid", g.Code)
	}
	// Pieces in a fixed order: west to east, then south to north, by an interior point.
	ips := make([]orb.Point, len(pieces))
	for i, p := range pieces {
		ips[i] = interiorPoint(p)
	}
	idx := make([]int, len(pieces))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		pa, pb := ips[idx[a]], ips[idx[b]]
		if pa[0] != pb[0] {
			return pa[0] < pb[0]
		}
		return pa[1] < pb[1]
	})
	sorted := make([]orb.MultiPolygon, len(pieces))
	for i, k := range idx {
		sorted[i] = pieces[k]
	}
	pieces = sorted
	widths, err := e.s.st.Widths(e.ctx, pieces)
	if err != nil {
		return err
	}
	for i, w := range widths {
		if w < e.s.opt.SliverWidthM {
			return gridline.Errorf(gridline.EInvalid, "the split leaves piece %d of grid %s only %.2f m wide, under the sliver width of %.0f m: move the line", i, g.Code, w, e.s.opt.SliverWidthM).With("field", "lines").With("grid", g.Code)
		}
	}
	areas, err := e.s.st.Areas(e.ctx, pieces)
	if err != nil {
		return err
	}
	keep := 0
	for i := range areas {
		if areas[i] > areas[keep] {
			keep = i
		}
	}
	if op.StaffTo != nil {
		if *op.StaffTo < 0 || *op.StaffTo >= len(pieces) {
			return invalid("staff_to", "staff_to %d is not a piece: the split makes %d pieces, numbered from 0 west to east", *op.StaffTo, len(pieces))
		}
		keep = *op.StaffTo
	}
	var total float64
	for _, a := range areas {
		total += a
	}
	hh := share(g.Households, areas, total)
	pop := share(g.Population, areas, total)
	if len(op.Households) > 0 {
		var given []int
		if err := json.Unmarshal(op.Households, &given); err != nil || len(given) != len(pieces) {
			return invalid("households", "households must list one number per piece (%d pieces)", len(pieces))
		}
		for _, h := range given {
			if h < 0 {
				return invalid("households", "households cannot be negative")
			}
		}
		hh = given
	}
	parent, err := e.get(g.ParentID)
	if err != nil {
		return err
	}
	old := vertices(g.Geometry)
	kids, err := e.children(g.ID)
	if err != nil {
		return err
	}
	out := make([]*Grid, len(pieces))
	taken := map[string]bool{}
	n := 1
	for i, p := range pieces {
		if i == keep {
			g.Geometry, g.Households, g.Population = p, hh[i], pop[i]
			g.From = appendFrom(g.From, From{GridID: g.ID, Op: "split"})
			out[i] = g
			e.put(g)
			continue
		}
		n++
		code, err := e.nextCode(parent, taken)
		if err != nil {
			return err
		}
		ng := &Grid{ID: e.newTemp(), Code: code, Name: fmt.Sprintf("%s（%d）", g.Name, n), Level: g.Level, Layer: g.Layer, Kind: g.Kind,
			ParentID: g.ParentID, Households: hh[i], Population: pop[i], Geometry: p, Recompute: true,
			From: []From{{GridID: g.ID, Op: "split"}}}
		out[i] = ng
		e.put(ng)
	}
	// The vertices the cut made on the old boundary go into the neighbours that share those
	// segments (in the scope, at the grid's level or below), so shared borders stay bit-identical.
	var fresh []orb.Point
	for _, p := range pieces {
		for v := range vertices(p) {
			if !old[v] {
				fresh = append(fresh, v)
			}
		}
	}
	if len(fresh) > 0 {
		near, err := e.around(g.Geometry.Bound().Union(boundOf(pieces)).Pad(1e-7), g.Layer)
		if err != nil {
			return err
		}
		for _, nb := range near {
			if slices.Contains(out, nb) || nb.Level.Rank() < g.Level.Rank() {
				continue
			}
			if ok, err := e.inScope(nb.ID); err != nil || !ok {
				continue
			}
			mp, changed := nb.Geometry, false
			for _, v := range fresh {
				var c bool
				if mp, c = insertVertex(mp, v, vertexEps); c {
					changed = true
				}
			}
			if changed {
				nb.Geometry = mp
				e.put(nb)
			}
		}
	}
	// Children go to the piece they lie in.
	for _, k := range kids {
		ip := interiorPoint(k.Geometry)
		for _, p := range out {
			if p != g && mpContains(p.Geometry, ip) {
				if err := e.reparent([]*Grid{k}, p); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

func boundOf(mps []orb.MultiPolygon) orb.Bound {
	b := mps[0].Bound()
	for _, m := range mps[1:] {
		b = b.Union(m.Bound())
	}
	return b
}

// share splits total in proportion to weights, in whole numbers that add up to total.
func share(total int, weights []float64, sum float64) []int {
	out := make([]int, len(weights))
	if sum <= 0 {
		out[0] = total
		return out
	}
	left := total
	for i, w := range weights {
		if i == len(weights)-1 {
			out[i] = left
			break
		}
		out[i] = int(math.Round(float64(total) * w / sum))
		if out[i] > left {
			out[i] = left
		}
		left -= out[i]
	}
	return out
}

// absorb puts the grids gs into into: their area, households, population, staff and children.
func (e *edit) absorb(into *Grid, gs []*Grid, how string) error {
	geoms := []orb.MultiPolygon{into.Geometry}
	for _, g := range gs {
		geoms = append(geoms, g.Geometry)
	}
	u, err := e.s.st.Union(e.ctx, geoms)
	if err != nil {
		return err
	}
	if len(u) != 1 {
		codes := []string{into.Code}
		for _, g := range gs {
			codes = append(codes, g.Code)
		}
		return gridline.Errorf(gridline.ERule, "grids %s are not adjacent: their union is %d separate parts; %s only grids that share a border", strings.Join(codes, ", "), len(u), how).With("grids", codes)
	}
	into.Geometry = u
	for _, g := range gs {
		into.Households += g.Households
		into.Population += g.Population
		into.From = appendFrom(into.From, From{GridID: g.ID, Op: how})
		if g.ID > 0 {
			into.StaffFrom = append(into.StaffFrom, g.ID)
		}
		into.StaffFrom = append(into.StaffFrom, g.StaffFrom...)
		kids, err := e.children(g.ID)
		if err != nil {
			return err
		}
		g.Retired, g.Into = true, into.ID
		e.put(g)
		if err := e.reparent(kids, into); err != nil {
			return err
		}
	}
	into.From = appendFrom(into.From, From{GridID: into.ID, Op: how})
	e.put(into)
	return nil
}

func (e *edit) merge(op *Op) error {
	var ids []int64
	if err := json.Unmarshal(op.Grids, &ids); err != nil || len(ids) < 2 {
		return invalid("grids", "grids must list the ids of two or more grids to merge")
	}
	keep := op.KeepCode
	if keep == 0 {
		keep = ids[0]
	}
	if !slices.Contains(ids, keep) {
		return invalid("keep_code", "keep_code %d is not one of the grids merged", keep)
	}
	var into *Grid
	var rest []*Grid
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			return invalid("grids", "grid %d appears twice", id)
		}
		seen[id] = true
		g, err := e.editable(id, "grids")
		if err != nil {
			return err
		}
		if id == keep {
			into = g
		} else {
			rest = append(rest, g)
		}
	}
	for _, g := range rest {
		if g.ParentID != into.ParentID || g.Level != into.Level || g.Layer != into.Layer {
			return gridline.Errorf(gridline.ERule, "grids %s and %s do not have the same parent and level: merge only siblings (move one first)", into.Code, g.Code).With("field", "grids")
		}
	}
	return e.absorb(into, rest, "merge")
}

func (e *edit) retire(op *Op) error {
	g, err := e.get(op.Grid)
	if err != nil {
		return err
	}
	var toID int64
	if err := json.Unmarshal(op.To, &toID); err != nil || toID == 0 {
		return invalid("to", "to must be the id of the neighbour that takes grid %s's area", g.Code)
	}
	to, err := e.get(toID)
	if err != nil {
		return err
	}
	if g.Retired || to.Retired || g.ID == to.ID {
		return invalid("to", "grid %s cannot go into %s", g.Code, to.Code)
	}
	if err := e.requireScope(g, to); err != nil {
		return err
	}
	if g.ParentID != to.ParentID || g.Level != to.Level {
		return gridline.Errorf(gridline.ERule, "grid %s can only go into a neighbour of the same parent and level; %s is not one", g.Code, to.Code).With("field", "to")
	}
	return e.absorb(to, []*Grid{g}, "retire")
}

func (e *edit) move(op *Op) error {
	g, err := e.get(op.Grid)
	if err != nil {
		return err
	}
	p, err := e.get(op.Parent)
	if err != nil {
		return err
	}
	if g.Retired || p.Retired {
		return invalid("grid", "grid %s or %s is retired in this draft", g.Code, p.Code)
	}
	if p.ID == g.ParentID {
		return invalid("parent", "grid %s is already under %s", g.Code, p.Code)
	}
	if err := e.requireScope(g, p); err != nil {
		return err
	}
	if p.Level.Rank() != g.Level.Rank()-1 || p.Layer != g.Layer && g.Layer != gridline.LayerSpecial {
		return gridline.Errorf(gridline.ERule, "grid %s (%s) cannot hang under %s (%s): its parent is one level up", g.Code, g.Level, p.Code, p.Level).With("field", "parent")
	}
	g.ParentID = p.ID
	return e.newCode(g, p, nil)
}

func (e *edit) attributes(op *Op) error {
	g, err := e.editable(op.Grid, "grid")
	if err != nil {
		return err
	}
	if op.Name != nil {
		n := strings.TrimSpace(*op.Name)
		if n == "" || len(n) > 200 {
			return invalid("name", "name must be 1 to 200 characters")
		}
		g.Name = n
	}
	if len(op.Households) > 0 {
		var h int
		if err := json.Unmarshal(op.Households, &h); err != nil || h < 0 {
			return invalid("households", "households must be a whole number, 0 or more")
		}
		g.Households = h
	}
	if op.Population != nil {
		if *op.Population < 0 {
			return invalid("population", "population must be a whole number, 0 or more")
		}
		g.Population = *op.Population
	}
	if op.FourBounds != nil {
		g.Bounds, g.BoundsHand, g.Recompute = *op.FourBounds, true, false
	}
	if op.Recompute {
		g.BoundsHand, g.Recompute = false, true
	}
	e.put(g)
	return nil
}

func (e *edit) draw(op *Op) error {
	parent, err := e.get(op.Parent)
	if err != nil {
		return err
	}
	if err := e.requireScope(parent); err != nil {
		return err
	}
	rank := parent.Level.Rank() + 1
	if rank >= len(gridline.Levels) {
		return invalid("parent", "grid %s is a %s: nothing hangs under it", parent.Code, parent.Level)
	}
	level := op.Level
	if level == "" {
		level = gridline.Levels[rank]
	}
	if level != gridline.Levels[rank] {
		return invalid("level", "a grid under %s (%s) is a %s, not %q", parent.Code, parent.Level, gridline.Levels[rank], level)
	}
	if op.Name == nil || strings.TrimSpace(*op.Name) == "" {
		return invalid("name", "name is required for a new grid")
	}
	mp, err := polygonal("geometry", op.Geometry)
	if err != nil {
		return err
	}
	reason, err := e.s.st.Invalid(e.ctx, mp)
	if err != nil {
		return err
	}
	if reason != "" {
		return gridline.Errorf(gridline.EInvalid, "the drawing is not a valid polygon: %s (it must not cross itself)", reason).With("field", "geometry")
	}
	clip, err := e.s.st.Intersection(e.ctx, mp, parent.Geometry)
	if err != nil {
		return err
	}
	sibs, err := e.children(parent.ID)
	if err != nil {
		return err
	}
	var shape orb.MultiPolygon
	if op.TakeFromNeighbours {
		for _, s := range sibs {
			if s.Layer != parent.Layer || !s.Geometry.Bound().Intersects(clip.Bound()) {
				continue
			}
			rest, err := e.s.st.Difference(e.ctx, s.Geometry, clip)
			if err != nil {
				return err
			}
			d, err := e.s.st.SymDifferenceArea(e.ctx, rest, s.Geometry)
			if err != nil {
				return err
			}
			if d <= e.s.opt.ToleranceM2 {
				continue
			}
			if err := e.requireScope(s); err != nil {
				return err
			}
			if len(rest) == 0 {
				return gridline.Errorf(gridline.ERule, "the drawing covers all of grid %s: retire it instead", s.Code).With("grid", s.Code)
			}
			s.Geometry = rest
			s.From = appendFrom(s.From, From{GridID: s.ID, Op: "reshape"})
			e.put(s)
		}
		shape = clip
	} else {
		var geoms []orb.MultiPolygon
		for _, s := range sibs {
			if s.Layer == parent.Layer && s.Geometry.Bound().Intersects(clip.Bound()) {
				geoms = append(geoms, s.Geometry)
			}
		}
		shape = clip
		if len(geoms) > 0 {
			u, err := e.s.st.Union(e.ctx, geoms)
			if err != nil {
				return err
			}
			if shape, err = e.s.st.Difference(e.ctx, clip, u); err != nil {
				return err
			}
		}
	}
	if len(shape) == 0 {
		return gridline.Errorf(gridline.EInvalid, "the drawing covers no uncovered area of %s: draw over a gap, or set take_from_neighbours", parent.Code).With("field", "geometry")
	}
	ws, err := e.s.st.Widths(e.ctx, []orb.MultiPolygon{shape})
	if err != nil {
		return err
	}
	if ws[0] < e.s.opt.SliverWidthM {
		return gridline.Errorf(gridline.EInvalid, "the new grid would be only %.2f m wide, under the sliver width of %.0f m", ws[0], e.s.opt.SliverWidthM).With("field", "geometry")
	}
	code, err := e.nextCode(parent, nil)
	if err != nil {
		return err
	}
	ng := &Grid{ID: e.newTemp(), Code: code, Name: strings.TrimSpace(*op.Name), Level: level, Layer: parent.Layer,
		ParentID: parent.ID, Geometry: shape, Recompute: true}
	if len(op.Households) > 0 {
		_ = json.Unmarshal(op.Households, &ng.Households)
	}
	if op.Population != nil && *op.Population >= 0 {
		ng.Population = *op.Population
	}
	for _, s := range sibs {
		if slices.ContainsFunc(s.From, func(f From) bool { return f.Op == "reshape" }) && op.TakeFromNeighbours {
			ng.From = appendFrom(ng.From, From{GridID: s.ID, Op: "draw"})
		}
	}
	e.put(ng)
	return nil
}
