#!/usr/bin/env bash
# bench/patrol.sh: the patrol and routing targets of issue #16 on the demo district: positions
# ingested (checked, resolved, stored) per second, a route on the synthetic road network, the
# nearest 5 on-duty workers by road. Creates and drops gridline_patrol_bench. Needs DATABASE_URL.
# Writes bench/results/patrol.md. About two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
mkdir -p bench/results
out=bench/results/patrol.md
{
  echo "machine: $(nproc) cores, $(uname -m), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  go run ./bench/patrolbench -points "${POINTS:-500000}" -routes "${ROUTES:-40}"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
