-- 0009: incident cases (issue #15): the catalogue of categories, departments, the responsibility
-- list, cases with their append-only events, the steps of the loop with their deadlines, and
-- attachments. Package dispatch owns the logic; store/cases.go the SQL.

-- The catalogue of categories is imported, never hard-coded: both the 4-digit legacy codes
-- (CJ/T 214, GB/T 30428.2: 2-digit class + 2-digit subclass) and the 5-digit GB/T 47678.5 codes
-- (2-digit class + 3-digit subclass) are in use. A row is a subclass a case is reported under;
-- class_code/class_name name its class within its standard; parent_code names the subclass a
-- local extension refines (cities add their own under a standard subclass), null otherwise.
CREATE TABLE case_categories (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z]{1,16}$'),
    standard    text NOT NULL CHECK (standard ~ '^[a-z0-9][a-z0-9._-]{0,39}$'), -- legacy, gbt47678.5, or a local name
    name        text NOT NULL CHECK (name <> ''),
    class_code  text NOT NULL CHECK (class_code <> ''),
    class_name  text NOT NULL DEFAULT '',
    parent_code text REFERENCES case_categories (code),
    kind        text NOT NULL CHECK (kind IN ('incident', 'asset')),
    active      boolean NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_categories_class_idx ON case_categories (standard, class_code);

-- Departments (职能部门) that cases are dispatched to. fallback marks the district's fallback
-- party: it takes the cases of points outside every grid and those no rule and no post answers.
CREATE TABLE departments (
    code       text PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z_.-]{1,40}$'),
    name       text NOT NULL CHECK (name <> ''),
    phone      text NOT NULL DEFAULT '',
    fallback   boolean NOT NULL DEFAULT false,
    active     boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX departments_one_fallback ON departments (fallback) WHERE fallback;

-- The responsibility list (权责清单): rules tried in ord order; the first that matches a case
-- routes it. A rule matches a category exactly (category_code) or a whole class (standard +
-- class_code), or any category when both are null; a place by the level of a grid of the
-- point's chain (place_level, with place_code_prefix on that grid's code), or by a thematic layer
-- that covers the point (place_layer); an urgency, or any when null. The party: the grid's own
-- worker (worker: party_ref empty, or the layer whose grid's primary post answers), a post at a
-- level of the chain (post: party_ref 'community:grid_chief'), or a department (department:
-- party_ref its code). A vacant post falls back up the chain (属地兜底).
CREATE TABLE responsibility_rules (
    id                bigserial PRIMARY KEY,
    ord               int NOT NULL,
    category_code     text REFERENCES case_categories (code),
    standard          text,
    class_code        text,
    place_level       text CHECK (place_level IN ('district', 'subdistrict', 'community', 'grid', 'micro')),
    place_code_prefix text NOT NULL DEFAULT '',
    place_layer       text NOT NULL DEFAULT '',
    urgency           text CHECK (urgency IN ('normal', 'urgent')),
    party_kind        text NOT NULL CHECK (party_kind IN ('worker', 'post', 'department')),
    party_ref         text NOT NULL DEFAULT '',
    active            boolean NOT NULL DEFAULT true,
    note              text NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (category_code IS NULL OR class_code IS NULL),
    CHECK ((class_code IS NULL) = (standard IS NULL)),
    CHECK (party_kind <> 'department' OR party_ref <> '')
);
CREATE INDEX responsibility_rules_ord_idx ON responsibility_rules (ord, id);

-- A case (事件/案件). state is derived from case_events and kept here for querying; version
-- counts the case's events and is the optimistic-concurrency check of every transition (an
-- UPDATE ... WHERE version = the version read: of two concurrent transitions one wins, the other
-- finds no row and answers 409). grid_chain is the comprehensive chain of the case's grid, district
-- first (grid identities), for scope checks and the grid-subtree filter. routing is the
-- provenance of the routing decision (dispatch.Routing).
CREATE TABLE cases (
    id              bigserial PRIMARY KEY,
    number          text NOT NULL UNIQUE,
    source          text NOT NULL CHECK (source IN ('patrol', 'hotline', 'camera', 'public', 'open311', 'assignment')),
    category_code   text NOT NULL REFERENCES case_categories (code),
    urgency         text NOT NULL CHECK (urgency IN ('normal', 'urgent')),
    description     text NOT NULL DEFAULT '',
    address         text NOT NULL DEFAULT '',
    geom            geometry(Point, 4326) NOT NULL,
    grid_id         bigint,          -- grid identity (the basic grid, or the deepest level covering the point); null outside every grid
    grid_version_id bigint,          -- the boundary version routing used
    grid_chain      bigint[] NOT NULL DEFAULT '{}',
    state           text NOT NULL CHECK (state IN ('reported', 'filed', 'voided', 'merged', 'dispatched', 'signed_for',
                        'returned', 'handled', 'reported_back', 'verified', 'closed', 'evaluated', 'postponed')),
    party_kind      text CHECK (party_kind IN ('worker', 'post', 'department')),
    party_ref       text NOT NULL DEFAULT '',
    party_name      text NOT NULL DEFAULT '',
    co_departments  text[] NOT NULL DEFAULT '{}',
    reporter        jsonb NOT NULL DEFAULT '{}',
    routing         jsonb NOT NULL DEFAULT '{}',
    flags           text[] NOT NULL DEFAULT '{}', -- outside, near_boundary, fallback, self_handled ...
    duplicate_of    bigint REFERENCES cases (id),
    returned_count  int NOT NULL DEFAULT 0,
    rework_count    int NOT NULL DEFAULT 0,
    external_id     text,            -- an Open311 service_request_id or a hotline ticket number, as the source gave it
    reported_at     timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    closed_at       timestamptz,
    version         int NOT NULL DEFAULT 1
);
CREATE INDEX cases_geom_idx ON cases USING gist (geom);
CREATE INDEX cases_state_idx ON cases (state, reported_at);
CREATE INDEX cases_category_time_idx ON cases (category_code, reported_at);
CREATE INDEX cases_chain_idx ON cases USING gin (grid_chain);
CREATE INDEX cases_party_idx ON cases (party_kind, party_ref) WHERE party_kind IS NOT NULL;
CREATE INDEX cases_reported_idx ON cases (reported_at, id);
CREATE UNIQUE INDEX cases_external_key ON cases (source, external_id) WHERE external_id IS NOT NULL;

