#!/usr/bin/env bash
# tsan.sh — builds build-tsan (gcc, -fsanitize=thread) and runs the tests that
# start threads under ThreadSanitizer: the ledger's group-commit writer (every
# ledger test opens it), the wallet and cashier on top of it, the audit log's
# concurrent appends, the HTTP server and its metrics, the rate limiters and
# the id generator. Any data race, lock-order inversion or thread leak TSan
# reports fails the test (halt_on_error, exitcode 66). Prints the meson lines
# and a summary "N passed, N failed" (scripts/test-summary.py).
# TSAN_TESTS="a b" runs only those; TSAN_API_TESTS="api_x …" the API suites run
# against the TSan-built server (by default every one that starts the server,
# when TSAN_TESTS is not set).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${TSAN_BUILD:-build-tsan}
TESTS=${TSAN_TESTS:-"ledger_basic ledger_pending ledger_idempotency ledger_query ledger_verify
  ledger_concurrency ledger_async ledger_command ledger_writeback wallet wallet_game
  wallet_funding wallet_game_model cashier_deposit cashier_withdrawal cashier_model
  audit_concurrency http_server http_metrics
  identity_ratelimit api_auth core_id_time core_log games_play games_play_recovery store
  events_jetstream"}

if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" --buildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false \
    >/dev/null || { echo "tsan: meson setup $dir failed" >&2; exit 1; }
fi
# API tests against a TSan-built server (the HTTP workers, the ledger's threads,
# the sandbox PSP's delivery thread and the in-process caches of a provider call)
API_TESTS=${TSAN_API_TESTS-"api_ops api_player api_provider_native api_provider_hub88 api_wallet
  api_cashier api_catalog api_events api_games api_backoffice_money api_backoffice_people
  api_admin api_rbac api_events_nats"}
[ -n "${TSAN_TESTS:-}" ] && API_TESTS=${TSAN_API_TESTS:-}
targets=()
for t in $TESTS; do targets+=("tests/test_$t"); done
[ -n "$API_TESTS" ] && targets+=(pitboss tests/admin_ledger_fixture)
rm -f "$dir/meson-logs/testlog.json"
ninja -C "$dir" "${targets[@]}" >/dev/null || { ninja -C "$dir" "${targets[@]}"; exit 1; }

# second_deadlock_stack: both stacks of a lock-order report; the suppressions
# file names what is not ours (uninstrumented libraries), each with its reason
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$PWD/scripts/tsan.supp}
echo "== suite: $dir (ThreadSanitizer)"
# shellcheck disable=SC2086
meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 4 \
  $TESTS $API_TESTS | grep -E '^ *[0-9]+/[0-9]+ |^Ok:|^Fail:|WARNING: ThreadSanitizer|SUMMARY' || true
python3 scripts/test-summary.py "$dir"
