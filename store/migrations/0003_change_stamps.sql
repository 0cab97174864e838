-- 0003: a change stamp on every grid version, so that a server refreshing its in-memory index
-- reads only the rows that changed (compare every row's stamp, fetch the differing rows), instead
-- of every geometry after every edit.
CREATE SEQUENCE grid_change_seq;
ALTER TABLE grids ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('grid_change_seq');

CREATE FUNCTION gridline_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval('grid_change_seq');
    RETURN NEW;
END $$;
CREATE TRIGGER grids_stamp BEFORE UPDATE ON grids
    FOR EACH ROW EXECUTE FUNCTION gridline_stamp_change();

-- The notification now names the table, so a listener knows whether grids or staff changed.
CREATE OR REPLACE FUNCTION gridline_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gridline_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;
