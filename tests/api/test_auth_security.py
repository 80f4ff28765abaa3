#!/usr/bin/python3
"""test_auth_security.py PATH/TO/pitboss [PATH/TO/ledger_fixture] — who may call
what, for the routes rbac_matrix.py does not cover, and authorization that must
still hold when the write commits (speaks TAP).

1. Every route of the live table (`pitboss routes`) outside /v1/admin/ has a row
   in OUTSIDE_ADMIN below with its caller class: None = public (it authenticates
   the caller itself: a provider's signature, a PSP's, a refresh token, a
   password) or "player". A new route without a row, or with another class,
   fails: a public route is a decision someone must write down.
2. Tokens are bound to their audience: every "player" route refuses no token
   (401 UNAUTHENTICATED) and a staff admin's token (401 TOKEN_INVALID); every
   /v1/admin/ route with a permission refuses a player's token (401
   TOKEN_INVALID).
3. Stale authorization: the authorizer reads the caller's session before the
   handler's write transaction begins. A staff member disabled (sessions
   revoked) in between must not get their change committed. The test holds the
   database's write lock, lets admin B's "disable admin A" request authenticate
   and wait for the lock, disables B as another admin would, releases the lock:
   B's request must be refused (401 SESSION_REVOKED, with the WWW-Authenticate
   challenge the authorizer's own 401s carry) and A stay active. Before
   the fix both committed: two admins disabling each other at the same moment
   both ended disabled (3 times in 8 in a trial), the last administrators
   locking each other out.
"""
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Client, Env, Staff, create_staff, expect, register_player  # noqa: E402
from harness import Tap  # noqa: E402

# Every route outside /v1/admin/ and its caller class (None: public).
OUTSIDE_ADMIN = {
    "healthz": None, "readyz": None, "metrics": None, "openapi": None, "docs": None,
    "jwks": None,
    "player.register": None, "player.login": None, "player.refresh": None,
    "player.logout": "player", "player.profile": "player", "player.export": "player",
    "player.sessions": "player", "player.session_revoke": "player", "player.password": "player",
    "provider.hub88.user_info": None, "provider.hub88.user_balance": None,
    "provider.hub88.bet": None, "provider.hub88.win": None, "provider.hub88.rollback": None,
    "native.session": None, "native.balance": None, "native.bet": None, "native.win": None,
    "native.rollback": None, "native.round_close": None,
    "player.deposits.create": "player", "player.deposits.get": "player",
    "player.withdrawals.create": "player", "player.withdrawals.list": "player",
    "player.withdrawals.cancel": "player",
    "cashier.webhook": None, "sandbox_psp.complete": None, "sandbox_psp.fail": None,
    "sandbox_psp.payout_return": None, "sandbox_psp.report": None,
    "player.games": "player", "player.games.launch": "player",
    "player.originals.seeds": "player", "player.originals.seeds.rotate": "player",
    "player.originals.seeds.client_seed": "player", "player.originals.bet": "player",
    "player.originals.mines.reveal": "player", "player.originals.mines.cashout": "player",
    "player.originals.crash": "player", "player.originals.crash.bet": "player",
    "player.originals.crash.cashout": "player", "player.originals.rounds.list": "player",
    "player.originals.rounds.get": "player",
    "fair.verify": None, "fair.crash.rounds": None,
    "player.wallet": "player", "player.transactions.list": "player",
    "player.transactions.get": "player",
}


