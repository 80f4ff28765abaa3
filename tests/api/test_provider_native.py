"""test_provider_native.py — the native seamless wallet protocol over real HTTP,
rule by rule (issue 4 part 3): signatures and timestamps, session and balance,
bets and wins with the funding split returned proportionally, two players on
one round id (rounds are per player), duplicates answered byte for byte,
conflicting reuse of an id (another currency too), rollback before the bet,
rollback after a win, win on a rolled-back bet, insufficient funds with the
balance, wrong currency, unknown / disabled / jurisdiction-blocked games, bet
limits, expired tokens (refused for bets, accepted for wins and rollbacks),
launches revoked by staff (the same, at once), a blocked player, bad input
refused with the ledger unchanged, and the launch cache (a launch gone from the
store: refused at once where a live token is needed, within the cache's second
for wins). Ends with `pitboss ledger verify` on the database the run wrote.

Usage: test_provider_native.py PATH/TO/pitboss
"""
import hashlib
import hmac
import http.client
import json
import os
import re
import sqlite3
import sys
import threading
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Client, Env, Staff, account_balance, create_staff,  # noqa: E402
                           expect, live_balances, register_player, unclaimed_records)
from harness import run_cases  # noqa: E402

SECRET = bytes.fromhex("5a" * 32)
PASSWORD = "Player-pass-77"
# the server keeps a launch (LAUNCH_TTL_US, src/catalog/launch.c) at most 1 s from its
# load, and every load of the old row came before the change this test waits out (its
# calls are one after another): 1 s after the change written behind the server's back,
# plus a margin for the clocks' granularity. A provider or a brand's funding policy
# changed through the server is in force from its next call (no wait: the caches are
# forgotten as the change is written, pb_catalog_provider_cache_guard and
# pb_tenancy_brand_cache_guard)
CACHE_S = 1.05


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


