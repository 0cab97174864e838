// Package coverage audits a district's grids: the promise "full coverage, no gaps, no overlaps, a
// worker in every grid" (全覆盖、无缝隙、无重叠) checked for a scope on a date. It finds gaps,
// overlaps, slivers and children outside their parents (geometry), codes, names and four bounds
// that break the hierarchy's rules, vacant posts, and grids whose workload breaks the sizing rule.
//
// The geometry rules find their candidates in Go, from the in-memory index every server already
// holds: in a clean partition the children's rings, walked with the interior on the left, cancel
// each other edge for edge and leave exactly the parent's boundary. A family (a parent and its
// children in one layer) whose edges cancel has no gap, no overlap and no child outside; only the
// others are sent to PostGIS (see Measurer) to measure what is wrong, with the same operations an
// analyst would use. Everything else is computed in Go.
package coverage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

// Rules, as they appear in findings, summaries and --fail-on.
const (
	RuleGap             = "gap"              // part of a parent covered by none of its children
	RuleOverlap         = "overlap"          // area shared by two siblings
	RuleSliver          = "sliver"           // a gap or an overlap narrower than the sliver width
	RuleOutsideParent   = "outside_parent"   // a child's area beyond its parent's boundary
	RuleInvalidGeometry = "invalid_geometry" // a geometry GEOS calls invalid (measured after ST_MakeValid)
	RuleCodePrefix      = "code_prefix"      // a code that does not extend its parent's code
	RuleCodeFormat      = "code_format"      // a code that breaks the digit rule of its level
	RuleDuplicateName   = "duplicate_name"   // two siblings with one name
	RuleFourBounds      = "four_bounds"      // a grid without its four bounds (四至)
	RuleVacantPost      = "vacant_post"      // nobody holds the grid's primary post
	RuleNoChief         = "no_chief"         // no grid chief on the grid or above it
	RuleTooManyPosts    = "too_many_posts"   // a person holding posts in too many grids
	RuleWorkload        = "workload"         // households or population outside the sizing rule
	// RuleHouseholdsMismatch (households.go): the grid's households against the address register's.
)

// AllRules lists every rule in the order a summary shows them.
var AllRules = []string{RuleGap, RuleOverlap, RuleSliver, RuleOutsideParent, RuleInvalidGeometry,
	RuleCodePrefix, RuleCodeFormat, RuleDuplicateName, RuleFourBounds,
	RuleVacantPost, RuleNoChief, RuleTooManyPosts, RuleWorkload, RuleHouseholdsMismatch}

// geometryRules need the geometry of the families.
var geometryRules = []string{RuleGap, RuleOverlap, RuleSliver, RuleOutsideParent, RuleInvalidGeometry}

// Severities.
const (
	SeverityError   = "error"   // breaks the promise: fix before publishing
	SeverityWarning = "warning" // worth a look: digitising noise, advisory sizing
)

// Index is what the audit reads of the grids: every grid version with its geometry, and the staff
// of every grid. *resolve.GridIndex satisfies it.
type Index interface {
	Len() int
	Grid(i int32) *gridline.Grid
	StaffOf(id int64) []gridline.Staff
}

// Sizing is the sizing rule for one level of the comprehensive layer, urban or rural: the
// households a grid (per full-time worker) should have, and the most residents. Zero means no bound.
type Sizing struct {
	Level         gridline.Level `json:"level"`
	Rural         bool           `json:"rural"`
	MinHouseholds int            `json:"min_households"`
	MaxHouseholds int            `json:"max_households"`
	MaxPopulation int            `json:"max_population"`
}

// DefaultSizing is the provincial practice for social-governance grids (unverified: a default a
// deployment changes): an urban basic grid 300-500 households and at most 2,500 residents, a rural
// one about 300 households (250-350).
var DefaultSizing = []Sizing{
	{Level: gridline.LevelGrid, MinHouseholds: 300, MaxHouseholds: 500, MaxPopulation: 2500},
	{Level: gridline.LevelGrid, Rural: true, MinHouseholds: 250, MaxHouseholds: 350},
}

