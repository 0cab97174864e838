#!/usr/bin/env bash
# bench/import.sh: import 100,000 basic grids from a Shapefile and from a GeoPackage with
# `gridline import --apply` (every check included: geometry, hierarchy by parent code, containment
# in the parent), side by side in the same run with plain ogr2ogr of the same file into PostGIS,
# and export of the same grids to GeoPackage. The input is `gridline demo --grids N` exported by
# gridline's own exporter. Needs DATABASE_URL (the server to create benchmark databases on),
# GDAL's ogr2ogr and psql. Writes bench/results/import.md and prints it.
#
#   DATABASE_URL=postgres://... bench/import.sh          # GRIDS=10000 bench/import.sh for a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
N=${GRIDS:-100000}
out=bench/results/import.md
mkdir -p bench/results bin
tmp=$(mktemp -d)
cleanup() {
  rm -rf "$tmp"
  for d in gridline_bench_src gridline_bench_plain gridline_bench_dst; do
    psql -X -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" 2>/dev/null || true
  done
}
trap cleanup EXIT
go build -o bin/gridline ./cmd/gridline

dburl() { echo "$DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }
# conninfo DB: the keyword form for plain ogr2ogr, whose PG driver mangles some URIs.
conninfo() { psql -X -At "$(dburl "$1")" -c "SELECT format('dbname=%s host=%s port=%s user=%s', current_database(), coalesce(host(inet_server_addr()), 'localhost'), current_setting('port'), current_user)"; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
fresh_db() { psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }
gl() { local url=$1; shift; DATABASE_URL=$url bin/gridline "$@"; }

SRC=$(dburl gridline_bench_src)
fresh_db gridline_bench_src
t0=$(now); gl "$SRC" demo --grids "$N" >"$tmp/demo.log"; t1=$(now)
AT=$(date +%F)
# The levels above the basic grids, imported first (untimed) so that every grid finds its parent.
gl "$SRC" export --format gpkg --level district --at "$AT" -o "$tmp/district.gpkg" >/dev/null
gl "$SRC" export --format gpkg --level subdistrict --at "$AT" -o "$tmp/subdistrict.gpkg" >/dev/null
gl "$SRC" export --format gpkg --level community --at "$AT" -o "$tmp/community.gpkg" >/dev/null
gl "$SRC" export --format shapefile --level grid --layer comprehensive --at "$AT" -o "$tmp/grids.zip" >/dev/null
(cd "$tmp" && mkdir shp && cd shp && unzip -q ../grids.zip)
SHP=$(ls "$tmp"/shp/*.shp)
e0=$(now); gl "$SRC" export --format gpkg --level grid --layer comprehensive --at "$AT" -o "$tmp/grids.gpkg" >"$tmp/export.log"; e1=$(now)
count=$(ogrinfo -ro -so -al "$tmp/grids.gpkg" | sed -n 's/^Feature Count: //p')

declare -A T
for fmt in shp gpkg; do
  file=$SHP; [ "$fmt" = gpkg ] && file=$tmp/grids.gpkg
  # Plain ogr2ogr: the same file into PostGIS, reprojected to 4326, multipolygons, with its spatial index.
  PLAIN=$(dburl gridline_bench_plain)
  fresh_db gridline_bench_plain
  psql -X -q "$PLAIN" -c "CREATE EXTENSION postgis"
  p0=$(now)
  ogr2ogr -f PostgreSQL "PG:$(conninfo gridline_bench_plain)" "$file" -nln grids -lco GEOMETRY_NAME=geom -nlt PROMOTE_TO_MULTI -t_srs EPSG:4326 -gt 65536
  p1=$(now)
  DST=$(dburl gridline_bench_dst)
  fresh_db gridline_bench_dst
  for lv in district subdistrict community; do
    gl "$DST" import --apply --from "$AT" "$tmp/$lv.gpkg" >/dev/null
  done
  g0=$(now)
  gl "$DST" import --json --apply --from "$AT" "$file" >"$tmp/import-$fmt.json"
  g1=$(now)
  # The same file again: nothing to change (idempotence), timed too.
  r0=$(now)
  gl "$DST" import --apply --from "$AT" "$file" >"$tmp/reimport-$fmt.log"
  r1=$(now)
  # The floor the table itself sets: the same rows, already typed and checked, inserted into a
  # copy of grids with its indexes and constraints (what any write of them into the store costs).
  f0=$(now)
  psql -X -q -v ON_ERROR_STOP=1 "$DST" -c "CREATE TABLE grids_floor (LIKE grids INCLUDING ALL)" \
    -c "INSERT INTO grids_floor SELECT * FROM grids WHERE level = 'grid'" -c "DROP TABLE grids_floor" >/dev/null
  f1=$(now)
  T[$fmt.floor]=$(secs "$f0" "$f1")
  T[$fmt.timings]=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%d added, %d problems; steps: " % (r["added"], r["problem_count"]) + ", ".join("%s %.0f ms" % (t["step"], t["ms"]) for t in r.get("timings") or []))' "$tmp/import-$fmt.json")
  T[$fmt.plain]=$(secs "$p0" "$p1"); T[$fmt.gridline]=$(secs "$g0" "$g1"); T[$fmt.again]=$(secs "$r0" "$r1")
  T[$fmt.ratio]=$(echo "${T[$fmt.gridline]} / ${T[$fmt.plain]}" | bc -l | xargs printf '%.2f')
  T[$fmt.again.summary]=$(sed -n 2p "$tmp/reimport-$fmt.log")
done

{
echo "## Import and export ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none))"
echo
echo "$count basic grids from \`gridline demo --grids $N\` (built and loaded in $(secs "$t0" "$t1")s), $(nproc) CPUs, $(ogr2ogr --version)."
echo
echo "| file | plain ogr2ogr → PostGIS | gridline import --apply (checks included) | ratio | the same file again | the rows alone into a copy of grids |"
echo "|---|---|---|---|---|---|"
echo "| Shapefile | ${T[shp.plain]} s | ${T[shp.gridline]} s | ${T[shp.ratio]}x | ${T[shp.again]} s | ${T[shp.floor]} s |"
echo "| GeoPackage | ${T[gpkg.plain]} s | ${T[gpkg.gridline]} s | ${T[gpkg.ratio]}x | ${T[gpkg.again]} s | ${T[gpkg.floor]} s |"
echo
echo "The timed imports, from their reports (--json):"
echo
echo "- Shapefile: ${T[shp.timings]}"
echo "- GeoPackage: ${T[gpkg.timings]}"
echo
echo "Export of the same $count grids to GeoPackage (\`gridline export --format gpkg --level grid\`): $(secs "$e0" "$e1") s."
echo
echo "- the Shapefile again: ${T[shp.again.summary]}"
} | tee "$out"
