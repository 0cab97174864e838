package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// TestTokenCacheBound: with GRIDLINE_TOKEN_CACHE (accounts.Options.TokenCacheTTL), a token revoked
// or an account disabled by another process (here straight in the database, as the command line
// does) still works on this server for less than the TTL and is refused from the TTL on; a change
// made through this server (disabling, a grant revoked) applies at the next request.
func TestTokenCacheBound(t *testing.T) {
	db := storetest.New(t)
	if err := db.Load(context.Background(), storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	const ttl = 3 * time.Second
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	srv := wire(db, res, nil, Options{Accounts: accounts.New(db, accounts.Options{Now: clock.Now, TokenCacheTTL: ttl})}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	ctx := context.Background()

	ops := storetest.Account(t, db, "ops", storetest.Everywhere(accounts.Administrator))
	tok, err := db.CreateToken(ctx, ops.ID, "script", false)
	if err != nil {
		t.Fatal(err)
	}
	status := func(token string) int {
		t.Helper()
		s, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/audit", token, nil)
		return s
	}
	if s := status(tok); s != 200 {
		t.Fatalf("new token: %d", s)
	}
	toks, err := db.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if tk.Name == "script" {
			if err := db.RevokeToken(ctx, tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Revoked elsewhere: remembered until the TTL since it was read, and no longer.
	clock.Add(ttl - time.Millisecond)
	if s := status(tok); s != 200 {
		t.Fatalf("revoked elsewhere, %s after it was read: %d, want 200 (remembered)", ttl-time.Millisecond, s)
	}
	clock.Add(time.Millisecond)
	if s := status(tok); s != 401 {
		t.Fatalf("revoked elsewhere, %s after it was read: %d, want 401", ttl, s)
	}

	// An account disabled through this server: refused at the next request.
	storetest.Account(t, db, "boss", storetest.Everywhere(accounts.Administrator))
	admin, err := db.CreateToken(ctx, ops.ID, "admin script", true)
	if err != nil {
		t.Fatal(err)
	}
	bossID, err := db.AccountByUsername(ctx, "boss")
	if err != nil {
		t.Fatal(err)
	}
	bossTok, err := db.CreateToken(ctx, bossID.ID, "boss script", true)
	if err != nil {
		t.Fatal(err)
	}
	if s := status(admin); s != 200 {
		t.Fatalf("admin token: %d", s)
	}
	if s, body := call(t, nil, http.MethodPost, ts.URL+"/v1/accounts/ops/disable", bossTok, nil); s != 200 {
		t.Fatalf("disable: %d %v", s, body)
	}
	if s := status(admin); s != 401 {
		t.Fatalf("a token of an account disabled through this server: %d, want 401 at once", s)
	}
	// A grant revoked through this server: its permission is gone at the next request.
	viewer := storetest.Account(t, db, "viewer.li", storetest.Everywhere(accounts.Supervisor))
	vt, err := db.CreateToken(ctx, viewer.ID, "v", false)
	if err != nil {
		t.Fatal(err)
	}
	if s := status(vt); s != 200 {
		t.Fatalf("auditor token: %d", s)
	}
	grants, err := db.GrantsOf(ctx, viewer.ID)
	if err != nil || len(grants) != 1 {
		t.Fatal(err, grants)
	}
	if s, body := call(t, nil, http.MethodDelete, ts.URL+"/v1/grants/"+strconv.FormatInt(grants[0].ID, 10), bossTok, nil); s != 200 {
		t.Fatalf("revoke grant: %d %v", s, body)
	}
	if s := status(vt); s != 403 {
		t.Fatalf("a token whose grant was revoked through this server: %d, want 403 at once", s)
	}
}
