package coverage

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

// Measurer measures in PostGIS: what is wrong with families whose edges do not cancel, and areas.
type Measurer interface {
	// Measure returns, for each family, every gap (parent minus the union of its children), every
	// sibling overlap (ST_Relate '2********'), every child's part outside its parent, of more than
	// minAreaM2 m² each, and every invalid geometry. Invalid geometries are measured after
	// ST_MakeValid. Areas are on the spheroid, widths twice the radius of the largest inscribed
	// circle in metres.
	Measure(ctx context.Context, families []Family, minAreaM2 float64) ([]Piece, error)
	// Areas measures areas on the spheroid (m²), in order.
	Areas(ctx context.Context, geoms []orb.MultiPolygon) ([]float64, error)
}

// Family is a parent and its children of one layer, with their geometries (EPSG:4326). Every
// gap, overlap and part outside lies within Window (the box of the edges that did not cancel):
// only the children that reach into it are sent, and gaps are looked for in the parent's part
// inside it.
type Family struct {
	Parent   Member
	Children []Member
	Window   orb.Bound
}

// Member is one grid version of a family: Pos is its position in the index.
type Member struct {
	Pos      int32
	Geometry orb.MultiPolygon
}

// Kinds of pieces.
const (
	PieceGap     = "gap"
	PieceOverlap = "overlap"
	PieceOutside = "outside"
	PieceInvalid = "invalid"
)

// Piece is one measured problem of a family.
type Piece struct {
	Kind   string // PieceGap, PieceOverlap, PieceOutside or PieceInvalid
	Family int    // index into the families measured
	A, B   int32  // positions: the child outside, invalid, or the first of an overlap; the second; -1
	AreaM2 float64
	WidthM float64
	Reason string       // why a geometry is invalid
	Around []int32      // for a gap: the children within a centimetre of it
	Geom   orb.Geometry // the piece
}

// family is a parent and the positions of its children in one layer; window is the box of the
// edges left over when it is not clean.
type family struct {
	parent   int32
	layer    gridline.Layer
	children []int32
	window   orb.Bound
}

// families lists, in scope, every parent with children in a covering layer.
func (s *scope) families(layers []gridline.Layer) []family {
	var out []family
	for _, p := range s.members {
		cs := s.children[p]
		if len(cs) == 0 {
			continue
		}
		for _, l := range layers {
			var f family
			for _, c := range cs {
				if s.grid(c).Layer == l {
					f.children = append(f.children, c)
				}
			}
			if len(f.children) > 0 {
				f.parent, f.layer = p, l
				out = append(out, f)
			}
		}
	}
	return out
}

// segment is a directed edge; edges are counted under their canonical direction (the smaller end
// first) with +1 for that direction and -1 for the other.
type segment struct{ ax, ay, bx, by float64 }

// edgeCounter sums the oriented edges of a family's children minus its parent's.
type edgeCounter struct{ m map[segment]int32 }

// add counts every ring of mp, walked with the interior on the left (outer rings
// counter-clockwise, holes clockwise, whatever their stored order), with sign w.
func (e *edgeCounter) add(mp orb.MultiPolygon, w int32) {
	for _, poly := range mp {
		for ri, ring := range poly {
			if len(ring) < 2 {
				continue
			}
			// Outer rings counter-clockwise (positive area), holes clockwise.
			rev := (ringArea2(ring) < 0) == (ri == 0)
			for k := 0; k+1 < len(ring); k++ {
				a, b := ring[k], ring[k+1]
				if rev {
					a, b = b, a
				}
				if a == b {
					continue
				}
				sign := w
				if b[0] < a[0] || (b[0] == a[0] && b[1] < a[1]) {
					a, b, sign = b, a, -w
				}
				key := segment{a[0], a[1], b[0], b[1]}
				if v := e.m[key] + sign; v == 0 {
					delete(e.m, key)
				} else {
					e.m[key] = v
				}
			}
		}
	}
}

func ringArea2(r orb.Ring) float64 {
	var s float64
	for k := 0; k+1 < len(r); k++ {
		s += r[k][0]*r[k+1][1] - r[k+1][0]*r[k][1]
	}
	return s
}

// clean reports whether the family's children tile its parent exactly: every edge of a child is
// matched by the opposite edge of a sibling or by the same edge of the parent, and every edge of
// the parent by a child. Then the children's indicator functions sum to the parent's (the chain
// of their boundaries is the parent's boundary), so there is no gap, no overlap and no child
// outside, for valid polygons. A family with the same borders digitised with different vertices
// is not clean here and is measured by PostGIS.
func (e *edgeCounter) clean(s *scope, f family) bool {
	if len(e.m) != 0 {
		// Left over from a family that was not clean. A fresh map rather than clear: clear costs
		// the capacity the map once grew to, on every family.
		e.m = make(map[segment]int32, 256)
	}
	for _, c := range f.children {
		e.add(s.grid(c).Geometry, 1)
	}
	e.add(s.grid(f.parent).Geometry, -1)
	return len(e.m) == 0 || e.refine()
}

