"""test_cashier.py — the cashier over real HTTP with the built-in sandbox PSP:
deposits credited once (sandbox endpoints and hand-signed webhooks: replay,
reordering, bad signature, stale timestamp, unknown reference), withdrawals
(hold, one approval below the threshold, 4-eyes at or above it, failed payout
returns the money, reject, cancel, insufficient funds), a blocked player, bad
input on every route with the ledger unchanged. Ends with `pitboss ledger
verify` and `pitboss audit verify`.

Blocked player: blocking ends the player's sessions, so the test shows the
refusal as 401 on their old token and 403 PLAYER_BLOCKED on a fresh login; the
gate inside the cashier commands (pb_wallet_gate) cannot be reached over HTTP
by a blocked player.

Usage: test_cashier.py PATH/TO/pitboss
"""
import hashlib
import hmac
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Client, Env, Staff, create_staff, expect, register_player  # noqa: E402
from harness import Tap  # noqa: E402

PASSWORD = "Player-pass-77"


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0

    def key(self):
        self.n += 1
        return f"k-{self.n}"

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.3.10").activate("Blue-Falcon-0-Xy")
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "alpha", "name": "Alpha", "default_currency": "EUR",
                                "jurisdiction": "MT"}), 201)
        self.fin1 = create_staff(env, self.admin, "fin1@example.com", "finance", "127.0.3.11",
                                 brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.fin2 = create_staff(env, self.admin, "fin2@example.com", "finance", "127.0.3.12",
                                 brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.client = Client(env, "127.0.3.20")
        self.psp = Client(env, "127.0.3.30")
        self.ids, self.tokens = {}, {}
        for name in ("alice", "bob", "carl"):
            self.ids[name] = register_player(self.client, "alpha", f"{name}@example.com")
            self.tokens[name] = self.login(name)
        with open(os.path.join(env.keys, "sandbox-psp.secret")) as f:
            self.secret = f.read().strip()
        assert len(self.secret) == 64
        assert os.stat(os.path.join(env.keys, "sandbox-psp.secret")).st_mode & 0o777 == 0o600

    def login(self, name):
        return self.client.call("POST", "/v1/player/login",
                                {"brand": "alpha", "email": f"{name}@example.com",
                                 "password": PASSWORD}).json().get("access_token")

    def wallet(self, who):
        return expect(self.client.call("GET", "/v1/player/wallet", token=self.tokens[who]), 200)

    def ledger_rows(self):
        return self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0]

    def deposit(self, who, amount, key=None, status=201):
        return expect(self.client.call("POST", "/v1/player/deposits",
                                       {"amount": amount, "idempotency_key": key or self.key()},
                                       token=self.tokens[who]), status)

    def sandbox(self, ref, verb="complete", status=200, code=None):
        return expect(self.psp.call("POST", f"/v1/sandbox-psp/payments/{ref}/{verb}"), status, code)

    def signed(self, event, t=None, secret=None):
        body = json.dumps(event).encode()
        t = int(time.time()) if t is None else t
        mac = hmac.new((secret or self.secret).encode(), f"{t}.".encode() + body,
                       hashlib.sha256).hexdigest()
        return body, {"X-Sandbox-Signature": f"t={t},v1={mac}"}

    def webhook(self, event, status=200, code=None, **kw):
        body, h = self.signed(event, **kw)
        return expect(self.psp.call("POST", "/v1/cashier/webhooks/sandbox", raw=body, headers=h),
                      status, code)

    def event(self, type_, ref, eid=None):
        self.n += 1
        return {"id": eid or f"evt-test-{self.n}", "type": type_, "created": int(time.time()),
                "data": {"reference": ref}}

    # ---- deposits ----

    def deposit_end_to_end(self):
        d = self.deposit("alice", "100.00", key="dep-1")
        assert d["status"] == "pending" and d["psp"] == "sandbox" and d["amount"] == "100.00", d
        assert d["redirect_url"] == f"/v1/sandbox-psp/payments/{d['psp_reference']}/complete", d
        again = self.deposit("alice", "100.00", key="dep-1", status=200)
        assert again["id"] == d["id"], again
        self.deposit("alice", "99.00", key="dep-1", status=409)
        assert self.wallet("alice")["cash"] == "0.00"
        r = self.sandbox(d["psp_reference"])
        assert r["outcome"] == "applied" and r["type"] == "deposit.succeeded", r
        assert self.wallet("alice")["cash"] == "100.00"
        before = self.ledger_rows()
        r = self.sandbox(d["psp_reference"])  # a second, different event: too late
        assert r["outcome"] == "ignored", r
        assert self.ledger_rows() == before and self.wallet("alice")["cash"] == "100.00"
        g = expect(self.client.call("GET", f"/v1/player/deposits/{d['id']}",
                                    token=self.tokens["alice"]), 200)
        assert g["status"] == "completed", g
        expect(self.client.call("GET", f"/v1/player/deposits/{d['id']}", token=self.tokens["bob"]),
               404, "PAYMENT_NOT_FOUND")
        n = self.env.rows("SELECT count(*) FROM ledger_transfer WHERE scope='deposit' AND ikey=?",
                          d["id"])[0][0]
        assert n == 1, n

    def webhook_replay(self):
        d = self.deposit("alice", "20.00")
        ev = self.event("deposit.succeeded", d["psp_reference"])
        assert self.webhook(ev)["outcome"] == "applied"
        before = self.ledger_rows()
        r = self.webhook(ev)
        assert r["outcome"] == "duplicate", r
        r = self.webhook(ev, t=int(time.time()) - 5)  # re-signed later: still the same event
        assert r["outcome"] == "duplicate", r
        assert self.ledger_rows() == before
        assert self.wallet("alice")["cash"] == "120.00"

    def failed_then_succeeded(self):
        d = self.deposit("alice", "5.00")
        assert self.sandbox(d["psp_reference"], "fail")["outcome"] == "applied"
        g = expect(self.client.call("GET", f"/v1/player/deposits/{d['id']}",
                                    token=self.tokens["alice"]), 200)
        assert g["status"] == "failed", g
        assert self.wallet("alice")["cash"] == "120.00"
        r = self.webhook(self.event("deposit.succeeded", d["psp_reference"]))
        assert r["outcome"] == "applied", r
        assert self.wallet("alice")["cash"] == "125.00"

    def succeeded_then_failed(self):
        d = self.deposit("alice", "7.00")
        assert self.webhook(self.event("deposit.succeeded", d["psp_reference"]))["outcome"] == "applied"
        before = self.ledger_rows()
        r = self.webhook(self.event("deposit.failed", d["psp_reference"]))
        assert r["outcome"] == "ignored", r
        assert self.ledger_rows() == before and self.wallet("alice")["cash"] == "132.00"
        st = self.env.rows("SELECT status FROM payment WHERE id=?", d["id"])[0][0]
        assert st == "completed", st
        out = self.env.rows("SELECT outcome FROM payment_event WHERE reference=? ORDER BY seq",
                            d["psp_reference"])
        assert [o[0] for o in out] == ["applied", "ignored"], out

    def webhook_refusals(self):
        d = self.deposit("bob", "10.00")
        before = self.ledger_rows()
        ev = self.event("deposit.succeeded", d["psp_reference"])
        body, h = self.signed(ev, secret="0" * 64)
        expect(self.psp.call("POST", "/v1/cashier/webhooks/sandbox", raw=body, headers=h), 401,
               "SIGNATURE_INVALID")
        body, h = self.signed(ev)
        expect(self.psp.call("POST", "/v1/cashier/webhooks/sandbox", raw=body + b" ", headers=h),
               401, "SIGNATURE_INVALID")
        expect(self.psp.call("POST", "/v1/cashier/webhooks/sandbox", raw=body), 401,
               "SIGNATURE_INVALID")
        expect(self.psp.call("POST", "/v1/cashier/webhooks/sandbox", raw=body,
                             headers={"X-Sandbox-Signature": "t=abc,v1=zz"}), 401,
               "SIGNATURE_INVALID")
        self.webhook(ev, t=int(time.time()) - 1000, status=401, code="TIMESTAMP_STALE")
        self.webhook(ev, t=int(time.time()) + 1000, status=401, code="TIMESTAMP_STALE")
        self.webhook(self.event("deposit.succeeded", "sbxp_nope"), status=404,
                     code="PAYMENT_NOT_FOUND")
        self.sandbox("sbxp_nope", status=404, code="PAYMENT_NOT_FOUND")
        self.webhook({"id": "x", "type": "deposit.succeeded"}, status=400, code="INVALID_REQUEST")
        body, h = self.signed(ev)
        expect(self.psp.call("POST", "/v1/cashier/webhooks/stripe", raw=body, headers=h), 404,
               "PSP_NOT_FOUND")
        assert self.ledger_rows() == before
        assert self.wallet("bob")["cash"] == "0.00"
        assert self.webhook(ev)["outcome"] == "applied"  # the genuine one still works
        assert self.wallet("bob")["cash"] == "10.00"

    # ---- withdrawals ----

    def withdraw(self, who, amount, key=None, status=201, code=None):
        return expect(self.client.call("POST", "/v1/player/withdrawals",
                                       {"amount": amount, "idempotency_key": key or self.key()},
                                       token=self.tokens[who]), status, code)

    def approve(self, staff, wid, status=200, code=None):
        return expect(staff.call("POST", f"/v1/admin/withdrawals/{wid}/approve"), status, code)

    def below_threshold(self):
        w = self.withdraw("alice", "30.00", key="wd-1")
        assert w["status"] == "pending_approval" and w["approvals_required"] == 1, w
        assert self.withdraw("alice", "30.00", key="wd-1", status=200)["id"] == w["id"]
        self.withdraw("alice", "31.00", key="wd-1", status=409, code="IDEMPOTENCY_CONFLICT")
        b = self.wallet("alice")
        assert (b["cash"], b["held"], b["withdrawable"]) == ("132.00", "30.00", "102.00"), b
        q = expect(self.fin1.call("GET", "/v1/admin/withdrawals?status=pending_approval"), 200)
        assert w["id"] in [i["id"] for i in q["items"]], q
        r = self.approve(self.fin1, w["id"])
        assert r["status"] == "paid" and len(r["approvals"]) == 1, r
        assert r["approvals"][0]["staff_id"] == self.fin1.id and r["requested_by"]["id"] == self.ids["alice"], r
        assert r["psp_reference"].startswith("sbxo_"), r
        b = self.wallet("alice")
        assert (b["cash"], b["held"]) == ("102.00", "0.00"), b
        rows = self.env.rows("SELECT ikey FROM ledger_transfer WHERE scope='withdrawal' AND "
                             "reference=? ORDER BY seq", w["id"])
        assert [x[0] for x in rows] == [f"{w['id']}:hold", f"{w['id']}:post"], rows
        self.approve(self.fin2, w["id"], 409, "WITHDRAWAL_STATE")
        mine = expect(self.client.call("GET", "/v1/player/withdrawals", token=self.tokens["alice"]), 200)
        assert mine["items"][0]["id"] == w["id"] and mine["items"][0]["status"] == "paid", mine

    def four_eyes(self):
        d = self.deposit("bob", "2000.00")
        self.sandbox(d["psp_reference"])
        w = self.withdraw("bob", "1000.00")
        assert w["approvals_required"] == 2, w
        r = self.approve(self.fin1, w["id"])
        assert r["status"] == "pending_approval" and len(r["approvals"]) == 1, r
        self.approve(self.fin1, w["id"], 403, "FOUR_EYES_VIOLATION")
        assert self.wallet("bob")["held"] == "1000.00"
        r = self.approve(self.fin2, w["id"])
        assert r["status"] == "paid" and [a["staff_id"] for a in r["approvals"]] == [self.fin1.id, self.fin2.id], r
        b = self.wallet("bob")
        assert (b["cash"], b["held"]) == ("1010.00", "0.00"), b
        small = self.withdraw("bob", "999.99")
        assert small["approvals_required"] == 1, small

    def failed_payout(self):
        w = self.withdraw("alice", "10.13")
        assert self.wallet("alice")["held"] == "10.13"
        r = self.approve(self.fin1, w["id"])
        assert r["status"] == "failed", r
        b = self.wallet("alice")
        assert (b["cash"], b["held"]) == ("102.00", "0.00"), b

    def reject_and_cancel(self):
        w = self.withdraw("alice", "5.00")
        r = expect(self.fin1.call("POST", f"/v1/admin/withdrawals/{w['id']}/reject",
                                  {"reason": "documents missing"}), 200)
        assert r["status"] == "rejected" and r["reason"] == "documents missing", r
        self.approve(self.fin2, w["id"], 409, "WITHDRAWAL_STATE")
        w2 = self.withdraw("alice", "6.00")
        assert self.wallet("alice")["held"] == "6.00"
        r = expect(self.client.call("DELETE", f"/v1/player/withdrawals/{w2['id']}",
                                    token=self.tokens["alice"]), 200)
        assert r["status"] == "cancelled", r
        expect(self.client.call("DELETE", f"/v1/player/withdrawals/{w2['id']}",
                                token=self.tokens["alice"]), 409, "WITHDRAWAL_STATE")
        b = self.wallet("alice")
        assert (b["cash"], b["held"]) == ("102.00", "0.00"), b
        acts = [a[0] for a in self.env.rows("SELECT action FROM audit_entry WHERE target_id IN (?, ?) "
                                            "ORDER BY seq", w["id"], w2["id"])]
        assert acts == ["withdrawal.request", "withdrawal.reject", "withdrawal.request",
                        "withdrawal.cancel"], acts

    def insufficient(self):
        before = self.ledger_rows()
        self.withdraw("alice", "102.01", status=422, code="INSUFFICIENT_FUNDS")
        self.withdraw("carl", "0.01", status=422, code="INSUFFICIENT_FUNDS")
        assert self.ledger_rows() == before

    def blocked(self):
        d = self.deposit("carl", "10.00")
        self.sandbox(d["psp_reference"])
        expect(self.admin.call("POST", f"/v1/admin/players/{self.ids['carl']}/block",
                               {"reason": "fraud check"}), 200)
        before = self.ledger_rows()
        r = self.client.call("POST", "/v1/player/withdrawals",
                             {"amount": "1.00", "idempotency_key": "blk"}, token=self.tokens["carl"])
        assert r.status == 401, r
        r = self.client.call("POST", "/v1/player/deposits",
                             {"amount": "1.00", "idempotency_key": "blk"}, token=self.tokens["carl"])
        assert r.status == 401, r
        r = self.client.call("POST", "/v1/player/login", {"brand": "alpha", "email": "carl@example.com",
                                                          "password": PASSWORD})
        assert r.status == 403 and r.json()["error"]["code"] == "PLAYER_BLOCKED", r
        assert self.ledger_rows() == before

    def bad_input(self):
        before = self.ledger_rows()
        for path in ("/v1/player/deposits", "/v1/player/withdrawals"):
            for body, status, code in (
                    ({"amount": "abc", "idempotency_key": "b"}, 422, "AMOUNT_INVALID"),
                    ({"amount": "-1.00", "idempotency_key": "b"}, 422, "AMOUNT_INVALID"),
                    ({"amount": "0.00", "idempotency_key": "b"}, 422, "AMOUNT_INVALID"),
                    ({"amount": "1.001", "idempotency_key": "b"}, 422, "AMOUNT_INVALID"),
                    ({"amount": 5, "idempotency_key": "b"}, 422, "FIELD_INVALID"),
                    ({"amount": "1.00"}, 422, "FIELD_MISSING"),
                    ({"amount": "1.00", "idempotency_key": "has space"}, 422, "FIELD_INVALID"),
                    ({"amount": "99999999999.00", "idempotency_key": "b"}, 422, "AMOUNT_OUT_OF_RANGE"),
                    ({"amount": "1.00", "idempotency_key": "b", "x": 1}, 400, "UNKNOWN_FIELD")):
                expect(self.client.call("POST", path, body, token=self.tokens["alice"]), status, code)
            expect(self.client.call("POST", path, raw=b"{", token=self.tokens["alice"]), 400)
            expect(self.client.call("POST", path, {"amount": "1.00", "idempotency_key": "b"}), 401)
        expect(self.client.call("GET", "/v1/player/deposits/nope", token=self.tokens["alice"]), 404,
               "PAYMENT_NOT_FOUND")
        expect(self.client.call("DELETE", "/v1/player/withdrawals/nope", token=self.tokens["alice"]),
               404, "WITHDRAWAL_NOT_FOUND")
        expect(self.client.call("GET", "/v1/player/withdrawals?limit=0", token=self.tokens["alice"]),
               422, "FIELD_INVALID")
        self.approve(self.fin1, "0190aaaa-0000-7000-8000-000000000000", 404, "WITHDRAWAL_NOT_FOUND")
        expect(self.fin1.call("GET", "/v1/admin/withdrawals/nope"), 404, "WITHDRAWAL_NOT_FOUND")
        expect(self.fin1.call("GET", "/v1/admin/withdrawals?status=bogus"), 422, "FIELD_INVALID")
        w = self.withdraw("alice", "1.00")
        before = self.ledger_rows()
        for body, status, code in (({}, 422, "FIELD_MISSING"), ({"reason": "  "}, 422, "FIELD_INVALID"),
                                   ({"reason": "x", "y": 1}, 400, "UNKNOWN_FIELD")):
            expect(self.fin1.call("POST", f"/v1/admin/withdrawals/{w['id']}/reject", body), status, code)
        expect(self.fin1.call("POST", f"/v1/admin/withdrawals/{w['id']}/approve", {"x": 1}), 400)
        expect(self.psp.call("POST", "/v1/sandbox-psp/payments/x/complete", {"x": 1}), 400)
        assert self.ledger_rows() == before
        g = expect(self.fin1.call("GET", f"/v1/admin/withdrawals/{w['id']}"), 200)
        assert g["status"] == "pending_approval" and g["approvals"] == [], g

    def stop_and_verify(self):
        assert self.env.stop() == 0
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0, r.stdout + r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_cashier.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: a brand, two finance members, players; the sandbox secret is 0600", run.setup),
        ("deposit end to end: pending, completed by the sandbox, credited once; key replay", run.deposit_end_to_end),
        ("webhook replay: the same event twice changes nothing", run.webhook_replay),
        ("deposit.failed then deposit.succeeded: credited", run.failed_then_succeeded),
        ("deposit.succeeded then deposit.failed: recorded, ignored", run.succeeded_then_failed),
        ("bad signature, stale timestamp, unknown reference or PSP: refused, nothing moves", run.webhook_refusals),
        ("withdrawal below the threshold: one approval, paid, hold posted", run.below_threshold),
        ("withdrawal at the threshold: 4-eyes (same member twice refused), paid", run.four_eyes),
        ("payout failure (amount ending in 13): the money is back", run.failed_payout),
        ("reject and cancel void the hold; audited", run.reject_and_cancel),
        ("insufficient funds: refused, nothing moves", run.insufficient),
        ("a blocked player cannot deposit or withdraw (token ended, login refused)", run.blocked),
        ("bad input on every route: 4xx, the ledger unchanged", run.bad_input),
        ("SIGTERM exits 0; `ledger verify` and `audit verify` pass", run.stop_and_verify),
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
