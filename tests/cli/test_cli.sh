#!/usr/bin/env bash
# test_cli.sh — end-to-end tests of the pitboss binary, as an operator uses it:
# --help and unknown commands, migrate (twice), demo (twice: idempotent),
# ledger verify on a clean database, on databases tampered with through the
# sqlite3 shell (a transfer's amount, a balance) and on a path that cannot be
# opened, backup (the copy checked, never over an existing file, a tampered
# ledger's copy named) and restore (only with --replace over a database, the old
# one kept; a backup with violations refused), the PITBOSS_DB variable, and a short `bench ledger` run.
#
# Usage: tests/cli/test_cli.sh PATH/TO/pitboss     (speaks TAP)
# Cases that need the sqlite3 shell report "not ok" when it is missing.
set -u

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "1..0 # SKIP usage: $0 PATH/TO/pitboss (got '${1:-}')"
    exit 1
fi
PB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd) # before the cd below: tap.sh is beside this file
D=$(mktemp -d "${TMPDIR:-/tmp}/pbcli.XXXXXX")
trap 'rm -rf "$D"' EXIT
cd "$D" || exit 1 # nothing may land in the caller's var/pitboss.db

PLAN=43
. "$HERE/tap.sh"
has_sqlite() { command -v sqlite3 >/dev/null 2>&1; }
# the N of "ledger verify: N transfers" in $OUT
transfers() { sed -n 's/^ledger verify: \([0-9][0-9]*\) transfers.*/\1/p' "$OUT" | head -1; }
account_id() { # DB OWNER
    sqlite3 "$1" "SELECT id FROM ledger_account WHERE brand='demo' AND owner='$2'"
}

# ---- the binary itself
run "$PB" --help
check "--help exits 0" "$([ $RC -eq 0 ]; echo $?)" "exit $RC"
missing=""
for cmd in migrate "ledger verify" "bench ledger" demo; do
    grep -q "^  $cmd" "$OUT" || missing="$missing '$cmd'"
done
check "--help lists migrate, ledger verify, bench ledger and demo" "$([ -z "$missing" ]; echo $?)" \
    "missing:$missing"

run "$PB" no-such-command
check "an unknown command exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"
check "an unknown command is named on stderr" \
    "$(grep -q "unknown command 'no-such-command'" "$ERR"; echo $?)"

run "$PB"
check "no command at all exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"

# ---- migrate
DB=$D/x.db
run "$PB" migrate --db "$DB"
check "migrate on a new database exits 0" "$([ $RC -eq 0 ] && [ -f "$DB" ]; echo $?)" "exit $RC"
check "the first migrate applies at least one migration" \
    "$(grep -Eq ': [1-9][0-9]* applied' "$OUT"; echo $?)"
run "$PB" migrate --db "$DB"
check "a second migrate exits 0 and applies nothing" \
    "$([ $RC -eq 0 ] && grep -q ': 0 applied' "$OUT"; echo $?)" "exit $RC"

# ---- demo, twice
run "$PB" demo --db "$DB"
check "demo exits 0 and reports 0 violation(s)" \
    "$([ $RC -eq 0 ] && grep -q '0 violation(s)' "$OUT"; echo $?)" "exit $RC"
run "$PB" ledger verify --db "$DB"
first=$(transfers)
check "ledger verify on the demo database exits 0 with 0 violation(s)" \
    "$([ $RC -eq 0 ] && [ -n "$first" ] && [ "$first" -gt 0 ] &&
        grep -q ' 0 violation(s)' "$OUT" && ! grep -q '^VIOLATION' "$OUT"; echo $?)" \
    "exit $RC, transfers '$first'"
run "$PB" demo --db "$DB"
rc2=$RC
run "$PB" ledger verify --db "$DB"
second=$(transfers)
check "demo run twice exits 0 and writes no new transfer (idempotent replays)" \
    "$([ $rc2 -eq 0 ] && [ $RC -eq 0 ] && [ -n "$second" ] && [ "$second" = "$first" ]; echo $?)" \
    "demo exit $rc2, verify exit $RC, transfers '$first' then '$second'"

