package store

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
)

// gridImportSummary is what the audit log keeps of a grid import: the counts and the lists of
// codes (each cut at the plan's ListLimit), not the timings or the problems.
func gridImportSummary(rep *ImportReport) map[string]any {
	codes := func(cs []ImportChange) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.Code
		}
		return out
	}
	return map[string]any{"from": rep.From, "features": rep.Features, "added": rep.Added, "changed": rep.Changed,
		"retired": rep.Retired, "unchanged": rep.Unchanged, "repaired": rep.Repaired,
		"added_codes": codes(rep.Lists.Added), "changed_codes": codes(rep.Lists.Changed), "retired_codes": codes(rep.Lists.Retired)}
}

// auditStaffImport checks, at the end of a staff import's transaction (its rows in the temporary
// table st), that every post it adds or changes lies within the actor's reach for staff.write,
// and records the change: each assignment's values before (the old end date of a changed one)
// and after.
func auditStaffImport(ctx context.Context, tx pgx.Tx, rep *StaffReport) error {
	var grids, targets []int64
	var before, after json.RawMessage
	err := tx.QueryRow(ctx, `
		WITH ch AS (SELECT st.*, coalesce(st.aid, a.id) AS id FROM st
			LEFT JOIN assignments a ON st.aid IS NULL AND a.person_id = st.pid AND a.grid_id = st.gid AND a.role = st.role AND a.valid_from = st.vfrom
			WHERE st.aid IS NULL OR NOT st.same_to)
		SELECT coalesce(array_agg(DISTINCT gid), '{}'), coalesce(array_agg(id ORDER BY id), '{}'),
			coalesce(jsonb_agg(jsonb_build_object('id', id, 'valid_to', old_to)) FILTER (WHERE aid IS NOT NULL), '[]'),
			coalesce(jsonb_agg(jsonb_build_object('id', id, 'person_id', pid, 'name', name, 'grid_id', gid, 'role', role,
				'valid_from', vfrom, 'valid_to', vto)), '[]')
		FROM ch`).Scan(&grids, &targets, &before, &after)
	if err != nil {
		return err
	}
	if err := checkGridReach(ctx, tx, "staff.write", grids); err != nil {
		return err
	}
	if len(targets) == 0 {
		return nil
	}
	return appendAudit(ctx, tx, audit{Action: "staff.import", TargetKind: "assignment", TargetIDs: targets, GridIDs: grids,
		Before: before, After: map[string]any{"assignments": after, "people_added": rep.PeopleAdded}})
}
