#!/usr/bin/env bash
# run-harness.sh HARNESS SEED_CORPUS — runs one libFuzzer harness for
# $FUZZ_SECONDS seconds (default 3) and reports it as one TAP case:
#     ok 1 - fuzz_money: 123456 execs in 3 s (41152/s), corpus 37 inputs
# The harness starts from its working corpus (build-fuzz/fuzz/work/<name>/, kept
# between runs, so `make fuzz` builds on what earlier runs found) and the seed
# corpus in the repo (read only). A crash, leak, timeout or sanitizer report
# fails the case; the input that caused it is saved under
# build-fuzz/fuzz/artifacts/ and named in the output: copy it into the seed
# corpus as regress-<what> once fixed, so fuzz_replay_<name> replays it forever.
set -uo pipefail
exe=$1
seeds=$2
secs=${FUZZ_SECONDS:-3}
name=$(basename "$exe")
base=$(dirname "$exe")
work="$base/work/${name#fuzz_}"
arts="$base/artifacts"
log="$base/logs/$name.log"
mkdir -p "$work" "$arts" "$(dirname "$log")"

echo "1..1"
"$exe" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$arts/$name-" "$work" "$seeds" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
secs_done=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
units=$(find "$work" -type f | wc -l)
if [ $rc -eq 0 ] && [ -n "$execs" ]; then
  rate=$(( execs / (secs_done > 0 ? secs_done : 1) ))
  echo "ok 1 - $name: $execs execs in ${secs_done:-$secs} s (${rate}/s), corpus $units inputs"
  exit 0
fi
echo "not ok 1 - $name: exit $rc after ${execs:-0} execs (log: $log)"
grep -E 'ERROR|SUMMARY|property failed|Test unit written|artifact' "$log" | head -20 | sed 's/^/# /'
exit 1
