package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/worktime"
)

// A month of synthetic demo cases (issue #15, "Demo"): every case is a script of a report and
// the transitions a dispatcher, a handler, a grid worker and a supervisor make, with times in the
// past. PlayCases runs the scripts through the real dispatch engine (its intake and its
// transitions) on a stepping clock, so the events, steps and deadlines are the engine's own.
// Nothing here is real: the categories are weighted as districts report them (市容环境 and
// 街面秩序 dominate), the places cluster around the special grids (schools, markets, hospitals ...),
// along community borders (main roads) and in the populated basic grids.

// Actor is who makes a transition of a demo script.
type Actor string

const (
	ActorDispatcher Actor = "dispatcher" // 指挥中心 (file, void, dispatch, close, postpone ...)
	ActorHandler    Actor = "handler"    // the party (sign, return, handle, report back, extension)
	ActorWorker     Actor = "worker"     // the grid worker (patrol reports, verification, rework)
	ActorSupervisor Actor = "supervisor" // supervision, evaluation
	ActorPublic     Actor = ""           // a trusted intake: hotline systems, cameras, the public app
)

// CaseStep is one transition of a script.
type CaseStep struct {
	At  time.Time
	As  Actor
	Req dispatch.Request
}

// CaseScript is one demo case: its report, who reports it, and its transitions in order.
type CaseScript struct {
	At     time.Time
	As     Actor
	Report dispatch.Report
	Steps  []CaseStep
	// Want is the state the script ends in (checked by PlayCases against the engine's answer).
	Want dispatch.State
}

// catWeight is a category of the demo catalogue with how often it is reported (per mille, roughly
// as districts' monthly reports run: 市容环境 and 街面秩序 well over half) and where.
type catWeight struct {
	code     string
	standard string
	class    string
	weight   float64
	// place: shares of (point of interest, main road, residential grid)
	poi, road, home float64
	urgent          float64 // share reported urgent
}

var demoCategories = []catWeight{
	{"0101", "legacy", "01", 40, 0.1, 0.3, 0.6, 0},
	{"0102", "legacy", "01", 90, 0.3, 0.2, 0.5, 0},
	{"0103", "legacy", "01", 50, 0.2, 0.4, 0.4, 0},
	{"0104", "legacy", "01", 60, 0.2, 0.6, 0.2, 0},
	{"0105", "legacy", "01", 60, 0.2, 0.3, 0.5, 0},
	{"0201", "legacy", "02", 60, 0.3, 0.2, 0.5, 0},
	{"0202", "legacy", "02", 20, 0.4, 0.5, 0.1, 0},
	{"0301", "legacy", "03", 30, 0, 0.5, 0.5, 0},
	{"0302", "legacy", "03", 30, 0, 0.7, 0.3, 0},
	{"0303", "legacy", "03", 20, 0, 0.9, 0.1, 0},
	{"0401", "legacy", "04", 6, 0, 0.9, 0.1, 0.6},
	{"0402", "legacy", "04", 8, 0, 0.7, 0.3, 0.6},
	{"0403", "legacy", "04", 3, 0.2, 0.2, 0.6, 0.9},
	{"0501", "legacy", "05", 60, 0.6, 0.3, 0.1, 0},
	{"0502", "legacy", "05", 90, 0.5, 0.4, 0.1, 0},
	{"0503", "legacy", "05", 60, 0.5, 0.4, 0.1, 0},
	{"0504", "legacy", "05", 70, 0.4, 0.5, 0.1, 0},
	{"0505", "legacy", "05", 50, 0.5, 0.3, 0.2, 0},
	{"2101", "legacy", "21", 5, 0, 0, 1, 0},
	{"01001", "gbt47678.5", "01", 12, 0, 0.8, 0.2, 0},
	{"01002", "gbt47678.5", "01", 12, 0, 0.8, 0.2, 0},
	{"01010", "gbt47678.5", "01", 15, 0.1, 0.8, 0.1, 0},
	{"06001", "gbt47678.5", "06", 10, 0.1, 0.3, 0.6, 0},
	{"06010", "gbt47678.5", "06", 30, 0.3, 0.2, 0.5, 0},
	{"06028", "gbt47678.5", "06", 20, 0.3, 0.1, 0.6, 0},
	{"07001", "gbt47678.5", "07", 20, 0.3, 0.2, 0.5, 0},
	{"08004", "gbt47678.5", "08", 10, 0, 0.7, 0.3, 0},
	{"09006", "gbt47678.5", "09", 30, 0.5, 0.4, 0.1, 0.05},
	{"09009", "gbt47678.5", "09", 30, 0.4, 0.5, 0.1, 0.05},
	{"09012", "gbt47678.5", "09", 15, 0.3, 0.2, 0.5, 0.2},
	{"10001", "gbt47678.5", "10", 10, 0.2, 0.3, 0.5, 0},
}

