package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/drafts"
)

// The store's side of drafts (issue 14): the grids a draft reads, the drafts and their
// append-only revisions, the geometry drafts ask of PostGIS, and publishing through the same
// write path and rules as every other grid write (insertVersion, checkGrids).

// GridsByID are the versions valid on at of the grids ids, with geometry, ordered by id.
func (db *DB) GridsByID(ctx context.Context, ids []int64, at time.Time) ([]gridline.Grid, error) {
	// Grid by grid (unnest, LATERAL): with a literal array of ids the planner may scan the table.
	rows, err := db.pool.Query(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM (SELECT DISTINCT id FROM unnest($2::bigint[]) id) u
		CROSS JOIN LATERAL (SELECT * FROM grids g WHERE g.id = u.id AND `+validAt(1)+` LIMIT 1) g ORDER BY g.id`, at, ids)
	if err != nil {
		return nil, classify(err)
	}
	out, err := collectGrids(rows, true)
	return out, classify(err)
}

// GridsIn are the versions valid on at of layer whose geometry intersects box b.
func (db *DB) GridsIn(ctx context.Context, b orb.Bound, at time.Time, layer gridline.Layer) ([]gridline.Grid, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM grids g
		WHERE g.layer = $2 AND g.geom && ST_MakeEnvelope($3, $4, $5, $6, 4326)
		AND ST_Intersects(g.geom, ST_MakeEnvelope($3, $4, $5, $6, 4326)) AND `+validAt(1)+` ORDER BY g.id`,
		at, string(layer), b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	if err != nil {
		return nil, classify(err)
	}
	out, err := collectGrids(rows, true)
	return out, classify(err)
}

// ChildrenOf are the versions valid on at whose parent is one of ids, with geometry.
func (db *DB) ChildrenOf(ctx context.Context, ids []int64, at time.Time) ([]gridline.Grid, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM grids g WHERE g.parent_id = ANY($2) AND `+validAt(1)+` ORDER BY g.code, g.id`, at, ids)
	if err != nil {
		return nil, classify(err)
	}
	out, err := collectGrids(rows, true)
	return out, classify(err)
}

// Ring is the grids valid on at of grid id's level and layer whose geometry touches id's.
func (db *DB) Ring(ctx context.Context, id int64, at time.Time) ([]gridline.Grid, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM grids p JOIN grids g
		ON (g.level || '') = p.level AND (g.layer || '') = p.layer AND g.id <> p.id AND g.geom && p.geom AND ST_Intersects(g.geom, p.geom) AND `+validAt(1)+`
		WHERE p.id = $2 AND p.valid_from <= $1 AND (p.valid_to IS NULL OR p.valid_to > $1) ORDER BY g.code`, at, id)
	if err != nil {
		return nil, classify(err)
	}
	out, err := collectGrids(rows, true)
	return out, classify(err)
}

// ChildCodes are the codes of every version of every grid whose code is prefix and n more
// characters.
func (db *DB) ChildCodes(ctx context.Context, prefix string, n int) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT code FROM grids WHERE code LIKE $1 ESCAPE '\' AND length(code) = $2`, likeEscape(prefix)+"%", len(prefix)+n)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, classify(err)
}