# ---- tampering through the sqlite3 shell
T1=$D/tamper-amount.db
if has_sqlite && "$PB" demo --db "$T1" >/dev/null 2>&1; then
    sqlite3 "$T1" "UPDATE ledger_transfer SET amount=amount+1 WHERE seq=3"
    run "$PB" ledger verify --db "$T1"
    check "verify exits 1 after a transfer's amount is changed" "$([ $RC -eq 1 ]; echo $?)" \
        "exit $RC"
    check "verify prints VIOLATION hash_chain naming seq 3" \
        "$(grep -Eq '^VIOLATION hash_chain: .*seq 3([^0-9]|$)' "$OUT"; echo $?)"
    nv=$(sed -n 's/^ledger verify: .* \([0-9][0-9]*\) violation(s)$/\1/p' "$OUT")
    nl=$(grep -c '^VIOLATION ' "$OUT")
    check "verify's summary counts every VIOLATION line it printed" \
        "$([ -n "$nv" ] && [ "$nv" -gt 0 ] && [ "$nv" -eq "$nl" ]; echo $?)" \
        "summary says '$nv', $nl VIOLATION line(s)"
else
    : >"$OUT"
    : >"$ERR"
    for c in "verify exits 1 after a transfer's amount is changed" \
        "verify prints VIOLATION hash_chain naming seq 3" \
        "verify's summary counts every VIOLATION line it printed"; do
        not_ok "$c" "sqlite3 shell missing or demo failed: cannot tamper"
    done
fi

T2=$D/tamper-balance.db
if has_sqlite && "$PB" demo --db "$T2" >/dev/null 2>&1; then
    alice=$(account_id "$T2" player:alice)
    sqlite3 "$T2" "UPDATE ledger_balance SET credits_posted=credits_posted+100 WHERE account_id=$alice"
    run "$PB" ledger verify --db "$T2"
    check "verify exits 1 after a balance is changed" "$([ $RC -eq 1 ]; echo $?)" "exit $RC"
    check "verify prints VIOLATION balance_mismatch naming the account" \
        "$([ -n "$alice" ] && grep -Eq "^VIOLATION balance_mismatch: account $alice " "$OUT"; echo $?)" \
        "alice is account '$alice'"
    check "verify prints VIOLATION currency_imbalance for EUR" \
        "$(grep -q '^VIOLATION currency_imbalance: EUR' "$OUT"; echo $?)"
else
    : >"$OUT"
    : >"$ERR"
    for c in "verify exits 1 after a balance is changed" \
        "verify prints VIOLATION balance_mismatch naming the account" \
        "verify prints VIOLATION currency_imbalance for EUR"; do
        not_ok "$c" "sqlite3 shell missing or demo failed: cannot tamper"
    done
fi

# ---- verify that cannot run
run "$PB" ledger verify --db "$D/no/such/dir/x.db"
check "verify on a database in a missing directory exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"
check "verify that cannot run prints no summary" \
    "$(! grep -q '^ledger verify:' "$OUT"; echo $?)"
run "$PB" ledger verify --db "$D/never-migrated.db"
check "verify on a missing database exits 2 and does not create it" \
    "$([ $RC -eq 2 ] && [ ! -e "$D/never-migrated.db" ]; echo $?)" "exit $RC"
if has_sqlite; then
    sqlite3 "$D/empty.db" "CREATE TABLE unrelated (x)"
    run "$PB" ledger verify --db "$D/empty.db"
    check "verify on a database that was never migrated exits 2" "$([ $RC -eq 2 ]; echo $?)" \
        "exit $RC"
else
    not_ok "verify on a database that was never migrated exits 2" "sqlite3 shell missing"
fi
run "$PB" ledger
check "ledger without a subcommand exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"

