"""test_settle_sweep.py — serve's expiry sweep (src/api/admin_request_sweep.c) over
unclaimed-funds settlement requests (4-eyes) pending past their brand's
settings.unclaimed_settlement_expiry_hours, over real HTTP. The unclaimed funds arise as
in test_unclaimed_settle.py (whose setup this reuses: an erased player's late win).

Nobody touches the aged request, and still it is stored expired (decided_at set,
decided_by null) with the audit entry funds.unclaimed_settle_expire by the system (actor
settlements.sweep, on the brand) and the event funds.unclaimed_settlement_expired (no
member: staff_id null), exactly as the decision that finds one so would mark it
(pb_admin_request_mark_expired). A request within its time stays pending; approved and rejected
ones are never touched; no money moves. Afterwards approve and reject answer 409
SETTLEMENT_STATE (expired) and audit nothing more. The sweep runs once at start and then
every --request-sweep-seconds (or its older name --adjust-sweep-seconds; the
environment's PITBOSS_REQUEST_SWEEP_SECONDS / PITBOSS_ADJUST_SWEEP_SECONDS); /metrics
counts what it marked (pitboss_unclaimed_settlements_expired_total). Ends with
`pitboss ledger verify` and `pitboss audit verify`.

Usage: test_settle_sweep.py PATH/TO/pitboss
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Env, age_settlement, expect, live_balances  # noqa: E402
from harness import run_cases  # noqa: E402
from test_unclaimed_settle import PATH, Run as SettleRun  # noqa: E402

HOUR_US = 3600 * 1000000
ACTOR = "settlements.sweep"


class Run(SettleRun):
    START = ("--request-sweep-seconds", "86400")  # no pass but the one at start

    def setup_sweep(self):
        """test_unclaimed_settle's setup (alpha's unclaimed funds 50.00, finance members);
        alpha's settlement requests then expire after an hour."""
        self.setup()
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": {"funding_policy": "cash_first", "erase_after_days": 0,
                                             "unclaimed_settlement_expiry_hours": 1}}), 200)

    def row(self, rid):
        return self.env.rows("SELECT * FROM unclaimed_settlement_request WHERE public_id=?",
                             rid)[0]

    def money(self):
        """What a sweep must not change: the ledger's transfers and the accounts."""
        return (self.transfers(), self.unclaimed(), self.remitted(),
                live_balances(self.env.db))

    def expiries(self):
        return self.env.rows("SELECT actor_kind, actor_id, role, ip, brand, target_kind, "
                             "target_id, before, after, reason, trace_id FROM audit_entry "
                             "WHERE action='funds.unclaimed_settle_expire' ORDER BY seq")

    def expired_events(self):
        return [(b, s, t, json.loads(p)) for b, s, t, p in
                self.env.rows("SELECT brand, subject, trace_id, payload FROM event_outbox "
                              "WHERE type='funds.unclaimed_settlement_expired' ORDER BY id")]

    def wait_stored(self, rid, status, seconds=20):
        deadline = time.monotonic() + seconds
        while self.stored(rid)[0] != status:
            assert time.monotonic() < deadline, (rid, self.stored(rid))
            time.sleep(0.1)

    def counter(self, name):
        r = self.client.call("GET", "/metrics", check=False)
        assert r.status == 200, r.status
        for line in r.body.decode().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
        raise AssertionError(f"no {name} in /metrics")

    def counted(self, name, n, seconds=10):
        """Asserts /metrics' counter name is n, once the sweep has counted what it marked:
        it adds a request to its counter after the command that marked it has returned,
        so a request seen stored expired may not be counted yet."""
        deadline = time.monotonic() + seconds
        while self.counter(name) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.counter(name) == n, (name, self.counter(name), n)

    def untouched_marked(self):
        """Requests made, decided and aged while no pass runs; a restart with a
        one-second sweep marks the due one at once, by the system, and nothing else."""
        self.old = expect(self.request(self.fin1, "10.00"), 202)["id"]
        self.young = expect(self.request(self.fin1, "10.00"), 202)["id"]
        self.approved = expect(self.request(self.fin1, "5.00"), 202)["id"]
        self.rejected = expect(self.request(self.fin1, "5.00"), 202)["id"]
        a = expect(self.fin2.call("POST", f"{PATH}/{self.approved}/approve"), 200)
        assert a["settlement"]["status"] == "approved", a
        expect(self.fin2.call("POST", f"{PATH}/{self.rejected}/reject", {"reason": "no"}), 200)
        for rid in (self.old, self.approved, self.rejected):
            age_settlement(self.env.db, rid, 2 * HOUR_US)
        age_settlement(self.env.db, self.young, HOUR_US - 10 * 60 * 1000000)  # 10 min left
        self.decided = {rid: self.row(rid) for rid in (self.approved, self.rejected)}
        self.before = self.money()
        assert self.stored(self.old)[:3] == ("pending", None, None)
        assert not self.expiries() and not self.expired_events()

        assert self.env.stop() == 0
        self.env.start("--request-sweep-seconds", "1")
        self.wait_stored(self.old, "expired")
        st, by, at, tid = self.stored(self.old)
        assert by is None and at and tid is None, (st, by, at, tid)
        g = expect(self.fin2.call("GET", f"{PATH}/{self.old}"), 200)
        assert g["status"] == "expired" and g["decided_by"] is None and g["decided_at"], g
        lst = expect(self.fin2.call("GET", f"{PATH}?status=expired"), 200)
        assert [i["id"] for i in lst["items"]] == [self.old], lst
        assert lst["items"][0]["decided_at"] == g["decided_at"], lst
        time.sleep(2.5)  # two more passes: none marks it again
        # audited once, by the system, on the brand, with the request as it is now
        ex = self.expiries()
        assert len(ex) == 1, ex
        kind, actor, role, ip, brand, tkind, tid, before, after, reason, trace = ex[0]
        assert (kind, actor, role or "", ip or "", brand, tkind, tid) == \
            ("system", ACTOR, "", "", "alpha", "brand", "alpha"), ex
        assert before is None and reason == "pending longer than 1 hours", ex
        after = json.loads(after)
        assert after["id"] == self.old and after["status"] == "expired", after
        assert after["decided_by"] is None and after["decided_at"] == g["decided_at"], after
        assert after["amount"] == "10.00" and after["requested_by"] == self.fin1.id, after
        assert len(trace) == 32, trace
        # announced, in the outbox, with the audit entry's trace id; no member acted
        ev = self.expired_events()
        assert len(ev) == 1, ev
        brand, subject, etrace, payload = ev[0]
        assert (brand, subject or "", etrace) == ("alpha", "", trace), ev
        assert payload["settlement_id"] == self.old and payload["amount"] == "10.00", ev
        assert payload["requested_by"] == self.fin1.id and payload["staff_id"] is None, ev
        assert payload["destination"] == "remitted" and payload["reference"] == "ESCH-1", ev
        # the rest as they were; no money moved
        assert self.stored(self.young)[:3] == ("pending", None, None)
        for rid, was in self.decided.items():
            assert self.row(rid) == was, (rid, was, self.row(rid))
        lst = expect(self.fin2.call("GET", f"{PATH}?status=pending"), 200)
        assert [i["id"] for i in lst["items"]] == [self.young], lst
        assert self.money() == self.before
        assert self.counter("pitboss_unclaimed_settlements_expired_total") == 1
        assert self.counter("pitboss_unclaimed_settlements_sweep_failures_total") == 0
        assert self.counter("pitboss_adjustments_expired_total") == 0

    def decided_after(self):
        """A request the sweep marked can no longer be decided; nothing more is audited."""
        n = len(self.expiries())
        for path, body in (("approve", None), ("reject", {"reason": "late"})):
            r = self.fin2.call("POST", f"{PATH}/{self.old}/{path}", body)
            expect(r, 409, "SETTLEMENT_STATE")
            assert "expired" in r.json()["error"]["message"], r.body
        assert len(self.expiries()) == n and len(self.expired_events()) == n
        assert self.stored(self.old)[1] is None
        assert self.money() == self.before

    def older_name(self):
        """--adjust-sweep-seconds, the option's older name, runs the same sweep: the young
        request, once its time comes, is marked by a later pass."""
        assert self.env.stop() == 0
        self.env.start("--adjust-sweep-seconds", "1")
        time.sleep(1.5)
        assert self.stored(self.young)[0] == "pending"
        age_settlement(self.env.db, self.young, 10 * 60 * 1000000)  # exactly its hour: due
        self.wait_stored(self.young, "expired", 10)
        ex = self.expiries()
        assert len(ex) == 2 and ex[1][:2] == ("system", ACTOR), ex
        assert json.loads(ex[1][8])["id"] == self.young, ex
        ev = self.expired_events()
        assert len(ev) == 2 and ev[1][3]["settlement_id"] == self.young, ev
        self.counted("pitboss_unclaimed_settlements_expired_total", 1)  # since start
        assert self.money() == self.before

    def bad_option(self):
        """Either name, on the command line or in the environment: only 1..86400."""
        base = [self.env.binary, "serve", "--db", self.env.db, "--keys-dir", self.env.keys,
                "--listen", "127.0.0.1:0"]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
        for flag in ("--request-sweep-seconds", "--adjust-sweep-seconds"):
            for bad in ("0", "86401", "x"):
                r = subprocess.run(base + [flag, bad], capture_output=True, text=True,
                                   timeout=60, env=clean)
                assert r.returncode == 2, (flag, bad, r.returncode, r.stderr)
                assert f"{flag} must be a number from 1 to 86400" in r.stderr, r.stderr
        for var in ("PITBOSS_REQUEST_SWEEP_SECONDS", "PITBOSS_ADJUST_SWEEP_SECONDS"):
            r = subprocess.run(base, capture_output=True, text=True, timeout=60,
                               env=dict(clean, **{var: "0"}))
            assert r.returncode == 2, (var, r.returncode, r.stderr)
            assert f"{var} must be a number from 1 to 86400" in r.stderr, r.stderr
        r = subprocess.run([self.env.binary, "serve", "--help"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        for word in ("--request-sweep-seconds", "PITBOSS_REQUEST_SWEEP_SECONDS",
                     "--adjust-sweep-seconds", "PITBOSS_ADJUST_SWEEP_SECONDS", "settlements"):
            assert word in r.stdout, (word, r.stdout)


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_settle_sweep.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: alpha's unclaimed funds (an erased player's late win), finance members; "
         "alpha's settlement requests expire after 1 h", run.setup_sweep),
        ("untouched, past its time: marked expired by the sweep at start, audited by the "
         "system, funds.unclaimed_settlement_expired; the rest untouched, no money moved",
         run.untouched_marked),
        ("a swept request: approve and reject answer 409 SETTLEMENT_STATE, nothing more "
         "audited", run.decided_after),
        ("--adjust-sweep-seconds (the older name): a later pass marks a request once its "
         "time comes", run.older_name),
        ("--request-sweep-seconds / --adjust-sweep-seconds and their variables outside "
         "1..86400: refused at start; --help documents both", run.bad_option),
        ("SIGTERM exits 0; `ledger verify` and `audit verify` pass", run.stop_and_verify),
    ]
    return run_cases(cases, env.cleanup)


if __name__ == "__main__":
    sys.exit(main())
