package geo

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/paulmach/orb"
)

// Synthetic grid layers for tests and benchmarks. A jittered lattice of vertices is cut into nested
// blocks, so neighbouring polygons share edges exactly and each level tiles the region, as real
// grid hierarchies do. Thematic layers (police) use their own lattice and so overlap the others.

// lattice is an (nx+1) x (ny+1) array of vertices, v[i][j] for column i and row j.
type lattice [][]orb.Point

// newLattice spaces vertices dx by dy from (x0, y0) and moves interior ones by up to jit of the
// spacing. Border vertices stay on the straight outline.
func newLattice(rng *rand.Rand, nx, ny int, x0, y0, dx, dy, jit float64) lattice {
	v := make(lattice, nx+1)
	for i := range v {
		v[i] = make([]orb.Point, ny+1)
		for j := range v[i] {
			p := orb.Point{x0 + float64(i)*dx, y0 + float64(j)*dy}
			if i > 0 && i < nx && j > 0 && j < ny {
				p[0] += (rng.Float64()*2 - 1) * jit * dx
				p[1] += (rng.Float64()*2 - 1) * jit * dy
			}
			v[i][j] = p
		}
	}
	return v
}

// block is the counter-clockwise ring around lattice cells [i0, i1) x [j0, j1), through every
// lattice vertex on its outline.
func (v lattice) block(i0, j0, i1, j1 int) orb.Ring {
	var r orb.Ring
	for i := i0; i < i1; i++ {
		r = append(r, v[i][j0])
	}
	for j := j0; j < j1; j++ {
		r = append(r, v[i1][j])
	}
	for i := i1; i > i0; i-- {
		r = append(r, v[i][j1])
	}
	for j := j1; j > j0; j-- {
		r = append(r, v[i0][j])
	}
	return append(r, v[i0][j0])
}

// breaks cuts 0..n every step, with a last shorter piece if step does not divide n.
func breaks(n, step int) []int {
	var b []int
	for i := 0; i < n; i += step {
		b = append(b, i)
	}
	return append(b, n)
}

// tile cuts the lattice into blocks at the given column and row breaks.
func (v lattice) tile(xb, yb []int) []orb.MultiPolygon {
	var out []orb.MultiPolygon
	for a := 0; a+1 < len(xb); a++ {
		for b := 0; b+1 < len(yb); b++ {
			out = append(out, orb.MultiPolygon{{v.block(xb[a], yb[b], xb[a+1], yb[b+1])}})
		}
	}
	return out
}

// synthDistrict imitates the demo district around Zhengzhou: one district, 16 subdistricts, about
// 200 communities, 1,700 basic grids and 10,000 micro grids of about 110 m, nested exactly; 42
// police grids on their own lattice; and 300 small octagonal special grids. About 12,260 polygons.
func synthDistrict(seed uint64) (polys []orb.MultiPolygon, region orb.Bound) {
	rng := rand.New(rand.NewPCG(seed, 1))
	const n = 100
	x0, y0, dx, dy := 113.60, 34.70, 0.0012, 0.001
	v := newLattice(rng, n, n, x0, y0, dx, dy, 0.3)
	polys = append(polys, v.tile(breaks(n, n), breaks(n, n))...)   // district
	polys = append(polys, v.tile(breaks(n, 27), breaks(n, 30))...) // subdistricts
	polys = append(polys, v.tile(breaks(n, 9), breaks(n, 6))...)   // communities
	polys = append(polys, v.tile(breaks(n, 3), breaks(n, 2))...)   // basic grids
	polys = append(polys, v.tile(breaks(n, 1), breaks(n, 1))...)   // micro grids
	pv := newLattice(rng, 7, 6, x0, y0, n*dx/7, n*dy/6, 0.25)
	polys = append(polys, pv.tile(breaks(7, 1), breaks(6, 1))...) // police
	for range 300 {
		c := orb.Point{x0 + rng.Float64()*n*dx, y0 + rng.Float64()*n*dy}
		rad := (0.5 + rng.Float64()*1.5) * dy
		var ring orb.Ring
		for k := range 8 {
			a := float64(k) * math.Pi / 4
			ring = append(ring, orb.Point{c[0] + rad*math.Cos(a)*1.2, c[1] + rad*math.Sin(a)})
		}
		polys = append(polys, orb.MultiPolygon{{append(ring, ring[0])}})
	}
	return polys, orb.Bound{Min: orb.Point{x0, y0}, Max: orb.Point{x0 + n*dx, y0 + n*dy}}
}

