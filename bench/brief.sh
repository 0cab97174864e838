#!/usr/bin/env bash
# bench/brief.sh: the monthly brief of the statistics (issue #16) end to end, through the whole
# server on the demo district with its month of demo cases (serve --demo-if-empty: 500 synthetic
# cases over the 30 days to now): GET /v1/stats/brief (the JSON), /v1/stats/brief.html and
# /v1/stats/brief.pdf (printed by the kept-warm headless Chromium, package printpdf) for the last
# whole month, each RUNS times with curl; the first PDF (which starts Chromium) apart. Target: the
# brief under 2 s. Needs DATABASE_URL and bin/gridline (make bench does both), Chromium.
# Writes bench/results/brief.md. About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
out=bench/results/brief.md
mkdir -p bench/results
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
dburl() { echo "$DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }
db=${BENCH_DB:-gridline_bench_brief}
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
port=18096
DATABASE_URL=$(dburl "$db") bin/gridline serve --addr 127.0.0.1:$port --demo-if-empty >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done
token=$(grep -A1 'admin API token' "$tmp/serve.log" | tail -1 | tr -d ' ')
runs=${RUNS:-10}
month=${MONTH:-$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)}
base="http://127.0.0.1:$port/v1/stats"
# timed GET: prints seconds; fails unless 200.
timed() {
  local code t
  read -r code t < <(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $token" "$1")
  [ "$code" = 200 ] || { echo "GET $1: $code $(head -c 300 "$tmp/body")" >&2; exit 1; }
  echo "$t"
}
summary() { sort -n | awk '{a[NR]=$1} END {printf "median %.3f s, p90 %.3f s, max %.3f s (%d runs)", a[int((NR+1)/2)], a[int(NR*0.9+0.999)], a[NR], NR}'; }
first=$(timed "$base/brief.pdf?month=$month")
pages=$(pdfinfo "$tmp/body" 2>/dev/null | awk '/^Pages:/ {print $2}' || echo "?")
size=$(stat -c %s "$tmp/body")
json=$(for _ in $(seq "$runs"); do timed "$base/brief?month=$month"; done | summary)
cases=$(curl -s -H "Authorization: Bearer $token" "$base/brief?month=$month" | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["total"]["reported"], b["scope"]["name"])')
html=$(for _ in $(seq "$runs"); do timed "$base/brief.html?month=$month"; done | summary)
hsize=$(stat -c %s "$tmp/body")
pdf=$(for _ in $(seq "$runs"); do timed "$base/brief.pdf?month=$month"; done | summary)
{
echo "## Monthly brief ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none))"
echo
echo "The demo district ($cases; month $month: ${cases%% *} cases reported), \`serve --demo-if-empty\`, curl end to end on the same $(nproc) cores as the server, PostgreSQL and Chromium; load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| request | time |"
echo "|---|---|"
echo "| \`GET /v1/stats/brief\` (JSON) | $json |"
echo "| \`GET /v1/stats/brief.html\` ($((hsize / 1024)) KiB, charts inlined) | $html |"
echo "| \`GET /v1/stats/brief.pdf\`, first (starts Chromium) | $(printf '%.3f' "$first") s ($pages page, $((size / 1024)) KiB) |"
echo "| \`GET /v1/stats/brief.pdf\`, warm browser | $pdf |"
} | tee "$out"