// redispatchTo is the department a case returned as "not ours" is sent to next, by class.
var redispatchTo = map[string]string{"01": "chengguan", "02": "chengguan", "03": "zhujian", "04": "center", "05": "chengguan",
	"06": "huanbao", "07": "chengguan", "08": "zhujian", "09": "jiaojing", "10": "center", "21": "chengguan"}

// poiWeight is how much a kind of special grid draws cases.
var poiWeight = map[string]float64{"market": 5, "school": 3, "station": 4, "mall": 3, "hospital": 3, "government": 1, "park": 1, "enterprise": 1}

// CasePlan makes n demo case scripts for district d ending at now: reported over the 30 days
// before now, most of them worked through to closed or evaluated, a share open with lights green,
// yellow and red at now (their last step placed by deadlines: the district's working calendar and
// time limits). The same seed, district, deadlines and now give the same scripts.
func CasePlan(d *District, deadlines dispatch.Deadlines, now time.Time, loc *time.Location, seed int64, n int) []CaseScript {
	p := newPlaces(d, newRand(seed, 40))
	rng := newRand(seed, 41)
	var total float64
	for _, c := range demoCategories {
		total += c.weight
	}
	out := make([]CaseScript, 0, n)
	for i := range n {
		cw := pickCategory(rng, total)
		urg := dispatch.Normal
		if rng.Float64() < cw.urgent {
			urg = dispatch.Urgent
		}
		pt, where := p.pick(rng, cw)
		src, as := pickSource(rng)
		s := CaseScript{As: as, Report: dispatch.Report{Source: src, CategoryCode: cw.code, Urgency: urg, Lon: pt[0], Lat: pt[1],
			Description: where, ExternalID: fmt.Sprintf("demo-%05d", i+1)}}
		if src == dispatch.SourceHotline || src == dispatch.SourcePublic {
			s.Report.Reporter = dispatch.Reporter{Name: "市民（合成）"}
		}
		b := &builder{rng: rng, cw: cw, dl: deadlines, now: now, urg: urg}
		r := rng.Float64()
		switch {
		case src == dispatch.SourcePatrol && r < 0.18:
			s.Report.SelfHandled = true
			s.Want = dispatch.Closed
			s.At = b.reportTime(loc)
		case r < 0.04:
			b.add(dispatch.KindVoid, ActorDispatcher, minutes(rng, 3, 40), dispatch.Request{Reason: "重复上报或不属于受理范围（合成）"})
			s.Want = dispatch.Voided
			s.At = b.forward(b.reportTime(loc))
		case r < 0.24:
			s.Want = b.open(s.Report.Source)
			s.At = b.placeOpen()
		default:
			s.Want = b.closed()
			s.At = b.forward(b.reportTime(loc))
		}
		s.Steps = b.steps
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b CaseScript) int { return a.At.Compare(b.At) })
	return out
}

func minutes(rng *rand.Rand, lo, hi float64) time.Duration {
	return time.Duration((lo + rng.Float64()*(hi-lo)) * float64(time.Minute))
}

