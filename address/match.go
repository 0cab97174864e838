package address

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gridline.dev/gridline"
)

// Precision is how far down an answer reaches.
type Precision string

const (
	PrecisionRoom        Precision = "room"
	PrecisionUnit        Precision = "unit"
	PrecisionBuilding    Precision = "building"
	PrecisionDoor        Precision = "door"
	PrecisionCompound    Precision = "compound"
	PrecisionRoad        Precision = "road" // a door number interpolated along the road, or the road
	PrecisionCommunity   Precision = "community"
	PrecisionSubdistrict Precision = "subdistrict"
	PrecisionDistrict    Precision = "district"
	PrecisionNone        Precision = "none"
)

// Level is the grid level an answer of this precision can be trusted down to: "grid" for a
// building, door or interpolated door (the point's own basic and micro grid), the community or
// subdistrict itself for the coarser ones.
func (p Precision) Level() gridline.Level {
	switch p {
	case PrecisionRoom, PrecisionUnit, PrecisionBuilding, PrecisionDoor, PrecisionCompound, PrecisionRoad:
		return gridline.LevelMicro
	case PrecisionCommunity:
		return gridline.LevelCommunity
	case PrecisionSubdistrict:
		return gridline.LevelSubdistrict
	case PrecisionDistrict:
		return gridline.LevelDistrict
	}
	return ""
}

// Threshold is the confidence at and above which an answer can be routed without a person looking
// at it: on the demo test set every answer in a wrong grid had a lower confidence (see
// docs/decisions.md, "Addresses").
const Threshold = 0.6

// Confidence is how sure the matcher is that the answer's point lies in the grid of the place
// written, not how well the words matched: a door found exactly is 1, an interpolated door 0.4,
// a community 0.2.
const (
	confRoad        = 0.4
	confRoadOnly    = 0.25
	confCommunity   = 0.2
	confSubdistrict = 0.1
	confDistrict    = 0.05
)

// Alias is another name of a register name: an old name, or a short form the district uses.
type Alias struct {
	Alias string `json:"alias"`
	Name  string `json:"name"`
}

// Matcher matches free text against one snapshot of the register. It is immutable and safe for
// concurrent use.
type Matcher struct {
	gz   *gazetteer
	rows []gridline.Address

	byRoadDoor map[[2]string][]*door
	byCompound map[string][]*door
	byRoad     map[string][]*door // sorted by door number
	byComm     map[string][]*door
	commRep    map[string]int32 // a row near the middle of each community, subdistrict
	subRep     map[string]int32
	distRep    map[string]int32
	neighbours map[string][]string // road or compound -> names within one edit
	districts  []string
}

type door struct {
	road, number, compound string
	num                    int // number as an integer, -1 when not one
	rows                   []int32
	buildings              map[string]*building
	first                  int32 // a row for the names above the door
}

type building struct {
	number string
	rows   []int32
}