// DefaultCodeDigits is the digit rule per level of the comprehensive layer: the 6-digit county
// code, 3 digits for the subdistrict, 3 for the community, 3 for the grid (15 digits, DB11/T
// 2157-2023) and 3 more for a micro grid. Special grids follow the basic grids' rule.
var DefaultCodeDigits = map[gridline.Level]int{
	gridline.LevelDistrict: 6, gridline.LevelSubdistrict: 9, gridline.LevelCommunity: 12,
	gridline.LevelGrid: 15, gridline.LevelMicro: 18,
}

// Options are the tolerances and thresholds of an audit. The zero value means the defaults.
type Options struct {
	// MinAreaM2 is the area under which a gap, overlap or part outside the parent is noise
	// (default 1 m², the write rules' tolerance for a child outside its parent).
	MinAreaM2 float64
	// SliverWidthM: a gap or overlap narrower than this (twice the radius of its largest
	// inscribed circle) is a sliver (default 2 m).
	SliverWidthM float64
	// MaxGridsPerPerson: a person holding posts in more grids than this is reported (default 3).
	MaxGridsPerPerson int
	// Sizing replaces DefaultSizing when not nil.
	Sizing []Sizing
	// CodeDigits replaces DefaultCodeDigits when not nil.
	CodeDigits map[gridline.Level]int
	// MaxFindings bounds the findings a report lists (default 10,000); the summary counts all.
	MaxFindings int
	// BatchMembers bounds the geometries sent to PostGIS in one statement (default 4,000), so a
	// scope of a million grids is measured in bounded memory.
	BatchMembers int
	// HouseholdsTolerance is the share of a grid's households by which the address register's
	// count may differ before households_mismatch reports it (default 0: any difference beyond one
	// household).
	HouseholdsTolerance float64
}

func (o Options) withDefaults() Options {
	if o.MinAreaM2 <= 0 {
		o.MinAreaM2 = 1
	}
	if o.SliverWidthM <= 0 {
		o.SliverWidthM = 2
	}
	if o.MaxGridsPerPerson <= 0 {
		o.MaxGridsPerPerson = 3
	}
	if o.Sizing == nil {
		o.Sizing = DefaultSizing
	}
	if o.CodeDigits == nil {
		o.CodeDigits = DefaultCodeDigits
	}
	if o.MaxFindings <= 0 {
		o.MaxFindings = 10000
	}
	if o.BatchMembers <= 0 {
		o.BatchMembers = 4000
	}
	return o
}

// Request is one audit.
type Request struct {
	Scope string    // code of the grid whose subtree is audited; "" for every district
	At    time.Time // the date: grid versions and assignments valid on it
	Rules []string  // the rules to run; empty for all
	// Layers are the layers whose children must cover their parent: nil means the comprehensive
	// layer and every thematic layer present (thematic layers such as police grids tile their
	// jurisdiction). The special layer never does: its grids mark institutions.
	Layers  []gridline.Layer
	Options Options
}

// Finding is one problem.
type Finding struct {
	Rule       string         `json:"rule"`
	Severity   string         `json:"severity"`
	Level      gridline.Level `json:"level,omitempty"` // the level of the grids concerned (children for geometry)
	Layer      gridline.Layer `json:"layer,omitempty"`
	ParentCode string         `json:"parent_code,omitempty"`
	Codes      []string       `json:"codes"`             // the grids concerned (for a gap: the children around it)
	Kind       string         `json:"kind,omitempty"`    // for a sliver: gap or overlap
	AreaM2     float64        `json:"area_m2,omitempty"` // gaps, overlaps, slivers, outside
	WidthM     float64        `json:"width_m,omitempty"` // twice the radius of the largest inscribed circle
	Message    string         `json:"message"`
	AsOf       string         `json:"as_of"`
	Details    map[string]any `json:"details,omitempty"`
	// Geometry is the gap, overlap or outside part; for other rules a point on the grid.
	Geometry orb.Geometry `json:"-"`
	// Bound is the box to show: the grid's, or the piece's.
	Bound orb.Bound `json:"-"`
}

