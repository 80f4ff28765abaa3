#!/usr/bin/env bash
# test_audit_cli.sh — end-to-end tests of `pitboss audit`, as an operator and a
# regulator use it: verify, checkpoint and export on audit logs built by the
# test-only tool make_audit_db (12 entries, a checkpoint over seqs 1..10), the
# export re-checked without pitboss (audit_export_check.py), and the tamper
# cases through the sqlite3 shell: a changed field, a deleted row, the last
# signed row cut off, a forged signature, an untrusted key; the signing key's
# rotation (the retired key trusted up to the seq it signed last, only); and
# `pitboss backup` / `restore` checking a copy's audit chain (intact, then tampered).
#
# Usage: tests/cli/test_audit_cli.sh PATH/TO/pitboss PATH/TO/make_audit_db   (speaks TAP)
# Cases that need the sqlite3 shell or python3 report "not ok" when it is missing.
set -u

if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
    echo "1..0 # SKIP usage: $0 PATH/TO/pitboss PATH/TO/make_audit_db"
    exit 1
fi
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
PB=$(abs "$1")
MAKE=$(abs "$2")
CHECK=$(cd "$(dirname "$0")" && pwd)/audit_export_check.py
HERE=$(cd "$(dirname "$0")" && pwd) # before the cd below: tap.sh is beside this file
D=$(mktemp -d "${TMPDIR:-/tmp}/pbaudit-cli.XXXXXX")
trap 'rm -rf "$D"' EXIT
cd "$D" || exit 1 # nothing may land in the caller's var/
unset PITBOSS_KEYS_DIR PITBOSS_DB

PLAN=54
. "$HERE/tap.sh"
KEYS=$D/keys
has_sqlite() { command -v sqlite3 >/dev/null 2>&1; }
has_python() { command -v python3 >/dev/null 2>&1; }
# make DB N SIGNED: a fresh audit log signed by the key in $KEYS
mkdb() { "$MAKE" "$1" "$KEYS" "$2" "$3" >/dev/null; }
# the violation count of the summary line, and the number of VIOLATION lines
nviol() { sed -n 's/^audit verify: .* \([0-9][0-9]*\) violation(s)$/\1/p' "$OUT"; }
nlines() { grep -c '^VIOLATION ' "$OUT"; }

# ---- the binary lists the commands
run "$PB" --help
missing=""
for cmd in "audit verify" "audit export" "audit checkpoint"; do
    grep -q "^  $cmd" "$OUT" || missing="$missing '$cmd'"
done
check "--help lists audit verify, export and checkpoint" "$([ -z "$missing" ]; echo $?)" \
    "missing:$missing"
run "$PB" audit
check "audit without a subcommand exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"

# ---- a clean log
A=$D/a.db
run "$MAKE" "$A" "$KEYS" 12 10
check "make_audit_db builds 12 entries and a checkpoint" "$([ $RC -eq 0 ]; echo $?)" "exit $RC"
run "$PB" audit verify --db "$A" --keys-dir "$KEYS"
check "verify on a clean log exits 0" "$([ $RC -eq 0 ]; echo $?)" "exit $RC"
check "verify reports 12 entries, signed through seq 10, 2 unsigned, 0 violation(s)" \
    "$(grep -q '^audit verify: 12 entries (head seq 12), 1 checkpoint(s), signed through seq 10, 2 unsigned, 0 violation(s)$' "$OUT"; echo $?)"
check "verify on a clean log prints no VIOLATION and no broken entry" \
    "$(! grep -Eq '^(VIOLATION|first broken)' "$OUT"; echo $?)"

run "$PB" audit checkpoint --db "$A" --keys-dir "$KEYS"
check "checkpoint signs the two new entries" \
    "$([ $RC -eq 0 ] && grep -q '^audit checkpoint: id 2 signs the chain through seq 12 ' "$OUT"; echo $?)" \
    "exit $RC"
