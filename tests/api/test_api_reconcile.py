"""test_api_reconcile.py — the PSP reconciliation over real HTTP with the built-in
sandbox PSP, whose own books (keys_dir/sandbox-psp.payouts and .settlements) are
the PSP's side:

  - real flows through the sandbox (deposits completed by the payer, credited by the
    webhook; a payout paid, one failed with the 13 knob, one returned) then a run
    with the report fetched by the adapter: every row matched;
  - a deposit the payer completed at the sandbox whose notification never reached
    the cashier (the 41 knob: the sandbox collects and books the money, its
    deposit.succeeded is lost) is a status_mismatch (settled there, pending here);
  - the report downloaded from the sandbox (GET /v1/sandbox-psp/reports/settlement)
    and edited by the test, then uploaded: a row removed → missing_psp, an amount
    changed → amount_mismatch, a foreign reference → missing_ours; rows outside the
    period are not compared;
  - the detail's items are limited to the caller's brands (a finance member of
    alpha sees neither beta's item nor the brandless missing_ours); the list is
    newest first with a cursor; each run is audited and announced
    reconciliation.completed in its transaction;
  - bad input on every new route: 4xx with a stable code and nothing stored (the
    runs, their items, the audit log and the outbox counted before and after);
  - RBAC: support can read nothing, risk reads but cannot run;
  - GET /v1/admin/psps lists the PSPs the server has (the sandbox, fetch and upload
    both offered) to finance.read members (what the back office's "Run
    reconciliation" offers); support is refused;
  - runs move no money: the ledger and balances are the same before and after them;
    the suite ends with `pitboss ledger verify` and `pitboss audit verify`.

Usage: test_api_reconcile.py PATH/TO/pitboss
"""
from datetime import datetime, timedelta, timezone
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Env, Client, Staff, create_staff, expect, live_balances,  # noqa: E402
                           register_player)
from harness import Server, run_cases  # noqa: E402

PASSWORD = "Player-pass-77"
HEADER = "reference,kind,amount,currency,status,settled_at"


