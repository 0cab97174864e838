package storetest

import (
	"context"
	"testing"

	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/store"
)

// Password is the password of every account Account makes.
const Password = "correct horse battery staple"

// Account creates account username (a new person of that name) holding grants, and returns it.
func Account(t testing.TB, db *store.DB, username string, grants ...accounts.Grant) *accounts.Account {
	t.Helper()
	ctx := context.Background()
	a, err := accounts.CreateAccount(ctx, db, accounts.NewAccount{Username: username, Password: Password, Name: username})
	if err != nil {
		t.Fatalf("create account %s: %v", username, err)
	}
	for _, g := range grants {
		g.AccountID = a.ID
		if _, err := db.AddGrant(ctx, g); err != nil {
			t.Fatalf("grant %s %s: %v", username, g.Role, err)
		}
	}
	return a
}

// Token creates account username holding grants and an API token for it, and returns the token.
func Token(t testing.TB, db *store.DB, username string, grants ...accounts.Grant) string {
	t.Helper()
	a := Account(t, db, username, grants...)
	tok, err := db.CreateToken(context.Background(), a.ID, username, false)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Everywhere is a grant of role on all.
func Everywhere(role accounts.Role) accounts.Grant {
	return accounts.Grant{Role: role, Scope: accounts.Scope{Kind: accounts.ScopeAll}}
}

// Under is a grant of role on the subtree of grid id.
func Under(role accounts.Role, id int64) accounts.Grant {
	return accounts.Grant{Role: role, Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: id}}
}