// NewMatcher builds a matcher over the register's rows (every version: the date is chosen per
// match) and the district's aliases.
func NewMatcher(rows []gridline.Address, aliases []Alias) *Matcher {
	m := &Matcher{gz: newGazetteer(), rows: rows,
		byRoadDoor: map[[2]string][]*door{}, byCompound: map[string][]*door{}, byRoad: map[string][]*door{},
		byComm: map[string][]*door{}, commRep: map[string]int32{}, subRep: map[string]int32{}, distRep: map[string]int32{},
		neighbours: map[string][]string{}}
	g := m.gz
	doors := map[[3]string]*door{}
	type acc struct {
		x, y float64
		n    int
		rows []int32
	}
	comms, subs, dists := map[string]*acc{}, map[string]*acc{}, map[string]*acc{}
	add := func(mp map[string]*acc, key string, i int32) {
		a := mp[key]
		if a == nil {
			a = &acc{}
			mp[key] = a
		}
		a.x += rows[i].Lon
		a.y += rows[i].Lat
		a.n++
		a.rows = append(a.rows, i)
	}
	seenDistrict := map[string]bool{}
	for i := range rows {
		a := &rows[i]
		ri := int32(i)
		if a.Province != "" {
			for _, k := range adminKeys(KindProvince, a.Province) {
				g.key(k, g.add(KindProvince, a.Province, ""))
			}
		}
		if a.City != "" {
			for _, k := range adminKeys(KindCity, a.City) {
				g.key(k, g.add(KindCity, a.City, a.Province))
			}
		}
		if a.District != "" {
			for _, k := range adminKeys(KindDistrict, a.District) {
				g.key(k, g.add(KindDistrict, a.District, a.City))
			}
			if !seenDistrict[a.District] {
				seenDistrict[a.District] = true
				m.districts = append(m.districts, a.District)
			}
			add(dists, a.District, ri)
		}
		if a.Subdistrict != "" {
			for _, k := range adminKeys(KindSubdistrict, a.Subdistrict) {
				g.key(k, g.add(KindSubdistrict, a.Subdistrict, a.District))
			}
			add(subs, a.Subdistrict, ri)
		}
		if a.Community != "" {
			for _, k := range adminKeys(KindCommunity, a.Community) {
				g.key(k, g.add(KindCommunity, a.Community, a.Subdistrict))
			}
			add(comms, a.Community, ri)
		}
		if a.Road != "" {
			n := g.add(KindRoad, a.Road, "")
			g.key(a.Road, n)
			g.fuzzyKey(a.Road, n)
		}
		if a.Compound != "" {
			n := g.add(KindCompound, a.Compound, "")
			g.key(a.Compound, n)
			g.fuzzyKey(a.Compound, n)
		}
		dk := [3]string{a.Road, a.Door, a.Compound}
		d := doors[dk]
		if d == nil {
			d = &door{road: a.Road, number: a.Door, compound: a.Compound, num: -1, buildings: map[string]*building{}, first: ri}
			if n, err := strconv.Atoi(a.Door); err == nil {
				d.num = n
			}
			doors[dk] = d
			if a.Road != "" && a.Door != "" {
				k := [2]string{a.Road, a.Door}
				m.byRoadDoor[k] = append(m.byRoadDoor[k], d)
				m.byRoad[a.Road] = append(m.byRoad[a.Road], d)
			}
			if a.Compound != "" {
				m.byCompound[a.Compound] = append(m.byCompound[a.Compound], d)
			}
			if a.Community != "" {
				m.byComm[a.Community] = append(m.byComm[a.Community], d)
			}
		}
		if a.Building == "" {
			d.rows = append(d.rows, ri)
			d.first = d.rows[0]
			continue
		}
		b := d.buildings[a.Building]
		if b == nil {
			b = &building{number: a.Building}
			d.buildings[a.Building] = b
		}
		b.rows = append(b.rows, ri)
	}
	for _, list := range m.byRoad {
		slices.SortFunc(list, func(a, b *door) int { return cmp.Compare(a.num, b.num) })
	}
	rep := func(mp map[string]*acc, out map[string]int32) {
		for k, a := range mp {
			cx, cy := a.x/float64(a.n), a.y/float64(a.n)
			best, bd := a.rows[0], 1e18
			for _, i := range a.rows {
				dx, dy := rows[i].Lon-cx, rows[i].Lat-cy
				if d := dx*dx + dy*dy; d < bd {
					best, bd = i, d
				}
			}
			out[k] = best
		}
	}
	rep(comms, m.commRep)
	rep(subs, m.subRep)
	rep(dists, m.distRep)
	for _, al := range aliases {
		for i, n := range g.names {
			if n.canonical == al.Name {
				g.key(al.Alias, int32(i))
			}
		}
	}
	// Names one edit apart (福华南街, 福华北街): a door is looked for under both.
	for i, n := range g.names {
		if n.kind != KindRoad && n.kind != KindCompound {
			continue
		}
		for _, x := range g.similar(NormalizeName(n.canonical), n.kind, nil) {
			if x.name != int32(i) && g.names[x.name].canonical != n.canonical {
				m.neighbours[n.canonical] = append(m.neighbours[n.canonical], g.names[x.name].canonical)
			}
		}
	}
	return m
}

// Len is the number of register rows.
func (m *Matcher) Len() int { return len(m.rows) }

