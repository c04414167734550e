#!/usr/bin/env bash
# Fault: PostgreSQL restarted under a running web tier (docs/operations.md, "Faults").
# A private PostgreSQL cluster (initdb into a temporary folder, port 5440, run as the `postgres`
# user because PostgreSQL refuses root) so the machine's shared server is never touched;
# Tunery under `uvicorn --workers 2` on it; one API read every 100 ms while the cluster is
# restarted (`pg_ctl restart -m fast`), or stopped for OUTAGE seconds and started again.
# Prints each status change with its time and the seconds from the restart to the first 200.
#
#   bench/load/postgres_restart.sh [OUTAGE seconds, default 0: a plain restart]
set -euo pipefail
cd "$(dirname "$0")/../.."
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
OUTAGE=${1:-0}
PORT=${PG_PORT:-5440}
WEB_PORT=${WEB_PORT:-8030}
DATA=$(mktemp -d /tmp/tunery-pg-XXXX)
chown postgres "$DATA"
as_postgres() { if [[ $(id -u) == 0 ]]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
as_postgres "$PG_BIN/initdb -D $DATA/db -U postgres -A trust >/dev/null"
as_postgres "$PG_BIN/pg_ctl -D $DATA/db -o '-p $PORT -k $DATA -c listen_addresses=127.0.0.1' -l $DATA/log -w start >/dev/null"
web=""
cleanup() {
  [[ -n $web ]] && kill "$web" 2>/dev/null || true
  as_postgres "$PG_BIN/pg_ctl -D $DATA/db -m immediate stop >/dev/null" || true
}
trap cleanup EXIT
as_postgres "$PG_BIN/createdb -h 127.0.0.1 -p $PORT -U postgres tunery"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/tunery"
export TUNERY_VAR_DIR=$(mktemp -d)
unset REDIS_URL
nice .venv/bin/python manage.py migrate -v0
KEY=$(nice .venv/bin/python manage.py create_organization --name Faults --owner-email faults@tunery.local |
  grep -o 'tun_[A-Za-z0-9_-]*' | head -1)
nice .venv/bin/uvicorn tunery.asgi:application --workers 2 --port "$WEB_PORT" --log-level warning 2>/dev/null &
web=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

probe() { curl -s -o /dev/null -w '%{http_code}' -m 10 -H "Authorization: Bearer $KEY" "http://127.0.0.1:$WEB_PORT/v1/files"; }
for _ in $(seq 10); do probe >/dev/null; done  # the pool holds open connections now
start=$(date +%s.%N)
pg_options="-o '-p $PORT -k $DATA -c listen_addresses=127.0.0.1' -l $DATA/log"
if [[ $OUTAGE == 0 ]]; then
  as_postgres "$PG_BIN/pg_ctl -D $DATA/db -m fast -w restart $pg_options >/dev/null" &
else
  as_postgres "$PG_BIN/pg_ctl -D $DATA/db -m fast -w stop >/dev/null; sleep $OUTAGE; $PG_BIN/pg_ctl -D $DATA/db -w start $pg_options >/dev/null" &
fi
restart=$!
last="" ; back=""
for _ in $(seq 300); do
  code=$(probe || true)
  now=$(date +%s.%N)
  [[ $code != "$last" ]] && printf '%6.2f s  %s\n' "$(echo "$now - $start" | bc)" "$code" && last=$code
  if [[ $code == 200 && -n $(kill -0 $restart 2>/dev/null || echo done) ]]; then back=$now; break; fi
  sleep 0.1
done
wait $restart || true
echo "first 200 after the restart began: $(echo "$back - $start" | bc) s; the web processes were not restarted"
