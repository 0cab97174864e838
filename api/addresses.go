package api

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

// MaxAddressBytes is the longest address GET /v1/resolve?address= reads; a longer one is answered
// unresolved, with why.
const MaxAddressBytes = 1024

func (s *Server) routeAddresses(r *mux.Router) {
	r.HandleFunc("/v1/addresses", s.listAddresses).Methods(http.MethodGet)
	r.HandleFunc("/v1/addresses/households", s.addressHouseholds).Methods(http.MethodGet)
	r.HandleFunc("/v1/addresses/{id:[0-9]+}", s.getAddress).Methods(http.MethodGet)
	r.Handle("/v1/addresses", s.need(accounts.GridsWrite, "adding an address", s.createAddress)).Methods(http.MethodPost)
	r.Handle("/v1/addresses/{id:[0-9]+}", s.need(accounts.GridsWrite, "changing an address", s.updateAddress)).Methods(http.MethodPut)
	r.Handle("/v1/addresses/{id:[0-9]+}", s.need(accounts.GridsWrite, "deleting an address", s.deleteAddress)).Methods(http.MethodDelete)
}

// addressJSON is a register row as the API writes and reads it: dates as YYYY-MM-DD.
type addressJSON struct {
	ID           int64   `json:"id"`
	Province     string  `json:"province"`
	City         string  `json:"city"`
	District     string  `json:"district"`
	Subdistrict  string  `json:"subdistrict"`
	Community    string  `json:"community"`
	Road         string  `json:"road"`
	Door         string  `json:"door"`
	Compound     string  `json:"compound"`
	Building     string  `json:"building"`
	Unit         string  `json:"unit"`
	Floor        string  `json:"floor"`
	Room         string  `json:"room"`
	BuildingCode string  `json:"building_code"`
	Households   int     `json:"households"`
	Lon          float64 `json:"lon"`
	Lat          float64 `json:"lat"`
	ValidFrom    string  `json:"valid_from"`
	ValidTo      string  `json:"valid_to,omitempty"`
	Provenance   string  `json:"provenance"`
	Label        string  `json:"label"`
}

func addressOut(a *gridline.Address) addressJSON {
	out := addressJSON{ID: a.ID, Province: a.Province, City: a.City, District: a.District, Subdistrict: a.Subdistrict, Community: a.Community,
		Road: a.Road, Door: a.Door, Compound: a.Compound, Building: a.Building, Unit: a.Unit, Floor: a.Floor, Room: a.Room,
		BuildingCode: a.BuildingCode, Households: a.Households, Lon: a.Lon, Lat: a.Lat, Provenance: a.Provenance, Label: a.Label()}
	if !a.ValidFrom.IsZero() {
		out.ValidFrom = gridline.Date(a.ValidFrom)
	}
	if a.ValidTo != nil {
		out.ValidTo = gridline.Date(*a.ValidTo)
	}
	return out
}

func (in *addressJSON) address(today time.Time) (*gridline.Address, error) {
	a := &gridline.Address{Province: in.Province, City: in.City, District: in.District, Subdistrict: in.Subdistrict, Community: in.Community,
		Road: in.Road, Door: address.NumberPart(in.Door), Compound: in.Compound, Building: address.NumberPart(in.Building),
		Unit: address.NumberPart(in.Unit), Floor: address.NumberPart(in.Floor), Room: address.NumberPart(in.Room),
		BuildingCode: in.BuildingCode, Households: in.Households, Lon: in.Lon, Lat: in.Lat, Provenance: in.Provenance, ValidFrom: today}
	if a.Provenance == "" {
		a.Provenance = gridline.ProvenanceReal
	}
	if in.ValidFrom != "" {
		d, err := gridline.ParseDate("valid_from", in.ValidFrom)
		if err != nil {
			return nil, err
		}
		a.ValidFrom = d
	}
	if in.ValidTo != "" {
		d, err := gridline.ParseDate("valid_to", in.ValidTo)
		if err != nil {
			return nil, err
		}
		a.ValidTo = &d
	}
	return a, a.Validate()
}

// addressAnswer is the "address" member of an address resolution.
type addressAnswer struct {
	Text         string            `json:"text"`
	Resolved     bool              `json:"resolved"`
	Reason       string            `json:"reason,omitempty"`
	Precision    address.Precision `json:"precision"`
	Confidence   float64           `json:"confidence"`
	Threshold    float64           `json:"threshold"`
	Ambiguous    bool              `json:"ambiguous"`
	Match        *matchJSON        `json:"match"`
	Alternatives []matchJSON       `json:"alternatives"`
	Parsed       *address.Parsed   `json:"parsed"`
	Agreement    *addressAgreement `json:"agreement,omitempty"`
}

type matchJSON struct {
	ID         int64             `json:"id,omitempty"`
	Label      string            `json:"label"`
	Address    addressJSON       `json:"address"`
	Precision  address.Precision `json:"precision"`
	Confidence float64           `json:"confidence"`
	Differs    []string          `json:"differs"`
	Grid       string            `json:"grid,omitempty"` // the deepest grid of the answer's chain
}

