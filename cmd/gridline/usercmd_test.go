package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"gridline.dev/gridline/store/storetest"
)

// TestUserCommands: the first serve made an administrator who can sign in; `gridline user` and
// `gridline grant` make a planner who signs in and sees their grant; every change is in the audit
// log, whose chain `gridline audit-log verify` checks, and finds broken after a row is edited.
func TestUserCommands(t *testing.T) {
	a := startApp(t, nil)
	if a.adminPassword == "" {
		t.Fatal("serve printed no administrator password")
	}
	env := map[string]string{"DATABASE_URL": a.dbURL, "GRIDLINE_TZ": "Asia/Shanghai"}
	getenv := func(k string) string { return env[k] }
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, getenv, &out, io.Discard)
		return out.String(), err
	}
	signIn := func(user, pw string) (int, map[string]any) {
		resp, err := http.Post(a.base+"/v1/session", "application/json", strings.NewReader(`{"username":"`+user+`","password":"`+pw+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, body := signIn("admin", a.adminPassword); status != 200 || !strings.Contains(strings.Join(anyStrings(body["permissions"]), ","), "accounts.manage") {
		t.Fatalf("the first administrator signs in: %d %v", status, body)
	}
	out, err := cmd("user", "create", "--name", "王规划", "--phone", "13700000000", "wang.planner")
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	pw := regexp.MustCompile(`password \(shown once\): (\S+)`).FindStringSubmatch(out)
	if pw == nil {
		t.Fatalf("user create printed no password:\n%s", out)
	}
	if out, err := cmd("grant", "wang.planner", "planner", "grid:410103001001"); err != nil || !strings.Contains(out, "planner on grid:4") {
		t.Fatalf("grant: %v\n%s", err, out)
	}
	if _, err := cmd("grant", "wang.planner", "administrator", "grid:410103001001"); err == nil || !strings.Contains(err.Error(), "administrator's scope is all") {
		t.Fatalf("grant administrator on a grid: %v", err)
	}
	status, body := signIn("wang.planner", pw[1])
	if status != 200 || !strings.Contains(strings.Join(anyStrings(body["permissions"]), ","), "grids.write") {
		t.Fatalf("planner signs in: %d %v", status, body)
	}
	out, err = cmd("user", "list")
	if err != nil || !strings.Contains(out, "wang.planner") || !strings.Contains(out, "planner grid:4") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	grantID := regexp.MustCompile(`(\d+) planner grid:4`).FindStringSubmatch(out)
	if out, err := cmd("revoke", grantID[1]); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	if out, err := cmd("user", "passwd", "wang.planner"); err != nil || !strings.Contains(out, "sessions ended") {
		t.Fatalf("passwd: %v\n%s", err, out)
	}
	if status, _ := signIn("wang.planner", pw[1]); status != 401 {
		t.Fatalf("the old password after passwd: %d", status)
	}
	if out, err := cmd("user", "disable", "wang.planner"); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %v\n%s", err, out)
	}
	if _, err := cmd("user", "disable", "admin"); err == nil || !strings.Contains(err.Error(), "no enabled administrator") {
		t.Fatalf("disabling the last administrator: %v", err)
	}
	out, err = cmd("audit-log", "verify")
	if err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	var id int64
	if err := storetest.Raw(t, a.db).QueryRow(context.Background(), `SELECT id FROM audit_log WHERE action = 'grant.create' AND username LIKE 'cli:%'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Raw(t, a.db).Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
		UPDATE audit_log SET username = 'someone else' WHERE action = 'grant.create' AND username LIKE 'cli:%';
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd("audit-log", "verify"); err == nil || !strings.Contains(err.Error(), "row "+itoa(id)+": its content does not match") {
		t.Fatalf("verify a tampered log: %v, want row %d named", err, id)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
