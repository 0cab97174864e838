package tiles

import (
	"math"

	"github.com/paulmach/orb"
)

// The tile is written straight into protobuf bytes (MVT v2, vector_tile.proto) rather than built
// as orb geojson features and marshalled by orb/encoding/mvt: that path allocated a property map,
// a value struct per property and several copies of every polygon per feature, and took about a
// third of each z14-z16 tile's time. The encoder keeps its buffers between tiles (each Tileset's sync.Pool).

// Field tags of vector_tile.proto, with their wire types.
// Protobuf wire types of the fields below.
const (
	wireVarint = 0
	wireBytes  = 2
)

const (
	tagTileLayer        = 3<<3 | wireBytes
	tagLayerName        = 1<<3 | wireBytes
	tagLayerFeature     = 2<<3 | wireBytes
	tagLayerKey         = 3<<3 | wireBytes
	tagLayerValue       = 4<<3 | wireBytes
	tagLayerExtent      = 5<<3 | wireVarint
	tagLayerVersion     = 15<<3 | wireVarint
	tagFeatureID        = 1<<3 | wireVarint
	tagFeatureTags      = 2<<3 | wireBytes
	tagFeatureType      = 3<<3 | wireVarint
	tagFeatureGeom      = 4<<3 | wireBytes
	tagValueString      = 1<<3 | wireBytes
	tagValueUint        = 5<<3 | wireVarint
	tagValueSint        = 6<<3 | wireVarint
	tagValueBool        = 7<<3 | wireVarint
	geomTypePoint       = 1
	geomTypePolygon     = 3
	cmdMoveTo           = 1
	cmdLineTo           = 2
	cmdClosePath        = 7
	mvtVersion          = 2
	noIndex         int = -1
)

// Property keys, in the order a layer's key table lists them.
const (
	keyCode = iota
	keyName
	keyLevel
	keyLayer
	keyHouseholds
	keyPopulation
	keyStaffed
	keyVersion
	keyKind
	keyPolygonLayer
	numKeys
)

var keyNames = [numKeys]string{"code", "name", "level", "layer", "households", "population", "staffed", "version", "kind", "polygon_layer"}

// encoder writes one tile. Its maps and slices are reused between tiles.
type encoder struct {
	tile  []byte
	layer []byte // the current layer's features
	feat  []byte // the current feature
	geom  []uint32
	tags  []uint32

	keyIndex [numKeys]int // position in the layer's key table, noIndex when not used yet
	keys     []int
	values   []byte // the layer's value table, encoded
	nValues  uint32
	strVals  map[string]uint32
	uintVals map[uint64]uint32
	boolVals [2]int

	// Geometry scratch: projected ring, clip buffers, simplification mask and stack.
	ring, clipA, clipB []orb.Point
	mask               []bool
	stack              []int
	snapped            [][2]int32
}

