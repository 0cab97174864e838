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

// Building a PolygonIndex: choosing the cell grid, cutting every polygon into its cells (in
// parallel), and the coarse grid of bounding boxes.

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
