-- 0013: the interfaces of the case engine to the outside (#15): webhook subscriptions and their
-- deliveries, and the notification of every case change for the live stream.

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
    event_seq       bigint NOT NULL,
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

-- gridline_grid_chain(grid) is the grid's identity and its ancestors' up to the district, through
-- the current versions: the chain accounts.Principal.Can checks a reader's scope against.
CREATE FUNCTION gridline_grid_chain(grid bigint) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up(id, depth) AS (
        SELECT grid, 0 WHERE grid IS NOT NULL
        UNION ALL
        SELECT g.parent_id, up.depth + 1 FROM up
        JOIN LATERAL (SELECT parent_id FROM grids WHERE grids.id = up.id ORDER BY valid_to IS NULL DESC, valid_from DESC LIMIT 1) g ON true
        WHERE g.parent_id IS NOT NULL AND up.depth < 16)
    SELECT coalesce(array_agg(id ORDER BY depth), '{}') FROM up
$$;
