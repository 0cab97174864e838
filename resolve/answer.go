package resolve

import (
	"encoding/json"
	"math"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
)

// Answer is the full resolution of one point: what GET /v1/resolve returns.
type Answer struct {
	Point    InputPoint `json:"point"` // as received
	WGS84    LonLat     `json:"wgs84"`
	At       string     `json:"at"`
	Covered  bool       `json:"covered"`
	Chain    []GridRef  `json:"chain"`    // comprehensive layer, district first
	Special  []GridRef  `json:"special"`  // special grids (专属网格) covering the point
	Thematic []GridRef  `json:"thematic"` // thematic-layer grids covering the point, one per layer and level
	// OnBoundary is true when the point lies exactly on a boundary shared by two grids of one level:
	// the grid with the smaller code was chosen (see the package comment).
	OnBoundary bool `json:"on_boundary"`
	// Boundary is the distance from the point to the edge of its basic grid.
	Boundary *Distance `json:"boundary,omitempty"`
	// NearBoundary names the grid across that edge when it is within NearBoundaryMetres.
	NearBoundary *Neighbour `json:"near_boundary"`
	// Nearest is the nearest grid when no grid covers the point.
	Nearest *Neighbour `json:"nearest,omitempty"`
	Index   Status     `json:"index"`
}

// InputPoint is the point as the client sent it.
type InputPoint struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
	CRS string  `json:"crs"`
}

// LonLat is a WGS84 point.
type LonLat struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// GridRef is a grid in an answer, with the boundary version used and the people responsible.
type GridRef struct {
	ID          int64     `json:"id"`
	Code        string    `json:"code"`
	Name        string    `json:"name"`
	Level       string    `json:"level"`
	Layer       string    `json:"layer"`
	Kind        string    `json:"kind,omitempty"`
	Version     int       `json:"version"`
	ValidFrom   string    `json:"valid_from"`
	ValidTo     string    `json:"valid_to,omitempty"`
	Responsible []Contact `json:"responsible"`

	raw []byte // the rendered JSON, shared by every answer that uses this reference
	// rawMasked and rawNone are raw with the people masked and left out (gridline.Disclosure),
	// rendered with it, so that an anonymous answer costs no more than a full one.
	rawMasked, rawNone []byte
}

// DiscloseContacts is list as d shows it (list itself when d is full).
func DiscloseContacts(list []Contact, d gridline.Disclosure) []Contact {
	if d == gridline.DiscloseFull {
		return list
	}
	out := make([]Contact, len(list))
	for i, c := range list {
		c.PersonID, c.Name, c.Phone = d.Person(c.PersonID, c.Name, c.Phone)
		out[i] = c
	}
	return out
}

// render fills r's three renderings.
func (r *GridRef) render() error {
	raw, err := json.Marshal(refJSON(*r))
	if err != nil {
		return err
	}
	m, n := refJSON(*r), refJSON(*r)
	m.Responsible, n.Responsible = DiscloseContacts(r.Responsible, gridline.DiscloseMasked), DiscloseContacts(r.Responsible, gridline.DiscloseNone)
	masked, err := json.Marshal(m)
	if err != nil {
		return err
	}
	none, err := json.Marshal(n)
	if err != nil {
		return err
	}
	r.raw, r.rawMasked, r.rawNone = raw, masked, none
	return nil
}

// Distance is how far the point is from a grid's boundary.
type Distance struct {
	Grid   string  `json:"grid"`
	Metres float64 `json:"distance_m"`
}

// Neighbour is another grid and its distance from the point.
type Neighbour struct {
	ID     int64   `json:"id"`
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	Level  string  `json:"level"`
	Metres float64 `json:"distance_m"`
}

// NearestSearchMetres bounds the search for the nearest grid of an uncovered point.
const NearestSearchMetres = 50000.0

// Ref describes position i for an answer. A reference depends only on the index and the date, so
// the ones for the most recent date asked are kept, rendered, until that date changes: most
// requests ask about today, and a roster walk plus its JSON encoding is most of an answer's cost.
func (ix *GridIndex) Ref(i int32, at time.Time) GridRef {
	day := at.Unix() / 86400
	if c := ix.refs[i].Load(); c != nil && c.day == day {
		return c.ref
	}
	r := ix.ref(i, at)
	if r.render() == nil {
		ix.refs[i].Store(&cachedRef{day: day, ref: r})
	}
	return r
}

