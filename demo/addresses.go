package demo

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
)

// Demo register: the province and city of 二七区 (real), written into every row.
const (
	demoProvince = "河南省"
	demoCity     = "郑州市"
)

var roadEndings = []string{"大道", "路", "街", "巷"}
var compoundEndings = []string{"花园", "家园", "悦府", "大院", "华城", "小区", "佳苑"}

// RoadName is the road contained in an administrative name, or "": the name without its suffix
// (街道, 社区居民委员会 ...) when that ends in 路/街/大道/巷. The suffix is stripped first, so
// 蜜蜂张街道 gives no road (蜜蜂张) and 福华街街道 gives 福华街.
func RoadName(admin string) string {
	short, _ := address.StripAdminSuffix(admin)
	if short == admin {
		return ""
	}
	for _, e := range roadEndings {
		if strings.HasSuffix(short, e) && len([]rune(short)) > len([]rune(e))+1 {
			return short
		}
	}
	return ""
}

// CompoundName is the compound (小区) an administrative name is named after, or "": 华润悦府社区 ->
// 华润悦府, 京广家园南社区 -> 京广家园.
func CompoundName(admin string) string {
	short, _ := address.StripAdminSuffix(admin)
	if short == admin {
		return ""
	}
	for _, side := range []string{"南", "北", "东", "西"} {
		if t := strings.TrimSuffix(short, side); t != short && hasEnding(t, compoundEndings) {
			short = t
		}
	}
	if hasEnding(short, compoundEndings) && len([]rune(short)) >= 4 {
		return short
	}
	return ""
}

func hasEnding(s string, list []string) bool {
	for _, e := range list {
		if strings.HasSuffix(s, e) {
			return true
		}
	}
	return false
}

