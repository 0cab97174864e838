package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline/stats"
)

// The figures districts are judged by (统计考核, issue #16), counted in SQL. Package stats defines
// them (stats.Definitions); docs/decisions.md says why they are counted here, in one statement
// over cases, case_events and case_steps, rather than in Go.

// statsCandidates are the cases a period's figures may count: in the caller's reach and the
// scope, reported before the period ends, open or closed at most 92 days before it starts (a case
// closed earlier than that cannot have its handling step due in the period: no time limit is that
// long). The parameters: $1 start, $2 end, $3 the time zone, $4 the grid level of the group
// (” for department and worker), $5 the scope's grid id (0: none), $6 everywhere, $7 the grid
// roots, $8 the departments the caller reads, $9 the group. The counts add $10 the bucket and
// $11 now; the steps $10 the bucket and $11/$12 the starts and ends of the working spans.
const statsCandidates = `
	gl AS (
		SELECT DISTINCT ON (g.id) g.id, g.code, g.name, g.level FROM grids g
		WHERE g.layer = 'comprehensive' AND g.level = $4 AND g.valid_from < ($2::timestamptz AT TIME ZONE $3::text)::date
		ORDER BY g.id, g.valid_from DESC
	),
	sc AS (
		SELECT c.id, c.source, c.category_code, c.reported_at, c.closed_at, c.geom, c.flags,
			CASE WHEN $4 <> '' THEN (SELECT gl.id::text FROM unnest(c.grid_chain) x JOIN gl ON gl.id = x LIMIT 1)
			     WHEN $9 = 'department' THEN CASE WHEN c.party_kind = 'department' THEN c.party_ref END
			     ELSE CASE WHEN c.party_kind = 'worker' THEN c.party_ref END END AS k,
			CASE WHEN $9 = 'worker' THEN
			     CASE WHEN c.source = 'patrol' THEN (SELECT a.person_id::text FROM accounts a WHERE a.id = (c.reporter->>'account')::bigint) END
			     WHEN $4 <> '' THEN (SELECT gl.id::text FROM unnest(c.grid_chain) x JOIN gl ON gl.id = x LIMIT 1)
			     ELSE CASE WHEN c.party_kind = 'department' THEN c.party_ref END END AS pk
		FROM cases c
		WHERE c.reported_at < $2 AND (c.closed_at IS NULL OR c.closed_at >= $1::timestamptz - interval '92 days')
		  AND ($5::bigint = 0 OR c.grid_chain @> ARRAY[$5::bigint])
		  AND ($6 OR c.grid_chain && $7::bigint[] OR c.party_kind = 'department' AND c.party_ref = ANY($8::text[]) OR c.co_departments && $8::text[])
		  AND c.state <> 'merged'
	)`

const statsBucket = `CASE $10 WHEN 'day' THEN to_char(v.at AT TIME ZONE $3, 'YYYY-MM-DD')
	WHEN 'week' THEN to_char(v.at AT TIME ZONE $3, 'IYYY-"W"IW')
	WHEN 'month' THEN to_char(v.at AT TIME ZONE $3, 'YYYY-MM') ELSE '' END`