class Run:
    def __init__(self, env):
        self.env = env

    # ---- the provider side ----

    def post(self, path, body, secret=SECRET, ts=None, sig=None, raw=None, provider="studio",
             headers=None, check=True):
        """One signed call; the answer is validated against docs/openapi.yaml."""
        data = raw if raw is not None else json.dumps(body).encode()
        ts = str(int(time.time())) if ts is None else ts
        mac = "sha256=" + hmac.new(secret, ts.encode() + b"." + data, hashlib.sha256).hexdigest()
        h = {"Content-Type": "application/json", "X-Pitboss-Timestamp": ts,
             "X-Pitboss-Signature": sig if sig is not None else mac}
        if headers is not None:
            h = headers
        srv = self.env.srv
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
        try:
            c.request("POST", f"/v1/providers/{provider}/{path}", body=data, headers=h)
            r = c.getresponse()
            out = Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()
        if check:
            self.env.spec.check("POST", f"/v1/providers/{provider}/{path}", out)
        return out

    def signed_ok(self, r):
        want = "sha256=" + hmac.new(SECRET, r.body, hashlib.sha256).hexdigest()
        return r.headers.get("x-pitboss-signature") == want

    def bet(self, who, tx, rnd, amount, game="slot1", currency="EUR", **extra):
        body = {"token": self.tokens[who], "transaction_id": tx, "round_id": rnd, "game": game,
                "currency": currency, "amount": amount}
        body.update(extra)
        return self.post("bet", body)

    def win(self, who, tx, rnd, bet, amount, currency="EUR", **extra):
        body = {"token": self.tokens[who], "transaction_id": tx, "round_id": rnd,
                "bet_transaction_id": bet, "currency": currency, "amount": amount}
        body.update(extra)
        return self.post("win", body)

    def rollback(self, who, tx, rnd, bet, currency="EUR"):
        return self.post("rollback", {"token": self.tokens[who], "transaction_id": tx,
                                      "round_id": rnd, "bet_transaction_id": bet,
                                      "currency": currency})

    def balance(self, who):
        r = self.post("balance", {"token": self.tokens[who]})
        assert r.status == 200, r.body
        return r.json()

    def balance_now(self, who):
        """The player's stakeable balance as the wallet shows it, from the ledger."""
        w = expect(self.client.call("GET", "/v1/player/wallet", token=self.access[who]), 200)
        return w["total"]

    def ledger_rows(self):
        return self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0]

    def money_state(self, stored=False):
        """Every row money or the wallet's decisions live in: equal before and after
        a refusal means nothing moved and nothing was recorded (stored: a final
        refusal kept for its retries adds its wallet_op row, nothing else)."""
        h = hashlib.sha256()
        for t in ("ledger_transfer", "wallet_op", "wallet_bet", "wallet_round"):
            if stored and t == "wallet_op":
                continue
            rows = sorted(self.env.rows(f"SELECT * FROM {t}"), key=repr)
            h.update(repr((t, rows)).encode())
        h.update(repr(("balances", live_balances(self.env.db))).encode())
        return h.hexdigest()

    def sign(self, ts, data, secret=SECRET):
        return "sha256=" + hmac.new(secret, ts.encode() + b"." + data, hashlib.sha256).hexdigest()

    def admin_patch(self, path, body):
        expect(self.admin.call("PATCH", path, body), 200)

    def fund(self, player, balance, amount):
        expect(self.admin.call("POST", f"/v1/admin/players/{player}/adjustments",
                               {"balance": balance, "direction": "credit", "amount": amount,
                                "reason": "test funds", "idempotency_key": f"f-{player}-{balance}-{amount}-{time.time()}"}),
               201)

    def launch(self, who, game="slot1"):
        r = self.client.call("POST", f"/v1/player/games/studio/{game}/launch",
                             token=self.access[who], check=False)
        assert r.status == 201, r
        return r.json()["token"]

    # ---- cases ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.3.10").activate("Blue-Falcon-0-Xy")
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "alpha", "name": "Alpha", "default_currency": "EUR",
                                "currencies": ["EUR", "USD"], "jurisdiction": "MT",
                                "settings": {"funding_policy": "cash_first"}}), 201)
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "studio", "name": "Studio", "protocol": "native",
                                "secret": SECRET.hex()}), 201)
        limits = [{"currency": "EUR", "min_bet": "0.10", "max_bet": "100.00"},
                  {"currency": "USD", "min_bet": "0.10", "max_bet": "100.00"}]
        for code, extra in (("slot1", {}), ("slot2", {}),
                            ("mtblocked", {"blocked_jurisdictions": ["MT"]}), ("dark", {})):
            body = {"code": code, "name": code.title(), "category": "slots", "rtp_bp": 9600,
                    "volatility": "medium", "limits": limits}
            body.update(extra)
            expect(self.admin.call("POST", "/v1/admin/providers/studio/games", body), 201)
            if code != "dark":
                expect(self.admin.call("PUT", f"/v1/admin/brands/alpha/games/studio/{code}",
                                       {"enabled": True}), 200)
        self.client = Client(env, "127.0.3.20")
        self.players, self.access, self.tokens = {}, {}, {}
        for who, cur in (("alice", None), ("bob", None), ("carl", None), ("dora", None),
                         ("erin", None), ("gus", None), ("hana", None), ("ivan", None),
                         ("uma", "USD"), ("kai", None), ("lena", None), ("mia", None),
                         ("nils", None)):
            email = f"{who}@example.com"
            # (registrations are rate-limited per address: the last ones from another)
            client = (self.client if who not in ("kai", "lena", "mia", "nils")
                      else Client(env, "127.0.3.21" if who in ("kai", "lena") else "127.0.3.22"))
            self.players[who] = register_player(client, "alpha", email, currency=cur)
            r = expect(client.call("POST", "/v1/player/login",
                                        {"brand": "alpha", "email": email, "password": PASSWORD}),
                       200)
            self.access[who] = r["access_token"]
            self.tokens[who] = self.launch(who)

    def session_and_balance(self):
        self.fund(self.players["alice"], "cash", "5.00")
        self.fund(self.players["alice"], "bonus", "10.00")
        r = self.post("session", {"token": self.tokens["alice"]})
        assert r.status == 200 and self.signed_ok(r), (r.status, r.body, r.headers)
        s = r.json()
        assert (s["player_id"], s["currency"], s["game"], s["balance"], s["cash"], s["bonus"]) == \
            (self.players["alice"], "EUR", "slot1", "15.00", "5.00", "10.00"), s
        b = self.balance("alice")
        assert b["balance"] == "15.00", b
        r = self.post("session", {"token": "nope" * 10})
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        assert r.headers.get("www-authenticate") == 'Signature realm="pitboss"', r.headers

    def signatures(self):
        before = self.ledger_rows()
        body = {"token": self.tokens["alice"], "transaction_id": "sig-1", "round_id": "sig-r",
                "game": "slot1", "currency": "EUR", "amount": "1.00"}
        cases = [
            (dict(secret=b"wrong" * 7), "SIGNATURE_INVALID"),
            (dict(sig="sha256=" + "0" * 64), "SIGNATURE_INVALID"),
            (dict(sig="md5=abc"), "SIGNATURE_INVALID"),
            (dict(ts=str(int(time.time()) - 3600)), "TIMESTAMP_STALE"),
            (dict(ts=str(int(time.time()) + 3600)), "TIMESTAMP_STALE"),
            (dict(headers={"Content-Type": "application/json"}), "SIGNATURE_INVALID"),
        ]
        for kw, code in cases:
            r = self.post("bet", body, **kw)
            assert r.status == 401 and r.json()["error"]["code"] == code, (kw, r.status, r.body)
            # RFC 9110 §15.5.2: a 401 names the scheme to authenticate with
            assert r.headers.get("www-authenticate") == 'Signature realm="pitboss"', r.headers
        # a body changed after signing
        ts = str(int(time.time()))
        good = json.dumps(body).encode()
        mac = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + good, hashlib.sha256).hexdigest()
        r = self.post("bet", None, raw=good.replace(b"1.00", b"9.00"), ts=ts, sig=mac)
        assert r.status == 401 and r.json()["error"]["code"] == "SIGNATURE_INVALID", r.body
        r = self.post("bet", body, provider="nobody")
        assert r.status == 404 and r.json()["error"]["code"] == "PROVIDER_NOT_FOUND", r.body
        assert "x-pitboss-signature" not in r.headers, r.headers  # no secret to sign with
        # malformed headers over a correctly signed body
        state = self.money_state()
        data = json.dumps(body).encode()
        ts = str(int(time.time()))
        mac = self.sign(ts, data)
        ct = {"Content-Type": "application/json"}
        for h in (dict(ct, **{"X-Pitboss-Signature": mac}),                       # no timestamp
                  dict(ct, **{"X-Pitboss-Timestamp": ts}),                        # no signature
                  dict(ct, **{"X-Pitboss-Timestamp": ts, "X-Pitboss-Signature": "sha256=" + mac[7:].upper()}),
                  dict(ct, **{"X-Pitboss-Timestamp": ts, "X-Pitboss-Signature": mac[7:]}),
                  dict(ct, **{"X-Pitboss-Timestamp": ts, "X-Pitboss-Signature": mac + "0"}),
                  dict(ct, **{"X-Pitboss-Timestamp": ts, "X-Pitboss-Signature": mac[:-1]}),
                  dict(ct, **{"X-Pitboss-Timestamp": ts + ".0", "X-Pitboss-Signature": mac})):
            r = self.post("bet", None, raw=data, headers=h)
            assert r.status == 401 and r.json()["error"]["code"] == "SIGNATURE_INVALID", (h, r.body)
            assert self.signed_ok(r), "a known provider's refusals are signed too"
        for bad_ts in ("17e8", "-1", " " + ts, "0x10", "1" * 13):  # signed, but not a timestamp
            r = self.post("bet", body, ts=bad_ts)
            assert r.status == 401 and r.json()["error"]["code"] == "SIGNATURE_INVALID", (bad_ts, r.body)
        # the default window is 300 s either way
        now = int(time.time())
        for delta, want in ((-250, 200), (250, 200), (-400, 401), (400, 401)):
            r = self.post("balance", {"token": self.tokens["alice"]}, ts=str(now + delta))
            assert r.status == want, (delta, r.status, r.body)
        assert self.ledger_rows() == before
        assert self.money_state() == state

    def split_and_proportional_win(self):
        r = self.bet("alice", "a-b1", "a-r1", "8.00")
        assert r.status == 200 and self.signed_ok(r), r.body
        b = r.json()
        assert (b["cash_part"], b["bonus_part"], b["cash"], b["bonus"]) == \
            ("5.00", "3.00", "0.00", "7.00"), b
        r = self.win("alice", "a-w1", "a-r1", "a-b1", "16.00")
        assert r.status == 200, r.body
        w = r.json()
        # bonus share floor(1600 * 300 / 800) = 600, the rest to cash
        assert (w["cash_part"], w["bonus_part"], w["cash"], w["bonus"]) == \
            ("10.00", "6.00", "10.00", "13.00"), w
        self.win_body, self.win_sig = r.body, r.headers["x-pitboss-signature"]

    def proportional_rollback(self):
        r = self.bet("alice", "a-b2", "a-r2", "12.00")  # cash 10.00 + bonus 2.00
        assert r.status == 200, r.body
        assert (r.json()["cash_part"], r.json()["bonus_part"]) == ("10.00", "2.00"), r.body
        r = self.rollback("alice", "a-rb2", "a-r2", "a-b2")
        assert r.status == 200, r.body
        rb = r.json()
        assert (rb["cash_part"], rb["bonus_part"], rb["cash"], rb["bonus"]) == \
            ("10.00", "2.00", "10.00", "13.00"), rb
        assert "bet_found" not in rb, rb
        self.rollback_body, self.rollback_sig = r.body, r.headers["x-pitboss-signature"]

    def duplicates(self):
        before = self.ledger_rows()
        r1 = self.bet("alice", "a-b3", "a-r3", "1.00")
        assert r1.status == 200
        for _ in range(2):
            r = self.bet("alice", "a-b3", "a-r3", "1.00")
            assert (r.status, r.body, r.headers.get("x-pitboss-signature")) == \
                (r1.status, r1.body, r1.headers.get("x-pitboss-signature")), (r.body, r1.body)
        r = self.win("alice", "a-w1", "a-r1", "a-b1", "16.00")
        assert r.status == 200 and r.body == self.win_body, (r.body, self.win_body)
        assert r.headers["x-pitboss-signature"] == self.win_sig and self.signed_ok(r)
        r = self.rollback("alice", "a-rb2", "a-r2", "a-b2")
        assert r.status == 200 and r.body == self.rollback_body
        assert r.headers["x-pitboss-signature"] == self.rollback_sig and self.signed_ok(r)
        # the close_round default is part of the request: spelled out, it is the same request
        r = self.win("alice", "a-w1", "a-r1", "a-b1", "16.00", close_round=True)
        assert r.status == 200 and r.body == self.win_body, r.body
        assert self.ledger_rows() == before + 1  # only a-b3's one leg
        # the same id with other content; the currency is part of the request: the win
        # again in USD, the same amount in minor units, is another request (the brand
        # has USD; the player's launch is in EUR)
        for r in (self.bet("alice", "a-b3", "a-r3", "2.00"),
                  self.win("alice", "a-w1", "a-r1", "a-b1", "17.00"),
                  self.win("alice", "a-w1", "a-r1", "a-b1", "16.00", currency="USD"),
                  self.bet("alice", "a-b3", "a-r3", "1.00", currency="USD"),
                  self.bet("alice", "a-w1", "a-r9", "1.00")):
            assert r.status == 409 and r.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT", r.body
            assert r.json()["balance"] == self.balance("alice")["balance"], r.body
        assert self.ledger_rows() == before + 1

    def bonus_first(self):
        erin = self.players["erin"]
        self.fund(erin, "cash", "5.00")
        self.fund(erin, "bonus", "3.00")
        # a bet under cash_first (its policy read, and cached, now), rolled back
        r = self.bet("erin", "e-b0", "e-r0", "0.50")
        assert r.status == 200 and (r.json()["cash_part"], r.json()["bonus_part"]) == \
            ("0.50", "0.00"), r.body
        assert self.rollback("erin", "e-rb0", "e-r0", "e-b0").status == 200
        # the policy changed through the server is in force from the next bet
        self.admin_patch("/v1/admin/brands/alpha", {"settings": {"funding_policy": "bonus_first"}})
        try:
            r = self.bet("erin", "e-b1", "e-r1", "4.00")
            b = r.json()
            assert r.status == 200 and (b["bonus_part"], b["cash_part"], b["cash"], b["bonus"]) == \
                ("3.00", "1.00", "4.00", "0.00"), r.body
            # bonus floor(1000 * 300 / 400) = 750, the rest to cash
            r = self.win("erin", "e-w1", "e-r1", "e-b1", "10.00")
            w = r.json()
            assert r.status == 200 and (w["bonus_part"], w["cash_part"], w["cash"], w["bonus"]) == \
                ("7.50", "2.50", "6.50", "7.50"), r.body
            r = self.bet("erin", "e-b2", "e-r2", "9.00")
            assert r.status == 200 and (r.json()["bonus_part"], r.json()["cash_part"]) == \
                ("7.50", "1.50"), r.body
            r = self.rollback("erin", "e-rb2", "e-r2", "e-b2")
            rb = r.json()
            assert r.status == 200 and (rb["bonus_part"], rb["cash_part"], rb["cash"], rb["bonus"]) == \
                ("7.50", "1.50", "6.50", "7.50"), r.body
            # the rounding remainder goes to cash: floor(100 * 750 / 850) = 88
            r = self.bet("erin", "e-b3", "e-r3", "8.50")
            assert r.status == 200 and (r.json()["bonus_part"], r.json()["cash_part"]) == \
                ("7.50", "1.00"), r.body
            r = self.win("erin", "e-w3", "e-r3", "e-b3", "1.00")
            w = r.json()
            assert r.status == 200 and (w["bonus_part"], w["cash_part"], w["cash"], w["bonus"]) == \
                ("0.88", "0.12", "5.62", "0.88"), r.body
            # a lost round: a zero win settles it and pays nothing
            r = self.bet("erin", "e-b4", "e-r4", "0.50")
            assert r.status == 200, r.body
            r = self.win("erin", "e-w4", "e-r4", "e-b4", "0.00")
            w = r.json()
            assert r.status == 200 and (w["cash_part"], w["bonus_part"], w["balance"]) == \
                ("0.00", "0.00", "6.00"), r.body
        finally:
            self.admin_patch("/v1/admin/brands/alpha", {"settings": {"funding_policy": "cash_first"}})

    def provider_changes(self):
        studio = "/v1/admin/providers/studio"
        self.fund(self.players["bob"], "cash", "5.00")
        r8 = self.bet("bob", "b-8", "b-r8", "1.00")
        assert r8.status == 200, r8.body
        # the provider was read (and cached) by the bet just made: in force at once
        self.admin_patch(studio, {"status": "disabled"})
        try:
            state = self.money_state(stored=True)
            refused = self.bet("bob", "b-9", "b-r9", "1.00")
            assert refused.status == 403 and \
                refused.json()["error"]["code"] == "PROVIDER_DISABLED", refused.body
            # a known player's refusal: with the balance, and stored
            assert refused.json()["balance"] == self.balance_now("bob"), refused.body
            assert self.money_state(stored=True) == state
            state = self.money_state()
            for call in ("session", "balance"):
                r = self.post(call, {"token": self.tokens["bob"]})
                assert r.status == 403 and r.json()["error"]["code"] == "PROVIDER_DISABLED", r.body
            # an unknown token: the provider's status, nothing stored
            r = self.post("bet", {"token": "x" * 43, "transaction_id": "b-9x", "round_id": "b-r9x",
                                  "game": "slot1", "currency": "EUR", "amount": "1.00"})
            assert r.status == 403 and r.json()["error"]["code"] == "PROVIDER_DISABLED", r.body
            # the retry of a bet taken before the switch: its answer
            r = self.bet("bob", "b-8", "b-r8", "1.00")
            assert (r.status, r.body) == (r8.status, r8.body), r.body
            assert self.money_state() == state
            # money already staked is still settled
            r = self.win("bob", "b-w8", "b-r8", "b-8", "2.00")
            assert r.status == 200, r.body
        finally:
            self.admin_patch(studio, {"status": "active"})
        # switched back on: the refused bet replayed is refused as first (stored)
        r = self.bet("bob", "b-9", "b-r9", "1.00")
        assert (r.status, r.body) == (refused.status, refused.body), r.body
        # a narrower clock window, then a new secret
        self.admin_patch(studio, {"timestamp_window_s": 10})
        now = int(time.time())
        r = self.post("balance", {"token": self.tokens["bob"]}, ts=str(now - 60))
        assert r.status == 401 and r.json()["error"]["code"] == "TIMESTAMP_STALE", r.body
        r = self.post("balance", {"token": self.tokens["bob"]}, ts=str(now - 5))
        assert r.status == 200, r.body
        new = bytes.fromhex("a7" * 40)
        self.admin_patch(studio, {"secret": new.hex(), "timestamp_window_s": 300})
        try:
            r = self.post("balance", {"token": self.tokens["bob"]})
            assert r.status == 401 and r.json()["error"]["code"] == "SIGNATURE_INVALID", r.body
            r = self.post("balance", {"token": self.tokens["bob"]}, secret=new)
            assert r.status == 200, r.body
            assert r.headers["x-pitboss-signature"] == \
                "sha256=" + hmac.new(new, r.body, hashlib.sha256).hexdigest()
        finally:
            self.admin_patch(studio, {"secret": SECRET.hex()})
        assert self.post("balance", {"token": self.tokens["bob"]}).status == 200

    def simultaneous(self):
        """The same bet, then the same win, delivered 12 times at once: one debit, one
        credit, and every delivery answered with the same bytes and signature."""
        self.fund(self.players["gus"], "cash", "3.00")
        before = self.ledger_rows()

        def burst(call):
            out, errors = [None] * 12, []

            def one(i):
                try:
                    out[i] = call()
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(repr(e))
            threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert not errors, errors
            first = out[0]
            assert first.status == 200, first.body
            for r in out:
                assert (r.status, r.body, r.headers["x-pitboss-signature"]) == \
                    (first.status, first.body, first.headers["x-pitboss-signature"]), r.body
            return first.json()

        b = burst(lambda: self.bet("gus", "g-sim-1", "g-sim-r", "2.00"))
        w = burst(lambda: self.win("gus", "g-sim-w", "g-sim-r", "g-sim-1", "0.50"))
        assert (b["cash_part"], b["cash"], w["cash_part"], w["cash"]) == \
            ("2.00", "1.00", "0.50", "1.50"), (b, w)
        assert self.ledger_rows() == before + 2
        assert self.balance("gus")["cash"] == "1.50"

    def rollback_before_bet(self):
        before = self.ledger_rows()
        r = self.rollback("alice", "a-rb4", "a-r4", "a-b4")
        assert r.status == 200 and r.json()["bet_found"] is False, r.body
        r = self.bet("alice", "a-b4", "a-r4", "1.00")
        assert r.status == 409 and r.json()["error"]["code"] == "TRANSACTION_ROLLED_BACK", r.body
        again = self.bet("alice", "a-b4", "a-r4", "1.00")
        assert again.body == r.body
        assert self.ledger_rows() == before

    def rollback_after_win(self):
        before = self.balance("alice")
        r = self.rollback("alice", "a-rb1", "a-r1", "a-b1")
        assert r.status == 409 and r.json()["error"]["code"] == "ROUND_HAS_WIN", r.body
        assert self.balance("alice") == before

    def win_on_rolled_back_bet(self):
        before = self.balance("alice")
        r = self.win("alice", "a-w2", "a-r2", "a-b2", "5.00")
        assert r.status == 409 and r.json()["error"]["code"] == "TRANSACTION_ROLLED_BACK", r.body
        r = self.win("alice", "a-w5", "a-r5", "a-b5-never", "5.00")
        assert r.status == 404 and r.json()["error"]["code"] == "BET_NOT_FOUND", r.body
        assert self.balance("alice") == before

    def insufficient_funds(self):
        b = self.balance("alice")
        r = self.bet("alice", "a-b6", "a-r6", "99.00")
        assert r.status == 422 and r.json()["error"]["code"] == "INSUFFICIENT_FUNDS", r.body
        assert r.json()["balance"] == b["balance"] and r.json()["cash"] == b["cash"], r.body
        assert r.json()["bonus"] == b["bonus"] and r.json()["currency"] == "EUR", r.body
        assert self.signed_ok(r)
        again = self.bet("alice", "a-b6", "a-r6", "99.00")
        assert (again.status, again.body, again.headers["x-pitboss-signature"]) == \
            (r.status, r.body, r.headers["x-pitboss-signature"]), again.body
        assert again.headers["traceparent"] != r.headers["traceparent"]  # another request
        assert self.balance("alice") == b

    def catalog_refusals(self):
        before = self.ledger_rows()
        self.fund(self.players["bob"], "cash", "50.00")
        checks = [
            (self.bet("bob", "b-1", "b-r1", "1.00", currency="USD"), 422, "CURRENCY_MISMATCH"),
            (self.bet("bob", "b-2", "b-r2", "1.00", game="nosuch"), 404, "GAME_NOT_FOUND"),
            (self.bet("bob", "b-3", "b-r3", "1.00", game="dark"), 403, "GAME_DISABLED"),
            (self.bet("bob", "b-4", "b-r4", "1.00", game="mtblocked"), 403, "GAME_DISABLED"),
            (self.bet("bob", "b-5", "b-r5", "0.05"), 422, "BET_LIMIT"),
            (self.bet("bob", "b-6", "b-r6", "100.01"), 422, "BET_LIMIT"),
            # playable, but not the game bob's token was issued for (slot1)
            (self.bet("bob", "b-mm", "b-rmm", "1.00", game="slot2"), 422, "GAME_MISMATCH"),
        ]
        for r, status, code in checks:
            assert r.status == status and r.json()["error"]["code"] == code, (code, r.status, r.body)
            assert r.json()["balance"] == "50.00", r.body
        assert self.ledger_rows() == before + 1  # the funding only
        # each refusal is final: stored under its id, replayed byte for byte
        for (r, _, _), (tx, rnd, amount, kw) in zip(checks, (
                ("b-1", "b-r1", "1.00", {"currency": "USD"}), ("b-2", "b-r2", "1.00", {"game": "nosuch"}),
                ("b-3", "b-r3", "1.00", {"game": "dark"}), ("b-4", "b-r4", "1.00", {"game": "mtblocked"}),
                ("b-5", "b-r5", "0.05", {}), ("b-6", "b-r6", "100.01", {}),
                ("b-mm", "b-rmm", "1.00", {"game": "slot2"}))):
            again = self.bet("bob", tx, rnd, amount, **kw)
            assert (again.status, again.body, again.header("x-pitboss-signature")) == \
                (r.status, r.body, r.header("x-pitboss-signature")), (tx, again.body, r.body)
        # the game switched on for the brand since: the replay is still refused
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/studio/dark",
                               {"enabled": True}), 200)
        # (the catalog's writes forget its playability cache as they write: seen at once)
        again = self.bet("bob", "b-3", "b-r3", "1.00", game="dark")
        assert again.body == checks[2][0].body, again.body
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/studio/dark",
                               {"enabled": False}), 200)
        assert self.ledger_rows() == before + 1

    def expired_token(self):
        self.fund(self.players["carl"], "cash", "20.00")
        first = self.bet("carl", "c-b1", "c-r1", "2.00")
        assert first.status == 200, first.body
        r = self.bet("carl", "c-b2", "c-r2", "3.00")
        assert r.status == 200, r.body
        # time passes: the launch expires
        token_hash = hashlib.sha256(self.tokens["carl"].encode()).digest()
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("UPDATE launch SET expires_at = 1 WHERE token_hash = ?", (token_hash,))
        con.commit()
        con.close()
        time.sleep(CACHE_S)  # (a launch row never changes: the server keeps it 1 s)
        r = self.bet("carl", "c-b3", "c-r3", "1.00")
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_EXPIRED", r.body
        assert r.json()["balance"] == "15.00", r.body
        # a retry of a bet accepted before the expiry still gets its original answer
        again = self.bet("carl", "c-b1", "c-r1", "2.00")
        assert (again.status, again.body) == (first.status, first.body), again.body
        r = self.post("balance", {"token": self.tokens["carl"]})
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_EXPIRED", r.body
        r = self.win("carl", "c-w1", "c-r1", "c-b1", "4.00")
        assert r.status == 200 and r.json()["cash"] == "19.00", r.body
        r = self.rollback("carl", "c-rb2", "c-r2", "c-b2")
        assert r.status == 200 and r.json()["cash"] == "22.00", r.body
        r = self.post("round/close", {"token": self.tokens["carl"], "transaction_id": "c-close1",
                                      "round_id": "c-r1"})
        assert r.status == 200, r.body

    def blocked_player(self):
        dora = self.players["dora"]
        self.fund(dora, "cash", "10.00")
        r = self.bet("dora", "d-b1", "d-r1", "1.00")
        assert r.status == 200, r.body
        r = self.bet("dora", "d-b3", "d-r3", "1.00")
        assert r.status == 200, r.body
        expect(self.admin.call("POST", f"/v1/admin/players/{dora}/block", {"reason": "test"}), 200)
        state = self.money_state()
        refused = self.bet("dora", "d-b2", "d-r2", "1.00")
        assert refused.status == 403 and refused.json()["error"]["code"] == "PLAYER_BLOCKED", refused.body
        assert refused.json()["balance"] == "8.00" and self.signed_ok(refused), refused.body
        assert self.money_state() != state  # stored: the refusal is final
        ledger = self.ledger_rows()
        r = self.win("dora", "d-w1", "d-r1", "d-b1", "2.50")
        assert r.status == 200 and r.json()["cash"] == "10.50", r.body
        r = self.rollback("dora", "d-rb3", "d-r3", "d-b3")
        assert r.status == 200 and r.json()["cash"] == "11.50", r.body
        expect(self.admin.call("POST", f"/v1/admin/players/{dora}/unblock", {"reason": "ok"}), 200)
        # replayed once she is unblocked: the refusal first sent, nothing moves
        ledger = self.ledger_rows()
        again = self.bet("dora", "d-b2", "d-r2", "1.00")
        assert (again.status, again.body, again.header("x-pitboss-signature")) == \
            (refused.status, refused.body, refused.header("x-pitboss-signature")), again.body
        assert self.ledger_rows() == ledger and self.balance("dora")["cash"] == "11.50"

    def revoked_launches(self):
        """Staff end a player's game launches: bets, sessions and balances with
        them are refused as expired, at once (the server's launch cache forgets
        them); the wins and rollbacks of earlier bets still pay; a new launch plays;
        the revocation is audited with how many launches were live."""
        gus = self.players["gus"]
        self.fund(gus, "cash", "10.00")
        start = Decimal(self.balance("gus")["cash"])

        def cash(delta):
            return str(start + Decimal(delta))

        second = self.launch("gus")  # two live launches
        r = self.bet("gus", "g-b1", "g-r1", "1.00")
        assert r.status == 200, r.body
        r = self.bet("gus", "g-b2", "g-r2", "1.00")
        assert r.status == 200, r.body
        r = self.post("balance", {"token": second})  # both in the server's launch cache
        assert r.status == 200, r.body
        r = self.admin.call("POST", f"/v1/admin/players/{gus}/launches/revoke",
                            {"reason": "session hijack suspected"})
        assert r.status == 200 and r.json() == {"player": gus, "revoked": 2}, r
        state = self.money_state(stored=True)
        for tok in (self.tokens["gus"], second):
            r = self.post("bet", {"token": tok, "transaction_id": "g-b3", "round_id": "g-r3",
                                  "game": "slot1", "currency": "EUR", "amount": "1.00"})
            assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_EXPIRED", r.body
            assert r.json()["balance"] == cash("-2.00"), r.body
            for call in ("balance", "session"):
                r = self.post(call, {"token": tok})
                assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_EXPIRED", r.body
        assert self.money_state(stored=True) == state
        r = self.win("gus", "g-w1", "g-r1", "g-b1", "3.00")
        assert r.status == 200 and r.json()["cash"] == cash("1.00"), r.body
        r = self.rollback("gus", "g-rb2", "g-r2", "g-b2")
        assert r.status == 200 and r.json()["cash"] == cash("2.00"), r.body
        rows = self.env.rows("SELECT count(*) FROM launch WHERE player = ? AND revoked_at > 0", gus)
        assert rows[0][0] == 2, rows
        # nothing live is left: 0; a new launch plays
        r = self.admin.call("POST", f"/v1/admin/players/{gus}/launches/revoke", {"reason": "again"})
        assert r.status == 200 and r.json()["revoked"] == 0, r
        self.tokens["gus"] = self.launch("gus")
        r = self.bet("gus", "g-b4", "g-r4", "2.00")
        assert r.status == 200 and r.json()["cash"] == cash("0.00"), r.body
        # audited: who, whom, how many were live, why
        got = expect(self.admin.call("GET", "/v1/admin/audit?action=player.launches_revoke"
                                    f"&target_kind=player&target_id={gus}"), 200)
        entries = [e for e in got["entries"] if e["target_id"] == gus]
        assert len(entries) == 2, got
        newest, first = entries
        assert first["before"] == {"live_launches": 2} and first["after"] == {"live_launches": 0}, first
        assert first["reason"] == "session hijack suspected", first
        assert newest["before"] == {"live_launches": 0}, newest
        # another player's launches are untouched
        r = self.bet("bob", "b-rv1", "b-rrv1", "1.00")
        assert r.status == 200, r.body

    def round_closed(self):
        self.fund(self.players["bob"], "cash", "2.00")
        r = self.bet("bob", "b-rc-b1", "b-rc", "1.00")
        assert r.status == 200, r.body
        r = self.post("round/close", {"token": self.tokens["bob"], "transaction_id": "b-close",
                                      "round_id": "b-rc"})
        assert r.status == 200 and r.json()["cash_part"] == "0.00", r.body
        r = self.bet("bob", "b-7", "b-rc", "1.00")
        assert r.status == 409 and r.json()["error"]["code"] == "ROUND_CLOSED", r.body
        # closing it again is the same 200 (a new transaction id, the round already closed)
        r = self.post("round/close", {"token": self.tokens["bob"], "transaction_id": "b-close2",
                                      "round_id": "b-rc"})
        assert r.status == 200, r.body

    def shared_round_ids(self):
        """Two players on one round id, as a live table's provider sends it: each has a
        round of their own. Ivan's close leaves Hana's round open (her win pays, her
        next bet is taken); Ivan's win neither marks Hana's round won (her bet can
        still be rolled back) nor closes it; a win naming the other's bet is
        ROUND_MISMATCH."""
        self.fund(self.players["hana"], "cash", "10.00")
        self.fund(self.players["ivan"], "cash", "10.00")
        for who, tx in (("hana", "h-b1"), ("ivan", "i-b1")):
            r = self.bet(who, tx, "table-r1", "2.00")
            assert r.status == 200, r.body
        r = self.post("round/close", {"token": self.tokens["ivan"], "transaction_id": "i-c1",
                                      "round_id": "table-r1"})
        assert r.status == 200, r.body
        r = self.win("hana", "h-w1", "table-r1", "h-b1", "3.00", close_round=False)
        assert r.status == 200 and r.json()["cash"] == "11.00", r.body
        r = self.bet("hana", "h-b2", "table-r1", "1.00")
        assert r.status == 200 and r.json()["cash"] == "10.00", r.body
        r = self.bet("ivan", "i-b2", "table-r1", "1.00")
        assert r.status == 409 and r.json()["error"]["code"] == "ROUND_CLOSED", r.body
        r = self.win("ivan", "i-w1", "table-r1", "h-b2", "1.00")
        assert r.status == 422 and r.json()["error"]["code"] == "ROUND_MISMATCH", r.body
        # the second table round: Ivan wins (and closes his round) first
        for who, tx in (("hana", "h-b3"), ("ivan", "i-b3")):
            r = self.bet(who, tx, "table-r2", "1.00")
            assert r.status == 200, r.body
        r = self.win("ivan", "i-w3", "table-r2", "i-b3", "4.00")
        assert r.status == 200 and r.json()["cash"] == "11.00", r.body
        r = self.rollback("hana", "h-rb3", "table-r2", "h-b3")
        assert r.status == 200 and r.json()["cash"] == "10.00", r.body
        r = self.bet("hana", "h-b4", "table-r2", "1.00")
        assert r.status == 200 and r.json()["cash"] == "9.00", r.body
        r = self.win("hana", "h-w4", "table-r2", "h-b4", "2.00")
        assert r.status == 200 and r.json()["cash"] == "11.00", r.body
        assert (self.balance("hana")["cash"], self.balance("ivan")["cash"]) == ("11.00", "11.00")
        rows = self.env.rows("SELECT player, closed, has_win FROM wallet_round "
                             "WHERE round_id = 'table-r2' ORDER BY player")
        want = sorted([(self.players["hana"], 1, 1), (self.players["ivan"], 1, 1)])
        assert sorted(rows) == want, rows

    def bad_inputs(self):
        before = self.ledger_rows()
        t = self.tokens["bob"]
        base = {"token": t, "transaction_id": "bad-1", "round_id": "bad-r", "game": "slot1",
                "currency": "EUR", "amount": "1.00"}
        cases = [
            ("bet", dict(base, amount="1.001"), 422, "AMOUNT_INVALID"),
            ("bet", dict(base, amount="1e2"), 422, "AMOUNT_INVALID"),
            ("bet", dict(base, amount="-1.00"), 422, "AMOUNT_INVALID"),
            ("bet", dict(base, amount="0.00"), 422, "AMOUNT_INVALID"),
            ("bet", dict(base, amount=1), 422, "FIELD_INVALID"),
            ("bet", dict(base, transaction_id=""), 422, "FIELD_INVALID"),
            ("bet", dict(base, transaction_id="x" * 129), 422, "FIELD_INVALID"),
            ("bet", dict(base, currency="ZZZ"), 422, "FIELD_INVALID"),
            ("bet", dict(base, extra=1), 400, "UNKNOWN_FIELD"),
            ("bet", {k: v for k, v in base.items() if k != "round_id"}, 422, "FIELD_MISSING"),
            ("win", {"token": t, "transaction_id": "bad-2", "round_id": "r", "currency": "EUR",
                     "amount": "1.00"}, 422, "FIELD_MISSING"),
            ("rollback", {"token": t, "transaction_id": "bad-3", "round_id": "r",
                          "currency": "EUR", "amount": "1.00", "bet_transaction_id": "x"},
             400, "UNKNOWN_FIELD"),
            ("session", {}, 422, "FIELD_MISSING"),
            ("session", {"token": "t" * 129}, 422, "FIELD_INVALID"),
            ("session", {"token": t, "game": "slot1"}, 400, "UNKNOWN_FIELD"),
            ("balance", {}, 422, "FIELD_MISSING"),
            ("balance", {"token": 12}, 422, "FIELD_INVALID"),
            ("balance", {"token": None}, 422, "FIELD_INVALID"),
            ("balance", {"token": t, "currency": "EUR"}, 400, "UNKNOWN_FIELD"),
            ("bet", dict(base, game="g" * 65), 422, "FIELD_INVALID"),
            ("bet", dict(base, round_id="r\tx"), 422, "FIELD_INVALID"),
            ("bet", dict(base, transaction_id="caf\u00e9"), 422, "FIELD_INVALID"),
            ("bet", dict(base, close_round="yes"), 422, "FIELD_INVALID"),
            ("win", {"token": t, "transaction_id": "bad-4", "round_id": "r",
                     "bet_transaction_id": "x", "currency": "EUR", "amount": "-0.01"},
             422, "AMOUNT_INVALID"),
            ("win", {"token": t, "transaction_id": "bad-5", "round_id": "r",
                     "bet_transaction_id": "x" * 129, "currency": "EUR", "amount": "1.00"},
             422, "FIELD_INVALID"),
            ("win", {"token": t, "transaction_id": "bad-6", "round_id": "r",
                     "bet_transaction_id": "x", "currency": "EUR", "amount": "1.00",
                     "game": "slot1"}, 400, "UNKNOWN_FIELD"),
            ("rollback", {"token": t, "transaction_id": "bad-7", "round_id": "r",
                          "currency": "EUR"}, 422, "FIELD_MISSING"),
            ("rollback", {"token": t, "transaction_id": "bad-8", "round_id": "r",
                          "bet_transaction_id": "x", "currency": "eur"}, 422, "FIELD_INVALID"),
            ("round/close", {"token": t, "transaction_id": "bad-9"}, 422, "FIELD_MISSING"),
            ("round/close", {"token": t, "transaction_id": "x" * 129, "round_id": "r"},
             422, "FIELD_INVALID"),
            ("round/close", {"token": t, "transaction_id": "bad-10", "round_id": "r",
                             "amount": "1.00"}, 400, "UNKNOWN_FIELD"),
            ("round/close", {"token": "no-such-token", "transaction_id": "bad-11",
                             "round_id": "r"}, 401, "TOKEN_INVALID"),
        ]
        state = self.money_state()
        for path, body, status, code in cases:
            r = self.post(path, body)
            assert r.status == status and r.json()["error"]["code"] == code, \
                (path, body, r.status, r.body)
            if code == "FIELD_INVALID" or code == "FIELD_MISSING" or code == "UNKNOWN_FIELD":
                assert r.json()["error"].get("field"), r.body  # the field is named
        raws = [
            (b"{not json", None, 400, "INVALID_JSON"),
            (b"[]", None, 400, "INVALID_REQUEST"),
            (b"", None, 400, "INVALID_JSON"),
            (b'{"token":"\xff"}', None, 400, "INVALID_UTF8"),
            (b'{"token":"a","token":"b"}', None, 400, "INVALID_JSON"),
            (json.dumps({"token": t}).encode(), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
            (json.dumps({"token": t}).encode(), "", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ]
        for path in ("session", "balance", "bet", "win", "rollback", "round/close"):
            for raw, ctype, status, code in raws:
                ts = str(int(time.time()))
                h = {"X-Pitboss-Timestamp": ts, "X-Pitboss-Signature": self.sign(ts, raw)}
                if ctype != "":
                    h["Content-Type"] = ctype or "application/json"
                r = self.post(path, None, raw=raw, headers=h)
                assert r.status == status and r.json()["error"]["code"] == code, \
                    (path, raw, r.status, r.body)
        assert self.ledger_rows() == before
        assert self.money_state() == state
        # the control: the same request shape with a valid amount does move money
        r = self.post("bet", dict(base, transaction_id="bad-ok", amount="1"))
        assert r.status == 200 and r.json()["cash_part"] == "1.00", r.body
        assert self.money_state() != state

    def all_documented(self):
        missing = [m for m in self.env.spec.unexercised("/v1/providers/{provider}/")
                   if "/hub88/" not in m]
        assert not missing, missing

    def launch_cache(self):
        """A launch gone from the store (as the prune removes it, long after it
        expired): every call may still take it from the server's 1 s launch cache
        within that second, and none does after it."""
        erin = self.players["erin"]
        self.fund(erin, "cash", "5.00")
        tok = self.launch("erin")
        body = {"token": tok, "transaction_id": "lc-b1", "round_id": "lc-r1", "game": "slot1",
                "currency": "EUR", "amount": "1.00"}
        # timed from before the first call, which puts the launch in the cache (its second
        # starts then, however long the answer takes): not from the answer
        t0 = time.monotonic()
        r = self.post("bet", body)
        assert r.status == 200, r.body
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("DELETE FROM launch WHERE token_hash = ?", (hashlib.sha256(tok.encode()).digest(),))
        con.commit()
        con.close()
        r = self.post("bet", dict(body, transaction_id="lc-b2", round_id="lc-r2"))
        if time.monotonic() - t0 < 0.8:  # still within the cached second
            assert r.status == 200 and r.json()["player_id"] == erin, r.body
        win = {"token": tok, "transaction_id": "lc-w1", "round_id": "lc-r1",
               "bet_transaction_id": "lc-b1", "currency": "EUR", "amount": "1.00"}
        r = self.post("win", win)
        if time.monotonic() - t0 < 0.8:
            assert r.status == 200 and r.json()["player_id"] == erin, r.body
        time.sleep(CACHE_S)
        # a win naming no bet the wallet knows: the token alone says nothing
        r = self.post("win", dict(win, transaction_id="lc-w2", bet_transaction_id="lc-none"))
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        r = self.post("bet", dict(body, transaction_id="lc-b3", round_id="lc-r3"))
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        r = self.post("balance", {"token": tok})
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body

    def late_settlement_after_prune(self):
        """Launches are pruned 30 days after they expire; a win or rollback of a
        bet the wallet knows still pays then (the player is the bet's), a retry
        of a win is the duplicate whatever launch it comes with, and a win of an
        unknown bet without a launch is TOKEN_INVALID."""
        kai, lena = self.players["kai"], self.players["lena"]
        self.fund(kai, "cash", "10.00")
        tok = self.tokens["kai"]
        for tx, rnd, amount in (("k-b1", "k-r1", "2.00"), ("k-b2", "k-r2", "3.00"),
                                ("k-b3", "k-r3", "1.00")):
            r = self.bet("kai", tx, rnd, amount)
            assert r.status == 200, r.body
        first = self.win("kai", "k-w3", "k-r3", "k-b3", "1.50")
        assert first.status == 200 and first.json()["cash"] == "5.50", first.body
        # 31 days after it expired, the next launch (anyone's) prunes it
        token_hash = hashlib.sha256(tok.encode()).digest()
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("UPDATE launch SET expires_at = ? WHERE token_hash = ?",
                    (int((time.time() - 31 * 86400) * 1e6), token_hash))
        con.commit()
        con.close()
        self.tokens["lena"] = self.launch("lena")
        assert self.env.rows("SELECT count(*) FROM launch WHERE token_hash = ?", token_hash)[0][0] == 0
        time.sleep(CACHE_S)  # the server's launch cache
        r = self.win("kai", "k-w1", "k-r1", "k-b1", "4.00")
        assert r.status == 200 and r.json()["player_id"] == kai, r.body
        assert r.json()["cash"] == "9.50" and self.signed_ok(r), r.body
        again = self.win("kai", "k-w1", "k-r1", "k-b1", "4.00")
        assert (again.status, again.body) == (r.status, r.body), again.body
        r = self.rollback("kai", "k-rb2", "k-r2", "k-b2")
        assert r.status == 200 and r.json()["cash"] == "12.50", r.body
        # the win settled before the prune, retried now: its original answer
        again = self.win("kai", "k-w3", "k-r3", "k-b3", "1.50")
        assert (again.status, again.body) == (first.status, first.body), again.body
        # ... and with a new launch of another game: the launched game is no part of it
        self.tokens["kai"] = self.launch("kai", "slot2")
        again = self.win("kai", "k-w3", "k-r3", "k-b3", "1.50")
        assert (again.status, again.body) == (first.status, first.body), again.body
        # the new launch is for slot2: a bet on slot1 with it is refused, and stays so
        r = self.bet("kai", "k-b4", "k-r4", "1.00", game="slot1")
        assert r.status == 422 and r.json()["error"]["code"] == "GAME_MISMATCH", r.body
        assert self.bet("kai", "k-b4", "k-r4", "1.00", game="slot1").body == r.body
        r = self.bet("kai", "k-b5", "k-r5", "1.00", game="slot2")
        assert r.status == 200, r.body
        self.tokens["kai"] = tok
        self.fund(lena, "cash", "1.00")
        state = self.money_state()
        # no launch and no bet: the protocol's error
        r = self.win("kai", "k-w9", "k-r9", "k-b9", "1.00")
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        r = self.rollback("kai", "k-rb9", "k-r9", "k-b9")
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        r = self.bet("kai", "k-b9", "k-r9", "1.00")
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        # a launch that is there must be the bet's player's: lena's token on kai's bet
        r = self.win("lena", "k-w6", "k-r5", "k-b5", "1.00")
        assert r.status == 422 and r.json()["error"]["code"] == "ROUND_MISMATCH", r.body
        assert self.money_state() == state

    def prune_launches(self, *tokens):
        """Makes the launches of tokens 31 days expired and prunes them (the next
        launch, anyone's, does), then waits out the server's launch cache."""
        con = sqlite3.connect(self.env.db, timeout=30)
        for tok in tokens:
            con.execute("UPDATE launch SET expires_at = ? WHERE token_hash = ?",
                        (int((time.time() - 31 * 86400) * 1e6), hashlib.sha256(tok.encode()).digest()))
        con.commit()
        con.close()
        self.launch("carl")
        for tok in tokens:
            assert self.env.rows("SELECT count(*) FROM launch WHERE token_hash = ?",
                                 hashlib.sha256(tok.encode()).digest())[0][0] == 0
        time.sleep(CACHE_S)

    def round_close_after_prune(self):
        """A round close names no bet: once its launch is pruned, the round's player is
        the one with accepted bets on that round id (or the close's own, for its retry).
        A round id several players bet on (a live table) cannot say whose it is without
        the token: TOKEN_INVALID with a message saying so, as for an unknown round."""
        kai, lena = self.players["kai"], self.players["lena"]
        self.fund(kai, "cash", "5.00")
        self.fund(lena, "cash", "5.00")
        self.tokens["kai"], self.tokens["lena"] = self.launch("kai"), self.launch("lena")
        for who, tx, rnd in (("kai", "kc-b1", "kc-r1"), ("kai", "kc-b2", "kc-live"),
                             ("lena", "lnc-b2", "kc-live")):
            r = self.bet(who, tx, rnd, "1.00")
            assert r.status == 200, r.body
        self.prune_launches(self.tokens["kai"], self.tokens["lena"])
        # the token must be one kai's bets of the round were placed with: lena's (pruned)
        # or one never issued is refused as a win with it is, ROUND_MISMATCH; nothing moves
        state = self.money_state()
        for tok in (self.tokens["lena"], "Jx2Vq0mXc3lT9aKpR7bN4sWfY8uHdE1gZ6oLiC5tA0Q"):
            r = self.post("round/close", {"token": tok, "transaction_id": "kc-c1",
                                          "round_id": "kc-r1"})
            assert r.status == 422 and r.json()["error"]["code"] == "ROUND_MISMATCH", r.body
            assert "round's bets" in r.json()["error"]["message"] and self.signed_ok(r), r.body
            assert "currency" not in r.json(), r.body  # nobody's balance
        assert self.money_state() == state
        close = {"token": self.tokens["kai"], "transaction_id": "kc-c1", "round_id": "kc-r1"}
        r = self.post("round/close", close)
        assert r.status == 200 and r.json()["player_id"] == kai and self.signed_ok(r), r.body
        again = self.post("round/close", close)
        assert (again.status, again.body) == (r.status, r.body), again.body
        # its retry with a foreign token: refused, not its stored answer
        r2 = self.post("round/close", dict(close, token=self.tokens["lena"]))
        assert r2.status == 422 and r2.json()["error"]["code"] == "ROUND_MISMATCH", r2.body
        # it closed kai's round: a win on it is refused now
        w = self.win("kai", "kc-w1", "kc-r1", "kc-b1", "1.00")
        assert w.status == 409 and w.json()["error"]["code"] == "ROUND_CLOSED", w.body
        state = self.money_state()
        r = self.post("round/close", {"token": self.tokens["kai"], "transaction_id": "kc-c2",
                                      "round_id": "kc-live"})
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        assert "several players" in r.json()["error"]["message"], r.body
        r = self.post("round/close", {"token": self.tokens["kai"], "transaction_id": "kc-c3",
                                      "round_id": "kc-none"})
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        assert self.money_state() == state
        # the shared round's bets still settle, each for its own player
        for who, tx, bet in (("kai", "kc-w2", "kc-b2"), ("lena", "lnc-w2", "lnc-b2")):
            r = self.win(who, tx, "kc-live", bet, "2.00")
            assert r.status == 200 and r.json()["player_id"] == self.players[who], r.body

    def token_after_prune(self):
        """Once a launch is pruned, a win or rollback of its bet must carry the token
        the bet was placed with (or the one its own first attempt came with), as while
        the launch is there it must carry a token of the bet's player (expired or not).
        Another player's token, pruned too, gets what it gets while its launch is there,
        422 ROUND_MISMATCH, and so does a token never issued; nothing moves. The bet's
        own token pays, and a live token of the player does."""
        mia, nils = self.players["mia"], self.players["nils"]
        self.fund(mia, "cash", "10.00")
        self.fund(nils, "cash", "1.00")
        mia_tok, nils_tok = self.tokens["mia"], self.tokens["nils"]
        for tx, rnd in (("m-b1", "m-r1"), ("m-b2", "m-r2"), ("m-b3", "m-r3")):
            r = self.bet("mia", tx, rnd, "1.00")
            assert r.status == 200, r.body

        def foreign(tok, pruned=True):
            r = self.win("mia", "m-w1", "m-r1", "m-b1", "4.00", token=tok)
            assert r.status == 422 and r.json()["error"]["code"] == "ROUND_MISMATCH", r.body
            assert self.signed_ok(r), r.body
            # (with its launch there, the token's player's balance; without, nobody's)
            assert r.json().get("currency") == (None if pruned else "EUR"), r.body
            r = self.post("rollback", {"token": tok, "transaction_id": "m-rb2", "round_id": "m-r2",
                                       "bet_transaction_id": "m-b2", "currency": "EUR"})
            assert r.status == 422 and r.json()["error"]["code"] == "ROUND_MISMATCH", r.body

        # while the launches are there: nils's token on mia's bets
        state = self.money_state()
        foreign(nils_tok, pruned=False)
        assert self.money_state() == state
        self.prune_launches(mia_tok, nils_tok)
        # pruned: nils's token, a token never issued, the same refusal; nothing moves
        foreign(nils_tok)
        foreign("Jx2Vq0mXc3lT9aKpR7bN4sWfY8uHdE1gZ6oLiC5tA0Q")
        assert self.money_state() == state
        # the bet's own token pays
        r = self.win("mia", "m-w1", "m-r1", "m-b1", "4.00", token=mia_tok)
        assert r.status == 200 and r.json()["player_id"] == mia and r.json()["cash"] == "11.00", r.body
        r = self.post("rollback", {"token": mia_tok, "transaction_id": "m-rb2", "round_id": "m-r2",
                                   "bet_transaction_id": "m-b2", "currency": "EUR"})
        assert r.status == 200 and r.json()["cash"] == "12.00", r.body
        # the win's retry with nils's token: refused, not its stored answer
        state = self.money_state()
        r = self.win("mia", "m-w1", "m-r1", "m-b1", "4.00", token=nils_tok)
        assert r.status == 422 and r.json()["error"]["code"] == "ROUND_MISMATCH", r.body
        assert self.money_state() == state
        # a live token of mia's (a new launch) is hers: it pays her last bet
        self.tokens["mia"] = self.launch("mia")
        r = self.win("mia", "m-w3", "m-r3", "m-b3", "1.00")
        assert r.status == 200 and r.json()["cash"] == "13.00", r.body

    # tables whose rows the ledger writer maintains on its own schedule (balance
    # write-back and its marks, and player_cash_order, which 0031's triggers on
    # ledger_balance keep in step with it): not a request's doing, compared through
    # live_balances (a diff around one request caught a deposit's late write-back)
    # ledger_anchor: pitboss serve signs the ledger every minute in the background
    TABLES_ASYNC = ("ledger_balance", "ledger_state", "sqlite_sequence", "player_cash_order",
                    "ledger_anchor")

    def new_players(self, ip, names, cash):
        """Registers each of names in alpha (e-mail <name>@example.com) from one client
        at ip, logs them in, launches slot1 for them and funds their cash with cash
        (None: no funding, so no ledger account of theirs yet); their ids, in order."""
        c = Client(self.env, ip)
        for who in names:
            email = f"{who}@example.com"
            self.players[who] = register_player(c, "alpha", email)
            r = expect(c.call("POST", "/v1/player/login",
                              {"brand": "alpha", "email": email, "password": PASSWORD}), 200)
            self.access[who] = r["access_token"]
            self.tokens[who] = self.launch(who)
            if cash is not None:
                self.fund(self.players[who], "cash", cash)
        return [self.players[who] for who in names]

    def diff_of(self, fn):
        """fn()'s result and what it wrote (db_diff of db_rows around it)."""
        before = self.db_rows()
        out = fn()
        return out, self.db_diff(before, self.db_rows())

    def db_rows(self):
        """Every row of every table (but TABLES_ASYNC), as per-table multisets, with
        the live balances: what a request may have written."""
        con = sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30)
        try:
            names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                     if n not in self.TABLES_ASYNC]
            out = {n: sorted(map(repr, con.execute(f"SELECT * FROM \"{n}\"").fetchall()))
                   for n in names}
        finally:
            con.close()
        out["(live balances)"] = sorted(map(repr, live_balances(self.env.db)))
        return out

    @staticmethod
    def db_diff(before, after):
        """{table: (rows added, rows removed)} for the tables that changed."""
        diff = {}
        for t in set(before) | set(after):
            b, a = list(before.get(t, [])), list(after.get(t, []))
            added = [r for r in a if r not in b or a.count(r) > b.count(r)]
            removed = [r for r in b if r not in a or b.count(r) > a.count(r)]
            if added or removed:
                diff[t] = (added, removed)
        return diff

    def refusals_change_nothing(self):
        """A refused call changes nothing but its stored refusal (the wallet_op row its
        replays are answered from; none for the refusals that are decided again on a
        retry). Fired at a player who has no ledger accounts yet: no call creates them
        (nor the provider's), whatever the refusal, while one that takes money would."""
        olga, pete, _ = self.new_players("127.0.3.23", ["olga", "pete", "quin"], None)
        owners = tuple(f"player:{self.players[w]}" for w in ("olga", "pete", "quin"))
        no_accounts = "SELECT count(*) FROM ledger_account WHERE owner IN (?, ?, ?)"
        assert self.env.rows(no_accounts, *owners)[0][0] == 0
        # what the refusals need: alice's bet (another player's), a closed round of
        # quin's, a rollback of a bet of his never seen, an expired token of olga's,
        # pete blocked (accepted calls that move no money: they create no account
        # either, checked at the end)
        self.fund(self.players["alice"], "cash", "2.00")
        r = self.bet("alice", "rf-a1", "rf-ar1", "1.00")
        assert r.status == 200, r.body
        # (a close needs a bet of his on the round, and a bet money he has not got: the
        # closed round is written as a close of a round with bets leaves it)
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("INSERT INTO wallet_round (provider, round_id, player, game, has_win, closed, "
                    "created_at, updated_at) VALUES ('studio', 'rf-closed', ?, 'slot1', 0, 1, 1, 1)",
                    (self.players["quin"],))
        con.commit()
        con.close()
        r = self.rollback("quin", "rf-rb0", "rf-r0", "rf-b0")
        assert r.status == 200 and r.json()["bet_found"] is False, r.body
        expired = self.launch("olga")
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("UPDATE launch SET expires_at = ? WHERE token_hash = ?",
                    (int((time.time() - 60) * 1e6), hashlib.sha256(expired.encode()).digest()))
        con.commit()
        con.close()
        expect(self.admin.call("POST", f"/v1/admin/players/{pete}/block", {"reason": "test"}), 200)
        time.sleep(CACHE_S)  # the launch cache

        tok = self.tokens["olga"]
        bet = {"token": tok, "round_id": "rf-r1", "game": "slot1", "currency": "EUR",
               "amount": "1.00"}
        win = {"token": tok, "round_id": "rf-r1", "bet_transaction_id": "rf-nobet",
               "currency": "EUR", "amount": "1.00"}
        rb = {"token": tok, "round_id": "rf-ar1", "bet_transaction_id": "rf-a1", "currency": "EUR"}
        # (call, body changes, status, code, stored)
        table = [
            ("bet", {}, 422, "INSUFFICIENT_FUNDS", True),
            ("bet", {"currency": "USD"}, 422, "CURRENCY_MISMATCH", True),
            ("bet", {"game": "slot2"}, 422, "GAME_MISMATCH", True),
            ("bet", {"game": "nosuch"}, 404, "GAME_NOT_FOUND", True),
            ("bet", {"game": "dark"}, None, "GAME_DISABLED", True),
            ("bet", {"game": "mtblocked"}, None, None, True),
            ("bet", {"amount": "0.01"}, 422, "BET_LIMIT", True),
            ("bet", {"token": expired}, 401, "TOKEN_EXPIRED", True),
            ("bet", {"token": self.tokens["quin"], "round_id": "rf-closed"}, 409, "ROUND_CLOSED",
             True),
            ("bet", {"token": self.tokens["quin"], "transaction_id": "rf-b0", "round_id": "rf-r0"},
             409, "TRANSACTION_ROLLED_BACK", True),
            ("bet", {"token": self.tokens["pete"]}, 403, "PLAYER_BLOCKED", True),
            ("win", {"bet_transaction_id": "rf-a1", "round_id": "rf-ar1"}, 422, "ROUND_MISMATCH",
             False),
            ("win", {}, 404, "BET_NOT_FOUND", False),
            ("win", {"currency": "USD"}, 422, "CURRENCY_MISMATCH", True),
            ("rollback", {}, 422, "ROUND_MISMATCH", False),
            ("rollback", {"currency": "USD"}, 422, "CURRENCY_MISMATCH", True),
            ("rollback", {"transaction_id": "rf-a1"}, 409, "IDEMPOTENCY_CONFLICT", False),
            ("round/close", {"token": "nope" * 10}, 401, "TOKEN_INVALID", False),
            # a round id olga never played: no round of hers to close (a round whose
            # bets were all refused is closed: close_of_refused_round)
            ("round/close", {"round_id": "rf-none"}, 404, "ROUND_NOT_FOUND", False),
        ]
        bodies = {"bet": bet, "win": win, "rollback": rb,
                  "round/close": {"token": tok, "round_id": "rf-r1"}}
        for i, (call, change, status, code, stored) in enumerate(table):
            body = dict(bodies[call], transaction_id=f"rf-{i}")
            body.update(change)
            if call == "bet" and body["token"] == self.tokens["quin"]:
                body["round_id"] = change["round_id"]
            before = self.db_rows()
            r = self.post(call, body)
            what = f"{call} {change}: {r.status} {r.body!r}"
            assert r.status >= 400 and self.signed_ok(r), what
            if status is not None:
                assert r.status == status, what
            if code is not None:
                assert r.json()["error"]["code"] == code, what
            diff = self.db_diff(before, self.db_rows())
            want = {"wallet_op"} if stored else set()
            assert set(diff) == want, f"{what}: wrote {diff}"
            if stored:
                added, removed = diff["wallet_op"]
                assert len(added) == 1 and not removed and f"'{body['transaction_id']}'" in added[0], \
                    f"{what}: wrote {diff}"
                # its replay: the same answer, nothing more written
                again = self.post(call, body)
                assert (again.status, again.body) == (r.status, r.body), what
                assert set(self.db_diff(before, self.db_rows())) == want, what
        assert self.env.rows(no_accounts, *owners)[0][0] == 0, "a call without money made accounts"
        # the control: money that moves creates them
        self.fund(olga, "cash", "3.00")
        r = self.bet("olga", "rf-ok", "rf-r1", "1.00")
        assert r.status == 200 and r.json()["cash"] == "2.00", r.body
        expect(self.admin.call("POST", f"/v1/admin/players/{pete}/unblock", {"reason": "test"}), 200)

    def doc_example(self):
        """docs/native-protocol.md's worked example, read out of the page: its request
        and answer signatures are the HMACs of its bytes; its exact request is signed
        right (TIMESTAMP_STALE: the signature passed, the 2026 timestamp is out of the
        window, while one changed digit is SIGNATURE_INVALID); the same body signed now
        is taken, answered with the example answer's fields."""
        doc = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "docs", "native-protocol.md"), encoding="utf-8").read()
        ex = doc[doc.index("## Worked example"):]
        ex = ex[:ex.index("\n## ", 1)]
        blocks = re.findall(r"```[a-z]*\n(.*?)```", ex, re.S)
        secret = bytes.fromhex(re.search(r"Secret \(hex, 32 bytes\): `([0-9a-f]{64})`", ex).group(1))
        ts = re.search(r"Timestamp: `(\d+)`", ex).group(1)
        body = blocks[0].rstrip("\n").encode()
        assert int(re.search(r"The body, (\d+) bytes", ex).group(1)) == len(body)
        http_block = blocks[1]
        path = re.match(r"POST (\S+) HTTP/1.1", http_block).group(1)
        head = dict(line.split(": ", 1) for line in http_block.splitlines()[1:] if ": " in line)
        assert head["X-Pitboss-Timestamp"] == ts, head
        assert head["X-Pitboss-Signature"] == self.sign(ts, body, secret), "the page's signature"
        answer = blocks[3].rstrip("\n").encode()
        answer_sig = blocks[4].strip().split(": ", 1)[1]
        assert answer_sig == "sha256=" + hmac.new(secret, answer, hashlib.sha256).hexdigest()
        # the page's provider and secret are this server's: its token made a launch of hana's
        assert secret == SECRET and path == "/v1/providers/studio/bet", path
        token = json.loads(body)["token"]
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("INSERT INTO launch (token_hash, provider_id, game_id, brand, player, currency, "
                    "created_at, expires_at) SELECT ?, provider_id, game_id, brand, player, currency, "
                    "created_at, ? FROM launch WHERE token_hash = ?",
                    (hashlib.sha256(token.encode()).digest(), int((time.time() + 3600) * 1e6),
                     hashlib.sha256(self.tokens["hana"].encode()).digest()))
        con.commit()
        con.close()
        self.fund(self.players["hana"], "cash", "5.00")
        state = self.money_state()
        r = self.post("bet", None, raw=body, headers=dict(head))
        assert r.status == 401 and r.json()["error"]["code"] == "TIMESTAMP_STALE", r.body
        assert self.signed_ok(r)
        bad = dict(head)
        sig = bad["X-Pitboss-Signature"]
        bad["X-Pitboss-Signature"] = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        r = self.post("bet", None, raw=body, headers=bad)
        assert r.status == 401 and r.json()["error"]["code"] == "SIGNATURE_INVALID", r.body
        assert self.money_state() == state
        r = self.post("bet", None, raw=body)  # the same bytes, signed now
        assert r.status == 200 and self.signed_ok(r), r.body
        got, want = r.json(), json.loads(answer)
        assert list(got) == list(want), (list(got), list(want))
        assert (got["transaction_id"], got["cash_part"], got["player_id"]) == \
            (want["transaction_id"], want["cash_part"], self.players["hana"]), got

    def erased_late_win(self):
        """A player erased while a round of theirs was open: a bet of all her money (cash and
        bonus), a win of 0 that leaves the round open: erasing is refused
        PLAYER_HAS_OPEN_BETS (more wins may come). Once the round is idle longer than 30
        days it is taken as abandoned and she is erased. Then the provider's late win: 200
        as always (signed, her balances 0.00), nothing on her accounts, the cash share on
        the brand's unclaimed_funds account, the bonus share back on the house account
        (forfeited), one audit entry and one event funds.unclaimed; its replay gets the
        same bytes and records nothing again."""
        c = Client(self.env, "127.0.3.23")
        olga = register_player(c, "alpha", "erased-late@example.com")
        access = expect(c.call("POST", "/v1/player/login",
                               {"brand": "alpha", "email": "erased-late@example.com",
                                "password": PASSWORD}), 200)["access_token"]
        tok = expect(c.call("POST", "/v1/player/games/studio/slot1/launch", token=access),
                     201)["token"]
        self.tokens["olga"] = tok
        self.admin_patch("/v1/admin/brands/alpha",
                         {"settings": {"funding_policy": "cash_first", "erase_after_days": 0}})
        self.fund(olga, "cash", "10.00")
        self.fund(olga, "bonus", "2.00")
        r = self.bet("olga", "o-b1", "o-r1", "12.00")
        assert r.status == 200 and r.json()["cash_part"] == "10.00", r.body
        r = self.win("olga", "o-w0", "o-r1", "o-b1", "0.00", close_round=False)
        assert r.status == 200 and r.json()["balance"] == "0.00", r.body
        r = self.admin.call("POST", f"/v1/admin/players/{olga}/erase", {"reason": "GDPR 5"})
        expect(r, 409, "PLAYER_HAS_OPEN_BETS")
        # the round's last operation 31 days ago: abandoned
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("UPDATE wallet_op SET created_at = created_at - ? WHERE player = ?",
                    (31 * 86400 * 1000000, olga))
        con.commit()
        con.close()
        p = expect(self.admin.call("POST", f"/v1/admin/players/{olga}/erase",
                                   {"reason": "GDPR 5"}), 200)["player"]
        assert p["status"] == "closed" and p["erased_at"], p
        cash_id = self.env.rows("SELECT id FROM ledger_account WHERE owner=? AND kind='player_cash'",
                                f"player:{olga}")[0][0]
        bonus_id = self.env.rows("SELECT id FROM ledger_account WHERE owner=? AND "
                                 "kind='player_bonus'", f"player:{olga}")[0][0]
        mine = [b for b in live_balances(self.env.db) if b[0] in (cash_id, bonus_id)]
        house0, house_id = account_balance(self.env.db, "alpha", "brand", "house", "EUR")
        assert account_balance(self.env.db, "alpha", "brand", "unclaimed_funds", "EUR")[0] is None
        # the late win (a jackpot): 6.00, 1.00 of it the bonus share (2/12)
        first = self.win("olga", "o-w1", "o-r1", "o-b1", "6.00")
        assert first.status == 200 and self.signed_ok(first), first.body
        a = first.json()
        assert (a["status"], a["player_id"], a["balance"], a["cash"], a["bonus"],
                a["cash_part"], a["bonus_part"]) == ("OK", olga, "0.00", "0.00", "0.00",
                                                     "5.00", "1.00"), a
        assert [b for b in live_balances(self.env.db) if b[0] in (cash_id, bonus_id)] == mine
        unclaimed, unclaimed_id = account_balance(self.env.db, "alpha", "brand",
                                                  "unclaimed_funds", "EUR")
        assert unclaimed == 500, unclaimed
        assert account_balance(self.env.db, "alpha", "brand", "house", "EUR")[0] == house0 + 100
        audit, events = unclaimed_records(self.env.db, olga)
        assert len(audit) == 1 and len(events) == 1, (audit, events)
        want = {"kind": "win", "provider": "studio", "round_id": "o-r1", "tx_id": "o-w1",
                "bet_tx_id": "o-b1", "player": olga, "amount": 600, "currency": "EUR",
                "cash": 500, "account": "unclaimed_funds", "account_id": unclaimed_id,
                "bonus_forfeited": 100, "bonus_account_id": house_id, "actor": "system:provider:studio",
                "brand": "alpha"}
        assert {k: audit[0].get(k) for k in want} == want, audit
        want = {"kind": "win", "provider": "studio", "round_id": "o-r1", "tx_id": "o-w1",
                "amount": "6.00", "cash": "5.00", "account": "unclaimed_funds",
                "account_id": unclaimed_id, "bonus_forfeited": "1.00",
                "bonus_account_id": house_id, "brand": "alpha"}
        assert {k: events[0].get(k) for k in want} == want, events
        # replayed: the same bytes, nothing moves, nothing recorded again
        state = self.money_state()
        again = self.win("olga", "o-w1", "o-r1", "o-b1", "6.00")
        assert (again.status, again.body) == (first.status, first.body), again.body
        assert again.headers.get("x-pitboss-signature") == first.headers.get("x-pitboss-signature")
        assert self.money_state() == state
        assert [len(x) for x in unclaimed_records(self.env.db, olga)] == [1, 1]
        # staff see it: the balance per currency and the entry, naming the erased player's
        # public id and the operation, no personal data
        got = expect(self.admin.call("GET", "/v1/admin/unclaimed-funds?brand=alpha"), 200)
        assert got["balances"] == [{"brand": "alpha", "currency": "EUR", "balance": "5.00"}], got
        assert got["next_cursor"] is None and len(got["entries"]) == 1, got
        e = got["entries"][0]
        want = {"brand": "alpha", "kind": "win", "direction": "credit", "amount": "5.00",
                "currency": "EUR", "provider": "studio", "round_id": "o-r1", "player_id": olga,
                "tx_id": "o-w1"}
        assert {k: e.get(k) for k in want} == want and e["time"], e
        assert "erased-late" not in json.dumps(got), got
        got = expect(self.admin.call("GET", "/v1/admin/unclaimed-funds?currency=EUR&limit=1"),
                     200)
        assert got["entries"] and got["entries"][0]["player_id"] == olga, got
        expect(self.admin.call("GET", "/v1/admin/unclaimed-funds?currency=XXX"), 422,
               "FIELD_INVALID")

    def unclaimed_settlements(self):
        """The brand's unclaimed funds (5.00 EUR from erased_late_win) settled by staff,
        with 4-eyes (requested by one member, approved by another; the rules one by one
        are test_unclaimed_settle.py's): every bad input, more than the balance, a currency
        without an account, a brand out of reach refused with a stable code and nothing
        written; 2.00 to be remitted to an authority requested (202, nothing moves), its
        replay answered (200, replayed, nothing written), the key reused for another
        settlement IDEMPOTENCY_CONFLICT, then approved (to the brand's `remitted` account);
        the other 3.00 recognised by the house; the audit entries, events and the list's
        settlement entries; then nothing is left to settle."""
        path = "/v1/admin/unclaimed-funds/settlements"
        fin = create_staff(self.env, self.admin, "fin-settle@example.com", "finance",
                           "127.0.3.33", brands=["alpha"]).activate("Blue-Falcon-7-Xy")

        def approve(rid):
            return expect(fin.call("POST", f"{path}/{rid}/approve"), 200)
        unclaimed0, unclaimed_id = account_balance(self.env.db, "alpha", "brand",
                                                   "unclaimed_funds", "EUR")
        assert unclaimed0 == 500, unclaimed0
        house0, _ = account_balance(self.env.db, "alpha", "brand", "house", "EUR")
        ok = {"brand": "alpha", "currency": "EUR", "amount": "2.00", "destination": "remitted",
              "reference": "ESCH-2025/0042", "reason": "escheatment to the state, FY2025",
              "idempotency_key": "settle-1"}

        def refused(body, status, code, field=None):
            r, diff = self.diff_of(lambda: self.admin.call("POST", path, body))
            err = expect(r, status, code)
            if field:
                assert err["error"].get("field") == field, (body, err)
            assert diff == {}, (body, diff)

        bad = [({k: v for k, v in ok.items() if k != "brand"}, 422, "FIELD_MISSING", "brand"),
               ({k: v for k, v in ok.items() if k != "amount"}, 422, "FIELD_MISSING", "amount"),
               ({k: v for k, v in ok.items() if k != "reason"}, 422, "FIELD_MISSING", "reason"),
               ({k: v for k, v in ok.items() if k != "idempotency_key"}, 422, "FIELD_MISSING",
                "idempotency_key"),
               ({k: v for k, v in ok.items() if k != "reference"}, 422, "FIELD_INVALID",
                "reference"),
               (dict(ok, reference=""), 422, "FIELD_INVALID", "reference"),
               (dict(ok, reference="x" * 129), 422, "FIELD_INVALID", "reference"),
               (dict(ok, reference="bad\u0007ref"), 422, "FIELD_INVALID", "reference"),
               (dict(ok, reference=" lead"), 422, "FIELD_INVALID", "reference"),
               (dict(ok, destination="player"), 422, "FIELD_INVALID", "destination"),
               (dict(ok, currency="XXX"), 422, "FIELD_INVALID", "currency"),
               (dict(ok, amount="0.00"), 422, "AMOUNT_INVALID", "amount"),
               (dict(ok, amount="-1.00"), 422, "AMOUNT_INVALID", "amount"),
               (dict(ok, amount="1.001"), 422, "AMOUNT_INVALID", "amount"),
               (dict(ok, amount="abc"), 422, "AMOUNT_INVALID", "amount"),
               (dict(ok, amount=200), 422, "FIELD_INVALID", "amount"),
               (dict(ok, reason="   "), 422, "FIELD_INVALID", "reason"),
               (dict(ok, idempotency_key="has space"), 422, "FIELD_INVALID", "idempotency_key"),
               (dict(ok, extra=1), 400, "UNKNOWN_FIELD", None),
               (dict(ok, brand="nope"), 403, "BRAND_FORBIDDEN", "brand"),
               (dict(ok, amount="5.01"), 422, "INSUFFICIENT_FUNDS", "amount"),
               (dict(ok, amount="0.01", currency="USD"), 422, "INSUFFICIENT_FUNDS", "amount")]
        for body, status, code, field in bad:
            refused(body, status, code, field)
        # 2.00 to be remitted to the authority: requested, nothing moves
        r, diff = self.diff_of(lambda: self.admin.call("POST", path, ok))
        req = expect(r, 202)
        want = {"brand": "alpha", "currency": "EUR", "amount": "2.00", "destination": "remitted",
                "reference": "ESCH-2025/0042", "status": "pending", "replayed": False,
                "transfer_id": None}
        assert {k: req.get(k) for k in want} == want and req["id"], req
        assert "ledger_transfer" not in diff and len(diff["audit_entry"][0]) == 1, diff
        assert len(diff["unclaimed_settlement_request"][0]) == 1, diff
        # its replay: the request, nothing written; the key for another settlement: conflict
        r, diff = self.diff_of(lambda: self.admin.call("POST", path, ok))
        again = expect(r, 200)
        assert again["replayed"] is True and again["id"] == req["id"], again
        assert diff == {}, diff
        for body in (dict(ok, amount="1.00"), dict(ok, reference="ESCH-2025/0043"),
                     dict(ok, destination="house"), dict(ok, currency="USD")):
            refused(body, 409, "IDEMPOTENCY_CONFLICT", "idempotency_key")
        # a second member approves it: the money moves
        r, diff = self.diff_of(lambda: approve(req["id"]))
        got = r["settlement"]
        assert got["status"] == "approved" and got["transfer_id"], r
        assert r["unclaimed_balance"] == "3.00" and r["replayed"] is False, r
        assert len(diff["ledger_transfer"][0]) == 1 and len(diff["audit_entry"][0]) == 1, diff
        assert account_balance(self.env.db, "alpha", "brand", "unclaimed_funds", "EUR") == \
            (300, unclaimed_id)
        remitted, remitted_id = account_balance(self.env.db, "alpha", "brand", "remitted", "EUR")
        assert remitted == 200, remitted
        row = self.env.rows("SELECT debit_account_id, credit_account_id, amount, code FROM "
                            "ledger_transfer WHERE scope='unclaimed:alpha' AND ikey='settle-1'")
        assert row == [(unclaimed_id, remitted_id, 200, 31)], row
        # the rest recognised by the house (no reference)
        house = {k: v for k, v in ok.items() if k != "reference"}
        house.update(destination="house", amount="3.00", idempotency_key="settle-2",
                     reason="unclaimed after the statutory period: recognised")
        req2 = expect(self.admin.call("POST", path, house), 202)
        r2 = approve(req2["id"])
        got2 = r2["settlement"]
        assert (got2["destination"], got2["reference"], r2["unclaimed_balance"]) == \
            ("house", None, "0.00"), r2
        assert account_balance(self.env.db, "alpha", "brand", "house", "EUR")[0] == house0 + 300
        refused(dict(house, idempotency_key="settle-3", amount="0.01"), 422,
                "INSUFFICIENT_FUNDS", "amount")
        # audited and announced, once each
        audit = [(json.loads(b), json.loads(a), act, tk, tid, reason) for b, a, act, tk, tid, reason
                 in self.env.rows("SELECT before, after, actor_id, target_kind, target_id, reason "
                                  "FROM audit_entry WHERE action='funds.unclaimed_settled' "
                                  "ORDER BY seq")]
        assert len(audit) == 2, audit
        b, a, actor, tk, tid, reason = audit[0]
        assert (b["balance"], a["balance"], a["destination"], a["reference"], a["amount"],
                a["transfer_id"], tk, tid, reason) == ("5.00", "3.00", "remitted",
                                                       "ESCH-2025/0042", "2.00",
                                                       got["transfer_id"], "brand", "alpha",
                                                       ok["reason"]), audit[0]
        assert (actor, a["approved_by"], a["requested_by"]) == (fin.id, fin.id, self.admin.id)
        assert (audit[1][0]["balance"], audit[1][1]["balance"], audit[1][1]["reference"]) == \
            ("3.00", "0.00", None), audit[1]
        events = [json.loads(p) for (p,) in self.env.rows(
            "SELECT payload FROM event_outbox WHERE type='funds.unclaimed_settled' ORDER BY id")]
        assert len(events) == 2, events
        want = {"transfer_id": got["transfer_id"], "destination": "remitted",
                "reference": "ESCH-2025/0042", "amount": "2.00", "balance": "3.00"}
        assert {k: events[0].get(k) for k in want} == want, events
        # the list: two debit entries of kind settlement, newest first, the balance 0.00
        page = expect(self.admin.call("GET", "/v1/admin/unclaimed-funds?brand=alpha"), 200)
        assert page["balances"] == [{"brand": "alpha", "currency": "EUR", "balance": "0.00"}], page
        got_entries = [(e["kind"], e["direction"], e["amount"], e.get("destination"),
                        e.get("reference"), e.get("settlement_id")) for e in page["entries"]]
        assert got_entries == [("settlement", "debit", "3.00", "house", None, req2["id"]),
                               ("settlement", "debit", "2.00", "remitted", "ESCH-2025/0042",
                                req["id"]),
                               ("win", "credit", "5.00", None, None, None)], got_entries

    def rollback_of_refused_bet(self):
        """A bet refused with a final, stored refusal (insufficient funds, a game other
        than the launched one, above the game's limit, a blocked player) took nothing:
        its rollback is accepted as the rollback of a bet never placed (200,
        "bet_found":false, nothing moves), its replay is that answer byte for byte, a
        second rollback of it is the same 200, and the bet retried under its id stays
        refused: with the same content the first refusal byte for byte, with other
        content (affordable, playable) IDEMPOTENCY_CONFLICT. No step moves money."""
        rita, = self.new_players("127.0.3.24", ["rita"], "5.00")

        def money():
            return (self.ledger_rows(), live_balances(self.env.db))

        cases = [  # (tx, round, bet fields, status, code)
            ("rr-b1", "rr-r1", {"amount": "9.00"}, 422, "INSUFFICIENT_FUNDS"),
            ("rr-b2", "rr-r2", {"amount": "1.00", "game": "slot2"}, 422, "GAME_MISMATCH"),
            ("rr-b3", "rr-r3", {"amount": "100.01"}, 422, "BET_LIMIT"),
            ("rr-b4", "rr-r4", {"amount": "1.00"}, 403, "PLAYER_BLOCKED"),
        ]
        for tx, rnd, fields, status, code in cases:
            kw = dict(fields)
            amount = kw.pop("amount")
            if code == "PLAYER_BLOCKED":
                expect(self.admin.call("POST", f"/v1/admin/players/{rita}/block",
                                       {"reason": "test"}), 200)
            before = money()
            refused = self.bet("rita", tx, rnd, amount, **kw)
            assert refused.status == status and refused.json()["error"]["code"] == code, refused.body
            assert refused.json()["cash"] == "5.00", refused.body
            rb = self.rollback("rita", tx + "-rb", rnd, tx)
            assert rb.status == 200 and self.signed_ok(rb), (code, rb.body)
            a = rb.json()
            assert (a["status"], a["bet_found"], a["cash"], a["balance"], a["cash_part"],
                    a["bonus_part"]) == ("OK", False, "5.00", "5.00", "0.00", "0.00"), (code, a)
            if code == "PLAYER_BLOCKED":
                expect(self.admin.call("POST", f"/v1/admin/players/{rita}/unblock",
                                       {"reason": "ok"}), 200)
            again = self.rollback("rita", tx + "-rb", rnd, tx)
            assert (again.status, again.body, again.header("x-pitboss-signature")) == \
                (rb.status, rb.body, rb.header("x-pitboss-signature")), (code, again.body)
            second = self.rollback("rita", tx + "-rb2", rnd, tx)
            assert second.status == 200 and second.json()["bet_found"] is False, second.body
            retry = self.bet("rita", tx, rnd, amount, **kw)
            assert (retry.status, retry.body, retry.header("x-pitboss-signature")) == \
                (refused.status, refused.body, refused.header("x-pitboss-signature")), \
                (code, retry.body)
            other = self.bet("rita", tx, rnd, "0.50")  # rita can stake it, on slot1
            assert other.status == 409 and \
                other.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT", (code, other.body)
            assert money() == before, code
        assert self.balance("rita")["cash"] == "5.00"

    def foreign_ids(self):
        """One player's token and another player's ids. Sam's rollback naming a bet of
        rita's that was refused is answered as his rollback of her placed bet is (422
        ROUND_MISMATCH, not stored) and writes nothing (no tombstone under sam's name);
        her own rollback of it is still the 200 "bet_found":false. Sam's close of a round
        id he has no accepted bet on (none at all, rita's, or only refused ones) is 404
        ROUND_NOT_FOUND, not stored, and writes nothing: rita's bets on that id are
        taken after it, and her own close of her round closes it. A second rollback (a new
        transaction id): of a bet never placed 200 "bet_found":false again, of a bet
        placed and rolled back 409 TRANSACTION_ROLLED_BACK (stored, byte for byte)."""
        sam, = self.new_players("127.0.3.25", ["sam"], "4.00")
        rita = self.balance("rita")["cash"]

        def nothing_written(fn):
            before = self.db_rows()
            out = fn()
            diff = self.db_diff(before, self.db_rows())
            assert not diff, f"wrote {diff}"
            return out

        def refused(r, status, code, cash):
            assert r.status == status and self.signed_ok(r), r.body
            a = r.json()
            assert (a["error"]["code"], a["cash"]) == (code, cash), r.body

        # 1. another player's refused bet
        r = self.bet("rita", "fx-b1", "fx-r1", "99.00")
        refused(r, 422, "INSUFFICIENT_FUNDS", rita)
        r = nothing_written(lambda: self.rollback("sam", "fx-rb1", "fx-r1", "fx-b1"))
        refused(r, 422, "ROUND_MISMATCH", "4.00")
        r = nothing_written(lambda: self.rollback("sam", "fx-rb1", "fx-r1", "fx-b1"))
        refused(r, 422, "ROUND_MISMATCH", "4.00")  # decided again: still nothing
        # ... as sam's rollback of a placed bet of hers is
        r = self.bet("rita", "fx-b2", "fx-r2", "1.00")
        assert r.status == 200, r.body
        r = nothing_written(lambda: self.rollback("sam", "fx-rb2", "fx-r2", "fx-b2"))
        refused(r, 422, "ROUND_MISMATCH", "4.00")
        # her own rollback of her refused bet: as before
        r = self.rollback("rita", "fx-rb1r", "fx-r1", "fx-b1")
        assert r.status == 200 and r.json()["bet_found"] is False, r.body
        r = nothing_written(lambda: self.rollback("sam", "fx-rb1s", "fx-r1", "fx-b1"))
        refused(r, 422, "ROUND_MISMATCH", "4.00")

        # 2. sam closes round ids he never played
        def close(who, tx, rnd):
            return self.post("round/close", {"token": self.tokens[who], "transaction_id": tx,
                                             "round_id": rnd})
        for tx, rnd in (("fx-c3", "fx-r3"),   # nobody's yet
                        ("fx-c2", "fx-r2"),   # rita's (a placed bet)
                        ("fx-c1", "fx-r1")):  # rita's refused bet only
            r = nothing_written(lambda tx=tx, rnd=rnd: close("sam", tx, rnd))
            refused(r, 404, "ROUND_NOT_FOUND", "4.00")
        r = self.bet("rita", "fx-b3", "fx-r3", "1.00")
        assert r.status == 200, r.body
        r = nothing_written(lambda: close("sam", "fx-c3", "fx-r3"))  # retried: decided again
        refused(r, 404, "ROUND_NOT_FOUND", "4.00")
        r = self.bet("rita", "fx-b4", "fx-r3", "1.00")
        assert r.status == 200, r.body
        # her own close of her round (bets only so far) closes it
        r = close("rita", "fx-c3r", "fx-r3")
        assert r.status == 200 and r.json()["status"] == "OK", r.body
        r = self.bet("rita", "fx-b5", "fx-r3", "1.00")
        assert r.status == 409 and r.json()["error"]["code"] == "ROUND_CLOSED", r.body
        # sam's bet on that id is on his own round, still open; now his close closes it
        r = self.bet("sam", "fx-b6", "fx-r3", "1.00")
        assert r.status == 200 and r.json()["cash"] == "3.00", r.body
        r = close("sam", "fx-c3", "fx-r3")  # the same request, now with a round to close
        assert r.status == 200, r.body
        rows = self.env.rows("SELECT player, closed FROM wallet_round WHERE round_id LIKE 'fx-%' "
                             "ORDER BY player")
        assert sorted(rows) == sorted([(self.players["rita"], 1), (sam, 1)]), rows

        # 3. a second rollback under a new transaction id
        r = self.rollback("sam", "fx-rb6", "fx-r3", "fx-b6")
        assert r.status == 200 and r.json()["cash"] == "4.00", r.body
        first = self.rollback("sam", "fx-rb6b", "fx-r3", "fx-b6")
        refused(first, 409, "TRANSACTION_ROLLED_BACK", "4.00")
        again = self.rollback("sam", "fx-rb6b", "fx-r3", "fx-b6")
        assert (again.status, again.body) == (first.status, first.body), again.body
        for tx in ("fx-rb7", "fx-rb7b"):  # a bet never seen: the same 200 each time
            r = self.rollback("sam", tx, "fx-r7", "fx-b7")
            assert r.status == 200 and r.json()["bet_found"] is False, r.body
        assert self.balance("sam")["cash"] == "4.00"

    def tombstones_and_not_bets(self):
        """A rollback's tombstone is its player's: tia rolls back a bet id she never
        placed (200 bet_found false), then ole's bet with that id is 409
        IDEMPOTENCY_CONFLICT (the id is taken; not claimed rolled back), not stored,
        nothing written, decided the same on its retry; tia's own bet with that id is
        still 409 TRANSACTION_ROLLED_BACK. A rollback naming the player's own win is
        422 TRANSACTION_NOT_BET: no tombstone, nothing moves, only its stored answer
        (replayed byte for byte). A win answered 404 BET_NOT_FOUND is not stored: sent
        again with the same id once its bet arrived it is paid, once."""
        self.new_players("127.0.3.26", ["tia", "ole"], "5.00")

        def refused(r, status, code, cash):
            assert r.status == status and self.signed_ok(r), r.body
            a = r.json()
            assert (a["error"]["code"], a["cash"]) == (code, cash), r.body

        # 1. tia's tombstone, ole's bet with its id
        r = self.rollback("tia", "tb-rb1", "tb-r1", "tb-b1")
        assert r.status == 200 and r.json()["bet_found"] is False, r.body
        for _ in range(2):  # not stored: its retry is decided again, the same way
            r, diff = self.diff_of(lambda: self.bet("ole", "tb-b1", "tb-r1", "1.00"))
            refused(r, 409, "IDEMPOTENCY_CONFLICT", "5.00")
            assert not diff, f"wrote {diff}"
        tomb = self.env.rows("SELECT player, state FROM wallet_bet WHERE bet_tx_id = 'tb-b1'")
        assert tomb == [(self.players["tia"], "tombstone")], tomb
        r = self.bet("tia", "tb-b1", "tb-r1", "1.00")
        refused(r, 409, "TRANSACTION_ROLLED_BACK", "5.00")
        assert self.balance("ole")["cash"] == "5.00" and self.balance("tia")["cash"] == "5.00"

        # 2. a rollback naming tia's own win
        assert self.bet("tia", "tb-b2", "tb-r2", "1.00").status == 200
        r = self.win("tia", "tb-w2", "tb-r2", "tb-b2", "2.00")
        assert r.status == 200 and r.json()["cash"] == "6.00", r.body
        first, diff = self.diff_of(lambda: self.rollback("tia", "tb-rb2", "tb-r2", "tb-w2"))
        refused(first, 422, "TRANSACTION_NOT_BET", "6.00")
        assert set(diff) == {"wallet_op"}, diff  # its stored answer only
        added, removed = diff["wallet_op"]
        assert len(added) == 1 and "tb-rb2" in added[0] and not removed, diff
        again, diff = self.diff_of(lambda: self.rollback("tia", "tb-rb2", "tb-r2", "tb-w2"))
        assert (again.status, again.body) == (first.status, first.body) and not diff, again.body
        assert self.env.rows("SELECT count(*) FROM wallet_bet WHERE bet_tx_id = 'tb-w2'") == [(0,)]
        # ... and her rollback of the bet itself is still ROUND_HAS_WIN (the round has a win)
        r = self.rollback("tia", "tb-rb2b", "tb-r2", "tb-b2")
        refused(r, 409, "ROUND_HAS_WIN", "6.00")

        # 3. a win before its bet: BET_NOT_FOUND, then paid once when retried after it
        r, diff = self.diff_of(lambda: self.win("tia", "tb-w3", "tb-r3", "tb-b3", "1.50"))
        refused(r, 404, "BET_NOT_FOUND", "6.00")
        assert not diff, f"wrote {diff}"
        r = self.bet("tia", "tb-b3", "tb-r3", "1.00")
        assert r.status == 200 and r.json()["cash"] == "5.00", r.body
        paid = self.win("tia", "tb-w3", "tb-r3", "tb-b3", "1.50")
        assert paid.status == 200 and paid.json()["cash"] == "6.50", paid.body
        dup = self.win("tia", "tb-w3", "tb-r3", "tb-b3", "1.50")
        assert (dup.status, dup.body) == (paid.status, paid.body), dup.body
        assert self.balance("tia")["cash"] == "6.50"

    def win_naming_a_non_bet(self):
        """A win whose bet_transaction_id is the player's own win, rollback or round
        close can never be paid: 422 TRANSACTION_NOT_BET with the balance, stored (its
        retry gets the same bytes, so the provider stops), nothing else written,
        nothing moves. Naming another player's win: 422 ROUND_MISMATCH, not stored,
        nothing written. An id never seen: 404 BET_NOT_FOUND, not stored, as before."""
        self.new_players("127.0.3.27", ["una", "vic"], "5.00")

        def refused(r, status, code, cash):
            assert r.status == status and self.signed_ok(r), r.body
            a = r.json()
            assert (a["error"]["code"], a["cash"]) == (code, cash), r.body

        def ok(r):
            assert r.status == 200, r.body

        ok(self.bet("una", "wn-b1", "wn-r1", "1.00"))
        ok(self.win("una", "wn-w1", "wn-r1", "wn-b1", "0.50"))           # her win
        ok(self.rollback("una", "wn-rb1", "wn-r9", "wn-b9"))             # her rollback
        ok(self.bet("una", "wn-b2", "wn-r2", "1.00"))
        ok(self.post("round/close", {"token": self.tokens["una"], "transaction_id": "wn-c2",
                                     "round_id": "wn-r2"}))              # her round close
        ok(self.bet("vic", "wn-vb", "wn-r1", "1.00"))
        ok(self.win("vic", "wn-vw", "wn-r1", "wn-vb", "0.25"))           # his win
        cash = "3.50"
        assert self.balance("una")["cash"] == cash
        for i, named in enumerate(("wn-w1", "wn-rb1", "wn-c2")):
            tx = f"wn-x{i}"
            first, diff = self.diff_of(lambda: self.win("una", tx, "wn-r1", named, "2.00"))
            refused(first, 422, "TRANSACTION_NOT_BET", cash)
            assert set(diff) == {"wallet_op"}, diff  # its stored answer only
            added, removed = diff["wallet_op"]
            assert len(added) == 1 and tx in added[0] and not removed, diff
            again, diff = self.diff_of(lambda: self.win("una", tx, "wn-r1", named, "2.00"))
            assert (again.status, again.body) == (first.status, first.body), again.body
            assert not diff, f"wrote {diff}"
        for named, status, code in (("wn-vw", 422, "ROUND_MISMATCH"),
                                    ("wn-never", 404, "BET_NOT_FOUND")):
            for _ in range(2):  # not stored: decided again on the retry
                r, diff = self.diff_of(lambda: self.win("una", "wn-y", "wn-r1", named, "2.00"))
                refused(r, status, code, cash)
                assert not diff, f"wrote {diff}"
        assert self.balance("una")["cash"] == cash
        assert self.balance("vic")["cash"] == "4.25"

    def win_naming_a_refused_bet(self):
        """A win whose bet_transaction_id is the player's own bet that was refused
        (insufficient funds, a game other than the launched one, above the game's
        limit, a blocked player: each refusal stored under the bet's id, so that bet is
        never placed) is 409 BET_REFUSED with the balance, signed, stored (its retry
        gets the same bytes, so the provider stops retrying), nothing else written,
        nothing moves, on the bet's round or another. A win sent before its bet (404
        BET_NOT_FOUND, not stored) and retried once the bet was refused gets 409
        BET_REFUSED then, stored. The rollback of a refused bet is unchanged: 200,
        bet_found false."""
        wes, = self.new_players("127.0.3.29", ["wes"], "5.00")

        early, diff = self.diff_of(lambda: self.win("wes", "rw-b1-w", "rw-r1", "rw-b1", "2.00"))
        assert early.status == 404 and early.json()["error"]["code"] == "BET_NOT_FOUND", early.body
        assert not diff, f"wrote {diff}"
        cases = [  # (bet tx, round, bet fields, the bet's status and code, the win's round)
            ("rw-b1", "rw-r1", {"amount": "9.00"}, 422, "INSUFFICIENT_FUNDS", "rw-r1"),
            ("rw-b2", "rw-r2", {"amount": "1.00", "game": "slot2"}, 422, "GAME_MISMATCH",
             "rw-r2"),
            ("rw-b3", "rw-r3", {"amount": "100.01"}, 422, "BET_LIMIT", "rw-r9"),
            ("rw-b4", "rw-r4", {"amount": "1.00"}, 403, "PLAYER_BLOCKED", "rw-r4"),
        ]
        for tx, rnd, fields, status, code, win_round in cases:
            kw = dict(fields)
            amount = kw.pop("amount")
            if code == "PLAYER_BLOCKED":
                expect(self.admin.call("POST", f"/v1/admin/players/{wes}/block",
                                       {"reason": "test"}), 200)
            bet = self.bet("wes", tx, rnd, amount, **kw)
            assert bet.status == status and bet.json()["error"]["code"] == code, bet.body
            if code == "PLAYER_BLOCKED":
                expect(self.admin.call("POST", f"/v1/admin/players/{wes}/unblock",
                                       {"reason": "ok"}), 200)
            first, diff = self.diff_of(lambda: self.win("wes", tx + "-w", win_round, tx, "2.00"))
            assert first.status == 409 and self.signed_ok(first), (code, first.body)
            a = first.json()
            assert (a["error"]["code"], a["cash"], a["balance"]) == \
                ("BET_REFUSED", "5.00", "5.00"), (code, a)
            assert set(diff) == {"wallet_op"}, (code, diff)  # its stored answer only
            added, removed = diff["wallet_op"]
            assert len(added) == 1 and tx + "-w" in added[0] and "BET_REFUSED" in added[0] \
                and not removed, (code, diff)
            again, diff = self.diff_of(lambda: self.win("wes", tx + "-w", win_round, tx, "2.00"))
            assert (again.status, again.body, again.header("x-pitboss-signature")) == \
                (first.status, first.body, first.header("x-pitboss-signature")), again.body
            assert not diff, f"wrote {diff}"
            retry = self.bet("wes", tx, rnd, amount, **kw)  # the bet stays refused
            assert (retry.status, retry.body) == (bet.status, bet.body), (code, retry.body)
        rb = self.rollback("wes", "rw-b1-rb", "rw-r1", "rw-b1")
        assert rb.status == 200, rb.body
        a = rb.json()
        assert (a["bet_found"], a["cash_part"], a["cash"]) == (False, "0.00", "5.00"), a
        assert self.balance("wes")["cash"] == "5.00"

    def close_of_refused_round(self):
        """A round close of a round the player played but where every bet of theirs was
        refused for good (insufficient funds, a blocked player: refusals stored) or rolled
        back before it arrived (a tombstone): no bet can still come that would change the
        answer, so it is not the 404 ROUND_NOT_FOUND a provider retries for ever. The
        close closes the round: 200, signed, nothing moves (no ledger row, the balance
        unchanged), the round recorded closed, the answer stored and replayed byte for
        byte; a later bet on it is 409 ROUND_CLOSED (the tombstone's own bet still
        TRANSACTION_ROLLED_BACK). A close of a round id the player never played is still
        404 ROUND_NOT_FOUND, nothing written."""
        vera, = self.new_players("127.0.3.30", ["vera"], "5.00")

        def close(tx, rnd):
            return self.post("round/close", {"token": self.tokens["vera"], "transaction_id": tx,
                                             "round_id": rnd})

        r = self.bet("vera", "rc-b1", "rc-r1", "9.00")
        assert r.status == 422 and r.json()["error"]["code"] == "INSUFFICIENT_FUNDS", r.body
        expect(self.admin.call("POST", f"/v1/admin/players/{vera}/block", {"reason": "test"}), 200)
        r = self.bet("vera", "rc-b2", "rc-r2", "1.00")
        assert r.status == 403 and r.json()["error"]["code"] == "PLAYER_BLOCKED", r.body
        expect(self.admin.call("POST", f"/v1/admin/players/{vera}/unblock", {"reason": "ok"}), 200)
        r = self.bet("vera", "rc-b1b", "rc-r1", "8.00")  # a second refused bet on rc-r1
        assert r.status == 422 and r.json()["error"]["code"] == "INSUFFICIENT_FUNDS", r.body
        r = self.rollback("vera", "rc-b3-rb", "rc-r3", "rc-b3")  # its bet never seen
        assert r.status == 200 and r.json()["bet_found"] is False, r.body
        for tx, rnd in (("rc-c1", "rc-r1"), ("rc-c2", "rc-r2"), ("rc-c3", "rc-r3")):
            first, diff = self.diff_of(lambda tx=tx, rnd=rnd: close(tx, rnd))
            assert first.status == 200 and self.signed_ok(first), (rnd, first.body)
            a = first.json()
            assert (a["status"], a["cash"]) == ("OK", "5.00"), (rnd, a)
            # its stored answer and the closed round, nothing else (no money moves)
            assert set(diff) == {"wallet_op", "wallet_round"}, (rnd, diff)
            added, removed = diff["wallet_op"]
            assert len(added) == 1 and f"'{tx}'" in added[0] and not removed, (rnd, diff)
            added, removed = diff["wallet_round"]
            assert len(added) == 1 and f"'{rnd}'" in added[0] and not removed, (rnd, diff)
            rows = self.env.rows("SELECT closed, has_win FROM wallet_round WHERE provider = "
                                 "'studio' AND round_id = ? AND player = ?", rnd, vera)
            assert rows == [(1, 0)], (rnd, rows)
            again, diff = self.diff_of(lambda tx=tx, rnd=rnd: close(tx, rnd))
            assert (again.status, again.body, again.header("x-pitboss-signature")) == \
                (first.status, first.body, first.header("x-pitboss-signature")), again.body
            assert not diff, f"{rnd}: the replay wrote {diff}"
        for tx, rnd, code in (("rc-b4", "rc-r1", "ROUND_CLOSED"), ("rc-b5", "rc-r2", "ROUND_CLOSED"),
                              ("rc-b3", "rc-r3", "TRANSACTION_ROLLED_BACK")):
            r = self.bet("vera", tx, rnd, "1.00")
            assert r.status == 409 and r.json()["error"]["code"] == code, (rnd, r.body)
        r, diff = self.diff_of(lambda: close("rc-c9", "rc-r9"))  # never played
        assert r.status == 404 and r.json()["error"]["code"] == "ROUND_NOT_FOUND", r.body
        assert not diff, f"wrote {diff}"
        assert self.balance("vera")["cash"] == "5.00"

    def close_of_refused_round_after_prune(self):
        """The same close once the launch is pruned (30 days after it expired): the
        round's player is found by its stored refusals and unseen rollbacks, as by the
        accepted bets of a round that has them, so the close closes the round (200,
        stored, nothing moves) instead of answering ROUND_NOT_FOUND, which the provider
        would retry for ever. The token must still be one those rows were placed with:
        another player's, pruned too, is ROUND_MISMATCH; a round id nobody played is
        TOKEN_INVALID (no launch says whose), each writing nothing."""
        xan, = self.new_players("127.0.3.31", ["xan"], "2.00")
        yul, = self.new_players("127.0.3.32", ["yul"], "2.00")
        r = self.bet("xan", "rp-b1", "rp-r1", "9.00")
        assert r.status == 422 and r.json()["error"]["code"] == "INSUFFICIENT_FUNDS", r.body
        r = self.rollback("xan", "rp-b2-rb", "rp-r2", "rp-b2")  # its bet never seen
        assert r.status == 200 and r.json()["bet_found"] is False, r.body
        self.prune_launches(self.tokens["xan"], self.tokens["yul"])

        def close(who, tx, rnd):
            return self.post("round/close", {"token": self.tokens[who], "transaction_id": tx,
                                             "round_id": rnd})

        for tx, rnd in (("rp-c1", "rp-r1"), ("rp-c2", "rp-r2")):
            r, diff = self.diff_of(lambda tx=tx, rnd=rnd: close("yul", tx, rnd))
            assert r.status == 422 and r.json()["error"]["code"] == "ROUND_MISMATCH", (rnd, r.body)
            assert not diff, f"{rnd}: a foreign token wrote {diff}"
            first, diff = self.diff_of(lambda tx=tx, rnd=rnd: close("xan", tx, rnd))
            assert first.status == 200 and self.signed_ok(first), (rnd, first.body)
            a = first.json()
            assert (a["status"], a["player_id"], a["cash"]) == ("OK", xan, "2.00"), (rnd, a)
            assert set(diff) == {"wallet_op", "wallet_round"}, (rnd, diff)
            rows = self.env.rows("SELECT closed FROM wallet_round WHERE provider = 'studio' "
                                 "AND round_id = ? AND player = ?", rnd, xan)
            assert rows == [(1,)], (rnd, rows)
            again, diff = self.diff_of(lambda tx=tx, rnd=rnd: close("xan", tx, rnd))
            assert (again.status, again.body) == (first.status, first.body), again.body
            assert not diff, f"{rnd}: the replay wrote {diff}"
        r, diff = self.diff_of(lambda: close("xan", "rp-c9", "rp-r9"))  # never played
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", r.body
        assert not diff, f"wrote {diff}"
        assert self.balance_now("xan") == "2.00"

    def stop_and_verify(self):
        assert self.env.stop() == 0
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        # the server signed the ledger as it stopped: its head and every account
        n, seq = self.env.rows("SELECT count(*), max(transfer_seq) FROM ledger_anchor")[0]
        head = self.env.rows("SELECT max(seq) FROM ledger_transfer")[0][0]
        assert n >= 1 and seq == head, (n, seq, head)
        r = self.env.cli("ledger", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0 and "signatures checked" in r.stdout, r.stdout + r.stderr
        # an account handed to someone else by SQL: the anchor says so
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("UPDATE ledger_account SET owner = 'mallory' WHERE id = "
                    "(SELECT min(id) FROM ledger_account WHERE kind = 'player_cash')")
        con.commit()
        con.close()
        r = self.env.cli("ledger", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 1 and "anchor_accounts" in r.stdout + r.stderr, r.stdout + r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_provider_native.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: brand, native provider, games, players with launch tokens", run.setup),
        ("session and balance: the player, currency, balance; signed answers", run.session_and_balance),
        ("wrong key, forged or missing signature, stale or future timestamp, changed body: "
         "401, nothing moves", run.signatures),
        ("bet drawn cash first then bonus; the win paid back in the bet's proportions", run.split_and_proportional_win),
        ("rollback refunds exactly the bet's cash and bonus parts", run.proportional_rollback),
        ("duplicate bet, win and rollback: the original answer byte for byte; same id, other "
         "content: IDEMPOTENCY_CONFLICT with the balance", run.duplicates),
        ("funding policy bonus_first: bonus staked first; win (rounding to cash) and rollback "
         "returned in the bet's proportions; a zero win settles", run.bonus_first),
        ("simultaneous duplicate deliveries of a bet and a win: one movement each, identical "
         "answers", run.simultaneous),
        ("rollback before the bet is recorded; the bet then is TRANSACTION_ROLLED_BACK", run.rollback_before_bet),
        ("rollback after a win on the round: ROUND_HAS_WIN, nothing moves", run.rollback_after_win),
        ("win on a rolled-back bet: TRANSACTION_ROLLED_BACK; on an unknown bet: BET_NOT_FOUND", run.win_on_rolled_back_bet),
        ("insufficient funds carries the current balance", run.insufficient_funds),
        ("wrong currency, unknown game, game off for the brand, blocked in its jurisdiction, "
         "bet limits: refused with the balance", run.catalog_refusals),
        ("expired token: bet and balance refused; win, rollback and round close accepted", run.expired_token),
        ("a blocked player cannot bet; their win still pays", run.blocked_player),
        ("revoked launches: bets, sessions and balances TOKEN_EXPIRED at once; wins and "
         "rollbacks paid; a new launch plays; audited", run.revoked_launches),
        ("a closed round takes no more bets", run.round_closed),
        ("two players on one round id: each plays, closes and wins their own round",
         run.shared_round_ids),
        ("provider disabled (bets, sessions, balances refused, a refused bet stored, wins paid), narrower window, new "
         "secret: seen within the cache's 1 s", run.provider_changes),
        ("bad input: 4xx with stable codes, the ledger unchanged", run.bad_inputs),
        ("every native operation answered with a documented 2xx and 4xx", run.all_documented),
        ("a launch gone from the store: taken only within the launch cache's second",
         run.launch_cache),
        ("a launch pruned 30 days after its expiry: the wins and rollbacks of its bets pay, "
         "a retried win is the duplicate under any launch; a bet for another game than the "
         "launched one is GAME_MISMATCH", run.late_settlement_after_prune),
        ("a round close after its launch was pruned: the round's player from its bets, with a "
         "token of theirs (another is ROUND_MISMATCH); a round id several players bet on, or an "
         "unknown one, TOKEN_INVALID", run.round_close_after_prune),
        ("after a prune, a win or rollback needs its bet's token: another player's (pruned) or "
         "an unknown one is ROUND_MISMATCH as before the prune, nothing moves; the bet's pays",
         run.token_after_prune),
        ("every kind of refusal (bets, wins, rollbacks, round closes) writes its stored "
         "refusal only, no account of a player who has none, nor anything else",
         run.refusals_change_nothing),
        ("docs/native-protocol.md's worked example: its signatures, its exact bytes "
         "TIMESTAMP_STALE, signed now 200", run.doc_example),
        ("an erased player's late win on a round idle 30 days (erasure refused while it was "
         "open): 200 as always, the cash share to the brand's unclaimed funds, the bonus share "
         "forfeited, audited and announced; the replay's bytes unchanged", run.erased_late_win),
        ("the brand's unclaimed funds settled by staff, 4-eyes (requested by one member, "
         "approved by another): remitted to an authority (the brand's remitted account) and "
         "recognised by the house; bad input, more than the balance, a currency without an "
         "account, an unknown brand refused with nothing written; the request's replay "
         "answered, the key's reuse IDEMPOTENCY_CONFLICT; audited, announced, listed",
         run.unclaimed_settlements),
        ("a rollback of a refused bet (insufficient funds, game mismatch, bet limit, blocked "
         "player): 200 bet_found false, nothing moves, replayed byte for byte; the bet's retry "
         "stays refused (its stored refusal; other content IDEMPOTENCY_CONFLICT)",
         run.rollback_of_refused_bet),
        ("another player's ids: a rollback naming a bet of theirs that was refused is "
         "ROUND_MISMATCH as for their placed bet, a close of a round id without an accepted "
         "bet of the caller's ROUND_NOT_FOUND, nothing written; a second rollback: 200 "
         "bet_found false for a bet never placed, TRANSACTION_ROLLED_BACK for one rolled back",
         run.foreign_ids),
        ("a tombstone is its player's: another player's bet with its id IDEMPOTENCY_CONFLICT "
         "(not stored, nothing written), the player's own TRANSACTION_ROLLED_BACK; a rollback "
         "naming the player's win TRANSACTION_NOT_BET (stored, nothing moves); a win answered "
         "BET_NOT_FOUND and retried after its bet is paid once", run.tombstones_and_not_bets),
        ("a win naming the player's own win, rollback or round close: TRANSACTION_NOT_BET "
         "(stored, nothing moves); another player's win ROUND_MISMATCH, an id never seen "
         "BET_NOT_FOUND (neither stored)", run.win_naming_a_non_bet),
        ("a win naming the player's own refused bet (insufficient funds, game mismatch, bet "
         "limit, blocked player): 409 BET_REFUSED with the balance, stored and replayed byte "
         "for byte, nothing moves; a win answered BET_NOT_FOUND before its bet gets it once the "
         "bet is refused; the bet's rollback still 200 bet_found false",
         run.win_naming_a_refused_bet),
        ("a round close of a round whose bets were all refused for good (insufficient funds, "
         "a blocked player) or rolled back unseen: 200, stored and replayed byte for byte, "
         "nothing moves, the round closed (a later bet ROUND_CLOSED); a round id never played "
         "still ROUND_NOT_FOUND", run.close_of_refused_round),
        ("the same close once the launch is pruned: the player found by the round's "
         "refusals and unseen rollbacks, the round closed, stored; another player's token "
         "ROUND_MISMATCH, a round id nobody played TOKEN_INVALID, nothing written",
         run.close_of_refused_round_after_prune),
        ("SIGTERM exits 0; `ledger verify` passes, with the anchor the server signed as it "
         "stopped (through the last transfer, signatures checked); an account's owner changed "
         "by SQL then fails it (anchor_accounts)", run.stop_and_verify),
    ]
    return run_cases(cases, env.cleanup)


if __name__ == "__main__":
    sys.exit(main())