# ---- backup: an online copy, checked, never over an existing file
BK=$D/backup.db
run "$PB" backup --db "$DB" --to "$BK"
if command -v python3 >/dev/null 2>&1; then
    bk_json=$(python3 -c 'import json,sys
r = json.loads(open(sys.argv[1]).read())
sys.exit(0 if r["backup"] == "ok" and r["integrity"] == "ok" and r["ledger_verify"] == "ok"
         and r["transfers"] == int(sys.argv[2]) and r["last_seq"] == int(sys.argv[2])
         and len(r["last_hash"]) == 64 and r["pages"] > 0
         and r["audit_verify"] == "skipped" else 1)' "$OUT" "$first" 2>/dev/null; echo $?)
else
    bk_json=$(grep -q "\"ledger_verify\":\"ok\",\"transfers\":$first," "$OUT"; echo $?)
fi
check "backup exits 0; the copy intact, every transfer in it (no audit key here: audit skipped)" \
    "$([ $RC -eq 0 ] && [ "$bk_json" -eq 0 ]; echo $?)" "exit $RC"
check "the backup is one file (nothing beside it)" \
    "$([ -f "$BK" ] && [ "$(ls "$D" | grep -c '^backup\.db')" -eq 1 ]; echo $?)"
sum_before=$(cksum <"$BK")
run "$PB" backup --db "$DB" --to "$BK"
check "backup to an existing file exits 2 and leaves it as it was" \
    "$([ $RC -eq 2 ] && grep -q 'already exists' "$ERR" && [ "$(cksum <"$BK")" = "$sum_before" ]; echo $?)" \
    "exit $RC"
run "$PB" ledger verify --db "$BK"
check "ledger verify on the backup counts the same transfers" \
    "$([ $RC -eq 0 ] && [ "$(transfers)" = "$first" ]; echo $?)" "exit $RC"
run "$PB" backup --db "$D/no-such.db" --to "$D/never.db"
check "backup of a missing database exits 2, creates nothing" \
    "$([ $RC -eq 2 ] && [ ! -e "$D/no-such.db" ] && [ ! -e "$D/never.db" ]; echo $?)" "exit $RC"
run "$PB" backup --db "$DB"
check "backup without --to exits 2 with its usage" \
    "$([ $RC -eq 2 ] && grep -q 'usage: pitboss backup' "$ERR"; echo $?)" "exit $RC"
if has_sqlite && [ -f "$T1" ]; then
    run "$PB" backup --db "$T1" --to "$D/tampered-copy.db"
    check "backup of a tampered ledger exits 1, names the violation, keeps the copy" \
        "$([ $RC -eq 1 ] && grep -q '^VIOLATION hash_chain' "$ERR" &&
            grep -q '"ledger_verify":"violations"' "$OUT" && [ -f "$D/tampered-copy.db" ]; echo $?)" \
        "exit $RC"
else
    : >"$OUT"
    : >"$ERR"
    not_ok "backup of a tampered ledger exits 1, names the violation, keeps the copy" \
        "sqlite3 shell missing or demo failed: no tampered database"
fi

# ---- restore: the backup put in place of a database
RS=$D/restored.db
run "$PB" restore --from "$BK" --db "$RS"
check "restore into a new database exits 0; ledger verify there counts the same transfers" \
    "$([ $RC -eq 0 ] && grep -q '"restore":"ok"' "$OUT" && grep -q '"ledger_verify":"ok"' "$OUT" &&
        "$PB" ledger verify --db "$RS" >"$D/rs.out" 2>&1 &&
        grep -q "^ledger verify: $first transfers" "$D/rs.out"; echo $?)" "exit $RC"
run "$PB" restore --from "$BK" --db "$RS"
check "restore over an existing database without --replace exits 2" \
    "$([ $RC -eq 2 ] && grep -q 'already exists' "$ERR"; echo $?)" "exit $RC"
run "$PB" restore --from "$BK" --db "$RS" --replace
check "restore --replace exits 0, keeps the old database and leaves no -wal of it" \
    "$([ $RC -eq 0 ] && [ -n "$(ls "$D" | grep '^restored\.db\.replaced-')" ] &&
        [ ! -e "$RS-wal" ]; echo $?)" "exit $RC"
if [ -f "$D/tampered-copy.db" ]; then
    run "$PB" restore --from "$D/tampered-copy.db" --db "$D/from-tampered.db"
    check "restore of a backup whose ledger has violations exits 1 and restores nothing" \
        "$([ $RC -eq 1 ] && grep -q '^VIOLATION' "$ERR" && [ ! -e "$D/from-tampered.db" ]; echo $?)" \
        "exit $RC"
else
    not_ok "restore of a backup whose ledger has violations exits 1 and restores nothing" \
        "no tampered copy to restore"
fi