// ChangeSeq is the newest change stamp of any grid version.
func (db *DB) ChangeSeq(ctx context.Context) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(change_seq), 0) FROM grids`).Scan(&n)
	return n, classify(err)
}

func actorOf(ctx context.Context) (*int64, string) {
	a := gridline.ActorFrom(ctx)
	if a == nil {
		return nil, ""
	}
	return nullID(a.AccountID), a.Username
}

func draftEvent(ctx context.Context, tx pgx.Tx, id int64, action string, rev int, comment string) error {
	acc, user := actorOf(ctx)
	_, err := tx.Exec(ctx, `INSERT INTO draft_events (draft_id, action, revision, comment, account_id, username) VALUES ($1,$2,$3,$4,$5,$6)`,
		id, action, rev, comment, acc, user)
	return err
}

func auditDraft(ctx context.Context, tx pgx.Tx, d *drafts.Draft, action string, grids []int64, after any) error {
	return appendAudit(ctx, tx, audit{Action: "draft." + action, TargetKind: "draft", TargetIDs: []int64{d.ID},
		GridIDs: append([]int64{d.ScopeID}, grids...), After: after})
}

// CreateDraft stores a new draft with its first revision (the empty work).
func (db *DB) CreateDraft(ctx context.Context, d *drafts.Draft, work *drafts.Work) error {
	w, err := json.Marshal(work)
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO drafts (title, author_id, author, scope_id, scope_code, effective_date, base_seq)
			VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`, d.Title, nullID(d.AuthorID), d.Author, d.ScopeID, d.ScopeCode, d.EffectiveDate, d.BaseSeq).Scan(&d.ID); err != nil {
			return err
		}
		acc, user := actorOf(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO draft_revisions (draft_id, revision, kind, work, account_id, username) VALUES ($1, 0, 'start', $2, $3, $4)`, d.ID, w, acc, user); err != nil {
			return err
		}
		if err := draftEvent(ctx, tx, d.ID, "create", 0, ""); err != nil {
			return err
		}
		return auditDraft(ctx, tx, d, "create", nil, map[string]any{"title": d.Title, "scope": d.ScopeCode, "effective_date": gridline.Date(d.EffectiveDate)})
	})
}

const draftColumns = `d.id, d.title, coalesce(d.author_id, 0), d.author, d.scope_id, d.scope_code, d.effective_date, d.state,
	d.base_seq, d.head, d.acknowledged, coalesce(d.reviewer_id, 0), d.reviewer, d.created_at, d.updated_at`

func scanDraft(row pgx.Row, extra ...any) (*drafts.Draft, error) {
	var d drafts.Draft
	var state string
	dest := append([]any{&d.ID, &d.Title, &d.AuthorID, &d.Author, &d.ScopeID, &d.ScopeCode, &d.EffectiveDate, &state,
		&d.BaseSeq, &d.Head, &d.Acknowledged, &d.ReviewerID, &d.Reviewer, &d.CreatedAt, &d.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.State = drafts.State(state)
	return &d, nil
}

// LoadDraft reads draft id with its head revision's work and problems.
func (db *DB) LoadDraft(ctx context.Context, id int64) (*drafts.Draft, error) {
	var work, problems []byte
	var prev *int
	var redo bool
	d, err := scanDraft(db.pool.QueryRow(ctx, `SELECT `+draftColumns+`, r.work, r.problems, r.prev,
		EXISTS (SELECT 1 FROM draft_revisions x WHERE x.draft_id = d.id AND x.prev = d.head)
		FROM drafts d JOIN draft_revisions r ON r.draft_id = d.id AND r.revision = d.head WHERE d.id = $1`, id), &work, &problems, &prev, &redo)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gridline.Errorf(gridline.ENotFound, "no draft %d", id)
	}
	if err != nil {
		return nil, classify(err)
	}
	d.Work = &drafts.Work{}
	if err := json.Unmarshal(work, d.Work); err != nil {
		return nil, fmt.Errorf("draft %d: work: %w", id, err)
	}
	if err := json.Unmarshal(problems, &d.Problems); err != nil {
		return nil, fmt.Errorf("draft %d: problems: %w", id, err)
	}
	d.CanUndo, d.CanRedo = prev != nil, redo
	return d, nil
}

// ListDrafts lists drafts, newest first.
func (db *DB) ListDrafts(ctx context.Context, f drafts.ListFilter) ([]drafts.Draft, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	rows, err := db.pool.Query(ctx, `SELECT `+draftColumns+` FROM drafts d
		WHERE ($1 = '' OR d.state = $1) AND ($2 = 0 OR d.author_id = $2) AND ($3 = 0 OR d.author_id IS DISTINCT FROM $3)
		ORDER BY d.updated_at DESC, d.id DESC LIMIT $4`, string(f.State), f.AuthorID, f.NotBy, f.Limit)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []drafts.Draft
	for rows.Next() {
		d, err := scanDraft(rows)
		if err != nil {
			return nil, classify(err)
		}
		out = append(out, *d)
	}
	return out, classify(rows.Err())
}

// lockDraft locks draft d's row and checks that its head and state are what the caller read.
func lockDraft(ctx context.Context, tx pgx.Tx, d *drafts.Draft, states ...drafts.State) error {
	var head int
	var state string
	if err := tx.QueryRow(ctx, `SELECT head, state FROM drafts WHERE id = $1 FOR UPDATE`, d.ID).Scan(&head, &state); err != nil {
		return err
	}
	if len(states) > 0 && !slices.Contains(states, drafts.State(state)) {
		return gridline.Errorf(gridline.EConflict, "draft %d is %s now (changed at the same time?): reload it", d.ID, state).With("state", state)
	}
	if head != d.Head {
		return gridline.Errorf(gridline.EConflict, "draft %d moved to revision %d while this change was made on revision %d: reload it and try again", d.ID, head, d.Head)
	}
	return nil
}

// AppendRevision adds a revision on d's head and makes it the head.
func (db *DB) AppendRevision(ctx context.Context, d *drafts.Draft, kind string, op json.RawMessage, work *drafts.Work, problems []drafts.Problem, baseSeq int64) (int, error) {
	w, err := json.Marshal(work)
	if err != nil {
		return 0, err
	}
	if problems == nil {
		problems = []drafts.Problem{}
	}
	p, err := json.Marshal(problems)
	if err != nil {
		return 0, err
	}
	var rev int
	err = db.tx(ctx, func(tx pgx.Tx) error {
		states := []drafts.State{drafts.StateDraft, drafts.StateReturned}
		if kind == "rebase" {
			states = append(states, drafts.StateSubmitted, drafts.StateApproved)
		}
		if err := lockDraft(ctx, tx, d, states...); err != nil {
			return err
		}
		acc, user := actorOf(ctx)
		var opArg any
		if len(op) > 0 {
			opArg = op
		}
		if err := tx.QueryRow(ctx, `INSERT INTO draft_revisions (draft_id, revision, prev, kind, op, work, problems, account_id, username)
			SELECT $1, max(revision) + 1, $2, $3, $4, $5, $6, $7, $8 FROM draft_revisions WHERE draft_id = $1 RETURNING revision`,
			d.ID, d.Head, kind, opArg, w, p, acc, user).Scan(&rev); err != nil {
			return err
		}
		// A rebase changes what was reviewed: the draft goes back to its author's hands.
		if _, err := tx.Exec(ctx, `UPDATE drafts SET head = $2, base_seq = $3, updated_at = now(),
			state = CASE WHEN $4 = 'rebase' THEN 'draft' ELSE state END WHERE id = $1`, d.ID, rev, baseSeq, kind); err != nil {
			return err
		}
		if err := draftEvent(ctx, tx, d.ID, kind, rev, ""); err != nil {
			return err
		}
		var ids []int64
		for _, g := range work.Grids {
			if g.ID > 0 {
				ids = append(ids, g.ID)
			}
		}
		return auditDraft(ctx, tx, d, map[string]string{"op": "edit", "rebase": "rebase"}[kind], ids, map[string]any{"revision": rev, "op": op})
	})
	return rev, err
}

// MoveHead moves d's head to revision to (undo, redo).
func (db *DB) MoveHead(ctx context.Context, d *drafts.Draft, to int, action string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockDraft(ctx, tx, d, drafts.StateDraft, drafts.StateReturned); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE drafts SET head = $2, updated_at = now() WHERE id = $1`, d.ID, to); err != nil {
			return err
		}
		if err := draftEvent(ctx, tx, d.ID, action, to, ""); err != nil {
			return err
		}
		return auditDraft(ctx, tx, d, action, nil, map[string]any{"from_revision": d.Head, "revision": to})
	})
}

