#!/usr/bin/env bash
# bench/export.sh: export N basic grids (default 100,000, and their districts, subdistricts and
# communities) to every export format with `gridline export`, one after another, and print the
# seconds, the file size and the grids per second of each. Every format must be linear in the
# number of grids (issue #10: KML through LIBKML was quadratic), so run it at two sizes to see the
# ratio: GRIDS=10000 bench/export.sh and bench/export.sh. Needs DATABASE_URL (the server to create
# the benchmark database on) and GDAL. Writes bench/results/export-N.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
N=${GRIDS:-100000}
DB=${BENCH_DB:-gridline_bench_export}
out=bench/results/export-$N.md
mkdir -p bench/results bin
tmp=$(mktemp -d)
dburl() { echo "$DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }
cleanup() {
  rm -rf "$tmp"
  psql -X -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
}
trap cleanup EXIT
go build -o bin/gridline ./cmd/gridline
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL=$(dburl "$DB")
DATABASE_URL=$URL bin/gridline demo --grids "$N" >"$tmp/demo.log"
now() { date +%s.%N; }
{
  echo "# Export of $N basic grids ($(sed -E 's/^demo: ([0-9]+) grids.*/\1/' "$tmp/demo.log") grid versions in all) to every format"
  echo
  echo "$(date -u +%FT%RZ), commit $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| format | seconds | grid versions/s | file bytes |"
  echo "|---|---|---|---|"
  for f in geojson shapefile gpkg csv kml fgb; do
    t0=$(now)
    DATABASE_URL=$URL bin/gridline export --format "$f" -o "$tmp/out.$f" >"$tmp/$f.log"
    t1=$(now)
    n=$(sed -E 's/^exported ([0-9]+) grids.*/\1/' "$tmp/$f.log")
    s=$(echo "$t1 - $t0" | bc -l)
    printf '| %s | %.2f | %.0f | %s |\n' "$f" "$s" "$(echo "$n / $s" | bc -l)" "$(stat -c %s "$tmp/out.$f")"
  done
} | tee "$out"
