// Package address reads Chinese addresses written the ways people write them and matches them
// against the standard address register (标准地址库). It knows nothing of HTTP or SQL: the register
// comes in as rows (gridline.Address), and the caller resolves the matched point to its grid.
//
// There is no word segmenter: the register is the dictionary. A gazetteer of the register's own
// names (administrative names, roads, compounds and their aliases) is matched longest first over
// the normalised text; numbers (门牌号, 楼, 单元, 层, 室) are read by their markers and matched
// exactly; names that are not found exactly are matched by edit distance in characters.
package address

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRunes is the longest text Normalize reads: no address is longer, and the rest is dropped (the
// caller says so).
const MaxRunes = 200

// Canonical markers after normalisation: every way of writing a number's role becomes one rune.
const (
	mDoor     = '号' // 号, 号院, #
	mBuilding = '栋' // 号楼, 栋, 幢, 座, 楼 (the first)
	mUnit     = '单' // 单元, 门
	mFloor    = '层' // 层, 楼 (after a building)
	mRoom     = '室' // 室, 户, 房, a trailing number after a unit
)

func isNumeral(r rune) bool {
	switch r {
	case '零', '〇', '一', '二', '两', '三', '四', '五', '六', '七', '八', '九', '十', '百', '千':
		return true
	}
	return false
}

var numeralDigit = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// numeralValue reads a run of Chinese numerals: positionally when it has 十/百/千 (三十二 = 32,
// 一百零五 = 105, 十二 = 12), digit by digit otherwise (五零一 = 501).
func numeralValue(rs []rune) string {
	positional := false
	for _, r := range rs {
		if r == '十' || r == '百' || r == '千' {
			positional = true
		}
	}
	if !positional {
		b := make([]byte, 0, len(rs))
		for _, r := range rs {
			b = append(b, byte('0'+numeralDigit[r]))
		}
		return string(b)
	}
	total, cur := 0, 0
	for _, r := range rs {
		switch r {
		case '十', '百', '千':
			m := map[rune]int{'十': 10, '百': 100, '千': 1000}[r]
			if cur == 0 {
				cur = 1
			}
			total += cur * m
			cur = 0
		default:
			cur = numeralDigit[r]
		}
	}
	return strconv.Itoa(total + cur)
}

// markerAt says whether rs[i:] starts with a word that gives the number before it its role, and
// returns the canonical marker and the runes it spans.楼 is a building before any building was
// written and a floor after one.
func markerAt(rs []rune, i int, haveBuilding bool) (rune, int) {
	if i >= len(rs) {
		return 0, 0
	}
	next := rune(0)
	if i+1 < len(rs) {
		next = rs[i+1]
	}
	switch rs[i] {
	case '号':
		switch next {
		case '院':
			return mDoor, 2
		case '楼':
			return mBuilding, 2
		}
		return mDoor, 1
	case '栋', '幢', '座':
		return mBuilding, 1
	case '楼':
		if haveBuilding {
			return mFloor, 1
		}
		return mBuilding, 1
	case '单':
		if next == '元' {
			return mUnit, 2
		}
		return mUnit, 1
	case '门':
		return mUnit, 1
	case '层':
		return mFloor, 1
	case '室', '户', '房':
		return mRoom, 1
	}
	return 0, 0
}

// Normalize rewrites an address into the one form the parser reads: full-width letters and digits
// made half-width, letters upper case, spaces, control characters and punctuation dropped,
// Chinese numerals that count something (三号楼, 五零一室, 第二单元) made digits, and the ways of
// writing a number's role unified (号/号院/# -> 号, 号楼/栋/幢/座/楼 -> 栋, 单元/门 -> 单, 层, 室/户/房 -> 室;
// 3-2-501 -> 3栋2单501室). It returns the normal form and whether the text was cut at MaxRunes.
func Normalize(s string) (string, bool) {
	rs := make([]rune, 0, min(len(s), MaxRunes))
	cut := false
	for _, r := range s {
		if len(rs) >= MaxRunes {
			cut = true
			break
		}
		switch {
		case r == utf8.RuneError:
			continue
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			continue
		}
		switch {
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r == '#':
			r = mDoor
		case r == '-' || r == '—' || r == '–' || r == '－' || r == '~':
			r = '-'
		case unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			continue
		}
		rs = append(rs, r)
	}
	// Chinese numerals that count: before a marker, after 第, or after a marked number (五零一
	// after 单元).
	out := make([]rune, 0, len(rs)+4)
	for i := 0; i < len(rs); {
		r := rs[i]
		if r == '第' && i+1 < len(rs) && (isNumeral(rs[i+1]) || isDigit(rs[i+1])) {
			i++
			continue
		}
		if isNumeral(r) {
			j := i
			for j < len(rs) && isNumeral(rs[j]) {
				j++
			}
			m, _ := markerAt(rs, j, true)
			afterMarker := len(out) > 0 && isMarker(out[len(out)-1]) && len(out) > 1 && isDigit(out[len(out)-2])
			prevFirst := i > 0 && rs[i-1] == '第'
			if m != 0 || prevFirst || (afterMarker && (j == len(rs) || rs[j] == '-')) {
				out = append(out, []rune(numeralValue(rs[i:j]))...)
			} else {
				out = append(out, rs[i:j]...)
			}
			i = j
			continue
		}
		out = append(out, r)
		i++
	}
	// Markers, and numbers without one.
	rs = out
	out = make([]rune, 0, len(rs)+4)
	var haveDoor, haveBuilding, haveUnit bool
	for i := 0; i < len(rs); {
		if !isDigit(rs[i]) {
			out = append(out, rs[i])
			i++
			continue
		}
		// A group of numbers joined by dashes: 3-2-501.
		var nums [][]rune
		j := i
		for {
			k := j
			for k < len(rs) && (isDigit(rs[k]) || (k > j && rs[k] >= 'A' && rs[k] <= 'Z' && k+1 < len(rs) && !isLetter(rs[k+1]))) {
				k++
			}
			nums = append(nums, trimZeros(rs[j:k]))
			j = k
			if j+1 < len(rs) && rs[j] == '-' && isDigit(rs[j+1]) && len(nums) < 4 {
				j++
				continue
			}
			break
		}
		if len(nums) > 1 {
			var roles []rune
			switch {
			case len(nums) >= 4:
				roles = []rune{mDoor, mBuilding, mUnit, mRoom}
			case len(nums) == 3:
				roles = []rune{mBuilding, mUnit, mRoom}
				if haveBuilding {
					roles = []rune{mUnit, mFloor, mRoom}
				}
			case haveBuilding:
				roles = []rune{mUnit, mRoom}
			case haveDoor:
				roles = []rune{mBuilding, mUnit}
			default:
				roles = []rune{mDoor, mBuilding}
			}
			for n, num := range nums {
				out = append(out, num...)
				out = append(out, roles[n])
			}
			haveDoor = haveDoor || roles[0] == mDoor
			haveBuilding = true
			haveUnit = haveUnit || slicesContains(roles, mUnit)
			// A marker written after the group ("3-2-501室") is the last role's: drop it.
			if m, w := markerAt(rs, j, true); m != 0 {
				j += w
			}
			i = j
			continue
		}
		num := nums[0]
		m, w := markerAt(rs, j, haveBuilding)
		if m == 0 {
			// A number with no marker: by what came before it.
			switch {
			case haveUnit || haveBuilding:
				m = mRoom
			case !haveDoor && (j == len(rs) || !isLetter(rs[j])):
				m = mDoor
			case !haveDoor:
				m = 0 // a number inside a name (长江1号 is marked; 7天 is not an address part)
			default:
				m = mBuilding
			}
		}
		if m == mDoor && haveDoor && !haveBuilding {
			// 32号院3号: the second 号 is the building.
			m = mBuilding
		} else if m == mDoor && (haveBuilding || haveUnit) {
			m = mRoom // 2单元501号
		}
		out = append(out, num...)
		if m != 0 {
			out = append(out, m)
		}
		switch m {
		case mDoor:
			// 5号街坊, 长江1号社区: a 号 inside a name (Han text follows it) is not the door.
			if nx := j + w; nx < len(rs) && unicode.Is(unicode.Han, rs[nx]) && !isMarkerStart(rs[nx]) {
				break
			}
			haveDoor = true
		case mBuilding:
			haveBuilding = true
		case mUnit:
			haveUnit = true
		}
		i = j + w
	}
	return string(out), cut
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return r >= 'A' && r <= 'Z' }
func isMarker(r rune) bool {
	return r == mDoor || r == mBuilding || r == mUnit || r == mFloor || r == mRoom
}

func slicesContains(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func trimZeros(rs []rune) []rune {
	for len(rs) > 1 && rs[0] == '0' && isDigit(rs[1]) {
		rs = rs[1:]
	}
	return rs
}

// NormalizeName is the normal form of a name of the register (a road, a compound, an
// administrative name): the same rules as Normalize, so that the text and the gazetteer meet.
func NormalizeName(s string) string {
	n, _ := Normalize(s)
	return n
}

// NumberPart normalises a register number (门牌号, 楼, 单元 ...): "03" -> "3", "三" -> "3",
// full-width digits made half-width; markers are dropped ("3号楼" -> "3").
func NumberPart(s string) string {
	n, _ := Normalize(s)
	n = strings.TrimRightFunc(n, isMarker)
	if n == "" {
		return ""
	}
	rs := []rune(n)
	allNum := true
	for _, r := range rs {
		if isNumeral(r) {
			continue
		}
		allNum = false
	}
	if allNum {
		return numeralValue(rs)
	}
	return string(trimZeros(rs))
}

// isMarkerStart reports whether r can begin a number's role word (栋, 单元 ...).
func isMarkerStart(r rune) bool {
	switch r {
	case '号', '栋', '幢', '座', '楼', '单', '门', '层', '室', '户', '房':
		return true
	}
	return false
}