func newEncoder() any {
	return &encoder{strVals: map[string]uint32{}, uintVals: map[uint64]uint32{}}
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendBytes(b []byte, tag byte, data []byte) []byte {
	b = append(b, tag)
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

func appendString(b []byte, tag byte, s string) []byte {
	b = append(b, tag)
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendPacked(b []byte, tag byte, vs []uint32) []byte {
	n := 0
	for _, v := range vs {
		n += varintLen(uint64(v))
	}
	b = append(b, tag)
	b = appendVarint(b, uint64(n))
	for _, v := range vs {
		b = appendVarint(b, uint64(v))
	}
	return b
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func zigzag(v int32) uint32 { return uint32((v << 1) ^ (v >> 31)) }

// beginLayer starts a layer: empty key and value tables.
func (e *encoder) beginLayer() {
	e.layer = e.layer[:0]
	for i := range e.keyIndex {
		e.keyIndex[i] = noIndex
	}
	e.keys = e.keys[:0]
	e.values = e.values[:0]
	e.nValues = 0
	clear(e.strVals)
	clear(e.uintVals)
	e.boolVals = [2]int{noIndex, noIndex}
}

// endLayer appends the layer to the tile when it has features.
func (e *encoder) endLayer(name string) {
	if len(e.layer) == 0 {
		return
	}
	n := 1 + varintLen(uint64(len(name))) + len(name) + len(e.layer) + len(e.values) + 3 + 2
	for _, k := range e.keys {
		n += 1 + varintLen(uint64(len(keyNames[k]))) + len(keyNames[k])
	}
	e.tile = append(e.tile, tagTileLayer)
	e.tile = appendVarint(e.tile, uint64(n))
	start := len(e.tile)
	e.tile = appendString(e.tile, tagLayerName, name)
	e.tile = append(e.tile, e.layer...)
	for _, k := range e.keys {
		e.tile = appendString(e.tile, tagLayerKey, keyNames[k])
	}
	e.tile = append(e.tile, e.values...)
	e.tile = append(e.tile, tagLayerExtent)
	e.tile = appendVarint(e.tile, Extent) // 2 bytes
	e.tile = append(e.tile, tagLayerVersion, mvtVersion)
	if len(e.tile)-start != n {
		panic("tiles: layer length miscounted")
	}
}

func (e *encoder) key(k int) uint32 {
	if e.keyIndex[k] == noIndex {
		e.keyIndex[k] = len(e.keys)
		e.keys = append(e.keys, k)
	}
	return uint32(e.keyIndex[k])
}

// beginValue starts a value message (after a one-byte length, fixed in endValue).
func (e *encoder) beginValue(tag byte) int {
	e.values = append(e.values, tagLayerValue, 0, tag)
	return len(e.values) - 1
}

// endValue fixes the length of the value begun at at and returns its index.
func (e *encoder) endValue(at int) uint32 {
	if n := len(e.values) - at; n < 0x80 {
		e.values[at-1] = byte(n)
	} else { // a long string: move it to make room for a longer length
		body := append([]byte(nil), e.values[at:]...)
		e.values = appendVarint(e.values[:at-1], uint64(len(body)))
		e.values = append(e.values, body...)
	}
	e.nValues++
	return e.nValues - 1
}

func (e *encoder) str(k int, v string) {
	vi, ok := e.strVals[v]
	if !ok {
		at := e.beginValue(tagValueString)
		e.values = appendVarint(e.values, uint64(len(v)))
		e.values = append(e.values, v...)
		vi = e.endValue(at)
		e.strVals[v] = vi
	}
	e.tags = append(e.tags, e.key(k), vi)
}

// int writes a whole number as uint_value, or sint_value when negative (what ST_AsMVT does: a
// zigzag sint spends a bit on a sign that counts never have).
func (e *encoder) int(k int, v int) {
	vi, ok := e.uintVals[uint64(v)]
	if !ok {
		if v >= 0 {
			at := e.beginValue(tagValueUint)
			e.values = appendVarint(e.values, uint64(v))
			vi = e.endValue(at)
		} else {
			at := e.beginValue(tagValueSint)
			e.values = appendVarint(e.values, uint64((int64(v)<<1)^(int64(v)>>63)))
			vi = e.endValue(at)
		}
		e.uintVals[uint64(v)] = vi
	}
	e.tags = append(e.tags, e.key(k), vi)
}

func (e *encoder) bool(k int, v bool) {
	i := 0
	if v {
		i = 1
	}
	if e.boolVals[i] == noIndex {
		at := e.beginValue(tagValueBool)
		e.values = append(e.values, byte(i))
		e.boolVals[i] = int(e.endValue(at))
	}
	e.tags = append(e.tags, e.key(k), uint32(e.boolVals[i]))
}

// feature appends a feature with the tags and geometry gathered since the last one.
func (e *encoder) feature(id uint64, geomType byte) {
	f := e.feat[:0]
	f = append(f, tagFeatureID)
	f = appendVarint(f, id)
	f = appendPacked(f, tagFeatureTags, e.tags)
	f = append(f, tagFeatureType, geomType)
	f = appendPacked(f, tagFeatureGeom, e.geom)
	e.layer = appendBytes(e.layer, tagLayerFeature, f)
	e.feat = f
	e.tags = e.tags[:0]
	e.geom = e.geom[:0]
}

// point sets the geometry to one point.
func (e *encoder) point(x, y int32) {
	e.geom = append(e.geom[:0], 1<<3|cmdMoveTo, zigzag(x), zigzag(y))
}

// polygons writes the geometry of mp (WGS84; merc is its Web Mercator form, or nil for a shifted
// datum) clipped to reach (the tile grown by its layer's reachOf), simplified with tolerance tol
// and snapped to whole units, with rings oriented as MVT v2 asks (exterior clockwise on screen,
// holes counter-clockwise). The edges clipping adds lie on reach, where their outline paints
// nothing of the tile. A polygon that reaches the tile but collapses to nothing becomes a
// one-unit square at its place, so no feature silently disappears. It reports false when mp
// does not reach the tile: no exterior ring shares any area with reach.
func (e *encoder) polygons(p *projector, mp orb.MultiPolygon, merc *mercator, tol float64, reach orb.Bound) bool {
	e.geom = e.geom[:0]
	var cx, cy int32 // the cursor: MVT coordinates are deltas from the previous point
	reaches := false
	var where orb.Bound // what was clipped, for the collapsed case
	for pi, poly := range mp {
		for ri := range poly {
			var r []orb.Point
			var rb orb.Bound // the ring's bound in extent units
			if merc != nil {
				mr := merc.polys[pi][ri]
				rb = p.box(mr.bound) // exact: the projection is monotonic in each axis
				if !reach.Intersects(rb) {
					if ri == 0 {
						break // the exterior is outside: so is the polygon
					}
					continue
				}
				r = p.ringFromMercator(&mr, reach, e.ring[:0])
			} else {
				r = e.ring[:0]
				for _, pt := range poly[ri] {
					r = append(r, p.project(pt))
				}
				rb = orb.MultiPoint(r).Bound()
			}
			e.ring = r
			if !reach.Contains(rb.Min) || !reach.Contains(rb.Max) {
				// Sutherland-Hodgman leaves a ring that misses the box as nothing or as zero-area
				// slivers along the box's edges (it does with concave rings): the area tells.
				if r = e.clip(reach, r); r == nil || math.Abs(clippedArea(r)) < 1e-6 {
					if ri == 0 {
						break
					}
					continue
				}
				rb = orb.MultiPoint(r).Bound()
			}
			if !reaches {
				where, reaches = rb, true
			} else {
				where = where.Union(rb)
			}
			r = e.simplify(r, tol)
			s := e.snap(r)
			if s == nil {
				if ri == 0 {
					break // the exterior collapsed: drop the part
				}
				continue
			}
			if (ri == 0) != (snappedArea(s) > 0) { // positive = clockwise on screen (y down)
				// Reverse keeping the first point first (the ring is open: it closes on s[0]).
				for i, j := 1, len(s)-1; i < j; i, j = i+1, j-1 {
					s[i], s[j] = s[j], s[i]
				}
			}
			e.geom = append(e.geom, 1<<3|cmdMoveTo, zigzag(s[0][0]-cx), zigzag(s[0][1]-cy))
			e.geom = append(e.geom, uint32(len(s)-1)<<3|cmdLineTo)
			cx, cy = s[0][0], s[0][1]
			for _, q := range s[1:] {
				e.geom = append(e.geom, zigzag(q[0]-cx), zigzag(q[1]-cy))
				cx, cy = q[0], q[1]
			}
			e.geom = append(e.geom, 1<<3|cmdClosePath)
		}
	}
	if !reaches {
		e.geom = e.geom[:0]
		return false
	}
	if len(e.geom) == 0 {
		c := where.Center()
		x, y := int32(math.Round(c[0])), int32(math.Round(c[1]))
		e.geom = append(e.geom, 1<<3|cmdMoveTo, zigzag(x), zigzag(y), 3<<3|cmdLineTo, zigzag(1), 0, 0, zigzag(1), zigzag(-1), 0, 1<<3|cmdClosePath)
	}
	return true
}

// clippedArea is twice the signed area of the closed ring r (extent units²; a sliver's is zero up
// to rounding).
func clippedArea(r []orb.Point) float64 {
	var a float64
	for i := 1; i < len(r); i++ {
		a += r[i-1][0]*r[i][1] - r[i][0]*r[i-1][1]
	}
	return a
}

// clip cuts a closed ring to box (Sutherland-Hodgman, edge by edge, as orb/clip does), returning
// a closed ring in the encoder's scratch space, or nil when nothing is left.
func (e *encoder) clip(box orb.Bound, in []orb.Point) []orb.Point {
	if len(in) == 0 {
		return nil
	}
	closed := in[0] == in[len(in)-1]
	bufs := [2][]orb.Point{e.clipA[:0], e.clipB[:0]}
	src := in
	var dst []orb.Point
	for k, edge := 0, 1; edge <= 8; k, edge = k+1, edge<<1 {
		dst = bufs[k%2][:0]
		prev := src[len(src)-1]
		if !closed {
			prev = src[0]
		}
		prevInside := bitCode(box, prev)&edge == 0
		for _, pt := range src {
			inside := bitCode(box, pt)&edge == 0
			if inside != prevInside {
				dst = append(dst, intersect(box, edge, prev, pt))
			}
			if inside {
				dst = append(dst, pt)
			}
			prev, prevInside = pt, inside
		}
		bufs[k%2] = dst
		if len(dst) == 0 {
			e.clipA, e.clipB = bufs[0], bufs[1]
			return nil
		}
		src = dst
	}
	if closed && dst[0] != dst[len(dst)-1] {
		dst = append(dst, dst[0])
		bufs[1] = dst // the fourth edge wrote into bufs[1]
	}
	e.clipA, e.clipB = bufs[0], bufs[1]
	return dst
}

func bitCode(b orb.Bound, p orb.Point) int {
	code := 0
	if p[0] < b.Min[0] {
		code |= 1
	} else if p[0] > b.Max[0] {
		code |= 2
	}
	if p[1] < b.Min[1] {
		code |= 4
	} else if p[1] > b.Max[1] {
		code |= 8
	}
	return code
}

// intersect is where segment ab crosses one edge of box.
func intersect(box orb.Bound, edge int, a, b orb.Point) orb.Point {
	switch {
	case edge&8 != 0:
		return orb.Point{a[0] + (b[0]-a[0])*(box.Max[1]-a[1])/(b[1]-a[1]), box.Max[1]}
	case edge&4 != 0:
		return orb.Point{a[0] + (b[0]-a[0])*(box.Min[1]-a[1])/(b[1]-a[1]), box.Min[1]}
	case edge&2 != 0:
		return orb.Point{box.Max[0], a[1] + (b[1]-a[1])*(box.Max[0]-a[0])/(b[0]-a[0])}
	default:
		return orb.Point{box.Min[0], a[1] + (b[1]-a[1])*(box.Min[0]-a[0])/(b[0]-a[0])}
	}
}

// simplify is Douglas-Peucker with tolerance tol over the ring in place (the ring's first and
// last points are kept).
func (e *encoder) simplify(r []orb.Point, tol float64) []orb.Point {
	if len(r) <= 2 {
		return r
	}
	if cap(e.mask) < len(r) {
		e.mask = make([]bool, len(r))
	}
	mask := e.mask[:len(r)]
	clear(mask)
	mask[0], mask[len(r)-1] = true, true
	stack := append(e.stack[:0], 0, len(r)-1)
	t2 := tol * tol
	for len(stack) > 0 {
		start, end := stack[len(stack)-2], stack[len(stack)-1]
		maxDist, maxIndex := 0.0, 0
		for i := start + 1; i < end; i++ {
			if d := segDistSq(r[i], r[start], r[end]); d > maxDist {
				maxDist, maxIndex = d, i
			}
		}
		if maxDist > t2 {
			mask[maxIndex] = true
			stack[len(stack)-1] = maxIndex
			stack = append(stack, maxIndex, end)
		} else {
			stack = stack[:len(stack)-2]
		}
	}
	e.stack = stack
	n := 0
	for i, keep := range mask {
		if keep {
			r[n] = r[i]
			n++
		}
	}
	return r[:n]
}

// snap rounds a closed ring to whole units and removes repeated points, leaving the ring open (no
// closing point: MVT's ClosePath closes it); nil when fewer than three distinct points or no area
// remain.
func (e *encoder) snap(r []orb.Point) [][2]int32 {
	out := e.snapped[:0]
	for _, pt := range r {
		q := [2]int32{int32(math.Round(pt[0])), int32(math.Round(pt[1]))}
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	if len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	e.snapped = out
	if len(out) < 3 || snappedArea(out) == 0 {
		return nil
	}
	return out
}

// snappedArea is the shoelace sum over the (implicitly closed) ring, twice the signed area,
// positive for a ring that is clockwise on screen, that is with y pointing down.
func snappedArea(r [][2]int32) int64 {
	var a int64
	for i := range r {
		j := i + 1
		if j == len(r) {
			j = 0
		}
		a += int64(r[i][0])*int64(r[j][1]) - int64(r[j][0])*int64(r[i][1])
	}
	return a
}

// mercator is a grid's geometry in Web Mercator world coordinates (0..1, y down), with each
// ring's bound: a tile then takes a multiply and an add per vertex instead of a logarithm, and
// rings far from the tile are skipped by their bound.
type mercator struct {
	polys [][]mercRing
}

type mercRing struct {
	pts    []orb.Point
	bound  orb.Bound
	chunks []orb.Bound // bounds of pts[k*chunkLen:(k+1)*chunkLen], for rings longer than 2*chunkLen
}

const chunkLen = 16

// ringFromMercator is fromMercator over a ring, except that of each chunk lying wholly left or
// wholly right of box (the box the ring is clipped to) only the first and last points are kept.
// That changes nothing the clipping makes of the ring: the first clipping pass (the left edge) drops every point left of
// it without adding any between two such points, and points right of the tile pass the first
// pass unchanged and are dropped alike by the second (the right edge), so only a run's end points
// take part. A subdistrict ring of thousands of points then costs a tile about as many as cross
// its column. (The same is not true of runs above or below: the first two passes cut those.)
func (p *projector) ringFromMercator(mr *mercRing, box orb.Bound, dst []orb.Point) []orb.Point {
	if len(mr.chunks) == 0 {
		return p.fromMercator(mr.pts, dst)
	}
	lo, hi := box.Min[0], box.Max[0]
	for k, cb := range mr.chunks {
		i, j := k*chunkLen, min((k+1)*chunkLen, len(mr.pts))
		if b := p.box(cb); b.Max[0] < lo || b.Min[0] > hi {
			dst = p.fromMercator(mr.pts[i:i+1], dst)
			dst = p.fromMercator(mr.pts[j-1:j], dst)
			continue
		}
		dst = p.fromMercator(mr.pts[i:j], dst)
	}
	return dst
}

func toMercator(mp orb.MultiPolygon) *mercator {
	m := &mercator{polys: make([][]mercRing, len(mp))}
	for i, poly := range mp {
		m.polys[i] = make([]mercRing, len(poly))
		for j, r := range poly {
			pts := make([]orb.Point, len(r))
			for k, pt := range r {
				pts[k] = worldPoint(pt[0], pt[1])
			}
			mr := mercRing{pts: pts, bound: orb.MultiPoint(pts).Bound()}
			if len(pts) > 2*chunkLen {
				for k := 0; k < len(pts); k += chunkLen {
					mr.chunks = append(mr.chunks, orb.MultiPoint(pts[k:min(k+chunkLen, len(pts))]).Bound())
				}
			}
			m.polys[i][j] = mr
		}
	}
	return m
}

// worldPoint is lon/lat in Web Mercator world coordinates (0..1, y down).
func worldPoint(lon, lat float64) orb.Point {
	lat = math.Max(-85.05112878, math.Min(85.05112878, lat))
	s := math.Sin(lat * math.Pi / 180)
	return orb.Point{(lon + 180) / 360, 0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)}
}