// Match is one place an address may be.
type Match struct {
	ID         int64            `json:"id,omitempty"` // the register row, 0 for an interpolated door
	Address    gridline.Address `json:"address"`      // the elements down to the precision reached
	Label      string           `json:"label"`
	Lon        float64          `json:"lon"`
	Lat        float64          `json:"lat"`
	Precision  Precision        `json:"precision"`
	Confidence float64          `json:"confidence"`
	Differs    []string         `json:"differs,omitempty"` // what the text says that the register does not
	score      float64
	key        *door
	bld        *building
}

// Result is what an address resolved to.
type Result struct {
	Parsed       *Parsed `json:"parsed"`
	Resolved     bool    `json:"resolved"`
	Reason       string  `json:"reason,omitempty"` // why not, when unresolved
	Best         *Match  `json:"match,omitempty"`
	Alternatives []Match `json:"alternatives"`
	Ambiguous    bool    `json:"ambiguous"`
}

// Resolve parses text and matches it against the register rows valid on at.
func (m *Matcher) Resolve(text string, at time.Time) *Result {
	res := &Result{Alternatives: []Match{}}
	if strings.TrimSpace(text) == "" {
		res.Parsed = &Parsed{}
		res.Reason = "the address is empty"
		return res
	}
	p := m.Parse(text)
	res.Parsed = p
	if !hasHan(p.Normal) {
		res.Reason = "the address has no Chinese characters: write it as the register does (二七区福华街32号院3号楼)"
		return res
	}
	if p.Foreign != "" && p.District == "" {
		res.Reason = fmt.Sprintf("the address names %s, which is not in the register (%s)", p.Foreign, strings.Join(m.districts, ", "))
		return res
	}
	if p.Empty() {
		res.Reason = "no road, compound, community or subdistrict of the register was found in the address"
		return res
	}
	var buf [16]cand
	cands := m.candidates(p, at, buf[:0])
	if len(cands) == 0 {
		if fb := m.fallback(p, at); fb != nil {
			res.Resolved, res.Best = true, fb
			return res
		}
		res.Reason = "nothing in the register matches the address on " + gridline.Date(at)
		return res
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(precisionRank(b.prec), precisionRank(a.prec))
	})
	best := m.write(p, &cands[0])
	best.Confidence = clamp(best.score)
	for i := 1; i < len(cands); i++ {
		c := &cands[i]
		if len(res.Alternatives) >= 5 || c.score < best.score-0.35 {
			break
		}
		if c.d == cands[0].d && c.b == cands[0].b {
			continue
		}
		if c.score >= best.score-0.25 && (m.rows[c.row].Lon != best.Lon || m.rows[c.row].Lat != best.Lat) {
			res.Ambiguous = true
		}
		alt := m.write(p, c)
		alt.Confidence = clamp(c.score)
		res.Alternatives = append(res.Alternatives, alt)
	}
	if res.Ambiguous {
		// Two places fit nearly as well: do not route without a look.
		best.Confidence = min(best.Confidence, Threshold-0.1)
		best.Differs = append(best.Differs, "ambiguous: another place in the register fits nearly as well")
	}
	if p.Foreign != "" {
		best.Confidence = min(best.Confidence, Threshold-0.1)
		best.Differs = append(best.Differs, "names "+p.Foreign+", which is not in the register")
	}
	res.Resolved, res.Best = true, &best
	return res
}

