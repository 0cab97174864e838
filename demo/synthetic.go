package demo

import (
	"fmt"
	"math"
	"strconv"

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

func synthetic(n int, seed int64, opts Options, micro bool) (*District, error) {
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
	// block is the polygon of basic rows [r0, r1) x columns [c0, c1), clipped to the filled cells.
	block := func(r0, r1, c0, c1 int) orb.MultiPolygon {
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
	filled := func(r, c int) bool { return r < rows-1 || (r == rows-1 && c < lastCols) }

	// owner[L] says which grid of level L (its position in that level's list) each fine cell
	// belongs to, -1 where the lattice is not filled: the four bounds are read off it.
	fh, fw := rows*fr, cols*fc
	var owner [4][]int32
	own := func(L, r0, r1, c0, c1 int, k int) { // basic rows and columns
		if owner[L] == nil {
			owner[L] = make([]int32, fh*fw)
			for i := range owner[L] {
				owner[L][i] = -1
			}
		}
		for r := r0; r < min(r1, rows); r++ {
			for c := c0; c < min(c1, cols); c++ {
				if !filled(r, c) {
					continue
				}
				for i := r * fr; i < (r+1)*fr; i++ {
					for j := c * fc; j < (c+1)*fc; j++ {
						owner[L][i*fw+j] = int32(k)
					}
				}
			}
		}
	}

	validFrom := opts.validFrom()
	rng := newRand(seed, 20)
	nGrids := 2 + n + n/syntheticBlock/syntheticBlock*2 + 64
	if micro {
		nGrids += syntheticMicroRows * syntheticMicroCols * n
	}
	grids := make([]gridline.Grid, 0, nGrids)
	add := func(g gridline.Grid) int {
		g.ID = int64(len(grids) + 1)
		g.VersionID, g.Version, g.ValidFrom, g.Layer = g.ID, 1, validFrom, gridline.LayerComprehensive
		grids = append(grids, g)
		return len(grids) - 1
	}
	dist := add(gridline.Grid{Code: syntheticDistrict, Name: "合成示例区", Level: gridline.LevelDistrict, Geometry: block(0, rows, 0, cols)})

	// Levels are built breadth first, so parents come before children and each level's grids are
	// in code order.
	type node struct {
		grid           int // index into grids
		r0, r1, c0, c1 int // basic rows and columns
	}
	var subs, comms, basics []node
	var subIdx, commIdx, basicIdx, microIdx []int
	side := syntheticBlock * a
	seq := 0
	for br := 0; br*side < rows; br++ {
		for bc := 0; bc*side < cols; bc++ {
			r0, c0 := br*side, bc*side
			if !filled(r0, c0) {
				continue
			}
			seq++
			g := add(gridline.Grid{Code: grids[dist].Code + fmt.Sprintf("%03d", seq), Name: "第" + strconv.Itoa(seq) + "街道", Level: gridline.LevelSubdistrict,
				ParentID: grids[dist].ID, Geometry: block(r0, r0+side, c0, c0+side)})
			subs = append(subs, node{g, r0, min(r0+side, rows), c0, min(c0+side, cols)})
			own(0, r0, r0+side, c0, c0+side, len(subIdx))
			subIdx = append(subIdx, g)
		}
	}
	for _, s := range subs {
		seq := 0
		for r0 := s.r0; r0 < s.r1; r0 += syntheticBlock {
			for c0 := s.c0; c0 < s.c1; c0 += syntheticBlock {
				if !filled(r0, c0) {
					continue
				}
				seq++
				g := add(gridline.Grid{Code: grids[s.grid].Code + fmt.Sprintf("%03d", seq), Name: grids[s.grid].Name + "第" + strconv.Itoa(seq) + "社区",
					Level: gridline.LevelCommunity, ParentID: grids[s.grid].ID, Geometry: block(r0, r0+syntheticBlock, c0, c0+syntheticBlock)})
				comms = append(comms, node{g, r0, min(r0+syntheticBlock, s.r1), c0, min(c0+syntheticBlock, s.c1)})
				own(1, r0, min(r0+syntheticBlock, s.r1), c0, min(c0+syntheticBlock, s.c1), len(commIdx))
				commIdx = append(commIdx, g)
			}
		}
	}
	for _, c := range comms {
		seq := 0
		for r := c.r0; r < c.r1; r++ {
			for col := c.c0; col < c.c1; col++ {
				if !filled(r, col) {
					continue
				}
				seq++
				hh := 300 + rng.IntN(201)
				pop := int(math.Round(float64(hh) * (peoplePerHousehold + peopleSpread*rng.Float64())))
				pop = clampInt(pop, int(math.Ceil(float64(hh)*peoplePerHousehold)), int(math.Floor(float64(hh)*(peoplePerHousehold+peopleSpread))))
				g := add(gridline.Grid{Code: grids[c.grid].Code + fmt.Sprintf("%03d", seq), Name: grids[c.grid].Name + "第" + strconv.Itoa(seq) + "网格",
					Level: gridline.LevelGrid, ParentID: grids[c.grid].ID, Households: hh, Population: pop,
					Geometry: block(r, r+1, col, col+1)})
				basics = append(basics, node{g, r, r + 1, col, col + 1})
				own(2, r, r+1, col, col+1, len(basicIdx))
				basicIdx = append(basicIdx, g)
			}
		}
	}
	if micro {
		for _, b := range basics {
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
			parent := grids[b.grid]
			hh := splitInt(parent.Households, w)
			pop := splitInt(parent.Population, w)
			for k, c := range cells {
				i0, j0, j1 := b.r0*fr+c.i, b.c0*fc+c.j0, b.c0*fc+c.j1
				g := add(gridline.Grid{Code: parent.Code + fmt.Sprintf("%03d", k+1), Name: parent.Name + "第" + strconv.Itoa(k+1) + "微网格",
					Level: gridline.LevelMicro, ParentID: parent.ID, Households: hh[k], Population: pop[k],
					Geometry: l.rect(i0, i0+1, j0, j1)})
				if owner[3] == nil {
					owner[3] = make([]int32, fh*fw)
					for i := range owner[3] {
						owner[3][i] = -1
					}
				}
				for j := j0; j < j1; j++ {
					owner[3][i0*fw+j] = int32(len(microIdx))
				}
				microIdx = append(microIdx, g)
			}
		}
	}

	// Parents sum their children, bottom up (IDs are 1-based indices + 1).
	for i := len(grids) - 1; i > 0; i-- {
		if grids[i].Level == gridline.LevelGrid || grids[i].Level == gridline.LevelCommunity || grids[i].Level == gridline.LevelSubdistrict {
			p := &grids[grids[i].ParentID-1]
			p.Households += grids[i].Households
			p.Population += grids[i].Population
		}
	}

	// Four bounds, level by level, from the owner of every fine cell and of its neighbours.
	pr := projFor(grids[dist].Geometry)
	sideLen := func(i0, j0, i1, j1 int) float64 { return pr.fwd(l.vertex(i0, j0)).sub(pr.fwd(l.vertex(i1, j1))).norm() }
	for L, level := range [][]int{subIdx, commIdx, basicIdx, microIdx} {
		if len(level) == 0 {
			continue
		}
		nbs := latticeNeighbours(owner[L], fh, fw, len(level), sideLen)
		for k, g := range level {
			t := fourBounds(k, nbs[k],
				func(j int) bool { return grids[level[j]].ParentID == grids[g].ParentID },
				func(j int) string { return grids[level[j]].Name })
			grids[g].Bounds = gridline.FourBounds{East: t[0], South: t[1], West: t[2], North: t[3]}
		}
	}
	grids[dist].Bounds = gridline.FourBounds{East: fourBoundsText(0, districtLine), South: fourBoundsText(1, districtLine), West: fourBoundsText(2, districtLine), North: fourBoundsText(3, districtLine)}

	people, asg := staff(grids, seed, validFrom, defaultStaff)
	return &District{Grids: grids, People: people, Assignments: asg}, nil
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