# ---- PITBOSS_DB
ENVDB=$D/env.db
PITBOSS_DB=$ENVDB run "$PB" demo
check "demo without --db uses \$PITBOSS_DB" \
    "$([ $RC -eq 0 ] && [ -f "$ENVDB" ] && [ ! -e "$D/var/pitboss.db" ]; echo $?)" "exit $RC"
PITBOSS_DB=$ENVDB run "$PB" ledger verify
check "ledger verify without --db uses \$PITBOSS_DB" \
    "$([ $RC -eq 0 ] && [ "$(transfers)" = "$first" ]; echo $?)" "exit $RC"
PITBOSS_DB=$D/no/such/dir/env.db run "$PB" ledger verify --db "$DB"
check "--db wins over \$PITBOSS_DB" "$([ $RC -eq 0 ] && [ "$(transfers)" = "$first" ]; echo $?)" \
    "exit $RC"

# ---- the catalog: the in-house games' provider is the server's
CDB=$D/catalog.db
run "$PB" provider create --code pitboss --name X --protocol native --db "$CDB" --keys-dir "$D/ckeys"
check "provider create refuses the in-house provider pitboss (exit 2, PROVIDER_IN_HOUSE)" \
    "$([ $RC -eq 2 ] && grep -q PROVIDER_IN_HOUSE "$ERR"; echo $?)" "exit $RC"
run "$PB" game create --provider pitboss --code dice9 --name X --category table --rtp-bp 9900 \
    --volatility low --limit EUR:10:1000 --db "$CDB"
check "game create under pitboss is refused (exit 2, PROVIDER_IN_HOUSE): its games are the server's" \
    "$([ $RC -eq 2 ] && grep -q PROVIDER_IN_HOUSE "$ERR"; echo $?)" "exit $RC"

# ---- bench
run "$PB" bench ledger --clients 2 --seconds 0.5 --accounts 50 --dir "$D"
lines=$(grep -c . "$OUT")
check "bench ledger exits 0 and prints one line" "$([ $RC -eq 0 ] && [ "$lines" -eq 1 ]; echo $?)" \
    "exit $RC, $lines line(s)"
if command -v python3 >/dev/null 2>&1; then
    json_ok=$(python3 -c 'import json,sys
r = json.loads(open(sys.argv[1]).read())
cpu = [r["cpu_busy_pct"], r["cpu_iowait_pct"], r["cpu_steal_pct"]]
sys.exit(0 if r["bench"] == "ledger" and r["clients"] == 2 and r["verify"] == "ok"
         and r["transfers"] > 0 and all(0 <= x <= 100 for x in cpu) and sum(cpu) <= 100.1
         else 1)' "$OUT" 2>/dev/null; echo $?)
else
    json_ok=$(grep -q '^{.*"bench":"ledger".*"clients":2,.*"verify":"ok".*}$' "$OUT"; echo $?)
fi
check "the bench line is JSON with bench=ledger, clients=2, verify=ok and the machine's CPU shares" "$json_ok"
check "bench removes its database" "$([ -z "$(ls "$D"/bench-ledger-* 2>/dev/null)" ]; echo $?)"

# ---- the disk benchmark (scripts/bench-disk.sh, fio): one second into $D
BD=$(cd "$HERE/../../scripts" && pwd)/bench-disk.sh
run env BENCH_DISK_SECONDS=1 "$BD" "$D/disk"
disk_ok=$(python3 -c 'import json,sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[0])
sys.exit(0 if r["bench"] == "disk" and r["write_kib"] == 8 and r["syncs"] > 0
         and 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"] and r["syncs_per_s"] > 0
         and lines[1].startswith("bench disk: ") else 1)' "$OUT" 2>/dev/null; echo $?)
check "bench-disk.sh prints the sync latencies fio measured, and leaves no file" \
    "$([ $RC -eq 0 ] && [ "$disk_ok" -eq 0 ] && [ -z "$(ls -A "$D/disk")" ]; echo $?)" "exit $RC"
run env BENCH_DISK_SECONDS=0 "$BD" "$D/disk"
check "bench-disk.sh refuses a run of 0 seconds (exit 2)" \
    "$([ $RC -eq 2 ] && grep -q 'BENCH_DISK_SECONDS' "$ERR"; echo $?)" "exit $RC"

tap_done
