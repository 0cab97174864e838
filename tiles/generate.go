package tiles

import (
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
)

// Tile geometry: the MVT extent, the buffer beyond the tile's edge from which features are
// searched and label points kept (polygons are clipped closer, at their layer's reachOf), and the
// simplification tolerance, all in extent units.
// 4096 units span a tile that is drawn 512 pixels wide, so 8 units are one screen pixel.
const (
	Extent = 4096
	Buffer = 64
	// Tolerance is a quarter of a screen pixel: invisible, yet it removes most vertices of
	// densely digitised boundaries at low zoom.
	Tolerance = 2.0
	// TilePixels is how wide a tile is drawn on screen: 8 extent units to the pixel.
	TilePixels = 512
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
func (s *Tileset) InRange(layers []string, z uint32) bool {
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
func (s *Tileset) Generate(req Request, maxFeatures int) (*Tile, error) {
	if req.Z > MaxZoom {
		return nil, gridline.Errorf(gridline.ENotFound, "zoom %d is beyond the deepest zoom, %d", req.Z, MaxZoom)
	}
	if n := uint32(1) << req.Z; req.X >= n || req.Y >= n {
		return nil, gridline.Errorf(gridline.ENotFound, "tile %d/%d/%d is outside the world: x and y must be below %d at zoom %d", req.Z, req.X, req.Y, n, req.Z)
	}
	for _, name := range req.Layers {
		if _, ok := s.byName[name]; !ok {
			return nil, gridline.Errorf(gridline.EInvalid, "unknown layer %q", gridline.Excerpt(name)).With("field", "layers")
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
	picks, total := s.pick(req, p, t.Search)
	tol := Tolerance
	if maxFeatures > 0 {
		// Over the limit, every doubling of the count doubles the tolerance (up to 32 pixels).
		for n := total; n > maxFeatures && tol < 256; n /= 2 {
			tol *= 2
		}
	}
	t.Simplified = tol

	e := s.encoders.Get().(*encoder)
	defer s.encoders.Put(e)
	e.tile = e.tile[:0]
	for _, pk := range picks {
		name := s.specs[pk.layer].Name
		reach := grownTile(reachOf(name))
		e.beginLayer()
		n := 0
		for _, i := range pk.pos {
			g := s.ix.Grid(i)
			if name == LayerLabels {
				pt := p.project(s.label(i))
				e.point(int32(math.Round(pt[0])), int32(math.Round(pt[1])))
			} else {
				var merc *mercator
				if !p.shift {
					merc = s.mercator(i)
				}
				if !e.polygons(p, g.Geometry, merc, tol, reach) {
					continue // its box meets the search box, but the polygon shares no area with the tile grown by reach
				}
			}
			// The grid id is the feature id (MapLibre's ["id"]), not repeated as a property: ids are
			// all different, so a property would add a value per feature to every tile.
			e.str(keyCode, g.Code)
			e.str(keyName, g.Name)
			e.str(keyLevel, string(g.Level))
			e.str(keyLayer, string(g.Layer))
			e.int(keyHouseholds, g.Households)
			e.int(keyPopulation, g.Population)
			e.bool(keyStaffed, s.staffed(i, req.At))
			e.int(keyVersion, g.Version)
			if g.Kind != "" {
				e.str(keyKind, g.Kind)
			}
			if name == LayerLabels {
				e.str(keyPolygonLayer, s.specs[s.layer[i]].Name)
				e.feature(uint64(g.ID), geomTypePoint)
			} else {
				e.feature(uint64(g.ID), geomTypePolygon)
			}
			n++
		}
		e.endLayer(name)
		t.Features += n
	}
	if len(e.tile) > 0 {
		t.Data = append([]byte(nil), e.tile...)
	}
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

// layerPick is what one layer of a tile holds: the index positions of its features.
type layerPick struct {
	layer int
	pos   []int32
}

// pick chooses the features of each layer of req drawn at its zoom: the versions valid on
// req.At whose box meets search, and for the label layer the label points inside the tile. It
// returns them with their number in all.
func (s *Tileset) pick(req Request, p *projector, search orb.Bound) ([]layerPick, int) {
	var picks []layerPick
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
				scratch = f.query(search, scratch[:0])
				for _, i := range scratch {
					if validOn(s.ix.Grid(i), req.At) && p.pointInTile(s.label(i)) {
						pos = append(pos, i)
					}
				}
			}
		} else {
			scratch = s.finder[li].query(search, scratch[:0])
			for _, i := range scratch {
				if validOn(s.ix.Grid(i), req.At) {
					pos = append(pos, i)
				}
			}
		}
		picks = append(picks, layerPick{li, pos})
		total += len(pos)
	}
	return picks, total
}

func newProjector(z, x, y uint32, c geo.CRS) *projector {
	return &projector{n: float64(uint64(1) << z), x: float64(x), y: float64(y), crs: c, shift: shifts(c),
		bufBox: grownTile(Buffer)}
}

// grownTile is the tile, in extent units, grown by d units on every side.
func grownTile(d float64) orb.Bound {
	return orb.Bound{Min: orb.Point{-d, -d}, Max: orb.Point{Extent + d, Extent + d}}
}

func (p *projector) project(pt orb.Point) orb.Point {
	lon, lat := pt[0], pt[1]
	if p.shift {
		lon, lat = p.crs.FromWGS84(lon, lat)
	}
	w := worldPoint(lon, lat)
	return orb.Point{(w[0]*p.n - p.x) * Extent, (w[1]*p.n - p.y) * Extent}
}

func (p *projector) pointInTile(pt orb.Point) bool {
	return p.bufBox.Contains(p.project(pt))
}

// fromMercator appends Web Mercator world points (see worldPoint) in extent units to dst: the
// same arithmetic as project, whose scaling by 2^z is exact.
func (p *projector) fromMercator(pts []orb.Point, dst []orb.Point) []orb.Point {
	for _, pt := range pts {
		dst = append(dst, orb.Point{(pt[0]*p.n - p.x) * Extent, (pt[1]*p.n - p.y) * Extent})
	}
	return dst
}

// box is a Web Mercator world bound in extent units.
func (p *projector) box(b orb.Bound) orb.Bound {
	return orb.Bound{Min: orb.Point{(b.Min[0]*p.n - p.x) * Extent, (b.Min[1]*p.n - p.y) * Extent},
		Max: orb.Point{(b.Max[0]*p.n - p.x) * Extent, (b.Max[1]*p.n - p.y) * Extent}}
}
