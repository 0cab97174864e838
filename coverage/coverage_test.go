package coverage_test

import (
	"cmp"
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// auditAt is the audit date of every test: after the demo's valid_from (2024-01-01).
var auditAt = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// shared is one database (for PostGIS measurements) and one Erqi district for all the tests of
// this package: building Erqi takes seconds.
var shared struct {
	sync.Mutex
	db   *store.DB
	pool querier // the test's own connections, for the oracle's geometry (storetest.Raw)
	erqi *demo.District
	err  error
	done bool
}

// env opens the shared database and builds Erqi once. The database lives until the process ends
// (tests share it), so it is made without t.Cleanup.
// querier is what the oracle queries need of a connection pool.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func env(t *testing.T) (*store.DB, querier, *demo.District) {
	t.Helper()
	storetest.AdminURL(t) // skips (or fails in CI) every test without a database, not just the first
	shared.Lock()
	defer shared.Unlock()
	if !shared.done {
		shared.done = true
		url := storetest.NewURL(&keepAlive{TB: t})
		ctx := context.Background()
		if shared.db, shared.err = store.Open(ctx, url, store.Options{}); shared.err == nil {
			shared.pool = storetest.Raw(&keepAlive{TB: t}, shared.db)
			start := time.Now()
			shared.erqi, shared.err = demo.Erqi(ctx, shared.db, demo.Options{Seed: 1})
			t.Logf("Erqi built in %v", time.Since(start).Round(time.Millisecond))
		}
	}
	if shared.err != nil {
		t.Fatalf("test environment: %v", shared.err)
	}
	return shared.db, shared.pool, shared.erqi
}

// keepAlive lets storetest.NewURL make a database that outlives the first test using it: its
// cleanup is dropped (the test server's databases are throwaway; TestMain drops it).
type keepAlive struct{ testing.TB }

func (k *keepAlive) Cleanup(fn func()) { sharedCleanup = append(sharedCleanup, fn) }

var sharedCleanup []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, fn := range sharedCleanup {
		fn()
	}
	if shared.db != nil {
		shared.db.Close()
	}
	os.Exit(code)
}

// staffOf turns a district's assignments into the roster the index holds.
func staffOf(d *demo.District) []gridline.Staff {
	names := map[int64]gridline.Person{}
	for _, p := range d.People {
		names[p.ID] = p
	}
	out := make([]gridline.Staff, 0, len(d.Assignments))
	for _, a := range d.Assignments {
		p := names[a.PersonID]
		out = append(out, gridline.Staff{GridID: a.GridID, Post: a.Post, PersonID: a.PersonID, Name: p.Name, Phone: p.Phone, ValidFrom: a.ValidFrom, ValidTo: a.ValidTo})
	}
	return out
}

func auditor(db *store.DB, d *demo.District) *coverage.Auditor {
	ix := resolve.Build(d.Grids, staffOf(d), time.Now())
	return coverage.New(func() coverage.Index { return ix }, db)
}

// clone copies a district deeply enough to damage its grids and assignments.
func clone(d *demo.District) *demo.District {
	c := &demo.District{Grids: slices.Clone(d.Grids), People: d.People, Assignments: slices.Clone(d.Assignments)}
	return c
}

type key struct {
	rule  string
	codes string
}

func keyOf(f coverage.Finding) key { return key{f.Rule, strings.Join(f.Codes, ",")} }

func byRule(r *coverage.Report, rules ...string) []coverage.Finding {
	var out []coverage.Finding
	for _, f := range r.Findings {
		if slices.Contains(rules, f.Rule) {
			out = append(out, f)
		}
	}
	return out
}

var geometryRules = []string{coverage.RuleGap, coverage.RuleOverlap, coverage.RuleSliver, coverage.RuleOutsideParent, coverage.RuleInvalidGeometry}

