// Package dispatch is the incident engine (issue #15): a reported case is routed to its grid and
// its responsible party by the responsibility list, then worked through the case loop (file,
// dispatch, sign for, handle, report back, verify, close, evaluate) as an append-only list of
// events, each allowed only to the roles that own it in their scope. Each step of the loop has a
// deadline computed by Deadlines (package worktime) from the step's clock, never by a timer.
//
// It knows nothing of HTTP or SQL: the store behind Store keeps the cases, the resolver's index
// places the points, and the catalogue and the responsibility list are data (Table).
package dispatch

import (
	"context"
	"encoding/json"
	"time"

	"gridline.dev/gridline/worktime"
)

// State is where a case is in the loop.
type State string

const (
	Reported     State = "reported"      // 上报: received, not yet accepted
	Filed        State = "filed"         // 立案: accepted, waiting to be dispatched
	Voided       State = "voided"        // 作废: not accepted (end)
	Merged       State = "merged"        // merged into the open case it duplicates (end)
	Dispatched   State = "dispatched"    // 派遣: sent to its party; the handling clock runs
	SignedFor    State = "signed_for"    // 签收: the party accepted it
	Returned     State = "returned"      // 退回: the party sent it back as not its own; back to the dispatcher
	Handled      State = "handled"       // 处置: the party says the work is done on site
	ReportedBack State = "reported_back" // 反馈: reported back with evidence; waiting for verification
	Verified     State = "verified"      // 核查: checked on site; waiting to be closed
	Closed       State = "closed"        // 结案
	Evaluated    State = "evaluated"     // 评价 (end)
	Postponed    State = "postponed"     // 缓办/挂账: parked after review; the clock stands still
)

// States lists every state in the order of the loop.
var States = []State{Reported, Filed, Voided, Merged, Dispatched, SignedFor, Returned, Handled, ReportedBack, Verified, Closed, Evaluated, Postponed}

// Valid reports whether s is a state.
func (s State) Valid() bool {
	for _, x := range States {
		if x == s {
			return true
		}
	}
	return false
}

// Open reports whether a case in s still needs someone to act (neither ended nor closed).
func (s State) Open() bool {
	switch s {
	case Voided, Merged, Closed, Evaluated:
		return false
	}
	return true
}

// Source is where a case came from.
type Source string

const (
	SourcePatrol     Source = "patrol"     // a grid worker's patrol find
	SourceHotline    Source = "hotline"    // 12345
	SourceCamera     Source = "camera"     // a camera or sensor alarm
	SourcePublic     Source = "public"     // a resident (WeChat, the web)
	SourceOpen311    Source = "open311"    // an Open311 GeoReport v2 request
	SourceAssignment Source = "assignment" // a superior's assignment
)

// Sources lists every source.
var Sources = []Source{SourcePatrol, SourceHotline, SourceCamera, SourcePublic, SourceOpen311, SourceAssignment}

// Urgency is how urgent a case is: it selects the responsibility rule and the time limits.
type Urgency string

const (
	Normal Urgency = "normal"
	Urgent Urgency = "urgent"
)

// PartyKind is who a case or a step is assigned to.
type PartyKind string

const (
	PartyWorker     PartyKind = "worker"     // the grid's own worker (the primary post of the grid)
	PartyPost       PartyKind = "post"       // a post at a level of the grid's chain (community grid chief ...)
	PartyDepartment PartyKind = "department" // a department of the list (城管, 市场监管所 ...)
)

// Party is who a case is assigned to. For a worker or a post, Ref is the person's id (decimal)
// and Grid the grid identity whose post it is; for a department, Ref is the department's code.
type Party struct {
	Kind     PartyKind `json:"kind"`
	Ref      string    `json:"ref"`
	Name     string    `json:"name,omitempty"`
	Post     string    `json:"post,omitempty"`
	Grid     int64     `json:"grid,omitempty"`
	GridCode string    `json:"grid_code,omitempty"`
}

