package geo

import (
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// This file holds Index, the in-memory point-in-polygon index that resolves a coordinate to every
// grid covering it, with exactly the answers PostGIS gives.
//
// # The rule it reproduces
//
// PostGIS 3.3 answers ST_Covers(polygon, point) with a winding-number test (point_in_ring and
// point_in_ring_rtree in postgis/lwgeom_functions_analytic.c and lwgeom_rtree.c; 3.4 moved the same
// arithmetic to lwgeom_itree.c). For every ring edge (p1, p2) whose closed y-range holds q it computes
//
//	side = (p2.x-p1.x)*(q.y-p1.y) - (q.x-p1.x)*(p2.y-p1.y)
//
// which is the exact negation of lw_segment_side's (q.x-p1.x)*(p2.y-p1.y) - (p2.x-p1.x)*(q.y-p1.y):
// both products round identically and a-b == -(b-a) in IEEE arithmetic, so the two agree on zero and
// on every sign. q is on the boundary when side == 0 and q lies in the edge's closed bounding box;
// otherwise a rising edge (p1.y <= q.y < p2.y) with side > 0 adds one to the winding number and a
// falling edge (p2.y <= q.y < p1.y) with side < 0 subtracts one. A ring holds q when the winding
// number is not zero. Exactly-zero-length edges are skipped. (PostGIS 3.3's cached r-tree path also
// skips edges shorter than 1e-12 degrees; only points within 1e-12 degrees of such a sliver edge
// can tell the difference.) Across a multipolygon: a part covers q when q is on its outer ring, or
// inside the outer ring and, taking the holes in order, the first hole that is not "outside" is one
// whose boundary q lies on. The multipolygon covers q when any part does. Before all that, ST_Covers
// rejects q outside the polygon's bounding box as PostGIS stores it: in float32, rounded outwards
// (gbox_float_round). That matters only within a rounding step of the box, where float arithmetic
// (an underflowing side, say) can put a point outside the geometry "inside" it; it is reproduced too.
//
// Every float expression below that decides a boundary or a winding step is written exactly like
// that, with each product wrapped in float64(...) so the compiler cannot fuse it into a multiply-add
// (the Go spec allows fusing unless an explicit conversion rounds the product).
//
// # How it is fast
//
// A uniform grid of cells covers the bounds of all polygons. Each cell lists, in ascending polygon
// order, the polygons that could cover some point of the cell. A polygon that covers the whole cell
// and has no edge near it is marked "full" and costs nothing to answer. Otherwise the cell keeps, for
// each of the polygon's rings, the ring's edges that touch the cell (grown by a small margin) and a
// precomputed contribution of all the ring's other edges. Those other edges are at least the margin
// away from any point of the cell, far beyond rounding error, so PostGIS's float test gives them the
// exact geometric answer: an edge left of the cell contributes nothing, an edge right of the cell
// contributes its direction for q.y in its half-open y-range. Their sum is a step function of q.y,
// stored as a base value and a few breakpoints. A query then does the PostGIS arithmetic on a handful
// of edges and gets the same answer as the full test.

// earthRadius is the mean earth radius in metres (IUGG) used for every distance in this package.
const earthRadius = 6371008.8

// metresPerDegree is the length of one degree of latitude on the sphere of radius earthRadius.
const metresPerDegree = earthRadius * math.Pi / 180

// PolygonIndex is an immutable point-in-polygon index over many multipolygons (lon/lat degrees). Safe for concurrent use.
type PolygonIndex struct {
	n int // number of polygons given to NewIndex, empty ones included

	// The cell grid: column cx spans [x0+cx*w, x0+(cx+1)*w], row cy likewise in y. Points outside
	// [x0, x1] x [y0, y1] are covered by nothing.
	x0, y0, x1, y1 float64
	w, h           float64
	invW, invH     float64
	nx, ny         int
	margin         float64

	// Cell c's data are the words blob[cellStart[c]:cellStart[c+1]], none when no polygon is listed
	// there. Keeping a cell's entries, rings, edges and breakpoints together means a query touches
	// one short run of memory, which matters more than anything else for speed. The layout:
	//
	//	word 0           n, the number of entries
	//	words 1..n       entries in ascending polygon order: the polygon in the low 32 bits; in the
	//	                 high 32 bits 0 when the polygon covers the whole cell ("full"), else the
	//	                 offset from word 0 of its data, with boxFlag set when the data start with a
	//	                 box check: a word holding a mask of boxMinX and boxMaxX, then one float64
	//	                 word per side in the mask (see worker.cell for when a side needs checking)
	//	ring records     two header words, ne | nb<<32 and uint32(base) | flags<<32, then ne edges
	//	                 of four words (x1, y1, x2, y2 as float64 bits) and nb breakpoints of two
	//	                 words (y as float64 bits, int64(d)); see ringRec for the meaning
	cellStart []uint32
	blob      []uint64

	bounds []orb.Bound // each polygon's bounding box; empty polygons have an empty (inverted) one

	// A coarse grid of polygon bounding boxes, for Candidates and wide Nearest searches: coarse cell
	// (i, j) groups cf x cf cells of the fine grid.
	cf          int
	cnx, cny    int
	coarseStart []uint32
	coarsePolys []int32

	// A flat copy of every ring, for Nearest searches too wide for the cell grid.
	pts      []orb.Point
	ringOff  []uint32 // ring k is pts[ringOff[k]:ringOff[k+1]]
	polyRing []uint32 // polygon i has rings polyRing[i]:polyRing[i+1]
}

// fullCell marks an entry whose polygon covers the whole cell and has no edge touching it.
const fullCell = math.MaxUint32

// boxFlag marks an entry offset whose data start with a box check.
const boxFlag = 1 << 31

// The sides of a box check, in the order their values are stored.
const (
	boxMinX = 1 << iota
	boxMaxX
)

// postgisBox is the bounding box PostGIS keeps with a polygon: float32, rounded outwards
// (gbox_float_round in liblwgeom), which ST_Covers checks before any point-in-polygon test.
func postgisBox(b orb.Bound) orb.Bound {
	return orb.Bound{
		Min: orb.Point{nextFloatDown(b.Min[0]), nextFloatDown(b.Min[1])},
		Max: orb.Point{nextFloatUp(b.Max[0]), nextFloatUp(b.Max[1])},
	}
}

// nextFloatDown is liblwgeom's next_float_down: the largest float32 not above d.
func nextFloatDown(d float64) float64 {
	if d > math.MaxFloat32 {
		return math.MaxFloat32
	}
	if d <= -math.MaxFloat32 {
		return -math.MaxFloat32
	}
	r := float32(d)
	if float64(r) <= d {
		return float64(r)
	}
	return float64(math.Nextafter32(r, -math.MaxFloat32))
}

// nextFloatUp is liblwgeom's next_float_up: the smallest float32 not below d.
func nextFloatUp(d float64) float64 {
	if d >= math.MaxFloat32 {
		return math.MaxFloat32
	}
	if d < -math.MaxFloat32 {
		return -math.MaxFloat32
	}
	r := float32(d)
	if float64(r) >= d {
		return float64(r)
	}
	return float64(math.Nextafter32(r, math.MaxFloat32))
}

// ringRec is one ring of a polygon as seen from one cell, while building. Records of one entry are
// contiguous and in PostGIS order: each part's outer ring followed by its holes; the last one has
// ringLast set.
type ringRec struct {
	e0, e1 uint32 // the ring's edges touching the cell: edges[e0:e1]
	b0, b1 uint32 // breakpoints of the far edges' contribution: bps[b0:b1]
	base   int32  // the far edges' winding contribution below the first breakpoint
	flags  uint32
}

const (
	ringHole uint32 = 1 << iota // a hole; otherwise the outer ring that starts a part
	ringLast                    // the entry's last record
)

// edge is a ring edge from (x1, y1) to (x2, y2), in ring order.
type edge struct{ x1, y1, x2, y2 float64 }

// breakpoint adds d to a ring's winding number for points with y >= the breakpoint's y.
type breakpoint struct {
	y float64
	d int32
}

// NewIndex builds the index; polygon i is reported as int32(i). Empty/nil entries are allowed and never match.
//
// Rings are taken as closed even when their last point differs from the first (PostGIS would reject
// such a ring). Edges with a NaN or infinite coordinate are ignored. The index keeps its own copy of
// the coordinates, so polys may be changed afterwards. The build uses all CPUs (GOMAXPROCS).
func NewIndex(polys []orb.MultiPolygon) *PolygonIndex {
	return newIndex(polys, buildConfig{})
}

// buildConfig lets tests force the grid geometry; zero values choose automatically.
type buildConfig struct {
	cellW, cellH float64 // cell size in degrees
	workers      int
}

// gridSpec is the cell grid being built.
type gridSpec struct {
	x0, y0, w, h float64
	nx, ny       int
	m            float64 // margin: how far outside a cell an edge still counts as touching it
}

// Column and row ranges are computed with twice the margin so that floating-point error in the
// computation can only add edges to a cell, never drop one.
func (g *gridSpec) colLo(x float64) int32 { return g.clampCol(math.Floor((x - 2*g.m - g.x0) / g.w)) }
func (g *gridSpec) colHi(x float64) int32 { return g.clampCol(math.Floor((x + 2*g.m - g.x0) / g.w)) }
func (g *gridSpec) rowLo(y float64) int32 { return g.clampRow(math.Floor((y - 2*g.m - g.y0) / g.h)) }
func (g *gridSpec) rowHi(y float64) int32 { return g.clampRow(math.Floor((y + 2*g.m - g.y0) / g.h)) }

func (g *gridSpec) clampCol(f float64) int32 { return int32(max(0, min(f, float64(g.nx-1)))) }
func (g *gridSpec) clampRow(f float64) int32 { return int32(max(0, min(f, float64(g.ny-1)))) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func newIndex(polys []orb.MultiPolygon, cfg buildConfig) *PolygonIndex {
	ix := &PolygonIndex{
		n:      len(polys),
		x0:     math.Inf(1), // an empty index covers nothing: no point satisfies x0 <= x <= x1
		x1:     math.Inf(-1),
		y0:     math.Inf(1),
		y1:     math.Inf(-1),
		bounds: make([]orb.Bound, len(polys)),
	}
	all := emptyBound()
	maxAbs := 0.0
	ix.polyRing = make([]uint32, len(polys)+1)
	ix.ringOff = []uint32{0}
	for i, mp := range polys {
		b := emptyBound()
		for _, poly := range mp {
			for _, ring := range poly {
				for _, p := range ring {
					if !finite(p[0]) || !finite(p[1]) {
						continue
					}
					b = b.Extend(p)
					maxAbs = max(maxAbs, math.Abs(p[0]), math.Abs(p[1]))
				}
				ix.pts = append(ix.pts, ring...)
				ix.ringOff = append(ix.ringOff, uint32(len(ix.pts)))
			}
		}
		ix.polyRing[i+1] = uint32(len(ix.ringOff) - 1)
		ix.bounds[i] = b
		if !isEmptyBound(b) {
			all = all.Union(b)
		}
	}
	if isEmptyBound(all) {
		return ix
	}
	g := chooseGrid(ix.bounds, all, maxAbs, cfg)
	ix.x0, ix.y0, ix.w, ix.h, ix.nx, ix.ny, ix.margin = g.x0, g.y0, g.w, g.h, g.nx, g.ny, g.m
	ix.x1 = g.x0 + float64(g.nx)*g.w
	ix.y1 = g.y0 + float64(g.ny)*g.h
	ix.invW, ix.invH = 1/g.w, 1/g.h

	ix.buildCells(polys, &g, cfg.workers)
	ix.buildCoarse()
	return ix
}

func emptyBound() orb.Bound {
	return orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
}

func isEmptyBound(b orb.Bound) bool { return !(b.Min[0] <= b.Max[0] && b.Min[1] <= b.Max[1]) }

// chooseGrid sizes cells at a fraction of a typical small polygon, so that most cells lie wholly
// inside most of the polygons listed in them, and caps the cell count so memory stays bounded.
func chooseGrid(bounds []orb.Bound, all orb.Bound, maxAbs float64, cfg buildConfig) gridSpec {
	// The margin must dwarf rounding error (about 1e-15 of the coordinates' magnitude) and be far
	// below any distance that matters: 1e-11 of the magnitude is about 0.1 mm for lon/lat.
	m := max(maxAbs, 1) * 1e-11
	midLat := (all.Min[1] + all.Max[1]) / 2
	k := math.Max(math.Cos(midLat*math.Pi/180), 0.01) // metres per degree of lon / of lat

	w, h := cfg.cellW, cfg.cellH
	if !(w > 0 && h > 0) {
		var sizes []float64
		for _, b := range bounds {
			if isEmptyBound(b) {
				continue
			}
			bw, bh := (b.Max[0]-b.Min[0])*k, b.Max[1]-b.Min[1]
			s := math.Sqrt(bw * bh)
			if s == 0 {
				s = max(bw, bh)
			}
			if s > 0 {
				sizes = append(sizes, s)
			}
		}
		s := 0.0
		if len(sizes) > 0 {
			slices.Sort(sizes)
			s = sizes[len(sizes)/4] // a typical small polygon: the 25th percentile
		}
		spanW, spanH := (all.Max[0]-all.Min[0])*k, all.Max[1]-all.Min[1]
		if s == 0 {
			s = max(spanW, spanH, 1e-6)
		}
		h = s / cellsPerPolygon
		// Cap the number of cells: a few dozen per polygon keeps memory linear in the input.
		maxCells := 24*float64(len(bounds)) + 4096
		if cells := (spanW/h + 1) * (spanH/h + 1); cells > maxCells {
			h *= math.Sqrt(cells / maxCells)
		}
		w = h / k
	}
	w = max(w, 1e3*m)
	h = max(h, 1e3*m)
	g := gridSpec{w: w, h: h, m: m}
	g.x0 = all.Min[0] - 4*m
	g.y0 = all.Min[1] - 4*m
	g.nx = int(math.Floor((all.Max[0]+4*m-g.x0)/w)) + 1
	g.ny = int(math.Floor((all.Max[1]+4*m-g.y0)/h)) + 1
	return g
}

// cellsPerPolygon is how many cells span a typical small polygon's side. More cells mean fewer
// edges to test per query but more memory. 3 was a little faster than 2 and 4 on the synthetic
// district; on the 120,000-polygon region 2 was as fast with a third less memory.
const cellsPerPolygon = 3

// chunkOut is what one worker produced for a contiguous run of polygons.
type chunkOut struct {
	ents  []tmpEntry
	rings []ringRec
	edges []edge
	bps   []breakpoint
}

type tmpEntry struct {
	cell uint32
	poly int32
	ring uint32 // fullCell or an index into the chunk's rings
	box  uint32 // the box sides to check (boxMinX...)
}

// buildCells builds every polygon's cell entries in parallel, in chunks of consecutive polygons,
// then merges the chunks in polygon order so each cell lists its polygons in ascending order.
func (ix *PolygonIndex) buildCells(polys []orb.MultiPolygon, g *gridSpec, workers int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	const chunkSize = 64
	nchunks := (len(polys) + chunkSize - 1) / chunkSize
	outs := make([]chunkOut, nchunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, nchunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The worker writes into buffers it reuses, and each chunk keeps an exact-size copy:
			// growing fresh slices chunk after chunk cost more than all the geometry.
			w := &worker{g: g, out: &chunkOut{}}
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks {
					return
				}
				o := w.out
				o.ents, o.rings, o.edges, o.bps = o.ents[:0], o.rings[:0], o.edges[:0], o.bps[:0]
				for i := c * chunkSize; i < min((c+1)*chunkSize, len(polys)); i++ {
					w.exact = ix.bounds[i]
					w.box = postgisBox(w.exact)
					w.polygon(int32(i), polys[i])
				}
				outs[c] = chunkOut{ents: slices.Clone(o.ents), rings: slices.Clone(o.rings), edges: slices.Clone(o.edges), bps: slices.Clone(o.bps)}
			}
		}()
	}
	wg.Wait()

	// Lay the chunks out cell by cell: count each cell's entries and data words, then fill in
	// chunk order, which keeps every cell's entries in ascending polygon order.
	ncells := g.nx * g.ny
	nent := make([]uint32, ncells)
	words := make([]uint32, ncells)
	for i := range outs {
		o := &outs[i]
		for _, e := range o.ents {
			nent[e.cell]++
			if e.ring != fullCell {
				words[e.cell] += o.recordWords(e.ring)
				if e.box != 0 {
					words[e.cell] += 1 + uint32(bits.OnesCount32(e.box))
				}
			}
		}
	}
	ix.cellStart = make([]uint32, ncells+1)
	total := uint64(0)
	for c := 0; c < ncells; c++ {
		if nent[c] > 0 {
			total += uint64(1 + nent[c] + words[c])
		}
		if total > math.MaxUint32 {
			// 32 GB of cell data; the offsets are 32 bits. No grid layer comes near this.
			panic("geo: spatial index larger than 2^32 words")
		}
		ix.cellStart[c+1] = uint32(total)
	}
	ix.blob = make([]uint64, ix.cellStart[ncells])
	for c := 0; c < ncells; c++ {
		if nent[c] > 0 {
			ix.blob[ix.cellStart[c]] = uint64(nent[c])
			words[c] = 1 + nent[c] // from here on: where the cell's next ring record goes
			nent[c] = 0            // and how many entries are placed
		}
	}
	for i := range outs {
		o := &outs[i]
		for _, e := range o.ents {
			start := ix.cellStart[e.cell]
			off := uint32(0)
			if e.ring != fullCell {
				off = words[e.cell]
				if e.box != 0 {
					words[e.cell] += writeBox(ix.blob[start+off:], e.box, postgisBox(ix.bounds[e.poly]))
					off |= boxFlag
				}
				words[e.cell] += o.writeRecords(ix.blob[start+words[e.cell]:], e.ring)
			}
			ix.blob[start+1+nent[e.cell]] = uint64(uint32(e.poly)) | uint64(off)<<32
			nent[e.cell]++
		}
		*o = chunkOut{} // let the chunk's memory go before the next one is copied
	}
}

