#!/usr/bin/env bash
# bench/cases.sh: case intake (issue #15): POST /v1/cases through the whole server on the demo
# district with its demo case lists, routed by the in-memory index and, for comparison, by one
# PostGIS query per case; sustained throughput with CLIENTS clients for SECONDS, and the latency of
# single POSTs. It creates and drops its own database (gridline_casebench_*). Needs DATABASE_URL.
# Writes bench/results/cases.md. About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
mkdir -p bench/results
out=bench/results/cases.md
{
  echo "machine: $(nproc) cores, $(uname -m), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "database: fsync=$(psql "$DATABASE_URL" -Atc 'show fsync'), synchronous_commit=$(psql "$DATABASE_URL" -Atc 'show synchronous_commit')"
  go run ./bench/casebench -clients "${CLIENTS:-8}" -seconds "${SECONDS_PER_RUN:-15}" -singles "${SINGLES:-1000}"
  echo
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
