#!/usr/bin/env bash
# bench-events.sh [PITBOSS] — the staff event stream benchmark run by `make bench`
# (issue 7 §1): BENCH_EVENTS_CLIENTS (default 10,000) concurrent SSE clients on one
# `pitboss serve` (loopback) while players bet on the in-house dice game; prints the
# server's RSS and the bet throughput without and with the clients. Bounded in time
# (about 2 minutes), stops by itself.
#
# The clients: BENCH_EVENTS_FULL (default 100) are admins who receive every event (each
# bet is bet.placed + round.settled, ~450 bytes each, to every one of them); the rest are
# support members of the bets' brand, whose role sees player events only: the
# dispatcher checks every event against each of them and sends them heartbeats, as a
# back office full of open dashboards costs. (10,000 clients each receiving every bet
# would be ~1 GB/s of SSE at a few hundred bets/s: a fan-out no casino runs and no
# loopback client here could read.)
#
# RLIMIT_NOFILE is raised for the server and the client process (each holds ~10k
# sockets); libmicrohttpd runs its epoll thread pool (src/http/server.c:
# MHD_USE_EPOLL_INTERNAL_THREAD + a pool), which serves 10k parked streaming
# connections without a thread or a poll slot each. PITBOSS_MAX_CONNECTIONS and
# PITBOSS_EVENTS_MAX_CLIENTS are set above the client count.
# BENCH_EVENTS_SECONDS (default 15) sets the measured seconds of each bet run.
set -euo pipefail
cd "$(dirname "$0")/.."

P=${1:-build/pitboss}
CLIENTS=${BENCH_EVENTS_CLIENTS:-10000}
FULL=${BENCH_EVENTS_FULL:-100}
SECS=${BENCH_EVENTS_SECONDS:-15}
[ -x "$P" ] || { echo "bench-events: $P is missing (make build)" >&2; exit 1; }
want=$((CLIENTS + 2000))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
  echo "bench-events: the open-files hard limit is $hard; $CLIENTS clients need ~$want" >&2
  want=$hard
fi
ulimit -n "$want"

dir=var/bench/events
rm -rf "$dir"
mkdir -p "$dir"
exec timeout --kill-after=10 300 /usr/bin/python3 - "$P" "$dir" "$CLIENTS" "$FULL" "$SECS" <<'PY'
import os, random, selectors, socket, sys, threading, time
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "api"))
from admin_helpers import Client, Env, Staff, create_staff, expect, register_player
from harness import Server

binary, workdir, nclients, nfull, secs = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
PASSWORD = "Player-pass-77"


class BenchEnv(Env):
    def start(self):
        self.srv = Server(os.path.abspath(binary),
                          extra_args=["--db", self.db, "--keys-dir", self.keys],
                          env={"PITBOSS_MAX_CONNECTIONS": str(nclients + 500),
                               "PITBOSS_EVENTS_MAX_CLIENTS": str(nclients + 100),
                               "PITBOSS_HTTP_THREADS": "4", "PITBOSS_CRASH": "0"})
        return self.srv


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


