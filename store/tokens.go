package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"gridline"
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
	_, err := db.Pool.Exec(ctx, `INSERT INTO api_tokens (name, hash, admin) VALUES ($1, $2, $3)`, name, hashToken(plain), admin)
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
	err := db.Pool.QueryRow(ctx, `SELECT id, name, admin FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL`, hashToken(plain)).Scan(&t.ID, &t.Name, &t.Admin)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gridline.Errorf(gridline.EUnauthorized, "the API token is unknown or revoked")
	}
	if err != nil {
		return nil, classify(err)
	}
	return &t, nil
}