// Transition moves d's state.
func (db *DB) Transition(ctx context.Context, d *drafts.Draft, from []drafts.State, to drafts.State, action, comment string, acknowledged []string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockDraft(ctx, tx, d, from...); err != nil {
			return err
		}
		acc, user := actorOf(ctx)
		q := `UPDATE drafts SET state = $2, updated_at = now() WHERE id = $1`
		args := []any{d.ID, string(to)}
		switch {
		case action == "approve" || action == "return":
			q = `UPDATE drafts SET state = $2, reviewer_id = $3, reviewer = $4, updated_at = now() WHERE id = $1`
			args = append(args, acc, user)
		case acknowledged != nil:
			q = `UPDATE drafts SET state = $2, acknowledged = $3, updated_at = now() WHERE id = $1`
			args = append(args, acknowledged)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
		if err := draftEvent(ctx, tx, d.ID, action, d.Head, comment); err != nil {
			return err
		}
		return auditDraft(ctx, tx, d, action, nil, map[string]any{"from": d.State, "to": to, "comment": comment, "revision": d.Head})
	})
}

// History lists a draft's revisions (oldest first, marking the path to the head) and events.
func (db *DB) History(ctx context.Context, id int64) ([]drafts.Revision, []drafts.Event, error) {
	var head int
	if err := db.pool.QueryRow(ctx, `SELECT head FROM drafts WHERE id = $1`, id).Scan(&head); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, gridline.Errorf(gridline.ENotFound, "no draft %d", id)
		}
		return nil, nil, classify(err)
	}
	rows, err := db.pool.Query(ctx, `SELECT revision, prev, kind, op, username, at FROM draft_revisions WHERE draft_id = $1 ORDER BY revision`, id)
	if err != nil {
		return nil, nil, classify(err)
	}
	var revs []drafts.Revision
	for rows.Next() {
		var r drafts.Revision
		var op []byte
		if err := rows.Scan(&r.Revision, &r.Prev, &r.Kind, &op, &r.Username, &r.At); err != nil {
			rows.Close()
			return nil, nil, classify(err)
		}
		r.Op = op
		revs = append(revs, r)
	}
	rows.Close()
	byRev := map[int]int{}
	for i, r := range revs {
		byRev[r.Revision] = i
	}
	for r := head; ; {
		i, ok := byRev[r]
		if !ok {
			break
		}
		revs[i].Current = true
		if revs[i].Prev == nil {
			break
		}
		r = *revs[i].Prev
	}
	erows, err := db.pool.Query(ctx, `SELECT action, revision, comment, username, at FROM draft_events WHERE draft_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, nil, classify(err)
	}
	defer erows.Close()
	events := []drafts.Event{}
	for erows.Next() {
		var e drafts.Event
		if err := erows.Scan(&e.Action, &e.Revision, &e.Comment, &e.Username, &e.At); err != nil {
			return nil, nil, classify(err)
		}
		events = append(events, e)
	}
	return revs, events, classify(erows.Err())
}

// writePlan writes a draft's versions and retirements in tx; it returns the version ids written
// and the ids given to the grids the draft made (negative ids).
func writePlan(ctx context.Context, tx pgx.Tx, p *drafts.Plan) ([]int64, map[int64]int64, error) {
	ids := map[int64]int64{}
	real := func(id int64) (int64, error) {
		if id >= 0 {
			return id, nil
		}
		if r, ok := ids[id]; ok {
			return r, nil
		}
		var r int64
		if err := tx.QueryRow(ctx, `SELECT nextval('grid_id_seq')`).Scan(&r); err != nil {
			return 0, err
		}
		ids[id] = r
		return r, nil
	}
	var vids []int64
	for _, v := range p.Versions {
		g := v
		isNew := g.ID < 0
		var err error
		if g.ID, err = real(g.ID); err != nil {
			return nil, nil, err
		}
		if g.ParentID, err = real(g.ParentID); err != nil {
			return nil, nil, err
		}
		g.ValidFrom, g.ValidTo, g.Version = p.Effective, nil, 0
		if err := g.Validate(); err != nil {
			return nil, nil, err
		}
		geom, err := wkb.Marshal(g.Geometry)
		if err != nil {
			return nil, nil, gridline.Errorf(gridline.EInvalid, "grid %s: geometry: %v", g.Code, err)
		}
		// A version of this grid that starts on the effective date was published by another draft
		// for the same day and has not taken effect: this draft, rebased onto it, replaces it in
		// place (a version cannot start and end on one day).
		var vid int64
		if !isNew {
			err := tx.QueryRow(ctx, `UPDATE grids SET code = $3, name = $4, parent_id = $5, households = $6, population = $7,
				bound_east = $8, bound_south = $9, bound_west = $10, bound_north = $11, geom = ST_Multi(ST_GeomFromWKB($12, 4326))
				WHERE id = $1 AND valid_from = $2 RETURNING version_id`, g.ID, p.Effective, g.Code, g.Name, nullID(g.ParentID),
				g.Households, g.Population, g.Bounds.East, g.Bounds.South, g.Bounds.West, g.Bounds.North, geom).Scan(&vid)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return nil, nil, err
			}
		}
		if vid == 0 {
			if vid, err = insertVersion(ctx, tx, &g, geom, isNew); err != nil {
				return nil, nil, err
			}
		}
		vids = append(vids, vid)
	}
	for _, id := range p.Retire {
		var code string
		err := tx.QueryRow(ctx, `UPDATE grids SET valid_to = $2 WHERE id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to > $2) RETURNING code`, id, p.Effective).Scan(&code)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, gridline.Errorf(gridline.EConflict, "grid %d has no version that starts before %s to retire", id, gridline.Date(p.Effective))
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return vids, ids, nil
}

// CheckPlan writes the plan in a transaction it rolls back and returns the write rules' problems.
func (db *DB) CheckPlan(ctx context.Context, p *drafts.Plan) ([]drafts.Problem, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, classify(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // always rolled back: a dry run
	vids, _, err := writePlan(ctx, tx, p)
	if err == nil {
		err = checkGridsList(ctx, tx, vids, DefaultTolerance, false, 100)
	}
	if err == nil {
		return nil, nil
	}
	var ge *gridline.Error
	if !errors.As(classify(err), &ge) {
		return nil, classify(err)
	}
	list, _ := ge.Details["problems"].([]map[string]any)
	if len(list) == 0 {
		return []drafts.Problem{{Key: "rule:" + ge.Message, Kind: drafts.KindRule, Rule: ge.Code, Severity: "error", Message: ge.Message, GridCodes: []string{}}}, nil
	}
	var out []drafts.Problem
	for _, m := range list {
		code, _ := m["code"].(string)
		field, _ := m["field"].(string)
		msg, _ := m["message"].(string)
		out = append(out, drafts.Problem{Key: "rule:" + code + ":" + field, Kind: drafts.KindRule, Rule: field, Severity: "error",
			Message: "grid " + code + ": " + msg, GridCodes: []string{code}})
	}
	return out, nil
}

// Publish writes an approved draft in one transaction: the conflict check against its base, the
// versions and retirements through insertVersion and checkGrids under the grid write lock, the
// post holders carried over, the four bounds recomputed, the lineage, the draft's state and the
// audit log.
func (db *DB) Publish(ctx context.Context, d *drafts.Draft, p *drafts.Plan) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, gridWriteLock); err != nil {
			return err
		}
		if err := lockDraft(ctx, tx, d, drafts.StateApproved); err != nil {
			return err
		}
		if err := draftConflicts(ctx, tx, p); err != nil {
			return err
		}
		reach := append([]int64(nil), p.Touched...)
		for _, v := range p.Versions {
			if v.ParentID > 0 {
				reach = append(reach, v.ParentID)
			}
		}
		if err := checkGridReach(ctx, tx, "grids.write", reach); err != nil {
			return err
		}
		vids, ids, err := writePlan(ctx, tx, p)
		if err != nil {
			return err
		}
		real := func(id int64) (int64, bool) {
			if id > 0 {
				return id, true
			}
			r, ok := ids[id]
			return r, ok
		}
		for _, m := range p.Staff {
			from, ok1 := real(m.From)
			to, ok2 := real(m.To)
			if !ok1 || !ok2 || from == to {
				continue
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO assignments (person_id, grid_id, role, valid_from, valid_to)
					SELECT person_id, $2, role, $3, valid_to FROM assignments
					WHERE grid_id = $1 AND valid_from < $3 AND (valid_to IS NULL OR valid_to > $3)`, from, to, p.Effective); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE assignments SET valid_to = $2 WHERE grid_id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to > $2)`, from, p.Effective); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE assignments SET grid_id = $2 WHERE grid_id = $1 AND valid_from >= $3`, from, to, p.Effective); err != nil {
				return err
			}
		}
		more, err := recomputeBounds(ctx, tx, p, vids, real)
		if err != nil {
			return err
		}
		vids = append(vids, more...)
		if err := checkGrids(ctx, tx, vids, DefaultTolerance, false); err != nil {
			return err
		}
		for _, l := range p.Lineage {
			g, ok1 := real(l.GridID)
			f, ok2 := real(l.FromID)
			if !ok1 || !ok2 {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO grid_lineage (grid_id, from_grid_id, op, draft_id, effective_date) VALUES ($1,$2,$3,$4,$5)`, g, f, l.Op, d.ID, p.Effective); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE drafts SET state = 'published', published_at = now(), updated_at = now() WHERE id = $1`, d.ID); err != nil {
			return err
		}
		if err := draftEvent(ctx, tx, d.ID, "publish", d.Head, ""); err != nil {
			return err
		}
		// The grids written (gridsWrittenHere would read the whole table for them).
		var written []int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT id), '{}') FROM grids WHERE version_id = ANY($1)`, vids).Scan(&written); err != nil {
			return err
		}
		written = append(written, p.Retire...)
		var codes []string
		for _, v := range p.Versions {
			codes = append(codes, v.Code)
		}
		return auditDraft(ctx, tx, d, "publish", written, map[string]any{"effective_date": gridline.Date(p.Effective),
			"versions": len(vids), "retired": p.Retire, "codes": codes, "revision": d.Head})
	})
}

// draftConflicts refuses a plan whose grids, or grids touching them, have a version stamped after
// the draft's base: someone changed them since the draft started (or was rebased).
func draftConflicts(ctx context.Context, tx pgx.Tx, p *drafts.Plan) error {
	ids := append([]int64(nil), p.Touched...)
	for _, v := range p.Versions {
		if v.ParentID > 0 {
			ids = append(ids, v.ParentID)
		}
	}
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT g.code FROM grids g
		WHERE g.change_seq > $1 AND (g.id = ANY($2) OR EXISTS (
			SELECT 1 FROM grids b WHERE b.id = ANY($3) AND b.change_seq <= $1 AND b.layer = g.layer
				AND b.geom && g.geom AND ST_Intersects(b.geom, g.geom)))
		ORDER BY 1 LIMIT 50`, p.BaseSeq, ids, p.Touched)
	if err != nil {
		return err
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(codes) > 0 {
		return gridline.Errorf(gridline.EConflict, "grids %s (or their neighbours) changed since this draft was started: rebase it (POST /v1/drafts/%d/rebase) onto the grids as they are now, check it and publish again", strings.Join(codes, ", "), p.DraftID).With("grids", codes)
	}
	return nil
}

