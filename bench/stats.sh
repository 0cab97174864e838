#!/usr/bin/env bash
# bench/stats.sh: the figures (issue #16): GET /v1/stats for a few groups and GET /v1/stats/brief
# through the whole server (authentication, the SQL, JSON) on the demo district with its demo
# month of cases (serve --demo-if-empty loads DEMO_CASES of them, ending now). It creates and drops
# its own database (BENCH_DB, default gridline_statsbench). Needs DATABASE_URL and bin/gridline
# (make bench builds it). Each request is made RUNS times one after another; the table gives the
# median, the 95th percentile and the slowest, in ms. Writes bench/results/stats.md.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
runs=${RUNS:-20}
port=${PORT:-18190}
mkdir -p bench/results
out=bench/results/stats.md
tmp=$(mktemp -d)
pid=
bench_db=${BENCH_DB:-gridline_statsbench}
dburl() { echo "$DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  psql_admin -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
psql_admin -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" -c "CREATE DATABASE $bench_db"
if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then echo "port $port is in use" >&2; exit 1; fi
DATABASE_URL=$(dburl "$bench_db") GRIDLINE_TZ=Asia/Shanghai bin/gridline serve --addr "127.0.0.1:$port" --demo-if-empty \
  --demo-cases "${DEMO_CASES:-500}" >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$tmp/serve.log" >&2; exit 1; fi
  sleep 0.2
done
token=$(grep -A1 "admin API token" "$tmp/serve.log" | tail -1 | tr -d ' ')
[ -n "$token" ] || { echo "no admin token in the server's log" >&2; cat "$tmp/serve.log" >&2; exit 1; }
cases=$(psql -X -At "$(dburl "$bench_db")" -c "SELECT count(*) FROM cases")
events=$(psql -X -At "$(dburl "$bench_db")" -c "SELECT count(*) FROM case_events")
# the demo month ends now: its last whole calendar month, and the 30 days ending today
month=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-01) -1 day" +%Y-%m)
to=$(TZ=Asia/Shanghai date +%Y-%m-%d)
from=$(TZ=Asia/Shanghai date -d "$to -29 days" +%Y-%m-%d)

# measure NAME PATH: RUNS requests; median, p95, max in ms, and the answer's size.
measure() {
  local name=$1 path=$2
  local f="$tmp/times"
  : >"$f"
  for _ in $(seq 1 "$runs"); do
    curl -s -o "$tmp/body" -w "%{http_code} %{time_total}\n" -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" >>"$f"
  done
  if grep -qv '^200 ' "$f"; then echo "$name: not 200:" >&2; cat "$tmp/body" >&2; exit 1; fi
  awk '{print $2*1000}' "$f" | sort -n | awk -v name="$name" -v path="$path" -v size="$(wc -c <"$tmp/body")" '
    {a[NR]=$1} END {p95=a[int(NR*0.95+0.999)]; printf "| %s | `%s` | %.0f | %.0f | %.0f | %d |\n", name, path, a[int((NR+1)/2)], p95, a[NR], size}'
}

{
  echo "## Statistics ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none))"
  echo
  echo "machine: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg); demo district, $cases cases, $events events; $runs runs each"
  echo
  echo "| request | path | median ms | p95 ms | max ms | bytes |"
  echo "|---|---|---|---|---|---|"
  measure "grid, month" "/v1/stats?group=grid&month=$month"
  measure "community, 30 days" "/v1/stats?group=community&from=$from&to=$to"
  measure "subdistrict by day" "/v1/stats?group=subdistrict&from=$from&to=$to&bucket=day"
  measure "department, month" "/v1/stats?group=department&month=$month"
  measure "worker, month" "/v1/stats?group=worker&month=$month"
  measure "grid, month, CSV" "/v1/stats?group=grid&month=$month&format=csv"
  measure "brief, month" "/v1/stats/brief?month=$month"
  echo
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