def live_routes(binary):
    out = subprocess.run([binary, "routes"], capture_output=True, check=True, timeout=30, text=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def concrete(pattern):
    """A path for a pattern: every parameter a well-formed placeholder (the
    authorizer answers before any handler reads it)."""
    parts = pattern.split("/")
    return "/".join("0190a0a0-0000-7000-8000-000000000000" if p.startswith("{") else p
                    for p in parts)


class World:
    def __init__(self, env, binary):
        self.env = env
        self.binary = binary

    def build(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.root = Staff(env, "root@example.com", otp, "127.0.0.10").activate("Blue-Falcon-0-Xy")
        expect(self.root.call("POST", "/v1/admin/brands",
                              {"code": "alpha", "name": "Alpha", "default_currency": "EUR",
                               "currencies": ["EUR"], "jurisdiction": "MT"}), 201)
        pc = Client(env, "127.0.0.9")
        register_player(pc, "alpha", "p@example.com")
        self.player_token = expect(pc.call("POST", "/v1/player/login",
                                           {"brand": "alpha", "email": "p@example.com",
                                            "password": "Player-pass-77"}), 200)["access_token"]
        self.player = pc
        self.a = create_staff(env, self.root, "a@example.com", "admin", "127.0.0.11",
                              all_brands=True).activate("Blue-Falcon-1-Xy")
        self.b = create_staff(env, self.root, "b@example.com", "admin", "127.0.0.12",
                              all_brands=True).activate("Blue-Falcon-2-Xy")

    def coverage(self):
        live = {r["name"]: r for r in live_routes(self.binary)
                if not r["pattern"].startswith("/v1/admin/")}
        problems = [f"route {n} ({live[n]['method']} {live[n]['pattern']}, permission "
                    f"{live[n]['permission']}) has no row in OUTSIDE_ADMIN"
                    for n in sorted(set(live) - set(OUTSIDE_ADMIN))]
        problems += [f"OUTSIDE_ADMIN row {n} is not a route" for n in sorted(set(OUTSIDE_ADMIN) - set(live))]
        problems += [f"{n}: permission {live[n]['permission']!r} in the route table, "
                     f"{OUTSIDE_ADMIN[n]!r} here" for n in sorted(set(live) & set(OUTSIDE_ADMIN))
                     if live[n]["permission"] != OUTSIDE_ADMIN[n]]
        return not problems or "\n".join(problems)

    def player_routes_refuse_staff(self):
        problems = []
        for r in live_routes(self.binary):
            if r["permission"] != "player":
                continue
            path = concrete(r["pattern"])
            for token, want in ((None, "UNAUTHENTICATED"), (self.root.token, "TOKEN_INVALID")):
                resp = self.player.call(r["method"], path, token=token, check=False)
                got = resp.json()["error"]["code"] if resp.status >= 400 else "-"
                if (resp.status, got) != (401, want):
                    problems.append(f"{r['name']} with {'a staff token' if token else 'no token'}: "
                                    f"want 401 {want}, got {resp.status} {got}")
        return not problems or "\n".join(problems)

    def blocked_player_is_forbidden(self):
        """A blocked player is authenticated but forbidden: every "player" route
        answers their token 403 PLAYER_BLOCKED (the registry's status), and the
        OpenAPI document lists it under 403 of each (Client.call checks the
        answer against it; the document had it under 401 on 16 routes, and the
        originals' routes had no 403 at all). No challenge: not a 401."""
        pc = Client(self.env, "127.0.0.14")
        pid = register_player(pc, "alpha", "blocked@example.com")
        token = expect(pc.call("POST", "/v1/player/login",
                               {"brand": "alpha", "email": "blocked@example.com",
                                "password": "Player-pass-77"}), 200)["access_token"]
        # the row as a block leaves it, the session kept (the admin block also ends the
        # sessions: then SESSION_REVOKED; the authorizer's own status check is what
        # answers here, as it does for a block that lands between two requests)
        db = sqlite3.connect(self.env.db, timeout=30)
        try:
            db.execute("UPDATE player SET status='blocked' WHERE public_id=?", (pid,))
            db.commit()
        finally:
            db.close()
        problems = []
        for r in live_routes(self.binary):
            if r["permission"] != "player":
                continue
            try:
                resp = pc.call(r["method"], concrete(r["pattern"]), token=token)
            except AssertionError as e:  # not documented
                problems.append(f"{r['name']}: {e}")
                continue
            got = resp.json()["error"]["code"] if resp.status >= 400 else "-"
            if (resp.status, got) != (403, "PLAYER_BLOCKED") or "www-authenticate" in resp.headers:
                problems.append(f"{r['name']}: want 403 PLAYER_BLOCKED without a challenge, got "
                                f"{resp.status} {got} {resp.headers.get('www-authenticate')!r}")
        return not problems or "\n".join(problems)

    def every_401_has_a_challenge(self):
        """RFC 9110 §15.5.2: every 401 carries WWW-Authenticate, not only the
        authorizer's: the logins' CREDENTIALS_INVALID and TOTP_*, the refreshes'
        TOKEN_INVALID and REFRESH_REUSED, a PSP webhook's SIGNATURE_INVALID."""
        bearer = 'Bearer realm="pitboss"'
        invalid = bearer + ', error="invalid_token"'
        pc, root = self.player, self.root
        # a member of its own for the reused refresh token (reuse revokes its family)
        m = create_staff(self.env, root, "m@example.com", "admin", "127.0.0.13",
                         all_brands=True).activate("Blue-Falcon-3-Xy")
        old_refresh = m.refresh_token
        m.refresh()
        cases = [
            ("player login, wrong password", "CREDENTIALS_INVALID", bearer,
             pc.call("POST", "/v1/player/login", {"brand": "alpha", "email": "p@example.com",
                                                  "password": "wrong-pass-000"}, check=False)),
            ("staff login, wrong password", "CREDENTIALS_INVALID", bearer,
             root.client.call("POST", "/v1/admin/login", {"email": root.email,
                                                          "password": "wrong-pass-000"},
                              check=False)),
            ("staff login without the TOTP code", "TOTP_REQUIRED", bearer, root.login(False)),
            ("staff login, wrong TOTP code", "TOTP_INVALID", bearer,
             root.client.call("POST", "/v1/admin/login", {"email": root.email,
                                                          "password": root.password,
                                                          "totp": "000000" if root.secret else ""},
                              check=False)),
            ("player refresh, unknown token", "TOKEN_INVALID", invalid,
             pc.call("POST", "/v1/player/refresh", {"refresh_token": "x" * 43}, check=False)),
            ("staff refresh, token used twice", "REFRESH_REUSED", invalid,
             m.client.call("POST", "/v1/admin/refresh", {"refresh_token": old_refresh},
                           check=False)),
            ("PSP webhook, bad signature", "SIGNATURE_INVALID", 'Signature realm="pitboss"',
             pc.call("POST", "/v1/cashier/webhooks/sandbox", raw=b"{}",
                     headers={"X-Sandbox-Signature": "t=1,v1=00"}, check=False)),
        ]
        problems = []
        for what, code, want, r in cases:
            got = r.json()["error"]["code"] if r.status >= 400 else "-"
            www = r.headers.get("www-authenticate")
            if (r.status, got, www) != (401, code, want):
                problems.append(f"{what}: want 401 {code} with WWW-Authenticate {want!r}, "
                                f"got {r.status} {got} with {www!r}")
        return not problems or "\n".join(problems)

    def admin_routes_refuse_players(self):
        problems = []
        for r in live_routes(self.binary):
            if not r["pattern"].startswith("/v1/admin/") or not r["permission"]:
                continue
            resp = self.player.call(r["method"], concrete(r["pattern"]), token=self.player_token,
                                    check=False)
            got = resp.json()["error"]["code"] if resp.status >= 400 else "-"
            if (resp.status, got) != (401, "TOKEN_INVALID"):
                problems.append(f"{r['name']} with a player token: want 401 TOKEN_INVALID, "
                                f"got {resp.status} {got}")
        return not problems or "\n".join(problems)

    def stale_authorization(self):
        a, b, env = self.a, self.b, self.env
        b.refresh()  # a fresh access token: no refresh during the request
        audit_before = env.rows("SELECT count(*) FROM audit_entry WHERE actor_id=?", b.id)[0][0]
        db = sqlite3.connect(env.db, timeout=30, isolation_level=None)
        res = {}
        try:
            db.execute("BEGIN IMMEDIATE")  # the write lock: B's request waits for it

            def b_disables_a():
                res["r"] = b.client.call("PATCH", f"/v1/admin/staff/{a.id}", {"active": False},
                                         token=b.token, check=False)
            t = threading.Thread(target=b_disables_a)
            t.start()
            time.sleep(1.0)  # B is authenticated (a read) and waits for the lock
            assert "r" not in res, "the request did not wait for the write lock"
            now = int(time.time() * 1_000_000)
            # what another admin's "disable B" commits (identity's staff update)
            db.execute("UPDATE staff SET status='disabled', updated_at=? WHERE public_id=?",
                       (now, b.id))
            db.execute("UPDATE auth_session SET revoked_at=?, revoke_reason='staff_changed' "
                       "WHERE subject_kind='staff' AND revoked_at=0 AND subject_id="
                       "(SELECT id FROM staff WHERE public_id=?)", (now, b.id))
            db.execute("COMMIT")
        finally:
            db.close()
        t.join(60)
        r = res.get("r")
        assert r is not None, "no answer"
        got = r.json()["error"]["code"] if r.status >= 400 else "-"
        assert (r.status, got) == (401, "SESSION_REVOKED"), \
            f"a disabled admin's change: want 401 SESSION_REVOKED, got {r.status} {got}: {r.body[:200]!r}"
        www = r.headers.get("www-authenticate")
        assert www == 'Bearer realm="pitboss", error="invalid_token"', \
            f"the 401 SESSION_REVOKED lacks the authorizer's challenge: WWW-Authenticate {www!r}"
        st = expect(self.root.call("GET", f"/v1/admin/staff/{a.id}"), 200)["staff"]
        assert st["active"], "admin A was disabled by an admin disabled before the commit"
        audit_after = env.rows("SELECT count(*) FROM audit_entry WHERE actor_id=?", b.id)[0][0]
        assert audit_after == audit_before, "the refused change wrote an audit entry"


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_auth_security.py PATH/TO/pitboss")
        sys.exit(1)
    binary = os.path.abspath(sys.argv[1])
    tap = Tap(7)
    env = Env(binary)
    w = World(env, binary)
    try:
        if not tap.case("setup: a brand, a player, three admins of every brand", w.build):
            for _ in range(tap.plan - 1):
                tap.ok(False, "skipped: setup failed")
            return tap.done()
        tap.case("every route outside /v1/admin/ is listed with its caller class (public or "
                 "player)", w.coverage)
        tap.case("every player route refuses no token (401 UNAUTHENTICATED) and a staff token "
                 "(401 TOKEN_INVALID)", w.player_routes_refuse_staff)
        tap.case("every /v1/admin/ route with a permission refuses a player token "
                 "(401 TOKEN_INVALID)", w.admin_routes_refuse_players)
        tap.case("a blocked player's token: 403 PLAYER_BLOCKED on every player route, as "
                 "documented", w.blocked_player_is_forbidden)
        tap.case("every 401 outside the authorizer (logins, TOTP, refreshes, a webhook's "
                 "signature) carries WWW-Authenticate", w.every_401_has_a_challenge)
        tap.case("an admin disabled while their request waits for the write lock: the change "
                 "is refused (401 SESSION_REVOKED with its WWW-Authenticate), nothing written",
                 w.stale_authorization)
    except Exception:
        traceback.print_exc()
    finally:
        env.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
