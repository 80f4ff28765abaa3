#!/usr/bin/env bash
# test_identity_cli.sh — `pitboss brand` and `pitboss admin` end to end, as an
# operator bootstraps an installation: create and list brands (and the refusals,
# with their stable codes and exit statuses), create the first admin (a one-time
# password printed once and stored only as an argon2id hash, TOTP enrolment and a
# password change pending), scoped staff, and the refusals of a duplicate email,
# an unknown brand and a global scope for a role that may not have one.
#
# Usage: tests/cli/test_identity_cli.sh PATH/TO/pitboss     (speaks TAP)
set -u

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "1..0 # SKIP usage: $0 PATH/TO/pitboss (got '${1:-}')"
    exit 1
fi
PB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
D=$(mktemp -d "${TMPDIR:-/tmp}/pbidcli.XXXXXX")
trap 'rm -rf "$D"' EXIT
cd "$D" || exit 1
DB=$D/id.db
OUT=$D/out
ERR=$D/err

echo "1..17"
N=0
FAILS=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
    N=$((N + 1))
    FAILS=$((FAILS + 1))
    echo "not ok $N - $1"
    shift
    for line in "$@"; do echo "# $line"; done
    if [ -s "$OUT" ]; then sed 's/^/#   stdout: /' "$OUT" | head -20; fi
    if [ -s "$ERR" ]; then sed 's/^/#   stderr: /' "$ERR" | head -20; fi
}
run() { "$@" >"$OUT" 2>"$ERR"; RC=$?; }
check() {
    local name=$1 res=$2
    shift 2
    if [ "$res" -eq 0 ]; then ok "$name"; else not_ok "$name" "$@"; fi
}
sql() { sqlite3 "$DB" "$1"; }

run "$PB" --help
check "--help lists brand and admin" \
    "$(grep -q 'brand create' "$OUT" && grep -q 'admin create' "$OUT"; echo $?)"

run "$PB" brand create --code demo --name "Demo Casino" --currency EUR --currencies EUR,USD \
    --jurisdiction MT --db "$DB"
check "brand create" "$([ $RC -eq 0 ] && grep -q '^brand demo id=1 .*currencies=EUR,USD' "$OUT"; echo $?)" "exit $RC"

run "$PB" brand create --code demo --name "Again" --currency EUR --jurisdiction MT --db "$DB"
check "a duplicate code is refused (exit 1, BRAND_EXISTS)" \
    "$([ $RC -eq 1 ] && grep -q BRAND_EXISTS "$ERR"; echo $?)" "exit $RC"

run "$PB" brand create --code other --name "Other" --currency EUR --currencies USD,GBP \
    --jurisdiction MT --db "$DB"
check "a default outside the list is refused (CURRENCY_NOT_ALLOWED)" \
    "$([ $RC -eq 1 ] && grep -q CURRENCY_NOT_ALLOWED "$ERR"; echo $?)" "exit $RC"

run "$PB" brand create --code other --name "Other" --currency XYZ --jurisdiction MT --db "$DB"
check "an unknown currency is refused (CURRENCY_UNKNOWN)" \
    "$([ $RC -eq 1 ] && grep -q CURRENCY_UNKNOWN "$ERR"; echo $?)" "exit $RC"

run "$PB" brand create --code other --name "Other" --db "$DB"
check "missing options: usage, exit 2" "$([ $RC -eq 2 ] && grep -q usage "$ERR"; echo $?)" "exit $RC"

run "$PB" brand create --code on-1 --name "Ontario" --currency CAD --jurisdiction CA-ON --db "$DB"
run "$PB" brand list --db "$DB"
check "brand list shows both brands" \
    "$([ $RC -eq 0 ] && [ "$(grep -c '^brand ' "$OUT")" -eq 2 ] && grep -q 'jurisdiction=CA-ON' "$OUT"; echo $?)" \
    "exit $RC"

run "$PB" admin create --email Root@Example.com --role admin --db "$DB"
OTP=$(sed -n 's/^one-time password: //p' "$OUT")
check "admin create prints a one-time password" \
    "$([ $RC -eq 0 ] && [[ "$OTP" =~ ^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$ ]] && grep -q 'TOTP' "$OUT"; echo $?)" \
    "exit $RC" "otp '$OTP'"
check "the admin sees every brand and must change the password" \
    "$([ "$(sql "SELECT email||'|'||role||'|'||all_brands||'|'||must_change_password||'|'||totp_enrolled FROM staff")" = 'root@example.com|admin|1|1|0' ]; echo $?)"
check "the password is stored only as an argon2id hash" \
    "$([ "$(sql "SELECT count(*) FROM staff WHERE password_hash LIKE '\$argon2id\$%' AND instr(password_hash,'$OTP')=0")" = 1 ]; echo $?)"
check "the password appears in no log line" "$(! grep -q -- "$OTP" "$ERR"; echo $?)"

run "$PB" admin create --email root@example.com --db "$DB"
check "a duplicate email is refused (exit 1, EMAIL_TAKEN)" \
    "$([ $RC -eq 1 ] && grep -q EMAIL_TAKEN "$ERR"; echo $?)" "exit $RC"

run "$PB" admin create --email sup@example.com --role support --db "$DB"
check "a support member without --brand is a usage error" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"

run "$PB" admin create --email sup@example.com --role support --brand demo --brand on-1 --db "$DB"
check "a scoped support member" \
    "$([ $RC -eq 0 ] && [ "$(sql "SELECT count(*) FROM staff_brand b JOIN staff s ON s.id=b.staff_id WHERE s.email='sup@example.com'")" = 2 ]; echo $?)" \
    "exit $RC"

run "$PB" admin create --email x@example.com --role risk --brand nope --db "$DB"
check "an unknown brand is refused (BRAND_NOT_FOUND)" \
    "$([ $RC -eq 1 ] && grep -q BRAND_NOT_FOUND "$ERR"; echo $?)" "exit $RC"
check "each member created is audited once, by system/cli, with its scope (the refusals not at all)" \
    "$([ "$(sql "SELECT group_concat(a.actor_kind||'/'||a.actor_id||' '||s.email||' '||json_extract(a.after,'\$.role')||' '||json_extract(a.after,'\$.brands'), ';') FROM audit_entry a JOIN staff s ON s.public_id=a.target_id WHERE a.action='staff.create' AND a.target_kind='staff' ORDER BY a.seq")" = 'system/cli root@example.com admin [];system/cli sup@example.com support ["demo","on-1"]' ] && [ "$(sql "SELECT count(*) FROM audit_entry WHERE action='staff.create'")" = 2 ]; echo $?)" \
    "$(sql "SELECT actor_kind, actor_id, target_id, after FROM audit_entry WHERE action='staff.create'")"

run "$PB" admin create --email y@example.com --role wizard --db "$DB"
check "an unknown role is a usage error" "$([ $RC -eq 2 ] && grep -q "unknown role" "$ERR"; echo $?)" "exit $RC"

[ $FAILS -eq 0 ]
