package store

import (
	"context"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// The PostGIS computations the demo district (demo.Erqi) is built with. Nothing is read or
// written: the queries only compute geometry from their arguments. Geometries go in and out as
// WKB (ST_GeomFromWKB / ST_AsBinary), because pgx asks for the text format of geometry columns.

// facesSQL cuts the district into the faces of the Voronoi diagram of the seeds.
//
// $1 is the outline (WKB, EPSG:4326), $2 and $3 the seeds' longitudes and latitudes. The Voronoi
// edges and the outline's boundary are noded together in one ST_UnaryUnion, so every vertex where an
// edge meets the outline is computed once and shared by the faces on both sides; ST_Polygonize then
// turns the noded linework into faces. Faces outside the outline (between it and the diagram's
// frame) are dropped by testing a point inside each face. The point is returned too: the caller gives
// each face to the seed nearest that point, which is the Voronoi cell the face lies in.
//
// The diagram is built in plain lon/lat (as every planar PostGIS function is): cells are a little
// narrower east-west than in metres, which only shifts where borders fall.
const facesSQL = `
WITH outline AS (
    SELECT ST_GeomFromWKB($1, 4326) AS g
), seeds AS (
    SELECT ST_Collect(ST_SetSRID(ST_MakePoint(s.x, s.y), 4326)) AS pts
    FROM unnest($2::float8[], $3::float8[]) AS s(x, y)
), linework AS (
    SELECT ST_UnaryUnion(ST_Collect(
               ST_VoronoiLines(seeds.pts, 0, ST_Expand(outline.g, 0.01)),
               ST_Boundary(outline.g))) AS l
    FROM seeds, outline
), faces AS (
    SELECT (ST_Dump(ST_Polygonize(l))).geom AS f FROM linework
)
SELECT ST_AsBinary(faces.f), ST_X(p.p), ST_Y(p.p)
FROM faces, outline, LATERAL (SELECT ST_PointOnSurface(faces.f) AS p) AS p
WHERE ST_Contains(outline.g, p.p)`

// unionSQL builds every grid of the comprehensive layer from the faces, bottom up, and returns each
// with its validity.
//
// $1 are the faces (WKB) and $2 the micro grid each belongs to; $3/$4 map micro grids to basic
// grids, $5/$6 basic grids to communities, $7/$8 communities to subdistricts. Each level is the union
// of the level below, so a parent is exactly the union of its children. Unioning faces whose shared
// edges are identical adds no vertex and moves none, so the borders between siblings stay identical
// at every level. Level 0 is the district (id 0), 1 subdistricts, 2 communities, 3 basic, 4 micro.
const unionSQL = `
WITH face AS (
    SELECT ST_GeomFromWKB(u.w, 4326) AS g, u.id FROM unnest($1::bytea[], $2::int[]) AS u(w, id)
), micro AS (
    SELECT id, ST_Union(g) AS g FROM face GROUP BY id
), basic AS (
    SELECT m.parent AS id, ST_Union(micro.g) AS g
    FROM micro JOIN unnest($3::int[], $4::int[]) AS m(id, parent) USING (id) GROUP BY m.parent
), community AS (
    SELECT m.parent AS id, ST_Union(basic.g) AS g
    FROM basic JOIN unnest($5::int[], $6::int[]) AS m(id, parent) USING (id) GROUP BY m.parent
), subdistrict AS (
    SELECT m.parent AS id, ST_Union(community.g) AS g
    FROM community JOIN unnest($7::int[], $8::int[]) AS m(id, parent) USING (id) GROUP BY m.parent
), district AS (
    SELECT 0 AS id, ST_Union(g) AS g FROM subdistrict
), everything AS (
              SELECT 0 AS level, id, g FROM district
    UNION ALL SELECT 1, id, g FROM subdistrict
    UNION ALL SELECT 2, id, g FROM community
    UNION ALL SELECT 3, id, g FROM basic
    UNION ALL SELECT 4, id, g FROM micro
)
SELECT level, id, ST_AsBinary(ST_Multi(g)), ST_IsValid(g), GeometryType(ST_Multi(g))
FROM everything ORDER BY level, id`

// groupUnionSQL unions faces into groups ($1 faces as WKB, $2 the group of each): the police grids.
const groupUnionSQL = `
SELECT id, ST_AsBinary(ST_Multi(g)), ST_IsValid(g), GeometryType(ST_Multi(g))
FROM (
    SELECT u.id, ST_Union(ST_GeomFromWKB(u.w, 4326)) AS g
    FROM unnest($1::bytea[], $2::int[]) AS u(w, id)
    GROUP BY u.id
) AS grouped
ORDER BY id`

// VoronoiFaces cuts outline into the faces of the Voronoi diagram of seeds (see facesSQL), and
// returns each face with a point inside it, in the order GEOS built them.
func (db *DB) VoronoiFaces(ctx context.Context, outline orb.MultiPolygon, seeds []orb.Point) ([]orb.Polygon, []orb.Point, error) {
	ow, err := wkb.Marshal(outline)
	if err != nil {
		return nil, nil, fmt.Errorf("encode outline: %w", err)
	}
	xs, ys := make([]float64, len(seeds)), make([]float64, len(seeds))
	for i, s := range seeds {
		xs[i], ys[i] = s[0], s[1]
	}
	rows, err := db.pool.Query(ctx, facesSQL, ow, xs, ys)
	if err != nil {
		return nil, nil, classify(err)
	}
	defer rows.Close()
	var faces []orb.Polygon
	var inside []orb.Point
	for rows.Next() {
		var w []byte
		var p orb.Point
		if err := rows.Scan(&w, &p[0], &p[1]); err != nil {
			return nil, nil, fmt.Errorf("read voronoi face: %w", classify(err))
		}
		g, err := wkb.Unmarshal(w)
		if err != nil {
			return nil, nil, fmt.Errorf("decode voronoi face: %w", err)
		}
		poly, ok := g.(orb.Polygon)
		if !ok {
			return nil, nil, fmt.Errorf("voronoi face is a %s, want a Polygon", g.GeoJSONType())
		}
		faces, inside = append(faces, poly), append(inside, p)
	}
	return faces, inside, classify(rows.Err())
}

// UnionLevels unions faces bottom up through the four levels below a district (see unionSQL):
// owner[i] is the micro grid (level 4) of faces[i], and children[k] with parents[k] pair the
// groups of level 4-k with their parents at level 3-k. It calls each with every union, level 0
// (the district, id 0) first, then by level and id. A union that is not a valid MultiPolygon is an
// error.
func (db *DB) UnionLevels(ctx context.Context, faces []orb.Polygon, owner []int32, children, parents [3][]int32, each func(level, id int, g orb.MultiPolygon)) error {
	ws := make([][]byte, len(faces))
	for i, f := range faces {
		var err error
		if ws[i], err = wkb.Marshal(f); err != nil {
			return fmt.Errorf("encode face: %w", err)
		}
	}
	rows, err := db.pool.Query(ctx, unionSQL, ws, owner, children[0], parents[0], children[1], parents[1], children[2], parents[2])
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var level, id int
		var w []byte
		var valid bool
		var typ string
		if err := rows.Scan(&level, &id, &w, &valid, &typ); err != nil {
			return fmt.Errorf("read union: %w", classify(err))
		}
		mp, err := validUnion(w, valid, typ)
		if err != nil {
			return fmt.Errorf("union of level %d group %d: %w", level, id, err)
		}
		each(level, id, mp)
	}
	return classify(rows.Err())
}

