"""test_provider_native.py — the native seamless wallet protocol over real HTTP,
rule by rule (issue 4 part 3): signatures and timestamps, session and balance,
bets and wins with the funding split returned proportionally, duplicates
answered byte for byte, conflicting reuse of an id, rollback before the bet,
rollback after a win, win on a rolled-back bet, insufficient funds with the
balance, wrong currency, unknown / disabled / jurisdiction-blocked games, bet
limits, expired tokens (refused for bets, accepted for wins and rollbacks), a
blocked player, and bad input refused with the ledger unchanged. Ends with
`pitboss ledger verify` on the database the run wrote.

Usage: test_provider_native.py PATH/TO/pitboss
"""
import hashlib
import hmac
import http.client
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Client, Env, Staff, expect, register_player  # noqa: E402
from harness import Tap  # noqa: E402

SECRET = bytes.fromhex("5a" * 32)
PASSWORD = "Player-pass-77"


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Run:
    def __init__(self, env):
        self.env = env

    # ---- the provider side ----

    def post(self, path, body, secret=SECRET, ts=None, sig=None, raw=None, provider="studio",
             headers=None):
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

    def ledger_rows(self):
        return self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0]

    def fund(self, player, balance, amount):
        expect(self.admin.call("POST", f"/v1/admin/players/{player}/adjustments",
                               {"balance": balance, "direction": "credit", "amount": amount,
                                "reason": "test funds", "idempotency_key": f"f-{player}-{balance}-{amount}-{time.time()}"}),
               201)

    def launch(self, who):
        r = self.client.call("POST", "/v1/player/games/studio/slot1/launch",
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
        for code, extra in (("slot1", {}), ("mtblocked", {"blocked_jurisdictions": ["MT"]}),
                            ("dark", {})):
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
                         ("uma", "USD")):
            email = f"{who}@example.com"
            self.players[who] = register_player(self.client, "alpha", email, currency=cur)
            r = expect(self.client.call("POST", "/v1/player/login",
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
        # a body changed after signing
        ts = str(int(time.time()))
        good = json.dumps(body).encode()
        mac = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + good, hashlib.sha256).hexdigest()
        r = self.post("bet", None, raw=good.replace(b"1.00", b"9.00"), ts=ts, sig=mac)
        assert r.status == 401 and r.json()["error"]["code"] == "SIGNATURE_INVALID", r.body
        r = self.post("bet", body, provider="nobody")
        assert r.status == 404 and r.json()["error"]["code"] == "PROVIDER_NOT_FOUND", r.body
        assert self.ledger_rows() == before

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
        self.win_body = r.body

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
        self.rollback_body = r.body

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
        r = self.rollback("alice", "a-rb2", "a-r2", "a-b2")
        assert r.status == 200 and r.body == self.rollback_body
        assert self.ledger_rows() == before + 1  # only a-b3's one leg
        # the same id with other content
        for r in (self.bet("alice", "a-b3", "a-r3", "2.00"),
                  self.win("alice", "a-w1", "a-r1", "a-b1", "17.00"),
                  self.bet("alice", "a-w1", "a-r9", "1.00")):
            assert r.status == 409 and r.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT", r.body
            assert r.json()["balance"] == self.balance("alice")["balance"], r.body
        assert self.ledger_rows() == before + 1

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
        ]
        for r, status, code in checks:
            assert r.status == status and r.json()["error"]["code"] == code, (code, r.status, r.body)
            assert r.json()["balance"] == "50.00", r.body
        assert self.ledger_rows() == before + 1  # the funding only

    def expired_token(self):
        self.fund(self.players["carl"], "cash", "20.00")
        r = self.bet("carl", "c-b1", "c-r1", "2.00")
        assert r.status == 200, r.body
        r = self.bet("carl", "c-b2", "c-r2", "3.00")
        assert r.status == 200, r.body
        # time passes: the launch expires
        token_hash = hashlib.sha256(self.tokens["carl"].encode()).digest()
        con = sqlite3.connect(self.env.db, timeout=30)
        con.execute("UPDATE launch SET expires_at = 1 WHERE token_hash = ?", (token_hash,))
        con.commit()
        con.close()
        r = self.bet("carl", "c-b3", "c-r3", "1.00")
        assert r.status == 401 and r.json()["error"]["code"] == "TOKEN_EXPIRED", r.body
        assert r.json()["balance"] == "15.00", r.body
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
        expect(self.admin.call("POST", f"/v1/admin/players/{dora}/block", {"reason": "test"}), 200)
        r = self.bet("dora", "d-b2", "d-r2", "1.00")
        assert r.status == 403 and r.json()["error"]["code"] == "PLAYER_BLOCKED", r.body
        r = self.win("dora", "d-w1", "d-r1", "d-b1", "2.50")
        assert r.status == 200 and r.json()["cash"] == "11.50", r.body
        expect(self.admin.call("POST", f"/v1/admin/players/{dora}/unblock", {"reason": "ok"}), 200)

    def round_closed(self):
        r = self.post("round/close", {"token": self.tokens["bob"], "transaction_id": "b-close",
                                      "round_id": "b-rc"})
        assert r.status == 200, r.body
        r = self.bet("bob", "b-7", "b-rc", "1.00")
        assert r.status == 409 and r.json()["error"]["code"] == "ROUND_CLOSED", r.body

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
        ]
        for path, body, status, code in cases:
            r = self.post(path, body)
            assert r.status == status and r.json()["error"]["code"] == code, \
                (path, body, r.status, r.body)
        r = self.post("bet", None, raw=b"{not json")
        assert r.status == 400 and r.json()["error"]["code"] == "INVALID_JSON", r.body
        assert self.ledger_rows() == before

    def stop_and_verify(self):
        assert self.env.stop() == 0
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0, r.stdout + r.stderr


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
        ("rollback before the bet is recorded; the bet then is TRANSACTION_ROLLED_BACK", run.rollback_before_bet),
        ("rollback after a win on the round: ROUND_HAS_WIN, nothing moves", run.rollback_after_win),
        ("win on a rolled-back bet: TRANSACTION_ROLLED_BACK; on an unknown bet: BET_NOT_FOUND", run.win_on_rolled_back_bet),
        ("insufficient funds carries the current balance", run.insufficient_funds),
        ("wrong currency, unknown game, game off for the brand, blocked in its jurisdiction, "
         "bet limits: refused with the balance", run.catalog_refusals),
        ("expired token: bet and balance refused; win, rollback and round close accepted", run.expired_token),
        ("a blocked player cannot bet; their win still pays", run.blocked_player),
        ("a closed round takes no more bets", run.round_closed),
        ("bad input: 4xx with stable codes, the ledger unchanged", run.bad_inputs),
        ("SIGTERM exits 0; `ledger verify` passes", run.stop_and_verify),
    ]
    tap = Tap(len(cases))
    try:
        for i, (name, fn) in enumerate(cases):
            if not tap.case(name, fn) and i == 0:
                for _ in range(tap.plan - 1):
                    tap.ok(False, "skipped: setup failed")
                break
    finally:
        env.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