// Addresses generates the demo's standard address register from its grids, deterministically
// (same district and seed, same rows) and marked synthetic: only the administrative names and
// codes, the road names and the compound names are real (they are the real names contained in the
// real subdistrict and community names).
//
// Rules:
//   - A road runs through the community named after it, else through every community of the
//     subdistrict named after it; a community with neither takes the road of the nearest community
//     that has one.
//   - Each micro grid with households is one door (门牌) on its community's road: the doors of a
//     road are numbered along the road's axis, odd on one side of it and even on the other, and the
//     door's point is on the micro grid's edge nearest the road, a few metres inside.
//   - A community named after a compound (华润悦府社区) has that compound at each of its doors,
//     its buildings numbered on across them; other doors are unnamed courtyards (N号院).
//   - Each door has buildings (楼) of 2-4 units (单元) of 5-7 floors with 2 or 3 rooms a floor;
//     the last unit is cut short so that the unit rows' households add up to the micro grid's.
//   - Rows: one per door (households 0), one per building (households 0), one per unit (its
//     households); the building's point is random inside the micro grid, away from its edge.
func Addresses(d *District, seed int64) []gridline.Address {
	byID := map[int64]*gridline.Grid{}
	var district *gridline.Grid
	var comms []*gridline.Grid
	micros := map[int64][]*gridline.Grid{} // community id -> its micro grids
	for i := range d.Grids {
		g := &d.Grids[i]
		if g.Layer != gridline.LayerComprehensive {
			continue
		}
		byID[g.ID] = g
		switch g.Level {
		case gridline.LevelDistrict:
			district = g
		case gridline.LevelCommunity:
			comms = append(comms, g)
		}
	}
	if district == nil {
		return nil
	}
	for i := range d.Grids {
		g := &d.Grids[i]
		if g.Layer != gridline.LayerComprehensive || g.Level != gridline.LevelMicro {
			continue
		}
		if basic := byID[g.ParentID]; basic != nil {
			micros[basic.ParentID] = append(micros[basic.ParentID], g)
		}
	}
	// The road of each community.
	centre := map[int64]orb.Point{}
	for _, c := range comms {
		p, _ := planar.CentroidArea(c.Geometry)
		centre[c.ID] = p
	}
	road := map[int64]string{}
	for _, c := range comms {
		if r := RoadName(c.Name); r != "" {
			road[c.ID] = r
		} else if s := byID[c.ParentID]; s != nil {
			road[c.ID] = RoadName(s.Name)
		}
	}
	if len(road) == 0 || allEmpty(road) {
		// A district without a road in its names (a synthetic region): each community gets one,
		// named after it.
		for _, c := range comms {
			short, _ := address.StripAdminSuffix(c.Name)
			road[c.ID] = short + "路"
		}
	}
	for _, c := range comms {
		if road[c.ID] != "" {
			continue
		}
		best, bd := "", math.Inf(1)
		for _, o := range comms {
			if r := RoadName(o.Name); r == "" && (byID[o.ParentID] == nil || RoadName(byID[o.ParentID].Name) == "") {
				continue
			}
			r := road[o.ID]
			if r == "" {
				continue
			}
			dx, dy := centre[o.ID][0]-centre[c.ID][0], centre[o.ID][1]-centre[c.ID][1]
			if dd := dx*dx + dy*dy; dd < bd {
				best, bd = r, dd
			}
		}
		road[c.ID] = best
	}
	// The micro grids along each road.
	type stop struct {
		micro *gridline.Grid
		comm  *gridline.Grid
		at    orb.Point
	}
	stops := map[string][]stop{}
	var roads []string
	for _, c := range comms {
		r := road[c.ID]
		if _, ok := stops[r]; !ok {
			roads = append(roads, r)
		}
		for _, m := range micros[c.ID] {
			p, _ := planar.CentroidArea(m.Geometry)
			stops[r] = append(stops[r], stop{micro: m, comm: c, at: p})
		}
	}
	rnd := newRand(seed, 17)
	var rows []gridline.Address
	compoundBuilding := map[string]int{}
	doorSeq := map[int64]int{}
	for _, r := range roads {
		list := stops[r]
		if len(list) == 0 {
			continue
		}
		// The road's axis: through the stops' mean, along their longer extent.
		var mx, my float64
		for _, s := range list {
			mx += s.at[0]
			my += s.at[1]
		}
		mx /= float64(len(list))
		my /= float64(len(list))
		var sxx, syy, sxy float64
		for _, s := range list {
			dx, dy := s.at[0]-mx, s.at[1]-my
			sxx += dx * dx
			syy += dy * dy
			sxy += dx * dy
		}
		theta := 0.5 * math.Atan2(2*sxy, sxx-syy)
		ax, ay := math.Cos(theta), math.Sin(theta)
		along := func(p orb.Point) float64 { return (p[0]-mx)*ax + (p[1]-my)*ay }
		side := func(p orb.Point) float64 { return -(p[0]-mx)*ay + (p[1]-my)*ax }
		slices.SortStableFunc(list, func(a, b stop) int {
			if c := cmp.Compare(along(a.at), along(b.at)); c != 0 {
				return c
			}
			return cmp.Compare(a.micro.Code, b.micro.Code)
		})
		odd, even := 1, 2
		for _, s := range list {
			var num int
			if side(s.at) >= 0 {
				num, odd = odd, odd+2
			} else {
				num, even = even, even+2
			}
			comm := s.comm
			sub := byID[comm.ParentID]
			subName := ""
			if sub != nil {
				subName = sub.Name
			}
			base := gridline.Address{Province: demoProvince, City: demoCity, District: district.Name, Subdistrict: subName,
				Community: comm.Name, Road: r, Door: fmt.Sprint(num), Compound: CompoundName(comm.Name),
				ValidFrom: s.micro.ValidFrom, Provenance: gridline.ProvenanceSynthetic}
			doorSeq[comm.ID]++
			code := fmt.Sprintf("%s%04d", comm.Code, doorSeq[comm.ID])
			// The door: on the micro grid's edge nearest the road's axis, moved inside.
			dp := doorPoint(s.micro.Geometry, s.at, func(p orb.Point) float64 { return math.Abs(side(p)) })
			door := base
			door.Lon, door.Lat = dp[0], dp[1]
			rows = append(rows, door)
			left := s.micro.Households
			for left > 0 {
				// Buildings are numbered per compound (on across its doors), else per door.
				key := base.Compound
				if key == "" {
					key = r + "|" + base.Door
				}
				compoundBuilding[key]++
				bn := compoundBuilding[key]
				bp := insidePoint(s.micro.Geometry, rnd)
				b := base
				b.Building = fmt.Sprint(bn)
				b.BuildingCode = fmt.Sprintf("%s%03d", code, bn)
				b.Lon, b.Lat = bp[0], bp[1]
				rows = append(rows, b)
				units := 2 + rnd.IntN(3)
				floors := 5 + rnd.IntN(3)
				perFloor := 2 + rnd.IntN(2)
				for u := 1; u <= units && left > 0; u++ {
					n := min(left, floors*perFloor)
					left -= n
					ur := b
					ur.Unit = fmt.Sprint(u)
					ur.Households = n
					rows = append(rows, ur)
				}
			}
		}
	}
	for i := range rows {
		rows[i].ID = int64(i + 1)
	}
	return rows
}

