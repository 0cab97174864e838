package demo

// The SQL Erqi sends, kept in one place. Nothing is written: both queries only compute geometry
// from their arguments. Geometries go in and out as WKB (ST_GeomFromWKB / ST_AsBinary), because pgx
// asks for the text format of geometry columns.

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