PUBKEY=$(sed -n 's/.*public key \([0-9a-f]\{64\}\)).*/\1/p' "$OUT")
check "checkpoint prints the 64-hex-digit public key" "$([ ${#PUBKEY} -eq 64 ]; echo $?)"
run "$PB" audit public-key --keys-dir "$KEYS"
check "public-key prints the key in use: the same public key, and its id" \
    "$([ $RC -eq 0 ] && grep -Eq "^key id [0-9a-f]+ public key $PUBKEY\$" "$OUT"; echo $?)" "exit $RC"
run "$PB" audit public-key --keys-dir "$D/no-such-keys"
check "public-key without a key exits 2 and creates none" \
    "$([ $RC -eq 2 ] && [ ! -e "$D/no-such-keys" ]; echo $?)" "exit $RC"
run "$PB" audit checkpoint --db "$A" --keys-dir "$KEYS"
check "a second checkpoint has nothing new to sign" \
    "$([ $RC -eq 0 ] && grep -q 'nothing new to sign; checkpoint id 2 covers the head, seq 12' "$OUT"; echo $?)" \
    "exit $RC"
PITBOSS_KEYS_DIR=$KEYS run "$PB" audit verify --db "$A"
check "verify finds the key through \$PITBOSS_KEYS_DIR; everything signed" \
    "$([ $RC -eq 0 ] && grep -q 'signed through seq 12, 0 unsigned, 0 violation(s)' "$OUT"; echo $?)" \
    "exit $RC"

# ---- trust
OTHER=$D/other-keys
run "$PB" audit checkpoint --db "$D/empty.db" --keys-dir "$OTHER"
check "checkpoint creates a missing key file (mode 0600) and signs nothing on an empty log" \
    "$([ $RC -eq 0 ] && [ "$(stat -c %a "$OTHER/audit-ed25519.key")" = 600 ] &&
        grep -q 'created the audit signing key' "$OUT" && grep -q 'the audit log is empty' "$OUT"; echo $?)" \
    "exit $RC"
run "$PB" audit verify --db "$A" --keys-dir "$OTHER"
check "verify with another key exits 1 naming the checkpoints as untrusted" \
    "$([ $RC -eq 1 ] && [ "$(grep -c '^VIOLATION checkpoint_untrusted: checkpoint id [12] ' "$OUT")" -eq 2 ]; echo $?)" \
    "exit $RC"
check "an untrusted checkpoint is named as the first broken checkpoint" \
    "$(grep -q '^first broken checkpoint: id 1: ' "$OUT"; echo $?)"
run "$PB" audit verify --db "$A" --keys-dir "$OTHER" --trust-key "$PUBKEY"
check "--trust-key HEX makes the signing key trusted: exit 0" "$([ $RC -eq 0 ]; echo $?)" "exit $RC"
run "$PB" audit verify --db "$A" --trust-key nothex
check "a malformed --trust-key exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"

# ---- export
X=$D/export.jsonl
run "$PB" audit export --db "$A" --keys-dir "$KEYS" --out "$X"
check "export exits 0 and reports 12 entries and 2 checkpoints" \
    "$([ $RC -eq 0 ] && grep -q '^audit export: 12 entries (seq 1..12), 2 checkpoint(s)' "$ERR"; echo $?)" \
    "exit $RC"
check "the export file is private (mode 0600) and has 1 + 12 + 2 lines" \
    "$([ "$(stat -c %a "$X")" = 600 ] && [ "$(wc -l <"$X")" -eq 15 ]; echo $?)"
if has_python; then
    run python3 "$CHECK" "$X" --trust-key "$PUBKEY"
    check "the export verifies without pitboss (hashes, links, signatures)" \
        "$([ $RC -eq 0 ] && grep -q '^ok: 12 entries, 2 checkpoints' "$OUT"; echo $?)" "exit $RC"
    sed 's/"reason":"wrong password"/"reason":"right password"/' "$X" >"$D/edited.jsonl"
    run python3 "$CHECK" "$D/edited.jsonl"
    check "an edited export fails the independent check" \
        "$([ $RC -eq 1 ] && grep -q '^FAIL: entry seq 3: hash mismatch' "$OUT"; echo $?)" "exit $RC"
    run python3 "$CHECK" "$X" --trust-key "$(printf '0%.0s' $(seq 64))"
    check "the independent check refuses keys it does not trust" \
        "$([ $RC -eq 1 ] && grep -q 'untrusted key' "$OUT"; echo $?)" "exit $RC"
