package api

import (
	"net/http"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
)

// peopleDisclosure is how GET /v1/resolve shows people to this request: an anonymous caller
// (no credential at all: nothing is looked up, the hot path stays as it was) gets the setting; a
// caller with a credential is authenticated here, since the router did not see this request, and
// sees people in full where a grant gives people.read on the point's grids.
func (s *Server) peopleDisclosure(w http.ResponseWriter, r *http.Request) (gridline.Disclosure, func([]int64) bool, error) {
	if r.Header.Get("Authorization") == "" {
		if _, err := r.Cookie(sessionCookie); err != nil {
			return s.anonPeople, nil, nil
		}
	}
	r, err := s.authenticate(w, r)
	if err != nil {
		return "", nil, err
	}
	p := principalFrom(r)
	if p == nil {
		return s.anonPeople, nil, nil
	}
	return s.anonPeople, func(chain []int64) bool { return p.Can(accounts.PeopleRead, chain) }, nil
}

// disclosureOn is how people on the grid with chain (its ancestors' ids and its own) are shown
// to the request's caller.
func (s *Server) disclosureOn(r *http.Request, chain []int64) gridline.Disclosure {
	if principalFrom(r).Can(accounts.PeopleRead, chain) {
		return gridline.DiscloseFull
	}
	return s.anonPeople
}

// discloseStaff is list as d shows it (list itself when d is full).
func discloseStaff(list []gridline.Staff, d gridline.Disclosure) []gridline.Staff {
	if d == gridline.DiscloseFull {
		return list
	}
	out := make([]gridline.Staff, len(list))
	for i, st := range list {
		st.PersonID, st.Name, st.Phone = d.Person(st.PersonID, st.Name, st.Phone)
		out[i] = st
	}
	return out
}
