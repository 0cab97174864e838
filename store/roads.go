package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/patrol"
)

// Roads: the network routes are found on (migration 0012), with pgRouting. Edges are noded at
// their end points: source and target are road_vertices ids, shared by every edge ending at the
// same coordinates. cost is seconds, by length and the class's speed, the same both ways.

// Speeds of the road classes, km/h.
const (
	SpeedMain   = 40.0
	SpeedStreet = 30.0
	SpeedLane   = 15.0
)

// costSQL is an edge's cost in seconds from its length in metres (l) and class (c).
const costSQL = `(%[1]s / (CASE %[2]s WHEN 'main' THEN 40.0 WHEN 'street' THEN 30.0 ELSE 15.0 END / 3.6))`

// syntheticSegmentsSQL takes apart the boundaries of today's comprehensive grids into segments,
// each once with its end points in a canonical order, and keeps the highest level that has it:
// the demo's grids are built from one noded edge set (demo/topology.go), so both sides of a shared
// border have the same segments bit for bit. Ranks: 0 district .. 4 micro.
const syntheticSegmentsSQL = `
CREATE TEMP TABLE road_seg ON COMMIT DROP AS
WITH s AS (
    SELECT CASE g.level WHEN 'district' THEN 0 WHEN 'subdistrict' THEN 1 WHEN 'community' THEN 2 WHEN 'grid' THEN 3 ELSE 4 END AS r,
           ST_X(ST_StartPoint(d.geom)) AS x1, ST_Y(ST_StartPoint(d.geom)) AS y1,
           ST_X(ST_EndPoint(d.geom)) AS x2, ST_Y(ST_EndPoint(d.geom)) AS y2
    FROM grids g, ST_DumpSegments(ST_Boundary(g.geom)) d
    WHERE g.layer = 'comprehensive' AND g.valid_from <= $1 AND (g.valid_to IS NULL OR g.valid_to > $1)
)
SELECT CASE WHEN (x1, y1) < (x2, y2) THEN x1 ELSE x2 END AS ax, CASE WHEN (x1, y1) < (x2, y2) THEN y1 ELSE y2 END AS ay,
       CASE WHEN (x1, y1) < (x2, y2) THEN x2 ELSE x1 END AS bx, CASE WHEN (x1, y1) < (x2, y2) THEN y2 ELSE y1 END AS by,
       CASE WHEN min(r) <= 2 THEN 'main' WHEN min(r) = 3 THEN 'street' ELSE 'lane' END AS class
FROM s WHERE (x1, y1) <> (x2, y2) GROUP BY 1, 2, 3, 4`

// nodeSQL numbers the distinct end points of road_seg (ax, ay, bx, by, class, name, synthetic)
// as vertices and writes the edges between them.
var nodeSQL = []string{
	`CREATE TEMP TABLE road_vx ON COMMIT DROP AS
	 SELECT row_number() OVER (ORDER BY x, y) AS id, x, y FROM (SELECT ax AS x, ay AS y FROM road_seg UNION SELECT bx, by FROM road_seg) v`,
	`CREATE INDEX ON road_vx (x, y)`,
	`INSERT INTO road_vertices (id, geom) SELECT id, ST_SetSRID(ST_MakePoint(x, y), 4326) FROM road_vx`,
	`INSERT INTO roads (source, target, geom, length_m, cost, name, class, synthetic)
	 SELECT va.id, vb.id, l.g, l.m, ` + fmt.Sprintf(costSQL, "l.m", "s.class") + `, s.name, s.class, s.synthetic
	 FROM road_seg s JOIN road_vx va ON va.x = s.ax AND va.y = s.ay JOIN road_vx vb ON vb.x = s.bx AND vb.y = s.by,
	 LATERAL (SELECT ST_SetSRID(ST_MakeLine(ST_MakePoint(s.ax, s.ay), ST_MakePoint(s.bx, s.by)), 4326) AS g) g0,
	 LATERAL (SELECT g0.g, ST_Length(g0.g::geography) AS m) l`,
}

