package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
)

// The catalogue, the department list and the responsibility list are district-wide: changing
// them needs cases.supervise everywhere, checked again here inside the writing transaction, and
// every change is recorded in the audit log in the same transaction.

func checkEverywhere(ctx context.Context, what string) error {
	if everywhere, _ := gridline.ActorFrom(ctx).Reaches("cases.supervise"); !everywhere {
		return gridline.Errorf(gridline.EForbidden, "%s needs cases.supervise on all grids (a district-wide grant): nothing was written", what).With("permission", "cases.supervise")
	}
	return nil
}

// SaveCategories writes catalogue entries (new codes added, existing ones changed) in one
// transaction, audited as one change.
func (db *DB) SaveCategories(ctx context.Context, cats []dispatch.Category, action string) (added, changed int, err error) {
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if err := checkEverywhere(ctx, "changing the catalogue"); err != nil {
			return err
		}
		before, err := db.Categories(ctx)
		if err != nil {
			return err
		}
		old := map[string]dispatch.Category{}
		for _, c := range before {
			old[c.Code] = c
		}
		var was []dispatch.Category
		// Parents first: an entry may name a parent added by the same import.
		for pass := 0; pass < 2; pass++ {
			for _, c := range cats {
				if (c.ParentCode == "") != (pass == 0) {
					continue
				}
				if o, ok := old[c.Code]; ok {
					if o == c {
						continue
					}
					was = append(was, o)
					changed++
				} else {
					added++
				}
				var parent *string
				if c.ParentCode != "" {
					parent = &c.ParentCode
				}
				if _, err := tx.Exec(ctx, `INSERT INTO case_categories (code, standard, name, class_code, class_name, parent_code, kind, active, patrol_findable, updated_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
					ON CONFLICT (code) DO UPDATE SET standard = $2, name = $3, class_code = $4, class_name = $5, parent_code = $6, kind = $7, active = $8,
						patrol_findable = $9, updated_at = now()`,
					c.Code, c.Standard, c.Name, c.ClassCode, c.ClassName, parent, c.Kind, c.Active, c.PatrolFindable); err != nil {
					return err
				}
			}
		}
		if added+changed == 0 {
			return nil
		}
		return appendAudit(ctx, tx, audit{Action: action, TargetKind: "case_category", Before: map[string]any{"categories": was},
			After: map[string]any{"categories": cats, "added": added, "changed": changed}})
	})
	return added, changed, err
}

// SaveDepartments writes departments (added or changed) in one audited transaction.
func (db *DB) SaveDepartments(ctx context.Context, depts []dispatch.Department, action string) (added, changed int, err error) {
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if err := checkEverywhere(ctx, "changing the department list"); err != nil {
			return err
		}
		before, err := db.Departments(ctx)
		if err != nil {
			return err
		}
		old := map[string]dispatch.Department{}
		for _, d := range before {
			old[d.Code] = d
		}
		var was []dispatch.Department
		for _, d := range depts {
			if d.Fallback {
				if _, err := tx.Exec(ctx, `UPDATE departments SET fallback = false, updated_at = now() WHERE fallback AND code <> $1`, d.Code); err != nil {
					return err
				}
			}
			if o, ok := old[d.Code]; ok {
				if o == d {
					continue
				}
				was = append(was, o)
				changed++
			} else {
				added++
			}
			if _, err := tx.Exec(ctx, `INSERT INTO departments (code, name, phone, fallback, active, updated_at) VALUES ($1, $2, $3, $4, $5, now())
				ON CONFLICT (code) DO UPDATE SET name = $2, phone = $3, fallback = $4, active = $5, updated_at = now()`,
				d.Code, d.Name, d.Phone, d.Fallback, d.Active); err != nil {
				return err
			}
		}
		if added+changed == 0 {
			return nil
		}
		return appendAudit(ctx, tx, audit{Action: action, TargetKind: "department", Before: map[string]any{"departments": was},
			After: map[string]any{"departments": depts, "added": added, "changed": changed}})
	})
	return added, changed, err
}