func clamp(x float64) float64 {
	x = float64(int(x*100+0.5)) / 100
	return max(0, min(1, x))
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func precisionRank(p Precision) int {
	switch p {
	case PrecisionRoom:
		return 9
	case PrecisionUnit:
		return 8
	case PrecisionBuilding:
		return 7
	case PrecisionDoor:
		return 6
	case PrecisionCompound:
		return 5
	case PrecisionRoad:
		return 4
	case PrecisionCommunity:
		return 3
	case PrecisionSubdistrict:
		return 2
	case PrecisionDistrict:
		return 1
	}
	return 0
}

// cand is a scored candidate before it is written out: strings are made only for the few that
// are shown.
type cand struct {
	score float64
	prec  Precision
	row   int32
	d     *door
	b     *building
	flags uint16
}

// What differed between the text and a candidate (cand.flags).
const (
	dRoad uint16 = 1 << iota
	dDoor
	dCompound
	dCommunity
	dSubdistrict
	dDistrict
	dBuilding
	dUnit
	dLeftover
	dCommunityOnly
)

// candidates lists the doors and buildings the text may mean, each scored.
func (m *Matcher) candidates(p *Parsed, at time.Time, out []cand) []cand {
	var doorBuf [32]*door
	doors := doorBuf[:0]
	addDoors := func(list []*door) {
		for _, d := range list {
			if !slices.Contains(doors, d) {
				doors = append(doors, d)
			}
		}
	}
	if p.Road != "" && p.Door != "" {
		addDoors(m.byRoadDoor[[2]string{p.Road, p.Door}])
		for _, r := range m.neighbours[p.Road] {
			addDoors(m.byRoadDoor[[2]string{r, p.Door}])
		}
		for _, r := range p.also {
			addDoors(m.byRoadDoor[[2]string{r, p.Door}])
		}
	}
	if p.Compound != "" {
		addDoors(m.byCompound[p.Compound])
		for _, c := range m.neighbours[p.Compound] {
			addDoors(m.byCompound[c])
		}
		for _, c := range p.also {
			addDoors(m.byCompound[c])
		}
	}
	if len(doors) == 0 && p.Door != "" && p.Community != "" {
		for _, d := range m.byComm[p.Community] {
			if d.number == p.Door {
				addDoors([]*door{d})
			}
		}
	}
	// What does not depend on the door.
	base, baseFlags := 1.0-0.05*float64(len(p.Read)), uint16(0)
	for _, ig := range p.Ignored {
		// Text left over that ends like a road or compound: a name the register does not have.
		if hasAnySuffix(ig, roadSuffixes) || hasAnySuffix(ig, []string{"小区", "花园", "家园", "苑"}) {
			base -= 0.3
			baseFlags |= dLeftover
		}
	}
	if p.Road == "" && p.Compound == "" {
		base -= 0.3
		baseFlags |= dCommunityOnly
	}
	for _, d := range doors {
		out = m.scoreDoor(p, d, at, base, baseFlags, out)
	}
	return out
}

// scoreDoor scores door d (and the building and unit asked for in it) against p: 1 for everything
// written found as written, less for each difference.
func (m *Matcher) scoreDoor(p *Parsed, d *door, at time.Time, s float64, flags uint16, out []cand) []cand {
	first := &m.rows[d.first]
	if p.Road != "" && d.road != p.Road {
		// A road one character away (福华北街 for 福华南街) is a common slip: close enough that the
		// two readings make the answer ambiguous when both exist.
		if slices.Contains(p.also, d.road) {
			s -= 0.05
		} else {
			s -= 0.2
		}
		flags |= dRoad
	}
	if p.Door != "" && d.number != p.Door {
		s -= 0.35
		flags |= dDoor
	}
	if p.Compound != "" && d.compound != p.Compound {
		if d.compound == "" {
			s -= 0.1
		} else {
			s -= 0.25
		}
		flags |= dCompound
	}
	if p.Community != "" && first.Community != p.Community && !m.oneOf(p.communities, first.Community) {
		s -= 0.2
		flags |= dCommunity
	}
	if p.Subdistrict != "" && first.Subdistrict != p.Subdistrict && !m.oneOf(p.subdistricts, first.Subdistrict) {
		s -= 0.1
		flags |= dSubdistrict
	}
	if p.District != "" && first.District != p.District {
		s -= 0.3
		flags |= dDistrict
	}
	doorRow := m.validRow(d.rows, at)
	if p.Building == "" {
		row := doorRow
		if row < 0 {
			// No door row: the door's first building stands for it.
			for _, b := range sortedBuildings(d) {
				if row = m.validRow(b.rows, at); row >= 0 {
					break
				}
			}
		}
		if row < 0 {
			return out
		}
		prec := PrecisionDoor
		if p.Door == "" && d.number != "" && p.Road == "" {
			prec = PrecisionCompound
		}
		return append(out, cand{score: s, prec: prec, row: row, d: d, flags: flags})
	}
	b := d.buildings[p.Building]
	if b == nil || m.validRow(b.rows, at) < 0 {
		if doorRow < 0 {
			return out
		}
		return append(out, cand{score: s - 0.2, prec: PrecisionDoor, row: doorRow, d: d, flags: flags | dBuilding})
	}
	// The building: its unit, its room.
	var bRow, uRow, rRow int32 = -1, -1, -1
	for _, i := range b.rows {
		a := &m.rows[i]
		if !a.ValidOn(at) {
			continue
		}
		switch {
		case a.Unit == "" && a.Room == "":
			if bRow < 0 {
				bRow = i
			}
		case p.Unit != "" && a.Unit == p.Unit && a.Room == "":
			uRow = i
		case p.Unit != "" && a.Unit == p.Unit && p.Room != "" && a.Room == p.Room:
			rRow = i
		}
		if bRow < 0 && a.Unit == "" {
			bRow = i
		}
	}
	if bRow < 0 {
		bRow = m.validRow(b.rows, at)
	}
	switch {
	case rRow >= 0:
		return append(out, cand{score: s, prec: PrecisionRoom, row: rRow, d: d, b: b, flags: flags})
	case uRow >= 0:
		return append(out, cand{score: s, prec: PrecisionUnit, row: uRow, d: d, b: b, flags: flags})
	}
	if p.Unit != "" {
		s -= 0.05
		flags |= dUnit
	}
	return append(out, cand{score: s, prec: PrecisionBuilding, row: bRow, d: d, b: b, flags: flags})
}

// write makes the Match shown for c, saying what differed.
func (m *Matcher) write(p *Parsed, c *cand) Match {
	d := c.d
	first := &m.rows[d.first]
	var differs []string
	add := func(f uint16, msg func() string) {
		if c.flags&f != 0 {
			differs = append(differs, msg())
		}
	}
	add(dRoad, func() string { return "road: written " + p.Road + ", register " + orNone(d.road) })
	add(dDoor, func() string { return "door: written " + p.Door + "号, register " + orNone(d.number) })
	add(dCompound, func() string { return "compound: written " + p.Compound + ", register " + orNone(d.compound) })
	add(dCommunity, func() string { return "community: written " + p.Community + ", register " + first.Community })
	add(dSubdistrict, func() string { return "subdistrict: written " + p.Subdistrict + ", register " + first.Subdistrict })
	add(dDistrict, func() string { return "district: written " + p.District + ", register " + first.District })
	add(dBuilding, func() string { return "building " + p.Building + " is not in the register at this door" })
	add(dUnit, func() string { return "unit " + p.Unit + " is not in the register in this building" })
	add(dLeftover, func() string { return "part of the text looks like a road or compound the register does not have" })
	add(dCommunityOnly, func() string { return "no road or compound written: found by community and door number" })
	for _, r := range p.Read {
		differs = append(differs, "read "+r)
	}
	mt := m.match(c.row, c.prec, c.score, differs, d, c.b)
	if c.prec == PrecisionBuilding {
		mt.Address.Unit, mt.Address.Floor, mt.Address.Room, mt.Address.Households = "", "", "", 0
		mt.Label = mt.Address.Label()
	}
	return mt
}

func sortedBuildings(d *door) []*building {
	bs := make([]*building, 0, len(d.buildings))
	for _, b := range d.buildings {
		bs = append(bs, b)
	}
	slices.SortFunc(bs, func(a, b *building) int { return cmp.Compare(a.number, b.number) })
	return bs
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (m *Matcher) oneOf(names []int32, canonical string) bool {
	for _, i := range names {
		if m.gz.names[i].canonical == canonical {
			return true
		}
	}
	return false
}

// validRow is the first of rows valid on at, or -1.
func (m *Matcher) validRow(rows []int32, at time.Time) int32 {
	for _, i := range rows {
		if m.rows[i].ValidOn(at) {
			return i
		}
	}
	return -1
}

func (m *Matcher) match(row int32, prec Precision, score float64, differs []string, d *door, b *building) Match {
	a := m.rows[row]
	switch prec {
	case PrecisionDoor, PrecisionCompound:
		a.Building, a.Unit, a.Floor, a.Room = "", "", "", ""
		a.BuildingCode = ""
		a.Households = 0
	case PrecisionUnit:
		a.Floor, a.Room = "", ""
	}
	return Match{ID: a.ID, Address: a, Label: a.Label(), Lon: a.Lon, Lat: a.Lat, Precision: prec, score: score, Differs: differs, key: d, bld: b}
}

// fallback answers coarser than a door: a door number interpolated along its road, the road, the
// community, the subdistrict, the district.
func (m *Matcher) fallback(p *Parsed, at time.Time) *Match {
	if p.Road != "" {
		if mt := m.interpolate(p, at); mt != nil {
			return mt
		}
	}
	coarse := func(rep map[string]int32, key string, prec Precision, conf float64) *Match {
		i, ok := rep[key]
		if !ok {
			return nil
		}
		a := m.rows[i]
		out := gridline.Address{Province: a.Province, City: a.City, District: a.District, ValidFrom: a.ValidFrom, Provenance: a.Provenance}
		if prec != PrecisionDistrict {
			out.Subdistrict = a.Subdistrict
		}
		if prec == PrecisionCommunity {
			out.Community = a.Community
		}
		label := out.District + out.Subdistrict + out.Community
		return &Match{Address: out, Label: label, Lon: a.Lon, Lat: a.Lat, Precision: prec, Confidence: conf,
			Differs: []string{"no door or building of the register matches: the answer is the " + string(prec)}}
	}
	if p.Community != "" {
		if mt := coarse(m.commRep, p.Community, PrecisionCommunity, confCommunity); mt != nil {
			return mt
		}
	}
	if p.Subdistrict != "" {
		if mt := coarse(m.subRep, p.Subdistrict, PrecisionSubdistrict, confSubdistrict); mt != nil {
			return mt
		}
	}
	if p.District != "" {
		return coarse(m.distRep, p.District, PrecisionDistrict, confDistrict)
	}
	return nil
}

// interpolate places door p.Door on p.Road between the nearest doors of the same parity (the same
// side of the road), or at the road's middle door when no number was written.
func (m *Matcher) interpolate(p *Parsed, at time.Time) *Match {
	list := m.byRoad[p.Road]
	if len(list) == 0 {
		return nil
	}
	n, err := strconv.Atoi(p.Door)
	point := func(d *door) (int32, bool) {
		i := m.validRow(d.rows, at)
		if i < 0 {
			for _, b := range sortedBuildings(d) {
				if i = m.validRow(b.rows, at); i >= 0 {
					break
				}
			}
		}
		return i, i >= 0
	}
	mk := func(row int32, lon, lat float64, conf float64, why string) *Match {
		a := m.rows[row]
		out := gridline.Address{Province: a.Province, City: a.City, District: a.District, Subdistrict: a.Subdistrict,
			Community: a.Community, Road: a.Road, Door: p.Door, Lon: lon, Lat: lat, ValidFrom: a.ValidFrom, Provenance: a.Provenance}
		return &Match{Address: out, Label: out.Label(), Lon: lon, Lat: lat, Precision: PrecisionRoad, Confidence: conf, Differs: []string{why}}
	}
	if p.Door == "" || err != nil {
		mid := list[len(list)/2]
		if i, ok := point(mid); ok {
			return mk(i, m.rows[i].Lon, m.rows[i].Lat, confRoadOnly, "no door number: the answer is a door in the middle of "+p.Road)
		}
		return nil
	}
	var lo, hi *door
	var loRow, hiRow int32
	for _, d := range list {
		if d.num < 0 || d.num%2 != n%2 {
			continue
		}
		i, ok := point(d)
		if !ok {
			continue
		}
		if d.num < n {
			lo, loRow = d, i
		} else if d.num > n && hi == nil {
			hi, hiRow = d, i
		}
	}
	switch {
	case lo != nil && hi != nil:
		t := float64(n-lo.num) / float64(hi.num-lo.num)
		a, b := &m.rows[loRow], &m.rows[hiRow]
		return mk(loRow, a.Lon+t*(b.Lon-a.Lon), a.Lat+t*(b.Lat-a.Lat), confRoad,
			fmt.Sprintf("door %d号 is not in the register: placed between %d号 and %d号 of %s", n, lo.num, hi.num, p.Road))
	case lo != nil || hi != nil:
		d, i := lo, loRow
		if d == nil {
			d, i = hi, hiRow
		}
		return mk(i, m.rows[i].Lon, m.rows[i].Lat, confRoad-0.1,
			fmt.Sprintf("door %d号 is not in the register: the nearest door on that side is %d号 of %s", n, d.num, p.Road))
	}
	return nil
}
