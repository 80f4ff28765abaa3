#!/usr/bin/python3
"""test_rbac.py PATH/TO/pitboss PATH/TO/ledger_fixture — the RBAC matrix of the
staff API against a real server (speaks TAP).

Builds one caller per column of rbac_matrix.py — the first admin from
`pitboss admin create`, every other member through POST /v1/admin/staff, each
activated the way a person would (one-time password → password change → TOTP
enrolment with codes computed here from the otpauth:// URI → login with a
code) — plus no session, an ended session (logged out), a setup session and an
admin of another brand. Then calls every route of the live route table as every
caller with a request that is valid for the route, and compares the answer
with the table: "ok" must be 2xx, a refusal must be exactly its status and code.
Every answer is also validated against docs/openapi.yaml. A route in the live
table without a row in rbac_matrix.py (or the reverse) fails.

Each caller sends from its own loopback address (127.0.0.N), so identity's
per-IP login limit applies to each separately, as it would to real people.
"""
from datetime import datetime, timedelta, timezone
import json
import os
import subprocess
import sys
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Client, Env, Staff, create_staff, expect, register_player, step_now, totp  # noqa: E402
from harness import Tap  # noqa: E402
from rbac_matrix import CALLERS, MATRIX  # noqa: E402

SELF_ROUTES = ("admin.me", "admin.totp.enroll", "admin.totp.confirm", "admin.password",
               "admin.logout")  # run last for each caller, logout at the very end


def live_admin_routes(binary):
    out = subprocess.run([binary, "routes"], capture_output=True, check=True, timeout=30, text=True)
    routes = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return {r["name"]: r for r in routes if r["pattern"].startswith("/v1/admin/")}


