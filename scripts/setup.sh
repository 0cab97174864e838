#!/usr/bin/env bash
# setup.sh: make sure the machine has what gridline needs, and that a database is running.
#
#   scripts/setup.sh deps      install missing Debian packages (apt-get, when root)
#   scripts/setup.sh db        start (or reuse) the project-local PostGIS cluster under .gridline/
#   scripts/setup.sh url       print the DATABASE_URL to use (DATABASE_URL itself when set)
#   scripts/setup.sh stop      stop the local cluster
#
# When DATABASE_URL is set, the local cluster is neither created nor started: that database is used.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
state="$top/.gridline"
pgdata="$state/pgdata"
port="${GRIDLINE_PG_PORT:-55432}"
pgver="${GRIDLINE_PG_VERSION:-15}"
pgbin="/usr/lib/postgresql/$pgver/bin"

# Debian packages the project uses, by the command or file that shows each is there.
# PostGIS for the store; GDAL for importers and the OGC API test; Chromium for the browser tests;
# wrk is the HTTP load generator used by `make bench`; a CJK font for the browser tests.
declare -A need=(
  ["/usr/lib/postgresql/$pgver/bin/initdb"]="postgresql-$pgver"
  ["/usr/share/postgresql/$pgver/extension/postgis.control"]="postgresql-$pgver-postgis-3"
  # pgRouting: routes on roads (migration 0012 creates the extension).
  ["/usr/share/postgresql/$pgver/extension/pgrouting.control"]="postgresql-$pgver-pgrouting"
  ["/usr/share/postgresql/$pgver/extension/btree_gist.control"]="postgresql-contrib"
  ["/usr/bin/ogr2ogr"]="gdal-bin"
  # Chromium also prints the monthly brief of the statistics to PDF (printpdf/, serve).
  ["/usr/bin/chromium"]="chromium"
  # pdftoppm: the browser test of the printed brief renders its PDF pages to PNG.
  ["/usr/bin/pdftoppm"]="poppler-utils"
  ["/usr/bin/wrk"]="wrk"
  # A CJK font, so that Chromium (browser tests, screenshots) draws Chinese map labels.
  ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"]="fonts-wqy-microhei"
)

deps() {
  local missing=()
  for f in "${!need[@]}"; do [ -e "$f" ] || missing+=("${need[$f]}"); done
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "gridline needs these Debian packages, which are not installed:" >&2
    echo "    sudo apt-get install -y ${missing[*]}" >&2
    echo "Install them (or run this as root), then run the command again." >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# as_pg runs a command as the cluster's owner: PostgreSQL refuses to run as root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

db() {
  if [ -n "${DATABASE_URL:-}" ]; then return 0; fi
  mkdir -p "$state"
  if [ ! -s "$pgdata/PG_VERSION" ]; then
    echo "setup: creating a PostGIS cluster in $pgdata (port $port)" >&2
    rm -rf "$pgdata"
    mkdir -p "$pgdata"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres:postgres "$pgdata"
      # The cluster's owner must be able to reach the data directory.
      chmod o+x "$state"
    fi
    as_pg "$pgbin/initdb" -D "$pgdata" -U gridline --auth=trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 ||
      { cat "$state/initdb.log" >&2; exit 1; }
    cat >>"$pgdata/postgresql.conf" <<CONF
# gridline: a project-local cluster, reachable only over loopback.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 200
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
CONF
  fi
  if ! as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 start >/dev/null ||
      { tail -20 "$pgdata/server.log" >&2; exit 1; }
  fi
  local psql=(/usr/bin/psql -X -q -h 127.0.0.1 -p "$port" -U gridline -d postgres -v ON_ERROR_STOP=1)
  if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname='gridline'")" != 1 ]; then
    "${psql[@]}" -c "CREATE DATABASE gridline"
  fi
}

url() {
  if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; else echo "postgres://gridline@127.0.0.1:$port/gridline?sslmode=disable"; fi
}

stop() {
  if [ -s "$pgdata/PG_VERSION" ]; then as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true; fi
}

case "${1:-}" in
  deps) deps ;;
  db) db ;;
  url) url ;;
  stop) stop ;;
  *) echo "usage: $0 deps|db|url|stop" >&2; exit 2 ;;
esac
