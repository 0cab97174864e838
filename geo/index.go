package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// This file holds PolygonIndex, the in-memory point-in-polygon index that resolves a coordinate to
// every grid covering it, with exactly the answers PostGIS gives: its type, the layout of its
// records and its constructor. index_build.go builds it, index_query.go answers point queries and
// index_nearest.go distance queries.
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
// Every float expression in these files that decides a boundary or a winding step is written
// exactly like that, with each product wrapped in float64(...) so the compiler cannot fuse it into a
// multiply-add (the Go spec allows fusing unless an explicit conversion rounds the product).
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

// Len is the number of polygons the index was built from, empty ones included.
func (ix *PolygonIndex) Len() int { return ix.n }

// SizeBytes is the memory held by the index's arrays, for capacity planning.
func (ix *PolygonIndex) SizeBytes() int {
	return len(ix.cellStart)*4 + len(ix.blob)*8 + len(ix.bounds)*32 + len(ix.coarseStart)*4 +
		len(ix.coarsePolys)*4 + len(ix.pts)*16 + len(ix.ringOff)*4 + len(ix.polyRing)*4
}
