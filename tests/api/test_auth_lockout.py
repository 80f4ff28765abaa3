#!/usr/bin/python3
"""test_auth_lockout.py PATH/TO/pitboss — the client address behind trusted reverse
proxies, and staff ending login locks early, against a real `pitboss serve`
(speaks TAP).

The server runs with --trusted-proxies 127.0.0.1,10.0.0.0/8. From 127.0.0.1 (a
trusted proxy) X-Forwarded-For names the client by the right-most-untrusted rule:
two clients behind the proxy get separate per-address lockout counts, and the
audit log and the request log carry the client's address. From any other
loopback address (untrusted) the header is ignored; a malformed header from the
proxy leaves the proxy's address. Registrations behind the proxy: the limit of
10 counts an IPv6 client by its /64, an IPv4 client by its address, and so does
the crash-chain check's limit (POST /v1/fair/verify with a commitment). A bad list is refused at start with the entry
named. Then POST /v1/admin/players/{id}/unlock and /v1/admin/staff/{id}/unlock:
reason required (422, nothing written), permission (403), unknown id (404), the
locks cleared (per address and account-wide), the audit entry, the login works.
"""
import os
import subprocess
import sqlite3
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Client, Env, Staff, create_staff, expect, fingerprint, qs,  # noqa: E402
                           register_player)
from harness import Tap  # noqa: E402

PROXY = "127.0.0.1"
UNKNOWN = "0190a0a0-0000-7000-8000-000000000000"