var boundPrefix = [4]string{"东至", "南至", "西至", "北至"}

// recomputeBounds rewrites the four bounds (四至) of the grids the plan writes and, inside the
// draft's scope, of the neighbours of the grids whose neighbours changed (p.Reneighbour), from the neighbours in each direction: the grids written
// in this transaction in place, other neighbours with a new version from the effective date
// (returned). Grids whose four bounds were typed in the draft keep them unless recomputing was
// asked.
func recomputeBounds(ctx context.Context, tx pgx.Tx, p *drafts.Plan, vids []int64, real func(int64) (int64, bool)) ([]int64, error) {
	keep := map[int64]bool{}
	for _, id := range p.KeepBounds {
		if r, ok := real(id); ok {
			keep[r] = true
		}
	}
	for _, id := range p.Recompute {
		if r, ok := real(id); ok {
			delete(keep, r)
		}
	}
	var written []int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(id), '{}') FROM grids WHERE version_id = ANY($1)`, vids).Scan(&written); err != nil {
		return nil, err
	}
	var re []int64
	for _, id := range p.Reneighbour {
		if r, ok := real(id); ok {
			re = append(re, r)
		}
	}
	// The neighbours, of their level and layer and under the scope, of the grids whose
	// neighbours changed.
	// Every lookup here goes grid by grid (unnest, LATERAL): with a literal array of ids the
	// planner once chose a parallel hash join over the whole table, 15 s on 800,000 versions.
	rows, err := tx.Query(ctx, `
		WITH RECURSIVE n AS (
			SELECT DISTINCT x.id, x.parent_id FROM unnest($1::bigint[]) u(id)
			CROSS JOIN LATERAL (SELECT g.geom, g.level, g.layer FROM grids g WHERE g.id = u.id
				AND g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2) LIMIT 1) c
			CROSS JOIN LATERAL (SELECT n.id, n.parent_id FROM grids n WHERE n.geom && c.geom
				AND (n.level || '') = c.level AND (n.layer || '') = c.layer AND n.id <> u.id
				AND n.valid_from <= $2 AND (n.valid_to IS NULL OR n.valid_to > $2) AND ST_Intersects(n.geom, c.geom) OFFSET 0) x),
		up(start, id, parent) AS (SELECT id, id, parent_id FROM n
			UNION ALL SELECT up.start, g.id, g.parent_id FROM up JOIN grids g ON g.id = up.parent
				AND g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2))
		SELECT DISTINCT start FROM up WHERE id = $3`, re, p.Effective, p.ScopeID)
	if err != nil {
		return nil, err
	}
	nbs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	targets := []int64{}
	for _, id := range append(written, nbs...) {
		if !keep[id] && !slices.Contains(targets, id) {
			targets = append(targets, id)
		}
	}
	if len(targets) == 0 {
		return nil, nil
	}
	rows, err = tx.Query(ctx, `
		SELECT u.id, s.name, degrees(ST_Azimuth(ST_Centroid(t.geom), ST_Centroid(s.shared))), ST_Length(s.shared::geography)
		FROM unnest($1::bigint[]) u(id)
		CROSS JOIN LATERAL (SELECT g.geom, g.level, g.layer FROM grids g WHERE g.id = u.id
			AND g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2) LIMIT 1) t
		CROSS JOIN LATERAL (SELECT n.name, ST_CollectionExtract(ST_Intersection(t.geom, n.geom), 2) AS shared FROM grids n
			WHERE n.geom && t.geom AND (n.level || '') = t.level AND (n.layer || '') = t.layer AND n.id <> u.id
			AND n.valid_from <= $2 AND (n.valid_to IS NULL OR n.valid_to > $2) OFFSET 0) s
		WHERE NOT ST_IsEmpty(s.shared) AND ST_Length(s.shared) > 0`, targets, p.Effective)
	if err != nil {
		return nil, err
	}
	type side struct {
		name string
		len  float64
	}
	sides := map[int64]*[4][]side{}
	for rows.Next() {
		var id int64
		var name string
		var az *float64
		var l float64
		if err := rows.Scan(&id, &name, &az, &l); err != nil {
			rows.Close()
			return nil, err
		}
		if az == nil {
			continue
		}
		dir := 3 // north
		switch {
		case *az >= 45 && *az < 135:
			dir = 0
		case *az >= 135 && *az < 225:
			dir = 1
		case *az >= 225 && *az < 315:
			dir = 2
		}
		if sides[id] == nil {
			sides[id] = &[4][]side{}
		}
		sides[id][dir] = append(sides[id][dir], side{name, l})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var more []int64
	for _, id := range targets {
		s := sides[id]
		if s == nil {
			continue
		}
		var g gridline.Grid
		g, err := scanGrid(tx.QueryRow(ctx, `SELECT `+gridColumns+`, ST_AsBinary(g.geom) FROM grids g WHERE g.id = $1 AND `+validAt(2), id, p.Effective), true)
		if err != nil {
			return nil, err
		}
		texts := [4]string{g.Bounds.East, g.Bounds.South, g.Bounds.West, g.Bounds.North}
		for dir := range 4 {
			if len(s[dir]) == 0 {
				continue
			}
			sort.SliceStable(s[dir], func(a, b int) bool { return s[dir][a].len > s[dir][b].len })
			var names []string
			for _, x := range s[dir] {
				if !slices.Contains(names, x.name) {
					names = append(names, x.name)
				}
			}
			texts[dir] = boundPrefix[dir] + strings.Join(names, "、")
		}
		nb := gridline.FourBounds{East: texts[0], South: texts[1], West: texts[2], North: texts[3]}
		if nb == g.Bounds {
			continue
		}
		if slices.Contains(vids, g.VersionID) || g.ValidFrom.Equal(p.Effective) {
			if _, err := tx.Exec(ctx, `UPDATE grids SET bound_east = $2, bound_south = $3, bound_west = $4, bound_north = $5 WHERE version_id = $1`,
				g.VersionID, nb.East, nb.South, nb.West, nb.North); err != nil {
				return nil, err
			}
			continue
		}
		g.Bounds, g.ValidFrom, g.ValidTo = nb, p.Effective, nil
		geom, err := wkb.Marshal(g.Geometry)
		if err != nil {
			return nil, err
		}
		vid, err := insertVersion(ctx, tx, &g, geom, false)
		if err != nil {
			return nil, err
		}
		more = append(more, vid)
	}
	return more, nil
}

// Geometry for drafts (drafts.Geometry), each one statement.

func mpArg(mp orb.MultiPolygon) ([]byte, error) { return wkb.Marshal(mp) }

func (db *DB) geomQuery(ctx context.Context, q string, args ...any) (orb.MultiPolygon, error) {
	var b []byte
	if err := db.pool.QueryRow(ctx, q, args...).Scan(&b); err != nil {
		return nil, classify(err)
	}
	if b == nil {
		return orb.MultiPolygon{}, nil
	}
	return decodeMultiPolygon(b)
}

// polyOnly keeps the polygons of a result (dropping lines and points of a collection) as a
// MultiPolygon, empty when there are none.
const polyOnly = `ST_AsBinary(ST_Multi(ST_CollectionExtract(%s, 3)))`

// Split cuts g by the lines; each polygon of the result is one piece.
func (db *DB) Split(ctx context.Context, g orb.MultiPolygon, lines []orb.LineString) ([]orb.MultiPolygon, error) {
	gb, err := mpArg(g)
	if err != nil {
		return nil, err
	}
	ls := make(orb.MultiLineString, len(lines))
	copy(ls, lines)
	lb, err := wkb.Marshal(ls)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT ST_AsBinary((ST_Dump(ST_CollectionExtract(ST_Split(ST_GeomFromWKB($1, 4326), ST_GeomFromWKB($2, 4326)), 3))).geom)`, gb, lb)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []orb.MultiPolygon
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, classify(err)
		}
		mp, err := decodeMultiPolygon(b)
		if err != nil {
			return nil, err
		}
		out = append(out, mp)
	}
	return out, classify(rows.Err())
}

