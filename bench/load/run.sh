#!/usr/bin/env bash
# The load benchmark (docs/operations.md, "Load"): a fresh database `tunery_load` on the
# machine's PostgreSQL, seeded with one organization of 10,000 jobs, 10,000 files and 1,000,000
# inference requests; Tunery under `uvicorn --workers 2` with Redis; a fake engine that answers at
# once; then locust, one scenario at a time, all under nice.
#
#   bench/load/run.sh [seconds per scenario (60)] [users (4)]
#
# Results: bench/load/out/<scenario>_stats.csv and the table printed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_SCENARIO=${1:-60}
USERS=${2:-4}
OUT=bench/load/out
WEB_PORT=${LOAD_WEB_PORT:-8010}
ENGINE_PORT=${LOAD_ENGINE_PORT:-8011}
mkdir -p "$OUT"
source bin/services
[[ -n "${DATABASE_URL:-}" && -n "${REDIS_URL:-}" ]] || { echo "needs PostgreSQL and Redis" >&2; exit 1; }

DB=tunery_load
psql -q "${DATABASE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export DATABASE_URL="${DATABASE_URL%/*}/$DB"
export TUNERY_VAR_DIR=${TUNERY_VAR_DIR:-$(mktemp -d)}
export TUNERY_MODEL_CACHE=${TUNERY_MODEL_CACHE:-$PWD/var/models}
export TUNERY_CACHE_PREFIX="load-$$" TUNERY_QUEUE_PREFIX="load-$$:"  # leaves others' Redis keys alone
# The limits are counted (the Redis round trips are part of what is measured) but never reached.
export TUNERY_RATE_LIMIT_PER_KEY=1000000000 TUNERY_RATE_LIMIT_PER_ORG=1000000000
export TUNERY_ENGINE_URL="http://127.0.0.1:$ENGINE_PORT"

nice .venv/bin/python manage.py migrate -v0
seeded=$(nice .venv/bin/python bench/load/seed.py)
echo "$seeded" >"$OUT/seed.json"
field() { .venv/bin/python -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$seeded" "$1"; }
export LOAD_API_KEY=$(field api_key) LOAD_TRAINING_FILE=$(field training_file) LOAD_MODEL=$(field model)
export LOAD_ENGINE_URL="$TUNERY_ENGINE_URL"
echo "seeded in $(field seconds) s"

pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
nice .venv/bin/uvicorn --app-dir bench/load fake_engine:app --port "$ENGINE_PORT" --log-level warning &
pids+=($!)
nice .venv/bin/uvicorn tunery.asgi:application --workers 2 --port "$WEB_PORT" --log-level warning &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.3; done

for scenario in list retrieve create usage gateway direct; do
  users=$USERS
  [[ $scenario == gateway || $scenario == direct ]] && users=1  # one call at a time: latency, not queueing
  nice .venv/bin/locust -f bench/load/locustfile.py --headless --only-summary --tags "$scenario" \
    -u "$users" -r "$users" -t "${SECONDS_PER_SCENARIO}s" --host "http://127.0.0.1:$WEB_PORT" \
    --csv "$OUT/$scenario" >"$OUT/$scenario.log" 2>&1 || true
done
.venv/bin/python bench/load/report.py "$OUT" | tee "$OUT/report.md"