else
    for c in "the export verifies without pitboss (hashes, links, signatures)" \
        "an edited export fails the independent check" \
        "the independent check refuses keys it does not trust"; do
        not_ok "$c" "python3 missing"
    done
fi
run "$PB" audit export --db "$A" --since 2026-11-18T00:00:04Z --until 2026-11-18T00:00:08Z
check "export --since/--until writes entries 5..8 to stdout" \
    "$([ $RC -eq 0 ] && [ "$(grep -c '"type":"entry"' "$OUT")" -eq 4 ] &&
        grep -q '"type":"entry","seq":5,' "$OUT" && grep -q '"type":"entry","seq":8,' "$OUT"; echo $?)" \
    "exit $RC"
run "$PB" audit export --db "$A" --since yesterday
check "export with a malformed --since exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"

# ---- tampering through the sqlite3 shell
if has_sqlite && mkdb "$D/t1.db" 12 10; then
    sqlite3 "$D/t1.db" "UPDATE audit_entry SET reason='x' WHERE seq=5"
    run "$PB" audit verify --db "$D/t1.db" --keys-dir "$KEYS"
    check "a changed reason: verify exits 1" "$([ $RC -eq 1 ]; echo $?)" "exit $RC"
    check "a changed reason: VIOLATION hash_mismatch names seq 5" \
        "$(grep -Eq '^VIOLATION hash_mismatch: entry seq 5 \(id [0-9a-f-]{36}\)' "$OUT"; echo $?)"
    check "a changed reason: first broken entry: seq 5 (id …): hash mismatch" \
        "$(grep -Eq '^first broken entry: seq 5 \(id [0-9a-f-]{36}\): hash mismatch$' "$OUT"; echo $?)"
    check "the summary counts every VIOLATION line" \
        "$([ "$(nviol)" = "$(nlines)" ] && [ "$(nlines)" -eq 1 ]; echo $?)" \
        "summary '$(nviol)', lines $(nlines)"
else
    : >"$OUT"; : >"$ERR"
    for c in "a changed reason: verify exits 1" "a changed reason: VIOLATION hash_mismatch names seq 5" \
        "a changed reason: first broken entry: seq 5 (id …): hash mismatch" \
        "the summary counts every VIOLATION line"; do
        not_ok "$c" "sqlite3 shell missing or make_audit_db failed"
    done
fi

if has_sqlite && mkdb "$D/t2.db" 12 10; then
    sqlite3 "$D/t2.db" "DELETE FROM audit_entry WHERE seq=7"
    run "$PB" audit verify --db "$D/t2.db" --keys-dir "$KEYS"
    check "a deleted row: verify exits 1" "$([ $RC -eq 1 ]; echo $?)" "exit $RC"
    check "a deleted row: VIOLATION seq_gap names seq 7" \
        "$(grep -q '^VIOLATION seq_gap: entry seq 7 is missing' "$OUT"; echo $?)"
    check "a deleted row: first broken entry: seq 7 (missing)" \
        "$(grep -q '^first broken entry: seq 7 (missing): deleted$' "$OUT"; echo $?)"
else
    : >"$OUT"; : >"$ERR"
    for c in "a deleted row: verify exits 1" "a deleted row: VIOLATION seq_gap names seq 7" \
        "a deleted row: first broken entry: seq 7 (missing)"; do
        not_ok "$c" "sqlite3 shell missing or make_audit_db failed"
    done
fi

