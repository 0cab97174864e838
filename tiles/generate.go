package tiles

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"

	"gridline"
	"gridline/geo"
)

// Tile geometry: the MVT extent, the buffer drawn beyond the tile's edge so that strokes and
// labels do not break at tile seams, and the simplification tolerance, all in extent units.
// 4096 units span a tile that is drawn 512 pixels wide, so 8 units are one screen pixel.
const (
	Extent = 4096
	Buffer = 64
	// Tolerance is a quarter of a screen pixel: invisible, yet it removes most vertices of
	// densely digitised boundaries at low zoom.
	Tolerance = 2.0
)

// crsMargin is how far (degrees) GCJ-02 and BD-09 move a point from WGS84 at most, with room to
// spare: about 0.006° for GCJ-02 plus 0.0065° for BD-09 inside China.
const crsMargin = 0.02

// Request names one tile.
type Request struct {
	Layers  []string // layer names, without repeats
	Z, X, Y uint32
	At      time.Time // boundaries and staff valid on this date
	CRS     geo.CRS   // wgs84/cgcs2000 (no shift), gcj02 or bd09
}

// Tile is an encoded tile and what went into it.
type Tile struct {
	Data       []byte // MVT, not compressed; empty when no feature falls in the tile
	Features   int
	Simplified float64   // the tolerance used (extent units): Tolerance, or more when the tile was over the feature limit
	Search     orb.Bound // WGS84 box every feature that could appear was taken from: a change there stales the tile
}

// InRange reports whether some requested layer is drawn at zoom z.
func (s *Source) InRange(layers []string, z uint32) bool {
	for _, name := range layers {
		if sp, ok := s.Layer(name); ok && int(z) >= sp.MinZoom && int(z) <= sp.MaxZoom {
			return true
		}
	}
	return false
}

// SearchBound is the WGS84 box from which a tile's features are taken: the tile grown by the
// buffer and, for a shifted crs, by the largest shift.
func SearchBound(z, x, y uint32, c geo.CRS) orb.Bound {
	b := maptile.New(x, y, maptile.Zoom(z)).Bound(float64(Buffer) / Extent)
	if shifts(c) {
		b = b.Pad(crsMargin)
	}
	return b
}

func shifts(c geo.CRS) bool { return c.Name == geo.GCJ02.Name || c.Name == geo.BD09.Name }

// Generate cuts one tile. A tile outside the world or beyond every requested layer's zoom range
// is a gridline.ENotFound error; an unknown layer gridline.EInvalid. maxFeatures > 0 is the count above which the tile is simplified more
// coarsely; every feature that touches the tile is always kept.
func (s *Source) Generate(req Request, maxFeatures int) (*Tile, error) {
	if req.Z > MaxZoom {
		return nil, gridline.Errorf(gridline.ENotFound, "zoom %d is beyond the deepest zoom, %d", req.Z, MaxZoom)
	}
	if n := uint32(1) << req.Z; req.X >= n || req.Y >= n {
		return nil, gridline.Errorf(gridline.ENotFound, "tile %d/%d/%d is outside the world: x and y must be below %d at zoom %d", req.Z, req.X, req.Y, n, req.Z)
	}
	for _, name := range req.Layers {
		if _, ok := s.byName[name]; !ok {
			return nil, gridline.Errorf(gridline.EInvalid, "unknown layer %q", name).With("field", "layers")
		}
	}
	if !s.InRange(req.Layers, req.Z) {
		return nil, gridline.Errorf(gridline.ENotFound, "no layer of %s is drawn at zoom %d (see the minzoom of each layer in the TileJSON)", strings.Join(req.Layers, ","), req.Z)
	}
	t := &Tile{Search: SearchBound(req.Z, req.X, req.Y, req.CRS), Simplified: Tolerance}
	if s.ix == nil {
		return t, nil
	}
	p := newProjector(req.Z, req.X, req.Y, req.CRS)

	// First pass: choose the features of each layer, so the count is known before simplifying.
	type pick struct {
		layer int
		pos   []int32
	}
	var picks []pick
	total := 0
	var scratch []int32
	for _, name := range req.Layers {
		li := s.byName[name]
		sp := s.specs[li]
		if int(req.Z) < sp.MinZoom || int(req.Z) > sp.MaxZoom {
			continue
		}
		var pos []int32
		if name == LayerLabels {
			for lj, f := range s.finder {
				if f == nil || int(req.Z) < s.specs[lj].MinZoom || int(req.Z) > s.specs[lj].MaxZoom {
					continue
				}
				scratch = f.query(t.Search, scratch[:0])
				for _, i := range scratch {
					if validOn(s.ix.Grid(i), req.At) && p.pointInTile(s.label(i)) {
						pos = append(pos, i)
					}
				}
			}
		} else {
			scratch = s.finder[li].query(t.Search, scratch[:0])
			for _, i := range scratch {
				if validOn(s.ix.Grid(i), req.At) {
					pos = append(pos, i)
				}
			}
		}
		picks = append(picks, pick{li, pos})
		total += len(pos)
	}
	tol := Tolerance
	if maxFeatures > 0 {
		// Over the limit, every doubling of the count doubles the tolerance (up to 32 pixels).
		for n := total; n > maxFeatures && tol < 256; n /= 2 {
			tol *= 2
		}
	}
	t.Simplified = tol

	var layers mvt.Layers
	for _, pk := range picks {
		name := s.specs[pk.layer].Name
		l := &mvt.Layer{Name: name, Version: 2, Extent: Extent}
		for _, i := range pk.pos {
			g := s.ix.Grid(i)
			var geom orb.Geometry
			if name == LayerLabels {
				pt := p.project(s.label(i))
				geom = orb.Point{math.Round(pt[0]), math.Round(pt[1])}
			} else {
				mp := p.polygons(g.Geometry, tol)
				if mp == nil {
					continue // its bound meets the tile's, but the polygon itself does not
				}
				geom = mp
			}
			f := geojson.NewFeature(geom)
			// The grid id is the feature id (MapLibre's ["id"]), not repeated as a property: ids are
			// all different, so a property would add a value per feature to every tile.
			f.ID = uint64(g.ID)
			f.Properties = geojson.Properties{
				"code": g.Code, "name": g.Name, "level": string(g.Level), "layer": string(g.Layer),
				"households": g.Households, "population": g.Population, "staffed": s.staffed(g, req.At), "version": g.Version,
			}
			if g.Kind != "" {
				f.Properties["kind"] = g.Kind
			}
			if name == LayerLabels {
				f.Properties["polygon_layer"] = s.specs[s.layer[i]].Name
			}
			l.Features = append(l.Features, f)
		}
		if len(l.Features) > 0 {
			layers = append(layers, l)
			t.Features += len(l.Features)
		}
	}
	if len(layers) == 0 {
		return t, nil
	}
	data, err := mvt.Marshal(layers)
	if err != nil {
		return nil, fmt.Errorf("encode tile %d/%d/%d: %w", req.Z, req.X, req.Y, err)
	}
	t.Data = data
	return t, nil
}

