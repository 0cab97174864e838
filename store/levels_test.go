package store_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// TestLevelsAgreeWithDatabase: the store derives every SQL list of levels from gridline.Levels,
// but the CHECK constraint on grids.level was written by migration 0001 and stays as it ran. The
// two must name the same levels (in any order: the order that ranks them is the Go list's), or a
// level the program accepts would fail with a constraint violation instead of a clear message,
// and one the database accepts would be unknown to the program. And the CASE that reads the
// levels of imported files, now derived from the same list, reads them as it always did.
func TestLevelsAgreeWithDatabase(t *testing.T) {
	db := storetest.New(t)
	t.Run("check constraint", func(t *testing.T) { levelsAgree(t, db) })
	t.Run("level words", func(t *testing.T) { levelWords(t, db) })
}

func levelsAgree(t *testing.T, db *store.DB) {
	rows, err := db.Pool().Query(context.Background(), `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'grids'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) ~ '\mlevel\M'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		defs = append(defs, name+": "+def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 {
		t.Fatalf("want one CHECK constraint on grids.level, found %d: %q", len(defs), defs)
	}
	// PostgreSQL writes the constraint back as level = ANY (ARRAY['district'::text, ...]).
	var inDB []string
	for _, m := range regexp.MustCompile(`'((?:[^']|'')*)'`).FindAllStringSubmatch(defs[0], -1) {
		inDB = append(inDB, strings.ReplaceAll(m[1], "''", "'"))
	}
	var inGo []string
	for _, l := range gridline.Levels {
		inGo = append(inGo, string(l))
	}
	slices.Sort(inDB)
	slices.Sort(inGo)
	if !slices.Equal(inDB, inGo) {
		t.Fatalf("the database's constraint (%s) allows the levels %q; gridline.Levels is %q: add a migration that replaces the constraint", defs[0], inDB, inGo)
	}
}

// levelWords: the ways files write a level that an import understands, derived from
// gridline.Levels, and what it leaves for the level check to name.
func levelWords(t *testing.T, db *store.DB) {
	cases := []struct{ in, want string }{
		{"district", "district"}, {" Subdistrict ", "subdistrict"}, {"COMMUNITY", "community"}, {"grid", "grid"}, {"micro", "micro"},
		{"0", "district"}, {"1", "subdistrict"}, {"2", "community"}, {"3", "grid"}, {"4", "micro"},
		{"区县", "district"}, {"乡镇", "subdistrict"}, {"村", "community"}, {"基础网格", "grid"}, {"微网格", "micro"},
		{"5", "5"}, {" Building ", "Building"}, {"it's", "it's"},
	}
	for _, c := range cases {
		var got string
		if err := db.Pool().QueryRow(context.Background(), `SELECT `+store.LevelExpr("$1::text"), c.in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("level %q reads as %q, want %q", c.in, got, c.want)
		}
	}
}