// writeBox encodes a box check of the given sides of box into dst and returns the words written.
func writeBox(dst []uint64, sides uint32, box orb.Bound) uint32 {
	dst[0] = uint64(sides)
	k := 1
	for i, v := range [2]float64{box.Min[0], box.Max[0]} {
		if sides&(1<<i) != 0 {
			dst[k] = math.Float64bits(v)
			k++
		}
	}
	return uint32(k)
}

// recordWords is how many blob words the ring records starting at ri take.
func (o *chunkOut) recordWords(ri uint32) uint32 {
	n := uint32(0)
	for ; ; ri++ {
		r := &o.rings[ri]
		n += 2 + 4*(r.e1-r.e0) + 2*(r.b1-r.b0)
		if r.flags&ringLast != 0 {
			return n
		}
	}
}

// writeRecords encodes the ring records starting at ri into dst and returns the words written.
func (o *chunkOut) writeRecords(dst []uint64, ri uint32) uint32 {
	k := 0
	for ; ; ri++ {
		r := &o.rings[ri]
		dst[k] = uint64(r.e1-r.e0) | uint64(r.b1-r.b0)<<32
		dst[k+1] = uint64(uint32(r.base)) | uint64(r.flags)<<32
		k += 2
		for _, e := range o.edges[r.e0:r.e1] {
			dst[k], dst[k+1], dst[k+2], dst[k+3] = math.Float64bits(e.x1), math.Float64bits(e.y1), math.Float64bits(e.x2), math.Float64bits(e.y2)
			k += 4
		}
		for _, b := range o.bps[r.b0:r.b1] {
			dst[k], dst[k+1] = math.Float64bits(b.y), uint64(int64(b.d))
			k += 2
		}
		if r.flags&ringLast != 0 {
			return uint32(k)
		}
	}
}