// leftover is the box of the edges clean left (before refine cancelled any), grown by a
// centimetre: every gap, overlap and part outside is bounded by these edges, so lies inside it.
func (e *edgeCounter) leftover() orb.Bound {
	first := true
	var b orb.Bound
	for k := range e.m {
		kb := orb.Bound{Min: orb.Point{min(k.ax, k.bx), min(k.ay, k.by)}, Max: orb.Point{max(k.ax, k.bx), max(k.ay, k.by)}}
		if first {
			b, first = kb, false
		} else {
			b = b.Union(kb)
		}
	}
	return b.Pad(1e-7)
}

// maxRefine bounds the leftover edges refine compares pairwise.
const maxRefine = 2000

// collinearEps is how far (degrees, about 0.1 mm) a vertex may lie off an edge and still split it.
const collinearEps = 1e-9

// dirEdge is a leftover edge, directed so that it counts once.
type dirEdge struct {
	a, b orb.Point
	gone bool
}

// refine cancels what is left when one side of a border has vertices the other lacks: a parent
// drawn without the points where its children's borders meet it, or thematic borders meeting the
// district line at vertices of their own. An edge is cancelled by edges running the other way
// that lie on it (within collinearEps) and follow each other from its one end to the other. The
// area this can overlook is under the edge's length times 0.1 mm. It reports whether nothing is
// left; with more than maxRefine edges left it does not try (the family is measured).
func (e *edgeCounter) refine() bool {
	if len(e.m) > maxRefine {
		return false
	}
	edges := make([]dirEdge, 0, len(e.m))
	for k, v := range e.m {
		a, b := orb.Point{k.ax, k.ay}, orb.Point{k.bx, k.by}
		if v < 0 {
			a, b, v = b, a, -v
		}
		if v != 1 {
			return false // an edge left twice: not a matter of vertices
		}
		edges = append(edges, dirEdge{a: a, b: b})
	}
	// Longest first: a long edge is cancelled by the short ones on it.
	slices.SortFunc(edges, func(x, y dirEdge) int { return cmp.Compare(sqLen(y), sqLen(x)) })
	type piece struct{ t0, t1 float64 }
	var pieces []piece
	var used []int
	for i := range edges {
		L := &edges[i]
		if L.gone {
			continue
		}
		dx, dy := L.b[0]-L.a[0], L.b[1]-L.a[1]
		l2 := dx*dx + dy*dy
		l := math.Sqrt(l2)
		pieces, used = pieces[:0], used[:0]
		param := func(p orb.Point) (float64, bool) {
			px, py := p[0]-L.a[0], p[1]-L.a[1]
			if math.Abs(px*dy-py*dx)/l > collinearEps {
				return 0, false
			}
			t := (px*dx + py*dy) / l2
			tol := collinearEps / l
			return t, t >= -tol && t <= 1+tol
		}
		for j := range edges {
			c := &edges[j]
			if j == i || c.gone {
				continue
			}
			// Running the other way along L: from t1 back to t0.
			t1, ok1 := param(c.a)
			t0, ok0 := param(c.b)
			if ok0 && ok1 && t0 < t1 {
				pieces, used = append(pieces, piece{t0, t1}), append(used, j)
			}
		}
		if len(pieces) < 2 {
			continue
		}
		order := make([]int, len(pieces))
		for k := range order {
			order[k] = k
		}
		slices.SortFunc(order, func(x, y int) int { return cmp.Compare(pieces[x].t0, pieces[y].t0) })
		tol := collinearEps / l
		at, ok := 0.0, true
		for _, k := range order {
			if math.Abs(pieces[k].t0-at) > tol {
				ok = false
				break
			}
			at = pieces[k].t1
		}
		if !ok || math.Abs(at-1) > tol {
			continue
		}
		L.gone = true
		for _, j := range used {
			edges[j].gone = true
		}
	}
	for _, x := range edges {
		if !x.gone {
			return false
		}
	}
	return true
}

func sqLen(e dirEdge) float64 {
	dx, dy := e.b[0]-e.a[0], e.b[1]-e.a[1]
	return dx*dx + dy*dy
}

// candidates keeps the families whose edges do not cancel, checking them on every core.
func candidates(ctx context.Context, s *scope, fams []family) ([]family, error) {
	dirty := make([]bool, len(fams))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(fams)/16))
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := &edgeCounter{m: make(map[segment]int32, 256)}
			for k := range next {
				if dirty[k] = !e.clean(s, fams[k]); dirty[k] {
					fams[k].window = e.leftover() // each worker writes its own families
				}
			}
		}()
	}
	var err error
	for k := range fams {
		if k%256 == 0 {
			if err = ctx.Err(); err != nil {
				break
			}
		}
		next <- k
	}
	close(next)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	var out []family
	for k, f := range fams {
		if dirty[k] {
			out = append(out, f)
		}
	}
	return out, nil
}

