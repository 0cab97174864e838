package address

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parsed is an address read into its elements. Names are the register's canonical names (a name
// written with a typo is read as the register's name within one edit, and Read says so); numbers
// are digits.
type Parsed struct {
	Normal      string `json:"normal"` // the normal form the parser read
	Province    string `json:"province,omitempty"`
	City        string `json:"city,omitempty"`
	District    string `json:"district,omitempty"`
	Subdistrict string `json:"subdistrict,omitempty"`
	Community   string `json:"community,omitempty"`
	Road        string `json:"road,omitempty"`
	Door        string `json:"door,omitempty"`
	Compound    string `json:"compound,omitempty"`
	Building    string `json:"building,omitempty"`
	Unit        string `json:"unit,omitempty"`
	Floor       string `json:"floor,omitempty"`
	Room        string `json:"room,omitempty"`
	// Read lists the names that were not written as the register writes them ("福化南街 read as
	// 福华南街").
	Read []string `json:"read,omitempty"`
	// Ignored is the text that is neither a name of the register nor a number (extra words).
	Ignored []string `json:"ignored,omitempty"`
	// Foreign is a district, city or province named that is not the register's.
	Foreign string `json:"foreign,omitempty"`
	// Cut is set when the text was longer than MaxRunes characters.
	Cut bool `json:"cut,omitempty"`

	also         []string // other roads or compounds as close to what was written
	communities  []int32
	subdistricts []int32
}

// Empty reports whether nothing usable was read.
func (p *Parsed) Empty() bool {
	return p.District == "" && p.Subdistrict == "" && p.Community == "" && p.Road == "" && p.Compound == "" && p.Door == "" && p.Building == ""
}

// token is one piece of the normal form: a name found in the gazetteer, a marked number, or text.
type token struct {
	text   string
	names  []int32 // gazetteer names (ambiguous when more than one)
	marker rune    // for numbers
	num    string
}

var roadSuffixes = []string{"大道", "路", "街", "巷", "道", "胡同"}
var compoundSuffixes = []string{"小区", "花园", "家园", "公寓", "大厦", "广场", "院", "苑", "府", "城", "园", "庭", "居", "里", "坊"}
var foreignSuffixes = []string{"省", "市", "区", "县"}

