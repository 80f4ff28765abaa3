#!/usr/bin/env bash
# bench-http.sh [PITBOSS] — the HTTP benchmark run by `make bench`: authenticated
# wallet reads (GET /v1/player/wallet: token check, session and player lookups,
# a ledger account read) under wrk, on loopback, in bounded time.
#
# Starts `pitboss serve` on a free 127.0.0.1 port with a temporary database,
# creates a brand, registers and logs in a player, runs
#   wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer $TOKEN" …/v1/player/wallet
# and prints one JSON line:
#   {"bench":"http_wallet","connections":64,"requests_per_s":…,"p99_ms":…,"non_2xx":…}
# then stops the server with SIGTERM and fails unless it exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

P=${1:-build/pitboss}
DURATION=${BENCH_HTTP_DURATION:-10s}
CONNS=64
command -v wrk >/dev/null || { echo "bench-http: wrk is not installed (make deps)" >&2; exit 1; }
[ -x "$P" ] || { echo "bench-http: $P is missing (make build)" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/pbbench-http.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

"$P" brand create --code bench --name Bench --currency EUR --jurisdiction MT \
  --db "$dir/bench.db" >/dev/null 2>&1
: >"$dir/serve.log" # exists before the loop below reads it, whatever the server's pace
"$P" serve --listen 127.0.0.1:0 --db "$dir/bench.db" --keys-dir "$dir/keys" \
  2>"$dir/serve.log" &
pid=$!

# the URL comes from the "http.listening" log line (port 0: the kernel picked one)
url=""
for _ in $(seq 1 200); do
  url=$(sed -n 's/.*"event":"http.listening".*"url":"\([^"]*\)".*/\1/p' "$dir/serve.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "bench-http: the server did not start" >&2; exit 1; }

# a player to read the wallet of (register + login, with the Python standard library)
token=$(python3 - "$url" <<'PY'
import json, sys, urllib.request
url = sys.argv[1]
def post(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
player = {"brand": "bench", "email": "bench@example.org", "password": "correct horse battery"}
post("/v1/player/register", dict(player, country="MT", date_of_birth="1990-05-17"))
print(post("/v1/player/login", player)["access_token"])
PY
)

# the server logs every request as in production (to a file here)
out=$(timeout 120 wrk -t2 -c"$CONNS" -d"$DURATION" --latency \
  -H "Authorization: Bearer $token" "$url/v1/player/wallet")

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
if [ "$rc" -ne 0 ]; then
  echo "bench-http: the server exited with status $rc" >&2
  tail -5 "$dir/serve.log" >&2
  exit 1
fi

WRK_OUT="$out" CONNS="$CONNS" python3 - <<'PY'
import json, os, re, sys
out = os.environ["WRK_OUT"]

def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

rps = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
p99 = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
errors = re.search(r"Socket errors:.*", out)
if not rps or not p99:
    sys.exit("bench-http: cannot read wrk's output:\n" + out)
print(json.dumps({"bench": "http_wallet", "connections": int(os.environ["CONNS"]),
                  "requests_per_s": round(float(rps.group(1)), 1),
                  "p99_ms": round(ms(*p99.groups()), 3),
                  "non_2xx": int(non2xx.group(1)) if non2xx else 0}, separators=(",", ":")))
if errors:
    print("bench-http: " + errors.group(0), file=sys.stderr)
PY
