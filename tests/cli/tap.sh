# tap.sh — TAP output for the shell tests of tests/cli (sourced, not run). The
# sourcing script sets D (its temporary directory) and PLAN (its case count) first.
#   ok NAME / not_ok NAME [DIAG...]  one case (a failure prints DIAG, $OUT and $ERR)
#   run CMD...                       CMD with stdout in $OUT, stderr in $ERR; sets RC
#   check NAME RESULT [DIAG...]      ok when RESULT is 0, else not_ok with DIAG
#   tap_done                         the exit status: every planned case ran and passed
echo "1..$PLAN"
N=0
FAILS=0
OUT=$D/out
ERR=$D/err

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
run() {
    "$@" >"$OUT" 2>"$ERR"
    RC=$?
}
check() {
    local name=$1 res=$2
    shift 2
    if [ "$res" -eq 0 ]; then ok "$name"; else not_ok "$name" "$@"; fi
}
tap_done() {
    if [ "$N" -ne "$PLAN" ]; then
        echo "# planned $PLAN cases but ran $N"
        return 1
    fi
    [ "$FAILS" -eq 0 ]
}
