#!/usr/bin/env bash
# bench/tiles.sh: vector tiles side by side on the same table and tile list: gridline (uncached and
# cached), tegola v0.21.2 (mvt_postgis) and the plain ST_AsMVT query; on the demo district and on a
# synthetic region of 100,000 basic grids. tegola is built from the Go module proxy in a temporary
# module outside the repository (nothing of it is committed); without it the tegola rows are left out.
# Needs DATABASE_URL and bin/gridline (make bench). Writes bench/results/tiles.md.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
out=bench/results/tiles.md
mkdir -p bench/results
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
dburl() { echo "$DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }

# tegola, built once per machine into .gridline/tegola (outside git).
tegola=.gridline/tegola/tegola
if [ ! -x "$tegola" ]; then
  mkdir -p .gridline/tegola/src
  (cd .gridline/tegola/src &&
    printf 'module tegolabench\n\ngo 1.26\n\nrequire github.com/go-spatial/tegola v0.21.2\n' >go.mod &&
    printf '//go:build tools\n\npackage main\n\nimport _ "github.com/go-spatial/tegola/cmd/tegola"\n' >tools.go &&
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod go build -o ../tegola github.com/go-spatial/tegola/cmd/tegola) >"$tmp/tegola-build.log" 2>&1 ||
    { echo "tiles.sh: could not build tegola (see below); its rows are left out" >&2; tail -5 "$tmp/tegola-build.log" >&2; }
fi

# meanbytes PATHS ENCODING: mean body bytes of the cached server's answers to the paths.
meanbytes() {
  awk '{print "url = \"http://127.0.0.1:18092" $0 "\"\noutput = \"/dev/null\""}' "$1" >"$tmp/curl.cfg"
  curl -s -K "$tmp/curl.cfg" -H "Accept-Encoding: $2" -w '%{size_download}\n' | awk '{t += $1; n++} END {printf "%.0f", t / n}'
}

wait_up() { for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }

bench_set() { # db-name label demo-args...
  # The databases are tiles.sh's own (gridline_tiles_*): bench/run.sh drops and recreates
  # gridline_bench and bench/import.sh gridline_bench_{src,plain,dst}, so sharing a name would
  # have one script destroy the other's data. Built once, reused while they hold grids.
  local db=$1 label=$2; shift 2
  local url; url=$(dburl "$db")
  if ! psql -X -tA "$url" -c "SELECT 1 FROM grids LIMIT 1" 2>/dev/null | grep -q 1; then
    psql -X -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    DATABASE_URL=$url bin/gridline demo "$@" >&2
  fi
  DATABASE_URL=$url bin/gridline serve --addr 127.0.0.1:18091 --tile-cache-mb 0 >"$tmp/u.log" 2>&1 & pids+=($!); local pu=$!
  DATABASE_URL=$url bin/gridline serve --addr 127.0.0.1:18092 --tile-cache-mb 512 >"$tmp/c.log" 2>&1 & pids+=($!); local pc=$!
  local targs=()
  if [ -x "$tegola" ]; then
    DATABASE_URL=$url bin/gridline tegola-config --port :18093 >"$tmp/tegola.toml"
    "$tegola" serve --config "$tmp/tegola.toml" >"$tmp/tegola.log" 2>&1 & pids+=($!); local pt=$!
    wait_up http://127.0.0.1:18093/capabilities && targs=(-tegola http://127.0.0.1:18093)
  fi
  wait_up http://127.0.0.1:18091/healthz; wait_up http://127.0.0.1:18092/healthz
  go run ./bench/tilebench -db "$url" -label "$label" -gridline-uncached http://127.0.0.1:18091 -gridline-cached http://127.0.0.1:18092 "${targs[@]}"
  # Where the bytes go, engine by engine (uncompressed, same tile lists).
  go run ./bench/tilebench -db "$url" -breakdown -gridline-uncached http://127.0.0.1:18091 "${targs[@]}"
  # Cached tiles once more with wrk, the lighter load generator (tilebench's Go client spends much
  # of the same two cores itself): one warming pass, then the measured one; uncompressed, then as
  # browsers ask (Accept-Encoding: gzip, which gets the gzipped tile kept in the cache).
  echo
  echo "Cached tiles with \`wrk -t1 -c32 -d10s -s bench/paths.lua\` over the same tile lists (after a warming pass), uncompressed and with \`-H 'Accept-Encoding: gzip'\`:"
  echo
  echo "| zoom | tiles | tiles/s | p50 | p99 | mean bytes | tiles/s, gzip | p50 | p99 | mean bytes, gzip |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for z in 10 12 14 16; do
    go run ./bench/tilebench -db "$url" -list $z >"$tmp/paths-$z.txt"
    local row="| z$z | $(wc -l <"$tmp/paths-$z.txt")"
    for enc in identity gzip; do
      BENCH_PATHS="$tmp/paths-$z.txt" wrk -t1 -c32 -d3s -H "Accept-Encoding: $enc" -s bench/paths.lua http://127.0.0.1:18092 >/dev/null 2>&1
      BENCH_PATHS="$tmp/paths-$z.txt" wrk -t1 -c32 -d10s --latency -H "Accept-Encoding: $enc" -s bench/paths.lua http://127.0.0.1:18092 >"$tmp/wrk-tiles.txt" 2>&1
      # Mean bytes per response: wrk's total read, less headers, over its request count.
      local bytes; bytes=$(meanbytes "$tmp/paths-$z.txt" "$enc")
      row="$row | **$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk-tiles.txt")** | $(awk '$1=="50%" {print $2}' "$tmp/wrk-tiles.txt") | $(awk '$1=="99%" {print $2}' "$tmp/wrk-tiles.txt") | $bytes"
    done
    echo "$row |"
  done
  kill $pu $pc ${pt:-} 2>/dev/null || true; wait $pu $pc ${pt:-} 2>/dev/null || true
}

{
echo "## Vector tiles ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none))"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); servers, PostGIS and the load generator share it."
echo
echo "### Demo district (二七区)"
echo
bench_set gridline_tiles_demo "the demo district (二七区, seed 1)" --seed 1
echo
echo "### Synthetic region, 100,000 basic grids"
echo
bench_set gridline_tiles_100k "a synthetic region of 100,000 basic grids (seed 1)" --grids 100000 --seed 1
} | tee "$out"
