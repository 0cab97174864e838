// Package drafts is how planners redraw grids: a draft (change set) of operations on the grids of
// one subtree for one effective date, stored as append-only revisions (undo and redo move between
// them), validated after every operation by the write rules and the coverage audit of the parents
// it touches, reviewed by another account, and published as new grid versions valid from the
// effective date. It knows nothing of HTTP or SQL: it declares what it needs of the store (Store,
// Geometry) and of the coverage audit (Auditor).
package drafts

import (
	"context"
	"encoding/json"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"gridline.dev/gridline"
	"gridline.dev/gridline/coverage"
)

// State is where a draft is in its life.
type State string

const (
	StateDraft     State = "draft"     // being edited by its author
	StateSubmitted State = "submitted" // waiting for a reviewer
	StateApproved  State = "approved"  // a reviewer approved it: it may be published
	StateReturned  State = "returned"  // a reviewer sent it back with a comment: editable again
	StatePublished State = "published" // its versions are written
	StateWithdrawn State = "withdrawn" // its author gave it up
)

// States lists the states.
var States = []State{StateDraft, StateSubmitted, StateApproved, StateReturned, StatePublished, StateWithdrawn}

// Editable reports whether operations may be added in state s.
func (s State) Editable() bool { return s == StateDraft || s == StateReturned }

// Draft is a change set as stored, with its current revision's problems.
type Draft struct {
	ID            int64     `json:"id"`
	Title         string    `json:"title"`
	AuthorID      int64     `json:"author_id"`
	Author        string    `json:"author"`
	ScopeID       int64     `json:"-"`
	ScopeCode     string    `json:"-"`
	EffectiveDate time.Time `json:"-"`
	State         State     `json:"state"`
	BaseSeq       int64     `json:"-"`
	Head          int       `json:"revision"`
	CanUndo       bool      `json:"can_undo"`
	CanRedo       bool      `json:"can_redo"`
	Acknowledged  []string  `json:"acknowledged"`
	ReviewerID    int64     `json:"reviewer_id,omitempty"`
	Reviewer      string    `json:"reviewer,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Work is the draft's grids at its head revision; Problems what validation found there.
	Work     *Work     `json:"-"`
	Problems []Problem `json:"-"`
}

// Revision is one stored step of a draft.
type Revision struct {
	Revision int             `json:"revision"`
	Prev     *int            `json:"prev"`
	Kind     string          `json:"kind"` // start, op, rebase
	Op       json.RawMessage `json:"op,omitempty"`
	Username string          `json:"username"`
	At       time.Time       `json:"at"`
	Current  bool            `json:"current"` // on the path from the start to the head
}

// Event is a change of a draft's state or head, with its comment.
type Event struct {
	Action   string    `json:"action"`
	Revision int       `json:"revision"`
	Comment  string    `json:"comment,omitempty"`
	Username string    `json:"username"`
	At       time.Time `json:"at"`
}

// Problem is what validation found: a write-rule violation (Kind "rule": blocks submitting) or a
// coverage finding (Kind "coverage": must be acknowledged by Key to submit).
type Problem struct {
	Key       string       `json:"key"`
	Kind      string       `json:"kind"`
	Rule      string       `json:"rule"`
	Severity  string       `json:"severity"`
	Message   string       `json:"message"`
	GridCodes []string     `json:"grid_codes"`
	Geometry  orb.Geometry `json:"-"`
}

// MarshalJSON writes the geometry as GeoJSON.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	var g *geojson.Geometry
	if p.Geometry != nil {
		g = geojson.NewGeometry(p.Geometry)
	}
	return json.Marshal(struct {
		plain
		Geometry *geojson.Geometry `json:"geometry,omitempty"`
	}{plain(p), g})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Problem) UnmarshalJSON(b []byte) error {
	type plain Problem
	var v struct {
		plain
		Geometry *geojson.Geometry `json:"geometry,omitempty"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Problem(v.plain)
	if v.Geometry != nil {
		p.Geometry = v.Geometry.Geometry()
	}
	return nil
}

// Problem kinds.
const (
	KindRule     = "rule"
	KindCoverage = "coverage"
)

// Work is a draft's grids: every grid an operation changed (or created, with a negative temporary
// id), as it is now.
type Work struct {
	Grids    []*Grid `json:"grids"`
	NextTemp int64   `json:"next_temp"` // the last temporary id given (-1, -2 ...)
}

