package demo

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"gridline.dev/gridline"
)

// Erqi builds 二七区 (Zhengzhou, code 410103): the real outline and real subdistricts and
// communities, with generated boundaries below the district, generated basic, micro, special and
// police grids, synthetic households and fictitious staff. PostGIS (db) computes the Voronoi faces
// and their unions through the three calls of demo.PostGIS; nothing is written to the database. The same Seed gives the
// same district, byte for byte, with the same PostGIS and GEOS. It takes a few seconds.
func Erqi(ctx context.Context, db PostGIS, opts Options) (*District, error) {
	outline, err := loadOutline()
	if err != nil {
		return nil, err
	}
	divs, err := loadDivisions()
	if err != nil {
		return nil, err
	}
	p, err := newErqiPlan(outline, divs, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("erqi plan: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := &erqiBuild{plan: p, validFrom: opts.validFrom(), seed: opts.Seed}
	if err := b.comprehensive(ctx, db); err != nil {
		return nil, fmt.Errorf("erqi comprehensive layer: %w", err)
	}
	if err := b.policeLayer(ctx, db); err != nil {
		return nil, fmt.Errorf("erqi police layer: %w", err)
	}
	b.specialLayer()
	return b.district(), nil
}

// erqiBuild carries the geometry of every grid while the district is built.
type erqiBuild struct {
	plan      *erqiPlan
	validFrom time.Time
	seed      int64

	outline                                 orb.MultiPolygon   // the district as the union of its subdistricts
	subGeom, commGeom, basicGeom, microGeom []orb.MultiPolygon // nil where a grid did not survive
	policeGeom                              []orb.MultiPolygon
	policeHH, policePop                     []int
	policeSub                               []int // subdistrict each police grid is named after
	special                                 []specialGrid
}

// face is one face of the noded Voronoi diagram, with a point inside it and the seed it belongs to.
type face struct {
	poly  orb.Polygon
	pos   orb.Point
	owner int
}

// voronoiFaces asks PostGIS for the faces of the Voronoi diagram of seeds inside outline, and gives
// each face to its nearest seed.
func voronoiFaces(ctx context.Context, db PostGIS, outline orb.MultiPolygon, seeds []orb.Point) ([]face, error) {
	polys, inside, err := db.VoronoiFaces(ctx, outline, seeds)
	if err != nil {
		return nil, fmt.Errorf("voronoi faces of %d seeds: %w", len(seeds), err)
	}
	faces := make([]face, len(polys))
	for i := range polys {
		faces[i] = face{poly: polys[i], pos: inside[i]}
	}
	// Rows come in the order GEOS built the faces; sort them so the rest does not depend on it.
	sort.Slice(faces, func(i, j int) bool {
		if faces[i].pos[0] != faces[j].pos[0] {
			return faces[i].pos[0] < faces[j].pos[0]
		}
		return faces[i].pos[1] < faces[j].pos[1]
	})
	idx := newSeedIndex(seeds)
	for i := range faces {
		faces[i].owner = idx.nearest(faces[i].pos)
	}
	return faces, nil
}

// faceAdjacency gives each face its neighbouring faces and the length in metres they share.
func faceAdjacency(faces []face, pr proj) ([]map[int]float64, []float64) {
	polys := make([]orb.MultiPolygon, len(faces))
	area := make([]float64, len(faces))
	for i, f := range faces {
		polys[i] = orb.MultiPolygon{f.poly}
		area[i] = pr.areaM2(polys[i])
	}
	adj := make([]map[int]float64, len(faces))
	for i, b := range borders(polys, pr) {
		adj[i] = make(map[int]float64, len(b))
		for j, br := range b {
			adj[i][j] = br.length
		}
	}
	return adj, area
}

// makeContiguous makes every grid of every level one piece. A Voronoi cell cut by a bend of the
// outline, or a cell of one cluster wedged between cells of another, would otherwise leave a grid in
// two parts. Going down from the top level, every piece of a grid but its largest is handed to the
// neighbouring grid of the same parent that shares the longest border with it (at the top level, any
// neighbour). Moving a piece to a grid it touches keeps that grid in one piece, and the parent stays
// the same, so levels already fixed stay fixed.
//
// levels maps an owner (the finest group) to its group at each level, top first; the last level
// is the owner itself.
func makeContiguous(faces []face, adj []map[int]float64, area []float64, levels []func(owner int) int) {
	for L := range levels {
		group := func(f int) int { return levels[L](faces[f].owner) }
		parent := func(f int) int {
			if L == 0 {
				return 0
			}
			return levels[L-1](faces[f].owner)
		}
		members := map[int][]int{}
		for f := range faces {
			g := group(f)
			members[g] = append(members[g], f)
		}
		for _, g := range sortedKeys(members) {
			comps := components(members[g], adj, func(f int) bool { return group(f) == g })
			if len(comps) < 2 {
				continue
			}
			main, mainArea := 0, -1.0
			for c, comp := range comps {
				var a float64
				for _, f := range comp {
					a += area[f]
				}
				if a > mainArea {
					main, mainArea = c, a
				}
			}
			for c, comp := range comps {
				if c == main {
					continue
				}
				in := map[int]bool{}
				for _, f := range comp {
					in[f] = true
				}
				shared := map[int]float64{} // owner -> border length with the piece
				for _, f := range comp {
					for _, h := range sortedKeys(adj[f]) {
						if h < 0 || in[h] || group(h) == g || parent(h) != parent(f) {
							continue
						}
						shared[faces[h].owner] += adj[f][h]
					}
				}
				target, best := -1, 0.0
				for _, o := range sortedKeys(shared) {
					if shared[o] > best {
						target, best = o, shared[o]
					}
				}
				if target < 0 {
					continue // nothing of the same parent touches it: leave it
				}
				for _, f := range comp {
					faces[f].owner = target
				}
			}
		}
	}
}

// comprehensive builds the subdistricts, communities, basic and micro grids.
func (b *erqiBuild) comprehensive(ctx context.Context, db PostGIS) error {
	p := b.plan
	seeds := make([]orb.Point, len(p.micros))
	for i, m := range p.micros {
		seeds[i] = m.seed
	}
	faces, err := voronoiFaces(ctx, db, p.outline, seeds)
	if err != nil {
		return err
	}
	adj, area := faceAdjacency(faces, p.proj)
	microBasic := func(m int) int { return p.micros[m].basic }
	basicComm := func(m int) int { return p.basics[microBasic(m)].comm }
	commSub := func(m int) int { return p.comms[basicComm(m)].sub }
	makeContiguous(faces, adj, area, []func(int) int{commSub, basicComm, microBasic, func(m int) int { return m }})
	alive, err := p.dropLostMicros(faces)
	if err != nil {
		return err
	}
	return b.unionLevels(ctx, db, faces, alive)
}

// dropLostMicros removes the micro grids that lost every face to makeContiguous, and the basic
// grids left with none. A lost micro grid's households go to the smallest surviving micro grid of
// the same basic grid, so basic grids keep the households they were sized for. It returns which
// micro grids are alive; a community left with no basic grid is an error.
func (p *erqiPlan) dropLostMicros(faces []face) ([]bool, error) {
	alive := make([]bool, len(p.micros))
	for _, f := range faces {
		alive[f.owner] = true
	}
	for bi := range p.basics {
		var keep []int
		for _, m := range p.basics[bi].micros {
			if alive[m] {
				keep = append(keep, m)
			}
		}
		for _, m := range p.basics[bi].micros {
			if alive[m] || len(keep) == 0 {
				continue
			}
			to := keep[0]
			for _, k := range keep {
				if p.micros[k].households < p.micros[to].households {
					to = k
				}
			}
			p.micros[to].households += p.micros[m].households
			p.micros[to].population += p.micros[m].population
			p.micros[m].households, p.micros[m].population = 0, 0
		}
		p.basics[bi].micros = keep
	}
	for ci := range p.comms {
		var keep []int
		for _, bi := range p.comms[ci].basics {
			if len(p.basics[bi].micros) > 0 {
				keep = append(keep, bi)
			}
		}
		if len(keep) == 0 {
			return nil, fmt.Errorf("community %s %s ended with no basic grid", p.comms[ci].div.Code, p.comms[ci].div.Name)
		}
		p.comms[ci].basics = keep
	}
	return alive, nil
}

// unionLevels makes every grid of the comprehensive layer, and the district's outline, the union
// of its faces, bottom up, in PostGIS: micro grids of their faces, each level above of its
// children's. Only the micro grids alive, and the basic grids that kept one, take part.
func (b *erqiBuild) unionLevels(ctx context.Context, db PostGIS, faces []face, alive []bool) error {
	p := b.plan
	polys := make([]orb.Polygon, len(faces))
	owners := make([]int32, len(faces))
	for i, f := range faces {
		polys[i], owners[i] = f.poly, int32(f.owner)
	}
	var children, parents [3][]int32 // micro > basic, basic > community, community > subdistrict
	for m := range p.micros {
		if alive[m] {
			children[0], parents[0] = append(children[0], int32(m)), append(parents[0], int32(p.micros[m].basic))
		}
	}
	for bi := range p.basics {
		if len(p.basics[bi].micros) > 0 {
			children[1], parents[1] = append(children[1], int32(bi)), append(parents[1], int32(p.basics[bi].comm))
		}
	}
	for ci := range p.comms {
		children[2], parents[2] = append(children[2], int32(ci)), append(parents[2], int32(p.comms[ci].sub))
	}
	b.subGeom = make([]orb.MultiPolygon, len(p.divs.Subdistricts))
	b.commGeom = make([]orb.MultiPolygon, len(p.comms))
	b.basicGeom = make([]orb.MultiPolygon, len(p.basics))
	b.microGeom = make([]orb.MultiPolygon, len(p.micros))
	err := db.UnionLevels(ctx, polys, owners, children, parents, func(level, id int, mp orb.MultiPolygon) {
		switch level {
		case 0:
			b.outline = mp
		case 1:
			b.subGeom[id] = mp
		case 2:
			b.commGeom[id] = mp
		case 3:
			b.basicGeom[id] = mp
		case 4:
			b.microGeom[id] = mp
		}
	})
	if err != nil {
		return fmt.Errorf("union %d faces: %w", len(faces), err)
	}
	for i, g := range b.subGeom {
		if g == nil {
			return fmt.Errorf("subdistrict %s got no geometry", p.divs.Subdistricts[i].Code)
		}
	}
	return nil
}

// policeLayer builds the police grids: each is the union of the micro grids whose seeds lie
// nearest its own seed. Built from the micro grids' exact faces, the police layer tiles the
// district exactly (so it passes the store's rule that a child lies within its parent, the
// district) while cutting across subdistricts and communities as real police grids do.
func (b *erqiBuild) policeLayer(ctx context.Context, db PostGIS) error {
	p := b.plan
	pIdx := newSeedIndex(p.police)
	// One face per polygon of every micro grid, owned by the police seed nearest the micro seed;
	// pieces cut off from their police grid then go to the neighbour they share most border with.
	var faces []face
	var microOf []int
	for m, mp := range p.micros {
		k := pIdx.nearest(mp.seed)
		for _, poly := range b.microGeom[m] {
			faces = append(faces, face{poly: poly, owner: k})
			microOf = append(microOf, m)
		}
	}
	adj, area := faceAdjacency(faces, p.proj)
	makeContiguous(faces, adj, area, []func(int) int{func(o int) int { return o }})
	polys := make([]orb.MultiPolygon, len(faces))
	owners := make([]int32, len(faces))
	b.policeHH = make([]int, len(p.police))
	b.policePop = make([]int, len(p.police))
	counted := map[int]bool{}
	for i, f := range faces {
		polys[i], owners[i] = orb.MultiPolygon{f.poly}, int32(f.owner)
		// Households of a police grid: those of the micro grids whose (first) face it holds.
		if m := microOf[i]; !counted[m] {
			counted[m] = true
			b.policeHH[f.owner] += p.micros[m].households
			b.policePop[f.owner] += p.micros[m].population
		}
	}
	geoms := make([]orb.MultiPolygon, len(p.police))
	if err := db.UnionGroups(ctx, polys, owners, func(id int, mp orb.MultiPolygon) { geoms[id] = mp }); err != nil {
		return fmt.Errorf("union police faces: %w", err)
	}
	// Its name: the subdistrict of the micro seed nearest its own seed. A police seed that won no
	// micro grid makes no police grid.
	seeds := make([]orb.Point, len(p.micros))
	for i, m := range p.micros {
		seeds[i] = m.seed
	}
	mIdx := newSeedIndex(seeds)
	var keptGeom []orb.MultiPolygon
	var keptHH, keptPop, keptSub []int
	for k, s := range p.police {
		if geoms[k] == nil {
			continue
		}
		m := mIdx.nearest(s)
		keptGeom = append(keptGeom, geoms[k])
		keptHH = append(keptHH, b.policeHH[k])
		keptPop = append(keptPop, b.policePop[k])
		keptSub = append(keptSub, p.comms[p.basics[p.micros[m].basic].comm].sub)
	}
	b.policeGeom, b.policeHH, b.policePop, b.policeSub = keptGeom, keptHH, keptPop, keptSub
	return nil
}

// specialGrid is a small polygon around one institution, inside one community.
type specialGrid struct {
	comm int
	kind string
	name string
	geom orb.MultiPolygon
}

// district assembles the grids in ID order, names and codes them, describes their four bounds and
// staffs them.
func (b *erqiBuild) district() *District {
	a := &erqiAssembly{b: b, p: b.plan, pr: b.plan.proj}
	a.households()
	a.sequences()
	a.comprehensiveGrids()
	a.specialGrids()
	a.policeGrids()
	people, asg := staff(a.grids, b.seed, b.validFrom, defaultStaff)
	return &District{Grids: a.grids, People: people, Assignments: asg}
}

// erqiAssembly is the district's list of grids while district assembles it.
type erqiAssembly struct {
	b     *erqiBuild
	p     *erqiPlan
	pr    proj
	grids []gridline.Grid

	// Households and population of each grid of each level, by its index in the plan.
	basicHH, basicPop, commHH, commPop, subHH, subPop []int
	distHH, distPop                                   int
	// The sequence numbers in the codes of basic and micro grids, and the short names of the
	// communities that basic grids' names start with.
	basicSeq, microSeq []int
	commShort          []string
	// The IDs of the district and of the communities, which special and police grids hang under.
	distID int64
	commID []int64
}

// add appends g as version 1 from validFrom and returns its ID.
func (a *erqiAssembly) add(g gridline.Grid) int64 {
	g.ID = int64(len(a.grids) + 1)
	g.VersionID = g.ID
	g.Version = 1
	g.ValidFrom = a.b.validFrom
	a.grids = append(a.grids, g)
	return g.ID
}

// households sums households and population bottom up, from the micro grids of the plan.
func (a *erqiAssembly) households() {
	p := a.p
	basicHH, basicPop := make([]int, len(p.basics)), make([]int, len(p.basics))
	for bi, bp := range p.basics {
		for _, m := range bp.micros {
			basicHH[bi] += p.micros[m].households
			basicPop[bi] += p.micros[m].population
		}
	}
	commHH, commPop := make([]int, len(p.comms)), make([]int, len(p.comms))
	for ci, cp := range p.comms {
		for _, bi := range cp.basics {
			commHH[ci] += basicHH[bi]
			commPop[ci] += basicPop[bi]
		}
	}
	subHH, subPop := make([]int, len(p.divs.Subdistricts)), make([]int, len(p.divs.Subdistricts))
	for ci, cp := range p.comms {
		subHH[cp.sub] += commHH[ci]
		subPop[cp.sub] += commPop[ci]
	}
	var distHH, distPop int
	for i := range subHH {
		distHH += subHH[i]
		distPop += subPop[i]
	}
	a.basicHH, a.basicPop, a.commHH, a.commPop, a.subHH, a.subPop, a.distHH, a.distPop = basicHH, basicPop, commHH, commPop, subHH, subPop, distHH, distPop
}

// sequences numbers basic and micro grids within their parents for their codes: west to east,
// north to south (see rowOrder); and shortens the communities' names for their grids' names.
func (a *erqiAssembly) sequences() {
	b, p, pr := a.b, a.p, a.pr
	basicSeq := make([]int, len(p.basics))
	for ci, cp := range p.comms {
		for n, k := range orderWithin(cp.basics, b.basicGeom, b.commGeom[ci], pr) {
			basicSeq[k] = n + 1
		}
	}
	microSeq := make([]int, len(p.micros))
	for bi, bp := range p.basics {
		if len(bp.micros) == 0 {
			continue
		}
		for n, k := range orderWithin(bp.micros, b.microGeom, b.basicGeom[bi], pr) {
			microSeq[k] = n + 1
		}
	}
	commShort := make([]string, len(p.comms))
	for ci, cp := range p.comms {
		commShort[ci] = communityShortName(cp.div.Name, cp.rural)
	}
	a.basicSeq, a.microSeq, a.commShort = basicSeq, microSeq, commShort
}

// basicName is the name of basic grid bi of the plan.
func (a *erqiAssembly) basicName(bi int) string {
	return a.commShort[a.p.basics[bi].comm] + "第" + strconv.Itoa(a.basicSeq[bi]) + "网格"
}

// microName is the name of micro grid m of the plan.
func (a *erqiAssembly) microName(m int) string {
	return a.basicName(a.p.micros[m].basic) + "第" + strconv.Itoa(a.microSeq[m]) + "微网格"
}

// basicCode is the code of basic grid bi of the plan: its community's and its sequence number.
func (a *erqiAssembly) basicCode(bi int) string {
	return a.p.comms[a.p.basics[bi].comm].div.Code + fmt.Sprintf("%03d", a.basicSeq[bi])
}

// comprehensiveGrids adds the comprehensive layer level by level, each level in code order, with
// the four bounds of each grid among its siblings (the grids of the same parent).
func (a *erqiAssembly) comprehensiveGrids() {
	b, p, pr, add := a.b, a.p, a.pr, a.add
	basicHH, basicPop, commHH, commPop, subHH, subPop := a.basicHH, a.basicPop, a.commHH, a.commPop, a.subHH, a.subPop
	basicName, microName, basicCode, microSeq := a.basicName, a.microName, a.basicCode, a.microSeq

	// Four bounds at each level: siblings share a parent.
	subs := p.divs.Subdistricts
	subFB := boundsOf(b.subGeom, pr, func(i, j int) bool { return true }, func(j int) string { return subs[j].Name })
	commFB := boundsOf(b.commGeom, pr, func(i, j int) bool { return p.comms[i].sub == p.comms[j].sub }, func(j int) string { return p.comms[j].div.Name })
	basicFB := boundsOf(b.basicGeom, pr, func(i, j int) bool { return p.basics[i].comm == p.basics[j].comm }, basicName)
	microFB := boundsOf(b.microGeom, pr, func(i, j int) bool { return p.micros[i].basic == p.micros[j].basic }, microName)

	distID := add(gridline.Grid{
		Code: p.divs.District.Code, Name: p.divs.District.Name, Level: gridline.LevelDistrict, Layer: gridline.LayerComprehensive,
		Households: a.distHH, Population: a.distPop, Bounds: erqiFourBounds, Geometry: b.outline,
	})
	subID := make([]int64, len(subs))
	for i, s := range subs {
		subID[i] = add(gridline.Grid{
			Code: s.Code, Name: s.Name, Level: gridline.LevelSubdistrict, Layer: gridline.LayerComprehensive, ParentID: distID,
			Households: subHH[i], Population: subPop[i], Bounds: subFB[i], Geometry: b.subGeom[i],
		})
	}
	commID := make([]int64, len(p.comms))
	for ci, cp := range p.comms {
		commID[ci] = add(gridline.Grid{
			Code: cp.div.Code, Name: cp.div.Name, Level: gridline.LevelCommunity, Layer: gridline.LayerComprehensive, ParentID: subID[cp.sub],
			Households: commHH[ci], Population: commPop[ci], Bounds: commFB[ci], Geometry: b.commGeom[ci],
		})
	}
	basicsByCode := make([]int, 0, len(p.basics))
	for bi := range p.basics {
		if b.basicGeom[bi] != nil {
			basicsByCode = append(basicsByCode, bi)
		}
	}
	sort.Slice(basicsByCode, func(i, j int) bool { return basicCode(basicsByCode[i]) < basicCode(basicsByCode[j]) })
	basicID := make([]int64, len(p.basics))
	for _, bi := range basicsByCode {
		basicID[bi] = add(gridline.Grid{
			Code: basicCode(bi), Name: basicName(bi), Level: gridline.LevelGrid, Layer: gridline.LayerComprehensive, ParentID: commID[p.basics[bi].comm],
			Households: basicHH[bi], Population: basicPop[bi], Bounds: basicFB[bi], Geometry: b.basicGeom[bi],
		})
	}
	for _, bi := range basicsByCode {
		ms := append([]int(nil), p.basics[bi].micros...)
		sort.Slice(ms, func(i, j int) bool { return microSeq[ms[i]] < microSeq[ms[j]] })
		for _, m := range ms {
			add(gridline.Grid{
				Code: basicCode(bi) + fmt.Sprintf("%03d", microSeq[m]), Name: microName(m), Level: gridline.LevelMicro, Layer: gridline.LayerComprehensive,
				ParentID: basicID[bi], Households: p.micros[m].households, Population: p.micros[m].population, Bounds: microFB[m], Geometry: b.microGeom[m],
			})
		}
	}
	a.distID, a.commID = distID, commID
}

// specialGrids adds the special grids: community code + 901, 902 ... in the same row order.
func (a *erqiAssembly) specialGrids() {
	b, p, pr := a.b, a.p, a.pr
	byComm := map[int][]int{}
	for i, s := range b.special {
		byComm[s.comm] = append(byComm[s.comm], i)
	}
	specialGeoms := make([]orb.MultiPolygon, len(b.special))
	for i, s := range b.special {
		specialGeoms[i] = s.geom
	}
	for _, ci := range sortedKeys(byComm) {
		for n, i := range orderWithin(byComm[ci], specialGeoms, b.commGeom[ci], pr) {
			s := b.special[i]
			a.add(gridline.Grid{
				Code: p.comms[ci].div.Code + strconv.Itoa(901+n), Name: s.name, Level: gridline.LevelGrid, Layer: gridline.LayerSpecial, Kind: s.kind,
				ParentID: a.commID[ci], Geometry: s.geom,
			})
		}
	}
}

// policeGrids adds the police grids: 410103JW001 ... in row order over the district, each named
// after its subdistrict.
func (a *erqiAssembly) policeGrids() {
	b, p, pr := a.b, a.p, a.pr
	subs := p.divs.Subdistricts
	all := make([]int, len(b.policeGeom))
	for i := range all {
		all[i] = i
	}
	order := orderWithin(all, b.policeGeom, b.outline, pr)
	seqInSub := map[int]int{}
	policeName := make([]string, len(b.policeGeom))
	for _, k := range order {
		s := b.policeSub[k]
		seqInSub[s]++
		policeName[k] = subdistrictShortName(subs[s].Name) + "第" + strconv.Itoa(seqInSub[s]) + "警务网格"
	}
	policeFB := boundsOf(b.policeGeom, pr, func(i, j int) bool { return true }, func(j int) string { return policeName[j] })
	for n, k := range order {
		a.add(gridline.Grid{
			Code: p.divs.District.Code + "JW" + fmt.Sprintf("%03d", n+1), Name: policeName[k], Level: gridline.LevelGrid, Layer: gridline.LayerPolice,
			ParentID: a.distID, Households: b.policeHH[k], Population: b.policePop[k], Bounds: policeFB[k], Geometry: b.policeGeom[k],
		})
	}
}

// erqiFourBounds are the districts around 二七区, from the DataV outlines of all Zhengzhou districts
// (see data/PROVENANCE.md): in each direction, the neighbours with at least half the longest border
// facing that way.
var erqiFourBounds = gridline.FourBounds{
	East:  "东至管城回族区",
	South: "南至新密市、新郑市",
	West:  "西至中原区、新密市、荥阳市",
	North: "北至中原区",
}

// orderWithin returns members (indices into geoms) in code order within their parent: see rowOrder.
// Members without geometry are left out.
func orderWithin(members []int, geoms []orb.MultiPolygon, parent orb.MultiPolygon, pr proj) []int {
	var ms []int
	var pts []orb.Point
	for _, m := range members {
		if geoms[m] == nil {
			continue
		}
		c, _ := planar.CentroidArea(geoms[m])
		ms = append(ms, m)
		pts = append(pts, c)
	}
	band := rowBand(pr.areaM2(parent), len(ms))
	out := make([]int, len(ms))
	for n, i := range rowOrder(pts, parent.Bound().Max[1], band) {
		out[n] = ms[i]
	}
	return out
}

// boundsOf computes the four bounds of every grid of one level (nil geometries are skipped).
func boundsOf(geoms []orb.MultiPolygon, pr proj, sibling func(i, j int) bool, name func(j int) string) []gridline.FourBounds {
	brd := borders(geoms, pr)
	out := make([]gridline.FourBounds, len(geoms))
	for i := range geoms {
		if geoms[i] == nil {
			continue
		}
		t := fourBounds(i, neighbours(brd[i]), func(j int) bool { return sibling(i, j) }, name)
		out[i] = gridline.FourBounds{East: t[0], South: t[1], West: t[2], North: t[3]}
	}
	return out
}

// communityShortName turns a committee's statistical name into the name its grids carry:
// 淮河社区居民委员会 -> 淮河社区, 尖岗村委会 -> 尖岗村, 郑州火车站地区拟居委会 -> 郑州火车站地区.
func communityShortName(name string, rural bool) string {
	for _, suf := range []string{"社区居民管理委员会", "社区居民委员会", "社区管理委员会", "社区委员会", "拟居委会", "居委会", "村民委员会", "村委会"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			switch {
			case strings.HasPrefix(suf, "社区"):
				return base + "社区"
			case rural:
				return base + "村"
			}
			return base
		}
	}
	return name
}

// subdistrictShortName drops 街道 or 镇: 淮河路街道 -> 淮河路, 马寨镇 -> 马寨.
func subdistrictShortName(name string) string {
	for _, suf := range []string{"街道", "镇", "乡"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			return base
		}
	}
	return name
}

