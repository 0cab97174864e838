package demo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/geo"
)

// The Erqi generator works in two halves. The plan (this file, pure Go) decides how many grids of
// each level every community gets, their households, and a seed point for every micro grid, by
// clustering a point cloud drawn from a household density map. The geometry (erqi.go) then asks
// PostGIS for the Voronoi diagram of the micro seeds, noded with the real outline, and builds every
// level from those faces.

// Sizing. Figures are synthetic, chosen to match the provincial sizing rule (300-500 households per
// urban basic grid, about 300 per rural one) and the counts in the issue (about 1,500 basic grids,
// 6-8 micro grids each).
const (
	cloudPoints        = 80000 // points drawn from the density map; about 8 per micro grid
	urbanHouseholdsLo  = 2000  // households of an urban community: uniform in [lo, hi]
	urbanHouseholdsHi  = 5000
	ruralHouseholdsLo  = 700 // households of a village
	ruralHouseholdsHi  = 1400
	urbanPerGrid       = 390 // households per basic grid that fix a community's number of grids
	ruralPerGrid       = 300
	microMin, microMax = 6, 8 // micro grids per basic grid
	policeGrids        = 40
	peoplePerHousehold = 2.4 // population per household is uniform in [2.4, 2.8]
	peopleSpread       = 0.4
)

// Places, in GCJ-02 as a map app shows them, converted to WGS84 when used.
var (
	erqiSquareGCJ = orb.Point{113.6676, 34.7561} // 二七广场, the city centre
	// Approximate centres that keep each subdistrict in its part of the district: the urban
	// subdistricts packed into the dense north-east around 二七广场, the three large towns in the
	// south and west (马寨镇 west, 侯寨 south, 金水源 south-east). They seed the clustering; the
	// generated boundaries are not the real ones.
	subdistrictAnchorsGCJ = map[string]orb.Point{
		"410103001": {113.650, 34.722}, // 淮河路
		"410103003": {113.657, 34.760}, // 铭功路
		"410103004": {113.662, 34.749}, // 一马路
		"410103005": {113.640, 34.742}, // 蜜蜂张
		"410103006": {113.637, 34.731}, // 五里堡
		"410103007": {113.658, 34.731}, // 大学路
		"410103008": {113.648, 34.745}, // 建中街
		"410103009": {113.662, 34.738}, // 福华街
		"410103010": {113.666, 34.755}, // 德化街
		"410103011": {113.626, 34.716}, // 嵩山路
		"410103012": {113.657, 34.712}, // 京广路
		"410103013": {113.645, 34.700}, // 长江路
		"410103014": {113.617, 34.700}, // 人和路
		"410103015": {113.585, 34.635}, // 侯寨
		"410103016": {113.640, 34.660}, // 金水源
		"410103100": {113.535, 34.690}, // 马寨镇
	}
	// Town centres: small bumps of density in the countryside.
	townCentresGCJ = []orb.Point{{113.533, 34.697}, {113.598, 34.651}, {113.642, 34.668}}
)

const (
	urbanRadius = 6500.0 // metres from 二七广场
	urbanEdge   = 400.0
)

// density is a synthetic map of households per km²: a city core decaying away from 二七广场, a
// rural floor, and a bump at each town centre. Only its shape matters: it decides where the point
// cloud is dense, so where grids are small.
type density struct {
	centre vec
	towns  []vec
}

func (d density) at(p vec) float64 {
	r := p.sub(d.centre).norm()
	// The built-up city: dense within about 6.5 km of the centre, falling off over a few hundred
	// metres at its edge (roughly the South Third Ring), densest near 二七广场.
	urban := 1 / (1 + math.Exp((r-urbanRadius)/urbanEdge))
	v := 150 + 14000*urban*(0.5+0.5*math.Exp(-r/4000))
	for _, t := range d.towns {
		q := p.sub(t).norm() / 1200
		v += 1500 * math.Exp(-q*q)
	}
	return v
}

