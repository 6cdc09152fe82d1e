#!/usr/bin/env bash
# Starts a PostgreSQL server for the integration tests and prints its URL on the last line.
# On a fresh Debian machine it installs the server from Debian's packages first. Used by .ci/run;
# on a developer machine: export TEST_DATABASE_URL=$(bash scripts/ci-postgres.sh | tail -1)
set -euo pipefail

PG_PORT="${PG_PORT:-5432}"
PG_USER=sms
PG_PASSWORD=sms
PG_DB=sms_test

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  echo "installing PostgreSQL from Debian packages" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

# The first cluster Debian created (15/main on bookworm).
read -r version cluster port status _ < <(pg_lsclusters -h | head -1)
if [ "$port" != "$PG_PORT" ]; then
  echo "cluster $version/$cluster listens on $port, using that port" >&2
  PG_PORT="$port"
fi
if [ "$status" != "online" ]; then
  as_root pg_ctlcluster "$version" "$cluster" start >&2
fi

# Wait for the server to accept connections (no fixed sleep: poll pg_isready).
for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then break; fi
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p "$PG_PORT" >&2

psql_admin() { as_root su postgres -c "psql -v ON_ERROR_STOP=1 -q -p $PG_PORT $*"; }
psql_admin "-c \"do \\\$\\\$ begin
  if not exists (select from pg_roles where rolname = '$PG_USER') then
    create role $PG_USER login createdb password '$PG_PASSWORD';
  end if;
end \\\$\\\$;\"" >&2
if [ -z "$(as_root su postgres -c "psql -p $PG_PORT -tAc \"select 1 from pg_database where datname = '$PG_DB'\"")" ]; then
  psql_admin "-c 'create database $PG_DB owner $PG_USER'" >&2
fi

echo "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