if has_sqlite && mkdb "$D/t3.db" 12 12; then
    sqlite3 "$D/t3.db" "DELETE FROM audit_entry WHERE seq=12"
    run "$PB" audit verify --db "$D/t3.db" --keys-dir "$KEYS"
    check "the signed last row deleted: verify exits 1 (checkpoint_beyond_head)" \
        "$([ $RC -eq 1 ] && grep -q '^VIOLATION checkpoint_beyond_head: checkpoint id 1 signed the chain through seq 12 but the log ends at seq 11' "$OUT"; echo $?)" \
        "exit $RC"
    check "the signed last row deleted: first broken entry: seq 12" \
        "$(grep -q '^first broken entry: seq 12 (missing): removed from the end of the log' "$OUT"; echo $?)"
else
    : >"$OUT"; : >"$ERR"
    for c in "the signed last row deleted: verify exits 1 (checkpoint_beyond_head)" \
        "the signed last row deleted: first broken entry: seq 12"; do
        not_ok "$c" "sqlite3 shell missing or make_audit_db failed"
    done
fi

if has_sqlite && mkdb "$D/t4.db" 12 10; then
    sqlite3 "$D/t4.db" "UPDATE audit_checkpoint SET signature=randomblob(64)"
    run "$PB" audit verify --db "$D/t4.db" --keys-dir "$KEYS"
    check "a forged signature: verify exits 1 with VIOLATION checkpoint_signature" \
        "$([ $RC -eq 1 ] && grep -q '^VIOLATION checkpoint_signature: checkpoint id 1 ' "$OUT"; echo $?)" \
        "exit $RC"
    check "a forged signature: nothing is signed any more, no entry is broken" \
        "$(grep -q 'signed through seq 0, 12 unsigned' "$OUT" && ! grep -q '^first broken entry' "$OUT"; echo $?)"
else
    : >"$OUT"; : >"$ERR"
    for c in "a forged signature: verify exits 1 with VIOLATION checkpoint_signature" \
        "a forged signature: nothing is signed any more, no entry is broken"; do
        not_ok "$c" "sqlite3 shell missing or make_audit_db failed"
    done
fi

# ---- verify that cannot run, and a key that must not be used
run "$PB" audit verify --db "$D/no/such/dir/x.db" --keys-dir "$KEYS"
check "verify on a database in a missing directory exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"
check "verify that cannot run prints no summary" "$(! grep -q '^audit verify:' "$OUT"; echo $?)"
if has_sqlite; then
    sqlite3 "$D/plain.db" "CREATE TABLE t(x)"
    run "$PB" audit verify --db "$D/plain.db" --keys-dir "$KEYS"
    check "verify on a database without the audit tables exits 2" "$([ $RC -eq 2 ]; echo $?)" "exit $RC"
else
    not_ok "verify on a database without the audit tables exits 2" "sqlite3 shell missing"
fi
chmod 644 "$KEYS/audit-ed25519.key"
run "$PB" audit checkpoint --db "$A" --keys-dir "$KEYS"
check "checkpoint refuses a key file others can read (exit 2, says chmod 600)" \
    "$([ $RC -eq 2 ] && grep -q 'chmod 600' "$ERR"; echo $?)" "exit $RC"
chmod 600 "$KEYS/audit-ed25519.key"
run "$PB" audit verify --db "$A" --keys-dir "$KEYS"
check "after chmod 600 the key is used again" "$([ $RC -eq 0 ]; echo $?)" "exit $RC"

