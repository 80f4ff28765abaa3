#!/usr/bin/python3
"""test_games.py PATH/TO/pitboss — pitboss's own provably fair games over real
HTTP (speaks TAP): seed pairs and their rotation, bets on every game through
the wallet (idempotent retries, bet = balance, one unit more refused with
nothing recorded), bad input on every route (4xx with stable codes, the ledger
and the games' tables unchanged), mines (reveal, cash-out, concurrent
requests), crash rounds (betting, running, cash-out, auto cash-out, settlement,
public game hashes linked to the chain), RTP set by game_ops (audited, recorded
on the next round), game control figures, round history pages, recovery after
SIGKILL, crash rounds at rest (hash sealed and point 0 until the crash; in the clear
after), and THE PROPERTY TEST: many random bets (random client seeds, several
games, rotations) recomputed with `pitboss fair verify` and POST /v1/fair/verify
from the revealed seeds, equal to what was played and paid. Ends with
`pitboss ledger verify` and `pitboss audit verify`.

Usage: test_games.py PATH/TO/pitboss
"""
import base64
import datetime
import hashlib
import hmac
import json
import math
import os
import random
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Client, Env, Staff, create_staff, expect, live_balances,  # noqa: E402
                           register_player)
from harness import Server, run_cases  # noqa: E402

PASSWORD = "Player-pass-77"
GAMES = ("dice", "limbo", "crash", "mines", "keno", "plinko", "roulette", "slot")
# betting 2.5 s: the cases below start their bets with >= BET_MARGIN_S of it left, so a
# stall of the loaded (sanitizer) build during their requests still lands in it
BET_MARGIN_S = 2.0
CRASH_ENV = {"PITBOSS_CRASH_BETTING_MS": "2500", "PITBOSS_CRASH_PAUSE_MS": "300",
             "PITBOSS_CRASH_GROWTH": "0.002", "PITBOSS_CRASH_CHAIN_LENGTH": "3000",
             # the sweeper every 1 s (default 5 s), so /metrics' stuck gauge moves quickly
             "PITBOSS_GAMES_RETRY_MS": "1000"}
PAYS = {"straight": 35, "split": 17, "street": 11, "trio": 11, "corner": 8, "first_four": 8,
        "six_line": 5, "dozen": 2, "column": 2, "red": 1, "black": 1, "odd": 1, "even": 1,
        "low": 1, "high": 1}
RED = {1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36}


def minor(s):
    """'12.34' → 1234 (EUR)."""
    neg = s.startswith("-")
    whole, _, frac = s.lstrip("-").partition(".")
    v = int(whole) * 100 + int((frac + "00")[:2])
    return -v if neg else v


def eur(m):
    return f"{m // 100}.{m % 100:02d}"


def mult_units(s):
    """'1.9800' → 19800."""
    whole, _, frac = s.partition(".")
    return int(whole) * 10000 + int((frac + "0000")[:4])


