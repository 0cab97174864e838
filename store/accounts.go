package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
)

// accountLock serialises the changes that must not leave the deployment without an administrator
// (the first administrator, disabling an account, revoking a grant, revoking a token): the same
// lock as the tokens', whose last admin token is protected the same way.
const accountLock = 7411002

const accountColumns = `a.id, a.person_id, a.username, p.name, a.created_at, a.disabled_at, a.password_hash`

func scanAccount(row pgx.Row) (*accounts.Account, error) {
	var a accounts.Account
	err := row.Scan(&a.ID, &a.PersonID, &a.Username, &a.Name, &a.CreatedAt, &a.DisabledAt, &a.PasswordHash)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// AccountByUsername is the account named username; not_found when there is none.
func (db *DB) AccountByUsername(ctx context.Context, username string) (*accounts.Account, error) {
	a, err := scanAccount(db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gridline.Errorf(gridline.ENotFound, "there is no account %q (gridline user list shows them)", username)
	}
	return a, classify(err)
}

// GrantsOf lists an account's grants.
func (db *DB) GrantsOf(ctx context.Context, accountID int64) ([]accounts.Grant, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, account_id, role, scope_kind, coalesce(scope_grid, 0), coalesce(scope_department, '')
		FROM grants WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, scanGrant)
	if out == nil {
		out = []accounts.Grant{}
	}
	return out, classify(err)
}

func scanGrant(r pgx.CollectableRow) (accounts.Grant, error) {
	var g accounts.Grant
	err := r.Scan(&g.ID, &g.AccountID, &g.Role, &g.Scope.Kind, &g.Scope.Grid, &g.Scope.Department)
	return g, err
}

// CreateSession stores a new session by the hash of its secret.
func (db *DB) CreateSession(ctx context.Context, accountID int64, secret, address string, expires time.Time) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO sessions (account_id, hash, address, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		accountID, hashToken(secret), address, expires).Scan(&id)
	return id, classify(err)
}

// SessionAccount finds the live session whose secret this is, and its account.
func (db *DB) SessionAccount(ctx context.Context, secret string, now time.Time) (int64, *accounts.Account, error) {
	var id int64
	var a accounts.Account
	err := db.pool.QueryRow(ctx, `SELECT s.id, `+accountColumns+` FROM sessions s JOIN accounts a ON a.id = s.account_id
		JOIN people p ON p.id = a.person_id
		WHERE s.hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND a.disabled_at IS NULL`, hashToken(secret), now).
		Scan(&id, &a.ID, &a.PersonID, &a.Username, &a.Name, &a.CreatedAt, &a.DisabledAt, &a.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, gridline.Errorf(gridline.EUnauthorized, "the session has ended or expired: sign in again")
	}
	if err != nil {
		return 0, nil, classify(err)
	}
	return id, &a, nil
}

