"""test_adjust_sweep.py — serve's sweep of staff adjustment requests (4-eyes) pending past
their brand's settings.adjustment_request_expiry_hours, over real HTTP: nobody touches
them, and still they are stored expired (decided_at set, decided_by null) with the audit
entry player.adjust_expire by the system (actor adjustments.sweep) and the event
balance.adjustment_expired, exactly as the approval that finds one so would mark it. A
request within its time (or within its own brand's longer expiry) stays pending; an
approved or rejected one is never touched; no money moves. The sweep runs once at start
and then every --adjust-sweep-seconds (a bad value refuses to start, naming the option);
/metrics counts what it marked. Ends with `pitboss ledger verify` and `pitboss audit
verify`.

Usage: test_adjust_sweep.py PATH/TO/pitboss
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Client, Env, Staff, age_adjustment, create_staff, expect,  # noqa: E402
                           live_balances, register_player)
from harness import run_cases  # noqa: E402

HOUR_US = 3600 * 1000000
ACTOR = "adjustments.sweep"
QUIET = ("--adjust-sweep-seconds", "86400")  # no pass but the one at start


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0

    def key(self):
        self.n += 1
        return f"sweep-{self.n}"

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start(*QUIET)
        self.admin = Staff(env, "root@example.com", otp, "127.0.4.10").activate("Blue-Falcon-0-Xy")
        # alpha: requests expire after an hour; beta: after the default 72 hours
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "alpha", "name": "Alpha", "default_currency": "EUR",
                                "jurisdiction": "MT",
                                "settings": {"adjustment_4eyes_thresholds": {"EUR": 100000},
                                             "adjustment_request_expiry_hours": 1}}), 201)
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "beta", "name": "Beta", "default_currency": "EUR",
                                "jurisdiction": "MT",
                                "settings": {"adjustment_4eyes_thresholds": {"EUR": 100000}}}),
               201)
        self.fin1 = create_staff(env, self.admin, "fin1@example.com", "finance", "127.0.4.11",
                                 brands=["alpha", "beta"]).activate("Blue-Falcon-1-Xy")
        self.fin2 = create_staff(env, self.admin, "fin2@example.com", "finance", "127.0.4.12",
                                 brands=["alpha", "beta"]).activate("Blue-Falcon-2-Xy")
        self.client = Client(env, "127.0.4.20")
        self.alice = register_player(self.client, "alpha", "alice@example.com")
        self.bob = register_player(self.client, "beta", "bob@example.com")

    def request(self, player):
        r = expect(self.fin1.call("POST", f"/v1/admin/players/{player}/adjustments",
                                  {"balance": "cash", "direction": "credit", "amount": "1000.00",
                                   "reason": "goodwill", "idempotency_key": self.key()}), 202)
        assert r["status"] == "pending", r
        return r["id"]

    def stored(self, rid):
        return self.env.rows("SELECT status, decided_by, decided_at FROM adjustment_request "
                             "WHERE public_id=?", rid)[0]

    def money(self):
        """What a sweep must not change: the ledger's transfers and balances."""
        return (self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0],
                live_balances(self.env.db))

    def expiries(self):
        return self.env.rows("SELECT actor_kind, actor_id, role, brand, target_kind, target_id, "
                             "before, after, reason, trace_id FROM audit_entry "
                             "WHERE action='player.adjust_expire' ORDER BY seq")

    def events(self):
        return [(b, s, t, json.loads(p)) for b, s, t, p in
                self.env.rows("SELECT brand, subject, trace_id, payload FROM event_outbox "
                              "WHERE type='balance.adjustment_expired' ORDER BY id")]

    def wait_stored(self, rid, status, seconds=20):
        deadline = time.monotonic() + seconds
        while self.stored(rid)[0] != status:
            assert time.monotonic() < deadline, (rid, self.stored(rid))
            time.sleep(0.1)

    def expired_counter(self):
        r = self.client.call("GET", "/metrics", check=False)
        assert r.status == 200, r.status
        for line in r.body.decode().splitlines():
            if line.startswith("pitboss_adjustments_expired_total "):
                return int(line.split()[1])
        raise AssertionError("no pitboss_adjustments_expired_total in /metrics")

    def expired_counted(self, n, seconds=10):
        """Asserts /metrics counts n requests marked, once the sweep has counted them: it
        adds a request to its counter after the command that marked it has returned, so
        a request seen stored expired may not be counted yet."""
        deadline = time.monotonic() + seconds
        while self.expired_counter() < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.expired_counter() == n, (self.expired_counter(), n)

    def untouched_marked(self):
        """Requests made and aged while no pass runs; a restart with a one-second sweep
        marks the due one at once, by the system, and nothing else."""
        self.old = self.request(self.alice)
        self.young = self.request(self.alice)
        self.approved = self.request(self.alice)
        self.rejected = self.request(self.alice)
        self.beta_old = self.request(self.bob)
        a = expect(self.fin2.call("POST", f"/v1/admin/adjustments/{self.approved}/approve"), 200)
        assert a["adjustment"]["status"] == "approved", a
        expect(self.fin2.call("POST", f"/v1/admin/adjustments/{self.rejected}/reject",
                              {"reason": "no"}), 200)
        for rid in (self.old, self.approved, self.rejected, self.beta_old):
            age_adjustment(self.env.db, rid, 2 * HOUR_US)
        age_adjustment(self.env.db, self.young, HOUR_US - 10 * 60 * 1000000)  # 10 min left
        self.decided = {rid: self.stored(rid) for rid in (self.approved, self.rejected)}
        self.before = self.money()
        assert self.stored(self.old) == ("pending", None, None)
        assert not self.expiries() and not self.events()

        assert self.env.stop() == 0
        self.env.start("--adjust-sweep-seconds", "1")
        self.wait_stored(self.old, "expired")
        st, by, at = self.stored(self.old)
        assert by is None and at, (st, by, at)
        g = expect(self.fin2.call("GET", f"/v1/admin/adjustments/{self.old}"), 200)
        assert g["status"] == "expired" and g["decided_by"] is None and g["decided_at"], g
        lst = expect(self.fin2.call("GET", "/v1/admin/adjustments?status=expired"), 200)
        assert [i["id"] for i in lst["items"]] == [self.old], lst
        assert lst["items"][0]["decided_at"] == g["decided_at"], lst
        # audited once, by the system, on the player, with the request as it is now
        time.sleep(2.5)  # two more passes: none marks it again
        ex = self.expiries()
        assert len(ex) == 1, ex
        kind, actor, role, brand, tkind, tid, before, after, reason, trace = ex[0]
        assert (kind, actor, role, brand, tkind, tid) == \
            ("system", ACTOR, "", "alpha", "player", self.alice), ex
        assert before is None and reason == "pending longer than 1 hours", ex
        after = json.loads(after)
        assert after["id"] == self.old and after["status"] == "expired", after
        assert after["decided_by"] is None and after["decided_at"] == g["decided_at"], after
        assert len(trace) == 32, trace
        # announced, in the outbox, with the audit entry's trace id
        ev = self.events()
        assert len(ev) == 1, ev
        brand, subject, etrace, payload = ev[0]
        assert (brand, subject, etrace) == ("alpha", self.alice, trace), ev
        assert payload["adjustment_id"] == self.old and payload["amount"] == "1000.00", ev
        assert payload["requested_by"] == self.fin1.id and payload["balance"] == "cash", ev
        assert payload["direction"] == "credit", ev
        # the rest as they were; no money moved
        assert self.stored(self.young) == ("pending", None, None)
        assert self.stored(self.beta_old) == ("pending", None, None)  # beta's 72 hours
        for rid, was in self.decided.items():
            assert self.stored(rid) == was, (rid, was, self.stored(rid))
        lst = expect(self.fin2.call("GET", "/v1/admin/adjustments?status=pending"), 200)
        assert sorted(i["id"] for i in lst["items"]) == sorted([self.young, self.beta_old]), lst
        assert self.money() == self.before
        assert self.expired_counter() == 1

    def periodic(self):
        """While running: a request that passes its time is marked by a later pass."""
        rid = self.request(self.alice)
        time.sleep(1.5)
        assert self.stored(rid) == ("pending", None, None)
        age_adjustment(self.env.db, rid, HOUR_US)  # exactly its hour: due
        self.wait_stored(rid, "expired", 10)
        ex = self.expiries()
        assert len(ex) == 2 and ex[1][:2] == ("system", ACTOR), ex
        assert json.loads(ex[1][7])["id"] == rid, ex
        ev = self.events()
        assert len(ev) == 2 and ev[1][3]["adjustment_id"] == rid, ev
        self.expired_counted(2)
        # the young one once its time came
        age_adjustment(self.env.db, self.young, 10 * 60 * 1000000)
        self.wait_stored(self.young, "expired", 10)
        assert self.stored(self.beta_old)[0] == "pending"
        assert self.money() == self.before
        self.periodic_id = rid

    def decided_after(self):
        """A request the sweep marked can no longer be decided, and nothing is audited
        again."""
        n = len(self.expiries())
        for path, body in (("approve", None), ("reject", {"reason": "late"})):
            r = self.fin2.call("POST", f"/v1/admin/adjustments/{self.old}/{path}", body)
            expect(r, 409, "ADJUSTMENT_STATE")
            assert "expired" in r.json()["error"]["message"], r.body
        assert len(self.expiries()) == n
        assert self.stored(self.old)[1] is None
        assert self.money() == self.before

    def bad_option(self):
        """Only 1..86400 seconds: anything else refuses to start, naming the option."""
        for bad in ("0", "-1", "abc", "86401", "1.5", ""):
            r = subprocess.run([self.env.binary, "serve", "--db", self.env.db, "--keys-dir",
                                self.env.keys, "--listen", "127.0.0.1:0",
                                "--adjust-sweep-seconds", bad],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 2, (bad, r.returncode, r.stderr)
            assert "--adjust-sweep-seconds must be a number from 1 to 86400" in r.stderr, r.stderr
        env = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
        env["PITBOSS_ADJUST_SWEEP_SECONDS"] = "0"
        r = subprocess.run([self.env.binary, "serve", "--db", self.env.db, "--keys-dir",
                            self.env.keys, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "PITBOSS_ADJUST_SWEEP_SECONDS must be a number from 1 to 86400" in r.stderr, \
            r.stderr
        r = subprocess.run([self.env.binary, "serve", "--help"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0 and "--adjust-sweep-seconds" in r.stdout, r.stdout

    def stop_and_verify(self):
        assert self.env.stop() == 0
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0, r.stdout + r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_adjust_sweep.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: alpha (requests expire after 1 h) and beta (72 h), two finance members",
         run.setup),
        ("untouched, past its time: marked expired by the sweep at start, audited by the "
         "system, balance.adjustment_expired; the rest untouched, no money moved",
         run.untouched_marked),
        ("while running: a request that passes its time is marked by a later pass",
         run.periodic),
        ("a swept request: approve and reject answer 409 ADJUSTMENT_STATE, nothing more "
         "audited", run.decided_after),
        ("--adjust-sweep-seconds / PITBOSS_ADJUST_SWEEP_SECONDS outside 1..86400: refused "
         "at start", run.bad_option),
        ("SIGTERM exits 0; `ledger verify` and `audit verify` pass", run.stop_and_verify),
    ]
    return run_cases(cases, env.cleanup)


if __name__ == "__main__":
    sys.exit(main())
