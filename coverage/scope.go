package coverage

import (
	"slices"
	"strings"
	"time"

	"gridline.dev/gridline"
)

// scope is the grid versions of one audit: those valid on the date in the subtree of the scope
// grid, with their parents and children.
type scope struct {
	ix      Index
	at      time.Time
	root    int32           // the scope grid's position, -1 for every district
	byID    map[int64]int32 // grid identity -> its version valid on at (the whole index)
	members []int32         // positions in scope, parents before children
	// children lists the children valid on at of each position in scope, by layer.
	children map[int32][]int32
	// firstFrom is the earliest valid_from of every grid identity (for days vacant).
	firstFrom map[int64]time.Time
}

func validOn(g *gridline.Grid, at time.Time) bool {
	return !g.ValidFrom.After(at) && (g.ValidTo == nil || g.ValidTo.After(at))
}

// newScope finds the versions valid on at and the subtree of the grid with code scopeCode.
func newScope(ix Index, scopeCode string, at time.Time) (*scope, error) {
	n := ix.Len()
	s := &scope{ix: ix, at: at, root: -1, byID: make(map[int64]int32, n), children: map[int32][]int32{}, firstFrom: make(map[int64]time.Time, n)}
	for i := 0; i < n; i++ {
		g := ix.Grid(int32(i))
		if f, ok := s.firstFrom[g.ID]; !ok || g.ValidFrom.Before(f) {
			s.firstFrom[g.ID] = g.ValidFrom
		}
		if !validOn(g, at) {
			continue
		}
		s.byID[g.ID] = int32(i)
		if scopeCode != "" && g.Code == scopeCode {
			s.root = int32(i)
		}
	}
	if scopeCode != "" && s.root < 0 {
		return nil, gridline.Errorf(gridline.ENotFound, "no grid has code %s on %s", scopeCode, gridline.Date(at)).With("field", "scope")
	}
	var roots []int32
	for _, i := range s.byID {
		g := ix.Grid(i)
		p, ok := s.byID[g.ParentID]
		if g.ParentID == 0 || !ok {
			if s.root < 0 {
				roots = append(roots, i)
			}
			continue
		}
		s.children[p] = append(s.children[p], i)
	}
	if s.root >= 0 {
		roots = []int32{s.root}
	}
	codeOrder := func(a, b int32) int { return strings.Compare(ix.Grid(a).Code, ix.Grid(b).Code) }
	slices.SortFunc(roots, codeOrder)
	for _, cs := range s.children {
		slices.SortFunc(cs, codeOrder)
	}
	// Breadth first: parents before children.
	s.members = append(s.members, roots...)
	for k := 0; k < len(s.members); k++ {
		s.members = append(s.members, s.children[s.members[k]]...)
	}
	return s, nil
}

func (s *scope) grid(i int32) *gridline.Grid { return s.ix.Grid(i) }

// parent is the position of i's parent valid on the date, or -1.
func (s *scope) parent(i int32) int32 {
	g := s.grid(i)
	if g.ParentID == 0 {
		return -1
	}
	if p, ok := s.byID[g.ParentID]; ok {
		return p
	}
	return -1
}

// thematicLayers is the comprehensive layer and every thematic layer in scope, sorted.
func (s *scope) thematicLayers() []gridline.Layer {
	seen := map[gridline.Layer]bool{gridline.LayerComprehensive: true}
	out := []gridline.Layer{gridline.LayerComprehensive}
	for _, i := range s.members {
		if l := s.grid(i).Layer; l.Thematic() && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	slices.Sort(out[1:])
	return out
}
