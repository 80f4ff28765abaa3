#!/usr/bin/env bash
# test_ledger_anchor_cli.sh — `pitboss ledger verify` as an auditor uses it, with
# public keys only: the demo ledger anchored by a `pitboss serve` stopped cleanly
# (it signs the head as it stops, with the audit key of its keys directory), then
# verified with --trust-key HEX (the audit key's public half, as `audit verify`
# takes it) and no keys directory; with a keys directory holding only the public
# parts (audit-retired.pub after a rotation); and anchors forged through the
# sqlite3 shell (a signature changed, a row re-keyed to another key) reported as
# anchor_signature / anchor_untrusted.
#
# Usage: tests/cli/test_ledger_anchor_cli.sh PATH/TO/pitboss     (speaks TAP)
set -u

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "1..0 # SKIP usage: $0 PATH/TO/pitboss (got '${1:-}')"
    exit 1
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
    echo "1..0 # SKIP the sqlite3 shell is missing"
    exit 0
fi
PB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd) # before the cd below: tap.sh is beside this file
D=$(mktemp -d "${TMPDIR:-/tmp}/pbanchor-cli.XXXXXX")
SERVE_PID=
trap '[ -n "$SERVE_PID" ] && kill -KILL "$SERVE_PID" 2>/dev/null; rm -rf "$D"' EXIT
cd "$D" || exit 1
for k in $(env | sed -n 's/^\(PITBOSS_[A-Z_]*\)=.*/\1/p'); do unset "$k"; done
export PITBOSS_WAL_RESERVE=0 # no 280 MB of zeros for a test database

PLAN=16
. "$HERE/tap.sh"
# serve_once DB KEYS: starts pitboss serve, waits until it listens, stops it with
# SIGTERM (it anchors the ledger as it stops); 0 when it exited 0
serve_once() {
    "$PB" serve --listen 127.0.0.1:0 --db "$1" --keys-dir "$2" >/dev/null 2>"$D/serve.err" &
    SERVE_PID=$!
    local i
    for i in $(seq 300); do
        grep -q '"event":"http.listening"' "$D/serve.err" && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID"
    local rc=$?
    SERVE_PID=
    return $rc
}
# key_id HEX: the anchor's key id of a public key (the first 8 bytes of its SHA-256)
key_id() { printf '%b' "$(echo "$1" | sed 's/../\\x&/g')" | sha256sum | cut -c1-16; }
nviol() { sed -n 's/^ledger verify: .* \([0-9][0-9]*\) violation(s)$/\1/p' "$OUT"; }
sigline() { grep -q "^ledger verify: .* signatures checked$" "$OUT"; }

# ---- the audit key (its public half printed as the operator hands it over)
KEYS=$D/keys
run "$PB" audit checkpoint --db "$D/scratch.db" --keys-dir "$KEYS"
PUB=$(sed -n 's/.*public key \([0-9a-f]\{64\}\)).*/\1/p' "$OUT")
check "audit checkpoint creates the audit key and prints its public key" \
    "$([ $RC -eq 0 ] && [ ${#PUB} -eq 64 ]; echo $?)" "exit $RC"

# ---- a ledger anchored by serve
DB=$D/x.db
run "$PB" demo --db "$DB"
serve_once "$DB" "$KEYS"
RC=$?
head=$(sqlite3 "$DB" "SELECT max(seq) FROM ledger_transfer")
aseq=$(sqlite3 "$DB" "SELECT max(transfer_seq) FROM ledger_anchor")
check "serve stopped cleanly anchors the demo ledger through its last transfer" \
    "$([ $RC -eq 0 ] && [ -n "$head" ] && [ "$head" -gt 0 ] && [ "$aseq" = "$head" ]; echo $?)" \
    "serve exit $RC, head $head, anchored $aseq" "$(tail -5 "$D/serve.err")"

# ---- verified with the public key only, no keys directory
run "$PB" ledger verify --db "$DB" --trust-key "$PUB"
check "ledger verify --trust-key PUB (no --keys-dir): exit 0, signatures checked" \
    "$([ $RC -eq 0 ] && [ "$(nviol)" = 0 ] && sigline; echo $?)" "exit $RC"
OTHER=$(printf '%064d' 7 | tr 0 a)
run "$PB" ledger verify --db "$DB" --trust-key "$OTHER"
check "another key trusted: exit 1, anchor_untrusted naming the anchor's key" \
    "$([ $RC -eq 1 ] && grep -q "^VIOLATION anchor_untrusted: anchor 1 .*key $(key_id "$PUB"), which is not trusted" "$OUT"; echo $?)" \
    "exit $RC"
run "$PB" ledger verify --db "$DB" --trust-key "$OTHER" --trust-key "$PUB"
check "--trust-key is repeatable: the anchor's key among others passes (exit 0)" \
    "$([ $RC -eq 0 ] && sigline; echo $?)" "exit $RC"
run "$PB" ledger verify --db "$DB" --trust-key nothex
check "a malformed --trust-key exits 2 (as audit verify)" \
    "$([ $RC -eq 2 ] && grep -q -- '--trust-key wants 64 hex digits' "$ERR"; echo $?)" "exit $RC"
run "$PB" ledger verify --db "$DB"
check "without keys the summary says the signatures were not checked" \
    "$([ $RC -eq 0 ] && grep -q 'signatures not checked (no --keys-dir or --trust-key)$' "$OUT"; echo $?)" \
    "exit $RC"