// From is one grid a draft grid came from, and how.
type From struct {
	GridID int64  `json:"grid_id"`
	Op     string `json:"op"`
}

// Grid is one grid of a draft.
type Grid struct {
	ID          int64               `json:"id"`           // negative: made by the draft
	BaseVersion int64               `json:"base_version"` // the version it was started from (0: new)
	BaseParent  int64               `json:"base_parent,omitempty"`
	BaseName    string              `json:"base_name,omitempty"`
	Code        string              `json:"code"`
	Name        string              `json:"name"`
	Level       gridline.Level      `json:"level"`
	Layer       gridline.Layer      `json:"layer"`
	Kind        string              `json:"kind,omitempty"`
	ParentID    int64               `json:"parent_id"`
	Households  int                 `json:"households"`
	Population  int                 `json:"population"`
	Bounds      gridline.FourBounds `json:"four_bounds"`
	BoundsHand  bool                `json:"bounds_by_hand,omitempty"`   // typed in this draft: kept on publish
	Recompute   bool                `json:"recompute_bounds,omitempty"` // asked to be recomputed
	Geometry    orb.MultiPolygon    `json:"-"`
	Retired     bool                `json:"retired,omitempty"`
	Into        int64               `json:"into,omitempty"` // the grid a retired grid went into
	From        []From              `json:"from,omitempty"`
	StaffFrom   []int64             `json:"staff_from,omitempty"` // grids whose post holders this one takes over
}