// roadSuffix is what a subdistrict's or community's name ends with after the road it is named after.
var roadSuffix = regexp.MustCompile(`(街道办事处|街道|办事处|社区居民委员会|居民委员会|社区居委会|居委会|社区)$`)

// RoadName is the road a subdistrict or community is named after, or "": the name without its
// suffix, when that ends in 路 or 街 (so 蜜蜂张街道 is 蜜蜂张, not a road).
func RoadName(unit string) string {
	n := roadSuffix.ReplaceAllString(strings.TrimSpace(unit), "")
	if strings.HasSuffix(n, "路") || strings.HasSuffix(n, "街") {
		return n
	}
	return ""
}

// BuildSyntheticRoads replaces the road network with the demo's synthetic one, built from the
// comprehensive grids valid on day: subdistrict and community borders (and the district's
// outline) are main roads, basic grid borders streets, micro grid borders lanes. The real road
// names found in the subdistricts' and communities' names label a chain of roads inside the unit
// that carries the name, from its west to its east. Every edge is marked synthetic. It returns the
// number of edges and of names placed.
func (db *DB) BuildSyntheticRoads(ctx context.Context, day time.Time) (edges, names int, err error) {
	err = db.tx(ctx, func(tx pgx.Tx) error {
		for _, q := range []string{`DELETE FROM roads`, `DELETE FROM road_vertices`} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, syntheticSegmentsSQL, day); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE road_seg ADD COLUMN name text NOT NULL DEFAULT '', ADD COLUMN synthetic boolean NOT NULL DEFAULT true`); err != nil {
			return err
		}
		for _, q := range nodeSQL {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `ANALYZE roads`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM roads`).Scan(&edges); err != nil {
			return err
		}
		names, err = nameRoads(ctx, tx, day)
		return err
	})
	return edges, names, classify(err)
}

