package store

// LevelExpr lets the tests of package store_test run levelExpr against the database.
var LevelExpr = levelExpr
