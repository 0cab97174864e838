#!/usr/bin/env bash
# bench/drafts.sh: the targets of the drafts issue (#14) on a synthetic region of GRIDS basic grids
# (default 100,000, with their micro grids): a community's editing neighbourhood, validating a
# reshape of one shared edge, publishing a draft of about 50 changed grids and how soon resolution
# and tiles show it. It creates and drops its own database (gridline_drafts_bench). Needs
# DATABASE_URL. Writes bench/results/drafts.md. A minute or two, most of it loading the region.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (make bench does)}"
mkdir -p bench/results
out=bench/results/drafts.md
{
  echo "machine: $(nproc) cores, $(uname -m), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  go run ./bench/draftbench -grids "${GRIDS:-100000}" -runs "${RUNS:-7}"
  echo
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