type communityPlan struct {
	div    division
	sub    int  // index into plan.subs
	rural  bool // a village (村委会): fewer, larger-area grids of about 300 households
	basics []int
}

type basicPlan struct {
	comm       int
	households int
	micros     []int
}

type microPlan struct {
	basic      int
	households int
	population int
	seed       orb.Point // WGS84; the Voronoi site this micro grid grows from
}

type erqiPlan struct {
	proj    proj
	outline orb.MultiPolygon // WGS84
	divs    *divisions
	comms   []communityPlan
	basics  []basicPlan
	micros  []microPlan
	police  []orb.Point // WGS84 seeds of the police grids
	cloud   []vec
	// cloudComm is the community each cloud point fell in, used to place special grids.
	cloudComm []int
}

// isRural reports whether a community is a village: a village committee (村委会/村民委员会) or a
// village part of the code from 200 up (statistical division rules).
func isRural(d division) bool {
	return strings.HasSuffix(d.Name, "村委会") || strings.HasSuffix(d.Name, "村民委员会") ||
		(len(d.Code) == 12 && d.Code[9:] >= "200" && d.Code[9:] < "400")
}

// newErqiPlan sizes every grid and places every micro seed. It is pure Go and deterministic.
func newErqiPlan(outline orb.MultiPolygon, divs *divisions, seed int64) (*erqiPlan, error) {
	p, err := sizeErqi(outline, divs, seed)
	if err != nil {
		return nil, err
	}
	p.sample(seed)
	if err := p.cluster(seed); err != nil {
		return nil, err
	}
	return p, nil
}

// sizeErqi decides the households of every community, and from them the number of basic grids of
// each community, their households, and the micro grids of each basic grid.
func sizeErqi(outline orb.MultiPolygon, divs *divisions, seed int64) (*erqiPlan, error) {
	p := &erqiPlan{proj: projFor(outline), outline: outline, divs: divs}
	subIndex := map[string]int{}
	for i, s := range divs.Subdistricts {
		subIndex[s.Code] = i
		if _, ok := subdistrictAnchorsGCJ[s.Code]; !ok {
			return nil, fmt.Errorf("subdistrict %s %s has no anchor point: add it to subdistrictAnchorsGCJ", s.Code, s.Name)
		}
	}

	// Sizes: households per community, basic grids per community, micro grids per basic grid.
	rng := newRand(seed, 1)
	for _, c := range divs.Communities {
		cp := communityPlan{div: c, sub: subIndex[c.Parent], rural: isRural(c)}
		var total, per int
		if cp.rural {
			total, per = ruralHouseholdsLo+rng.IntN(ruralHouseholdsHi-ruralHouseholdsLo+1), ruralPerGrid
		} else {
			total, per = urbanHouseholdsLo+rng.IntN(urbanHouseholdsHi-urbanHouseholdsLo+1), urbanPerGrid
		}
		k := max(2, int(math.Round(float64(total)/float64(per))))
		base := float64(total) / float64(k)
		ci := len(p.comms)
		for range k {
			var hh int
			if cp.rural {
				hh = clampInt(int(math.Round(base*(0.95+0.1*rng.Float64()))), 250, 350)
			} else {
				hh = clampInt(int(math.Round(base*(0.88+0.24*rng.Float64()))), 300, 500)
			}
			bp := basicPlan{comm: ci, households: hh}
			bi := len(p.basics)
			m := microMin + rng.IntN(microMax-microMin+1)
			w := make([]float64, m)
			for i := range w {
				w[i] = 0.6 + 0.8*rng.Float64()
			}
			for _, h := range splitInt(hh, w) {
				pop := int(math.Round(float64(h) * (peoplePerHousehold + peopleSpread*rng.Float64())))
				// Kept within the ratio exactly, so every sum of micro grids stays within it too.
				pop = clampInt(pop, int(math.Ceil(float64(h)*peoplePerHousehold)), int(math.Floor(float64(h)*(peoplePerHousehold+peopleSpread))))
				bp.micros = append(bp.micros, len(p.micros))
				p.micros = append(p.micros, microPlan{basic: bi, households: h, population: pop})
			}
			cp.basics = append(cp.basics, bi)
			p.basics = append(p.basics, bp)
		}
		p.comms = append(p.comms, cp)
	}
	return p, nil
}

