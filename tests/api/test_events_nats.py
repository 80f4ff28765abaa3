#!/usr/bin/python3
"""test_events_nats.py PATH/TO/pitboss — the outbox relayed to NATS JetStream by a
real `pitboss serve` (PITBOSS_NATS_URL), read back from a real nats-server (Debian's,
started here with JetStream) over the NATS protocol (a small client below: the
JetStream API's stream info and message get). Speaks TAP.

  - relayed: registrations, adjustments and dice bets on two brands; every outbox
    row is one message of stream CASINO, in id order, subject
    casino.events.<brand>.<type>, the row's JSON (id, type, brand, subject, payload)
    as data, Nats-Msg-Id and Pitboss-Event-Id headers; /metrics shows the relay
    caught up and connected;
  - NATS away: bets go on while the server is stopped (the relay fails and waits,
    /metrics says so), and once it is back the backlog arrives, nothing twice;
  - a restart of pitboss resumes from the stored mark (event_relay), nothing twice;
  - bad settings stop `pitboss serve` at start with the reason;
  - stop; ledger verify.
"""
import base64
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Client, Env, Staff, expect, register_player  # noqa: E402
from harness import Server, Tap  # noqa: E402

STREAM = "CASINO"
SUBJECT = "casino.events"
PASSWORD = "Player-pass-77"


