package address

import (
	"strings"
	"unicode/utf8"
)

// Kind is what a name of the gazetteer names.
type Kind uint8

const (
	KindProvince Kind = iota + 1
	KindCity
	KindDistrict
	KindSubdistrict
	KindCommunity
	KindRoad
	KindCompound
)

var kindNames = [...]string{"", "province", "city", "district", "subdistrict", "community", "road", "compound"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// name is one entry of the gazetteer: a name of the register (canonical, as the register writes
// it) under one of the keys it is found by (itself normalised, its aliases and short forms).
type name struct {
	kind      Kind
	canonical string // as the register writes it
	parent    string // canonical name of the parent: a community's subdistrict, a subdistrict's district
}

// gazetteer finds the register's names in normalised text, longest first.
type gazetteer struct {
	keys    map[string][]int32 // normalised key -> names
	names   []name
	byName  map[nameKey]int32
	maxLen  map[rune]int // longest key (bytes) by its first rune: positions with none are skipped
	deletes map[string][]int32
}

type nameKey struct {
	kind      Kind
	canonical string
	parent    string
}

func newGazetteer() *gazetteer {
	return &gazetteer{keys: map[string][]int32{}, byName: map[nameKey]int32{}, maxLen: map[rune]int{}, deletes: map[string][]int32{}}
}

// add registers a name under its key and returns its index.
func (g *gazetteer) add(k Kind, canonical, parent string) int32 {
	nk := nameKey{k, canonical, parent}
	if i, ok := g.byName[nk]; ok {
		return i
	}
	i := int32(len(g.names))
	g.names = append(g.names, name{kind: k, canonical: canonical, parent: parent})
	g.byName[nk] = i
	return i
}

// key makes the normalised text key find name i.
func (g *gazetteer) key(key string, i int32) {
	key = NormalizeName(key)
	if utf8.RuneCountInString(key) < 2 {
		return
	}
	for _, j := range g.keys[key] {
		if j == i {
			return
		}
	}
	g.keys[key] = append(g.keys[key], i)
	r, _ := utf8.DecodeRuneInString(key)
	if len(key) > g.maxLen[r] {
		g.maxLen[r] = len(key)
	}
}

// fuzzyKey makes name i findable by edit distance 1 (roads and compounds): every key with one
// character deleted, as SymSpell does.
func (g *gazetteer) fuzzyKey(key string, i int32) {
	key = NormalizeName(key)
	rs := []rune(key)
	if len(rs) < 3 {
		return
	}
	add := func(s string) {
		for _, j := range g.deletes[s] {
			if j == i {
				return
			}
		}
		g.deletes[s] = append(g.deletes[s], i)
	}
	add(key)
	for d := range rs {
		add(string(rs[:d]) + string(rs[d+1:]))
	}
}

// similar lists the names of kind k within edit distance 1 of s (s itself excluded when exact is
// false), with their distance.
func (g *gazetteer) similar(s string, k Kind, out []match) []match {
	rs := []rune(s)
	if len(rs) < 3 {
		return out
	}
	seen := func(i int32) bool {
		for _, m := range out {
			if m.name == i {
				return true
			}
		}
		return false
	}
	try := func(q string) {
		for _, i := range g.deletes[q] {
			n := &g.names[i]
			if n.kind != k || seen(i) {
				continue
			}
			if d := editDistance(rs, n.canonical, 2); d <= 1 {
				out = append(out, match{name: i, dist: d})
			}
		}
	}
	try(s)
	var b strings.Builder
	for d := range rs {
		b.Reset()
		b.WriteString(string(rs[:d]))
		b.WriteString(string(rs[d+1:]))
		try(b.String())
	}
	return out
}

// match is a name found, with its edit distance from what was written.
type match struct {
	name int32
	dist int
}

// editDistance is the Levenshtein distance between a and b in characters, or max when it is
// larger than max.
func editDistance(a []rune, bs string, max int) int {
	b := []rune(NormalizeName(bs))
	if abs(len(a)-len(b)) > max {
		return max + 1
	}
	var rowBuf [2][32]int
	if len(b) >= 31 {
		return max + 1
	}
	prev, cur := rowBuf[0][:len(b)+1], rowBuf[1][:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
			best = min(best, c)
		}
		if best > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// longest finds the longest key at the start of s: its byte length and names, or 0.
func (g *gazetteer) longest(s string) (int, []int32) {
	r, _ := utf8.DecodeRuneInString(s)
	ml := g.maxLen[r]
	if ml == 0 {
		return 0, nil
	}
	for l := min(ml, len(s)); l > 0; l-- {
		if l < len(s) && !utf8.RuneStart(s[l]) {
			continue
		}
		if ns, ok := g.keys[s[:l]]; ok {
			return l, ns
		}
	}
	return 0, nil
}

// Suffixes that administrative names carry and people leave out.
var (
	subdistrictSuffixes = []string{"街道办事处", "街道", "办事处", "镇", "乡"}
	communitySuffixes   = []string{"社区居民管理委员会", "社区居民委员会", "社区管理委员会", "社区委员会", "地区拟居委会", "社区居委会", "居民委员会", "村民委员会", "村委会", "居委会", "社区", "村"}
)

// StripAdminSuffix is an administrative name without its suffix (淮河路街道 -> 淮河路, 淮河社区居民委员会
// -> 淮河, 尖岗村委会 -> 尖岗) and the suffix.
func StripAdminSuffix(s string) (string, string) {
	for _, list := range [][]string{communitySuffixes, subdistrictSuffixes} {
		for _, suf := range list {
			if strings.HasSuffix(s, suf) && len(s) > len(suf) {
				return strings.TrimSuffix(s, suf), suf
			}
		}
	}
	return s, ""
}

// adminKeys are the keys an administrative name is found by: itself, its short forms and the usual
// written forms (淮河社区居民委员会: 淮河社区, 淮河社区居委会, 淮河).
func adminKeys(k Kind, full string) []string {
	keys := []string{full}
	switch k {
	case KindProvince:
		keys = append(keys, strings.TrimSuffix(strings.TrimSuffix(full, "省"), "市"))
	case KindCity:
		keys = append(keys, strings.TrimSuffix(full, "市"))
	case KindDistrict:
		keys = append(keys, strings.TrimSuffix(strings.TrimSuffix(full, "区"), "县"))
	case KindSubdistrict:
		short, suf := StripAdminSuffix(full)
		keys = append(keys, short)
		if suf == "街道" || suf == "街道办事处" || suf == "办事处" {
			keys = append(keys, short+"街道", short+"街道办事处", short+"办事处", short+"街")
		}
	case KindCommunity:
		short, suf := StripAdminSuffix(full)
		keys = append(keys, short)
		switch {
		case strings.Contains(suf, "村"):
			keys = append(keys, short+"村", short+"村委会")
		default:
			keys = append(keys, short+"社区", short+"社区居委会", short+"居委会")
		}
	}
	return keys
}
