package address

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzResolve: no text makes the parser or matcher panic, loop or answer without a reason; the
// seed corpus runs in the normal suite (go test -fuzz=FuzzResolve ./address/ explores further).
func FuzzResolve(f *testing.F) {
	m := smallRegister()
	for _, s := range []string{
		"", " ", "河南省郑州市二七区福华街街道福华南街32号院3号楼2单元501", "福华南街３２号院三栋二单元五零一室", "3-2-501", "--1-2-3-4-5",
		"一百零五号十二座", "十十十号", "零零零栋", "第第第二", "号号号楼楼楼", "淮河路街道陇海路社区", "金水区", "华润悦府12号楼1单元",
		"\x00\x01\x02", "\xff\xfe", strings.Repeat("福华南街", 100), strings.Repeat("9", 300), "A座B单元", "老福华南街-1号",
		"福华南街99999999999999999999号", "两百两十两号",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, _ := Normalize(s)
		if !utf8.ValidString(n) || utf8.RuneCountInString(n) > 2*MaxRunes+16 {
			t.Fatalf("Normalize(%q) = %q", s, n)
		}
		r := m.Resolve(s, day)
		if !r.Resolved && r.Reason == "" {
			t.Fatalf("%q: unresolved without a reason", s)
		}
		if r.Resolved && (r.Best == nil || r.Best.Confidence < 0 || r.Best.Confidence > 1) {
			t.Fatalf("%q: %+v", s, r.Best)
		}
	})
}