// statsCountsSQL: one row per case of its facts (from its events and its latest handling step),
// unpivoted into one row per (figure, the time it happened, the group it counts for), counted per
// group and bucket. A figure counts in the bucket its own time falls in: a case reported on the
// 30th and closed on the 2nd counts as reported in one month and closed in the next.
var statsCountsSQL = `WITH ` + statsCandidates + `,
	f AS (
		SELECT sc.id, sc.k, sc.pk, sc.source, sc.reported_at, sc.closed_at, ev.*, h.due,
			'self_handled' = ANY(sc.flags) AS self_handled,
			sc.source IN ('public', 'hotline', 'open311') AND ev.filed_at IS NOT NULL AND sc.reported_at >= $1
				AND (SELECT cc.patrol_findable FROM case_categories cc WHERE cc.code = sc.category_code)
				AND NOT EXISTS (SELECT 1 FROM cases p WHERE p.source = 'patrol' AND p.category_code = sc.category_code
					AND p.reported_at >= sc.reported_at - interval '24 hours' AND p.reported_at <= sc.reported_at AND p.id <> sc.id
					AND ST_DWithin(p.geom::geography, sc.geom::geography, 50)) AS missed
		FROM sc
		CROSS JOIN LATERAL (
			SELECT min(e.at) FILTER (WHERE e.kind IN ('file', 'self_handle')) AS filed_at,
				min(e.at) FILTER (WHERE e.kind = 'void') AS voided_at,
				min(e.at) FILTER (WHERE e.kind = 'dispatch') AS dispatched_at,
				count(*) FILTER (WHERE e.kind = 'dispatch') AS n_dispatch,
				coalesce(bool_or(e.kind = 'return'), false) AS returned,
				coalesce(bool_or(e.kind = 'rework'), false) AS reworked,
				coalesce(bool_or(e.kind = 'postpone'), false) AS postponed
			FROM case_events e WHERE e.case_id = sc.id) ev
		LEFT JOIN LATERAL (
			SELECT CASE WHEN coalesce(s.due_at, s.paused_at) <= $11 OR sc.closed_at IS NOT NULL THEN coalesce(s.due_at, s.paused_at) END AS due
			FROM case_steps s WHERE s.case_id = sc.id AND s.step = 'handle' ORDER BY s.id DESC LIMIT 1) h ON true
	),
	v AS (
		SELECT v.fig, v.at, v.key FROM f CROSS JOIN LATERAL (VALUES
			('reported', f.reported_at, f.k),
			('filed', f.filed_at, f.k),
			('voided', f.voided_at, f.k),
			('closed', f.closed_at, f.k),
			('self_handled', CASE WHEN f.self_handled THEN f.closed_at END, f.k),
			('due', f.due, f.k),
			('postponed', CASE WHEN f.postponed THEN f.due END, f.k),
			('closed_on_time', CASE WHEN NOT f.postponed AND f.closed_at <= f.due THEN f.due END, f.k),
			('overdue', CASE WHEN NOT f.postponed AND (f.closed_at IS NULL OR f.closed_at > f.due) THEN f.due END, f.k),
			('dispatched', f.dispatched_at, f.k),
			('redispatched', CASE WHEN f.n_dispatch > 1 OR f.returned THEN f.dispatched_at END, f.k),
			('returned', CASE WHEN f.returned THEN f.dispatched_at END, f.k),
			('reworked', CASE WHEN f.reworked THEN f.closed_at END, f.k),
			('patrol_reported', CASE WHEN f.source = 'patrol' THEN f.reported_at END, f.pk),
			('patrol_valid', CASE WHEN f.source = 'patrol' AND f.filed_at IS NOT NULL THEN f.reported_at END, f.pk),
			('missed', CASE WHEN f.missed THEN f.reported_at END, f.k)
		) v(fig, at, key)
		WHERE v.at >= $1 AND v.at < $2 AND v.key IS NOT NULL
	)
	SELECT v.key, ` + statsBucket + ` AS bucket,
		count(*) FILTER (WHERE fig = 'reported'), count(*) FILTER (WHERE fig = 'filed'), count(*) FILTER (WHERE fig = 'voided'),
		count(*) FILTER (WHERE fig = 'closed'), count(*) FILTER (WHERE fig = 'self_handled'), count(*) FILTER (WHERE fig = 'due'),
		count(*) FILTER (WHERE fig = 'postponed'), count(*) FILTER (WHERE fig = 'closed_on_time'), count(*) FILTER (WHERE fig = 'overdue'),
		count(*) FILTER (WHERE fig = 'dispatched'), count(*) FILTER (WHERE fig = 'redispatched'), count(*) FILTER (WHERE fig = 'returned'),
		count(*) FILTER (WHERE fig = 'reworked'), count(*) FILTER (WHERE fig = 'patrol_reported'), count(*) FILTER (WHERE fig = 'patrol_valid'),
		count(*) FILTER (WHERE fig = 'missed')
	FROM v GROUP BY 1, 2`

// statsStepsSQL: the steps that ended in the period, per group (the case's) and bucket (the
// step's end): their number, natural seconds, and working seconds (the overlap of the step with
// the working spans).
var statsStepsSQL = `WITH ` + statsCandidates + `,
	wk AS (SELECT range_agg(tstzrange(a, b)) AS m FROM unnest($11::timestamptz[], $12::timestamptz[]) u(a, b)),
	v AS (
		SELECT sc.k AS key, s.step, s.ended_at AS at, extract(epoch FROM s.ended_at - s.started_at) AS secs,
			coalesce((SELECT extract(epoch FROM sum(upper(r) - lower(r))) FROM wk, unnest(tstzmultirange(tstzrange(s.started_at, s.ended_at)) * wk.m) r), 0) AS wsecs
		FROM sc JOIN case_steps s ON s.case_id = sc.id
		WHERE s.ended_at >= $1 AND s.ended_at < $2 AND sc.k IS NOT NULL
	)
	SELECT v.key, ` + statsBucket + ` AS bucket, v.step, count(*), sum(v.secs)::float8, sum(v.wsecs)::float8 FROM v GROUP BY 1, 2, 3`

