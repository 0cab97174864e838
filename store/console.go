package store

import (
	"context"
	"fmt"
	"time"
)

// CaseDeadline is when the earliest open step of a case turns yellow and red: what the
// dispatcher's console needs to sort its queue by due time and to turn a case red on its own
// clock while it is open (issue #16).
type CaseDeadline struct {
	WarnAt *time.Time `json:"warn_at,omitempty"`
	DueAt  *time.Time `json:"due_at,omitempty"`
}

// CaseDeadlines answers, for each of ids that the scope of f reaches (Everywhere, Roots,
// DeptScope: the same scope as Cases), the earliest warn and due times of its open steps. Cases
// without an open step with a limit are left out.
func (db *DB) CaseDeadlines(ctx context.Context, f CaseFilter, ids []int64) (map[int64]CaseDeadline, error) {
	out := map[int64]CaseDeadline{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{ids}
	q := `SELECT c.id, min(s.warn_at), min(s.due_at) FROM cases c JOIN case_steps s ON s.case_id = c.id AND s.ended_at IS NULL
		WHERE c.id = ANY($1) AND s.due_at IS NOT NULL`
	if !f.Everywhere {
		args = append(args, f.Roots, f.DeptScope)
		q += ` AND (c.grid_chain && $2 OR c.party_kind = 'department' AND c.party_ref = ANY($3) OR c.co_departments && $3)`
	}
	q += ` GROUP BY c.id`
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var d CaseDeadline
		if err := rows.Scan(&id, &d.WarnAt, &d.DueAt); err != nil {
			return nil, classify(fmt.Errorf("case deadlines: %w", err))
		}
		out[id] = d
	}
	return out, classify(rows.Err())
}