// synthRegion is the large benchmark region: 340 x 340 = 115,600 basic grids of about 330 m,
// 1,156 communities, 81 subdistricts, 4 districts, and 3,600 police grids on their own lattice.
// About 120,400 polygons over one degree square.
func synthRegion(seed uint64) (polys []orb.MultiPolygon, region orb.Bound) {
	rng := rand.New(rand.NewPCG(seed, 2))
	const n = 340
	x0, y0, dx, dy := 113.0, 34.2, 0.0036, 0.003
	v := newLattice(rng, n, n, x0, y0, dx, dy, 0.3)
	polys = append(polys, v.tile(breaks(n, 170), breaks(n, 170))...)
	polys = append(polys, v.tile(breaks(n, 40), breaks(n, 40))...)
	polys = append(polys, v.tile(breaks(n, 10), breaks(n, 10))...)
	polys = append(polys, v.tile(breaks(n, 1), breaks(n, 1))...)
	pv := newLattice(rng, 60, 60, x0, y0, n*dx/60, n*dy/60, 0.25)
	polys = append(polys, pv.tile(breaks(60, 1), breaks(60, 1))...)
	return polys, orb.Bound{Min: orb.Point{x0, y0}, Max: orb.Point{x0 + n*dx, y0 + n*dy}}
}

func randomPoints(rng *rand.Rand, b orb.Bound, n int) []orb.Point {
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{
			b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]),
			b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1]),
		}
	}
	return pts
}

var (
	benchOnce     sync.Map // name -> *benchData
	benchBuilders = map[string]func(uint64) ([]orb.MultiPolygon, orb.Bound){
		"district": synthDistrict,
		"region":   synthRegion,
	}
)

type benchData struct {
	once   sync.Once
	polys  []orb.MultiPolygon
	region orb.Bound
	ix     *PolygonIndex
}

func benchIndex(b *testing.B, name string) *benchData {
	v, _ := benchOnce.LoadOrStore(name, &benchData{})
	d := v.(*benchData)
	d.once.Do(func() {
		d.polys, d.region = benchBuilders[name](1)
		d.ix = NewIndex(d.polys)
	})
	return d
}

func benchCovering(b *testing.B, name string) {
	d := benchIndex(b, name)
	pts := randomPoints(rand.New(rand.NewPCG(7, 7)), d.region, 1<<16)
	dst := make([]int32, 0, 64)
	found := 0
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for i := 0; b.Loop(); i++ {
		dst = d.ix.Covering(pts[i&(len(pts)-1)], dst[:0])
		found += len(dst)
	}
	if cpu1 := threadCPU(); cpu0 >= 0 && cpu1 >= 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/point")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(found)/float64(b.N), "polys/point")
	b.ReportMetric(float64(d.ix.SizeBytes())/(1<<20), "index-MiB")
}

// BenchmarkCoveringDistrict: about 12,260 nested polygons, ~6.4 covering each point.
func BenchmarkCoveringDistrict(b *testing.B) { benchCovering(b, "district") }

// BenchmarkCoveringRegion: about 120,400 polygons (115,600 basic grids), 5 covering each point.
func BenchmarkCoveringRegion(b *testing.B) { benchCovering(b, "region") }

func benchBuild(b *testing.B, name string) {
	polys, _ := benchBuilders[name](1)
	var ix *PolygonIndex
	for b.Loop() {
		ix = NewIndex(polys)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ix.SizeBytes())/(1<<20), "index-MiB")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(len(polys)), "polygons")
	runtime.KeepAlive(ix)
}

func BenchmarkNewIndexDistrict(b *testing.B) { benchBuild(b, "district") }
func BenchmarkNewIndexRegion(b *testing.B)   { benchBuild(b, "region") }

// BenchmarkNearestOutsideDistrict: points up to about 200 m outside the district, each searching
// 100 m for the nearest grid.
func BenchmarkNearestOutsideDistrict(b *testing.B) {
	d := benchIndex(b, "district")
	rng := rand.New(rand.NewPCG(9, 9))
	var pts []orb.Point
	for len(pts) < 1<<12 {
		if p := randomPoints(rng, d.region.Pad(0.002), 1)[0]; !d.region.Contains(p) {
			pts = append(pts, p)
		}
	}
	found := 0
	for i := 0; b.Loop(); i++ {
		if _, _, ok := d.ix.Nearest(pts[i&(len(pts)-1)], 100, nil); ok {
			found++
		}
	}
	b.ReportMetric(float64(found)/float64(b.N), "found/point")
}
