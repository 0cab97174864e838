package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/worktime"
)

// The SQL of incident cases (issue #15): package dispatch's Store, the case listing, the
// catalogue, departments and responsibility list with their audited edits.

var _ dispatch.Store = (*DB)(nil)

// RoutingTable loads the catalogue, the departments and the responsibility list.
func (db *DB) RoutingTable(ctx context.Context) (*dispatch.Table, error) {
	cats, err := db.Categories(ctx)
	if err != nil {
		return nil, err
	}
	depts, err := db.Departments(ctx)
	if err != nil {
		return nil, err
	}
	rules, err := db.Rules(ctx)
	if err != nil {
		return nil, err
	}
	return dispatch.NewTable(cats, depts, rules), nil
}

// Categories lists the catalogue by code.
func (db *DB) Categories(ctx context.Context) ([]dispatch.Category, error) {
	rows, err := db.pool.Query(ctx, `SELECT code, standard, name, class_code, class_name, coalesce(parent_code, ''), kind, active, patrol_findable FROM case_categories ORDER BY standard, code`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.Category, error) {
		var c dispatch.Category
		err := r.Scan(&c.Code, &c.Standard, &c.Name, &c.ClassCode, &c.ClassName, &c.ParentCode, &c.Kind, &c.Active, &c.PatrolFindable)
		return c, err
	})
	return out, classify(err)
}

// Departments lists the departments by code.
func (db *DB) Departments(ctx context.Context) ([]dispatch.Department, error) {
	rows, err := db.pool.Query(ctx, `SELECT code, name, phone, fallback, active FROM departments ORDER BY code`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.Department, error) {
		var d dispatch.Department
		err := r.Scan(&d.Code, &d.Name, &d.Phone, &d.Fallback, &d.Active)
		return d, err
	})
	return out, classify(err)
}

const ruleColumns = `id, ord, coalesce(category_code, ''), coalesce(standard, ''), coalesce(class_code, ''), coalesce(place_level, ''),
	place_code_prefix, place_layer, coalesce(urgency, ''), party_kind, party_ref, active, note`

func scanRule(r pgx.CollectableRow) (dispatch.Rule, error) {
	var x dispatch.Rule
	var urg, kind string
	err := r.Scan(&x.ID, &x.Ord, &x.CategoryCode, &x.Standard, &x.ClassCode, &x.PlaceLevel, &x.PlaceCodePrefix, &x.PlaceLayer,
		&urg, &kind, &x.PartyRef, &x.Active, &x.Note)
	x.Urgency, x.PartyKind = dispatch.Urgency(urg), dispatch.PartyKind(kind)
	return x, err
}

// Rules lists the responsibility list in order (ord, then id), inactive rules included.
func (db *DB) Rules(ctx context.Context) ([]dispatch.Rule, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+ruleColumns+` FROM responsibility_rules ORDER BY ord, id`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, scanRule)
	return out, classify(err)
}

// WritesDuplicates says that CreateCase runs a NewCase's FindDuplicates in the write
// (dispatch.DuplicateWriter).
func (db *DB) WritesDuplicates() bool { return true }

// duplicatesQuery is the duplicate search with its parameters at the positions given: the open
// cases in a box around the point just larger than the circle (dupBoxDegrees) first (the partial gist index of open cases, migration
// 0016, materialized so that the planner does not AND it with the category-and-time index, which
// reads every case of the category in the window), then the category, the time and the distance
// on the sphere over those few.
func duplicatesQuery(category, lon, lat, since, metres, deg, limit int) string {
	return fmt.Sprintf(`
		WITH near AS MATERIALIZED (
			SELECT id, number, state, geom, reported_at, category_code FROM cases
			WHERE duplicate_of IS NULL AND state NOT IN ('voided', 'merged', 'closed', 'evaluated')
				AND geom && ST_Expand(ST_SetSRID(ST_MakePoint($%[2]d, $%[3]d), 4326), $%[6]d / greatest(cos(radians($%[3]d)), 0.01), $%[6]d))
		SELECT id, number, state, ST_Distance(geom::geography, p::geography) AS d, reported_at
		FROM near, ST_SetSRID(ST_MakePoint($%[2]d, $%[3]d), 4326) AS p
		WHERE category_code = $%[1]d AND reported_at >= $%[4]d AND ST_DWithin(geom::geography, p::geography, $%[5]d)
		ORDER BY d, id LIMIT $%[7]d`, category, lon, lat, since, metres, deg, limit)
}