// nameRoads labels, for each subdistrict then each community named after a road, the fastest
// chain of roads inside it (not on its border) from its westernmost to its easternmost vertex:
// main roads and streets inside a subdistrict, streets and lanes inside a community. A road
// already named keeps its name.
func nameRoads(ctx context.Context, tx pgx.Tx, day time.Time) (int, error) {
	rows, err := tx.Query(ctx, `SELECT version_id, level, name FROM grids
		WHERE layer = 'comprehensive' AND level IN ('subdistrict', 'community')
		  AND valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1)
		ORDER BY level = 'community', code`, day)
	if err != nil {
		return 0, err
	}
	type unit struct {
		vid   int64
		level string
		road  string
	}
	var units []unit
	for rows.Next() {
		var u unit
		var name string
		if err := rows.Scan(&u.vid, &u.level, &name); err != nil {
			return 0, err
		}
		if u.road = RoadName(name); u.road != "" {
			units = append(units, u)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	placed := 0
	for _, u := range units {
		classes := `'street', 'lane'`
		if u.level == "subdistrict" {
			classes = `'main', 'street'`
		}
		unitGeom := fmt.Sprintf(`(SELECT geom FROM grids WHERE version_id = %d)`, u.vid)
		interior := fmt.Sprintf(`ST_Contains(%s, ST_LineInterpolatePoint(geom, 0.5))`, unitGeom)
		inside := fmt.Sprintf(`class IN (%s) AND geom && %s AND %s`, classes, unitGeom, interior)
		var west, east *int64
		if err := tx.QueryRow(ctx, `WITH e AS (SELECT source, target FROM roads WHERE `+inside+`),
			v AS (SELECT id, geom FROM road_vertices WHERE id IN (SELECT source FROM e UNION SELECT target FROM e))
			SELECT (SELECT id FROM v ORDER BY ST_X(geom), id LIMIT 1), (SELECT id FROM v ORDER BY ST_X(geom) DESC, id LIMIT 1)`).Scan(&west, &east); err != nil {
			return 0, err
		}
		if west == nil || east == nil || *west == *east {
			continue
		}
		// The chain runs on the unit's roads of the two classes, and may use its other roads
		// (three times the cost) and its border (twenty times) to connect; it avoids roads already
		// named where it can (ten times). Only the roads inside the unit take the name.
		weight := fmt.Sprintf(`cost * CASE WHEN class IN (%s) THEN 1 ELSE 3 END * CASE WHEN %s THEN 1 ELSE 20 END * CASE WHEN name = '' THEN 1 ELSE 10 END`, classes, interior)
		edgeSQL := fmt.Sprintf(`SELECT id, source, target, %[1]s AS cost, %[1]s AS reverse_cost FROM roads WHERE geom && %[2]s AND ST_CoveredBy(geom, %[2]s)`, weight, unitGeom)
		tag, err := tx.Exec(ctx, `UPDATE roads SET name = $1 WHERE name = '' AND `+interior+` AND id IN (
			SELECT edge FROM pgr_dijkstra($2, $3::bigint, $4::bigint, false))`, u.road, edgeSQL, *west, *east)
		if err != nil {
			return 0, err
		}
		if tag.RowsAffected() > 0 {
			placed++
		}
	}
	return placed, nil
}

// snapSQL snaps points ($1 lon, $2 lat) onto their nearest edges: the edge, the fraction along
// it, and the distance in metres. Fractions are kept off the very ends: pgRouting 3.4.2's
// pgr_withPoints finds no path from a point at fraction 0 or 1 (a point on a vertex).
const snapSQL = `
SELECT p.i, e.id, least(greatest(ST_LineLocatePoint(e.geom, p.g), 0.000001), 0.999999),
       ST_Distance(e.geom::geography, p.g::geography)
FROM (SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) AS g FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(x, y, i)) p,
LATERAL (SELECT id, geom FROM roads ORDER BY geom <-> p.g LIMIT 1) e
ORDER BY p.i`

type snap struct {
	edge     int64
	fraction float64
	metres   float64
}

func (db *DB) snap(ctx context.Context, pts []orb.Point) ([]snap, error) {
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	rows, err := db.pool.Query(ctx, snapSQL, xs, ys)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := make([]snap, 0, len(pts))
	for rows.Next() {
		var i int64
		var s snap
		if err := rows.Scan(&i, &s.edge, &s.fraction, &s.metres); err != nil {
			return nil, classify(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	if len(out) < len(pts) {
		return nil, gridline.Errorf(gridline.EUnavailable, "there is no road network: import one (kind roads) or load the demo")
	}
	return out, nil
}

// pointsSQL is the points query of pgr_withPoints: point i+1 on its snapped edge. The values are
// numbers this code formats, never text from a request.
func pointsSQL(ss []snap) string {
	var b strings.Builder
	b.WriteString("SELECT pid::bigint, edge_id::bigint, fraction::float8 FROM (VALUES ")
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d, %s)", i+1, s.edge, strconv.FormatFloat(s.fraction, 'g', -1, 64))
	}
	b.WriteString(") AS p(pid, edge_id, fraction)")
	return b.String()
}

// edgesSQL is the edges query of pgr_withPoints, limited to the box around pts expanded by
// margin degrees (0: the whole network): a route rarely leaves it, and reading fewer edges is most
// of a route's time.
func edgesSQL(pts []orb.Point, margin float64) string {
	q := "SELECT id, source, target, cost, cost AS reverse_cost FROM roads"
	if margin <= 0 {
		return q
	}
	b := orb.MultiPoint(pts).Bound().Pad(margin)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return q + " WHERE geom && ST_MakeEnvelope(" + f(b.Min[0]) + ", " + f(b.Min[1]) + ", " + f(b.Max[0]) + ", " + f(b.Max[1]) + ", 4326)"
}

// pathsSQL runs pgr_withPoints from point 1 to the points $3 (negative pids), and returns per end
// point the route's geometry (from point 1, or reversed when $4), its length in metres, its cost
// in seconds and the road names along it. $1 are the edges, $2 the points query; $5/$6/$7 the
// points' pids, edges and fractions again (to cut the partial edges at either end).
const pathsSQL = `
WITH pts AS (
    SELECT * FROM unnest($5::bigint[], $6::bigint[], $7::float8[]) AS p(pid, edge_id, fraction)
), path AS (
    SELECT end_pid, seq, node, edge, agg_cost + cost AS total,
           lead(node) OVER (PARTITION BY end_pid ORDER BY seq) AS next
    FROM pgr_withPoints($1, $2, -1, $3::bigint[], false)
), legs AS (
    SELECT p.end_pid, p.seq, p.total, r.name, r.geom,
           CASE WHEN p.node = r.source THEN 0 WHEN p.node = r.target THEN 1 ELSE (SELECT fraction FROM pts WHERE pid = -p.node) END AS f1,
           CASE WHEN p.next = r.source THEN 0 WHEN p.next = r.target THEN 1 ELSE (SELECT fraction FROM pts WHERE pid = -p.next) END AS f2
    FROM path p JOIN roads r ON r.id = p.edge
), segs AS (
    SELECT end_pid, seq, total, name,
           CASE WHEN f1 <= f2 THEN ST_LineSubstring(geom, f1, f2) ELSE ST_Reverse(ST_LineSubstring(geom, f2, f1)) END AS g
    FROM legs
)
SELECT end_pid,
       ST_AsBinary(ST_RemoveRepeatedPoints(CASE WHEN $4 THEN ST_Reverse(ST_MakeLine(g ORDER BY seq)) ELSE ST_MakeLine(g ORDER BY seq) END)),
       sum(ST_Length(g::geography)), max(total),
       array_agg(name ORDER BY CASE WHEN $4 THEN -seq ELSE seq END)
FROM segs GROUP BY end_pid ORDER BY max(total), end_pid`

type pathRow struct {
	endPid  int64
	line    orb.LineString
	lengthM float64
	seconds float64
	names   []string
}

func (db *DB) paths(ctx context.Context, pts []orb.Point, ss []snap, targets []int64, reverse bool, margin float64) ([]pathRow, error) {
	pids, edges, fracs := make([]int64, len(ss)), make([]int64, len(ss)), make([]float64, len(ss))
	for i, s := range ss {
		pids[i], edges[i], fracs[i] = int64(i+1), s.edge, s.fraction
	}
	rows, err := db.pool.Query(ctx, pathsSQL, edgesSQL(pts, margin), pointsSQL(ss), targets, reverse, pids, edges, fracs)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []pathRow
	for rows.Next() {
		var r pathRow
		var b []byte
		if err := rows.Scan(&r.endPid, &b, &r.lengthM, &r.seconds, &r.names); err != nil {
			return nil, classify(err)
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return nil, err
		}
		switch l := g.(type) {
		case orb.LineString:
			r.line = l
		case orb.Point:
			r.line = orb.LineString{l, l}
		}
		out = append(out, r)
	}
	return out, classify(rows.Err())
}

// routeMargin is how far around the box of its end points a route's edges are read first (in
// degrees): a quarter of the box's longer side, and at least 0.005° (about 500 m). A route not
// found within it is looked for on the whole network. On a grid of streets the fastest route
// rarely strays that far outside the box of its ends; reading a tenth of the edges is most of
// the time saved (docs/decisions.md, routes).
func routeMargin(pts []orb.Point) float64 {
	b := orb.MultiPoint(pts).Bound()
	return max(0.005, 0.25*max(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]))
}

func distinctNames(names []string) []string {
	out := []string{}
	for _, n := range names {
		if n != "" && (len(out) == 0 || out[len(out)-1] != n) {
			out = append(out, n)
		}
	}
	return out
}

// Route is the fastest route on roads from from to to (WGS84), each snapped onto its nearest road.
func (db *DB) Route(ctx context.Context, from, to orb.Point) (*patrol.Route, error) {
	pts := []orb.Point{from, to}
	ss, err := db.snap(ctx, pts)
	if err != nil {
		return nil, err
	}
	var rs []pathRow
	for _, m := range []float64{routeMargin(pts), 0} {
		if rs, err = db.paths(ctx, pts, ss, []int64{-2}, false, m); err != nil || len(rs) > 0 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, gridline.Errorf(gridline.ENotFound, "no route on roads from %g,%g to %g,%g: the roads they are nearest to are not connected", from[0], from[1], to[0], to[1])
	}
	r := rs[0]
	return &patrol.Route{Line: r.line, LengthM: r.lengthM, Seconds: r.seconds, Roads: distinctNames(r.names), SnapFrom: ss[0].metres, SnapTo: ss[1].metres}, nil
}

// RoutesFrom finds the routes on roads between at and each target in one search, and returns the
// n fastest, each drawn from the target to at.
func (db *DB) RoutesFrom(ctx context.Context, at orb.Point, targets []patrol.Target, n int) ([]patrol.TargetRoute, error) {
	pts := make([]orb.Point, 0, len(targets)+1)
	pts = append(pts, at)
	ends := make([]int64, len(targets))
	for i, t := range targets {
		pts = append(pts, t.Point)
		ends[i] = -int64(i + 2)
	}
	ss, err := db.snap(ctx, pts)
	if err != nil {
		return nil, err
	}
	rs, err := db.paths(ctx, pts, ss, ends, true, routeMargin(pts))
	if err != nil {
		return nil, err
	}
	if len(rs) < min(n, len(targets)) {
		if rs, err = db.paths(ctx, pts, ss, ends, true, 0); err != nil {
			return nil, err
		}
	}
	out := []patrol.TargetRoute{}
	for _, r := range rs[:min(n, len(rs))] {
		i := int(-r.endPid) - 1
		out = append(out, patrol.TargetRoute{ID: targets[i-1].ID, Route: patrol.Route{Line: r.line, LengthM: r.lengthM, Seconds: r.seconds,
			Roads: distinctNames(r.names), SnapFrom: ss[i].metres, SnapTo: ss[0].metres}})
	}
	return out, nil
}

// RoadImport says how to read a staged road file: the staging table, the columns holding a road's
// name and class (either may be ""), and whether to write.
type RoadImport struct {
	Table       string
	NameColumn  string
	ClassColumn string
	Apply       bool
}

// RoadReport is what a road import found and (when applied) wrote.
type RoadReport struct {
	Features int            `json:"features"`
	Skipped  int            `json:"skipped"` // features that are no road (no line, or a class that is not one: an OSM line without highway)
	Edges    int            `json:"edges"`
	Vertices int            `json:"vertices"`
	Classes  map[string]int `json:"classes"`
	Applied  bool           `json:"applied"`
}

// roadClassSQL maps a class column's value to main, street or lane (NULL: not a road). It reads
// OSM's highway tag (and Geofabrik's fclass), gridline's own class names and the Chinese road
// grades (快速路, 主干路, 次干路, 支路).
const roadClassSQL = `CASE
    WHEN %[1]s IS NULL OR %[1]s = '' THEN NULL
    WHEN lower(%[1]s) ~ '^(motorway|trunk|primary|secondary)(_link)?$' OR lower(%[1]s) = 'main' OR %[1]s IN ('快速路', '主干路', '主干道', '次干路', '次干道') THEN 'main'
    WHEN lower(%[1]s) ~ '^(tertiary(_link)?|residential|unclassified|living_street|road|street)$' OR %[1]s IN ('支路', '街道', '街巷') THEN 'street'
    WHEN lower(%[1]s) ~ '^(service|pedestrian|footway|path|track|steps|cycleway|lane|alley)$' OR %[1]s IN ('小巷', '胡同', '步行道') THEN 'lane'
    ELSE NULL END`

// ImportRoads replaces the road network with the lines of a staged file, noded in SQL: each line
// is cut into its segments (coordinates snapped to 1e-7°, about a centimetre), and segments meet
// where their end points are equal. Lines that cross without a shared vertex (a bridge) do not
// meet, as in OSM. Without a class column every road is a street; with one, rows whose class is
// not a road are skipped. In one transaction, audited; a dry run (Apply false) writes nothing.
func (db *DB) ImportRoads(ctx context.Context, ri RoadImport) (*RoadReport, error) {
	rep := &RoadReport{Classes: map[string]int{}}
	col := func(c string) string {
		if c == "" {
			return "NULL::text"
		}
		return pgx.Identifier{c}.Sanitize() + "::text"
	}
	class := `'street'`
	if ri.ClassColumn != "" {
		class = fmt.Sprintf(roadClassSQL, col(ri.ClassColumn))
	}
	table := pgx.Identifier{StagingSchema, ri.Table}.Sanitize()
	errDry := fmt.Errorf("dry run")
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&rep.Features); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			CREATE TEMP TABLE road_src ON COMMIT DROP AS
			SELECT coalesce(`+col(ri.NameColumn)+`, '') AS name, `+class+` AS class, geom FROM `+table); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM road_src WHERE class IS NULL OR geom IS NULL OR ST_Dimension(geom) <> 1`).Scan(&rep.Skipped); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			CREATE TEMP TABLE road_seg ON COMMIT DROP AS
			WITH l AS (
			    SELECT name, class, (ST_Dump(ST_SnapToGrid(ST_Force2D(geom), 0.0000001))).geom AS g
			    FROM road_src WHERE class IS NOT NULL AND geom IS NOT NULL AND ST_Dimension(geom) = 1
			), s AS (
			    SELECT name, class, ST_X(ST_StartPoint(d.geom)) AS x1, ST_Y(ST_StartPoint(d.geom)) AS y1,
			           ST_X(ST_EndPoint(d.geom)) AS x2, ST_Y(ST_EndPoint(d.geom)) AS y2
			    FROM l, ST_DumpSegments(l.g) d WHERE GeometryType(l.g) = 'LINESTRING'
			)
			SELECT CASE WHEN (x1, y1) < (x2, y2) THEN x1 ELSE x2 END AS ax, CASE WHEN (x1, y1) < (x2, y2) THEN y1 ELSE y2 END AS ay,
			       CASE WHEN (x1, y1) < (x2, y2) THEN x2 ELSE x1 END AS bx, CASE WHEN (x1, y1) < (x2, y2) THEN y2 ELSE y1 END AS by,
			       (array_agg(class ORDER BY CASE class WHEN 'main' THEN 0 WHEN 'street' THEN 1 ELSE 2 END))[1] AS class,
			       max(name) AS name, false AS synthetic
			FROM s WHERE (x1, y1) <> (x2, y2) GROUP BY 1, 2, 3, 4`); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM roads`, `DELETE FROM road_vertices`} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		for _, q := range nodeSQL {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT class, count(*) FROM roads GROUP BY class`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c string
			var n int
			if err := rows.Scan(&c, &n); err != nil {
				return err
			}
			rep.Classes[c] = n
			rep.Edges += n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM road_vertices`).Scan(&rep.Vertices); err != nil {
			return err
		}
		if rep.Edges == 0 {
			return gridline.Errorf(gridline.EInvalid, "the file holds no roads (lines, whose class is a road when it has a class column such as OSM's highway): nothing was imported")
		}
		if !ri.Apply {
			return errDry
		}
		rep.Applied = true
		return appendAudit(ctx, tx, audit{Action: "roads.import", TargetKind: "road_network",
			After: map[string]any{"edges": rep.Edges, "vertices": rep.Vertices, "classes": rep.Classes, "features": rep.Features}})
	})
	if errors.Is(err, errDry) {
		err = nil
	}
	return rep, err
}
