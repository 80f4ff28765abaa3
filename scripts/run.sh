#!/usr/bin/env bash
# run.sh — `make run`: the API server on the embedded default (SQLite) with a demo brand.
#
# On var/pitboss.db (DB=… to change): migrates; creates the brand "demo" (EUR, also
# USD; jurisdiction MT) and the ledger demo money when the brand does not exist yet;
# creates the first admin, admin@demo.local, when there is no staff at all (its
# one-time password is printed once); then execs `pitboss serve`. Safe to run
# again: what exists is kept. PITBOSS_LISTEN picks the address (default
# 127.0.0.1:8080); Ctrl-C stops the server cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
DB=${DB:-var/pitboss.db}
LISTEN=${PITBOSS_LISTEN:-127.0.0.1:8080}
P=$BUILD/pitboss
[ -x "$P" ] || { echo "run: $P is missing; run 'make run' (it builds first)" >&2; exit 1; }
mkdir -p "$(dirname "$DB")"

"$P" migrate --db "$DB" 2>/dev/null
if ! "$P" brand list --db "$DB" 2>/dev/null | grep -q '^brand demo '; then
  "$P" brand create --code demo --name "Demo Casino" --currency EUR --currencies EUR,USD \
    --jurisdiction MT --db "$DB" 2>/dev/null
  "$P" demo --db "$DB" 2>/dev/null # the ledger demo: house, PSP and two players' money
fi

staff=$(sqlite3 -readonly "$DB" "SELECT count(*) FROM staff")
if [ "$staff" = "0" ]; then
  echo
  "$P" admin create --email admin@demo.local --db "$DB" 2>/dev/null
  echo "Log in at POST /v1/admin/login as admin@demo.local with it: that first session is"
  echo "a setup session (change the password, enrol TOTP), then log in again with a code."
fi

echo
echo "pitboss: serving http://$LISTEN/docs (players: /v1/player/…, staff: /v1/admin/…)"
echo "Ctrl-C stops it. Logs are JSON lines on stderr."
exec "$P" serve --db "$DB" --listen "$LISTEN"
