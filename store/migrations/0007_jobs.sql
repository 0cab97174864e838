-- 0007: long work (imports, exports, later audits) runs as a job that a client can follow, cancel and
-- find again after a restart.

-- owner is the process running the job: it holds the session advisory lock (7411002, owner) for as
-- long as it lives (store/jobs.go). A queued or running job whose owner holds no such lock was
-- interrupted (kill -9, a crash, a lost database connection) and is marked failed.
CREATE TABLE jobs (
    id               text PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('import', 'export', 'audit')),
    state            text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    owner            bigint NOT NULL,
    stage            text NOT NULL DEFAULT '',
    features_read    bigint NOT NULL DEFAULT 0,
    features_checked bigint NOT NULL DEFAULT 0,
    features_written bigint NOT NULL DEFAULT 0,
    bytes            bigint NOT NULL DEFAULT 0,
    report           jsonb,
    error            jsonb,
    file_path        text,
    file_name        text,
    content_type     text,
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL
);

CREATE INDEX jobs_live ON jobs (owner) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- A random name for this database, which no other database has: the temporary directories of its
-- processes are under $TMPDIR/gridline-<instance>/<owner>/, so that a server cleaning up after the
-- owners that are gone from its database never touches the files of another database's processes
-- on the same machine (whose locks it cannot see).
CREATE TABLE instance (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    id  text NOT NULL DEFAULT md5(random()::text || clock_timestamp()::text)
);
INSERT INTO instance DEFAULT VALUES;
