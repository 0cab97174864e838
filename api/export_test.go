package api

// Wire is wire for the package's external tests (fuzz_test.go).
var Wire = wire