func pickCategory(rng *rand.Rand, total float64) catWeight {
	x := rng.Float64() * total
	for _, c := range demoCategories {
		if x < c.weight {
			return c
		}
		x -= c.weight
	}
	return demoCategories[len(demoCategories)-1]
}

func pickSource(rng *rand.Rand) (dispatch.Source, Actor) {
	switch x := rng.Float64(); {
	case x < 0.45:
		return dispatch.SourcePatrol, ActorWorker
	case x < 0.75:
		return dispatch.SourceHotline, ActorDispatcher
	case x < 0.88:
		return dispatch.SourceCamera, ActorPublic
	default:
		return dispatch.SourcePublic, ActorPublic
	}
}

// builder collects a script's transitions, each with the gap before it.
type builder struct {
	rng   *rand.Rand
	cw    catWeight
	dl    dispatch.Deadlines
	now   time.Time
	urg   dispatch.Urgency
	steps []CaseStep
	gaps  []time.Duration
	// anchor is the index+1 of the transition that started the step giving the open case its
	// light (0: the report), and step that step's name.
	anchor int
	step   dispatch.StepName
	light  worktime.Light
}

func (b *builder) add(k dispatch.Kind, as Actor, gap time.Duration, req dispatch.Request) {
	req.Kind = k
	b.steps = append(b.steps, CaseStep{As: as, Req: req})
	b.gaps = append(b.gaps, gap)
}

// reportTime is a time of the last 30 days, in the hours people report in.
func (b *builder) reportTime(loc *time.Location) time.Time {
	day := b.now.In(loc).AddDate(0, 0, -1-b.rng.IntN(30))
	hour := []int{7, 8, 8, 9, 9, 9, 10, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 19, 20, 21, 22}[b.rng.IntN(26)]
	return time.Date(day.Year(), day.Month(), day.Day(), hour, b.rng.IntN(60), b.rng.IntN(60), 0, loc)
}

// forward places the transitions after the report at at, moved back as a whole when the last
// would not be in the past; it answers the report's time.
func (b *builder) forward(at time.Time) time.Time {
	t := at
	for i := range b.steps {
		t = t.Add(b.gaps[i])
		b.steps[i].At = t
	}
	if limit := b.now.Add(-10 * time.Minute); t.After(limit) {
		shift := t.Sub(limit) + minutes(b.rng, 30, 600)
		at = at.Add(-shift)
		for i := range b.steps {
			b.steps[i].At = b.steps[i].At.Add(-shift)
		}
	}
	return at
}

// handleGap is how long the party takes to do the work: mostly within its limit, a share late.
func (b *builder) handleGap() time.Duration {
	if b.urg == dispatch.Urgent {
		return minutes(b.rng, 20, 240)
	}
	if b.rng.Float64() < 0.15 {
		return minutes(b.rng, 2*1440, 6*1440) // late
	}
	return minutes(b.rng, 60, 1.5*1440)
}

func (b *builder) redispatch() *dispatch.Party {
	return &dispatch.Party{Kind: dispatch.PartyDepartment, Ref: redispatchTo[b.cw.class]}
}

