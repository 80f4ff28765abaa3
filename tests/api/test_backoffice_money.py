#!/usr/bin/python3
"""test_backoffice_money.py PATH/TO/pitboss — the staff API behind the back
office's money pages over real HTTP (speaks TAP):

  - dashboard: deposits through the sandbox PSP, a withdrawal paid and one
    pending, bets / wins / rollbacks through the native provider protocol and an
    in-house dice bet; the snapshot's figures asserted exactly; then more
    activity, and snapshot₁ + the events read from the staff stream after
    snapshot₁.last_event_id (up to snapshot₂'s) = snapshot₂, figure by figure;
    brand scope (alpha's finance member never sees beta: 403 for ?brand=beta,
    beta absent without it); validation of since;
  - transactions: each filter narrows exactly (kind partitions the list, player,
    brand, currency, time window, amounts), emails masked without pii.read,
    every page size without gaps or repeats, a page walk stable under a new
    bet, an amount filter without currency refused, bad input;
  - export: the CSV parsed back equals the JSON list, the formula guard, the
    attachment name, reports.export needed, the audit entry with the filters
    and the row count;
  - actual RTP of the in-house games beside the target;
  - then `pitboss ledger verify` and `pitboss audit verify`.
Every answer is checked against docs/openapi.yaml.

Usage: test_backoffice_money.py PATH/TO/pitboss
"""
import csv
import socket
import hashlib
import hmac
import http.client
import io
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Client, Env, Staff, create_staff, expect, qs  # noqa: E402
from harness import Server, Tap  # noqa: E402

PASSWORD = "Player-pass-77"
SECRET = bytes.fromhex("5c" * 32)
DRAIN_S = 2  # the server's --drain-timeout (see setup)
KINDS = ["deposit", "withdrawal", "withdrawal_hold", "withdrawal_release", "bet", "win",
         "rollback", "adjustment", "bonus", "other"]


def minor(s):
    """"12.34" → 1234 (2-decimal currencies); negative allowed."""
    neg = s.startswith("-")
    whole, _, frac = s.lstrip("-").partition(".")
    v = int(whole) * 100 + int((frac + "00")[:2])
    return -v if neg else v


