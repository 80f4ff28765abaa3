"""test_unclaimed_settle.py — 4-eyes for settlements of a brand's unclaimed funds over
real HTTP. The unclaimed funds are made the way they arise: a player bets all her cash
on a round left open, the round idles past 30 days, she is erased, and the provider's
late win lands on the brand's unclaimed_funds account.

Every settlement is a request (POST /v1/admin/unclaimed-funds/settlements: 202,
pending, nothing moves; bad input and more than the balance refused with nothing
written; the same key and body 200 replayed, another body IDEMPOTENCY_CONFLICT) that a
second member with finance.adjust approves (the transfer made once, audited and
announced with requested_by and approved_by; an approval again answers the same
transfer) or rejects (nothing moves; the requester may withdraw their own). The
requester cannot approve (403 FOUR_EYES_VIOLATION); an approval with the balance gone
is 422 INSUFFICIENT_FUNDS and the request stays pending; a decided request is 409
SETTLEMENT_STATE; a disabled approver's session is refused; a request past the brand's
unclaimed_settlement_expiry_hours reads expired and the decision that finds it so marks
it expired (409). GET list / one are brand-scoped (404 SETTLEMENT_NOT_FOUND outside, as
for an unknown or malformed id). The unclaimed-funds list shows a settlement's
reference and request id. Ends with `pitboss ledger verify` and `pitboss audit verify`.

Usage: test_unclaimed_settle.py PATH/TO/pitboss
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
from admin_helpers import (Client, Env, Staff, account_balance, age_settlement,  # noqa: E402
                           create_staff, expect, register_player)
from harness import run_cases  # noqa: E402

SECRET = bytes.fromhex("5b" * 32)
PASSWORD = "Player-pass-77"
PATH = "/v1/admin/unclaimed-funds/settlements"
EXPIRY = "settings.unclaimed_settlement_expiry_hours"
HOUR_US = 3600 * 1000000
UNKNOWN = "0190aaaa-0000-7000-8000-000000000000"


class Run:
    # serve's sweep would mark the requests aged here before the decision that should
    # find them past their time (test_settle_sweep.py tests the sweep): one pass at start
    START = ("--request-sweep-seconds", "86400")

    def __init__(self, env):
        self.env = env
        self.n = 0

    def key(self):
        self.n += 1
        return f"settle-{self.n}"

    # ---- the unclaimed funds, as they arise ----

    def provider(self, op, body):
        """One signed call of the native protocol (studio)."""
        data = json.dumps(body).encode()
        ts = str(int(time.time()))
        sig = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + data, hashlib.sha256).hexdigest()
        srv = self.env.srv
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
        try:
            c.request("POST", f"/v1/providers/studio/{op}", body=data,
                      headers={"Content-Type": "application/json", "X-Pitboss-Timestamp": ts,
                               "X-Pitboss-Signature": sig})
            r = c.getresponse()
            status, out = r.status, json.loads(r.read())
        finally:
            c.close()
        assert status == 200, (op, status, out)
        return out

    def erased_with_late_win(self, name, win):
        """A player of alpha erased with a round open; its late win (all cash) lands on
        alpha's unclaimed funds in EUR."""
        email = f"{name}@example.com"
        pid = register_player(self.client, "alpha", email)
        access = expect(self.client.call("POST", "/v1/player/login",
                                         {"brand": "alpha", "email": email,
                                          "password": PASSWORD}), 200)["access_token"]
        tok = expect(self.client.call("POST", "/v1/player/games/studio/slot1/launch",
                                      token=access), 201)["token"]
        expect(self.admin.call("POST", f"/v1/admin/players/{pid}/adjustments",
                               {"balance": "cash", "direction": "credit", "amount": "10.00",
                                "reason": "test funds", "idempotency_key": f"fund-{pid}"}), 201)
        rnd, bet = f"{name}-r1", f"{name}-b1"
        self.provider("bet", {"token": tok, "transaction_id": bet, "round_id": rnd,
                              "game": "slot1", "currency": "EUR", "amount": "10.00"})
        self.provider("win", {"token": tok, "transaction_id": f"{name}-w0", "round_id": rnd,
                              "bet_transaction_id": bet, "currency": "EUR", "amount": "0.00",
                              "close_round": False})
        con = sqlite3.connect(self.env.db, timeout=30)
        with con:  # the round idle 31 days: abandoned, she may be erased
            con.execute("UPDATE wallet_op SET created_at = created_at - ? WHERE player = ?",
                        (31 * 86400 * 1000000, pid))
        con.close()
        expect(self.admin.call("POST", f"/v1/admin/players/{pid}/erase", {"reason": "GDPR"}), 200)
        self.provider("win", {"token": tok, "transaction_id": f"{name}-w1", "round_id": rnd,
                              "bet_transaction_id": bet, "currency": "EUR", "amount": win})

    def unclaimed(self):
        return account_balance(self.env.db, "alpha", "brand", "unclaimed_funds", "EUR")[0]

    def remitted(self):
        return account_balance(self.env.db, "alpha", "brand", "remitted", "EUR")[0] or 0

    def transfers(self):
        return self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0]

    def stored(self, rid):
        return self.env.rows("SELECT status, decided_by, decided_at, transfer_id FROM "
                             "unclaimed_settlement_request WHERE public_id=?", rid)[0]

    def events(self, type_):
        return [json.loads(p) for (p,) in self.env.rows(
            "SELECT payload FROM event_outbox WHERE type=? ORDER BY id", type_)]

    def audits(self, action):
        return [(actor, json.loads(after), reason) for actor, after, reason in self.env.rows(
            "SELECT actor_id, after, reason FROM audit_entry WHERE action=? ORDER BY seq",
            action)]

    def writes(self):
        """What a refused call must leave as it was."""
        return [self.env.rows(f"SELECT count(*) FROM {t}")[0][0] for t in
                ("ledger_transfer", "ledger_account", "unclaimed_settlement_request",
                 "audit_entry", "event_outbox")] + [self.unclaimed(), self.remitted()]

    def request(self, staff, amount, destination="remitted", reference="ESCH-1", key=None,
                reason="escheatment"):
        body = {"brand": "alpha", "currency": "EUR", "amount": amount,
                "destination": destination, "reason": reason,
                "idempotency_key": key or self.key()}
        if reference is not None:
            body["reference"] = reference
        return staff.call("POST", PATH, body)

    # ---- cases ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start(*self.START)
        self.admin = Staff(env, "root@example.com", otp, "127.0.4.10").activate("Blue-Falcon-0-Xy")
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "alpha", "name": "Alpha", "default_currency": "EUR",
                                "currencies": ["EUR", "USD"], "jurisdiction": "MT",
                                "settings": {"funding_policy": "cash_first",
                                             "erase_after_days": 0}}), 201)
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "beta", "name": "Beta", "default_currency": "EUR",
                                "jurisdiction": "MT"}), 201)
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "studio", "name": "Studio", "protocol": "native",
                                "secret": SECRET.hex()}), 201)
        expect(self.admin.call("POST", "/v1/admin/providers/studio/games",
                               {"code": "slot1", "name": "Slot1", "category": "slots",
                                "rtp_bp": 9600, "volatility": "medium",
                                "limits": [{"currency": "EUR", "min_bet": "0.10",
                                            "max_bet": "100.00"}]}), 201)
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/studio/slot1",
                               {"enabled": True}), 200)
        self.fin1 = create_staff(env, self.admin, "fin1@example.com", "finance", "127.0.4.11",
                                 brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.fin2 = create_staff(env, self.admin, "fin2@example.com", "finance", "127.0.4.12",
                                 brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.fin3 = create_staff(env, self.admin, "fin3@example.com", "finance", "127.0.4.13",
                                 brands=["alpha"]).activate("Blue-Falcon-3-Xy")
        self.fin_beta = create_staff(env, self.admin, "finb@example.com", "finance",
                                     "127.0.4.14", brands=["beta"]).activate("Blue-Falcon-4-Xy")
        self.support = create_staff(env, self.admin, "sup@example.com", "support", "127.0.4.15",
                                    brands=["alpha"]).activate("Blue-Falcon-5-Xy")
        self.client = Client(env, "127.0.4.20")
        self.erased_with_late_win("olga", "50.00")
        assert self.unclaimed() == 5000, self.unclaimed()

    def bad_input(self):
        """Validated as before the 4-eyes: the same codes, nothing written."""
        ok = {"brand": "alpha", "currency": "EUR", "amount": "2.00", "destination": "remitted",
              "reference": "ESCH-2025/0042", "reason": "escheatment", "idempotency_key": "bad-1"}
        bad = [({k: v for k, v in ok.items() if k != "brand"}, 422, "FIELD_MISSING", "brand"),
               ({k: v for k, v in ok.items() if k != "reason"}, 422, "FIELD_MISSING", "reason"),
               ({k: v for k, v in ok.items() if k != "reference"}, 422, "FIELD_INVALID",
                "reference"),
               (dict(ok, reference=" lead"), 422, "FIELD_INVALID", "reference"),
               (dict(ok, destination="player"), 422, "FIELD_INVALID", "destination"),
               (dict(ok, currency="XXX"), 422, "FIELD_INVALID", "currency"),
               (dict(ok, amount="0.00"), 422, "AMOUNT_INVALID", "amount"),
               (dict(ok, amount="1.001"), 422, "AMOUNT_INVALID", "amount"),
               (dict(ok, reason="   "), 422, "FIELD_INVALID", "reason"),
               (dict(ok, idempotency_key="has space"), 422, "FIELD_INVALID", "idempotency_key"),
               (dict(ok, extra=1), 400, "UNKNOWN_FIELD", None),
               (dict(ok, brand="beta"), 403, "BRAND_FORBIDDEN", "brand"),
               (dict(ok, amount="50.01"), 422, "INSUFFICIENT_FUNDS", "amount"),
               (dict(ok, currency="USD"), 422, "INSUFFICIENT_FUNDS", "amount")]
        before = self.writes()
        for body, status, code, field in bad:
            err = expect(self.fin1.call("POST", PATH, body), status, code)
            if field:
                assert err["error"].get("field") == field, (body, err)
        expect(self.support.call("POST", PATH, ok), 403, "FORBIDDEN")
        assert self.writes() == before

    def requested(self):
        """A request: 202 pending, nothing moves; replay 200; another body 409."""
        before, ledger = self.writes(), self.transfers()
        r = expect(self.request(self.fin1, "20.00", reference="ESCH-2025/0042", key="rq-1",
                                reason="escheatment to the state"), 202)
        want = {"brand": "alpha", "currency": "EUR", "amount": "20.00",
                "destination": "remitted", "reference": "ESCH-2025/0042", "status": "pending",
                "requested_by": self.fin1.id, "replayed": False, "transfer_id": None,
                "decided_by": None, "reason": "escheatment to the state",
                "idempotency_key": "rq-1", "requested_by_email": "fin1@example.com",
                "decided_by_email": None}
        assert {k: r.get(k) for k in want} == want and r["id"] and r["requested_at"], r
        assert "decided_by_email" in r, r  # null while pending, not left out
        self.first = r["id"]
        assert self.transfers() == ledger and self.unclaimed() == 5000
        assert self.writes()[2] == before[2] + 1
        again = expect(self.request(self.fin1, "20.00", reference="ESCH-2025/0042", key="rq-1"),
                       200)
        assert again["id"] == self.first and again["replayed"] is True, again
        assert again["requested_by_email"] == "fin1@example.com", again
        for body in (dict(amount="20.01"), dict(reference="ESCH-9"),
                     dict(destination="house", reference=None)):
            args = {"amount": "20.00", "reference": "ESCH-2025/0042", "key": "rq-1"}
            args.update(body)
            err = expect(self.request(self.fin1, **args), 409, "IDEMPOTENCY_CONFLICT")
            assert err["error"]["field"] == "idempotency_key", err
        assert self.writes()[2] == before[2] + 1 and self.transfers() == ledger
        a = self.audits("funds.unclaimed_settle_request")
        assert len(a) == 1 and a[0][0] == self.fin1.id and a[0][1]["id"] == self.first, a
        # the audit entry and the event name staff by id only (no e-mails)
        assert "requested_by_email" not in a[0][1] and "decided_by_email" not in a[0][1], a
        ev = self.events("funds.unclaimed_settlement_requested")
        assert len(ev) == 1 and ev[0]["settlement_id"] == self.first, ev
        assert "@example.com" not in json.dumps(ev), ev
        assert ev[0]["amount"] == "20.00" and ev[0]["reference"] == "ESCH-2025/0042", ev
        g = expect(self.fin2.call("GET", f"{PATH}/{self.first}"), 200)
        assert g["status"] == "pending" and g["id"] == self.first, g
        # the other member (finance: no staff.read) sees who asked
        assert g["requested_by_email"] == "fin1@example.com" and g["decided_by_email"] is None, g
        lst = expect(self.fin2.call("GET", f"{PATH}?status=pending&brand=alpha"), 200)
        assert [i["id"] for i in lst["items"]] == [self.first], lst
        assert lst["items"][0] == g, (lst, g)

    def self_approval_refused(self):
        before = self.writes()
        err = expect(self.fin1.call("POST", f"{PATH}/{self.first}/approve"), 403,
                     "FOUR_EYES_VIOLATION")
        assert "other than" in err["error"]["message"], err
        assert self.writes() == before and self.stored(self.first)[0] == "pending"

    def scope_and_ids(self):
        """Another brand's member, unknown and malformed ids: 404, nothing told."""
        before = self.writes()
        for who in (self.fin_beta,):
            expect(who.call("GET", f"{PATH}/{self.first}"), 404, "SETTLEMENT_NOT_FOUND")
            expect(who.call("POST", f"{PATH}/{self.first}/approve"), 404, "SETTLEMENT_NOT_FOUND")
            expect(who.call("POST", f"{PATH}/{self.first}/reject", {"reason": "no"}), 404,
                   "SETTLEMENT_NOT_FOUND")
            expect(who.call("GET", f"{PATH}?brand=alpha"), 403, "BRAND_FORBIDDEN")
            assert expect(who.call("GET", PATH), 200)["items"] == []
        for rid in (UNKNOWN, "not-an-id", "x" * 60):
            expect(self.fin2.call("GET", f"{PATH}/{rid}"), 404, "SETTLEMENT_NOT_FOUND")
            expect(self.fin2.call("POST", f"{PATH}/{rid}/approve"), 404, "SETTLEMENT_NOT_FOUND")
            expect(self.fin2.call("POST", f"{PATH}/{rid}/reject", {"reason": "no"}), 404,
                   "SETTLEMENT_NOT_FOUND")
        expect(self.fin2.call("GET", f"{PATH}?status=maybe"), 422, "FIELD_INVALID")
        expect(self.support.call("GET", PATH), 403, "FORBIDDEN")
        expect(self.fin2.call("POST", f"{PATH}/{self.first}/reject", {}), 422, "FIELD_MISSING")
        # malformed, wrong-typed, oversize and unknown fields on the decisions; bad list queries
        approve, reject = f"{PATH}/{self.first}/approve", f"{PATH}/{self.first}/reject"
        got = []
        for path, kw in ((reject, {"raw": b"{"}), (reject, {"raw": b"[1]"}),
                         (reject, {"body": {"reason": "x", "extra": 1}}),
                         (reject, {"body": {"reason": 5}}), (reject, {"body": {"reason": ""}}),
                         (reject, {"body": {"reason": "r" * 5000}}),
                         (approve, {"raw": b"{"}), (approve, {"body": {"extra": 1}})):
            res = self.fin2.call("POST", path, kw.get("body"), raw=kw.get("raw"))
            got.append((path.rsplit("/", 1)[1], res.status, res.json().get("error", {}).get("code")
                        if res.body[:1] == b"{" else None))
        for q in ("limit=0", "limit=abc", "limit=100000", "cursor=abc", "cursor=0", "status=",
                  "brand=" + "b" * 40, "status=%zz"):
            res = self.fin2.call("GET", f"{PATH}?{q}")
            got.append((q, res.status, res.json().get("error", {}).get("code")))
        assert all(400 <= st < 500 and code for _, st, code in got), got
        assert self.writes() == before and self.stored(self.first)[0] == "pending"

    def disabled_approver(self):
        """A member disabled after logging in: their approval is refused, nothing moves."""
        before = self.writes()
        expect(self.admin.call("PATCH", f"/v1/admin/staff/{self.fin3.id}", {"active": False}), 200)
        r = self.fin3.call("POST", f"{PATH}/{self.first}/approve")
        assert r.status == 401 and r.json()["error"]["code"] == "SESSION_REVOKED", r.body
        after = self.writes()
        assert after[:2] == before[:2] and after[2] == before[2] and after[5:] == before[5:]
        assert self.stored(self.first)[0] == "pending"

    def approved_once(self):
        """The second member approves: one transfer, audited and announced; again: the
        same answer, nothing moves twice; then it cannot be rejected."""
        ledger = self.transfers()
        a = expect(self.fin2.call("POST", f"{PATH}/{self.first}/approve"), 200)
        s = a["settlement"]
        assert a["replayed"] is False and a["unclaimed_balance"] == "30.00", a
        assert s["status"] == "approved" and s["decided_by"] == self.fin2.id, s
        assert s["requested_by_email"] == "fin1@example.com", s
        assert s["decided_by_email"] == "fin2@example.com", s
        assert s["transfer_id"] and s["decided_at"], s
        assert self.transfers() == ledger + 1
        assert self.unclaimed() == 3000 and self.remitted() == 2000
        row = self.env.rows("SELECT amount, code FROM ledger_transfer WHERE scope='unclaimed:alpha' "
                            "AND ikey='rq-1'")
        assert row == [(2000, 31)], row
        again = expect(self.fin2.call("POST", f"{PATH}/{self.first}/approve"), 200)
        assert again["replayed"] is True and again["settlement"]["transfer_id"] == s["transfer_id"]
        assert again["settlement"]["decided_by_email"] == "fin2@example.com", again
        expect(self.admin.call("POST", f"{PATH}/{self.first}/approve"), 200)  # a third member
        assert self.transfers() == ledger + 1 and self.unclaimed() == 3000
        expect(self.fin2.call("POST", f"{PATH}/{self.first}/reject", {"reason": "late"}), 409,
               "SETTLEMENT_STATE")
        au = self.audits("funds.unclaimed_settled")
        assert len(au) == 1, au
        actor, after, reason = au[0]
        want = {"transfer_id": s["transfer_id"], "destination": "remitted",
                "reference": "ESCH-2025/0042", "amount": "20.00", "balance": "30.00",
                "requested_by": self.fin1.id, "approved_by": self.fin2.id,
                "settlement_id": self.first}
        assert actor == self.fin2.id and {k: after.get(k) for k in want} == want, au
        assert "@example.com" not in json.dumps(after), au
        assert reason == "escheatment to the state", au
        ev = self.events("funds.unclaimed_settled")
        assert len(ev) == 1, ev
        want = {"transfer_id": s["transfer_id"], "destination": "remitted",
                "reference": "ESCH-2025/0042", "amount": "20.00", "balance": "30.00",
                "staff_id": self.fin2.id, "requested_by": self.fin1.id,
                "settlement_id": self.first}
        assert {k: ev[0].get(k) for k in want} == want, ev
        # the unclaimed-funds list: the entry with its destination, reference and request
        page = expect(self.fin1.call("GET", "/v1/admin/unclaimed-funds?brand=alpha"), 200)
        e = page["entries"][0]
        assert (e["kind"], e["direction"], e["amount"], e["destination"], e["reference"],
                e["settlement_id"], e["id"]) == ("settlement", "debit", "20.00", "remitted",
                                                 "ESCH-2025/0042", self.first,
                                                 s["transfer_id"]), e
        assert page["entries"][1]["kind"] == "win" and "reference" not in page["entries"][1]

    def rejected(self):
        """Rejected by the second member, withdrawn by the requester: nothing moves;
        a rejected request cannot be approved."""
        ledger, unclaimed = self.transfers(), self.unclaimed()
        r1 = expect(self.request(self.fin1, "5.00", destination="house", reference=None), 202)
        assert r1["reference"] is None, r1
        r2 = expect(self.request(self.fin1, "6.00"), 202)
        j = expect(self.fin2.call("POST", f"{PATH}/{r1['id']}/reject",
                                  {"reason": "wrong authority"}), 200)
        s = j["settlement"]
        assert (s["status"], s["decided_by"], s["decision_reason"], s["transfer_id"]) == \
            ("rejected", self.fin2.id, "wrong authority", None), s
        assert (s["requested_by_email"], s["decided_by_email"]) == \
            ("fin1@example.com", "fin2@example.com"), s
        # the requester withdraws their own
        w = expect(self.fin1.call("POST", f"{PATH}/{r2['id']}/reject",
                                  {"reason": "entered twice"}), 200)
        assert w["settlement"]["status"] == "rejected" and \
            w["settlement"]["decided_by"] == self.fin1.id, w
        assert w["settlement"]["decided_by_email"] == "fin1@example.com", w
        expect(self.fin2.call("POST", f"{PATH}/{r1['id']}/approve"), 409, "SETTLEMENT_STATE")
        expect(self.fin2.call("POST", f"{PATH}/{r1['id']}/reject", {"reason": "x"}), 409,
               "SETTLEMENT_STATE")
        assert self.transfers() == ledger and self.unclaimed() == unclaimed
        au = self.audits("funds.unclaimed_settle_reject")
        assert [(a[0], a[1]["id"], a[2]) for a in au] == \
            [(self.fin2.id, r1["id"], "wrong authority"),
             (self.fin1.id, r2["id"], "entered twice")], au
        ev = self.events("funds.unclaimed_settlement_rejected")
        assert [e["settlement_id"] for e in ev] == [r1["id"], r2["id"]], ev
        lst = expect(self.fin2.call("GET", f"{PATH}?status=rejected"), 200)
        assert [i["id"] for i in lst["items"]] == [r2["id"], r1["id"]], lst
        assert [i["decided_by_email"] for i in lst["items"]] == \
            ["fin1@example.com", "fin2@example.com"], lst

    def balance_gone(self):
        """Two requests of the whole balance: the first approved, the second refused
        INSUFFICIENT_FUNDS and still pending, nothing moved."""
        r1 = expect(self.request(self.fin1, "30.00", destination="house", reference=None), 202)
        r2 = expect(self.request(self.fin1, "30.00"), 202)
        expect(self.fin2.call("POST", f"{PATH}/{r1['id']}/approve"), 200)
        assert self.unclaimed() == 0
        before = self.writes()
        err = expect(self.fin2.call("POST", f"{PATH}/{r2['id']}/approve"), 422,
                     "INSUFFICIENT_FUNDS")
        assert err["error"]["field"] == "amount", err
        assert self.writes() == before and self.stored(r2["id"])[0] == "pending"
        # a new request beyond the balance is refused at once
        expect(self.request(self.fin1, "0.01"), 422, "INSUFFICIENT_FUNDS")
        # more money arrives: the waiting request goes through
        self.erased_with_late_win("pia", "30.00")
        a = expect(self.fin2.call("POST", f"{PATH}/{r2['id']}/approve"), 200)
        assert a["settlement"]["status"] == "approved" and a["unclaimed_balance"] == "0.00", a
        assert self.remitted() == 5000

    def expiry(self):
        for bad in (0, 721, "72", 1.5):
            r = self.admin.call("PATCH", "/v1/admin/brands/beta",
                                {"settings": {"unclaimed_settlement_expiry_hours": bad}})
            expect(r, 422, "FIELD_INVALID")
            assert r.json()["error"]["field"] == EXPIRY, r.body
        self.erased_with_late_win("quinn", "40.00")
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": {"funding_policy": "cash_first", "erase_after_days": 0,
                                             "unclaimed_settlement_expiry_hours": 1}}), 200)
        ids = [expect(self.request(self.fin1, "10.00"), 202)["id"] for _ in range(3)]
        old, other, young = ids
        age_settlement(self.env.db, old, HOUR_US)
        age_settlement(self.env.db, other, 2 * HOUR_US)
        age_settlement(self.env.db, young, HOUR_US - 60 * 1000000)
        lst = expect(self.fin2.call("GET", f"{PATH}?status=expired"), 200)
        assert [i["id"] for i in lst["items"]] == [other, old], lst
        lst = expect(self.fin2.call("GET", f"{PATH}?status=pending"), 200)
        pend = [i["id"] for i in lst["items"]]
        assert young in pend and old not in pend and other not in pend, lst
        g = expect(self.fin2.call("GET", f"{PATH}/{old}"), 200)
        assert g["status"] == "expired" and g["decided_at"] is None, g
        assert g["decided_by_email"] is None, g
        assert self.stored(old)[0] == "pending"
        ledger, unclaimed = self.transfers(), self.unclaimed()
        r = self.fin2.call("POST", f"{PATH}/{old}/approve")
        expect(r, 409, "SETTLEMENT_STATE")
        assert "expired" in r.json()["error"]["message"], r.body
        st, by, at, tid = self.stored(old)
        assert (st, by, tid) == ("expired", None, None) and at, (st, by, at)
        # one stored expired, one still pending past its time: the list merges both
        lst = expect(self.fin2.call("GET", f"{PATH}?status=expired"), 200)
        assert [i["id"] for i in lst["items"]] == [other, old], lst
        assert all(i["status"] == "expired" and i["decided_by_email"] is None
                   for i in lst["items"]), lst
        lst = expect(self.fin2.call("GET", f"{PATH}?status=expired&limit=1"), 200)
        assert [i["id"] for i in lst["items"]] == [other] and lst["next_cursor"], lst
        nxt = expect(self.fin2.call("GET", f"{PATH}?status=expired&limit=1&cursor="
                                    f"{lst['next_cursor']}"), 200)
        assert [i["id"] for i in nxt["items"]] == [old], nxt
        r = self.fin2.call("POST", f"{PATH}/{other}/reject", {"reason": "late"})
        expect(r, 409, "SETTLEMENT_STATE")
        assert "expired" in r.json()["error"]["message"], r.body
        assert self.stored(other)[0] == "expired"
        assert self.transfers() == ledger and self.unclaimed() == unclaimed
        au = self.audits("funds.unclaimed_settle_expire")
        assert [(a[0], a[1]["id"]) for a in au] == [(self.fin2.id, old), (self.fin2.id, other)]
        ev = self.events("funds.unclaimed_settlement_expired")
        assert [e["settlement_id"] for e in ev] == [old, other], ev
        a = expect(self.fin2.call("POST", f"{PATH}/{young}/approve"), 200)
        assert a["settlement"]["status"] == "approved", a
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": {"funding_policy": "cash_first",
                                             "erase_after_days": 0}}), 200)

    def stop_and_verify(self):
        assert self.env.stop() == 0
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0, r.stdout + r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_unclaimed_settle.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: brands, a native provider, finance members; an erased player's late win "
         "on alpha's unclaimed funds", run.setup),
        ("bad input, another brand, more than the balance, no permission: refused as before, "
         "nothing written", run.bad_input),
        ("a request: 202 pending, nothing moves, audited and announced; the same key and body "
         "200 replayed; another body IDEMPOTENCY_CONFLICT; GET and list show it",
         run.requested),
        ("the requester cannot approve: 403 FOUR_EYES_VIOLATION", run.self_approval_refused),
        ("another brand's member, unknown and malformed ids: 404 SETTLEMENT_NOT_FOUND",
         run.scope_and_ids),
        ("a disabled member's approval is refused, nothing moves", run.disabled_approver),
        ("approved by a second member: one transfer, audited with requester and approver, "
         "announced, listed with its reference; approved again: the same transfer",
         run.approved_once),
        ("rejected by the second member, withdrawn by the requester: nothing moves; a "
         "rejected request cannot be approved", run.rejected),
        ("the balance gone at approval: 422 INSUFFICIENT_FUNDS, still pending, nothing moved",
         run.balance_gone),
        ("expiry: past the brand's unclaimed_settlement_expiry_hours reads expired; the "
         "decision that finds it so marks it expired (409), audited and announced",
         run.expiry),
        ("SIGTERM exits 0; `ledger verify` and `audit verify` pass", run.stop_and_verify),
    ]
    return run_cases(cases, env.cleanup)


if __name__ == "__main__":
    sys.exit(main())