// Union is the union of gs.
func (db *DB) Union(ctx context.Context, gs []orb.MultiPolygon) (orb.MultiPolygon, error) {
	ws := make([][]byte, len(gs))
	for i, g := range gs {
		w, err := mpArg(g)
		if err != nil {
			return nil, err
		}
		ws[i] = w
	}
	return db.geomQuery(ctx, fmt.Sprintf(`SELECT `+polyOnly+` FROM (SELECT ST_Union(ST_GeomFromWKB(w, 4326)) AS u FROM unnest($1::bytea[]) w) x`, "u"), ws)
}

func (db *DB) binary(ctx context.Context, fn string, a, b orb.MultiPolygon) (orb.MultiPolygon, error) {
	ab, err := mpArg(a)
	if err != nil {
		return nil, err
	}
	bb, err := mpArg(b)
	if err != nil {
		return nil, err
	}
	return db.geomQuery(ctx, fmt.Sprintf(`SELECT `+polyOnly, fn+`(ST_GeomFromWKB($1, 4326), ST_GeomFromWKB($2, 4326))`), ab, bb)
}

// Difference is a minus b.
func (db *DB) Difference(ctx context.Context, a, b orb.MultiPolygon) (orb.MultiPolygon, error) {
	return db.binary(ctx, "ST_Difference", a, b)
}