// seedIndex finds the nearest seed to a point (plain lon/lat distance, the metric of the Voronoi
// diagram) with a bucket grid.
type seedIndex struct {
	pts    []orb.Point
	min    orb.Point
	cw, ch float64
	nx, ny int
	cells  [][]int32
}

func newSeedIndex(pts []orb.Point) *seedIndex {
	b := orb.MultiPoint(pts).Bound()
	n := max(1, int(math.Sqrt(float64(len(pts)))))
	s := &seedIndex{pts: pts, min: b.Min, nx: n, ny: n}
	s.cw = math.Max((b.Max[0]-b.Min[0])/float64(n), 1e-12)
	s.ch = math.Max((b.Max[1]-b.Min[1])/float64(n), 1e-12)
	s.cells = make([][]int32, n*n)
	for i, p := range pts {
		x, y := s.cell(p)
		s.cells[y*n+x] = append(s.cells[y*n+x], int32(i))
	}
	return s
}

func (s *seedIndex) cell(p orb.Point) (int, int) {
	x := clampInt(int((p[0]-s.min[0])/s.cw), 0, s.nx-1)
	y := clampInt(int((p[1]-s.min[1])/s.ch), 0, s.ny-1)
	return x, y
}

// nearest returns the index of the seed nearest q (the lowest index on a tie).
func (s *seedIndex) nearest(q orb.Point) int {
	cx, cy := s.cell(q)
	best, bestD := -1, math.Inf(1)
	for r := 0; ; r++ {
		for y := cy - r; y <= cy+r; y++ {
			for x := cx - r; x <= cx+r; x++ {
				if x < 0 || y < 0 || x >= s.nx || y >= s.ny || (max(abs(x-cx), abs(y-cy)) != r) {
					continue
				}
				for _, i := range s.cells[y*s.nx+x] {
					d := planar.DistanceSquared(q, s.pts[i])
					if d < bestD || (d == bestD && int(i) < best) {
						best, bestD = int(i), d
					}
				}
			}
		}
		// Every seed not yet seen is at least r cells away.
		reach := float64(r) * math.Min(s.cw, s.ch)
		if best >= 0 && reach*reach > bestD {
			return best
		}
		if r > s.nx+s.ny {
			return best
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
