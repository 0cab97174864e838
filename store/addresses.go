package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
)

// The standard address register (migration 0011): rows, aliases, and the households per grid
// computed from it.

const addressCols = `id, province, city, district, subdistrict, community, road, door, compound, building, unit, floor, room,
	building_code, households, ST_X(geom), ST_Y(geom), valid_from, valid_to, provenance`

func scanAddress(row pgx.Row, a *gridline.Address) error {
	return row.Scan(&a.ID, &a.Province, &a.City, &a.District, &a.Subdistrict, &a.Community, &a.Road, &a.Door, &a.Compound,
		&a.Building, &a.Unit, &a.Floor, &a.Room, &a.BuildingCode, &a.Households, &a.Lon, &a.Lat, &a.ValidFrom, &a.ValidTo, &a.Provenance)
}

// addressConflict turns the register's exclusion constraint into a conflict the user can act on.
func addressConflict(err error, a *gridline.Address) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return gridline.Errorf(gridline.EConflict, "the register already has %s from %s: change that row (or end it) instead of adding another",
			a.Label(), gridline.Date(a.ValidFrom))
	}
	return err
}

func addressArgs(a *gridline.Address) []any {
	return []any{a.Province, a.City, a.District, a.Subdistrict, a.Community, a.Road, a.Door, a.Compound, a.Building, a.Unit, a.Floor, a.Room,
		a.BuildingCode, a.Households, a.Lon, a.Lat, a.ValidFrom, a.ValidTo, a.Provenance, a.Label()}
}

// Addresses returns every row of the register (every date) and the aliases: what the matcher is
// built from.
func (db *DB) Addresses(ctx context.Context) ([]gridline.Address, []address.Alias, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+addressCols+` FROM addresses ORDER BY id`)
	if err != nil {
		return nil, nil, classify(err)
	}
	var out []gridline.Address
	for rows.Next() {
		var a gridline.Address
		if err := scanAddress(rows, &a); err != nil {
			rows.Close()
			return nil, nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, classify(err)
	}
	arows, err := db.pool.Query(ctx, `SELECT alias, name FROM address_aliases ORDER BY alias`)
	if err != nil {
		return nil, nil, classify(err)
	}
	aliases, err := pgx.CollectRows(arows, func(r pgx.CollectableRow) (address.Alias, error) {
		var al address.Alias
		return al, r.Scan(&al.Alias, &al.Name)
	})
	return out, aliases, classify(err)
}

// AddressFilter selects register rows.
type AddressFilter struct {
	Community string // exact name
	Road      string // exact name
	At        *time.Time
	AfterID   int64
	Limit     int
}

// ListAddresses lists register rows in id order.
func (db *DB) ListAddresses(ctx context.Context, f AddressFilter) ([]gridline.Address, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var at any
	if f.At != nil {
		at = *f.At
	}
	rows, err := db.pool.Query(ctx, `SELECT `+addressCols+` FROM addresses
		WHERE id > $1 AND ($2 = '' OR community = $2) AND ($3 = '' OR road = $3)
			AND ($4::date IS NULL OR (valid_from <= $4 AND (valid_to IS NULL OR valid_to > $4)))
		ORDER BY id LIMIT $5`, f.AfterID, f.Community, f.Road, at, f.Limit)
	if err != nil {
		return nil, classify(err)
	}
	out := []gridline.Address{}
	for rows.Next() {
		var a gridline.Address
		if err := scanAddress(rows, &a); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
	}
	return out, classify(rows.Err())
}

// Address is one row, or a not_found error.
func (db *DB) Address(ctx context.Context, id int64) (*gridline.Address, error) {
	var a gridline.Address
	err := scanAddress(db.pool.QueryRow(ctx, `SELECT `+addressCols+` FROM addresses WHERE id = $1`, id), &a)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gridline.Errorf(gridline.ENotFound, "no address with id %d", id)
	}
	return &a, classify(err)
}

// gridsAtPoint are the deepest comprehensive grids covering (lon, lat) on date day: the grids
// whose chain a write of an address there needs in its reach (two on a shared edge).
func gridsAtPoint(ctx context.Context, tx pgx.Tx, lon, lat float64, day time.Time) ([]int64, error) {
	var ids []int64
	// The deepest level's grids only: the reach check follows their parents up.
	err := tx.QueryRow(ctx, `WITH c AS (SELECT id, array_position(ARRAY['district','subdistrict','community','grid','micro'], level) AS rank
			FROM grids WHERE layer = 'comprehensive' AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
			AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3))
		SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM c WHERE rank = (SELECT max(rank) FROM c)`, lon, lat, day).Scan(&ids)
	return ids, err
}

