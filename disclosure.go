package gridline

import (
	"strings"
	"unicode/utf8"
)

// Disclosure is how much of the people responsible for a grid (names, phone numbers) a caller
// sees. Grid workers' names and numbers are posted on boards in their communities, so a district
// may publish them in full; others show them masked or not at all. Anonymous callers get the
// deployment's setting (GRIDLINE_ANONYMOUS_PEOPLE, default masked); signed-in users with a role on
// the grid see everything.
type Disclosure string

const (
	DiscloseFull   Disclosure = "full"   // names and phone numbers as stored
	DiscloseMasked Disclosure = "masked" // 张** and 138****8768; no person ids
	DiscloseNone   Disclosure = "none"   // the post only: no name, phone number or person id
)

// ParseDisclosure reads a setting: full, masked or none ("" is masked).
func ParseDisclosure(s string) (Disclosure, error) {
	switch d := Disclosure(strings.ToLower(strings.TrimSpace(s))); d {
	case DiscloseFull, DiscloseMasked, DiscloseNone:
		return d, nil
	case "":
		return DiscloseMasked, nil
	}
	return "", Errorf(EInvalid, "people disclosure %q: use full, masked or none", s)
}

// Person is a person's id, name and phone number as d shows them: as stored when full; with no id
// and the name and number masked when masked; with neither when none.
func (d Disclosure) Person(id int64, name, phone string) (int64, string, string) {
	switch d {
	case DiscloseFull:
		return id, name, phone
	case DiscloseMasked:
		return 0, MaskName(name), MaskPhone(phone)
	}
	return 0, "", ""
}

// MaskName keeps a name's first character (the family name, in Chinese) and stars the rest:
// 张三 -> 张*, 欧阳娜娜 -> 欧***; a one-character name becomes *.
func MaskName(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 1 {
		return strings.Repeat("*", n)
	}
	_, size := utf8.DecodeRuneInString(s)
	return s[:size] + strings.Repeat("*", n-1)
}

// MaskPhone keeps a phone number's first three and last four characters, as Chinese services
// print mobile numbers: 13812348768 -> 138****8768. Shorter numbers keep their last two.
func MaskPhone(s string) string {
	if s == "" {
		return ""
	}
	if len(s) >= 11 {
		return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
	}
	if len(s) <= 2 {
		return strings.Repeat("*", len(s))
	}
	return strings.Repeat("*", len(s)-2) + s[len(s)-2:]
}
