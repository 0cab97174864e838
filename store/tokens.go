package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
)

// tokenPrefix marks gridline tokens so that a leaked one is recognisable in logs and scanners.
const tokenPrefix = "glt_"

// Token is an API token as stored: its hash, never its text.
type Token struct {
	ID    int64
	Name  string
	Admin bool
}

func hashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// validTokenText reports whether plain looks like a gridline token at all.
func validTokenText(plain string) bool {
	return strings.HasPrefix(plain, tokenPrefix) && len(plain) <= 100
}

// CreateToken makes a token for account accountID and returns its text, which is not stored and
// cannot be shown again. The token carries at most the account's permissions; admin says whether
// it carries accounts.manage too (when the account holds it).
func (db *DB) CreateToken(ctx context.Context, accountID int64, name string, admin bool) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	plain := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (name, hash, admin, account_id) VALUES ($1, $2, $3, $4) RETURNING id`,
			name, hashToken(plain), admin, accountID).Scan(&id)
		if err != nil {
			if gridline.ErrorCode(classify(err)) == gridline.EConflict {
				return gridline.Errorf(gridline.ENotFound, "there is no account %d to make a token for", accountID)
			}
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "token.create", TargetKind: "token", TargetIDs: []int64{id, accountID},
			After: map[string]any{"name": name, "admin": admin, "account_id": accountID}})
	})
	if err != nil {
		return "", err
	}
	return plain, nil
}

// EnsureAdminToken creates an admin token for the first administrator when the database has no
// token at all, and returns its text (empty when tokens exist). Several processes starting
// together create at most one: the check and the insert run under an advisory lock. Run it after
// CreateFirstAdmin: without an administrator account there is nobody for the token to belong to.
func (db *DB) EnsureAdminToken(ctx context.Context) (string, error) {
	var plain string
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7411002)`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM api_tokens`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		var account int64
		err := tx.QueryRow(ctx, `SELECT a.id FROM accounts a JOIN grants g ON g.account_id = a.id
			WHERE g.role = 'administrator' AND a.disabled_at IS NULL ORDER BY a.id LIMIT 1`).Scan(&account)
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.EConflict, "there is no administrator account for the admin token to belong to")
		}
		if err != nil {
			return err
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		plain = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO api_tokens (name, hash, admin, account_id) VALUES ('admin', $1, true, $2) RETURNING id`,
			hashToken(plain), account).Scan(&id); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "token.create", TargetKind: "token", TargetIDs: []int64{id, account},
			After: map[string]any{"name": "admin", "admin": true, "account_id": account}})
	})
	return plain, err
}

// TokenInfo is a token as listed: never its text or hash.
type TokenInfo struct {
	ID        int64
	Name      string
	Admin     bool
	Username  string // the account the token belongs to ("" for a token made before accounts, until the first serve)
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Tokens lists every token, revoked ones included, oldest first.
func (db *DB) Tokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := db.pool.Query(ctx, `SELECT t.id, t.name, t.admin, coalesce(a.username, ''), t.created_at, t.revoked_at
		FROM api_tokens t LEFT JOIN accounts a ON a.id = t.account_id ORDER BY t.id`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TokenInfo, error) {
		var t TokenInfo
		err := r.Scan(&t.ID, &t.Name, &t.Admin, &t.Username, &t.CreatedAt, &t.RevokedAt)
		return t, err
	})
	return out, classify(err)
}

// RevokeToken ends token id: requests carrying it are refused from the next one on. Revoking the
// last admin token that is not revoked is refused, so that a district cannot lock itself out
// of its own data (make a new admin token first).
func (db *DB) RevokeToken(ctx context.Context, id int64) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7411002)`); err != nil {
			return err
		}
		var admin bool
		var revoked *time.Time
		err := tx.QueryRow(ctx, `SELECT admin, revoked_at FROM api_tokens WHERE id = $1`, id).Scan(&admin, &revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "there is no token %d (gridline token list shows them)", id)
		}
		if err != nil {
			return err
		}
		if revoked != nil {
			return gridline.Errorf(gridline.EConflict, "token %d was already revoked on %s", id, revoked.Format(time.RFC3339))
		}
		if admin {
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE admin AND revoked_at IS NULL AND id <> $1`, id).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				return gridline.Errorf(gridline.EConflict, "token %d is the last admin token: create another admin token first (gridline token create --admin NAME)", id)
			}
		}
		if _, err = tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "token.revoke", TargetKind: "token", TargetIDs: []int64{id},
			Before: map[string]any{"revoked": false}, After: map[string]any{"revoked": true}})
	})
}
