package store

import (
	"strconv"
	"strings"

	"gridline.dev/gridline"
)

// The SQL that speaks of the levels is derived here from gridline.Levels, the one list of them, so
// that adding or renaming a level is one edit in Go. The database's own copy, the CHECK constraint
// of migration 0001 on grids.level, cannot follow (a migration that has run stays as it is):
// TestLevelsAgreeWithDatabase keeps the two the same, and a change of levels needs a migration
// that replaces the constraint.
//
// The levels are written into the statements as literals, built once, rather than passed as
// parameters: they come from the program, never from a request, and so each statement keeps its
// parameters and its text (and with them its plan).

var (
	// levelList is the levels as SQL literals, top down: 'district','subdistrict',...
	levelList = func() string {
		lits := make([]string, len(gridline.Levels))
		for i, l := range gridline.Levels {
			lits[i] = sqlLiteral(string(l))
		}
		return strings.Join(lits, ",")
	}()
)

// sqlLiteral quotes s as an SQL string literal. It is for text the program itself holds (level
// and layer names, messages) and for SQL that must stand alone without parameters (the tegola
// configuration); values from requests and files go through $n parameters.
func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// levelRank is the SQL for the position of level expr in gridline.Levels counting from 1 (a
// district 1, a micro grid 5; NULL for anything else), to order grids by level or compare two.
func levelRank(expr string) string {
	return "array_position(ARRAY[" + levelList + "], " + expr + ")"
}

// parentRule is the hierarchy rule as an SQL condition: whether a grid whose layer and level are
// the SQL expressions layer and level may hang under a parent whose layer and level are
// parentLayer and parentLevel. A comprehensive grid's parent is one level up in the comprehensive
// layer; a special grid hangs under a community; a thematic grid hangs under a higher level of its
// own layer or under the district. checkGrids enforces it on every write; imports use it to find a
// parent by containment.
func parentRule(layer, level, parentLayer, parentLevel string) string {
	return `CASE
	WHEN ` + layer + ` = 'comprehensive' THEN ` + parentLayer + ` = 'comprehensive'
		AND ` + levelRank(parentLevel) + ` = ` + levelRank(level) + ` - 1
	WHEN ` + layer + ` = 'special' THEN ` + parentLayer + ` = 'comprehensive' AND ` + parentLevel + ` = 'community'
	ELSE (` + parentLayer + ` = ` + layer + ` AND ` + levelRank(parentLevel) + ` < ` + levelRank(level) + `)
		OR (` + parentLayer + ` = 'comprehensive' AND ` + parentLevel + ` = 'district') END`
}

// levelWords are the ways files write each level besides its name and its rank (0 for a district,
// 1 for a subdistrict ...): the Chinese names.
var levelWords = map[gridline.Level][]string{
	gridline.LevelDistrict:    {"区", "县", "区县"},
	gridline.LevelSubdistrict: {"街道", "乡镇", "乡", "镇"},
	gridline.LevelCommunity:   {"社区", "村"},
	gridline.LevelGrid:        {"网格", "基础网格"},
	gridline.LevelMicro:       {"微网格"},
}

// levelExpr is the SQL that turns the usual ways files write a level (its name, its rank 0..4,
// its Chinese name) in the text expression expr into a gridline level; anything else stays as
// written so that the problem names it.
func levelExpr(expr string) string {
	var b strings.Builder
	b.WriteString("CASE lower(btrim(" + expr + "))")
	for rank, l := range gridline.Levels {
		name := sqlLiteral(string(l))
		b.WriteString("\n\tWHEN " + name + " THEN " + name)
		b.WriteString(" WHEN " + sqlLiteral(strconv.Itoa(rank)) + " THEN " + name)
		for _, w := range levelWords[l] {
			b.WriteString(" WHEN " + sqlLiteral(w) + " THEN " + name)
		}
	}
	b.WriteString("\n\tELSE btrim(" + expr + ") END")
	return b.String()
}