-- The case's life, append-only: seq is 1, 2, ... per case (the case's version after the event).
CREATE TABLE case_events (
    id            bigserial PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cases (id),
    seq           int NOT NULL,
    at            timestamptz NOT NULL,
    actor_account bigint,
    actor_name    text NOT NULL DEFAULT '',
    kind          text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    from_state    text,
    to_state      text NOT NULL,
    reason        text NOT NULL DEFAULT '',
    data          jsonb NOT NULL DEFAULT '{}',
    UNIQUE (case_id, seq)
);
CREATE INDEX case_events_at_idx ON case_events (at);

CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only' USING ERRCODE = '55000';
END $$;
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_events_append_only();

-- The steps of the loop, each with its party, its limit and its deadline. due_at and warn_at are
-- computed by dispatch.Deadlines from clock (the step's worktime.StepClock: start, limit, pauses,
-- extensions) whenever the step starts, pauses, resumes or is extended; they are NULL while the
-- clock is paused or when the step has no limit. ended_at is NULL while the step is open. The
-- escalation sweeper (package worktime's engineer) finds the open steps past warn_at or due_at
-- through the two partial indexes.
CREATE TABLE case_steps (
    id               bigserial PRIMARY KEY,
    case_id          bigint NOT NULL REFERENCES cases (id),
    step             text NOT NULL CHECK (step IN ('file', 'dispatch', 'sign', 'handle', 'verify', 'close', 'evaluate')),
    party_kind       text,
    party_ref        text NOT NULL DEFAULT '',
    grid_id          bigint,
    limit_amount     int,
    limit_unit       text CHECK (limit_unit IN ('natural_minute', 'working_hour', 'working_day', 'natural_day')),
    clock            jsonb NOT NULL DEFAULT '{}',
    started_at       timestamptz NOT NULL,
    warn_at          timestamptz,
    due_at           timestamptz,
    paused_at        timestamptz,
    ended_at         timestamptz,
    escalation_level int NOT NULL DEFAULT 0,
    notified_light   text NOT NULL DEFAULT 'green' CHECK (notified_light IN ('green', 'yellow', 'red'))
);
CREATE INDEX case_steps_case_idx ON case_steps (case_id);
CREATE INDEX case_steps_open_due_idx ON case_steps (due_at) WHERE ended_at IS NULL;
CREATE INDEX case_steps_open_warn_idx ON case_steps (warn_at) WHERE ended_at IS NULL;
CREATE UNIQUE INDEX case_steps_one_open ON case_steps (case_id, step) WHERE ended_at IS NULL;

-- Photos before and after, checked by their magic bytes and size-limited by dispatch; stored in
-- bytes, or in a configured directory (path, relative to it) when the server has one.
CREATE TABLE case_attachments (
    id           bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES cases (id),
    event_id     bigint REFERENCES case_events (id),
    kind         text NOT NULL CHECK (kind IN ('before', 'after')),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
    name         text NOT NULL DEFAULT '',
    bytes        bytea,
    path         text,
    size         int NOT NULL CHECK (size > 0),
    sha256       bytea NOT NULL CHECK (length(sha256) = 32),
    created_at   timestamptz NOT NULL,
    CHECK ((bytes IS NULL) <> (path IS NULL))
);
CREATE INDEX case_attachments_case_idx ON case_attachments (case_id);

-- Notices a case raises for someone other than its party: the neighbouring grid of a point near a
-- boundary, the co-handling departments, a supervision notice. Package live's webhooks and the
-- escalation sweeper read and mark them.
CREATE TABLE case_notices (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    event_id   bigint REFERENCES case_events (id),
    kind       text NOT NULL, -- near_boundary, co_handling, supervise, escalation ...
    to_kind    text NOT NULL, -- grid, department, post, account
    to_ref     text NOT NULL,
    message    text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    read_at    timestamptz
);
CREATE INDEX case_notices_to_idx ON case_notices (to_kind, to_ref, at);
CREATE INDEX case_notices_case_idx ON case_notices (case_id);