// addressAgreement says whether an address and a point sent with it lie in the same grid.
type addressAgreement struct {
	Point        resolve.LonLat `json:"point"` // the point sent, in WGS84
	Level        string         `json:"level"` // the level compared: the deepest both answers reach
	SameGrid     bool           `json:"same_grid"`
	AddressGrid  string         `json:"address_grid"`
	PointGrid    string         `json:"point_grid"`
	Metres       float64        `json:"metres"` // from the address's point to the point sent
	PointCovered bool           `json:"point_covered"`
}

func (s *Server) matchJSON(m *address.Match, at time.Time) matchJSON {
	out := matchJSON{ID: m.ID, Label: m.Label, Address: addressOut(&m.Address), Precision: m.Precision, Confidence: m.Confidence, Differs: m.Differs}
	if out.Differs == nil {
		out.Differs = []string{}
	}
	a := s.resolver.Answer(resolve.InputPoint{Lon: m.Lon, Lat: m.Lat, CRS: "EPSG:4326"}, orb.Point{m.Lon, m.Lat}, at)
	truncateChain(a, m.Precision)
	if n := len(a.Chain); n > 0 {
		out.Grid = a.Chain[n-1].Code
	}
	return out
}

// truncateChain keeps the chain down to the level the precision can be trusted to.
func truncateChain(a *resolve.Answer, p address.Precision) {
	lvl := p.Level()
	if lvl == "" || lvl == gridline.LevelMicro {
		return
	}
	keep := a.Chain[:0:0]
	for _, g := range a.Chain {
		if gridline.Level(g.Level).Rank() <= lvl.Rank() {
			keep = append(keep, g)
		}
	}
	a.Chain = keep
	a.Boundary, a.NearBoundary, a.OnBoundary = nil, nil, false
}

// resolveAddress is GET /v1/resolve?address=...[&lon=&lat=&crs=][&at=]: the address matched
// against the register, and its point resolved as a coordinate is.
func (s *Server) resolveAddress(w http.ResponseWriter, r *http.Request, q resolveParams) {
	at := s.resolver.Today()
	var err error
	if q.at != "" {
		if at, err = gridline.ParseDate("at", q.at); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	// A point sent with the address is read (and refused when wrong) before anything else.
	var pt *orb.Point
	if q.hasLon || q.hasLat {
		lon, lat, crs, err := q.point()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := s.toWGS84(r.Context(), crs, lon, lat)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		pt = &p
	}
	if !s.resolver.Ready() {
		s.writeError(w, r, gridline.Errorf(gridline.EUnavailable, "the resolution index is still being built"))
		return
	}
	d, full, err := s.peopleDisclosure(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ans, body := s.answerAddress(q.address, pt, at)
	var buf []byte
	if body != nil {
		buf = body.AppendJSONAs(make([]byte, 0, 4096), body.Disclosure(d, full))
	} else {
		b, _ := json.Marshal(map[string]any{"at": gridline.Date(at), "covered": false, "chain": []any{}, "special": []any{}, "thematic": []any{},
			"on_boundary": false, "near_boundary": nil, "index": s.resolver.Status()})
		buf = b
	}
	ab, err := json.Marshal(ans)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	buf = append(buf[:len(buf)-1], `,"address":`...)
	buf = append(buf, ab...)
	buf = append(buf, "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(buf)))
	w.Write(buf)
}

// answerAddress resolves text (and compares it with pt when one was sent): the address member, and
// the coordinate answer of the matched point (nil when unresolved).
func (s *Server) answerAddress(text string, pt *orb.Point, at time.Time) (*addressAnswer, *resolve.Answer) {
	ans := &addressAnswer{Text: gridline.Excerpt(text), Threshold: address.Threshold, Precision: address.PrecisionNone, Alternatives: []matchJSON{}}
	var res *address.Result
	if len(text) > MaxAddressBytes {
		ans.Reason = "the address is " + strconv.Itoa(len(text)) + " bytes long; an address is at most " + strconv.Itoa(MaxAddressBytes) + " bytes: send the address alone"
		ans.Parsed = &address.Parsed{}
	} else {
		res = s.addressMatcher().Resolve(text, at)
		ans.Parsed, ans.Reason, ans.Resolved, ans.Ambiguous = res.Parsed, res.Reason, res.Resolved, res.Ambiguous
	}
	var body *resolve.Answer
	if res != nil && res.Resolved {
		m := res.Best
		mj := s.matchJSON(m, at)
		ans.Match = &mj
		ans.Precision, ans.Confidence = m.Precision, m.Confidence
		for i := range res.Alternatives {
			ans.Alternatives = append(ans.Alternatives, s.matchJSON(&res.Alternatives[i], at))
		}
		body = s.resolver.Answer(resolve.InputPoint{Lon: m.Lon, Lat: m.Lat, CRS: "EPSG:4326"}, orb.Point{m.Lon, m.Lat}, at)
		truncateChain(body, m.Precision)
	}
	if pt != nil {
		pa := s.resolver.Answer(resolve.InputPoint{Lon: pt[0], Lat: pt[1], CRS: "EPSG:4326"}, *pt, at)
		ag := &addressAgreement{Point: resolve.LonLat{Lon: pt[0], Lat: pt[1]}, PointCovered: pa.Covered}
		if body != nil {
			// Compare at the deepest level both chains reach.
			n := min(len(body.Chain), len(pa.Chain))
			if n > 0 {
				ag.Level = body.Chain[n-1].Level
				ag.AddressGrid, ag.PointGrid = body.Chain[n-1].Code, pa.Chain[n-1].Code
				ag.SameGrid = ag.AddressGrid == ag.PointGrid
			}
			ag.Metres = math.Round(geo.Distance(orb.Point{body.WGS84.Lon, body.WGS84.Lat}, *pt)*10) / 10
		}
		ans.Agreement = ag
	}
	return ans, body
}

func (s *Server) addressMatcher() *address.Matcher {
	if s.addresses == nil {
		return address.NewMatcher(nil, nil)
	}
	return s.addresses.Matcher()
}

// refreshAddresses brings the matcher up to date after a write, so the writer's next resolution
// sees it (other processes hear of it through the change feed).
func (s *Server) refreshAddresses(r *http.Request) {
	if s.addresses != nil {
		if err := s.addresses.Refresh(r.Context()); err != nil {
			s.log.Warn("address register refresh failed", "err", err)
		}
	}
}

// listAddresses is GET /v1/addresses?community=&road=&at=&after=&limit=.
func (s *Server) listAddresses(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AddressFilter{Community: q.Get("community"), Road: q.Get("road")}
	if v := q.Get("at"); v != "" {
		d, err := gridline.ParseDate("at", v)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		f.At = &d
	}
	for name, dst := range map[string]*int64{"after": &f.AfterID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "%s must be a register id (a whole number)", name).With("field", name))
				return
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "limit must be 1 to 1000").With("field", "limit"))
			return
		}
		f.Limit = n
	}
	rows, err := s.db.ListAddresses(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]addressJSON, len(rows))
	for i := range rows {
		out[i] = addressOut(&rows[i])
	}
	body := map[string]any{"addresses": out}
	if len(rows) > 0 {
		body["next_after"] = rows[len(rows)-1].ID
	}
	writeJSON(w, http.StatusOK, body)
}

