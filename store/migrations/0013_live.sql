-- 0013: the interfaces of the case engine to the outside (#15): webhook subscriptions and their
-- deliveries, and the notification of every case change for the live stream. (After 0009: the
-- trigger is on case_events.)

-- A subscription: where to post, the secret its deliveries are signed with (HMAC-SHA256; it has
-- to be kept in clear to sign), the event kinds wanted (empty: all) and the scope (all, a grid
-- subtree, or a department's cases).
CREATE TABLE webhook_subscriptions (
    id               bigserial PRIMARY KEY,
    url              text NOT NULL,
    secret           text NOT NULL,
    kinds            text[] NOT NULL DEFAULT '{}',
    scope_kind       text NOT NULL CHECK (scope_kind IN ('all', 'grid', 'department')),
    scope_grid       bigint,
    scope_department text,
    active           boolean NOT NULL DEFAULT true,
    created_by       bigint REFERENCES accounts (id),
    created_at       timestamptz NOT NULL,
    CHECK ((scope_kind = 'grid') = (scope_grid IS NOT NULL)),
    CHECK ((scope_kind = 'department') = (scope_department IS NOT NULL))
);

-- A delivery: one case change (case_events.id) for one subscription, made in the transaction of
-- the change. Senders claim due rows FOR UPDATE SKIP LOCKED (store/webhooks.go), count the
-- attempt and move next_attempt_at on by a lease, so that rows whose sender died are retried.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id bigint NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_seq       bigint NOT NULL REFERENCES case_events (id),
    kind            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_status     integer,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    UNIQUE (subscription_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, id DESC);

-- Every case change, once committed, is announced on gridline_cases with its case_events id (the
-- live stream's hub reads the row) and becomes a delivery for every active subscription whose
-- kinds and scope match: the scope against the case's grid chain, or the department it is with
-- (its party or a co-handling department). A deferred constraint trigger runs at commit, so it
-- sees the case as the transaction left it, whatever order the engine wrote the case row and
-- its events in.
CREATE FUNCTION gridline_case_event_out() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    PERFORM pg_notify('gridline_cases', NEW.id::text);
    IF EXISTS (SELECT 1 FROM webhook_subscriptions WHERE active) THEN
        SELECT grid_chain, party_kind, party_ref, co_departments INTO c FROM cases WHERE id = NEW.case_id;
        INSERT INTO webhook_deliveries (subscription_id, event_seq, kind, next_attempt_at, created_at)
        SELECT s.id, NEW.id, NEW.kind, NEW.at, NEW.at
        FROM webhook_subscriptions s
        WHERE s.active
          AND (cardinality(s.kinds) = 0 OR NEW.kind = ANY (s.kinds))
          AND (s.scope_kind = 'all'
               OR s.scope_kind = 'grid' AND s.scope_grid = ANY (c.grid_chain)
               OR s.scope_kind = 'department' AND (c.party_kind = 'department' AND c.party_ref = s.scope_department
                                                   OR s.scope_department = ANY (c.co_departments)))
        ON CONFLICT (subscription_id, event_seq) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER case_events_out AFTER INSERT ON case_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gridline_case_event_out();
