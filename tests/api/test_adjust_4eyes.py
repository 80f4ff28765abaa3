"""test_adjust_4eyes.py — 4-eyes for large staff adjustments over real HTTP: the brand
setting adjustment_4eyes_thresholds (currency -> minor units); below it an adjustment
is applied at once (201, as before); at or above it, it waits as a pending request
(202, no money moves) until a second member with finance.adjust approves it (the
transfer is made then, once) or rejects it. The requester cannot approve their own
(403 FOUR_EYES_VIOLATION), a member of another brand can neither see nor decide it
(404 ADJUSTMENT_NOT_FOUND, as an unknown one), a debit beyond the balance at approval is
refused and stays pending, a key the ledger refused a direct adjustment under
is the ledger's to answer on the request path too (no request that could only fail at
its approval), a pending request blocks the player's erasure (409
PLAYER_HAS_PENDING_ADJUSTMENT), an erased player's request cannot be approved (409
PLAYER_ERASED). A request pending longer than the brand's adjustment_request_expiry_hours
reads expired, and the approval or rejection that finds it so marks it expired (409
ADJUSTMENT_STATE); serve's sweep, which marks the untouched ones, is kept from running
here (test_adjust_sweep.py covers it). GET /v1/admin/adjustments/{id} answers one request (404 outside the
caller's brands). Ends with `pitboss ledger verify` and `pitboss audit verify`.

Usage: test_adjust_4eyes.py PATH/TO/pitboss
"""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Client, Env, Staff, age_adjustment, create_staff, expect,  # noqa: E402
                           register_player)
from harness import run_cases  # noqa: E402

