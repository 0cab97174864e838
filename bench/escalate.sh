#!/usr/bin/env bash
# bench/escalate.sh: the escalation sweeper among CASES open cases (default 1,000,000): finding the
# steps that turned yellow or red, and escalating them. It creates and drops its own database
# (gridline_escbench). Needs DATABASE_URL. Writes bench/results/escalate.md. A few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
mkdir -p bench/results
out=bench/results/escalate.md
{
  echo "machine: $(nproc) cores, $(uname -m), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  go run ./bench/escalatebench -cases "${CASES:-1000000}" -runs "${RUNS:-5}"
  echo
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
