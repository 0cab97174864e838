package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
)

// StaffRow is one line of a staff list: a person holding a role on the grid with a code.
type StaffRow struct {
	Index    int // the line's number in the file, counting the header as line 1
	GridCode string
	Post     gridline.Post
	Name     string
	Phone    string
	From     time.Time
	To       *time.Time
}

// StaffReport is what a staff import did, or in a dry run would do.
type StaffReport struct {
	Valid        bool            `json:"ok"`
	Applied      bool            `json:"applied"`
	Rows         int             `json:"rows"`
	PeopleAdded  int             `json:"people_added"`
	Added        int             `json:"assignments_added"`
	Changed      int             `json:"assignments_changed"` // the same post with another end date
	Unchanged    int             `json:"unchanged"`
	Problems     []ImportProblem `json:"problems"`
	ProblemCount int             `json:"problem_count"`
}

// ImportStaff writes a staff list in one transaction: a person is matched by name and phone, an
// assignment by person, grid, role and start date, so importing the same list twice changes
// nothing. A grid code must name a grid valid on the assignment's start. Problems are in the
// report and nothing is written; a dry run (apply false) rolls back after counting.
func (db *DB) ImportStaff(ctx context.Context, rows []StaffRow, apply bool) (*StaffReport, error) {
	rep := &StaffReport{Rows: len(rows), Problems: []ImportProblem{}}
	applied, err := db.rehearse(ctx, apply, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE st (idx int, grid_code text, role text, name text, phone text,
			vfrom date, vto date, gid bigint, pid bigint, aid bigint, old_to date, same_to bool) ON COMMIT DROP`); err != nil {
			return err
		}
		data := make([][]any, len(rows))
		for i, r := range rows {
			data[i] = []any{r.Index, r.GridCode, string(r.Post), r.Name, r.Phone, r.From, r.To}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"st"}, []string{"idx", "grid_code", "role", "name", "phone", "vfrom", "vto"}, pgx.CopyFromRows(data)); err != nil {
			return err
		}
		for _, q := range []string{
			`UPDATE st SET gid = g.id FROM grids g WHERE g.code = st.grid_code AND g.valid_from <= st.vfrom AND (g.valid_to IS NULL OR g.valid_to > st.vfrom)`,
			`UPDATE st SET pid = (SELECT min(p.id) FROM people p WHERE p.name = st.name AND p.phone = st.phone)`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		ps, err := staffProblems(ctx, tx)
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			rep.ProblemCount = len(ps)
			if len(ps) > 1000 {
				ps = ps[:1000]
			}
			rep.Problems = ps
			return errImportProblems
		}
		// New people, one per (name, phone).
		tag, err := tx.Exec(ctx, `INSERT INTO people (name, phone, note)
			SELECT DISTINCT name, phone, 'imported' FROM st WHERE pid IS NULL`)
		if err != nil {
			return err
		}
		rep.PeopleAdded = int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, `UPDATE st SET pid = (SELECT min(p.id) FROM people p WHERE p.name = st.name AND p.phone = st.phone) WHERE pid IS NULL`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE st SET aid = a.id, old_to = a.valid_to, same_to = a.valid_to IS NOT DISTINCT FROM st.vto
			FROM assignments a WHERE a.person_id = st.pid AND a.grid_id = st.gid AND a.role = st.role AND a.valid_from = st.vfrom`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE aid IS NULL), count(*) FILTER (WHERE aid IS NOT NULL AND NOT same_to),
			count(*) FILTER (WHERE same_to) FROM st`).Scan(&rep.Added, &rep.Changed, &rep.Unchanged); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE assignments a SET valid_to = st.vto FROM st WHERE st.aid = a.id AND NOT st.same_to`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO assignments (person_id, grid_id, role, valid_from, valid_to)
			SELECT pid, gid, role, vfrom, vto FROM st WHERE aid IS NULL ORDER BY idx`); err != nil {
			return err
		}
		return auditStaffImport(ctx, tx, rep)
	})
	if err != nil {
		return nil, err
	}
	rep.Valid, rep.Applied = rep.ProblemCount == 0, applied
	return rep, nil
}

func staffProblems(ctx context.Context, tx pgx.Tx) ([]ImportProblem, error) {
	rows, err := tx.Query(ctx, `
		SELECT idx, grid_code, 'grid_code', format('no grid with code %s is valid on %s', grid_code, vfrom) FROM st WHERE gid IS NULL
		UNION ALL
		SELECT idx, grid_code, 'row', format('repeats line %s (the same person, grid, role and start)', first)
		FROM (SELECT idx, grid_code, min(idx) OVER (PARTITION BY grid_code, role, name, phone, vfrom) AS first FROM st) d WHERE idx <> first
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ImportProblem
	for rows.Next() {
		p := ImportProblem{Line: true}
		if err := rows.Scan(&p.Index, &p.Code, &p.Field, &p.Message); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DivisionRow is one line of a division list (code, name, level, parent code).
type DivisionRow struct {
	Index      int
	Code       string
	Name       string
	Level      gridline.Level
	ParentCode string
}

// DivisionReport is what a division list import did, or in a dry run would do.
type DivisionReport struct {
	Valid        bool            `json:"ok"`
	Applied      bool            `json:"applied"`
	Rows         int             `json:"rows"`
	Renamed      int             `json:"renamed"`
	Unchanged    int             `json:"unchanged"`
	Missing      []string        `json:"missing"` // codes with no grid: their boundaries must be imported
	Problems     []ImportProblem `json:"problems"`
	ProblemCount int             `json:"problem_count"`
}

// ImportDivisions names the grids of a division list (subdistricts, communities ...): a grid whose
// name differs gets a new version with the list's name from date from. A division without a grid
// cannot be created from a list, which has no boundary: it is reported as missing. A level or a
// parent that disagrees with the stored grid is a problem.
func (db *DB) ImportDivisions(ctx context.Context, rows []DivisionRow, from time.Time, apply bool, tol float64) (*DivisionReport, error) {
	rep := &DivisionReport{Rows: len(rows), Missing: []string{}, Problems: []ImportProblem{}}
	if tol == 0 {
		tol = DefaultTolerance
	}
	applied, err := db.rehearse(ctx, apply, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE dv (idx int, code text, name text, level text, parent_code text) ON COMMIT DROP`); err != nil {
			return err
		}
		data := make([][]any, len(rows))
		for i, r := range rows {
			data[i] = []any{r.Index, r.Code, r.Name, string(r.Level), r.ParentCode}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"dv"}, []string{"idx", "code", "name", "level", "parent_code"}, pgx.CopyFromRows(data)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE dvm ON COMMIT DROP AS
			SELECT d.*, g.version_id AS vid, g.name AS old_name, g.level AS old_level, g.valid_from AS old_from, g.valid_to AS old_to, p.code AS old_parent
			FROM dv d LEFT JOIN grids g ON g.code = d.code AND g.valid_from <= $1 AND (g.valid_to IS NULL OR g.valid_to > $1)
			LEFT JOIN grids p ON p.id = g.parent_id AND p.valid_from <= $1 AND (p.valid_to IS NULL OR p.valid_to > $1)`, from); err != nil {
			return err
		}
		r, err := tx.Query(ctx, `
			SELECT idx, code, 'level', format('the list says level %s, the stored grid is a %s', level, old_level) FROM dvm WHERE vid IS NOT NULL AND level <> old_level
			UNION ALL
			SELECT idx, code, 'parent_code', format('the list says parent %s, the stored grid hangs under %s', parent_code, old_parent)
			FROM dvm WHERE vid IS NOT NULL AND level <> 'district' AND parent_code <> '' AND old_parent IS DISTINCT FROM parent_code
			UNION ALL
			SELECT idx, code, 'valid_from', format('its stored version starts on %s: a new name must start later (choose a later from date)', old_from)
			FROM dvm WHERE vid IS NOT NULL AND name <> old_name AND (old_from >= $1 OR old_to IS NOT NULL)
			UNION ALL
			SELECT idx, code, 'code', format('code %s appears more than once in the list', code)
			FROM (SELECT idx, code, count(*) OVER (PARTITION BY code) n FROM dvm) d WHERE n > 1
			ORDER BY 1`, from)
		if err != nil {
			return err
		}
		for r.Next() {
			p := ImportProblem{Line: true}
			if err := r.Scan(&p.Index, &p.Code, &p.Field, &p.Message); err != nil {
				r.Close()
				return err
			}
			rep.Problems = append(rep.Problems, p)
		}
		r.Close()
		if err := r.Err(); err != nil {
			return err
		}
		rep.ProblemCount = len(rep.Problems)
		if rep.ProblemCount > 0 {
			return errImportProblems
		}
		mr, err := tx.Query(ctx, `SELECT code FROM dvm WHERE vid IS NULL ORDER BY idx`)
		if err != nil {
			return err
		}
		if rep.Missing, err = pgx.CollectRows(mr, pgx.RowTo[string]); err != nil {
			return err
		}
		if rep.Missing == nil {
			rep.Missing = []string{}
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE name <> old_name), count(*) FILTER (WHERE name = old_name) FROM dvm WHERE vid IS NOT NULL`).
			Scan(&rep.Renamed, &rep.Unchanged); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE grids g SET valid_to = $1 FROM dvm d WHERE d.vid = g.version_id AND d.name <> d.old_name`, from); err != nil {
			return err
		}
		ins, err := tx.Query(ctx, `INSERT INTO grids (id, version, code, name, level, layer, kind, parent_id, households, population,
				valid_from, bound_east, bound_south, bound_west, bound_north, geom)
			SELECT g.id, (SELECT max(x.version) FROM grids x WHERE x.id = g.id) + 1, g.code, d.name, g.level, g.layer, g.kind, g.parent_id,
				g.households, g.population, $1, g.bound_east, g.bound_south, g.bound_west, g.bound_north, g.geom
			FROM dvm d JOIN grids g ON g.version_id = d.vid WHERE d.name <> d.old_name RETURNING version_id`, from)
		if err != nil {
			return err
		}
		vids, err := pgx.CollectRows(ins, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if len(vids) > 0 {
			if err := checkGrids(ctx, tx, vids, tol, true); err != nil {
				return err
			}
		}
		return auditGridWrite(ctx, tx, "divisions.import", rep)
	})
	if err != nil {
		return nil, err
	}
	rep.Valid, rep.Applied = rep.ProblemCount == 0, applied
	return rep, nil
}
