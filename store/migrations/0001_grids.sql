-- 0001: grids with dated versions, people, assignments, and the change feed.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE SEQUENCE grid_id_seq;

-- One row per version of a grid. Rows with the same id are the versions of one grid; their
-- validity ranges [valid_from, valid_to) never overlap. parent_id names the parent's identity, not
-- a version: the parent version that applies is the one valid on the same date.
CREATE TABLE grids (
    version_id  bigserial PRIMARY KEY,
    id          bigint  NOT NULL,
    version     integer NOT NULL DEFAULT 1 CHECK (version > 0),
    code        text    NOT NULL CHECK (code ~ '^[0-9A-Za-z]{1,32}$'),
    name        text    NOT NULL CHECK (name <> ''),
    level       text    NOT NULL CHECK (level IN ('district','subdistrict','community','grid','micro')),
    layer       text    NOT NULL DEFAULT 'comprehensive' CHECK (layer ~ '^[a-z][a-z0-9_]{0,39}$'),
    kind        text    NOT NULL DEFAULT '',
    parent_id   bigint,
    households  integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    population  integer NOT NULL DEFAULT 0 CHECK (population >= 0),
    valid_from  date    NOT NULL,
    valid_to    date CHECK (valid_to IS NULL OR valid_to > valid_from),
    bound_east  text NOT NULL DEFAULT '',
    bound_south text NOT NULL DEFAULT '',
    bound_west  text NOT NULL DEFAULT '',
    bound_north text NOT NULL DEFAULT '',
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, version),
    -- A grid has one version at a time; a code names one grid at a time.
    EXCLUDE USING gist (id WITH =, daterange(valid_from, valid_to) WITH &&),
    EXCLUDE USING gist (code WITH =, daterange(valid_from, valid_to) WITH &&)
);
CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX grids_parent_idx ON grids (parent_id);
CREATE INDEX grids_level_layer_idx ON grids (layer, level);
CREATE INDEX grids_code_pattern_idx ON grids (code text_pattern_ops);

CREATE TABLE people (
    id    bigserial PRIMARY KEY,
    name  text NOT NULL CHECK (name <> ''),
    phone text NOT NULL DEFAULT '',
    note  text NOT NULL DEFAULT ''
);

CREATE TABLE assignments (
    id         bigserial PRIMARY KEY,
    person_id  bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    grid_id    bigint NOT NULL,
    role       text NOT NULL CHECK (role IN ('grid_chief','full_time_worker','part_time_worker',
                   'building_steward','police_officer','assigned_cadre','department_liaison')),
    valid_from date NOT NULL,
    valid_to   date CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX assignments_grid_idx ON assignments (grid_id);

-- Every committed change to grids or staff is announced once per statement, so that every server
-- process on this database refreshes its resolution index (and, later, its tile cache).
CREATE FUNCTION gridline_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gridline_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER grids_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grids
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_notify_change();
CREATE TRIGGER people_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON people
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_notify_change();
CREATE TRIGGER assignments_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assignments
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_notify_change();
