package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/internal/testenv"
)

// TestTokenCommand makes a token with `gridline token create`, uses it, revokes it, and sees it
// refused; the last admin token cannot be revoked.
func TestTokenCommand(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	a := startApp(t, nil)
	env := map[string]string{"DATABASE_URL": a.dbURL, "GRIDLINE_TZ": "Asia/Shanghai"}
	getenv := func(k string) string { return env[k] }
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"token"}, args...), getenv, &out, io.Discard)
		return out.String(), err
	}
	out, err := cmd("create", "hotline-desk")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	tok := regexp.MustCompile(`glt_[A-Za-z0-9_-]+`).FindString(out)
	if tok == "" {
		t.Fatalf("create printed no token: %q", out)
	}
	file := filepath.Join(t.TempDir(), "p.geojson")
	os.WriteFile(file, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"410103001001009","name":"x","parent_code":"410103001001"},"geometry":{"type":"Point","coordinates":[113.6,34.7]}}]}`), 0o600)
	if code, body := upload(t, a.base, tok, map[string]string{"level": "grid"}, file); code != 200 || body["ok"] != false {
		t.Fatalf("with the new token: %d %v, want a dry-run report of the file's problem", code, body)
	}
	out, err = cmd("list")
	if err != nil || !strings.Contains(out, "hotline-desk") || !strings.Contains(out, "admin") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	var id string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "hotline-desk" {
			id = f[0]
		}
	}
	if out, err := cmd("revoke", id); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke %s: %v\n%s", id, err, out)
	}
	// The server remembers the token's principal (GRIDLINE_TOKEN_CACHE, 10 s by default) and
	// forgets it when the database announces the revocation (migration 0015): refused as soon
	// as that notification arrives, and in any case before the cache's 10 s are up.
	for deadline := time.Now().Add(accounts.MaxTokenCacheTTL); ; time.Sleep(20 * time.Millisecond) {
		code, body := upload(t, a.base, tok, map[string]string{"level": "grid"}, file)
		if code == 401 && errCode(body) == "unauthorized" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with the revoked token, %s after the revocation: %d %v, want 401", accounts.MaxTokenCacheTTL, code, body)
		}
	}
	if _, err := cmd("revoke", id); err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Fatalf("revoking twice: %v", err)
	}
	// The admin token startApp's server made is the only admin one left.
	out, _ = cmd("list")
	var adminID string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "true" {
			adminID = f[0]
		}
	}
	if adminID == "" {
		t.Fatalf("no admin token listed:\n%s", out)
	}
	if _, err := cmd("revoke", adminID); err == nil || !strings.Contains(err.Error(), "last admin token") {
		t.Fatalf("revoking the last admin token: %v", err)
	}
	if _, err := cmd("revoke", "abc"); err == nil || !strings.Contains(err.Error(), "not a token id") {
		t.Fatalf("revoke abc: %v", err)
	}
}
