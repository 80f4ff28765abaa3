#!/usr/bin/env bash
# bench-wallet.sh [PITBOSS] — the wallet benchmark run by `make bench`: signed native
# `bet` + `win` calls (each answer durable before it is sent) from `pitboss bench wallet`,
# a one-thread epoll load generator, on loopback, in bounded time.
#
# Starts `pitboss serve` on a fresh database in var/bench/wallet (removed first), seeds it
# with the CLI (brand "bench" in EUR, native provider "bench-studio" with a generated
# secret, game "bench-slot" with EUR limits 0.10..100.00, enabled for the brand), then
#   pitboss bench wallet --connections 64 --seconds $SECONDS          (closed loop)
#   pitboss bench wallet --connections 64 --seconds $SECONDS --rate 1000   (open loop)
# Each run registers 64 players through the player API, funds them through the
# sandbox PSP and launches the game first. Prints each run's JSON line and text line,
# then stops the server with SIGTERM, runs `ledger verify`, and fails unless both
# runs, the server's exit and the verification succeeded.
# BENCH_WALLET_SECONDS (default 10) sets the measured seconds of each run;
# BENCH_WALLET_CONNS (default 64, what issue 4 measures) the connections.
# BENCH_WALLET_NATS=1 also starts nats-server (JetStream, loopback) and has the server
# relay its events to it (PITBOSS_NATS_URL): the runs' labels get "+nats", and after
# them one line says how many events the relay published, how long it took to catch
# up once the load stopped, and whether the stream holds every outbox event.
set -euo pipefail
cd "$(dirname "$0")/.."

P=${1:-build/pitboss}
SECONDS_RUN=${BENCH_WALLET_SECONDS:-10}
CONNS=${BENCH_WALLET_CONNS:-64}
[ -x "$P" ] || { echo "bench-wallet: $P is missing (make build)" >&2; exit 1; }

dir=var/bench/wallet
rm -rf "$dir"
mkdir -p "$dir"
db="$dir/bench.db"
pid=""
npid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [ -n "$npid" ] && kill -0 "$npid" 2>/dev/null; then kill -KILL "$npid" 2>/dev/null || true; fi
}
trap cleanup EXIT

secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$secret" >"$dir/bench-studio.secret"
chmod 600 "$dir/bench-studio.secret"
{
  "$P" brand create --code bench --name Bench --currency EUR --jurisdiction MT --db "$db"
  "$P" provider create --code bench-studio --name "Bench Studio" --protocol native \
    --secret-hex "$secret" --db "$db" --keys-dir "$dir/keys"
  "$P" game create --provider bench-studio --code bench-slot --name "Bench Slot" \
    --category slots --rtp-bp 9600 --volatility medium --limit EUR:10:10000 --db "$db"
  "$P" game enable --brand bench --provider bench-studio --game bench-slot --db "$db"
} >"$dir/seed.log" 2>&1 || { cat "$dir/seed.log" >&2; exit 1; }

# the server logs every request as in production (to a file here)
: >"$dir/serve.log"
# the players are funded through the sandbox PSP (off unless asked for); their passwords
# are hashed at the cheapest cost (registration is set-up, not what is measured: at the
# interactive cost the 64 registrations of each run cost seconds of CPU)
label_suffix=""
if [ "${BENCH_WALLET_NATS:-0}" = 1 ]; then
  nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  nats-server -js -sd "$dir/nats" -a 127.0.0.1 -p "$nport" >"$dir/nats.log" 2>&1 &
  npid=$!
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$nport") 2>/dev/null && break
    sleep 0.05
  done
  export PITBOSS_NATS_URL="nats://127.0.0.1:$nport"
  label_suffix="+nats"
fi
PITBOSS_SANDBOX_PSP=1 PITBOSS_PWHASH_COST=min "$P" serve --listen 127.0.0.1:0 --db "$db" --keys-dir "$dir/keys" 2>"$dir/serve.log" &
pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(sed -n 's/.*"event":"http.listening".*"url":"\([^"]*\)".*/\1/p' "$dir/serve.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "bench-wallet: the server did not start" >&2; exit 1; }

# the relay after a run: how long until it has every event of the outbox, what it sent
relay_check() { # label
  python3 - "$url" "$db" "$1" <<'PY'
import json, sqlite3, sys, time, urllib.request
url, db, label = sys.argv[1], sys.argv[2], sys.argv[3]
def metrics():
    out = {}
    for line in urllib.request.urlopen(url + "/metrics", timeout=10).read().decode().splitlines():
        if line.startswith("pitboss_events_jetstream_"):
            k, v = line.split()
            out[k[len("pitboss_events_jetstream_"):]] = int(v)
    return out
t0 = time.monotonic()
m = metrics()
lag0 = m["lag"]
while m["lag"] > 0 and time.monotonic() - t0 < 60:
    time.sleep(0.05)
    m = metrics()
took = time.monotonic() - t0
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
n = con.execute("SELECT count(*) FROM event_outbox").fetchone()[0]
con.close()
print(json.dumps({"bench": "wallet_relay", "after": label, "outbox_events": n,
                  "published": m["published_total"], "duplicates": m["duplicates_total"],
                  "failures": m["failures_total"], "lag_at_end_of_load": lag0,
                  "seconds_to_catch_up": round(took, 3), "lag": m["lag"]}))
print(f"bench wallet relay after {label}: {m['published_total']} events published to JetStream "
      f"({n} in the outbox), {lag0} behind when the load stopped, caught up in {took:.2f} s")
sys.exit(0 if m["lag"] == 0 and m["published_total"] == n else 1)
PY
}
common=(--url "$url" --provider bench-studio --secret-file "$dir/bench-studio.secret"
  --brand bench --game bench-slot --connections "$CONNS" --seconds "$SECONDS_RUN")
rc=0
"$P" bench wallet "${common[@]}" --label "max$label_suffix" 2>"$dir/bench-max.err" || {
  rc=1; tail -20 "$dir/bench-max.err" >&2; }
[ -z "$npid" ] || relay_check "max$label_suffix" || rc=1
"$P" bench wallet "${common[@]}" --rate 1000 --label "rate-1000$label_suffix" 2>"$dir/bench-rate.err" || {
  rc=1; tail -20 "$dir/bench-rate.err" >&2; }

[ -z "$npid" ] || relay_check "rate-1000$label_suffix" || rc=1
kill -TERM "$pid"
src=0
wait "$pid" || src=$?
pid=""
if [ "$src" -ne 0 ]; then
  echo "bench-wallet: the server exited with status $src" >&2
  tail -5 "$dir/serve.log" >&2
  exit 1
fi
if [ -n "$npid" ]; then kill -TERM "$npid"; wait "$npid" || true; npid=""; fi
"$P" ledger verify --db "$db" >"$dir/verify.log" 2>&1 || {
  echo "bench-wallet: ledger verify failed" >&2; tail -20 "$dir/verify.log" >&2; exit 1; }
echo "bench-wallet: ledger verify ok ($(tail -1 "$dir/verify.log"))"
exit "$rc"
