#!/usr/bin/python3
"""test_backoffice_people.py PATH/TO/pitboss — the staff API behind the back
office's people pages over real HTTP (speaks TAP): the player page's sessions
(two logins with different User-Agents, devices, masking), notes (append-only,
audited in the same transaction, validation), rounds from both sources
(in-house bets and native-protocol provider bets/wins/rollbacks merged by time,
pages without gaps or repeats, filters), the brand scope (another brand's
player is 404 on every route). Every answer is checked against
docs/openapi.yaml. Ends with `pitboss ledger verify` and `pitboss audit verify`.

Usage: test_backoffice_people.py PATH/TO/pitboss
"""
import hashlib
import hmac
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Client, Env, Staff, create_staff, expect, fingerprint,  # noqa: E402
                           qs)
from harness import Tap  # noqa: E402

PASSWORD = "Player-pass-77"
SECRET = bytes.fromhex("6b" * 32)
UA_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Safari/537.36")
UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0

    def key(self, prefix="k"):
        self.n += 1
        return f"{prefix}-{self.n}-{time.time_ns()}"

    # ---- helpers ----

    def register(self, brand, email, **extra):
        body = {"brand": brand, "email": email, "password": PASSWORD, "country": "MT",
                "date_of_birth": "1990-01-01"}
        body.update(extra)
        r = self.client.call("POST", "/v1/player/register", body)
        assert r.status == 201, r
        return r.json()["player"]

    def player_login(self, brand, email, ua):
        r = self.client.call("POST", "/v1/player/login",
                             {"brand": brand, "email": email, "password": PASSWORD},
                             headers={"User-Agent": ua})
        return expect(r, 200)["access_token"]

    def pages(self, who, path, key, limit, **params):
        """Every page of a cursor list; the rows and the number of pages."""
        rows, cursor, n = [], None, 0
        while True:
            page = expect(who.call("GET", path + qs(cursor=cursor, limit=limit, **params)), 200)
            rows += page[key]
            n += 1
            cursor = page["next_cursor"]
            if cursor is None:
                return rows, n
            assert len(page[key]) == limit, page
            assert n < 1000

    def fund(self, pid, amount):
        expect(self.admin.call("POST", f"/v1/admin/players/{pid}/adjustments",
                               {"balance": "cash", "direction": "credit", "amount": amount,
                                "reason": "test funds", "idempotency_key": self.key("fund")}), 201)

    def provider(self, path, body):
        data = json.dumps(body).encode()
        ts = str(int(time.time()))
        mac = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + data, hashlib.sha256).hexdigest()
        srv = self.env.srv
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
        try:
            c.request("POST", f"/v1/providers/studio/{path}", body=data,
                      headers={"Content-Type": "application/json", "X-Pitboss-Timestamp": ts,
                               "X-Pitboss-Signature": mac})
            r = c.getresponse()
            status, out = r.status, r.read()
        finally:
            c.close()
        assert status == 200, (path, status, out)
        return json.loads(out)

    # ---- cases ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.6.10").activate("Blue-Falcon-0-Xy")
        for code in ("alpha", "beta"):
            expect(self.admin.call("POST", "/v1/admin/brands",
                                   {"code": code, "name": code.title(), "default_currency": "EUR",
                                    "currencies": ["EUR", "USD"], "jurisdiction": "MT"}), 201)
        self.support = create_staff(env, self.admin, "sup@example.com", "support", "127.0.6.11",
                                    brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.finance = create_staff(env, self.admin, "fin@example.com", "finance", "127.0.6.12",
                                    brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.beta_support = create_staff(env, self.admin, "supb@example.com", "support",
                                         "127.0.6.13", brands=["beta"]).activate("Blue-Falcon-3-Xy")
        self.client = Client(env, "127.0.6.20")
        self.alice = self.register("alpha", "alice@example.com")["id"]
        self.carol = self.register("beta", "carol@example.com")["id"]

    def sessions(self):
        t1 = self.player_login("alpha", "alice@example.com", UA_CHROME)
        t2 = self.player_login("alpha", "alice@example.com", UA_FIREFOX)
        page = expect(self.support.call("GET", f"/v1/admin/players/{self.alice}/sessions"), 200)
        s = page["sessions"]
        assert len(s) == 2 and page["next_cursor"] is None, page
        assert s[0]["device"] == "Firefox on Linux" and s[1]["device"] == "Chrome on Windows", s
        assert s[0]["user_agent"] == UA_FIREFOX and s[0]["ip"] == "127.0.6.20", s
        assert all(x["active"] and x["revoked_at"] is None for x in s), s
        assert s[0]["created_at"] >= s[1]["created_at"]
        # without players.pii.read: the IP masked, no User-Agent, the device label stays
        m = expect(self.finance.call("GET", f"/v1/admin/players/{self.alice}/sessions"),
                   200)["sessions"]
        assert [x["ip"] for x in m] == ["127.0.*.*"] * 2 and all(x["user_agent"] is None
                                                                  for x in m), m
        assert [x["device"] for x in m] == ["Firefox on Linux", "Chrome on Windows"], m
        # pages of one
        rows, n = self.pages(self.support, f"/v1/admin/players/{self.alice}/sessions", "sessions", 1)
        assert n == 2 and [x["id"] for x in rows] == [x["id"] for x in s], rows
        # a revoked session says so: block the player (sessions end), unblock
        expect(self.support.call("POST", f"/v1/admin/players/{self.alice}/block",
                                 {"reason": "check"}), 200)
        expect(self.support.call("POST", f"/v1/admin/players/{self.alice}/unblock",
                                 {"reason": "ok"}), 200)
        s = expect(self.support.call("GET", f"/v1/admin/players/{self.alice}/sessions"),
                   200)["sessions"]
        assert all(not x["active"] and x["revoked_at"] and x["revoke_reason"] for x in s), s
        self.alice_token = self.player_login("alpha", "alice@example.com", UA_CHROME)
        del t1, t2
        # bad input
        expect(self.support.call("GET", f"/v1/admin/players/{self.alice}/sessions?limit=0"), 422,
               "FIELD_INVALID")
        expect(self.support.call("GET", f"/v1/admin/players/{self.alice}/sessions?cursor=x"), 422,
               "FIELD_INVALID")

    def notes(self):
        path = f"/v1/admin/players/{self.alice}/notes"
        empty = expect(self.support.call("GET", path), 200)
        assert empty == {"player_id": self.alice, "notes": [], "next_cursor": None}, empty
        before = fingerprint(self.env.db)
        for body, code in (({}, "FIELD_MISSING"), ({"text": ""}, "FIELD_INVALID"),
                           ({"text": "   \n "}, "FIELD_INVALID"),
                           ({"text": "x" * 2001}, "FIELD_INVALID"),
                           ({"text": "a\u0007b"}, "FIELD_INVALID"),
                           ({"text": 5}, "FIELD_INVALID"),
                           ({"text": "ok", "extra": 1}, "UNKNOWN_FIELD")):
            expect(self.support.call("POST", path, body), 400 if code == "UNKNOWN_FIELD" else 422,
                   code)
        # finance may read players but not write notes
        expect(self.finance.call("POST", path, {"text": "hello"}), 403, "FORBIDDEN")
        assert fingerprint(self.env.db) == before, "a refused note wrote something"
        # 2000 characters of 4 bytes each is fine
        long_text = "\U0001F600" * 2000
        texts = ["Called about a withdrawal.\nAll fine.", long_text] + [f"note {i}" for i in range(5)]
        made = []
        for t in texts:
            made.append(expect(self.support.call("POST", path, {"text": t}), 201)["note"])
        assert made[0]["author_id"] == self.support.id and made[0]["author_email"] == "sup@example.com"
        assert made[1]["text"] == long_text
        rows, n = self.pages(self.finance, path, "notes", 3)
        assert n == 3 and [x["id"] for x in rows] == [x["id"] for x in reversed(made)], rows
        # audited in the same transaction: one entry per note with the note's id and text
        ents = self.env.rows("SELECT actor_id, target_kind, target_id, after, brand FROM audit_entry "
                             "WHERE action='player.note_added' ORDER BY seq")
        assert len(ents) == len(made), ents
        for (actor, kind, target, after, brand), note in zip(ents, made):
            a = json.loads(after)
            assert (actor, kind, target, brand) == (self.support.id, "player", self.alice, "alpha")
            assert a == {"note_id": note["id"], "text": note["text"]}, a
        # append-only in the database too
        import sqlite3
        con = sqlite3.connect(self.env.db, timeout=30)
        try:
            for sql in ("UPDATE player_note SET text='x'", "DELETE FROM player_note"):
                try:
                    con.execute(sql)
                    raise AssertionError(sql + " was allowed")
                except sqlite3.DatabaseError as e:
                    assert "append-only" in str(e), e
        finally:
            con.close()

    def rounds_setup(self):
        # in-house games on alpha, a native provider with one game
        expect(self.admin.call("GET", "/v1/admin/brands/alpha/originals"), 200)
        for g in ("dice", "limbo"):
            expect(self.admin.call("PUT", f"/v1/admin/brands/alpha/games/pitboss/{g}",
                                   {"enabled": True}), 200)
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "studio", "name": "Studio", "protocol": "native",
                                "secret": SECRET.hex()}), 201)
        limits = [{"currency": "EUR", "min_bet": "0.10", "max_bet": "100.00"}]
        expect(self.admin.call("POST", "/v1/admin/providers/studio/games",
                               {"code": "slot1", "name": "Slot1", "category": "slots",
                                "rtp_bp": 9600, "volatility": "medium", "limits": limits}), 201)
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/studio/slot1",
                               {"enabled": True}), 200)
        self.fund(self.alice, "500.00")
        r = self.client.call("POST", "/v1/player/games/studio/slot1/launch",
                             token=self.alice_token, check=False)
        assert r.status == 201, r
        self.launch = r.json()["token"]

    def dice(self, amount):
        r = self.client.call("POST", "/v1/player/originals/dice/bets",
                             {"amount": amount, "params": {"target": 50.5, "direction": "over"}},
                             token=self.alice_token, headers={"Idempotency-Key": self.key("bet")})
        return expect(r, 201)["round"]

    def rounds(self):
        self.rounds_setup()
        want = []  # (source, id) newest last
        # interleave: in-house, provider round with bet+win (closed), in-house, provider
        # round rolled back, provider round open with two bets, in-house
        d1 = self.dice("1.00")
        want.append(("original", d1["id"]))
        tok = self.launch
        self.provider("bet", {"token": tok, "transaction_id": "t1", "round_id": "r1",
                              "game": "slot1", "currency": "EUR", "amount": "2.00"})
        self.provider("win", {"token": tok, "transaction_id": "t2", "round_id": "r1",
                              "bet_transaction_id": "t1", "currency": "EUR", "amount": "5.50"})
        self.provider("round/close", {"token": tok, "transaction_id": "t3", "round_id": "r1"})
        want.append(("provider", "r1"))
        d2 = self.dice("1.50")
        want.append(("original", d2["id"]))
        self.provider("bet", {"token": tok, "transaction_id": "t4", "round_id": "r2",
                              "game": "slot1", "currency": "EUR", "amount": "3.00"})
        self.provider("rollback", {"token": tok, "transaction_id": "t5", "round_id": "r2",
                                   "bet_transaction_id": "t4", "currency": "EUR"})
        want.append(("provider", "r2"))
        self.provider("bet", {"token": tok, "transaction_id": "t6", "round_id": "r3",
                              "game": "slot1", "currency": "EUR", "amount": "1.00"})
        self.provider("bet", {"token": tok, "transaction_id": "t7", "round_id": "r3",
                              "game": "slot1", "currency": "EUR", "amount": "0.25"})
        want.append(("provider", "r3"))
        for _ in range(4):
            want.append(("original", self.dice("0.10")["id"]))
        path = f"/v1/admin/players/{self.alice}/rounds"
        full = expect(self.support.call("GET", path), 200)
        got = [(r["source"], r["id"]) for r in full["rounds"]]
        assert got == list(reversed(want)), got
        by = {r["id"]: r for r in full["rounds"]}
        r1, r2, r3 = by["r1"], by["r2"], by["r3"]
        assert (r1["provider"], r1["game"], r1["bet"], r1["win"], r1["status"]) == \
            ("studio", "slot1", "2.00", "5.50", "closed") and r1["settled_at"], r1
        assert (r2["bet"], r2["refunded"], r2["win"], r2["status"]) == \
            ("3.00", "3.00", "0.00", "rolled_back"), r2
        assert (r3["bet"], r3["status"], r3["settled_at"]) == ("1.25", "open", None), r3
        o = by[d1["id"]]
        assert (o["provider"], o["game"], o["currency"], o["bet"], o["status"]) == \
            ("pitboss", "dice", "EUR", "1.00", "settled"), o
        assert o["win"] == d1["payout"] and o["rtp_bp"] == d1["rtp_bp"] and o["settled_at"], (o, d1)
        # every page size: the same list, no gaps, no repeats
        for limit in (1, 2, 3, 4):
            rows, n = self.pages(self.finance, path, "rounds", limit)
            assert [(r["source"], r["id"]) for r in rows] == got, (limit, rows)
            assert n == -(-len(got) // limit), (limit, n)
        # filters
        rows, _ = self.pages(self.support, path, "rounds", 2, source="provider")
        assert [r["id"] for r in rows] == ["r3", "r2", "r1"], rows
        rows, _ = self.pages(self.support, path, "rounds", 2, source="original")
        assert [("original", r["id"]) for r in rows] == [w for w in reversed(want)
                                                          if w[0] == "original"], rows
        rows, _ = self.pages(self.support, path, "rounds", 50, game="slot1")
        assert {r["id"] for r in rows} == {"r1", "r2", "r3"}, rows
        cut = by["r2"]["started_at"]
        newer = expect(self.support.call("GET", path + qs(**{"from": cut})), 200)["rounds"]
        older = expect(self.support.call("GET", path + qs(to=cut)), 200)["rounds"]
        assert [(r["source"], r["id"]) for r in newer + older] == got, (newer, older)
        assert newer[-1]["id"] == "r2", newer
        for q, field in (("?source=slots", "source"), ("?cursor=zz", "cursor"),
                         ("?cursor=" + "31" * 4, "cursor"), ("?limit=201", "limit"),
                         ("?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z", "to")):
            r = expect(self.support.call("GET", path + q), 422, "FIELD_INVALID")
            assert r["error"]["field"] == field, r

    def scope(self):
        """Another brand's player is 404 on every new route, exactly like a missing one."""
        for who, pid in ((self.support, self.carol), (self.beta_support, self.alice),
                         (self.support, "0190a0a0-0000-7000-8000-000000000000")):
            for method, path, body in (("GET", "sessions", None), ("GET", "notes", None),
                                       ("POST", "notes", {"text": "peek"}),
                                       ("GET", "rounds", None)):
                expect(who.call(method, f"/v1/admin/players/{pid}/{path}", body), 404,
                       "PLAYER_NOT_FOUND")
        # and the other brand's own staff see their player
        expect(self.beta_support.call("GET", f"/v1/admin/players/{self.carol}/notes"), 200)

    def stop_and_verify(self):
        assert self.env.stop() == 0, "exit status"
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        missing = [m for m in self.env.spec.unexercised("/v1/admin/players/{id}/")
                   if any(p in m for p in ("/sessions", "/notes", "/rounds"))]
        assert not missing, "\n".join(missing)


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_backoffice_people.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: two brands, support / finance of alpha, support of beta, players", run.setup),
        ("sessions: two logins with different User-Agents, devices, newest first, masking "
         "without pii.read, pages, revoked after a block, bad input", run.sessions),
        ("notes: validation writes nothing, append-only, pages, audited with the note in the "
         "same transaction, players.write needed", run.notes),
        ("rounds: in-house and provider rounds merged by time, sums and statuses, every page "
         "size without gaps or repeats, filters, bad input", run.rounds),
        ("brand scope: another brand's player is 404 PLAYER_NOT_FOUND on every new route",
         run.scope),
        ("stop; ledger verify and audit verify pass; every new route answered 2xx and 4xx",
         run.stop_and_verify),
    ]
    tap = Tap(len(cases))
    try:
        for name, fn in cases:
            tap.case(name, fn)
    finally:
        env.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