func (p *erqiPlan) density() density {
	d := density{centre: p.proj.fwd(wgs(erqiSquareGCJ))}
	for _, t := range townCentresGCJ {
		d.towns = append(d.towns, p.proj.fwd(wgs(t)))
	}
	return d
}

// sample draws the point cloud from the density map inside the outline.
func (p *erqiPlan) sample(seed int64) {
	p.cloud = sampleCloud(p.outline, p.proj, p.density(), cloudPoints, newRand(seed, 2))
}

// cluster divides the cloud level by level and takes the centres of the finest clusters as the
// micro seeds; then it clusters the cloud again, independently, for the police grids.
func (p *erqiPlan) cluster(seed int64) error {
	divs, d := p.divs, p.density()
	all := make([]int, len(p.cloud))
	for i := range all {
		all[i] = i
	}
	p.cloudComm = make([]int, len(p.cloud))

	// Level 1: subdistricts, each starting from its anchor, sized by its households.
	subShares := make([]float64, len(divs.Subdistricts))
	subComms := make([][]int, len(divs.Subdistricts))
	for ci, c := range p.comms {
		subShares[c.sub] += float64(p.commHouseholds(ci))
		subComms[c.sub] = append(subComms[c.sub], ci)
	}
	anchors := make([]vec, len(divs.Subdistricts))
	for i, s := range divs.Subdistricts {
		anchors[i] = p.proj.fwd(wgs(subdistrictAnchorsGCJ[s.Code]))
	}
	labels, centres, weights := balancedKMeansWeights(p.cloud, all, subShares, anchors, true)
	p.mendRegions(labels, centres, weights)
	bySub := groupBy(all, labels, len(divs.Subdistricts))

	// Levels 2 to 4, one subdistrict at a time, and the police grids, spread over the CPUs. Each
	// task has its own random stream and writes only its own points and micro grids, so the result
	// does not depend on the order they run in.
	errs := make([]error, len(subComms))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for si := range subComms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[si] = p.clusterSubdistrict(si, bySub[si], subComms[si], d, newRand(seed, 100+uint64(si)))
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		sem <- struct{}{}
		defer func() { <-sem }()
		p.clusterPolice(all, newRand(seed, 4))
	}()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	dedupeSeeds(p.micros)
	return nil
}

func (p *erqiPlan) commHouseholds(ci int) int {
	n := 0
	for _, bi := range p.comms[ci].basics {
		n += p.basics[bi].households
	}
	return n
}

// dedupeSeeds nudges a seed that coincides with an earlier one (possible only in theory: they are
// centroids of disjoint point sets), because the Voronoi diagram would merge the two sites.
func dedupeSeeds(ms []microPlan) {
	seen := map[orb.Point]bool{}
	for i := range ms {
		for seen[ms[i].seed] {
			ms[i].seed[0] += 1e-7
		}
		seen[ms[i].seed] = true
	}
}

