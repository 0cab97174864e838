package geo

import (
	"math"
	"math/bits"
	"slices"

	"github.com/paulmach/orb"
)

// Point queries of a PolygonIndex: which polygons cover a point, whether it lies on a boundary,
// and which bounding boxes meet a box.

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
