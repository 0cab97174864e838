package resolve_test

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// TestIndexAgreesWithPostGIS loads the demo district and checks, for random points and for points
// exactly on shared vertices and on edges, that the set of grid versions the
// in-memory index says cover each point is exactly the set PostGIS ST_Covers returns.
func TestIndexAgreesWithPostGIS(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	d, err := demo.Erqi(ctx, db, demo.Options{Seed: 1})
	if err != nil {
		t.Fatalf("build demo: %v", err)
	}
	if err := db.Load(ctx, &store.Dataset{Grids: d.Grids, People: d.People, Assignments: d.Assignments}, store.DefaultTolerance); err != nil {
		t.Fatalf("load demo: %v", err)
	}
	snap, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ix := resolve.Build(snap.Grids, snap.Staff, time.Now())

	rng := rand.New(rand.NewSource(7))
	var b orb.Bound
	var vertices []orb.Point
	var edgePoints []orb.Point
	for i, g := range snap.Grids {
		if i == 0 {
			b = g.Geometry.Bound()
		}
		b = b.Union(g.Geometry.Bound())
		if g.Level != gridline.LevelMicro {
			continue
		}
		ring := g.Geometry[0][0]
		// A vertex of a micro grid is shared with its neighbours: the hardest case.
		vertices = append(vertices, ring[rng.Intn(len(ring)-1)])
		// A point on an edge: the midpoint is rarely representable exactly, so PostGIS and the
		// index must agree on which side the rounding puts it.
		k := rng.Intn(len(ring) - 1)
		p, q := ring[k], ring[k+1]
		edgePoints = append(edgePoints, orb.Point{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2})
	}
	var points []orb.Point
	for len(points) < 10000 {
		points = append(points, orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])})
	}
	sample := func(ps []orb.Point, n int) []orb.Point {
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		if len(ps) > n {
			ps = ps[:n]
		}
		return ps
	}
	points = append(points, sample(vertices, 2000)...)
	points = append(points, sample(edgePoints, 2000)...)

	xs, ys := make([]float64, len(points)), make([]float64, len(points))
	for i, p := range points {
		xs[i], ys[i] = p[0], p[1]
	}
	rows, err := storetest.Raw(t, db).Query(ctx, `SELECT t.n, coalesce(array_agg(g.version_id ORDER BY g.version_id) FILTER (WHERE g.version_id IS NOT NULL), '{}')
		FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(x, y, n)
		LEFT JOIN grids g ON ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326))
		GROUP BY t.n ORDER BY t.n`, xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]int64, len(points))
	for rows.Next() {
		var n int
		var ids []int64
		if err := rows.Scan(&n, &ids); err != nil {
			t.Fatal(err)
		}
		want[n-1] = ids
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var loc resolve.Location
	var scratch []int32
	covered, onVertex, mismatches := 0, 0, 0
	at := time.Now()
	for i, p := range points {
		scratch = ix.Locate(p, at, &loc, scratch)
		got := make([]int64, 0, len(scratch))
		for _, k := range scratch {
			got = append(got, ix.Grid(k).VersionID)
		}
		sort.Slice(got, func(a, b int) bool { return got[a] < got[b] })
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("point %d (%.12f, %.12f): index %v, PostGIS %v", i, p[0], p[1], got, want[i])
			}
		}
		if loc.Covered() {
			covered++
			// The chosen grid at every level must be one PostGIS says covers the point.
			for _, c := range loc.Chain {
				if c >= 0 && !contains(want[i], ix.Grid(c).VersionID) {
					t.Errorf("point %d: chosen %s is not covering per PostGIS", i, ix.Grid(c).Code)
				}
			}
		}
		if len(loc.Ties) > 0 {
			onVertex++
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d points disagree with PostGIS", mismatches, len(points))
	}
	// The test must exercise both covered points and shared boundaries, or it proves nothing.
	if covered < 5000 || onVertex < 1000 {
		t.Fatalf("weak sample: %d covered, %d on shared boundaries", covered, onVertex)
	}
	t.Logf("%d points agree with PostGIS (%d covered, %d on shared boundaries)", len(points), covered, onVertex)
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