// worker builds the cell entries of one polygon at a time, reusing its scratch space.
type worker struct {
	g     *gridSpec
	out   *chunkOut
	box   orb.Bound // the current polygon's PostGIS box
	exact orb.Bound // and its true one

	// The polygon: its edges ring by ring, rings part by part.
	edges    []edge
	ringEdge []int32 // ring j's edges are edges[ringEdge[j]:ringEdge[j+1]]
	ringHole []bool
	partRing []int32 // part k's rings are ringEdge indexes partRing[k]:partRing[k+1]

	items, sorted []item
	rowStart      []int32
	colCount      []int32
	colEdges      []int32 // edge indexes, grouped by (active ring, column)
	states        []colState
	bpCur         []breakpoint
	bpStore       []breakpoint
	active        []int32 // per ring: index into act, or -1 when the ring has no edge in the row
	act           []activeRing
	actParts      []int32
	partVar       []bool
	partCover     []bool
}

// item is one edge's passage through one row of cells: the columns whose cells (grown by the
// margin) it touches within the row.
type item struct {
	row, ring, edge, cLo, cHi int32
}

// colState is one ring's state in one cell: its touching edges (colEdges[e0:e1]) and the far
// edges' contribution (base plus bpStore[b0:b1]).
type colState struct {
	base   int32
	b0, b1 int32
	e0, e1 int32
}

