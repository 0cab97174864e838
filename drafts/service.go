package drafts

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/coverage"
)

// Caller is who asks, as the permission check sees them: can answers whether they hold the
// permission (grids.write or drafts.review) on a grid whose chain (the grid first, then its
// parents) is given.
type Caller struct {
	AccountID int64
	Username  string
	CanWrite  func(chain []int64) bool
	CanReview func(chain []int64) bool
}

// Options tune validation.
type Options struct {
	// SliverWidthM: a piece narrower than this is refused (default: the coverage audit's 2 m).
	SliverWidthM float64
	// ToleranceM2 is how much the outline of the grids a reshape touches may change (default 1 m²,
	// the write rules' tolerance).
	ToleranceM2 float64
}

// Service runs drafts.
type Service struct {
	st    Store
	audit Auditor
	clock gridline.Clock
	loc   *time.Location
	opt   Options
}

// New makes a Service. loc is the district's time zone (what "today" is).
func New(st Store, audit Auditor, clock gridline.Clock, loc *time.Location, opt Options) *Service {
	if opt.SliverWidthM <= 0 {
		opt.SliverWidthM = 2
	}
	if opt.ToleranceM2 <= 0 {
		opt.ToleranceM2 = 1
	}
	return &Service{st: st, audit: audit, clock: clock, loc: loc, opt: opt}
}

// Today is the district's date now.
func (s *Service) Today() time.Time { return gridline.Today(s.clock, s.loc) }

// chainIDs is the grid's identity and its parents', the grid first.
func (s *Service) chainIDs(ctx context.Context, id int64, at time.Time) ([]int64, error) {
	ch, err := s.st.Chain(ctx, id, at)
	if err != nil {
		return nil, err
	}
	out := []int64{id}
	for i := len(ch) - 1; i >= 0; i-- {
		out = append(out, ch[i].ID)
	}
	return out, nil
}

func forbidden(what, perm string) error {
	return gridline.Errorf(gridline.EForbidden, "%s needs the permission %s on the draft's scope, which your grants do not give", what, perm).With("permission", perm)
}

// Create starts a draft of title on the subtree of scope (a code or id) for effective date eff
// (zero: tomorrow in the district's time zone).
func (s *Service) Create(ctx context.Context, c Caller, title, scope string, eff time.Time) (*Draft, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return nil, gridline.Errorf(gridline.EInvalid, "a draft needs a title").With("field", "title")
	}
	if len(title) > 200 {
		return nil, gridline.Errorf(gridline.EInvalid, "the title is longer than 200 characters").With("field", "title")
	}
	today := s.Today()
	if eff.IsZero() {
		eff = today.AddDate(0, 0, 1)
	}
	if !eff.After(today) {
		return nil, gridline.Errorf(gridline.EInvalidDate, "effective_date %s must be after today (%s): a draft changes the grids from a later day", gridline.Date(eff), gridline.Date(today)).With("field", "effective_date")
	}
	if scope == "" {
		return nil, gridline.Errorf(gridline.EInvalid, "scope is required: the code or id of the grid whose subtree the draft edits (a community or a subdistrict)").With("field", "scope")
	}
	g, err := s.st.Grid(ctx, scope, eff)
	if err != nil {
		return nil, err
	}
	chain, err := s.chainIDs(ctx, g.ID, eff)
	if err != nil {
		return nil, err
	}
	if !c.CanWrite(chain) {
		return nil, forbidden("starting a draft on "+g.Code, "grids.write")
	}
	seq, err := s.st.ChangeSeq(ctx)
	if err != nil {
		return nil, err
	}
	d := &Draft{Title: title, AuthorID: c.AccountID, Author: c.Username, ScopeID: g.ID, ScopeCode: g.Code,
		EffectiveDate: eff, State: StateDraft, BaseSeq: seq, Acknowledged: []string{}}
	if err := s.st.CreateDraft(ctx, d, &Work{}); err != nil {
		return nil, err
	}
	return s.st.LoadDraft(ctx, d.ID)
}

