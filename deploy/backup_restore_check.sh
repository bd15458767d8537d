#!/usr/bin/env bash
# `make backup-check`: the backup and restore of the runbook (README "Operations"), done for real
# and compared. On the PostgreSQL at $PGHOST:$PGPORT (127.0.0.1:5432, user postgres; only
# databases of this run's own are created, and dropped at the end):
#   1. a database migrated by `totetaxi migrate production.ini` (every production plugin), with
#      guest bookings made through the app (their outbox rows and notifications included);
#   2. `pg_dump --format=custom` of it, `pg_restore` into a new database;
#   3. every table's row count and content digest, and every sequence's position, compared;
#   4. `totetaxi migrate` on the copy finds nothing to do, and a booking made on the copy takes
#      the next number (the sequence came back where it was).
# Exits non-zero when anything differs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
SOURCE="tt_backup_src_$$"
COPY="tt_backup_copy_$$"
DUMP=$(mktemp -d)/totetaxi.dump
LOG="$(dirname "$DUMP")/app.log"  # the app's own lines (the closed broker refusing, ...)

cleanup() {
  dropdb --if-exists --force "$SOURCE" 2>/dev/null || true
  dropdb --if-exists --force "$COPY" 2>/dev/null || true
  rm -rf "$(dirname "$DUMP")"
}
trap 'status=$?; [[ $status != 0 && -s "$LOG" ]] && tail -20 "$LOG"; cleanup' EXIT

# production.ini refuses to start without its secrets: throwaway ones (nothing is called: the
# partners' URLs are closed ports, the broker too, so queued work stays in the outbox).
closed="http://127.0.0.1:9"
export TOTETAXI_SECRET="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(48))')"
export TOTETAXI_BROKER_URL="redis://127.0.0.1:9/0" TOTETAXI_REDIS_URL="redis://127.0.0.1:9/1"
export TOTETAXI_PUBLIC_URL="http://127.0.0.1" TOTETAXI_PAYMENTS_STRIPE__SECRET_KEY="sk_test_backup$$"
export TOTETAXI_PAYMENTS_STRIPE__WEBHOOK_SECRET="whsec_backup$$" TOTETAXI_PAYMENTS_STRIPE__API_BASE="$closed"
export TOTETAXI_LOGISTICS_ONFLEET__API_KEY="backup$$" TOTETAXI_LOGISTICS_ONFLEET__API_BASE="$closed"
export TOTETAXI_LOGISTICS_ONFLEET__WEBHOOK_SECRET="$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')"
export TOTETAXI_STORAGE_S3__BUCKET="backup-check" TOTETAXI_STORAGE_S3__ENDPOINT_URL="$closed"
export TOTETAXI_MAIL_SES__ENDPOINT_URL="$closed" AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1

url() { echo "postgresql://$PGUSER@$PGHOST:$PGPORT/$1"; }

book() {  # book DATABASE COUNT: guest bookings through the app built from production.ini
  TOTETAXI_DATABASE_URL="$(url "$1")" "$BIN/python" - "$2" 2>>"$LOG" <<'PY'
import datetime as dt, sys, uuid
from pyramid.paster import get_app
from webtest import TestApp
app = TestApp(get_app("production.ini"), extra_environ={"HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1"})
place = {"line1": "200 E 62nd St", "city": "New York", "state": "NY", "postal_code": "10065"}
for n in range(int(sys.argv[1])):
    day = dt.date.today() + dt.timedelta(days=5 + n % 20)
    body = {"service_type": "mini_move", "package": "petite", "date": day.isoformat(),
            "pickup_address": place, "delivery_address": {**place, "line1": "12 Dune Rd",
            "city": "Southampton", "postal_code": "11968"},
            "guest": {"first_name": "Backup", "last_name": f"Guest{n}",
                      "email": f"backup-{uuid.uuid4().hex[:8]}@example.com", "phone": "212-555-0101"}}
    answer = app.post_json("/api/v1/bookings", body, status=201)
print(answer.json["number"])
PY
}

digests() {  # every table: name, rows, md5 of its rows in order; every sequence's position
  psql -d "$1" -Atq <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(t::text, ''|'' ORDER BY t::text)), ''-'') FROM %I.%I t',
              table_schema || '.' || table_name, table_schema, table_name)
FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1 \gexec
SELECT 'sequence ' || schemaname || '.' || sequencename || ' ' || coalesce(last_value, 0)
FROM pg_sequences ORDER BY 1;
SQL
}

echo "backup-check: source database $SOURCE on $PGHOST:$PGPORT"
createdb "$SOURCE"
TOTETAXI_DATABASE_URL="$(url "$SOURCE")" "$BIN/totetaxi" migrate production.ini >>"$LOG" 2>&1
last=$(book "$SOURCE" 12)
echo "  migrated with production's plugins; 12 guest bookings made, the last $last"

pg_dump --format=custom --file="$DUMP" "$SOURCE"
echo "  pg_dump --format=custom: $(du -h "$DUMP" | cut -f1)"
createdb "$COPY"
pg_restore --exit-on-error --no-owner --dbname="$COPY" "$DUMP"
echo "  pg_restore into $COPY"

before=$(digests "$SOURCE")
after=$(digests "$COPY")
tables=$(grep -vc '^sequence' <<<"$before")
rows=$(grep -v '^sequence' <<<"$before" | awk '{s += $2} END {print s}')
if [[ "$before" != "$after" ]]; then
  echo "FAILED: the copy differs from the source:"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi
echo "ok    $tables tables ($rows rows) identical by count and content digest; sequences equal"

migrated=$(TOTETAXI_DATABASE_URL="$(url "$COPY")" "$BIN/totetaxi" migrate production.ini 2>>"$LOG")
if grep -qiE "upgraded|installed" <<<"$migrated"; then
  echo "FAILED: migrate had work to do on the copy:"; echo "$migrated"; exit 1
fi
echo "ok    totetaxi migrate on the copy: nothing to do"

next=$(book "$COPY" 1)
if [[ "${next#TT-}" -le "${last#TT-}" ]]; then
  echo "FAILED: a booking on the copy took $next, not a number after $last"; exit 1
fi
echo "ok    a booking on the copy takes $next, after $last (its sequence came back)"
echo "backup-check: passed"