env = BenchEnv(os.path.abspath(binary))
env.dir = os.path.abspath(workdir)
env.db, env.keys = os.path.join(env.dir, "bench.db"), os.path.join(env.dir, "keys")
ok = False
try:
    otp = env.bootstrap_admin("root@example.com")
    env.start()
    pid = env.srv.proc.pid
    admin = Staff(env, "root@example.com", otp, "127.0.9.10").activate("Blue-Falcon-0-Xy")
    expect(admin.call("POST", "/v1/admin/brands", {"code": "alpha", "name": "Alpha",
                                                    "default_currency": "EUR",
                                                    "currencies": ["EUR"],
                                                    "jurisdiction": "MT"}), 201)
    expect(admin.call("GET", "/v1/admin/brands/alpha/originals"), 200)
    expect(admin.call("PUT", "/v1/admin/brands/alpha/games/pitboss/dice", {"enabled": True}), 200)
    sup = create_staff(env, admin, "sup@example.com", "support", "127.0.9.11",
                       brands=["alpha"]).activate("Blue-Falcon-1-Xy")
    pc = Client(env, "127.0.9.20")
    tokens = []
    for i in range(8):
        email = f"p{i}@example.com"
        pid_ = register_player(pc, "alpha", email)
        tokens.append(expect(pc.call("POST", "/v1/player/login",
                                     {"brand": "alpha", "email": email, "password": PASSWORD}),
                             200)["access_token"])
        expect(admin.call("POST", f"/v1/admin/players/{pid_}/adjustments",
                          {"balance": "cash", "direction": "credit", "amount": "1000000.00",
                           "reason": "bench", "idempotency_key": f"fund-{i}"}), 201)

    def bets(seconds, threads=8):
        stop = time.time() + seconds
        counts = [0] * threads

        def run(i):
            c = Client(env, f"127.0.9.{30 + i}")
            n = 0
            while time.time() < stop:
                n += 1
                r = c.call("POST", "/v1/player/originals/dice/bets",
                           {"amount": "0.10", "params": {"target": 50, "direction": "over"}},
                           token=tokens[i], headers={"Idempotency-Key": f"b{i}-{n}-{random.random()}"},
                           check=False)
                assert r.status in (200, 201), r
                counts[i] += 1
        ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        t0 = time.time()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return sum(counts) / (time.time() - t0)

    rss0 = rss_kib(pid)
    base = bets(secs)
    rss1 = rss_kib(pid)
    print(f"bench events: {base:.0f} bets/s with no stream client; server RSS {rss1 // 1024} MiB",
          flush=True)

    # the clients: one selector, sockets from 32 source addresses
    sel = selectors.DefaultSelector()
    socks, got = [], {}
    t0 = time.time()
    for i in range(nclients):
        full = i < nfull
        tok = admin.token if full else sup.token
        s = socket.socket()
        s.bind((f"127.0.10.{1 + i % 32}", 0))
        s.connect((env.srv.host, env.srv.port))
        s.sendall((f"GET /v1/admin/events/stream HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {tok}\r\n\r\n").encode())
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
        socks.append(s)
        got[i] = 0
        if i % 500 == 499:  # read what has come so far (headers, hello)
            for key, _ in sel.select(0):
                try:
                    got[key.data] += len(key.fileobj.recv(65536))
                except BlockingIOError:
                    pass
    stop_reading = threading.Event()
    closed = set()

    def reader():
        while not stop_reading.is_set():
            for key, _ in sel.select(0.2):
                try:
                    b = key.fileobj.recv(262144)
                except (BlockingIOError, ConnectionError):
                    continue
                if not b:
                    closed.add(key.data)
                    sel.unregister(key.fileobj)
                    continue
                got[key.data] += len(b)
    rt = threading.Thread(target=reader, daemon=True)
    rt.start()
    connect_s = time.time() - t0
    time.sleep(3)
    rss2 = rss_kib(pid)
    print(f"bench events: {nclients} stream clients connected in {connect_s:.1f} s "
          f"({nfull} see every event, the rest player events only); server RSS "
          f"{rss2 // 1024} MiB (+{(rss2 - rss1) / nclients:.1f} KiB per client)", flush=True)
    full_before = sum(got[i] for i in range(nfull))
    with_clients = bets(secs)
    time.sleep(2)
    rss3 = rss_kib(pid)
    full_bytes = sum(got[i] for i in range(nfull)) - full_before
    alive = nclients - len(closed)
    print(f"bench events: {with_clients:.0f} bets/s with {alive} stream clients open "
          f"({with_clients / base * 100:.0f}% of the rate without); server RSS {rss3 // 1024} MiB; "
          f"{full_bytes / max(nfull, 1) / 1024:.0f} KiB of events to each full client", flush=True)
    stop_reading.set()
    rt.join()
    for s in socks:
        s.close()
    assert alive >= nclients * 0.99, f"{nclients - alive} streams ended early"
    rc = env.stop()
    r = env.cli("ledger", "verify", "--db", env.db, check=False)
    assert rc == 0 and r.returncode == 0 and " 0 violation(s)" in r.stdout, (rc, r.stdout)
    ok = True
finally:
    if env.srv and env.srv.proc.poll() is None:
        env.srv.kill()
sys.exit(0 if ok else 1)
PY