// sampleCloud draws n points inside outline with probability proportional to d: pick a cell of a
// raster by its density times the share of it inside the outline, then a uniform point in the cell,
// kept if inside the outline.
func sampleCloud(outline orb.MultiPolygon, pr proj, d density, n int, rng *rand.Rand) []vec {
	const cells = 200
	in := newPointIn(outline)
	b := outline.Bound()
	dx, dy := (b.Max[0]-b.Min[0])/cells, (b.Max[1]-b.Min[1])/cells
	cum := make([]float64, 0, cells*cells)
	var sum float64
	for i := 0; i < cells; i++ {
		for j := 0; j < cells; j++ {
			inside := 0
			for s := 0; s < 4; s++ {
				for t := 0; t < 4; t++ {
					q := orb.Point{b.Min[0] + (float64(j)+(float64(s)+0.5)/4)*dx, b.Min[1] + (float64(i)+(float64(t)+0.5)/4)*dy}
					if in.contains(q) {
						inside++
					}
				}
			}
			if inside > 0 {
				c := orb.Point{b.Min[0] + (float64(j)+0.5)*dx, b.Min[1] + (float64(i)+0.5)*dy}
				sum += d.at(pr.fwd(c)) * float64(inside) / 16
			}
			cum = append(cum, sum)
		}
	}
	out := make([]vec, 0, n)
	for len(out) < n {
		r := rng.Float64() * sum
		k := sort.SearchFloat64s(cum, r)
		if k >= len(cum) {
			k = len(cum) - 1
		}
		i, j := k/cells, k%cells
		q := orb.Point{b.Min[0] + (float64(j)+rng.Float64())*dx, b.Min[1] + (float64(i)+rng.Float64())*dy}
		if in.contains(q) {
			out = append(out, pr.fwd(q))
		}
	}
	return out
}

// pointIn tests points against a fixed multipolygon by the even-odd rule over all its rings (so holes
// count). Edges are bucketed by latitude bands, so a test only looks at the few edges that can cross
// the horizontal line through the point.
type pointIn struct {
	bound  orb.Bound
	y0, dy float64
	bands  [][][2]orb.Point
}

func newPointIn(mp orb.MultiPolygon) pointIn {
	var edges [][2]orb.Point
	for _, poly := range mp {
		for _, r := range poly {
			for i := 0; i+1 < len(r); i++ {
				edges = append(edges, [2]orb.Point{r[i], r[i+1]})
			}
		}
	}
	pi := pointIn{bound: mp.Bound()}
	n := max(1, len(edges)/4)
	pi.y0 = pi.bound.Min[1]
	pi.dy = (pi.bound.Max[1] - pi.bound.Min[1]) / float64(n)
	if pi.dy <= 0 {
		pi.dy = 1
	}
	pi.bands = make([][][2]orb.Point, n)
	for _, e := range edges {
		lo, hi := pi.band(math.Min(e[0][1], e[1][1])), pi.band(math.Max(e[0][1], e[1][1]))
		for b := lo; b <= hi; b++ {
			pi.bands[b] = append(pi.bands[b], e)
		}
	}
	return pi
}

func (pi pointIn) band(y float64) int {
	return clampInt(int((y-pi.y0)/pi.dy), 0, len(pi.bands)-1)
}

