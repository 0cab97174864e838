#!/usr/bin/env bash
# bench/cases.sh: case intake (issue #15): POST /v1/cases through the whole server on the demo
# district with its demo case lists, routed by the in-memory index and, for comparison, by one
# PostGIS query per case; sustained throughput with CLIENTS clients (default 32) for SECONDS, and the latency of
# single POSTs. It creates and drops its own database (gridline_casebench_*). Needs DATABASE_URL.
#
# Two runs: the database as configured (the local cluster of scripts/setup.sh runs fsync=off,
# synchronous_commit=off), and durable: fsync turned on for the cluster for the run (ALTER SYSTEM,
# a sighup setting: no restart; RESET and reloaded at the end, even on failure) and the bench
# server's own sessions committing with synchronous_commit=on (other sessions keep theirs).
# DURABLE=0 skips the durable run. Each run has a row with the API token's principal remembered
# for TOKEN_CACHE (10s, the server's default GRIDLINE_TOKEN_CACHE) and one without; INTAKE_BATCH=1 writes each case in a
# transaction of its own (group commit off), as before. Writes bench/results/cases.md. About two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
mkdir -p bench/results
out=bench/results/cases.md
args=(-clients "${CLIENTS:-32}" -seconds "${SECONDS_PER_RUN:-15}" -singles "${SINGLES:-1000}" -token-cache "${TOKEN_CACHE:-10s}" -intake-batch "${INTAKE_BATCH:-0}")
go build -o "${TMPDIR:-/tmp}/casebench.$$" ./bench/casebench
restore() {
  psql "$DATABASE_URL" -qAtc 'ALTER SYSTEM RESET fsync' -c 'SELECT pg_reload_conf()' >/dev/null || true
  rm -f "${TMPDIR:-/tmp}/casebench.$$"
}
trap restore EXIT
{
  echo "machine: $(nproc) cores, $(uname -m)"
  echo
  echo "## as configured"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "${TMPDIR:-/tmp}/casebench.$$" "${args[@]}"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ "${DURABLE:-1}" != 0 ]; then
    psql "$DATABASE_URL" -qAtc 'ALTER SYSTEM SET fsync = on' -c 'SELECT pg_reload_conf()' >/dev/null
    sleep 1
    echo
    echo "## durable (fsync=on, synchronous_commit=on)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    "${TMPDIR:-/tmp}/casebench.$$" -durable "${args[@]}"
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  fi
} | tee "$out"