// dupBoxDegrees is the half height in degrees of latitude of the box the duplicate search reads
// around a point (its half width is this over the cosine of the latitude): a degree of latitude
// is at least 110,574 m, so metres/110,000 always holds the circle, by half a percent.
func dupBoxDegrees(metres float64) float64 { return metres / 110000 }

// Duplicates lists the open cases of category within metres of (lon, lat) reported since.
func (db *DB) Duplicates(ctx context.Context, category string, lon, lat, metres float64, since time.Time, limit int) ([]dispatch.Duplicate, error) {
	// The geometry test on a degree box first (the gist index), then the distance on the sphere.
	deg := dupBoxDegrees(metres)
	rows, err := db.pool.Query(ctx, duplicatesQuery(1, 2, 3, 4, 5, 6, 7), category, lon, lat, since, metres, deg, limit)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.Duplicate, error) {
		var d dispatch.Duplicate
		var st string
		err := r.Scan(&d.ID, &d.Number, &st, &d.Metres, &d.ReportedAt)
		d.State = dispatch.State(st)
		d.Metres = float64(int64(d.Metres*100)) / 100
		return d, err
	})
	return out, classify(err)
}

func partyCols(p *dispatch.Party) (kind *string, ref, name string) {
	if p == nil {
		return nil, "", ""
	}
	k := string(p.Kind)
	return &k, p.Ref, p.Name
}

// partyJSON is a step's or case's party as stored in the event data and steps: the columns hold
// kind and ref, the rest (name, post, grid) travel in a case's routing and events.
func stepParty(kind *string, ref string) *dispatch.Party {
	if kind == nil {
		return nil
	}
	return &dispatch.Party{Kind: dispatch.PartyKind(*kind), Ref: ref}
}

// CreateCase writes a new case with its events, open steps, attachments and notices in one
// transaction. Concurrent intakes are gathered into one transaction and one round trip by the
// intake writer (store/intake.go): each is answered after the commit that holds it.
func (db *DB) CreateCase(ctx context.Context, nc *dispatch.NewCase) error {
	sf, err := db.putFiles(nc.Attachments)
	if err != nil {
		return err
	}
	if db.intake == nil {
		err = createCase(ctx, db.pool, nc)
	} else {
		err = db.intake.create(ctx, db, nc)
	}
	db.filesDone(ctx, sf, err == nil)
	return err
}

// batchSender sends a batch: the pool (one implicit transaction per batch) or a transaction
// (CreateCases writes many cases in one).
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// createCase writes one case in one batch with no BEGIN: PostgreSQL runs a pipeline ended by one
// Sync as one implicit transaction, so the case and its rows commit together or not at all, in
// one round trip.
func createCase(ctx context.Context, sb batchSender, nc *dispatch.NewCase) error {
	b := &pgx.Batch{}
	if err := queueCase(b, nc); err != nil {
		return err
	}
	if err := sb.SendBatch(ctx, b).Close(); err != nil {
		return caseError(nc, err)
	}
	caseWritten(nc)
	return nil
}

