package tiles

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/resolve"
)

// Tileset is what tiles are cut from: one resolution index, with each grid version assigned to its
// tile layer and a bounding-box grid per layer to find the versions a tile touches. It is
// immutable once built, except for label points, computed on first use.
type Tileset struct {
	ix      *resolve.GridIndex
	specs   []LayerSpec
	byName  map[string]int     // layer name -> position in specs
	layer   []int16            // per index position: position in specs, -1 for none
	bounds  []orb.Bound        // per index position (WGS84)
	primary [][]gridline.Staff // per index position: the posts of the grid's primary role (see staffed)
	finder  []*bboxGrid        // per position in specs (nil for labels)

	labelOnce []sync.Once
	labels    []orb.Point
	mercOnce  []sync.Once
	merc      []*mercator

	encoders sync.Pool // *encoder, kept between tiles with their buffers
}

// NewTileset prepares ix for tiling. ix may be nil (an empty source).
func NewTileset(ix *resolve.GridIndex) *Tileset {
	s := &Tileset{ix: ix, byName: map[string]int{}}
	s.encoders.New = newEncoder
	n := 0
	if ix != nil {
		n = ix.Len()
	}
	var thematic []string
	seen := map[string]bool{}
	names := make([]string, n)
	for i := 0; i < n; i++ {
		g := ix.Grid(int32(i))
		names[i] = tileLayerOf(g)
		if names[i] != "" && !isFixed(names[i]) && !seen[names[i]] {
			seen[names[i]] = true
			thematic = append(thematic, names[i])
		}
	}
	s.specs = specsFor(thematic)
	for i, sp := range s.specs {
		s.byName[sp.Name] = i
	}
	s.layer = make([]int16, n)
	s.bounds = make([]orb.Bound, n)
	s.primary = make([][]gridline.Staff, n)
	members := make([][]int32, len(s.specs))
	for i := 0; i < n; i++ {
		g := ix.Grid(int32(i))
		s.bounds[i] = g.Geometry.Bound()
		role := gridline.PrimaryPost(g.Level, g.Layer)
		for _, st := range ix.StaffOf(g.ID) {
			if st.Post == role {
				s.primary[i] = append(s.primary[i], st)
			}
		}
		s.layer[i] = -1
		if names[i] == "" || len(ix.Grid(int32(i)).Geometry) == 0 {
			continue
		}
		li := s.byName[names[i]]
		s.layer[i] = int16(li)
		members[li] = append(members[li], int32(i))
	}
	s.finder = make([]*bboxGrid, len(s.specs))
	for li, m := range members {
		if s.specs[li].Name != LayerLabels {
			s.finder[li] = newBBoxGrid(m, s.bounds)
		}
	}
	s.labelOnce = make([]sync.Once, n)
	s.labels = make([]orb.Point, n)
	s.mercOnce = make([]sync.Once, n)
	s.merc = make([]*mercator, n)
	return s
}

// Index is the resolution index the source was built from.
func (s *Tileset) Index() *resolve.GridIndex { return s.ix }

// Layers lists the layers the source serves, polygon layers first and labels last.
func (s *Tileset) Layers() []LayerSpec { return s.specs }

// Layer is the spec of a layer by name.
func (s *Tileset) Layer(name string) (LayerSpec, bool) {
	i, ok := s.byName[name]
	if !ok {
		return LayerSpec{}, false
	}
	return s.specs[i], true
}

// label is the label point of position i (WGS84), computed once.
func (s *Tileset) label(i int32) orb.Point {
	s.labelOnce[i].Do(func() {
		b := s.bounds[i]
		// A metre or so is all the precision a label needs.
		s.labels[i] = PoleOfInaccessibility(s.ix.Grid(i).Geometry, math.Max(1e-5, math.Max(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1])/500))
	})
	return s.labels[i]
}

// mercator is the geometry of position i in Web Mercator, computed on first use: a source is
// built on every index swap, which should not pay for projecting grids no tile asks for.
func (s *Tileset) mercator(i int32) *mercator {
	s.mercOnce[i].Do(func() { s.merc[i] = toMercator(s.ix.Grid(i).Geometry) })
	return s.merc[i]
}

// Bounds is the bounding box of the features of the named layers valid on at, and whether there is any.
func (s *Tileset) Bounds(layers []string, at time.Time) (orb.Bound, bool) {
	want := make([]bool, len(s.specs))
	for _, l := range layers {
		if l == LayerLabels {
			for i := range want {
				want[i] = true
			}
		} else if i, ok := s.byName[l]; ok {
			want[i] = true
		}
	}
	var b orb.Bound
	found := false
	for i, li := range s.layer {
		if li < 0 || !want[li] || !validOn(s.ix.Grid(int32(i)), at) {
			continue
		}
		if !found {
			b, found = s.bounds[i], true
		} else {
			b = b.Union(s.bounds[i])
		}
	}
	return b, found
}

func validOn(g *gridline.Grid, at time.Time) bool {
	return !g.ValidFrom.After(at) && (g.ValidTo == nil || g.ValidTo.After(at))
}

// staffed reports whether the primary post of the grid at position i is held on at. The posts
// are picked out when the source is built: a map lookup and role comparisons per feature were a
// tenth of a z16 tile's time.
func (s *Tileset) staffed(i int32, at time.Time) bool {
	for k := range s.primary[i] {
		if s.primary[i][k].ValidOn(at) {
			return true
		}
	}
	return false
}

