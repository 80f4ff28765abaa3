"""test_sim.py PITBOSS — `pitboss sim provider` end to end against a real server.

A fresh database is seeded with the CLI (brand, native provider with its secret in a
0600 file, a slot game with EUR limits, enabled for the brand), then `pitboss serve`
runs on it and the simulator plays:

  - a bounded run (20 players, 200 rounds, duplicates and client timeouts on) must
    exit 0 with zero unexpected answers and mismatches, duplicates and timeout
    retries actually exercised, and a passing ledger verify (--db);
  - a run where players go broke (small deposits) must top them up through the
    sandbox PSP and still balance;
  - the server is then killed (SIGKILL) and restarted: `--check` of the first run's
    books must still pass (every acknowledged call was durable);
  - negative: a wrong secret must be reported (SIGNATURE_INVALID, non-zero exit);
    one player's stored balance tampered with sqlite must make `--check` fail with
    a MISMATCH for that player and a ledger violation, then (restored) pass again;
  - a player who registered and deposited by hand (as the README's walkthrough does)
    plays through `--email/--password` with the money they have;
  - `pitboss ledger verify` on the database after the server stopped passes;
  - `pitboss backup` taken while the second run plays gives a checked single-file
    copy; `pitboss restore` puts it in place of a new database, and a server started
    there (the same keys directory) answers every balance the first run's books say,
    and its ledger verifies;
  - `pitboss bench wallet` against a server whose idle timeout (1 s) is shorter than
    its connections wait in the open loop: the connections the server closes are
    opened again (counted), every answer is 200 and every balance as the books say;
  - `pitboss bench wallet` whose calls in flight are never answered on their
    connections at the end of the run (a proxy stops relaying the connections open
    at a moment inside the measured seconds: the server may have applied the calls,
    their answers are lost): the run reconciles (each such call sent again on a
    fresh connection, answered with the stored answer or decided then), counts them
    ("reconciled" > 0), and ends with every balance ok and a passing ledger verify.
Only the Python standard library is used.
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
from harness import Server, Tap, binary_from_argv  # noqa: E402

BIN = binary_from_argv()
TMP = tempfile.mkdtemp(prefix="pbsim.")
DB = os.path.join(TMP, "sim.db")
KEYS = os.path.join(TMP, "keys")
SECRET_FILE = os.path.join(TMP, "sim-studio.secret")
BOOKS = os.path.join(TMP, "books.json")
COPY = os.path.join(TMP, "backup.db")
RESTORED = os.path.join(TMP, "restored.db")


def cli(*args, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, env=env)


def seed():
    with open(SECRET_FILE, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    os.chmod(SECRET_FILE, 0o600)
    with open(SECRET_FILE) as f:
        secret = f.read().strip()
    for args in (
        ["brand", "create", "--code", "simb", "--name", "Sim Brand", "--currency", "EUR",
         "--currencies", "EUR,USD", "--jurisdiction", "MT"],
        ["provider", "create", "--code", "sim-studio", "--name", "Sim Studio", "--protocol",
         "native", "--secret-hex", secret, "--keys-dir", KEYS],
        ["game", "create", "--provider", "sim-studio", "--code", "sim-slot", "--name", "Sim Slot",
         "--category", "slots", "--rtp-bp", "9600", "--volatility", "medium",
         "--limit", "EUR:10:10000", "--limit", "USD:10:10000"],
        ["game", "enable", "--brand", "simb", "--provider", "sim-studio", "--game", "sim-slot"],
    ):
        r = cli(*args, "--db", DB)
        if r.returncode != 0:
            raise RuntimeError(f"seed {args[:2]} failed: {r.stdout}{r.stderr}")


def start():
    return Server(BIN, extra_args=["--db", DB, "--keys-dir", KEYS])


def sim(srv, *extra, secret_file=SECRET_FILE):
    """Runs the simulator; returns (exit status, summary JSON or None, stdout, stderr)."""
    r = cli("sim", "provider", "--url", srv.url, "--provider", "sim-studio", "--secret-file",
            secret_file, *extra, timeout=600)
    summary = None
    for line in r.stdout.splitlines():
        if line.startswith('{"sim":"provider"'):
            summary = json.loads(line)
    return r.returncode, summary, r.stdout, r.stderr


def api(srv, method, path, body=None, token=None):
    """One player API call with the standard library; the parsed JSON answer."""
    req = urllib.request.Request(srv.url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def newcomer(srv):
    """Registers you@example.org, deposits 50.00 through the sandbox PSP; the token."""
    me = {"brand": "simb", "email": "you@example.org", "password": "correct horse battery"}
    api(srv, "POST", "/v1/player/register", dict(me, country="MT", date_of_birth="1990-01-01"))
    token = api(srv, "POST", "/v1/player/login", me)["access_token"]
    d = api(srv, "POST", "/v1/player/deposits", {"amount": "50.00", "idempotency_key": "first"},
            token)
    api(srv, "POST", d["redirect_url"])
    return token


class FreezingProxy:
    """A TCP relay to the server. Once its first bet passed, after `freeze_after`
    seconds every connection open then stops relaying both ways (what it receives is
    dropped): their calls in flight are never answered there. Connections opened
    later are relayed as usual."""

    def __init__(self, host, port, freeze_after):
        self.target = (host, port)
        self.freeze_after = freeze_after
        self.lock = threading.Lock()
        self.conns = []
        self.frozen_at = None
        self.first_bet = threading.Event()
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(128)
        self.url = f"http://127.0.0.1:{self.ls.getsockname()[1]}"
        self.done = False
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._freezer, daemon=True).start()

    def _freezer(self):
        if not self.first_bet.wait(300):
            return
        time.sleep(self.freeze_after)
        with self.lock:
            self.frozen_at = len(self.conns)
            for c in self.conns:
                c["frozen"] = True

    def _accept(self):
        while not self.done:
            try:
                cs, _ = self.ls.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.target, timeout=30)
            except OSError:
                cs.close()
                continue
            c = {"frozen": False}
            with self.lock:
                self.conns.append(c)
            for a, b in ((cs, up), (up, cs)):
                threading.Thread(target=self._pipe, args=(a, b, c), daemon=True).start()

    def _pipe(self, src, dst, c):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if b"/sim-studio/bet " in data:
                    self.first_bet.set()
                if not c["frozen"]:
                    dst.sendall(data)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.done = True
        self.ls.close()


def diag(rc, summary, out, err):
    return lambda: f"exit {rc}\nsummary {summary}\n{out}\n{err[-3000:]}"


def main():
    tap = Tap(15)
    srv = None
    try:
        seed()
        srv = start()
        play = ["--brand", "simb", "--game", "sim-slot"]

        rc, s, out, err = sim(srv, *play, "--players", "20", "--rounds", "200", "--concurrency",
                              "4", "--duplicate-rate", "0.15", "--timeout-rate", "0.05",
                              "--seed", "42", "--books", BOOKS, "--db", DB)
        tap.ok(rc == 0 and s and s["ok"] and s["players"] == 20 and s["rounds"] == 200 and
               s["unexpected"] == 0 and s["mismatches"] == 0 and s["duplicate_mismatches"] == 0
               and s["bad_signatures"] == 0,
               "20 players, 200 rounds: every answer and every balance as the books say",
               diag(rc, s, out, err))
        tap.ok(s and s["calls"] > 400 and s["duplicates"] > 0 and s["timeouts"] > 0 and
               s["retries"] >= s["timeouts"],
               "duplicate deliveries and client timeouts (retried with the same id) happened",
               diag(rc, s, out, err))
        tap.ok("ledger verify:" in out and " 0 violation(s)" in out,
               "ledger verify (--db) passes after the run", diag(rc, s, out, err))

        with open(BOOKS) as f:
            books = json.load(f)
        tap.ok(len(books["players"]) == 20 and all(p["player_id"] for p in books["players"]),
               "the books name every player", lambda: json.dumps(books)[:2000])

        # an online backup while the second run plays (its players are new: the first
        # run's books stay true, and are checked on the restored copy at the end)
        backup = {}

        def take_backup():
            time.sleep(0.3)
            backup["r"] = cli("backup", "--db", DB, "--to", COPY, "--keys-dir", KEYS)

        th = threading.Thread(target=take_backup)
        th.start()
        rc2, s2, out2, err2 = sim(srv, *play, "--players", "6", "--rounds", "300",
                                  "--concurrency", "3", "--deposit", "2.00", "--bet-max", "2.00",
                                  "--duplicate-rate", "0.1", "--timeout-rate", "0.05",
                                  "--seed", "8")
        th.join()
        tap.ok(rc2 == 0 and s2 and s2["ok"] and s2["deposits"] > 6,
               "players who go broke are topped up through the sandbox PSP; still balanced",
               diag(rc2, s2, out2, err2))
        b = backup.get("r")
        bj = json.loads(b.stdout.splitlines()[-1]) if b and b.stdout.strip() else None
        tap.ok(b and b.returncode == 0 and bj and bj["ledger_verify"] == "ok" and
               bj["integrity"] == "ok" and bj["audit_verify"] == "ok" and bj["transfers"] > 0
               and os.path.isfile(COPY) and not os.path.exists(COPY + "-wal"),
               "pitboss backup while the server plays: a checked single-file copy, its ledger "
               "and audit chain verified",
               lambda: f"{b and b.returncode}\n{b and b.stdout}\n{b and b.stderr}")

        token = newcomer(srv)
        rc7, s7, out7, err7 = sim(srv, *play, "--email", "you@example.org", "--password",
                                  "correct horse battery", "--rounds", "30", "--seed", "5")
        wallet = api(srv, "GET", "/v1/player/wallet", token=token)
        tap.ok(rc7 == 0 and s7 and s7["ok"] and s7["players"] == 1 and s7["deposits"] == 0 and
               wallet["cash"] != "50.00",
               "an existing player plays with the money they deposited (--email/--password)",
               lambda: diag(rc7, s7, out7, err7)() + f"\nwallet {wallet}")

        # a crash right after the run: every acknowledged call must have been durable
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(30)
        srv = start()
        rc3, s3, out3, err3 = sim(srv, "--check", BOOKS)
        tap.ok(rc3 == 0 and s3 and s3["ok"] and s3["players"] == 20 and s3["mismatches"] == 0,
               "after a SIGKILL and a restart every balance is what the books say",
               diag(rc3, s3, out3, err3))

        bad = os.path.join(TMP, "wrong.secret")
        with open(bad, "w") as f:
            f.write(os.urandom(32).hex())
        rc4, s4, out4, err4 = sim(srv, *play, "--players", "2", "--rounds", "4", secret_file=bad)
        tap.ok(rc4 != 0 and s4 is not None and not s4["ok"] and "SIGNATURE_INVALID" in err4,
               "a wrong secret is reported (SIGNATURE_INVALID) and the exit status is not 0",
               diag(rc4, s4, out4, err4))

        # tamper with the first player's stored cash balance behind the server's back.
        # The server writes balance rows back lazily (and keeps the newer counters in
        # memory for its readers), so a row may still be pending write-back here — then
        # a tamper would be invisible to the API and overwritten by the next write-back.
        # A clean stop writes every row back; the tamper is made while it is down.
        code = srv.stop()
        assert code == 0, f"serve exit {code}"
        victim = books["players"][0]["player_id"]
        con = sqlite3.connect(DB, timeout=30)
        acct = con.execute("SELECT id FROM ledger_account WHERE owner = ? AND kind = "
                           "'player_cash'", ("player:" + victim,)).fetchone()[0]
        with con:
            con.execute("UPDATE ledger_balance SET credits_posted = credits_posted + 100 "
                        "WHERE account_id = ?", (acct,))
        srv = start()
        rc5, s5, out5, err5 = sim(srv, "--check", BOOKS, "--db", DB)
        tap.ok(rc5 == 1 and s5 and not s5["ok"] and s5["mismatches"] >= 1 and
               "MISMATCH player 0 " in err5 and "ledger VIOLATION balance_mismatch" in err5,
               "a tampered balance fails the check (MISMATCH for that player, ledger violation)",
               diag(rc5, s5, out5, err5))
        with con:
            con.execute("UPDATE ledger_balance SET credits_posted = credits_posted - 100 "
                        "WHERE account_id = ?", (acct,))
        con.close()
        rc6, s6, out6, err6 = sim(srv, "--check", BOOKS, "--db", DB)
        tap.ok(rc6 == 0 and s6 and s6["ok"], "restored, the check passes again",
               diag(rc6, s6, out6, err6))

        code = srv.stop()
        srv = None
        v = cli("ledger", "verify", "--db", DB)
        tap.ok(code == 0 and v.returncode == 0,
               "the server stops cleanly and ledger verify passes",
               lambda: f"serve exit {code}\n{v.stdout}{v.stderr}")

        srv = Server(BIN, extra_args=["--db", DB, "--keys-dir", KEYS, "--timeout", "1"])
        b = cli("bench", "wallet", "--url", srv.url, "--provider", "sim-studio", "--secret-file",
                SECRET_FILE, "--brand", "simb", "--game", "sim-slot", "--connections", "8",
                "--rate", "20", "--seconds", "4", "--label", "idle-close", timeout=300)
        line = next((x for x in b.stdout.splitlines() if x.startswith('{"bench":"wallet"')), None)
        bj = json.loads(line) if line else None
        code = srv.stop()
        srv = None
        v = cli("ledger", "verify", "--db", DB)
        cpu = [bj[k] for k in ("cpu_busy_pct", "cpu_iowait_pct", "cpu_steal_pct")] if bj else []
        tap.ok(b.returncode == 0 and bj and bj["reconnects"] >= 1 and bj["non_200"] == 0 and
               bj["balances"] == "ok" and bj["calls"] > 0 and code == 0 and v.returncode == 0 and
               len(cpu) == 3 and all(0 <= x <= 100 for x in cpu) and sum(cpu) <= 100.1 and
               0 < bj["client_cpu_us_per_call"] < 1e6,
               "bench wallet opens the connections the server closed when idle again; "
               "balances ok, the machine's CPU shares and its own CPU a call in its line, "
               "ledger verify passes",
               lambda: f"exit {b.returncode}\n{b.stdout}\n{b.stderr[-3000:]}\n"
                       f"serve exit {code}\n{v.stdout}{v.stderr}")
        # calls unanswered at the end of the run: reconciled, not failed
        srv = start()
        proxy = FreezingProxy(srv.host, srv.port, freeze_after=1.6)
        t0 = time.monotonic()
        b = cli("bench", "wallet", "--url", proxy.url, "--provider", "sim-studio",
                "--secret-file", SECRET_FILE, "--brand", "simb", "--game", "sim-slot",
                "--connections", "4", "--seconds", "2", "--label", "reconcile",
                "--resend-ms", "1000", timeout=300)
        took = time.monotonic() - t0
        proxy.close()
        line = next((x for x in b.stdout.splitlines() if x.startswith('{"bench":"wallet"')), None)
        print(f"# reconcile run: {took:.1f} s, {line}", flush=True)
        bj = json.loads(line) if line else None
        code = srv.stop()
        srv = None
        v = cli("ledger", "verify", "--db", DB)
        tap.ok(b.returncode == 0 and bj and proxy.frozen_at and bj["reconciled"] >= 1 and
               bj["reconciled"] <= 4 and bj["non_200"] == 0 and bj["balances"] == "ok" and
               bj["calls"] > 0 and code == 0 and v.returncode == 0 and took < 120,
               "bench wallet whose calls in flight lose their answers at the end reconciles "
               "them (sent again on fresh connections, counted) and ends with balances ok; "
               "ledger verify passes",
               lambda: f"exit {b.returncode} after {took:.1f} s, frozen {proxy.frozen_at}\n"
                       f"{b.stdout}\n{b.stderr[-3000:]}\nserve exit {code}\n{v.stdout}{v.stderr}")
        # restore: the copy in place of a database, a server on it with the same keys
        rr = cli("restore", "--from", COPY, "--db", RESTORED, "--keys-dir", KEYS)
        assert rr.returncode == 0, f"restore exit {rr.returncode}: {rr.stdout}{rr.stderr}"
        srv = Server(BIN, extra_args=["--db", RESTORED, "--keys-dir", KEYS])
        rc8, s8, out8, err8 = sim(srv, "--check", BOOKS, "--db", RESTORED)
        code = srv.stop()
        srv = None
        tap.ok(rc8 == 0 and s8 and s8["ok"] and s8["players"] == 20 and s8["mismatches"] == 0 and
               code == 0,
               "a server restored from the backup answers every balance the first run's books "
               "say; its ledger verifies", lambda: diag(rc8, s8, out8, err8)() + f"\nexit {code}")
    except Exception:  # a crash of the harness is a failed case, not a silent pass
        import traceback
        tap.ok(False, "the test ran to its end", traceback.format_exc())
    finally:
        if srv:
            srv.kill()
        shutil.rmtree(TMP, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
