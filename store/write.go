package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/wkb"

	"gridline.dev/gridline"
)

// Dataset is a whole set of grids, people and assignments with IDs chosen by its maker (the demo
// generator): ParentID, PersonID and GridID refer to those IDs.
type Dataset struct {
	Grids       []gridline.Grid
	People      []gridline.Person
	Assignments []gridline.Assignment
}

// Load writes a whole dataset into an empty database in one transaction, keeping its IDs, and
// checks every grid by the same rules as a single edit. It refuses a database that has grids.
func (db *DB) Load(ctx context.Context, d *Dataset, tol float64) error {
	for i := range d.Grids {
		if err := d.Grids[i].Validate(); err != nil {
			return fmt.Errorf("grid %d: %w", i, err)
		}
	}
	for i := range d.People {
		if err := d.People[i].Validate(); err != nil {
			return fmt.Errorf("person %d: %w", i, err)
		}
	}
	for i := range d.Assignments {
		if err := d.Assignments[i].Validate(); err != nil {
			return fmt.Errorf("assignment %d: %w", i, err)
		}
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM grids`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return gridline.Errorf(gridline.EConflict, "the database already holds %d grid versions: load a dataset only into an empty database", n)
		}
		rows := make([][]any, len(d.Grids))
		for i, g := range d.Grids {
			geom, err := wkb.Marshal(g.Geometry)
			if err != nil {
				return fmt.Errorf("grid %s: %w", g.Code, err)
			}
			var parent *int64
			if g.ParentID != 0 {
				parent = &g.ParentID
			}
			version := g.Version
			if version == 0 {
				version = 1
			}
			rows[i] = []any{g.ID, version, g.Code, g.Name, string(g.Level), string(g.Layer), g.Kind, parent,
				int32(g.Households), int32(g.Population), g.ValidFrom, g.ValidTo,
				g.Bounds.East, g.Bounds.South, g.Bounds.West, g.Bounds.North, geom}
		}
		// The geometry arrives as WKB bytes in a staging column and is typed in SQL, because COPY
		// of binary into a PostGIS column needs the type's binary format, which WKB is not.
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE grid_load (id bigint, version int, code text, name text,
			level text, layer text, kind text, parent_id bigint, households int, population int,
			valid_from date, valid_to date, bound_east text, bound_south text, bound_west text,
			bound_north text, wkb bytea) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"grid_load"}, []string{"id", "version", "code", "name",
			"level", "layer", "kind", "parent_id", "households", "population", "valid_from", "valid_to",
			"bound_east", "bound_south", "bound_west", "bound_north", "wkb"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy grids: %w", err)
		}
		var ids []int64
		r, err := tx.Query(ctx, `INSERT INTO grids (id, version, code, name, level, layer, kind, parent_id,
			households, population, valid_from, valid_to, bound_east, bound_south, bound_west, bound_north, geom)
			SELECT id, version, code, name, level, layer, kind, parent_id, households, population,
			valid_from, valid_to, bound_east, bound_south, bound_west, bound_north,
			ST_Multi(ST_GeomFromWKB(wkb, 4326)) FROM grid_load RETURNING version_id`)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(r, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if err := checkGrids(ctx, tx, ids, tol, false); err != nil {
			return err
		}
		// People made before the load (the first administrator's person, made by the first
		// serve) keep their ids: the dataset's people move up past them.
		var shift int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM people`).Scan(&shift); err != nil {
			return err
		}
		people := make([][]any, len(d.People))
		for i, p := range d.People {
			people[i] = []any{p.ID + shift, p.Name, p.Phone, p.Note}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"people"}, []string{"id", "name", "phone", "note"}, pgx.CopyFromRows(people)); err != nil {
			return fmt.Errorf("copy people: %w", err)
		}
		as := make([][]any, len(d.Assignments))
		for i, a := range d.Assignments {
			as[i] = []any{a.ID, a.PersonID + shift, a.GridID, string(a.Post), a.ValidFrom, a.ValidTo}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"assignments"}, []string{"id", "person_id", "grid_id", "role", "valid_from", "valid_to"}, pgx.CopyFromRows(as)); err != nil {
			return fmt.Errorf("copy assignments: %w", err)
		}
		var orphans int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM assignments a WHERE NOT EXISTS (SELECT 1 FROM grids g WHERE g.id = a.grid_id)`).Scan(&orphans); err != nil {
			return err
		}
		if orphans > 0 {
			return gridline.Errorf(gridline.ERule, "%d assignments name grids that do not exist", orphans)
		}
		// One row for the whole load, without the grids' ids: a dataset is loaded once, into an
		// empty database, by the operator.
		if err := appendAudit(ctx, tx, audit{Action: "dataset.load", TargetKind: "dataset",
			After: map[string]int{"grids": len(d.Grids), "people": len(d.People), "assignments": len(d.Assignments)}}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			SELECT setval('grid_id_seq', greatest((SELECT max(id) FROM grids), 1));
			SELECT setval('people_id_seq', greatest((SELECT max(id) FROM people), 1));
			SELECT setval('assignments_id_seq', greatest((SELECT max(id) FROM assignments), 1));
			ANALYZE grids; ANALYZE people; ANALYZE assignments;`)
		return err
	})
}