// cachedRef is a rendered GridRef for one date.
type cachedRef struct {
	day int64
	ref GridRef
}

// refJSON is GridRef without its MarshalJSON, for rendering.
type refJSON GridRef

// MarshalJSON writes the rendered form when there is one.
func (r GridRef) MarshalJSON() ([]byte, error) {
	if r.raw != nil {
		return r.raw, nil
	}
	return json.Marshal(refJSON(r))
}

func (ix *GridIndex) ref(i int32, at time.Time) GridRef {
	g := &ix.grids[i]
	r := GridRef{ID: g.ID, Code: g.Code, Name: g.Name, Level: string(g.Level), Layer: string(g.Layer), Kind: g.Kind,
		Version: g.Version, ValidFrom: gridline.Date(g.ValidFrom), Responsible: ix.Responsible(i, at)}
	if g.ValidTo != nil {
		r.ValidTo = gridline.Date(*g.ValidTo)
	}
	if r.Responsible == nil {
		r.Responsible = []Contact{}
	}
	return r
}

func (ix *GridIndex) neighbour(i int32, d float64) Neighbour {
	g := &ix.grids[i]
	return Neighbour{ID: g.ID, Code: g.Code, Name: g.Name, Level: string(g.Level), Metres: roundCM(d)}
}

func roundCM(m float64) float64 { return math.Round(m*100) / 100 }

// Answer resolves p (WGS84) on date at into a full answer, from the in-memory index.
func (r *Resolver) Answer(in InputPoint, p orb.Point, at time.Time) *Answer {
	ix := r.cur.Load()
	if ix == nil {
		return r.emptyAnswer(in, p, at)
	}
	sp := &answerSpace{}
	var scratch [16]int32
	ix.Locate(p, at, sp.location(), scratch[:0])
	return r.answer(ix, sp, in, p, at)
}

// AppendAnswer appends the JSON of Answer(in, p, at) to b. The bytes are the same; the answer is
// not kept, so its space is reused by the next call rather than left to the garbage collector:
// this is GET /v1/resolve's path, where the answer is only written out.
func (r *Resolver) AppendAnswer(b []byte, in InputPoint, p orb.Point, at time.Time) []byte {
	return r.AppendAnswerAs(b, in, p, at, gridline.DiscloseFull, nil)
}

// AppendAnswerAs is AppendAnswer with the people responsible shown as d says, or in full when
// full is not nil and says yes for the answer's chain of grid ids (district first): a signed-in
// caller with a role on the point's grids.
func (r *Resolver) AppendAnswerAs(b []byte, in InputPoint, p orb.Point, at time.Time, d gridline.Disclosure, full func(chain []int64) bool) []byte {
	ix := r.cur.Load()
	if ix == nil {
		return r.emptyAnswer(in, p, at).AppendJSONAs(b, d)
	}
	sp, _ := r.spaces.Get().(*answerSpace)
	if sp == nil {
		sp = &answerSpace{}
	} else {
		*sp = answerSpace{} // nothing of the previous answer stays reachable
	}
	var scratch [16]int32
	ix.Locate(p, at, sp.location(), scratch[:0])
	a := r.answer(ix, sp, in, p, at)
	b = a.AppendJSONAs(b, a.Disclosure(d, full))
	r.spaces.Put(sp)
	return b
}

// Disclosure is d, or full when full says yes for the answer's chain.
func (a *Answer) Disclosure(d gridline.Disclosure, full func(chain []int64) bool) gridline.Disclosure {
	if full == nil || d == gridline.DiscloseFull {
		return d
	}
	ids := make([]int64, len(a.Chain))
	for i := range a.Chain {
		ids[i] = a.Chain[i].ID
	}
	if full(ids) {
		return gridline.DiscloseFull
	}
	return d
}

// AnswerCovering is Answer with the covering grid versions found elsewhere: by a PostGIS
// ST_Covers query in the HTTP benchmark's bench/postgisresolve, which so measures PostGIS's lookup
// against the index with everything else the same. versionIDs are grid version ids.
func (r *Resolver) AnswerCovering(in InputPoint, p orb.Point, at time.Time, versionIDs []int64) *Answer {
	ix := r.cur.Load()
	if ix == nil {
		return r.emptyAnswer(in, p, at)
	}
	cov := make([]int32, 0, len(versionIDs))
	for _, v := range versionIDs {
		if i := ix.Position(v); i >= 0 {
			cov = append(cov, i)
		}
	}
	sp := &answerSpace{}
	ix.Choose(cov, at, sp.location())
	return r.answer(ix, sp, in, p, at)
}

