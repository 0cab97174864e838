package importers_test

import "testing"

// FuzzImportFlatGeobuf: a truncated or random .fgb is a user's error (ogr2ogr exits 0 for a
// truncated one without creating the staging table), never an internal one.
func FuzzImportFlatGeobuf(f *testing.F) {
	fuzzImport(f, ".fgb", "", "\x01\x02not a flatgeobuf", "fgb\x03fgb\x00\x10\x00\x00", "fgb\x03fgb\x00\xff\xff\xff\x7f")
}
