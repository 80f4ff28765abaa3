#!/usr/bin/python3
"""test_player_export.py PATH/TO/pitboss — a data subject's requests over real HTTP
(speaks TAP). GET /v1/admin/players/{id}/export: everything the platform holds
about one player as one JSON
document (a data subject's access request): the profile with its personal data in
the clear, the accounts, every transfer and every round over several pages of the
producer, deposits, withdrawals, sessions with IP and User-Agent, staff notes
without their authors, the 4-eyes adjustment requests without who asked or decided, the audit entries about and by the player (staff shown by
role only, no staff member's id or e-mail in their before/after: in neither
copy anywhere); another player's data never in it; players.export (admin,
compliance) needed, a reason required, the brand scope, refusals write nothing;
the export is on record with its reason before its first byte. POST
/v1/admin/players/{id}/erase: refused while money, a hold or a payment is open, a
staff adjustment waits for its second approver, or the brand's retention period runs (nothing written), then the email, names, date
of birth and the sessions' addresses gone (from the database file's bytes too),
the account closed and its sessions ended, the address free to register again,
audited and announced; the ledger untouched. Every answer is checked against
docs/openapi.yaml. Ends with `pitboss ledger verify` and `pitboss audit verify`.

Usage: test_player_export.py PATH/TO/pitboss
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
from admin_helpers import (Client, Env, Staff, age_adjustment, create_staff, expect,  # noqa: E402
                           fingerprint, qs)
from harness import Tap  # noqa: E402

PASSWORD = "Player-pass-77"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
DICE_ROUNDS = 210  # more than one page (200) of rounds, and of transfers, in the producer
PROVIDER_SECRET = bytes.fromhex("5a" * 32)


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0
        self.ip_n = 0

    def key(self, prefix="k"):
        self.n += 1
        return f"{prefix}-{self.n}-{time.time_ns()}"

    def fresh(self):
        """A client from an address of its own (registrations are limited per IP)."""
        self.ip_n += 1
        return Client(self.env, f"127.0.8.{self.ip_n}")

    def register(self, brand, email, **extra):
        body = {"brand": brand, "email": email, "password": PASSWORD, "country": "MT",
                "date_of_birth": "1990-01-01"}
        body.update(extra)
        return expect(self.fresh().call("POST", "/v1/player/register", body), 201)["player"]

    def export(self, who, pid, **params):
        return who.call("GET", f"/v1/admin/players/{pid}/export" + qs(**params))

    # ---- cases ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        # no expiry sweep pass but the one at start: erase_refused ages a request past
        # its time and back, which a pass in between would mark expired for good
        env.start("--adjust-sweep-seconds", "86400")
        self.admin = Staff(env, "root@example.com", otp, "127.0.9.10").activate("Blue-Falcon-0-Xy")
        for code in ("alpha", "beta"):
            expect(self.admin.call("POST", "/v1/admin/brands",
                                   {"code": code, "name": code.title(), "default_currency": "EUR",
                                    "currencies": ["EUR", "USD"], "jurisdiction": "MT"}), 201)
        self.cmp = create_staff(env, self.admin, "dpo@example.com", "compliance", "127.0.9.11",
                                brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.sup = create_staff(env, self.admin, "sup@example.com", "support", "127.0.9.12",
                                brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.cmp_beta = create_staff(env, self.admin, "dpob@example.com", "compliance",
                                     "127.0.9.13", brands=["beta"]).activate("Blue-Falcon-3-Xy")
        self.alice = self.register("alpha", "alice@example.com", first_name="Alice",
                                   last_name="Lindqvist")["id"]
        self.bob = self.register("alpha", "bob@example.com")["id"]
        self.carol = self.register("alpha", "carol@example.com")["id"]
        self.dave = self.register("alpha", "dave@example.com", first_name="Dave",
                                  last_name="Dovetail")["id"]
        self.client = Client(env, "127.0.9.20")
        r = self.client.call("POST", "/v1/player/login",
                             {"brand": "alpha", "email": "alice@example.com",
                              "password": PASSWORD}, headers={"User-Agent": UA})
        self.token = expect(r, 200)["access_token"]
        r = self.client.call("POST", "/v1/player/login",
                             {"brand": "alpha", "email": "bob@example.com", "password": PASSWORD})
        self.bob_token = expect(r, 200)["access_token"]
        for pid in (self.alice, self.bob):
            expect(self.admin.call("POST", f"/v1/admin/players/{pid}/adjustments",
                                   {"balance": "cash", "direction": "credit", "amount": "300.00",
                                    "reason": "test funds", "idempotency_key": self.key("fund")}),
                   201)
        # 4-eyes on alpha from 1000.00 EUR (after the funding above): alice has one large
        # credit rejected, then one pending (both in her export, newest first)
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": {"adjustment_4eyes_thresholds": {"EUR": 100000}}}),
               200)
        self.fin = create_staff(env, self.admin, "fin@example.com", "finance", "127.0.9.14",
                                brands=["alpha"]).activate("Blue-Falcon-4-Xy")
        self.adj_rejected = self.big_adjustment(self.alice, "1500.00", "goodwill: outage 12 May")
        expect(self.fin.call("POST", f"/v1/admin/adjustments/{self.adj_rejected}/reject",
                             {"reason": "not covered by the outage policy"}), 200)
        self.adj_pending = self.big_adjustment(self.alice, "1000.00", "VIP retention credit")
        # in-house dice on alpha: more rounds (and transfers) than one page of the export
        expect(self.admin.call("GET", "/v1/admin/brands/alpha/originals", check=False), 200)
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/pitboss/dice",
                               {"enabled": True}), 200)
        self.rounds = []
        for _ in range(DICE_ROUNDS):
            r = self.client.call("POST", "/v1/player/originals/dice/bets",
                                 {"amount": "0.10", "params": {"target": 50.5,
                                                               "direction": "over"}},
                                 token=self.token, headers={"Idempotency-Key": self.key("bet")})
            self.rounds.append(expect(r, 201)["round"]["id"])
        r = self.client.call("POST", "/v1/player/originals/dice/bets",
                             {"amount": "0.20", "params": {"target": 50.5, "direction": "over"}},
                             token=self.bob_token, headers={"Idempotency-Key": self.key("bet")})
        self.bob_round = expect(r, 201)["round"]["id"]
        self.deposit = expect(self.client.call("POST", "/v1/player/deposits",
                                               {"amount": "25.00", "idempotency_key": self.key()},
                                               token=self.token), 201)["id"]
        self.withdrawal = expect(self.client.call("POST", "/v1/player/withdrawals",
                                                  {"amount": "40.00",
                                                   "idempotency_key": self.key()},
                                                  token=self.token), 201)["id"]
        # a second one, rejected by staff: an entry about the withdrawal, not the player
        self.rejected = expect(self.client.call("POST", "/v1/player/withdrawals",
                                                {"amount": "5.00", "idempotency_key": self.key()},
                                                token=self.token), 201)["id"]
        expect(self.admin.call("POST", f"/v1/admin/withdrawals/{self.rejected}/reject",
                               {"reason": "documents needed"}), 200)
        # carol: no money, a deposit pending; dave: no money, logged in, a note
        r = self.client.call("POST", "/v1/player/login",
                             {"brand": "alpha", "email": "carol@example.com",
                              "password": PASSWORD})
        expect(self.client.call("POST", "/v1/player/deposits",
                                {"amount": "10.00", "idempotency_key": self.key()},
                                token=expect(r, 200)["access_token"]), 201)
        dave_client = Client(env, "127.0.9.21")
        r = dave_client.call("POST", "/v1/player/login",
                             {"brand": "alpha", "email": "dave@example.com", "password": PASSWORD},
                             headers={"User-Agent": UA})
        self.dave_token = expect(r, 200)["access_token"]
        expect(self.sup.call("POST", f"/v1/admin/players/{self.dave}/notes",
                             {"text": "Wants the account closed."}), 201)
        self.note = "Asked for a copy of their data (ticket 4471)."
        expect(self.sup.call("POST", f"/v1/admin/players/{self.alice}/notes",
                             {"text": self.note}), 201)
        expect(self.sup.call("POST", f"/v1/admin/players/{self.bob}/notes",
                             {"text": "bob's note"}), 201)

    def big_adjustment(self, pid, amount, reason):
        """A cash credit at or above alpha's 4-eyes threshold, asked by the admin: pending."""
        r = expect(self.admin.call("POST", f"/v1/admin/players/{pid}/adjustments",
                                   {"balance": "cash", "direction": "credit", "amount": amount,
                                    "reason": reason, "idempotency_key": self.key("big")}), 202)
        assert r["status"] == "pending", r
        return r["id"]

    def refused(self):
        """Who may not, what is not asked right, what does not exist: nothing written."""
        before = fingerprint(self.env.db)
        expect(self.export(self.sup, self.alice, reason="DSAR 1"), 403, "FORBIDDEN")
        expect(self.export(self.cmp, self.alice), 422, "FIELD_MISSING")
        expect(self.export(self.cmp, self.alice, reason="a\u0007b"), 422, "FIELD_INVALID")
        expect(self.export(self.cmp, self.alice, reason="   "), 422, "FIELD_INVALID")
        expect(self.export(self.cmp, self.alice, reason="x" * 201), 422, "FIELD_INVALID")
        # another brand's compliance officer: as if the player did not exist
        expect(self.export(self.cmp_beta, self.alice, reason="DSAR 1"), 404, "PLAYER_NOT_FOUND")
        expect(self.export(self.cmp, "0190a0b0-0000-7000-8000-000000000000", reason="DSAR 1"),
               404, "PLAYER_NOT_FOUND")
        assert fingerprint(self.env.db) == before, "a refused export wrote something"
        assert not self.env.rows("SELECT 1 FROM audit_entry WHERE action='player.exported'")

    def document(self):
        r = self.export(self.cmp, self.alice, reason="DSAR 2026-118")
        assert r.status == 200, r
        assert r.header("content-type").startswith("application/json"), r.headers
        assert r.header("content-disposition") == \
            f'attachment; filename="pitboss-player-{self.alice}.json"', r.headers
        d = json.loads(r.body)
        keys = ["format", "generated_at", "player", "accounts", "transfers", "rounds", "deposits",
                "withdrawals", "sessions", "notes", "adjustment_requests", "audit", "complete"]
        assert list(d) == keys and d["format"] == "pitboss.player_export.v1", list(d)
        assert d["complete"] is True
        # the profile, personal data in the clear
        p = d["player"]
        assert (p["id"], p["email"], p["first_name"], p["last_name"], p["date_of_birth"],
                p["brand"]) == (self.alice, "alice@example.com", "Alice", "Lindqvist",
                                "1990-01-01", "alpha"), p
        # the accounts as the back office shows them
        shown = expect(self.cmp.call("GET", f"/v1/admin/players/{self.alice}/accounts"),
                       200)["accounts"]
        assert d["accounts"] == shown and shown, (d["accounts"], shown)
        cash = next(a for a in shown if a["kind"] == "player_cash")
        # every transfer of every account, newest first per account, as its pages show
        want = []
        for a in shown:
            cursor = None
            while True:
                page = expect(self.cmp.call("GET", f"/v1/admin/players/{self.alice}/transfers"
                                            + qs(account=a["id"], cursor=cursor, limit=200)),
                              200)
                want += [dict(t, account=a["id"]) for t in page["transfers"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
        assert len(want) > 200 and d["transfers"] == want, (len(d["transfers"]), len(want))
        assert sum(1 for t in want if t["account"] == cash["id"]) > 200
        # every round, newest first: the dice rounds, none of bob's
        ids = [x["id"] for x in d["rounds"]]
        assert ids == list(reversed(self.rounds)), (len(ids), ids[:3])
        assert self.bob_round not in ids
        assert [x["id"] for x in d["deposits"]] == [self.deposit], d["deposits"]
        assert d["deposits"][0]["amount"] == "25.00"
        assert [x["id"] for x in d["withdrawals"]] == [self.rejected, self.withdrawal], \
            d["withdrawals"]
        # the login with its address and browser
        s = d["sessions"]
        assert len(s) == 1 and s[0]["ip"] == "127.0.9.20" and s[0]["user_agent"] == UA, s
        # the note, not who wrote it
        assert d["notes"] == [{"id": d["notes"][0]["id"], "text": self.note,
                               "created_at": d["notes"][0]["created_at"]}], d["notes"]
        # the 4-eyes adjustment requests, newest first, as the back office lists them but
        # without who asked or decided (staff members' ids, nor the e-mails the list adds)
        listed = expect(self.fin.call("GET", "/v1/admin/adjustments"), 200)["items"]
        listed = {i["id"]: i for i in listed}
        want = []
        for i in (self.adj_pending, self.adj_rejected):
            w = dict(listed[i])
            assert w["requested_by"] == self.admin.id, w
            assert w["requested_by_email"] == "root@example.com", w
            del w["requested_by"], w["decided_by"], w["requested_by_email"], w["decided_by_email"]
            want.append(w)
        assert d["adjustment_requests"] == want, (d["adjustment_requests"], want)
        pend, rej = d["adjustment_requests"]
        assert (pend["status"], pend["reason"], pend["amount"], pend["currency"], pend["balance"],
                pend["direction"], pend["player_id"], pend["decided_at"],
                pend["transfer_id"]) == ("pending", "VIP retention credit", "1000.00", "EUR",
                                         "cash", "credit", self.alice, None, None), pend
        assert (rej["status"], rej["reason"], rej["decision_reason"], rej["amount"]) == \
            ("rejected", "goodwill: outage 12 May", "not covered by the outage policy",
             "1500.00"), rej
        assert rej["requested_at"] and rej["decided_at"] >= rej["requested_at"], rej
        assert pend["requested_at"] >= rej["requested_at"], (pend, rej)
        assert b"VIP retention credit" in r.body  # checked: not in the player's own copy
        # the audit: about the player (staff by role only) and by the player
        actions = [e["action"] for e in d["audit"]]
        for want_action in ("player.adjust", "player.note_added", "player.exported",
                            "payment.create", "withdrawal.request", "withdrawal.reject"):
            assert want_action in actions, (want_action, actions)
        mine = {("player", self.alice), ("payment", self.deposit),
                ("withdrawal", self.withdrawal), ("withdrawal", self.rejected)}
        for e in d["audit"]:
            if e["actor_kind"] == "staff":
                assert not {"actor_id", "actor_email", "ip"} & set(e), e
                assert e["role"], e
                assert (e["target_kind"], e["target_id"]) in mine, e
            else:  # the player's own requests, with the address they came from
                assert (e["actor_kind"], e["actor_id"], e["ip"]) == \
                    ("player", self.alice, "127.0.9.20"), e
        rej = [e for e in d["audit"] if e["action"] == "withdrawal.reject"]
        assert len(rej) == 1 and (rej[0]["role"], rej[0]["target_id"], rej[0]["reason"]) == \
            ("admin", self.rejected, "documents needed"), rej
        assert len(actions) == len({e["seq"] for e in d["audit"]}), "an entry twice"
        exp = next(e for e in d["audit"] if e["action"] == "player.exported")
        assert exp["role"] == "compliance" and exp["reason"] == "DSAR 2026-118", exp
        # nothing of bob's anywhere
        text = r.body.decode()
        assert self.bob not in text and "bob@example.com" not in text and "bob's note" not in text
        self.first = d

    def on_record(self):
        """One entry per export, with its reason, written before the body."""
        rows = self.env.rows("SELECT actor_id, role, brand, target_kind, target_id, reason, after "
                             "FROM audit_entry WHERE action='player.exported' ORDER BY seq")
        assert rows == [(self.cmp.id, "compliance", "alpha", "player", self.alice,
                         "DSAR 2026-118",
                         '{"for":"staff","format":"pitboss.player_export.v1"}')], rows
        # an admin's export: the same data, and this export is in its own audit section
        r = self.export(self.admin, self.alice, reason="DSAR 2026-119")
        d = json.loads(expect_ok(r))
        assert d["complete"] and d["player"] == self.first["player"]
        assert d["transfers"] == self.first["transfers"] and d["rounds"] == self.first["rounds"]
        reasons = [e["reason"] for e in d["audit"] if e["action"] == "player.exported"]
        assert reasons == ["DSAR 2026-119", "DSAR 2026-118"], reasons

    def player_copy(self):
        """GET /v1/player/export: the player's own copy, without the operator's records,
        once per 10 minutes; a body other than {} refused first, taking no turn."""
        before = fingerprint(self.env.db)
        for raw, code in ((b"garbage", "INVALID_JSON"), (b'{"x":1}', "UNKNOWN_FIELD"),
                          (b"[]", "INVALID_REQUEST")):
            r = self.client.call("GET", "/v1/player/export", token=self.token, raw=raw)
            expect(r, 400, code)
        assert fingerprint(self.env.db) == before, "a refused copy wrote something"
        r = self.client.call("GET", "/v1/player/export", token=self.token)
        assert r.status == 200, r
        assert r.header("content-disposition") == \
            f'attachment; filename="pitboss-player-{self.alice}.json"', r.headers
        d = json.loads(r.body)
        assert list(d) == ["format", "generated_at", "player", "accounts", "transfers", "rounds",
                           "deposits", "withdrawals", "sessions", "complete"], list(d)
        staff_view = {k: v for k, v in self.first["player"].items()
                      if k not in ("block_reason", "locked_until")}
        assert d["player"] == staff_view, (d["player"], staff_view)
        for k in ("accounts", "transfers", "rounds", "deposits", "withdrawals"):
            assert d[k] == self.first[k], k
        assert [s["id"] for s in d["sessions"]] == [s["id"] for s in self.first["sessions"]]
        assert self.note.encode() not in r.body and b"DSAR" not in r.body  # no notes, no audit
        assert b"VIP retention credit" not in r.body  # nor the operator's adjustment requests
        # on record, with the player as actor
        ents = self.env.rows("SELECT actor_kind, actor_id, role, target_id, reason, after, ip "
                             "FROM audit_entry WHERE action='player.exported' AND "
                             "actor_kind='player'")
        assert ents == [("player", self.alice, "", self.alice, "requested by the player",
                         '{"for":"player","format":"pitboss.player_export.v1"}',
                         "127.0.9.20")], ents
        # once per 10 minutes; nothing recorded for the refusal
        r = self.client.call("GET", "/v1/player/export", token=self.token)
        expect(r, 429, "RATE_LIMITED")
        assert 590 <= int(r.header("retry-after")) <= 600, r.headers
        assert len(self.env.rows("SELECT 1 FROM audit_entry WHERE action='player.exported' AND "
                                 "actor_kind='player'")) == 1
        expect(self.client.call("GET", "/v1/player/export"), 401, "UNAUTHENTICATED")

    def staff_identities(self):
        """No staff member's public id or e-mail anywhere in either copy: frank's history
        touches every staff flow the suite sets up cheaply (funded by staff, a 4-eyes credit
        approved and one rejected, a note, blocked and unblocked, a withdrawal approved by a
        member whose approval then lapsed when they were disabled), and the audit entries'
        before/after documents name staff (requested_by, decided_by, staff_id) though the
        entries' actors are shown by role only."""
        frank = self.register("alpha", "frank@example.com")["id"]
        expect(self.admin.call("POST", f"/v1/admin/players/{frank}/adjustments",
                               {"balance": "cash", "direction": "credit", "amount": "300.00",
                                "reason": "test funds", "idempotency_key": self.key("fund")}),
               201)
        approved = self.big_adjustment(frank, "1000.00", "frank: goodwill")
        expect(self.fin.call("POST", f"/v1/admin/adjustments/{approved}/approve"), 200)
        rejected = self.big_adjustment(frank, "2000.00", "frank: too much")
        expect(self.fin.call("POST", f"/v1/admin/adjustments/{rejected}/reject",
                             {"reason": "no"}), 200)
        expect(self.sup.call("POST", f"/v1/admin/players/{frank}/notes",
                             {"text": "Called about a bonus."}), 201)
        expect(self.admin.call("POST", f"/v1/admin/players/{frank}/block",
                               {"reason": "checks"}), 200)
        expect(self.admin.call("POST", f"/v1/admin/players/{frank}/unblock",
                               {"reason": "checked"}), 200)
        # logged in after the unblock (the block ended the player's sessions)
        c = self.fresh()
        token = expect(c.call("POST", "/v1/player/login",
                              {"brand": "alpha", "email": "frank@example.com",
                               "password": PASSWORD}), 200)["access_token"]
        w = expect(c.call("POST", "/v1/player/withdrawals",
                          {"amount": "50.00", "idempotency_key": self.key()}, token=token),
                   201)
        assert w["approvals_required"] == 2, w
        fin2 = create_staff(self.env, self.admin, "fin2@example.com", "finance", "127.0.9.15",
                            brands=["alpha"]).activate("Blue-Falcon-5-Xy")
        g = expect(fin2.call("POST", f"/v1/admin/withdrawals/{w['id']}/approve"), 200)
        assert g["status"] == "pending_approval", g
        expect(self.admin.call("PATCH", f"/v1/admin/staff/{fin2.id}",
                               {"active": False, "reason": "leave"}), 200)
        # the audit log itself keeps who: the documents the export must clean
        docs = " ".join(b + a for b, a in self.env.rows(
            "SELECT coalesce(before, ''), coalesce(after, '') FROM audit_entry "
            "WHERE target_id IN (?, ?)", frank, w["id"]))
        assert self.fin.id in docs and self.admin.id in docs and fin2.id in docs, docs
        staff = [self.admin, self.cmp, self.sup, self.cmp_beta, self.fin, fin2]
        r = self.export(self.cmp, frank, reason="DSAR 2026-130")
        d = json.loads(expect_ok(r))
        assert d["complete"], d
        mine = c.call("GET", "/v1/player/export", token=token)
        assert json.loads(expect_ok(mine))["complete"]
        for body, which in ((r.body, "staff export"), (mine.body, "player's copy")):
            text = body.decode()
            for s in staff:
                assert s.id not in text, (which, s.email, s.id, text)
                assert s.email not in text, (which, s.email, text)
        # the facts and the roles stay
        by = {e["action"]: e for e in d["audit"]}
        for a in ("player.adjust", "player.adjust_request", "player.adjust_approve",
                  "player.adjust_reject", "player.note_added", "player.block", "player.unblock",
                  "withdrawal.approve", "withdrawal.approval_lapsed"):
            assert a in by, (a, list(by))
        ap = by["player.adjust_approve"]
        assert ap["role"] == "finance" and ap["after"]["adjustment"]["status"] == "approved", ap
        assert ap["after"]["adjustment"]["reason"] == "frank: goodwill", ap
        assert not {"requested_by", "decided_by"} & set(ap["after"]["adjustment"]), ap
        lapsed = by["withdrawal.approval_lapsed"]["after"]["lapsed"]
        assert [(x["role"], x["lapsed_reason"], "staff_id" in x) for x in lapsed] == \
            [("finance", "staff_disabled", False)], lapsed

    # ---- erasure ----

    def erase(self, who, pid, body):
        return who.call("POST", f"/v1/admin/players/{pid}/erase", body)

    def erase_refused(self):
        """Who may not, bad bodies, money, open payments, a staff adjustment waiting for its
        second approver, the retention period: nothing written."""
        # dave: a large credit waits for its second approver (approved after the erasure,
        # it would move money on the closed account)
        dave_adj = self.big_adjustment(self.dave, "1000.00", "bonus for dave")
        before = fingerprint(self.env.db)
        ok_body = {"reason": "GDPR request 77"}
        expect(self.erase(self.sup, self.dave, ok_body), 403, "FORBIDDEN")
        expect(self.erase(self.cmp_beta, self.dave, ok_body), 404, "PLAYER_NOT_FOUND")
        expect(self.erase(self.cmp, self.dave, {}), 422, "FIELD_MISSING")
        expect(self.erase(self.cmp, self.dave, {"reason": " "}), 422, "FIELD_INVALID")
        expect(self.erase(self.cmp, self.dave, {"reason": "x" * 201}), 422, "FIELD_INVALID")
        expect(self.erase(self.cmp, self.dave, {"reason": "x", "also": 1}), 400, "UNKNOWN_FIELD")
        # alice holds money (and a withdrawal's hold); carol has a deposit pending
        expect(self.erase(self.cmp, self.alice, ok_body), 409, "PLAYER_HAS_FUNDS")
        expect(self.erase(self.cmp, self.carol, ok_body), 409, "PLAYER_HAS_OPEN_PAYMENTS")
        expect(self.erase(self.cmp, self.dave, ok_body), 409, "PLAYER_HAS_PENDING_ADJUSTMENT")
        assert fingerprint(self.env.db) == before, "a refused erasure wrote something"
        # past the brand's expiry (72 hours by default) the request can no longer be
        # approved, and no longer holds the erasure up: the next check (retention) answers
        age_adjustment(self.env.db, dave_adj, 72 * 3600 * 10**6)
        expect(self.erase(self.cmp, self.dave, ok_body), 409, "RETENTION_PERIOD")
        age_adjustment(self.env.db, dave_adj, -60 * 10**6)  # a minute short of it: it holds again
        expect(self.erase(self.cmp, self.dave, ok_body), 409, "PLAYER_HAS_PENDING_ADJUSTMENT")
        age_adjustment(self.env.db, dave_adj, 60 * 10**6 - 72 * 3600 * 10**6)  # as it was
        expect(self.fin.call("POST", f"/v1/admin/adjustments/{dave_adj}/reject",
                             {"reason": "the player asked to be erased"}), 200)
        self.dave_adj = dave_adj
        before = fingerprint(self.env.db)
        # dave: nothing owed, but the brand keeps records 1826 days (five years) by default
        r = self.erase(self.cmp, self.dave, ok_body)
        expect(r, 409, "RETENTION_PERIOD")
        msg = r.json()["error"]["message"]
        year = time.gmtime(time.time() + 1826 * 86400).tm_year
        assert "1826 days" in msg and f"erasable from {year}-" in msg, msg
        assert fingerprint(self.env.db) == before, "a refused erasure wrote something"
        assert not self.env.rows("SELECT 1 FROM audit_entry WHERE action='player.erased'")

    def erased(self):
        """With the brand's retention at 0 days: the personal data gone, the account closed."""
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": {"erase_after_days": 0}}), 200)
        money_before = self.env.rows("SELECT count(*), sum(amount) FROM ledger_transfer")
        p = expect(self.erase(self.cmp, self.dave, {"reason": "GDPR request 77"}), 200)["player"]
        assert (p["id"], p["email"], p["status"], p["first_name"], p["last_name"],
                p["date_of_birth"], p["country"]) == \
            (self.dave, f"erased-{self.dave}@erased.invalid", "closed", None, None, None,
             "MT"), p
        assert p["erased_at"], p
        got = expect(self.cmp.call("GET", f"/v1/admin/players/{self.dave}"), 200)["player"]
        assert got.pop("address_locks") == [] and got == p, (got, p)  # the erasure deleted them
        expect(self.erase(self.cmp, self.dave, {"reason": "again"}), 409, "PLAYER_ERASED")
        # the session ended and lost its address and browser; no way back in
        dave_client = Client(self.env, "127.0.9.21")
        expect(dave_client.call("GET", "/v1/player/wallet", token=self.dave_token), 401,
               "SESSION_REVOKED")
        expect(dave_client.call("POST", "/v1/player/login",
                                {"brand": "alpha", "email": "dave@example.com",
                                 "password": PASSWORD}), 401, "CREDENTIALS_INVALID")
        s = expect(self.cmp.call("GET", f"/v1/admin/players/{self.dave}/sessions"),
                   200)["sessions"]
        assert len(s) == 1 and s[0]["ip"] is None and not s[0]["user_agent"], s
        assert s[0]["revoke_reason"] == "erased" and not s[0]["active"], s
        # in the database: the placeholder, nothing sealed left, no address
        (row,) = self.env.rows("SELECT e.email, e.first_name, e.last_name, e.date_of_birth, "
                               "e.country, p.password_hash, p.erased_at > 0 FROM player_pii e "
                               "JOIN player p ON p.id=e.player_id WHERE p.public_id=?", self.dave)
        assert row == (f"erased-{self.dave}@erased.invalid", "", "", "", "MT", "!erased", 1), row
        assert self.env.rows("SELECT ip, user_agent FROM auth_session WHERE subject_kind='player' "
                             "AND subject_id=(SELECT id FROM player WHERE public_id=?)",
                             self.dave) == [("", "")]
        # the ledger did not move; on record and announced
        assert self.env.rows("SELECT count(*), sum(amount) FROM ledger_transfer") == money_before
        ents = self.env.rows("SELECT actor_id, role, brand, target_id, reason, before, after "
                             "FROM audit_entry WHERE action='player.erased'")
        assert len(ents) == 1, ents
        actor, role, brand, target, reason, b, a = ents[0]
        assert (actor, role, brand, target, reason) == (self.cmp.id, "compliance", "alpha",
                                                        self.dave, "GDPR request 77"), ents
        # the entry's texts byte for byte (written by the domain since s31, as the route wrote
        # them before: compact, sorted keys)
        assert b == '{"status":"active"}', b
        assert a == ('{"erased_at":"%s","live_launches_ended":0,"status":"closed"}'
                     % p["erased_at"]), a
        (trace,) = self.env.rows("SELECT trace_id FROM audit_entry WHERE action='player.erased'")[0]
        assert trace, trace
        assert self.env.rows("SELECT brand, subject, payload, trace_id FROM event_outbox "
                             "WHERE type='player.erased'") == \
            [("alpha", self.dave, json.dumps({"by": self.cmp.id}, separators=(",", ":")), trace)]
        # an export now holds no trace of the person
        r = self.export(self.cmp, self.dave, reason="DSAR 2026-120")
        d = json.loads(expect_ok(r))
        assert d["complete"] and d["player"] == p
        assert b"dave@example.com" not in r.body and b"Dovetail" not in r.body
        assert b"Wants the account closed." in r.body  # staff notes stay (append-only)

    def erased_adjustment(self):
        """No money moves for an erased player through a 4-eyes request: none can be asked
        (PLAYER_ERASED), and one found pending all the same (dave's rejected request set
        back to pending in the database, as from a copy made before the erasure checked
        requests) is refused at approval, 409 PLAYER_ERASED, and stays pending."""
        r = self.admin.call("POST", f"/v1/admin/players/{self.dave}/adjustments",
                            {"balance": "cash", "direction": "credit", "amount": "1000.00",
                             "reason": "after the erasure", "idempotency_key": self.key("big")})
        expect(r, 409, "PLAYER_ERASED")
        con = sqlite3.connect(self.env.db, timeout=30)
        with con:
            con.execute("UPDATE adjustment_request SET status='pending', decided_by=NULL, "
                        "decided_at=NULL, decision_reason=NULL WHERE public_id=?",
                        (self.dave_adj,))
        con.close()
        money = self.env.rows("SELECT count(*), sum(amount) FROM ledger_transfer")
        expect(self.fin.call("POST", f"/v1/admin/adjustments/{self.dave_adj}/approve"), 409,
               "PLAYER_ERASED")
        assert self.env.rows("SELECT count(*), sum(amount) FROM ledger_transfer") == money
        assert self.env.rows("SELECT status, transfer_id FROM adjustment_request "
                             "WHERE public_id=?", self.dave_adj) == [("pending", None)]
        expect(self.fin.call("POST", f"/v1/admin/adjustments/{self.dave_adj}/reject",
                             {"reason": "the player is erased"}), 200)

    def provider(self, path, body):
        """One signed native provider call (docs/native-protocol.md), checked against the
        OpenAPI document."""
        data = json.dumps(body).encode()
        ts = str(int(time.time()))
        mac = "sha256=" + hmac.new(PROVIDER_SECRET, ts.encode() + b"." + data,
                                   hashlib.sha256).hexdigest()
        srv = self.env.srv
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
        try:
            c.request("POST", f"/v1/providers/studio/{path}", body=data,
                      headers={"Content-Type": "application/json", "X-Pitboss-Timestamp": ts,
                               "X-Pitboss-Signature": mac})
            r = c.getresponse()
            out = ProviderResp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()
        self.env.spec.check("POST", f"/v1/providers/studio/{path}", out)
        return out

    def open_bets(self):
        """A native provider bet of all erin's money, not settled (no win, no rollback, the
        round open): her accounts hold nothing, yet erasing is refused 409
        PLAYER_HAS_OPEN_BETS with nothing written (the win would be credited to the closed,
        erased account). After the win (0.00: nothing to pay out) it erases."""
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "studio", "name": "Studio", "protocol": "native",
                                "secret": PROVIDER_SECRET.hex()}), 201)
        expect(self.admin.call("POST", "/v1/admin/providers/studio/games",
                               {"code": "slot1", "name": "Slot1", "category": "slots",
                                "rtp_bp": 9600, "volatility": "medium",
                                "limits": [{"currency": "EUR", "min_bet": "0.10",
                                            "max_bet": "100.00"}]}), 201)
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/studio/slot1",
                               {"enabled": True}), 200)
        erin = self.register("alpha", "erin@example.com")["id"]
        c = self.fresh()
        access = expect(c.call("POST", "/v1/player/login",
                               {"brand": "alpha", "email": "erin@example.com",
                                "password": PASSWORD}), 200)["access_token"]
        expect(self.admin.call("POST", f"/v1/admin/players/{erin}/adjustments",
                               {"balance": "cash", "direction": "credit", "amount": "10.00",
                                "reason": "test funds", "idempotency_key": self.key("fund")}),
               201)
        token = expect(c.call("POST", "/v1/player/games/studio/slot1/launch", token=access),
                       201)["token"]
        r = self.provider("bet", {"token": token, "transaction_id": "e-b1", "round_id": "e-r1",
                                  "game": "slot1", "currency": "EUR", "amount": "10.00"})
        assert r.status == 200 and r.json()["cash"] == "0.00", r.body
        before = fingerprint(self.env.db)
        r = self.erase(self.cmp, erin, {"reason": "GDPR request 78"})
        expect(r, 409, "PLAYER_HAS_OPEN_BETS")
        assert fingerprint(self.env.db) == before, "a refused erasure wrote something"
        r = self.provider("win", {"token": token, "transaction_id": "e-w1", "round_id": "e-r1",
                                  "bet_transaction_id": "e-b1", "currency": "EUR",
                                  "amount": "0.00"})
        assert r.status == 200 and r.json()["cash"] == "0.00", r.body
        p = expect(self.erase(self.cmp, erin, {"reason": "GDPR request 78"}), 200)["player"]
        assert p["status"] == "closed" and p["erased_at"], p

    def expired_deposit(self):
        # the export shows a deposit as the API does: with its expires_at, and "expired"
        # once pending past the brand's deposit_expiry_minutes (stored pending)
        def api_view():
            g = expect(self.client.call("GET", f"/v1/player/deposits/{self.deposit}",
                                        token=self.token), 200)
            g.pop("redirect_url", None)  # the checkout link is the player's, not the record's
            return g

        def exported_late():
            d = json.loads(expect_ok(self.export(self.admin, self.alice, reason="DSAR 2026-121")))
            return [x for x in d["deposits"] if x["id"] == self.deposit][0]

        def exported():
            x = exported_late()
            assert x.pop("completed_late") is False, x  # as stored: not a late completion
            return x

        g = api_view()
        assert g["status"] == "pending" and g["expires_at"], g
        assert exported() == g
        con = sqlite3.connect(self.env.db, timeout=30)  # made 25 h ago (the default: 24 h)
        with con:
            con.execute("UPDATE payment SET created_at = created_at - 90000000000 WHERE id=?",
                        (self.deposit,))
        con.close()
        g = api_view()
        assert g["status"] == "expired" and g["expires_at"], g
        x = exported()
        assert x == g, (x, g)
        assert self.env.rows("SELECT status FROM payment WHERE id=?", self.deposit) == [("pending",)]

    def at_rest(self):
        """Stopped (the stop copies the write-ahead log into the database): the erased email
        is in no byte of the database file (the others' are); started again, the address
        registers as a new player. Older copies of the pages stay in the write-ahead log's
        file until new commits overwrite them, as they stay in backups until they rotate out
        (documented with the route)."""
        assert self.env.stop() == 0
        with open(self.env.db, "rb") as f:
            blob = f.read()
        assert b"alice@example.com" in blob and b"bob@example.com" in blob  # the search works
        i = blob.find(b"dave@example.com")
        assert i < 0, ("the erased email is still in the database file", i)
        self.env.start()
        again = self.register("alpha", "dave@example.com")
        assert again["id"] != self.dave and again["email"] == "dave@example.com", again

    def stop_and_verify(self):
        assert self.env.stop() == 0, "exit status"
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        missing = [m for m in self.env.spec.unexercised("/v1/admin/")
                   if ("/export" in m or "/erase" in m) and "/players/" in m]
        missing += [m for m in self.env.spec.unexercised("/v1/player/export")]
        assert not missing, "\n".join(missing)


