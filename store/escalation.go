package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
)

// Rung is one rung of the escalation ladder: done to an open step whose escalation_level is
// Rung-1 once its light is Light (yellow: warn_at passed; red: due_at passed) and OverdueMinutes
// more have gone by. Target is who is told: handler, chain1 (the nearest held post above the
// step's grid), chain2 (the next held post above that), supervisor; Action notify or supervise
// (a 督办 notice: the case event is a supervision).
type Rung struct {
	Rung           int    `json:"rung"`
	Light          string `json:"light"`
	OverdueMinutes int    `json:"overdue_minutes"`
	Target         string `json:"target"`
	Action         string `json:"action"`
}

// EscalationLadder is the ladder, rung by rung.
func (db *DB) EscalationLadder(ctx context.Context) ([]Rung, error) {
	rows, err := db.pool.Query(ctx, `SELECT rung, light, overdue_minutes, target, action FROM escalation_ladder ORDER BY rung`)
	if err != nil {
		return nil, classify(err)
	}
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Rung])
	return rs, classify(err)
}

// SetEscalationLadder replaces the ladder, audited. Rungs are numbered 1, 2, ... in order; a
// red rung comes after the yellow ones, and the overdue minutes of red rungs do not decrease.
func (db *DB) SetEscalationLadder(ctx context.Context, rungs []Rung) error {
	red, overdue := false, 0
	for i, r := range rungs {
		bad := func(field, format string, args ...any) error {
			return gridline.Errorf(gridline.EInvalid, "rung %d: "+format, append([]any{i + 1}, args...)...).With("field", field).With("index", i)
		}
		switch {
		case r.Light != "yellow" && r.Light != "red":
			return bad("light", "light %q must be yellow or red", r.Light)
		case r.Target != "handler" && r.Target != "chain1" && r.Target != "chain2" && r.Target != "supervisor":
			return bad("target", "target %q must be handler, chain1, chain2 or supervisor", r.Target)
		case r.Action != "notify" && r.Action != "supervise":
			return bad("action", "action %q must be notify or supervise", r.Action)
		case r.OverdueMinutes < 0 || r.Light == "yellow" && r.OverdueMinutes != 0:
			return bad("overdue_minutes", "overdue_minutes must be 0 on a yellow rung and not negative on a red one")
		case red && r.Light == "yellow":
			return bad("light", "a yellow rung comes before the red ones")
		case r.Light == "red" && r.OverdueMinutes < overdue:
			return bad("overdue_minutes", "a rung fires no earlier than the one before it (%d minutes overdue)", overdue)
		}
		if r.Light == "red" {
			red, overdue = true, r.OverdueMinutes
		}
		rungs[i].Rung = i + 1
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		var before json.RawMessage
		if err := tx.QueryRow(ctx, `SELECT coalesce(jsonb_agg(to_jsonb(l) ORDER BY rung), '[]') FROM escalation_ladder l`).Scan(&before); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM escalation_ladder`); err != nil {
			return err
		}
		for _, r := range rungs {
			if _, err := tx.Exec(ctx, `INSERT INTO escalation_ladder VALUES ($1, $2, $3, $4, $5)`, r.Rung, r.Light, r.OverdueMinutes, r.Target, r.Action); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, audit{Action: "escalation.ladder", TargetKind: "escalation_ladder", Before: before, After: rungs})
	})
}

// Escalation is one rung done to one step.
type Escalation struct {
	StepID     int64
	CaseID     int64
	CaseNumber string
	Step       string
	Rung       Rung
	Recipients int
}

// dueStepsSQL selects the open steps whose next rung is due at $1, locking them; a step another
// server holds is skipped, and one whose level another server just raised no longer matches when
// its lock is taken (PostgreSQL re-checks the WHERE on the row's newest version).
const dueStepsSQL = `
	SELECT s.id, s.case_id, c.number, s.step, coalesce(s.party_kind, ''), s.party_ref, coalesce(s.grid_id, c.grid_id, 0), c.grid_chain,
		s.escalation_level, s.warn_at, s.due_at, l.rung, l.light, l.overdue_minutes, l.target, l.action
	FROM case_steps s
	JOIN escalation_ladder l ON l.rung = s.escalation_level + 1
	JOIN cases c ON c.id = s.case_id
	WHERE s.ended_at IS NULL AND s.paused_at IS NULL AND s.warn_at <= $1
		AND (l.light = 'yellow' OR s.due_at + make_interval(mins => l.overdue_minutes) <= $1)
	ORDER BY s.warn_at, s.id
	LIMIT $2
	FOR UPDATE OF s SKIP LOCKED`

// CountLateSteps counts the open, running steps that are yellow or red at now: what the sweeper
// looks through (the benchmark's query).
func (db *DB) CountLateSteps(ctx context.Context, now time.Time) (yellow, red int, err error) {
	err = db.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE due_at > $1), count(*) FILTER (WHERE due_at <= $1)
		FROM case_steps WHERE ended_at IS NULL AND paused_at IS NULL AND warn_at <= $1`, now).Scan(&yellow, &red)
	return yellow, red, classify(err)
}

