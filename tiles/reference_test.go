package tiles

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"

	"gridline.dev/gridline"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
)

// referenceTile cuts the tile the way gridline did before its own encoder: orb geojson features,
// orb's clip and Douglas-Peucker, orb/encoding/mvt. The hand-written encoder must give the same
// layers, features, properties and geometry.
func referenceTile(s *Tileset, req Request, maxFeatures int) ([]byte, error) {
	got, err := s.Generate(req, maxFeatures) // the same choice of features and tolerance
	if err != nil || len(got.Data) == 0 {
		return nil, err
	}
	p := newProjector(req.Z, req.X, req.Y, req.CRS)
	search := SearchBound(req.Z, req.X, req.Y, req.CRS)
	var layers mvt.Layers
	picks, _ := s.pick(req, p, search)
	for _, pk := range picks {
		name, pos := s.specs[pk.layer].Name, pk.pos
		l := &mvt.Layer{Name: name, Version: 2, Extent: Extent}
		for _, i := range pos {
			g := s.ix.Grid(i)
			var geom orb.Geometry
			if name == LayerLabels {
				pt := p.project(s.label(i))
				geom = orb.Point{math.Round(pt[0]), math.Round(pt[1])}
			} else {
				mp := referencePolygons(p, g.Geometry, got.Simplified, grownTile(reachOf(name)))
				if mp == nil {
					continue
				}
				geom = mp
			}
			f := geojson.NewFeature(geom)
			f.ID = uint64(g.ID)
			f.Properties = geojson.Properties{
				"code": g.Code, "name": g.Name, "level": string(g.Level), "layer": string(g.Layer),
				"households": g.Households, "population": g.Population, "staffed": referenceStaffed(s, g, req.At), "version": g.Version,
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
		}
	}
	return mvt.Marshal(layers)
}

// referenceStaffed is the former Tileset.staffed.
func referenceStaffed(s *Tileset, g *gridline.Grid, at time.Time) bool {
	primary := gridline.PrimaryPost(g.Level, g.Layer)
	for _, st := range s.ix.StaffOf(g.ID) {
		if st.Post == primary && st.ValidOn(at) {
			return true
		}
	}
	return false
}

// referencePolygons is the former projector.polygons.
func referencePolygons(p *projector, mp orb.MultiPolygon, tol float64, reach orb.Bound) orb.MultiPolygon {
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
	clipped := clip.MultiPolygon(reach, proj) // at the layer's reach, as the encoder clips
	if len(clipped) == 0 {
		return nil
	}
	where := clipped.Bound()
	simplified := simplify.DouglasPeucker(tol).MultiPolygon(clipped)
	out := make(orb.MultiPolygon, 0, len(simplified))
	for _, poly := range simplified {
		var op orb.Polygon
		for k, r := range poly {
			rr := referenceSnap(r)
			if rr == nil {
				if k == 0 {
					break
				}
				continue
			}
			if a := ringArea(rr); (k == 0) != (a > 0) {
				for i, j := 0, len(rr)-1; i < j; i, j = i+1, j-1 {
					rr[i], rr[j] = rr[j], rr[i]
				}
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

func referenceSnap(r orb.Ring) orb.Ring {
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

// ringArea is the shoelace sum over a closed ring (twice the signed area), positive for a ring
// that is clockwise on screen (y down).
func ringArea(r orb.Ring) float64 {
	var a float64
	for i := range r {
		j := (i + 1) % len(r)
		a += r[i][0]*r[j][1] - r[j][0]*r[i][1]
	}
	return a
}

// TestEncoderMatchesReference: over every tile of a synthetic region at z10-z16 (a sample at the
// deep zooms), in WGS84 and GCJ-02, with labels and under the feature limit, the hand-written
// encoder's tiles decode to exactly what the orb-based path gave.
func TestEncoderMatchesReference(t *testing.T) {
	d, err := demo.SyntheticWithMicro(400, 1, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gs := d.Grids
	for i := range gs {
		gs[i].VersionID = int64(i + 1)
	}
	var staff []gridline.Staff
	for k, a := range d.Assignments {
		if k%3 == 0 {
			continue // some vacancies, so both values of staffed appear
		}
		staff = append(staff, gridline.Staff{GridID: a.GridID, Post: a.Post, PersonID: a.PersonID, ValidFrom: a.ValidFrom, ValidTo: a.ValidTo})
	}
	src := NewTileset(resolve.Build(gs, staff, time.Now()))
	long := 0
	for _, g := range gs {
		for _, poly := range g.Geometry {
			for _, r := range poly {
				if len(r) > 2*chunkLen {
					long++
				}
			}
		}
	}
	if long < 5 {
		t.Fatalf("only %d rings long enough to be projected in chunks (ringFromMercator)", long)
	}
	b, _ := src.Bounds([]string{LayerGrids}, demo.DefaultValidFrom)
	at := demo.DefaultValidFrom.AddDate(1, 0, 0)
	all := []string{LayerDistricts, LayerSubdistricts, LayerCommunities, LayerGrids, LayerMicros, LayerSpecial, LayerLabels}
	for _, c := range []struct {
		crs geo.CRS
		max int
	}{{geo.WGS84, 20000}, {geo.GCJ02, 20000}, {geo.WGS84, 5}} {
		for _, z := range []maptile.Zoom{10, 12, 14, 16} {
			t.Run(fmt.Sprintf("%s/max%d/z%d", c.crs.Name, c.max, z), func(t *testing.T) {
				lo, hi := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z), maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
				n := 0
				seen := map[bool]bool{}
				for x := lo.X; x <= hi.X; x++ {
					for y := lo.Y; y <= hi.Y; y++ {
						if (x*7+y*13)%5 != 0 && z >= 14 {
							continue
						}
						req := Request{Layers: all, Z: uint32(z), X: x, Y: y, At: at, CRS: c.crs}
						got, err := src.Generate(req, c.max)
						if err != nil {
							t.Fatal(err)
						}
						want, err := referenceTile(src, req, c.max)
						if err != nil {
							t.Fatal(err)
						}
						gl, err := mvt.Unmarshal(got.Data)
						if err != nil {
							t.Fatalf("tile %d/%d/%d: %v", z, x, y, err)
						}
						wl, _ := mvt.Unmarshal(want)
						if d := diffLayers(gl, wl); d != "" {
							t.Fatalf("tile %d/%d/%d differs from the reference encoding: %s", z, x, y, d)
						}
						for _, l := range gl {
							for _, f := range l.Features {
								seen[f.Properties["staffed"] == true] = true
							}
						}
						n++
					}
				}
				if n == 0 {
					t.Fatal("no tile compared")
				}
				if !seen[true] || !seen[false] {
					t.Errorf("staffed took only one value (%v) in these tiles", seen)
				}
			})
		}
	}
}

// diffLayers describes the first difference between two decoded tiles, or "".
func diffLayers(got, want mvt.Layers) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d layers, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Version != w.Version || g.Extent != w.Extent || len(g.Features) != len(w.Features) {
			return fmt.Sprintf("layer %s v%d extent %d with %d features, want %s v%d extent %d with %d", g.Name, g.Version, g.Extent, len(g.Features), w.Name, w.Version, w.Extent, len(w.Features))
		}
		for j := range g.Features {
			gf, wf := g.Features[j], w.Features[j]
			if !reflect.DeepEqual(gf.ID, wf.ID) {
				return fmt.Sprintf("layer %s feature %d: id %v (%T), want %v (%T)", g.Name, j, gf.ID, gf.ID, wf.ID, wf.ID)
			}
			if !reflect.DeepEqual(gf.Properties, wf.Properties) {
				return fmt.Sprintf("layer %s feature %d: properties %v, want %v", g.Name, j, gf.Properties, wf.Properties)
			}
			if !reflect.DeepEqual(gf.Geometry, wf.Geometry) {
				return fmt.Sprintf("layer %s feature %d: geometry %v, want %v", g.Name, j, gf.Geometry, wf.Geometry)
			}
		}
	}
	return ""
}
