package demo

import (
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
)

// Special grids (专属网格) are drawn around one institution. The institutions are invented: each
// takes its community's name (淮河小学, 侯寨农贸市场 ...), except 郑州火车站, which is real and
// does lie in 二七区.

// specialKind is one kind of institution with the names it can take and how often it appears in
// urban communities and in villages.
type specialKind struct {
	kind         string // one of gridline.SpecialKinds
	suffixes     []string
	urban, rural float64
}

var specialKinds = []specialKind{
	{"school", []string{"小学", "中学", "幼儿园"}, 0.34, 0.40},
	{"hospital", []string{"社区卫生服务中心", "医院"}, 0.12, 0.10},
	{"market", []string{"农贸市场", "批发市场"}, 0.14, 0.15},
	{"mall", []string{"购物中心", "商业广场"}, 0.10, 0},
	{"park", []string{"产业园", "科创园"}, 0.04, 0.15},
	{"enterprise", []string{"物流园", "机械厂", "食品公司"}, 0.08, 0.15},
	{"government", []string{"党群服务中心", "便民服务中心"}, 0.12, 0.05},
	{"station", []string{"地铁站", "公交枢纽站"}, 0.06, 0},
}

const (
	specialSideMin, specialSideMax = 80.0, 250.0 // metres across
	railwayStationCommunity        = "410103004400"
)

// specialLayer places one or two special grids in most communities: a rotated rectangle of 80-250 m
// a side around a point of the community, entirely inside it and clear of the community's other
// special grids. A community too small for one gets none.
func (b *erqiBuild) specialLayer() {
	p := b.plan
	rng := newRand(b.seed, 5)
	byComm := make([][]int, len(p.comms))
	for i, c := range p.cloudComm {
		byComm[c] = append(byComm[c], i)
	}
	for ci, cp := range p.comms {
		n := 1 + rng.IntN(2)
		if cp.rural {
			n = rng.IntN(2)
		}
		geom := b.commGeom[ci]
		if geom == nil || len(byComm[ci]) == 0 {
			continue
		}
		local := make([][]vec, 0) // the community's rings in metres
		for _, poly := range geom {
			for _, r := range poly {
				lr := make([]vec, len(r))
				for k, q := range r {
					lr[k] = p.proj.fwd(q)
				}
				local = append(local, lr)
			}
		}
		in := newPointIn(geom)
		type placed struct {
			c vec
			r float64
		}
		var done []placed
		names := map[string]bool{}
		for s := 0; s < n; s++ {
			kind := pickKind(rng, cp.rural)
			name := communityShortName(cp.div.Name, cp.rural)
			name = trimSuffixAny(name, "社区", "地区")
			suffix := kind.suffixes[rng.IntN(len(kind.suffixes))]
			if cp.div.Code == railwayStationCommunity && s == 0 {
				kind, name, suffix = specialKinds[7], "郑州火车站", ""
			}
			base := name
			name += suffix
			for k := 1; names[name] && k < len(ordinals); k++ {
				name = base + "第" + ordinals[k] + suffix // 淮河小学, 淮河第二小学 ...
			}
			for try := 0; try < 60; try++ {
				scale := 1 - float64(try/20)*0.3 // shrink after every 20 failed tries
				w := (specialSideMin + rng.Float64()*(specialSideMax-specialSideMin)) * scale
				h := (specialSideMin + rng.Float64()*(specialSideMax-specialSideMin)) * scale
				w, h = math.Max(w, specialSideMin), math.Max(h, specialSideMin)
				c := p.cloud[byComm[ci][rng.IntN(len(byComm[ci]))]]
				rect := rotatedRect(c, w, h, rng.Float64()*math.Pi)
				radius := math.Hypot(w, h) / 2
				ok := true
				for _, d := range done {
					if c.sub(d.c).norm() < radius+d.r+20 {
						ok = false
						break
					}
				}
				if !ok || !rectInside(rect, local, in, p.proj) {
					continue
				}
				ring := make(orb.Ring, 0, 5)
				for _, v := range rect {
					ring = append(ring, p.proj.inv(v))
				}
				ring = append(ring, ring[0])
				b.special = append(b.special, specialGrid{comm: ci, kind: kind.kind, name: name + "专属网格", geom: orb.MultiPolygon{{ring}}})
				done = append(done, placed{c, radius})
				names[name] = true
				break
			}
		}
	}
}

var ordinals = []string{"一", "二", "三", "四", "五", "六"}

func pickKind(rng *rand.Rand, rural bool) specialKind {
	var sum float64
	for _, k := range specialKinds {
		sum += weightOf(k, rural)
	}
	r := rng.Float64() * sum
	for _, k := range specialKinds {
		if r -= weightOf(k, rural); r < 0 {
			return k
		}
	}
	return specialKinds[0]
}

func weightOf(k specialKind, rural bool) float64 {
	if rural {
		return k.rural
	}
	return k.urban
}

func trimSuffixAny(s string, sufs ...string) string {
	for _, suf := range sufs {
		if suf != "" && len(s) > len(suf) && s[len(s)-len(suf):] == suf {
			return s[:len(s)-len(suf)]
		}
	}
	return s
}

// rotatedRect is a w x h rectangle centred on c, turned by angle, counter-clockwise.
func rotatedRect(c vec, w, h, angle float64) [4]vec {
	cos, sin := math.Cos(angle), math.Sin(angle)
	var out [4]vec
	for i, corner := range [4]vec{{-w / 2, -h / 2}, {w / 2, -h / 2}, {w / 2, h / 2}, {-w / 2, h / 2}} {
		out[i] = vec{c.x + corner.x*cos - corner.y*sin, c.y + corner.x*sin + corner.y*cos}
	}
	return out
}

// rectInside reports whether the rectangle lies inside the polygon whose rings (in metres) are
// given: every corner inside, and no edge of the rectangle crossing or touching a ring.
func rectInside(rect [4]vec, rings [][]vec, in pointIn, pr proj) bool {
	for _, v := range rect {
		if !in.contains(pr.inv(v)) {
			return false
		}
	}
	for i := range 4 {
		a, b := rect[i], rect[(i+1)%4]
		for _, r := range rings {
			for k := 0; k+1 < len(r); k++ {
				if segmentsTouch(a, b, r[k], r[k+1]) {
					return false
				}
			}
		}
	}
	return true
}

// segmentsTouch reports whether segments ab and cd intersect (touching counts).
func segmentsTouch(a, b, c, d vec) bool {
	orient := func(p, q, r vec) float64 { return (q.x-p.x)*(r.y-p.y) - (q.y-p.y)*(r.x-p.x) }
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	on := func(p, q, r vec) bool { // r on segment pq, given collinear
		return math.Min(p.x, q.x) <= r.x && r.x <= math.Max(p.x, q.x) && math.Min(p.y, q.y) <= r.y && r.y <= math.Max(p.y, q.y)
	}
	return (d1 == 0 && on(c, d, a)) || (d2 == 0 && on(c, d, b)) || (d3 == 0 && on(a, b, c)) || (d4 == 0 && on(a, b, d))
}