func statsArgs(q stats.Query) []any {
	roots, depts := q.Access.Roots, q.Access.DeptScope
	if roots == nil {
		roots = []int64{}
	}
	if depts == nil {
		depts = []string{}
	}
	loc := q.Loc
	if loc == nil {
		loc = time.UTC
	}
	return []any{q.Start(), q.End(), loc.String(), q.Group.Level(), q.Scope.ID, q.Access.Everywhere, roots, depts, string(q.Group)}
}

// StatsCells counts q's figures per group and bucket (stats.Store).
func (db *DB) StatsCells(ctx context.Context, q stats.Query, working [][2]time.Time) ([]stats.Cell, error) {
	args := statsArgs(q)
	as, bs := make([]time.Time, len(working)), make([]time.Time, len(working))
	for i, w := range working {
		as[i], bs[i] = w[0], w[1]
	}
	type ck struct{ key, bucket string }
	cells := map[ck]*stats.Cell{}
	var order []ck
	get := func(k ck) *stats.Cell {
		c := cells[k]
		if c == nil {
			c = &stats.Cell{Key: k.key, Bucket: k.bucket, Steps: map[string]stats.StepTime{}}
			cells[k] = c
			order = append(order, k)
		}
		return c
	}
	rows, err := db.pool.Query(ctx, statsCountsSQL, append(args, string(q.Bucket), q.Now)...)
	if err != nil {
		return nil, classify(err)
	}
	for rows.Next() {
		var k ck
		var n [16]int
		dst := []any{&k.key, &k.bucket}
		for i := range n {
			dst = append(dst, &n[i])
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return nil, classify(err)
		}
		c := get(k)
		c.Counts = stats.Counts{Reported: n[0], Filed: n[1], Voided: n[2], Closed: n[3], SelfHandled: n[4], Due: n[5], Postponed: n[6],
			ClosedOnTime: n[7], Overdue: n[8], Dispatched: n[9], Redispatched: n[10], Returned: n[11], Reworked: n[12],
			PatrolReported: n[13], PatrolValid: n[14], Missed: n[15]}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	rows, err = db.pool.Query(ctx, statsStepsSQL, append(args, string(q.Bucket), as, bs)...)
	if err != nil {
		return nil, classify(err)
	}
	for rows.Next() {
		var k ck
		var step string
		var t stats.StepTime
		if err := rows.Scan(&k.key, &k.bucket, &step, &t.N, &t.Seconds, &t.WorkingSeconds); err != nil {
			rows.Close()
			return nil, classify(err)
		}
		get(k).Steps[step] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	if err := db.statsNames(ctx, q, cells2(cells)); err != nil {
		return nil, err
	}
	out := make([]stats.Cell, 0, len(order))
	for _, k := range order {
		out = append(out, *cells[k])
	}
	sortCells(out)
	return out, nil
}

func cells2[K comparable](m map[K]*stats.Cell) []*stats.Cell {
	out := make([]*stats.Cell, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	return out
}

// statsNames fills the cells' names, levels and grid ids (the key of a grid group is the grid's
// id until here; it becomes the grid's code).
func (db *DB) statsNames(ctx context.Context, q stats.Query, cells []*stats.Cell) error {
	if len(cells) == 0 {
		return nil
	}
	keys := map[string]bool{}
	for _, c := range cells {
		keys[c.Key] = true
	}
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	var sql string
	switch {
	case q.Group.Level() != "":
		sql = `SELECT DISTINCT ON (g.id) g.id::text, g.code, g.name, g.level FROM grids g
			WHERE g.id = ANY($1::text[]::bigint[]) AND g.valid_from < ($2 AT TIME ZONE $3)::date ORDER BY g.id, g.valid_from DESC`
	case q.Group == stats.GroupDepartment:
		sql = `SELECT d.code, d.code, d.name, 'department' FROM departments d WHERE d.code = ANY($1::text[]) AND $2::timestamptz IS NOT NULL AND $3::text IS NOT NULL`
	default:
		sql = `SELECT p.id::text, p.id::text, p.name, 'worker' FROM people p
			WHERE p.id = ANY(ARRAY(SELECT x::bigint FROM unnest($1::text[]) x WHERE x ~ '^[0-9]{1,18}$')) AND $2::timestamptz IS NOT NULL AND $3::text IS NOT NULL`
	}
	loc := q.Loc
	if loc == nil {
		loc = time.UTC
	}
	rows, err := db.pool.Query(ctx, sql, list, q.End(), loc.String())
	if err != nil {
		return classify(err)
	}
	type nm struct{ code, name, level string }
	names := map[string]nm{}
	for rows.Next() {
		var id string
		var n nm
		if err := rows.Scan(&id, &n.code, &n.name, &n.level); err != nil {
			rows.Close()
			return classify(err)
		}
		names[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	for _, c := range cells {
		n, ok := names[c.Key]
		if !ok {
			n = nm{c.Key, c.Key, string(q.Group)}
		}
		if q.Group.Level() != "" {
			c.GridID, _ = strconv.ParseInt(c.Key, 10, 64)
		}
		c.Key, c.Name, c.Level = n.code, n.name, n.level
	}
	return nil
}

func sortCells(cs []stats.Cell) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].Key < cs[j-1].Key || cs[j].Key == cs[j-1].Key && cs[j].Bucket < cs[j-1].Bucket); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// StatsBreakdown counts the scope's cases reported (and closed) in the period by class or source.
func (db *DB) StatsBreakdown(ctx context.Context, q stats.Query, by string) ([]stats.Breakdown, error) {
	qq := q
	qq.Group = stats.GroupDistrict
	args := statsArgs(qq)
	var sql string
	switch by {
	case "class":
		sql = `WITH ` + statsCandidates + `
			SELECT cc.class_code, min(cc.class_name), count(*) FILTER (WHERE sc.reported_at >= $1),
				count(*) FILTER (WHERE sc.closed_at >= $1 AND sc.closed_at < $2)
			FROM sc JOIN case_categories cc ON cc.code = sc.category_code
			WHERE (sc.reported_at >= $1 OR sc.closed_at >= $1 AND sc.closed_at < $2)
			GROUP BY 1 ORDER BY 3 DESC, 1`
	case "source":
		sql = `WITH ` + statsCandidates + `
			SELECT sc.source, '', count(*) FILTER (WHERE sc.reported_at >= $1),
				count(*) FILTER (WHERE sc.closed_at >= $1 AND sc.closed_at < $2)
			FROM sc
			WHERE (sc.reported_at >= $1 OR sc.closed_at >= $1 AND sc.closed_at < $2)
			GROUP BY 1 ORDER BY 3 DESC, 1`
	default:
		return nil, fmt.Errorf("store: breakdown by %q", by)
	}
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := []stats.Breakdown{}
	for rows.Next() {
		var k, name string
		var b stats.Breakdown
		if err := rows.Scan(&k, &name, &b.Reported, &b.Closed); err != nil {
			return nil, classify(err)
		}
		if by == "class" {
			b.ClassCode, b.ClassName = k, name
		} else {
			b.Source = k
		}
		out = append(out, b)
	}
	return out, classify(rows.Err())
}

// PointsRules is the points rule table in its order (stats.Store).
func (db *DB) PointsRules(ctx context.Context) ([]stats.Rule, error) {
	rows, err := db.pool.Query(ctx, `SELECT code, name, points::float8 FROM points_rules ORDER BY ord, code`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := []stats.Rule{}
	for rows.Next() {
		var r stats.Rule
		if err := rows.Scan(&r.Code, &r.Name, &r.Points); err != nil {
			return nil, classify(err)
		}
		out = append(out, r)
	}
	return out, classify(rows.Err())
}

// SavePointsRules replaces the points rule table, in one transaction recorded in the audit log.
// It needs cases.supervise on all grids (checked again here).
func (db *DB) SavePointsRules(ctx context.Context, rules []stats.Rule) error {
	if err := stats.CheckRules(rules); err != nil {
		return err
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := checkEverywhere(ctx, "changing the points rule table"); err != nil {
			return err
		}
		before, err := db.PointsRules(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM points_rules`); err != nil {
			return classify(err)
		}
		for i, r := range rules {
			if _, err := tx.Exec(ctx, `INSERT INTO points_rules (code, name, points, ord, updated_at) VALUES ($1, $2, $3, $4, now())`,
				r.Code, r.Name, r.Points, i+1); err != nil {
				return classify(err)
			}
		}
		return appendAudit(ctx, tx, audit{Action: "stats.points_rules", TargetKind: "points_rules",
			Before: map[string]any{"rules": before}, After: map[string]any{"rules": rules}})
	})
}

// StatsDistricts are the districts (comprehensive, level district) valid on date at: the default
// scope of the statistics when there is one.
func (db *DB) StatsDistricts(ctx context.Context, at time.Time) ([]stats.Scope, error) {
	rows, err := db.pool.Query(ctx, `SELECT g.id, g.code, g.name FROM grids g
		WHERE g.layer = 'comprehensive' AND g.level = 'district' AND `+validAt(1)+` ORDER BY g.code`, at)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []stats.Scope
	for rows.Next() {
		sc := stats.Scope{Level: "district"}
		if err := rows.Scan(&sc.ID, &sc.Code, &sc.Name); err != nil {
			return nil, classify(err)
		}
		out = append(out, sc)
	}
	return out, classify(rows.Err())
}
