#!/usr/bin/python3
"""test_provider_hub88.py PATH/TO/pitboss — the Hub88-compatible operator wallet
over real HTTP (speaks TAP).

A staff admin creates a brand (EUR, JPY), a hub88 provider carrying the public
half of an RSA key generated here, a native provider (whose code is no Hub88
endpoint), games enabled (or not) for the brand; players register, get funds
through staff adjustments and launch the game for a token. Hub88's calls are
then signed here with RSA-SHA256 (base64 in X-Hub88-Signature) and sent to
/v1/providers/{code}/hub88/…, covering the statuses of issue 4 part 4:
RS_OK (user/info, user/balance, bet, win, rollback, in EUR and JPY amounts of
1/100000 units), RS_ERROR_NOT_ENOUGH_MONEY with the balance,
RS_ERROR_DUPLICATE_TRANSACTION (same transaction_uuid, other content: another
currency too) while an identical retry gets the original answer (its
request_uuid replaced), RS_ERROR_TRANSACTION_DOES_NOT_EXIST,
RS_ERROR_TRANSACTION_ROLLED_BACK (a win on
a rolled-back bet; a bet rolled back before it arrived), a rollback after a win
refused, RS_ERROR_INVALID_SIGNATURE (another key, a flipped byte, missing or
malformed header), RS_ERROR_TOKEN_EXPIRED (bet and balance; win and rollback
still accepted), RS_ERROR_WRONG_CURRENCY, RS_ERROR_USER_DISABLED (blocked and
self-excluded), RS_ERROR_INVALID_TOKEN, RS_ERROR_INVALID_GAME, and bad input
(RS_ERROR_WRONG_SYNTAX / RS_ERROR_WRONG_TYPES, inexact amounts). Every refusal
leaves the ledger and the wallet tables as they were (a digest of their rows).
Every answer is validated against docs/openapi.yaml. The run ends with
`pitboss ledger verify` on the database.

Run with Debian's /usr/bin/python3 (python3-yaml, python3-jsonschema,
python3-cryptography).
"""
import base64
import hashlib
import json
import os
import sqlite3
import sys
import time
import traceback
import uuid
from decimal import Decimal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Client, Env, Staff, account_balance, expect,  # noqa: E402
                           live_balances, register_player, unclaimed_records)
from harness import Tap  # noqa: E402

PASSWORD = "Player-pass-77"
MONEY_TABLES = ("ledger_account", "ledger_transfer", "wallet_op", "wallet_bet", "wallet_round")
EUR = 1000      # Hub88 units per euro cent
JPY = 100000    # Hub88 units per yen