// projector takes WGS84 geometry to one tile's extent coordinates (y down), shifting it to the
// requested datum on the way.
type projector struct {
	n      float64 // 2^z
	x, y   float64
	crs    geo.CRS
	shift  bool
	bufBox orb.Bound // the tile with its buffer, in extent units
}

func newProjector(z, x, y uint32, c geo.CRS) *projector {
	return &projector{n: float64(uint64(1) << z), x: float64(x), y: float64(y), crs: c, shift: shifts(c),
		bufBox: orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}}}
}

func (p *projector) project(pt orb.Point) orb.Point {
	lon, lat := pt[0], pt[1]
	if p.shift {
		lon, lat = p.crs.FromWGS84(lon, lat)
	}
	lat = math.Max(-85.05112878, math.Min(85.05112878, lat))
	fx := (lon + 180) / 360 * p.n
	s := math.Sin(lat * math.Pi / 180)
	fy := (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * p.n
	return orb.Point{(fx - p.x) * Extent, (fy - p.y) * Extent}
}

func (p *projector) pointInTile(pt orb.Point) bool {
	return p.bufBox.Contains(p.project(pt))
}

// polygons projects, clips to the buffered tile, simplifies with tolerance tol and snaps to whole
// units, orienting rings as MVT v2 asks (exterior clockwise on screen, holes counter-clockwise).
// A polygon that meets the tile but collapses to nothing keeps a one-unit square at its place,
// so no feature silently disappears. nil means the polygon does not meet the tile.
func (p *projector) polygons(mp orb.MultiPolygon, tol float64) orb.MultiPolygon {
	proj := make(orb.MultiPolygon, 0, len(mp))
	for _, poly := range mp {
		pp := make(orb.Polygon, 0, len(poly))
		for _, r := range poly {
			rr := make(orb.Ring, len(r))
			for i, pt := range r {
				rr[i] = p.project(pt)
			}
			pp = append(pp, rr)
		}
		proj = append(proj, pp)
	}
	clipped := clip.MultiPolygon(p.bufBox, proj)
	if len(clipped) == 0 {
		return nil
	}
	where := clipped.Bound()
	simplified := simplify.DouglasPeucker(tol).MultiPolygon(clipped)
	out := make(orb.MultiPolygon, 0, len(simplified))
	for _, poly := range simplified {
		var op orb.Polygon
		for k, r := range poly {
			rr := snapRing(r)
			if rr == nil {
				if k == 0 {
					break // the exterior collapsed: drop the part
				}
				continue
			}
			a := ringArea(rr) // positive = clockwise on screen (y down)
			if (k == 0) != (a > 0) {
				reverse(rr)
			}
			op = append(op, rr)
		}
		if len(op) > 0 {
			out = append(out, op)
		}
	}
	if len(out) == 0 {
		c := where.Center()
		x, y := math.Round(c[0]), math.Round(c[1])
		out = orb.MultiPolygon{{{{x, y}, {x + 1, y}, {x + 1, y + 1}, {x, y + 1}, {x, y}}}}
	}
	return out
}

// snapRing rounds to whole units and removes repeated points; nil when fewer than three distinct
// points or no area remain.
func snapRing(r orb.Ring) orb.Ring {
	out := make(orb.Ring, 0, len(r))
	for _, pt := range r {
		q := orb.Point{math.Round(pt[0]), math.Round(pt[1])}
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	if len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	if len(out) < 3 || ringArea(out) == 0 {
		return nil
	}
	return append(out, out[0])
}

// ringArea is the shoelace sum over the ring (twice the signed area), positive for a ring that is
// clockwise on screen, that is with y pointing down.
func ringArea(r orb.Ring) float64 {
	var a float64
	for i := range r {
		j := (i + 1) % len(r)
		a += r[i][0]*r[j][1] - r[j][0]*r[i][1]
	}
	return a
}

func reverse(r orb.Ring) {
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}