func insertRule(ctx context.Context, tx pgx.Tx, r *dispatch.Rule) error {
	return tx.QueryRow(ctx, `INSERT INTO responsibility_rules (ord, category_code, standard, class_code, place_level, place_code_prefix, place_layer,
			urgency, party_kind, party_ref, active, note, updated_at)
		VALUES ($1, nullif($2, ''), nullif($3, ''), nullif($4, ''), nullif($5, ''), $6, $7, nullif($8, ''), $9, $10, $11, $12, now()) RETURNING id`,
		r.Ord, r.CategoryCode, r.Standard, r.ClassCode, r.PlaceLevel, r.PlaceCodePrefix, r.PlaceLayer, string(r.Urgency),
		string(r.PartyKind), r.PartyRef, r.Active, r.Note).Scan(&r.ID)
}

// ReplaceRules replaces the whole responsibility list (an import: the list is ordered, so it is
// replaced whole) in one audited transaction.
func (db *DB) ReplaceRules(ctx context.Context, rules []dispatch.Rule) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := checkEverywhere(ctx, "replacing the responsibility list"); err != nil {
			return err
		}
		before, err := db.Rules(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM responsibility_rules`); err != nil {
			return err
		}
		ids := make([]int64, 0, len(rules))
		for i := range rules {
			if err := insertRule(ctx, tx, &rules[i]); err != nil {
				return err
			}
			ids = append(ids, rules[i].ID)
		}
		return appendAudit(ctx, tx, audit{Action: "responsibility_rules.import", TargetKind: "responsibility_rule", TargetIDs: ids,
			Before: map[string]any{"rules": before}, After: map[string]any{"rules": rules}})
	})
}

// SaveRule adds a rule (ID 0) or changes one, audited.
func (db *DB) SaveRule(ctx context.Context, r *dispatch.Rule) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := checkEverywhere(ctx, "changing the responsibility list"); err != nil {
			return err
		}
		if r.ID == 0 {
			if err := insertRule(ctx, tx, r); err != nil {
				return err
			}
			return appendAudit(ctx, tx, audit{Action: "responsibility_rule.create", TargetKind: "responsibility_rule", TargetIDs: []int64{r.ID}, After: r})
		}
		rows, err := tx.Query(ctx, `SELECT `+ruleColumns+` FROM responsibility_rules WHERE id = $1 FOR UPDATE`, r.ID)
		if err != nil {
			return err
		}
		old, err := pgx.CollectExactlyOneRow(rows, scanRule)
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "no responsibility rule %d", r.ID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE responsibility_rules SET ord = $2, category_code = nullif($3, ''), standard = nullif($4, ''), class_code = nullif($5, ''),
				place_level = nullif($6, ''), place_code_prefix = $7, place_layer = $8, urgency = nullif($9, ''), party_kind = $10, party_ref = $11,
				active = $12, note = $13, updated_at = now() WHERE id = $1`,
			r.ID, r.Ord, r.CategoryCode, r.Standard, r.ClassCode, r.PlaceLevel, r.PlaceCodePrefix, r.PlaceLayer, string(r.Urgency),
			string(r.PartyKind), r.PartyRef, r.Active, r.Note); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "responsibility_rule.update", TargetKind: "responsibility_rule", TargetIDs: []int64{r.ID}, Before: old, After: r})
	})
}

// DeleteRule removes rule id, audited. (Cases keep a copy of the rule that routed them.)
func (db *DB) DeleteRule(ctx context.Context, id int64) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := checkEverywhere(ctx, "changing the responsibility list"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM responsibility_rules WHERE id = $1 RETURNING `+ruleColumns, id)
		if err != nil {
			return err
		}
		old, err := pgx.CollectExactlyOneRow(rows, scanRule)
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "no responsibility rule %d", id)
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "responsibility_rule.delete", TargetKind: "responsibility_rule", TargetIDs: []int64{id}, Before: old})
	})
}