func (pi pointIn) contains(q orb.Point) bool {
	if !pi.bound.Contains(q) {
		return false
	}
	in := false
	for _, e := range pi.bands[pi.band(q[1])] {
		a, b := e[0], e[1]
		if (a[1] > q[1]) != (b[1] > q[1]) && q[0] < (b[0]-a[0])*(q[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

func wgs(p orb.Point) orb.Point {
	lon, lat := geo.GCJ02ToWGS84(p[0], p[1])
	return orb.Point{lon, lat}
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }

// clusterSubdistrict divides the cloud points idx of subdistrict si into its communities, each
// community into its basic grids and each basic grid into its micro grids, and sets the micro seeds.
// Villages take the clusters farthest from the city centre, so the countryside is rural.
func (p *erqiPlan) clusterSubdistrict(si int, idx, comms []int, d density, rng *rand.Rand) error {
	if len(idx) < 3*len(comms) {
		return fmt.Errorf("subdistrict %s got %d cloud points for %d communities: too few", p.divs.Subdistricts[si].Code, len(idx), len(comms))
	}
	init := kmeansPP(p.cloud, idx, len(comms), rng)
	sort.SliceStable(init, func(a, b int) bool { return init[a].dist2(d.centre) > init[b].dist2(d.centre) })
	order := append([]int(nil), comms...)
	sort.SliceStable(order, func(a, b int) bool { return p.comms[order[a]].rural && !p.comms[order[b]].rural })
	shares := make([]float64, len(order))
	for j, ci := range order {
		shares[j] = float64(p.commHouseholds(ci))
	}
	lab, _ := balancedKMeans(p.cloud, idx, shares, init, false)
	for j, g := range groupBy(idx, lab, len(order)) {
		ci := order[j]
		for _, i := range g {
			p.cloudComm[i] = ci
		}
		basics := p.comms[ci].basics
		bShares := make([]float64, len(basics))
		for n, bi := range basics {
			bShares[n] = float64(p.basics[bi].households)
		}
		if len(g) < 2*len(basics) {
			return fmt.Errorf("community %s got %d cloud points for %d basic grids: too few", p.comms[ci].div.Code, len(g), len(basics))
		}
		bl, _ := balancedKMeans(p.cloud, g, bShares, kmeansPP(p.cloud, g, len(basics), rng), false)
		for n, bg := range groupBy(g, bl, len(basics)) {
			bi := basics[n]
			micros := p.basics[bi].micros
			mShares := make([]float64, len(micros))
			for m, mi := range micros {
				mShares[m] = float64(p.micros[mi].households)
			}
			if len(bg) < len(micros) {
				return fmt.Errorf("basic grid %d of community %s got %d cloud points for %d micro grids: too few", n, p.comms[ci].div.Code, len(bg), len(micros))
			}
			ml, centres := balancedKMeans(p.cloud, bg, mShares, kmeansPP(p.cloud, bg, len(micros), rng), false)
			for m, mg := range groupBy(bg, ml, len(micros)) {
				c := centres[m]
				if len(mg) > 0 {
					c = centroidOf(p.cloud, mg)
				}
				p.micros[micros[m]].seed = p.proj.inv(c)
			}
		}
	}
	return nil
}

// clusterPolice places the police seeds: an independent clustering of the cloud into equal shares.
func (p *erqiPlan) clusterPolice(all []int, rng *rand.Rand) {
	shares := make([]float64, policeGrids)
	for i := range shares {
		shares[i] = 1
	}
	// Every eighth point is plenty for 40 clusters.
	sub := make([]int, 0, len(all)/8+1)
	for i := 0; i < len(all); i += 8 {
		sub = append(sub, all[i])
	}
	labels, centres := balancedKMeans(p.cloud, sub, shares, kmeansPP(p.cloud, sub, policeGrids, rng), false)
	police := make([]orb.Point, policeGrids)
	for j, g := range groupBy(sub, labels, policeGrids) {
		c := centres[j]
		if len(g) > 0 {
			c = centroidOf(p.cloud, g)
		}
		police[j] = p.proj.inv(c)
	}
	p.police = police
}

// mendCell is the raster cell, in metres, on which mendRegions checks connectivity.
const mendCell = 40.0

// mendRegions makes every cluster of a power diagram one piece inside the outline. A power cell is
// convex, but the outline is not: where it has a bay, one cell can reach across it and fall in two
// pieces (德化街 does, around the notch north of 二七广场). On a raster of the district, each piece of
// a cluster but its largest goes to the cluster it borders most, and the cloud points in it follow.
// labels (one per cloud point) are changed in place.
func (p *erqiPlan) mendRegions(labels []int, centres []vec, weights []float64) {
	r := p.powerRaster(centres, weights)
	moved := r.moves(len(centres))
	if len(moved) == 0 {
		return
	}
	for i, v := range p.cloud {
		x, y := int((v.x-r.lo.x)/mendCell), int((v.y-r.lo.y)/mendCell)
		if x < 0 || y < 0 || x >= r.nx || y >= r.ny {
			continue
		}
		if to, ok := moved[y*r.nx+x]; ok {
			labels[i] = to
		}
	}
}

// mendRaster is the district on a raster of mendCell squares: the cluster of the power diagram
// each cell's centre falls in, -1 outside the outline. Cell k is column k % nx, row k / nx.
type mendRaster struct {
	lo     vec // the south-west corner, projected
	nx, ny int
	cell   []int
}

// powerRaster rasterises the power diagram of centres and weights inside the outline.
func (p *erqiPlan) powerRaster(centres []vec, weights []float64) *mendRaster {
	b := p.outline.Bound()
	lo, hi := p.proj.fwd(b.Min), p.proj.fwd(b.Max)
	r := &mendRaster{lo: lo, nx: int((hi.x-lo.x)/mendCell) + 1, ny: int((hi.y-lo.y)/mendCell) + 1}
	in := newPointIn(p.outline)
	r.cell = make([]int, r.nx*r.ny)
	for y := 0; y < r.ny; y++ {
		for x := 0; x < r.nx; x++ {
			c := vec{lo.x + (float64(x)+0.5)*mendCell, lo.y + (float64(y)+0.5)*mendCell}
			r.cell[y*r.nx+x] = -1
			if !in.contains(p.proj.inv(c)) {
				continue
			}
			best, bestD := 0, math.Inf(1)
			for j := range centres {
				if d := c.dist2(centres[j]) - weights[j]; d < bestD {
					best, bestD = j, d
				}
			}
			r.cell[y*r.nx+x] = best
		}
	}
	return r
}

// neighbours are the cells that share a side with cell k.
func (r *mendRaster) neighbours(k int) []int {
	x, y := k%r.nx, k/r.nx
	var out []int
	if x > 0 {
		out = append(out, k-1)
	}
	if x+1 < r.nx {
		out = append(out, k+1)
	}
	if y > 0 {
		out = append(out, k-r.nx)
	}
	if y+1 < r.ny {
		out = append(out, k+r.nx)
	}
	return out
}

// pieces are the connected pieces of every cluster, found by flood fill in cell order: each piece
// is the list of its cells.
func (r *mendRaster) pieces() [][]int {
	piece := make([]int, len(r.cell))
	for k := range piece {
		piece[k] = -1
	}
	var pieces [][]int
	for k, l := range r.cell {
		if l < 0 || piece[k] >= 0 {
			continue
		}
		id := len(pieces)
		stack, members := []int{k}, []int{}
		piece[k] = id
		for len(stack) > 0 {
			q := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			members = append(members, q)
			for _, n := range r.neighbours(q) {
				if r.cell[n] == l && piece[n] < 0 {
					piece[n] = id
					stack = append(stack, n)
				}
			}
		}
		pieces = append(pieces, members)
	}
	return pieces
}

// moves gives every cell of a cluster's smaller pieces to the cluster that piece borders most (the
// lowest-numbered on a tie): cell -> new cluster. clusters is the number of clusters.
func (r *mendRaster) moves(clusters int) map[int]int {
	pieces := r.pieces()
	largest := make([]int, clusters) // cluster -> its largest piece
	for j := range largest {
		largest[j] = -1
	}
	for id, m := range pieces {
		l := r.cell[m[0]]
		if largest[l] < 0 || len(m) > len(pieces[largest[l]]) {
			largest[l] = id
		}
	}
	moved := map[int]int{}
	for id, m := range pieces {
		l := r.cell[m[0]]
		if id == largest[l] {
			continue
		}
		border := map[int]int{}
		for _, q := range m {
			for _, n := range r.neighbours(q) {
				if r.cell[n] >= 0 && r.cell[n] != l {
					border[r.cell[n]]++
				}
			}
		}
		to, most := -1, 0
		for _, j := range sortedKeys(border) {
			if border[j] > most {
				to, most = j, border[j]
			}
		}
		if to < 0 {
			continue
		}
		for _, q := range m {
			moved[q] = to
		}
	}
	return moved
}
