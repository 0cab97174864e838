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

// CreateToken makes a token and returns its text, which is not stored and cannot be shown again.
func (db *DB) CreateToken(ctx context.Context, name string, admin bool) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	plain := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	_, err := db.pool.Exec(ctx, `INSERT INTO api_tokens (name, hash, admin) VALUES ($1, $2, $3)`, name, hashToken(plain), admin)
	if err != nil {
		return "", classify(err)
	}
	return plain, nil
}

// EnsureAdminToken creates an admin token when the database has no token at all, and returns its
// text (empty when tokens exist). Several processes starting together create at most one: the
// check and the insert run under an advisory lock.
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
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		plain = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
		_, err := tx.Exec(ctx, `INSERT INTO api_tokens (name, hash, admin) VALUES ('admin', $1, true)`, hashToken(plain))
		return err
	})
	return plain, err
}

// CheckToken finds the token whose text is plain; an unknown or revoked token is an unauthorized
// error.
func (db *DB) CheckToken(ctx context.Context, plain string) (*Token, error) {
	if !strings.HasPrefix(plain, tokenPrefix) || len(plain) > 100 {
		return nil, gridline.Errorf(gridline.EUnauthorized, "the API token is not a gridline token (they start with %s)", tokenPrefix)
	}
	var t Token
	err := db.pool.QueryRow(ctx, `SELECT id, name, admin FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL`, hashToken(plain)).Scan(&t.ID, &t.Name, &t.Admin)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gridline.Errorf(gridline.EUnauthorized, "the API token is unknown or revoked")
	}
	if err != nil {
		return nil, classify(err)
	}
	return &t, nil
}

// TokenInfo is a token as listed: never its text or hash.
type TokenInfo struct {
	ID        int64
	Name      string
	Admin     bool
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Tokens lists every token, revoked ones included, oldest first.
func (db *DB) Tokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, name, admin, created_at, revoked_at FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TokenInfo, error) {
		var t TokenInfo
		err := r.Scan(&t.ID, &t.Name, &t.Admin, &t.CreatedAt, &t.RevokedAt)
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
		_, err = tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, id)
		return err
	})
}
