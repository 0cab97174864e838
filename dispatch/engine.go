package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/worktime"
)

// Index is what the engine needs of the resolver: its current in-memory index.
type Index interface {
	Index() *resolve.GridIndex
}

// Options tune the engine.
type Options struct {
	DuplicateMetres float64       // default 50
	DuplicateWindow time.Duration // default 24h
	MaxAttachment   int           // bytes, default DefaultMaxAttachment
	Location        *time.Location
	// Covering, when set, finds the grid versions covering a point (store.DB.Covering: one
	// PostGIS query per case) instead of the in-memory index: the benchmark's comparison.
	Covering func(ctx context.Context, lon, lat float64) ([]int64, error)
	// TableTTL is how long a loaded routing table is used before it is read again (edits made
	// through this engine replace it at once; other servers' edits are seen within TableTTL).
	TableTTL time.Duration
	// Addresses places a report that gives an address and no point (dispatch/place.go); nil: such
	// a report is refused.
	Addresses Addresses
}

// Engine routes reports and applies transitions.
type Engine struct {
	store     Store
	index     Index
	deadlines Deadlines
	clock     gridline.Clock
	opt       Options

	mu       sync.Mutex
	table    *Table
	loadedAt time.Time
}

// New makes an engine.
func New(st Store, ix Index, dl Deadlines, clock gridline.Clock, opt Options) *Engine {
	if opt.DuplicateMetres == 0 {
		opt.DuplicateMetres = 50
	}
	if opt.DuplicateWindow == 0 {
		opt.DuplicateWindow = 24 * time.Hour
	}
	if opt.MaxAttachment <= 0 {
		opt.MaxAttachment = DefaultMaxAttachment
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.TableTTL == 0 {
		opt.TableTTL = 5 * time.Second
	}
	return &Engine{store: st, index: ix, deadlines: dl, clock: clock, opt: opt}
}

// MaxAttachment is the largest photo the engine accepts.
func (e *Engine) MaxAttachment() int { return e.opt.MaxAttachment }

// Table is the current routing table, read again from the store when older than TableTTL.
func (e *Engine) Table(ctx context.Context) (*Table, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	if e.table != nil && now.Sub(e.loadedAt) < e.opt.TableTTL && !now.Before(e.loadedAt) {
		return e.table, nil
	}
	t, err := e.store.RoutingTable(ctx)
	if err != nil {
		return nil, err
	}
	e.table, e.loadedAt = t, now
	return t, nil
}

// Invalidate drops the cached routing table: the catalogue, departments or rules changed.
func (e *Engine) Invalidate() {
	e.mu.Lock()
	e.table = nil
	e.mu.Unlock()
}

// Report is a new case as a client sends it. The point is WGS84 (api converts other systems).
type Report struct {
	Source       Source   `json:"source"`
	CategoryCode string   `json:"category_code"`
	Urgency      Urgency  `json:"urgency"`
	Description  string   `json:"description"`
	Address      string   `json:"address"`
	Lon          float64  `json:"lon"`
	Lat          float64  `json:"lat"`
	Reporter     Reporter `json:"reporter"`
	ExternalID   string   `json:"external_id"`
	// SelfHandled: the reporting grid worker fixed it on the spot (自处置): filed and closed at
	// once; an "after" photo is the evidence.
	SelfHandled bool    `json:"self_handled"`
	Photos      []Photo `json:"-"`
	// ByAddress: the report has no point; it is placed by Address in the address register
	// (dispatch/place.go), and Lon, Lat are ignored.
	ByAddress bool `json:"-"`
	// Trusted is an intake the caller has authenticated by other means (an Open311 api_key): no
	// permission is asked of the principal.
	Trusted bool `json:"-"`
}

const maxText = 4000

func (r *Report) validate(t *Table) (*Category, error) {
	if r.Source == "" {
		r.Source = SourcePatrol
	}
	if !slices.Contains(Sources, r.Source) {
		return nil, gridline.Errorf(gridline.EInvalid, "source %q is not one of patrol, hotline, camera, public, open311, assignment", gridline.Excerpt(string(r.Source))).With("field", "source")
	}
	if r.Urgency == "" {
		r.Urgency = Normal
	}
	if r.Urgency != Normal && r.Urgency != Urgent {
		return nil, gridline.Errorf(gridline.EInvalid, "urgency %q is not normal or urgent", gridline.Excerpt(string(r.Urgency))).With("field", "urgency")
	}
	if r.CategoryCode == "" {
		return nil, gridline.Errorf(gridline.EInvalid, "category_code is required: a code of the catalogue (GET /v1/case-categories)").With("field", "category_code")
	}
	c := t.Category(r.CategoryCode)
	if c == nil || !c.Active {
		return nil, gridline.Errorf(gridline.EInvalid, "category %q is not in the catalogue (or no longer active): use a code that GET /v1/case-categories lists", gridline.Excerpt(r.CategoryCode)).
			With("field", "category_code")
	}
	for _, f := range []struct{ name, v string }{{"description", r.Description}, {"address", r.Address}, {"reporter.name", r.Reporter.Name},
		{"reporter.phone", r.Reporter.Phone}, {"reporter.email", r.Reporter.Email}, {"external_id", r.ExternalID}} {
		if !utf8.ValidString(f.v) {
			return nil, gridline.Errorf(gridline.EInvalid, "%s is not valid UTF-8", f.name).With("field", f.name)
		}
		if utf8.RuneCountInString(f.v) > maxText {
			return nil, gridline.Errorf(gridline.EInvalid, "%s is longer than %d characters", f.name, maxText).With("field", f.name)
		}
	}
	if err := resolve.CheckCoordinate(r.Lon, r.Lat, geo.WGS84); err != nil {
		return nil, err
	}
	return c, nil
}

// Intake is the answer to a report: the case as created, and the open cases it may duplicate.
type Intake struct {
	Case       *Case       `json:"case"`
	Duplicates []Duplicate `json:"duplicates"`
}

// Report routes and records a new case reported by who.
func (e *Engine) Report(ctx context.Context, who *accounts.Principal, r Report) (*Intake, error) {
	t, err := e.Table(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := r.validate(t)
	if err != nil {
		return nil, err
	}
	place, err := e.placeReport(&r, gridline.Today(e.clock, e.opt.Location))
	if err != nil {
		return nil, err
	}
	ix := e.index.Index()
	if ix == nil {
		return nil, gridline.Errorf(gridline.EUnavailable, "the grid index is still being built: try again in a few seconds")
	}
	now := e.clock.Now()
	day := gridline.Today(e.clock, e.opt.Location)
	var covering []int64
	if e.opt.Covering != nil {
		if covering, err = e.opt.Covering(ctx, r.Lon, r.Lat); err != nil {
			return nil, err
		}
		if covering == nil {
			covering = []int64{}
		}
	}
	rt := route(ix, t, orb.Point{r.Lon, r.Lat}, day, cat, r.Urgency, covering)
	rt.At = now
	placed(&rt, place)
	c := Case{Source: r.Source, CategoryCode: cat.Code, Urgency: r.Urgency, Description: r.Description, Address: r.Address,
		Lon: r.Lon, Lat: r.Lat, GridChain: []int64{}, State: Reported, Reporter: r.Reporter, Flags: []string{}, CoDepartments: []string{},
		ExternalID: r.ExternalID, ReportedAt: now, UpdatedAt: now, Version: 1}
	for _, g := range rt.Chain {
		c.GridChain = append(c.GridChain, g.ID)
	}
	if rt.Grid != nil {
		c.GridID, c.GridVersionID = rt.Grid.ID, rt.Grid.VersionID
	}
	if !r.Trusted {
		perm := accounts.CasesReport
		if !who.Can(perm, c.GridChain) && !who.Can(accounts.CasesDispatch, c.GridChain) {
			return nil, accounts.Forbidden(perm, "reporting a case at this place")
		}
		if who != nil && r.Reporter.Account == 0 {
			c.Reporter.Account = who.AccountID
		}
	}
	if rt.Outside {
		c.Flags = append(c.Flags, "outside")
	}
	if rt.NearBoundary != nil {
		c.Flags = append(c.Flags, "near_boundary")
	}
	if rt.Fallback {
		c.Flags = append(c.Flags, "fallback")
	}
	if rt.Party.Kind != "" {
		p := rt.Party
		c.Party = &p
	}
	photos, err := checkPhotos(r.Photos, e.opt.MaxAttachment, "before")
	if err != nil {
		return nil, err
	}
	search, err := e.duplicates(ctx, &r, &c, &rt, now)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(rt)
	if err != nil {
		return nil, err
	}
	c.Routing = raw
	actorID, actorName := actorOf(who, r)
	report := Event{At: now, ActorAccount: actorID, ActorName: actorName, Kind: KindReport, To: Reported,
		Data: mustJSON(map[string]any{"source": r.Source, "party": c.Party})}
	nc := &NewCase{Case: c, Events: []Event{report}, NumberDay: now.In(e.opt.Location).Format("20060102"), FindDuplicates: search}
	if rt.NearBoundary != nil {
		nc.Notices = append(nc.Notices, Notice{Kind: "near_boundary", ToKind: "grid", ToRef: strconv.FormatInt(rt.NearBoundary.ID, 10),
			Message: fmt.Sprintf("a case reported %.1f m from your boundary was routed to %s", rt.NearBoundary.Metres, rt.Grid.Code)})
		nc.Events = append(nc.Events, Event{At: now, ActorName: "routing", Kind: KindNeighbour, From: Reported, To: Reported,
			Data: mustJSON(map[string]any{"neighbour": rt.NearBoundary})})
	}
	for i := range photos {
		photos[i].CreatedAt = now
	}
	if r.SelfHandled {
		if !slices.ContainsFunc(photos, func(a Attachment) bool { return a.Kind == "after" }) {
			return nil, gridline.Errorf(gridline.EInvalid, "a self-handled case needs an \"after\" photo as evidence: send one in the multipart field photo_after").With("field", "photos")
		}
		c.State, c.Flags = Closed, append(c.Flags, "self_handled")
		c.ClosedAt = &now
		nc.Case = c
		nc.Events = append(nc.Events, Event{At: now, ActorAccount: actorID, ActorName: actorName, Kind: KindSelfHandle, From: Reported, To: Closed})
		for i := range photos {
			if photos[i].Kind == "after" {
				photos[i].EventID = int64(len(nc.Events))
			}
		}
	} else {
		st, err := e.newStep(c, StepFile, nil, now)
		if err != nil {
			return nil, err
		}
		nc.Steps = append(nc.Steps, st)
	}
	nc.Attachments = photos
	if err := e.store.CreateCase(ctx, nc); err != nil {
		return nil, err
	}
	if search != nil {
		rt.Duplicates = nc.Duplicates
	}
	out := nc.Case
	out.Events = nc.Events
	out.Steps = nc.Steps
	out.Attachments = nc.Attachments
	e.light(&out, now)
	dups := rt.Duplicates
	if dups == nil {
		dups = []Duplicate{}
	}
	return &Intake{Case: &out, Duplicates: dups}, nil
}

func actorOf(who *accounts.Principal, r Report) (int64, string) {
	if who != nil {
		return who.AccountID, who.Username
	}
	if r.Trusted {
		return 0, string(r.Source)
	}
	return 0, ""
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// newStep starts step for case c at now, with its limit and deadline.
func (e *Engine) newStep(c Case, name StepName, party *Party, now time.Time) (Step, error) {
	st := Step{Step: name, Party: party, GridID: c.GridID, StartedAt: now, NotifiedLight: worktime.Green}
	lim, ok, err := e.deadlines.Limit(c.CategoryCode, string(c.Urgency), string(name))
	if err != nil {
		return st, err
	}
	st.Clock = worktime.StepClock{Start: now}
	if ok {
		st.Limit = &lim
		st.Clock.Limit = lim
		e.reclock(&st)
	}
	return st, nil
}

// reclock recomputes a step's due and warning times from its clock (NULL while paused).
func (e *Engine) reclock(st *Step) {
	if st.Limit == nil {
		st.DueAt, st.WarnAt = nil, nil
		return
	}
	d := e.deadlines.Deadline(st.Clock)
	if d.Paused || st.PausedAt != nil {
		st.DueAt, st.WarnAt = nil, nil
		return
	}
	due, warn := d.Due, d.Warn
	st.DueAt, st.WarnAt = &due, &warn
}

// light fills the lights of c's open steps at now, and c's worst.
func (e *Engine) light(c *Case, now time.Time) {
	worst := worktime.Light("")
	for i := range c.Steps {
		st := &c.Steps[i]
		if st.EndedAt != nil || st.Limit == nil {
			continue
		}
		d := e.deadlines.Deadline(st.Clock)
		if st.PausedAt != nil {
			d = worktime.Deadline{Due: now.Add(time.Hour), Warn: now.Add(time.Hour)}
		}
		st.Light = worktime.LightAt(d, now)
		if rank(st.Light) > rank(worst) {
			worst = st.Light
		}
	}
	c.Light = worst
}

func rank(l worktime.Light) int {
	switch l {
	case worktime.Green:
		return 1
	case worktime.Yellow:
		return 2
	case worktime.Red:
		return 3
	}
	return 0
}

// Case is case id as who may see it, with its lights at the engine's now.
func (e *Engine) Case(ctx context.Context, who *accounts.Principal, id int64) (*Case, error) {
	c, err := e.store.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	if !CanSee(who, c) {
		return nil, gridline.Errorf(gridline.ENotFound, "no case %d that you may see", id).With("case", id)
	}
	e.light(c, e.clock.Now())
	return c, nil
}

// CanSee reports whether who may read case c: cases.read on its grid chain, or on the
// department it is assigned to or co-handled by.
func CanSee(who *accounts.Principal, c *Case) bool {
	if who.Can(accounts.CasesRead, c.GridChain) {
		return true
	}
	if c.Party != nil && c.Party.Kind == PartyDepartment && who.CanDepartment(accounts.CasesRead, c.Party.Ref) {
		return true
	}
	for _, d := range c.CoDepartments {
		if who.CanDepartment(accounts.CasesRead, d) {
			return true
		}
	}
	return false
}

// Request is one transition a client posts: POST /v1/cases/{id}/events.
type Request struct {
	Kind          Kind            `json:"kind"`
	Party         *Party          `json:"party,omitempty"`       // dispatch: who to (default: the routed party)
	Departments   []string        `json:"departments,omitempty"` // co_handle: the co-handling departments
	Extension     *worktime.Limit `json:"extension,omitempty"`   // request_extension, approve_extension
	Reason        string          `json:"reason,omitempty"`
	Into          int64           `json:"into,omitempty"`  // merge: the open case this one duplicates
	Score         int             `json:"score,omitempty"` // evaluate: 1..5
	ExpectVersion *int            `json:"expect_version,omitempty"`
	Photos        []Photo         `json:"-"`
}

// Transition applies req to case id on behalf of who, and returns the case after it.
func (e *Engine) Transition(ctx context.Context, who *accounts.Principal, id int64, req Request) (*Case, error) {
	tr, ok := Transitions[req.Kind]
	if !ok {
		var kinds []string
		for k := range Transitions {
			kinds = append(kinds, string(k))
		}
		slices.Sort(kinds)
		return nil, gridline.Errorf(gridline.EInvalid, "kind %q is not a transition: one of %s", gridline.Excerpt(string(req.Kind)), strings.Join(kinds, ", ")).With("field", "kind")
	}
	if utf8.RuneCountInString(req.Reason) > maxText || !utf8.ValidString(req.Reason) {
		return nil, gridline.Errorf(gridline.EInvalid, "reason is longer than %d characters or not UTF-8", maxText).With("field", "reason")
	}
	c, err := e.store.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	if !CanSee(who, c) && !e.mayAct(who, c, tr) {
		return nil, gridline.Errorf(gridline.ENotFound, "no case %d that you may see", id).With("case", id)
	}
	if req.ExpectVersion != nil && *req.ExpectVersion != c.Version {
		return nil, gridline.Errorf(gridline.EConflict, "case %s is at version %d, not %d: it changed since you read it; read it again and decide", c.Number, c.Version, *req.ExpectVersion).
			With("version", c.Version)
	}
	if !slices.Contains(tr.From, c.State) {
		from := make([]string, len(tr.From))
		for i, s := range tr.From {
			from[i] = string(s)
		}
		return nil, gridline.Errorf(gridline.EConflict, "case %s is %s: %s is allowed only from %s", c.Number, c.State, req.Kind, strings.Join(from, ", ")).
			With("state", c.State).With("allowed_from", from)
	}
	if !e.mayAct(who, c, tr) {
		return nil, forbidden(tr, c)
	}
	if tr.NeedsReason && strings.TrimSpace(req.Reason) == "" {
		return nil, gridline.Errorf(gridline.EInvalid, "%s needs a reason", req.Kind).With("field", "reason")
	}
	now := e.clock.Now()
	photos, err := checkPhotos(req.Photos, e.opt.MaxAttachment, "after")
	if err != nil {
		return nil, err
	}
	for i := range photos {
		photos[i].CreatedAt = now
	}
	ch := &Change{CaseID: c.ID, ExpectVersion: c.Version, Attachments: photos}
	ch.Case = *c
	ch.Case.Events, ch.Case.Steps, ch.Case.Attachments = nil, nil, nil
	to := tr.To
	if to == "" {
		to = c.State
	}
	actorID, actorName := int64(0), ""
	if who != nil {
		actorID, actorName = who.AccountID, who.Username
	}
	ev := Event{At: now, ActorAccount: actorID, ActorName: actorName, Kind: req.Kind, From: c.State, Reason: req.Reason}
	data := map[string]any{}
	if err := e.apply(ctx, c, req, ch, &to, data, now); err != nil {
		return nil, err
	}
	ev.To = to
	if len(data) > 0 {
		ev.Data = mustJSON(data)
	}
	ch.Event = ev
	ch.Case.State, ch.Case.UpdatedAt, ch.Case.Version = to, now, c.Version+1
	if err := e.store.ApplyChange(ctx, ch); err != nil {
		return nil, err
	}
	after, err := e.store.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	e.light(after, now)
	return after, nil
}

func forbidden(tr Transition, c *Case) error {
	var names []string
	for _, p := range tr.Perms {
		names = append(names, p.String())
	}
	where := "the case's grid"
	if tr.Owner == OwnerParty {
		where = "the party the case is dispatched to"
		if c.Party != nil && c.Party.Kind == PartyDepartment {
			where = "department " + c.Party.Ref
		}
	}
	return gridline.Errorf(gridline.EForbidden, "%s needs %s on %s, which your grants do not give: ask an administrator for a role that holds it there",
		tr.Kind, strings.Join(names, " or "), where).With("permission", strings.Join(names, ","))
}

// mayAct reports whether who holds one of tr's permissions where tr's owner says.
func (e *Engine) mayAct(who *accounts.Principal, c *Case, tr Transition) bool {
	for _, p := range tr.Perms {
		if tr.Owner == OwnerParty && c.Party != nil && c.Party.Kind == PartyDepartment {
			if who.CanDepartment(p, c.Party.Ref) {
				return true
			}
			continue
		}
		if who.Can(p, c.GridChain) {
			return true
		}
	}
	return false
}

// openStep is c's open step name, or nil.
func openStep(c *Case, name StepName) *Step {
	for i := range c.Steps {
		if c.Steps[i].Step == name && c.Steps[i].EndedAt == nil {
			return &c.Steps[i]
		}
	}
	return nil
}

func (e *Engine) start(ch *Change, name StepName, party *Party, now time.Time) error {
	st, err := e.newStep(ch.Case, name, party, now)
	if err != nil {
		return err
	}
	ch.StartSteps = append(ch.StartSteps, st)
	return nil
}

func (e *Engine) endOpen(c *Case, ch *Change, names ...StepName) {
	for _, n := range names {
		if openStep(c, n) != nil {
			ch.EndSteps = append(ch.EndSteps, n)
		}
	}
}

// apply fills ch for req on c: the steps ended, started and reclocked, the row's new values.
func (e *Engine) apply(ctx context.Context, c *Case, req Request, ch *Change, to *State, data map[string]any, now time.Time) error {
	switch req.Kind {
	case KindFile:
		e.endOpen(c, ch, StepFile)
		return e.start(ch, StepDispatch, nil, now)
	case KindVoid:
		e.endOpen(c, ch, StepFile)
	case KindMerge:
		if req.Into == 0 || req.Into == c.ID {
			return gridline.Errorf(gridline.EInvalid, "merge needs into: the id of the open case this one duplicates").With("field", "into")
		}
		into, err := e.store.Case(ctx, req.Into)
		if err != nil {
			return err
		}
		if !into.State.Open() || into.DuplicateOf != 0 {
			return gridline.Errorf(gridline.EConflict, "case %s is %s: a case is merged only into an open case", into.Number, into.State).With("field", "into")
		}
		if into.CategoryCode != c.CategoryCode {
			return gridline.Errorf(gridline.EInvalid, "case %s is of category %s, this one of %s: only cases of one category are merged", into.Number, into.CategoryCode, c.CategoryCode).With("field", "into")
		}
		ch.MergeInto, ch.Case.DuplicateOf = into.ID, into.ID
		data["into"] = into.Number
		e.endOpen(c, ch, StepFile, StepDispatch)
	case KindDispatch:
		t, err := e.Table(ctx)
		if err != nil {
			return err
		}
		p := req.Party
		if p == nil {
			p = c.Party
		}
		if p == nil {
			return gridline.Errorf(gridline.EInvalid, "dispatch needs party {\"kind\":\"department\",\"ref\":CODE} (routing found none for this case)").With("field", "party")
		}
		switch p.Kind {
		case PartyDepartment:
			d := t.Department(p.Ref)
			if d == nil || !d.Active {
				return gridline.Errorf(gridline.EInvalid, "department %q is not in the department list (GET /v1/departments)", gridline.Excerpt(p.Ref)).With("field", "party")
			}
			p = &Party{Kind: PartyDepartment, Ref: d.Code, Name: d.Name}
		case PartyWorker, PartyPost:
			if p.Kind == PartyWorker && p.Ref == "" && p.Grid != 0 {
				// "the worker of grid G": whoever holds that grid's primary post today.
				w, err := e.gridWorker(p.Grid)
				if err != nil {
					return err
				}
				p = w
			}
			if _, err := strconv.ParseInt(p.Ref, 10, 64); err != nil {
				return gridline.Errorf(gridline.EInvalid, "a %s party's ref is the person's id, not %q", p.Kind, gridline.Excerpt(p.Ref)).With("field", "party")
			}
		default:
			return gridline.Errorf(gridline.EInvalid, "party kind %q is not worker, post or department", gridline.Excerpt(string(p.Kind))).With("field", "party")
		}
		if c.State == Dispatched && c.Party != nil && c.Party.Kind == p.Kind && c.Party.Ref == p.Ref {
			return gridline.Errorf(gridline.EConflict, "case %s is already dispatched to %s %s", c.Number, p.Kind, p.Ref).With("field", "party")
		}
		ch.Case.Party = p
		data["party"] = p
		e.endOpen(c, ch, StepFile, StepDispatch, StepSign, StepHandle)
		if err := e.start(ch, StepSign, p, now); err != nil {
			return err
		}
		return e.start(ch, StepHandle, p, now)
	case KindSign:
		e.endOpen(c, ch, StepSign)
	case KindReturn:
		ch.Case.ReturnedCount++
		data["returned_count"] = ch.Case.ReturnedCount
		data["party"] = c.Party
		e.endOpen(c, ch, StepSign, StepHandle)
		return e.start(ch, StepDispatch, nil, now)
	case KindHandle:
	case KindReportBack:
		if strings.TrimSpace(req.Reason) == "" && !slices.ContainsFunc(ch.Attachments, func(a Attachment) bool { return a.Kind == "after" }) {
			return gridline.Errorf(gridline.EInvalid, "report_back needs evidence: an \"after\" photo (multipart photo_after) or a reason saying what was done").With("field", "reason")
		}
		e.endOpen(c, ch, StepSign, StepHandle)
		return e.start(ch, StepVerify, nil, now)
	case KindVerify:
		e.endOpen(c, ch, StepVerify)
		return e.start(ch, StepClose, nil, now)
	case KindRework:
		ch.Case.ReworkCount++
		data["rework_count"] = ch.Case.ReworkCount
		e.endOpen(c, ch, StepVerify, StepClose)
		return e.start(ch, StepHandle, c.Party, now)
	case KindClose:
		e.endOpen(c, ch, StepClose)
		ch.Case.ClosedAt = &now
	case KindEvaluate:
		if req.Score < 0 || req.Score > 5 {
			return gridline.Errorf(gridline.EInvalid, "score %d is not 1..5 (or absent)", req.Score).With("field", "score")
		}
		if req.Score > 0 {
			data["score"] = req.Score
		}
	case KindRequestExtension:
		if err := checkLimit(req.Extension); err != nil {
			return err
		}
		if pendingExtension(c) != nil {
			return gridline.Errorf(gridline.EConflict, "case %s already has an extension request waiting for a decision", c.Number)
		}
		data["extension"] = req.Extension
	case KindApproveExtension, KindRejectExtension:
		pend := pendingExtension(c)
		if pend == nil {
			return gridline.Errorf(gridline.EConflict, "case %s has no extension request waiting for a decision", c.Number)
		}
		data["request_seq"] = pend.seq
		if req.Kind == KindRejectExtension {
			return nil
		}
		lim := pend.limit
		if req.Extension != nil {
			if err := checkLimit(req.Extension); err != nil {
				return err
			}
			lim = *req.Extension
		}
		data["extension"] = lim
		st := openStep(c, StepHandle)
		if st == nil {
			return gridline.Errorf(gridline.EConflict, "case %s has no open handling step to extend", c.Number)
		}
		s := *st
		s.Clock.Extensions = append(slices.Clone(s.Clock.Extensions), lim)
		e.reclock(&s)
		ch.UpdateSteps = append(ch.UpdateSteps, s)
	case KindPostpone:
		data["resume_to"] = c.State
		for _, st := range c.Steps {
			if st.EndedAt != nil || st.PausedAt != nil {
				continue
			}
			s := st
			s.Clock.Pauses = append(slices.Clone(s.Clock.Pauses), worktime.Pause{From: now})
			s.PausedAt = &now
			e.reclock(&s)
			ch.UpdateSteps = append(ch.UpdateSteps, s)
		}
	case KindResume:
		*to = resumeState(c)
		data["resumed_to"] = *to
		for _, st := range c.Steps {
			if st.EndedAt != nil || st.PausedAt == nil {
				continue
			}
			s := st
			s.Clock.Pauses = slices.Clone(s.Clock.Pauses)
			if n := len(s.Clock.Pauses); n > 0 && s.Clock.Pauses[n-1].To.IsZero() {
				s.Clock.Pauses[n-1].To = now
			}
			s.PausedAt = nil
			e.reclock(&s)
			ch.UpdateSteps = append(ch.UpdateSteps, s)
		}
	case KindCoHandle:
		if len(req.Departments) == 0 {
			return gridline.Errorf(gridline.EInvalid, "co_handle needs departments: the codes of the co-handling departments").With("field", "departments")
		}
		t, err := e.Table(ctx)
		if err != nil {
			return err
		}
		co := slices.Clone(c.CoDepartments)
		var added []string
		for _, d := range req.Departments {
			if t.Department(d) == nil {
				return gridline.Errorf(gridline.EInvalid, "department %q is not in the department list (GET /v1/departments)", gridline.Excerpt(d)).With("field", "departments")
			}
			if c.Party != nil && c.Party.Kind == PartyDepartment && c.Party.Ref == d || slices.Contains(co, d) {
				continue
			}
			co = append(co, d)
			added = append(added, d)
			ch.Notices = append(ch.Notices, Notice{Kind: "co_handling", ToKind: "department", ToRef: d, Message: fmt.Sprintf("case %s: you are asked to co-handle it", c.Number)})
		}
		if len(added) == 0 {
			return gridline.Errorf(gridline.EConflict, "case %s already has these departments", c.Number).With("field", "departments")
		}
		ch.Case.CoDepartments = co
		data["departments"] = added
	case KindSelfHandle:
		if !slices.ContainsFunc(ch.Attachments, func(a Attachment) bool { return a.Kind == "after" }) {
			return gridline.Errorf(gridline.EInvalid, "self_handle needs an \"after\" photo as evidence (multipart photo_after)").With("field", "photos")
		}
		e.endOpen(c, ch, StepFile)
		ch.Case.Flags = append(slices.Clone(c.Flags), "self_handled")
		ch.Case.ClosedAt = &now
	case KindSupervise:
		to := Notice{Kind: "supervise", ToKind: "grid", ToRef: strconv.FormatInt(c.GridID, 10), Message: fmt.Sprintf("supervision notice on case %s: %s", c.Number, req.Reason)}
		if c.Party != nil {
			to.ToKind, to.ToRef = string(c.Party.Kind), c.Party.Ref
		}
		ch.Notices = append(ch.Notices, to)
	}
	return nil
}

func checkLimit(l *worktime.Limit) error {
	if l == nil {
		return gridline.Errorf(gridline.EInvalid, "extension is required: {\"amount\":N,\"unit\":\"working_day\"}").With("field", "extension")
	}
	switch l.Unit {
	case worktime.NaturalMinute, worktime.WorkingHour, worktime.WorkingDay, worktime.NaturalDay:
	default:
		return gridline.Errorf(gridline.EInvalid, "extension unit %q is not natural_minute, working_hour, working_day or natural_day", gridline.Excerpt(string(l.Unit))).With("field", "extension.unit")
	}
	if l.Amount <= 0 || l.Amount > 10000 {
		return gridline.Errorf(gridline.EInvalid, "extension amount %d is not 1..10000", l.Amount).With("field", "extension.amount")
	}
	return nil
}

type pending struct {
	seq   int
	limit worktime.Limit
}

// pendingExtension is the last extension request of c not yet decided, or nil.
func pendingExtension(c *Case) *pending {
	var p *pending
	for _, ev := range c.Events {
		switch ev.Kind {
		case KindRequestExtension:
			var d struct {
				Extension worktime.Limit `json:"extension"`
			}
			_ = json.Unmarshal(ev.Data, &d)
			p = &pending{seq: ev.Seq, limit: d.Extension}
		case KindApproveExtension, KindRejectExtension, KindDispatch, KindReturn:
			p = nil
		}
	}
	return p
}

// resumeState is the state c was postponed from.
func resumeState(c *Case) State {
	for i := len(c.Events) - 1; i >= 0; i-- {
		if c.Events[i].Kind == KindPostpone {
			return c.Events[i].From
		}
	}
	return Dispatched
}

// gridWorker is the party "the worker of grid identity id" on now's day: the holder of the
// grid's primary post (a worker party with no person, as a client may send it, is this).
func (e *Engine) gridWorker(id int64) (*Party, error) {
	ix := e.index.Index()
	if ix == nil {
		return nil, gridline.Errorf(gridline.EUnavailable, "the grid index is still being built: try again in a few seconds")
	}
	day := gridline.Today(e.clock, e.opt.Location)
	i := ix.VersionOn(id, day)
	if i < 0 {
		return nil, gridline.Errorf(gridline.EInvalid, "grid %d has no boundary on %s: send a worker party with the person's id as ref", id, gridline.Date(day)).With("field", "party")
	}
	pl := &place{ix: ix, day: day}
	w, ok := pl.holder(i, gridline.PrimaryPost(ix.Grid(i).Level, ix.Grid(i).Layer))
	if !ok {
		return nil, gridline.Errorf(gridline.ERule, "grid %s has no one in its %s post on %s: dispatch to a post above it or a department", ix.Grid(i).Code,
			gridline.PrimaryPost(ix.Grid(i).Level, ix.Grid(i).Layer), gridline.Date(day)).With("field", "party")
	}
	return &w, nil
}