// Category is one entry of the catalogue (a subclass cases are reported under).
type Category struct {
	Code       string `json:"code"`
	Standard   string `json:"standard"` // legacy (4-digit CJ/T 214), gbt47678.5 (5-digit), or a local name
	Name       string `json:"name"`
	ClassCode  string `json:"class_code"`
	ClassName  string `json:"class_name"`
	ParentCode string `json:"parent_code,omitempty"`
	Kind       string `json:"kind"` // incident or asset
	Active     bool   `json:"active"`
	// PatrolFindable: a grid worker on patrol is expected to find such a thing before the public
	// reports it (the missed-report figure of the statistics counts public reports of these).
	PatrolFindable bool `json:"patrol_findable"`
}

// Department is a department cases are dispatched to.
type Department struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Phone    string `json:"phone,omitempty"`
	Fallback bool   `json:"fallback"` // the district's fallback party
	Active   bool   `json:"active"`
}

// Rule is one line of the responsibility list (权责清单). Empty fields match anything.
type Rule struct {
	ID              int64     `json:"id"`
	Ord             int       `json:"ord"`
	CategoryCode    string    `json:"category_code,omitempty"`
	Standard        string    `json:"standard,omitempty"` // with ClassCode: a whole class of one standard
	ClassCode       string    `json:"class_code,omitempty"`
	PlaceLevel      string    `json:"place_level,omitempty"`       // a level of the point's chain ...
	PlaceCodePrefix string    `json:"place_code_prefix,omitempty"` // ... whose grid's code starts so
	PlaceLayer      string    `json:"place_layer,omitempty"`       // a thematic layer that covers the point
	Urgency         Urgency   `json:"urgency,omitempty"`
	PartyKind       PartyKind `json:"party_kind"`
	PartyRef        string    `json:"party_ref"` // department code; post: "level:post"; worker: "" or a layer
	Active          bool      `json:"active"`
	Note            string    `json:"note,omitempty"`
}

// Routing is the provenance of a routing decision, kept with the case: the grid and boundary
// version used, the rule that matched, each fallback step, the neighbour of a point near a
// boundary.
type Routing struct {
	At             time.Time    `json:"at"`
	Point          [2]float64   `json:"point"` // WGS84 lon, lat
	Covered        bool         `json:"covered"`
	Grid           *GridUsed    `json:"grid,omitempty"`
	Chain          []GridUsed   `json:"chain"`
	Thematic       []GridUsed   `json:"thematic,omitempty"`
	IndexBuilt     time.Time    `json:"index_built"`
	Rule           *Rule        `json:"rule,omitempty"` // nil: no rule matched (territorial fallback)
	Tried          int          `json:"rules_tried"`
	Steps          []string     `json:"steps"` // each decision and fallback, in order, in words
	Party          Party        `json:"party"`
	Fallback       bool         `json:"fallback"`                // the party came from a fallback, not the rule's own party
	Outside        bool         `json:"outside"`                 // the point lies outside every grid
	Nearest        *Neighbour   `json:"nearest,omitempty"`       // outside: the nearest grid
	NearBoundary   *Neighbour   `json:"near_boundary,omitempty"` // the grid across a boundary within the resolver's distance
	BoundaryMetres *float64     `json:"boundary_m,omitempty"`
	Duplicates     []Duplicate  `json:"duplicates,omitempty"` // open cases this one may duplicate
	Extra          *RoutingNote `json:"note,omitempty"`
	Place          *Placement   `json:"place,omitempty"` // the place was found from the address (dispatch/place.go); absent: the point was sent
}

// RoutingNote is free text a routing decision carries (reserved for address matching).
type RoutingNote struct {
	Text string `json:"text"`
}

// GridUsed is a grid as routing used it: identity, boundary version and code.
type GridUsed struct {
	ID        int64  `json:"id"`
	VersionID int64  `json:"version_id"`
	Version   int    `json:"version"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Level     string `json:"level"`
	Layer     string `json:"layer"`
}

// Neighbour is another grid near the point.
type Neighbour struct {
	ID     int64   `json:"id"`
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	Metres float64 `json:"distance_m"`
}

// Duplicate is an open case a new report may duplicate.
type Duplicate struct {
	ID         int64     `json:"id"`
	Number     string    `json:"number"`
	State      State     `json:"state"`
	Metres     float64   `json:"distance_m"`
	ReportedAt time.Time `json:"reported_at"`
}

// Reporter is who reported a case, as they gave it.
type Reporter struct {
	Name    string `json:"name,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Account int64  `json:"account,omitempty"`
}

