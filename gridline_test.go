package gridline_test

import (
	"testing"

	"gridline.dev/gridline"
)

// The messages that list the levels say them in this order and form; a client may show them.
func TestLevelNames(t *testing.T) {
	if got, want := gridline.LevelNames(), "district, subdistrict, community, grid, micro"; got != want {
		t.Errorf("LevelNames() = %q, want %q", got, want)
	}
}