func (r *Resolver) emptyAnswer(in InputPoint, p orb.Point, at time.Time) *Answer {
	return &Answer{Point: in, WGS84: LonLat{Lon: p[0], Lat: p[1]}, At: gridline.Date(at), Chain: []GridRef{}, Special: []GridRef{}, Thematic: []GridRef{}, Index: r.Status()}
}

// answerSpace is an Answer with room for what it usually points to: the five levels of the chain,
// a special grid, two thematic grids, the boundary and a neighbour, and the Location it is made
// from. An answer is then one allocation instead of a dozen; a list that outgrows its room is
// moved by append as usual.
type answerSpace struct {
	a        Answer
	refs     [8]GridRef
	boundary Distance
	near     Neighbour
	loc      Location
	lists    [12]int32
}

// location is the space's Location, its lists backed by the space.
func (sp *answerSpace) location() *Location {
	sp.loc.Special, sp.loc.Thematic, sp.loc.Ties = sp.lists[0:0:4], sp.lists[4:4:8], sp.lists[8:8:12]
	return &sp.loc
}

func (r *Resolver) answer(ix *GridIndex, sp *answerSpace, in InputPoint, p orb.Point, at time.Time) *Answer {
	loc := &sp.loc
	a := &sp.a
	*a = Answer{Point: in, WGS84: LonLat{Lon: p[0], Lat: p[1]}, At: gridline.Date(at), Index: r.Status(),
		Chain: sp.refs[0:0:5], Special: sp.refs[5:5:6], Thematic: sp.refs[6:6:8]}
	a.Covered = loc.Covered()
	for _, i := range loc.Chain {
		if i >= 0 {
			a.Chain = append(a.Chain, ix.Ref(i, at))
		}
	}
	for _, i := range loc.Special {
		a.Special = append(a.Special, ix.Ref(i, at))
	}
	for _, i := range loc.Thematic {
		a.Thematic = append(a.Thematic, ix.Ref(i, at))
	}
	if !a.Covered {
		if i, d, ok := ix.Nearest(p, at, NearestSearchMetres); ok {
			sp.near = ix.neighbour(i, d)
			a.Nearest = &sp.near
		}
		return a
	}
	// The edge that matters for routing is the basic grid's; without one, the deepest level's.
	own := loc.Chain[gridline.LevelGrid.Rank()]
	if own < 0 {
		own = loc.Chain[gridline.LevelCommunity.Rank()]
	}
	if own < 0 {
		own = loc.Deepest()
	}
	for _, t := range loc.Ties {
		g := &ix.grids[t]
		if g.Layer == ix.grids[own].Layer && g.Level == ix.grids[own].Level {
			a.OnBoundary = true
		}
	}
	d := ix.BoundaryDistance(p, own)
	sp.boundary = Distance{Grid: ix.grids[own].Code, Metres: roundCM(d)}
	a.Boundary = &sp.boundary
	if d <= NearBoundaryMetres {
		if i, dd, ok := ix.Across(p, own, at, NearBoundaryMetres); ok {
			sp.near = ix.neighbour(i, dd)
			a.NearBoundary = &sp.near
		}
	}
	return a
}

// CheckCoordinate rejects NaN, infinite and (for geographic systems) out-of-range coordinates.
func CheckCoordinate(lon, lat float64, crs geo.CRS) *gridline.Error {
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0):
		return gridline.Errorf(gridline.EInvalidCoord, "lon %v is not a finite number", lon).With("field", "lon")
	case math.IsNaN(lat) || math.IsInf(lat, 0):
		return gridline.Errorf(gridline.EInvalidCoord, "lat %v is not a finite number", lat).With("field", "lat")
	case crs.Geographic() && (lat < -90 || lat > 90):
		return gridline.Errorf(gridline.EInvalidCoord, "lat %v is out of range -90..90", lat).With("field", "lat")
	case crs.Geographic() && (lon < -180 || lon > 180):
		return gridline.Errorf(gridline.EInvalidCoord, "lon %v is out of range -180..180", lon).With("field", "lon")
	}
	return nil
}
