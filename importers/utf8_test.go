package importers

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
)

// TestValidUTF8: the streaming check agrees with utf8.Valid, with characters cut by its blocks
// and by reads of one byte.
func TestValidUTF8(t *testing.T) {
	pad := strings.Repeat("a", 64<<10-1) // a 3-byte character across the first block's end
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"ascii", "{}", true},
		{"chinese across a block", pad + "网格" + pad, true},
		{"gbk bytes", "\xcd\xf8\xb8\xf1", false},
		{"invalid after a block", pad + "网\xff", false},
		{"cut at the end", pad + "\xe7\xbd", false},
		{"empty", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				ok   func() (bool, error)
			}{
				{"blocks", func() (bool, error) { return validUTF8(strings.NewReader(tc.in)) }},
				{"bytes", func() (bool, error) { return validUTF8(iotest.OneByteReader(bytes.NewReader([]byte(tc.in)))) }},
			} {
				got, err := r.ok()
				if err != nil || got != tc.want {
					t.Fatalf("%s: validUTF8 = %v, %v; want %v", r.name, got, err, tc.want)
				}
			}
		})
	}
}
