package gridline_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"gridline.dev/gridline"
)

func TestExcerpt(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"short stays whole", "id,lon,lat", "id,lon,lat"},
		{"exactly the limit stays whole", strings.Repeat("a", gridline.ExcerptRunes), strings.Repeat("a", gridline.ExcerptRunes)},
		{"long is cut with an ellipsis", strings.Repeat("a", 1<<20), strings.Repeat("a", gridline.ExcerptRunes) + "…"},
		{"cut between characters, not bytes", strings.Repeat("网格", 100), strings.Repeat("网格", gridline.ExcerptRunes/2) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := gridline.Excerpt(tc.in)
			if got != tc.want || !utf8.ValidString(got) {
				t.Fatalf("Excerpt = %q, want %q", got, tc.want)
			}
		})
	}
}
