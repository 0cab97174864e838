package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

// Synthetic regions are lattices. Basic grids are the cells of a lattice of C columns and R rows,
// filled row by row from the north-west (so the last row may be short); communities are blocks of
// 3 x 3 basic grids; subdistricts are blocks of a x a communities, with a chosen so that there are
// at most 31 x 31 subdistricts. With micro grids, each basic grid is cut into 2 x 4 finer cells, some
// side by side pairs merged, giving 6 to 8 micro grids.
//
// Every polygon is traced along the finest lattice and carries every lattice vertex on its border,
// and vertex (i, j) is computed by one function of (i, j), jittered so borders are not straight
// lines. So a border shared by two grids has the same vertices in both, at every level, and every
// parent is exactly the union of its children.

// Limits of the codes: three digits for each of subdistrict, community and grid sequence.
const (
	syntheticMaxSide  = 31 // subdistricts per side: 31 x 31 = 961 <= 999
	syntheticBlock    = 3  // basic grids per community side
	syntheticMaxN     = syntheticMaxSide * syntheticMaxSide * 999 * syntheticBlock * syntheticBlock
	syntheticDistrict = "990101" // 99 is no province: the code cannot be mistaken for a real place
)

// Where the synthetic region lies and how big a basic grid is: about 400 m x 400 m, the north-west
// corner at 110°E 36°N (chosen to be far from any real demo data).
const (
	syntheticLon0  = 110.0
	syntheticLat0  = 36.0
	syntheticCellM = 400.0
	// Vertices move by up to this share of a fine cell's shorter side, each way: under 0.25 keeps
	// every cell convex and tilts no side by more than 34 degrees, so each side still faces the
	// direction it faces in the lattice.
	syntheticJitter    = 0.2
	syntheticMicroRows = 2
	syntheticMicroCols = 4
)

// Synthetic builds a square-ish region of n basic grids (exactly n) with the hierarchy district >
// subdistricts > communities > basic grids, in pure Go. Grids carry codes, names, synthetic
// households and four bounds, and are staffed like Erqi's. seed decides the jitter of the lattice,
// the households and the staff (opts.Seed is not used: seed is). Micro grids: see SyntheticWithMicro.
func Synthetic(n int, seed int64, opts Options) (*District, error) {
	return synthetic(n, seed, opts, false)
}

// SyntheticWithMicro is Synthetic with 6 to 8 micro grids in every basic grid (about 7 n grids more).
func SyntheticWithMicro(n int, seed int64, opts Options) (*District, error) {
	return synthetic(n, seed, opts, true)
}

// synLattice is the finest lattice: fr x fc fine cells per basic grid.
type synLattice struct {
	seed       uint64
	lon0, lat0 float64
	dx, dy     float64 // a fine cell, in degrees
	jx, jy     float64 // the largest jitter, in degrees, the same distance in metres both ways
}

