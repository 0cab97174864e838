-- 0012: patrols (where grid workers are and went) and the road network routes are found on.

-- positions are the points grid workers' phones send, in WGS84, resolved at ingest: grid_id is
-- the deepest comprehensive grid the point fell in (NULL outside the district), own_grid the grid
-- of the worker's own posts that holds it (NULL when the worker was outside every own grid).
-- Written with COPY, so no geometry column (pgx's binary COPY has no geometry type): queries make
-- points with ST_MakePoint. Bounded by GRIDLINE_POSITION_RETENTION_DAYS (patrol.Janitor).
CREATE TABLE positions (
    person_id bigint NOT NULL, -- no foreign key: a per-row check would slow COPY; the pruner keeps it bounded
    at        timestamptz NOT NULL,
    lon       float8 NOT NULL,
    lat       float8 NOT NULL,
    accuracy  real NOT NULL DEFAULT 0,
    grid_id   bigint,
    own_grid  bigint
);
CREATE INDEX positions_person_at ON positions (person_id, at);
CREATE INDEX positions_at ON positions USING brin (at);
CREATE INDEX positions_own_grid ON positions (own_grid, at) WHERE own_grid IS NOT NULL;

-- worker_positions is the last position of each person, kept by the ingest in the same
-- transaction: "where is everyone now" reads one row per person.
CREATE TABLE worker_positions (
    person_id bigint PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    at        timestamptz NOT NULL,
    lon       float8 NOT NULL,
    lat       float8 NOT NULL,
    accuracy  real NOT NULL DEFAULT 0,
    grid_id   bigint,
    own_grid  bigint
);
CREATE INDEX worker_positions_at ON worker_positions (at);

-- The road network: edges noded at their end points (source/target are road_vertices ids), cost
-- in seconds by length and the class's speed (both directions). synthetic marks the demo's
-- generated roads (demo/data/PROVENANCE.md).
CREATE EXTENSION IF NOT EXISTS pgrouting;

CREATE TABLE road_vertices (
    id   bigint PRIMARY KEY,
    geom geometry(Point, 4326) NOT NULL
);
CREATE INDEX road_vertices_geom ON road_vertices USING gist (geom);

CREATE TABLE roads (
    id        bigserial PRIMARY KEY,
    source    bigint NOT NULL,
    target    bigint NOT NULL,
    geom      geometry(LineString, 4326) NOT NULL,
    length_m  float8 NOT NULL CHECK (length_m >= 0),
    cost      float8 NOT NULL CHECK (cost >= 0),
    name      text NOT NULL DEFAULT '',
    class     text NOT NULL CHECK (class IN ('main', 'street', 'lane')),
    synthetic boolean NOT NULL DEFAULT false
);
CREATE INDEX roads_geom ON roads USING gist (geom);
