-- 0008: drafts (issue 14): a planner's change set of grids for one effective date, its
-- append-only revisions (each operation with the working set and the problems after it, so that a
-- draft survives a closed tab and undoes step by step), its events (submit, approve, return,
-- undo ...) with comments, and the lineage of published grids (which grids a split, merge,
-- reshape came from).
CREATE TABLE drafts (
    id             bigserial PRIMARY KEY,
    title          text   NOT NULL CHECK (title <> ''),
    author_id      bigint REFERENCES accounts (id),
    author         text   NOT NULL DEFAULT '',
    scope_id       bigint NOT NULL,         -- grid identity of the subtree root the draft edits
    scope_code     text   NOT NULL,
    effective_date date   NOT NULL,
    state          text   NOT NULL DEFAULT 'draft'
                   CHECK (state IN ('draft','submitted','approved','returned','published','withdrawn')),
    base_seq       bigint NOT NULL,          -- the grids' change stamp the draft was started (or rebased) from
    head           integer NOT NULL DEFAULT 0, -- the current revision
    acknowledged   text[] NOT NULL DEFAULT '{}',
    reviewer_id    bigint REFERENCES accounts (id),
    reviewer       text   NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX drafts_state_idx ON drafts (state);
CREATE INDEX drafts_author_idx ON drafts (author_id);

-- One row per revision: revision 0 is the start; each operation (or rebase) appends one made on
-- prev. Undo moves the draft's head to prev; redo to the newest revision made on the head.
CREATE TABLE draft_revisions (
    draft_id   bigint  NOT NULL REFERENCES drafts (id),
    revision   integer NOT NULL,
    prev       integer,
    kind       text    NOT NULL CHECK (kind IN ('start','op','rebase')),
    op         jsonb,
    work       jsonb   NOT NULL,             -- the draft's grids after this revision
    problems   jsonb   NOT NULL DEFAULT '[]',
    account_id bigint,
    username   text    NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (draft_id, revision)
);

CREATE FUNCTION gridline_draft_revisions_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'draft revisions are append-only';
END $$;
CREATE TRIGGER draft_revisions_append_only BEFORE UPDATE OR DELETE ON draft_revisions
    FOR EACH ROW EXECUTE FUNCTION gridline_draft_revisions_refuse();

CREATE TABLE draft_events (
    id         bigserial PRIMARY KEY,
    draft_id   bigint NOT NULL REFERENCES drafts (id),
    action     text   NOT NULL,               -- create, op, undo, redo, submit, approve, return, withdraw, rebase, publish
    revision   integer NOT NULL,
    comment    text   NOT NULL DEFAULT '',
    account_id bigint,
    username   text   NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX draft_events_draft_idx ON draft_events (draft_id, id);

-- grid_id came (in part) from from_grid_id by op, published by draft_id on effective_date.
CREATE TABLE grid_lineage (
    id             bigserial PRIMARY KEY,
    grid_id        bigint NOT NULL,
    from_grid_id   bigint NOT NULL,
    op             text   NOT NULL CHECK (op IN ('split','merge','reshape','draw','retire','move')),
    draft_id       bigint REFERENCES drafts (id),
    effective_date date   NOT NULL
);
CREATE INDEX grid_lineage_grid_idx ON grid_lineage (grid_id);
CREATE INDEX grid_lineage_from_idx ON grid_lineage (from_grid_id);

-- A draft's conflict check looks for versions stamped after its base.
CREATE INDEX grids_change_seq_idx ON grids (change_seq);