// through adds the loop's transitions from reported up to and including kind last.
func (b *builder) through(last dispatch.Kind) {
	rng := b.rng
	b.add(dispatch.KindFile, ActorDispatcher, minutes(rng, 2, 45), dispatch.Request{})
	if last == dispatch.KindFile {
		return
	}
	if rng.Float64() < 0.04 {
		b.add(dispatch.KindCoHandle, ActorDispatcher, minutes(rng, 1, 10), dispatch.Request{Departments: []string{"center", "chengguan"}})
	}
	b.add(dispatch.KindDispatch, ActorDispatcher, minutes(rng, 3, 90), dispatch.Request{})
	if last == dispatch.KindDispatch {
		return
	}
	if rng.Float64() < 0.08 || last == dispatch.KindReturn {
		b.add(dispatch.KindReturn, ActorHandler, minutes(rng, 10, 180), dispatch.Request{Reason: "不属于本单位职责，退回重派（合成）"})
		if last == dispatch.KindReturn {
			return
		}
		b.add(dispatch.KindDispatch, ActorDispatcher, minutes(rng, 5, 60), dispatch.Request{Party: b.redispatch()})
	}
	b.add(dispatch.KindSign, ActorHandler, minutes(rng, 5, 80), dispatch.Request{})
	if last == dispatch.KindSign {
		return
	}
	if rng.Float64() < 0.05 {
		b.add(dispatch.KindRequestExtension, ActorHandler, minutes(rng, 30, 600), dispatch.Request{Reason: "需协调产权单位，申请延期（合成）",
			Extension: &worktime.Limit{Amount: 2, Unit: worktime.WorkingDay}})
		b.add(dispatch.KindApproveExtension, ActorDispatcher, minutes(rng, 10, 120), dispatch.Request{})
	}
	if rng.Float64() < 0.03 {
		b.add(dispatch.KindPostpone, ActorDispatcher, minutes(rng, 30, 600), dispatch.Request{Reason: "待天气好转后处置，缓办（合成）"})
		b.add(dispatch.KindResume, ActorDispatcher, minutes(rng, 600, 3*1440), dispatch.Request{})
	}
	b.add(dispatch.KindHandle, ActorHandler, b.handleGap(), dispatch.Request{})
	if last == dispatch.KindHandle {
		return
	}
	b.add(dispatch.KindReportBack, ActorHandler, minutes(rng, 5, 60), dispatch.Request{Reason: "已处置完毕，现场已恢复（合成）"})
	if last == dispatch.KindReportBack {
		return
	}
	if rng.Float64() < 0.07 || last == dispatch.KindRework {
		b.add(dispatch.KindRework, ActorWorker, minutes(rng, 20, 240), dispatch.Request{Reason: "现场核查未整改到位，返工（合成）"})
		if last == dispatch.KindRework {
			return
		}
		b.add(dispatch.KindHandle, ActorHandler, b.handleGap()/2, dispatch.Request{})
		b.add(dispatch.KindReportBack, ActorHandler, minutes(rng, 5, 60), dispatch.Request{Reason: "返工完成（合成）"})
	}
	b.add(dispatch.KindVerify, ActorWorker, minutes(rng, 15, 150), dispatch.Request{})
	if last == dispatch.KindVerify {
		return
	}
	b.add(dispatch.KindClose, ActorDispatcher, minutes(rng, 10, 1440), dispatch.Request{})
}

// closed adds a whole loop: closed, most of them evaluated, some late ones supervised on the way.
func (b *builder) closed() dispatch.State {
	b.through(dispatch.KindClose)
	if b.rng.Float64() < 0.05 {
		// a supervision notice on a case that dragged on (inserted before the close)
		i := len(b.steps) - 2
		sup := CaseStep{As: ActorSupervisor, Req: dispatch.Request{Kind: dispatch.KindSupervise, Reason: "超时未办结，请加快处置（合成）"}}
		b.steps = slices.Insert(b.steps, i, sup)
		b.gaps = slices.Insert(b.gaps, i, minutes(b.rng, 5, 60))
	}
	if b.rng.Float64() < 0.75 {
		b.add(dispatch.KindEvaluate, ActorSupervisor, minutes(b.rng, 60, 2*1440), dispatch.Request{Score: 3 + b.rng.IntN(3)})
		return dispatch.Evaluated
	}
	return dispatch.Closed
}