// fingerprint hashes everything about position i a tile can show: attributes, validity,
// geometry and the grid's staff.
func (s *Tileset) fingerprint(i int32) uint64 {
	g := s.ix.Grid(i)
	h := fnv.New64a()
	var buf [8]byte
	num := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	str := func(v string) {
		num(uint64(len(v)))
		h.Write([]byte(v))
	}
	num(uint64(g.ID))
	num(uint64(g.Version))
	str(g.Code)
	str(g.Name)
	str(string(g.Level))
	str(string(g.Layer))
	str(g.Kind)
	num(uint64(g.Households))
	num(uint64(g.Population))
	num(uint64(g.ValidFrom.Unix()))
	if g.ValidTo != nil {
		num(uint64(g.ValidTo.Unix()))
	} else {
		num(math.MaxUint64)
	}
	for _, p := range g.Geometry {
		num(uint64(len(p)))
		for _, r := range p {
			num(uint64(len(r)))
			for _, pt := range r {
				num(math.Float64bits(pt[0]))
				num(math.Float64bits(pt[1]))
			}
		}
	}
	for _, st := range s.ix.StaffOf(g.ID) {
		str(string(st.Post))
		num(uint64(st.PersonID))
		num(uint64(st.ValidFrom.Unix()))
		if st.ValidTo != nil {
			num(uint64(st.ValidTo.Unix()))
		}
	}
	return h.Sum64()
}

// Changed lists the bounds (WGS84) of every grid version that differs between old and new: added,
// removed, or changed in attributes, validity, geometry or staff. Each changed version gives its
// old and its new bound. A nil old means everything changed, reported as ok == false.
func Changed(old, new *Tileset) (bounds []orb.Bound, ok bool) {
	if old == nil || old.ix == nil || new == nil || new.ix == nil {
		return nil, false
	}
	type rec struct {
		fp uint64
		i  int32
	}
	before := make(map[int64]rec, old.ix.Len())
	for i := 0; i < old.ix.Len(); i++ {
		before[old.ix.Grid(int32(i)).VersionID] = rec{old.fingerprint(int32(i)), int32(i)}
	}
	for i := 0; i < new.ix.Len(); i++ {
		g := new.ix.Grid(int32(i))
		r, had := before[g.VersionID]
		fp := new.fingerprint(int32(i))
		if had {
			delete(before, g.VersionID)
			if r.fp == fp {
				continue
			}
			bounds = append(bounds, old.bounds[r.i])
		}
		bounds = append(bounds, new.bounds[i])
	}
	for _, r := range before {
		bounds = append(bounds, old.bounds[r.i])
	}
	return bounds, true
}

// bboxGrid finds the members whose bounding boxes meet a query box: a uniform grid of cells over
// the members' extent, each cell listing the members whose box overlaps it.
type bboxGrid struct {
	ext    orb.Bound
	nx, ny int
	cw, ch float64
	cells  [][]int32
	bounds []orb.Bound // shared with the source, by index position
	all    []int32     // members, for queries that cover the whole extent
}

func newBBoxGrid(members []int32, bounds []orb.Bound) *bboxGrid {
	g := &bboxGrid{bounds: bounds, all: members}
	if len(members) == 0 {
		return g
	}
	g.ext = bounds[members[0]]
	for _, m := range members[1:] {
		g.ext = g.ext.Union(bounds[m])
	}
	// About four members per cell, at most 512 x 512 cells.
	side := int(math.Ceil(math.Sqrt(float64(len(members)) / 4)))
	side = max(1, min(side, 512))
	g.nx, g.ny = side, side
	g.cw = (g.ext.Max[0] - g.ext.Min[0]) / float64(side)
	g.ch = (g.ext.Max[1] - g.ext.Min[1]) / float64(side)
	g.cells = make([][]int32, side*side)
	for _, m := range members {
		x0, y0, x1, y1 := g.cellRange(bounds[m])
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				g.cells[y*g.nx+x] = append(g.cells[y*g.nx+x], m)
			}
		}
	}
	return g
}

func (g *bboxGrid) cellRange(b orb.Bound) (x0, y0, x1, y1 int) {
	cell := func(v, lo, w float64, n int) int {
		if w <= 0 {
			return 0
		}
		return max(0, min(n-1, int(math.Floor((v-lo)/w))))
	}
	return cell(b.Min[0], g.ext.Min[0], g.cw, g.nx), cell(b.Min[1], g.ext.Min[1], g.ch, g.ny),
		cell(b.Max[0], g.ext.Min[0], g.cw, g.nx), cell(b.Max[1], g.ext.Min[1], g.ch, g.ny)
}

// query appends the members whose bound intersects b, in ascending order without repeats.
func (g *bboxGrid) query(b orb.Bound, dst []int32) []int32 {
	if len(g.all) == 0 || !g.ext.Intersects(b) {
		return dst
	}
	start := len(dst)
	x0, y0, x1, y1 := g.cellRange(b)
	if (x1-x0+1)*(y1-y0+1) >= len(g.cells) {
		for _, m := range g.all {
			if g.bounds[m].Intersects(b) {
				dst = append(dst, m)
			}
		}
		return dst
	}
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			for _, m := range g.cells[y*g.nx+x] {
				if g.bounds[m].Intersects(b) {
					dst = append(dst, m)
				}
			}
		}
	}
	out := dst[start:]
	slices.Sort(out)
	return append(dst[:start], slices.Compact(out)...)
}