// vertex is lattice vertex (i, j): row i counted southward from the north edge, column j eastward.
// It is a pure function of (i, j), so every polygon that has the vertex has it bit for bit.
func (l synLattice) vertex(i, j int) orb.Point {
	h := splitmix64(l.seed ^ (uint64(i) * 0x9e3779b97f4a7c15) ^ (uint64(j) * 0xc2b2ae3d27d4eb4f))
	jx := (float64(h&0xffff)/0xffff - 0.5) * 2 * l.jx
	jy := (float64((h>>16)&0xffff)/0xffff - 0.5) * 2 * l.jy
	return orb.Point{l.lon0 + float64(j)*l.dx + jx, l.lat0 - float64(i)*l.dy + jy}
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rect is the polygon of fine cells rows [i0, i1) x columns [j0, j1), counter-clockwise, with
// every lattice vertex on its border.
func (l synLattice) rect(i0, i1, j0, j1 int) orb.MultiPolygon {
	r := make(orb.Ring, 0, 2*(i1-i0+j1-j0)+1)
	for j := j0; j < j1; j++ { // south edge, west to east
		r = append(r, l.vertex(i1, j))
	}
	for i := i1; i > i0; i-- { // east edge, south to north
		r = append(r, l.vertex(i, j1))
	}
	for j := j1; j > j0; j-- { // north edge, east to west
		r = append(r, l.vertex(i0, j))
	}
	for i := i0; i < i1; i++ { // west edge, north to south
		r = append(r, l.vertex(i, j0))
	}
	r = append(r, r[0])
	return orb.MultiPolygon{{r}}
}

// staircase is the polygon of fine cells in rows [i0, i1) x columns [j0, j1) whose rows from iStep
// down stop short, at column jLast (j0 < jLast < j1, i0 < iStep < i1): the last, partial row of
// basic grids, filled from the west.
func (l synLattice) staircase(i0, i1, iStep, j0, j1, jLast int) orb.MultiPolygon {
	var r orb.Ring
	for j := j0; j < jLast; j++ { // south edge of the short rows
		r = append(r, l.vertex(i1, j))
	}
	for i := i1; i > iStep; i-- { // up their east side
		r = append(r, l.vertex(i, jLast))
	}
	for j := jLast; j < j1; j++ { // south edge of the full rows, east of the short ones
		r = append(r, l.vertex(iStep, j))
	}
	for i := iStep; i > i0; i-- {
		r = append(r, l.vertex(i, j1))
	}
	for j := j1; j > j0; j-- {
		r = append(r, l.vertex(i0, j))
	}
	for i := i0; i < i1; i++ {
		r = append(r, l.vertex(i, j0))
	}
	r = append(r, r[0])
	return orb.MultiPolygon{{r}}
}

// synthetic builds the region of Synthetic and SyntheticWithMicro: the lattice, then the grids
// level by level, the sums of households and population, the four bounds and the staff.
func synthetic(n int, seed int64, opts Options, micro bool) (*District, error) {
	b, err := newSynBuild(n, seed, micro)
	if err != nil {
		return nil, err
	}
	b.validFrom = opts.validFrom()
	b.rng = newRand(seed, 20)
	nGrids := 2 + n + n/syntheticBlock/syntheticBlock*2 + 64
	if micro {
		nGrids += syntheticMicroRows * syntheticMicroCols * n
	}
	b.grids = make([]gridline.Grid, 0, nGrids)
	b.dist = b.add(gridline.Grid{Code: syntheticDistrict, Name: "合成示例区", Level: gridline.LevelDistrict, Geometry: b.block(0, b.rows, 0, b.cols)})
	// Levels are built breadth first, so parents come before children and each level's grids are
	// in code order.
	b.subdistricts()
	b.communities()
	b.basicGrids()
	if micro {
		b.microGrids()
	}
	b.sumUp()
	b.fourBounds()
	people, asg := staff(b.grids, seed, b.validFrom, defaultStaff)
	return &District{Grids: b.grids, People: people, Assignments: asg}, nil
}

// synBuild is a synthetic region while it is built.
type synBuild struct {
	n          int
	rows, cols int // the lattice of basic grids
	lastCols   int // basic grids in the last row, 1..cols
	a          int // communities per subdistrict side
	fr, fc     int // fine cells per basic grid, down and across
	fh, fw     int // the fine lattice's rows and columns
	l          synLattice

	validFrom time.Time
	rng       *rand.Rand
	grids     []gridline.Grid
	dist      int // the district's position in grids
	// The grids of each level below the district, in the order built: the basic rows and columns
	// each covers, and (Idx) their positions in grids.
	subs, comms, basics                 []synNode
	subIdx, commIdx, basicIdx, microIdx []int
	// owner[L] says which grid of level L (its position in that level's list) each fine cell
	// belongs to, -1 where the lattice is not filled: the four bounds are read off it.
	owner [4][]int32
}

// synNode is a grid of a synthetic region and the basic rows [r0, r1) and columns [c0, c1) it
// covers.
type synNode struct {
	grid           int // index into grids
	r0, r1, c0, c1 int // basic rows and columns
}

// newSynBuild sizes the lattice for n basic grids and jitters it with seed.
func newSynBuild(n int, seed int64, micro bool) (*synBuild, error) {
	if n < 1 || n > syntheticMaxN {
		return nil, fmt.Errorf("synthetic region of %d basic grids: n must be 1 to %d (three-digit code sequences)", n, syntheticMaxN)
	}
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	lastCols := n - (rows-1)*cols // basic grids in the last row, 1..cols

	commCols := (cols + syntheticBlock - 1) / syntheticBlock
	commRows := (rows + syntheticBlock - 1) / syntheticBlock
	a := max(3, (max(commCols, commRows)+syntheticMaxSide-1)/syntheticMaxSide) // communities per subdistrict side
	if a*a > 999 {
		return nil, fmt.Errorf("synthetic region of %d basic grids needs %d communities per subdistrict: too many for three-digit codes", n, a*a)
	}

	fr, fc := 1, 1
	if micro {
		fr, fc = syntheticMicroRows, syntheticMicroCols
	}
	lat := syntheticLat0 - float64(rows)*syntheticCellM/metresPerDegLat/2
	mPerDegLon := metresPerDegLon * math.Cos(lat*math.Pi/180)
	jitterM := syntheticJitter * syntheticCellM / float64(max(fr, fc))
	l := synLattice{
		seed: uint64(seed),
		lon0: syntheticLon0, lat0: syntheticLat0,
		dx: syntheticCellM / float64(fc) / mPerDegLon,
		dy: syntheticCellM / float64(fr) / metresPerDegLat,
		jx: jitterM / mPerDegLon,
		jy: jitterM / metresPerDegLat,
	}
	return &synBuild{n: n, rows: rows, cols: cols, lastCols: lastCols, a: a, fr: fr, fc: fc, fh: rows * fr, fw: cols * fc, l: l}, nil
}

// block is the polygon of basic rows [r0, r1) x columns [c0, c1), clipped to the filled cells.
func (b *synBuild) block(r0, r1, c0, c1 int) orb.MultiPolygon {
	rows, cols, lastCols, fr, fc, l := b.rows, b.cols, b.lastCols, b.fr, b.fc, b.l
	r1, c1 = min(r1, rows), min(c1, cols)
	switch {
	case r1 < rows || lastCols >= c1: // no short row in the block
	case r0 == rows-1: // only the short row
		c1 = lastCols
	case lastCols <= c0: // the short row does not reach the block
		r1--
	default:
		return l.staircase(r0*fr, r1*fr, (r1-1)*fr, c0*fc, c1*fc, lastCols*fc)
	}
	return l.rect(r0*fr, r1*fr, c0*fc, c1*fc)
}

// filled reports whether the lattice has a basic grid at row r, column c.
func (b *synBuild) filled(r, c int) bool {
	return r < b.rows-1 || (r == b.rows-1 && c < b.lastCols)
}

// ownerOf is owner[L], made (every cell -1) when first needed.
func (b *synBuild) ownerOf(L int) []int32 {
	if b.owner[L] == nil {
		b.owner[L] = make([]int32, b.fh*b.fw)
		for i := range b.owner[L] {
			b.owner[L][i] = -1
		}
	}
	return b.owner[L]
}

// own records grid k of level L as the owner of the fine cells of the filled basic grids in rows
// [r0, r1) and columns [c0, c1).
func (b *synBuild) own(L, r0, r1, c0, c1 int, k int) {
	owner, fr, fc, fw := b.ownerOf(L), b.fr, b.fc, b.fw
	for r := r0; r < min(r1, b.rows); r++ {
		for c := c0; c < min(c1, b.cols); c++ {
			if !b.filled(r, c) {
				continue
			}
			for i := r * fr; i < (r+1)*fr; i++ {
				for j := c * fc; j < (c+1)*fc; j++ {
					owner[i*fw+j] = int32(k)
				}
			}
		}
	}
}

// add appends g, current from validFrom in the comprehensive layer, and returns its position.
func (b *synBuild) add(g gridline.Grid) int {
	g.ID = int64(len(b.grids) + 1)
	g.VersionID, g.Version, g.ValidFrom, g.Layer = g.ID, 1, b.validFrom, gridline.LayerComprehensive
	b.grids = append(b.grids, g)
	return len(b.grids) - 1
}

// subdistricts adds the subdistricts: blocks of a x a communities.
func (b *synBuild) subdistricts() {
	dist := b.grids[b.dist]
	side := syntheticBlock * b.a
	seq := 0
	for br := 0; br*side < b.rows; br++ {
		for bc := 0; bc*side < b.cols; bc++ {
			r0, c0 := br*side, bc*side
			if !b.filled(r0, c0) {
				continue
			}
			seq++
			g := b.add(gridline.Grid{Code: dist.Code + fmt.Sprintf("%03d", seq), Name: "第" + strconv.Itoa(seq) + "街道", Level: gridline.LevelSubdistrict,
				ParentID: dist.ID, Geometry: b.block(r0, r0+side, c0, c0+side)})
			b.subs = append(b.subs, synNode{g, r0, min(r0+side, b.rows), c0, min(c0+side, b.cols)})
			b.own(0, r0, r0+side, c0, c0+side, len(b.subIdx))
			b.subIdx = append(b.subIdx, g)
		}
	}
}

// communities adds the communities of each subdistrict: blocks of 3 x 3 basic grids.
func (b *synBuild) communities() {
	for _, s := range b.subs {
		seq := 0
		for r0 := s.r0; r0 < s.r1; r0 += syntheticBlock {
			for c0 := s.c0; c0 < s.c1; c0 += syntheticBlock {
				if !b.filled(r0, c0) {
					continue
				}
				seq++
				parent := &b.grids[s.grid] // read before add appends
				g := b.add(gridline.Grid{Code: parent.Code + fmt.Sprintf("%03d", seq), Name: parent.Name + "第" + strconv.Itoa(seq) + "社区",
					Level: gridline.LevelCommunity, ParentID: parent.ID, Geometry: b.block(r0, r0+syntheticBlock, c0, c0+syntheticBlock)})
				b.comms = append(b.comms, synNode{g, r0, min(r0+syntheticBlock, s.r1), c0, min(c0+syntheticBlock, s.c1)})
				b.own(1, r0, min(r0+syntheticBlock, s.r1), c0, min(c0+syntheticBlock, s.c1), len(b.commIdx))
				b.commIdx = append(b.commIdx, g)
			}
		}
	}
}

// basicGrids adds the basic grids of each community, one per lattice cell, with their households
// and population.
func (b *synBuild) basicGrids() {
	rng := b.rng
	for _, c := range b.comms {
		seq := 0
		for r := c.r0; r < c.r1; r++ {
			for col := c.c0; col < c.c1; col++ {
				if !b.filled(r, col) {
					continue
				}
				seq++
				hh := 300 + rng.IntN(201)
				pop := int(math.Round(float64(hh) * (peoplePerHousehold + peopleSpread*rng.Float64())))
				pop = clampInt(pop, int(math.Ceil(float64(hh)*peoplePerHousehold)), int(math.Floor(float64(hh)*(peoplePerHousehold+peopleSpread))))
				parent := &b.grids[c.grid] // read before add appends
				g := b.add(gridline.Grid{Code: parent.Code + fmt.Sprintf("%03d", seq), Name: parent.Name + "第" + strconv.Itoa(seq) + "网格",
					Level: gridline.LevelGrid, ParentID: parent.ID, Households: hh, Population: pop,
					Geometry: b.block(r, r+1, col, col+1)})
				b.basics = append(b.basics, synNode{g, r, r + 1, col, col + 1})
				b.own(2, r, r+1, col, col+1, len(b.basicIdx))
				b.basicIdx = append(b.basicIdx, g)
			}
		}
	}
}

// microGrids cuts each basic grid into its 2 x 4 fine cells, some side by side pairs merged, and
// shares its households and population among them.
func (b *synBuild) microGrids() {
	rng, fr, fc, fw, l := b.rng, b.fr, b.fc, b.fw, b.l
	for _, bg := range b.basics {
		// Merge 0, 1 or 2 side by side pairs of the 2 x 4 cells: (row 0, cols 0-1), (row 1, cols 2-3).
		merges := rng.IntN(3)
		type cell struct{ i, j0, j1 int }
		var cells []cell
		for i := 0; i < fr; i++ {
			for j := 0; j < fc; {
				if (i == 0 && j == 0 && merges >= 1) || (i == 1 && j == 2 && merges >= 2) {
					cells = append(cells, cell{i, j, j + 2})
					j += 2
					continue
				}
				cells = append(cells, cell{i, j, j + 1})
				j++
			}
		}
		w := make([]float64, len(cells))
		for k, c := range cells {
			w[k] = float64(c.j1-c.j0) * (0.7 + 0.6*rng.Float64())
		}
		parent := b.grids[bg.grid]
		hh := splitInt(parent.Households, w)
		pop := splitInt(parent.Population, w)
		for k, c := range cells {
			i0, j0, j1 := bg.r0*fr+c.i, bg.c0*fc+c.j0, bg.c0*fc+c.j1
			g := b.add(gridline.Grid{Code: parent.Code + fmt.Sprintf("%03d", k+1), Name: parent.Name + "第" + strconv.Itoa(k+1) + "微网格",
				Level: gridline.LevelMicro, ParentID: parent.ID, Households: hh[k], Population: pop[k],
				Geometry: l.rect(i0, i0+1, j0, j1)})
			owner := b.ownerOf(3)
			for j := j0; j < j1; j++ {
				owner[i0*fw+j] = int32(len(b.microIdx))
			}
			b.microIdx = append(b.microIdx, g)
		}
	}
}

// sumUp makes parents sum their children, bottom up (IDs are 1-based indices + 1).
func (b *synBuild) sumUp() {
	grids := b.grids
	for i := len(grids) - 1; i > 0; i-- {
		if grids[i].Level == gridline.LevelGrid || grids[i].Level == gridline.LevelCommunity || grids[i].Level == gridline.LevelSubdistrict {
			p := &grids[grids[i].ParentID-1]
			p.Households += grids[i].Households
			p.Population += grids[i].Population
		}
	}
}

// fourBounds writes the four bounds, level by level, from the owner of every fine cell and of its
// neighbours.
func (b *synBuild) fourBounds() {
	grids, l := b.grids, b.l
	pr := projFor(grids[b.dist].Geometry)
	sideLen := func(i0, j0, i1, j1 int) float64 { return pr.fwd(l.vertex(i0, j0)).sub(pr.fwd(l.vertex(i1, j1))).norm() }
	for L, level := range [][]int{b.subIdx, b.commIdx, b.basicIdx, b.microIdx} {
		if len(level) == 0 {
			continue
		}
		nbs := latticeNeighbours(b.owner[L], b.fh, b.fw, len(level), sideLen)
		for k, g := range level {
			t := fourBounds(k, nbs[k],
				func(j int) bool { return grids[level[j]].ParentID == grids[g].ParentID },
				func(j int) string { return grids[level[j]].Name })
			grids[g].Bounds = gridline.FourBounds{East: t[0], South: t[1], West: t[2], North: t[3]}
		}
	}
	grids[b.dist].Bounds = gridline.FourBounds{East: fourBoundsText(0, districtLine), South: fourBoundsText(1, districtLine), West: fourBoundsText(2, districtLine), North: fourBoundsText(3, districtLine)}
}

// latticeNeighbours lists, for each of n grids that own the cells of a fh x fw lattice (owner -1
// where nothing is), its neighbours and the borders they share, ordered by neighbour. Each cell side
// faces one of east, south, west and north (the jitter tilts a side by less than 45 degrees);
// length(i0, j0, i1, j1) is the length of the side from vertex (i0, j0) to (i1, j1).
func latticeNeighbours(owner []int32, fh, fw, n int, length func(i0, j0, i1, j1 int) float64) [][]neighbour {
	out := make([][]neighbour, n)
	add := func(o, q int32, dir int, l float64) {
		nbs := out[o]
		k := 0
		for k < len(nbs) && nbs[k].j < int(q) {
			k++
		}
		if k == len(nbs) || nbs[k].j != int(q) {
			nbs = append(nbs, neighbour{})
			copy(nbs[k+1:], nbs[k:])
			nbs[k] = neighbour{j: int(q)}
			out[o] = nbs
		}
		nbs[k].length += l
		nbs[k].facing[dir] += l
		nbs[k].lean[dir] += l // never used: every lattice grid has borders facing all four ways
	}
	at := func(i, j int) int32 {
		if i < 0 || j < 0 || i >= fh || j >= fw {
			return outside
		}
		return owner[i*fw+j]
	}
	for i := 0; i < fh; i++ {
		for j := 0; j < fw; j++ {
			o := owner[i*fw+j]
			if o < 0 {
				continue
			}
			for dir, d := range [4][2]int{{0, 1}, {1, 0}, {0, -1}, {-1, 0}} { // E, S, W, N
				q := at(i+d[0], j+d[1])
				if q == o {
					continue
				}
				var l float64
				switch dir {
				case 0:
					l = length(i, j+1, i+1, j+1)
				case 1:
					l = length(i+1, j, i+1, j+1)
				case 2:
					l = length(i, j, i+1, j)
				case 3:
					l = length(i, j, i, j+1)
				}
				add(o, q, dir, l)
			}
		}
	}
	return out
}