// queueCase queues the rows of nc on b: the case (its id drawn from cases_id_seq in the same
// statement), then its events, their attachments, its steps and notices, which find the case by
// the session's currval, so several cases queue one after the other on one batch.
func queueCase(b *pgx.Batch, nc *dispatch.NewCase) error {
	c := &nc.Case
	c.Version = len(nc.Events)
	reporter, err := json.Marshal(c.Reporter)
	if err != nil {
		return err
	}
	kind, ref, name := partyCols(c.Party)
	var ext *string
	if c.ExternalID != "" {
		ext = &c.ExternalID
	}
	args := []any{nc.NumberDay, c.Source, c.CategoryCode, c.Urgency, c.Description, c.Address, c.Lon, c.Lat, nullID(c.GridID), nullID(c.GridVersionID),
		c.GridChain, c.State, kind, ref, name, c.CoDepartments, reporter, []byte(c.Routing), c.Flags, ext,
		c.ReportedAt, c.ClosedAt, c.Version}
	if s := nc.FindDuplicates; s != nil {
		// The duplicate search runs in the statement that writes the case (one round trip for
		// both): what it finds goes into the case's flags and routing, as Engine.duplicates puts
		// what Duplicates finds.
		args = append(args, s.Since, s.Metres, dupBoxDegrees(s.Metres), s.Limit)
		b.Queue(`
			WITH n AS (SELECT nextval('cases_id_seq') AS id),
			d AS (SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'number', x.number, 'state', x.state,
					'distance_m', trunc(x.d::numeric, 2)::float8, 'reported_at', x.reported_at) ORDER BY x.d, x.id), '[]') AS dups
				FROM (`+duplicatesQuery(3, 7, 8, 24, 25, 26, 27)+`) x)
			INSERT INTO cases (id, number, source, category_code, urgency, description, address, geom, grid_id, grid_version_id,
				grid_chain, state, party_kind, party_ref, party_name, co_departments, reporter, routing, flags, external_id,
				reported_at, updated_at, closed_at, version)
			SELECT n.id, $1 || '-' || lpad(n.id::text, 6, '0'), $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326), $9, $10,
				$11, $12, $13, $14, $15, $16, $17,
				CASE WHEN d.dups = '[]' THEN $18::jsonb ELSE jsonb_set($18::jsonb, '{duplicates}', d.dups) END,
				CASE WHEN d.dups = '[]' THEN $19::text[] ELSE $19::text[] || 'possible_duplicate'::text END,
				$20, $21, $21, $22, $23
			FROM n, d RETURNING id, number, flags, routing`, args...).QueryRow(func(r pgx.Row) error {
			var routing []byte
			if err := r.Scan(&c.ID, &c.Number, &c.Flags, &routing); err != nil {
				return err
			}
			c.Routing = routing
			var rt struct {
				Duplicates []dispatch.Duplicate `json:"duplicates"`
			}
			if err := json.Unmarshal(routing, &rt); err != nil {
				return err
			}
			nc.Duplicates = rt.Duplicates
			return nil
		})
	} else {
		b.Queue(`
			WITH n AS (SELECT nextval('cases_id_seq') AS id)
			INSERT INTO cases (id, number, source, category_code, urgency, description, address, geom, grid_id, grid_version_id,
				grid_chain, state, party_kind, party_ref, party_name, co_departments, reporter, routing, flags, external_id,
				reported_at, updated_at, closed_at, version)
			SELECT n.id, $1 || '-' || lpad(n.id::text, 6, '0'), $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326), $9, $10,
				$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22, $23
			FROM n RETURNING id, number`, args...).QueryRow(func(r pgx.Row) error { return r.Scan(&c.ID, &c.Number) })
	}
	for i := range nc.Events {
		ev := &nc.Events[i]
		ev.Seq = i + 1
		queueEvent(b, ev)
		for k := range nc.Attachments {
			if a := &nc.Attachments[k]; a.EventID == int64(i+1) || a.EventID == 0 && i == 0 {
				queueAttachment(b, a)
			}
		}
	}
	for i := range nc.Steps {
		queueStep(b, &nc.Steps[i])
	}
	for _, n := range nc.Notices {
		b.Queue(`INSERT INTO case_notices (case_id, event_id, kind, to_kind, to_ref, message, at)
			VALUES (currval('cases_id_seq'), currval('case_events_id_seq'), $1, $2, $3, $4, $5)`, n.Kind, n.ToKind, n.ToRef, n.Message, c.ReportedAt)
	}
	return nil
}

// caseError is the error of a batch that wrote nc, as the client must read it.
func caseError(nc *dispatch.NewCase, err error) error {
	if isUnique(err, "cases_external_key") {
		c := &nc.Case
		return gridline.Errorf(gridline.EConflict, "a case from %s with external_id %q is already stored", c.Source, gridline.Excerpt(c.ExternalID)).With("field", "external_id")
	}
	return classify(err)
}