// EndSession signs a session out.
func (db *DB) EndSession(ctx context.Context, sessionID int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL`, sessionID)
	return classify(err)
}

// TokenAccount finds a live API token by its text, with its account.
func (db *DB) TokenAccount(ctx context.Context, token string) (int64, bool, *accounts.Account, error) {
	if !validTokenText(token) {
		return 0, false, nil, gridline.Errorf(gridline.EUnauthorized, "the API token is not a gridline token (they start with %s)", tokenPrefix)
	}
	var id int64
	var admin bool
	var a accounts.Account
	err := db.pool.QueryRow(ctx, `SELECT t.id, t.admin, `+accountColumns+` FROM api_tokens t JOIN accounts a ON a.id = t.account_id
		JOIN people p ON p.id = a.person_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL AND a.disabled_at IS NULL`, hashToken(token)).
		Scan(&id, &admin, &a.ID, &a.PersonID, &a.Username, &a.Name, &a.CreatedAt, &a.DisabledAt, &a.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil, gridline.Errorf(gridline.EUnauthorized, "the API token is unknown or revoked, or its account is disabled")
	}
	if err != nil {
		return 0, false, nil, classify(err)
	}
	return id, admin, &a, nil
}

// TokenAccountGrants is TokenAccount and GrantsOf in one query (accounts.TokenGrantsStore): a
// token's request costs one round trip, not two.
func (db *DB) TokenAccountGrants(ctx context.Context, token string) (int64, bool, *accounts.Account, []accounts.Grant, error) {
	if !validTokenText(token) {
		return 0, false, nil, nil, gridline.Errorf(gridline.EUnauthorized, "the API token is not a gridline token (they start with %s)", tokenPrefix)
	}
	rows, err := db.pool.Query(ctx, `SELECT t.id, t.admin, `+accountColumns+`,
			g.id, g.role, g.scope_kind, coalesce(g.scope_grid, 0), coalesce(g.scope_department, '')
		FROM api_tokens t JOIN accounts a ON a.id = t.account_id
		JOIN people p ON p.id = a.person_id
		LEFT JOIN grants g ON g.account_id = a.id
		WHERE t.hash = $1 AND t.revoked_at IS NULL AND a.disabled_at IS NULL
		ORDER BY g.id`, hashToken(token))
	if err != nil {
		return 0, false, nil, nil, classify(err)
	}
	defer rows.Close()
	var id int64
	var admin bool
	var a *accounts.Account
	grants := []accounts.Grant{}
	for rows.Next() {
		var x accounts.Account
		var gid *int64
		var role, kind *string
		var g accounts.Grant
		if err := rows.Scan(&id, &admin, &x.ID, &x.PersonID, &x.Username, &x.Name, &x.CreatedAt, &x.DisabledAt, &x.PasswordHash,
			&gid, &role, &kind, &g.Scope.Grid, &g.Scope.Department); err != nil {
			return 0, false, nil, nil, classify(err)
		}
		if a == nil {
			a = &x
		}
		if gid != nil {
			g.ID, g.AccountID, g.Role, g.Scope.Kind = *gid, x.ID, accounts.Role(*role), accounts.ScopeKind(*kind)
			grants = append(grants, g)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, false, nil, nil, classify(err)
	}
	if a == nil {
		return 0, false, nil, nil, gridline.Errorf(gridline.EUnauthorized, "the API token is unknown or revoked, or its account is disabled")
	}
	return id, admin, a, grants, nil
}

// accountView is an account as the audit log records it: never its password hash.
func accountView(a *accounts.Account) map[string]any {
	return map[string]any{"username": a.Username, "person_id": a.PersonID, "disabled": a.DisabledAt != nil}
}

// CreateAccount creates an account, and its person when n.PersonID is 0.
func (db *DB) CreateAccount(ctx context.Context, n accounts.NewAccount) (*accounts.Account, error) {
	var out *accounts.Account
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = createAccount(ctx, tx, n)
		return err
	})
	return out, err
}

func createAccount(ctx context.Context, tx pgx.Tx, n accounts.NewAccount) (*accounts.Account, error) {
	if n.PersonID == 0 {
		if n.Name == "" {
			return nil, gridline.Errorf(gridline.EInvalid, "an account needs a person: give the person's id, or a name for a new person").With("field", "name")
		}
		if err := tx.QueryRow(ctx, `INSERT INTO people (name, phone, note) VALUES ($1, $2, 'account') RETURNING id`, n.Name, n.Phone).Scan(&n.PersonID); err != nil {
			return nil, err
		}
		if err := appendAudit(ctx, tx, audit{Action: "person.create", TargetKind: "person", TargetIDs: []int64{n.PersonID},
			After: map[string]any{"name": n.Name, "phone": n.Phone}}); err != nil {
			return nil, err
		}
	}
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE username = $1)`, n.Username).Scan(&taken); err != nil {
		return nil, err
	}
	if taken {
		return nil, gridline.Errorf(gridline.EConflict, "username %q is taken: choose another", n.Username).With("field", "username")
	}
	var held bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE person_id = $1)`, n.PersonID).Scan(&held); err != nil {
		return nil, err
	}
	if held {
		return nil, gridline.Errorf(gridline.EConflict, "person %d already has an account: a person has one account", n.PersonID).With("field", "person_id")
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO accounts (person_id, username, password_hash) VALUES ($1, $2, $3) RETURNING id`,
		n.PersonID, n.Username, n.PasswordHash).Scan(&id)
	if err != nil {
		if e := classify(err); gridline.ErrorCode(e) == gridline.EConflict {
			return nil, gridline.Errorf(gridline.ENotFound, "there is no person %d to make an account for", n.PersonID).With("field", "person_id")
		}
		return nil, err
	}
	a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`, id))
	if err != nil {
		return nil, err
	}
	a.Grants = []accounts.Grant{}
	return a, appendAudit(ctx, tx, audit{Action: "account.create", TargetKind: "account", TargetIDs: []int64{id}, After: accountView(a)})
}

// CreateFirstAdmin creates the first administrator, with a grant of administrator on all, when
// the database has no account; legacy API tokens (made before accounts) then belong to it. It
// reports whether it created the account; several processes starting together create one.
func (db *DB) CreateFirstAdmin(ctx context.Context, username, name, passwordHash string) (bool, error) {
	var created bool
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, accountLock); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		a, err := createAccount(ctx, tx, accounts.NewAccount{Username: username, Name: name, PasswordHash: passwordHash})
		if err != nil {
			return err
		}
		if _, err := addGrant(ctx, tx, accounts.Grant{AccountID: a.ID, Role: accounts.Administrator, Scope: accounts.Scope{Kind: accounts.ScopeAll}}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET account_id = $1 WHERE account_id IS NULL`, a.ID); err != nil {
			return err
		}
		created = true
		return nil
	})
	return created, err
}

