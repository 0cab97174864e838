-- 0004: "one version of a grid at a time" and "one grid per code at a time" move from the two
-- btree_gist exclusion constraints of 0001 to checkGrids (store/rules.go), which runs in every
-- writing transaction under one advisory lock, with btree lookups. The gist constraints cost 6 s
-- of a 100,000-grid import (the code one alone 4.4 s: gist on long text keys sharing prefixes),
-- more than everything else the import does. Two partial unique indexes keep the case that matters
-- most, two open-ended versions of one grid or one code, refused by the table itself even for a
-- writer that bypasses the store.
ALTER TABLE grids DROP CONSTRAINT grids_id_daterange_excl;
ALTER TABLE grids DROP CONSTRAINT grids_code_daterange_excl;
CREATE UNIQUE INDEX grids_open_id_key ON grids (id) WHERE valid_to IS NULL;
CREATE UNIQUE INDEX grids_open_code_key ON grids (code) WHERE valid_to IS NULL;