// Count is how many findings a rule had at a level, and their area.
type Count struct {
	Count  int     `json:"count"`
	AreaM2 float64 `json:"area_m2,omitempty"`
}

// Balance is the spread of households among siblings: the basic grids of one parent, or of a level.
type Balance struct {
	ParentCode string  `json:"parent_code,omitempty"`
	Level      string  `json:"level"`
	Grids      int     `json:"grids"`
	Mean       float64 `json:"mean_households"`
	CV         float64 `json:"cv"`   // coefficient of variation (population standard deviation / mean)
	Gini       float64 `json:"gini"` // Gini coefficient of households
}

// Summary counts the findings per rule and level.
type Summary struct {
	Grids      int                         `json:"grids"`      // grid versions in scope
	Families   int                         `json:"families"`   // parents whose children were checked for coverage
	Candidates int                         `json:"candidates"` // families sent to PostGIS to be measured
	Findings   int                         `json:"findings"`
	Truncated  bool                        `json:"truncated,omitempty"` // more findings than the report lists
	ByRule     map[string]map[string]Count `json:"by_rule"`             // rule -> level -> count
	BySeverity map[string]int              `json:"by_severity"`
	Balance    []Balance                   `json:"balance,omitempty"` // per level, then the five most uneven parents
	ElapsedMS  float64                     `json:"elapsed_ms"`
	// StepsMS splits ElapsedMS: scope (the versions on the date and their families), candidates
	// (the edge matching in Go), measure (PostGIS), rules (everything else, in Go).
	StepsMS map[string]float64 `json:"steps_ms"`
}

// Report is an audit's answer.
type Report struct {
	Scope    string           `json:"scope"`
	AsOf     string           `json:"as_of"`
	Rules    []string         `json:"rules"`
	Layers   []gridline.Layer `json:"layers"`
	Options  Options          `json:"-"`
	Summary  Summary          `json:"summary"`
	Findings []Finding        `json:"-"`
}

// Auditor runs audits against the current index.
type Auditor struct {
	index      func() Index
	measure    Measurer
	households RegisterHouseholds // nil: households_mismatch finds nothing
}

// New makes an Auditor: index gives the current index (nil while none is built), measure the
// PostGIS measurements.
func New(index func() Index, measure Measurer) *Auditor {
	return &Auditor{index: index, measure: measure}
}