// open adds the transitions of a case still open at now and says which step sets its light.
func (b *builder) open(src dispatch.Source) dispatch.State {
	type end struct {
		last   dispatch.Kind
		state  dispatch.State
		anchor dispatch.Kind // the transition that started the step of the light
		step   dispatch.StepName
		weight float64
	}
	ends := []end{
		{"", dispatch.Reported, "", dispatch.StepFile, 6},
		{dispatch.KindFile, dispatch.Filed, dispatch.KindFile, dispatch.StepDispatch, 8},
		{dispatch.KindDispatch, dispatch.Dispatched, dispatch.KindDispatch, dispatch.StepSign, 12},
		{dispatch.KindReturn, dispatch.Returned, dispatch.KindReturn, dispatch.StepDispatch, 6},
		{dispatch.KindSign, dispatch.SignedFor, dispatch.KindDispatch, dispatch.StepHandle, 25},
		{dispatch.KindRework, dispatch.SignedFor, dispatch.KindRework, dispatch.StepHandle, 5},
		{dispatch.KindHandle, dispatch.Handled, dispatch.KindDispatch, dispatch.StepHandle, 10},
		{dispatch.KindReportBack, dispatch.ReportedBack, dispatch.KindReportBack, dispatch.StepVerify, 10},
		{dispatch.KindVerify, dispatch.Verified, dispatch.KindVerify, dispatch.StepClose, 8},
		{dispatch.KindPostpone, dispatch.Postponed, "", "", 5},
	}
	var total float64
	for _, e := range ends {
		total += e.weight
	}
	x := b.rng.Float64() * total
	e := ends[len(ends)-1]
	for _, c := range ends {
		if x < c.weight {
			e = c
			break
		}
		x -= c.weight
	}
	switch e.last {
	case "":
	case dispatch.KindPostpone:
		b.through(dispatch.KindSign)
		b.add(dispatch.KindPostpone, ActorDispatcher, minutes(b.rng, 30, 600), dispatch.Request{Reason: "需待周边工程完工后处置，挂账（合成）"})
	default:
		b.through(e.last)
	}
	b.step = e.step
	b.anchor = 0
	if e.anchor != "" {
		for i := len(b.steps) - 1; i >= 0; i-- {
			if b.steps[i].Req.Kind == e.anchor {
				b.anchor = i + 1
				break
			}
		}
	}
	if e.state == dispatch.Postponed {
		b.anchor = len(b.steps)
	}
	switch x := b.rng.Float64(); {
	case x < 0.4:
		b.light = worktime.Green
	case x < 0.6:
		b.light = worktime.Yellow
	default:
		b.light = worktime.Red
		if e.state != dispatch.Reported && e.state != dispatch.Postponed && b.rng.Float64() < 0.3 {
			b.add(dispatch.KindSupervise, ActorSupervisor, 0, dispatch.Request{Reason: "已超时，请立即处置（合成）"})
		}
	}
	return e.state
}

// placeOpen places an open case's transitions: the anchor where its step shows the light chosen
// at now, the transitions before it at their gaps, those after it between the anchor and now. It
// answers the report's time.
func (b *builder) placeOpen() time.Time {
	s := b.now.Add(-minutes(b.rng, 60, 10*1440))
	if b.step != "" {
		if lim, ok, err := b.dl.Limit(b.cw.code, string(b.urg), string(b.step)); err == nil && ok {
			s = b.anchorTime(lim)
		}
	}
	// before the anchor
	times := make([]time.Time, len(b.steps)+1)
	times[b.anchor] = s
	for i := b.anchor - 1; i >= 0; i-- {
		times[i] = times[i+1].Add(-b.gaps[i])
	}
	span := b.now.Sub(s)
	for i := b.anchor + 1; i <= len(b.steps); i++ {
		f := 0.1 + 0.8*float64(i-b.anchor)/float64(len(b.steps)-b.anchor+1)
		times[i] = s.Add(time.Duration(f * float64(span)))
	}
	for i := range b.steps {
		b.steps[i].At = times[i+1]
	}
	return times[0]
}

// anchorTime is when a step of limit lim must start for its light at now to be b.light.
func (b *builder) anchorTime(lim worktime.Limit) time.Time {
	due := func(s time.Time) worktime.Deadline { return b.dl.Deadline(worktime.StepClock{Start: s, Limit: lim}) }
	// latest start whose due (or warn) time is not after now
	latest := func(warn bool) time.Time {
		lo, hi := b.now.Add(-90*24*time.Hour), b.now
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2)
			d := due(mid)
			t := d.Due
			if warn {
				t = d.Warn
			}
			if t.After(b.now) {
				hi = mid
			} else {
				lo = mid
			}
		}
		return lo
	}
	sDue, sWarn := latest(false), latest(true)
	switch b.light {
	case worktime.Green:
		return sWarn.Add(time.Duration((0.1 + 0.85*b.rng.Float64()) * float64(b.now.Sub(sWarn))))
	case worktime.Yellow:
		return sDue.Add(time.Duration((0.1 + 0.8*b.rng.Float64()) * float64(sWarn.Sub(sDue))))
	}
	return sDue.Add(-minutes(b.rng, 10, 12*1440))
}

