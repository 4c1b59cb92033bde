#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers and prints a DATABASE_URL for it on stdout.
#
#   scripts/db.sh [--database NAME] [--fresh]
#
# --fresh drops and recreates the database on this machine's cluster (the test suite starts from
# an empty database every run); it does nothing to a server named by DATABASE_URL.
#
# 1. If DATABASE_URL is set and its server answers, use it (with NAME as the database, if given).
# 2. Otherwise use this machine's PostgreSQL cluster: install Debian's `postgresql` package if it
#    is missing, create a cluster if there is none, start it if it is stopped, and make a `whale`
#    login role (password `whale`, local development only) and the database with its extensions.
# The database itself is also created by `whale-crm migrate` when missing.
set -euo pipefail

database=""
fresh=false
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database="$2"; shift 2 ;;
    --fresh) fresh=true; shift ;;
    *) echo "usage: $0 [--database NAME] [--fresh]" >&2; exit 2 ;;
  esac
done

log() { echo "db.sh: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

# Replaces the database name in a postgres:// URL.
with_database() {
  local url="$1" name="$2"
  [ -n "$name" ] || { echo "$url"; return; }
  local base="${url%%\?*}" query=""
  [ "$base" != "$url" ] && query="?${url#*\?}"
  echo "${base%/*}/${name}${query}"
}

answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -t 3 -d "$(with_database "$1" postgres)"
  else
    # No client tools: let the application try (it reports connection errors clearly).
    return 0
  fi
}

if [ -n "${DATABASE_URL:-}" ]; then
  if answers "$DATABASE_URL"; then
    with_database "$DATABASE_URL" "$database"
    exit 0
  fi
  log "DATABASE_URL does not answer; falling back to this machine's PostgreSQL"
fi

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  log "PostgreSQL is not installed: installing Debian's postgresql package"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

cluster="$(pg_lsclusters --no-header 2>/dev/null | head -n 1)"
if [ -z "$cluster" ]; then
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  log "creating PostgreSQL $version cluster 'main'"
  as_root pg_createcluster "$version" main >&2
  cluster="$(pg_lsclusters --no-header | head -n 1)"
fi
read -r version name port status _ <<<"$cluster"
if [ "$status" != "online" ]; then
  log "starting PostgreSQL $version/$name on port $port"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -p "$port" -h 127.0.0.1 && break
  sleep 1
done

db="${database:-whale}"
psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -qAtX "$@"; }
psql_admin -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'whale') THEN
    CREATE ROLE whale LOGIN CREATEDB PASSWORD 'whale';
  END IF; END \$\$;" >&2
if $fresh; then
  psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
  log "creating database $db"
  psql_admin -c "CREATE DATABASE \"$db\" OWNER whale" >&2
fi
psql_admin -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS btree_gin;" >&2

echo "postgres://whale:whale@127.0.0.1:${port}/${db}"