// Intersection is a and b.
func (db *DB) Intersection(ctx context.Context, a, b orb.MultiPolygon) (orb.MultiPolygon, error) {
	return db.binary(ctx, "ST_Intersection", a, b)
}

// SymDifferenceArea is the area in m² of what lies in a or b but not both.
func (db *DB) SymDifferenceArea(ctx context.Context, a, b orb.MultiPolygon) (float64, error) {
	ab, err := mpArg(a)
	if err != nil {
		return 0, err
	}
	bb, err := mpArg(b)
	if err != nil {
		return 0, err
	}
	var area float64
	err = db.pool.QueryRow(ctx, `SELECT coalesce(ST_Area(ST_SymDifference(ST_GeomFromWKB($1, 4326), ST_GeomFromWKB($2, 4326))::geography), 0)`, ab, bb).Scan(&area)
	return area, classify(err)
}

// Widths are twice the radius of each geometry's largest inscribed circle in metres (scaled to
// metres at its latitude, as the coverage audit measures slivers).
func (db *DB) Widths(ctx context.Context, gs []orb.MultiPolygon) ([]float64, error) {
	ws := make([][]byte, len(gs))
	for i, g := range gs {
		w, err := mpArg(g)
		if err != nil {
			return nil, err
		}
		ws[i] = w
	}
	var out []float64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(array_agg(w ORDER BY n), '{}') FROM (
		SELECT n, 2 * (ST_MaximumInscribedCircle(ST_Scale(g,
			111412.84 * cos(radians(ST_Y(c))) - 93.5 * cos(3 * radians(ST_Y(c))),
			111132.954 - 559.822 * cos(2 * radians(ST_Y(c))) + 1.175 * cos(4 * radians(ST_Y(c)))))).radius AS w
		FROM (SELECT n, g, ST_PointOnSurface(g) AS c FROM (SELECT n, ST_GeomFromWKB(w, 4326) AS g FROM unnest($1::bytea[]) WITH ORDINALITY AS u(w, n)) a) b) x`, ws).Scan(&out)
	return out, classify(err)
}

// Invalid is why g is not a valid geometry, or "".
func (db *DB) Invalid(ctx context.Context, g orb.MultiPolygon) (string, error) {
	for i, p := range g {
		for j, r := range p {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				return fmt.Sprintf("ring %d of polygon %d is not closed or has fewer than 4 positions", j+1, i+1), nil
			}
		}
	}
	b, err := mpArg(g)
	if err != nil {
		return "", err
	}
	var ok bool
	var reason string
	err = db.pool.QueryRow(ctx, `SELECT ST_IsValid(g), ST_IsValidReason(g) FROM (SELECT ST_GeomFromWKB($1, 4326) AS g) x`, b).Scan(&ok, &reason)
	if err != nil {
		return "", classify(err)
	}
	if ok {
		return "", nil
	}
	return reason, nil
}

var _ drafts.Store = (*DB)(nil)