def stamp(s):
    """'2026-11-21T15:10:00.123456Z' (the API's times) → a datetime, to the microsecond."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")


def roulette_wins(bet, pocket):
    t, nums = bet["type"], bet.get("numbers", [])
    if t in ("straight", "split", "street", "trio", "corner", "first_four", "six_line"):
        return pocket in nums
    if pocket == 0:
        return False
    if t == "dozen":
        return (pocket - 1) // 12 + 1 == nums[0]
    if t == "column":
        return (pocket - 1) % 3 + 1 == nums[0]
    return {"red": pocket in RED, "black": pocket not in RED, "odd": pocket % 2 == 1,
            "even": pocket % 2 == 0, "low": pocket <= 18, "high": pocket >= 19}[t]


class GamesEnv(Env):
    """Env whose server runs fast crash rounds."""

    def start(self):
        self.srv = Server(self.binary, extra_args=["--db", self.db, "--keys-dir", self.keys],
                          env=CRASH_ENV)
        return self.srv


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0
        self.played = []  # round ids of the property test

    def key(self, prefix="k"):
        self.n += 1
        return f"{prefix}-{self.n}-{random.randrange(1 << 30)}"

    # ---- setup ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.4.10").activate("Blue-Falcon-0-Xy")
        for code, curs in (("alpha", ["EUR", "JPY"]), ("beta", ["EUR"])):
            expect(self.admin.call("POST", "/v1/admin/brands",
                                   {"code": code, "name": code.title(), "default_currency": "EUR",
                                    "currencies": curs, "jurisdiction": "MT"}), 201)
        # a catalog without the originals: the first look at them registers them
        assert not env.rows("SELECT 1 FROM provider WHERE code='pitboss'")
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/pitboss/dice",
                               {"enabled": True}), 404, "GAME_NOT_FOUND")
        expect(self.admin.call("GET", "/v1/admin/brands/alpha/originals"), 200)
        for g in GAMES:
            expect(self.admin.call("PUT", f"/v1/admin/brands/alpha/games/pitboss/{g}",
                                   {"enabled": True}), 200)
        expect(self.admin.call("PUT", "/v1/admin/brands/beta/games/pitboss/dice",
                               {"enabled": True}), 200)
        self.ops = create_staff(env, self.admin, "ops@example.com", "game_ops", "127.0.4.11",
                                brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.support = create_staff(env, self.admin, "sup@example.com", "support", "127.0.4.12",
                                    brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.client = Client(env, "127.0.4.20")
        self.ids, self.tokens = {}, {}
        for name, brand in (("alice", "alpha"), ("bob", "alpha"), ("dave", "alpha"),
                            ("erin", "alpha"), ("carol", "beta"), ("frank", "alpha"),
                            ("gina", "alpha")):
            email = f"{name}@example.com"
            self.ids[name] = register_player(self.client, brand, email)
            r = expect(self.client.call("POST", "/v1/player/login",
                                        {"brand": brand, "email": email, "password": PASSWORD}), 200)
            self.tokens[name] = r["access_token"]
        for name, amount in (("alice", "500.00"), ("bob", "200.00"), ("dave", "5.00"),
                             ("erin", "100.00"), ("carol", "50.00"), ("frank", "100.00"),
                             ("gina", "50.00")):
            self.credit(name, amount)

    def credit(self, name, amount):
        expect(self.admin.call("POST", f"/v1/admin/players/{self.ids[name]}/adjustments",
                               {"balance": "cash", "direction": "credit", "amount": amount,
                                "reason": "test funds", "idempotency_key": self.key("fund")}), 201)

    # ---- helpers ----

    def call(self, who, method, path, body=None, key=None, raw=None, headers=None):
        h = dict(headers or {})
        if key is not None:
            h["Idempotency-Key"] = key
        return self.client.call(method, path, body, token=self.tokens[who], raw=raw, headers=h)

    def bet(self, who, game, amount, params=None, key=None):
        body = {"params": params or {}}
        if amount is not None:
            body["amount"] = amount
        return self.call(who, "POST", f"/v1/player/originals/{game}/bets", body,
                         key=key or self.key("bet"))

    def wallet(self, who):
        return expect(self.call(who, "GET", "/v1/player/wallet"), 200)

    def seeds(self, who):
        return expect(self.call(who, "GET", "/v1/player/originals/seeds"), 200)["active"]

    def state(self):
        """Everything a refused request must leave alone: the ledger (balances and
        transfers), the rounds and the seed pairs."""
        db = self.env.db
        return (live_balances(db),
                self.env.rows("SELECT count(*), coalesce(max(seq),0) FROM ledger_transfer"),
                self.env.rows("SELECT id, state, nonce, payout FROM game_round ORDER BY seq"),
                self.env.rows("SELECT id, next_nonce, active FROM fair_seed_pair ORDER BY seq"))

    # ---- cases ----

    def catalog(self):
        r = expect(self.admin.call("GET", "/v1/admin/games?provider=pitboss"), 200)
        assert sorted(g["code"] for g in r["games"]) == sorted(GAMES), r
        r = expect(self.admin.call("GET", "/v1/admin/brands/alpha/originals"), 200)
        by = {g["game"]: g for g in r["games"]}
        assert set(by) == set(GAMES) and by["dice"]["rtp_bp"] == 9900, r
        assert not by["dice"]["configured"] and by["roulette"]["min_rtp_bp"] == 9729, r

    def seed_pair(self):
        a = self.seeds("alice")
        b = self.seeds("alice")
        assert a == b and a["next_nonce"] == 0, (a, b)
        assert len(a["server_seed_hash"]) == 64 and "server_seed" not in a, a
        assert self.seeds("bob")["server_seed_hash"] != a["server_seed_hash"]
        self.alice_commitment = a["server_seed_hash"]

    def first_bets(self):
        before = minor(self.wallet("alice")["total"])
        r1 = expect(self.bet("alice", "dice", "1.00", {"target": 50.5, "direction": "over"}), 201)
        r2 = expect(self.bet("alice", "limbo", "2.00", {"target": "2.00"}), 201)
        for r, nonce in ((r1, 0), (r2, 1)):
            rd = r["round"]
            assert rd["state"] == "settled" and rd["fair"]["nonce"] == nonce, rd
            assert rd["fair"]["server_seed_hash"] == self.alice_commitment, rd
            assert rd["fair"]["server_seed"] is None and rd["rtp_bp"] == 9900, rd
            assert minor(rd["payout"]) == minor(rd["amount"]) * mult_units(rd["multiplier"]) // 10000
        paid = sum(minor(r["round"]["payout"]) - minor(r["round"]["amount"]) for r in (r1, r2))
        assert minor(self.wallet("alice")["total"]) == before + paid
        assert minor(r2["balance"]) == before + paid, r2
        assert self.seeds("alice")["next_nonce"] == 2
        # the ledger: the bet and the win of each round, on the in-house provider's account
        for r in (r1, r2):
            rows = self.env.rows("SELECT code, amount FROM ledger_transfer WHERE reference=? "
                                 "ORDER BY seq", r["round"]["id"])
            assert rows[0] == (10, minor(r["round"]["amount"])), rows
            assert rows[1:] == ([(11, minor(r["round"]["payout"]))]
                                if minor(r["round"]["payout"]) else []), rows

    def idempotent_retry(self):
        key = self.key("retry")
        body = ("alice", "keno", "1.50", {"risk": "medium", "picks": [1, 2, 3, 4, 5]})
        r1 = expect(self.bet(*body, key=key), 201)
        st = self.state()
        for _ in range(3):
            r2 = expect(self.bet(*body, key=key), 200)
            assert r2["round"] == r1["round"], (r1, r2)
        # concurrent retries: one round, no money moved
        outs = []
        ts = [threading.Thread(target=lambda: outs.append(self.bet(*body, key=key)))
              for _ in range(6)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        assert all(o.status == 200 and o.json()["round"]["id"] == r1["round"]["id"] for o in outs)
        assert self.state() == st
        # the same key for another request: a conflict, nothing changes
        expect(self.bet("alice", "keno", "1.51", body[3], key=key), 409, "IDEMPOTENCY_CONFLICT")
        expect(self.bet("alice", "dice", "1.50", {"target": 50, "direction": "under"}, key=key),
               409, "IDEMPOTENCY_CONFLICT")
        assert self.state() == st

    def bet_equals_balance(self):
        # one minor unit more than the balance: refused, nothing recorded
        nonce = self.seeds("dave")["next_nonce"]
        st = self.state()
        r = self.bet("dave", "dice", "5.01", {"target": 50, "direction": "under"})
        body = expect(r, 422, "INSUFFICIENT_FUNDS")
        assert body["error"]["field"] == "amount", body
        assert self.state() == st and self.seeds("dave")["next_nonce"] == nonce
        assert not self.env.rows("SELECT 1 FROM game_round WHERE player=?", self.ids["dave"])
        # the whole balance works
        r = expect(self.bet("dave", "dice", "5.00", {"target": 50, "direction": "under"}), 201)
        rd = r["round"]
        assert rd["state"] == "settled" and rd["fair"]["nonce"] == nonce, rd
        assert self.wallet("dave")["total"] == rd["payout"] == r["balance"], (r, self.wallet("dave"))

    def pending_shown(self):
        # a bet whose decision fails after its stake is "pending" until it is driven on:
        # the player's history and round answers show it so (checked against openapi.yaml,
        # whose state enum lacked it), and the retry with its key finishes it, staked once
        con = sqlite3.connect(self.env.db, timeout=30)
        pid = self.ids["frank"]
        before = minor(self.wallet("frank")["total"])
        key = self.key("pending")
        body = ("frank", "dice", "1.00", {"target": 50, "direction": "over"})
        try:
            con.execute("CREATE TRIGGER no_decision BEFORE UPDATE OF state ON game_round "
                        f"WHEN OLD.state = 'pending' AND OLD.player = '{pid}' "
                        "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END")
            con.commit()
            r = self.client.call("POST", "/v1/player/originals/dice/bets",
                                 {"amount": body[2], "params": body[3]},
                                 token=self.tokens["frank"], headers={"Idempotency-Key": key},
                                 check=False)
            assert r.status >= 500, r
            (rid, state), = self.env.rows("SELECT id, state FROM game_round WHERE player=? "
                                          "AND idempotency_key=?", pid, key)
            assert state == "pending", state
            # the history lists finished and resting rounds only; the round itself answers
            page = expect(self.call("frank", "GET", "/v1/player/originals/rounds?game=dice"), 200)
            assert rid not in [x["id"] for x in page["items"]], page
            rd = expect(self.call("frank", "GET", f"/v1/player/originals/rounds/{rid}"), 200)
            assert rd["state"] == "pending" and rd["payout"] is None, rd
            assert rd["void_reason"] is None and rd["outcome"] is None, rd
            assert minor(self.wallet("frank")["total"]) == before - 100  # staked
        finally:
            con.execute("DROP TRIGGER IF EXISTS no_decision")
            con.commit()
            con.close()
        rd = expect(self.bet(*body, key=key), 200)["round"]
        assert rd["id"] == rid and rd["state"] == "settled", rd
        assert minor(self.wallet("frank")["total"]) == before - 100 + minor(rd["payout"])
        assert self.env.rows("SELECT count(*) FROM wallet_op WHERE tx_id=?",
                             rd["id"] + ":bet") == [(1,)]

    def bad_input(self):
        st = self.state()
        ok_dice = {"target": 50, "direction": "over"}
        cases = [
            (self.bet("erin", "blackjack", "1.00", {}), 404, "GAME_NOT_FOUND"),
            # crash has its own route (literal segments win): no params there
            (self.bet("erin", "crash", "1.00", {}), 400, "UNKNOWN_FIELD"),
            (self.call("carol", "GET", "/v1/player/originals/crash"), 404, "ROUND_NOT_FOUND"),
            (self.call("erin", "POST", "/v1/player/originals/dice/bets",
                       {"amount": "1.00", "params": ok_dice}), 422, "IDEMPOTENCY_KEY_INVALID"),
            (self.call("erin", "POST", "/v1/player/originals/dice/bets",
                       {"amount": "1.00", "params": ok_dice}, key="has space"), 422,
             "IDEMPOTENCY_KEY_INVALID"),
            (self.bet("erin", "dice", "1.001", ok_dice), 422, "AMOUNT_INVALID"),
            (self.bet("erin", "dice", "-1.00", ok_dice), 422, "AMOUNT_INVALID"),
            (self.bet("erin", "dice", "0.00", ok_dice), 422, "AMOUNT_INVALID"),
            (self.bet("erin", "dice", None, ok_dice), 422, "FIELD_MISSING"),
            (self.call("erin", "POST", "/v1/player/originals/dice/bets",
                       {"amount": 1, "params": ok_dice}, key=self.key()), 422, "FIELD_INVALID"),
            (self.bet("erin", "dice", "1.00", {"target": 0, "direction": "over"}), 422,
             "FIELD_INVALID"),
            (self.bet("erin", "dice", "1.00", {"target": 50, "direction": "sideways"}), 422,
             "FIELD_INVALID"),
            (self.bet("erin", "dice", "1.00", {"direction": "over"}), 422, "FIELD_MISSING"),
            (self.bet("erin", "dice", "1.00", {"target": 50, "direction": "over", "x": 1}), 400,
             "UNKNOWN_FIELD"),
            (self.bet("erin", "limbo", "1.00", {"target": "1.00"}), 422, "FIELD_INVALID"),
            (self.bet("erin", "keno", "1.00", {"risk": "low"}), 422, "FIELD_MISSING"),
            (self.bet("erin", "keno", "1.00", {"risk": "low", "picks": [1, 1]}), 422,
             "FIELD_INVALID"),
            (self.bet("erin", "plinko", "1.00", {"rows": 7, "risk": "low"}), 422, "FIELD_INVALID"),
            (self.bet("erin", "mines", "1.00", {"mines": 25}), 422, "FIELD_INVALID"),
            (self.bet("erin", "roulette", "2.00",
                      {"bets": [{"type": "red", "amount": "1.00"}]}), 422, "FIELD_INVALID"),
            (self.bet("erin", "roulette", None,
                      {"bets": [{"type": "split", "numbers": [1, 5], "amount": "1.00"}]}), 422,
             "FIELD_INVALID"),
            (self.bet("erin", "dice", "10000.01", ok_dice), 422, "BET_LIMIT"),
            (self.bet("erin", "dice", "100.01", ok_dice), 422, "INSUFFICIENT_FUNDS"),
            (self.call("erin", "POST", "/v1/player/originals/dice/bets",
                       {"amount": "1.00", "params": ok_dice, "extra": 1}, key=self.key()), 400,
             "UNKNOWN_FIELD"),
            (self.call("erin", "POST", "/v1/player/originals/dice/bets", raw=b"{nope",
                       key=self.key()), 400, "INVALID_JSON"),
            (self.call("erin", "POST", "/v1/player/originals/dice/bets", raw=b'{"amount":"1.00"}',
                       headers={"Content-Type": "text/plain"}, key=self.key()), 415,
             "UNSUPPORTED_MEDIA_TYPE"),
            (self.bet("carol", "limbo", "1.00", {"target": "2.00"}), 403, "GAME_DISABLED"),
            (self.client.call("POST", "/v1/player/originals/dice/bets",
                              {"amount": "1.00", "params": ok_dice},
                              headers={"Idempotency-Key": "x"}), 401, "UNAUTHENTICATED"),
            # seeds
            (self.call("erin", "PUT", "/v1/player/originals/seeds/client-seed", {}), 422,
             "FIELD_MISSING"),
            (self.call("erin", "PUT", "/v1/player/originals/seeds/client-seed",
                       {"client_seed": "a:b"}), 422, "FIELD_INVALID"),
            (self.call("erin", "PUT", "/v1/player/originals/seeds/client-seed",
                       {"client_seed": "x" * 65}), 422, "FIELD_INVALID"),
            (self.call("erin", "POST", "/v1/player/originals/seeds/rotate",
                       {"client_seed": "with space"}), 422, "FIELD_INVALID"),
            (self.call("erin", "POST", "/v1/player/originals/seeds/rotate", {"seed": "x"}), 400,
             "UNKNOWN_FIELD"),
            (self.call("erin", "GET", "/v1/player/originals/seeds", raw=b'{"a":1}'), 400,
             "UNKNOWN_FIELD"),
            # history and rounds
            (self.call("erin", "GET", "/v1/player/originals/rounds?limit=0"), 422, "FIELD_INVALID"),
            (self.call("erin", "GET", "/v1/player/originals/rounds?cursor=x"), 422,
             "FIELD_INVALID"),
            (self.call("erin", "GET", "/v1/player/originals/rounds?game=poker"), 422,
             "FIELD_INVALID"),
            (self.call("erin", "GET", "/v1/player/originals/rounds/0190aaaa-0000-7000-8000-"
                                      "000000000000"), 404, "ROUND_NOT_FOUND"),
            # mines and crash on rounds that are not there
            (self.call("erin", "POST", "/v1/player/originals/mines/nope/reveal", {"tiles": [1]}),
             404, "ROUND_NOT_FOUND"),
            (self.call("erin", "POST", "/v1/player/originals/mines/nope/cashout"), 404,
             "ROUND_NOT_FOUND"),
            (self.call("erin", "POST", "/v1/player/originals/crash/bets/nope/cashout"), 404,
             "ROUND_NOT_FOUND"),
            (self.call("erin", "POST", "/v1/player/originals/crash/bets",
                       {"amount": "1.00", "auto_cashout": "1.00"}, key=self.key()), 422,
             "FIELD_INVALID"),
            (self.call("erin", "POST", "/v1/player/originals/crash/bets",
                       {"amount": "1.00", "auto_cashout": "abc"}, key=self.key()), 422,
             "FIELD_INVALID"),
            (self.call("erin", "POST", "/v1/player/originals/crash/bets", {"amount": "0"},
                       key=self.key()), 422, "AMOUNT_INVALID"),
            (self.call("erin", "POST", "/v1/player/originals/crash/bets", {"amount": "1.00"}), 422,
             "IDEMPOTENCY_KEY_INVALID"),
            (self.call("erin", "POST", "/v1/player/originals/crash/bets", {}, key=self.key()), 422,
             "FIELD_MISSING"),
        ]
        for i, (r, status, code) in enumerate(cases):
            try:
                expect(r, status, code)
            except AssertionError as e:
                raise AssertionError(f"case {i}: {e}") from None
        # a player blocked by staff: refused by the wallet's gate, nothing recorded
        expect(self.admin.call("POST", f"/v1/admin/players/{self.ids['frank']}/block",
                               {"reason": "test"}), 200)
        st_frank = self.state()
        r = self.client.call("POST", "/v1/player/login", {"brand": "alpha",
                             "email": "frank@example.com", "password": PASSWORD})
        assert r.status in (401, 403), r
        assert self.state() == st_frank
        assert self.state()[1:] == st[1:], "a refused request changed something"

    def mines(self):
        # cash-out before a reveal is refused; then reveal and cash out
        r = expect(self.bet("bob", "mines", "2.00", {"mines": 1}), 201)["round"]
        assert r["state"] == "active" and r["outcome"] is None and r["payout"] is None, r
        assert r["mines"] == {"mines": 1, "revealed": []}, r
        rid = r["id"]
        # in play, the row holds no mine (a copy of the database gives none away)
        assert self.env.rows("SELECT outcome FROM game_round WHERE id=?", rid) == [(None,)]
        expect(self.call("bob", "POST", f"/v1/player/originals/mines/{rid}/cashout"), 409,
               "ROUND_STATE")
        expect(self.call("alice", "POST", f"/v1/player/originals/mines/{rid}/reveal",
                         {"tiles": [3]}), 404, "ROUND_NOT_FOUND")
        for bad in ([], [25], [-1], ["a"], list(range(26))):
            expect(self.call("bob", "POST", f"/v1/player/originals/mines/{rid}/reveal",
                             {"tiles": bad}), 422)
        expect(self.call("bob", "POST", f"/v1/player/originals/mines/{rid}/reveal", {}), 422,
               "FIELD_MISSING")
        revealed = []
        for t in range(25):
            rr = expect(self.call("bob", "POST", f"/v1/player/originals/mines/{rid}/reveal",
                                  {"tiles": [t, t]}), 200)["round"]
            revealed.append(t)
            assert rr["mines"]["revealed"] == revealed, rr
            if rr["state"] == "active":
                assert self.env.rows("SELECT outcome FROM game_round WHERE id=?", rid) == \
                    [(None,)]
            if rr["state"] != "active" or len(revealed) == 3:
                break
        if rr["state"] == "active":
            # concurrent cash-outs: one payment
            outs = []
            ts = [threading.Thread(target=lambda: outs.append(self.call(
                "bob", "POST", f"/v1/player/originals/mines/{rid}/cashout"))) for _ in range(6)]
            [t.start() for t in ts]
            [t.join() for t in ts]
            assert all(o.status == 200 for o in outs), [o.status for o in outs]
            rr = outs[0].json()["round"]
            assert all(o.json()["round"]["payout"] == rr["payout"] for o in outs)
            # 25/24 per safe tile with one mine, at 99 %
            want = math.floor(9900 * math.comb(25, 3) / math.comb(24, 3))
            assert mult_units(rr["multiplier"]) == want, rr
            assert minor(rr["payout"]) == 200 * want // 10000, rr
            assert set(rr["outcome"]["result"]).isdisjoint(revealed), rr
        else:
            assert rr["payout"] == "0.00" and rr["outcome"]["result"] == [revealed[-1]], rr
        assert rr["state"] == "settled", rr
        # over: the mines in the clear, as shown
        stored, = self.env.rows("SELECT outcome FROM game_round WHERE id=?", rid)[0]
        assert json.loads(stored) == rr["outcome"], (stored, rr)
        wins = self.env.rows("SELECT count(*) FROM ledger_transfer WHERE reference=? AND code=11",
                             rid)[0][0]
        assert wins == (1 if minor(rr["payout"]) else 0), wins
        expect(self.call("bob", "POST", f"/v1/player/originals/mines/{rid}/reveal",
                         {"tiles": [20]}), 409, "ROUND_CLOSED")
        # a cash-out that pays (the game above may have met its mine first)
        for attempt in range(20):
            g = expect(self.bet("bob", "mines", "1.00", {"mines": 1}), 201)["round"]
            rr = expect(self.call("bob", "POST", f"/v1/player/originals/mines/{g['id']}/reveal",
                                  {"tiles": [attempt]}), 200)["round"]
            if rr["state"] == "active":
                c = expect(self.call("bob", "POST",
                                     f"/v1/player/originals/mines/{g['id']}/cashout"), 200)
                assert mult_units(c["round"]["multiplier"]) == 9900 * 25 // 24, c
                assert c["round"]["payout"] == eur(100 * (9900 * 25 // 24) // 10000), c
                break
        else:
            raise AssertionError("20 one-mine games all lost on their first tile")
        # 24 mines: the first tile is a mine unless it is the one safe tile
        r = expect(self.bet("bob", "mines", "1.00", {"mines": 24}), 201)["round"]
        rr = expect(self.call("bob", "POST", f"/v1/player/originals/mines/{r['id']}/reveal",
                              {"tiles": [12]}), 200)["round"]
        assert rr["state"] == "settled", rr  # a mine, or the last safe tile (cashed out)
        hit = 12 in rr["outcome"]["result"]
        assert len(rr["outcome"]["result"]) == 24, rr
        if hit:
            assert rr["payout"] == "0.00", rr
            expect(self.call("bob", "POST", f"/v1/player/originals/mines/{r['id']}/cashout"),
                   409, "ROUND_CLOSED")
        else:
            assert mult_units(rr["multiplier"]) == math.floor(9900 * 25), rr
        self.mines_rounds = [rid, r["id"]]

    def crash(self):
        deadline = time.time() + 30
        while True:
            r = self.call("alice", "GET", "/v1/player/originals/crash")
            if r.status == 404 and time.time() < deadline:
                # the crash loop has not opened its first round yet (the server just started)
                expect(r, 404, "ROUND_NOT_FOUND")
                time.sleep(0.1)
                continue
            c = expect(r, 200)
            rd = c["round"]
            # the most a cash-out pays, and the most round.multiplier shows
            assert c["multiplier_max"] == "1000000.00", c
            # to the microsecond: in whole seconds, 0.05 s left across a second's turn
            # would count as 1, too little for the bets and checks below
            left = (stamp(rd["betting_ends_at"]) - stamp(c["server_time"])).total_seconds()
            if rd["state"] == "betting" and left >= BET_MARGIN_S:
                break
            assert time.time() < deadline, c
            time.sleep(0.1)
        assert rd["game_hash"] is None and rd["point"] is None, rd
        crash_id = rd["id"]
        # at rest while it takes bets: the hash sealed under fair.key, no point
        assert self.crash_sealed_at_rest(crash_id, "betting")
        a1 = expect(self.call("alice", "POST", "/v1/player/originals/crash/bets",
                              {"amount": "1.00", "auto_cashout": "1.01"}, key="crash-a1"), 201)
        a2 = expect(self.call("alice", "POST", "/v1/player/originals/crash/bets",
                              {"amount": "1.00", "auto_cashout": "1000000.00"},
                              key="crash-a2"), 201)
        b1 = expect(self.call("bob", "POST", "/v1/player/originals/crash/bets",
                              {"amount": "2.00"}, key="crash-b1"), 201)
        again = expect(self.call("bob", "POST", "/v1/player/originals/crash/bets",
                                 {"amount": "2.00"}, key="crash-b1"), 200)
        assert again["round"]["id"] == b1["round"]["id"]
        bets = {"a1": a1["round"], "a2": a2["round"], "b1": b1["round"]}
        for b in bets.values():
            assert b["state"] == "active" and b["crash"]["id"] == crash_id, b
            assert b["void_reason"] is None, b  # accepted while the round took bets: in play
            assert b["crash"]["game_hash"] is None and b["crash"]["point"] is None, b
        bid = b1["round"]["id"]
        expect(self.call("bob", "POST", f"/v1/player/originals/crash/bets/{bid}/cashout"), 409,
               "ROUND_STATE")
        mine = expect(self.call("alice", "GET", "/v1/player/originals/crash"), 200)
        assert {x["id"] for x in mine["my_active_bets"]} == {a1["round"]["id"], a2["round"]["id"]}
        # running: bob cashes out as soon as he can
        while True:
            c = expect(self.call("bob", "GET", "/v1/player/originals/crash"), 200)
            if c["round"]["state"] != "betting":
                break
            time.sleep(0.02)
        cash = self.call("bob", "POST", f"/v1/player/originals/crash/bets/{bid}/cashout")
        assert cash.status in (200, 409), cash
        if c["round"]["id"] == crash_id and c["round"]["state"] == "running":
            assert c["round"]["game_hash"] is None and c["round"]["point"] is None, c
        if cash.status == 200 and cash.json()["round"]["crash"]["state"] != "crashed":
            assert cash.json()["round"]["crash"]["game_hash"] is None, cash.json()
            assert cash.json()["round"]["crash"]["point"] is None, cash.json()
        self.crash_sealed_at_rest(crash_id, "running")
        expect(self.call("erin", "POST", "/v1/player/originals/crash/bets", {"amount": "1.00"},
                         key=self.key()), 409, "ROUND_CLOSED")
        cashed = mult_units(cash.json()["round"]["multiplier"]) if cash.status == 200 else None
        if cash.status == 200:
            again = expect(self.call("bob", "POST",
                                     f"/v1/player/originals/crash/bets/{bid}/cashout"), 200)
            assert again["round"]["multiplier"] == cash.json()["round"]["multiplier"]
        # the crash and the settlement
        deadline = time.time() + 60
        while True:
            got = {k: expect(self.call("alice" if k[0] == "a" else "bob", "GET",
                                       f"/v1/player/originals/rounds/{b['id']}"), 200)
                   for k, b in bets.items()}
            if all(g["state"] == "settled" for g in got.values()):
                break
            assert time.time() < deadline, got
            time.sleep(0.1)
        cr = got["a1"]["crash"]
        assert cr["state"] == "crashed" and cr["game_hash"] and cr["point"], cr
        point = mult_units(cr["point"]) // 100  # hundredths
        # crashed: the hash and the point are in the clear, as shown
        row, = self.env.rows("SELECT game_hash, point FROM crash_round WHERE id=?", crash_id)
        assert row == (cr["game_hash"], point), (row, cr)
        assert minor(got["a1"]["payout"]) == (101 if point >= 101 else 0), (point, got["a1"])
        assert got["a2"]["payout"] == "0.00" or point >= 100000000, got["a2"]
        if cashed is not None:
            assert cashed < point * 100 and minor(got["b1"]["payout"]) == 200 * cashed // 10000, \
                (point, got["b1"])
        else:
            assert got["b1"]["payout"] == "0.00", got["b1"]
        # anyone recomputes the point and links the hash to the chain
        pub = expect(self.client.call("GET", "/v1/fair/crash/alpha?limit=200"), 200)
        rounds = {r["id"]: r for r in pub["items"]}
        mine = rounds[crash_id]
        assert mine["game_hash"] == cr["game_hash"] and mine["point"] == cr["point"], mine
        out = json.loads(self.env.cli("fair", "verify", "--game", "crash", "--hash",
                                      mine["game_hash"], "--salt", mine["salt"], "--rtp-bp",
                                      str(mine["rtp_bp"]), "--commitment",
                                      mine["chain_commitment"]).stdout)
        assert round(out["point"] * 100) == point, (out, mine)
        ep = expect(self.client.call("POST", "/v1/fair/verify",
                                     {"game": "crash", "hash": mine["game_hash"], "salt": mine["salt"],
                                      "rtp_bp": mine["rtp_bp"],
                                      "commitment": mine["chain_commitment"]}), 200)
        assert ep == out, (ep, out)
        h = mine["game_hash"]
        for _ in range(mine["position"] + 1):
            h = hashlib.sha256(h.encode()).hexdigest()
        assert h == mine["chain_commitment"], "the game hash does not lead to the commitment"
        by_pos = {r["position"]: r for r in pub["items"] if r["game_hash"]}
        linked = [p for p in by_pos if p - 1 in by_pos]
        link_deadline = time.time() + 30
        while not linked and time.time() < link_deadline:
            # a fresh server may have crashed one round only: wait for the next one
            time.sleep(0.2)
            pub = expect(self.client.call("GET", "/v1/fair/crash/alpha?limit=200"), 200)
            by_pos = {r["position"]: r for r in pub["items"] if r["game_hash"]}
            linked = [p for p in by_pos if p - 1 in by_pos]
        assert linked, by_pos.keys()
        for p in linked:
            assert hashlib.sha256(by_pos[p]["game_hash"].encode()).hexdigest() == \
                by_pos[p - 1]["game_hash"], p
        # the other rounds: betting/running ones hide their hash
        for r in pub["items"]:
            if r["state"] != "crashed":
                assert r["game_hash"] is None and r["point"] is None, r
        # a round that crashes before bob's cash-out lands (a point near 1.00x) leaves the
        # cash-out's 2xx unseen: play further rounds until one cash-out succeeds
        for _ in range(10):
            if cash.status == 200:
                break
            cash = self.crash_cashout_once()
        assert cash.status == 200, cash
        # every crash bet settled before the next cases compare the database before and
        # after their refused requests (a bet of a round that crashed is settled by the
        # round's loop a moment later)
        deadline = time.time() + 30
        while self.env.rows("SELECT count(*) FROM game_round WHERE game='crash' AND "
                            "state != 'settled'")[0][0]:
            assert time.time() < deadline, self.env.rows(
                "SELECT id, state FROM game_round WHERE game='crash' AND state != 'settled'")
            time.sleep(0.1)

    def crash_my_bets(self):
        """GET /v1/player/originals/crash shows the caller's active bets however many
        other players' bets came before theirs in the round (it showed the caller's
        among the round's first 20 bets of anyone)."""
        # the index that reads one player's bets of a round (0026)
        plan = " ".join(r[3] for r in self.env.rows(
            "EXPLAIN QUERY PLAN SELECT seq FROM game_round WHERE crash_round=? AND player=? "
            "AND state='active' ORDER BY seq LIMIT 20", "x", "y"))
        assert "game_round_crash_player" in plan and "TEMP B-TREE" not in plan, plan
        deadline = time.time() + 60
        while True:
            assert time.time() < deadline, "no betting phase long enough for 22 bets"
            c = expect(self.call("erin", "GET", "/v1/player/originals/crash"), 200)
            rd = c["round"]
            left = (stamp(rd["betting_ends_at"]) - stamp(c["server_time"])).total_seconds()
            if rd["state"] != "betting" or left < BET_MARGIN_S:
                time.sleep(0.05)
                continue
            # 21 bets of alice's, then erin's one, in the same betting phase
            alice = []
            for _ in range(21):
                r = self.call("alice", "POST", "/v1/player/originals/crash/bets",
                              {"amount": "0.01"}, key=self.key("many"))
                if r.status != 201:
                    break
                alice.append(r.json()["round"]["id"])
            if len(alice) < 21:
                expect(r, 409, "ROUND_CLOSED")  # the phase ended meanwhile: the next one
                continue
            r = self.call("erin", "POST", "/v1/player/originals/crash/bets", {"amount": "1.00"},
                          key=self.key("one"))
            if r.status != 201:
                expect(r, 409, "ROUND_CLOSED")
                continue
            mine = r.json()["round"]
            assert mine["crash"]["id"] == rd["id"], (mine, rd)
            got = expect(self.call("erin", "GET", "/v1/player/originals/crash"), 200)
            other = expect(self.call("alice", "GET", "/v1/player/originals/crash"), 200)
            if got["round"]["id"] != rd["id"] or got["round"]["state"] == "crashed" or \
                    other["round"]["id"] != rd["id"] or other["round"]["state"] == "crashed":
                continue  # crashed already (a point near 1.00x): its bets are settled
            assert [b["id"] for b in got["my_active_bets"]] == [mine["id"]], got
            # alice's own, in placement order (the first 20)
            assert [b["id"] for b in other["my_active_bets"]] == alice[:20], other
            break
        deadline = time.time() + 30
        while self.env.rows("SELECT count(*) FROM game_round WHERE game='crash' AND "
                            "state != 'settled'")[0][0]:
            assert time.time() < deadline
            time.sleep(0.1)

    def crash_sealed_at_rest(self, crash_id=None, state=None):
        """Every crash round not crashed holds no outcome at rest: its game hash is sealed
        under fair.key ("s1:" + hex of nonce, ciphertext and tag) and its point is 0; every
        crashed one has both in the clear. Whether round crash_id was still in `state`
        when read (one snapshot)."""
        seen = False
        for rid, h, point, st in self.env.rows("SELECT id, game_hash, point, state "
                                               "FROM crash_round"):
            if st == "crashed":
                assert len(h) == 64 and int(h, 16) >= 0 and point >= 100, (rid, h, point)
            else:
                assert h.startswith("s1:") and len(h) == 3 + 2 * (24 + 32 + 16) and \
                    point == 0, (rid, st, h, point)
            seen = seen or (rid == crash_id and st == state)
        return seen

    def crash_cashout_once(self):
        """Bob bets 1.00 in the next round's betting phase and cashes out as soon as it
        runs; the cash-out's answer (200, or 409 when the round crashed first)."""
        deadline = time.time() + 30
        while True:
            c = expect(self.call("bob", "GET", "/v1/player/originals/crash"), 200)
            if c["round"]["state"] == "betting":
                r = self.call("bob", "POST", "/v1/player/originals/crash/bets",
                              {"amount": "1.00"}, key=self.key())
                if r.status == 201:
                    break
                assert r.status == 409, r  # the betting phase ended meanwhile
            assert time.time() < deadline, c
            time.sleep(0.05)
        bid = r.json()["round"]["id"]
        while expect(self.call("bob", "GET", "/v1/player/originals/crash"), 200)["round"]["state"] \
                == "betting":
            assert time.time() < deadline
            time.sleep(0.02)
        cash = self.call("bob", "POST", f"/v1/player/originals/crash/bets/{bid}/cashout")
        assert cash.status in (200, 409), cash
        return cash

    def rtp(self):
        st = self.state()
        expect(self.support.call("PUT", "/v1/admin/brands/alpha/originals/dice/rtp",
                                 {"rtp_bp": 9500}), 403, "FORBIDDEN")
        expect(self.ops.call("PUT", "/v1/admin/brands/alpha/originals/dice/rtp",
                             {"rtp_bp": 9950}), 422, "FIELD_INVALID")
        expect(self.ops.call("PUT", "/v1/admin/brands/alpha/originals/dice/rtp",
                             {"rtp_bp": 7999}), 422, "FIELD_INVALID")
        expect(self.ops.call("PUT", "/v1/admin/brands/alpha/originals/dice/rtp",
                             {"rtp_bp": "9500"}), 422, "FIELD_INVALID")
        expect(self.ops.call("PUT", "/v1/admin/brands/alpha/originals/dice/rtp", {}), 422,
               "FIELD_MISSING")
        expect(self.ops.call("PUT", "/v1/admin/brands/alpha/originals/poker/rtp",
                             {"rtp_bp": 9500}), 404, "GAME_NOT_FOUND")
        for code in ("beta", "nosuchbrand"):  # foreign and unknown: the same answer, field named
            for r in (self.ops.call("PUT", f"/v1/admin/brands/{code}/originals/dice/rtp",
                                    {"rtp_bp": 9500}),
                      self.ops.call("GET", f"/v1/admin/brands/{code}/originals"),
                      self.ops.call("GET", f"/v1/admin/brands/{code}/originals/control")):
                assert expect(r, 403, "BRAND_FORBIDDEN")["error"]["field"] == "brand", r
        expect(self.ops.call("PUT", "/v1/admin/brands/alpha/originals/roulette/rtp",
                             {"rtp_bp": 9800}), 422, "FIELD_INVALID")
        assert self.state() == st
        assert not self.env.rows("SELECT 1 FROM audit_entry WHERE action='game.rtp_set'")
        r = expect(self.ops.call("PUT", "/v1/admin/brands/alpha/originals/dice/rtp",
                                 {"rtp_bp": 9500, "reason": "promo"}), 200)
        assert r == {"brand": "alpha", "game": "dice", "rtp_bp": 9500, "previous_rtp_bp": 9900}, r
        (before, after, reason, actor), = self.env.rows(
            "SELECT before, after, reason, actor_id FROM audit_entry WHERE action='game.rtp_set'")
        assert json.loads(before) == {"rtp_bp": 9900} and json.loads(after) == {"rtp_bp": 9500}
        assert reason == "promo" and actor == self.ops.id, (reason, actor)
        rd = expect(self.bet("erin", "dice", "1.00", {"target": 50, "direction": "under"}),
                    201)["round"]
        assert rd["rtp_bp"] == 9500 and mult_units(rd["multiplier"]) in (0, 9500 * 10000 // 5000), rd
        s = {g["game"]: g for g in expect(self.ops.call(
            "GET", "/v1/admin/brands/alpha/originals"), 200)["games"]}
        assert s["dice"]["rtp_bp"] == 9500 and s["dice"]["configured"], s["dice"]
        # another brand keeps the default
        rc = expect(self.bet("carol", "dice", "1.00", {"target": 50, "direction": "under"}),
                    201)["round"]
        assert rc["rtp_bp"] == 9900, rc
        self.rtp_round = rd

    def staff_void(self):
        alice = self.ids["alice"]
        w0 = minor(self.wallet("alice")["total"])
        r = expect(self.bet("alice", "mines", "3.00", {"mines": 3}), 201)["round"]
        rid = r["id"]
        assert r["state"] == "active", r
        w1 = minor(self.wallet("alice")["total"])
        assert w1 == w0 - 300, (w0, w1)
        path = f"/v1/admin/players/{alice}/rounds/{rid}/void"
        n_audit = self.env.rows("SELECT count(*) FROM audit_entry")[0][0]
        # refusals: no reason, game_ops lacks players.write, another player's round,
        # an unknown round, a player out of scope: nothing moves
        expect(self.support.call("POST", path, {}), 422, "FIELD_MISSING")
        expect(self.support.call("POST", path, {"reason": "   "}), 422, "FIELD_INVALID")
        expect(self.ops.call("POST", path, {"reason": "left open"}), 403, "FORBIDDEN")
        expect(self.support.call("POST", f"/v1/admin/players/{self.ids['bob']}/rounds/{rid}/void",
                             {"reason": "left open"}), 404, "ROUND_NOT_FOUND")
        expect(self.support.call("POST", f"/v1/admin/players/{alice}/rounds/nope/void",
                             {"reason": "left open"}), 404, "ROUND_NOT_FOUND")
        expect(self.support.call("POST", f"/v1/admin/players/{self.ids['carol']}/rounds/{rid}/void",
                             {"reason": "left open"}), 404, "PLAYER_NOT_FOUND")
        assert minor(self.wallet("alice")["total"]) == w1
        assert self.env.rows("SELECT count(*) FROM audit_entry")[0][0] == n_audit
        # the void: the stake back, the round void (reason "staff"), audited once
        v = expect(self.support.call("POST", path, {"reason": "player left the game open"}), 200)
        assert v["id"] == rid and v["state"] == "void" and v.get("void_reason") == "staff", v
        assert minor(self.wallet("alice")["total"]) == w0
        rows = self.env.rows("SELECT state, void_reason FROM game_round WHERE id=?", rid)
        assert rows == [("void", "staff")], rows
        ops = self.env.rows("SELECT tx_id FROM wallet_op WHERE round_id=? ORDER BY tx_id", rid)
        assert [o for (o,) in ops] == [f"{rid}:bet", f"{rid}:close", f"{rid}:void"], ops
        a = self.env.rows("SELECT actor_kind, actor_id, reason, action FROM audit_entry WHERE "
                          "target_kind='game_round' AND target_id=?", rid)
        assert len(a) == 1 and a[0][0] == "staff" and a[0][2] == "player left the game open" \
            and a[0][3] == "game_round.voided", a
        # over: the player's reveal and a second void are refused; nothing moves
        expect(self.call("alice", "POST", f"/v1/player/originals/mines/{rid}/reveal",
                         {"tiles": [0]}), 409, "ROUND_CLOSED")
        expect(self.support.call("POST", path, {"reason": "again"}), 409, "ROUND_CLOSED")
        d = expect(self.bet("alice", "dice", "1.00", {"target": 50.5, "direction": "over"}),
                   201)["round"]
        expect(self.admin.call("POST", f"/v1/admin/players/{alice}/rounds/{d['id']}/void",
                               {"reason": "settled"}), 409, "ROUND_CLOSED")
        assert self.env.rows("SELECT state FROM game_round WHERE id=?", d["id"]) == [("settled",)]
        shown = expect(self.call("alice", "GET", f"/v1/player/originals/rounds/{rid}"), 200)
        assert shown["state"] == "void", shown

    def native(self, path, body, secret, provider="pitboss"):
        """One native-protocol call signed with secret, as provider."""
        data = json.dumps(body).encode()
        ts = str(int(time.time()))
        mac = "sha256=" + hmac.new(secret, ts.encode() + b"." + data, hashlib.sha256).hexdigest()
        return self.client.call("POST", f"/v1/providers/{provider}/{path}", raw=data,
                                headers={"X-Pitboss-Timestamp": ts, "X-Pitboss-Signature": mac})

    def money(self):
        """state() and every row of the wallet's tables."""
        return (self.state(),
                [self.env.rows(f"SELECT * FROM {t} ORDER BY 1, 2") for t in
                 ("wallet_op", "wallet_bet", "wallet_round", "ledger_transfer")])

    def house_provider(self):
        gina = self.ids["gina"]
        pv = expect(self.admin.call("GET", "/v1/admin/providers/pitboss"), 200)["provider"]
        n_audit = self.env.rows("SELECT count(*) FROM audit_entry")[0][0]
        # staff set no key for the in-house provider, nor create it
        for body, field in (({"secret": "ab" * 32}, "secret"),
                            ({"name": "x", "secret": "ab" * 32}, "secret"),
                            ({"public_key_pem": "-----BEGIN PUBLIC KEY-----"}, "public_key_pem")):
            e = expect(self.admin.call("PATCH", "/v1/admin/providers/pitboss", body), 422,
                       "PROVIDER_IN_HOUSE")
            assert e["error"].get("field") == field, e
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "pitboss", "name": "x", "protocol": "native",
                                "secret": "ab" * 32}), 422, "PROVIDER_IN_HOUSE")
        # nor add a game to it: its games are the server's engines (one made here would
        # be listed and never playable, or take the place of one a later version adds)
        n_games = self.env.rows("SELECT count(*) FROM game")[0][0]
        for code in ("dice9", "wheel"):
            e = expect(self.admin.call("POST", "/v1/admin/providers/pitboss/games",
                                       {"code": code, "name": "X", "category": "table",
                                        "rtp_bp": 9900, "volatility": "low",
                                        "limits": [{"currency": "EUR", "min_bet": "0.10",
                                                    "max_bet": "10.00"}]}),
                       422, "PROVIDER_IN_HOUSE")
            assert "field" not in e["error"], e
        assert self.env.rows("SELECT count(*) FROM game")[0][0] == n_games
        assert self.env.rows("SELECT count(*) FROM audit_entry")[0][0] == n_audit
        assert expect(self.admin.call("GET", "/v1/admin/providers/pitboss"),
                      200)["provider"] == pv
        # its other settings still change
        r = expect(self.admin.call("PATCH", "/v1/admin/providers/pitboss",
                                   {"name": pv["name"]}), 200)["provider"]
        assert r["name"] == pv["name"] and r["protocol"] == "native", r

        # Whoever holds its secret anyway (here: written in the clear into the
        # database, read as is) gets an unknown provider's answer on every call of
        # every protocol, and nothing changes. The same secret signs correctly for
        # another native provider (401 TOKEN_INVALID, not SIGNATURE_INVALID).
        secret = bytes.fromhex("cd" * 32)
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "twin", "name": "Twin", "protocol": "native",
                                "secret": secret.hex()}), 201)
        expect(self.native("balance", {"token": "not-a-launch"}, secret, "twin"), 401,
               "TOKEN_INVALID")
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        saved = self.env.rows("SELECT protocol, secret, public_key_pem FROM provider "
                              "WHERE code='pitboss'")[0]

        def put(protocol, secret_, pem_):
            con = sqlite3.connect(self.env.db, timeout=30)
            con.execute("UPDATE provider SET protocol=?, secret=?, public_key_pem=? "
                        "WHERE code='pitboss'", (protocol, secret_, pem_))
            con.commit()
            con.close()
            # past the adapters' provider caches: each keeps a provider at most 1 s from its
            # load (CACHE_TTL_US), and every load of the old row came before this write
            time.sleep(1.05)

        rid = expect(self.bet("gina", "mines", "1.00", {"mines": 3}), 201)["round"]["id"]
        before = self.money()
        unknown = {}
        try:
            put("native", secret, "")
            calls = (("session", {"token": "t"}), ("balance", {"token": "t"}),
                     ("bet", {"token": "t", "transaction_id": f"{rid}:bet2", "round_id": rid,
                              "game": "mines", "amount": "1.00", "currency": "EUR"}),
                     ("win", {"token": "t", "transaction_id": f"{rid}:win", "round_id": rid,
                              "bet_transaction_id": f"{rid}:bet", "amount": "9.00",
                              "currency": "EUR"}),
                     ("rollback", {"token": "t", "transaction_id": f"x-{rid}", "round_id": rid,
                                   "bet_transaction_id": f"{rid}:bet", "currency": "EUR"}),
                     ("round/close", {"token": "t", "transaction_id": f"c-{rid}",
                                      "round_id": rid}))
            for path, body in calls:
                got = self.native(path, body, secret)
                ref = self.native(path, body, secret, "no-such-provider")
                unknown[path] = (got.status, got.json()["error"], ref.status, ref.json()["error"])
                assert got.status == ref.status == 404, unknown[path]
                assert got.json()["error"]["code"] == "PROVIDER_NOT_FOUND", unknown[path]
                assert {k: v for k, v in got.json()["error"].items() if k != "trace_id"} == \
                    {k: v for k, v in ref.json()["error"].items() if k != "trace_id"}, unknown[path]
                assert got.header("x-pitboss-signature") is None, got.headers
            put("hub88", b"", pem)
            for path, body in (("user/balance", {"user": gina, "token": "t", "request_uuid":
                                                 "00000000-0000-4000-8000-000000000001"}),
                               ("transaction/rollback", {
                                   "user": gina, "token": "t", "request_uuid":
                                   "00000000-0000-4000-8000-000000000002",
                                   "transaction_uuid": "00000000-0000-4000-8000-000000000003",
                                   "reference_transaction_uuid": f"{rid}:bet", "round": rid,
                                   "game_code": "mines", "round_closed": True})):
                data = json.dumps(body, separators=(",", ":")).encode()
                sig = base64.b64encode(rsa_key.sign(data, padding.PKCS1v15(),
                                                    hashes.SHA256())).decode()
                for code in ("pitboss", "no-such-provider"):
                    r = self.client.call("POST", f"/v1/providers/{code}/hub88/{path}", raw=data,
                                         headers={"X-Hub88-Signature": sig})
                    expect(r, 404, "PROVIDER_NOT_FOUND")
        finally:
            put(*saved)
        assert self.money() == before
        # the in-house game still plays: the round goes on to its end (a win or a mine)
        w = minor(self.wallet("gina")["total"])
        r = expect(self.call("gina", "POST", f"/v1/player/originals/mines/{rid}/reveal",
                             {"tiles": [0]}), 200)["round"]
        if r["state"] == "active":
            r = expect(self.call("gina", "POST", f"/v1/player/originals/mines/{rid}/cashout"),
                       200)["round"]
        assert r["state"] == "settled", r
        assert minor(self.wallet("gina")["total"]) == w + minor(r["payout"] or "0.00"), r
        assert dict(self.env.rows("SELECT tx_id, result FROM wallet_op WHERE round_id=?",
                                  rid)).get(f"{rid}:win", "OK") == "OK"

    def stuck_settling(self):
        gina = self.ids["gina"]
        w0 = minor(self.wallet("gina")["total"])

        def end_game(rid):
            # one reveal ends a 24-mine game (a mine, or the one safe tile: all found)
            r = self.call("gina", "POST", f"/v1/player/originals/mines/{rid}/reveal",
                          {"tiles": [0]})
            assert r.status >= 500, r
            st = self.env.rows("SELECT state FROM game_round WHERE id=?", rid)
            assert st == [("settling",)], st

        def settle(rid, who=None):
            return (who or self.support).call(
                "POST", f"/v1/admin/players/{gina}/rounds/{rid}/settle",
                {"reason": "payout stuck"})

        def audit(rid, action):
            return self.env.rows("SELECT actor_kind, reason, before, after FROM audit_entry "
                                 "WHERE action=? AND target_id=? ORDER BY seq", action, rid)

        def ops(rid):
            return sorted(self.env.rows("SELECT tx_id, result FROM wallet_op WHERE round_id=?",
                                        rid))

        def stuck_gauge(want):
            # /metrics' pitboss_games_rounds_stuck, as the sweeper's passes (every
            # PITBOSS_GAMES_RETRY_MS = 1 s here) set it: within 4 s, which the default
            # period (5 s) would miss
            deadline = time.monotonic() + 4
            while True:
                r = self.client.call("GET", "/metrics", check=False)
                assert r.status == 200, r
                got = [int(line.rsplit(" ", 1)[1]) for line in r.body.decode().splitlines()
                       if line.startswith("pitboss_games_rounds_stuck ")]
                assert len(got) == 1, r.body
                if got[0] == want:
                    return
                assert time.monotonic() < deadline, (got, want)
                time.sleep(0.1)

        # (1) the wallet refuses the win for good. Its real paths were a signed native
        # rollback or round close as provider "pitboss" (its secret set by staff):
        # both are refused now (house_provider), and the wallet has no other way to
        # close an in-house round's wallet round or roll its bet back under it. So
        # the database is given the row a close of that wallet round leaves (a
        # closed wallet_round: no money moves with it), as the transient case below
        # injects a trigger; the wallet then refuses the win ROUND_CLOSED and
        # stores the refusal.
        rid = expect(self.bet("gina", "mines", "2.00", {"mines": 24}), 201)["round"]["id"]
        assert minor(self.wallet("gina")["total"]) == w0 - 200
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("INSERT INTO wallet_round (provider, round_id, player, game, has_win, closed, "
                    "created_at, updated_at) SELECT provider, round_id, player, '', 0, 1, "
                    "created_at, created_at FROM wallet_op WHERE provider='pitboss' AND "
                    "tx_id=?", (f"{rid}:bet",))
        n = con.total_changes
        con.commit()
        con.close()
        assert n == 1, n
        end_game(rid)
        # refusals change nothing (no audit entry, no money, no round)
        act = expect(self.bet("gina", "mines", "1.00", {"mines": 3}), 201)["round"]["id"]
        dice = expect(self.bet("gina", "dice", "1.00", {"target": 50.5, "direction": "over"}),
                      201)["round"]["id"]
        # the staff rounds list: status open for both (as before), state their own
        listed = {r["id"]: r for r in expect(self.support.call(
            "GET", f"/v1/admin/players/{gina}/rounds?source=original"), 200)["rounds"]}
        assert (listed[rid]["status"], listed[rid]["state"]) == ("open", "settling"), listed[rid]
        assert (listed[act]["status"], listed[act]["state"]) == ("open", "active"), listed[act]
        assert (listed[dice]["status"], listed[dice]["state"]) == ("settled", "settled"), \
            listed[dice]
        before, n_audit = self.state(), self.env.rows("SELECT count(*) FROM audit_entry")[0][0]
        path = f"/v1/admin/players/{gina}/rounds/{rid}/settle"
        expect(self.support.call("POST", path, {}), 422, "FIELD_MISSING")
        expect(self.support.call("POST", path, {"reason": " "}), 422, "FIELD_INVALID")
        expect(self.support.call("POST", path, {"reason": "x", "amount": "1"}), 400,
               "UNKNOWN_FIELD")
        expect(settle(rid, self.ops), 403, "FORBIDDEN")
        expect(settle("nope"), 404, "ROUND_NOT_FOUND")
        expect(self.support.call("POST", f"/v1/admin/players/{self.ids['bob']}/rounds/{rid}/settle",
                                 {"reason": "x"}), 404, "ROUND_NOT_FOUND")
        expect(self.support.call("POST",
                                 f"/v1/admin/players/{self.ids['carol']}/rounds/{rid}/settle",
                                 {"reason": "x"}), 404, "PLAYER_NOT_FOUND")
        expect(settle(act), 409, "ROUND_STATE")
        expect(settle(dice), 409, "ROUND_CLOSED")
        assert self.state() == before
        assert self.env.rows("SELECT count(*) FROM audit_entry")[0][0] == n_audit
        # the retry: the sweeper's path; the wallet's answer is final and reported
        e = expect(settle(rid), 409, "WIN_REFUSED")
        assert "ROUND_CLOSED" in e["error"]["message"], e
        assert self.state() == before
        a = audit(rid, "game_round.settle_retried")
        assert len(a) == 1 and a[0][0] == "staff" and a[0][1] == "payout stuck", a
        assert json.loads(a[0][2]) == {"state": "settling"}, a
        assert json.loads(a[0][3])["wallet_result"] == "ROUND_CLOSED", a
        # the sweeper does not retry it: it counts it in the stuck gauge
        stuck_gauge(1)
        # the remedy: void gives the stake back, once
        wv = minor(self.wallet("gina")["total"])
        v = expect(self.support.call("POST", f"/v1/admin/players/{gina}/rounds/{rid}/void",
                                     {"reason": "win refused: round closed"}), 200)
        assert v["state"] == "void" and v["void_reason"] == "staff" and v["payout"] is None, v
        assert minor(self.wallet("gina")["total"]) == wv + 200
        assert dict(ops(rid))[f"{rid}:void"] == "OK", ops(rid)
        assert dict(ops(rid))[f"{rid}:win"] == "ROUND_CLOSED", ops(rid)
        a = audit(rid, "game_round.voided")
        # the before names the state, and the multiplier the void cleared where the row had one
        assert len(a) == 1 and json.loads(a[0][2])["state"] == "settling", a
        assert set(json.loads(a[0][2])) <= {"state", "multiplier"}, a
        assert json.loads(a[0][3])["win_refused"] == "ROUND_CLOSED", a
        stuck_gauge(0)  # void: no longer stuck
        expect(settle(rid), 409, "ROUND_CLOSED")
        expect(self.support.call("POST", f"/v1/admin/players/{gina}/rounds/{rid}/void",
                                 {"reason": "again"}), 409, "ROUND_CLOSED")
        assert minor(self.wallet("gina")["total"]) == wv + 200
        expect(self.support.call("POST", f"/v1/admin/players/{gina}/rounds/{act}/void",
                                 {"reason": "test over"}), 200)
        w1 = minor(self.wallet("gina")["total"])

        # (3) a transient failure (no other way over HTTP: a trigger injected into the
        # database refuses to record this win, then is dropped): the retry pays it once
        rid = expect(self.bet("gina", "mines", "1.00", {"mines": 24}), 201)["round"]["id"]
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute(f"CREATE TRIGGER inject_win BEFORE INSERT ON wallet_op WHEN NEW.tx_id = "
                    f"'{rid}:win' BEGIN SELECT RAISE(ABORT, 'injected'); END")
        con.commit()
        try:
            end_game(rid)
        finally:
            con.execute("DROP TRIGGER inject_win")
            con.commit()
            con.close()
        # (within the sweeper's period, 1 s here: it leaves a round that just moved to
        # its driver)
        s = expect(settle(rid), 200)
        assert s["id"] == rid and s["state"] == "settled" and s["payout"] is not None, s
        assert minor(self.wallet("gina")["total"]) == w1 - 100 + minor(s["payout"])
        assert dict(ops(rid))[f"{rid}:win"] == "OK", ops(rid)
        a = audit(rid, "game_round.settle_retried")
        assert len(a) == 1 and json.loads(a[0][3])["wallet_result"] == "OK", a
        expect(settle(rid), 409, "ROUND_CLOSED")
        assert minor(self.wallet("gina")["total"]) == w1 - 100 + minor(s["payout"])

    def control(self):
        expect(self.support.call("GET", "/v1/admin/brands/alpha/originals/control?from=x"), 422,
               "FIELD_INVALID")
        r = expect(self.support.call("GET", "/v1/admin/brands/alpha/originals/control"), 200)
        rows = self.env.rows(
            "SELECT game, currency, count(*), sum(amount), sum(payout), sum(amount*rtp_bp) FROM "
            "game_round WHERE brand='alpha' AND state='settled' GROUP BY game, currency")
        assert len(r["games"]) == len(rows), (r, rows)
        by = {(g["game"], g["currency"]): g for g in r["games"]}
        for game, cur, n, turnover, payout, weighted in rows:
            g = by[(game, cur)]
            assert g["rounds"] == n and minor(g["turnover"]) == turnover, (g, n, turnover)
            assert minor(g["payout"]) == payout and minor(g["ggr"]) == turnover - payout, g
            assert abs(g["actual_rtp"] - payout / turnover) < 1e-9, g
            assert abs(g["expected_rtp"] - weighted / turnover / 10000) < 1e-9, g
            assert abs(g["deviation"] - (g["actual_rtp"] - g["expected_rtp"])) < 1e-9, g
        assert by[("dice", "EUR")]["target_rtp_bp"] == 9500
        future = expect(self.support.call(
            "GET", "/v1/admin/brands/alpha/originals/control?from=2099-01-01T00:00:00Z"), 200)
        assert future["games"] == [], future

    def random_params(self, rng, game):
        if game == "dice":
            return {"target": rng.randrange(200, 9800) / 100,
                    "direction": rng.choice(["over", "under"])}
        if game == "limbo":
            return {"target": f"{rng.choice([101, 150, 200, 500, 1000])/100:.2f}"}
        if game == "keno":
            return {"risk": rng.choice(["low", "medium", "high"]),
                    "picks": rng.sample(range(1, 41), rng.randrange(1, 11))}
        if game == "plinko":
            return {"rows": rng.randrange(8, 17), "risk": rng.choice(["low", "medium", "high"])}
        if game == "mines":
            m = rng.randrange(1, 10)
            return {"mines": m, "tiles": rng.sample(range(25), rng.randrange(1, 26 - m))}
        if game == "roulette":
            menu = [{"type": "straight", "numbers": [rng.randrange(37)]},
                    {"type": "split", "numbers": [0, 2]}, {"type": "red"}, {"type": "odd"},
                    {"type": "dozen", "numbers": [rng.randrange(1, 4)]},
                    {"type": "column", "numbers": [rng.randrange(1, 4)]},
                    {"type": "corner", "numbers": [1, 2, 4, 5]}, {"type": "high"},
                    {"type": "six_line", "numbers": [1, 2, 3, 4, 5, 6]}]
            bets = rng.sample(menu, rng.randrange(1, 5))
            for b in bets:
                b["amount"] = eur(rng.randrange(10, 100))
            return {"bets": bets}
        return {}

    def property_play(self):
        rng = random.Random(int(os.environ.get("PB_GAMES_SEED", "0")) or random.randrange(1 << 30))
        print(f"# property seed {rng.random()}", flush=True)
        self.credit("alice", "2000.00")
        games = ("dice", "limbo", "keno", "plinko", "mines", "roulette", "slot")
        n_rounds = int(os.environ.get("PB_GAMES_ROUNDS", "120"))
        for i in range(n_rounds):
            if i % 30 == 0:  # a new pair with a random client seed, either way
                seed = "".join(rng.choice("abcdefXYZ0123456789-_.!") for _ in range(rng.randrange(1, 65)))
                # both ways at least once (the route check at the end counts on it),
                # then either way at random
                if (i // 30) % 2 == 0 if i < 60 else rng.random() < 0.5:
                    r = expect(self.call("alice", "PUT", "/v1/player/originals/seeds/client-seed",
                                         {"client_seed": seed}), 200)
                else:
                    r = expect(self.call("alice", "POST", "/v1/player/originals/seeds/rotate",
                                         {"client_seed": seed}), 200)
                assert r["active"]["client_seed"] == seed and r["active"]["next_nonce"] == 0, r
                rev = r["revealed"]
                assert hashlib.sha256(rev["server_seed"].encode()).hexdigest() == \
                    rev["server_seed_hash"], rev
            game = rng.choice(games)
            params = self.random_params(rng, game)
            amount = None if game == "roulette" else eur(rng.randrange(10, 300))
            r = expect(self.bet("alice", game, amount, params), 201)["round"]
            assert r["state"] == "settled", r
            self.played.append(r["id"])
        r = expect(self.call("alice", "POST", "/v1/player/originals/seeds/rotate", {}), 200)
        assert r["revealed"]["next_nonce"] > 0
        # at rest: the active pair's server seed is sealed under the keys directory's
        # fair.key ("s1:" + hex of nonce, ciphertext and tag; the pair id bound to it),
        # the revealed one is in the clear, as the player was shown it
        rev, act = r["revealed"], r["active"]
        (stored_rev,), = self.env.rows("SELECT server_seed FROM fair_seed_pair WHERE id=?",
                                       rev["pair_id"])
        assert stored_rev == rev["server_seed"], (stored_rev, rev)
        sealed = self.env.rows("SELECT id, server_seed FROM fair_seed_pair WHERE active=1")
        assert sealed, "active pairs"
        for pid, s in sealed:
            assert s.startswith("s1:") and len(s) == 3 + 2 * (24 + 32 + 16), (pid, s)
        (stored_act,), = self.env.rows("SELECT server_seed FROM fair_seed_pair WHERE id=?",
                                       act["pair_id"])
        assert stored_act.startswith("s1:"), stored_act
        # a crash chain's seed (it generates every game of the chain) is sealed too
        chains = self.env.rows("SELECT seed FROM crash_chain")
        assert chains and all(s.startswith("s1:") and len(s) == 147 for (s,) in chains), chains
        # and so is the game hash of a crash round until it crashes (its point stored as 0)
        assert self.env.rows("SELECT count(*) FROM crash_round")[0][0] > 0
        self.crash_sealed_at_rest()
        key = os.path.join(self.env.keys, "fair.key")
        assert os.stat(key).st_mode & 0o777 == 0o600 and os.path.getsize(key) == 32

    def property_verify(self):
        pairs = {}
        for rid in self.played:
            rd = expect(self.call("alice", "GET", f"/v1/player/originals/rounds/{rid}"), 200)
            f = rd["fair"]
            assert f["server_seed"], rd
            assert hashlib.sha256(f["server_seed"].encode()).hexdigest() == f["server_seed_hash"]
            pairs.setdefault(f["pair_id"], []).append(f["nonce"])
            args = ["fair", "verify", "--game", rd["game"], "--server-seed", f["server_seed"],
                    "--client-seed", f["client_seed"], "--nonce", str(f["nonce"]), "--rtp-bp",
                    str(rd["rtp_bp"]), "--currency", rd["currency"], "--params",
                    json.dumps(rd["params"])]
            cli = json.loads(self.env.cli(*args).stdout)
            ep = expect(self.client.call("POST", "/v1/fair/verify",
                                         {"game": rd["game"], "server_seed": f["server_seed"],
                                          "client_seed": f["client_seed"], "nonce": f["nonce"],
                                          "rtp_bp": rd["rtp_bp"], "currency": rd["currency"],
                                          "params": rd["params"]}), 200)
            assert cli == ep == rd["outcome"], (rd, cli, ep)
            mult = mult_units(rd["multiplier"])
            assert round(cli["multiplier"] * 10000) == mult, (cli, rd)
            amount, payout = minor(rd["amount"]), minor(rd["payout"])
            if rd["game"] == "roulette":
                pocket = cli["result"]
                want = sum(minor(b["amount"]) * (PAYS[b["type"]] + 1)
                           for b in rd["params"]["bets"] if roulette_wins(b, pocket))
                assert payout == want, (rd, want)
                assert amount == sum(minor(b["amount"]) for b in rd["params"]["bets"])
            else:
                assert payout == amount * mult // 10000, (rd, amount, mult)
            if rd["game"] == "dice":
                t, roll = round(rd["params"]["target"] * 100), round(cli["result"] * 100)
                over = rd["params"]["direction"] == "over"
                chance = 10000 - t if over else t
                wins = roll > t if over else roll < t
                assert mult == (rd["rtp_bp"] * 10000 // chance if wins else 0), (rd, cli)
            if rd["game"] == "limbo":
                t = round(float(rd["params"]["target"]) * 100)
                assert mult == (t * 100 if round(cli["result"] * 100) >= t else 0), (rd, cli)
            if rd["game"] == "mines":
                hit = any(t in cli["result"] for t in rd["params"]["tiles"])
                assert (mult == 0) == hit, (rd, cli)
        for pid, nonces in pairs.items():
            # each pair's nonces: consecutive (every bet of the pair was one of these rounds)
            assert sorted(nonces) == list(range(min(nonces), min(nonces) + len(nonces))), nonces
        ledger = self.env.rows("SELECT reference, code, amount FROM ledger_transfer WHERE "
                               "reference IN (%s)" % ",".join("?" * len(self.played)), *self.played)
        bets = {}
        for ref, code, amt in ledger:
            bets.setdefault(ref, []).append((code, amt))
        for rid in self.played:
            assert len([c for c, _ in bets[rid] if c == 10]) == 1, bets[rid]
            assert len([c for c, _ in bets[rid] if c == 11]) <= 1, bets[rid]

    def history(self):
        all_ids = []
        cursor = None
        while True:
            q = "/v1/player/originals/rounds?limit=7" + (f"&cursor={cursor}" if cursor else "")
            page = expect(self.call("alice", "GET", q), 200)
            all_ids += [r["id"] for r in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        want = [r[0] for r in self.env.rows(
            "SELECT id FROM game_round WHERE player=? AND state<>'pending' ORDER BY seq DESC",
            self.ids["alice"])]
        assert all_ids == want, (len(all_ids), len(want))
        dice = expect(self.call("alice", "GET", "/v1/player/originals/rounds?game=dice&limit=200"),
                      200)["items"]
        assert dice and all(r["game"] == "dice" for r in dice)
        # bob's rounds are his own; erin's newest round hides its seed until she rotates
        assert not set(all_ids) & {r["id"] for r in expect(self.call(
            "bob", "GET", "/v1/player/originals/rounds?limit=200"), 200)["items"]}
        expect(self.call("bob", "GET", f"/v1/player/originals/rounds/{all_ids[0]}"), 404,
               "ROUND_NOT_FOUND")
        e = expect(self.call("erin", "GET", f"/v1/player/originals/rounds/{self.rtp_round['id']}"),
                   200)
        assert e["fair"]["server_seed"] is None, e
        expect(self.call("erin", "POST", "/v1/player/originals/seeds/rotate", {}), 200)
        e = expect(self.call("erin", "GET", f"/v1/player/originals/rounds/{self.rtp_round['id']}"),
                   200)
        assert e["fair"]["server_seed"], e

    def verify_endpoint_refusals(self):
        seed = "ab" * 32
        cases = [
            ({}, 422, "FIELD_MISSING"),
            ({"game": "poker"}, 422, "FIELD_INVALID"),
            ({"game": "dice", "client_seed": "c", "nonce": 0}, 422, "FIELD_MISSING"),
            ({"game": "dice", "server_seed": "AB" * 32, "client_seed": "c", "nonce": 0}, 422,
             "FIELD_INVALID"),
            ({"game": "dice", "server_seed": seed, "client_seed": "a:b", "nonce": 0}, 422,
             "FIELD_INVALID"),
            ({"game": "dice", "server_seed": seed, "client_seed": "c", "nonce": -1}, 422,
             "FIELD_INVALID"),
            ({"game": "dice", "server_seed": seed, "client_seed": "c"}, 422, "FIELD_MISSING"),
            ({"game": "dice", "server_seed": seed, "client_seed": "c", "nonce": 0, "edge": "50"},
             422, "FIELD_INVALID"),
            ({"game": "dice", "server_seed": seed, "client_seed": "c", "nonce": 0,
              "commitment": "00" * 32}, 422, "FIELD_INVALID"),
            ({"game": "mines", "server_seed": seed, "client_seed": "c", "nonce": 0, "mines": 0},
             422, "FIELD_INVALID"),
            ({"game": "crash", "hash": seed}, 422, "FIELD_MISSING"),
            ({"game": "crash", "hash": seed, "salt": "s", "nonce": 1}, 422, "FIELD_INVALID"),
            ({"game": "dice", "surprise": 1}, 400, "UNKNOWN_FIELD"),
        ]
        for body, status, code in cases:
            expect(self.client.call("POST", "/v1/fair/verify", body), status, code)
        expect(self.client.call("POST", "/v1/fair/verify", raw=b"[1]"), 400, "INVALID_REQUEST")
        expect(self.client.call("POST", "/v1/fair/verify", raw=b"{"), 400, "INVALID_JSON")
        expect(self.client.call("GET", "/v1/fair/crash/nobrand"), 404, "BRAND_NOT_FOUND")
        expect(self.client.call("GET", "/v1/fair/crash/alpha?limit=0"), 422, "FIELD_INVALID")
        # the CLI and the endpoint agree on the outcome of any seeds, byte for byte
        for game, extra in (("dice", []), ("mines", ["--mines", "5"]), ("keno", []),
                            ("plinko", ["--rows", "12", "--risk", "high"]), ("roulette", []),
                            ("limbo", ["--edge", "3"]), ("slot", [])):
            cli = self.env.cli("fair", "verify", "--game", game, "--server-seed", seed,
                               "--client-seed", "player-seed", "--nonce", "7", *extra).stdout
            body = {"game": game, "server_seed": seed, "client_seed": "player-seed", "nonce": 7}
            for k, v in zip(extra[::2], extra[1::2]):
                body[k[2:]] = int(v) if v.isdigit() and k != "--edge" else v
            r = self.client.call("POST", "/v1/fair/verify", body)
            assert r.status == 200 and r.body.decode() == cli.strip(), (game, r.body, cli)

    def crash_recovery(self):
        """SIGKILL while bets are in flight; the restart drives every round to its end."""
        start = minor(self.wallet("erin")["total"])
        keys = [self.key("kill") for _ in range(12)]
        answers = {}

        def one(k):
            try:
                answers[k] = self.call("erin", "POST", "/v1/player/originals/dice/bets",
                                       {"amount": "1.00", "params": {"target": 50, "direction": "over"}},
                                       key=k)
            except Exception as e:  # the server dies under it
                answers[k] = e
        ts = [threading.Thread(target=one, args=(k,)) for k in keys]
        [t.start() for t in ts]
        time.sleep(0.05)
        self.env.srv.kill()
        [t.join() for t in ts]
        # the crash round the kill left open (betting or running) holds no outcome at rest
        (open_id, open_state, h, point), = self.env.rows(
            "SELECT id, state, game_hash, point FROM crash_round ORDER BY seq DESC LIMIT 1")
        if open_state != "crashed":
            assert h.startswith("s1:") and len(h) == 147 and point == 0, (open_state, h, point)
        self.env.start()
        # (void is as finished as settled: staff_void left one)
        open_rows = self.env.rows("SELECT id, state FROM game_round WHERE state NOT IN "
                                  "('settled', 'void') AND game<>'crash'")
        assert not open_rows, open_rows
        # every request retried with its key: the same round if it was accepted, else a new one
        for k in keys:
            r = self.call("erin", "POST", "/v1/player/originals/dice/bets",
                          {"amount": "1.00", "params": {"target": 50, "direction": "over"}}, key=k)
            assert r.status in (200, 201), r
            first = answers[k]
            if not isinstance(first, Exception) and first.status in (200, 201):
                assert r.status == 200 and r.json()["round"]["id"] == first.json()["round"]["id"]
        rows = self.env.rows("SELECT id, amount, payout FROM game_round WHERE player=? AND "
                             "idempotency_key LIKE 'kill-%'", self.ids["erin"])
        assert len(rows) == len(keys), rows
        net = sum(p - a for _, a, p in rows)
        assert minor(self.wallet("erin")["total"]) == start + net
        for rid, _, payout in rows:
            moves = self.env.rows("SELECT code FROM ledger_transfer WHERE reference=?", rid)
            assert sorted(c for c, in moves) == ([10, 11] if payout else [10]), moves
        # the restarted server crashes that round at the point of its sealed hash, now public
        deadline = time.time() + 60
        while True:
            pub = expect(self.client.call("GET", "/v1/fair/crash/alpha?limit=200"), 200)
            mine = {r["id"]: r for r in pub["items"]}.get(open_id)
            assert mine, (open_id, pub["items"][-1])
            if mine["state"] == "crashed":
                break
            assert time.time() < deadline, mine
            time.sleep(0.1)
        out = json.loads(self.env.cli("fair", "verify", "--game", "crash", "--hash",
                                      mine["game_hash"], "--salt", mine["salt"], "--rtp-bp",
                                      str(mine["rtp_bp"]), "--commitment",
                                      mine["chain_commitment"]).stdout)
        point = round(float(mine["point"]) * 100)
        assert round(out["point"] * 100) == point, (out, mine)
        row, = self.env.rows("SELECT game_hash, point FROM crash_round WHERE id=?", open_id)
        assert row == (mine["game_hash"], point), (row, mine)
        self.crash_sealed_at_rest()

    def stop_and_verify(self):
        assert self.env.stop() == 0, "exit status"
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        # every answer of the games' routes was checked against openapi.yaml, 2xx and 4xx
        missing = [m for m in self.env.spec.unexercised("/v1/player/originals")
                   + self.env.spec.unexercised("/v1/fair")
                   + self.env.spec.unexercised("/v1/admin/brands/{brand}/originals")
                   + self.env.spec.unexercised("/v1/admin/players/{id}/rounds/{round}/void")
                   + self.env.spec.unexercised("/v1/admin/players/{id}/rounds/{round}/settle")]
        assert not missing, "\n".join(missing)


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_games.py PATH/TO/pitboss")
        return 1
    env = GamesEnv(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: brands (games on for alpha, dice only for beta), game_ops and support, "
         "funded players", run.setup),
        ("the in-house provider and its games are in the catalog; RTP settings list them",
         run.catalog),
        ("a player's seed pair: created once, commitment shown, server seed hidden", run.seed_pair),
        ("bets settle through the wallet: nonces 0, 1, payout = amount × multiplier, balances, "
         "the ledger's bet and win", run.first_bets),
        ("the same Idempotency-Key returns the same round (also concurrently) and moves nothing; "
         "another request under it is IDEMPOTENCY_CONFLICT", run.idempotent_retry),
        ("a bet of the whole balance works; one unit more is INSUFFICIENT_FUNDS with nothing "
         "recorded (no round, no nonce, no money)", run.bet_equals_balance),
        ("a bet whose decision failed is shown pending (GET round; not in the history), then "
         "finished by its retry, staked once", run.pending_shown),
        ("bad input on every player route: 4xx with stable codes, nothing changed",
         run.bad_input),
        ("mines: reveal, cash-out (concurrent requests pay once), a mine loses, 24 mines",
         run.mines),
        ("crash: betting, cash-out while running, auto cash-out, settlement at the point; the "
         "public game hash gives the point and links to the chain", run.crash),
        ("crash: a player's active bets are shown after 20 bets of another player in the round",
         run.crash_my_bets),
        ("RTP: only games.manage in scope and range, audited before/after, recorded on the next "
         "round", run.rtp),
        ("game control: rounds, turnover, payout, GGR, actual / expected RTP, deviation",
         run.control),
        ("void by staff: an open mines game ends with its stake back (players.write, reason "
         "required, audited game_round.voided by the staff member); settled / void rounds are "
         "409 ROUND_CLOSED; nothing moves on a refusal", run.staff_void),
        ("the in-house provider over the provider APIs: staff set no key for it (422 "
         "PROVIDER_IN_HOUSE); a correctly signed native or Hub88 call as `pitboss` gets the "
         "unknown provider's answer and changes nothing; the game still plays",
         run.house_provider),
        ("stuck settling: staff retry the payout (players.write, reason required, audited "
         "game_round.settle_retried): paid once after a transient failure, WIN_REFUSED when "
         "the wallet refused the win for good (its wallet round closed; /metrics' "
         "pitboss_games_rounds_stuck 1 within 4 s: PITBOSS_GAMES_RETRY_MS=1000), then the "
         "void ends it with the stake back exactly once (the gauge back to 0); bad input "
         "changes nothing",
         run.stuck_settling),
        ("property: many random bets (client seeds, games, rotations) played", run.property_play),
        ("property: `fair verify` and POST /v1/fair/verify recompute every settled round from the "
         "revealed seed; payouts follow the rules; nonces are consecutive", run.property_verify),
        ("history: cursor pages, game filter, a player's own rounds, seeds revealed only after "
         "rotation", run.history),
        ("verify endpoint: refusals name the input; equal to the CLI byte for byte",
         run.verify_endpoint_refusals),
        ("SIGKILL with bets in flight: start-up settles them, retries move money at most once; "
         "the crash round left open (sealed at rest) crashes at its hash's point",
         run.crash_recovery),
        ("SIGTERM exits 0; `ledger verify` and `audit verify` pass; every route answered 2xx "
         "and 4xx", run.stop_and_verify),
    ]
    def server_log():
        for line in (env.srv.logs[-20:] if env.srv else []):
            print("# server: " + line, flush=True)
    return run_cases(cases, env.cleanup, server_log)


if __name__ == "__main__":
    sys.exit(main())
