package store_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// TestConflictWords: a unique or foreign-key violation reaches the user as a conflict in the
// project's words, without PostgreSQL's detail ("Key (id)=(18) already exists") or constraint
// names; only a code that clashes is named.
func TestConflictWords(t *testing.T) {
	cases := []struct {
		name      string
		pe        *pgconn.PgError
		says, not string
	}{
		{"open code", &pgconn.PgError{Code: "23505", ConstraintName: "grids_open_code_key", Detail: "Key (code, layer)=(410103001001, comprehensive) already exists."}, "already valid with no end date: 410103001001, comprehensive", "Key ("},
		{"open id", &pgconn.PgError{Code: "23505", ConstraintName: "grids_open_id_key", Detail: "Key (id)=(18) already exists."}, "written at the same time", "Key ("},
		{"another unique key", &pgconn.PgError{Code: "23505", ConstraintName: "grids_pkey", Message: "duplicate key value violates unique constraint \"grids_pkey\"", Detail: "Key (version_id)=(7) already exists."}, "clashes with what is stored", "grids_pkey"},
		{"foreign key", &pgconn.PgError{Code: "23503", ConstraintName: "assignments_person_fk", Detail: "Key (person_id)=(9) is not present in table \"people\"."}, "not stored", "people"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := store.Classify(tc.pe)
			msg := gridline.ErrorMessage(err)
			if gridline.ErrorCode(err) != gridline.EConflict || !strings.Contains(msg, tc.says) || strings.Contains(msg, tc.not) {
				t.Fatalf("%s: %q, want a conflict saying %q without %q", gridline.ErrorCode(err), msg, tc.says, tc.not)
			}
		})
	}
}