def money_digest(db, tables=MONEY_TABLES):
    """A digest of every row of the ledger and wallet tables."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        h = hashlib.sha256()
        for t in tables:
            h.update(repr((t, sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr))).encode())
        return h.hexdigest()
    finally:
        con.close()


def rid():
    return str(uuid.uuid4())


class Hub88:
    """Hub88's side: signs bodies with its private key and calls the operator."""

    def __init__(self, env, code, key, ip):
        self.env = env
        self.base = f"/v1/providers/{code}/hub88/"
        self.key = key
        self.client = Client(env, ip)

    def sign(self, data, key=None):
        sig = (key or self.key).sign(data, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(sig).decode()

    def call(self, path, body, *, key=None, signature=None, raw=None, headers=None):
        """POST base+path; body is encoded compactly (or raw bytes are sent as is)
        and signed unless signature is given ("" = no header)."""
        data = raw if raw is not None else json.dumps(body, separators=(",", ":")).encode()
        h = {"Content-Type": "application/json"}
        sig = self.sign(data, key) if signature is None else signature
        if sig != "":
            h["X-Hub88-Signature"] = sig
        h.update(headers or {})
        return self.client.call("POST", self.base + path, raw=data, headers=h)


def answer(r, status=None):
    """The JSON answer of a Hub88 call (HTTP 200), its status checked."""
    assert r.status == 200, f"HTTP {r.status}: {r.body[:300]!r}"
    a = r.json()
    if status is not None:
        assert a["status"] == status, f"want {status}, got {a}"
    return a


class Run:
    def __init__(self, env):
        self.env = env
        self.players = {}  # name -> {"id", "token", "client", "launch"}
        self.ips = iter(range(20, 200))

    # ---- helpers ----

    def player(self, name, currency="EUR", cash=None, bonus=None):
        client = Client(self.env, f"127.0.2.{next(self.ips)}")
        pid = register_player(client, "malta", f"{name}@example.com", currency=currency,
                              password=PASSWORD)
        t = expect(client.call("POST", "/v1/player/login",
                               {"brand": "malta", "email": f"{name}@example.com",
                                "password": PASSWORD}), 200)
        p = {"id": pid, "token": t["access_token"], "client": client, "currency": currency}
        self.players[name] = p
        for kind, amount in (("cash", cash), ("bonus", bonus)):
            if amount:
                expect(self.admin.call("POST", f"/v1/admin/players/{pid}/adjustments",
                                       {"balance": kind, "direction": "credit", "amount": amount,
                                        "reason": "test funds", "idempotency_key": f"{name}-{kind}"}),
                       201)
        p["launch"] = self.launch(name, "slot-a")
        return p

    def launch(self, name, game, provider="hubby"):
        p = self.players[name]
        return expect(p["client"].call("POST", f"/v1/player/games/{provider}/{game}/launch",
                                       token=p["token"]), 201)["token"]

    def wallet(self, name):
        p = self.players[name]
        return expect(p["client"].call("GET", "/v1/player/wallet", token=p["token"]), 200)

    def tx(self, name, kind, tx_id, round_id, amount=None, ref=None, game="slot-a", currency=None,
           closed=False, token=None, request_uuid=None, **extra):
        """A bet / win / rollback body for a player."""
        p = self.players[name]
        b = {"user": p["id"], "transaction_uuid": tx_id, "supplier_transaction_id": "sup-" + tx_id,
             "token": token or p["launch"], "round": round_id, "round_closed": closed,
             "request_uuid": request_uuid or rid(), "game_code": game}
        if kind != "rollback":
            b.update({"currency": currency or p["currency"], "amount": amount, "bet": "x",
                      "is_free": False, "is_aggregated": False, "reward_uuid": None,
                      "supplier_user": None, "meta": {"selection": "red"}})
        if ref:
            b["reference_transaction_uuid"] = ref
        b.update(extra)
        return b

    def bet(self, name, tx_id, round_id, amount, **kw):
        return self.hub.call("transaction/bet", self.tx(name, "bet", tx_id, round_id, amount, **kw))

    def win(self, name, tx_id, round_id, ref, amount, **kw):
        return self.hub.call("transaction/win",
                             self.tx(name, "win", tx_id, round_id, amount, ref=ref, **kw))

    def rollback(self, name, tx_id, round_id, ref, **kw):
        return self.hub.call("transaction/rollback",
                             self.tx(name, "rollback", tx_id, round_id, ref=ref, **kw))

    def balance(self, name, token=None):
        p = self.players[name]
        return self.hub.call("user/balance", {"user": p["id"], "token": token or p["launch"],
                                              "request_uuid": rid(), "game_code": "slot-a"})

    def unchanged(self, fn, stored=False):
        """Runs fn(); asserts the ledger and wallet tables did not change (stored: a
        refusal the wallet keeps for retries adds its wallet_op row, nothing else)."""
        tables = [t for t in MONEY_TABLES if not (stored and t == "wallet_op")]
        d = money_digest(self.env.db, tables)
        out = fn()
        assert money_digest(self.env.db, tables) == d, "a refused call changed the ledger or the wallet"
        return out

    def replay_same(self, path, body, first):
        """The same request again gets the first answer byte for byte, nothing moves."""
        def again():
            r = self.hub.call(path, body)
            assert r.body == first.body, (first.body, r.body)
        self.unchanged(again)

    def restart_with(self, sql, *args):
        """Stops the server, runs one statement on the database, starts again."""
        assert self.env.stop() == 0
        con = sqlite3.connect(self.env.db, timeout=30)
        try:
            con.execute(sql, args)
            con.commit()
        finally:
            con.close()
        self.env.start()

    # ---- setup ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.0.10").activate("Blue-Falcon-0-Xy")
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "malta", "name": "Malta", "default_currency": "EUR",
                                "currencies": ["EUR", "JPY"], "jurisdiction": "MT"}), 201)
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "hubby", "name": "Hub88", "protocol": "hub88",
                                "public_key_pem": pem}), 201)
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "nativ", "name": "Native", "protocol": "native"}), 201)
        limits = [{"currency": "EUR", "min_bet": "0.10", "max_bet": "50.00"},
                  {"currency": "JPY", "min_bet": "10", "max_bet": "5000"}]
        for game, on in (("slot-a", True), ("slot-b", True), ("slot-off", False),
                         ("live-a", True), ("live-b", True)):
            category = "live" if game.startswith("live") else "slots"
            expect(self.admin.call("POST", "/v1/admin/providers/hubby/games",
                                   {"code": game, "name": game, "category": category,
                                    "rtp_bp": 9600, "volatility": "medium", "limits": limits}), 201)
            expect(self.admin.call("PUT", f"/v1/admin/brands/malta/games/hubby/{game}",
                                   {"enabled": on}), 200)
        self.hub = Hub88(env, "hubby", self.rsa, "127.0.0.30")
        self.player("anna", cash="100.00", bonus="10.00")
        self.player("bob", cash="1.00")
        self.player("carl", cash="20.00")
        self.player("dora", cash="20.00")
        self.player("emil", cash="50.00")
        self.player("fay", cash="3.00", bonus="5.00")
        self.player("jiro", currency="JPY", cash="10000")

    # ---- RS_OK ----

    def user_info(self):
        p = self.players["anna"]
        q = rid()
        a = answer(self.hub.call("user/info", {"user": p["id"], "request_uuid": q}), "RS_OK")
        assert a == {"user": p["id"], "status": "RS_OK", "request_uuid": q, "country": "MT",
                     "sub_partner_id": "malta"}, a
        a = answer(self.hub.call("user/info", {"user": "nobody-at-all", "request_uuid": q}))
        assert a["status"] == "RS_ERROR_UNKNOWN" and a["request_uuid"] == q and "user" not in a, a

    def user_balance(self):
        r = self.balance("anna")
        a = answer(r, "RS_OK")
        # 100.00 cash + 10.00 bonus, in 1/100000 EUR
        assert a["balance"] == 11000 * EUR and a["currency"] == "EUR", a
        assert a["user"] == self.players["anna"]["id"]
        # the JPY player: 10000 yen
        a = answer(self.balance("jiro"), "RS_OK")
        assert a["balance"] == 10000 * JPY and a["currency"] == "JPY", a

    def bet_win_rollback(self):
        a = answer(self.bet("anna", "b-1", "r-1", 500 * EUR), "RS_OK")       # 5.00
        assert a["balance"] == 10500 * EUR, a
        a = answer(self.win("anna", "w-1", "r-1", "b-1", 1250 * EUR, closed=True), "RS_OK")
        assert a["balance"] == 11750 * EUR, a
        a = answer(self.bet("anna", "b-2", "r-2", 200 * EUR), "RS_OK")
        assert a["balance"] == 11550 * EUR, a
        a = answer(self.rollback("anna", "rb-2", "r-2", "b-2"), "RS_OK")
        assert a["balance"] == 11750 * EUR, a
        w = self.wallet("anna")
        assert w["cash"] == "107.50" and w["bonus"] == "10.00", w
        # JPY: 150 yen staked, 300 won
        a = answer(self.bet("jiro", "jb-1", "jr-1", 150 * JPY), "RS_OK")
        assert a["balance"] == 9850 * JPY, a
        a = answer(self.win("jiro", "jw-1", "jr-1", "jb-1", 300 * JPY), "RS_OK")
        assert a["balance"] == 10150 * JPY, a
        assert self.wallet("jiro")["cash"] == "10150"

    def funding_split(self):
        """A bet larger than the cash draws on the bonus (cash first); the win pays back
        in the bet's proportions, a rollback gives both parts back."""
        a = answer(self.bet("fay", "fb-1", "fr-1", 600 * EUR), "RS_OK")        # 6.00 of 3.00 + 5.00
        assert a["balance"] == 200 * EUR, a
        w = self.wallet("fay")
        assert (w["cash"], w["bonus"]) == ("0.00", "2.00"), w
        # a win of 12.00 on a bet staked 3.00 cash + 3.00 bonus: 6.00 + 6.00
        answer(self.win("fay", "fw-1", "fr-1", "fb-1", 1200 * EUR), "RS_OK")
        w = self.wallet("fay")
        assert (w["cash"], w["bonus"]) == ("6.00", "8.00"), w
        answer(self.bet("fay", "fb-2", "fr-2", 1000 * EUR), "RS_OK")         # 6.00 cash + 4.00 bonus
        w = self.wallet("fay")
        assert (w["cash"], w["bonus"]) == ("0.00", "4.00"), w
        answer(self.rollback("fay", "frb-2", "fr-2", "fb-2"), "RS_OK")
        w = self.wallet("fay")
        assert (w["cash"], w["bonus"]) == ("6.00", "8.00"), w

    # ---- idempotency ----

    def duplicates(self):
        body = self.tx("emil", "bet", "b-dup", "r-dup", 300 * EUR)
        first = self.hub.call("transaction/bet", body)
        a1 = answer(first, "RS_OK")
        assert a1["balance"] == 4700 * EUR, a1

        def retries():
            # the same request again: the original answer, byte for byte
            again = self.hub.call("transaction/bet", body)
            assert again.body == first.body, (first.body, again.body)
            # a retry with a new request_uuid: the original answer with the retry's request_uuid
            body2 = dict(body, request_uuid=rid())
            r2 = self.hub.call("transaction/bet", body2)
            assert r2.body == first.body.replace(body["request_uuid"].encode(),
                                                 body2["request_uuid"].encode()), r2.body
        self.unchanged(retries)
        wbody = self.tx("emil", "win", "w-dup", "r-dup", 100 * EUR, ref="b-dup")
        w1 = self.hub.call("transaction/win", wbody)
        answer(w1, "RS_OK")
        self.replay_same("transaction/win", wbody, w1)
        rbody = self.tx("emil", "rollback", "rb-none", "r-none", ref="b-never")
        r1 = self.hub.call("transaction/rollback", rbody)
        answer(r1, "RS_OK")
        self.replay_same("transaction/rollback", rbody, r1)

        # the same transaction_uuid with other content
        def conflicts():
            for changed in (dict(body, amount=400 * EUR), dict(body, round="r-other"),
                            dict(body, game_code="slot-b")):
                changed["request_uuid"] = rid()
                a = answer(self.hub.call("transaction/bet", changed),
                           "RS_ERROR_DUPLICATE_TRANSACTION")
                assert a["request_uuid"] == changed["request_uuid"] and a["balance"] == 4800 * EUR, a
            answer(self.win("emil", "w-dup", "r-dup", "b-dup", 999 * EUR),
                   "RS_ERROR_DUPLICATE_TRANSACTION")
            # the currency is part of the request: the win again in USD (the same amount
            # in cents) or in JPY (the same number of minor units, 100 yen) is another
            # request, not the stored answer (the launch is in EUR)
            for cur, amount in (("USD", 100 * EUR), ("JPY", 100 * JPY)):
                changed = dict(wbody, currency=cur, amount=amount, request_uuid=rid())
                a = answer(self.hub.call("transaction/win", changed),
                           "RS_ERROR_DUPLICATE_TRANSACTION")
                assert a["balance"] == 4800 * EUR and a["currency"] == "EUR", a
            # and the bet again in USD
            a = answer(self.hub.call("transaction/bet", dict(body, currency="USD", request_uuid=rid())),
                       "RS_ERROR_DUPLICATE_TRANSACTION")
            assert a["balance"] == 4800 * EUR, a
        self.unchanged(conflicts)
        # the identical request (in the launch's currency) still gets the stored answer
        self.replay_same("transaction/win", wbody, w1)

    # ---- refusals with their status ----

    def not_enough_money(self):
        a = self.unchanged(lambda: answer(self.bet("bob", "b-poor", "r-poor", 500 * EUR),
                                          "RS_ERROR_NOT_ENOUGH_MONEY"), stored=True)
        assert a["balance"] == 100 * EUR and a["currency"] == "EUR", a  # 1.00 EUR
        assert a["user"] == self.players["bob"]["id"]
        # its retry is the same answer (a decided refusal is stored)
        a2 = answer(self.bet("bob", "b-poor", "r-poor", 500 * EUR), "RS_ERROR_NOT_ENOUGH_MONEY")
        assert a2["balance"] == a["balance"]

    def transaction_does_not_exist(self):
        a = self.unchanged(lambda: answer(self.win("carl", "w-ghost", "r-ghost", "b-ghost", 100 * EUR),
                                          "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"))
        assert a["balance"] == 2000 * EUR, a

    def rolled_back(self):
        answer(self.bet("carl", "b-rb", "r-rb", 100 * EUR), "RS_OK")
        answer(self.rollback("carl", "rb-rb", "r-rb", "b-rb"), "RS_OK")
        # a win on a rolled-back bet
        self.unchanged(lambda: answer(self.win("carl", "w-rb", "r-rb", "b-rb", 500 * EUR),
                                      "RS_ERROR_TRANSACTION_ROLLED_BACK"), stored=True)
        # a rollback before its bet: recorded (RS_OK), the bet arriving later is refused
        a = answer(self.rollback("carl", "rb-early", "r-early", "b-early"), "RS_OK")
        assert a["balance"] == 2000 * EUR, a
        a = self.unchanged(lambda: answer(self.bet("carl", "b-early", "r-early", 100 * EUR),
                                          "RS_ERROR_TRANSACTION_ROLLED_BACK"), stored=True)
        assert a["balance"] == 2000 * EUR, a
        # a rollback after a win on the round is refused, the money stays
        answer(self.bet("carl", "b-won", "r-won", 100 * EUR), "RS_OK")
        answer(self.win("carl", "w-won", "r-won", "b-won", 300 * EUR), "RS_OK")
        self.unchanged(lambda: answer(self.rollback("carl", "rb-won", "r-won", "b-won"),
                                      "RS_ERROR_UNKNOWN"), stored=True)
        assert self.wallet("carl")["cash"] == "22.00"

    def invalid_signature(self):
        p = self.players["carl"]
        body = self.tx("carl", "bet", "b-sig", "r-sig", 100 * EUR)
        data = json.dumps(body, separators=(",", ":")).encode()

        good = self.hub.sign(data)

        def attempts():
            flipped = bytearray(data)
            flipped[data.index(b'"r-sig"') + 3] ^= 0x01   # "r-sig" → "r-rig": another round
            for kw in ({"key": self.other},                          # another key
                       {"signature": ""},                            # no header
                       {"signature": "not base64!"},
                       {"signature": good[:-4]},                     # truncated
                       {"signature": good[:10] + " " + good[10:]},
                       {"raw": bytes(flipped), "signature": good},   # a flipped body byte
                       {"raw": data + b" ", "signature": good}):     # one more byte
                a = answer(self.hub.call("transaction/bet", body, **kw), "RS_ERROR_INVALID_SIGNATURE")
                assert a.get("request_uuid") == body["request_uuid"] and "balance" not in a, a
            a = answer(self.hub.call("user/info", {"user": p["id"], "request_uuid": "q-1"},
                                     key=self.other), "RS_ERROR_INVALID_SIGNATURE")
            assert a == {"status": "RS_ERROR_INVALID_SIGNATURE", "request_uuid": "q-1"}, a
        self.unchanged(attempts)
        # the same body, rightly signed, goes through
        answer(self.hub.call("transaction/bet", body, raw=data, signature=good), "RS_OK")

    def token_expired(self):
        first = answer(self.bet("dora", "b-exp", "r-exp", 100 * EUR), "RS_OK")
        answer(self.bet("dora", "b-exp2", "r-exp2", 100 * EUR), "RS_OK")
        token = self.players["dora"]["launch"]
        self.restart_with("UPDATE launch SET expires_at = 1 WHERE token_hash = ?",
                          hashlib.sha256(token.encode()).digest())
        self.unchanged(lambda: answer(self.bet("dora", "b-late", "r-late", 100 * EUR),
                                      "RS_ERROR_TOKEN_EXPIRED"), stored=True)
        answer(self.balance("dora"), "RS_ERROR_TOKEN_EXPIRED")
        # a retry of a bet accepted before the expiry still gets its original answer
        again = self.unchanged(lambda: answer(self.bet("dora", "b-exp", "r-exp", 100 * EUR),
                                              "RS_OK"))
        assert again["balance"] == first["balance"], (first, again)
        # wins and rollbacks come after the play: accepted with the expired token
        a = answer(self.win("dora", "w-exp", "r-exp", "b-exp", 400 * EUR), "RS_OK")
        assert a["balance"] == 2200 * EUR, a
        a = answer(self.rollback("dora", "rb-exp2", "r-exp2", "b-exp2"), "RS_OK")
        assert a["balance"] == 2300 * EUR, a

    def revoked_launch(self):
        """A launch staff revoked is expired at once: bet and balance
        RS_ERROR_TOKEN_EXPIRED, nothing moves; the win of an earlier bet pays."""
        self.player("rita", cash="50.00")
        before = answer(self.bet("rita", "rv-b1", "rv-r1", 100 * EUR), "RS_OK")
        answer(self.balance("rita"), "RS_OK")  # the launch now in the server's cache
        r = self.admin.call("POST", f"/v1/admin/players/{self.players['rita']['id']}"
                                    "/launches/revoke", {"reason": "test"})
        assert expect(r, 200)["revoked"] == 1, r
        self.unchanged(lambda: answer(self.bet("rita", "rv-b2", "rv-r2", 100 * EUR),
                                      "RS_ERROR_TOKEN_EXPIRED"), stored=True)
        answer(self.balance("rita"), "RS_ERROR_TOKEN_EXPIRED")
        a = answer(self.win("rita", "rv-w1", "rv-r1", "rv-b1", 300 * EUR), "RS_OK")
        assert a["balance"] == before["balance"] + 300 * EUR, (before, a)

    def provider_disabled(self):
        """The provider switched off in the catalog: user/info, user/balance and new
        bets RS_ERROR_INVALID_PARTNER (the same gate as the native adapter's
        PROVIDER_DISABLED); the refused bet is stored, so its replay after the switch
        back on is refused as first; the retry of a bet accepted before gets its
        answer; wins and rollbacks of bets already placed still settle."""
        gil = self.player("gil", cash="20.00")
        accepted = self.tx("gil", "bet", "gd-b0", "gd-r0", 100 * EUR)
        first_ok = self.hub.call("transaction/bet", accepted)
        answer(first_ok, "RS_OK")
        answer(self.bet("gil", "gd-b1", "gd-r1", 100 * EUR), "RS_OK")
        answer(self.bet("gil", "gd-b2", "gd-r2", 100 * EUR), "RS_OK")
        # the provider was read (and cached) by the bets just made: switched off at once
        expect(self.admin.call("PATCH", "/v1/admin/providers/hubby", {"status": "disabled"}), 200)
        try:
            body = self.tx("gil", "bet", "gd-b3", "gd-r3", 100 * EUR)
            refused = self.unchanged(lambda: self.hub.call("transaction/bet", body), stored=True)
            a = answer(refused, "RS_ERROR_INVALID_PARTNER")
            assert a["user"] == gil["id"] and a["request_uuid"] == body["request_uuid"], a

            def reads():
                answer(self.balance("gil"), "RS_ERROR_INVALID_PARTNER")
                answer(self.hub.call("user/info", {"user": gil["id"], "request_uuid": rid()}),
                       "RS_ERROR_INVALID_PARTNER")
                # the retry of the bet accepted before: its answer (its request_uuid)
                again = dict(accepted, request_uuid=rid())
                r = self.hub.call("transaction/bet", again)
                assert r.body == first_ok.body.replace(accepted["request_uuid"].encode(),
                                                       again["request_uuid"].encode()), r.body
            self.unchanged(reads)
            # money owed on bets already placed still settles
            before = self.wallet("gil")["cash"]
            answer(self.win("gil", "gd-w1", "gd-r1", "gd-b1", 300 * EUR), "RS_OK")
            answer(self.rollback("gil", "gd-rb2", "gd-r2", "gd-b2"), "RS_OK")
            assert Decimal(self.wallet("gil")["cash"]) == Decimal(before) + Decimal("4.00")
        finally:
            expect(self.admin.call("PATCH", "/v1/admin/providers/hubby", {"status": "active"}), 200)
        # switched back on: the refused bet replayed is refused as first; a new one is taken
        self.replay_same("transaction/bet", body, refused)
        answer(self.bet("gil", "gd-b4", "gd-r4", 100 * EUR), "RS_OK")

    def game_mismatch(self):
        """A token is launched for one game: a bet naming another (playable on the brand)
        is RS_ERROR_INVALID_GAME, stored like the other refusals (its replay gets the same
        bytes), nothing moves. A live lobby is the exception Hub88 documents: on a launch
        of a live game, a bet at another live table of the provider is taken."""
        hal = self.player("hal", cash="20.00")  # launched slot-a
        body = self.tx("hal", "bet", "gm-b1", "gm-r1", 100 * EUR, game="slot-b")
        first = self.unchanged(lambda: self.hub.call("transaction/bet", body), stored=True)
        a = answer(first, "RS_ERROR_INVALID_GAME")
        assert a["user"] == hal["id"] and a["request_uuid"] == body["request_uuid"], a
        self.replay_same("transaction/bet", body, first)
        answer(self.bet("hal", "gm-b2", "gm-r2", 100 * EUR), "RS_OK")
        # the live lobby: launched at live-a, the player moves to the live-b table
        lobby = self.launch("hal", "live-a")
        answer(self.bet("hal", "gm-b3", "gm-r3", 100 * EUR, game="live-b", token=lobby), "RS_OK")
        answer(self.win("hal", "gm-w3", "gm-r3", "gm-b3", 200 * EUR, game="live-b", token=lobby),
               "RS_OK")
        # ... but not to a slot on that token, nor from a slot's token to a live table
        self.unchanged(lambda: answer(self.bet("hal", "gm-b4", "gm-r4", 100 * EUR, game="slot-a",
                                               token=lobby), "RS_ERROR_INVALID_GAME"), stored=True)
        self.unchanged(lambda: answer(self.bet("hal", "gm-b5", "gm-r5", 100 * EUR, game="live-b"),
                                      "RS_ERROR_INVALID_GAME"), stored=True)
        assert self.wallet("hal")["cash"] == "20.00"

    def win_game_mismatch(self):
        """A win names its game (game_code): a win of a bet on another game than the
        one it names is RS_ERROR_INVALID_GAME (as a bet naming another game than its
        launch's), stored like the other refusals (its replay gets the same bytes),
        nothing moves. Strict at a live lobby too: the bet's game_code names the table
        it was placed at, and nothing documents a win naming another one."""
        ivo = self.player("ivo", cash="20.00")  # launched slot-a
        answer(self.bet("ivo", "wg-b1", "wg-r1", 100 * EUR), "RS_OK")  # on slot-a
        body = self.tx("ivo", "win", "wg-w1", "wg-r1", 500 * EUR, ref="wg-b1", game="slot-b")
        first = self.unchanged(lambda: self.hub.call("transaction/win", body), stored=True)
        a = answer(first, "RS_ERROR_INVALID_GAME")
        assert a["user"] == ivo["id"] and a["request_uuid"] == body["request_uuid"], a
        self.replay_same("transaction/win", body, first)
        assert self.wallet("ivo")["cash"] == "19.00"
        # the live lobby: a bet at live-b on a live-a launch, its win naming live-a
        lobby = self.launch("ivo", "live-a")
        answer(self.bet("ivo", "wg-b2", "wg-r2", 100 * EUR, game="live-b", token=lobby), "RS_OK")
        self.unchanged(lambda: answer(self.win("ivo", "wg-w2", "wg-r2", "wg-b2", 500 * EUR,
                                               game="live-a", token=lobby),
                                      "RS_ERROR_INVALID_GAME"), stored=True)
        assert self.wallet("ivo")["cash"] == "18.00"
        # the wins naming their bets' games pay
        answer(self.win("ivo", "wg-w3", "wg-r1", "wg-b1", 500 * EUR), "RS_OK")
        answer(self.win("ivo", "wg-w4", "wg-r2", "wg-b2", 500 * EUR, game="live-b", token=lobby),
               "RS_OK")
        assert self.wallet("ivo")["cash"] == "28.00"

    def wrong_currency(self):
        def tries():
            a = answer(self.bet("carl", "b-usd", "r-usd", 100 * EUR, currency="USD"),
                       "RS_ERROR_WRONG_CURRENCY")
            assert a["user"] == self.players["carl"]["id"], a
            answer(self.bet("carl", "b-jpy", "r-jpy", 100 * JPY, currency="JPY"),
                   "RS_ERROR_WRONG_CURRENCY")
            answer(self.bet("carl", "b-xxx", "r-xxx", 100 * EUR, currency="XXX"),
                   "RS_ERROR_WRONG_CURRENCY")
            answer(self.win("carl", "w-usd", "r-won", "b-won", 100 * EUR, currency="USD"),
                   "RS_ERROR_WRONG_CURRENCY")
        self.unchanged(tries, stored=True)

    def user_disabled(self):
        answer(self.bet("emil", "b-open", "r-open", 100 * EUR), "RS_OK")
        emil = self.players["emil"]["id"]
        expect(self.admin.call("POST", f"/v1/admin/players/{emil}/block", {"reason": "test"}), 200)
        body = self.tx("emil", "bet", "b-blocked", "r-blocked", 100 * EUR)
        first = self.unchanged(lambda: self.hub.call("transaction/bet", body), stored=True)
        assert answer(first, "RS_ERROR_USER_DISABLED")["user"] == emil, first.body
        # a blocked player's open round is still settled
        answer(self.win("emil", "w-open", "r-open", "b-open", 200 * EUR), "RS_OK")
        # unblocked: the refused bet replayed (its signature has no time in it) is
        # answered as it was first, and still moves nothing
        expect(self.admin.call("POST", f"/v1/admin/players/{emil}/unblock", {"reason": "ok"}), 200)
        self.replay_same("transaction/bet", body, first)
        answer(self.bet("emil", "b-after", "r-after", 100 * EUR), "RS_OK")
        # self-excluded
        self.restart_with("UPDATE player SET status = 'self_excluded' WHERE public_id = ?",
                          self.players["jiro"]["id"])
        self.unchanged(lambda: answer(self.bet("jiro", "jb-se", "jr-se", 100 * JPY),
                                      "RS_ERROR_USER_DISABLED"), stored=True)

    def invalid_token_and_game(self):
        carl, anna = self.players["carl"], self.players["anna"]

        def tries():
            a = answer(self.bet("carl", "b-tok", "r-tok", 100 * EUR, token="x" * 43),
                       "RS_ERROR_INVALID_TOKEN")
            assert "user" not in a, a
            # anna's token with carl as the user
            answer(self.bet("carl", "b-tok2", "r-tok2", 100 * EUR, token=anna["launch"]),
                   "RS_ERROR_INVALID_TOKEN")
            answer(self.hub.call("user/balance", {"user": carl["id"], "token": "nope",
                                                  "request_uuid": rid()}), "RS_ERROR_INVALID_TOKEN")
            answer(self.bet("carl", "b-game", "r-game", 100 * EUR, game="no-such-game"),
                   "RS_ERROR_INVALID_GAME")
            answer(self.bet("carl", "b-off", "r-off", 100 * EUR, game="slot-off"),
                   "RS_ERROR_INVALID_GAME")
            answer(self.win("carl", "w-game", "r-won", "b-won", 100 * EUR, game="no-such-game"),
                   "RS_ERROR_INVALID_GAME")
            # free bets are not supported
            answer(self.bet("carl", "b-free", "r-free", 100 * EUR, is_free=True), "RS_ERROR_UNKNOWN")
        self.unchanged(tries, stored=True)
        # the game switched on since: the replay of its refused bet is refused as first
        body = self.tx("carl", "bet", "b-off2", "r-off2", 100 * EUR, game="slot-off")
        first = self.unchanged(lambda: self.hub.call("transaction/bet", body), stored=True)
        answer(first, "RS_ERROR_INVALID_GAME")
        expect(self.admin.call("PUT", "/v1/admin/brands/malta/games/hubby/slot-off",
                               {"enabled": True}), 200)  # in force at once
        try:
            self.replay_same("transaction/bet", body, first)
        finally:
            expect(self.admin.call("PUT", "/v1/admin/brands/malta/games/hubby/slot-off",
                                   {"enabled": False}), 200)
        # above the game's maximum (50.00): a decided refusal, kept for retries
        first = self.unchanged(lambda: answer(self.bet("carl", "b-max", "r-max", 5001 * EUR),
                                              "RS_ERROR_LIMIT_REACHED"), stored=True)
        again = self.unchanged(lambda: answer(self.bet("carl", "b-max", "r-max", 5001 * EUR),
                                              "RS_ERROR_LIMIT_REACHED"))
        assert {k: v for k, v in again.items() if k != "request_uuid"} == \
            {k: v for k, v in first.items() if k != "request_uuid"}, (first, again)

    def late_settlement_after_prune(self):
        """Launches are pruned 30 days after they expire: the win and rollback of a
        bet the wallet knows still settle then, for the bet's user; a win of an
        unknown bet, or a known one named for another user, is
        RS_ERROR_INVALID_TOKEN."""
        pia = self.player("pia", cash="50.00")
        b1 = answer(self.bet("pia", "p-b1", "p-r1", 200 * EUR), "RS_OK")
        answer(self.bet("pia", "p-b2", "p-r2", 300 * EUR), "RS_OK")
        # a bet refused (above the game's limit; the refusal is stored): its rollback
        # must complete after the prune too, moving nothing
        answer(self.bet("pia", "p-b3", "p-r3", 5001 * EUR), "RS_ERROR_LIMIT_REACHED")
        first = self.hub.call("transaction/win",
                              self.tx("pia", "win", "p-w0", "p-r1", 0, ref="p-b1"))
        answer(first, "RS_OK")
        token_hash = hashlib.sha256(pia["launch"].encode()).digest()
        self.restart_with("UPDATE launch SET expires_at = ? WHERE token_hash = ?",
                          int((time.time() - 31 * 86400) * 1e6), token_hash)
        self.launch("carl", "slot-b")  # the next launch prunes it
        con = sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30)
        try:
            left = con.execute("SELECT count(*) FROM launch WHERE token_hash = ?",
                               (token_hash,)).fetchone()[0]
        finally:
            con.close()
        assert left == 0, "the launch was not pruned"
        a = answer(self.win("pia", "p-w1", "p-r1", "p-b1", 500 * EUR), "RS_OK")
        # (after p-b1: 48.00; p-b2 takes 3.00, the win gives 5.00, the rollback 3.00)
        assert a["user"] == pia["id"] and a["balance"] == b1["balance"] + 200 * EUR, (b1, a)
        a = answer(self.rollback("pia", "p-rb2", "p-r2", "p-b2"), "RS_OK")
        assert a["balance"] == b1["balance"] + 500 * EUR, a
        a = answer(self.rollback("pia", "p-rb3", "p-r3", "p-b3"), "RS_OK")
        assert a["balance"] == b1["balance"] + 500 * EUR, a
        # the win settled before the prune, retried: its original answer
        body = self.tx("pia", "win", "p-w0", "p-r1", 0, ref="p-b1")
        again = self.hub.call("transaction/win", body)
        assert json.loads(again.body) == dict(json.loads(first.body),
                                              request_uuid=body["request_uuid"]), again.body

        def refused():
            answer(self.win("pia", "p-w9", "p-r9", "p-b9", 100 * EUR), "RS_ERROR_INVALID_TOKEN")
            answer(self.rollback("pia", "p-rb9", "p-r9", "p-b9"), "RS_ERROR_INVALID_TOKEN")
            answer(self.bet("pia", "p-b9", "p-r9", 100 * EUR), "RS_ERROR_INVALID_TOKEN")
            # pia's bet, her pruned token, carl named as the user
            answer(self.win("pia", "p-w8", "p-r1", "p-b1", 100 * EUR, user=self.players["carl"]["id"]),
                   "RS_ERROR_INVALID_TOKEN")
        self.unchanged(refused)

    def token_after_prune(self):
        """Once a launch is pruned, a win or rollback of its bet must carry the token
        the bet was placed with (or the one its own first attempt came with), as while
        the launch is there it must carry a token of the bet's user (expired or not).
        Another user's token, pruned too, gets what it gets while its launch is there,
        RS_ERROR_INVALID_TOKEN, and so does a token never issued; nothing moves. The
        bet's own token pays."""
        olga = self.player("olga", cash="10.00")
        paul = self.player("paul", cash="1.00")
        for tx, rnd in (("o-b1", "o-r1"), ("o-b2", "o-r2")):
            answer(self.bet("olga", tx, rnd, 100 * EUR), "RS_OK")

        def foreign(tok):
            a = answer(self.win("olga", "o-w1", "o-r1", "o-b1", 400 * EUR, token=tok),
                       "RS_ERROR_INVALID_TOKEN")
            assert "balance" not in a, a
            answer(self.rollback("olga", "o-rb2", "o-r2", "o-b2", token=tok),
                   "RS_ERROR_INVALID_TOKEN")
        # while the launches are there: paul's token on olga's bets
        self.unchanged(lambda: foreign(paul["launch"]))
        hashes = [hashlib.sha256(p["launch"].encode()).digest() for p in (olga, paul)]
        self.restart_with("UPDATE launch SET expires_at = ? WHERE token_hash IN (?, ?)",
                          int((time.time() - 31 * 86400) * 1e6), *hashes)
        self.launch("carl", "slot-b")  # the next launch prunes them
        con = sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30)
        try:
            left = con.execute("SELECT count(*) FROM launch WHERE token_hash IN (?, ?)",
                               hashes).fetchone()[0]
        finally:
            con.close()
        assert left == 0, "the launches were not pruned"
        # pruned: paul's token, a token never issued, the same refusal; nothing moves
        self.unchanged(lambda: (foreign(paul["launch"]),
                                foreign("Jx2Vq0mXc3lT9aKpR7bN4sWfY8uHdE1gZ6oLiC5tA0Q")))
        # the bet's own token pays
        a = answer(self.win("olga", "o-w1", "o-r1", "o-b1", 400 * EUR), "RS_OK")
        assert a["user"] == olga["id"] and a["balance"] == 1200 * EUR, a
        a = answer(self.rollback("olga", "o-rb2", "o-r2", "o-b2"), "RS_OK")
        assert a["balance"] == 1300 * EUR, a
        # the win's retry with paul's token: refused, not its stored answer
        self.unchanged(lambda: answer(self.win("olga", "o-w1", "o-r1", "o-b1", 400 * EUR,
                                               token=paul["launch"]), "RS_ERROR_INVALID_TOKEN"))

    def bad_input(self):
        carl = self.players["carl"]
        good = self.tx("carl", "bet", "b-bad", "r-bad", 100 * EUR)

        def without(k):
            return {x: v for x, v in good.items() if x != k}

        cases = [
            ("transaction/bet", None, b"{", "RS_ERROR_WRONG_SYNTAX"),
            ("transaction/bet", None, b"[1,2]", "RS_ERROR_WRONG_SYNTAX"),
            ("transaction/bet", without("amount"), None, "RS_ERROR_WRONG_SYNTAX"),
            ("transaction/bet", without("transaction_uuid"), None, "RS_ERROR_WRONG_SYNTAX"),
            ("transaction/bet", dict(good, surprise=1), None, "RS_ERROR_WRONG_SYNTAX"),
            ("transaction/bet", dict(good, amount="100000"), None, "RS_ERROR_WRONG_TYPES"),
            ("transaction/bet", dict(good, amount=1000.5), None, "RS_ERROR_WRONG_TYPES"),
            ("transaction/bet", dict(good, amount=10**20), None, "RS_ERROR_WRONG_TYPES"),
            ("transaction/bet", dict(good, amount=1), None, "RS_ERROR_WRONG_TYPES"),        # 0.00001 EUR
            ("transaction/bet", dict(good, amount=100500), None, "RS_ERROR_WRONG_TYPES"),   # 1.005 EUR
            ("transaction/bet", dict(good, amount=0), None, "RS_ERROR_WRONG_TYPES"),
            ("transaction/bet", dict(good, amount=-100000), None, "RS_ERROR_WRONG_TYPES"),
            ("transaction/bet", dict(good, round_closed="no"), None, "RS_ERROR_WRONG_TYPES"),
            ("transaction/bet", dict(good, transaction_uuid="has space"), None, "RS_ERROR_WRONG_TYPES"),
            ("transaction/bet", dict(good, request_uuid='a"b'), None, "RS_ERROR_WRONG_TYPES"),
            ("transaction/win", dict(good, amount=1000), None, "RS_ERROR_WRONG_SYNTAX"),  # no reference
            ("transaction/rollback", dict(good, reference_transaction_uuid="b-1"), None,
             "RS_ERROR_WRONG_SYNTAX"),  # currency / amount are not rollback fields
            ("user/info", {"user": carl["id"]}, None, "RS_ERROR_WRONG_SYNTAX"),
            ("user/balance", {"user": carl["id"], "request_uuid": "q", "token": 7}, None,
             "RS_ERROR_WRONG_TYPES"),
        ]

        def run_all():
            for path, body, raw, status in cases:
                data = raw if raw is not None else json.dumps(body).encode()
                r = self.hub.call(path, body, raw=data)
                a = answer(r)
                assert a["status"] == status, f"{path} {data[:120]!r}: want {status}, got {a}"
                if body and isinstance(body.get("request_uuid"), str) and '"' not in body["request_uuid"]:
                    assert a.get("request_uuid") == body["request_uuid"], a
            # wrong media type
            data = json.dumps(good).encode()
            r = self.hub.call("transaction/bet", good, raw=data, headers={"Content-Type": "text/plain"})
            assert answer(r)["status"] == "RS_ERROR_WRONG_SYNTAX"
        self.unchanged(run_all)

    def not_a_hub88_provider(self):
        def tries():
            # a code longer than any provider's (32) is not looked up: the same 404 (it
            # once released a key pointer never set, reachable without a signature)
            for code in ("nativ", "nobody", "x" * 40):
                hub = Hub88(self.env, code, self.rsa, "127.0.0.31")
                r = hub.call("user/info", {"user": "x", "request_uuid": rid()})
                expect(r, 404, "PROVIDER_NOT_FOUND")
        self.unchanged(tries)

    def erased_late_win(self):
        """A player erased while a round of hers was open (a bet of all her cash and bonus, a
        win of 0 with round_closed false: erasing is refused PLAYER_HAS_OPEN_BETS) once the
        round is idle longer than 30 days; the late win is RS_OK as always with her balance
        0, her accounts unmoved, the cash share on the brand's unclaimed_funds account, the
        bonus share forfeited to the house, one audit entry and one event funds.unclaimed;
        the identical request again gets the same bytes, nothing moves or is recorded."""
        vera = self.player("vera", cash="8.00", bonus="2.00")
        expect(self.admin.call("PATCH", "/v1/admin/brands/malta",
                               {"settings": {"erase_after_days": 0}}), 200)
        answer(self.bet("vera", "v-b1", "v-r1", 1000 * EUR), "RS_OK")
        a = answer(self.win("vera", "v-w0", "v-r1", "v-b1", 0), "RS_OK")
        assert a["balance"] == 0, a
        r = self.admin.call("POST", f"/v1/admin/players/{vera['id']}/erase", {"reason": "GDPR 6"})
        expect(r, 409, "PLAYER_HAS_OPEN_BETS")
        self.restart_with("UPDATE wallet_op SET created_at = created_at - ? WHERE player = ?",
                          31 * 86400 * 1000000, vera["id"])
        p = expect(self.admin.call("POST", f"/v1/admin/players/{vera['id']}/erase",
                                   {"reason": "GDPR 6"}), 200)["player"]
        assert p["status"] == "closed" and p["erased_at"], p
        ids = [r[0] for r in self.env.rows("SELECT id FROM ledger_account WHERE owner=?",
                                           f"player:{vera['id']}")]
        mine = [b for b in live_balances(self.env.db) if b[0] in ids]
        house0, house_id = account_balance(self.env.db, "malta", "brand", "house", "EUR")
        # the late win: 5.00, 1.00 of it the bonus share (2/10); the round closed with it
        body = self.tx("vera", "win", "v-w1", "v-r1", 500 * EUR, ref="v-b1", closed=True)
        first = self.hub.call("transaction/win", body)
        a = answer(first, "RS_OK")
        assert a["user"] == vera["id"] and a["balance"] == 0 and a["currency"] == "EUR", a
        assert [b for b in live_balances(self.env.db) if b[0] in ids] == mine
        unclaimed, unclaimed_id = account_balance(self.env.db, "malta", "brand",
                                                  "unclaimed_funds", "EUR")
        assert unclaimed == 400, unclaimed
        assert account_balance(self.env.db, "malta", "brand", "house", "EUR")[0] == house0 + 100
        audit, events = unclaimed_records(self.env.db, vera["id"])
        assert len(audit) == 1 and len(events) == 1, (audit, events)
        want = {"kind": "win", "provider": "hubby", "round_id": "v-r1", "tx_id": "v-w1",
                "bet_tx_id": "v-b1", "player": vera["id"], "amount": 500, "currency": "EUR",
                "cash": 400, "account": "unclaimed_funds", "account_id": unclaimed_id,
                "bonus_forfeited": 100, "bonus_account_id": house_id,
                "actor": "system:provider:hubby", "brand": "malta"}
        assert {k: audit[0].get(k) for k in want} == want, audit
        want = {"kind": "win", "provider": "hubby", "round_id": "v-r1", "amount": "5.00",
                "cash": "4.00", "account": "unclaimed_funds", "account_id": unclaimed_id,
                "bonus_forfeited": "1.00", "bonus_account_id": house_id, "brand": "malta"}
        assert {k: events[0].get(k) for k in want} == want, events
        self.replay_same("transaction/win", body, first)
        assert [len(x) for x in unclaimed_records(self.env.db, vera["id"])] == [1, 1]

    def rollback_of_refused_bet(self):
        """A bet refused with a final, stored status (NOT_ENOUGH_MONEY, INVALID_GAME,
        LIMIT_REACHED, USER_DISABLED) debited nothing: its rollback is RS_OK with the
        unchanged balance (the rollback of a bet never placed: recorded, nothing moves),
        the rollback replayed is that answer byte for byte, and the bet retried under
        its transaction_uuid stays refused: the same body gets the first refusal byte for
        byte, other content (affordable, playable) RS_ERROR_DUPLICATE_TRANSACTION. No step
        moves money."""
        rhea = self.player("rhea", cash="5.00")
        ledger = ("ledger_account", "ledger_transfer")
        cases = [  # (tx, round, amount, bet fields, status)
            ("rr-b1", "rr-r1", 900 * EUR, {}, "RS_ERROR_NOT_ENOUGH_MONEY"),
            ("rr-b2", "rr-r2", 100 * EUR, {"game": "slot-b"}, "RS_ERROR_INVALID_GAME"),
            ("rr-b3", "rr-r3", 5001 * EUR, {}, "RS_ERROR_LIMIT_REACHED"),
            ("rr-b4", "rr-r4", 100 * EUR, {}, "RS_ERROR_USER_DISABLED"),
        ]
        for tx, rnd, amount, kw, status in cases:
            if status == "RS_ERROR_USER_DISABLED":
                expect(self.admin.call("POST", f"/v1/admin/players/{rhea['id']}/block",
                                       {"reason": "test"}), 200)
            before = money_digest(self.env.db, ledger)
            bet = self.tx("rhea", "bet", tx, rnd, amount, **kw)
            refused = self.hub.call("transaction/bet", bet)
            answer(refused, status)
            rb = self.tx("rhea", "rollback", tx + "-rb", rnd, ref=tx)
            first = self.hub.call("transaction/rollback", rb)
            a = answer(first, "RS_OK")
            assert (a["user"], a["balance"], a["currency"], a["request_uuid"]) == \
                (rhea["id"], 500 * EUR, "EUR", rb["request_uuid"]), (status, a)
            if status == "RS_ERROR_USER_DISABLED":
                expect(self.admin.call("POST", f"/v1/admin/players/{rhea['id']}/unblock",
                                       {"reason": "ok"}), 200)
            self.replay_same("transaction/rollback", rb, first)
            a = answer(self.rollback("rhea", tx + "-rb2", rnd, tx), "RS_OK")
            assert a["balance"] == 500 * EUR, (status, a)
            self.replay_same("transaction/bet", bet, refused)
            self.unchanged(lambda: answer(self.bet("rhea", tx, rnd, 50 * EUR),
                                          "RS_ERROR_DUPLICATE_TRANSACTION"))
            assert money_digest(self.env.db, ledger) == before, status
        # (the block ended rhea's web session: her balance as Hub88 sees it)
        assert answer(self.balance("rhea"), "RS_OK")["balance"] == 500 * EUR

    def foreign_ids(self):
        """A rollback with one user's token naming a bet of another user's that was
        refused is answered as the rollback of that user's placed bet is
        (RS_ERROR_UNKNOWN with the caller's balance, not stored) and writes nothing (no
        record under the caller's name); the bet's own user's rollback of it is still
        RS_OK. A second rollback (a new transaction_uuid): of a bet never placed RS_OK
        again, of a bet placed and rolled back RS_ERROR_TRANSACTION_ROLLED_BACK (stored:
        its replay is the same answer)."""
        sven = self.player("sven", cash="5.00")
        answer(self.bet("rhea", "fx-b1", "fx-r1", 900 * EUR), "RS_ERROR_NOT_ENOUGH_MONEY")
        for tx in ("fx-rb1", "fx-rb1"):  # not stored: decided again, nothing written
            a = self.unchanged(lambda tx=tx: answer(self.rollback("sven", tx, "fx-r1", "fx-b1"),
                                                    "RS_ERROR_UNKNOWN"))
            assert (a["user"], a["balance"]) == (sven["id"], 500 * EUR), a
        # ... as sven's rollback of a placed bet of hers is
        answer(self.bet("rhea", "fx-b2", "fx-r2", 100 * EUR), "RS_OK")
        a = self.unchanged(lambda: answer(self.rollback("sven", "fx-rb2", "fx-r2", "fx-b2"),
                                          "RS_ERROR_UNKNOWN"))
        assert a["balance"] == 500 * EUR, a
        # her own rollback of her refused bet: RS_OK, nothing moves
        a = answer(self.rollback("rhea", "fx-rb1r", "fx-r1", "fx-b1"), "RS_OK")
        assert a["balance"] == 400 * EUR, a
        self.unchanged(lambda: answer(self.rollback("sven", "fx-rb1s", "fx-r1", "fx-b1"),
                                      "RS_ERROR_UNKNOWN"))
        # a second rollback of a bet rolled back, and of one never placed
        a = answer(self.rollback("rhea", "fx-rb2", "fx-r2", "fx-b2"), "RS_OK")
        assert a["balance"] == 500 * EUR, a
        body = self.tx("rhea", "rollback", "fx-rb2b", "fx-r2", ref="fx-b2")
        first = self.hub.call("transaction/rollback", body)
        a = answer(first, "RS_ERROR_TRANSACTION_ROLLED_BACK")
        assert a["balance"] == 500 * EUR, a
        self.replay_same("transaction/rollback", body, first)
        for tx in ("fx-rb3", "fx-rb3b"):
            answer(self.rollback("rhea", tx, "fx-r3", "fx-b3"), "RS_OK")

    def tombstones_and_not_bets(self):
        """A rollback's record is its user's: tess rolls back a bet she never placed
        (RS_OK), then otto's bet with that transaction_uuid is
        RS_ERROR_DUPLICATE_TRANSACTION (the id is taken; not claimed rolled back), not
        stored, nothing written, the same on its retry; tess's own bet with that id is
        still RS_ERROR_TRANSACTION_ROLLED_BACK. A rollback naming the user's own win is
        RS_ERROR_WRONG_TYPES (the referenced transaction is not a bet): no record,
        nothing moves, its answer stored (the replay is the same bytes). A win answered
        RS_ERROR_TRANSACTION_DOES_NOT_EXIST is not stored: sent again once its bet
        arrived it is paid, once."""
        tess = self.player("tess", cash="5.00")
        otto = self.player("otto", cash="5.00")
        # 1. tess's tombstone, otto's bet with its id
        answer(self.rollback("tess", "tb-rb1", "tb-r1", "tb-b1"), "RS_OK")
        for _ in range(2):
            a = self.unchanged(lambda: answer(self.bet("otto", "tb-b1", "tb-r1", 100 * EUR),
                                              "RS_ERROR_DUPLICATE_TRANSACTION"))
            assert (a["user"], a["balance"]) == (otto["id"], 500 * EUR), a
        a = answer(self.bet("tess", "tb-b1", "tb-r1", 100 * EUR), "RS_ERROR_TRANSACTION_ROLLED_BACK")
        assert a["balance"] == 500 * EUR, a
        con = sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30)
        try:
            rows = con.execute("SELECT player, state FROM wallet_bet "
                               "WHERE bet_tx_id = 'tb-b1'").fetchall()
        finally:
            con.close()
        assert rows == [(tess["id"], "tombstone")], rows
        # 2. a rollback naming tess's own win
        answer(self.bet("tess", "tb-b2", "tb-r2", 100 * EUR), "RS_OK")
        a = answer(self.win("tess", "tb-w2", "tb-r2", "tb-b2", 200 * EUR), "RS_OK")
        assert a["balance"] == 600 * EUR, a
        body = self.tx("tess", "rollback", "tb-rb2", "tb-r2", ref="tb-w2")
        first = self.unchanged(lambda: self.hub.call("transaction/rollback", body), stored=True)
        a = answer(first, "RS_ERROR_WRONG_TYPES")
        assert a["balance"] == 600 * EUR, a
        self.replay_same("transaction/rollback", body, first)
        # 3. a win before its bet, retried after it: paid once
        self.unchanged(lambda: answer(self.win("tess", "tb-w3", "tb-r3", "tb-b3", 150 * EUR),
                                      "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"))
        answer(self.bet("tess", "tb-b3", "tb-r3", 100 * EUR), "RS_OK")
        wbody = self.tx("tess", "win", "tb-w3", "tb-r3", 150 * EUR, ref="tb-b3")
        paid = self.hub.call("transaction/win", wbody)
        a = answer(paid, "RS_OK")
        assert a["balance"] == 650 * EUR, a
        self.replay_same("transaction/win", wbody, paid)
        assert answer(self.balance("tess"), "RS_OK")["balance"] == 650 * EUR

    def win_naming_a_non_bet(self):
        """A win whose reference_transaction_uuid is the user's own win or rollback can
        never be paid: RS_ERROR_WRONG_TYPES with the balance, stored (the replay is the
        same bytes, so Hub88 stops retrying), nothing else written, nothing moves.
        Naming another user's win: RS_ERROR_UNKNOWN (as their bet), not stored; an id
        never seen: RS_ERROR_TRANSACTION_DOES_NOT_EXIST, not stored, as before."""
        self.player("uma", cash="5.00")
        self.player("vito", cash="5.00")
        answer(self.bet("uma", "wn-b1", "wn-r1", 100 * EUR), "RS_OK")
        answer(self.win("uma", "wn-w1", "wn-r1", "wn-b1", 50 * EUR), "RS_OK")   # her win
        answer(self.rollback("uma", "wn-rb1", "wn-r9", "wn-b9"), "RS_OK")       # her rollback
        answer(self.bet("vito", "wn-vb", "wn-r1", 100 * EUR), "RS_OK")
        answer(self.win("vito", "wn-vw", "wn-r1", "wn-vb", 25 * EUR), "RS_OK")  # his win

        def stored_rows(tx):
            con = sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30)
            try:
                return con.execute("SELECT count(*) FROM wallet_op WHERE tx_id = ?",
                                   (tx,)).fetchone()[0]
            finally:
                con.close()

        for i, named in enumerate(("wn-w1", "wn-rb1")):
            tx = f"wn-x{i}"
            body = self.tx("uma", "win", tx, "wn-r1", 200 * EUR, ref=named)
            first = self.unchanged(lambda: self.hub.call("transaction/win", body), stored=True)
            a = answer(first, "RS_ERROR_WRONG_TYPES")
            assert a["balance"] == 450 * EUR, a
            assert stored_rows(tx) == 1
            self.replay_same("transaction/win", body, first)
        for named, status in (("wn-vw", "RS_ERROR_UNKNOWN"),
                              ("wn-never", "RS_ERROR_TRANSACTION_DOES_NOT_EXIST")):
            for _ in range(2):  # not stored: decided again on the retry
                a = self.unchanged(lambda: answer(
                    self.win("uma", "wn-y", "wn-r1", named, 200 * EUR), status))
                assert a["balance"] == 450 * EUR, a
            assert stored_rows("wn-y") == 0
        assert answer(self.balance("uma"), "RS_OK")["balance"] == 450 * EUR
        assert answer(self.balance("vito"), "RS_OK")["balance"] == 425 * EUR

    def win_naming_a_refused_bet(self):
        """A win whose reference_transaction_uuid is the user's own bet that was refused
        (NOT_ENOUGH_MONEY, INVALID_GAME, LIMIT_REACHED, USER_DISABLED: each status stored
        under the bet's transaction_uuid, so that bet is never placed) is
        RS_ERROR_TRANSACTION_DOES_NOT_EXIST with the balance, but final: stored (the
        replay is the same bytes), its wallet_op row the only write, nothing moves, on
        the bet's round or another. A win sent before its bet (not stored) and sent again
        once the bet was refused is stored then. The bet's rollback is still RS_OK."""
        wade = self.player("wade", cash="5.00")

        def stored_rows(tx):
            con = sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30)
            try:
                return con.execute("SELECT count(*) FROM wallet_op WHERE tx_id = ? AND "
                                   "result = 'BET_REFUSED'", (tx,)).fetchone()[0]
            finally:
                con.close()

        early = self.tx("wade", "win", "rw-b1-w", "rw-r1", 200 * EUR, ref="rw-b1")
        self.unchanged(lambda: answer(self.hub.call("transaction/win", early),
                                      "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"))
        cases = [  # (tx, round, amount, bet fields, status, the win's round)
            ("rw-b1", "rw-r1", 900 * EUR, {}, "RS_ERROR_NOT_ENOUGH_MONEY", "rw-r1"),
            ("rw-b2", "rw-r2", 100 * EUR, {"game": "slot-b"}, "RS_ERROR_INVALID_GAME", "rw-r2"),
            ("rw-b3", "rw-r3", 5001 * EUR, {}, "RS_ERROR_LIMIT_REACHED", "rw-r9"),
            ("rw-b4", "rw-r4", 100 * EUR, {}, "RS_ERROR_USER_DISABLED", "rw-r4"),
        ]
        for tx, rnd, amount, kw, status, win_round in cases:
            if status == "RS_ERROR_USER_DISABLED":
                expect(self.admin.call("POST", f"/v1/admin/players/{wade['id']}/block",
                                       {"reason": "test"}), 200)
            bet = self.tx("wade", "bet", tx, rnd, amount, **kw)
            refused = self.hub.call("transaction/bet", bet)
            answer(refused, status)
            if status == "RS_ERROR_USER_DISABLED":
                expect(self.admin.call("POST", f"/v1/admin/players/{wade['id']}/unblock",
                                       {"reason": "ok"}), 200)
            body = early if tx == "rw-b1" else \
                self.tx("wade", "win", tx + "-w", win_round, 200 * EUR, ref=tx)
            first = self.unchanged(lambda: self.hub.call("transaction/win", body), stored=True)
            a = answer(first, "RS_ERROR_TRANSACTION_DOES_NOT_EXIST")
            assert (a["user"], a["balance"], a["currency"]) == (wade["id"], 500 * EUR, "EUR"), \
                (status, a)
            assert stored_rows(tx + "-w") == 1, status
            self.replay_same("transaction/win", body, first)
            self.replay_same("transaction/bet", bet, refused)  # the bet stays refused
        a = answer(self.rollback("wade", "rw-b1-rb", "rw-r1", "rw-b1"), "RS_OK")
        assert a["balance"] == 500 * EUR, a
        assert answer(self.balance("wade"), "RS_OK")["balance"] == 500 * EUR

    def supplier_promo(self):
        # Hub88 forwards a supplier's promotion flag on bets and wins (API changelog,
        # May 2025: "is_supplier_promo", optional): a call carrying it as false is
        # an ordinary one and is taken
        a = answer(self.bet("emil", "b-promo0", "r-promo0", 100 * EUR, is_supplier_promo=False),
                   "RS_OK")
        before = a["balance"]
        a = answer(self.win("emil", "w-promo0", "r-promo0", "b-promo0", 300 * EUR,
                            is_supplier_promo=False, closed=True), "RS_OK")
        assert a["balance"] == before + 300 * EUR, a
        answer(self.bet("emil", "b-promo0n", "r-promo0n", 100 * EUR, is_supplier_promo=None),
               "RS_OK")
        # true: a free bet (is_free implied), which pitboss does not support; a promo
        # win the same. Final (stored: the replay gets it byte for byte), nothing moves
        self.bet("emil", "b-promo1", "r-promo1", 100 * EUR)
        for path, body in (
                ("transaction/bet",
                 self.tx("emil", "bet", "b-promo2", "r-promo2", 100 * EUR, is_supplier_promo=True)),
                ("transaction/win",
                 self.tx("emil", "win", "w-promo1", "r-promo1", 500 * EUR, ref="b-promo1",
                         is_supplier_promo=True))):
            first = self.unchanged(lambda: self.hub.call(path, body), stored=True)
            answer(first, "RS_ERROR_UNKNOWN")
            again = self.unchanged(lambda: self.hub.call(path, body))
            assert again.body == first.body, (first.body, again.body)
        # a wrong type is WRONG_TYPES, as for the other flags
        answer(self.unchanged(lambda: self.bet("emil", "b-promo3", "r-promo3", 100 * EUR,
                                               is_supplier_promo="yes")), "RS_ERROR_WRONG_TYPES")

    def round_state(self, name, round_id):
        """(closed, has_win) of the player's wallet_round row of round_id, None without one."""
        con = sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute("SELECT closed, has_win FROM wallet_round WHERE provider = 'hubby' "
                               "AND round_id = ? AND player = ?",
                               (round_id, self.players[name]["id"])).fetchone()
        finally:
            con.close()

    def rollback_closes_round(self):
        """round_closed true on a rollback closes the user's round, as on a bet or a win
        (the wallet's round row, closed): a later bet on it is RS_ERROR_UNKNOWN (a
        closed round, stored), nothing moves. Idempotent: the rollback replayed is its
        first answer byte for byte (round_closed no part of a rollback's identity), a
        second rollback of the bet RS_ERROR_TRANSACTION_ROLLED_BACK, the round stays
        closed; the rollback of a round already closed by its bet is RS_OK. The
        rollback of a bet never seen closes its round too; a refused rollback (after a
        win) closes nothing; round_closed false leaves the round open."""
        self.player("xena", cash="10.00")
        # 1. the bet refunded and its round closed
        answer(self.bet("xena", "rc-b1", "rc-r1", 100 * EUR), "RS_OK")
        body = self.tx("xena", "rollback", "rc-rb1", "rc-r1", ref="rc-b1", closed=True)
        first = self.hub.call("transaction/rollback", body)
        a = answer(first, "RS_OK")
        assert a["balance"] == 1000 * EUR, a
        assert self.round_state("xena", "rc-r1") == (1, 0), self.round_state("xena", "rc-r1")
        self.unchanged(lambda: answer(self.bet("xena", "rc-b2", "rc-r1", 100 * EUR),
                                      "RS_ERROR_UNKNOWN"), stored=True)
        self.replay_same("transaction/rollback", body, first)
        # the same transaction_uuid with round_closed false is the same rollback
        again = self.unchanged(lambda: self.hub.call("transaction/rollback",
                                                     dict(body, round_closed=False)))
        assert json.loads(again.body) == json.loads(first.body), again.body
        self.unchanged(lambda: answer(self.rollback("xena", "rc-rb1b", "rc-r1", "rc-b1",
                                                    closed=True),
                                      "RS_ERROR_TRANSACTION_ROLLED_BACK"), stored=True)
        assert self.round_state("xena", "rc-r1") == (1, 0)
        # 2. a round the bet closed already: the rollback refunds, the round stays closed
        answer(self.bet("xena", "rc-b3", "rc-r3", 100 * EUR, closed=True), "RS_OK")
        a = answer(self.rollback("xena", "rc-rb3", "rc-r3", "rc-b3", closed=True), "RS_OK")
        assert a["balance"] == 1000 * EUR, a
        assert self.round_state("xena", "rc-r3") == (1, 0)
        # 3. a rollback of a bet never seen, closing: the round is closed, the bet refused
        answer(self.rollback("xena", "rc-rb4", "rc-r4", "rc-b4", closed=True), "RS_OK")
        assert self.round_state("xena", "rc-r4") == (1, 0)
        self.unchanged(lambda: answer(self.bet("xena", "rc-b5", "rc-r4", 100 * EUR),
                                      "RS_ERROR_UNKNOWN"), stored=True)
        self.unchanged(lambda: answer(self.bet("xena", "rc-b4", "rc-r4", 100 * EUR),
                                      "RS_ERROR_TRANSACTION_ROLLED_BACK"), stored=True)
        # 4. a rollback refused (a win on the round) closes nothing
        answer(self.bet("xena", "rc-b6", "rc-r6", 100 * EUR), "RS_OK")
        answer(self.win("xena", "rc-w6", "rc-r6", "rc-b6", 300 * EUR), "RS_OK")
        self.unchanged(lambda: answer(self.rollback("xena", "rc-rb6", "rc-r6", "rc-b6",
                                                    closed=True), "RS_ERROR_UNKNOWN"), stored=True)
        assert self.round_state("xena", "rc-r6") is None
        # 5. round_closed false: the round stays open
        answer(self.bet("xena", "rc-b7", "rc-r7", 100 * EUR), "RS_OK")
        answer(self.rollback("xena", "rc-rb7", "rc-r7", "rc-b7"), "RS_OK")
        assert self.round_state("xena", "rc-r7") is None
        answer(self.bet("xena", "rc-b8", "rc-r7", 100 * EUR), "RS_OK")
        assert self.wallet("xena")["cash"] == "11.00"

    def rollback_game_mismatch(self):
        """A rollback names its game (game_code): a rollback of a bet on another game
        than the one it names is RS_ERROR_INVALID_GAME, as a win's is, stored (its
        replay gets the same bytes; the same transaction_uuid naming the bet's game is
        RS_ERROR_DUPLICATE_TRANSACTION), nothing moves, the bet stays placed. Strict at
        a live lobby too. A rollback naming the bet's game refunds it."""
        yuri = self.player("yuri", cash="10.00")  # launched slot-a
        answer(self.bet("yuri", "rg-b1", "rg-r1", 100 * EUR), "RS_OK")  # on slot-a
        body = self.tx("yuri", "rollback", "rg-rb1", "rg-r1", ref="rg-b1", game="slot-b",
                       closed=True)
        first = self.unchanged(lambda: self.hub.call("transaction/rollback", body), stored=True)
        a = answer(first, "RS_ERROR_INVALID_GAME")
        assert a["user"] == yuri["id"] and a["request_uuid"] == body["request_uuid"], a
        self.replay_same("transaction/rollback", body, first)
        self.unchanged(lambda: answer(self.hub.call("transaction/rollback",
                                                    dict(body, game_code="slot-a",
                                                         request_uuid=rid())),
                                      "RS_ERROR_DUPLICATE_TRANSACTION"))
        assert self.wallet("yuri")["cash"] == "9.00"
        assert self.round_state("yuri", "rg-r1") is None  # its round_closed closed nothing
        # the live lobby: a bet at live-b on a live-a launch, its rollback naming live-a
        lobby = self.launch("yuri", "live-a")
        answer(self.bet("yuri", "rg-b2", "rg-r2", 100 * EUR, game="live-b", token=lobby), "RS_OK")
        self.unchanged(lambda: answer(self.rollback("yuri", "rg-rb2", "rg-r2", "rg-b2",
                                                    game="live-a", token=lobby),
                                      "RS_ERROR_INVALID_GAME"), stored=True)
        assert self.wallet("yuri")["cash"] == "8.00"
        # the rollbacks naming their bets' games refund
        answer(self.rollback("yuri", "rg-rb3", "rg-r1", "rg-b1"), "RS_OK")
        a = answer(self.rollback("yuri", "rg-rb4", "rg-r2", "rg-b2", game="live-b", token=lobby),
                   "RS_OK")
        assert a["balance"] == 1000 * EUR, a
        assert self.wallet("yuri")["cash"] == "10.00"

    def zero_promo_bet(self):
        """A free bet of 0 (is_free or is_supplier_promo true: a reward's bet stakes
        nothing of the player's) is a free bet like any other: RS_ERROR_UNKNOWN (not
        supported), stored under its transaction_uuid, so its replay gets the same bytes
        and other content under that id (an amount, with the flag or without) is
        RS_ERROR_DUPLICATE_TRANSACTION; nothing moves. A bet of 0 without a flag stays
        RS_ERROR_WRONG_TYPES (bad input, not stored: bad_input)."""
        zoe = self.player("zoe", cash="10.00")

        def stored_rows(tx):
            con = sqlite3.connect(f"file:{self.env.db}?mode=ro", uri=True, timeout=30)
            try:
                return con.execute("SELECT count(*) FROM wallet_op WHERE tx_id = ? AND "
                                   "result = 'FORBIDDEN' AND amount = 0", (tx,)).fetchone()[0]
            finally:
                con.close()

        for tx, flag in (("zp-b1", "is_free"), ("zp-b2", "is_supplier_promo")):
            body = self.tx("zoe", "bet", tx, "zp-r1", 0, **{flag: True})
            first = self.unchanged(lambda: self.hub.call("transaction/bet", body), stored=True)
            a = answer(first, "RS_ERROR_UNKNOWN")
            assert a["user"] == zoe["id"] and a["request_uuid"] == body["request_uuid"], a
            assert stored_rows(tx) == 1, tx
            self.replay_same("transaction/bet", body, first)

            def others():
                # (the flag off with the amount 0 is bad input: RS_ERROR_WRONG_TYPES first)
                for changed in (dict(body, amount=100 * EUR),
                                dict(body, amount=100 * EUR, **{flag: False})):
                    changed["request_uuid"] = rid()
                    a = answer(self.hub.call("transaction/bet", changed),
                               "RS_ERROR_DUPLICATE_TRANSACTION")
                    assert a["request_uuid"] == changed["request_uuid"] and \
                        a["balance"] == 1000 * EUR, a
            self.unchanged(others)
        assert self.wallet("zoe")["cash"] == "10.00"
        # an ordinary bet of 0: bad input, as before (decided again, never stored)
        for _ in range(2):
            self.unchanged(lambda: answer(self.bet("zoe", "zp-b3", "zp-r3", 0),
                                          "RS_ERROR_WRONG_TYPES"))

    def spec_coverage(self):
        missing = [m for m in self.env.spec.unexercised("/v1/providers/{provider}/hub88/")
                   if "4xx" not in m]
        return not missing or "\n".join(missing)

    def stop_and_verify(self):
        assert self.env.stop() == 0, "server exit status"
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_provider_hub88.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: brand (EUR, JPY), hub88 provider with an RSA key made here, games, funded players, launches", run.setup),
        ("user/info: RS_OK with country and brand; an unknown user RS_ERROR_UNKNOWN", run.user_info),
        ("user/balance: RS_OK, cash + bonus in 1/100000 units (EUR and JPY)", run.user_balance),
        ("bet, win, rollback: RS_OK with the balance after each (EUR and JPY)", run.bet_win_rollback),
        ("a bet beyond the cash draws on the bonus; its rollback gives both back", run.funding_split),
        ("duplicates: the original answer (request_uuid echoed); other content RS_ERROR_DUPLICATE_TRANSACTION; nothing moves", run.duplicates),
        ("RS_ERROR_NOT_ENOUGH_MONEY with the balance, nothing moves", run.not_enough_money),
        ("RS_ERROR_TRANSACTION_DOES_NOT_EXIST for a win on an unknown bet", run.transaction_does_not_exist),
        ("RS_ERROR_TRANSACTION_ROLLED_BACK (win after rollback, bet after its rollback); rollback after a win refused", run.rolled_back),
        ("RS_ERROR_INVALID_SIGNATURE: another key, flipped byte, missing/malformed header; nothing moves", run.invalid_signature),
        ("RS_ERROR_TOKEN_EXPIRED for bet and balance; win and rollback accepted", run.token_expired),
        ("a launch revoked by staff: RS_ERROR_TOKEN_EXPIRED at once for bet and balance; the win pays",
         run.revoked_launch),
        ("a provider switched off: info, balance and bets RS_ERROR_INVALID_PARTNER (stored); "
         "earlier bets' retries, wins and rollbacks still answered", run.provider_disabled),
        ("a bet naming another game than the launch's: RS_ERROR_INVALID_GAME, stored; a live "
         "lobby's tables excepted", run.game_mismatch),
        ("a win naming another game than its bet's: RS_ERROR_INVALID_GAME, stored, nothing "
         "moves (a live lobby's tables too)", run.win_game_mismatch),
        ("RS_ERROR_WRONG_CURRENCY", run.wrong_currency),
        ("RS_ERROR_USER_DISABLED for blocked and self-excluded players; open rounds still settle", run.user_disabled),
        ("RS_ERROR_INVALID_TOKEN, RS_ERROR_INVALID_GAME, RS_ERROR_LIMIT_REACHED, free bets refused", run.invalid_token_and_game),
        ("a launch pruned 30 days after its expiry: its bets' wins and rollbacks settle for "
         "their user; unknown bets or another user RS_ERROR_INVALID_TOKEN", run.late_settlement_after_prune),
        ("after a prune, a win or rollback needs its bet's token: another user's (pruned) or "
         "an unknown one is RS_ERROR_INVALID_TOKEN as before the prune, nothing moves; the "
         "bet's pays", run.token_after_prune),
        ("bad input: RS_ERROR_WRONG_SYNTAX / RS_ERROR_WRONG_TYPES (inexact amounts too), nothing moves", run.bad_input),
        ("a provider code that is not hub88 (or longer than any): 404 PROVIDER_NOT_FOUND",
         run.not_a_hub88_provider),
        ("an erased player's late win on a round idle 30 days (erasure refused while it was "
         "open): RS_OK as always, the cash share to the brand's unclaimed funds, the bonus "
         "share forfeited, audited and announced; the replay's bytes unchanged",
         run.erased_late_win),
        ("a rollback of a refused bet (not enough money, invalid game, limit reached, user "
         "disabled): RS_OK with the balance, nothing moves, replayed byte for byte; the bet's "
         "retry stays refused (its stored answer; other content RS_ERROR_DUPLICATE_TRANSACTION)",
         run.rollback_of_refused_bet),
        ("another user's refused bet: a rollback naming it is RS_ERROR_UNKNOWN as for their "
         "placed bet, nothing written; a second rollback: RS_OK for a bet never placed, "
         "RS_ERROR_TRANSACTION_ROLLED_BACK (stored) for one rolled back", run.foreign_ids),
        ("a rollback's record is its user's: another user's bet with its id "
         "RS_ERROR_DUPLICATE_TRANSACTION (not stored, nothing written), the user's own "
         "RS_ERROR_TRANSACTION_ROLLED_BACK; a rollback naming the user's win "
         "RS_ERROR_WRONG_TYPES (stored, nothing moves); a win answered "
         "RS_ERROR_TRANSACTION_DOES_NOT_EXIST retried after its bet is paid once",
         run.tombstones_and_not_bets),
        ("a win naming the user's own win or rollback: RS_ERROR_WRONG_TYPES (stored, "
         "nothing moves); another user's win RS_ERROR_UNKNOWN, an id never seen "
         "RS_ERROR_TRANSACTION_DOES_NOT_EXIST (neither stored)", run.win_naming_a_non_bet),
        ("a win naming the user's own refused bet (not enough money, invalid game, limit "
         "reached, user disabled): RS_ERROR_TRANSACTION_DOES_NOT_EXIST with the balance, "
         "stored and replayed byte for byte, nothing moves; the bet's rollback still RS_OK",
         run.win_naming_a_refused_bet),
        ("is_supplier_promo (Hub88, May 2025): false or null taken as an ordinary bet or win; "
         "true a free bet, not supported: RS_ERROR_UNKNOWN, stored, nothing moves; a wrong "
         "type RS_ERROR_WRONG_TYPES", run.supplier_promo),
        ("round_closed on a rollback closes the round (once; a replay the same bytes; a "
         "refused rollback closes nothing)", run.rollback_closes_round),
        ("a rollback naming another game than its bet's: RS_ERROR_INVALID_GAME, stored, "
         "nothing moves (a live lobby's tables too)", run.rollback_game_mismatch),
        ("a free bet of 0 (is_free / is_supplier_promo): RS_ERROR_UNKNOWN like any free bet, "
         "stored: replay the same bytes, other content RS_ERROR_DUPLICATE_TRANSACTION",
         run.zero_promo_bet),
        ("every hub88 operation answered and validated", run.spec_coverage),
        ("the server stops cleanly; `pitboss ledger verify` passes", run.stop_and_verify),
    ]
    tap = Tap(len(cases))
    try:
        for i, (name, fn) in enumerate(cases):
            if not tap.case(name, fn) and i == 0:
                for n2, _ in cases[1:]:
                    tap.ok(False, n2, "skipped: setup failed")
                break
    except Exception:
        traceback.print_exc()
    finally:
        env.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