# ---- forged anchors
F1=$D/forged-sig.db
cp "$DB" "$F1"
sqlite3 "$F1" "UPDATE ledger_anchor SET signature = zeroblob(64) WHERE id = 1"
run "$PB" ledger verify --db "$F1" --trust-key "$PUB"
check "an anchor whose signature was changed: exit 1, anchor_signature (public key only)" \
    "$([ $RC -eq 1 ] && grep -q '^VIOLATION anchor_signature: anchor 1 ' "$OUT"; echo $?)" "exit $RC"
F2=$D/forged-key.db
cp "$DB" "$F2"
sqlite3 "$F2" "UPDATE ledger_anchor SET public_key = X'$OTHER', key_id = '$(key_id "$OTHER")' WHERE id = 1"
run "$PB" ledger verify --db "$F2" --trust-key "$PUB"
check "an anchor re-keyed to a key nobody trusts: exit 1, anchor_untrusted (public key only)" \
    "$([ $RC -eq 1 ] && grep -q '^VIOLATION anchor_untrusted: anchor 1 ' "$OUT" &&
        ! grep -q anchor_malformed "$OUT"; echo $?)" "exit $RC"

# ---- rotate-key anchors the ledger with the key it retires (a demo ledger never
# anchored: without that anchor its transfers would be signed by the new key only)
K2=$D/keys2
run "$PB" audit checkpoint --db "$D/scratch2.db" --keys-dir "$K2"
PUB2=$(sed -n 's/.*public key \([0-9a-f]\{64\}\)).*/\1/p' "$OUT")
DB2=$D/y.db
"$PB" demo --db "$DB2" >/dev/null 2>&1
cp "$DB2" "$D/y-damaged.db"
head2=$(sqlite3 "$DB2" "SELECT max(seq) FROM ledger_transfer")
run "$PB" audit rotate-key --db "$DB2" --keys-dir "$K2"
got=$(sqlite3 "$DB2" "SELECT count(*) || ' ' || max(transfer_seq) || ' ' || max(key_id) FROM ledger_anchor")
check "rotate-key first anchors the ledger with the key it retires (through the head)" \
    "$([ $RC -eq 0 ] && [ "$got" = "1 $head2 $(key_id "$PUB2")" ] &&
        grep -q "^ledger anchored with the key being retired: anchor 1 through transfer seq $head2," "$OUT"; echo $?)" \
    "exit $RC, anchors/head/key: $got (head $head2, key $(key_id "$PUB2"))"
run "$PB" ledger verify --db "$DB2" --keys-dir "$K2"
check "... and that anchor verifies under the retired key (exit 0, signatures checked)" \
    "$([ $RC -eq 0 ] && sigline &&
        grep -q "^ledger verify: 1 anchor(s), signed through transfer seq $head2 (0 transfer(s) above it)" "$OUT"; echo $?)" \
    "exit $RC"
# a damaged last anchor: the rotation is refused (key unchanged) unless told to skip it
K3=$D/keys3
mkdir -m 700 "$K3" && cp -p "$K2/audit-ed25519.key" "$K3/"
sqlite3 "$D/y-damaged.db" "INSERT INTO ledger_anchor (id, transfer_seq, transfer_hash, accounts_after,
    account_upto, accounts_digest, created_at, key_id, public_key, signature)
    VALUES (1, 1, x'00', 0, 0, zeroblob(32), 0, 'x', zeroblob(32), zeroblob(64))"
before=$(cat "$K3/audit-ed25519.key")
run "$PB" audit rotate-key --db "$D/y-damaged.db" --keys-dir "$K3"
rc1=$RC
after1=$(cat "$K3/audit-ed25519.key")
refused=$(grep -c "rotation refused, the key in use unchanged: the ledger's last anchor" "$ERR")
run "$PB" audit rotate-key --db "$D/y-damaged.db" --keys-dir "$K3" --skip-ledger-anchor
check "a damaged last anchor refuses the rotation (exit 2, key unchanged); --skip-ledger-anchor rotates" \
    "$([ $rc1 -eq 2 ] && [ "$refused" = 1 ] && [ "$after1" = "$before" ] && [ $RC -eq 0 ] &&
        [ "$(cat "$K3/audit-ed25519.key")" != "$before" ]; echo $?)" "exit $rc1 then $RC"

# ---- a keys directory holding only the public parts
run "$PB" audit rotate-key --db "$DB" --keys-dir "$KEYS"
NEW=$(sed -n 's/.*new key [0-9a-f]* (public key \([0-9a-f]\{64\}\)).*/\1/p' "$OUT")
PUBDIR=$D/public
mkdir "$PUBDIR"
cp "$KEYS/audit-retired.pub" "$PUBDIR/"
check "audit rotate-key retires the key into audit-retired.pub" \
    "$([ $RC -eq 0 ] && grep -q "^$PUB " "$PUBDIR/audit-retired.pub"; echo $?)" "exit $RC"
run "$PB" ledger verify --db "$DB" --keys-dir "$PUBDIR"
check "--keys-dir with only audit-retired.pub: the retired key's anchor passes (exit 0)" \
    "$([ $RC -eq 0 ] && sigline; echo $?)" "exit $RC"
run "$PB" ledger verify --db "$DB" --keys-dir "$PUBDIR" --trust-key "$NEW"
check "--keys-dir of public parts with --trust-key of the key in use: exit 0" \
    "$([ $RC -eq 0 ] && [ ${#NEW} -eq 64 ] && sigline; echo $?)" "exit $RC"
run "$PB" ledger verify --db "$F2" --keys-dir "$PUBDIR" --trust-key "$NEW"
check "--keys-dir of public parts with --trust-key: a forged anchor still fails (anchor_untrusted)" \
    "$([ $RC -eq 1 ] && grep -q '^VIOLATION anchor_untrusted: anchor 1 ' "$OUT"; echo $?)" "exit $RC"

tap_done