// Get is the draft id, if the caller may see it: its author, or anyone who may write or review
// on its scope.
func (s *Service) Get(ctx context.Context, c Caller, id int64) (*Draft, error) {
	d, err := s.st.LoadDraft(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.AuthorID == c.AccountID && c.AccountID != 0 {
		return d, nil
	}
	chain, err := s.chainIDs(ctx, d.ScopeID, d.EffectiveDate)
	if err != nil {
		return nil, err
	}
	if !c.CanWrite(chain) && !c.CanReview(chain) {
		return nil, gridline.Errorf(gridline.ENotFound, "no draft %d that you may see", id)
	}
	return d, nil
}

// List lists drafts the caller may see, filtered.
func (s *Service) List(ctx context.Context, c Caller, f ListFilter) ([]Draft, error) {
	if f.Queue {
		f.State, f.NotBy = StateSubmitted, c.AccountID
	}
	list, err := s.st.ListDrafts(ctx, f)
	if err != nil {
		return nil, err
	}
	out := []Draft{}
	for _, d := range list {
		if d.AuthorID == c.AccountID && !f.Queue {
			out = append(out, d)
			continue
		}
		chain, err := s.chainIDs(ctx, d.ScopeID, d.EffectiveDate)
		if err != nil {
			continue // the scope no longer exists on that date
		}
		if f.Queue && c.CanReview(chain) || !f.Queue && (c.CanWrite(chain) || c.CanReview(chain)) {
			out = append(out, d)
		}
	}
	return out, nil
}

// editable loads draft id for a change by its author side: the caller must hold grids.write on
// its scope, and the draft be in one of states.
func (s *Service) load(ctx context.Context, c Caller, id int64, what string, review bool, states ...State) (*Draft, error) {
	d, err := s.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	chain, err := s.chainIDs(ctx, d.ScopeID, d.EffectiveDate)
	if err != nil {
		return nil, err
	}
	if review {
		if !c.CanReview(chain) {
			return nil, forbidden(what, "drafts.review")
		}
	} else if !c.CanWrite(chain) {
		return nil, forbidden(what, "grids.write")
	}
	if len(states) > 0 && !slices.Contains(states, d.State) {
		names := make([]string, len(states))
		for i, st := range states {
			names[i] = string(st)
		}
		return nil, gridline.Errorf(gridline.EConflict, "draft %d is %s: %s needs it to be %s", d.ID, d.State, what, strings.Join(names, " or ")).With("state", string(d.State))
	}
	return d, nil
}

// Apply adds one operation (JSON, as POST /v1/drafts/{id}/operations takes it) to the draft and
// validates the result. A refused operation writes nothing.
func (s *Service) Apply(ctx context.Context, c Caller, id int64, raw json.RawMessage) (*Draft, error) {
	d, err := s.load(ctx, c, id, "editing a draft", false, StateDraft, StateReturned)
	if err != nil {
		return nil, err
	}
	op, err := ParseOp(raw)
	if err != nil {
		return nil, err
	}
	e := s.newEdit(ctx, d)
	if err := e.apply(op); err != nil {
		return nil, err
	}
	problems, err := s.validate(ctx, d, e.work)
	if err != nil {
		return nil, err
	}
	norm, _ := json.Marshal(op)
	if _, err := s.st.AppendRevision(ctx, d, "op", norm, e.work, problems, d.BaseSeq); err != nil {
		return nil, err
	}
	return s.st.LoadDraft(ctx, d.ID)
}

// Undo moves the draft back one revision; Redo forward again.
func (s *Service) Undo(ctx context.Context, c Caller, id int64) (*Draft, error) {
	return s.step(ctx, c, id, "undo")
}

// Redo re-applies the revision last undone.
func (s *Service) Redo(ctx context.Context, c Caller, id int64) (*Draft, error) {
	return s.step(ctx, c, id, "redo")
}

func (s *Service) step(ctx context.Context, c Caller, id int64, action string) (*Draft, error) {
	d, err := s.load(ctx, c, id, action+" in a draft", false, StateDraft, StateReturned)
	if err != nil {
		return nil, err
	}
	revs, _, err := s.st.History(ctx, id)
	if err != nil {
		return nil, err
	}
	to := -1
	if action == "undo" {
		for _, r := range revs {
			if r.Revision == d.Head && r.Prev != nil {
				to = *r.Prev
			}
		}
		if to < 0 {
			return nil, gridline.Errorf(gridline.EConflict, "draft %d has nothing to undo", id)
		}
	} else {
		for _, r := range revs {
			if r.Prev != nil && *r.Prev == d.Head && r.Revision > to {
				to = r.Revision
			}
		}
		if to < 0 {
			return nil, gridline.Errorf(gridline.EConflict, "draft %d has nothing to redo", id)
		}
	}
	if err := s.st.MoveHead(ctx, d, to, action); err != nil {
		return nil, err
	}
	return s.st.LoadDraft(ctx, id)
}

// Events lists the draft's events (d was read by Get, which checked the caller).
func (s *Service) Events(ctx context.Context, d *Draft) ([]Event, error) {
	_, ev, err := s.st.History(ctx, d.ID)
	return ev, err
}

// History lists the draft's revisions and events.
func (s *Service) History(ctx context.Context, c Caller, id int64) ([]Revision, []Event, error) {
	if _, err := s.Get(ctx, c, id); err != nil {
		return nil, nil, err
	}
	return s.st.History(ctx, id)
}

// Submit sends the draft for review: refused while a rule violation remains or a coverage finding
// is not acknowledged.
func (s *Service) Submit(ctx context.Context, c Caller, id int64, ack []string) (*Draft, error) {
	d, err := s.load(ctx, c, id, "submitting a draft", false, StateDraft, StateReturned)
	if err != nil {
		return nil, err
	}
	if d.Head == 0 {
		return nil, gridline.Errorf(gridline.EInvalid, "draft %d has no operations: there is nothing to review", id)
	}
	var rules, unacked []string
	for _, p := range d.Problems {
		switch {
		case p.Kind == KindRule:
			rules = append(rules, p.Message)
		case !slices.Contains(ack, p.Key):
			unacked = append(unacked, p.Key)
		}
	}
	if len(rules) > 0 {
		return nil, gridline.Errorf(gridline.ERule, "draft %d still breaks %d write rule(s), first: %s; fix them before submitting", id, len(rules), rules[0]).With("problems", rules)
	}
	if len(unacked) > 0 {
		return nil, gridline.Errorf(gridline.EInvalid, "draft %d has %d coverage finding(s) not acknowledged: send their keys in \"acknowledge\" (first: %s)", id, len(unacked), unacked[0]).With("unacknowledged", unacked)
	}
	if ack == nil {
		ack = []string{}
	}
	if err := s.st.Transition(ctx, d, []State{StateDraft, StateReturned}, StateSubmitted, "submit", "", ack); err != nil {
		return nil, err
	}
	return s.st.LoadDraft(ctx, id)
}

// Review approves (approve true) or returns a submitted draft, with a comment. Nobody reviews
// their own draft.
func (s *Service) Review(ctx context.Context, c Caller, id int64, approve bool, comment string) (*Draft, error) {
	action, to := "return", StateReturned
	if approve {
		action, to = "approve", StateApproved
	}
	d, err := s.load(ctx, c, id, action+" of a draft", true, StateSubmitted)
	if err != nil {
		return nil, err
	}
	if d.AuthorID == c.AccountID {
		return nil, gridline.Errorf(gridline.EForbidden, "draft %d is your own: another reviewer must %s it", id, action)
	}
	if !approve && strings.TrimSpace(comment) == "" {
		return nil, gridline.Errorf(gridline.EInvalid, "returning a draft needs a comment that says what to change").With("field", "comment")
	}
	if err := s.st.Transition(ctx, d, []State{StateSubmitted}, to, action, comment, nil); err != nil {
		return nil, err
	}
	return s.st.LoadDraft(ctx, id)
}

// Withdraw gives the draft up.
func (s *Service) Withdraw(ctx context.Context, c Caller, id int64) (*Draft, error) {
	d, err := s.load(ctx, c, id, "withdrawing a draft", false, StateDraft, StateReturned, StateSubmitted, StateApproved)
	if err != nil {
		return nil, err
	}
	if err := s.st.Transition(ctx, d, []State{StateDraft, StateReturned, StateSubmitted, StateApproved}, StateWithdrawn, "withdraw", "", nil); err != nil {
		return nil, err
	}
	return s.st.LoadDraft(ctx, id)
}

// Publish writes an approved draft's grids as versions valid from its effective date.
func (s *Service) Publish(ctx context.Context, c Caller, id int64) (*Draft, error) {
	d, err := s.load(ctx, c, id, "publishing a draft", false, StateApproved)
	if err != nil {
		return nil, err
	}
	if !d.EffectiveDate.After(s.Today()) {
		return nil, gridline.Errorf(gridline.EConflict, "draft %d takes effect on %s, which is not after today (%s): rebase it onto a later date by starting a new draft", id, gridline.Date(d.EffectiveDate), gridline.Date(s.Today()))
	}
	if err := s.st.Publish(ctx, d, s.plan(d, d.Work)); err != nil {
		return nil, err
	}
	return s.st.LoadDraft(ctx, id)
}

// Rebase replays the draft's operations on the grids as they are now and makes that its new
// base; a submitted or approved draft goes back to state draft, to be submitted and reviewed
// again. An operation that no longer applies is a conflict, and nothing changes.
func (s *Service) Rebase(ctx context.Context, c Caller, id int64) (*Draft, error) {
	d, err := s.load(ctx, c, id, "rebasing a draft", false, StateDraft, StateReturned, StateSubmitted, StateApproved)
	if err != nil {
		return nil, err
	}
	revs, _, err := s.st.History(ctx, id)
	if err != nil {
		return nil, err
	}
	byRev := map[int]Revision{}
	for _, r := range revs {
		byRev[r.Revision] = r
	}
	var path []Revision
	for r := d.Head; ; {
		rv := byRev[r]
		if rv.Kind == "op" {
			path = append(path, rv)
		}
		if rv.Prev == nil {
			break
		}
		r = *rv.Prev
	}
	seq, err := s.st.ChangeSeq(ctx)
	if err != nil {
		return nil, err
	}
	fresh := *d
	fresh.Work = &Work{}
	e := s.newEdit(ctx, &fresh)
	for i := len(path) - 1; i >= 0; i-- {
		op, err := ParseOp(path[i].Op)
		if err != nil {
			return nil, err
		}
		if err := e.apply(op); err != nil {
			return nil, gridline.Errorf(gridline.EConflict, "revision %d (%s) no longer applies to the grids as they are now: %s; nothing was changed", path[i].Revision, op.Op, gridline.ErrorMessage(err)).With("revision", path[i].Revision)
		}
	}
	problems, err := s.validate(ctx, d, e.work)
	if err != nil {
		return nil, err
	}
	if _, err := s.st.AppendRevision(ctx, d, "rebase", nil, e.work, problems, seq); err != nil {
		return nil, err
	}
	return s.st.LoadDraft(ctx, id)
}

// plan is what publishing w writes.
func (s *Service) plan(d *Draft, w *Work) *Plan {
	p := &Plan{DraftID: d.ID, ScopeID: d.ScopeID, Effective: d.EffectiveDate, BaseSeq: d.BaseSeq}
	for _, g := range w.Grids {
		if g.ID > 0 {
			p.Touched = append(p.Touched, g.ID)
		}
		if g.Retired {
			if g.ID > 0 {
				p.Retire = append(p.Retire, g.ID)
			}
		} else {
			p.Versions = append(p.Versions, g.grid(d.EffectiveDate))
		}
		for _, f := range g.From {
			p.Lineage = append(p.Lineage, Lineage{GridID: g.ID, FromID: f.GridID, Op: f.Op})
		}
		for _, f := range g.StaffFrom {
			p.Staff = append(p.Staff, StaffMove{From: f, To: g.ID})
		}
		if g.BoundsHand {
			p.KeepBounds = append(p.KeepBounds, g.ID)
		}
		if g.Recompute {
			p.Recompute = append(p.Recompute, g.ID)
		}
		switch {
		case g.Retired && g.Into != 0:
			p.Reneighbour = append(p.Reneighbour, g.Into)
		case g.Retired:
		case g.ID < 0 || g.BaseName != "" && g.Name != g.BaseName:
			p.Reneighbour = append(p.Reneighbour, g.ID)
		}
	}
	// Parents before children, so that a new grid's parent exists when it is written.
	sort.SliceStable(p.Versions, func(i, j int) bool { return p.Versions[i].Level.Rank() < p.Versions[j].Level.Rank() })
	return p
}

// coverageRules are the coverage audit's rules run after every operation.
var coverageRules = []string{coverage.RuleGap, coverage.RuleOverlap, coverage.RuleSliver, coverage.RuleOutsideParent,
	coverage.RuleInvalidGeometry, coverage.RuleCodePrefix, coverage.RuleCodeFormat, coverage.RuleDuplicateName, coverage.RuleWorkload}

// validate runs the write rules over the draft's grids, and the coverage audit over the parents
// whose children it changes.
func (s *Service) validate(ctx context.Context, d *Draft, w *Work) ([]Problem, error) {
	problems := []Problem{}
	if len(w.Grids) == 0 {
		return problems, nil
	}
	rp, err := s.st.CheckPlan(ctx, s.plan(d, w))
	if err != nil {
		return nil, err
	}
	byCode := map[string]*Grid{}
	for _, g := range w.Grids {
		byCode[g.Code] = g
	}
	for _, p := range rp {
		if len(p.GridCodes) > 0 {
			if g := byCode[p.GridCodes[0]]; g != nil && p.Geometry == nil {
				p.Geometry = g.Geometry
			}
		}
		problems = append(problems, p)
	}
	if s.audit == nil {
		return problems, nil
	}
	// The parents touched: the parents of changed grids (before and after) and changed grids with
	// children.
	e := s.newEdit(ctx, d)
	e.work = w
	e.index()
	parents := map[int64]bool{}
	for _, g := range w.Grids {
		if g.ParentID != 0 {
			parents[g.ParentID] = true
		}
		if g.BaseParent != 0 {
			parents[g.BaseParent] = true
		}
		if !g.Retired && g.Level != gridline.LevelMicro {
			parents[g.ID] = true
		}
	}
	ids := make([]int64, 0, len(parents))
	for id := range parents {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, pid := range ids {
		p, err := e.get(pid)
		if err != nil || p.Retired {
			continue
		}
		kids, err := e.children(pid)
		if err != nil {
			return nil, err
		}
		if len(kids) == 0 {
			continue
		}
		grids := []gridline.Grid{p.grid(d.EffectiveDate)}
		grids[0].ParentID = 0
		for _, k := range kids {
			grids = append(grids, k.grid(d.EffectiveDate))
		}
		rep, err := s.audit.AuditGrids(ctx, grids, coverage.Request{Scope: p.Code, At: d.EffectiveDate, Rules: coverageRules})
		if err != nil {
			return nil, err
		}
		for _, f := range rep.Findings {
			codes := f.Codes
			if codes == nil {
				codes = []string{}
			}
			problems = append(problems, Problem{Key: fmt.Sprintf("%s:%s:%s", f.Rule, p.Code, strings.Join(codes, ",")),
				Kind: KindCoverage, Rule: f.Rule, Severity: f.Severity, Message: f.Message, GridCodes: codes, Geometry: f.Geometry})
		}
	}
	return problems, nil
}