PASSWORD = "Player-pass-77"
FIELD = "settings.adjustment_4eyes_thresholds"
EXPIRY = "settings.adjustment_request_expiry_hours"
HOUR_US = 3600 * 1000000


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0

    def key(self):
        self.n += 1
        return f"adj4-{self.n}"

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        # no expiry sweep pass but the one at start: `expired` shows what an approval or
        # rejection does to a request past its time (the sweep: test_adjust_sweep.py)
        env.start("--adjust-sweep-seconds", "86400")
        self.admin = Staff(env, "root@example.com", otp, "127.0.3.10").activate("Blue-Falcon-0-Xy")
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "alpha", "name": "Alpha", "default_currency": "EUR",
                                "currencies": ["EUR", "JPY"], "jurisdiction": "MT",
                                "settings": {"adjustment_4eyes_thresholds": {"EUR": 100000},
                                             "erase_after_days": 0}}), 201)
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "beta", "name": "Beta", "default_currency": "EUR",
                                "jurisdiction": "MT"}), 201)
        self.fin1 = create_staff(env, self.admin, "fin1@example.com", "finance", "127.0.3.11",
                                 brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.fin2 = create_staff(env, self.admin, "fin2@example.com", "finance", "127.0.3.12",
                                 brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.fin_beta = create_staff(env, self.admin, "finb@example.com", "finance", "127.0.3.13",
                                     brands=["beta"]).activate("Blue-Falcon-3-Xy")
        self.client = Client(env, "127.0.3.20")
        self.alice = register_player(self.client, "alpha", "alice@example.com")
        self.yuki = register_player(self.client, "alpha", "yuki@example.com", currency="JPY")
        r = expect(self.client.call("POST", "/v1/player/login",
                                    {"brand": "alpha", "email": "alice@example.com",
                                     "password": PASSWORD}), 200)
        self.alice_token = r["access_token"]

    def adjust(self, staff, player, balance, direction, amount, key=None, reason="test"):
        return staff.call("POST", f"/v1/admin/players/{player}/adjustments",
                          {"balance": balance, "direction": direction, "amount": amount,
                           "reason": reason, "idempotency_key": key or self.key()})

    def cash(self):
        w = expect(self.client.call("GET", "/v1/player/wallet", token=self.alice_token), 200)
        return w["cash"]

    def ledger_rows(self):
        return self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0]

    def events(self, type_):
        return [(b, s, json.loads(p)) for b, s, p in
                self.env.rows("SELECT brand, subject, payload FROM event_outbox WHERE type=? "
                              "ORDER BY id", type_)]

    def settings_checked(self):
        for bad in ({"EUR": "1000"}, {"EUR": 0}, {"EURO": 100}, 5000, {"EUR": 10.5}):
            r = self.admin.call("PATCH", "/v1/admin/brands/beta",
                                {"settings": {"adjustment_4eyes_thresholds": bad}})
            expect(r, 422, "FIELD_INVALID")
            assert r.json()["error"]["field"] == FIELD, r.body
        r = expect(self.admin.call("GET", "/v1/admin/brands/alpha"), 200)
        assert r["brand"]["settings"]["adjustment_4eyes_thresholds"] == {"EUR": 100000}, r

    def below_threshold(self):
        before = self.ledger_rows()
        r = expect(self.adjust(self.fin1, self.alice, "cash", "credit", "999.99"), 201)
        assert r["balance"]["cash"] == "999.99", r
        # JPY has no threshold on alpha: no 4-eyes, however large
        expect(self.adjust(self.fin1, self.yuki, "cash", "credit", "50000000"), 201)
        assert self.ledger_rows() == before + 2
        assert not self.env.rows("SELECT 1 FROM adjustment_request")

    def at_threshold_pending(self):
        before, cash = self.ledger_rows(), self.cash()
        r = expect(self.adjust(self.fin1, self.alice, "cash", "credit", "1000.00", key="big-1",
                               reason="goodwill"), 202)
        assert r["status"] == "pending" and r["amount"] == "1000.00" and r["currency"] == "EUR", r
        assert r["requested_by"] == self.fin1.id and r["player_id"] == self.alice, r
        assert r["replayed"] is False and r["transfer_id"] is None, r
        # staff named by e-mail too (finance cannot read the staff list); none decided yet
        assert r["requested_by_email"] == "fin1@example.com", r
        assert "decided_by_email" in r and r["decided_by_email"] is None, r
        self.big = r["id"]
        assert self.ledger_rows() == before and self.cash() == cash
        # a replay answers the same request; another body under the key is a conflict
        again = expect(self.adjust(self.fin1, self.alice, "cash", "credit", "1000.00",
                                   key="big-1", reason="goodwill"), 202)
        assert again["id"] == self.big and again["replayed"] is True, again
        assert again["requested_by_email"] == "fin1@example.com", again
        expect(self.adjust(self.fin1, self.alice, "cash", "credit", "1000.01", key="big-1"), 409,
               "IDEMPOTENCY_CONFLICT")
        expect(self.adjust(self.fin1, self.alice, "cash", "credit", "5.00", key="big-1"), 409,
               "IDEMPOTENCY_CONFLICT")
        assert self.ledger_rows() == before and self.cash() == cash
        assert self.env.rows("SELECT count(*) FROM adjustment_request")[0][0] == 1
        assert self.env.rows("SELECT count(*) FROM audit_entry WHERE action="
                             "'player.adjust_request' AND target_id=?", self.alice)[0][0] == 1
        ev = self.events("balance.adjustment_requested")
        assert len(ev) == 1 and ev[0][0] == "alpha" and ev[0][1] == self.alice, ev
        assert ev[0][2]["adjustment_id"] == self.big and ev[0][2]["amount"] == "1000.00", ev
        # the audit entry and the event name staff by id only (no e-mails)
        after = self.env.rows("SELECT after FROM audit_entry WHERE action="
                              "'player.adjust_request' AND target_id=?", self.alice)[0][0]
        assert "@example.com" not in after and "@example.com" not in json.dumps(ev), (after, ev)
        # a key used below the threshold stays the ledger's: a large body under it conflicts
        expect(self.adjust(self.fin1, self.alice, "cash", "credit", "1.00", key="small-1"), 201)
        expect(self.adjust(self.fin1, self.alice, "cash", "credit", "2000.00", key="small-1"),
               409, "IDEMPOTENCY_CONFLICT")
        assert self.env.rows("SELECT count(*) FROM adjustment_request")[0][0] == 1

    def requester_refused(self):
        before, cash = self.ledger_rows(), self.cash()
        expect(self.fin1.call("POST", f"/v1/admin/adjustments/{self.big}/approve"), 403,
               "FOUR_EYES_VIOLATION")
        assert self.ledger_rows() == before and self.cash() == cash

    def other_brand_refused(self):
        before = self.ledger_rows()
        expect(self.fin_beta.call("GET", "/v1/admin/adjustments?brand=alpha"), 403,
               "BRAND_FORBIDDEN")
        r = expect(self.fin_beta.call("GET", "/v1/admin/adjustments"), 200)
        assert r["items"] == [], r
        # another brand's request answers as an unknown one (as a withdrawal does)
        expect(self.fin_beta.call("POST", f"/v1/admin/adjustments/{self.big}/approve"), 404,
               "ADJUSTMENT_NOT_FOUND")
        expect(self.fin_beta.call("POST", f"/v1/admin/adjustments/{self.big}/reject",
                                  {"reason": "no"}), 404, "ADJUSTMENT_NOT_FOUND")
        expect(self.fin2.call("POST", "/v1/admin/adjustments/0190aaaa-0000-7000-8000-0000000000aa"
                              "/approve"), 404, "ADJUSTMENT_NOT_FOUND")
        assert self.ledger_rows() == before
        r = expect(self.fin2.call("GET", "/v1/admin/adjustments?status=pending&brand=alpha"), 200)
        assert [i["id"] for i in r["items"]] == [self.big], r
        # the other member sees who asked
        assert r["items"][0]["requested_by_email"] == "fin1@example.com", r
        assert r["items"][0]["decided_by_email"] is None, r

    def approved_once(self):
        before = self.ledger_rows()
        assert self.cash() == "1000.99", self.cash()  # what the request left (nothing moved)
        r = expect(self.fin2.call("POST", f"/v1/admin/adjustments/{self.big}/approve"), 200)
        a = r["adjustment"]
        assert a["status"] == "approved" and a["decided_by"] == self.fin2.id, r
        assert a["requested_by_email"] == "fin1@example.com", r
        assert a["decided_by_email"] == "fin2@example.com", r
        assert a["transfer_id"] and r["replayed"] is False, r
        assert self.ledger_rows() == before + 1
        assert self.cash() == "2000.99", self.cash()
        # the approval again: the same answer, no second transfer
        again = expect(self.fin2.call("POST", f"/v1/admin/adjustments/{self.big}/approve"), 200)
        assert again["adjustment"] == a and again["replayed"] is True, again
        third = expect(self.admin.call("POST", f"/v1/admin/adjustments/{self.big}/approve"), 200)
        assert third["adjustment"] == a, third
        # the original request's retry: the request as it stands now
        rq = expect(self.adjust(self.fin1, self.alice, "cash", "credit", "1000.00", key="big-1",
                                reason="goodwill"), 202)
        assert rq["status"] == "approved" and rq["transfer_id"] == a["transfer_id"], rq
        assert rq["decided_by_email"] == "fin2@example.com", rq
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{self.big}/reject",
                              {"reason": "late"}), 409, "ADJUSTMENT_STATE")
        assert self.ledger_rows() == before + 1 and self.cash() == "2000.99"
        rows = self.env.rows("SELECT actor_id, after FROM audit_entry WHERE "
                             "action='player.adjust_approve'")
        assert len(rows) == 1 and rows[0][0] == self.fin2.id, rows
        assert "@example.com" not in rows[0][1], rows  # the audit entry: staff ids only
        ev = [e for e in self.events("balance.adjusted") if e[2].get("adjustment_id") == self.big]
        assert len(ev) == 1 and ev[0][2]["staff_id"] == self.fin2.id, ev
        assert ev[0][2]["requested_by"] == self.fin1.id and ev[0][2]["amount"] == "1000.00", ev

    def rejected(self):
        before, cash = self.ledger_rows(), self.cash()
        r = expect(self.adjust(self.fin1, self.alice, "bonus", "credit", "1500.00"), 202)
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{r['id']}/reject", {}), 422)
        d = expect(self.fin2.call("POST", f"/v1/admin/adjustments/{r['id']}/reject",
                                  {"reason": "not agreed"}), 200)
        assert d["adjustment"]["status"] == "rejected", d
        assert d["adjustment"]["decision_reason"] == "not agreed", d
        assert d["adjustment"]["requested_by_email"] == "fin1@example.com", d
        assert d["adjustment"]["decided_by_email"] == "fin2@example.com", d
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{r['id']}/approve"), 409,
               "ADJUSTMENT_STATE")
        expect(self.admin.call("POST", f"/v1/admin/adjustments/{r['id']}/approve"), 409,
               "ADJUSTMENT_STATE")
        assert self.ledger_rows() == before and self.cash() == cash
        assert self.env.rows("SELECT count(*) FROM audit_entry WHERE "
                             "action='player.adjust_reject'")[0][0] == 1
        # the event, with the rejection (the queue's pages follow it); no reason in it
        ev = self.events("balance.adjustment_rejected")
        assert len(ev) == 1 and ev[0][0] == "alpha" and ev[0][1] == self.alice, ev
        assert ev[0][2] == {"adjustment_id": r["id"], "balance": "bonus", "direction": "credit",
                            "amount": "1500.00", "currency": "EUR", "staff_id": self.fin2.id,
                            "requested_by": self.fin1.id}, ev
        lst = expect(self.fin2.call("GET", "/v1/admin/adjustments?status=rejected"), 200)
        assert [i["id"] for i in lst["items"]] == [r["id"]], lst
        assert lst["items"][0]["decided_by_email"] == "fin2@example.com", lst

    def debit_beyond_balance(self):
        before, cash = self.ledger_rows(), self.cash()
        r = expect(self.adjust(self.fin1, self.alice, "cash", "debit", "5000.00"), 202)
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{r['id']}/approve"), 422,
               "INSUFFICIENT_FUNDS")
        assert self.ledger_rows() == before and self.cash() == cash
        lst = expect(self.fin2.call("GET", "/v1/admin/adjustments?status=pending"), 200)
        assert r["id"] in [i["id"] for i in lst["items"]], lst
        # it can still be approved once the money is there, or rejected
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{r['id']}/reject",
                              {"reason": "funds"}), 200)

    def damaged_account_at_approval(self):
        """A damaged row of the account the approval's own checks do not read (the
        brand's house account, the other side of a credit) makes the ledger refuse the
        transfer STORE_CORRUPT: our failure, not a decision. The approval answers 500
        STORE_CORRUPT, nothing moves, and the request stays pending (before, it was
        marked failed for good); once the row is repaired the same request is approved."""
        r = expect(self.adjust(self.fin1, self.alice, "cash", "credit", "1100.00"), 202)
        rid = r["id"]
        (house, flags), = self.env.rows("SELECT id, flags FROM ledger_account WHERE "
                                         "brand='alpha' AND kind='house' AND currency='EUR'")
        # damaged while the server is down, so the writer reads it from the store
        assert self.env.stop() == 0
        with sqlite3.connect(self.env.db, timeout=30) as con:
            con.execute("UPDATE ledger_account SET flags='x' WHERE id=?",
                        (house,))
        con.close()
        self.env.start("--adjust-sweep-seconds", "86400")
        before, cash = self.ledger_rows(), self.cash()
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{rid}/approve"), 500,
               "STORE_CORRUPT")
        assert self.ledger_rows() == before and self.cash() == cash
        assert self.env.rows("SELECT status, failure, decided_by FROM adjustment_request "
                             "WHERE public_id=?", rid) == [("pending", None, None)], \
            self.env.rows("SELECT status, failure FROM adjustment_request WHERE public_id=?", rid)
        # repaired (from a backup, say): the same request is approved, once
        assert self.env.stop() == 0
        with sqlite3.connect(self.env.db, timeout=30) as con:
            con.execute("UPDATE ledger_account SET flags=? WHERE id=?", (flags, house))
        con.close()
        self.env.start("--adjust-sweep-seconds", "86400")
        got = expect(self.fin2.call("POST", f"/v1/admin/adjustments/{rid}/approve"), 200)
        assert got["adjustment"]["status"] == "approved", got
        assert self.ledger_rows() == before + 1

    def refused_key_reused(self):
        """A key the ledger answered with a refusal (a debit beyond the balance, below
        the threshold: the ledger remembers the refusal under its key) stays the
        ledger's to answer when the call comes back at or above the threshold, as a
        key a transfer used does: another adjustment under it is 409
        IDEMPOTENCY_CONFLICT, the same one (the threshold lowered since) answers the
        refusal again (422 INSUFFICIENT_FUNDS); no request is written. Written, such a
        request could only fail at its approval, whatever the balance by then: the
        ledger replays the key's refusal (or calls the other body a conflict)."""
        zed = register_player(self.client, "alpha", "zed@example.com")
        expect(self.adjust(self.fin1, zed, "cash", "debit", "10.00", key="refused-1"), 422,
               "INSUFFICIENT_FUNDS")
        for _ in range(2):  # enough for either debit below, each credit under the threshold
            expect(self.adjust(self.fin1, zed, "cash", "credit", "999.00"), 201)
        def state():
            return (self.ledger_rows(),
                    self.env.rows("SELECT count(*) FROM adjustment_request")[0][0],
                    self.env.rows("SELECT count(*) FROM audit_entry")[0][0])
        before = state()
        expect(self.adjust(self.fin1, zed, "cash", "debit", "1000.00", key="refused-1"), 409,
               "IDEMPOTENCY_CONFLICT")
        assert state() == before, (state(), before)
        (old,), = self.env.rows("SELECT settings FROM brand WHERE code='alpha'")
        lowered = dict(json.loads(old), adjustment_4eyes_thresholds={"EUR": 500})
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha", {"settings": lowered}), 200)
        before = state()
        expect(self.adjust(self.fin1, zed, "cash", "debit", "10.00", key="refused-1"), 422,
               "INSUFFICIENT_FUNDS")
        assert state() == before, (state(), before)
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": json.loads(old)}), 200)
        assert not self.env.rows("SELECT 1 FROM adjustment_request WHERE idempotency_key = "
                                 "'refused-1'")

    def erased_at_approval(self):
        gone = register_player(self.client, "alpha", "gone@example.com")
        r = expect(self.adjust(self.fin1, gone, "cash", "credit", "1000.00"), 202)
        # the pending request blocks the erasure (test_player_export.py has the rest)
        expect(self.admin.call("POST", f"/v1/admin/players/{gone}/erase",
                               {"reason": "GDPR request"}), 409, "PLAYER_HAS_PENDING_ADJUSTMENT")
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{r['id']}/reject",
                              {"reason": "erasure requested"}), 200)
        expect(self.admin.call("POST", f"/v1/admin/players/{gone}/erase",
                               {"reason": "GDPR request"}), 200)
        before = self.ledger_rows()
        # one found pending all the same (set back in the database) is refused at approval
        con = sqlite3.connect(self.env.db, timeout=30)
        with con:
            con.execute("UPDATE adjustment_request SET status='pending', decided_by=NULL, "
                        "decided_at=NULL, decision_reason=NULL WHERE public_id=?", (r["id"],))
        con.close()
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{r['id']}/approve"), 409,
               "PLAYER_ERASED")
        assert self.ledger_rows() == before
        assert self.env.rows("SELECT status FROM adjustment_request WHERE public_id=?",
                             r["id"])[0][0] == "pending"

    def age(self, rid, us):
        age_adjustment(self.env.db, rid, us)

    def stored(self, rid):
        return self.env.rows("SELECT status, decided_by, decided_at FROM adjustment_request "
                             "WHERE public_id=?", rid)[0]

    def expiry_setting(self):
        for bad in (0, 721, "72", 1.5, -1, None):
            r = self.admin.call("PATCH", "/v1/admin/brands/beta",
                                {"settings": {"adjustment_request_expiry_hours": bad}})
            expect(r, 422, "FIELD_INVALID")
            assert r.json()["error"]["field"] == EXPIRY, r.body
        for good in (1, 720):
            r = expect(self.admin.call("PATCH", "/v1/admin/brands/beta",
                                       {"settings": {"adjustment_request_expiry_hours": good}}), 200)
            assert r["brand"]["settings"]["adjustment_request_expiry_hours"] == good, r
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": {"adjustment_4eyes_thresholds": {"EUR": 100000},
                                             "erase_after_days": 0,
                                             "adjustment_request_expiry_hours": 1}}), 200)

    def expired(self):
        before, cash = self.ledger_rows(), self.cash()
        ids = [expect(self.adjust(self.fin1, self.alice, "cash", "credit", "1000.00",
                                  key=f"exp-{i}"), 202)["id"] for i in range(3)]
        old, other, young = ids
        self.age(old, HOUR_US)            # exactly the brand's hour: expired
        self.age(other, 2 * HOUR_US)
        self.age(young, HOUR_US - 60 * 1000000)  # a minute left
        # untouched, they read expired already (computed: the rows stay pending)
        lst = expect(self.fin2.call("GET", "/v1/admin/adjustments?status=expired"), 200)
        assert [i["id"] for i in lst["items"]] == [other, old], lst
        assert all(i["status"] == "expired" and i["decided_at"] is None for i in lst["items"]), lst
        lst = expect(self.fin2.call("GET", "/v1/admin/adjustments?status=pending"), 200)
        pend = [i["id"] for i in lst["items"]]
        assert young in pend and old not in pend and other not in pend, lst
        g = expect(self.fin2.call("GET", f"/v1/admin/adjustments/{old}"), 200)
        assert g["status"] == "expired" and g["decided_by"] is None, g
        assert g["decided_by_email"] is None and g["requested_by_email"] == "fin1@example.com", g
        assert self.stored(old) == ("pending", None, None)
        # the requester's retry shows it as it reads now
        rq = expect(self.adjust(self.fin1, self.alice, "cash", "credit", "1000.00", key="exp-0"),
                    202)
        assert rq["status"] == "expired" and rq["replayed"] is True, rq
        # the approval that finds it past its time marks it expired, moves nothing
        r = self.fin2.call("POST", f"/v1/admin/adjustments/{old}/approve")
        expect(r, 409, "ADJUSTMENT_STATE")
        assert "expired" in r.json()["error"]["message"], r.body
        st, by, at = self.stored(old)
        assert st == "expired" and by is None and at, (st, by, at)
        assert self.ledger_rows() == before and self.cash() == cash
        r = self.fin2.call("POST", f"/v1/admin/adjustments/{old}/approve")  # again: the same
        expect(r, 409, "ADJUSTMENT_STATE")
        assert "expired" in r.json()["error"]["message"], r.body
        r = self.fin2.call("POST", f"/v1/admin/adjustments/{old}/reject", {"reason": "late"})
        expect(r, 409, "ADJUSTMENT_STATE")
        assert "expired" in r.json()["error"]["message"], r.body
        # a rejection finds it past its time: marked expired too
        r = self.fin2.call("POST", f"/v1/admin/adjustments/{other}/reject", {"reason": "late"})
        expect(r, 409, "ADJUSTMENT_STATE")
        assert "expired" in r.json()["error"]["message"], r.body
        assert self.stored(other)[0] == "expired" and self.stored(other)[1] is None
        g = expect(self.fin2.call("GET", f"/v1/admin/adjustments/{other}"), 200)
        assert g["status"] == "expired" and g["decided_at"] and g["decision_reason"] is None, g
        assert g["decided_by_email"] is None, g  # marked expired: nobody decided it
        audits = self.env.rows("SELECT actor_id, after FROM audit_entry WHERE "
                               "action='player.adjust_expire' ORDER BY seq")
        assert [json.loads(a)["id"] for _, a in audits] == [old, other], audits
        assert all(actor == self.fin2.id for actor, _ in audits), audits
        ev = self.events("balance.adjustment_expired")
        assert [e[2]["adjustment_id"] for e in ev] == [old, other], ev
        assert ev[0][0] == "alpha" and ev[0][1] == self.alice, ev
        assert ev[0][2]["amount"] == "1000.00" and ev[0][2]["requested_by"] == self.fin1.id, ev
        assert self.ledger_rows() == before and self.cash() == cash
        # a minute before its time it is approved as any
        a = expect(self.fin2.call("POST", f"/v1/admin/adjustments/{young}/approve"), 200)
        assert a["adjustment"]["status"] == "approved", a
        assert self.ledger_rows() == before + 1
        # back to the default (72 h) for the cases after
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": {"adjustment_4eyes_thresholds": {"EUR": 100000},
                                             "erase_after_days": 0}}), 200)

    def get_one(self):
        lst = expect(self.fin2.call("GET", "/v1/admin/adjustments?brand=alpha&limit=200"), 200)
        item = next(i for i in lst["items"] if i["id"] == self.big)
        g = expect(self.fin2.call("GET", f"/v1/admin/adjustments/{self.big}"), 200)
        assert g == item, (g, item)
        assert g["requested_by_email"] == "fin1@example.com", g
        assert g["decided_by_email"] == "fin2@example.com", g
        g = expect(self.admin.call("GET", f"/v1/admin/adjustments/{self.big}"), 200)
        assert g == item, g
        # a member no longer in the staff table (set so in the database): the id, no e-mail
        gone = "0190aaaa-0000-7000-8000-0000000000bb"
        con = sqlite3.connect(self.env.db, timeout=30)
        with con:
            con.execute("UPDATE adjustment_request SET decided_by=? WHERE public_id=?",
                        (gone, self.big))
        con.close()
        g = expect(self.fin2.call("GET", f"/v1/admin/adjustments/{self.big}"), 200)
        assert g["decided_by"] == gone and g["decided_by_email"] is None, g
        assert g["requested_by_email"] == "fin1@example.com", g
        with sqlite3.connect(self.env.db, timeout=30) as con:
            con.execute("UPDATE adjustment_request SET decided_by=? WHERE public_id=?",
                        (self.fin2.id, self.big))
        con.close()
        unknown = self.fin2.call("GET", "/v1/admin/adjustments/0190aaaa-0000-7000-8000-0000000000aa")
        expect(unknown, 404, "ADJUSTMENT_NOT_FOUND")
        # another brand's member: exactly what an unknown id answers
        foreign = self.fin_beta.call("GET", f"/v1/admin/adjustments/{self.big}")
        expect(foreign, 404, "ADJUSTMENT_NOT_FOUND")
        strip = lambda r: {k: v for k, v in r.json()["error"].items() if k != "trace_id"}  # noqa: E731
        assert strip(foreign) == strip(unknown), (foreign.body, unknown.body)
        # a malformed id: what the approval answers for one
        bad = self.fin2.call("GET", "/v1/admin/adjustments/not-an-id")
        ap = self.fin2.call("POST", "/v1/admin/adjustments/not-an-id/approve")
        assert bad.status == ap.status == 404, (bad.body, ap.body)
        assert strip(bad)["code"] == strip(ap)["code"] == "ADJUSTMENT_NOT_FOUND"
        bad = self.fin2.call("GET", "/v1/admin/adjustments/" + "x" * 300)
        expect(bad, 404, "ADJUSTMENT_NOT_FOUND")

    def list_refused(self):
        r = self.fin2.call("GET", "/v1/admin/adjustments?status=open")
        expect(r, 422, "FIELD_INVALID")
        assert r.json()["error"]["field"] == "status", r.body
        expect(self.fin2.call("GET", "/v1/admin/adjustments?brand=nope"), 403, "BRAND_FORBIDDEN")
        r = expect(self.fin2.call("GET", "/v1/admin/adjustments?limit=1"), 200)
        assert len(r["items"]) == 1 and r["next_cursor"], r
        r2 = expect(self.fin2.call("GET", f"/v1/admin/adjustments?limit=1&cursor={r['next_cursor']}"),
                    200)
        assert r2["items"][0]["id"] != r["items"][0]["id"], r2

    def bad_input(self):
        """Every new route refuses malformed, oversize, wrong-typed and out-of-range input
        with a 4xx and a stable code, and writes nothing."""
        r = expect(self.adjust(self.fin1, self.alice, "bonus", "credit", "1200.00"), 202)
        rid = r["id"]
        state = lambda: (self.ledger_rows(),  # noqa: E731
                         self.env.rows("SELECT count(*) FROM audit_entry")[0][0],
                         self.env.rows("SELECT status, decided_by FROM adjustment_request "
                                       "WHERE public_id=?", rid))
        before = state()
        approve, reject = f"/v1/admin/adjustments/{rid}/approve", f"/v1/admin/adjustments/{rid}/reject"
        got = []
        for path, kw in ((reject, {"raw": b"{"}), (reject, {"raw": b"[1]"}),
                         (reject, {"body": {"reason": "x", "extra": 1}}),
                         (reject, {"body": {"reason": 5}}), (reject, {"body": {"reason": ""}}),
                         (reject, {"body": {"reason": "r" * 5000}}),
                         (approve, {"raw": b"{"}), (approve, {"body": {"extra": 1}}),
                         ("/v1/admin/adjustments/not-an-id/approve", {}),
                         ("/v1/admin/adjustments/not-an-id/reject", {"body": {"reason": "x"}})):
            res = self.fin2.call("POST", path, kw.get("body"), raw=kw.get("raw"))
            got.append((path.rsplit("/", 1)[1], res.status, res.json().get("error", {}).get("code")
                        if res.body[:1] == b"{" else None))
        for q in ("limit=0", "limit=abc", "limit=100000", "cursor=abc", "cursor=0", "status=", "brand=" + "b" * 40):
            res = self.fin2.call("GET", f"/v1/admin/adjustments?{q}")
            got.append((q, res.status, res.json().get("error", {}).get("code")))
        assert all(400 <= st < 500 and code for _, st, code in got), got
        assert state() == before

    def stop_and_verify(self):
        missing = self.env.spec.unexercised("/v1/admin/adjustments")
        assert not missing, "\n".join(missing)
        assert self.env.stop() == 0
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0, r.stdout + r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_adjust_4eyes.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: alpha with a 4-eyes threshold of 1000.00 EUR, two finance members, one of beta",
         run.setup),
        ("adjustment_4eyes_thresholds is checked when written (422 naming it)", run.settings_checked),
        ("below the threshold (or in a currency without one): applied at once, 201",
         run.below_threshold),
        ("at the threshold: 202 pending, no money moves; replay 202, other body 409",
         run.at_threshold_pending),
        ("the requester approving their own: 403 FOUR_EYES_VIOLATION, nothing moves",
         run.requester_refused),
        ("a member of another brand: 403 BRAND_FORBIDDEN to list its brand, 404 to approve, reject",
         run.other_brand_refused),
        ("a second member approves: applied once; the approval's replay answers the same",
         run.approved_once),
        ("rejected (reason required): nothing moves, cannot be approved after", run.rejected),
        ("a debit beyond the balance at approval: INSUFFICIENT_FUNDS, it stays pending",
         run.debit_beyond_balance),
        ("a key the ledger refused below the threshold, reused at or above it: the ledger's "
         "answer (409 IDEMPOTENCY_CONFLICT, or the refusal again), no request written",
         run.refused_key_reused),
        ("a damaged house account at approval: 500 STORE_CORRUPT, still pending; repaired, "
         "approved once", run.damaged_account_at_approval),
        ("a pending request blocks the erasure; an erased player at approval: 409 "
         "PLAYER_ERASED, nothing moves", run.erased_at_approval),
        ("adjustment_request_expiry_hours: 1..720, checked when written (422 naming it)",
         run.expiry_setting),
        ("past the brand's expiry: reads expired; approve/reject mark it expired, 409, "
         "audited, balance.adjustment_expired; a minute before, approved", run.expired),
        ("GET one request: the list's item; another brand's is 404 as an unknown id",
         run.get_one),
        ("the list's refusals and cursor pages", run.list_refused),
        ("bad input on the new routes: 4xx with a stable code, nothing written", run.bad_input),
        ("SIGTERM exits 0; `ledger verify` and `audit verify` pass", run.stop_and_verify),
    ]
    return run_cases(cases, env.cleanup)


if __name__ == "__main__":
    sys.exit(main())