class Run:
    def __init__(self, env, binary):
        self.env = env
        self.binary = binary
        self.players = {}

    def audit(self, **filters):
        return expect(self.admin.call("GET", "/v1/admin/audit" + qs(limit=200, **filters)),
                      200)["entries"]

    def via(self, client_ip):
        """A client behind the proxy: requests from 127.0.0.1 naming client_ip."""
        proxy = Client(self.env, PROXY)

        def call(method, path, body=None, token=None, xff=None):
            return proxy.call(method, path, body, token=token,
                              headers={"X-Forwarded-For": xff or f"203.0.113.77, {client_ip}"})
        return call

    def logged(self, match):
        """The request log lines that match (waiting up to 15 s for the buffered log to
        flush: its thread may run late on a loaded machine)."""
        deadline = time.monotonic() + 15
        while True:
            lines = [x for x in self.env.srv.log_events("http.request") if match(x)]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def login(self, call, name, password="wrong-pass-1"):
        return call("POST", "/v1/player/login", {"brand": "alpha", "email": self.players[name],
                                                 "password": password})

    def locks(self, name):
        pid = self.ids[name]
        p = expect(self.admin.call("GET", f"/v1/admin/players/{pid}"), 200)["player"]
        return [x["address"] for x in p["address_locks"]], p["locked_until"]

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start("--trusted-proxies", " 127.0.0.1 , 10.0.0.0/8")
        self.admin = Staff(env, "root@example.com", otp, "127.0.0.10").activate("Blue-Falcon-0-Xy")
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "alpha", "name": "Alpha", "default_currency": "EUR",
                                "currencies": ["EUR"], "jurisdiction": "MT"}), 201)
        reg = Client(env, "127.0.0.9")
        self.ids = {}
        for name in ("pa", "pb", "pc", "pd"):
            self.players[name] = f"{name}@example.com"
            self.ids[name] = register_player(reg, "alpha", self.players[name])
        self.support = create_staff(env, self.admin, "sam@example.com", "support", "127.0.0.20",
                                    brands=["alpha"]).activate("Green-Heron-1-Zz")
        self.finance = create_staff(env, self.admin, "fin@example.com", "finance", "127.0.0.21",
                                    brands=["alpha"]).activate("Green-Heron-2-Zz")

    def trusted_separate_counts(self):
        a, b = self.via("198.51.100.1"), self.via("198.51.100.2")
        statuses = [self.login(a, "pa").status for _ in range(5)]
        assert statuses == [401] * 4 + [423], statuses
        # another client behind the same proxy: its own count (trusted hops skipped)
        r = b("POST", "/v1/player/login", {"brand": "alpha", "email": self.players["pa"],
                                           "password": "wrong-pass-1"},
              xff="6.6.6.6, 198.51.100.2, 10.1.2.3")
        expect(r, 401, "CREDENTIALS_INVALID")
        addrs, until = self.locks("pa")
        assert addrs == ["198.51.100.1"] and until is None, (addrs, until)
        # the proxy's own address is not locked: a third client gets in
        c = self.via("198.51.100.3")
        expect(self.login(c, "pa", "Player-pass-77"), 200)
        # the request log names the client and the proxy
        lines = self.logged(lambda x: x.get("client_ip") == "198.51.100.3")
        assert lines and all(x.get("peer_ip") == PROXY for x in lines), lines

    def untrusted_header_ignored(self):
        c = Client(self.env, "127.0.0.2")
        for i in range(5):
            r = c.call("POST", "/v1/player/login",
                       {"brand": "alpha", "email": self.players["pb"], "password": "wrong-pass-1"},
                       headers={"X-Forwarded-For": f"198.51.100.{50 + i}"})
            expect(r, 401 if i < 4 else 423)
        addrs, _ = self.locks("pb")
        assert addrs == ["127.0.0.2"], addrs
        lines = self.logged(lambda x: x.get("client_ip") == "127.0.0.2")
        assert lines and not any("peer_ip" in x for x in lines), lines

    def malformed_falls_back(self):
        for xff in ("bogus", "198.51.100.9, nonsense", "198.51.100.9,", "10.0.0.1, 127.0.0.1"):
            r = self.via("-")("POST", "/v1/player/login",
                              {"brand": "alpha", "email": self.players["pc"], "password": "wrong-pass-1"},
                              xff=xff)
            expect(r, 401)
        expect(self.via("-")("POST", "/v1/player/login",
                             {"brand": "alpha", "email": self.players["pc"], "password": "wrong-pass-1"},
                             xff="garbage"), 423)
        addrs, _ = self.locks("pc")
        assert addrs == [PROXY], addrs

    def register_limit_by_64(self):
        """The registration limit (10, then one a minute) counts an IPv6 client by its
        /64: every address of one /64 takes from one allowance."""
        def register(ip, email, password="weak"):
            return self.via(ip)("POST", "/v1/player/register",
                                {"brand": "alpha", "email": email, "password": password,
                                 "country": "MT", "date_of_birth": "1990-01-01"})
        for i in range(10):  # refused registrations count too: the limit comes first
            expect(register(f"2001:db8:77:1::{i + 1:x}", f"r64-{i}@example.com"), 422,
                   "PASSWORD_WEAK")
        r = register("2001:db8:77:1:ffff:1:2:3", "r64-x@example.com")
        expect(r, 429, "RATE_LIMITED")
        assert 1 <= int(r.header("retry-after")) <= 60, r
        # another /64 has its own allowance, and so has each IPv4 address
        expect(register("2001:db8:77:2::1", "r64-other@example.com", "Player-pass-77"), 201)
        for ip in ("198.51.100.200", "198.51.100.201"):
            for i in range(10):
                expect(register(ip, f"r4-{ip}-{i}@example.com"), 422, "PASSWORD_WEAK")
        expect(register("198.51.100.202", "r4-x@example.com", "Player-pass-77"), 201)

    def bad_list_refused(self):
        for how, extra, env in (("flag", ["--trusted-proxies", "10.0.0.1/8"], {}),
                                ("env", [], {"PITBOSS_TRUSTED_PROXIES": "10.0.0.0/8,proxy.lan"})):
            d = tempfile.mkdtemp(prefix="pbproxy.")
            e = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
            e.update(env, PITBOSS_WAL_RESERVE="0")
            r = subprocess.run([self.binary, "serve", "--listen", "127.0.0.1:0", "--db",
                                os.path.join(d, "db"), "--keys-dir", os.path.join(d, "keys"), *extra],
                               capture_output=True, text=True, timeout=60, env=e)
            assert r.returncode != 0, (how, r.returncode, r.stderr[-500:])
            want = "host bits set" if how == "flag" else "'proxy.lan' is not an IPv4 or IPv6 address"
            assert "trusted proxies: " in r.stderr and want in r.stderr, (how, r.stderr[-500:])
        h = subprocess.run([self.binary, "serve", "--help"], capture_output=True, text=True, timeout=30)
        assert "--trusted-proxies" in h.stdout and "PITBOSS_TRUSTED_PROXIES" in h.stdout, h.stdout

    def chain_walk_by_64(self):
        """POST /v1/fair/verify with a crash commitment (a chain walk of up to a million
        hashes) is limited per client address (5, then one per 12 s), an IPv6 client by
        its /64: every address of one /64 takes from one allowance."""
        walk = {"game": "dice", "server_seed": "ab" * 32, "client_seed": "c", "nonce": 0,
                "commitment": "00" * 32}
        for i in range(5):  # a dice round has no chain: refused 422, but counted
            expect(self.via(f"2001:db8:78:1::{i + 1:x}")("POST", "/v1/fair/verify", walk), 422,
                   "FIELD_INVALID")
        r = self.via("2001:db8:78:1:ffff:1:2:3")("POST", "/v1/fair/verify", walk)
        expect(r, 429, "RATE_LIMITED")
        assert 1 <= int(r.header("retry-after")) <= 12, r
        # another /64 has its own allowance
        expect(self.via("2001:db8:78:2::1")("POST", "/v1/fair/verify", walk), 422,
               "FIELD_INVALID")

    def player_unlock(self):
        pb = self.ids["pb"]  # locked from 127.0.0.2 (untrusted_header_ignored)
        assert self.locks("pb") == (["127.0.0.2"], None)
        before = fingerprint(self.env.db)
        path = f"/v1/admin/players/{pb}/unlock"
        expect(self.support.call("POST", path, {}), 422, "FIELD_MISSING")
        expect(self.support.call("POST", path, {"reason": ""}), 422)
        expect(self.finance.call("POST", path, {"reason": "x"}), 403, "FORBIDDEN")
        expect(self.support.call("POST", f"/v1/admin/players/{UNKNOWN}/unlock", {"reason": "x"}), 404,
               "PLAYER_NOT_FOUND")
        assert fingerprint(self.env.db) == before, "a refused unlock wrote"
        # the unlock itself, by support reached through the proxy: the audit names the client
        r = self.via("192.0.2.44")("POST", path, {"reason": "called in, ID checked"},
                                    token=self.support.token)
        got = expect(r, 200)
        assert got == {"player": pb, "account_lock_cleared": False, "address_locks_cleared": 1}, got
        assert self.locks("pb") == ([], None)
        e = self.audit(action="player.login_unlock", target_kind="player", target_id=pb)
        assert len(e) == 1, e
        e = e[0]
        assert (e["actor_id"], e["reason"], e["ip"]) == \
            (self.support.id, "called in, ID checked", "192.0.2.44"), e
        assert e["before"]["address_locks"] == 1 and e["before"]["failed_logins"] == 5, e
        assert e["after"] == {"failed_logins": 0, "locked_until": None, "address_locks": 0}, e
        r = Client(self.env, "127.0.0.2").call("POST", "/v1/player/login", {
            "brand": "alpha", "email": self.players["pb"], "password": "Player-pass-77"})
        expect(r, 200)

    def account_lock_unlock(self):
        # 20 failures over 4+ addresses lock the account everywhere; the per-account
        # rate limit (10, then one per 30 s) makes that slow to reach over HTTP, so
        # the lock is written as login.c would leave it, beside one address's lock
        pd = self.ids["pd"]
        c = self.via("198.51.100.100")
        assert [self.login(c, "pd").status for _ in range(5)] == [401] * 4 + [423]
        until = int((time.time() + 900) * 1e6)
        db = sqlite3.connect(self.env.db, timeout=30)
        with db:
            db.execute("UPDATE player SET failed_logins = 20, locked_until = ? WHERE public_id = ?",
                       (until, pd))
        db.close()
        addrs, locked = self.locks("pd")
        assert locked is not None and addrs == ["198.51.100.100"], (addrs, locked)
        expect(self.login(self.via("198.51.100.200"), "pd", "Player-pass-77"), 423, "ACCOUNT_LOCKED")
        got = expect(self.admin.call("POST", f"/v1/admin/players/{pd}/unlock", {"reason": "spray"}), 200)
        assert got == {"player": pd, "account_lock_cleared": True, "address_locks_cleared": 1}, got
        e = self.audit(action="player.login_unlock", target_kind="player", target_id=pd)[0]
        assert e["before"]["locked_until"] == locked and e["before"]["failed_logins"] == 20, e
        assert self.locks("pd") == ([], None)
        expect(self.login(c, "pd", "Player-pass-77"), 200)

    def staff_unlock(self):
        sam = self.support
        stranger = self.via("198.51.100.66")
        for i in range(5):
            r = stranger("POST", "/v1/admin/login", {"email": sam.email, "password": "not-the-pass-1"})
            expect(r, 401 if i < 4 else 423)
        st = expect(self.admin.call("GET", f"/v1/admin/staff/{sam.id}"), 200)["staff"]
        assert [x["address"] for x in st["address_locks"]] == ["198.51.100.66"], st
        before = fingerprint(self.env.db)
        path = f"/v1/admin/staff/{sam.id}/unlock"
        expect(self.admin.call("POST", path, {}), 422, "FIELD_MISSING")
        expect(sam.call("POST", path, {"reason": "x"}), 403, "FORBIDDEN")
        expect(self.admin.call("POST", f"/v1/admin/staff/{UNKNOWN}/unlock", {"reason": "x"}), 404,
               "STAFF_NOT_FOUND")
        r = self.admin.call("POST", f"/v1/admin/staff/{self.admin.id}/unlock", {"reason": "x"})
        expect(r, 403, "FORBIDDEN")  # not one's own
        assert fingerprint(self.env.db) == before, "a refused unlock wrote"
        got = expect(self.admin.call("POST", path, {"reason": "the member asked"}), 200)
        assert got == {"staff": sam.id, "account_lock_cleared": False, "address_locks_cleared": 1}, got
        st = expect(self.admin.call("GET", f"/v1/admin/staff/{sam.id}"), 200)["staff"]
        assert st["address_locks"] == [] and st["locked_until"] is None, st
        e = self.audit(action="staff.login_unlock", target_kind="staff", target_id=sam.id)
        assert len(e) == 1 and e[0]["reason"] == "the member asked" and \
            e[0]["actor_id"] == self.admin.id and e[0]["before"]["address_locks"] == 1, e
        # the stranger's address may try again (and is counted again from 0)
        r = stranger("POST", "/v1/admin/login", {"email": sam.email, "password": "not-the-pass-1"})
        expect(r, 401, "CREDENTIALS_INVALID")


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_auth_lockout.py PATH/TO/pitboss")
        sys.exit(1)
    binary = os.path.abspath(sys.argv[1])
    tap = Tap(10)
    env = Env(binary)
    run = Run(env, binary)
    try:
        if not tap.case("setup: trusted proxies 127.0.0.1 and 10.0.0.0/8, a brand, players, "
                        "support and finance", run.setup):
            for _ in range(tap.plan - 1):
                tap.ok(False, "skipped: setup failed")
            return tap.done()
        tap.case("from a trusted proxy, two X-Forwarded-For clients have separate lockout counts "
                 "(right-most untrusted; trusted hops skipped); the request log has client and peer",
                 run.trusted_separate_counts)
        tap.case("from an untrusted peer X-Forwarded-For is ignored: the peer is locked",
                 run.untrusted_header_ignored)
        tap.case("a malformed or all-trusted X-Forwarded-For from the proxy: the proxy's address",
                 run.malformed_falls_back)
        tap.case("registrations behind the proxy: the 11th from any address of one IPv6 /64 is "
                 "429 RATE_LIMITED; another /64 and each IPv4 address have their own allowance",
                 run.register_limit_by_64)
        tap.case("crash-chain checks behind the proxy: the 6th from any address of one IPv6 /64 "
                 "is 429 RATE_LIMITED; another /64 has its own allowance", run.chain_walk_by_64)
        tap.case("a bad --trusted-proxies / PITBOSS_TRUSTED_PROXIES is refused at start, the "
                 "entry named; --help documents it", run.bad_list_refused)
        tap.case("player unlock: reason required, permission, unknown id, nothing written on "
                 "refusal; clears the address lock, audited with the client address; login works",
                 run.player_unlock)
        tap.case("player unlock of an account-wide lock: both cleared, the login works",
                 run.account_lock_unlock)
        tap.case("staff unlock: reason, not one's own, permission, unknown id; clears the "
                 "member's address lock; audited", run.staff_unlock)
    except Exception:
        traceback.print_exc()
    finally:
        env.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