// ParseRules reads a comma-separated list of rules ("" for all); "geometry", "hierarchy",
// "staffing" and "workload" name groups.
func ParseRules(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(AllRules), nil
	}
	var out []string
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		switch r {
		case "geometry":
			out = append(out, geometryRules...)
		case "hierarchy":
			out = append(out, RuleCodePrefix, RuleCodeFormat, RuleDuplicateName, RuleFourBounds)
		case "staffing":
			out = append(out, RuleVacantPost, RuleNoChief, RuleTooManyPosts)
		default:
			if !slices.Contains(AllRules, r) {
				return nil, gridline.Errorf(gridline.EInvalid, "unknown rule %q: rules are %s, or the groups geometry, hierarchy, staffing", r, strings.Join(AllRules, ", ")).With("field", "rules")
			}
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Audit runs the rules of req over its scope. An unknown scope is a not_found error; invalid
// geometries are findings; a cancelled ctx stops the audit with ctx's error.
func (a *Auditor) Audit(ctx context.Context, req Request) (*Report, error) {
	start := time.Now()
	ix := a.index()
	if ix == nil {
		return nil, gridline.Errorf(gridline.EUnavailable, "the grid index is not built yet: try again in a few seconds")
	}
	rules, err := ParseRules(strings.Join(req.Rules, ","))
	if err != nil {
		return nil, err
	}
	req.Rules = rules
	opt := req.Options.withDefaults()
	steps := map[string]float64{}
	step := time.Now()
	lap := func(name string) {
		now := time.Now()
		steps[name] += float64(now.Sub(step).Microseconds()) / 1000
		step = now
	}
	s, err := newScope(ix, req.Scope, req.At)
	if err != nil {
		return nil, err
	}
	lap("scope")
	layers := req.Layers
	if layers == nil {
		layers = s.thematicLayers()
	}
	r := &Report{Scope: req.Scope, AsOf: gridline.Date(req.At), Rules: req.Rules, Layers: layers, Options: opt}
	r.Summary.StepsMS = steps
	c := &collector{report: r, max: opt.MaxFindings, asOf: r.AsOf, lap: lap}
	want := func(rules ...string) bool {
		for _, x := range rules {
			if slices.Contains(req.Rules, x) {
				return true
			}
		}
		return false
	}
	if want(geometryRules...) {
		if err := a.geometry(ctx, s, layers, opt, c, want); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	step = time.Now()
	if want(RuleCodePrefix, RuleCodeFormat, RuleDuplicateName, RuleFourBounds) {
		hierarchy(s, opt, c, want)
	}
	if want(RuleVacantPost, RuleNoChief, RuleTooManyPosts) {
		staffing(s, opt, c, want)
	}
	if want(RuleWorkload) {
		workload(s, opt, c)
	}
	if want(RuleHouseholdsMismatch) {
		if err := a.householdsMismatch(ctx, s, opt, c); err != nil {
			return nil, err
		}
	}
	lap("rules")
	r.Summary.Grids = len(s.members)
	r.Summary.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	c.sort()
	return r, nil
}

// collector gathers findings, counting every one and keeping up to max.
type collector struct {
	report *Report
	max    int
	asOf   string
	lap    func(step string) // adds the time since the last lap to a step
}

func (c *collector) add(f Finding) {
	f.AsOf = c.asOf
	if f.Codes == nil {
		f.Codes = []string{}
	}
	s := &c.report.Summary
	if s.ByRule == nil {
		s.ByRule, s.BySeverity = map[string]map[string]Count{}, map[string]int{}
	}
	if s.ByRule[f.Rule] == nil {
		s.ByRule[f.Rule] = map[string]Count{}
	}
	n := s.ByRule[f.Rule][string(f.Level)]
	n.Count++
	n.AreaM2 += f.AreaM2
	s.ByRule[f.Rule][string(f.Level)] = n
	s.BySeverity[f.Severity]++
	s.Findings++
	if len(c.report.Findings) >= c.max {
		s.Truncated = true
		return
	}
	c.report.Findings = append(c.report.Findings, f)
}

// sort orders findings by rule (as AllRules), then codes, then area: the same audit lists the
// same findings in the same order.
func (c *collector) sort() {
	rank := map[string]int{}
	for i, r := range AllRules {
		rank[r] = i
	}
	slices.SortStableFunc(c.report.Findings, func(a, b Finding) int {
		if d := rank[a.Rule] - rank[b.Rule]; d != 0 {
			return d
		}
		if d := strings.Compare(strings.Join(a.Codes, ","), strings.Join(b.Codes, ",")); d != 0 {
			return d
		}
		if d := strings.Compare(a.ParentCode, b.ParentCode); d != 0 {
			return d
		}
		switch {
		case a.AreaM2 < b.AreaM2:
			return -1
		case a.AreaM2 > b.AreaM2:
			return 1
		}
		return 0
	})
}

func round(x float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	if x >= 0 {
		return float64(int64(x*p+0.5)) / p
	}
	return -float64(int64(-x*p+0.5)) / p
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// gridSlice is an Index over grids held by the caller, without staff.
type gridSlice []gridline.Grid

func (g gridSlice) Len() int                       { return len(g) }
func (g gridSlice) Grid(i int32) *gridline.Grid    { return &g[i] }
func (g gridSlice) StaffOf(int64) []gridline.Staff { return nil }

// AuditGrids audits grids that need not be in the index: a draft's or an import's (the parent
// and the children it touches, each with ParentID naming its parent's ID), measured the same way.
// Staffing rules see no staff.
func (a *Auditor) AuditGrids(ctx context.Context, grids []gridline.Grid, req Request) (*Report, error) {
	b := &Auditor{index: func() Index { return gridSlice(grids) }, measure: a.measure}
	return b.Audit(ctx, req)
}