func allEmpty(m map[int64]string) bool {
	for _, v := range m {
		if v != "" {
			return false
		}
	}
	return true
}

// metre is about a metre in degrees at the district's latitude (enough for keeping points off edges).
const metre = 1.0 / 100000

// wellInside reports whether p and the points 3 m around it are all inside g.
func wellInside(g orb.MultiPolygon, p orb.Point) bool {
	const d = 3 * metre
	for _, q := range []orb.Point{p, {p[0] + d, p[1]}, {p[0] - d, p[1]}, {p[0], p[1] + d}, {p[0], p[1] - d}} {
		if !planar.MultiPolygonContains(g, q) {
			return false
		}
	}
	return true
}

// insidePoint is a random point well inside g.
func insidePoint(g orb.MultiPolygon, rnd interface{ Float64() float64 }) orb.Point {
	b := g.Bound()
	for range 200 {
		p := orb.Point{b.Min[0] + rnd.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rnd.Float64()*(b.Max[1]-b.Min[1])}
		if wellInside(g, p) {
			return p
		}
	}
	return fallbackInside(g)
}

// fallbackInside scans g's bounds for a point well inside it (a thin polygon random points miss).
func fallbackInside(g orb.MultiPolygon) orb.Point {
	b := g.Bound()
	for n := 4; n <= 256; n *= 2 {
		for i := 1; i < n; i++ {
			for j := 1; j < n; j++ {
				p := orb.Point{b.Min[0] + float64(i)/float64(n)*(b.Max[0]-b.Min[0]), b.Min[1] + float64(j)/float64(n)*(b.Max[1]-b.Min[1])}
				if wellInside(g, p) {
					return p
				}
			}
		}
	}
	c, _ := planar.CentroidArea(g)
	return c
}

// doorPoint is the vertex of g nearest the road (smallest dist) moved towards c until it is well
// inside g.
func doorPoint(g orb.MultiPolygon, c orb.Point, dist func(orb.Point) float64) orb.Point {
	var best orb.Point
	bd := math.Inf(1)
	for _, poly := range g {
		if len(poly) == 0 {
			continue
		}
		for _, v := range poly[0] {
			if d := dist(v); d < bd {
				best, bd = v, d
			}
		}
	}
	for t := 0.05; t < 1; t += 0.05 {
		p := orb.Point{best[0] + t*(c[0]-best[0]), best[1] + t*(c[1]-best[1])}
		if wellInside(g, p) {
			return p
		}
	}
	return fallbackInside(g)
}
