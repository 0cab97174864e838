#!/usr/bin/env bash
# bench/coverage.sh: the coverage audit side by side with the plain PostGIS SQL on the same data,
# in one run: the demo district, a synthetic region of GRIDS basic grids (default 100,000) with
# 400 grids damaged, and one parent's 81 children. It creates and drops its own databases
# (gridline_cov_*). Needs DATABASE_URL. Writes bench/results/coverage.md. A few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
mkdir -p bench/results
out=bench/results/coverage.md
{
  echo "machine: $(nproc) cores, $(uname -m), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  go run ./bench/coveragebench -grids "${GRIDS:-100000}" -faults "${FAULTS:-400}" -runs "${RUNS:-3}"
  echo
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
