#!/usr/bin/env bash
# valgrind.sh [PITBOSS] — runs `pitboss serve` under valgrind memcheck on a
# fresh database for a short session and fails on any invalid access, use of
# uninitialised memory or leak (definitely or indirectly lost).
#
# The session, over HTTP with curl: health and metrics, a player registers
# and logs in, reads profile and wallet, deposits through the sandbox PSP
# (pending → complete: ledger, webhook, audit), refreshes the token, sends
# a few bad requests (malformed JSON, unknown route, wrong method, no token),
# logs out; then SIGTERM and a graceful stop. Every answer's status is
# checked. The valgrind log is kept in var/valgrind/memcheck.log; prints one
# summary line with the figures (requests, errors, bytes lost).
set -uo pipefail
cd "$(dirname "$0")/.."
P=${1:-build/pitboss}
out=var/valgrind
rm -rf "$out" && mkdir -p "$out/keys" && chmod 700 "$out/keys"
db="$out/pitboss.db"
log="$out/memcheck.log"
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/deps.sh)" >&2; exit 1; }
[ -x "$P" ] || { echo "valgrind: $P is missing (make build)" >&2; exit 1; }

"$P" migrate --db "$db" >/dev/null 2>&1 &&
  "$P" brand create --code demo --name "Demo Casino" --currency EUR --currencies EUR,USD \
    --jurisdiction MT --settings '{"withdrawal_4eyes_thresholds":{"EUR":100000,"USD":100000}}' --db "$db" >/dev/null 2>&1 ||
  { echo "valgrind: cannot prepare $db" >&2; exit 1; }

# still-reachable blocks (process-wide caches of OpenSSL, libsodium, jansson)
# are not leaks; definite and indirect ones are, and so is every memory error
# (the deposit below goes through the sandbox PSP, off unless asked for)
PITBOSS_SANDBOX_PSP=1 valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
  --track-origins=yes --num-callers=30 --log-file="$log" \
  "$P" serve --listen 127.0.0.1:0 --db "$db" --keys-dir "$out/keys" \
  2>"$out/serve.log" >/dev/null &
pid=$!
# never leave the server behind, whatever happens below
trap 'kill -KILL $pid 2>/dev/null' EXIT

url=""
for _ in $(seq 1 600); do
  url=$(sed -n 's/.*"event":"http.listening".*"url":"\([^"]*\)".*/\1/p' "$out/serve.log" | head -1)
  [ -n "$url" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "valgrind: the server did not start; see $out/serve.log and $log" >&2
  kill -KILL $pid 2>/dev/null
  exit 1
fi

fails=0 n=0
# call METHOD PATH WANT_STATUS [BODY] [TOKEN] — the answer's body goes to $out/resp
# (called in this shell, never in $(...), so that the counters add up)
call() {
  local m=$1 p=$2 want=$3 body=${4:-} tok=${5:-}
  local args=(-s -m 120 -o "$out/resp" -w '%{http_code}' -X "$m")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
  local got
  got=$(curl "${args[@]}" "$url$p")
  n=$((n + 1))
  if [ "$got" != "$want" ]; then
    echo "valgrind: $m $p answered $got, expected $want: $(head -c 300 "$out/resp")" >&2
    fails=$((fails + 1))
  fi
}
# field NAME — a string field of the last answer
field() { jq -r ".$1" "$out/resp" 2>/dev/null; }

call GET /healthz 200
call GET /metrics 200
reg='{"brand":"demo","email":"vg@example.com","password":"valgrind horse battery","country":"MT","date_of_birth":"1990-01-01"}'
call POST /v1/player/register 201 "$reg"
call POST /v1/player/login 200 '{"brand":"demo","email":"vg@example.com","password":"valgrind horse battery"}'
tok=$(field access_token)
rtok=$(field refresh_token)
call GET /v1/player/profile 200 "" "$tok"
call GET /v1/player/wallet 200 "" "$tok"
call POST /v1/player/deposits 201 '{"amount":"25.00","idempotency_key":"vg-1"}' "$tok"
ref=$(field psp_reference)
call POST "/v1/sandbox-psp/payments/$ref/complete" 200
call POST /v1/player/deposits 200 '{"amount":"25.00","idempotency_key":"vg-1"}' "$tok"
call GET /v1/player/wallet 200 "" "$tok"
call POST /v1/player/login 400 '{"brand":"demo","email":'
call POST /v1/player/login 400 '{"brand":"demo","email":"x@y.z","password":"p","extra":1}'
call GET /v1/nowhere 404
call DELETE /v1/player/register 405
call GET /v1/player/wallet 401
call POST /v1/player/refresh 200 "{\"refresh_token\":\"$rtok\"}"
tok2=$(field access_token)
call POST /v1/player/logout 204 "" "$tok2"

kill -TERM $pid
wait $pid
rc=$?
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1 | tr -d ,)
indirect=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1 | tr -d ,)
echo "valgrind: pitboss serve, $n requests ($fails unexpected answers), exit $rc," \
  "memcheck errors ${errors:-?}, definitely lost ${definite:-0} B, indirectly lost ${indirect:-0} B"
if [ $rc -ne 0 ] || [ "${errors:-1}" != 0 ] || [ $fails -ne 0 ]; then
  echo "valgrind: FAILED (log: $log)" >&2
  grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|[0-9,]+ bytes in)' "$log" |
    head -20 >&2
  exit 1
fi
