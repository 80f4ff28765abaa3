#!/usr/bin/env bash
# fuzz.sh [--smoke] — builds the libFuzzer harnesses (fuzz/) in build-fuzz with
# clang, ASan and UBSan, runs each one and prints the executions per harness.
#
#   scripts/fuzz.sh            `make fuzz`: each harness for FUZZ_SECONDS (default 60)
#   scripts/fuzz.sh --smoke    `make test`: each for FUZZ_SECONDS (default 3)
#
# Both run the harnesses as the meson tests of suite 'fuzz' in build-fuzz (so
# scripts/test-summary.py counts them from build-fuzz/meson-logs/testlog.json);
# each test is fuzz/run-harness.sh: one TAP case per harness, "not ok" on any
# crash, leak, timeout or sanitizer report with the input saved under
# build-fuzz/fuzz/artifacts/. Every library is compiled with
# -fsanitize=fuzzer-no-link, so libFuzzer is guided by the coverage of the code
# under test, not only of the harness.
set -uo pipefail
cd "$(dirname "$0")/.."

smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1
if [ $smoke -eq 1 ]; then
  export FUZZ_SECONDS=${FUZZ_SECONDS:-3}
else
  export FUZZ_SECONDS=${FUZZ_SECONDS:-60}
fi
dir=${FUZZ_BUILD:-build-fuzz}

if ! command -v clang >/dev/null; then
  echo "fuzz: clang not found (scripts/deps.sh installs it)" >&2
  exit 1
fi
if [ ! -f "$dir/build.ninja" ]; then
  CC=clang meson setup "$dir" --buildtype=debugoptimized -Dwerror=false \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link -Dc_link_args=-fsanitize=fuzzer-no-link >/dev/null ||
    { echo "fuzz: meson setup $dir failed" >&2; exit 1; }
fi
# a stale log must not count for this run (scripts/test-summary.py reads it)
rm -f "$dir/meson-logs/testlog.json"
ninja -C "$dir" fuzz-harnesses >/dev/null || { ninja -C "$dir" fuzz-harnesses; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# two harnesses at a time: the machine's two cores; a harness is given
# FUZZ_SECONDS plus its start-up and the final merge before meson gives up
timeout_mult=$(( (FUZZ_SECONDS + 120) / 600 + 1 ))
echo "== suite: $dir (fuzz, ${FUZZ_SECONDS} s per harness)"
meson test -C "$dir" --no-rebuild --suite fuzz --num-processes 2 \
  --timeout-multiplier "$timeout_mult" --print-errorlogs |
  grep -E '^ *[0-9]+/[0-9]+ |^Ok:|^Fail:' || true
# the figure the issue asks for: executions per harness
/usr/bin/env python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, re, sys
rc = 0
for line in open(sys.argv[1], encoding="utf-8"):
    rec = json.loads(line)
    for l in (rec.get("stdout") or "").splitlines():
        if re.match(r"^(not )?ok 1 - fuzz_", l):
            print("fuzz:", l.split(" - ", 1)[1] if l.startswith("ok") else l)
            rc |= l.startswith("not")
sys.exit(rc)
PY
