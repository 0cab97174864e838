#!/usr/bin/env bash
# bench/addresses.sh: address matching (issue #17): the gazetteer matcher against plain pg_trgm on
# the demo register's people-written test set, throughput on one core with a 200,000-row register,
# and 1,000,000 addresses streamed through the batch resolver. Creates and drops its own database.
# Needs DATABASE_URL. Writes bench/results/addresses.md. A few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
mkdir -p bench/results
out=bench/results/addresses.md
{
  echo "machine: $(nproc) cores, $(uname -m), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  go run ./bench/addressbench -batch "${BATCH:-1000000}"
  echo
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
