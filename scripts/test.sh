#!/usr/bin/env bash
# test.sh — builds and runs every suite twice: an optimised build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build (its uninitialised locals
# filled with a pattern), then prints one summary
# line across both: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

setup() { # dir, extra meson args...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null || return 1
  fi
  ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
}

rc=0
# the back office UI (web/dist): the static-serving and browser tests use it
scripts/web-build.sh || rc=1
setup build --buildtype=debugoptimized || rc=1
# uninitialised locals filled with a pattern, not whatever the stack held (often
# zero): a read of one then misbehaves in every run instead of passing by luck
setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-ftrivial-auto-var-init=pattern || rc=1
if [ $rc -ne 0 ]; then echo "build failed"; echo "0 passed, 1 failed"; exit 1; fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for dir in build build-asan; do
  echo "== suite: $dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2 ${MESON_TEST_ARGS:-} | grep -E '^ *[0-9]+/[0-9]+ |^Ok:|^Fail:' || true
done
# libFuzzer harnesses (fuzz/), ~3 s each, clang + ASan + UBSan: counted from build-fuzz's log
scripts/fuzz.sh --smoke || true
python3 scripts/test-summary.py build build-asan build-fuzz
