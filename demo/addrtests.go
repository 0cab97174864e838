package demo

import (
	"fmt"
	"strconv"
	"strings"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
)

// TestAddress is an address written the way a person would, with the register row it means.
type TestAddress struct {
	Text string
	Rule string
	Want gridline.Address // the unit row it was written from
}

// AddressRules are the ways AddressTestSet writes an address, in turn.
var AddressRules = []string{"full", "abbreviated", "no-city", "dong", "chinese-numerals", "full-width", "no-unit", "wrong-direction", "extra-words", "compound-or-community", "dashes", "typo"}

// AddressTestSet writes n addresses of the register (every k-th unit row), each by the next rule of
// AddressRules:
//   - full: 河南省郑州市二七区 + subdistrict short name + road + N号院 + B号楼 + U单元 + room;
//   - abbreviated: 郑州二七 + road + N号 + B号楼 + U单元;
//   - no-city: 二七区 + community short name + 社区 + road + N号 + B号楼 + U单元;
//   - dong: road + N号 + B栋 + U单元 + room室 (幢 every other one);
//   - chinese-numerals: road + 三十二号院 + 三号楼 + 二单元 + 五零一;
//   - full-width: road + ３２号 + ３号楼 + ２单元;
//   - no-unit: road + N号院 + B号楼;
//   - wrong-direction: 南/北/东/西 in the road swapped (福华南街 -> 福华北街), or one character
//     replaced by a homophone when the road has none (华 -> 化);
//   - extra-words: 我家住在 + road + N号院B号楼U单元 + 门口，麻烦快点来;
//   - compound-or-community: compound + B号楼 + U单元 when the door has a named compound, else
//     community short name + 社区 + road + N号 + B号楼;
//   - dashes: road + N号 + B-U-room;
//   - typo: a homophone in the road name, written with the district (二七区).
func AddressTestSet(rows []gridline.Address, n int) []TestAddress {
	var units []int
	for i := range rows {
		if rows[i].Unit != "" {
			units = append(units, i)
		}
	}
	if len(units) == 0 || n <= 0 {
		return nil
	}
	step := max(1, len(units)/n)
	var out []TestAddress
	for k := 0; k < len(units) && len(out) < n; k += step {
		a := rows[units[k]]
		rule := AddressRules[len(out)%len(AddressRules)]
		room := fmt.Sprintf("%d0%d", 1+k%6, 1+k%2)
		sub, _ := address.StripAdminSuffix(a.Subdistrict)
		comm, _ := address.StripAdminSuffix(a.Community)
		door, b, u := a.Door, a.Building, a.Unit
		var t string
		switch rule {
		case "full":
			t = a.Province + a.City + a.District + sub + "街道" + a.Road + door + "号院" + b + "号楼" + u + "单元" + room
		case "abbreviated":
			t = "郑州二七" + a.Road + door + "号" + b + "号楼" + u + "单元"
		case "no-city":
			t = a.District + comm + "社区" + a.Road + door + "号" + b + "号楼" + u + "单元"
		case "dong":
			d := "栋"
			if k%2 == 1 {
				d = "幢"
			}
			t = a.Road + door + "号" + b + d + u + "单元" + room + "室"
		case "chinese-numerals":
			t = a.Road + chineseNumber(door) + "号院" + chineseNumber(b) + "号楼" + chineseNumber(u) + "单元" + chineseDigits(room)
		case "full-width":
			t = a.Road + fullWidth(door) + "号" + fullWidth(b) + "号楼" + fullWidth(u) + "单元"
		case "no-unit":
			t = a.Road + door + "号院" + b + "号楼"
		case "wrong-direction":
			t = wrongDirection(a.Road) + door + "号院" + b + "号楼" + u + "单元"
		case "extra-words":
			t = "我家住在" + a.Road + door + "号院" + b + "号楼" + u + "单元门口，麻烦快点来"
		case "compound-or-community":
			if a.Compound != "" {
				t = a.Compound + b + "号楼" + u + "单元"
			} else {
				t = comm + "社区" + a.Road + door + "号" + b + "号楼"
			}
		case "dashes":
			t = a.Road + door + "号" + b + "-" + u + "-" + room
		case "typo":
			t = a.District + homophone(a.Road) + door + "号院" + b + "号楼" + u + "单元"
		}
		out = append(out, TestAddress{Text: t, Rule: rule, Want: a})
	}
	return out
}

var directionSwap = map[rune]rune{'南': '北', '北': '南', '东': '西', '西': '东'}

func wrongDirection(road string) string {
	rs := []rune(road)
	for i := len(rs) - 2; i >= 0; i-- {
		if o, ok := directionSwap[rs[i]]; ok {
			rs[i] = o
			return string(rs)
		}
	}
	return homophone(road)
}

// homophones are characters people type for one another with a pinyin keyboard.
var homophones = map[rune]rune{'华': '化', '河': '和', '江': '将', '建': '见', '新': '心', '京': '经', '中': '钟', '民': '明',
	'航': '行', '海': '每', '陇': '龙', '人': '仁', '大': '达', '学': '雪', '福': '富', '德': '得', '政': '正', '通': '同',
	'交': '郊', '工': '公', '嵩': '松', '兴': '星', '长': '常', '天': '田', '下': '夏', '代': '待', '铭': '明', '功': '工',
	'红': '宏', '云': '运', '洁': '杰', '棉': '绵', '纺': '访', '永': '勇', '安': '按', '前': '钱', '后': '候', '马': '码',
	'环': '还', '圃': '普', '淮': '怀', '和': '河', '二': '贰', '一': '壹', '道': '到', '西': '希', '东': '冬'}

// homophone replaces the first character of the road's name (not its 路/街) that has a homophone.
func homophone(road string) string {
	rs := []rune(road)
	for i := 0; i < len(rs)-1; i++ {
		if h, ok := homophones[rs[i]]; ok {
			rs[i] = h
			return string(rs)
		}
	}
	return road
}

var cnDigits = []rune("零一二三四五六七八九")

// chineseNumber writes n as people say it: 32 -> 三十二, 105 -> 一百零五, 12 -> 十二.
func chineseNumber(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n >= 1000 {
		return s
	}
	var b strings.Builder
	h, t, o := n/100, n/10%10, n%10
	if h > 0 {
		b.WriteRune(cnDigits[h])
		b.WriteRune('百')
		if t == 0 && o > 0 {
			b.WriteRune('零')
		}
	}
	if t > 0 {
		if !(t == 1 && h == 0) {
			b.WriteRune(cnDigits[t])
		}
		b.WriteRune('十')
	}
	if o > 0 {
		b.WriteRune(cnDigits[o])
	}
	return b.String()
}

// chineseDigits writes each digit as a numeral: 501 -> 五零一.
func chineseDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(cnDigits[r-'0'])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r + 0xFEE0)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
