#!/usr/bin/env bash
# bench/run.sh: every performance target of the resolution issue, measured side by side in one run.
# Needs DATABASE_URL (the server to create benchmark databases on) and bin/gridline (make bench does
# both). Writes bench/results/resolve.md and prints it. See BENCHMARKS.md for the figures and machine.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
out=bench/results/resolve.md
mkdir -p bench/results
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

dburl() { echo "$DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
# BENCH_DB names the benchmark's own database (dropped and created again here): give each
# concurrent run on a shared server its own.
bench_db=${BENCH_DB:-gridline_bench}
psql_admin -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" -c "CREATE DATABASE $bench_db"
BENCH_URL=$(dburl $bench_db)

# start_program PORT COMMAND...: run a server of the benchmark database in the background.
start_program() {
  local port=$1; shift
  # A server already on the port (another run on a shared machine) would be measured instead.
  if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then echo "port $port is in use" >&2; exit 1; fi
  DATABASE_URL=$BENCH_URL "$@" >"$tmp/serve-$port.log" 2>&1 &
  pids+=($!)
  echo $! >"$tmp/pid-$port"
}
# start_server PORT ARGS...: run gridline serve in the background (wait_ready waits until it answers).
start_server() { local port=$1; shift; start_program "$port" bin/gridline serve --addr "127.0.0.1:$port" "$@"; }
# start_postgis PORT: the same endpoint answered with an ST_Covers query per request
# (bench/postgisresolve: gridline's resolver and answer, PostGIS's lookup).
go build -o "$tmp/postgisresolve" ./bench/postgisresolve
start_postgis() { start_program "$1" "$tmp/postgisresolve" --addr "127.0.0.1:$1"; }
wait_ready() {
  local port=$1
  for _ in $(seq 1 3000); do
    if curl -sf "http://127.0.0.1:$port/v1/resolve?lon=113.6&lat=34.7" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "server on $port did not start:" >&2; cat "$tmp/serve-$port.log" >&2; exit 1
}
stop_server() { kill "$(cat "$tmp/pid-$1")" 2>/dev/null || true; wait "$(cat "$tmp/pid-$1")" 2>/dev/null || true; }

{
echo "## Resolution ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none))"
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(go version | cut -d' ' -f3); $(psql -X -q -tA "$BENCH_URL" -c 'CREATE EXTENSION IF NOT EXISTS postgis' -c 'SELECT postgis_lib_version()' | sed 's/^/PostGIS /')"
echo

# 1. From an empty database to the first answer: what `make run` does after its set-up
#    (migrations, building and loading the demo district, building the index, serving).
t0=$(date +%s.%N)
start_server 18081 --demo-if-empty
wait_ready 18081
t1=$(date +%s.%N)
echo "### From an empty database to the first answer"
echo
echo "\`bin/gridline serve --demo-if-empty\` on an empty database until the first \`GET /v1/resolve\` answers: **$(echo "$t1 - $t0" | bc | xargs printf '%.1f') s**"
grep -h 'demo:' "$tmp/serve-18081.log" | sed 's/^/    /' || true
echo

# 2. In-process lookups against PostGIS queries on the same points.
echo "### In-process lookups and PostGIS on the same points"
echo
echo "\`go run ./bench/resolvebench\`"
echo
go run ./bench/resolvebench -db "$BENCH_URL"
echo

# 3. HTTP over loopback, load generator included, index against PostGIS per request.
bbox=$(psql -X -tA "$BENCH_URL" -c "SELECT concat_ws(',', ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)) FROM (SELECT ST_Extent(geom) e FROM grids WHERE level='district') q")
export BENCH_BBOX=$bbox
psql -X -tA -F' ' "$BENCH_URL" -c "SELECT round(ST_X(p)::numeric, 6), round(ST_Y(p)::numeric, 6) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 20000, 5))).geom p FROM grids WHERE level = 'district') q" >"$tmp/inside.txt"
wrk_run() { # port label points-file [connections, default 32]
  BENCH_POINTS=$3 wrk -t1 -c"${4:-32}" -d15s --latency -s bench/resolve.lua "http://127.0.0.1:$1" >"$tmp/wrk-$1.txt" 2>&1
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk-$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/wrk-$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk-$1.txt")
  errs=$(grep -E 'Non-2xx|Socket errors' "$tmp/wrk-$1.txt" | tr '\n' ' ' || true)
  echo "| $2 | $rps | $p50 | $p99 | ${errs:-none} |"
  echo "$rps" >"$tmp/rps-$1-$(basename "${3:-bbox}")-c${4:-32}"
}
echo "### HTTP: GET /v1/resolve over loopback"
echo
echo "\`wrk -t1 -c32 -d15s --latency -s bench/resolve.lua\` (and the same with \`-c16\`: 16 connections instead of 32), wrk on the same 2 cores, each request a different point: either 20,000 random points inside the district (\`ST_GeneratePoints\`: what reports look like), or random points in the district's bounding box ($bbox), of which about 47% fall outside and get the nearest grid instead."
echo
echo "Load average (1, 5, 15 min) before the HTTP runs, other work on the machine included: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| engine, points, connections | requests/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|"
wrk_run 18081 "in-memory index, inside the district, -c32" "$tmp/inside.txt"
wrk_run 18081 "in-memory index, bounding box, -c32" ""
wrk_run 18081 "in-memory index, inside the district, -c16" "$tmp/inside.txt" 16
wrk_run 18081 "in-memory index, bounding box, -c16" "" 16
stop_server 18081
# The same server with one P, so that wrk (on the same 2 cores) has a core of its own: a
# closer model of a load generator on another machine.
GOMAXPROCS=1 start_server 18084
wait_ready 18084
wrk_run 18084 "in-memory index, GOMAXPROCS=1 (wrk keeps a core), inside the district, -c32" "$tmp/inside.txt"
stop_server 18084
start_postgis 18082
wait_ready 18082
wrk_run 18082 "PostGIS ST_Covers per request, inside the district, -c32" "$tmp/inside.txt"
wrk_run 18082 "PostGIS ST_Covers per request, bounding box, -c32" ""
wrk_run 18082 "PostGIS ST_Covers per request, inside the district, -c16" "$tmp/inside.txt" 16
stop_server 18082
echo
ratio() { echo "scale=1; $(cat "$tmp/rps-18081-$1") / $(cat "$tmp/rps-18082-$1")" | bc; }
echo "Ratio index / PostGIS: inside the district **$(ratio inside.txt-c32)×** (-c16: **$(ratio inside.txt-c16)×**), bounding box **$(ratio bbox-c32)×**"
echo

# 4. POST /v1/resolve with a million points, end to end, and the server's peak memory.
awk -v bb="$bbox" 'BEGIN { split(bb, b, ","); srand(3); print "id,lon,lat";
  for (i = 1; i <= 1000000; i++) printf "p%d,%.6f,%.6f\n", i, b[1] + rand() * (b[3] - b[1]), b[2] + rand() * (b[4] - b[2]) }' >"$tmp/points.csv"
start_server 18083
wait_ready 18083
pid=$(cat "$tmp/pid-18083")
rss0=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "### POST /v1/resolve with 1,000,000 points"
echo
echo "| input → output | time end to end | output | server peak RSS (before → after) |"
echo "|---|---|---|---|"
for acc in application/x-ndjson text/csv; do
  s=$(curl -s -o "$tmp/out" -w '%{time_total}' -H 'Content-Type: text/csv' -H "Accept: $acc" --data-binary @"$tmp/points.csv" http://127.0.0.1:18083/v1/resolve)
  lines=$(wc -l <"$tmp/out")
  rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  echo "| CSV ($(du -m "$tmp/points.csv" | cut -f1) MB) → $acc | **$(printf '%.2f' "$s") s** | $lines lines, $(du -m "$tmp/out" | cut -f1) MB | $((rss0/1024)) MB → **$((rss/1024)) MB** |"
done
stop_server 18083
echo
} | tee "$out"