class World:
    """Everything the matrix needs: callers, the target player, brands, counters."""

    def __init__(self, env):
        self.env = env
        self.callers = {}
        self.n = 0
        self.probe_n = 0  # its own counter: unique() calls must not change which probe logs in
        self.enrolled = {}

    def unique(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def build(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        admin = Staff(env, "root@example.com", otp, "127.0.0.10").activate("Blue-Falcon-0-Xy")
        for code, cur in (("alpha", ["EUR", "USD"]), ("beta", ["EUR"])):
            expect(admin.call("POST", "/v1/admin/brands",
                              {"code": code, "name": code.title(), "default_currency": "EUR",
                               "currencies": cur, "jurisdiction": "MT",
                               "settings": {"withdrawal_4eyes_thresholds": {c: 100000 for c in cur},
                                            "adjustment_4eyes_thresholds": {"EUR": 500000}}}),
                   201)
        self.player = register_player(Client(env, "127.0.0.9"), "alpha", "target@example.com")
        self.accounts = env.ledger_fixture("alpha", self.player, "EUR")
        ips = iter(range(11, 60))

        def member(name, role, **scope):
            return create_staff(env, admin, f"{name}@example.com", role, f"127.0.0.{next(ips)}",
                                **scope)
        self.callers["admin"] = admin
        for role in ("support", "finance", "risk", "compliance", "game_ops"):
            self.callers[role] = member(role, role, brands=["alpha"]).activate(f"Blue-Falcon-{role[:1]}{len(role)}-Xy")
        self.callers["auditor"] = member("auditor", "auditor", all_brands=True).activate("Blue-Falcon-7-Xy")
        self.callers["other_brand"] = member("beta-admin", "admin", brands=["beta"]).activate("Blue-Falcon-8-Xy")
        setup = member("newcomer", "support", brands=["alpha"])
        t = expect(setup.login(), 200)
        assert t["scope"] == "setup", t
        self.callers["setup"] = setup
        gone = member("gone", "support", brands=["alpha"]).activate("Blue-Falcon-9-Xy")
        expect(gone.call("POST", "/v1/admin/logout"), 200)
        self.callers["expired"] = gone
        # @rbac-setup-wallet
        # adjustments at the 4-eyes threshold (5000.00 EUR), requested by a member who
        # is none of the callers, so that admin and finance may approve or reject them
        requester = member("adj-requester", "finance", brands=["alpha"]).activate("Blue-Falcon-11-Xy")
        self.adjustments = [expect(requester.call(
            "POST", f"/v1/admin/players/{self.player}/adjustments",
            {"balance": "cash", "direction": "credit", "amount": "5000.00",
             "reason": "matrix 4-eyes", "idempotency_key": f"rbac-4e-{i}"}), 202)["id"]
            for i in range(30)]
        # @rbac-setup-catalog
        self.catalog_seq = iter(range(1, 1000000))  # own counter: self.n picks the login probe
        expect(admin.call("POST", "/v1/admin/providers",
                          {"code": "rbac-prov", "name": "RBAC Provider", "protocol": "native"}), 201)
        expect(admin.call("POST", "/v1/admin/providers/rbac-prov/games",
                          {"code": "rbac-game", "name": "RBAC Game", "category": "slots",
                           "rtp_bp": 9600, "volatility": "medium",
                           "limits": [{"currency": "EUR", "min_bet": "0.10", "max_bet": "100.00"}]}),
               201)
        # @rbac-setup-cashier
        pc = Client(env, "127.0.0.8")
        ptok = expect(pc.call("POST", "/v1/player/login", {"brand": "alpha",
                      "email": "target@example.com", "password": "Player-pass-77"}), 200)["access_token"]
        self.withdrawals = [expect(pc.call("POST", "/v1/player/withdrawals",
                                           {"amount": "0.10", "idempotency_key": f"rbac-wd-{i}"},
                                           token=ptok), 201)["id"] for i in range(30)]
        self.payment = expect(pc.call("POST", "/v1/player/deposits",
                                      {"amount": "10.00", "idempotency_key": "rbac-dep"},
                                      token=ptok), 201)["id"]
        # a reconciliation run (a PSP report spans brands: every finance.read member reads it)
        self.recon = expect(admin.call("POST", "/v1/admin/reconciliations",
                                       {"psp": "sandbox", **self.recon_period()}), 201)["id"]
        # @rbac-setup-provider-native
        # @rbac-setup-provider-hub88
        # @rbac-setup-games-play
        # the staff void: mines on for alpha; the target player opens a game for
        # each allowed call (admin, support), the others name no real round
        expect(admin.call("GET", "/v1/admin/brands/alpha/originals"), 200)
        expect(admin.call("PUT", "/v1/admin/brands/alpha/games/pitboss/mines", {"enabled": True}),
               200)
        self.player_client = pc
        # @rbac-setup-backoffice
        # @rbac-setup-web
        # @rbac-setup-sim
        self.callers["none"] = Staff(env, "nobody@example.com", "x", f"127.0.0.{next(ips)}")
        self.refresher = member("refresher", "game_ops", brands=["alpha"]).activate("Blue-Falcon-10-Xy")
        self.dummy = member("dummy", "support", brands=["alpha"])
        self.probes = [member(f"probe{i}", "support", brands=["alpha"]) for i in range(2)]
        assert set(self.callers) == set(CALLERS)

    @staticmethod
    def recon_period():
        now = datetime.now(timezone.utc)
        return {"from": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "to": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}

    # ---- a valid request for each route, as (method, path, body); a bytes body is
    # ---- sent as it is, as text/csv (a PSP's report file) ----

    def request(self, route, caller_name, caller):
        p, acct = self.player, self.accounts["cash"]
        reqs = {
            "admin.login": lambda: ("POST", "/v1/admin/login", self.probe_login()),
            "admin.refresh": lambda: ("POST", "/v1/admin/refresh",
                                      {"refresh_token": self.refresher.refresh_token}),
            "admin.me": lambda: ("GET", "/v1/admin/me", None),
            "admin.totp.enroll": lambda: ("POST", "/v1/admin/totp/enroll", {}),
            "admin.totp.confirm": lambda: ("POST", "/v1/admin/totp/confirm",
                                           {"code": self.confirm_code(caller_name)}),
            "admin.password": lambda: ("POST", "/v1/admin/password",
                                       {"current": caller.password,
                                        "new": caller.password + "-n" + str(self.n)}),
            "admin.logout": lambda: ("POST", "/v1/admin/logout", None),
            "admin.players.list": lambda: ("GET", "/v1/admin/players?limit=10", None),
            "admin.players.get": lambda: ("GET", f"/v1/admin/players/{p}", None),
            "admin.players.block": lambda: ("POST", f"/v1/admin/players/{p}/block",
                                            {"reason": f"matrix: {caller_name}"}),
            "admin.players.unblock": lambda: ("POST", f"/v1/admin/players/{p}/unblock",
                                              {"reason": f"matrix: {caller_name}"}),
            "admin.players.launches.revoke": lambda: ("POST",
                                                      f"/v1/admin/players/{p}/launches/revoke",
                                                      {"reason": f"matrix: {caller_name}"}),
            "admin.players.sessions.revoke": lambda: ("POST",
                                                      f"/v1/admin/players/{p}/sessions/revoke",
                                                      {"reason": f"matrix: {caller_name}"}),
            "admin.players.accounts": lambda: ("GET", f"/v1/admin/players/{p}/accounts", None),
            "admin.players.transfers": lambda: ("GET", f"/v1/admin/players/{p}/transfers"
                                                       f"?account={acct}&limit=3", None),
            "admin.brands.list": lambda: ("GET", "/v1/admin/brands", None),
            "admin.brands.create": lambda: ("POST", "/v1/admin/brands",
                                            {"code": self.unique("mx-"), "name": "Matrix",
                                             "default_currency": "EUR", "jurisdiction": "MT"}),
            "admin.brands.get": lambda: ("GET", "/v1/admin/brands/alpha", None),
            "admin.brands.update": lambda: ("PATCH", "/v1/admin/brands/alpha",
                                            {"name": f"Alpha {caller_name}"}),
            "admin.staff.list": lambda: ("GET", "/v1/admin/staff", None),
            "admin.staff.create": lambda: ("POST", "/v1/admin/staff",
                                           {"email": self.unique("made") + "@example.com",
                                            "role": "support", "brands": ["alpha"]}),
            "admin.staff.get": lambda: ("GET", f"/v1/admin/staff/{self.dummy.id}", None),
            "admin.staff.update": lambda: ("PATCH", f"/v1/admin/staff/{self.dummy.id}",
                                           {"active": True}),
            "admin.audit.query": lambda: ("GET", "/v1/admin/audit?limit=5", None),
            "admin.audit.export": lambda: ("GET", "/v1/admin/audit/export", None),
            # @rbac-requests-wallet
            "admin.players.adjust": lambda: ("POST", f"/v1/admin/players/{p}/adjustments",
                                             {"balance": "cash", "direction": "credit",
                                              "amount": "1.00", "reason": f"matrix {caller_name}",
                                              "idempotency_key": self.unique("adj")}),
            "admin.adjustments.list": lambda: ("GET", "/v1/admin/adjustments?status=pending", None),
            "admin.adjustments.get": lambda: ("GET", "/v1/admin/adjustments/"
                                              f"{self.adjustments[0]}", None),
            "admin.adjustments.approve": lambda: ("POST", "/v1/admin/adjustments/"
                                                  f"{self.adjustments.pop()}/approve", None),
            "admin.adjustments.reject": lambda: ("POST", "/v1/admin/adjustments/"
                                                 f"{self.adjustments.pop()}/reject",
                                                 {"reason": f"matrix {caller_name}"}),
            # @rbac-requests-catalog
            "admin.providers.list": lambda: ("GET", "/v1/admin/providers?limit=10", None),
            "admin.providers.create": lambda: ("POST", "/v1/admin/providers",
                                               {"code": f"rbac-p{next(self.catalog_seq)}",
                                                "name": "Matrix", "protocol": "native"}),
            "admin.providers.get": lambda: ("GET", "/v1/admin/providers/rbac-prov", None),
            "admin.providers.update": lambda: ("PATCH", "/v1/admin/providers/rbac-prov",
                                               {"name": f"RBAC {caller_name}"}),
            "admin.games.list": lambda: ("GET", "/v1/admin/games?provider=rbac-prov", None),
            "admin.games.create": lambda: ("POST", "/v1/admin/providers/rbac-prov/games",
                                           {"code": f"rbac-g{next(self.catalog_seq)}",
                                            "name": "Matrix", "category": "table",
                                            "rtp_bp": 9900, "volatility": "low"}),
            "admin.games.get": lambda: ("GET", "/v1/admin/providers/rbac-prov/games/rbac-game",
                                        None),
            "admin.games.update": lambda: ("PATCH",
                                           "/v1/admin/providers/rbac-prov/games/rbac-game",
                                           {"name": f"RBAC game {caller_name}"}),
            "admin.brands.games.set": lambda: ("PUT",
                                               "/v1/admin/brands/alpha/games/rbac-prov/rbac-game",
                                               {"enabled": next(self.catalog_seq) % 2 == 0}),
            # @rbac-requests-cashier
            "admin.withdrawals.list": lambda: ("GET", "/v1/admin/withdrawals?status=pending_approval",
                                               None),
            "admin.withdrawals.get": lambda: ("GET", f"/v1/admin/withdrawals/{self.withdrawals[0]}",
                                              None),
            "admin.withdrawals.approve": lambda: ("POST", "/v1/admin/withdrawals/"
                                                  f"{self.withdrawals.pop()}/approve", None),
            "admin.withdrawals.reject": lambda: ("POST", "/v1/admin/withdrawals/"
                                                 f"{self.withdrawals.pop()}/reject",
                                                 {"reason": f"matrix {caller_name}"}),
            "admin.withdrawals.resolve": lambda: ("POST", "/v1/admin/withdrawals/"
                                                  f"{self.withdrawals[0]}/resolve",
                                                  {"reason": f"matrix {caller_name}"}),
            "admin.withdrawals.manual_state": lambda: (
                "POST", f"/v1/admin/withdrawals/{self.withdrawals[0]}/manual-resolution",
                {"outcome": "failed", "reason": f"matrix {caller_name}", "evidence": "e"}),
            "admin.withdrawals.manual_confirm": lambda: (
                "POST", f"/v1/admin/withdrawals/{self.withdrawals[0]}/manual-resolution/confirm",
                {"outcome": "failed", "reason": f"matrix {caller_name}"}),
            "admin.withdrawals.manual_withdraw": lambda: (
                "POST", f"/v1/admin/withdrawals/{self.withdrawals[0]}/manual-resolution/withdraw",
                {"reason": f"matrix {caller_name}"}),
            "admin.payments.list": lambda: ("GET", "/v1/admin/payments?status=pending", None),
            "admin.payments.get": lambda: ("GET", f"/v1/admin/payments/{self.payment}", None),
            "admin.payments.complete": lambda: (
                "POST", f"/v1/admin/payments/{self.payment}/complete",
                {"reconciliation_id": self.recon, "reason": "rbac"}),
            "admin.reconciliations.run": lambda: ("POST", "/v1/admin/reconciliations",
                                                  {"psp": "sandbox", **self.recon_period()}),
            "admin.reconciliations.upload": lambda: (
                "POST", "/v1/admin/reconciliations/upload?" + urllib.parse.urlencode(
                    {"psp": "sandbox", **self.recon_period()}),
                b"reference,kind,amount,currency,status,settled_at\n"),
            "admin.reconciliations.list": lambda: ("GET", "/v1/admin/reconciliations", None),
            "admin.reconciliations.get": lambda: ("GET", f"/v1/admin/reconciliations/{self.recon}",
                                                  None),
            "admin.psps.list": lambda: ("GET", "/v1/admin/psps", None),
            # @rbac-requests-provider-native
            # @rbac-requests-provider-hub88
            # @rbac-requests-sim
            # @rbac-requests-events
            "admin.events.stream": lambda: ("GET", "/v1/admin/events/stream"
                                                   "?last_event_id=0&catch_up_only=true", None),
            # @rbac-requests-games-play
            "admin.players.rounds.void": lambda: ("POST", f"/v1/admin/players/{p}/rounds/"
                                                  f"{self.open_mines(caller_name)}/void",
                                                  {"reason": f"matrix {caller_name}"}),
            "admin.players.rounds.settle": lambda: ("POST", f"/v1/admin/players/{p}/rounds/"
                                                    "0190aaaa-0000-7000-8000-000000000000/settle",
                                                    {"reason": f"matrix {caller_name}"}),
            # @rbac-requests-backoffice
            "admin.unclaimed_funds.list": lambda: ("GET",
                                                   "/v1/admin/unclaimed-funds?brand=alpha&limit=5",
                                                   None),
            "admin.unclaimed_funds.settle": lambda: (
                "POST", "/v1/admin/unclaimed-funds/settlements",
                {"brand": "alpha", "currency": "EUR", "amount": "1.00", "destination": "remitted",
                 "reference": "ESCH-1", "reason": f"matrix {caller_name}",
                 "idempotency_key": f"rbac-{caller_name}"}),
            # the settle request is refused (alpha holds no unclaimed funds): a made-up id
            "admin.unclaimed_funds.settlements.list": lambda: (
                "GET", "/v1/admin/unclaimed-funds/settlements?status=pending", None),
            "admin.unclaimed_funds.settlements.get": lambda: (
                "GET", "/v1/admin/unclaimed-funds/settlements/0190aaaa-0000-7000-8000-00000000000a",
                None),
            "admin.unclaimed_funds.settlements.approve": lambda: (
                "POST", "/v1/admin/unclaimed-funds/settlements/"
                "0190aaaa-0000-7000-8000-00000000000a/approve", None),
            "admin.unclaimed_funds.settlements.reject": lambda: (
                "POST", "/v1/admin/unclaimed-funds/settlements/"
                "0190aaaa-0000-7000-8000-00000000000a/reject", {"reason": f"matrix {caller_name}"}),
            "admin.transactions.list": lambda: ("GET", "/v1/admin/transactions?brand=alpha&limit=5",
                                                None),
            "admin.transactions.export": lambda: ("GET", "/v1/admin/transactions/export?brand=alpha"
                                                  "&kind=deposit", None),
            "admin.dashboard": lambda: ("GET", "/v1/admin/dashboard?brand=alpha&since="
                                        + __import__("time").strftime(
                                            "%Y-%m-%dT%H:%M:%SZ",
                                            __import__("time").gmtime(__import__("time").time() - 3600)),
                                        None),
            "admin.players.sessions": lambda: ("GET", f"/v1/admin/players/{p}/sessions", None),
            "admin.players.notes.list": lambda: ("GET", f"/v1/admin/players/{p}/notes", None),
            "admin.players.notes.add": lambda: ("POST", f"/v1/admin/players/{p}/notes",
                                                {"text": f"matrix {caller_name}"}),
            "admin.players.rounds": lambda: ("GET", f"/v1/admin/players/{p}/rounds", None),
            "admin.players.export": lambda: ("GET", f"/v1/admin/players/{p}/export?reason=rbac",
                                             None),
            "admin.players.erase": lambda: ("POST", f"/v1/admin/players/{p}/erase",
                                            {"reason": "rbac"}),
            "admin.staff.totp_reset": lambda: ("POST", f"/v1/admin/staff/{self.dummy.id}/totp/reset",
                                               {"reason": f"matrix {caller_name}"}),
            "admin.staff.unlock": lambda: ("POST", f"/v1/admin/staff/{self.dummy.id}/unlock",
                                           {"reason": f"matrix {caller_name}"}),
            "admin.players.unlock": lambda: ("POST", f"/v1/admin/players/{p}/unlock",
                                             {"reason": f"matrix: {caller_name}"}),
            "admin.audit.verify": lambda: ("GET", "/v1/admin/audit/verify", None),
            # @rbac-requests-web
            "admin.originals.list": lambda: ("GET", "/v1/admin/brands/alpha/originals", None),
            "admin.originals.rtp_set": lambda: ("PUT", "/v1/admin/brands/alpha/originals/dice/rtp",
                                                {"rtp_bp": 9800, "reason": f"matrix {caller_name}"}),
            "admin.originals.control": lambda: ("GET", "/v1/admin/brands/alpha/originals/control",
                                                None),
        }
        return reqs[route]()

    def open_mines(self, caller_name):
        """A mines game of the target player in play, for a caller the matrix allows
        (admin, support); a made-up id for the others (refused before it is read)."""
        if MATRIX["admin.players.rounds.void"]["expect"][caller_name] != "ok":
            return "0190aaaa-0000-7000-8000-000000000000"
        pc = self.player_client
        tok = expect(pc.call("POST", "/v1/player/login", {"brand": "alpha",
                     "email": "target@example.com", "password": "Player-pass-77"}),
                     200)["access_token"]
        return expect(pc.call("POST", "/v1/player/originals/mines/bets",
                              {"amount": "0.10", "params": {"mines": 3}}, token=tok,
                              headers={"Idempotency-Key": self.unique("void")}), 201)["round"]["id"]

    def probe_login(self):
        """A valid login: a member not yet enrolled gets a setup session (no TOTP
        step is used up); two probes share the calls (per-account limit)."""
        s = self.probes[self.probe_n % 2]
        self.probe_n += 1
        return {"email": s.email, "password": s.password}

    def confirm_code(self, caller_name):
        secret = self.enrolled.get(caller_name)
        return totp(secret, step_now()) if secret else "000000"

    def after(self, route, caller_name, caller, body, r):
        """Keeps the world in step with what an allowed call changed."""
        if r.status >= 300:
            return
        if route == "admin.refresh":
            self.refresher.refresh_token = r.json()["refresh_token"]
        elif route == "admin.totp.enroll":
            self.enrolled[caller_name] = r.json()["secret"]
        elif route == "admin.password":
            caller.password = body["new"]


def order(names):
    """Table order, the self-service routes last (logout at the very end)."""
    first = [n for n in names if n not in SELF_ROUTES]
    return first + [n for n in SELF_ROUTES if n in names]


def main():
    if len(sys.argv) < 3:
        print("1..0 # SKIP usage: test_rbac.py PATH/TO/pitboss PATH/TO/ledger_fixture")
        sys.exit(1)
    binary, fixture = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    routes = order(list(MATRIX))
    tap = Tap(3 + len(routes) * len(CALLERS))
    env = Env(binary, fixture)
    world = World(env)
    try:
        if not tap.case("setup: one member per role, a setup session, an ended session, "
                        "another brand's admin, a player with money", world.build):
            for _ in range(tap.plan - 1):
                tap.ok(False, "skipped: setup failed")
            return tap.done()

        def coverage():
            live = live_admin_routes(binary)
            problems = [f"route {n} ({live[n]['method']} {live[n]['pattern']}) has no row in "
                        f"rbac_matrix.py" for n in sorted(set(live) - set(MATRIX))]
            problems += [f"rbac_matrix.py row {n} is not a route" for n in sorted(set(MATRIX) - set(live))]
            problems += [f"{n}: permission {live[n]['permission']} in the route table, "
                         f"{MATRIX[n]['permission']} in rbac_matrix.py"
                         for n in sorted(set(live) & set(MATRIX))
                         if live[n]["permission"] != MATRIX[n]["permission"]]
            return not problems or "\n".join(problems)
        tap.case("the live route table and rbac_matrix.py list the same /v1/admin routes and "
                 "permissions", coverage)

        for caller_name in CALLERS:
            caller = world.callers[caller_name]
            if caller.refresh_token and caller_name not in ("expired", "setup"):
                caller.refresh()  # a fresh access token for this caller's run
            for route in routes:
                want = MATRIX[route]["expect"][caller_name]
                label = "allowed" if want == "ok" else f"{want[0]} {want[1]}"

                def one(route=route, caller_name=caller_name, caller=caller, want=want):
                    method, path, body = world.request(route, caller_name, caller)
                    token = caller.token if caller_name != "none" else None
                    if isinstance(body, bytes):  # a report file
                        r = caller.client.call(method, path, token=token, raw=body,
                                               headers={"Content-Type": "text/csv"})
                    else:
                        r = caller.client.call(method, path, body, token=token)
                    world.after(route, caller_name, caller, body, r)
                    got = r.json()["error"]["code"] if r.status >= 400 else "-"
                    if want == "ok":
                        return 200 <= r.status < 300 or f"want 2xx, got {r.status} {got}: {r.body[:300]!r}"
                    return (r.status, got) == want or f"want {want}, got {r.status} {got}: {r.body[:300]!r}"
                tap.case(f"{route} as {caller_name}: {label}", one)

        def stops_and_verifies():
            assert env.stop() == 0, "server exit status"
            r = env.cli("audit", "verify", "--db", env.db, "--keys-dir", env.keys, check=False)
            assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
            assert " 0 unsigned" in r.stdout, "the stop signs the chain head: " + r.stdout
        tap.case("the server stops cleanly and `pitboss audit verify` passes on the log the "
                 "matrix wrote", stops_and_verifies)
    except Exception:
        traceback.print_exc()
    finally:
        env.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