// checkAddressReach refuses a write of a (at its point, on its first day) outside the actor's
// grids.write, and a point outside every grid.
func checkAddressReach(ctx context.Context, tx pgx.Tx, a *gridline.Address) ([]int64, error) {
	ids, err := gridsAtPoint(ctx, tx, a.Lon, a.Lat, a.ValidFrom)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, gridline.Errorf(gridline.ERule, "the point (%g, %g) of %s lies in no grid on %s: the register holds the district's addresses only (check the point's order, lon then lat, and its coordinate system)",
			a.Lon, a.Lat, a.Label(), gridline.Date(a.ValidFrom)).With("field", "lon")
	}
	return ids, checkGridReach(ctx, tx, "grids.write", ids)
}

// CreateAddress adds a row, checked, within the actor's reach, and audited.
func (db *DB) CreateAddress(ctx context.Context, a *gridline.Address) (*gridline.Address, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		grids, err := checkAddressReach(ctx, tx, a)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO addresses (province, city, district, subdistrict, community, road, door, compound, building, unit, floor, room,
			building_code, households, geom, valid_from, valid_to, provenance, label)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14, ST_SetSRID(ST_MakePoint($15, $16), 4326), $17, $18, $19, $20) RETURNING id`,
			addressArgs(a)...).Scan(&a.ID)
		if err != nil {
			return addressConflict(err, a)
		}
		return appendAudit(ctx, tx, audit{Action: "addresses.create", TargetKind: "address", TargetIDs: []int64{a.ID}, GridIDs: grids, After: a})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// UpdateAddress replaces row a.ID with a: the actor needs grids.write where the row was and where
// it will be.
func (db *DB) UpdateAddress(ctx context.Context, a *gridline.Address) (*gridline.Address, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var before gridline.Address
		err := scanAddress(tx.QueryRow(ctx, `SELECT `+addressCols+` FROM addresses WHERE id = $1 FOR UPDATE`, a.ID), &before)
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "no address with id %d", a.ID)
		}
		if err != nil {
			return err
		}
		old, err := checkAddressReach(ctx, tx, &before)
		if err != nil && gridline.ErrorCode(err) != gridline.ERule {
			return err
		}
		grids, err := checkAddressReach(ctx, tx, a)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE addresses SET province=$1, city=$2, district=$3, subdistrict=$4, community=$5, road=$6, door=$7, compound=$8,
			building=$9, unit=$10, floor=$11, room=$12, building_code=$13, households=$14, geom=ST_SetSRID(ST_MakePoint($15, $16), 4326),
			valid_from=$17, valid_to=$18, provenance=$19, label=$20 WHERE id=$21`, append(addressArgs(a), a.ID)...)
		if err != nil {
			return addressConflict(err, a)
		}
		return appendAudit(ctx, tx, audit{Action: "addresses.update", TargetKind: "address", TargetIDs: []int64{a.ID}, GridIDs: append(old, grids...), Before: before, After: a})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// DeleteAddress removes a row (a row that was never right; a place that is gone gets a valid_to).