// caseWritten fills the case id into nc's rows once their batch has committed.
func caseWritten(nc *dispatch.NewCase) {
	c := &nc.Case
	for i := range nc.Events {
		nc.Events[i].CaseID = c.ID
	}
	for i := range nc.Steps {
		nc.Steps[i].CaseID = c.ID
	}
	for i := range nc.Attachments {
		nc.Attachments[i].CaseID = c.ID
	}
}

func isUnique(err error, constraint string) bool {
	var pe interface{ SQLState() string }
	if !errors.As(err, &pe) || pe.SQLState() != "23505" {
		return false
	}
	return strings.Contains(err.Error(), constraint)
}

// queueEvent inserts ev for the case whose id is the session's currval of cases_id_seq, or ev.CaseID.
func queueEvent(b *pgx.Batch, ev *dispatch.Event) {
	var from *string
	if ev.From != "" {
		f := string(ev.From)
		from = &f
	}
	data := []byte(ev.Data)
	if len(data) == 0 {
		data = []byte("{}")
	}
	b.Queue(`INSERT INTO case_events (case_id, seq, at, actor_account, actor_name, kind, from_state, to_state, reason, data)
		VALUES (coalesce($1, currval('cases_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		nullID(ev.CaseID), ev.Seq, ev.At, nullID(ev.ActorAccount), ev.ActorName, ev.Kind, from, ev.To, ev.Reason, data).
		QueryRow(func(r pgx.Row) error { return r.Scan(&ev.ID) })
}

// queueAttachment inserts a for the event just inserted.
func queueAttachment(b *pgx.Batch, a *dispatch.Attachment) {
	sum, _ := hex.DecodeString(a.SHA256)
	data, path := a.Bytes, (*string)(nil)
	if a.Path != "" { // in the attachments directory (attachfiles.go)
		data, path = nil, &a.Path
	}
	b.Queue(`INSERT INTO case_attachments (case_id, event_id, kind, content_type, name, bytes, path, size, sha256, created_at)
		VALUES (coalesce($1, currval('cases_id_seq')), currval('case_events_id_seq'), $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, event_id`,
		nullID(a.CaseID), a.Kind, a.ContentType, a.Name, data, path, a.Size, sum, a.CreatedAt).
		QueryRow(func(r pgx.Row) error { return r.Scan(&a.ID, &a.EventID) })
}

func queueStep(b *pgx.Batch, st *dispatch.Step) {
	kind, ref, _ := partyCols(st.Party)
	var amount *int
	var unit *string
	if st.Limit != nil {
		a, u := st.Limit.Amount, string(st.Limit.Unit)
		amount, unit = &a, &u
	}
	clock, _ := json.Marshal(st.Clock)
	b.Queue(`INSERT INTO case_steps (case_id, step, party_kind, party_ref, grid_id, limit_amount, limit_unit, clock, started_at, warn_at, due_at, paused_at)
		VALUES (coalesce($1, currval('cases_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		nullID(st.CaseID), st.Step, kind, ref, nullID(st.GridID), amount, unit, clock, st.StartedAt, st.WarnAt, st.DueAt, st.PausedAt).
		QueryRow(func(r pgx.Row) error { return r.Scan(&st.ID) })
}

const caseColumns = `c.id, c.number, c.source, c.category_code, c.urgency, c.description, c.address, ST_X(c.geom), ST_Y(c.geom),
	coalesce(c.grid_id, 0), coalesce(c.grid_version_id, 0), c.grid_chain, c.state, c.party_kind, c.party_ref, c.party_name,
	c.co_departments, c.reporter, c.routing, c.flags, coalesce(c.duplicate_of, 0), c.returned_count, c.rework_count,
	coalesce(c.external_id, ''), c.reported_at, c.updated_at, c.closed_at, c.version`

func scanCase(r pgx.Row, extra ...any) (*dispatch.Case, error) {
	var c dispatch.Case
	var kind *string
	var ref, name string
	var reporter, routing []byte
	dest := []any{&c.ID, &c.Number, &c.Source, &c.CategoryCode, &c.Urgency, &c.Description, &c.Address, &c.Lon, &c.Lat,
		&c.GridID, &c.GridVersionID, &c.GridChain, &c.State, &kind, &ref, &name,
		&c.CoDepartments, &reporter, &routing, &c.Flags, &c.DuplicateOf, &c.ReturnedCount, &c.ReworkCount,
		&c.ExternalID, &c.ReportedAt, &c.UpdatedAt, &c.ClosedAt, &c.Version}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	if kind != nil {
		c.Party = &dispatch.Party{Kind: dispatch.PartyKind(*kind), Ref: ref, Name: name}
		// The routed party carries its post and grid in the routing; keep them when it is the same.
		var rt struct {
			Party dispatch.Party `json:"party"`
		}
		if json.Unmarshal(routing, &rt) == nil && rt.Party.Kind == c.Party.Kind && rt.Party.Ref == c.Party.Ref {
			p := rt.Party
			c.Party = &p
		}
	}
	_ = json.Unmarshal(reporter, &c.Reporter)
	c.Routing = routing
	return &c, nil
}

// Case loads case id with its events, steps and attachments (without their bytes).
func (db *DB) Case(ctx context.Context, id int64) (*dispatch.Case, error) {
	var c *dispatch.Case
	err := db.readOnly(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanCase(tx.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return gridline.Errorf(gridline.ENotFound, "no case %d", id).With("case", id)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, case_id, seq, at, coalesce(actor_account, 0), actor_name, kind, coalesce(from_state, ''), to_state, reason, data
			FROM case_events WHERE case_id = $1 ORDER BY seq`, id)
		if err != nil {
			return err
		}
		c.Events, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.Event, error) {
			var e dispatch.Event
			var data []byte
			err := r.Scan(&e.ID, &e.CaseID, &e.Seq, &e.At, &e.ActorAccount, &e.ActorName, &e.Kind, &e.From, &e.To, &e.Reason, &data)
			if string(data) != "{}" {
				e.Data = data
			}
			return e, err
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT id, case_id, step, party_kind, party_ref, coalesce(grid_id, 0), limit_amount, limit_unit, clock,
			started_at, warn_at, due_at, paused_at, ended_at, escalation_level, notified_light FROM case_steps WHERE case_id = $1 ORDER BY id`, id)
		if err != nil {
			return err
		}
		c.Steps, err = pgx.CollectRows(rows, scanStep)
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT id, case_id, coalesce(event_id, 0), kind, content_type, name, size, sha256, created_at
			FROM case_attachments WHERE case_id = $1 ORDER BY id`, id)
		if err != nil {
			return err
		}
		c.Attachments, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.Attachment, error) {
			var a dispatch.Attachment
			var sum []byte
			err := r.Scan(&a.ID, &a.CaseID, &a.EventID, &a.Kind, &a.ContentType, &a.Name, &a.Size, &sum, &a.CreatedAt)
			a.SHA256 = hex.EncodeToString(sum)
			return a, err
		})
		return err
	})
	if err != nil {
		return nil, classify(err)
	}
	return c, nil
}

func scanStep(r pgx.CollectableRow) (dispatch.Step, error) {
	var s dispatch.Step
	var kind *string
	var ref string
	var amount *int
	var unit *string
	var clock []byte
	var light string
	err := r.Scan(&s.ID, &s.CaseID, &s.Step, &kind, &ref, &s.GridID, &amount, &unit, &clock, &s.StartedAt, &s.WarnAt, &s.DueAt,
		&s.PausedAt, &s.EndedAt, &s.EscalationLevel, &light)
	if err != nil {
		return s, err
	}
	s.Party = stepParty(kind, ref)
	if amount != nil && unit != nil {
		s.Limit = &worktime.Limit{Amount: *amount, Unit: worktime.Unit(*unit)}
	}
	_ = json.Unmarshal(clock, &s.Clock)
	s.NotifiedLight = worktime.Light(light)
	return s, nil
}

// ApplyChange writes one transition if the case is still at ch.ExpectVersion: of two concurrent
// transitions of one case, the second finds the version moved and is refused with a conflict.
func (db *DB) ApplyChange(ctx context.Context, ch *dispatch.Change) error {
	sf, err := db.putFiles(ch.Attachments)
	if err != nil {
		return err
	}
	err = db.applyChange(ctx, ch)
	db.filesDone(ctx, sf, err == nil)
	return err
}

func (db *DB) applyChange(ctx context.Context, ch *dispatch.Change) error {
	c := &ch.Case
	kind, ref, name := partyCols(c.Party)
	return db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE cases SET state = $3, party_kind = $4, party_ref = $5, party_name = $6, co_departments = $7,
				flags = $8, duplicate_of = $9, returned_count = $10, rework_count = $11, updated_at = $12, closed_at = $13, version = version + 1
			WHERE id = $1 AND version = $2`,
			ch.CaseID, ch.ExpectVersion, c.State, kind, ref, name, c.CoDepartments, c.Flags, nullID(c.DuplicateOf),
			c.ReturnedCount, c.ReworkCount, c.UpdatedAt, c.ClosedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return gridline.Errorf(gridline.EConflict, "case %s changed while this %s was being written (another transition won): read it again and decide", c.Number, ch.Event.Kind).
				With("case", ch.CaseID)
		}
		b := &pgx.Batch{}
		ev := &ch.Event
		ev.CaseID, ev.Seq = ch.CaseID, ch.ExpectVersion+1
		queueEvent(b, ev)
		for i := range ch.Attachments {
			ch.Attachments[i].CaseID = ch.CaseID
			queueAttachment(b, &ch.Attachments[i])
		}
		if len(ch.EndSteps) > 0 {
			names := make([]string, len(ch.EndSteps))
			for i, n := range ch.EndSteps {
				names[i] = string(n)
			}
			b.Queue(`UPDATE case_steps SET ended_at = $3 WHERE case_id = $1 AND step = ANY($2) AND ended_at IS NULL`, ch.CaseID, names, ev.At)
		}
		for _, st := range ch.UpdateSteps {
			clock, _ := json.Marshal(st.Clock)
			b.Queue(`UPDATE case_steps SET clock = $3, warn_at = $4, due_at = $5, paused_at = $6 WHERE case_id = $1 AND step = $2 AND ended_at IS NULL`,
				ch.CaseID, st.Step, clock, st.WarnAt, st.DueAt, st.PausedAt)
		}
		for i := range ch.StartSteps {
			ch.StartSteps[i].CaseID = ch.CaseID
			queueStep(b, &ch.StartSteps[i])
		}
		for _, n := range ch.Notices {
			b.Queue(`INSERT INTO case_notices (case_id, event_id, kind, to_kind, to_ref, message, at)
				VALUES ($1, currval('case_events_id_seq'), $2, $3, $4, $5, $6)`, ch.CaseID, n.Kind, n.ToKind, n.ToRef, n.Message, ev.At)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// CaseFilter selects cases for GET /v1/cases. The scope fields restrict the answer to what the
// caller may read; the others are the client's filters.
type CaseFilter struct {
	Everywhere bool
	Roots      []int64  // grid subtrees the caller reads
	DeptScope  []string // departments the caller reads
	States     []string
	Light      string // green, yellow, red: of the open steps, at Now
	Grid       int64  // a grid subtree
	Department string // the party or a co-handling department
	Category   string // a category code, or a class as STANDARD/CLASS
	From, To   *time.Time
	Now        time.Time
	Limit      int
	AfterID    int64 // paging: cases with a smaller id (the list is newest first)
}

// Cases lists cases newest first.
func (db *DB) Cases(ctx context.Context, f CaseFilter) ([]dispatch.Case, error) {
	var where []string
	args := []any{f.Now}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !f.Everywhere {
		where = append(where, fmt.Sprintf("(c.grid_chain && %s OR c.party_kind = 'department' AND c.party_ref = ANY(%s) OR c.co_departments && %s)",
			arg(f.Roots), arg(f.DeptScope), arg(f.DeptScope)))
	}
	if len(f.States) > 0 {
		where = append(where, "c.state = ANY("+arg(f.States)+")")
	}
	if f.Grid != 0 {
		where = append(where, "c.grid_chain @> ARRAY["+arg(f.Grid)+"::bigint]")
	}
	if f.Department != "" {
		d := arg(f.Department)
		where = append(where, fmt.Sprintf("(c.party_kind = 'department' AND c.party_ref = %s OR %s = ANY(c.co_departments))", d, d))
	}
	if f.Category != "" {
		if std, class, ok := strings.Cut(f.Category, "/"); ok {
			where = append(where, fmt.Sprintf("c.category_code IN (SELECT code FROM case_categories WHERE standard = %s AND class_code = %s)", arg(std), arg(class)))
		} else {
			where = append(where, "c.category_code = "+arg(f.Category))
		}
	}
	if f.From != nil {
		where = append(where, "c.reported_at >= "+arg(*f.From))
	}
	if f.To != nil {
		where = append(where, "c.reported_at < "+arg(*f.To))
	}
	if f.AfterID > 0 {
		where = append(where, "c.id < "+arg(f.AfterID))
	}
	const light = `(SELECT CASE WHEN bool_or(s.due_at <= $1) THEN 'red' WHEN bool_or(s.warn_at <= $1) THEN 'yellow'
		WHEN count(s.due_at) > 0 THEN 'green' ELSE '' END FROM case_steps s WHERE s.case_id = c.id AND s.ended_at IS NULL)`
	if f.Light != "" {
		where = append(where, light+" = "+arg(f.Light))
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := `SELECT ` + caseColumns + `, ` + light + ` FROM cases c`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.id DESC LIMIT " + arg(f.Limit)
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := []dispatch.Case{}
	for rows.Next() {
		var l string
		c, err := scanCase(rows, &l)
		if err != nil {
			return nil, classify(err)
		}
		c.Light = worktime.Light(l)
		c.Routing = nil
		out = append(out, *c)
	}
	return out, classify(rows.Err())
}

// CaseAttachment is attachment aid of case id, with its bytes.
func (db *DB) CaseAttachment(ctx context.Context, caseID, aid int64) (*dispatch.Attachment, error) {
	var a dispatch.Attachment
	var sum []byte
	var path *string
	err := db.pool.QueryRow(ctx, `SELECT id, case_id, coalesce(event_id, 0), kind, content_type, name, size, sha256, created_at, bytes, path
		FROM case_attachments WHERE id = $1 AND case_id = $2`, aid, caseID).
		Scan(&a.ID, &a.CaseID, &a.EventID, &a.Kind, &a.ContentType, &a.Name, &a.Size, &sum, &a.CreatedAt, &a.Bytes, &path)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gridline.Errorf(gridline.ENotFound, "case %d has no attachment %d", caseID, aid)
	}
	if err != nil {
		return nil, classify(err)
	}
	a.SHA256 = hex.EncodeToString(sum)
	if path != nil {
		a.Path = *path
		if err := db.readFile(&a, *path); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// AppendCaseEvent appends an event that does not change the case's state (an escalation, a
// notice sent) and its notices, in one transaction: the case's version moves on by one, so a
// transition that read the case before it answers 409 and is tried again on the new version.
func (db *DB) AppendCaseEvent(ctx context.Context, caseID int64, ev *dispatch.Event, notices []dispatch.Notice) error {
	return db.tx(ctx, func(tx pgx.Tx) error { return appendCaseEvent(ctx, tx, caseID, ev, notices) })
}

// appendCaseEvent is AppendCaseEvent inside tx (the escalation sweeper's transaction).
func appendCaseEvent(ctx context.Context, tx pgx.Tx, caseID int64, ev *dispatch.Event, notices []dispatch.Notice) error {
	var state string
	err := tx.QueryRow(ctx, `UPDATE cases SET version = version + 1, updated_at = greatest(updated_at, $2) WHERE id = $1 RETURNING version, state`,
		caseID, ev.At).Scan(&ev.Seq, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return gridline.Errorf(gridline.ENotFound, "no case %d", caseID).With("case", caseID)
	}
	if err != nil {
		return err
	}
	ev.CaseID, ev.From, ev.To = caseID, dispatch.State(state), dispatch.State(state)
	b := &pgx.Batch{}
	queueEvent(b, ev)
	for _, n := range notices {
		b.Queue(`INSERT INTO case_notices (case_id, event_id, kind, to_kind, to_ref, message, at)
			VALUES ($1, currval('case_events_id_seq'), $2, $3, $4, $5, $6)`, caseID, n.Kind, n.ToKind, n.ToRef, n.Message, ev.At)
	}
	return tx.SendBatch(ctx, b).Close()
}