func (s *colState) constant() bool { return s.e0 == s.e1 && s.b0 == s.b1 }

// activeRing is a ring with edges in the current row. Its state is states[s0+c-minC] for columns
// minC..maxC, left for columns left of minC (all its edges in the row lie right of them), and
// nothing (zero) for columns right of maxC.
type activeRing struct {
	minC, maxC int32
	s0         int32
	left       colState
}

// polygon builds the cell entries of polygon pi.
func (w *worker) polygon(pi int32, mp orb.MultiPolygon) {
	w.load(mp)
	if len(w.edges) == 0 {
		return
	}
	g := w.g
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, e := range w.edges {
		minX, maxX = min(minX, e.x1, e.x2), max(maxX, e.x1, e.x2)
		minY, maxY = min(minY, e.y1, e.y2), max(maxY, e.y1, e.y2)
	}
	c0, c1 := g.colLo(minX), g.colHi(maxX)
	r0, r1 := g.rowLo(minY), g.rowHi(maxY)
	// Most cells of the polygon's box get an entry: make room once rather than grow by steps.
	w.out.ents = slices.Grow(w.out.ents, int(c1-c0+1)*int(r1-r0+1))

	// Cut every edge into its passages through rows.
	w.items = w.items[:0]
	nrings := len(w.ringHole)
	for j := 0; j < nrings; j++ {
		for ei := w.ringEdge[j]; ei < w.ringEdge[j+1]; ei++ {
			e := &w.edges[ei]
			ylo, yhi := min(e.y1, e.y2), max(e.y1, e.y2)
			for r, rhi := g.rowLo(ylo), g.rowHi(yhi); r <= rhi; r++ {
				var xa, xb float64
				if e.y1 == e.y2 {
					xa, xb = min(e.x1, e.x2), max(e.x1, e.x2)
				} else {
					// The edge's x-range within the row's y-range (grown by twice the margin).
					s0 := g.y0 + float64(r)*g.h - 2*g.m
					s1 := g.y0 + float64(r+1)*g.h + 2*g.m
					ya, yb := max(ylo, s0), min(yhi, s1)
					if ya > yb {
						ya, yb = yb, ya
					}
					xa = e.x1 + (e.x2-e.x1)*((ya-e.y1)/(e.y2-e.y1))
					xb = e.x1 + (e.x2-e.x1)*((yb-e.y1)/(e.y2-e.y1))
					if xa > xb {
						xa, xb = xb, xa
					}
				}
				w.items = append(w.items, item{row: r, ring: int32(j), edge: ei, cLo: g.colLo(xa), cHi: g.colHi(xb)})
			}
		}
	}
	// Group the passages by row; a stable counting sort keeps them in ring order within a row.
	nrows := int(r1 - r0 + 1)
	w.rowStart = resize(w.rowStart, nrows+1)
	clear(w.rowStart)
	for _, it := range w.items {
		w.rowStart[it.row-r0+1]++
	}
	for r := 0; r < nrows; r++ {
		w.rowStart[r+1] += w.rowStart[r]
	}
	w.sorted = resize(w.sorted, len(w.items))
	w.colCount = resize(w.colCount, nrows) // reused as the row cursors
	copy(w.colCount, w.rowStart[:nrows])
	for _, it := range w.items {
		w.sorted[w.colCount[it.row-r0]] = it
		w.colCount[it.row-r0]++
	}

	w.active = resize(w.active, nrings)
	for j := range w.active {
		w.active[j] = -1
	}
	nparts := len(w.partRing) - 1
	w.partVar = resize(w.partVar, nparts)
	w.partCover = resize(w.partCover, nparts)
	for r := r0; r <= r1; r++ {
		row := w.sorted[w.rowStart[r-r0]:w.rowStart[r-r0+1]]
		if len(row) == 0 {
			continue // no ring reaches this row: nothing covers its cells
		}
		w.colEdges, w.states, w.bpStore, w.act = w.colEdges[:0], w.states[:0], w.bpStore[:0], w.act[:0]
		yb := g.y0 + float64(r)*g.h - 2*g.m
		yt := g.y0 + float64(r+1)*g.h + 2*g.m
		for i := 0; i < len(row); {
			k := i + 1
			for k < len(row) && row[k].ring == row[i].ring {
				k++
			}
			w.active[row[i].ring] = int32(len(w.act))
			w.sweep(row[i:k], yb, yt)
			i = k
		}
		w.actParts = w.actParts[:0]
		for p := 0; p < nparts; p++ {
			for j := w.partRing[p]; j < w.partRing[p+1]; j++ {
				if w.active[j] >= 0 {
					w.actParts = append(w.actParts, int32(p))
					break
				}
			}
		}
		for c := c0; c <= c1; c++ {
			w.cell(pi, uint32(int(r)*g.nx+int(c)), c)
		}
		for _, it := range row {
			w.active[it.ring] = -1
		}
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// load flattens mp into the worker's edge lists, dropping zero-length and non-finite edges and
// closing open rings.
func (w *worker) load(mp orb.MultiPolygon) {
	w.edges, w.ringEdge, w.ringHole, w.partRing = w.edges[:0], w.ringEdge[:0], w.ringHole[:0], w.partRing[:0]
	w.ringEdge = append(w.ringEdge, 0)
	w.partRing = append(w.partRing, 0)
	for _, poly := range mp {
		if len(poly) == 0 {
			continue // PostGIS skips empty parts
		}
		for ri, ring := range poly {
			n := len(ring)
			for k := 0; k+1 < n; k++ {
				w.addEdge(ring[k], ring[k+1])
			}
			if n >= 2 && ring[n-1] != ring[0] {
				w.addEdge(ring[n-1], ring[0])
			}
			w.ringEdge = append(w.ringEdge, int32(len(w.edges)))
			w.ringHole = append(w.ringHole, ri > 0)
		}
		w.partRing = append(w.partRing, int32(len(w.ringHole)))
	}
}

func (w *worker) addEdge(a, b orb.Point) {
	if a == b || !finite(a[0]) || !finite(a[1]) || !finite(b[0]) || !finite(b[1]) {
		return
	}
	w.edges = append(w.edges, edge{a[0], a[1], b[0], b[1]})
}

// sweep computes one ring's state in every column of the current row from its passages, moving
// right to left so the set of edges lying wholly right of the column only grows.
func (w *worker) sweep(its []item, yb, yt float64) {
	minC, maxC := its[0].cLo, its[0].cHi
	for _, it := range its {
		minC, maxC = min(minC, it.cLo), max(maxC, it.cHi)
	}
	ncol := int(maxC - minC + 1)

	// Touching edges per column, by counting sort.
	w.colCount = resize(w.colCount, ncol+1)
	clear(w.colCount)
	for _, it := range its {
		for c := it.cLo; c <= it.cHi; c++ {
			w.colCount[c-minC+1]++
		}
	}
	for c := 0; c < ncol; c++ {
		w.colCount[c+1] += w.colCount[c]
	}
	base := int32(len(w.colEdges))
	w.colEdges = slices.Grow(w.colEdges, int(w.colCount[ncol]))[:int(base)+int(w.colCount[ncol])]
	s0 := int32(len(w.states))
	w.states = slices.Grow(w.states, ncol)[:int(s0)+ncol]
	for c := 0; c < ncol; c++ {
		w.states[int(s0)+c] = colState{e0: base + w.colCount[c], e1: base + w.colCount[c+1]}
	}
	for _, it := range its {
		for c := it.cLo; c <= it.cHi; c++ {
			st := &w.states[s0+c-minC]
			w.colEdges[st.b1+st.e0] = it.edge // b1 counts how many were placed so far
			st.b1++
		}
	}

	slices.SortFunc(its, func(a, b item) int { return int(b.cLo - a.cLo) })
	w.bpCur = w.bpCur[:0]
	var t int32
	k := 0
	for c := maxC; c >= minC; c-- {
		for k < len(its) && its[k].cLo > c {
			t = w.addFar(its[k].edge, t, yb, yt)
			k++
		}
		st := &w.states[s0+c-minC]
		st.base = t
		st.b0 = int32(len(w.bpStore))
		w.bpStore = append(w.bpStore, w.bpCur...)
		st.b1 = int32(len(w.bpStore))
	}
	for ; k < len(its); k++ {
		t = w.addFar(its[k].edge, t, yb, yt)
	}
	a := activeRing{minC: minC, maxC: maxC, s0: s0, left: colState{base: t, b0: int32(len(w.bpStore))}}
	w.bpStore = append(w.bpStore, w.bpCur...)
	a.left.b1 = int32(len(w.bpStore))
	w.act = append(w.act, a)
}

// addFar adds an edge lying wholly right of the current column to the far contribution: its
// direction for y in [ymin, ymax), written as +d at ymin and -d at ymax. Steps at or below the
// row's lowest y go into the base; steps above its highest y never apply.
func (w *worker) addFar(ei int32, t int32, yb, yt float64) int32 {
	e := &w.edges[ei]
	if e.y1 == e.y2 {
		return t // a horizontal edge never changes a winding number
	}
	d, lo, hi := int32(1), e.y1, e.y2
	if e.y2 < e.y1 {
		d, lo, hi = -1, e.y2, e.y1
	}
	for _, s := range [2]breakpoint{{lo, d}, {hi, -d}} {
		switch {
		case s.y <= yb:
			t += s.d
		case s.y <= yt:
			w.addBreakpoint(s)
		}
	}
	return t
}

// addBreakpoint merges s into the sorted current breakpoints; steps that cancel disappear, which
// keeps the list to the few places where a far edge meets a touching one.
func (w *worker) addBreakpoint(s breakpoint) {
	i, found := slices.BinarySearchFunc(w.bpCur, s.y, func(b breakpoint, y float64) int {
		switch {
		case b.y < y:
			return -1
		case b.y > y:
			return 1
		}
		return 0
	})
	if !found {
		w.bpCur = slices.Insert(w.bpCur, i, s)
		return
	}
	w.bpCur[i].d += s.d
	if w.bpCur[i].d == 0 {
		w.bpCur = slices.Delete(w.bpCur, i, i+1)
	}
}

func (w *worker) state(j int32, c int32) colState {
	ai := w.active[j]
	if ai < 0 {
		return colState{}
	}
	a := &w.act[ai]
	switch {
	case c < a.minC:
		return a.left
	case c > a.maxC:
		return colState{}
	}
	return w.states[a.s0+c-a.minC]
}

// cell emits polygon pi's entry for one cell of the current row, if it has one.
func (w *worker) cell(pi int32, cell uint32, c int32) {
	anyVar, anyCover := false, false
	for _, p := range w.actParts {
		v := false
		for j := w.partRing[p]; j < w.partRing[p+1]; j++ {
			if s := w.state(j, c); !s.constant() {
				v = true
				break
			}
		}
		w.partVar[p] = v
		w.partCover[p] = false
		if v {
			anyVar = true
			continue
		}
		// Every ring of the part is constant over the cell: decide it as PostGIS would.
		if s := w.state(w.partRing[p], c); s.base == 0 {
			continue
		}
		cover := true
		for j := w.partRing[p] + 1; j < w.partRing[p+1]; j++ {
			if s := w.state(j, c); s.base != 0 {
				cover = false
				break
			}
		}
		w.partCover[p] = cover
		anyCover = anyCover || cover
	}
	o := w.out
	if !anyVar {
		if anyCover {
			o.ents = append(o.ents, tmpEntry{cell: cell, poly: pi, ring: fullCell})
		}
		return
	}
	first := uint32(len(o.rings))
	for _, p := range w.actParts {
		if !w.partVar[p] && !w.partCover[p] {
			continue // a constant part that covers nothing here
		}
		for j := w.partRing[p]; j < w.partRing[p+1]; j++ {
			s := w.state(j, c)
			r := ringRec{base: s.base, e0: uint32(len(o.edges)), b0: uint32(len(o.bps))}
			if w.ringHole[j] {
				r.flags = ringHole
			}
			for _, ei := range w.colEdges[s.e0:s.e1] {
				o.edges = append(o.edges, w.edges[ei])
			}
			o.bps = append(o.bps, w.bpStore[s.b0:s.b1]...)
			r.e1, r.b1 = uint32(len(o.edges)), uint32(len(o.bps))
			o.rings = append(o.rings, r)
		}
	}
	o.rings[len(o.rings)-1].flags |= ringLast
	// Which sides of the PostGIS box must be checked in this cell. Only the east and west ones:
	// a point north or south of the polygon's true box has no edge in its y-range, so PostGIS's
	// winding number is exactly 0 there whatever the box says. And only a side the cell (grown
	// by the margin) reaches past, and only where float32 rounding moved it out by less than
	// twice the margin: beyond that, a point outside the box is farther than the margin from
	// every edge, where the float test is exact and says "outside" anyway. With real
	// coordinates that is about one side in ten thousand; with round ones (113.5) it is all.
	g, b, exact := w.g, &w.box, &w.exact
	var sides uint32
	if g.x0+float64(c)*g.w-2*g.m < b.Min[0] && exact.Min[0]-b.Min[0] < 2*g.m {
		sides |= boxMinX
	}
	if g.x0+float64(c+1)*g.w+2*g.m > b.Max[0] && b.Max[0]-exact.Max[0] < 2*g.m {
		sides |= boxMaxX
	}
	o.ents = append(o.ents, tmpEntry{cell: cell, poly: pi, ring: first, box: sides})
}

// buildCoarse registers every polygon's bounding box in the coarse grid.
func (ix *PolygonIndex) buildCoarse() {
	// About four polygons per coarse cell on average keeps lists short and registrations few.
	target := max(1, float64(ix.n)/4)
	ix.cf = max(1, int(math.Round(math.Sqrt(float64(ix.nx*ix.ny)/target))))
	ix.cnx = (ix.nx + ix.cf - 1) / ix.cf
	ix.cny = (ix.ny + ix.cf - 1) / ix.cf
	ix.coarseStart = make([]uint32, ix.cnx*ix.cny+1)
	each := func(fn func(c int, i int32)) {
		for i, b := range ix.bounds {
			if isEmptyBound(b) {
				continue
			}
			cx0, cy0, cx1, cy1 := ix.coarseRange(b)
			for cy := cy0; cy <= cy1; cy++ {
				for cx := cx0; cx <= cx1; cx++ {
					fn(cy*ix.cnx+cx, int32(i))
				}
			}
		}
	}
	each(func(c int, _ int32) { ix.coarseStart[c+1]++ })
	for c := 0; c < ix.cnx*ix.cny; c++ {
		ix.coarseStart[c+1] += ix.coarseStart[c]
	}
	ix.coarsePolys = make([]int32, ix.coarseStart[ix.cnx*ix.cny])
	cursor := slices.Clone(ix.coarseStart[:ix.cnx*ix.cny])
	each(func(c int, i int32) {
		ix.coarsePolys[cursor[c]] = i
		cursor[c]++
	})
}

// coarseRange is the range of coarse cells a box overlaps, clamped to the grid.
func (ix *PolygonIndex) coarseRange(b orb.Bound) (cx0, cy0, cx1, cy1 int) {
	cw, ch := ix.w*float64(ix.cf), ix.h*float64(ix.cf)
	col := func(x float64) int { return int(max(0, min(math.Floor((x-ix.x0)/cw), float64(ix.cnx-1)))) }
	row := func(y float64) int { return int(max(0, min(math.Floor((y-ix.y0)/ch), float64(ix.cny-1)))) }
	return col(b.Min[0]), row(b.Min[1]), col(b.Max[0]), row(b.Max[1])
}

// Len is the number of polygons the index was built from, empty ones included.
func (ix *PolygonIndex) Len() int { return ix.n }

// SizeBytes is the memory held by the index's arrays, for capacity planning.
func (ix *PolygonIndex) SizeBytes() int {
	return len(ix.cellStart)*4 + len(ix.blob)*8 + len(ix.bounds)*32 + len(ix.coarseStart)*4 +
		len(ix.coarsePolys)*4 + len(ix.pts)*16 + len(ix.ringOff)*4 + len(ix.polyRing)*4
}

// cellOf is the cell holding (x, y), or -1 when no polygon can cover the point (NaN included).
func (ix *PolygonIndex) cellOf(x, y float64) int {
	if !(x >= ix.x0 && x <= ix.x1 && y >= ix.y0 && y <= ix.y1) {
		return -1
	}
	cx := int((x - ix.x0) * ix.invW)
	cy := int((y - ix.y0) * ix.invH)
	// A point on the grid's far edge (or a rounding step past it) belongs to the last cell; the
	// margin keeps it inside that cell's grown extent.
	cx = min(cx, ix.nx-1)
	cy = min(cy, ix.ny-1)
	return cy*ix.nx + cx
}

// cell is the words of the cell holding (x, y) and its entries; both empty when nothing is there.
func (ix *PolygonIndex) cell(x, y float64) (blk, ents []uint64) {
	c := ix.cellOf(x, y)
	if c < 0 {
		return nil, nil
	}
	blk = ix.blob[ix.cellStart[c]:ix.cellStart[c+1]]
	if len(blk) == 0 {
		return nil, nil
	}
	return blk, blk[1 : 1+blk[0]]
}

// Covering appends to dst the indexes of every polygon that covers p (interior or boundary, like PostGIS ST_Covers), in ascending order, and returns it. It must not allocate when dst has capacity.
func (ix *PolygonIndex) Covering(p orb.Point, dst []int32) []int32 {
	x, y := p[0], p[1]
	blk, ents := ix.cell(x, y)
	for _, e := range ents {
		if coversEntry(blk, e, x, y) {
			dst = append(dst, int32(uint32(e)))
		}
	}
	return dst
}

// coversEntry answers for one entry of a cell.
func coversEntry(blk []uint64, e uint64, x, y float64) bool {
	off := int(e >> 32)
	if off == 0 {
		return true
	}
	if off&boxFlag != 0 {
		var inBox bool
		if inBox, off = boxCheck(blk, off&^boxFlag, x, y); !inBox {
			return false
		}
	}
	return covers(blk, off, x, y)
}

// boxCheck tests (x, y) against the box check at blk[off:] and returns where the rings start.
func boxCheck(blk []uint64, off int, x, y float64) (inside bool, rings int) {
	sides := blk[off]
	k := off + 1
	inside = true
	if sides&boxMinX != 0 {
		inside = inside && x >= math.Float64frombits(blk[k])
		k++
	}
	if sides&boxMaxX != 0 {
		inside = inside && x <= math.Float64frombits(blk[k])
		k++
	}
	return inside, k
}

// ringsAt is where the ring records of a partial entry start, past any box check.
func ringsAt(blk []uint64, e uint64) int {
	off := int(e >> 32)
	if off&boxFlag != 0 {
		off &^= boxFlag
		off += 1 + bits.OnesCount64(blk[off])
	}
	return off
}

// covers runs PostGIS's multipolygon logic over the ring records at blk[off:].
func covers(blk []uint64, off int, x, y float64) bool {
	for {
		wn, on, flags, next := winding(blk, off, x, y)
		if on {
			return true
		}
		inside := wn != 0
		for flags&ringLast == 0 && uint32(blk[next+1]>>32)&ringHole != 0 {
			off = next
			if !inside {
				flags, next = skipRing(blk, off)
				continue
			}
			wn, on, flags, next = winding(blk, off, x, y)
			if on {
				return true
			}
			if wn != 0 {
				inside = false // in a hole: this part does not cover, and later holes are not asked
			}
		}
		if inside {
			return true
		}
		if flags&ringLast != 0 {
			return false
		}
		off = next
	}
}

// skipRing reads the ring record at blk[off:] for its flags and where the next one starts.
func skipRing(blk []uint64, off int) (flags uint32, next int) {
	h0 := blk[off]
	return uint32(blk[off+1] >> 32), off + 2 + 4*int(uint32(h0)) + 2*int(h0>>32)
}

// winding is the PostGIS winding number at (x, y) of the ring record at blk[off:], whether the
// point is on the ring, the record's flags, and where the next record starts.
func winding(blk []uint64, off int, x, y float64) (wn int32, on bool, flags uint32, next int) {
	h0, h1 := blk[off], blk[off+1]
	ne, nb := int(uint32(h0)), int(h0>>32)
	wn, flags = int32(uint32(h1)), uint32(h1>>32)
	es := blk[off+2 : off+2+4*ne]
	bs := blk[off+2+4*ne : off+2+4*ne+2*nb]
	next = off + 2 + 4*ne + 2*nb
	for ; len(bs) >= 2; bs = bs[2:] {
		if y >= math.Float64frombits(bs[0]) {
			wn += int32(int64(bs[1]))
		}
	}
	for ; len(es) >= 4; es = es[4:] {
		e := edge{math.Float64frombits(es[0]), math.Float64frombits(es[1]), math.Float64frombits(es[2]), math.Float64frombits(es[3])}
		if (y < e.y1 && y < e.y2) || (y > e.y1 && y > e.y2) {
			continue
		}
		side := float64(float64(e.x2-e.x1)*float64(y-e.y1)) - float64(float64(x-e.x1)*float64(e.y2-e.y1))
		if side == 0 && onSegmentBox(&e, x, y) {
			return 0, true, flags, next
		}
		if e.y1 <= y && y < e.y2 && side > 0 {
			wn++
		} else if e.y2 <= y && y < e.y1 && side < 0 {
			wn--
		}
	}
	return wn, false, flags, next
}

// recordEdges calls fn for every edge of the ring records at blk[off:]. The edge is passed by
// value: a pointer to it would make every edge a heap allocation, since fn is not known here.
func recordEdges(blk []uint64, off int, fn func(e edge)) {
	for {
		h0 := blk[off]
		flags, next := skipRing(blk, off)
		for es := blk[off+2 : off+2+4*int(uint32(h0))]; len(es) >= 4; es = es[4:] {
			e := edge{math.Float64frombits(es[0]), math.Float64frombits(es[1]), math.Float64frombits(es[2]), math.Float64frombits(es[3])}
			fn(e)
		}
		if flags&ringLast != 0 {
			return
		}
		off = next
	}
}

// onSegmentBox reports whether (x, y) lies in the edge's closed bounding box (PostGIS isOnSegment).
func onSegmentBox(e *edge, x, y float64) bool {
	return x >= min(e.x1, e.x2) && x <= max(e.x1, e.x2) && y >= min(e.y1, e.y2) && y <= max(e.y1, e.y2)
}

// onEdge reports whether (x, y) is on the edge by the PostGIS boundary rule.
func onEdge(e *edge, x, y float64) bool {
	if e.x1 == e.x2 && e.y1 == e.y2 {
		return false
	}
	side := float64(float64(e.x2-e.x1)*float64(y-e.y1)) - float64(float64(x-e.x1)*float64(e.y2-e.y1))
	return side == 0 && onSegmentBox(e, x, y)
}

// OnBoundary reports whether p lies exactly on polygon i's boundary (same arithmetic as Covering).
// The boundary is every edge of every ring, outer rings and holes alike.
func (ix *PolygonIndex) OnBoundary(i int32, p orb.Point) bool {
	blk, ents := ix.cell(p[0], p[1])
	k, found := slices.BinarySearchFunc(ents, i, func(e uint64, i int32) int { return int(int32(uint32(e))) - int(i) })
	if !found || ents[k]>>32 == 0 {
		return false // no edge of polygon i comes near this cell
	}
	on := false
	recordEdges(blk, ringsAt(blk, ents[k]), func(e edge) { on = on || onEdge(&e, p[0], p[1]) })
	return on
}

// Candidates appends the polygons whose bounding box intersects b (for near-boundary searches).
// They come in ascending order, each once.
func (ix *PolygonIndex) Candidates(b orb.Bound, dst []int32) []int32 {
	if ix.cnx == 0 || !(b.Min[0] <= b.Max[0] && b.Min[1] <= b.Max[1]) ||
		b.Max[0] < ix.x0 || b.Min[0] > ix.x1 || b.Max[1] < ix.y0 || b.Min[1] > ix.y1 {
		return dst
	}
	start := len(dst)
	cx0, cy0, cx1, cy1 := ix.coarseRange(b)
	for cy := cy0; cy <= cy1; cy++ {
		for cx := cx0; cx <= cx1; cx++ {
			c := cy*ix.cnx + cx
			for _, i := range ix.coarsePolys[ix.coarseStart[c]:ix.coarseStart[c+1]] {
				if ix.bounds[i].Intersects(b) {
					dst = append(dst, i)
				}
			}
		}
	}
	if cx0 != cx1 || cy0 != cy1 {
		slices.Sort(dst[start:])
		dst = slices.Compact(dst)
	}
	return dst
}

// nearCellLimit bounds the cells Nearest scans edge by edge; wider searches go polygon by polygon.
const nearCellLimit = 4096

// Nearest returns the polygon nearest to p (distance 0 if it covers p) among those for which keep(i) is true (keep may be nil), searching out to maxMetres; ok=false if none. Distance in metres (see BoundaryDistance below).
//
// Distances are those of BoundaryDistance: metres in a local equirectangular projection around p.
// Ties go to the lower index, as does the choice among several polygons covering p.
func (ix *PolygonIndex) Nearest(p orb.Point, maxMetres float64, keep func(int32) bool) (i int32, metres float64, ok bool) {
	x, y := p[0], p[1]
	if !finite(x) || !finite(y) {
		return -1, 0, false
	}
	blk, ents := ix.cell(x, y)
	for _, e := range ents {
		poly := int32(uint32(e))
		if coversEntry(blk, e, x, y) && (keep == nil || keep(poly)) {
			return poly, 0, true
		}
	}
	if !(maxMetres >= 0) || ix.nx == 0 {
		return -1, 0, false
	}
	pr := newProjection(p)
	// The box that holds every point within maxMetres, grown a little against rounding.
	dLat := maxMetres / pr.ky * (1 + 1e-9)
	dLon := 360.0
	if pr.kx > 1e-9 {
		dLon = maxMetres / pr.kx * (1 + 1e-9)
	}
	box := orb.Bound{Min: orb.Point{x - dLon, y - dLat}, Max: orb.Point{x + dLon, y + dLat}}
	if box.Max[0] < ix.x0 || box.Min[0] > ix.x1 || box.Max[1] < ix.y0 || box.Min[1] > ix.y1 {
		return -1, 0, false
	}
	g := gridSpec{x0: ix.x0, y0: ix.y0, w: ix.w, h: ix.h, nx: ix.nx, ny: ix.ny, m: ix.margin}
	c0, c1 := g.colLo(box.Min[0]), g.colHi(box.Max[0])
	r0, r1 := g.rowLo(box.Min[1]), g.rowHi(box.Max[1])

	best, bestD2 := int32(-1), maxMetres*maxMetres
	consider := func(poly int32, d2 float64) {
		if d2 > bestD2 || (d2 == bestD2 && best >= 0 && poly >= best) {
			return
		}
		if keep == nil || keep(poly) {
			best, bestD2 = poly, d2
		}
	}
	if int(c1-c0+1)*int(r1-r0+1) <= nearCellLimit {
		// Every boundary point within reach lies in one of these cells, on an edge listed there.
		for r := r0; r <= r1; r++ {
			for c := c0; c <= c1; c++ {
				cell := int(r)*ix.nx + int(c)
				blk := ix.blob[ix.cellStart[cell]:ix.cellStart[cell+1]]
				if len(blk) == 0 {
					continue
				}
				for _, e := range blk[1 : 1+blk[0]] {
					if e>>32 == 0 {
						continue
					}
					d2 := math.Inf(1)
					recordEdges(blk, ringsAt(blk, e), func(ed edge) {
						d2 = min(d2, pr.segment(orb.Point{ed.x1, ed.y1}, orb.Point{ed.x2, ed.y2}).d2)
					})
					consider(int32(uint32(e)), d2)
				}
			}
		}
	} else {
		// Polygon by polygon over the coarse cells the box touches. A polygon listed in several
		// cells is seen several times, which a minimum does not mind; the bounding-box test
		// makes the repeats cheap, and avoids the sort that Candidates needs.
		cx0, cy0, cx1, cy1 := ix.coarseRange(box)
		for cy := cy0; cy <= cy1; cy++ {
			for cx := cx0; cx <= cx1; cx++ {
				c := cy*ix.cnx + cx
				for _, poly := range ix.coarsePolys[ix.coarseStart[c]:ix.coarseStart[c+1]] {
					// Filter before measuring: the filter is cheap, measuring a ring is not; and
					// skip a polygon whose bounding box is already farther than the best found.
					if !ix.bounds[poly].Intersects(box) || boxD2(&pr, ix.bounds[poly], x, y) > bestD2 {
						continue
					}
					if keep != nil && !keep(poly) {
						continue
					}
					d2 := math.Inf(1)
					for k := ix.polyRing[poly]; k < ix.polyRing[poly+1]; k++ {
						pts := ix.pts[ix.ringOff[k]:ix.ringOff[k+1]]
						if s, ok := pr.ring(pts); ok {
							d2 = min(d2, s.d2)
						}
					}
					consider(poly, d2)
				}
			}
		}
	}
	if best < 0 {
		return -1, 0, false
	}
	return best, math.Sqrt(bestD2), true
}

// boxD2 is a lower bound of the squared distance in metres from (x, y) to anything inside b.
func boxD2(pr *projection, b orb.Bound, x, y float64) float64 {
	dx := math.Max(0, math.Max(b.Min[0]-x, x-b.Max[0]))
	dy := math.Max(0, math.Max(b.Min[1]-y, y-b.Max[1]))
	// The same projection as the ring distances it bounds (degrees to metres at p's latitude).
	mx, my := dx*pr.kx, dy*pr.ky
	return mx*mx + my*my
}

// BoundaryDistance is the distance in metres from p to the nearest point of mp's boundary (all rings), and that point.
//
// Metres are measured in a local equirectangular projection around p: x = Δlon·cos(lat(p)),
// y = Δlat, both in radians times the mean earth radius 6371008.8 m. Over the tens of metres that
// matter here the error against the ellipsoid is far below 0.5% (it grows with the distance's
// latitude span and with the ellipsoid's flattening, about 0.3% at most). An empty mp gives
// +Inf and the zero point.
func BoundaryDistance(p orb.Point, mp orb.MultiPolygon) (metres float64, nearest orb.Point) {
	pr := newProjection(p)
	best := segNear{d2: math.Inf(1)}
	for _, poly := range mp {
		for _, ring := range poly {
			if s, ok := pr.ring(ring); ok && s.d2 < best.d2 {
				best = s
			}
		}
	}
	if math.IsInf(best.d2, 1) {
		return math.Inf(1), orb.Point{}
	}
	return math.Sqrt(best.d2), best.point()
}

// projection is the local equirectangular projection around a point, in metres.
type projection struct {
	p      orb.Point
	kx, ky float64 // metres per degree of lon and of lat
}

func newProjection(p orb.Point) projection {
	return projection{p: p, kx: math.Cos(p[1]*math.Pi/180) * metresPerDegree, ky: metresPerDegree}
}

// segNear is the nearest point of a segment a-b: a + t(b-a), at squared distance d2 (m²).
type segNear struct {
	a, b orb.Point
	t    float64
	d2   float64
}

func (s segNear) point() orb.Point {
	switch s.t {
	case 0:
		return s.a
	case 1:
		return s.b
	}
	return orb.Point{s.a[0] + s.t*(s.b[0]-s.a[0]), s.a[1] + s.t*(s.b[1]-s.a[1])}
}

func (pr *projection) segment(a, b orb.Point) segNear {
	ax, ay := (a[0]-pr.p[0])*pr.kx, (a[1]-pr.p[1])*pr.ky
	dx, dy := (b[0]-a[0])*pr.kx, (b[1]-a[1])*pr.ky
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = max(0, min(1, -(ax*dx+ay*dy)/l))
	}
	qx, qy := ax+t*dx, ay+t*dy
	return segNear{a: a, b: b, t: t, d2: qx*qx + qy*qy}
}

// ring is the nearest point of a ring's edges (closing it if open); ok is false for an empty ring.
func (pr *projection) ring(pts []orb.Point) (segNear, bool) {
	n := len(pts)
	best := segNear{d2: math.Inf(1)}
	try := func(a, b orb.Point) {
		// A NaN distance (from a NaN coordinate) never compares less, so such edges drop out.
		if s := pr.segment(a, b); s.d2 < best.d2 {
			best = s
		}
	}
	if n == 1 {
		try(pts[0], pts[0])
	}
	for k := 0; k+1 < n; k++ {
		try(pts[k], pts[k+1])
	}
	if n >= 2 && pts[n-1] != pts[0] {
		try(pts[n-1], pts[0])
	}
	return best, !math.IsInf(best.d2, 1)
}
