#!/usr/bin/env bash
# bench/stream.sh: the live stream (#15) end to end: 1,000 readers of GET /v1/cases/stream on one
# server; cases reported one after another through the dispatch engine's intake from a second
# process (as another server would: routing, the durable commit, NOTIFY); each change's delivery
# time at every reader measured from the moment its report began (bench/streambench --db).
# Needs DATABASE_URL and bin/gridline (make bench does both). Writes bench/results/stream.md.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
out=bench/results/stream.md
mkdir -p bench/results
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
dburl() { echo "$DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }
db=${BENCH_DB:-gridline_bench_stream}
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
port=18095
ulimit -n 8192 2>/dev/null || true
DATABASE_URL=$(dburl "$db") bin/gridline serve --addr 127.0.0.1:$port --demo-if-empty >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done
token=$(grep -A1 'admin API token' "$tmp/serve.log" | tail -1 | tr -d ' ')
readers=${READERS:-1000}
changes=${CHANGES:-50}
{
echo "## Live stream ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none))"
echo
echo "$readers readers of \`GET /v1/cases/stream\` (one process, \`go run ./bench/streambench\`), $changes cases reported 200 ms apart through the dispatch intake of a second process, on the same 2 cores as the server and PostgreSQL; load average before: $(cut -d' ' -f1-3 /proc/loadavg). Latency from the start of each report (routing and commit included) to the event's arrival at each reader."
echo
echo '```'
go run ./bench/streambench --url "http://127.0.0.1:$port" --token "$token" --readers "$readers" --changes "$changes" --db "$(dburl "$db")"
echo '```'
} | tee "$out"