// UnionGroups unions polys by group (group[i] is the group of polys[i]; see groupUnionSQL) and
// calls each with every group's union in order of group. A union that is not a valid
// MultiPolygon is an error.
func (db *DB) UnionGroups(ctx context.Context, polys []orb.MultiPolygon, group []int32, each func(id int, g orb.MultiPolygon)) error {
	ws := make([][]byte, len(polys))
	for i, p := range polys {
		var err error
		if ws[i], err = wkb.Marshal(p); err != nil {
			return fmt.Errorf("encode polygon: %w", err)
		}
	}
	rows, err := db.pool.Query(ctx, groupUnionSQL, ws, group)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var w []byte
		var valid bool
		var typ string
		if err := rows.Scan(&id, &w, &valid, &typ); err != nil {
			return fmt.Errorf("read union: %w", classify(err))
		}
		mp, err := validUnion(w, valid, typ)
		if err != nil {
			return fmt.Errorf("union of group %d: %w", id, err)
		}
		each(id, mp)
	}
	return classify(rows.Err())
}

// validUnion decodes a union's WKB, which must be a valid MultiPolygon.
func validUnion(w []byte, valid bool, typ string) (orb.MultiPolygon, error) {
	if !valid || typ != "MULTIPOLYGON" {
		return nil, fmt.Errorf("it is a %s, valid %v: want a valid MULTIPOLYGON", typ, valid)
	}
	return decodeMultiPolygon(w)
}
