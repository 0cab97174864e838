package resolve

import (
	"slices"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/geo"
)

// The spatial part of a GridIndex, with an overlay for small changes.
//
// A full geo.PolygonIndex over every version takes seconds to build (1.3 s quiet on 111,909
// versions, 14 s on a loaded machine), so a refresh that adds, deletes or reshapes a few versions
// does not build one: it keeps the previous base index, masks the base entries that are gone
// (deleted versions, versions whose geometry changed) and indexes the versions added since (the
// delta, re-added reshaped versions included) in a small PolygonIndex. Every query consults both,
// maps their ids to the GridIndex's positions and drops masked entries. Positions are exactly
// those a full rebuild gives (kept versions in order, new ones appended), and both maps are
// increasing, so answers - including "ties go to the lower position" - are those of a full
// rebuild. The Resolver then builds the full index in the background and swaps it into the same
// GridIndex (see compact); queries never see a half-built state.

// deltaLimit is the largest delta kept as an overlay: past it (bulk imports) update builds the
// full index at once, as a big delta would be slow to build and to query.
func deltaLimit(base int) int { return max(2000, base/50) }

// spatial is one immutable state of a GridIndex's spatial index. Without an overlay (baseToPos
// nil) the ids of base are the positions.
type spatial struct {
	base *geo.PolygonIndex
	// The overlay (all nil without one).
	baseToPos  []int32 // base id -> position, -1 when masked
	baseVer    []int64 // base id -> version id (shared by successive overlays over one base)
	delta      *geo.PolygonIndex
	deltaToPos []int32 // delta id -> position, increasing
	deltaVer   []int64 // delta id -> version id
}

func (s *spatial) overlay() bool { return s.baseToPos != nil }

// covering appends the positions covering p in ascending order (see geo.PolygonIndex.Covering).
func (s *spatial) covering(p orb.Point, dst []int32) []int32 {
	if s.baseToPos == nil {
		return s.base.Covering(p, dst)
	}
	start := len(dst)
	dst = s.base.Covering(p, dst)
	k := start
	for _, b := range dst[start:] {
		if pos := s.baseToPos[b]; pos >= 0 {
			dst[k] = pos
			k++
		}
	}
	dst = dst[:k]
	if s.delta != nil {
		n := len(dst)
		dst = s.delta.Covering(p, dst)
		if len(dst) > n {
			for j := n; j < len(dst); j++ {
				dst[j] = s.deltaToPos[dst[j]]
			}
			slices.Sort(dst[start:])
		}
	}
	return dst
}

// nearest is geo.PolygonIndex.Nearest over positions: keep and the answer are positions.
func (s *spatial) nearest(p orb.Point, maxMetres float64, keep func(int32) bool) (int32, float64, bool) {
	if s.baseToPos == nil {
		return s.base.Nearest(p, maxMetres, keep)
	}
	bi, bd, bok := s.base.Nearest(p, maxMetres, func(b int32) bool {
		pos := s.baseToPos[b]
		return pos >= 0 && (keep == nil || keep(pos))
	})
	if bok {
		bi = s.baseToPos[bi]
	}
	if s.delta == nil {
		return bi, bd, bok
	}
	di, dd, dok := s.delta.Nearest(p, maxMetres, func(d int32) bool {
		return keep == nil || keep(s.deltaToPos[d])
	})
	if !dok {
		return bi, bd, bok
	}
	di = s.deltaToPos[di]
	if !bok || dd < bd || (dd == bd && di < bi) {
		return di, dd, true
	}
	return bi, bd, true
}

// full builds the spatial index over every position of ix from scratch.
func full(ix *GridIndex) *spatial {
	polys := make([]orb.MultiPolygon, len(ix.grids))
	for i := range ix.grids {
		polys[i] = ix.grids[i].Geometry
	}
	return &spatial{base: geo.NewIndex(polys)}
}

// next is the spatial state of nx, the index update made from ix: gone are the versions of ix
// missing from nx, and reshaped holds the versions whose geometry changed. It returns nil when a
// full rebuild is due (the delta would pass deltaLimit).
func (s *spatial) next(ix, nx *GridIndex, reshaped map[int64]bool) *spatial {
	out := &spatial{base: s.base}
	nb := s.base.Len()
	var deltaVer []int64
	if s.overlay() {
		out.baseVer = s.baseVer
		out.baseToPos = make([]int32, nb)
		for b, pos := range s.baseToPos {
			out.baseToPos[b] = -1
			if pos < 0 {
				continue
			}
			v := s.baseVer[b]
			if np, ok := nx.byVersion[v]; ok && !reshaped[v] {
				out.baseToPos[b] = np
			}
		}
		for _, v := range s.deltaVer {
			if _, ok := nx.byVersion[v]; ok && !reshaped[v] {
				deltaVer = append(deltaVer, v)
			}
		}
	} else {
		out.baseVer = make([]int64, nb)
		out.baseToPos = make([]int32, nb)
		for b := range ix.grids {
			v := ix.grids[b].VersionID
			out.baseVer[b] = v
			out.baseToPos[b] = -1
			if np, ok := nx.byVersion[v]; ok && !reshaped[v] {
				out.baseToPos[b] = np
			}
		}
	}
	// New versions (not in ix) and reshaped ones go to the delta.
	for v := range reshaped {
		if _, ok := nx.byVersion[v]; ok {
			deltaVer = append(deltaVer, v)
		}
	}
	for i := range nx.grids {
		if _, ok := ix.byVersion[nx.grids[i].VersionID]; !ok {
			deltaVer = append(deltaVer, nx.grids[i].VersionID)
		}
	}
	if len(deltaVer) > deltaLimit(nb) {
		return nil
	}
	if len(deltaVer) > 0 {
		slices.SortFunc(deltaVer, func(a, b int64) int { return int(nx.byVersion[a]) - int(nx.byVersion[b]) })
		deltaVer = slices.Compact(deltaVer)
		out.deltaVer = deltaVer
		out.deltaToPos = make([]int32, len(deltaVer))
		polys := make([]orb.MultiPolygon, len(deltaVer))
		for d, v := range deltaVer {
			pos := nx.byVersion[v]
			out.deltaToPos[d] = pos
			polys[d] = nx.grids[pos].Geometry
		}
		out.delta = geo.NewIndex(polys)
	}
	return out
}
