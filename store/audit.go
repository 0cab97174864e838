package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
)

// audit is one change as the audit log records it; who made it and from where come from the
// context's gridline.Actor.
type audit struct {
	Action     string  // e.g. grids.import, account.create
	TargetKind string  // grid, person, assignment, account, grant, token ...
	TargetIDs  []int64 // the ids of the rows changed
	// GridIDs are the grids the change concerns (for a staff change, the grids of the posts): the
	// log stores them with their ancestors, so that a supervisor sees the changes in their scope.
	GridIDs []int64
	Before  any // the values before (nil for a creation)
	After   any // the values after (nil for a deletion)
}

// appendAudit writes a's row in tx, the transaction of the change, so that the change and its
// record commit or roll back together. The trigger of migration 0006 chains the row's hash.
func appendAudit(ctx context.Context, tx pgx.Tx, a audit) error {
	act := gridline.ActorFrom(ctx)
	if act == nil {
		act = &gridline.Actor{}
	}
	before, err := jsonOrNil(a.Before)
	if err != nil {
		return err
	}
	after, err := jsonOrNil(a.After)
	if err != nil {
		return err
	}
	if a.TargetIDs == nil {
		a.TargetIDs = []int64{}
	}
	if a.GridIDs == nil {
		a.GridIDs = []int64{}
	}
	// within: the grids and all their ancestors, through every version's parent (a grid that
	// moved is in both subtrees' history).
	_, err = tx.Exec(ctx, `
		WITH RECURSIVE up(id) AS (
			SELECT unnest($11::bigint[])
			UNION
			SELECT g.parent_id FROM grids g JOIN up ON g.id = up.id WHERE g.parent_id IS NOT NULL)
		INSERT INTO audit_log (account_id, username, token_id, session_id, address, request_id, action,
			target_kind, target_ids, within, before, after, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce((SELECT array_agg(id ORDER BY id) FROM up), '{}'), $10, $12, '', '')`,
		nullID(act.AccountID), act.Username, nullID(act.TokenID), nullID(act.SessionID), act.Address, act.RequestID,
		a.Action, a.TargetKind, a.TargetIDs, before, a.GridIDs, after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", a.Action, err)
	}
	return nil
}