func (db *DB) DeleteAddress(ctx context.Context, id int64) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		var before gridline.Address
		err := scanAddress(tx.QueryRow(ctx, `SELECT `+addressCols+` FROM addresses WHERE id = $1 FOR UPDATE`, id), &before)
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "no address with id %d", id)
		}
		if err != nil {
			return err
		}
		grids, err := checkAddressReach(ctx, tx, &before)
		if err != nil && gridline.ErrorCode(err) != gridline.ERule {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM addresses WHERE id = $1`, id); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "addresses.delete", TargetKind: "address", TargetIDs: []int64{id}, GridIDs: grids, Before: before})
	})
}

// LoadAddresses writes rows in one transaction by COPY: the demo register (no person makes that
// change, so it is not audited) and benchmarks. Rows are validated first; nothing is written when
// one is wrong.
func (db *DB) LoadAddresses(ctx context.Context, rows []gridline.Address) error {
	for i := range rows {
		if err := rows[i].Validate(); err != nil {
			return fmt.Errorf("address %d (%s): %w", i+1, rows[i].Label(), err)
		}
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		_, err := stageAddresses(ctx, tx, rows, false)
		return err
	})
}

// stageAddresses copies rows into the temporary table addr_load (idx = position + 1) and, with
// returning, inserts them and returns the new ids in order.
func stageAddresses(ctx context.Context, tx pgx.Tx, rows []gridline.Address, staged bool) ([]int64, error) {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE addr_load (idx int, province text, city text, district text, subdistrict text, community text, road text,
		door text, compound text, building text, unit text, floor text, room text, building_code text, households int, lon float8, lat float8,
		valid_from date, valid_to date, provenance text, label text) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	cols := []string{"province", "city", "district", "subdistrict", "community", "road", "door", "compound", "building", "unit", "floor", "room",
		"building_code", "households", "lon", "lat", "valid_from", "valid_to", "provenance", "label"}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"addr_load"}, append([]string{"idx"}, cols...), pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		return append([]any{i + 1}, addressArgs(&rows[i])...), nil
	})); err != nil {
		return nil, err
	}
	if staged {
		return nil, nil
	}
	rs, err := tx.Query(ctx, `INSERT INTO addresses (`+strings.Join(cols[:14], ", ")+`, geom, valid_from, valid_to, provenance, label)
		SELECT `+strings.Join(cols[:14], ", ")+`, ST_SetSRID(ST_MakePoint(lon, lat), 4326), valid_from, valid_to, provenance, label FROM addr_load ORDER BY idx
		RETURNING id`)
	if err == nil {
		var ids []int64
		ids, err = pgx.CollectRows(rs, pgx.RowTo[int64])
		if err == nil {
			return ids, nil
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return nil, gridline.Errorf(gridline.EConflict, "two rows are the same place from the same date (in the file, or in the file and the register): %s", pe.Detail)
	}
	return nil, err
}

// AddressImport is what an import of register rows found and did.
type AddressImport struct {
	Rows     int             `json:"rows"`
	Problems []ImportProblem `json:"problems"`
	Written  int             `json:"written"`
	Applied  bool            `json:"applied"`
}

// ImportAddresses checks rows against the grids (every point in a grid on its first day, within the
// actor's grids.write) and, with apply and no problem, writes them all in one audited transaction.
// rows[i] is line lines[i] of the file.
func (db *DB) ImportAddresses(ctx context.Context, rows []gridline.Address, lines []int, apply bool) (*AddressImport, error) {
	rep := &AddressImport{Rows: len(rows), Problems: []ImportProblem{}}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := stageAddresses(ctx, tx, rows, true); err != nil {
			return err
		}
		// Points in no grid on their first day.
		rs, err := tx.Query(ctx, `SELECT l.idx FROM addr_load l WHERE NOT EXISTS (SELECT 1 FROM grids g
			WHERE g.layer = 'comprehensive' AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(l.lon, l.lat), 4326))
				AND g.valid_from <= l.valid_from AND (g.valid_to IS NULL OR g.valid_to > l.valid_from)) ORDER BY l.idx LIMIT 1000`)
		if err != nil {
			return err
		}
		outside, err := pgx.CollectRows(rs, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		for _, i := range outside {
			a := &rows[i-1]
			rep.Problems = append(rep.Problems, ImportProblem{Index: lines[i-1], Line: true, Field: "lon",
				Message: fmt.Sprintf("the point (%g, %g) of %s lies in no grid on %s (check the column order and the crs)", a.Lon, a.Lat, a.Label(), gridline.Date(a.ValidFrom))})
		}
		if len(rep.Problems) > 0 || !apply {
			return nil
		}
		// The deepest grids of every point, which the actor must reach.
		var grids []int64
		err = tx.QueryRow(ctx, `WITH c AS (SELECT l.idx, g.id, array_position(ARRAY['district','subdistrict','community','grid','micro'], g.level) AS rank
				FROM addr_load l JOIN grids g ON g.layer = 'comprehensive' AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(l.lon, l.lat), 4326))
				AND g.valid_from <= l.valid_from AND (g.valid_to IS NULL OR g.valid_to > l.valid_from)),
			d AS (SELECT idx, max(rank) AS rank FROM c GROUP BY idx)
			SELECT coalesce(array_agg(DISTINCT c.id), '{}') FROM c JOIN d USING (idx, rank)`).Scan(&grids)
		if err != nil {
			return err
		}
		if err := checkGridReach(ctx, tx, "grids.write", grids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DROP TABLE addr_load`); err != nil {
			return err
		}
		ids, err := stageAddresses(ctx, tx, rows, false)
		if err != nil {
			return err
		}
		rep.Written, rep.Applied = len(ids), true
		return appendAudit(ctx, tx, audit{Action: "addresses.import", TargetKind: "address", TargetIDs: ids, GridIDs: grids,
			After: map[string]any{"rows": len(ids)}})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// GridHouseholds is a grid's households as the grid records them and as the register counts them.