def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0
        self.runs = []

    def key(self):
        self.n += 1
        return f"k-{self.n}"

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.srv = Server(env.binary, extra_args=["--db", env.db, "--keys-dir", env.keys],
                         env={"PITBOSS_SANDBOX_PAYOUT_DELAY_MS": "200",
                              "PITBOSS_SANDBOX_STUCK_PAYOUTS": "1",
                              # bodies up to 2 MiB reach the handler: its own 1 MiB limit
                              # for a report file is what refuses a larger one
                              "PITBOSS_MAX_BODY": str(2 << 20)})
        self.admin = Staff(env, "root@example.com", otp, "127.0.5.10").activate("Blue-Falcon-0-Xy")
        for code in ("alpha", "beta"):
            expect(self.admin.call("POST", "/v1/admin/brands",
                                   {"code": code, "name": code.title(), "default_currency": "EUR",
                                    "jurisdiction": "MT",
                                    "settings": {"withdrawal_4eyes_thresholds": {"EUR": 100000}}}),
                   201)
        self.fin = create_staff(env, self.admin, "fin@example.com", "finance", "127.0.5.11",
                                brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.risk = create_staff(env, self.admin, "risk@example.com", "risk", "127.0.5.12",
                                 brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.support = create_staff(env, self.admin, "sup@example.com", "support", "127.0.5.13",
                                    brands=["alpha"]).activate("Blue-Falcon-3-Xy")
        self.client = Client(env, "127.0.5.20")
        self.psp = Client(env, "127.0.5.30")
        self.tokens = {}
        for name, brand in (("alice", "alpha"), ("erin", "beta")):
            register_player(self.client, brand, f"{name}@example.com")
            self.tokens[name] = self.client.call(
                "POST", "/v1/player/login", {"brand": brand, "email": f"{name}@example.com",
                                            "password": PASSWORD}).json()["access_token"]
        self.t0 = datetime.now(timezone.utc) - timedelta(seconds=5)

    # ---- helpers ----

    def deposit(self, who, amount):
        return expect(self.client.call("POST", "/v1/player/deposits",
                                       {"amount": amount, "idempotency_key": self.key()},
                                       token=self.tokens[who]), 201)

    def pay(self, ref):
        return expect(self.psp.call("POST", f"/v1/sandbox-psp/payments/{ref}/complete"), 200)

    def withdraw_to(self, amount, want):
        w = expect(self.client.call("POST", "/v1/player/withdrawals",
                                    {"amount": amount, "idempotency_key": self.key()},
                                    token=self.tokens["alice"]), 201)
        expect(self.fin.call("POST", f"/v1/admin/withdrawals/{w['id']}/approve"), 200)
        deadline = time.monotonic() + 15
        while True:
            g = expect(self.fin.call("GET", f"/v1/admin/withdrawals/{w['id']}"), 200)
            if g["status"] == want or time.monotonic() > deadline:
                assert g["status"] == want, g
                return g
            time.sleep(0.1)

    def period(self):
        return iso(self.t0), iso(datetime.now(timezone.utc) + timedelta(seconds=1))

    def money(self):
        return (self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0],
                live_balances(self.env.db))

    def stored(self):
        """Everything a run writes, counted: runs, items, audit entries, events."""
        return (self.env.rows("SELECT count(*) FROM reconciliation")[0][0],
                self.env.rows("SELECT count(*) FROM reconciliation_item")[0][0],
                self.env.rows("SELECT count(*) FROM audit_entry")[0][0],
                self.env.rows("SELECT count(*) FROM event_outbox")[0][0])

    def fetch_run(self, staff=None, frm=None, to=None):
        f, t = self.period()
        r = expect((staff or self.admin).call("POST", "/v1/admin/reconciliations",
                                              {"psp": "sandbox", "from": frm or f, "to": to or t}),
                   201)
        self.runs.append(r["id"])
        return r

    def upload(self, csv, frm, to, staff=None, status=201, code=None, ctype="text/csv"):
        q = urllib.parse.urlencode({"psp": "sandbox", "from": frm, "to": to})
        r = (staff or self.admin).call("POST", f"/v1/admin/reconciliations/upload?{q}",
                                       raw=csv.encode(), headers={"Content-Type": ctype})
        body = expect(r, status, code)
        if status == 201:
            self.runs.append(body["id"])
        return body

    def download(self, frm, to):
        q = urllib.parse.urlencode({"from": frm, "to": to})
        r = self.psp.call("GET", f"/v1/sandbox-psp/reports/settlement?{q}")
        assert r.status == 200 and r.header("content-type").startswith("text/csv"), r
        return r.body.decode()

    # ---- cases ----

    def flows_all_matched(self):
        before = self.money()
        self.d1 = self.deposit("alice", "100.00")
        assert self.pay(self.d1["psp_reference"])["outcome"] == "applied"
        self.d2 = self.deposit("erin", "50.00")
        assert self.pay(self.d2["psp_reference"])["outcome"] == "applied"
        self.paid = self.withdraw_to("10.00", "paid")
        self.failed = self.withdraw_to("10.13", "failed")
        self.ret = self.withdraw_to("7.00", "paid")
        r = expect(self.psp.call("POST", f"/v1/sandbox-psp/payouts/{self.ret['psp_reference']}/return"),
                   200)
        assert r["outcome"] == "applied", r
        assert self.money() != before  # the flows moved money; the runs below must not
        money = self.money()
        run = self.fetch_run()
        assert run["source"] == "fetch" and run["psp"] == "sandbox", run
        # 2 deposits, 3 payouts (paid, failed, paid then returned), 1 return
        assert run["psp_rows"] == 6 and run["psp_rows_outside"] == 0, run
        assert run["counts"] == {"matched": 6, "missing_ours": 0, "status_mismatch": 0,
                                 "amount_mismatch": 0, "missing_psp": 0}, run
        assert run["items"] == [] and run["run_by"] == self.admin.id, run
        assert self.money() == money, "a run moved money"

    def lost_webhook(self):
        # the 41 knob: the payer pays, the sandbox collects and books the money, but its
        # deposit.succeeded never reaches the cashier: the player was never credited
        self.lost = self.deposit("alice", "20.41")
        r = self.pay(self.lost["psp_reference"])
        assert r["outcome"] == "not_delivered" and r["type"] == "deposit.succeeded", r
        g = expect(self.fin.call("GET", f"/v1/admin/payments/{self.lost['id']}"), 200)
        assert g["status"] == "pending", g
        money = self.money()
        run = self.fetch_run()
        self.lost_run = run["id"]
        assert run["counts"] == {"matched": 6, "missing_ours": 0, "status_mismatch": 1,
                                 "amount_mismatch": 0, "missing_psp": 0}, run
        [it] = run["items"]
        assert (it["class"], it["kind"], it["reference"], it["brand"]) == \
            ("status_mismatch", "deposit", self.lost["psp_reference"], "alpha"), it
        assert it["ours"] == {"id": self.lost["id"], "status": "pending", "amount": "20.41",
                              "currency": "EUR", "status_now": "pending"}, it
        assert (it["psp"]["status"], it["psp"]["amount"]) == ("settled", "20.41"), it
        assert self.money() == money

    def upload_edited(self):
        frm, to = self.period()
        csv = self.download(frm, to)
        lines = csv.rstrip("\n").split("\n")
        assert lines[0] == HEADER and len(lines) == 1 + 7, csv
        # unchanged, the file reconciles as the fetch did
        run = self.upload(csv, frm, to)
        assert run["source"] == "upload" and run["counts"]["matched"] == 6 and \
            run["counts"]["status_mismatch"] == 1, run
        rows = lines[1:]
        d1 = [x for x in rows if x.startswith(self.d1["psp_reference"] + ",")]
        d2 = [x for x in rows if x.startswith(self.d2["psp_reference"] + ",")]
        assert len(d1) == 1 and len(d2) == 1, rows
        rows.remove(d1[0])  # alice's 100.00: the PSP does not have it → missing_psp
        f = d2[0].split(",")
        assert f[2] == "5000", f
        f[2] = "5001"       # erin's 50.00 at 50.01 → amount_mismatch
        rows[rows.index(d2[0])] = ",".join(f)
        at = d2[0].split(",")[5]
        rows.append(f"sbxp_foreign-1,deposit,999,EUR,settled,{at}")  # → missing_ours
        rows.append("sbxp_outside,deposit,999,EUR,settled,2001-01-01T00:00:00Z")  # outside
        money = self.money()
        run = self.upload("\r\n".join([HEADER] + rows) + "\r\n", frm, to)
        self.edited = run
        assert run["psp_rows"] == 7 and run["psp_rows_outside"] == 1, run
        assert run["counts"] == {"matched": 4, "missing_ours": 1, "status_mismatch": 1,
                                 "amount_mismatch": 1, "missing_psp": 1}, run
        by = {i["class"]: i for i in run["items"]}
        assert by["missing_psp"]["reference"] == self.d1["psp_reference"], by
        assert by["missing_psp"]["psp"] is None and \
            by["missing_psp"]["ours"]["status"] == "completed", by
        assert by["amount_mismatch"]["reference"] == self.d2["psp_reference"], by
        assert (by["amount_mismatch"]["ours"]["amount"], by["amount_mismatch"]["psp"]["amount"],
                by["amount_mismatch"]["brand"]) == ("50.00", "50.01", "beta"), by
        assert by["missing_ours"]["reference"] == "sbxp_foreign-1", by
        assert by["missing_ours"]["ours"] is None and by["missing_ours"]["brand"] is None, by
        assert by["status_mismatch"]["reference"] == self.lost["psp_reference"], by
        assert self.money() == money

    def brand_scope(self):
        rid = self.edited["id"]
        full = expect(self.admin.call("GET", f"/v1/admin/reconciliations/{rid}"), 200)
        assert sorted(i["class"] for i in full["items"]) == \
            ["amount_mismatch", "missing_ours", "missing_psp", "status_mismatch"], full
        mine = expect(self.fin.call("GET", f"/v1/admin/reconciliations/{rid}"), 200)
        # alpha only: beta's amount_mismatch and the brandless missing_ours are not shown
        assert sorted(i["class"] for i in mine["items"]) == ["missing_psp", "status_mismatch"], mine
        assert all(i["brand"] == "alpha" for i in mine["items"]), mine
        assert mine["counts"] == full["counts"], (mine, full)
        # the items page: limit and cursor
        p1 = expect(self.admin.call("GET", f"/v1/admin/reconciliations/{rid}?limit=3"), 200)
        assert len(p1["items"]) == 3 and p1["next_cursor"], p1
        p2 = expect(self.admin.call(
            "GET", f"/v1/admin/reconciliations/{rid}?limit=3&cursor={p1['next_cursor']}"), 200)
        assert [i["n"] for i in p1["items"] + p2["items"]] == [1, 2, 3, 4] and \
            p2["next_cursor"] is None, (p1, p2)

    def list_audit_events(self):
        page = expect(self.risk.call("GET", "/v1/admin/reconciliations"), 200)
        assert [r["id"] for r in page["items"]] == list(reversed(self.runs)), page
        assert "items" not in page["items"][0], page
        p1 = expect(self.fin.call("GET", "/v1/admin/reconciliations?limit=2"), 200)
        p2 = expect(self.fin.call("GET", f"/v1/admin/reconciliations?limit=2&cursor={p1['next_cursor']}"),
                    200)
        assert [r["id"] for r in p1["items"] + p2["items"]] == list(reversed(self.runs)), (p1, p2)
        audits = self.env.rows("SELECT target_id, actor_id, json_extract(after, '$.psp'), "
                               "json_extract(after, '$.counts.missing_psp') FROM audit_entry "
                               "WHERE action='reconciliation.run' ORDER BY seq")
        assert [a[0] for a in audits] == self.runs, audits
        assert audits[-1][1:] == (self.admin.id, "sandbox", 1), audits
        events = self.env.rows("SELECT json_extract(payload, '$.reconciliation_id'), "
                               "json_extract(payload, '$.counts.amount_mismatch'), "
                               "json_extract(payload, '$.source') FROM event_outbox "
                               "WHERE type='reconciliation.completed' ORDER BY id")
        assert [e[0] for e in events] == self.runs, events
        assert events[-1][1:] == (1, "upload"), events

    def books_outlive_restart(self):
        # the sandbox's books are its files (read at start), not the process's memory
        frm, to = self.period()
        before = self.download(frm, to)
        for name in ("sandbox-psp.payouts", "sandbox-psp.settlements"):
            assert os.stat(os.path.join(self.env.keys, name)).st_mode & 0o777 == 0o600, name
        with open(os.path.join(self.env.keys, "sandbox-psp.settlements")) as f:
            kinds = sorted(line.split()[0] for line in f)
        assert kinds == ["deposit"] * 3 + ["returned"], kinds
        assert self.env.srv.stop() == 0
        self.env.srv = Server(self.env.binary, extra_args=["--db", self.env.db, "--keys-dir",
                                                           self.env.keys],
                              env={"PITBOSS_SANDBOX_PAYOUT_DELAY_MS": "200",
                                   "PITBOSS_SANDBOX_STUCK_PAYOUTS": "1",
                                   "PITBOSS_MAX_BODY": str(2 << 20)})
        for s in (self.admin, self.fin, self.risk, self.support):
            s.refresh()  # the old access tokens still stand; a fresh one for the new server
        assert self.download(frm, to) == before
        run = self.fetch_run(frm=frm, to=to)
        assert run["counts"] == {"matched": 6, "missing_ours": 0, "status_mismatch": 1,
                                 "amount_mismatch": 0, "missing_psp": 0}, run

    def bad_input(self):
        frm, to = self.period()
        before, money = self.stored(), self.money()
        late = iso(self.t0 + timedelta(days=31, seconds=1))
        run = "/v1/admin/reconciliations"
        for body, status, code in (
                ({"psp": "nope", "from": frm, "to": to}, 404, "PSP_NOT_FOUND"),
                ({"psp": "sandbox", "from": frm}, 422, "FIELD_MISSING"),
                ({"psp": "sandbox", "from": "yesterday", "to": to}, 422, "FIELD_INVALID"),
                ({"psp": "sandbox", "from": to, "to": frm}, 422, "FIELD_INVALID"),
                ({"psp": "sandbox", "from": frm, "to": frm}, 422, "FIELD_INVALID"),
                ({"psp": "sandbox", "from": frm, "to": late}, 422, "FIELD_INVALID"),
                ({"psp": "sandbox", "from": frm, "to": to, "x": 1}, 400, "UNKNOWN_FIELD")):
            expect(self.admin.call("POST", run, body), status, code)
        r = self.admin.call("POST", run, raw=b"psp=sandbox", headers={"Content-Type": "text/plain"})
        expect(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        good = self.download(frm, to)
        self.upload(good, frm, late, status=422, code="FIELD_INVALID")
        self.upload(good, to, frm, status=422, code="FIELD_INVALID")
        r = self.admin.call("POST", f"/v1/admin/reconciliations/upload?from={frm}&to={to}",
                            raw=good.encode(), headers={"Content-Type": "text/csv"})
        expect(r, 422, "FIELD_MISSING")
        q = urllib.parse.urlencode({"psp": "nope", "from": frm, "to": to})
        r = self.admin.call("POST", f"/v1/admin/reconciliations/upload?{q}", raw=good.encode(),
                            headers={"Content-Type": "text/csv"})
        expect(r, 404, "PSP_NOT_FOUND")
        self.upload(good, frm, to, status=415, code="UNSUPPORTED_MEDIA_TYPE", ctype="application/json")
        e = self.upload("ref,kind\n", frm, to, status=422, code="SETTLEMENT_REPORT_INVALID")
        assert "line 1" in e["error"]["message"], e
        lines = good.rstrip("\n").split("\n")
        f = lines[2].split(",")
        f[2] = "12x"  # line 3's amount
        bad = lines[:2] + [",".join(f)] + lines[3:]
        e = self.upload("\n".join(bad) + "\n", frm, to, status=422, code="SETTLEMENT_REPORT_INVALID")
        assert e["error"]["message"].startswith("line 3: amount"), e
        e = self.upload("\n".join(lines + [lines[1]]) + "\n", frm, to, status=422,
                        code="SETTLEMENT_REPORT_INVALID")
        assert "listed twice" in e["error"]["message"], e
        e = self.upload(HEADER + "\n" + "x" * (1024 * 1024), frm, to, status=413,
                        code="PAYLOAD_TOO_LARGE")
        assert "at most 1048576 bytes" in e["error"]["message"], e
        expect(self.admin.call("GET", "/v1/admin/reconciliations/00000000-0000-7000-8000-000000000000"),
               404, "RECONCILIATION_NOT_FOUND")
        expect(self.admin.call("GET", "/v1/admin/reconciliations/not-an-id"), 404,
               "RECONCILIATION_NOT_FOUND")
        expect(self.admin.call("GET", "/v1/admin/reconciliations?limit=0"), 422, "FIELD_INVALID")
        expect(self.admin.call("GET", f"/v1/admin/reconciliations/{self.runs[0]}?cursor=x"), 422,
               "FIELD_INVALID")
        q = urllib.parse.urlencode({"from": frm})
        expect(self.psp.call("GET", f"/v1/sandbox-psp/reports/settlement?{q}"), 422, "FIELD_MISSING")
        q = urllib.parse.urlencode({"from": to, "to": frm})
        expect(self.psp.call("GET", f"/v1/sandbox-psp/reports/settlement?{q}"), 422, "FIELD_INVALID")
        assert self.stored() == before, (before, self.stored())
        assert self.money() == money

    def rbac(self):
        frm, to = self.period()
        before = self.stored()
        body = {"psp": "sandbox", "from": frm, "to": to}
        expect(self.support.call("GET", "/v1/admin/reconciliations"), 403, "FORBIDDEN")
        expect(self.support.call("GET", f"/v1/admin/reconciliations/{self.runs[0]}"), 403, "FORBIDDEN")
        expect(self.support.call("POST", "/v1/admin/reconciliations", body), 403, "FORBIDDEN")
        expect(self.risk.call("POST", "/v1/admin/reconciliations", body), 403, "FORBIDDEN")
        self.upload(self.download(frm, to), frm, to, staff=self.risk, status=403, code="FORBIDDEN")
        expect(self.risk.call("GET", f"/v1/admin/reconciliations/{self.runs[0]}"), 200)
        expect(self.client.call("GET", "/v1/admin/reconciliations"), 401, "UNAUTHENTICATED")
        assert self.stored() == before
        # a finance member of one brand runs it (a report spans brands): stored, theirs
        run = self.fetch_run(staff=self.fin)
        assert run["run_by"] == self.fin.id, run
        assert all(i["brand"] == "alpha" for i in run["items"]), run

    def credit_state(self):
        """Everything a refused completion must leave alone."""
        return (self.money(), self.stored(),
                self.env.rows("SELECT id, status, transfer_id FROM payment ORDER BY seq"),
                self.env.rows("SELECT count(*) FROM payment_event")[0][0])

    def credit(self):
        """Finance completes the lost (41) deposit on the fetched run's evidence, once."""
        lost, path = self.lost, f"/v1/admin/payments/{self.lost['id']}/complete"
        wallet = lambda: expect(self.client.call("GET", "/v1/player/wallet",  # noqa: E731
                                                 token=self.tokens["alice"]), 200)
        # another pending deposit of alice (never paid), and one whose PSP row says
        # another amount: an amount_mismatch at the PSP's report, not evidence
        other = self.deposit("alice", "30.00")
        odd = self.deposit("alice", "40.00")
        assert self.env.srv.stop() == 0
        at = int(time.time() * 1_000_000)
        with open(os.path.join(self.env.keys, "sandbox-psp.settlements"), "a") as f:
            f.write(f"deposit {odd['psp_reference']} 4001 EUR {at}\n")
        self.restart()
        odd_run = self.fetch_run()
        assert odd_run["counts"]["amount_mismatch"] == 1 and \
            odd_run["counts"]["status_mismatch"] == 1, odd_run
        finb = create_staff(self.env, self.admin, "finb@example.com", "finance", "127.0.5.14",
                            brands=["beta"]).activate("Blue-Falcon-4-Xy")
        body = {"reconciliation_id": self.lost_run, "reason": "ticket FIN-41: PSP settled it"}
        before, cash = self.credit_state(), wallet()
        for who, p, b, status, code in (
                (self.support, path, body, 403, "FORBIDDEN"),
                (self.risk, path, body, 403, "FORBIDDEN"),
                (finb, path, body, 404, "PAYMENT_NOT_FOUND"),  # another brand's member
                # an uploaded report is staff-supplied: no evidence, though it lists it
                (self.fin, path, dict(body, reconciliation_id=self.edited["id"]), 422,
                 "RECONCILIATION_NO_EVIDENCE"),
                (self.fin, path, dict(body, reconciliation_id="00000000-0000-7000-8000-000000000000"),
                 404, "RECONCILIATION_NOT_FOUND"),
                # a fetched run without such an item for that payment: a matched one,
                # another payment's reference, an amount mismatch
                (self.fin, f"/v1/admin/payments/{self.d1['id']}/complete", body, 422,
                 "RECONCILIATION_NO_EVIDENCE"),
                (self.fin, f"/v1/admin/payments/{other['id']}/complete", body, 422,
                 "RECONCILIATION_NO_EVIDENCE"),
                (self.fin, f"/v1/admin/payments/{odd['id']}/complete",
                 dict(body, reconciliation_id=odd_run["id"]), 422, "RECONCILIATION_NO_EVIDENCE"),
                (self.fin, "/v1/admin/payments/00000000-0000-7000-8000-000000000000/complete",
                 body, 404, "PAYMENT_NOT_FOUND"),
                (self.fin, path, {"reconciliation_id": self.lost_run}, 422, "FIELD_MISSING"),
                (self.fin, path, dict(body, reason=" "), 422, "FIELD_INVALID"),
                (self.fin, path, dict(body, reason="x" * 1001), 422, "FIELD_INVALID"),
                (self.fin, path, dict(body, reconciliation_id=5), 422, "FIELD_INVALID"),
                (self.fin, path, dict(body, reason=["a"]), 422, "FIELD_INVALID"),
                (self.fin, path, dict(body, amount="20.41"), 400, "UNKNOWN_FIELD"),
                (self.fin, path, dict(body, reconciliation_id="not-an-id"), 404,
                 "RECONCILIATION_NOT_FOUND")):
            expect(who.call("POST", p, b), status, code)
        assert self.credit_state() == before and wallet() == cash
        # the fetched run's evidence: credited, as the PSP's deposit.succeeded would have
        got = expect(self.fin.call("POST", path, body), 200)
        assert (got["id"], got["status"], got["amount"]) == (lost["id"], "completed", "20.41"), got
        assert got["transfer_id"] and got["completed_late"] is False, got
        after = wallet()
        cents = lambda w: int(w["cash"].replace(".", ""))  # noqa: E731
        assert cents(after) - cents(cash) == 2041, (cash, after)
        tid = got["transfer_id"]
        transfers = self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0]
        assert transfers == before[0][0] + 1, (transfers, before[0][0])
        assert live_balances(self.env.db) != before[0][1]
        g = expect(self.fin.call("GET", f"/v1/admin/payments/{lost['id']}"), 200)
        assert g["status"] == "completed" and g["transfer_id"] == tid, g
        audits = self.env.rows("SELECT actor_kind, actor_id, reason, json_extract(before, '$.status'), "
                               "json_extract(after, '$.status') FROM audit_entry WHERE "
                               "action='payment.completed' AND target_id=?", lost["id"])
        assert len(audits) == 1, audits
        kind, actor, reason, was, now = audits[0]
        assert (kind, actor, was, now) == ("staff", self.fin.id, "pending", "completed"), audits
        assert self.lost_run in reason and "ticket FIN-41: PSP settled it" in reason, reason
        events = self.env.rows("SELECT brand, subject FROM event_outbox WHERE "
                               "type='deposit.completed' AND json_extract(payload, '$.payment_id')=?",
                               lost["id"])
        assert events == [("alpha", got["player"])], events
        # the run's item tells it was since resolved: as the run saw it, and now
        [it] = expect(self.fin.call("GET", f"/v1/admin/reconciliations/{self.lost_run}"),
                      200)["items"]
        assert (it["ours"]["status"], it["ours"]["status_now"]) == ("pending", "completed"), it
        # a second call: refused, nothing moves
        state = self.credit_state()
        expect(self.fin.call("POST", path, body), 409, "PAYMENT_STATE")
        expect(self.admin.call("POST", path, body), 409, "PAYMENT_STATE")
        assert self.credit_state() == state and wallet() == after
        # the PSP's notification arriving after all: ignored (completed already), recorded
        with open(os.path.join(self.env.keys, "sandbox-psp.secret")) as f:
            secret = f.read().strip()
        ev = json.dumps({"id": "evt-late-41", "type": "deposit.succeeded", "created": int(time.time()),
                         "data": {"reference": lost["psp_reference"], "amount": 2041,
                                  "currency": "EUR"}}).encode()
        t = int(time.time())
        mac = hmac.new(secret.encode(), f"{t}.".encode() + ev, hashlib.sha256).hexdigest()
        r = expect(self.psp.call("POST", "/v1/cashier/webhooks/sandbox", raw=ev,
                                 headers={"X-Sandbox-Signature": f"t={t},v1={mac}"}), 200)
        assert r["outcome"] == "ignored", r
        assert self.money() == state[0] and wallet() == after
        state = self.credit_state()
        # a new fetch over the same period: the deposit now matches
        run = self.fetch_run()
        assert run["counts"]["status_mismatch"] == 0 and \
            run["counts"]["matched"] == odd_run["counts"]["matched"] + 1, (odd_run, run)
        assert not [i for i in run["items"] if i["reference"] == lost["psp_reference"]], run
        assert self.money() == state[0]

    def psps(self):
        for s in (self.admin, self.fin, self.risk):
            body = expect(s.call("GET", "/v1/admin/psps"), 200)
            assert body == {"psps": [{"code": "sandbox", "report_fetch": True,
                                      "report_parse": True}]}, body
        expect(self.support.call("GET", "/v1/admin/psps"), 403, "FORBIDDEN")
        expect(self.client.call("GET", "/v1/admin/psps"), 401, "UNAUTHENTICATED")

    def coverage(self):
        missing = []
        for prefix in ("/v1/admin/reconciliations", "/v1/sandbox-psp/reports/", "/v1/admin/psps",
                       "/v1/admin/payments/{id}/complete"):
            missing += self.env.spec.unexercised(prefix)
        assert not missing, "\n".join(missing)

    def restart(self, **extra):
        assert self.env.srv.stop() == 0
        self.env.srv = Server(self.env.binary, extra_args=["--db", self.env.db, "--keys-dir",
                                                           self.env.keys],
                              env=dict({"PITBOSS_SANDBOX_PAYOUT_DELAY_MS": "200",
                                        "PITBOSS_SANDBOX_STUCK_PAYOUTS": "1",
                                        "PITBOSS_MAX_BODY": str(2 << 20)}, **extra))
        for s in (self.admin, self.fin, self.risk, self.support):
            s.refresh()

    def backlog(self, who):
        """The event types of who's stream backlog (catch_up_only: sent, then ended)."""
        r = who.call("GET", "/v1/admin/events/stream?last_event_id=0&catch_up_only=true")
        assert r.status == 200, r
        return [line.split(":", 1)[1].strip() for line in r.body.decode().splitlines()
                if line.startswith("event:")]

    def event_scope(self):
        """reconciliation.completed is platform-wide (a run spans brands) yet reaches a
        brand-scoped finance member's stream, whose API shows the runs anyway; another
        platform-wide event (platform.restored, brands.read) still reaches only members
        who see every brand; beta's events never reach alpha's member."""
        assert self.env.srv.stop() == 0
        with sqlite3.connect(self.env.db, timeout=30) as con:
            con.execute("INSERT INTO event_outbox(type,brand,subject,payload,created_at,trace_id) "
                        "VALUES('platform.restored','','','{}',?, '')", (int(time.time() * 1e6),))
        con.close()
        self.restart()
        fin, admin = self.backlog(self.fin), self.backlog(self.admin)
        assert fin.count("reconciliation.completed") == len(self.runs_made()), fin
        assert "platform.restored" not in fin and "platform.restored" in admin, (fin, admin)
        assert admin.count("reconciliation.completed") == fin.count("reconciliation.completed")
        (beta_deposits,), = self.env.rows("SELECT count(*) FROM event_outbox WHERE "
                                          "type='deposit.completed' AND brand='beta'")
        assert beta_deposits >= 1
        assert fin.count("deposit.completed") < admin.count("deposit.completed"), (fin, admin)

    def runs_made(self):
        return self.env.rows("SELECT id FROM reconciliation")

    def daily_runs(self, frm, to):
        page = expect(self.admin.call("GET", "/v1/admin/reconciliations?limit=100"), 200)
        return [r for r in page["items"]
                if (r["from"], r["to"], r["source"]) == (frm, to, "fetch")]

    def metrics(self):
        out = {}
        for line in self.env.srv.request("GET", "/metrics").body.decode().splitlines():
            if line.startswith("pitboss_reconciliation_"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def daily(self):
        """PITBOSS_RECONCILE_AT=00:00, the PSP's report service down: the run fails, counted,
        logged, nothing stored (a staff fetch: 502 PSP_UNAVAILABLE); up again:
        yesterday (UTC) reconciled at start by the system,
        with what the PSP booked yesterday and we never saw (a line in the sandbox's own
        books: missing_ours); its figures on /metrics; a restart makes no second run and
        shows the same figures; without the setting, no run and no figures; a bad time
        stops serve at start."""
        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        frm, to = iso(today - timedelta(days=1)), iso(today)
        assert not self.daily_runs(frm, to)
        assert not self.metrics(), "off by default: no figures"
        noon = int((today - timedelta(hours=12)).timestamp() * 1_000_000)
        assert self.env.srv.stop() == 0
        with open(os.path.join(self.env.keys, "sandbox-psp.settlements"), "a") as f:
            f.write(f"deposit sbxp_paid-yesterday-unseen 4321 EUR {noon}\n")
        # the PSP's report service down (the sandbox's test knob): the daily run fails,
        # is counted and logged, nothing is stored; a staff fetch answers 502
        down = os.path.join(self.env.keys, "sandbox-psp.report-down")
        open(down, "w").close()
        self.restart(PITBOSS_RECONCILE_AT="00:00")
        deadline = time.monotonic() + 10
        failed = 'pitboss_reconciliation_daily_runs_total{psp="sandbox",result="failed"}'
        while self.metrics().get(failed, 0) < 1:
            assert time.monotonic() < deadline, self.metrics()
            time.sleep(0.1)
        m = self.metrics()
        assert m['pitboss_reconciliation_daily_runs_total{psp="sandbox",result="ok"}'] == 0, m
        assert 'pitboss_reconciliation_last_run_timestamp_seconds{psp="sandbox"}' not in m, m
        assert not self.daily_runs(frm, to)
        assert [x for x in self.env.srv.logs if '"event":"cashier.reconcile"' in x and
                "PSP_UNAVAILABLE" in x], self.env.srv.logs[-5:]
        before = self.stored()
        r = self.fin.call("POST", "/v1/admin/reconciliations", {"psp": "sandbox", "from": frm,
                                                                "to": to})
        expect(r, 502, "PSP_UNAVAILABLE")
        assert self.stored() == before
        os.remove(down)
        self.restart(PITBOSS_RECONCILE_AT="00:00")
        deadline = time.monotonic() + 20
        while not self.daily_runs(frm, to):
            assert time.monotonic() < deadline, "no daily run"
            time.sleep(0.1)
        (run,) = self.daily_runs(frm, to)
        assert run["run_by"] == "cashier.reconcile", run
        got = expect(self.admin.call("GET", f"/v1/admin/reconciliations/{run['id']}"), 200)
        unseen = [i for i in got["items"] if i["reference"] == "sbxp_paid-yesterday-unseen"]
        assert len(unseen) == 1 and unseen[0]["class"] == "missing_ours", got["items"]
        gaps = sum(v for k, v in run["counts"].items() if k != "matched")
        assert gaps >= 1, run
        deadline = time.monotonic() + 10
        while 'pitboss_reconciliation_daily_runs_total{psp="sandbox",result="ok"}' not in self.metrics():
            assert time.monotonic() < deadline, self.metrics()
            time.sleep(0.1)
        m = self.metrics()
        assert m['pitboss_reconciliation_daily_runs_total{psp="sandbox",result="ok"}'] == 1, m
        assert m['pitboss_reconciliation_daily_runs_total{psp="sandbox",result="failed"}'] == 0, m
        assert m['pitboss_reconciliation_discrepancies{psp="sandbox"}'] == gaps, m
        made = m['pitboss_reconciliation_last_run_timestamp_seconds{psp="sandbox"}']
        assert abs(made - time.time()) < 60, m
        # a restart: the period is done; no second run, the same figures
        self.restart(PITBOSS_RECONCILE_AT="00:00")
        deadline = time.monotonic() + 10
        while 'pitboss_reconciliation_discrepancies{psp="sandbox"}' not in self.metrics():
            assert time.monotonic() < deadline, self.metrics()
            time.sleep(0.1)
        m = self.metrics()
        assert m['pitboss_reconciliation_daily_runs_total{psp="sandbox",result="ok"}'] == 0, m
        assert m['pitboss_reconciliation_discrepancies{psp="sandbox"}'] == gaps, m
        assert m['pitboss_reconciliation_last_run_timestamp_seconds{psp="sandbox"}'] == made, m
        assert len(self.daily_runs(frm, to)) == 1
        for bad in ("24:00", "7:30", "+1:30", "07:60", "07-30", "noon"):
            out = subprocess.run([self.env.binary, "serve", "--listen", "127.0.0.1:0", "--db",
                                  os.path.join(self.env.dir, "bad.db"), "--keys-dir",
                                  os.path.join(self.env.dir, "bad-keys")],
                                 capture_output=True, timeout=30,
                                 env={"PITBOSS_RECONCILE_AT": bad,
                                      "PATH": os.environ.get("PATH", "")})
            assert out.returncode != 0 and b"PITBOSS_RECONCILE_AT must be" in out.stderr, (bad, out)
        self.restart()

    def stop_and_verify(self):
        rc = self.env.srv.stop()
        assert rc == 0, rc
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0, r.stdout + r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_api_reconcile.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: brands alpha and beta, finance/risk/support of alpha, a player in each", run.setup),
        ("deposits, a paid, a failed (13) and a returned payout through the sandbox: a fetched "
         "report is all matched; the run moves no money", run.flows_all_matched),
        ("a deposit collected by the sandbox whose notification was lost (41): status_mismatch, "
         "settled there, pending here", run.lost_webhook),
        ("the sandbox's report downloaded, edited and uploaded: removed row → missing_psp, "
         "changed amount → amount_mismatch, foreign reference → missing_ours, outside the "
         "period not compared", run.upload_edited),
        ("a brand-scoped member sees only the items of their brands; items paged", run.brand_scope),
        ("runs listed newest first with a cursor; each audited and announced "
         "reconciliation.completed", run.list_audit_events),
        ("the sandbox's books outlive a restart: the same report, the same run",
         run.books_outlive_restart),
        ("bad input on every new route: 4xx with a stable code, nothing stored, no money moved",
         run.bad_input),
        ("RBAC: support reads nothing, risk reads but cannot run; finance runs", run.rbac),
        ("finance completes the lost (41) deposit on a fetched run's evidence: credited once, "
         "audited with the member and reason, deposit.completed; refused (nothing moves) for "
         "support/risk, another brand's member, an uploaded run, a run without the item (a "
         "matched payment, another payment, an amount mismatch), a second time; a new fetch "
         "matches it", run.credit),
        ("GET /v1/admin/psps: the sandbox with both kinds of report, for finance.read only",
         run.psps),
        ("every new operation had a 2xx and a 4xx answer validated against openapi.yaml",
         run.coverage),
        ("the stream: reconciliation.completed reaches a brand-scoped finance member; another "
         "platform-wide event, and another brand's, do not", run.event_scope),
        ("PITBOSS_RECONCILE_AT: yesterday reconciled at start by the system (what the PSP "
         "booked and we never saw: missing_ours), on /metrics; a restart runs it not again, "
         "the same figures; a bad time refused at start", run.daily),
        ("SIGTERM exits 0; `ledger verify` and `audit verify` pass", run.stop_and_verify),
    ]
    return run_cases(cases, env.cleanup)


if __name__ == "__main__":
    sys.exit(main())
