#!/usr/bin/env bash
# Server time per request, in-process (docs/operations.md, "Load"): a fresh database
# `tunery_server_time` seeded like the load benchmark's (bench/load/seed.py), then
# bench/load/server_time.py for each scenario, then the database is dropped.
#
#   bench/load/server_time.sh [calls per scenario (500)] [scenarios (gateway list retrieve)]
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${1:-500}
SCENARIOS=${2:-gateway list retrieve}
source bin/services
[[ -n "${DATABASE_URL:-}" && -n "${REDIS_URL:-}" ]] || { echo "needs PostgreSQL and Redis" >&2; exit 1; }

DB=tunery_server_time
ADMIN_URL="${DATABASE_URL%/*}/postgres"
psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
trap 'psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB (FORCE)"' EXIT
export DATABASE_URL="${DATABASE_URL%/*}/$DB"
export TUNERY_VAR_DIR=${TUNERY_VAR_DIR:-$(mktemp -d)}
export TUNERY_MODEL_CACHE=${TUNERY_MODEL_CACHE:-$PWD/var/models}
export TUNERY_CACHE_PREFIX="server-time-$$" TUNERY_QUEUE_PREFIX="server-time-$$:"
export TUNERY_RATE_LIMIT_PER_KEY=1000000000 TUNERY_RATE_LIMIT_PER_ORG=1000000000

nice .venv/bin/python manage.py migrate -v0
seeded=$(nice .venv/bin/python bench/load/seed.py)
field() { .venv/bin/python -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$seeded" "$1"; }
export LOAD_API_KEY=$(field api_key) LOAD_MODEL=$(field model)
for scenario in $SCENARIOS; do
  nice .venv/bin/python bench/load/server_time.py "$scenario" "$CALLS" 2>/dev/null | tail -1
done