// Accounts lists every account with its grants, oldest first.
func (db *DB) Accounts(ctx context.Context) ([]accounts.Account, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts a JOIN people p ON p.id = a.person_id ORDER BY a.id`)
	if err != nil {
		return nil, classify(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (accounts.Account, error) {
		a, err := scanAccount(r)
		if err != nil {
			return accounts.Account{}, err
		}
		a.PasswordHash = ""
		return *a, nil
	})
	if err != nil {
		return nil, classify(err)
	}
	for i := range list {
		if list[i].Grants, err = db.GrantsOf(ctx, list[i].ID); err != nil {
			return nil, err
		}
	}
	if list == nil {
		list = []accounts.Account{}
	}
	return list, nil
}

// SetPassword replaces an account's password hash and ends its sessions.
func (db *DB) SetPassword(ctx context.Context, username, passwordHash string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE accounts SET password_hash = $2 WHERE username = $1 RETURNING id`, username, passwordHash).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "there is no account %q (gridline user list shows them)", username)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = now() WHERE account_id = $1 AND ended_at IS NULL`, id); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "account.password", TargetKind: "account", TargetIDs: []int64{id}, After: map[string]any{"password": "changed", "sessions": "ended"}})
	})
}

// DisableAccount disables an account: its sessions end and its tokens stop working. Disabling the
// last enabled administrator is refused.
func (db *DB) DisableAccount(ctx context.Context, username string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, accountLock); err != nil {
			return err
		}
		a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.username = $1 FOR UPDATE OF a`, username))
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "there is no account %q (gridline user list shows them)", username)
		}
		if err != nil {
			return err
		}
		if a.DisabledAt != nil {
			return gridline.Errorf(gridline.EConflict, "account %s was already disabled on %s", username, a.DisabledAt.Format(time.RFC3339))
		}
		if err := keepAnAdministrator(ctx, tx, a.ID, 0); err != nil {
			return err
		}
		before := accountView(a)
		if _, err := tx.Exec(ctx, `UPDATE accounts SET disabled_at = now() WHERE id = $1`, a.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = now() WHERE account_id = $1 AND ended_at IS NULL`, a.ID); err != nil {
			return err
		}
		after := accountView(a)
		after["disabled"] = true
		return appendAudit(ctx, tx, audit{Action: "account.disable", TargetKind: "account", TargetIDs: []int64{a.ID}, Before: before, After: after})
	})
}

// keepAnAdministrator refuses a change that would leave no enabled account with an administrator
// grant: disabling account withoutAccount, or revoking grant withoutGrant.
func keepAnAdministrator(ctx context.Context, tx pgx.Tx, withoutAccount, withoutGrant int64) error {
	var left int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM grants g JOIN accounts a ON a.id = g.account_id
		WHERE g.role = 'administrator' AND a.disabled_at IS NULL AND a.id <> $1 AND g.id <> $2`, withoutAccount, withoutGrant).Scan(&left)
	if err != nil {
		return err
	}
	var was int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM grants g JOIN accounts a ON a.id = g.account_id
		WHERE g.role = 'administrator' AND a.disabled_at IS NULL`).Scan(&was); err != nil {
		return err
	}
	if left == 0 && was > 0 {
		return gridline.Errorf(gridline.EConflict, "this would leave no enabled administrator: grant administrator to another account first (gridline grant USER administrator all)")
	}
	return nil
}

// AddGrant gives an account a role on a scope. A grid scope must name a grid that exists.
func (db *DB) AddGrant(ctx context.Context, g accounts.Grant) (*accounts.Grant, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	var out *accounts.Grant
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = addGrant(ctx, tx, g)
		return err
	})
	return out, err
}

func addGrant(ctx context.Context, tx pgx.Tx, g accounts.Grant) (*accounts.Grant, error) {
	if g.Scope.Kind == accounts.ScopeGrid {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grids WHERE id = $1)`, g.Scope.Grid).Scan(&ok); err != nil {
			return nil, err
		}
		if !ok {
			return nil, gridline.Errorf(gridline.ENotFound, "there is no grid %d to grant on", g.Scope.Grid).With("field", "scope")
		}
	}
	var grid *int64
	var dept *string
	if g.Scope.Kind == accounts.ScopeGrid {
		grid = &g.Scope.Grid
	}
	if g.Scope.Kind == accounts.ScopeDepartment {
		dept = &g.Scope.Department
	}
	err := tx.QueryRow(ctx, `INSERT INTO grants (account_id, role, scope_kind, scope_grid, scope_department) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING RETURNING id`, g.AccountID, string(g.Role), string(g.Scope.Kind), grid, dept).Scan(&g.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gridline.Errorf(gridline.EConflict, "the account already holds %s on %s", g.Role, g.Scope)
	}
	if err != nil {
		if e := classify(err); gridline.ErrorCode(e) == gridline.EConflict {
			return nil, gridline.Errorf(gridline.ENotFound, "there is no account %d", g.AccountID)
		}
		return nil, err
	}
	var grids []int64
	if grid != nil {
		grids = []int64{*grid}
	}
	return &g, appendAudit(ctx, tx, audit{Action: "grant.create", TargetKind: "grant", TargetIDs: []int64{g.ID, g.AccountID}, GridIDs: grids, After: g})
}

// RevokeGrant removes a grant. Revoking the last administrator grant of an enabled account is
// refused.
func (db *DB) RevokeGrant(ctx context.Context, id int64) (*accounts.Grant, error) {
	var g accounts.Grant
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, accountLock); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, account_id, role, scope_kind, coalesce(scope_grid, 0), coalesce(scope_department, '') FROM grants WHERE id = $1`, id)
		if err != nil {
			return err
		}
		g, err = pgx.CollectExactlyOneRow(rows, scanGrant)
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "there is no grant %d (gridline user list shows each account's grants)", id)
		}
		if err != nil {
			return err
		}
		if g.Role == accounts.Administrator {
			if err := keepAnAdministrator(ctx, tx, 0, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM grants WHERE id = $1`, id); err != nil {
			return err
		}
		var grids []int64
		if g.Scope.Kind == accounts.ScopeGrid {
			grids = []int64{g.Scope.Grid}
		}
		return appendAudit(ctx, tx, audit{Action: "grant.revoke", TargetKind: "grant", TargetIDs: []int64{g.ID, g.AccountID}, GridIDs: grids, Before: g})
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}
