-- 0011: the standard address register (标准地址库, 一标三实), issue #17.
-- One row per door, building, unit or room, with its point; the grid of an address is not stored:
-- it is where the point falls on the date asked (the resolution index), so a redrawn boundary moves
-- addresses without touching them. Households are recorded on the deepest rows (units or rooms).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE addresses (
    id            bigserial PRIMARY KEY,
    province      text NOT NULL DEFAULT '',
    city          text NOT NULL DEFAULT '',
    district      text NOT NULL DEFAULT '',
    subdistrict   text NOT NULL DEFAULT '',
    community     text NOT NULL DEFAULT '',
    road          text NOT NULL DEFAULT '',
    door          text NOT NULL DEFAULT '',
    compound      text NOT NULL DEFAULT '',
    building      text NOT NULL DEFAULT '',
    unit          text NOT NULL DEFAULT '',
    floor         text NOT NULL DEFAULT '',
    room          text NOT NULL DEFAULT '',
    building_code text NOT NULL DEFAULT '',
    households    integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    geom          geometry(Point, 4326) NOT NULL,
    valid_from    date NOT NULL,
    valid_to      date CHECK (valid_to IS NULL OR valid_to > valid_from),
    provenance    text NOT NULL CHECK (provenance IN ('real', 'synthetic')),
    -- The address written out (district, road, door, compound, building, unit, room): what plain
    -- PostgreSQL matches with pg_trgm in the benchmark, and what a person reads.
    label         text NOT NULL,
    CHECK (road <> '' OR compound <> '')
);
-- One row per place and first day. (An exclusion constraint over the dates made loading the demo
-- register ten times slower; overlapping versions of one place are the writer's to avoid.)
CREATE UNIQUE INDEX addresses_place_key ON addresses (road, door, compound, building, unit, floor, room, valid_from);
CREATE INDEX addresses_geom_idx ON addresses USING gist (geom);
CREATE INDEX addresses_community_idx ON addresses (community);
CREATE INDEX addresses_road_door_idx ON addresses (road, door);
-- pg_trgm needs a UTF-8 LC_CTYPE to see Chinese at all (scripts/setup.sh makes C.UTF-8).
CREATE INDEX addresses_label_trgm_idx ON addresses USING gin (label gin_trgm_ops);

-- Other names of the register's names: old names and the short forms the district uses.
CREATE TABLE address_aliases (
    alias text PRIMARY KEY CHECK (alias <> ''),
    name  text NOT NULL CHECK (name <> '')
);

CREATE TRIGGER addresses_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON addresses
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_notify_change();
CREATE TRIGGER address_aliases_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON address_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_notify_change();