// Parse reads text into its elements with the matcher's gazetteer.
func (m *Matcher) Parse(text string) *Parsed {
	norm, cut := Normalize(text)
	p := &Parsed{Normal: norm, Cut: cut}
	g := m.gz
	var toks []token
	var pending strings.Builder // text not found
	flush := func() {
		if pending.Len() > 0 {
			toks = append(toks, token{text: pending.String()})
			pending.Reset()
		}
	}
	s := norm
	for i := 0; i < len(s); {
		if l, ns := g.longest(s[i:]); l > 0 {
			flush()
			toks = append(toks, token{text: s[i : i+l], names: ns})
			i += l
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if isDigit(r) || isLetter(r) && i+w < len(s) && isDigitAt(s, i) {
			j := i
			for j < len(s) && (isDigit(rune(s[j])) || isLetter(rune(s[j]))) {
				j++
			}
			mr, mw := utf8.DecodeRuneInString(s[j:])
			if isMarker(mr) {
				flush()
				toks = append(toks, token{num: s[i:j], marker: mr})
				i = j + mw
				continue
			}
			pending.WriteString(s[i:j])
			i = j
			continue
		}
		pending.WriteRune(r)
		i += w
	}
	flush()
	// A short name followed by text the gazetteer does not know may be the start of a misspelt
	// road or compound (广文 + 达道: 广文大道 written 广文达道): read them together when that
	// finds one.
	for ti := 1; ti < len(toks); ti++ {
		t, prev := toks[ti], toks[ti-1]
		if t.names != nil || t.num != "" || prev.names == nil || !hasAnySuffix(t.text, roadSuffixes) && !hasAnySuffix(t.text, compoundSuffixes) {
			continue
		}
		joined := prev.text + t.text
		kind := KindRoad
		if !hasAnySuffix(t.text, roadSuffixes) {
			kind = KindCompound
		}
		if ms := g.similar(joined, kind, nil); len(ms) > 0 {
			toks[ti-1] = token{text: joined}
			toks = append(toks[:ti], toks[ti+1:]...)
			ti--
		}
	}
	// Names: the administrative prefix, roads and compounds; an ambiguous key (淮河路: the road, or
	// 淮河路街道 short) is the road when a number follows it, otherwise the administrative name.
	for ti, t := range toks {
		switch {
		case t.num != "":
			switch t.marker {
			case mDoor:
				setOnce(&p.Door, t.num)
			case mBuilding:
				setOnce(&p.Building, t.num)
			case mUnit:
				setOnce(&p.Unit, t.num)
			case mFloor:
				setOnce(&p.Floor, t.num)
			case mRoom:
				setOnce(&p.Room, t.num)
			}
		case t.names != nil:
			numberNext := ti+1 < len(toks) && toks[ti+1].num != ""
			m.takeName(p, t, numberNext)
		default:
			m.unknown(p, t.text, ti+1 < len(toks) && toks[ti+1].num != "")
		}
	}
	return p
}

func isDigitAt(s string, i int) bool {
	for j := i; j < len(s) && j < i+4; j++ {
		if isDigit(rune(s[j])) {
			return true
		}
	}
	return false
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// takeName sets the element a gazetteer token names.
func (m *Matcher) takeName(p *Parsed, t token, numberNext bool) {
	g := m.gz
	var kinds [8][]int32
	for _, i := range t.names {
		k := g.names[i].kind
		kinds[k] = append(kinds[k], i)
	}
	// A road or compound followed by its number is that; otherwise the administrative name wins
	// when it has the same key (蜜蜂张: the subdistrict; 华润悦府: the compound and the community).
	isRoad, isComp := len(kinds[KindRoad]) > 0, len(kinds[KindCompound]) > 0
	admin := len(kinds[KindSubdistrict]) > 0 || len(kinds[KindCommunity]) > 0
	if isRoad && (numberNext || !admin || p.Road != "" || t.text == g.names[kinds[KindRoad][0]].canonical) && p.Road == "" {
		p.Road = g.names[kinds[KindRoad][0]].canonical
		if !numberNext && admin {
			// 淮河路 alone may be the subdistrict: keep it as that too.
			m.takeAdmin(p, kinds)
		}
		return
	}
	if isComp && p.Compound == "" {
		p.Compound = g.names[kinds[KindCompound][0]].canonical
		m.takeAdmin(p, kinds)
		return
	}
	m.takeAdmin(p, kinds)
}

func (m *Matcher) takeAdmin(p *Parsed, kinds [8][]int32) {
	g := m.gz
	if len(kinds[KindProvince]) > 0 {
		setOnce(&p.Province, g.names[kinds[KindProvince][0]].canonical)
	}
	if len(kinds[KindCity]) > 0 {
		setOnce(&p.City, g.names[kinds[KindCity][0]].canonical)
	}
	if len(kinds[KindDistrict]) > 0 {
		setOnce(&p.District, g.names[kinds[KindDistrict][0]].canonical)
	}
	if len(kinds[KindSubdistrict]) > 0 && p.Subdistrict == "" {
		p.subdistricts = kinds[KindSubdistrict]
		p.Subdistrict = g.names[kinds[KindSubdistrict][0]].canonical
	}
	if c := kinds[KindCommunity]; len(c) > 0 && p.Community == "" {
		// The same community name under two subdistricts: the parent written decides.
		pick := c[0]
		for _, i := range c {
			if g.names[i].parent == p.Subdistrict {
				pick = i
			}
		}
		p.communities = c
		p.Community = g.names[pick].canonical
		if p.Subdistrict == "" && len(c) == 1 {
			p.Subdistrict = g.names[pick].parent
		}
	}
}

// unknown reads text the gazetteer did not find: a road or compound written with a typo, a
// district of somewhere else, or extra words.
func (m *Matcher) unknown(p *Parsed, text string, numberNext bool) {
	g := m.gz
	rs := []rune(text)
	if len(rs) == 0 {
		return
	}
	hasHan := false
	for _, r := range rs {
		if unicode.Is(unicode.Han, r) {
			hasHan = true
			break
		}
	}
	if !hasHan {
		p.Ignored = append(p.Ignored, text)
		return
	}
	try := func(k Kind, dst *string, suffixes []string) bool {
		if *dst != "" {
			return false
		}
		ok := false
		for _, suf := range suffixes {
			if strings.HasSuffix(text, suf) {
				ok = true
				break
			}
		}
		if !ok && !(k == KindRoad && numberNext) {
			return false
		}
		// The name is at the end of the text; try the endings longest first.
		for l := min(len(rs), 12); l >= 3; l-- {
			tail := string(rs[len(rs)-l:])
			ms := g.similar(tail, k, nil)
			if len(ms) == 0 {
				continue
			}
			best := ms[0]
			for _, x := range ms[1:] {
				if x.dist < best.dist {
					best = x
				}
			}
			*dst = g.names[best.name].canonical
			p.Read = append(p.Read, tail+" → "+*dst)
			// Other names as close (郊通路: 交通路 or 政通路) are looked for too.
			for _, x := range ms {
				if x.dist == best.dist && x.name != best.name {
					p.also = append(p.also, g.names[x.name].canonical)
				}
			}
			if l < len(rs) {
				p.Ignored = append(p.Ignored, string(rs[:len(rs)-l]))
			}
			return true
		}
		return false
	}
	if try(KindRoad, &p.Road, roadSuffixes) || try(KindCompound, &p.Compound, compoundSuffixes) {
		return
	}
	for _, suf := range foreignSuffixes {
		if strings.HasSuffix(text, suf) && !hasAnySuffix(text, notForeign) && len(rs) >= 2 && len(rs) <= 8 && p.Foreign == "" {
			p.Foreign = text
			return
		}
	}
	p.Ignored = append(p.Ignored, text)
}

// Endings in 区 that are not districts.
var notForeign = []string{"小区", "社区", "园区", "街区", "景区", "校区", "厂区", "城区", "片区", "院区", "矿区"}

func hasAnySuffix(s string, list []string) bool {
	for _, x := range list {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}