// MarshalJSON writes the geometry as GeoJSON.
func (g Grid) MarshalJSON() ([]byte, error) {
	type plain Grid
	return json.Marshal(struct {
		plain
		Geometry *geojson.Geometry `json:"geometry"`
	}{plain(g), geojson.NewGeometry(g.Geometry)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (g *Grid) UnmarshalJSON(b []byte) error {
	type plain Grid
	var v struct {
		plain
		Geometry *geojson.Geometry `json:"geometry"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*g = Grid(v.plain)
	if v.Geometry != nil {
		g.Geometry = toMulti(v.Geometry.Geometry())
	}
	return nil
}

func toMulti(g orb.Geometry) orb.MultiPolygon {
	switch v := g.(type) {
	case orb.MultiPolygon:
		return v
	case orb.Polygon:
		return orb.MultiPolygon{v}
	}
	return nil
}

func fromGrid(g gridline.Grid) *Grid {
	return &Grid{ID: g.ID, BaseVersion: g.VersionID, BaseParent: g.ParentID, BaseName: g.Name, Code: g.Code, Name: g.Name, Level: g.Level,
		Layer: g.Layer, Kind: g.Kind, ParentID: g.ParentID, Households: g.Households, Population: g.Population,
		Bounds: g.Bounds, Geometry: cloneMP(g.Geometry)}
}

func (g *Grid) grid(eff time.Time) gridline.Grid {
	return gridline.Grid{ID: g.ID, Code: g.Code, Name: g.Name, Level: g.Level, Layer: g.Layer, Kind: g.Kind,
		ParentID: g.ParentID, Households: g.Households, Population: g.Population, ValidFrom: eff,
		Bounds: g.Bounds, Geometry: g.Geometry, VersionID: g.BaseVersion}
}

// Lineage is one row of grid_lineage to write.
type Lineage struct {
	GridID, FromID int64
	Op             string
}

// StaffMove moves the posts held on grid From (valid on the effective date) to grid To.
type StaffMove struct{ From, To int64 }

// Plan is what publishing a draft writes (and what validating it writes and rolls back).
type Plan struct {
	DraftID   int64
	ScopeID   int64
	Effective time.Time
	BaseSeq   int64
	Touched   []int64         // existing grids the draft changes or retires
	Versions  []gridline.Grid // new versions; negative ids (and parent ids) are grids the draft makes
	Retire    []int64
	Lineage   []Lineage
	Staff     []StaffMove
	// KeepBounds are the grids whose four bounds were typed in the draft; Recompute those whose
	// four bounds must be recomputed even so. Every other grid written, and every neighbour of a
	// changed grid inside the scope, gets its four bounds recomputed.
	KeepBounds []int64
	Recompute  []int64
	// Reneighbour are the grids whose neighbours' four bounds must be recomputed: grids the draft
	// makes, grids that took a retired grid's area, renamed grids. (Moving a shared border
	// changes no one's neighbours.)
	Reneighbour []int64
}

// Store is what drafts need of the database.
type Store interface {
	// Grid is the version valid on at of the grid with code (or id) ref.
	Grid(ctx context.Context, ref string, at time.Time) (*gridline.Grid, error)
	// Chain is id's chain of parents on at, root first.
	Chain(ctx context.Context, id int64, at time.Time) ([]gridline.Grid, error)
	// GridsByID are the versions valid on at of the grids ids, with geometry.
	GridsByID(ctx context.Context, ids []int64, at time.Time) ([]gridline.Grid, error)
	// GridsIn are the versions valid on at, of layer, whose geometry intersects the box b.
	GridsIn(ctx context.Context, b orb.Bound, at time.Time, layer gridline.Layer) ([]gridline.Grid, error)
	// ChildrenOf are the versions valid on at whose parent is one of ids, with geometry.
	ChildrenOf(ctx context.Context, ids []int64, at time.Time) ([]gridline.Grid, error)
	// Ring is the grids valid on at of id's level and layer whose geometry touches id's.
	Ring(ctx context.Context, id int64, at time.Time) ([]gridline.Grid, error)
	// ChildCodes are the codes of every version of every grid whose code is prefix and n more
	// characters.
	ChildCodes(ctx context.Context, prefix string, n int) ([]string, error)
	StaffOf(ctx context.Context, ids []int64, at time.Time) (map[int64][]gridline.Staff, error)
	// ChangeSeq is the newest change stamp of the grids: a draft's base.
	ChangeSeq(ctx context.Context) (int64, error)

	CreateDraft(ctx context.Context, d *Draft, work *Work) error
	LoadDraft(ctx context.Context, id int64) (*Draft, error)
	ListDrafts(ctx context.Context, f ListFilter) ([]Draft, error)
	// AppendRevision adds a revision made on head (the draft's head, still editable), moves the
	// head to it and records the event; it returns the new revision's number.
	AppendRevision(ctx context.Context, d *Draft, kind string, op json.RawMessage, work *Work, problems []Problem, baseSeq int64) (int, error)
	// MoveHead moves the head from d.Head to to (undo, redo), recording action.
	MoveHead(ctx context.Context, d *Draft, to int, action string) error
	// Transition moves d from one of from to state to, recording action and comment in the
	// draft's events and the audit log; set changes other columns (reviewer, acknowledged).
	Transition(ctx context.Context, d *Draft, from []State, to State, action, comment string, acknowledged []string) error
	History(ctx context.Context, id int64) ([]Revision, []Event, error)
	// CheckPlan writes the plan's versions in a transaction that it rolls back, and returns the
	// write rules' problems.
	CheckPlan(ctx context.Context, p *Plan) ([]Problem, error)
	// Publish writes the plan in one transaction, with the draft's move from approved to
	// published: a conflict when the draft's grids or their neighbours changed since BaseSeq.
	Publish(ctx context.Context, d *Draft, p *Plan) error

	Geometry
}

// Geometry is the geometry drafts ask of PostGIS.
type Geometry interface {
	// Split cuts g by the lines into its pieces.
	Split(ctx context.Context, g orb.MultiPolygon, lines []orb.LineString) ([]orb.MultiPolygon, error)
	Union(ctx context.Context, gs []orb.MultiPolygon) (orb.MultiPolygon, error)
	Difference(ctx context.Context, a, b orb.MultiPolygon) (orb.MultiPolygon, error)
	Intersection(ctx context.Context, a, b orb.MultiPolygon) (orb.MultiPolygon, error)
	// SymDifferenceArea is the area in m² of the symmetric difference of a and b.
	SymDifferenceArea(ctx context.Context, a, b orb.MultiPolygon) (float64, error)
	Areas(ctx context.Context, gs []orb.MultiPolygon) ([]float64, error)
	// Widths are twice the radius of each geometry's largest inscribed circle, in metres.
	Widths(ctx context.Context, gs []orb.MultiPolygon) ([]float64, error)
	// Invalid is why g is not a valid geometry, or "".
	Invalid(ctx context.Context, g orb.MultiPolygon) (string, error)
}

// Auditor is the coverage audit of grids that are not stored.
type Auditor interface {
	AuditGrids(ctx context.Context, grids []gridline.Grid, req coverage.Request) (*coverage.Report, error)
}

// ListFilter selects drafts.
type ListFilter struct {
	State    State
	AuthorID int64 // mine=1
	Queue    bool  // submitted drafts not by NotAuthor
	NotBy    int64
	Limit    int
}
