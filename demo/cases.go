package demo

import _ "embed"

// The demo case lists (issue #15), loaded with the demo district: a catalogue with both the
// 4-digit legacy codes and the 5-digit GB/T 47678.5 codes, the district's departments (the
// command center is the fallback party) and a responsibility list. See data/PROVENANCE.md.
var (
	//go:embed data/case-categories.csv
	CaseCategories []byte
	//go:embed data/departments.csv
	Departments []byte
	//go:embed data/responsibility-rules.csv
	ResponsibilityRules []byte
)