func TestUndamagedErqiIsCleanOnGeometry(t *testing.T) {
	db, _, d := env(t)
	r, err := auditor(db, d).Audit(context.Background(), coverage.Request{At: auditAt})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Families == 0 || r.Summary.Grids != len(d.Grids) {
		t.Fatalf("audited %d grids in %d families, want all %d grids", r.Summary.Grids, r.Summary.Families, len(d.Grids))
	}
	for _, f := range byRule(r, geometryRules...) {
		t.Errorf("undamaged demo: %s %v: %s", f.Rule, f.Codes, f.Message)
	}
	// Every family is proven clean in Go (the demo shares its vertices exactly), but for the
	// police layer's, which is drawn apart from the comprehensive layer and may be measured.
	if r.Summary.Candidates > 1 {
		t.Errorf("%d of %d families sent to PostGIS, want at most the police layer's", r.Summary.Candidates, r.Summary.Families)
	}
	for _, f := range byRule(r, coverage.RuleCodePrefix, coverage.RuleCodeFormat, coverage.RuleDuplicateName, coverage.RuleFourBounds, coverage.RuleNoChief) {
		t.Errorf("undamaged demo: %s %v: %s", f.Rule, f.Codes, f.Message)
	}
	t.Logf("summary: %d findings %v", r.Summary.Findings, r.Summary.BySeverity)
}

// fault is one injected fault and what the audit must say about it.
type fault struct {
	rule   string
	codes  []string // must all be among the finding's codes
	area   float64  // m², 0 for none
	width  [2]float64
	parent string
}

// geom runs a query returning one geometry as WKB.
func geom(t *testing.T, pool querier, q string, args ...any) (orb.MultiPolygon, float64) {
	t.Helper()
	var w []byte
	var area float64
	if err := pool.QueryRow(context.Background(), q, args...).Scan(&w, &area); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	g, err := wkb.Unmarshal(w)
	if err != nil {
		t.Fatal(err)
	}
	switch g := g.(type) {
	case orb.MultiPolygon:
		return g, area
	case orb.Polygon:
		return orb.MultiPolygon{g}, area
	}
	t.Fatalf("%s: got a %T", q, g)
	return nil, 0
}