# ---- key rotation: the retired key stays trusted up to the head it signed last, only
RK=$D/rot-keys
R=$D/r.db
if has_sqlite && "$MAKE" "$R" "$RK" 12 10 >/dev/null; then
    run "$PB" backup --db "$R" --to "$D/r-before.db" --keys-dir "$RK"
    mkdir -m 700 "$D/old-keys" && cp -p "$RK/audit-ed25519.key" "$D/old-keys/"
    before=$(cat "$RK/audit-ed25519.key")
    run flock -x "$R-writer.lock" "$PB" audit rotate-key --db "$R" --keys-dir "$RK"
    check "rotate-key while the database's writer lock is held (a server): exit 2, key unchanged" \
        "$([ $RC -eq 2 ] && grep -q 'stop the server' "$ERR" &&
            [ "$(cat "$RK/audit-ed25519.key")" = "$before" ] && [ ! -e "$RK/audit-retired.pub" ]; echo $?)" \
        "exit $RC"
    run "$PB" audit rotate-key --db "$R" --keys-dir "$RK"
    OLDPUB=$(sed -n 's/.*retired key [0-9a-f]* (public key \([0-9a-f]\{64\}\)) trusted through seq 12;.*/\1/p' "$OUT")
    check "rotate-key: exit 0, the old key retired through seq 12 in audit-retired.pub, a new key 0600" \
        "$([ $RC -eq 0 ] && [ ${#OLDPUB} -eq 64 ] && [ "$(cat "$RK/audit-retired.pub")" = "$OLDPUB 12" ] &&
            [ "$(cat "$RK/audit-ed25519.key")" != "$before" ] &&
            [ "$(stat -c %a "$RK/audit-ed25519.key")" = 600 ]; echo $?)" "exit $RC"
    run "$PB" audit verify --db "$R" --keys-dir "$RK"
    check "after the rotation the log verifies: the old key signed through seq 12" \
        "$([ $RC -eq 0 ] && grep -q 'signed through seq 12, 0 unsigned, 0 violation(s)' "$OUT"; echo $?)" \
        "exit $RC"
    PITBOSS_PWHASH_COST=min run "$PB" admin create --email rot@example.com --db "$R"
    run "$PB" audit checkpoint --db "$R" --keys-dir "$RK"
    run "$PB" audit verify --db "$R" --keys-dir "$RK"
    check "an entry after the rotation is signed by the new key; old and new checkpoints verify" \
        "$([ $RC -eq 0 ] && grep -q '(head seq 13), 3 checkpoint(s), signed through seq 13, 0 unsigned, 0 violation(s)' "$OUT"; echo $?)" \
        "exit $RC"
    run "$PB" restore --from "$D/r-before.db" --db "$D/r-restored.db" --keys-dir "$RK"
    check "a backup taken before the rotation restores (its checkpoints are the retired key's)" \
        "$([ $RC -eq 0 ] && [ -f "$D/r-restored.db" ]; echo $?)" "exit $RC"
    PITBOSS_PWHASH_COST=min run "$PB" admin create --email rot2@example.com --db "$R"
    run "$PB" audit checkpoint --db "$R" --keys-dir "$D/old-keys"
    run "$PB" audit verify --db "$R" --keys-dir "$RK"
    check "a checkpoint the retired key signs beyond its seq is untrusted (exit 1)" \
        "$([ $RC -eq 1 ] && grep -q '^VIOLATION checkpoint_untrusted: checkpoint id 4 (covers seq 14, .*retired key beyond' "$OUT"; echo $?)" \
        "exit $RC"
    echo "not-a-key 5" >>"$RK/audit-retired.pub"
    run "$PB" audit verify --db "$R" --keys-dir "$RK"
    check "a malformed retired list: verify exits 2 naming its line" \
        "$([ $RC -eq 2 ] && grep -q 'audit-retired.pub line 2 ' "$ERR"; echo $?)" "exit $RC"
    # the trust list's limit (PB_AUDIT_TRUST_MAX 64: the key in use and 63 retired keys)
    head -n 1 "$RK/audit-retired.pub" >"$D/retired-1"
    fill() { # N random retired keys after the real one
        cp "$D/retired-1" "$RK/audit-retired.pub"
        for _ in $(seq "$1"); do
            echo "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n') 3" >>"$RK/audit-retired.pub"
        done
    }
    fill 62
    run "$PB" audit verify --db "$R" --keys-dir "$RK"
    check "63 retired keys and the key in use (the limit, 64): verify runs on them (exit 1, not 2)" \
        "$([ $RC -eq 1 ] && grep -q ' 4 checkpoint(s)' "$OUT"; echo $?)" "exit $RC"
    before=$(cat "$RK/audit-ed25519.key")
    cp "$RK/audit-retired.pub" "$D/retired-63"
    run "$PB" audit rotate-key --db "$R" --keys-dir "$RK"
    check "rotate-key with the list full: exit 2 naming the file and the limit, nothing changed" \
        "$([ $RC -eq 2 ] && grep -q 'audit-retired.pub lists 63 retired keys: .*limit of 64' "$ERR" &&
            [ "$(cat "$RK/audit-ed25519.key")" = "$before" ] &&
            cmp -s "$RK/audit-retired.pub" "$D/retired-63"; echo $?)" "exit $RC"
    fill 63
    run "$PB" audit verify --db "$R" --keys-dir "$RK"
    check "64 retired keys (65 with the key in use): verify exits 2 naming the file and the limit" \
        "$([ $RC -eq 2 ] && grep -q 'audit-retired.pub: more than 64 trusted audit keys (at most 64' "$ERR"; echo $?)" \
        "exit $RC"
    run "$PB" backup --db "$R" --to "$D/r-over.db" --keys-dir "$RK"
    check "... and backup refuses its copy the same way (exit 2, no file)" \
        "$([ $RC -eq 2 ] && grep -q 'audit-retired.pub: more than 64 trusted audit keys' "$ERR" &&
            [ ! -e "$D/r-over.db" ]; echo $?)" "exit $RC"
    cp "$D/retired-1" "$RK/audit-retired.pub"