func addressID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		return 0, gridline.Errorf(gridline.EInvalid, "the address id must be a whole number")
	}
	return id, nil
}

// getAddress is GET /v1/addresses/{id}: the row, and the grids its point lies in today.
func (s *Server) getAddress(w http.ResponseWriter, r *http.Request) {
	id, err := addressID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.db.Address(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := map[string]any{"address": addressOut(a)}
	if s.resolver.Ready() {
		ans := s.resolver.Answer(resolve.InputPoint{Lon: a.Lon, Lat: a.Lat, CRS: "EPSG:4326"}, orb.Point{a.Lon, a.Lat}, s.resolver.Today())
		chain := make([]map[string]any, len(ans.Chain))
		for i, g := range ans.Chain {
			chain[i] = map[string]any{"id": g.ID, "code": g.Code, "name": g.Name, "level": g.Level}
		}
		body["chain"] = chain
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) readAddress(r *http.Request) (*gridline.Address, error) {
	var in addressJSON
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	return in.address(s.resolver.Today())
}

// createAddress is POST /v1/addresses: a row, within the caller's grids.write (on the grids of its
// point), audited.
func (s *Server) createAddress(w http.ResponseWriter, r *http.Request) {
	a, err := s.readAddress(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if a, err = s.db.CreateAddress(r.Context(), a); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.refreshAddresses(r)
	writeJSON(w, http.StatusCreated, addressOut(a))
}

// updateAddress is PUT /v1/addresses/{id}: the whole row replaced; grids.write where it was and
// where it goes.
func (s *Server) updateAddress(w http.ResponseWriter, r *http.Request) {
	id, err := addressID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.readAddress(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a.ID = id
	if a, err = s.db.UpdateAddress(r.Context(), a); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.refreshAddresses(r)
	writeJSON(w, http.StatusOK, addressOut(a))
}

// deleteAddress is DELETE /v1/addresses/{id}.
func (s *Server) deleteAddress(w http.ResponseWriter, r *http.Request) {
	id, err := addressID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.db.DeleteAddress(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.refreshAddresses(r)
	w.WriteHeader(http.StatusNoContent)
}

// addressHouseholds is GET /v1/addresses/households?at=&differing=true: every grid's households
// as it records them and as the register counts them.
func (s *Server) addressHouseholds(w http.ResponseWriter, r *http.Request) {
	at, err := s.dateParam(r.URL.Query(), "at")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.db.HouseholdsByGrid(r.Context(), at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if r.URL.Query().Get("differing") == "true" {
		keep := list[:0]
		for _, h := range list {
			if h.Grid != h.Register {
				keep = append(keep, h)
			}
		}
		list = keep
	}
	if list == nil {
		list = []store.GridHouseholds{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"at": gridline.Date(at), "grids": list})
}
