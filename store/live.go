package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline/live"
	"gridline.dev/gridline/open311"
)

// CasesChannel is the channel the trigger of migration 0013 notifies with each committed
// case_events row's id.
const CasesChannel = "gridline_cases"

// ListenCases calls onEvent with the id of every case_events row committed, in this process or
// another, until ctx ends (and with "" after each reconnection, since rows may have been missed
// meanwhile). onEvent must not block. onState is told of every connection as in Listen.
func (db *DB) ListenCases(ctx context.Context, onEvent func(payload string), onState func(err error)) {
	db.listen(ctx, CasesChannel, onEvent, onState)
}

// LastSeq implements live.Source: the newest case_events id.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM case_events`).Scan(&n)
	return n, classify(err)
}

// Events implements live.Source: the case changes with these case_events ids, each with its case
// as it stands now.
func (db *DB) Events(ctx context.Context, seqs []int64) ([]live.Event, error) {
	return db.events(ctx, `e.id = ANY($1::bigint[])`, seqs, 0)
}

// EventsAfter implements live.Source: at most limit changes after case_events id seq, in id order.
func (db *DB) EventsAfter(ctx context.Context, seq int64, limit int) ([]live.Event, error) {
	return db.events(ctx, `e.id > $1::bigint`, seq, limit)
}

// eventsSQL selects the changes: the event and the state it left the case in, the case's grid,
// chain, party and departments as they are now, where it is (WGS84), and its light at the event's
// time (the worst of its open steps with a deadline: red past due, yellow past the warning time).
const eventsSQL = `
	SELECT e.id, c.id, c.number, e.kind, e.to_state, e.at,
		coalesce((SELECT CASE WHEN bool_or(s.due_at <= e.at) THEN 'red' WHEN bool_or(s.warn_at <= e.at) THEN 'yellow'
			WHEN bool_or(s.due_at IS NOT NULL) THEN 'green' END
			FROM case_steps s WHERE s.case_id = c.id AND s.ended_at IS NULL), ''),
		coalesce(c.grid_id, 0), coalesce(g.code, ''), coalesce(g.name, ''), c.grid_chain,
		coalesce(c.party_kind, ''), c.party_ref, c.party_name,
		CASE WHEN c.party_kind = 'department' THEN array_prepend(c.party_ref, c.co_departments) ELSE c.co_departments END,
		ST_X(c.geom), ST_Y(c.geom)
	FROM case_events e JOIN cases c ON c.id = e.case_id
	LEFT JOIN LATERAL (SELECT code, name FROM grids WHERE grids.id = c.grid_id ORDER BY valid_to IS NULL DESC, valid_from DESC LIMIT 1) g ON true
	WHERE `

func (db *DB) events(ctx context.Context, where string, arg any, limit int) ([]live.Event, error) {
	q := eventsSQL + where + ` ORDER BY e.id`
	args := []any{arg}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (live.Event, error) {
		var e live.Event
		var gid int64
		var code, name string
		var lon, lat float64
		err := r.Scan(&e.Seq, &e.CaseID, &e.Number, &e.Kind, &e.State, &e.At, &e.Light, &gid, &code, &name, &e.Chain,
			&e.Party.Kind, &e.Party.Ref, &e.Party.Name, &e.Departments, &lon, &lat)
		if gid != 0 {
			e.Grid = &live.GridRef{ID: gid, Code: code, Name: name}
		}
		e.Point = &[2]float64{lon, lat}
		return e, err
	})
	return out, classify(err)
}

// Open311Requests is the cases an Open311 query selects (open311.Cases.Find's SQL), newest first:
// the service_request_id is the case number; status_notes the reason of the latest event;
// expected_datetime the earliest due time of the open steps.
func (db *DB) Open311Requests(ctx context.Context, q open311.Query) ([]open311.Case, error) {
	where := []string{"c.source = ANY($1)"}
	args := []any{q.Sources}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(q.IDs) > 0 {
		where = append(where, "c.number = ANY("+arg(q.IDs)+")")
	} else {
		if len(q.Codes) > 0 {
			where = append(where, "c.category_code = ANY("+arg(q.Codes)+")")
		}
		where = append(where, "c.reported_at >= "+arg(q.From), "c.reported_at <= "+arg(q.To))
		if len(q.Status) == 1 {
			if q.Status[0] == "closed" {
				where = append(where, "c.state = ANY("+arg(open311.ClosedStates())+")")
			} else {
				where = append(where, "c.state <> ALL("+arg(open311.ClosedStates())+")")
			}
		}
	}
	limit := q.Limit
	if limit <= 0 || limit > open311.MaxRequests {
		limit = open311.MaxRequests
	}
	rows, err := db.pool.Query(ctx, `
		SELECT c.number, c.category_code, coalesce(cat.name, ''), c.description, c.state,
			coalesce((SELECT e.reason FROM case_events e WHERE e.case_id = c.id ORDER BY e.seq DESC LIMIT 1), ''),
			c.party_name, c.reported_at, c.updated_at,
			(SELECT min(s.due_at) FROM case_steps s WHERE s.case_id = c.id AND s.ended_at IS NULL),
			c.address, ST_X(c.geom), ST_Y(c.geom)
		FROM cases c LEFT JOIN case_categories cat ON cat.code = c.category_code
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY c.reported_at DESC, c.id DESC LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (open311.Case, error) {
		var c open311.Case
		var lon, lat float64
		err := r.Scan(&c.ID, &c.ServiceCode, &c.ServiceName, &c.Description, &c.State, &c.StatusNotes, &c.Agency,
			&c.ReportedAt, &c.UpdatedAt, &c.ExpectedAt, &c.Address, &lon, &lat)
		c.Lon, c.Lat = &lon, &lat
		return c, err
	})
	return out, classify(err)
}