func jsonOrNil(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// checkGridReach refuses, inside the writing transaction, a change to any of the grids gridIDs
// that lies outside the subtrees where the context's actor holds permission: every version of
// each grid (so moving a grid in from another subtree, or out to one, is refused), each through
// the chain of parents valid on that version's first day (so a parent's or a code's change
// elsewhere does not let the write out). The system actor reaches everywhere.
func checkGridReach(ctx context.Context, tx pgx.Tx, permission string, gridIDs []int64) error {
	everywhere, roots := gridline.ActorFrom(ctx).Reaches(permission)
	if everywhere || len(gridIDs) == 0 {
		return nil
	}
	var code string
	var id int64
	err := tx.QueryRow(ctx, `
		WITH RECURSIVE up(vid, gid, pid, day) AS (
			SELECT version_id, id, parent_id, valid_from FROM grids WHERE id = ANY($1)
			UNION ALL
			SELECT up.vid, p.id, p.parent_id, up.day FROM up JOIN grids p ON p.id = up.pid
				AND p.valid_from <= up.day AND (p.valid_to IS NULL OR p.valid_to > up.day))
		SELECT g.id, g.code FROM grids g WHERE g.id = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM up WHERE up.vid = g.version_id AND up.gid = ANY($2))
		ORDER BY g.id, g.version LIMIT 1`, gridIDs, roots).Scan(&id, &code)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return gridline.Errorf(gridline.EForbidden, "grid %s (id %d) lies outside the grids where you hold %s (under grids %v), in one of its versions or through its parent: nothing was written; ask an administrator for a grant that covers it",
		code, id, permission, roots).With("permission", permission).With("grid", code)
}

// gridsWrittenHere are the grids whose versions this transaction inserted or changed.
func gridsWrittenHere(ctx context.Context, tx pgx.Tx) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT id FROM grids WHERE xmin = pg_current_xact_id()::xid ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// auditGridWrite checks the reach of the grids this transaction wrote and records the change:
// the end of every transaction that writes grids. The versions themselves are the before and
// after values (grids are versioned: a change adds a version and ends the previous one), so the
// row names them, with the summary the caller gives.
func auditGridWrite(ctx context.Context, tx pgx.Tx, action string, summary any) error {
	ids, err := gridsWrittenHere(ctx, tx)
	if err != nil {
		return err
	}
	if err := checkGridReach(ctx, tx, "grids.write", ids); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	return appendAudit(ctx, tx, audit{Action: action, TargetKind: "grid", TargetIDs: ids, GridIDs: ids, After: summary})
}

// AuditRecord is one row of the audit log.
type AuditRecord struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	AccountID  *int64          `json:"account_id"`
	Username   string          `json:"username"`
	TokenID    *int64          `json:"token_id,omitempty"`
	SessionID  *int64          `json:"session_id,omitempty"`
	Address    string          `json:"address"`
	RequestID  string          `json:"request_id"`
	Action     string          `json:"action"`
	TargetKind string          `json:"target_kind"`
	TargetIDs  []int64         `json:"target_ids"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	Hash       string          `json:"hash"`
}

// AuditFilter selects audit rows; zero fields do not filter.
type AuditFilter struct {
	Username   string
	Action     string // exact, or a prefix ending in "." (grids.)
	TargetKind string
	TargetID   int64
	Since      time.Time
	Until      time.Time
	// Everywhere false limits the rows to those concerning the grid subtrees Within.
	Everywhere bool
	Within     []int64
	Limit      int   // default 100, at most 1000
	Before     int64 // rows with smaller ids only (paging, newest first)
}

// Audit lists audit rows, newest first.
func (db *DB) Audit(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Username != "" {
		where = append(where, "username = "+arg(f.Username))
	}
	if prefix, ok := strings.CutSuffix(f.Action, "."); ok {
		where = append(where, "starts_with(action, "+arg(prefix+".")+")")
	} else if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.TargetKind != "" {
		where = append(where, "target_kind = "+arg(f.TargetKind))
	}
	if f.TargetID != 0 {
		where = append(where, "target_ids @> ARRAY["+arg(f.TargetID)+"::bigint]")
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < "+arg(f.Until))
	}
	if !f.Everywhere {
		where = append(where, "within && "+arg(f.Within)+"::bigint[]")
	}
	if f.Before > 0 {
		where = append(where, "id < "+arg(f.Before))
	}
	q := `SELECT id, at, account_id, username, token_id, session_id, address, request_id, action, target_kind,
		target_ids, before, after, encode(hash, 'hex') FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(f.Limit)
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditRecord, error) {
		var a AuditRecord
		err := r.Scan(&a.ID, &a.At, &a.AccountID, &a.Username, &a.TokenID, &a.SessionID, &a.Address, &a.RequestID,
			&a.Action, &a.TargetKind, &a.TargetIDs, &a.Before, &a.After, &a.Hash)
		return a, err
	})
	if out == nil {
		out = []AuditRecord{}
	}
	return out, classify(err)
}

// AuditVerification is what VerifyAudit found.
type AuditVerification struct {
	Rows int `json:"rows"` // rows read
	// BadID is the first row that was altered, or that follows a removed row (0: the chain holds).
	BadID  int64  `json:"bad_id,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// VerifyAudit walks the audit log in id order, recomputing each row's hash from its content and
// the previous row's hash, and names the first row whose content was altered or whose previous
// row was removed. (Removing the newest rows leaves no trace in the chain alone: an operator who
// keeps the newest hash somewhere else, as `gridline audit-log verify` prints it, can compare.)
func (db *DB) VerifyAudit(ctx context.Context) (*AuditVerification, error) {
	v := &AuditVerification{}
	err := db.readOnly(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, prev_hash, hash, gridline_audit_hash(prev_hash, a) FROM audit_log a ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last []byte
		for rows.Next() {
			var id int64
			var prev, hash, recomputed []byte
			if err := rows.Scan(&id, &prev, &hash, &recomputed); err != nil {
				return err
			}
			v.Rows++
			switch {
			case string(prev) != string(last):
				v.BadID, v.Reason = id, "its previous row's hash does not match: the row before it was removed or altered"
			case string(recomputed) != string(hash):
				v.BadID, v.Reason = id, "its content does not match its hash: the row was altered"
			}
			if v.BadID != 0 {
				return nil
			}
			last = hash
		}
		return rows.Err()
	})
	return v, classify(err)
}
