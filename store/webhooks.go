package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/webhooks"
)

// Webhook subscriptions and deliveries (migration 0013). A delivery row is made for every
// matching subscription by the trigger on case_events, in the transaction of the change, so a
// change and its deliveries commit together; senders claim them here.

const subscriptionColumns = `id, url, kinds, scope_kind, coalesce(scope_grid, 0), coalesce(scope_department, ''), active, coalesce(created_by, 0), created_at`

func scanSubscription(row pgx.Row) (webhooks.Subscription, error) {
	var s webhooks.Subscription
	var kind string
	err := row.Scan(&s.ID, &s.URL, &s.Kinds, &kind, &s.Scope.Grid, &s.Scope.Department, &s.Active, &s.CreatedBy, &s.CreatedAt)
	s.Scope.Kind = accounts.ScopeKind(kind)
	return s, err
}

// CreateWebhook stores a validated subscription made at now by the context's actor (audited; the
// secret is not in the audit row). A grid scope must name a grid.
func (db *DB) CreateWebhook(ctx context.Context, s *webhooks.Subscription, now time.Time) error {
	act := gridline.ActorFrom(ctx)
	var by int64
	if act != nil {
		by = act.AccountID
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		if s.Scope.Kind == accounts.ScopeGrid {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grids WHERE id = $1)`, s.Scope.Grid).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return gridline.Errorf(gridline.EInvalid, "scope grid %d does not exist", s.Scope.Grid).With("field", "scope")
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO webhook_subscriptions (url, secret, kinds, scope_kind, scope_grid, scope_department, active, created_by, created_at)
			VALUES ($1, $2, $3, $4, nullif($5, 0), nullif($6, ''), true, nullif($7, 0), $8) RETURNING id, created_at`,
			s.URL, s.Secret, s.Kinds, string(s.Scope.Kind), s.Scope.Grid, s.Scope.Department, by, now).Scan(&s.ID, &s.CreatedAt)
		if err != nil {
			return err
		}
		s.Active, s.CreatedBy = true, by
		var grids []int64
		if s.Scope.Kind == accounts.ScopeGrid {
			grids = []int64{s.Scope.Grid}
		}
		return appendAudit(ctx, tx, audit{Action: "webhook.create", TargetKind: "webhook", TargetIDs: []int64{s.ID}, GridIDs: grids,
			After: map[string]any{"url": s.URL, "kinds": s.Kinds, "scope": s.Scope}})
	})
}

// Webhooks lists the subscriptions (without their secrets).
func (db *DB) Webhooks(ctx context.Context) ([]webhooks.Subscription, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions ORDER BY id`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhooks.Subscription, error) { return scanSubscription(r) })
	if out == nil {
		out = []webhooks.Subscription{}
	}
	return out, classify(err)
}

// DeleteWebhook removes a subscription and its deliveries (audited).
func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		s, err := scanSubscription(tx.QueryRow(ctx, `DELETE FROM webhook_subscriptions WHERE id = $1 RETURNING `+subscriptionColumns, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "there is no webhook subscription %d (GET /v1/webhooks lists them)", id)
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "webhook.delete", TargetKind: "webhook", TargetIDs: []int64{id},
			Before: map[string]any{"url": s.URL, "kinds": s.Kinds, "scope": s.Scope}})
	})
}

// Deliveries lists a subscription's deliveries, newest first: all, or those of one status.
func (db *DB) Deliveries(ctx context.Context, subscription int64, status string, limit int) ([]webhooks.Delivery, error) {
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = $1)`, subscription).Scan(&exists); err != nil {
		return nil, classify(err)
	}
	if !exists {
		return nil, gridline.Errorf(gridline.ENotFound, "there is no webhook subscription %d (GET /v1/webhooks lists them)", subscription)
	}
	rows, err := db.pool.Query(ctx, `SELECT id, subscription_id, event_seq, status, attempts, next_attempt_at, coalesce(last_status, 0), last_error, created_at, delivered_at
		FROM webhook_deliveries WHERE subscription_id = $1 AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT $3`, subscription, status, limit)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhooks.Delivery, error) {
		var d webhooks.Delivery
		err := r.Scan(&d.ID, &d.SubscriptionID, &d.EventSeq, &d.Status, &d.Attempts, &d.NextAttemptAt, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.DeliveredAt)
		if d.Status != webhooks.Pending {
			d.NextAttemptAt = nil
		}
		return d, err
	})
	if out == nil {
		out = []webhooks.Delivery{}
	}
	return out, classify(err)
}

// webhookBody is the JSON a receiver gets.
type webhookBody struct {
	Delivery     int64           `json:"delivery_id"`
	Subscription int64           `json:"subscription_id"`
	Event        json.RawMessage `json:"event"`
}

// ClaimDeliveries implements webhooks.Store: up to limit pending deliveries due at now, locked
// with SKIP LOCKED so that concurrent senders (on this server or others) take different rows,
// their attempt counted and their next attempt moved to now+lease in the same statement.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]webhooks.Claim, error) {
	rows, err := db.pool.Query(ctx, `
		WITH due AS (
			SELECT id FROM webhook_deliveries
			WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $3
			FOR UPDATE SKIP LOCKED)
		UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $1 + $2::interval
		FROM due, webhook_subscriptions s
		WHERE d.id = due.id AND s.id = d.subscription_id
		RETURNING d.id, d.subscription_id, d.event_seq, d.attempts, d.created_at, s.url, s.secret, d.kind`, now, lease, limit)
	if err != nil {
		return nil, classify(err)
	}
	claims, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhooks.Claim, error) {
		var c webhooks.Claim
		c.Status = webhooks.Pending
		err := r.Scan(&c.ID, &c.SubscriptionID, &c.EventSeq, &c.Attempts, &c.CreatedAt, &c.URL, &c.Secret, &c.Kind)
		return c, err
	})
	if err != nil || len(claims) == 0 {
		return nil, classify(err)
	}
	seqs := make([]int64, len(claims))
	for i, c := range claims {
		seqs[i] = c.EventSeq
	}
	evs, err := db.Events(ctx, seqs)
	if err != nil {
		return nil, err
	}
	bySeq := map[int64]json.RawMessage{}
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, err
		}
		bySeq[evs[i].Seq] = b
	}
	for i := range claims {
		ev, ok := bySeq[claims[i].EventSeq]
		if !ok {
			ev = json.RawMessage(`null`)
		}
		claims[i].Body, _ = json.Marshal(webhookBody{Delivery: claims[i].ID, Subscription: claims[i].SubscriptionID, Event: ev})
	}
	return claims, nil
}

// FinishDelivery implements webhooks.Store: it records an attempt's result.
func (db *DB) FinishDelivery(ctx context.Context, id int64, r webhooks.Result) error {
	var delivered *time.Time
	if r.Status == webhooks.Delivered {
		delivered = &r.At
	}
	_, err := db.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = $2, next_attempt_at = coalesce($3, next_attempt_at),
		last_status = nullif($4, 0), last_error = $5, delivered_at = $6 WHERE id = $1`,
		id, r.Status, r.NextAttemptAt, r.LastStatus, r.LastError, delivered)
	return classify(err)
}
