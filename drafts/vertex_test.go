package drafts

import (
	"testing"

	"github.com/paulmach/orb"
)

func box(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

// Two boxes sharing the edge x=1: a vertex inserted on it goes into both, and moving it moves it
// in both, leaving the other one's copy untouched.
func TestSharedVertexHelpers(t *testing.T) {
	a, b := box(0, 0, 1, 1), box(1, 0, 2, 1)
	p := orb.Point{1, 0.5}
	a2, ok1 := insertVertex(a, p, vertexEps)
	b2, ok2 := insertVertex(b, p, vertexEps)
	if !ok1 || !ok2 || !hasVertex(a2, p) || !hasVertex(b2, p) {
		t.Fatalf("insert: %v %v", a2, b2)
	}
	if hasVertex(a, p) {
		t.Fatal("insertVertex changed its input")
	}
	if _, ok := insertVertex(a, orb.Point{0.5, 0.5}, vertexEps); ok {
		t.Fatal("a point inside the polygon was inserted")
	}
	to := orb.Point{1.1, 0.5}
	a3, b3 := replaceVertex(a2, p, to), replaceVertex(b2, p, to)
	if !hasVertex(a3, to) || !hasVertex(b3, to) || hasVertex(a3, p) {
		t.Fatalf("move: %v %v", a3, b3)
	}
	r, ok := removeVertex(a3, to)
	if !ok || hasVertex(r, to) || len(r[0][0]) != 5 || r[0][0][0] != r[0][0][4] {
		t.Fatalf("remove: %v", r)
	}
	// Removing a corner of a triangle leaves no polygon.
	tri := orb.MultiPolygon{{{{0, 0}, {1, 0}, {0, 1}, {0, 0}}}}
	if _, ok := removeVertex(tri, orb.Point{0, 0}); ok {
		t.Fatal("removed a triangle's corner")
	}
}

func TestShareAndInteriorPoint(t *testing.T) {
	got := share(401, []float64{1, 1, 2}, 4)
	if got[0]+got[1]+got[2] != 401 || got[2] < 200 {
		t.Fatalf("share: %v", got)
	}
	// An L shape: its centroid lies outside, the interior point inside.
	l := orb.MultiPolygon{{{{0, 0}, {3, 0}, {3, 1}, {1, 1}, {1, 3}, {0, 3}, {0, 0}}}}
	if p := interiorPoint(l); !mpContains(l, p) {
		t.Fatalf("interior point %v outside", p)
	}
}