type GridHouseholds struct {
	GridID   int64  `json:"grid_id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	Level    string `json:"level"`
	Grid     int    `json:"grid"`     // the grid's own figure
	Register int    `json:"register"` // the sum over the register's rows whose point it covers
}

// HouseholdsByGrid compares, for every comprehensive grid valid on day, its households with the sum
// of the households of the register rows valid on day whose point it covers. Nothing is returned
// when the register is empty (a district without a register has nothing to compare).
func (db *DB) HouseholdsByGrid(ctx context.Context, day time.Time) ([]GridHouseholds, error) {
	rows, err := db.pool.Query(ctx, `
		WITH a AS (SELECT geom, households FROM addresses
			WHERE households > 0 AND valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1))
		SELECT g.id, g.code, g.name, g.level, g.households, coalesce(sum(a.households), 0)::int
		FROM grids g LEFT JOIN a ON ST_Covers(g.geom, a.geom)
		WHERE g.layer = 'comprehensive' AND g.valid_from <= $1 AND (g.valid_to IS NULL OR g.valid_to > $1)
			AND EXISTS (SELECT 1 FROM addresses)
		GROUP BY g.id, g.code, g.name, g.level, g.households
		ORDER BY g.code`, day)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (GridHouseholds, error) {
		var h GridHouseholds
		return h, r.Scan(&h.GridID, &h.Code, &h.Name, &h.Level, &h.Grid, &h.Register)
	})
	return out, classify(err)
}

// MatchAddressesTrgm is the plain PostgreSQL way of matching an address, for the benchmark: the
// register row whose label is most similar (pg_trgm) to the text, among those at least threshold
// similar (the % operator, which the GIN index answers), with its similarity; nil when none is.
func (db *DB) MatchAddressesTrgm(ctx context.Context, text string, day time.Time, threshold float64) (*gridline.Address, float64, error) {
	var a gridline.Address
	var sim float64
	var found bool
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('pg_trgm.similarity_threshold', $1, true)`, fmt.Sprint(threshold)); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT `+addressCols+`, similarity(label, $1) AS sim FROM addresses
			WHERE label % $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)
			ORDER BY sim DESC, id LIMIT 1`, text, day).Scan(&a.ID, &a.Province, &a.City, &a.District, &a.Subdistrict, &a.Community, &a.Road, &a.Door,
			&a.Compound, &a.Building, &a.Unit, &a.Floor, &a.Room, &a.BuildingCode, &a.Households, &a.Lon, &a.Lat, &a.ValidFrom, &a.ValidTo, &a.Provenance, &sim)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil || !found {
		return nil, 0, err
	}
	return &a, sim, nil
}

// CType is the database's LC_CTYPE: pg_trgm sees no trigrams in Chinese text unless it is a UTF-8
// one (C.UTF-8, zh_CN.UTF-8 ...).
func (db *DB) CType(ctx context.Context) (string, error) {
	var ctype string
	err := db.pool.QueryRow(ctx, `SELECT datctype FROM pg_database WHERE datname = current_database()`).Scan(&ctype)
	return ctype, classify(err)
}

// RegisterHouseholds is HouseholdsByGrid as the coverage audit reads it (coverage.RegisterHouseholds):
// grid identity -> the register's households; ok is false when the register is empty.
func (db *DB) RegisterHouseholds(ctx context.Context, at time.Time) (map[int64]int, bool, error) {
	list, err := db.HouseholdsByGrid(ctx, at)
	if err != nil || len(list) == 0 {
		return nil, false, err
	}
	out := make(map[int64]int, len(list))
	for _, h := range list {
		out[h.GridID] = h.Register
	}
	return out, true, nil
}