func mustWKB(t *testing.T, g orb.Geometry) []byte {
	t.Helper()
	w, err := wkb.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// sharedBorder is the border two grids share exactly (segments both have), as a MultiLineString.
func sharedBorder(a, b orb.MultiPolygon) orb.MultiLineString {
	seg := func(p, q orb.Point) [2]orb.Point {
		if q[0] < p[0] || (q[0] == p[0] && q[1] < p[1]) {
			p, q = q, p
		}
		return [2]orb.Point{p, q}
	}
	in := map[[2]orb.Point]bool{}
	for _, poly := range a {
		for _, r := range poly {
			for k := 0; k+1 < len(r); k++ {
				in[seg(r[k], r[k+1])] = true
			}
		}
	}
	var out orb.MultiLineString
	for _, poly := range b {
		for _, r := range poly {
			for k := 0; k+1 < len(r); k++ {
				if s := seg(r[k], r[k+1]); in[s] {
					out = append(out, orb.LineString{s[0], s[1]})
				}
			}
		}
	}
	return out
}

// borderLength is the length of a border in metres (roughly: for choosing).
func borderLength(ml orb.MultiLineString) float64 {
	var l float64
	for _, ls := range ml {
		dx := (ls[1][0] - ls[0][0]) * 111320 * math.Cos(ls[0][1]*math.Pi/180)
		dy := (ls[1][1] - ls[0][1]) * 110540
		l += math.Hypot(dx, dy)
	}
	return l
}

// TestDamagedErqi damages the demo district in known ways and expects every fault found, with its
// area within 1%, and nothing else.
func TestDamagedErqi(t *testing.T) {
	db, pool, d := env(t)
	ctx := context.Background()
	base, err := auditor(db, d).Audit(ctx, coverage.Request{At: auditAt})
	if err != nil {
		t.Fatal(err)
	}
	dd := clone(d)
	byID := map[int64]int{}
	children := map[int64][]int{}
	for k, g := range dd.Grids {
		byID[g.ID] = k
		if g.ParentID != 0 && g.Layer == gridline.LayerComprehensive {
			children[g.ParentID] = append(children[g.ParentID], k)
		}
	}
	district := dd.Grids[0].Geometry
	onDistrictLine := func(mp orb.MultiPolygon) bool { return len(sharedBorder(mp, district)) > 0 }
	// Families of micro grids (leaves), in code order, each used for one fault.
	var fams []int64
	for _, g := range dd.Grids {
		if g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelGrid && len(children[g.ID]) >= 3 {
			fams = append(fams, g.ID)
		}
	}
	used := map[int64]bool{}
	// pair finds, in an unused family (not on the district line unless edge), two siblings with the
	// longest exact shared border.
	pair := func(edge bool) (int, int, orb.MultiLineString) {
		for _, f := range fams {
			if used[f] || onDistrictLine(dd.Grids[byID[f]].Geometry) != edge {
				continue
			}
			best, ba, bb := 0.0, -1, -1
			var bl orb.MultiLineString
			cs := children[f]
			for x := range cs {
				for y := x + 1; y < len(cs); y++ {
					ml := sharedBorder(dd.Grids[cs[x]].Geometry, dd.Grids[cs[y]].Geometry)
					if l := borderLength(ml); l > best {
						best, ba, bb, bl = l, cs[x], cs[y], ml
					}
				}
			}
			if best > 60 {
				used[f] = true
				return ba, bb, bl
			}
		}
		t.Fatal("no family left to damage")
		return 0, 0, nil
	}
	var want []fault
	// A gap: a 5 m strip along the border of A and B cut from A.
	a, b, line := pair(false)
	ga, area := geom(t, pool, `WITH x AS (SELECT ST_GeomFromWKB($1, 4326) AS g, ST_Buffer(ST_GeomFromWKB($2, 4326)::geography, 5)::geometry AS s)
		SELECT ST_AsBinary(ST_Multi(ST_Difference(g, s))), ST_Area(g::geography) - ST_Area(ST_Difference(g, s)::geography) FROM x`,
		mustWKB(t, dd.Grids[a].Geometry), mustWKB(t, line))
	dd.Grids[a].Geometry = ga
	want = append(want, fault{rule: coverage.RuleGap, codes: []string{dd.Grids[a].Code, dd.Grids[b].Code}, area: area, width: [2]float64{4.5, 5.5}, parent: dd.Grids[byID[dd.Grids[a].ParentID]].Code})
	// An overlap: B grows 5 m into C.
	b, c, line := pair(false)
	gb, area := geom(t, pool, `WITH x AS (SELECT ST_GeomFromWKB($1, 4326) AS b, ST_GeomFromWKB($2, 4326) AS c, ST_Buffer(ST_GeomFromWKB($3, 4326)::geography, 5)::geometry AS s),
		p AS (SELECT b, ST_Intersection(s, c) AS piece FROM x)
		SELECT ST_AsBinary(ST_Multi(ST_Union(b, piece))), ST_Area(piece::geography) FROM p`,
		mustWKB(t, dd.Grids[b].Geometry), mustWKB(t, dd.Grids[c].Geometry), mustWKB(t, line))
	dd.Grids[b].Geometry = gb
	want = append(want, fault{rule: coverage.RuleOverlap, codes: []string{dd.Grids[b].Code, dd.Grids[c].Code}, area: area, width: [2]float64{4.5, 5.5}, parent: dd.Grids[byID[dd.Grids[b].ParentID]].Code})
	// A 0.5 m sliver: a 0.5 m strip cut from D along its border with E.
	dg, e, line := pair(false)
	gd, area := geom(t, pool, `WITH x AS (SELECT ST_GeomFromWKB($1, 4326) AS g, ST_Buffer(ST_GeomFromWKB($2, 4326)::geography, 0.5)::geometry AS s)
		SELECT ST_AsBinary(ST_Multi(ST_Difference(g, s))), ST_Area(g::geography) - ST_Area(ST_Difference(g, s)::geography) FROM x`,
		mustWKB(t, dd.Grids[dg].Geometry), mustWKB(t, line))
	dd.Grids[dg].Geometry = gd
	want = append(want, fault{rule: coverage.RuleSliver, codes: []string{dd.Grids[dg].Code, dd.Grids[e].Code}, area: area, width: [2]float64{0.45, 0.55}, parent: dd.Grids[byID[dd.Grids[dg].ParentID]].Code})
	// A child pushed 10 m past its parent: a micro grid on the district line reaching 10 m beyond it.
	var f int = -1
	for _, fid := range fams {
		if used[fid] || !onDistrictLine(dd.Grids[byID[fid]].Geometry) {
			continue
		}
		for _, k := range children[fid] {
			if borderLength(sharedBorder(dd.Grids[k].Geometry, district)) > 60 {
				f = k
				break
			}
		}
		if f >= 0 {
			used[fid] = true
			break
		}
	}
	if f < 0 {
		t.Fatal("no micro grid on the district line")
	}
	gf, area := geom(t, pool, `WITH x AS (SELECT ST_GeomFromWKB($1, 4326) AS g, ST_GeomFromWKB($2, 4326) AS d),
		p AS (SELECT g, ST_Difference(ST_Buffer(g::geography, 10)::geometry, d) AS extra FROM x)
		SELECT ST_AsBinary(ST_Multi(ST_Union(g, extra))), ST_Area(extra::geography) FROM p`,
		mustWKB(t, dd.Grids[f].Geometry), mustWKB(t, district))
	dd.Grids[f].Geometry = gf
	want = append(want, fault{rule: coverage.RuleOutsideParent, codes: []string{dd.Grids[f].Code}, area: area, width: [2]float64{9, 11}, parent: dd.Grids[byID[dd.Grids[f].ParentID]].Code})
	// A vacant post: the full-time worker of a basic grid left 30 days before the audit.
	baseKeys := map[key]bool{}
	for _, fd := range base.Findings {
		baseKeys[keyOf(fd)] = true
	}
	var vacantGrid, busyGrid string
	left := auditAt.AddDate(0, 0, -30)
	for k, as := range dd.Assignments {
		g := dd.Grids[byID[as.GridID]]
		if as.Post != gridline.PostFullTimeWorker || g.Level != gridline.LevelGrid || g.Layer != gridline.LayerComprehensive || used[g.ID] {
			continue
		}
		if vacantGrid == "" {
			dd.Assignments[k].ValidTo = &left
			vacantGrid, used[g.ID] = g.Code, true
			want = append(want, fault{rule: coverage.RuleVacantPost, codes: []string{g.Code}})
			continue
		}
		if !baseKeys[key{coverage.RuleWorkload, g.Code}] {
			dd.Grids[byID[g.ID]].Households = 1200
			busyGrid, used[g.ID] = g.Code, true
			want = append(want, fault{rule: coverage.RuleWorkload, codes: []string{g.Code}})
			break
		}
	}
	if busyGrid == "" {
		t.Fatal("no basic grid for the workload fault")
	}

	r, err := auditor(db, dd).Audit(ctx, coverage.Request{At: auditAt})
	if err != nil {
		t.Fatal(err)
	}
	// Every fault found, with its area within 1% and its width.
	got := map[int]bool{}
	for _, w := range want {
		found := false
		for k, fd := range r.Findings {
			if got[k] || fd.Rule != w.rule || !containsAll(fd.Codes, w.codes) || (w.parent != "" && fd.ParentCode != w.parent) {
				continue
			}
			found, got[k] = true, true
			if w.area > 0 && math.Abs(fd.AreaM2-w.area) > 0.01*w.area {
				t.Errorf("%s %v: area %.2f m², injected %.2f m²", w.rule, w.codes, fd.AreaM2, w.area)
			}
			if w.width[1] > 0 && (fd.WidthM < w.width[0] || fd.WidthM > w.width[1]) {
				t.Errorf("%s %v: width %.2f m, want %.2f-%.2f", w.rule, w.codes, fd.WidthM, w.width[0], w.width[1])
			}
			if w.rule == coverage.RuleVacantPost {
				if fd.Details["days_vacant"] != 30 || fd.Details["fallback"] != true {
					t.Errorf("vacant post %v: details %v, want 30 days vacant with a fallback", w.codes, fd.Details)
				}
			}
			t.Logf("found %s %v: %s", fd.Rule, fd.Codes, fd.Message)
			break
		}
		if !found {
			t.Errorf("injected %s %v (in %s) was not found", w.rule, w.codes, w.parent)
		}
	}
	// Nothing else: every other finding was there before the damage.
	for k, fd := range r.Findings {
		if !got[k] && !baseKeys[keyOf(fd)] {
			t.Errorf("unexpected finding %s %v: %s", fd.Rule, fd.Codes, fd.Message)
		}
	}
	if r.Summary.Truncated || base.Summary.Truncated {
		t.Fatal("truncated reports cannot be compared")
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// damagedSynthetic is a synthetic region with vertices moved 3 m in some grids only (not in the
// neighbours sharing them): gaps, overlaps, slivers, and children outside their parents.
func damagedSynthetic(t *testing.T, n, faults int) *demo.District {
	t.Helper()
	d, err := demo.Synthetic(n, 7, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var basics []int
	for k, g := range d.Grids {
		if g.Level == gridline.LevelGrid {
			basics = append(basics, k)
		}
	}
	step := len(basics) / faults
	for f := 0; f < faults; f++ {
		k := basics[f*step+step/2]
		g := &d.Grids[k]
		mp := orb.MultiPolygon{slices.Clone(g.Geometry[0])}
		ring := slices.Clone(mp[0][0])
		v := 1 + f%(len(ring)-2)
		dx, dy := 3.0/(111320*math.Cos(ring[v][1]*math.Pi/180)), 3.0/110540
		if f%2 == 1 {
			dx, dy = -dx, -dy
		}
		if f%3 == 2 {
			dx = 0
		}
		ring[v] = orb.Point{ring[v][0] + dx, ring[v][1] + dy}
		mp[0][0] = ring
		g.Geometry = mp
	}
	return d
}

// TestDifferentialPlainSQL compares the audit's gaps, overlaps and slivers with those of the plain
// PostGIS SQL an analyst would write, on a damaged synthetic region loaded in the database.
func TestDifferentialPlainSQL(t *testing.T) {
	ctx := context.Background()
	d := damagedSynthetic(t, 2000, 60)
	db := storetest.New(t)
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, 1e12); err != nil {
		t.Fatalf("load the damaged region: %v", err)
	}
	r, err := auditor(db, d).Audit(ctx, coverage.Request{At: auditAt, Rules: []string{coverage.RuleGap, coverage.RuleOverlap, coverage.RuleSliver}})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := db.PlainCoverage(ctx, auditAt, "comprehensive", 1)
	if err != nil {
		t.Fatal(err)
	}
	type item struct {
		key  string
		area float64
	}
	var ours, theirs []item
	for _, f := range r.Findings {
		kind, codes := f.Rule, f.Codes
		if kind == coverage.RuleSliver {
			kind = f.Kind
		}
		if kind == coverage.RuleGap {
			codes = nil // the plain SQL does not name the children around a gap
		}
		ours = append(ours, item{kind + " " + f.ParentCode + " " + strings.Join(codes, ","), f.AreaM2})
	}
	for _, f := range plain {
		codes := f.Codes
		if f.Kind == "gap" {
			codes = nil
		}
		theirs = append(theirs, item{f.Kind + " " + f.ParentCode + " " + strings.Join(codes, ","), f.AreaM2})
	}
	order := func(a, b item) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.area, b.area)
	}
	slices.SortFunc(ours, order)
	slices.SortFunc(theirs, order)
	if len(theirs) < 20 {
		t.Fatalf("the plain SQL found only %d gaps and overlaps: the damage is too mild to compare", len(theirs))
	}
	// The audit rounds areas to the centimetre².
	same := len(ours) == len(theirs)
	for k := 0; same && k < len(ours); k++ {
		same = ours[k].key == theirs[k].key && math.Abs(ours[k].area-theirs[k].area) <= 0.01
	}
	if !same {
		t.Errorf("the audit and the plain SQL disagree:\naudit (%d): %v\nplain SQL (%d): %v", len(ours), ours, len(theirs), theirs)
	}
	t.Logf("%d gaps and overlaps agree; %d of %d families measured in PostGIS", len(ours), r.Summary.Candidates, r.Summary.Families)
}

func TestBadInput(t *testing.T) {
	db, _, d := env(t)
	a := auditor(db, d)
	_, err := a.Audit(context.Background(), coverage.Request{Scope: "999999", At: auditAt})
	if gridline.ErrorCode(err) != gridline.ENotFound {
		t.Errorf("unknown scope: %v, want not_found", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Audit(ctx, coverage.Request{At: auditAt}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled audit: %v, want context.Canceled", err)
	}
	if _, err := coverage.ParseRules("gap,nonsense"); gridline.ErrorCode(err) != gridline.EInvalid {
		t.Errorf("unknown rule: %v, want invalid_request", err)
	}
	// An invalid geometry (a bow tie) is a finding, never an error.
	dd := clone(d)
	for k, g := range dd.Grids {
		if g.Level == gridline.LevelMicro {
			r := slices.Clone(g.Geometry[0][0])
			r[1], r[2] = r[2], r[1]
			dd.Grids[k].Geometry = orb.MultiPolygon{{r}}
			rep, err := auditor(db, dd).Audit(context.Background(), coverage.Request{Scope: dd.Grids[0].Code, At: auditAt, Rules: []string{"geometry"}})
			if err != nil {
				t.Fatalf("audit with an invalid geometry: %v", err)
			}
			if fs := byRule(rep, coverage.RuleInvalidGeometry); len(fs) != 1 || fs[0].Codes[0] != g.Code {
				t.Errorf("invalid geometry of %s: findings %v", g.Code, rep.Findings)
			}
			break
		}
	}
}

// TestScope audits one community's subtree.
func TestScope(t *testing.T) {
	db, _, d := env(t)
	var comm gridline.Grid
	for _, g := range d.Grids {
		if g.Level == gridline.LevelCommunity {
			comm = g
			break
		}
	}
	r, err := auditor(db, d).Audit(context.Background(), coverage.Request{Scope: comm.Code, At: auditAt})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		for _, c := range f.Codes {
			if !strings.HasPrefix(c, comm.Code) {
				t.Errorf("finding %s %v outside scope %s", f.Rule, f.Codes, comm.Code)
			}
		}
	}
	if r.Summary.Grids < 10 {
		t.Errorf("scope %s: %d grids", comm.Code, r.Summary.Grids)
	}
}

// TestChangesBetween reshapes one grid, retires one, adds one and renames one on 2025-01-01.
func TestChangesBetween(t *testing.T) {
	db, _, _ := env(t)
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	base := storetest.Fixture().Grids
	var grids []gridline.Grid
	for _, g := range base {
		switch g.Code {
		case "410103001001001001": // reshaped: half its width from 2025
			g.ValidTo = &day
			grids = append(grids, g)
			g.VersionID, g.Version, g.ValidFrom, g.ValidTo = 100, 2, day, nil
			g.Geometry = storetest.Box(113.60, 34.70, 113.605, 34.71)
		case "410103JW002": // retired
			g.ValidTo = &day
		case "410103001001002": // renamed
			g.ValidTo = &day
			grids = append(grids, g)
			g.VersionID, g.Version, g.ValidFrom, g.ValidTo, g.Name = 101, 2, day, nil, "新名称"
		}
		grids = append(grids, g)
	}
	added := base[6]
	added.ID, added.VersionID, added.Code, added.ValidFrom = 99, 99, "410103001001003", day
	grids = append(grids, added)
	for k := range grids {
		if grids[k].VersionID == 0 {
			grids[k].VersionID = grids[k].ID
		}
	}
	ix := resolve.Build(grids, nil, time.Now())
	a := coverage.New(func() coverage.Index { return ix }, db)
	ch, err := a.ChangesBetween(context.Background(), "", day.AddDate(0, -1, 0), day)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{coverage.ChangeAdded: 1, coverage.ChangeRetired: 1, coverage.ChangeReshaped: 1, coverage.ChangeEdited: 1}
	if len(ch.Counts) != len(want) {
		t.Errorf("counts %v, want %v", ch.Counts, want)
	}
	for k, n := range want {
		if ch.Counts[k] != n {
			t.Errorf("counts %v, want %v", ch.Counts, want)
		}
	}
	for _, c := range ch.Changes {
		switch c.Change {
		case coverage.ChangeReshaped:
			// Half of a 0.01° x 0.01° box at 34.7°N: about 457 m x 1,109 m.
			if c.Code != "410103001001001001" || c.AreaDiffM2 >= 0 || math.Abs(c.AreaToM2*2-c.AreaFromM2) > 0.001*c.AreaFromM2 || c.AreaFromM2 < 1e6 {
				t.Errorf("reshaped: %+v, want the area halved", c)
			}
		case coverage.ChangeEdited:
			if c.Code != "410103001001002" || !slices.Equal(c.Fields, []string{"name"}) {
				t.Errorf("edited: %+v, want the name of 410103001001002", c)
			}
		case coverage.ChangeRetired:
			if c.Code != "410103JW002" || c.AreaFromM2 <= 0 {
				t.Errorf("retired: %+v", c)
			}
		case coverage.ChangeAdded:
			if c.Code != "410103001001003" || c.AreaToM2 <= 0 {
				t.Errorf("added: %+v", c)
			}
		}
	}
	if _, err := a.ChangesBetween(context.Background(), "999", day, day); gridline.ErrorCode(err) != gridline.ENotFound {
		t.Errorf("unknown scope: %v", err)
	}
	if _, err := a.ChangesBetween(context.Background(), "", day, day.AddDate(0, 0, -1)); gridline.ErrorCode(err) != gridline.EInvalid {
		t.Errorf("to before from: %v", err)
	}
}
