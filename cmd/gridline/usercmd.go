package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/api"
	"gridline.dev/gridline/store"
)

const userUsage = `usage:
  gridline user list                         every account: id, username, person, grants, disabled
  gridline user create [--person ID | --name NAME [--phone PHONE]] [--password-stdin] USERNAME
                                             a new account for a person of the roster, or for a
                                             new person who holds no post; without
                                             --password-stdin a random password is printed once
  gridline user passwd [--password-stdin] USERNAME
                                             a new password (its sessions end)
  gridline user disable USERNAME             its sessions end and its tokens stop working
  gridline grant USERNAME ROLE SCOPE         ROLE on SCOPE: all, grid:ID, grid:CODE or department:CODE
  gridline revoke GRANT_ID                   remove a grant (gridline user list shows their ids)

roles: viewer, planner, reviewer, dispatcher, department_handler, grid_worker, supervisor,
administrator (docs/api.md lists what each may do)
`

// cliActor is who the audit log records for a change made on the command line: the operator, who
// holds the database's credentials and so reaches everywhere.
func cliActor(ctx context.Context) context.Context {
	name := os.Getenv("USER")
	if name == "" {
		name = "operator"
	}
	return gridline.WithActor(ctx, &gridline.Actor{Username: "cli:" + name, Address: "command line"})
}

// readPassword reads one line from stdin, or makes a random password when fromStdin is false.
func readPassword(fromStdin bool) (string, bool, error) {
	if !fromStdin {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return "", false, err
		}
		return base64.RawURLEncoding.EncodeToString(b), true, nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, err
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

// userCmd manages accounts.
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, userUsage)
		return errors.New("user: say list, create, passwd or disable")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	person := fs.Int64("person", 0, "the person of the roster the account belongs to (create)")
	name := fs.String("name", "", "the name of a new person for the account (create)")
	phone := fs.String("phone", "", "the new person's phone number (create)")
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	want := 1
	switch args[0] {
	case "list":
		want = 0
	case "create", "passwd", "disable":
	default:
		fmt.Fprint(stdout, userUsage)
		return fmt.Errorf("user: unknown subcommand %q", args[0])
	}
	if fs.NArg() != want {
		fmt.Fprint(stdout, userUsage)
		return fmt.Errorf("user %s: wrong number of arguments", args[0])
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = cliActor(ctx)
	switch args[0] {
	case "list":
		list, err := db.Accounts(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-5s %-20s %-20s %-10s %s\n", "id", "username", "name", "disabled", "grants (id role scope)")
		for _, a := range list {
			disabled := "-"
			if a.DisabledAt != nil {
				disabled = a.DisabledAt.UTC().Format("2006-01-02")
			}
			var gs []string
			for _, g := range a.Grants {
				gs = append(gs, fmt.Sprintf("%d %s %s", g.ID, g.Role, g.Scope))
			}
			fmt.Fprintf(stdout, "%-5d %-20s %-20s %-10s %s\n", a.ID, a.Username, a.Name, disabled, strings.Join(gs, "; "))
		}
	case "create":
		if *person == 0 && *name == "" {
			return errors.New("user create: give --person ID (a person of the roster) or --name NAME (a new person)")
		}
		pw, generated, err := readPassword(*stdin)
		if err != nil {
			return err
		}
		a, err := accounts.CreateAccount(ctx, db, accounts.NewAccount{Username: fs.Arg(0), Password: pw, PersonID: *person, Name: *name, Phone: *phone})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s created for person %d (%s)\n", a.Username, a.PersonID, a.Name)
		if generated {
			fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
		}
		fmt.Fprintf(stdout, "it may do nothing yet: gridline grant %s ROLE SCOPE\n", a.Username)
	case "passwd":
		pw, generated, err := readPassword(*stdin)
		if err != nil {
			return err
		}
		if err := accounts.SetPassword(ctx, db, fs.Arg(0), pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; its sessions ended\n", fs.Arg(0))
		if generated {
			fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
		}
	case "disable":
		if err := db.DisableAccount(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s disabled: its sessions ended and its tokens stopped working\n", fs.Arg(0))
	}
	return nil
}

// grantCmd is `gridline grant USERNAME ROLE SCOPE` and `gridline revoke GRANT_ID`.
func grantCmd(ctx context.Context, revoke bool, args []string, getenv func(string) string, stdout io.Writer) error {
	if !revoke && len(args) != 3 || revoke && len(args) != 1 {
		fmt.Fprint(stdout, userUsage)
		return errors.New("grant USERNAME ROLE SCOPE, or revoke GRANT_ID")
	}
	var id int64
	if revoke {
		var err error
		if id, err = strconv.ParseInt(args[0], 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("revoke: %q is not a grant id (gridline user list shows them)", args[0])
		}
	}
	loc, err := location(getenv)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = cliActor(ctx)
	if revoke {
		g, err := db.RevokeGrant(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "grant %d revoked (%s on %s)\n", g.ID, g.Role, g.Scope)
		return nil
	}
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	g, err := api.GrantFrom(ctx, db, today, args[0], args[1], args[2])
	if err != nil {
		return err
	}
	out, err := db.AddGrant(ctx, g)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "grant %d: %s is %s on %s (%s)\n", out.ID, args[0], out.Role, out.Scope, out.Role.Permissions())
	return nil
}

// auditLogCmd is `gridline audit-log verify`: walk the hash chain and name the first row that was
// altered or follows a removed one.
func auditLogCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "verify" {
		return errors.New("usage: gridline audit-log verify")
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	return verifyAudit(ctx, db, stdout)
}

func verifyAudit(ctx context.Context, db *store.DB, stdout io.Writer) error {
	v, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if v.BadID != 0 {
		return fmt.Errorf("audit log: row %d: %s (%d rows read)", v.BadID, v.Reason, v.Rows)
	}
	last, err := db.Audit(ctx, store.AuditFilter{Everywhere: true, Limit: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log intact: %d rows, the chain holds", v.Rows)
	if len(last) > 0 {
		fmt.Fprintf(stdout, "; newest row %d, hash %s (keep it elsewhere to detect the removal of newer rows)", last[0].ID, last[0].Hash)
	}
	fmt.Fprintln(stdout)
	return nil
}
