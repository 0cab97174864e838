package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

const tokenUsage = `usage:
  gridline token list                   every API token: id, name, admin, created, revoked
  gridline token create [--admin] [--user USER] NAME
                                        a new token for account USER (default admin), printed
                                        once (it is stored hashed); it carries at most USER's
                                        permissions, accounts.manage only with --admin
  gridline token revoke ID              refuse the token from the next request on
`

// tokenCmd manages API tokens. The first admin token is made by the first serve or import and
// printed once; this is how an operator makes more, for each client, and revokes a leaked one.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, tokenUsage)
		return errors.New("token: say list, create or revoke")
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	admin := fs.Bool("admin", false, "the token may manage accounts, grants and tokens too, when its account may (create only)")
	user := fs.String("user", "admin", "the account the token belongs to (create only)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "list", "create", "revoke":
	default:
		fmt.Fprint(stdout, tokenUsage)
		return fmt.Errorf("token: unknown subcommand %q", args[0])
	}
	if args[0] == "list" && fs.NArg() != 0 || args[0] != "list" && fs.NArg() != 1 {
		fmt.Fprint(stdout, tokenUsage)
		return fmt.Errorf("token %s: wrong number of arguments", args[0])
	}
	var id int64
	if args[0] == "revoke" {
		var err error
		if id, err = strconv.ParseInt(fs.Arg(0), 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("token revoke: %q is not a token id (gridline token list shows them)", fs.Arg(0))
		}
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = cliActor(ctx)
	switch args[0] {
	case "list":
		ts, err := db.Tokens(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-5s %-20s %-5s %-16s %-20s %s\n", "id", "name", "admin", "account", "created", "revoked")
		for _, t := range ts {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%-5d %-20s %-5v %-16s %-20s %s\n", t.ID, t.Name, t.Admin, t.Username, t.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
	case "create":
		a, err := db.AccountByUsername(ctx, *user)
		if err != nil {
			return err
		}
		tok, err := db.CreateToken(ctx, a.ID, fs.Arg(0), *admin)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API token %q (shown once; send it as Authorization: Bearer <token>):\n  %s\n", fs.Arg(0), tok)
	case "revoke":
		if err := db.RevokeToken(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d revoked\n", id)
	}
	return nil
}