class ProviderResp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


def expect_ok(r):
    assert r.status == 200, (r.status, r.body[:300])
    return r.body


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_player_export.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: two brands, compliance and support of alpha, compliance of beta; alice with "
         f"{DICE_ROUNDS} dice rounds, a deposit, a withdrawal, a note; bob beside her", run.setup),
        ("refused: support (no players.export), no or a bad reason, another brand's officer, "
         "an unknown player; nothing written", run.refused),
        ("the document: profile in the clear, accounts, every transfer and round over pages, "
         "deposits, withdrawals, sessions, notes without authors, audit with staff by role; "
         "nothing of bob's; complete", run.document),
        ("on record: one audit entry per export with its reason before the body; an admin's "
         "export shows the same data and both exports", run.on_record),
        ("the player's own copy (GET /v1/player/export): the same data without notes, audit "
         "entries, block reason and lockout; on record with the player as actor; a second "
         "within 10 minutes 429 with Retry-After; no token 401", run.player_copy),
        ("no staff member's id or e-mail in either copy: not in the entries' actors, not in "
         "their before/after documents (adjustments asked and decided, an approval lapsed)",
         run.staff_identities),
        ("erase refused: support, another brand, bad bodies, money or a hold, a deposit "
         "pending, a staff adjustment pending, the retention period (1826 days by default, the date said); nothing written",
         run.erase_refused),
        ("erased (retention 0): placeholder email, no names or date of birth, closed, "
         "sessions revoked without address or browser, no login, twice refused, ledger "
         "unmoved, audited and announced, an export without the person", run.erased),
        ("an erased player's adjustment: none can be asked, one pending all the same is "
         "refused at approval (PLAYER_ERASED), nothing moves", run.erased_adjustment),
        ("erase refused while a native provider bet is not settled (PLAYER_HAS_OPEN_BETS, "
         "nothing written); after its win, erased", run.open_bets),
        ("a deposit in the export as in the API: its expires_at, and expired once pending past "
         "the brand's deposit_expiry_minutes", run.expired_deposit),
        ("at rest: the erased email in no byte of the database file after a stop; the "
         "address registers again as a new player", run.at_rest),
        ("stop; ledger verify and audit verify pass; the routes answered 2xx and 4xx",
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