// geometry runs the geometry rules: candidates in Go, measurement of the candidates in PostGIS,
// in batches of at most opt.BatchMembers geometries.
func (a *Auditor) geometry(ctx context.Context, s *scope, layers []gridline.Layer, opt Options, c *collector, want func(...string) bool) error {
	fams := s.families(layers)
	c.report.Summary.Families = len(fams)
	c.lap("scope")
	cands, err := candidates(ctx, s, fams)
	if err != nil {
		return err
	}
	c.lap("candidates")
	c.report.Summary.Candidates = len(cands)
	for start := 0; start < len(cands); {
		end, members := start, 0
		for end < len(cands) && (end == start || members+len(cands[end].children)+1 <= opt.BatchMembers) {
			members += len(cands[end].children) + 1 // at most: only those in the window are sent
			end++
		}
		pieces, err := a.measureBatch(ctx, s, cands[start:end], opt)
		if err != nil {
			return err
		}
		c.lap("measure")
		for _, p := range pieces {
			report(s, cands[start+p.Family], p, opt, c, want)
		}
		start = end
		c.lap("rules") // turning pieces into findings
	}
	return nil
}

// measureBatch measures families; when PostGIS refuses a batch's geometry (a GEOS topology
// error: the store's rule_violation) it measures them one by one, and a family that fails alone
// becomes an invalid_geometry finding rather than failing the audit.
func (a *Auditor) measureBatch(ctx context.Context, s *scope, fams []family, opt Options) ([]Piece, error) {
	pieces, err := a.measure.Measure(ctx, toFamilies(s, fams), opt.MinAreaM2)
	if err == nil || ctx.Err() != nil || gridline.ErrorCode(err) != gridline.ERule {
		return pieces, err
	}
	if len(fams) == 1 {
		return []Piece{{Kind: PieceInvalid, A: fams[0].parent, B: -1, Reason: fmt.Sprintf("PostGIS could not measure this family: %v", err)}}, nil
	}
	var out []Piece
	for k := range fams {
		ps, err := a.measureBatch(ctx, s, fams[k:k+1], opt)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			p.Family = k
			out = append(out, p)
		}
	}
	return out, nil
}

// toFamilies gives the measurer each family's parent and the children reaching into its window.
func toFamilies(s *scope, fams []family) []Family {
	out := make([]Family, len(fams))
	for k, f := range fams {
		out[k].Parent = Member{Pos: f.parent, Geometry: s.grid(f.parent).Geometry}
		out[k].Window = f.window
		for _, ch := range f.children {
			if g := s.grid(ch).Geometry; g.Bound().Intersects(f.window) {
				out[k].Children = append(out[k].Children, Member{Pos: ch, Geometry: g})
			}
		}
	}
	return out
}

// report turns a measured piece into a finding.
func report(s *scope, f family, p Piece, opt Options, c *collector, want func(...string) bool) {
	pg := s.grid(f.parent)
	level := gridline.Level("")
	if len(f.children) > 0 {
		level = s.grid(f.children[0]).Level
	}
	fd := Finding{Severity: SeverityError, Level: level, Layer: f.layer, ParentCode: pg.Code,
		AreaM2: round(p.AreaM2, 2), WidthM: round(p.WidthM, 2), Geometry: p.Geom}
	if p.Geom != nil {
		fd.Bound = p.Geom.Bound()
	}
	codes := func(ps ...int32) []string {
		var out []string
		for _, i := range ps {
			if i >= 0 {
				out = append(out, s.grid(i).Code)
			}
		}
		slices.Sort(out)
		return out
	}
	switch p.Kind {
	case PieceInvalid:
		fd.Rule, fd.Codes = RuleInvalidGeometry, codes(p.A)
		g := s.grid(p.A)
		fd.Level, fd.Layer, fd.Bound = g.Level, g.Layer, g.Geometry.Bound()
		fd.Geometry = fd.Bound.Center()
		fd.ParentCode = ""
		if pp := s.parent(p.A); pp >= 0 {
			fd.ParentCode = s.grid(pp).Code
		}
		fd.Message = fmt.Sprintf("grid %s: %s", g.Code, p.Reason)
	case PieceOutside:
		fd.Rule, fd.Codes = RuleOutsideParent, codes(p.A)
		fd.Message = fmt.Sprintf("grid %s lies %.1f m² outside its parent %s", s.grid(p.A).Code, p.AreaM2, pg.Code)
	case PieceGap, PieceOverlap:
		fd.Rule = p.Kind
		if p.Kind == PieceGap {
			fd.Codes = codes(p.Around...)
			fd.Message = fmt.Sprintf("%.1f m² of %s (%.2f m wide) is covered by none of its children", p.AreaM2, pg.Code, p.WidthM)
		} else {
			fd.Codes = codes(p.A, p.B)
			fd.Message = fmt.Sprintf("%s and %s share %.1f m² (%.2f m wide)", fd.Codes[0], fd.Codes[1], p.AreaM2, p.WidthM)
		}
		if p.WidthM < opt.SliverWidthM {
			fd.Rule, fd.Kind, fd.Severity = RuleSliver, p.Kind, SeverityWarning
			fd.Message = fmt.Sprintf("sliver %s: %s", p.Kind, fd.Message)
		}
	default:
		return
	}
	if want(fd.Rule) {
		c.add(fd)
	}
}
