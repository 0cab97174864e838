package main

import (
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/store"
)

func TestDBOptions(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    store.Options
		wantErr string // a part of the error, "" for none
	}{
		{"defaults", nil, store.Options{}, ""},
		{"both set", map[string]string{"GRIDLINE_STATEMENT_TIMEOUT": "5m", "GRIDLINE_DB_MAX_CONNS": "16"}, store.Options{StatementTimeout: 5 * time.Minute, MaxConns: 16}, ""},
		{"milliseconds", map[string]string{"GRIDLINE_STATEMENT_TIMEOUT": "1500ms"}, store.Options{StatementTimeout: 1500 * time.Millisecond}, ""},
		{"timeout without a unit", map[string]string{"GRIDLINE_STATEMENT_TIMEOUT": "60"}, store.Options{}, `GRIDLINE_STATEMENT_TIMEOUT "60"`},
		{"timeout of zero", map[string]string{"GRIDLINE_STATEMENT_TIMEOUT": "0s"}, store.Options{}, `GRIDLINE_STATEMENT_TIMEOUT "0s"`},
		{"timeout under a millisecond", map[string]string{"GRIDLINE_STATEMENT_TIMEOUT": "500us"}, store.Options{}, `GRIDLINE_STATEMENT_TIMEOUT "500us"`},
		{"negative timeout", map[string]string{"GRIDLINE_STATEMENT_TIMEOUT": "-1s"}, store.Options{}, `GRIDLINE_STATEMENT_TIMEOUT "-1s"`},
		{"timeout past PostgreSQL's limit", map[string]string{"GRIDLINE_STATEMENT_TIMEOUT": "1000h"}, store.Options{}, `GRIDLINE_STATEMENT_TIMEOUT "1000h"`},
		{"no connections", map[string]string{"GRIDLINE_DB_MAX_CONNS": "0"}, store.Options{}, `GRIDLINE_DB_MAX_CONNS "0"`},
		{"connections not a number", map[string]string{"GRIDLINE_DB_MAX_CONNS": "ten"}, store.Options{}, `GRIDLINE_DB_MAX_CONNS "ten"`},
		{"too many connections for an int32", map[string]string{"GRIDLINE_DB_MAX_CONNS": "99999999999"}, store.Options{}, `GRIDLINE_DB_MAX_CONNS "99999999999"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dbOptions(func(k string) string { return tc.env[k] })
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v, want %+v", err, tc.want)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
			case tc.wantErr == "" && got != tc.want:
				t.Fatalf("options %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A bad setting stops the command with the setting's name before it touches the database.
func TestBadDBSettingStopsCommand(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "GRIDLINE_STATEMENT_TIMEOUT": "soon"}
	var out strings.Builder
	err := run(t.Context(), []string{"migrate"}, func(k string) string { return env[k] }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "GRIDLINE_STATEMENT_TIMEOUT") {
		t.Fatalf("migrate with GRIDLINE_STATEMENT_TIMEOUT=soon: %v", err)
	}
}