// Case is a case as stored, with (when loaded in full) its events, steps and attachments.
type Case struct {
	ID            int64           `json:"id"`
	Number        string          `json:"number"`
	Source        Source          `json:"source"`
	CategoryCode  string          `json:"category_code"`
	Urgency       Urgency         `json:"urgency"`
	Description   string          `json:"description"`
	Address       string          `json:"address,omitempty"`
	Lon           float64         `json:"lon"`
	Lat           float64         `json:"lat"`
	GridID        int64           `json:"grid_id,omitempty"`
	GridVersionID int64           `json:"grid_version_id,omitempty"`
	GridChain     []int64         `json:"grid_chain"`
	State         State           `json:"state"`
	Party         *Party          `json:"party,omitempty"`
	CoDepartments []string        `json:"co_departments"`
	Reporter      Reporter        `json:"reporter"`
	Routing       json.RawMessage `json:"routing,omitempty"`
	Flags         []string        `json:"flags"`
	DuplicateOf   int64           `json:"duplicate_of,omitempty"`
	ReturnedCount int             `json:"returned_count"`
	ReworkCount   int             `json:"rework_count"`
	ExternalID    string          `json:"external_id,omitempty"`
	ReportedAt    time.Time       `json:"reported_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	ClosedAt      *time.Time      `json:"closed_at,omitempty"`
	Version       int             `json:"version"`
	Light         worktime.Light  `json:"light,omitempty"` // the worst light of its open steps

	Events      []Event      `json:"events,omitempty"`
	Steps       []Step       `json:"steps,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Event is one entry of a case's life.
type Event struct {
	ID           int64           `json:"id"`
	CaseID       int64           `json:"case_id"`
	Seq          int             `json:"seq"`
	At           time.Time       `json:"at"`
	ActorAccount int64           `json:"actor_account,omitempty"`
	ActorName    string          `json:"actor_name"`
	Kind         Kind            `json:"kind"`
	From         State           `json:"from_state,omitempty"`
	To           State           `json:"to_state"`
	Reason       string          `json:"reason,omitempty"`
	Data         json.RawMessage `json:"data,omitempty"`
}

// StepName is a step of the loop that has a clock.
type StepName string

const (
	StepFile     StepName = "file"     // reported -> filed or voided
	StepDispatch StepName = "dispatch" // filed or returned -> dispatched
	StepSign     StepName = "sign"     // dispatched -> signed_for
	StepHandle   StepName = "handle"   // dispatched -> reported_back (the handling clock)
	StepVerify   StepName = "verify"   // reported_back -> verified or rework
	StepClose    StepName = "close"    // verified -> closed
)

// Step is one step of a case with its party and its deadline.
type Step struct {
	ID              int64              `json:"id"`
	CaseID          int64              `json:"case_id"`
	Step            StepName           `json:"step"`
	Party           *Party             `json:"party,omitempty"`
	GridID          int64              `json:"grid_id,omitempty"`
	Limit           *worktime.Limit    `json:"limit,omitempty"`
	Clock           worktime.StepClock `json:"clock"`
	StartedAt       time.Time          `json:"started_at"`
	WarnAt          *time.Time         `json:"warn_at,omitempty"`
	DueAt           *time.Time         `json:"due_at,omitempty"`
	PausedAt        *time.Time         `json:"paused_at,omitempty"`
	EndedAt         *time.Time         `json:"ended_at,omitempty"`
	EscalationLevel int                `json:"escalation_level"`
	NotifiedLight   worktime.Light     `json:"notified_light"`
	Light           worktime.Light     `json:"light,omitempty"` // at the time asked (empty without a limit)
}

// Attachment is a photo of a case, before or after the work.
type Attachment struct {
	ID          int64     `json:"id"`
	CaseID      int64     `json:"case_id"`
	EventID     int64     `json:"event_id,omitempty"`
	Kind        string    `json:"kind"` // before or after
	ContentType string    `json:"content_type"`
	Name        string    `json:"name,omitempty"`
	Size        int       `json:"size"`
	SHA256      string    `json:"sha256"` // hex
	CreatedAt   time.Time `json:"created_at"`
	Bytes       []byte    `json:"-"`
	Path        string    `json:"-"`
}

// Notice is a message a case raises for someone other than its party: the neighbour of a point
// near a boundary, a co-handling department, a supervision notice.
type Notice struct {
	Kind    string `json:"kind"`    // near_boundary, co_handling, supervise
	ToKind  string `json:"to_kind"` // grid, department, post, account
	ToRef   string `json:"to_ref"`
	Message string `json:"message"`
}

// Deadlines computes the time limits and deadlines of steps in working time. Package worktime
// implements it on the district's calendar; cmd wires it.
type Deadlines interface {
	// Limit is the time limit of step for a case of this category and urgency; false when the
	// step has none.
	Limit(categoryCode, urgency, step string) (worktime.Limit, bool, error)
	// Deadline is when a step with this clock is due and turns yellow.
	Deadline(worktime.StepClock) worktime.Deadline
}

// Table is the catalogue, the departments and the responsibility list as routing reads them,
// loaded whole (they are small) and replaced whole when one of them changes.
type Table struct {
	Categories  []Category
	Departments []Department
	Rules       []Rule // in order: ord, then id

	byCode map[string]*Category
	byDept map[string]*Department
}

// Store is what dispatch needs from the database (store.DB implements it).
type Store interface {
	// RoutingTable loads the catalogue, the departments and the active responsibility rules.
	RoutingTable(ctx context.Context) (*Table, error)
	// Duplicates lists the open cases of category within metres of (lon, lat) reported since.
	Duplicates(ctx context.Context, category string, lon, lat, metres float64, since time.Time, limit int) ([]Duplicate, error)
	// CreateCase writes a new case with its first events, steps, attachments and notices in one
	// transaction and fills in c's ID, Number and the ids of its events.
	CreateCase(ctx context.Context, c *NewCase) error
	// Case loads case id with its events, steps and attachments (without their bytes).
	Case(ctx context.Context, id int64) (*Case, error)
	// ApplyChange writes ch in one transaction if the case is still at ch.ExpectVersion, and
	// answers a conflict otherwise.
	ApplyChange(ctx context.Context, ch *Change) error
}

// NewCase is a case to create: the row, its events (the report, and for a self-handled case the
// filing and closing), its open steps, its attachments and notices.
type NewCase struct {
	Case        Case
	Events      []Event
	Steps       []Step
	Attachments []Attachment // EventID is the index (1-based) into Events, 0 for the first
	Notices     []Notice
	NumberDay   string // YYYYMMDD in the district's time zone: the case number's prefix
	// FindDuplicates, when set, is the duplicate search the store runs in the same write
	// (DuplicateWriter); it fills Duplicates, and the case's flags and routing when it finds any.
	FindDuplicates *DuplicateSearch
	Duplicates     []Duplicate
}

// Change is one transition of a case: the event, the new row values and the steps it ends,
// starts and reclocks.
type Change struct {
	CaseID        int64
	ExpectVersion int
	Event         Event
	Case          Case // the case as it is after the event (state, party, counts, flags ...)
	EndSteps      []StepName
	StartSteps    []Step
	UpdateSteps   []Step // open steps whose clock changed (paused, resumed, extended): by Step name
	Attachments   []Attachment
	Notices       []Notice
	// MergeInto, for a merge, is the open case this one duplicates.
	MergeInto int64
}

// NoDeadlines is a Deadlines under which no step has a time limit: what cmd wires until the
// district's working calendar (package worktime) is configured.
type NoDeadlines struct{}

// Limit says no step has a limit.
func (NoDeadlines) Limit(string, string, string) (worktime.Limit, bool, error) {
	return worktime.Limit{}, false, nil
}

// Deadline is never asked for (no step has a limit): it is the start.
func (NoDeadlines) Deadline(c worktime.StepClock) worktime.Deadline {
	return worktime.Deadline{Due: c.Start, Warn: c.Start}
}
