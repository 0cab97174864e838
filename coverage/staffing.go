package coverage

import (
	"fmt"
	"slices"

	"gridline.dev/gridline"
)

// maxFallbackSteps bounds the walk up the hierarchy, as the resolver's does.
const maxFallbackSteps = 8

// holder is the first person holding post on grid position i on the scope's date, or nil.
func (s *scope) holder(i int32, post gridline.Post) *gridline.Staff {
	staff := s.ix.StaffOf(s.grid(i).ID)
	for k := range staff {
		if staff[k].Post == post && staff[k].ValidOn(s.at) {
			return &staff[k]
		}
	}
	return nil
}

// staffing runs the rules on posts.
//
//   - vacant_post: nobody holds the grid's primary post (gridline.PrimaryPost) on the date. The
//     finding says since when (the end of the last holder's assignment, or the grid's first day)
//     and who answers for it up the hierarchy (属地兜底), as the resolver would: an error when
//     nobody does, or for a basic grid, whose worker is the promise; a warning otherwise.
//   - no_chief: no grid chief on the grid or any grid above it.
//   - too_many_posts: a person holding posts in more than opt.MaxGridsPerPerson grids in scope.
func staffing(s *scope, opt Options, c *collector, want func(...string) bool) {
	gridsOf := map[int64][]int32{} // person -> grid positions
	names := map[int64]string{}
	chief := map[int32]bool{} // whether a grid chief holds a post on the grid or above it
	for _, i := range s.members {
		g := s.grid(i)
		if want(RuleTooManyPosts) {
			for _, st := range s.ix.StaffOf(g.ID) {
				if st.ValidOn(s.at) {
					if l := gridsOf[st.PersonID]; len(l) == 0 || l[len(l)-1] != i {
						gridsOf[st.PersonID] = append(l, i)
					}
					names[st.PersonID] = st.Name
				}
			}
		}
		if want(RuleVacantPost) {
			vacancy(s, i, c)
		}
		if want(RuleNoChief) {
			// Parents come before children, so a parent's answer is known.
			ok := s.holder(i, gridline.PostGridChief) != nil
			if p := s.parent(i); !ok && p >= 0 {
				var known bool
				if ok, known = chief[p]; !known { // the scope grid's parent, outside the scope
					ok = s.chiefAtOrAbove(p)
				}
			}
			chief[i] = ok
			if !ok && g.Level != gridline.LevelDistrict {
				c.add(pointFinding(s, i, RuleNoChief, SeverityError,
					fmt.Sprintf("grid %s has no grid chief, on it or above it", g.Code)))
			}
		}
	}
	if !want(RuleTooManyPosts) {
		return
	}
	people := make([]int64, 0, len(gridsOf))
	for id, l := range gridsOf {
		if len(l) > opt.MaxGridsPerPerson {
			people = append(people, id)
		}
	}
	slices.Sort(people)
	for _, id := range people {
		l := gridsOf[id]
		f := pointFinding(s, l[0], RuleTooManyPosts, SeverityWarning,
			fmt.Sprintf("%s holds posts in %d grids (more than %d)", names[id], len(l), opt.MaxGridsPerPerson))
		f.Codes = f.Codes[:0]
		for _, i := range l {
			f.Codes = append(f.Codes, s.grid(i).Code)
		}
		slices.Sort(f.Codes)
		f.Details = map[string]any{"person_id": id, "name": names[id], "grids": len(l)}
		c.add(f)
	}
}

// vacancy reports grid position i when its primary post is vacant.
func vacancy(s *scope, i int32, c *collector) {
	g := s.grid(i)
	post := gridline.PrimaryPost(g.Level, g.Layer)
	if s.holder(i, post) != nil {
		return
	}
	since := s.firstFrom[g.ID]
	for _, st := range s.ix.StaffOf(g.ID) {
		if st.Post == post && st.ValidTo != nil && !st.ValidTo.After(s.at) && st.ValidTo.After(since) {
			since = *st.ValidTo
		}
	}
	days := int(s.at.Sub(since).Hours() / 24)
	var fallback *gridline.Staff
	var from int32 = -1
	for p, steps := s.parent(i), 0; p >= 0 && steps < maxFallbackSteps; p, steps = s.parent(p), steps+1 {
		pg := s.grid(p)
		if h := s.holder(p, gridline.PrimaryPost(pg.Level, pg.Layer)); h != nil {
			fallback, from = h, p
			break
		}
	}
	sev := SeverityWarning
	if fallback == nil || (g.Level == gridline.LevelGrid && g.Layer == gridline.LayerComprehensive) {
		sev = SeverityError
	}
	details := map[string]any{"post": post, "vacant_since": gridline.Date(since), "days_vacant": days, "fallback": fallback != nil}
	msg := fmt.Sprintf("grid %s: the %s post has been vacant for %s", g.Code, post, plural(days, "day", "days"))
	if fallback != nil {
		fg := s.grid(from)
		details["fallback_code"], details["fallback_name"], details["fallback_post"] = fg.Code, fallback.Name, fallback.Post
		msg += fmt.Sprintf("; %s (%s of %s) answers for it", fallback.Name, fallback.Post, fg.Code)
	} else {
		msg += "; nobody up the hierarchy answers for it"
	}
	f := pointFinding(s, i, RuleVacantPost, sev, msg)
	f.Details = details
	c.add(f)
}

// chiefAtOrAbove reports whether a grid chief holds a post on grid position i or above it.
func (s *scope) chiefAtOrAbove(i int32) bool {
	for p, steps := i, 0; p >= 0 && steps <= maxFallbackSteps; p, steps = s.parent(p), steps+1 {
		if s.holder(p, gridline.PostGridChief) != nil {
			return true
		}
	}
	return false
}