def fmt(v):
    sign = "-" if v < 0 else ""
    v = abs(v)
    return f"{sign}{v // 100}.{v % 100:02d}"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def minute_of(ts):
    """"2026-11-21T13:06:42.123456Z" → "2026-11-21T13:06:00.000000Z"."""
    return ts[:17] + "00.000000Z"


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0

    def key(self, prefix="k"):
        self.n += 1
        return f"{prefix}-{self.n}-{time.time_ns()}"

    # ---- helpers ----

    def login(self, brand, email):
        r = self.client.call("POST", "/v1/player/login",
                             {"brand": brand, "email": email, "password": PASSWORD})
        return expect(r, 200)["access_token"]

    def register(self, brand, email):
        r = self.client.call("POST", "/v1/player/register",
                             {"brand": brand, "email": email, "password": PASSWORD,
                              "country": "MT", "date_of_birth": "1990-01-01"})
        pid = expect(r, 201)["player"]["id"]
        return pid, self.login(brand, email)

    def deposit(self, who, amount, complete=True):
        d = expect(self.client.call("POST", "/v1/player/deposits",
                                    {"amount": amount, "idempotency_key": self.key("dep")},
                                    token=self.tok[who]), 201)
        if complete:
            expect(self.psp.call("POST", f"/v1/sandbox-psp/payments/{d['psp_reference']}/complete"),
                   200)
        return d

    def withdraw(self, who, amount):
        return expect(self.client.call("POST", "/v1/player/withdrawals",
                                       {"amount": amount, "idempotency_key": self.key("wd")},
                                       token=self.tok[who]), 201)

    def pay(self, wid):
        expect(self.fin.call("POST", f"/v1/admin/withdrawals/{wid}/approve"), 200)
        deadline = time.monotonic() + 20
        while True:
            w = expect(self.fin.call("GET", f"/v1/admin/withdrawals/{wid}"), 200)
            if w["status"] == "paid":
                return
            assert time.monotonic() < deadline, w
            time.sleep(0.1)

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

    def bet(self, who, tx, rnd, amount, currency="EUR"):
        return self.provider("bet", {"token": self.launch[who], "transaction_id": tx,
                                     "round_id": rnd, "game": "slot1", "currency": currency,
                                     "amount": amount})

    def win(self, who, tx, rnd, bet_tx, amount):
        return self.provider("win", {"token": self.launch[who], "transaction_id": tx,
                                     "round_id": rnd, "bet_transaction_id": bet_tx,
                                     "currency": "EUR", "amount": amount})

    def rollback(self, who, tx, rnd, bet_tx):
        return self.provider("rollback", {"token": self.launch[who], "transaction_id": tx,
                                          "round_id": rnd, "bet_transaction_id": bet_tx,
                                          "currency": "EUR"})

    def dice(self, who, amount):
        r = self.client.call("POST", "/v1/player/originals/dice/bets",
                             {"amount": amount, "params": {"target": 50.5, "direction": "over"}},
                             token=self.tok[who], headers={"Idempotency-Key": self.key("dice")})
        return expect(r, 201)["round"]

    def dashboard(self, who, **params):
        params.setdefault("since", self.since)
        return expect(who.call("GET", "/v1/admin/dashboard" + qs(**params)), 200)

    def pages(self, who, limit, cursor=None, **params):
        rows, n = [], 0
        while True:
            page = expect(who.call("GET", "/v1/admin/transactions" +
                                   qs(cursor=cursor, limit=limit, **params)), 200)
            rows += page["transactions"]
            n += 1
            cursor = page["next_cursor"]
            if cursor is None:
                return rows
            assert len(page["transactions"]) == limit, page
            assert n < 2000

    # ---- cases ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        # a drain of 2 s (default 10): stop_and_verify stops this server with an export
        # whose client reads nothing, which holds the stop for the whole drain
        env.srv = Server(env.binary, extra_args=["--db", env.db, "--keys-dir", env.keys,
                                                 "--drain-timeout", str(DRAIN_S)],
                         env={"PITBOSS_SANDBOX_PAYOUT_DELAY_MS": "100"})
        self.admin = Staff(env, "root@example.com", otp, "127.0.7.10").activate("Blue-Falcon-0-Xy")
        for code, curs in (("alpha", ["EUR", "USD"]), ("beta", ["EUR"])):
            expect(self.admin.call("POST", "/v1/admin/brands",
                                   {"code": code, "name": code.title(), "default_currency": "EUR",
                                    "currencies": curs, "jurisdiction": "MT",
                                    "settings": {"withdrawal_4eyes_thresholds":
                                                 {c: 100000 for c in curs}}}), 201)
        self.fin = create_staff(env, self.admin, "fin@example.com", "finance", "127.0.7.11",
                                brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.risk = create_staff(env, self.admin, "risk@example.com", "risk", "127.0.7.12",
                                 brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.support = create_staff(env, self.admin, "sup@example.com", "support", "127.0.7.13",
                                    brands=["alpha"]).activate("Blue-Falcon-3-Xy")
        self.gops = create_staff(env, self.admin, "gops@example.com", "game_ops", "127.0.7.14",
                                 brands=["alpha"]).activate("Blue-Falcon-4-Xy")
        self.client = Client(env, "127.0.7.20")
        self.psp = Client(env, "127.0.7.30")
        self.id, self.tok = {}, {}
        for who, brand in (("alice", "alpha"), ("bob", "alpha"), ("carol", "beta")):
            self.id[who], self.tok[who] = self.register(brand, f"{who}@example.com")
        # games: dice on alpha; a native provider's slot on both brands
        expect(self.admin.call("GET", "/v1/admin/brands/alpha/originals"), 200)
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/pitboss/dice",
                               {"enabled": True}), 200)
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "studio", "name": "Studio", "protocol": "native",
                                "secret": SECRET.hex()}), 201)
        limits = [{"currency": "EUR", "min_bet": "0.10", "max_bet": "100.00"}]
        expect(self.admin.call("POST", "/v1/admin/providers/studio/games",
                               {"code": "slot1", "name": "Slot1", "category": "slots",
                                "rtp_bp": 9600, "volatility": "medium", "limits": limits}), 201)
        for b in ("alpha", "beta"):
            expect(self.admin.call("PUT", f"/v1/admin/brands/{b}/games/studio/slot1",
                                   {"enabled": True}), 200)
        self.since = iso(time.time() - 7200)

    def activity1(self):
        self.deposit("alice", "100.00")
        self.deposit("bob", "50.00")
        self.deposit("carol", "30.00")
        self.deposit("alice", "7.00", complete=False)  # pending: not a deposit yet
        self.launch = {}
        for who in ("alice", "bob", "carol"):
            r = self.client.call("POST", "/v1/player/games/studio/slot1/launch",
                                 token=self.tok[who], check=False)
            assert r.status == 201, r
            self.launch[who] = r.json()["token"]
        w = self.withdraw("alice", "20.00")
        self.pay(w["id"])
        self.bob_wd = self.withdraw("bob", "5.00")["id"]  # stays pending
        self.bet("alice", "a1", "ra1", "2.00")
        self.win("alice", "a2", "ra1", "a1", "5.50")
        self.bet("alice", "a3", "ra2", "3.00")
        self.rollback("alice", "a4", "ra2", "a3")
        self.bet("alice", "a5", "=HYPERLINK(\"x\")", "1.00")  # a round id a spreadsheet would run
        self.rollback("alice", "a6", "ra9", "never-seen")  # of an unknown bet: moves nothing
        self.bet("bob", "b1", "rb1", "0.50")
        self.win("bob", "b2", "rb1", "b1", "0.00")  # a losing round's close: not a win
        d = self.dice("alice", "1.00")
        self.dice_payout = minor(d["payout"])
        self.bet("carol", "c1", "rc1", "4.00")
        expect(self.admin.call("POST", f"/v1/admin/players/{self.id['bob']}/adjustments",
                               {"balance": "cash", "direction": "credit", "amount": "1.00",
                                "reason": "goodwill", "idempotency_key": self.key("adj")}), 201)

    def dashboard_exact(self):
        snap = self.dashboard(self.admin)
        rows = {(r["brand"], r["currency"]): r for r in snap["rows"]}
        assert set(rows) == {("alpha", "EUR"), ("alpha", "USD"), ("beta", "EUR")}, rows.keys()
        a = rows[("alpha", "EUR")]
        wins = 550 + self.dice_payout
        nwins = 1 + (1 if self.dice_payout > 0 else 0)
        t = a["today"]
        assert t["deposits"] == {"count": 2, "amount": "150.00"}, t
        assert t["withdrawals"] == {"count": 1, "amount": "20.00"}, t
        assert t["bets"] == {"count": 5, "amount": "7.50"}, t
        assert t["wins"] == {"count": nwins, "amount": fmt(wins)}, t
        assert t["rollbacks"] == {"count": 1, "amount": "3.00"}, t
        assert t["ggr"] == fmt(750 - wins - 300), t
        assert t["active_players"] == 2, t
        assert a["last_hour"] == t, (a["last_hour"], t)
        assert a["pending_withdrawals"] == {"count": 1, "amount": "5.00"}, a
        assert sorted(a["active_player_ids_today"]) == sorted([self.id["alice"], self.id["bob"]])
        assert sorted(x["player_id"] for x in a["active_last_hour"]) == \
            sorted([self.id["alice"], self.id["bob"]]), a
        assert a["active_truncated"] is False
        m = a["minutes"]
        assert len(m) == 60 and m == sorted(m, key=lambda x: x["minute"]), m
        assert sum(minor(x["bets"]) for x in m) == 750 and sum(x["bet_count"] for x in m) == 5
        assert sum(minor(x["wins"]) for x in m) == wins
        assert sum(minor(x["ggr"]) for x in m) == 750 - wins - 300
        assert sum(x["win_count"] for x in m) == nwins and sum(x["rollback_count"] for x in m) == 1
        for k, cnt, amt in (("deposits", 2, 15000), ("withdrawals", 1, 2000)):
            assert sum(x[k]["count"] for x in m) == cnt, (k, m)
            assert sum(minor(x[k]["amount"]) for x in m) == amt, (k, m)
        assert m[-1]["minute"] <= snap["as_of"] < m[-1]["minute"][:17] + "60", (m[-1], snap)
        usd = rows[("alpha", "USD")]
        assert usd["today"]["bets"] == {"count": 0, "amount": "0.00"} and \
            usd["active_player_ids_today"] == [], usd
        b = rows[("beta", "EUR")]["today"]
        assert b["bets"] == {"count": 1, "amount": "4.00"} and b["deposits"]["amount"] == "30.00"
        assert snap["last_event_id"] > 0
        # brand scope: alpha's finance member; its last_event_id is alpha's newest event,
        # not the platform's (that would tell it the other brands' volume): a beta
        # registration after alpha's last event leaves it where it was
        self.register("beta", "late-beta@example.com")
        (alpha_last,), = self.env.rows("SELECT max(id) FROM event_outbox WHERE brand = 'alpha'")
        (platform_last,), = self.env.rows("SELECT max(id) FROM event_outbox")
        assert platform_last > alpha_last, (platform_last, alpha_last)
        f = self.dashboard(self.fin)
        assert {r["brand"] for r in f["rows"]} == {"alpha"}, f
        assert f["last_event_id"] == alpha_last, (f["last_event_id"], alpha_last)
        assert self.dashboard(self.admin)["last_event_id"] == platform_last
        fa = [r for r in f["rows"] if r["currency"] == "EUR"][0]
        assert fa["today"] == t, (fa["today"], t)
        assert fa["pending_withdrawals"] == {"count": 1, "amount": "5.00"}, fa
        assert sum(x["deposits"]["count"] for x in fa["minutes"]) == 2, fa["minutes"]
        # game_ops has reports.read but not finance.read: it cannot follow deposit.* and
        # withdrawal.* live, so those figures are null; bets, wins, GGR stay
        g = self.dashboard(self.gops)
        assert {r["brand"] for r in g["rows"]} == {"alpha"}, g
        ga = [r for r in g["rows"] if r["currency"] == "EUR"][0]
        for w in ("today", "last_hour"):
            assert ga[w]["deposits"] is None and ga[w]["withdrawals"] is None, ga[w]
            rest = {k: v for k, v in ga[w].items() if k not in ("deposits", "withdrawals")}
            assert rest == {k: v for k, v in t.items() if k not in ("deposits", "withdrawals")}, \
                (rest, t)
        assert ga["pending_withdrawals"] is None, ga
        assert all(x["deposits"] is None and x["withdrawals"] is None for x in ga["minutes"]), ga
        assert sum(minor(x["bets"]) for x in ga["minutes"]) == 750, ga["minutes"]
        r = expect(self.fin.call("GET", "/v1/admin/dashboard" + qs(since=self.since, brand="beta")),
                   403, "BRAND_FORBIDDEN")
        assert r["error"]["field"] == "brand", r
        expect(self.fin.call("GET", "/v1/admin/dashboard" + qs(since=self.since, brand="nope")),
               403, "BRAND_FORBIDDEN")
        one = self.dashboard(self.admin, brand="beta")
        assert {r["brand"] for r in one["rows"]} == {"beta"}, one
        expect(self.support.call("GET", "/v1/admin/dashboard" + qs(since=self.since)), 403,
               "FORBIDDEN")
        for bad in (None, "yesterday", iso(time.time() - 49 * 3600), iso(time.time() + 600)):
            r = expect(self.fin.call("GET", "/v1/admin/dashboard" + qs(since=bad)), 422,
                       "FIELD_INVALID")
            assert r["error"]["field"] == "since", r

    def events_after(self, after, upto):
        r = self.admin.call("GET", "/v1/admin/events/stream" +
                            qs(last_event_id=after, catch_up_only="true"), check=False)
        assert r.status == 200, r
        out = []
        for block in r.body.decode().split("\n\n"):
            for line in block.split("\n"):
                if line.startswith("data:"):
                    ev = json.loads(line[5:].strip())
                    if "id" in ev and after < ev["id"] <= upto:
                        out.append(ev)
        ids = [e["id"] for e in out]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
        return out

    @staticmethod
    def apply(snap, events):
        """snapshot + events, as the dashboard page does it."""
        rows = {(r["brand"], r["currency"]): r for r in snap["rows"]}
        for ev in events:
            p = ev.get("payload", {})
            if "amount" not in p:
                continue
            r = rows.get((ev["brand"], p["currency"]))
            assert r is not None, ev
            amt = minor(p["amount"])
            typ = ev["type"]
            wins = [r["today"], r["last_hour"]]

            def add(name, sign=1):
                for w in wins:
                    w[name] = {"count": w[name]["count"] + sign,
                               "amount": fmt(minor(w[name]["amount"]) + sign * amt)}

            def pend(sign):
                pw = r["pending_withdrawals"]
                r["pending_withdrawals"] = {"count": pw["count"] + sign,
                                            "amount": fmt(minor(pw["amount"]) + sign * amt)}
            minute = None
            for m in r["minutes"]:
                if m["minute"] == minute_of(ev["created_at"]):
                    minute = m
            def add_minute(name):
                if minute:
                    minute[name] = {"count": minute[name]["count"] + 1,
                                    "amount": fmt(minor(minute[name]["amount"]) + amt)}
            if typ == "deposit.completed":
                add("deposits")
                add_minute("deposits")
            elif typ == "withdrawal.requested":
                pend(1)
            elif typ == "withdrawal.paid":
                add("withdrawals")
                add_minute("withdrawals")
                pend(-1)
            elif typ in ("withdrawal.failed", "withdrawal.rejected", "withdrawal.cancelled"):
                pend(-1)
            elif typ == "bet.placed":
                add("bets")
                if ev["subject"] not in r["active_player_ids_today"]:
                    r["active_player_ids_today"].append(ev["subject"])
                hour = {x["player_id"]: x for x in r["active_last_hour"]}
                hour[ev["subject"]] = {"player_id": ev["subject"], "last_bet_at": ev["created_at"]}
                r["active_last_hour"] = list(hour.values())
                if minute:
                    minute["bets"] = fmt(minor(minute["bets"]) + amt)
                    minute["bet_count"] += 1
            elif typ == "round.settled" and amt > 0:
                add("wins")
                if minute:
                    minute["wins"] = fmt(minor(minute["wins"]) + amt)
                    minute["win_count"] += 1
            elif typ == "bet.rolled_back":
                add("rollbacks")
                if minute:
                    minute["rollbacks"] = fmt(minor(minute["rollbacks"]) + amt)
                    minute["rollback_count"] += 1
        for r in rows.values():
            for w in (r["today"], r["last_hour"]):
                w["ggr"] = fmt(minor(w["bets"]["amount"]) - minor(w["wins"]["amount"]) -
                               minor(w["rollbacks"]["amount"]))
            r["today"]["active_players"] = len(r["active_player_ids_today"])
            r["last_hour"]["active_players"] = len(r["active_last_hour"])
            for m in r["minutes"]:
                m["ggr"] = fmt(minor(m["bets"]) - minor(m["wins"]) - minor(m["rollbacks"]))
        return rows

    def dashboard_live(self):
        s1 = self.dashboard(self.admin)
        # more of everything, with a minute boundary possibly in between
        self.deposit("alice", "10.00")
        self.deposit("carol", "1.00")
        self.pay(self.bob_wd)
        w = self.withdraw("alice", "3.00")
        expect(self.client.call("DELETE", f"/v1/player/withdrawals/{w['id']}",
                                token=self.tok["alice"]), 200)
        self.withdraw("bob", "2.00")
        self.bet("alice", "a7", "ra7", "1.50")
        self.win("alice", "a8", "ra7", "a7", "0.00")
        self.bet("bob", "b3", "rb3", "2.50")
        self.rollback("bob", "b4", "rb3", "b3")
        self.bet("bob", "b5", "rb5", "0.70")
        self.win("bob", "b6", "rb5", "b5", "1.40")
        self.dice("alice", "0.50")
        self.bet("carol", "c2", "rc2", "1.00")
        expect(self.admin.call("POST", f"/v1/admin/players/{self.id['bob']}/adjustments",
                               {"balance": "cash", "direction": "credit", "amount": "1.25",
                                "reason": "goodwill 2", "idempotency_key": self.key("adj")}), 201)
        s2 = self.dashboard(self.admin)
        assert s2["last_event_id"] > s1["last_event_id"]
        events = self.events_after(s1["last_event_id"], s2["last_event_id"])
        types = {e["type"] for e in events}
        assert {"deposit.completed", "withdrawal.paid", "withdrawal.requested",
                "withdrawal.cancelled", "bet.placed", "round.settled",
                "bet.rolled_back"} <= types, types
        for e in events:
            if e["type"] in ("bet.placed", "round.settled", "bet.rolled_back", "deposit.completed") \
                    or e["type"].startswith("withdrawal."):
                assert e["brand"] and e["subject"] and "amount" in e["payload"] and \
                    "currency" in e["payload"], e
        adj = [e for e in events if e["type"] == "balance.adjusted"]
        assert len(adj) == 1, adj
        p = adj[0]["payload"]
        assert (adj[0]["brand"], adj[0]["subject"], p["amount"], p["currency"], p["balance"],
                p["direction"], p["staff_id"]) == ("alpha", self.id["bob"], "1.25", "EUR", "cash",
                                                   "credit", self.admin.id), adj
        rb = [e for e in events if e["type"] == "bet.rolled_back"]
        assert [(e["subject"], e["payload"]["amount"], e["payload"]["bet_tx_id"]) for e in rb] == \
            [(self.id["bob"], "2.50", "b3")], rb
        got = self.apply(s1, events)
        want = {(r["brand"], r["currency"]): r for r in s2["rows"]}
        assert set(got) == set(want)
        for k, r in want.items():
            g = got[k]
            for f in ("today", "last_hour", "pending_withdrawals"):
                assert g[f] == r[f], (k, f, g[f], r[f])
            assert sorted(g["active_player_ids_today"]) == sorted(r["active_player_ids_today"]), k
            assert sorted((x["player_id"], x["last_bet_at"]) for x in g["active_last_hour"]) == \
                sorted((x["player_id"], x["last_bet_at"]) for x in r["active_last_hour"]), k
            old = {m["minute"]: m for m in g["minutes"]}
            for m in r["minutes"]:
                if m["minute"] in old:
                    assert old[m["minute"]] == m, (k, old[m["minute"]], m)
                else:  # a minute that began after snapshot 1: only events made it
                    pass
        self.s2 = s2

    # ---- transactions ----

    def transactions(self):
        full = self.pages(self.fin, 200)
        assert full and all(t["brand"] == "alpha" for t in full), full
        ids = [(t["id"], t["balance"], t["direction"]) for t in full]
        assert len(set(ids)) == len(ids), "a movement listed twice"
        assert [t["time"] for t in full] == sorted((t["time"] for t in full), reverse=True)
        alice = [t for t in full if t["player_id"] == self.id["alice"]]
        assert all(t["player_email"] == "a***@example.com" for t in alice), alice[:2]
        adm = self.pages(self.admin, 200)
        assert {t["brand"] for t in adm} == {"alpha", "beta"}
        assert any(t["player_email"] == "alice@example.com" for t in adm)
        # kinds partition the list, each one exactly its rows
        seen = []
        for k in KINDS:
            rows = self.pages(self.fin, 200, kind=k)
            assert all(t["kind"] == k for t in rows), (k, rows)
            assert rows == [t for t in full if t["kind"] == k], k
            seen += rows
        assert len(seen) == len(full)
        kinds = {t["kind"] for t in full}
        assert {"deposit", "withdrawal_hold", "withdrawal", "withdrawal_release", "bet", "win",
                "rollback", "adjustment"} <= kinds, kinds
        bet = [t for t in full if t["kind"] == "bet" and t["reference"] == "ra1"][0]
        assert (bet["provider"], bet["game"], bet["amount"], bet["direction"], bet["currency"]) \
            == ("studio", "slot1", "2.00", "debit", "EUR"), bet
        # every studio transfer names its game, rounds with bets only (no round row) too
        studio = [t for t in full if t["provider"] == "studio"]
        assert {t["reference"] for t in studio} >= {"ra2", "=HYPERLINK(\"x\")"}, studio
        assert all(t["game"] == "slot1" for t in studio), [t for t in studio if t["game"] != "slot1"]
        dice = [t for t in full if t["kind"] == "bet" and t["provider"] == "pitboss"]
        assert dice and dice[0]["game"] == "dice", dice
        dep = [t for t in full if t["kind"] == "deposit"]
        assert all(t["direction"] == "credit" and t["provider"] is None for t in dep), dep
        rel = [t for t in full if t["kind"] == "withdrawal_release"]
        assert rel and all(t["direction"] == "credit" for t in rel), rel
        # player, brand, currency
        assert self.pages(self.fin, 3, player=self.id["alice"]) == alice
        expect(self.fin.call("GET", "/v1/admin/transactions" + qs(player=self.id["carol"])), 404,
               "PLAYER_NOT_FOUND")
        beta = self.pages(self.admin, 200, brand="beta")
        assert beta == [t for t in adm if t["brand"] == "beta"] and beta, beta
        expect(self.fin.call("GET", "/v1/admin/transactions?brand=beta"), 403, "BRAND_FORBIDDEN")
        assert self.pages(self.fin, 50, currency="USD") == []
        assert self.pages(self.fin, 50, currency="EUR") == full
        # a time window: [from, to) splits the list
        cut = full[len(full) // 2]["time"]
        newer = self.pages(self.fin, 7, **{"from": cut})
        older = self.pages(self.fin, 7, to=cut)
        assert newer + older == full, (len(newer), len(older), len(full))
        assert all(t["time"] >= cut for t in newer) and all(t["time"] < cut for t in older)
        assert self.pages(self.fin, 5, **{"from": cut, "kind": "bet"}) == \
            [t for t in newer if t["kind"] == "bet"]
        for who in ("alice", "bob"):  # the account-chain walk within a window
            pid = self.id[who]
            assert self.pages(self.fin, 2, player=pid, **{"from": cut}) == \
                [t for t in newer if t["player_id"] == pid]
            assert self.pages(self.fin, 2, player=pid, to=cut) == \
                [t for t in older if t["player_id"] == pid]
        # amounts (in the currency)
        rows = self.pages(self.fin, 4, currency="EUR", min_amount="2.00", max_amount="5.50")
        assert rows == [t for t in full if 200 <= minor(t["amount"]) <= 550] and rows, rows
        for q, field in (("?min_amount=1.00", "min_amount"), ("?max_amount=1.00", "max_amount"),
                         ("?currency=EUR&min_amount=1.001", "min_amount"),
                         ("?currency=XXX", "currency"), ("?kind=payout", "kind"),
                         ("?limit=0", "limit"), ("?limit=201", "limit"), ("?cursor=x", "cursor"),
                         ("?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z", "to")):
            r = expect(self.fin.call("GET", "/v1/admin/transactions" + q), 422, "FIELD_INVALID")
            assert r["error"]["field"] == field, (q, r)
        expect(self.support.call("GET", "/v1/admin/transactions"), 403, "FORBIDDEN")
        self.full = full

    def pagination(self):
        full = self.full
        for limit in (1, 2, 3, 7, 50):
            assert self.pages(self.fin, limit) == full, limit
        # a new bet between pages does not shift the walk
        page = expect(self.fin.call("GET", "/v1/admin/transactions?limit=4"), 200)
        long_round = "ra9b-" + "x" * 70  # longer than a transfer's reference (64)
        self.bet("alice", "a9", long_round, "0.30")
        rest = self.pages(self.fin, 5, cursor=page["next_cursor"]) if page["next_cursor"] else []
        got = page["transactions"] + rest
        assert got == full, "a page walk moved under an insert"
        now = self.pages(self.fin, 200)
        assert now[1:] == full and now[0]["reference"] == long_round[:64], now[0]
        assert now[0]["game"] == "slot1", now[0]  # found by the reference's 64 characters
        self.full = now

    def export(self):
        def get(who, **params):
            return who.call("GET", "/v1/admin/transactions/export" + qs(**params))
        r = get(self.fin)
        assert r.status == 200, r
        assert r.headers["content-type"].startswith("text/csv"), r.headers
        day = time.strftime("%Y-%m-%d", time.gmtime())
        assert r.headers["content-disposition"] == \
            f'attachment; filename="transactions-all-{day}.csv"', r.headers
        rows = list(csv.reader(io.StringIO(r.body.decode(), newline="")))
        header = ["id", "time", "brand", "player_id", "player_email", "kind", "direction", "amount",
                  "currency", "balance", "reference", "provider", "game"]
        assert rows[0] == header, rows[0]
        as_json = [[t[h] if t[h] is not None else "" for h in header] for t in self.full]
        for t in as_json:  # the formula guard
            if t[10][:1] in ("=", "+", "-", "@"):
                t[10] = "'" + t[10]
        assert rows[1:] == as_json, (rows[1:3], as_json[:2])
        assert any(x[10] == "'=HYPERLINK(\"x\")" for x in rows[1:]), "formula guard"
        r2 = get(self.fin, brand="alpha", kind="bet", currency="EUR", min_amount="1.00")
        assert r2.status == 200
        assert r2.headers["content-disposition"] == \
            f'attachment; filename="transactions-alpha-{day}.csv"'
        rows2 = list(csv.reader(io.StringIO(r2.body.decode(), newline="")))
        want = self.pages(self.fin, 200, brand="alpha", kind="bet", currency="EUR",
                          min_amount="1.00")
        assert [x[0] for x in rows2[1:]] == [t["id"] for t in want] and want, rows2
        # audited (once the stream has ended): the filters and the row count
        deadline = time.monotonic() + 10
        while True:
            ents = self.env.rows("SELECT actor_id, after, brand FROM audit_entry WHERE "
                                 "action='transactions.exported' ORDER BY seq")
            if len(ents) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(ents) == 2, ents
        a0, a1 = json.loads(ents[0][1]), json.loads(ents[1][1])
        assert ents[0][0] == self.fin.id and a0 == {"filters": {}, "rows": len(self.full),
                                                    "cut": False, "complete": True}, a0
        assert a1 == {"filters": {"brand": "alpha", "kind": "bet", "currency": "EUR",
                                  "min_amount": "1.00"}, "rows": len(want), "cut": False,
                      "complete": True}, a1
        assert ents[1][2] == "alpha"
        # each export is on record before its first row: a started entry with the
        # filters precedes the entry with the rows
        started = self.env.rows("SELECT actor_id, after, brand, seq FROM audit_entry WHERE "
                                "action='transactions.export_started' ORDER BY seq")
        done = self.env.rows("SELECT seq FROM audit_entry WHERE action='transactions.exported' "
                             "ORDER BY seq")
        assert [json.loads(x[1]) for x in started] == [
            {"filters": {}}, {"filters": {"brand": "alpha", "kind": "bet", "currency": "EUR",
                                          "min_amount": "1.00"}}], started
        assert started[0][0] == self.fin.id and started[1][2] == "alpha", started
        assert started[0][3] < done[0][0] and started[1][3] < done[1][0], (started, done)
        # reports.export is needed besides finance.read; refusals are not audited
        expect(get(self.risk), 403, "FORBIDDEN")
        expect(get(self.fin, brand="beta"), 403, "BRAND_FORBIDDEN")
        expect(get(self.fin, min_amount="1.00"), 422, "FIELD_INVALID")
        n = self.env.rows("SELECT count(*) FROM audit_entry WHERE action IN "
                          "('transactions.exported', 'transactions.export_started')")
        assert n[0][0] == 4, n

    def export_streamed(self):
        """An export larger than the stream's buffer and than one chunk of the walk, read
        slowly through a small socket buffer: every row arrives, in order, once."""
        bets = 2300
        self.deposit("bob", "500.00")
        for i in range(bets):
            self.bet("bob", f"s{i}", f"rs{i}", "0.10")
        want = self.pages(self.fin, 200, player=self.id["bob"])
        assert len(want) > bets, len(want)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect((self.env.srv.host, self.env.srv.port))
        path = "/v1/admin/transactions/export" + qs(player=self.id["bob"])
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.fin.token}"
                  f"\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while True:
            b = s.recv(2048)
            if not b:
                break
            raw += b
            if len(raw) < 200000:
                time.sleep(0.002)  # slow at first: the server's buffer fills and drains
        s.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert b" 200 " in head.split(b"\r\n")[0] and b"chunked" in head.lower(), head
        data = b""
        while True:
            line, _, body = body.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            if size == 0:
                break
            data, body = data + body[:size], body[size + 2:]
        rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
        assert [r[0] for r in rows[1:]] == [t["id"] for t in want], (len(rows), len(want))

    def rtp(self):
        games = expect(self.admin.call("GET", "/v1/admin/brands/alpha/originals"), 200)["games"]
        dice = [g for g in games if g["game"] == "dice"][0]
        rounds = self.env.rows("SELECT currency, count(*), sum(amount), sum(payout) FROM game_round "
                               "WHERE brand='alpha' AND game='dice' AND state='settled' "
                               "GROUP BY currency")
        assert len(rounds) == 1, rounds
        cur, n, wag, paid = rounds[0]
        rtp = f"{paid * 10000 // wag // 100}.{paid * 10000 // wag % 100:02d}"
        assert dice["actual"] == [{"currency": cur, "rounds": n, "wagered": fmt(wag),
                                   "paid": fmt(paid), "rtp": rtp}], dice
        limbo = [g for g in games if g["game"] == "limbo"][0]
        assert limbo["actual"] == [], limbo

    def metrics(self):
        """The events' figures on /metrics; the outbox lag drains to 0."""
        deadline = time.monotonic() + 10
        while True:
            r = self.client.call("GET", "/metrics", check=False)
            assert r.status == 200, r
            m = {}
            for line in r.body.decode().splitlines():
                if line.startswith("pitboss_events_"):
                    k, v = line.rsplit(" ", 1)
                    m[k] = int(v)
            assert set(m) == {"pitboss_events_delivered_total", "pitboss_events_stream_clients",
                              "pitboss_events_stream_dropped_total",
                              "pitboss_events_outbox_lag", "pitboss_events_own_syncs_total"}, m
            last = self.env.rows("SELECT max(id) FROM event_outbox")[0][0]
            if m["pitboss_events_outbox_lag"] == 0 and m["pitboss_events_delivered_total"] >= last:
                break
            assert time.monotonic() < deadline, (m, last)
            time.sleep(0.1)
        assert m["pitboss_events_stream_dropped_total"] == 0, m
        assert 0 <= m["pitboss_events_stream_clients"] <= 1, m

    def stop_and_verify(self):
        # an export whose client does not read is running when the server stops: the
        # shutdown ends its stream, the export is audited, the exit is clean and prompt
        n_now = len(self.pages(self.fin, 200))  # (and a fresh token)
        started = "SELECT count(*) FROM audit_entry WHERE action='transactions.export_started'"
        (n_started,), = self.env.rows(started)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((self.env.srv.host, self.env.srv.port))
        s.sendall(f"GET /v1/admin/transactions/export HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {self.fin.token}\r\n\r\n".encode())
        # it must be running when the stop comes, not refused by it: its started entry goes
        # on record before its first row
        deadline = time.monotonic() + 10
        while self.env.rows(started)[0][0] == n_started:
            assert time.monotonic() < deadline, "the export did not start"
            time.sleep(0.05)
        t0 = time.monotonic()
        assert self.env.stop() == 0, "exit status"
        assert time.monotonic() - t0 < DRAIN_S + 10, "the export held the shutdown"
        s.close()
        ents = self.env.rows("SELECT after FROM audit_entry WHERE action='transactions.exported' "
                             "ORDER BY seq")
        last = json.loads(ents[-1][0])
        # audited either way: complete when the kernel's buffers took the whole body
        # before the stop, else incomplete with fewer rows than the list
        assert len(ents) == 4 and last["filters"] == {}, ents
        assert (last["rows"] == n_now) if last["complete"] else (last["rows"] < n_now), last
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        missing = []
        for prefix in ("/v1/admin/dashboard", "/v1/admin/transactions"):
            missing += self.env.spec.unexercised(prefix)
        assert not missing, "\n".join(missing)

    def scan_budget(self):
        """A read budget of 5 transfers per walk (PITBOSS_EXPLORER_SCAN): pages end early
        with a cursor where the walk stopped, yet all pages together are exactly the list
        a server without the budget gives, for every filter; the export too."""
        env = self.env
        filters = ({}, {"kind": "deposit"}, {"brand": "alpha", "kind": "bet", "currency": "EUR"},
                   {"kind": "rollback"}, {"min_amount": "50.00", "currency": "EUR"})

        def export(**params):
            r = self.fin.call("GET", "/v1/admin/transactions/export" + qs(**params))
            assert r.status == 200, r
            return r.body

        def walk(limit, **params):
            rows, cursor, short, n = [], None, 0, 0
            while True:
                page = expect(self.fin.call("GET", "/v1/admin/transactions" +
                                            qs(cursor=cursor, limit=limit, **params)), 200)
                rows += page["transactions"]
                cursor, n = page["next_cursor"], n + 1
                if cursor is None:
                    return rows, short
                short += len(page["transactions"]) < limit
                assert n < 5000

        # the sessions live in the database and the tokens' keys in keys-dir: no new logins
        env.srv = Server(env.binary, extra_args=["--db", env.db, "--keys-dir", env.keys])
        want = [self.pages(self.fin, 200, **f) for f in filters]
        want_csv = [export(**f) for f in filters]
        assert env.stop() == 0
        env.srv = Server(env.binary, extra_args=["--db", env.db, "--keys-dir", env.keys],
                         env={"PITBOSS_EXPLORER_SCAN": "5"})
        shorts = 0
        for f, w, wc in zip(filters, want, want_csv):
            for limit in (3, 200):
                got, short = walk(limit, **f)
                assert got == w, (f, limit, len(got), len(w))
                shorts += short
            assert export(**f) == wc, f
        assert shorts > 0, "the budget never ended a page early"
        assert env.stop() == 0


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_backoffice_money.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: two brands, finance / risk / support of alpha, players, games", run.setup),
        ("activity: deposits (sandbox PSP), withdrawals, provider bets/wins/rollbacks, dice",
         run.activity1),
        ("dashboard: exact figures, minutes, id lists, brand scope, since validation",
         run.dashboard_exact),
        ("dashboard: snapshot 1 + the stream's events after its last_event_id = snapshot 2",
         run.dashboard_live),
        ("transactions: every filter narrows exactly, masking, scope, bad input",
         run.transactions),
        ("transactions: every page size without gaps or repeats, stable under a new bet",
         run.pagination),
        ("export: CSV = the JSON list, formula guard, attachment, reports.export, audited",
         run.export),
        ("export: streamed past the buffer and the walk's chunks to a slow reader",
         run.export_streamed),
        ("originals: actual RTP beside the target", run.rtp),
        ("metrics: events delivered, stream clients, dropped, outbox lag", run.metrics),
        ("stop; ledger verify and audit verify pass; every new route answered 2xx and 4xx",
         run.stop_and_verify),
        ("transactions: a read budget per walk ends pages early with a cursor; all pages and "
         "the export are the same as without it", run.scan_budget),
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
