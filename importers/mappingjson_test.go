package importers

import (
	"strings"
	"testing"
)

// TestMappingJSONWords: a mapping that is not the JSON expected says which member and what it
// must be, never a Go type.
func TestMappingJSONWords(t *testing.T) {
	for _, tc := range []struct{ in, says string }{
		{`{"fields":{"code":5}}`, `must be a string`},
		{`{"level":["grid"]}`, `"level" must be a string`},
		{`{"colour":1}`, `unknown field "colour"`},
		{`[1]`, `the mapping must be an object`},
		{`{"fields":`, `unexpected EOF`},
	} {
		_, err := ParseMapping([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "importers.") {
			t.Errorf("ParseMapping(%s) = %v, want it to say %q and name no Go type", tc.in, err, tc.says)
		}
	}
}
