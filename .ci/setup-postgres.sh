#!/usr/bin/env bash
# Make a PostgreSQL server with a test role and database available.
#
# Idempotent: installs Debian's postgresql if missing, creates and starts a
# cluster if none is online, (re)creates the role guardrail_test with a known
# password and the database guardrail_test it owns, and writes the DSN to
# .ci/env as `export GUARDRAIL_TEST_PG_DSN=...` (tests read the variable;
# `.ci/run` sources the file). Prints the DSN on stdout too.
set -euo pipefail
cd "$(dirname "$0")/.."

ROLE=${GUARDRAIL_TEST_PG_ROLE:-guardrail_test}
DB=${GUARDRAIL_TEST_PG_DB:-guardrail_test}
PASSWORD=${GUARDRAIL_TEST_PG_PASSWORD:-guardrail_test}
ENV_FILE=${GUARDRAIL_CI_ENV:-.ci/env}
WAIT=${PG_WAIT:-60}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "setup-postgres: $*" >&2; }
as_postgres() { $SUDO runuser -u postgres -- "$@"; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  say "installing postgresql"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q .; then
  say "creating cluster $version/main"
  $SUDO pg_createcluster "$version" main >/dev/null
fi
read -r cver cname port status _ < <(pg_lsclusters -h | head -1)
if [ "$status" != "online" ]; then
  say "starting cluster $cver/$cname"
  $SUDO pg_ctlcluster "$cver" "$cname" start
fi
deadline=$((SECONDS + WAIT))
until pg_isready -q -h 127.0.0.1 -p "$port"; do
  if [ $SECONDS -ge $deadline ]; then say "PostgreSQL did not answer on port $port"; exit 1; fi
  sleep 0.2
done

as_postgres psql -q -v ON_ERROR_STOP=1 -p "$port" -d postgres <<SQL >/dev/null
SELECT format('CREATE ROLE %I LOGIN', '$ROLE')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') \gexec
ALTER ROLE "$ROLE" WITH LOGIN PASSWORD '$PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', '$DB', '$ROLE')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB') \gexec
SQL

dsn="postgresql://$ROLE:$PASSWORD@127.0.0.1:$port/$DB"
PGPASSWORD=$PASSWORD psql -q -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DB" -c 'SELECT 1' >/dev/null
printf 'export GUARDRAIL_TEST_PG_DSN=%q\n' "$dsn" > "$ENV_FILE"
say "ready: $dsn (written to $ENV_FILE)"
echo "$dsn"