// SaveGrid writes one grid. With g.ID == 0 it creates a new grid (version 1). With an existing
// g.ID it makes a new version valid from g.ValidFrom: the version valid then is closed on that
// date. Either way the write rules are checked before commit; the stored grid is returned.
func (db *DB) SaveGrid(ctx context.Context, g gridline.Grid, tol float64) (*gridline.Grid, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	geom, err := wkb.Marshal(g.Geometry)
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalid, "grid %s: geometry: %v", g.Code, err)
	}
	var out *gridline.Grid
	isNew := g.ID == 0
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if isNew {
			if err := tx.QueryRow(ctx, `SELECT nextval('grid_id_seq')`).Scan(&g.ID); err != nil {
				return err
			}
		}
		vid, err := insertVersion(ctx, tx, &g, geom, isNew)
		if err != nil {
			return err
		}
		if err := checkGrids(ctx, tx, []int64{vid}, tol, false); err != nil {
			return err
		}
		if err := auditGridWrite(ctx, tx, "grid.save", map[string]any{"code": g.Code, "version": g.Version, "valid_from": gridline.Date(g.ValidFrom)}); err != nil {
			return err
		}
		saved, err := scanGrid(tx.QueryRow(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM grids g WHERE version_id = $1`, vid), true)
		out = &saved
		return err
	})
	return out, err
}

// insertVersion writes grid g (geometry geom, as WKB) in tx: version 1 of a new grid (isNew, its
// id just taken from grid_id_seq), otherwise a new version valid from g.ValidFrom,
// closing the version valid then on that date (the new one ends where the closed one ended). The
// caller checks the write rules (checkGrids) over every version it writes.
func insertVersion(ctx context.Context, tx pgx.Tx, g *gridline.Grid, geom []byte, isNew bool) (int64, error) {
	if isNew {
		g.Version = 1
	} else {
		var prev struct {
			version   int
			versionID int64
			from      time.Time
			to        *time.Time
		}
		err := tx.QueryRow(ctx, `SELECT version_id, version, valid_from, valid_to FROM grids WHERE id = $1
			AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2) FOR UPDATE`, g.ID, g.ValidFrom).
			Scan(&prev.versionID, &prev.version, &prev.from, &prev.to)
		if err == pgx.ErrNoRows {
			return 0, gridline.Errorf(gridline.ENotFound, "grid %d has no version valid on %s to replace", g.ID, gridline.Date(g.ValidFrom))
		}
		if err != nil {
			return 0, err
		}
		if !g.ValidFrom.After(prev.from) {
			return 0, gridline.Errorf(gridline.ERule, "a new version of grid %d must start after %s, when the current one starts", g.ID, gridline.Date(prev.from))
		}
		var maxVersion int
		if err := tx.QueryRow(ctx, `SELECT max(version) FROM grids WHERE id = $1`, g.ID).Scan(&maxVersion); err != nil {
			return 0, err
		}
		g.Version = maxVersion + 1
		if g.ValidTo == nil {
			g.ValidTo = prev.to
		}
		if _, err := tx.Exec(ctx, `UPDATE grids SET valid_to = $2 WHERE version_id = $1`, prev.versionID, g.ValidFrom); err != nil {
			return 0, err
		}
	}
	var parent *int64
	if g.ParentID != 0 {
		parent = &g.ParentID
	}
	var vid int64
	err := tx.QueryRow(ctx, `INSERT INTO grids (id, version, code, name, level, layer, kind, parent_id,
		households, population, valid_from, valid_to, bound_east, bound_south, bound_west, bound_north, geom)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16, ST_Multi(ST_GeomFromWKB($17, 4326)))
		RETURNING version_id`, g.ID, g.Version, g.Code, g.Name, string(g.Level), string(g.Layer), g.Kind, parent,
		g.Households, g.Population, g.ValidFrom, g.ValidTo, g.Bounds.East, g.Bounds.South, g.Bounds.West,
		g.Bounds.North, geom).Scan(&vid)
	return vid, err
}

// SavePerson creates a person and returns it with its ID.
func (db *DB) SavePerson(ctx context.Context, p gridline.Person) (*gridline.Person, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO people (name, phone, note) VALUES ($1,$2,$3) RETURNING id`, p.Name, p.Phone, p.Note).Scan(&p.ID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "person.create", TargetKind: "person", TargetIDs: []int64{p.ID}, After: p})
	})
	return &p, err
}

// Assign records a person holding a role on a grid.
func (db *DB) Assign(ctx context.Context, a gridline.Assignment) (*gridline.Assignment, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grids WHERE id = $1)`, a.GridID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return gridline.Errorf(gridline.ENotFound, "grid %d does not exist", a.GridID)
		}
		if err := checkGridReach(ctx, tx, "staff.write", []int64{a.GridID}); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO assignments (person_id, grid_id, role, valid_from, valid_to) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
			a.PersonID, a.GridID, string(a.Post), a.ValidFrom, a.ValidTo).Scan(&a.ID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "staff.assign", TargetKind: "assignment", TargetIDs: []int64{a.ID}, GridIDs: []int64{a.GridID}, After: a})
	})
	return &a, err
}
