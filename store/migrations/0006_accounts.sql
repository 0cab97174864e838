-- 0006: accounts, sign-in sessions, grants (a role on a scope), API tokens that belong to an
-- account, and the append-only, hash-chained audit log (issue #12).

-- An account belongs to a person of the roster (people): a grid worker who also signs in is one
-- person, not two. A district planner or an administrator who holds no post is a person with no
-- assignment.
CREATE TABLE accounts (
    id            bigserial PRIMARY KEY,
    person_id     bigint NOT NULL UNIQUE REFERENCES people (id),
    username      text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,39}$'),
    password_hash text NOT NULL, -- argon2id in the PHC string format ($argon2id$v=19$m=..,t=..,p=..$salt$hash)
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);
CREATE UNIQUE INDEX accounts_username_key ON accounts (username);

-- A session is a signed-in browser. Only the SHA-256 of its cookie is kept: the cookie is 32 random
-- bytes, so there is nothing to guess and a fast hash is enough.
CREATE TABLE sessions (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    hash       bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    address    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz
);
CREATE INDEX sessions_account_idx ON sessions (account_id);

-- A grant is a role on a scope: every grid (scope_kind 'all'), a grid subtree (a district, a
-- subdistrict, a community or one grid: scope_grid names the subtree's root by its identity, so a
-- code change does not move it), or a department (scope_department, its code as the
-- responsibility list spells it).
CREATE TABLE grants (
    id               bigserial PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES accounts (id),
    role             text NOT NULL CHECK (role IN ('viewer','planner','reviewer','dispatcher',
                         'department_handler','grid_worker','supervisor','administrator')),
    scope_kind       text NOT NULL CHECK (scope_kind IN ('all','grid','department')),
    scope_grid       bigint,
    scope_department text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope_kind = 'grid') = (scope_grid IS NOT NULL)),
    CHECK ((scope_kind = 'department') = (scope_department IS NOT NULL AND scope_department <> ''))
);
CREATE UNIQUE INDEX grants_unique_key ON grants (account_id, role, scope_kind, coalesce(scope_grid, 0), coalesce(scope_department, ''));

-- Every token now belongs to an account and carries at most that account's permissions. Tokens
-- made before accounts existed belong to the first administrator, made on the first serve
-- (EnsureAdmin); until then account_id is null and such a token carries nothing.
ALTER TABLE api_tokens ADD COLUMN account_id bigint REFERENCES accounts (id);

-- The audit log: one row per change, written in the transaction of the change. Rows are chained:
-- hash = sha256(prev_hash || the row's content as gridline_audit_text renders it), computed by
-- the trigger below under an advisory lock, which also assigns the id, so that ids follow the
-- order in which the rows were chained even when transactions commit out of order.
CREATE SEQUENCE audit_log_id_seq;
CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    account_id  bigint,           -- null: the system (migrations, the demo loader, the command line without an account)
    username    text NOT NULL DEFAULT '',
    token_id    bigint,
    session_id  bigint,
    address     text NOT NULL DEFAULT '',
    request_id  text NOT NULL DEFAULT '',
    action      text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    target_kind text NOT NULL,    -- grid, person, account, grant, token ...
    target_ids  bigint[] NOT NULL DEFAULT '{}',
    -- within: the grids touched and every ancestor of theirs, so that a supervisor's scope
    -- filters rows with one array overlap.
    within      bigint[] NOT NULL DEFAULT '{}',
    before      jsonb,
    after       jsonb,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_account_idx ON audit_log (account_id);
CREATE INDEX audit_log_targets_idx ON audit_log USING gin (target_ids);
CREATE INDEX audit_log_within_idx ON audit_log USING gin (within);

-- The text a row's hash covers: every column but the two hashes, in a fixed order, with the time
-- in UTC microseconds so that the session's TimeZone cannot change it. jsonb's text form is
-- canonical (keys sorted, no insignificant spaces).
CREATE FUNCTION gridline_audit_text(a audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(E'\x1f', a.id::text,
        to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        coalesce(a.account_id::text, ''), a.username, coalesce(a.token_id::text, ''),
        coalesce(a.session_id::text, ''), a.address, a.request_id, a.action, a.target_kind,
        a.target_ids::text, a.within::text, coalesce(a.before::text, ''), coalesce(a.after::text, ''))
$$;

CREATE FUNCTION gridline_audit_hash(prev bytea, a audit_log) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || convert_to(gridline_audit_text(a), 'UTF8'))
$$;

CREATE FUNCTION gridline_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prev bytea;
BEGIN
    -- One writer at a time appends, to the end of the committed chain: the lock is held to commit.
    PERFORM pg_advisory_xact_lock(7411012);
    NEW.id := nextval('audit_log_id_seq');
    NEW.at := date_trunc('microseconds', NEW.at);
    SELECT hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(prev, '\x'::bytea);
    NEW.hash := gridline_audit_hash(NEW.prev_hash, NEW);
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION gridline_audit_chain();

-- Append-only: no UPDATE, DELETE or TRUNCATE, whoever asks. The privileges are revoked from
-- PUBLIC and from the role that runs the migrations (the server's role); the trigger refuses
-- them even for the table's owner. A superuser can still drop the trigger: that is what the hash
-- chain and `gridline audit-log verify` are for.
CREATE FUNCTION gridline_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION gridline_audit_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_audit_refuse();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
DO $$ BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM %I', current_user);
END $$;