else
    : >"$OUT"; : >"$ERR"
    for c in "rotate-key while the database's writer lock is held (a server): exit 2, key unchanged" \
        "rotate-key: exit 0, the old key retired through seq 12 in audit-retired.pub, a new key 0600" \
        "after the rotation the log verifies: the old key signed through seq 12" \
        "an entry after the rotation is signed by the new key; old and new checkpoints verify" \
        "a backup taken before the rotation restores (its checkpoints are the retired key's)" \
        "a checkpoint the retired key signs beyond its seq is untrusted (exit 1)" \
        "a malformed retired list: verify exits 2 naming its line" \
        "63 retired keys and the key in use (the limit, 64): verify runs on them (exit 1, not 2)" \
        "rotate-key with the list full: exit 2 naming the file and the limit, nothing changed" \
        "64 retired keys (65 with the key in use): verify exits 2 naming the file and the limit" \
        "... and backup refuses its copy the same way (exit 2, no file)"; do
        not_ok "$c" "sqlite3 shell missing or make_audit_db failed"
    done
fi

# ---- backup and restore check the copy's audit chain with the keys directory's key
if has_sqlite && mkdb "$D/b1.db" 12 10; then
    run "$PB" backup --db "$D/b1.db" --to "$D/b1-copy.db" --keys-dir "$KEYS"
    check "backup of an intact audit log: exit 0, audit_verify ok over its 12 entries" \
        "$([ $RC -eq 0 ] && grep -q '"audit_verify":"ok","audit_entries":12' "$OUT"; echo $?)" \
        "exit $RC"
    sqlite3 "$D/b1.db" "UPDATE audit_entry SET reason='x' WHERE seq=5"
    run "$PB" backup --db "$D/b1.db" --to "$D/b1-tampered.db" --keys-dir "$KEYS"
    check "backup of a tampered audit log: exit 1, VIOLATION hash_mismatch, the copy kept" \
        "$([ $RC -eq 1 ] && grep -q '^VIOLATION hash_mismatch: entry seq 5 ' "$ERR" &&
            grep -q '"audit_verify":"violations"' "$OUT" && [ -f "$D/b1-tampered.db" ]; echo $?)" \
        "exit $RC"
    run "$PB" restore --from "$D/b1-tampered.db" --db "$D/b1-restored.db" --keys-dir "$KEYS"
    check "restore of that copy: exit 1, nothing restored" \
        "$([ $RC -eq 1 ] && [ ! -e "$D/b1-restored.db" ]; echo $?)" "exit $RC"
else
    : >"$OUT"; : >"$ERR"
    for c in "backup of an intact audit log: exit 0, audit_verify ok over its 12 entries" \
        "backup of a tampered audit log: exit 1, VIOLATION hash_mismatch, the copy kept" \
        "restore of that copy: exit 1, nothing restored"; do
        not_ok "$c" "sqlite3 shell missing or make_audit_db failed"
    done
fi

tap_done