def die_with_parent():
    """In the child: SIGTERM when the test process dies (prctl PR_SET_PDEATHSIG)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def free_port():
    """A free loopback port below the kernel's ephemeral range: one taken from that
    range (bind to port 0, then close) can be handed to any process's outgoing
    connection before nats-server binds it (seen in the parallel suite: "bind:
    address already in use"); one below it is never handed out that way, so it stays
    ours across the restarts the cases make."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        lo = 32768
    base = max(1024, lo - 12000)
    for _ in range(200):
        port = base + int.from_bytes(os.urandom(4), "little") % (lo - base) if lo > base else 0
        if not port:
            break
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    s = socket.socket()  # no room below the range: an ephemeral one
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class NatsServer:
    """nats-server with JetStream on a free loopback port; its store survives restarts."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pbnats.")
        self.port = free_port()
        self.proc = None
        self.listened = False  # once it has, its port is the one pitboss was given

    def start(self):
        # The port was free when chosen; another process may take it before nats-server
        # binds it (nats-server then exits at once): choose another and try again. A
        # server that keeps running but does not listen within the deadline (the
        # machine busy) is reported with its log.
        for attempt in range(3):
            log = open(os.path.join(self.dir, "nats.log"), "ab")
            self.proc = subprocess.Popen(["nats-server", "-js", "-sd", os.path.join(self.dir, "js"),
                                          "-a", "127.0.0.1", "-p", str(self.port)],
                                         stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         preexec_fn=die_with_parent)
            log.close()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    if self.proc.poll() is None:
                        self.listened = True
                        return
                except OSError:
                    time.sleep(0.05)
            if self.proc.poll() is None or self.listened:
                break
            self.port = free_port()
        with open(os.path.join(self.dir, "nats.log"), "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace")
        raise RuntimeError(f"nats-server did not start (exit {self.proc.poll()}):\n{tail}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        self.proc = None

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Nats:
    """The NATS client protocol, as much as the JetStream API's requests need:
    CONNECT, one reply subscription, PUB with a reply subject, MSG/HMSG back."""

    INBOX = "_INBOX.pbtest"

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")
        line = self.f.readline()
        assert line.startswith(b"INFO "), line
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,'
                          b'"no_responders":true,"protocol":1}\r\n'
                          b"SUB " + self.INBOX.encode() + b" 1\r\nPING\r\n")
        while True:
            line = self.f.readline()
            if line.startswith(b"PONG"):
                break
            assert not line.startswith(b"-ERR"), line

    def request(self, subject, body):
        payload = json.dumps(body).encode() if body is not None else b""
        self.sock.sendall(b"PUB %s %s %d\r\n%s\r\n" % (subject.encode(), self.INBOX.encode(),
                                                       len(payload), payload))
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("NATS closed the connection")
            if line.startswith(b"PING"):
                self.sock.sendall(b"PONG\r\n")
            elif line.startswith(b"MSG "):
                n = int(line.split()[-1])
                data = self.f.read(n)
                self.f.read(2)
                return json.loads(data)
            elif line.startswith(b"HMSG "):  # a status (503: no responders)
                n = int(line.split()[-1])
                data = self.f.read(n)
                self.f.read(2)
                raise RuntimeError(f"NATS status: {data[:60]!r}")
            elif line.startswith(b"-ERR"):
                raise RuntimeError(line.decode().strip())

    def count(self, stream):
        r = self.request(f"$JS.API.STREAM.INFO.{stream}", None)
        if "error" in r:
            return -1
        return r["state"]["messages"]

    def message(self, stream, seq):
        """(subject, headers dict, data bytes) of message seq."""
        r = self.request(f"$JS.API.STREAM.MSG.GET.{stream}", {"seq": seq})
        assert "message" in r, r
        m = r["message"]
        headers = {}
        raw = base64.b64decode(m.get("hdrs", "")).decode()
        for h in raw.split("\r\n")[1:]:
            if ":" in h:
                k, v = h.split(":", 1)
                headers[k.strip()] = v.strip()
        return m["subject"], headers, base64.b64decode(m.get("data", ""))

    def close(self):
        self.sock.close()


class NatsEnv(Env):
    def __init__(self, binary, nats):
        super().__init__(binary)
        self.nats = nats

    def server_env(self):
        return {"PITBOSS_NATS_URL": f"nats://127.0.0.1:{self.nats.port}",
                "PITBOSS_NATS_STREAM": STREAM, "PITBOSS_NATS_SUBJECT": SUBJECT}

    def start(self, *extra_args):
        self.srv = Server(self.binary, extra_args=["--db", self.db, "--keys-dir", self.keys,
                                                   *extra_args], env=self.server_env())
        return self.srv


def metrics(env):
    r = env.srv.request("GET", "/metrics")
    assert r.status == 200
    out = {}
    for line in r.body.decode().splitlines():
        if line.startswith("pitboss_events_jetstream_"):
            k, v = line.split()
            name = k[len("pitboss_events_jetstream_"):]
            out[name[:-len("_total")] if name.endswith("_total") else name] = int(v)
    return out


class Run:
    def __init__(self, env, nats):
        self.env = env
        self.nats = nats
        self.n = 0

    def key(self):
        self.n += 1
        return f"k-{self.n}-{time.time_ns()}"

    def outbox(self):
        return self.env.rows("SELECT id, type, brand, subject, payload FROM event_outbox "
                             "ORDER BY id")

    def caught_up(self, timeout=30):
        """Waits until the relay's mark is the outbox's newest id; the metrics."""
        newest = self.outbox()[-1][0]
        deadline = time.monotonic() + timeout
        while True:
            m = metrics(self.env)
            if m["relayed_id"] == newest and m["lag"] == 0:
                return m
            assert time.monotonic() < deadline, (m, newest)
            time.sleep(0.05)

    def check_stream(self):
        """Every outbox row is the stream's message of the same rank, once."""
        rows = self.outbox()
        c = Nats(self.nats.port)
        try:
            assert c.count(STREAM) == len(rows), (c.count(STREAM), len(rows))
            for seq, (eid, typ, brand, subject, payload) in enumerate(rows, start=1):
                subj, headers, data = c.message(STREAM, seq)
                assert subj == f"{SUBJECT}.{brand or '_'}.{typ}", (subj, eid)
                assert headers["Nats-Msg-Id"] == f"{SUBJECT}:{eid}", headers
                assert headers["Pitboss-Event-Id"] == str(eid), headers
                assert headers["Pitboss-Event-Type"] == typ, headers
                d = json.loads(data)
                assert (d["id"], d["type"], d["brand"], d["subject"]) == (eid, typ, brand, subject), d
                assert d["payload"] == json.loads(payload), (d, payload)
                assert d["created_at"].endswith("Z"), d
        finally:
            c.close()
        return len(rows)

    def play(self, token, rounds):
        for _ in range(rounds):
            r = self.client.call("POST", "/v1/player/originals/dice/bets",
                                 {"amount": "0.10", "params": {"target": 50.5,
                                                               "direction": "over"}},
                                 token=token, headers={"Idempotency-Key": self.key()})
            expect(r, 201)

    def setup(self):
        env = self.env
        self.nats.start()
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.9.10").activate("Blue-Falcon-0-Xy")
        for code in ("alpha", "beta"):
            expect(self.admin.call("POST", "/v1/admin/brands",
                                   {"code": code, "name": code.title(), "default_currency": "EUR",
                                    "currencies": ["EUR"], "jurisdiction": "MT"}), 201)
            # the in-house games are listed (and so registered) for the brand first
            expect(self.admin.call("GET", f"/v1/admin/brands/{code}/originals"), 200)
            expect(self.admin.call("PUT", f"/v1/admin/brands/{code}/games/pitboss/dice",
                                   {"enabled": True}), 200)
        self.client = Client(env, "127.0.9.20")
        self.tokens = []
        for code in ("alpha", "beta"):
            pid = register_player(self.client, code, f"p@{code}.example.com")
            expect(self.admin.call("POST", f"/v1/admin/players/{pid}/adjustments",
                                   {"balance": "cash", "direction": "credit", "amount": "50.00",
                                    "reason": "test funds", "idempotency_key": self.key()}), 201)
            r = self.client.call("POST", "/v1/player/login",
                                 {"brand": code, "email": f"p@{code}.example.com",
                                  "password": PASSWORD})
            self.tokens.append(expect(r, 200)["access_token"])
        for t in self.tokens:
            self.play(t, 15)

    def relayed(self):
        m = self.caught_up()
        assert m["connected"] == 1, m
        assert m["lost"] == 0 and m["duplicates"] == 0, m
        n = self.check_stream()
        assert n > 60, n  # registrations, adjustments, 30 bets and their settlements
        assert m["published"] == n, (m, n)
        types = {r[1] for r in self.outbox()}
        assert {"player.registered", "balance.adjusted", "bet.placed",
                "round.settled"} <= types, types

    def nats_away(self):
        self.nats.stop()
        before = self.outbox()[-1][0]
        t0 = time.monotonic()
        for t in self.tokens:
            self.play(t, 10)  # the money path does not wait for NATS
        took = time.monotonic() - t0
        assert took < 20, took
        assert self.outbox()[-1][0] > before
        deadline = time.monotonic() + 10
        while True:
            m = metrics(self.env)
            if m["connected"] == 0 and m["failures"] > 0:
                break
            assert time.monotonic() < deadline, m
            time.sleep(0.1)
        assert m["relayed_id"] <= before and m["lag"] > 0, m
        self.nats.start()
        m = self.caught_up()
        assert m["connected"] == 1, m
        self.check_stream()

    def restart(self):
        rc = self.env.stop()
        assert rc == 0, rc
        newest = self.outbox()[-1][0]
        mark = self.env.rows("SELECT last_id FROM event_relay WHERE name = ?",
                             f"jetstream:{STREAM}")
        assert mark == [(newest,)], (mark, newest)
        self.env.start()
        self.client = Client(self.env, "127.0.9.21")
        for code in ("alpha", "beta"):
            register_player(self.client, code, f"q@{code}.example.com")
        m = self.caught_up()
        assert m["published"] == 2 and m["duplicates"] == 0, m
        self.check_stream()

    def bad_settings(self):
        for env_over, word in (({"PITBOSS_NATS_SUBJECT": "casino events"}, "subject"),
                               ({"PITBOSS_NATS_STREAM": "A.B"}, "stream name"),
                               ({"PITBOSS_NATS_START": "yesterday"}, "PITBOSS_NATS_START")):
            full = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
            full.update(self.env.server_env())
            full.update(env_over)
            full["PITBOSS_WAL_RESERVE"] = "0"
            d = tempfile.mkdtemp(prefix="pbnatsbad.")
            try:
                r = subprocess.run([self.env.binary, "serve", "--listen", "127.0.0.1:0",
                                    "--db", os.path.join(d, "p.db"),
                                    "--keys-dir", os.path.join(d, "keys")],
                                   env=full, capture_output=True, text=True, timeout=60)
            finally:
                shutil.rmtree(d, ignore_errors=True)
            assert r.returncode != 0, (env_over, r.returncode)
            assert word in r.stderr, (env_over, r.stderr[-500:])

    def stop_and_verify(self):
        rc = self.env.stop()
        assert rc == 0, rc
        self.env.srv = None
        r = self.env.cli("ledger", "verify", "--db", self.env.db)
        assert "0 violation" in r.stdout, r.stdout


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_events_nats.py PATH/TO/pitboss")
        return 1
    nats = NatsServer()
    env = NatsEnv(os.path.abspath(sys.argv[1]), nats)
    run = Run(env, nats)
    cases = [
        ("setup: nats-server with JetStream; pitboss serve relaying to stream CASINO; two "
         "brands, a player each, funds, 15 dice rounds each", run.setup),
        ("relayed: every outbox row once, in id order, subject casino.events.<brand>.<type>, "
         "the row's JSON and id headers; /metrics caught up and connected", run.relayed),
        ("NATS away: bets go on, /metrics shows failures and lag; back: the backlog arrives, "
         "nothing twice", run.nats_away),
        ("restart: the mark is stored at stop; pitboss resumes from it, nothing twice",
         run.restart),
        ("bad settings (subject, stream name, start) stop serve at start with the reason",
         run.bad_settings),
        ("stop; ledger verify", run.stop_and_verify),
    ]
    tap = Tap(len(cases))
    try:
        for name, fn in cases:
            tap.case(name, fn)
    finally:
        env.cleanup()
        nats.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