// places picks the points cases are reported at.
type places struct {
	pois      []gridline.Grid // special grids, by weight
	poiW      []float64
	comms     []gridline.Grid // communities: their borders are the main roads
	homes     []gridline.Grid // basic grids, by population
	homeW     []float64
	poiTotal  float64
	homeTotal float64
}

func newPlaces(d *District, _ *rand.Rand) *places {
	p := &places{}
	for _, g := range d.Grids {
		switch {
		case g.Layer == gridline.LayerSpecial:
			w := poiWeight[g.Kind]
			if w == 0 {
				w = 1
			}
			p.pois, p.poiW = append(p.pois, g), append(p.poiW, w)
			p.poiTotal += w
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelCommunity:
			p.comms = append(p.comms, g)
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelGrid:
			w := float64(g.Population) + 100
			p.homes, p.homeW = append(p.homes, g), append(p.homeW, w)
			p.homeTotal += w
		}
	}
	return p
}

func pickWeighted(rng *rand.Rand, w []float64, total float64) int {
	x := rng.Float64() * total
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// pick is a point for a case of cw and a few words on where it is.
func (p *places) pick(rng *rand.Rand, cw catWeight) (orb.Point, string) {
	x := rng.Float64()
	switch {
	case x < cw.poi && len(p.pois) > 0:
		g := p.pois[pickWeighted(rng, p.poiW, p.poiTotal)]
		c := g.Geometry.Bound().Center()
		// around the gate: most within 100 m of the institution
		r := math.Abs(rng.NormFloat64()) * 70
		a := rng.Float64() * 2 * math.Pi
		return orb.Point{c[0] + r*math.Cos(a)/(metresPerDegLon*math.Cos(c[1]*math.Pi/180)), c[1] + r*math.Sin(a)/metresPerDegLat}, g.Name + "周边"
	case x < cw.poi+cw.road && len(p.comms) > 0:
		g := p.comms[rng.IntN(len(p.comms))]
		return roadPoint(rng, g), g.Name + "沿街"
	}
	if len(p.homes) == 0 {
		g := d0(p)
		return g.Geometry.Bound().Center(), g.Name
	}
	g := p.homes[pickWeighted(rng, p.homeW, p.homeTotal)]
	return insidePoint(g.Geometry, rng), g.Name
}

func d0(p *places) gridline.Grid {
	if len(p.comms) > 0 {
		return p.comms[0]
	}
	return p.pois[0]
}

// roadPoint is a point along g's outer border (where the main roads run between communities),
// 8-25 m inside it.
func roadPoint(rng *rand.Rand, g gridline.Grid) orb.Point {
	var best orb.Ring
	for _, poly := range g.Geometry {
		if len(poly) > 0 && len(poly[0]) > len(best) {
			best = poly[0]
		}
	}
	if len(best) < 2 {
		return g.Geometry.Bound().Center()
	}
	i := rng.IntN(len(best) - 1)
	a, b := best[i], best[i+1]
	t := rng.Float64()
	q := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
	c := g.Geometry.Bound().Center()
	kx := metresPerDegLon * math.Cos(q[1]*math.Pi/180)
	dx, dy := (c[0]-q[0])*kx, (c[1]-q[1])*metresPerDegLat
	n := math.Hypot(dx, dy)
	if n == 0 {
		return q
	}
	m := 8 + rng.Float64()*17
	return orb.Point{q[0] + dx/n*m/kx, q[1] + dy/n*m/metresPerDegLat}
}