// EscalateDue does the next rung of up to limit open steps whose rung is due at now, in one
// transaction: for each, a notification to each recipient, a case event (escalate, or supervise
// for a supervise rung) and the step's escalation_level raised. today is the date in the
// district (whose posts are held today); the messages give times in now's location. Several servers may call it at once: each step's rung is
// done once.
func (db *DB) EscalateDue(ctx context.Context, now, today time.Time, limit int) ([]Escalation, error) {
	var out []Escalation
	err := db.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		type due struct {
			Escalation
			partyKind, partyRef string
			grid                int64
			chain               []int64
			level               int
			warn, dueAt         time.Time
		}
		rows, err := tx.Query(ctx, dueStepsSQL, now, limit)
		if err != nil {
			return err
		}
		var ds []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.StepID, &d.CaseID, &d.CaseNumber, &d.Step, &d.partyKind, &d.partyRef, &d.grid, &d.chain, &d.level, &d.warn, &d.dueAt,
				&d.Rung.Rung, &d.Rung.Light, &d.Rung.OverdueMinutes, &d.Rung.Target, &d.Rung.Action); err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range ds {
			rcpt, err := recipients(ctx, tx, d.Rung.Target, d.partyKind, d.partyRef, d.grid, d.chain, today)
			if err != nil {
				return err
			}
			light := "yellow"
			what := fmt.Sprintf("is yellow: 80%% of its time is used, due %s", d.dueAt.In(now.Location()).Format("2006-01-02 15:04"))
			if d.Rung.Light == "red" {
				light = "red"
				what = fmt.Sprintf("is overdue since %s", d.dueAt.In(now.Location()).Format("2006-01-02 15:04"))
			}
			kind, verb := "escalate", "escalated"
			if d.Rung.Action == "supervise" {
				kind, verb = "supervise", "supervision notice (督办)"
			}
			msg := fmt.Sprintf("case %s: the %s step %s (%s to %s, rung %d)", d.CaseNumber, d.Step, what, verb, d.Rung.Target, d.Rung.Rung)
			for _, r := range rcpt {
				if _, err := tx.Exec(ctx, `INSERT INTO notifications (person_id, department, grid_id, post, case_id, step_id, rung, kind, message, created_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
					r.person, r.department, r.grid, r.post, d.CaseID, d.StepID, d.Rung.Rung, kind, msg, now); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO escalations (step_id, rung, case_id, target, action, recipients, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				d.StepID, d.Rung.Rung, d.CaseID, d.Rung.Target, d.Rung.Action, len(rcpt), now); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `UPDATE case_steps SET escalation_level = $2, notified_light = $3 WHERE id = $1 AND escalation_level = $4`,
				d.StepID, d.Rung.Rung, light, d.level)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("escalation of step %d: its level moved under its lock", d.StepID)
			}
			data, err := json.Marshal(map[string]any{"step_id": d.StepID, "step": d.Step, "rung": d.Rung.Rung, "light": light, "target": d.Rung.Target,
				"action": d.Rung.Action, "recipients": len(rcpt), "due_at": d.dueAt, "warn_at": d.warn})
			if err != nil {
				return err
			}
			ev := &dispatch.Event{At: now, ActorName: "escalation", Kind: dispatch.Kind(kind), Reason: msg, Data: data}
			if err := appendCaseEvent(ctx, tx, d.CaseID, ev, nil); err != nil {
				return err
			}
			d.Recipients = len(rcpt)
			out = append(out, d.Escalation)
		}
		return nil
	})
	return out, err
}

type recipient struct {
	person     *int64
	department *string
	grid       *int64
	post       string
}

// chainPosts are the posts told at a level of a grid's chain: its chief, or, when the level has
// none, its full-time workers and assigned cadres.
var chainPosts = []string{"grid_chief", "full_time_worker", "assigned_cadre"}

// recipients are who a rung's target is for a step: the handler (the person of a worker's or a
// post's step, the department of a department's; the dispatchers over the grid for a step with no
// party yet), the nearest held post above the step's grid and the next one above that (a level
// whose posts are all vacant is passed over: 属地兜底), or the supervisors whose scope holds the
// grid. None when nobody holds the place.
func recipients(ctx context.Context, tx pgx.Tx, target, partyKind, partyRef string, grid int64, chain []int64, today time.Time) ([]recipient, error) {
	switch target {
	case "handler":
		switch partyKind {
		case "worker", "post":
			if id, err := strconv.ParseInt(partyRef, 10, 64); err == nil {
				return []recipient{{person: &id}}, nil
			}
		case "department":
			if partyRef != "" {
				return []recipient{{department: &partyRef}}, nil
			}
		}
		return byRole(ctx, tx, "dispatcher", chain)
	case "supervisor":
		return byRole(ctx, tx, "supervisor", chain)
	}
	// chain1, chain2: the ancestors of grid, nearest first.
	var up []int64
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i] == grid {
			up = nil
			for j := i - 1; j >= 0; j-- {
				up = append(up, chain[j])
			}
			break
		}
	}
	if up == nil && grid != 0 && len(chain) > 0 && chain[len(chain)-1] != grid {
		// the step's grid is not on the case's chain: start at the case's own grid
		for j := len(chain) - 1; j >= 0; j-- {
			up = append(up, chain[j])
		}
	}
	rows, err := tx.Query(ctx, `
		SELECT a.ord, a.g, s.person_id, s.role
		FROM unnest($1::bigint[]) WITH ORDINALITY AS a(g, ord)
		JOIN assignments s ON s.grid_id = a.g AND s.role = ANY($2) AND s.valid_from <= $3 AND (s.valid_to IS NULL OR s.valid_to > $3)
		ORDER BY a.ord, s.role <> 'grid_chief', s.person_id`, up, chainPosts, today)
	if err != nil {
		return nil, err
	}
	type holder struct {
		Ord, Grid, Person int64
		Role              string
	}
	hs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[holder])
	if err != nil {
		return nil, err
	}
	want := 1
	if target == "chain2" {
		want = 2
	}
	var out []recipient
	level, lastOrd := 0, int64(-1)
	for _, h := range hs {
		if h.Ord != lastOrd {
			if level == want {
				break
			}
			level, lastOrd = level+1, h.Ord
		}
		if level == want {
			// a level with a chief tells its chief(s) only
			if len(out) > 0 && out[0].post == "grid_chief" && h.Role != "grid_chief" {
				continue
			}
			p, g := h.Person, h.Grid
			out = append(out, recipient{person: &p, grid: &g, post: h.Role})
		}
	}
	if level < want {
		return nil, nil
	}
	return out, nil
}

// byRole are the accounts (their people) holding role with a scope that holds the grid of chain
// (all, or a grid of the chain), not disabled.
func byRole(ctx context.Context, tx pgx.Tx, role string, chain []int64) ([]recipient, error) {
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT a.person_id FROM grants g JOIN accounts a ON a.id = g.account_id
		WHERE g.role = $1 AND a.disabled_at IS NULL AND (g.scope_kind = 'all' OR g.scope_kind = 'grid' AND g.scope_grid = ANY($2))
		ORDER BY a.person_id`, role, chain)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	out := make([]recipient, len(ids))
	for i := range ids {
		out[i] = recipient{person: &ids[i], post: role}
	}
	return out, nil
}

// Notification is a message for a person or a department's handlers.
type Notification struct {
	ID         int64      `json:"id"`
	PersonID   int64      `json:"person_id,omitempty"`
	Department string     `json:"department,omitempty"`
	GridID     int64      `json:"grid_id,omitempty"`
	Post       string     `json:"post,omitempty"`
	CaseID     int64      `json:"case_id,omitempty"`
	StepID     int64      `json:"step_id,omitempty"`
	Rung       int        `json:"rung,omitempty"`
	Kind       string     `json:"kind"`
	Message    string     `json:"message"`
	CreatedAt  time.Time  `json:"created_at"`
	ReadAt     *time.Time `json:"read_at,omitempty"`
}

// NotificationFilter is whose notifications to list: a person's and those of departments.
type NotificationFilter struct {
	PersonID    int64
	Departments []string
	Unread      bool
	Before      int64 // ids below (paging); 0: from the newest
	Limit       int   // default 100
}

const notificationColumns = `id, coalesce(person_id, 0), coalesce(department, ''), coalesce(grid_id, 0), post, coalesce(case_id, 0), coalesce(step_id, 0), coalesce(rung, 0), kind, message, created_at, read_at`

// Notifications lists f's notifications, newest first.
func (db *DB) Notifications(ctx context.Context, f NotificationFilter) ([]Notification, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Departments == nil {
		f.Departments = []string{}
	}
	rows, err := db.pool.Query(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE (person_id = $1 OR department = ANY($2)) AND (NOT $3 OR read_at IS NULL) AND ($4 = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`, f.PersonID, f.Departments, f.Unread, f.Before, f.Limit)
	if err != nil {
		return nil, classify(err)
	}
	ns, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Notification])
	return ns, classify(err)
}

// MarkNotificationsRead marks f's notifications of ids (all of f's unread ones when ids is empty)
// read at now; it says how many it marked. An id that is not f's is an error and marks nothing.
func (db *DB) MarkNotificationsRead(ctx context.Context, f NotificationFilter, ids []int64, now time.Time) (int, error) {
	if f.Departments == nil {
		f.Departments = []string{}
	}
	if ids == nil {
		ids = []int64{}
	}
	var n int
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if len(ids) > 0 {
			var mine int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE id = ANY($1) AND (person_id = $2 OR department = ANY($3))`,
				ids, f.PersonID, f.Departments).Scan(&mine); err != nil {
				return err
			}
			if mine != len(uniqueIDs(ids)) {
				return gridline.Errorf(gridline.ENotFound, "some of the notifications %v are not yours or do not exist (GET /v1/notifications lists yours)", ids)
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE notifications SET read_at = $4 WHERE read_at IS NULL AND (person_id = $1 OR department = ANY($2)) AND (cardinality($3::bigint[]) = 0 OR id = ANY($3))`,
			f.PersonID, f.Departments, ids, now)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

func uniqueIDs(ids []int64) map[int64]bool {
	m := map[int64]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}
