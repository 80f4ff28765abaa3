#!/usr/bin/python3
"""test_player_password.py PATH/TO/pitboss — POST /v1/player/password against a real
`pitboss serve` (speaks TAP). Every answer is validated against openapi.yaml.

A signed-in player changes their password: the current one is checked like a login
(wrong: 403 CURRENT_PASSWORD_INVALID without WWW-Authenticate, the session staying
valid, where a 401 would make a front end log the player out; counted towards the
lockout per account and client address: the fifth from one address is 423
ACCOUNT_LOCKED for the change and for
logins from that address, not from another); the new one meets the registration
policy (422 PASSWORD_WEAK) and is none of the last four (422 PASSWORD_REUSED, the
current one included; the fifth-last is allowed again); on success the player's other
sessions end (access and refresh tokens) and the current one stays; the change is
audited as player.password_change; without a token it is 401 UNAUTHENTICATED.
"""
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Client, Env, expect, register_player  # noqa: E402
from harness import Tap  # noqa: E402

P0 = "Player-pass-77"  # register_player's password
ROUTE = "/v1/player/password"


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0

    def setup(self):
        self.env.cli("brand", "create", "--code", "alpha", "--name", "Alpha", "--currency", "EUR",
                     "--currencies", "EUR", "--jurisdiction", "MT")
        self.env.start()

    def player(self, tag, ip):
        """A new player registered and logged in from ip: (client, email, id, tokens)."""
        self.n += 1
        c = Client(self.env, ip)
        email = f"{tag}{self.n}@example.com"
        pid = register_player(c, "alpha", email)
        return c, email, pid, self.login(c, email, P0, 200)

    def state(self, pid):
        """What a change writes: the hash, the history, the sessions' ends, the audit."""
        e = self.env
        return (e.rows("SELECT password_hash FROM player WHERE public_id = ?", pid),
                e.rows("SELECT h.* FROM password_history h JOIN player p ON h.subject_id = p.id "
                       "AND h.subject_kind = 'player' WHERE p.public_id = ?", pid),
                e.rows("SELECT s.revoked_at FROM auth_session s JOIN player p ON s.subject_id = "
                       "p.id AND s.subject_kind = 'player' WHERE p.public_id = ?", pid),
                e.rows("SELECT seq FROM audit_entry WHERE target_id = ?", pid))

    def login(self, c, email, password, status, code=None):
        r = c.call("POST", "/v1/player/login", {"brand": "alpha", "email": email,
                                                 "password": password})
        return expect(r, status, code)

    def change(self, c, token, current, new, status, code=None, field=None):
        r = c.call("POST", ROUTE, {"current_password": current, "new_password": new}, token=token)
        body = expect(r, status, code)
        if field:
            assert body["error"].get("field") == field, body
        return r

    def ok_other_sessions_end_current_kept(self):
        c, email, pid, mine = self.player("ok", "127.0.3.1")
        other = self.login(Client(self.env, "127.0.3.2"), email, P0, 200)
        r = self.change(c, mine["access_token"], P0, "Fresh-Heron-31", 200)
        assert r.json() == {"password_changed": True}, r
        # the other session: its access and refresh tokens are dead
        expect(c.call("GET", "/v1/player/profile", token=other["access_token"]), 401,
               "SESSION_REVOKED")
        expect(c.call("POST", "/v1/player/refresh", {"refresh_token": other["refresh_token"]}),
               401)
        # the current one lives on: its access token, then its refresh token
        expect(c.call("GET", "/v1/player/profile", token=mine["access_token"]), 200)
        sessions = expect(c.call("GET", "/v1/player/sessions", token=mine["access_token"]),
                          200)["sessions"]
        assert [s["id"] for s in sessions] == [mine["session_id"]], sessions
        fresh = expect(c.call("POST", "/v1/player/refresh",
                              {"refresh_token": mine["refresh_token"]}), 200)
        assert fresh["session_id"] == mine["session_id"], fresh
        # the old password is gone, the new one logs in
        self.login(c, email, P0, 401, "CREDENTIALS_INVALID")
        self.login(c, email, "Fresh-Heron-31", 200)
        rows = self.env.rows("SELECT actor_kind, actor_id, brand, target_kind, target_id, ip "
                             "FROM audit_entry WHERE action = 'player.password_change'")
        assert rows == [("player", pid, "alpha", "player", pid, "127.0.3.1")], rows
        logs = "\n".join(self.env.srv.logs)
        assert "Fresh-Heron-31" not in logs and P0 not in logs, "a password reached the log"

    def wrong_current_counts(self):
        c, email, pid, t = self.player("wrong", "127.0.3.10")
        before = self.state(pid)
        r = self.change(c, t["access_token"], "not-the-password-1", "Fresh-Heron-32", 403,
                        "CURRENT_PASSWORD_INVALID", "current_password")
        # not "your token is bad": no challenge, and the session goes on working
        assert r.header("www-authenticate") is None, r.header("www-authenticate")
        expect(c.call("GET", "/v1/player/profile", token=t["access_token"]), 200)
        # nothing changed but the failure count (the session is untouched)
        assert self.state(pid) == before, "a refused change wrote something"
        rows = self.env.rows("SELECT p.failed_logins, f.addr, f.failed FROM player p "
                             "JOIN login_failure f ON f.subject_kind = 'player' "
                             "AND f.subject_id = p.id WHERE p.public_id = ?", pid)
        assert rows == [(1, "127.0.3.10", 1)], rows
        for _ in range(3):
            self.change(c, t["access_token"], "not-the-password-1", "Fresh-Heron-32", 403,
                        "CURRENT_PASSWORD_INVALID")
        r = self.change(c, t["access_token"], "not-the-password-1", "Fresh-Heron-32", 423,
                        "ACCOUNT_LOCKED")
        assert 800 <= int(r.header("retry-after")) <= 900, r.header("retry-after")
        # this address is locked out of the account: the right password too, and logins
        r = self.change(c, t["access_token"], P0, "Fresh-Heron-32", 423, "ACCOUNT_LOCKED")
        assert int(r.header("retry-after")) > 0, r
        self.login(c, email, P0, 423, "ACCOUNT_LOCKED")
        # the session still works (a wrong password does not log out), and the player
        # logs in from another address with the unchanged password
        expect(c.call("GET", "/v1/player/profile", token=t["access_token"]), 200)
        self.login(Client(self.env, "127.0.3.11"), email, P0, 200)

    def reused(self):
        c, email, _, t = self.player("reuse", "127.0.3.20")
        tok = t["access_token"]
        self.change(c, tok, P0, "History-Pass-1", 200)
        for old in (P0, "History-Pass-1"):  # the previous one; the current one
            self.change(c, tok, "History-Pass-1", old, 422, "PASSWORD_REUSED", "new_password")
        self.change(c, tok, "History-Pass-1", "History-Pass-2", 200)
        self.change(c, tok, "History-Pass-2", "History-Pass-3", 200)
        # the last four: History-Pass-3 (current), -2, -1 and P0
        self.change(c, tok, "History-Pass-3", P0, 422, "PASSWORD_REUSED", "new_password")
        self.change(c, tok, "History-Pass-3", "History-Pass-4", 200)
        # P0 is the fifth-last now: allowed again
        self.change(c, tok, "History-Pass-4", "History-Pass-1", 422, "PASSWORD_REUSED")
        self.change(c, tok, "History-Pass-4", P0, 200)
        self.login(c, email, P0, 200)

    def weak(self):
        c, email, pid, t = self.player("weakling", "127.0.3.30")
        before = self.state(pid)
        for bad in ("short-1", "1234567890123", "abababababab", email.split("@")[0] + "-xyz-77",
                    "Fresh-Heron-" + "x" * 250):
            self.change(c, t["access_token"], P0, bad, 422, "PASSWORD_WEAK", "new_password")
        assert self.state(pid) == before, "a refused change wrote something"
        self.login(c, email, P0, 200)

    def bad_requests(self):
        c, _, _, t = self.player("bad", "127.0.3.40")
        tok = t["access_token"]
        r = c.call("POST", ROUTE, {"current_password": P0}, token=tok)
        assert expect(r, 422, "FIELD_MISSING")["error"]["field"] == "new_password", r
        r = c.call("POST", ROUTE, {"current_password": P0, "new_password": "Fresh-Heron-33",
                                   "x": 1}, token=tok)
        expect(r, 400, "UNKNOWN_FIELD")
        r = c.call("POST", ROUTE, {"current_password": 5, "new_password": "Fresh-Heron-33"},
                   token=tok)
        expect(r, 422, "FIELD_INVALID")

    def unauthenticated(self):
        c = Client(self.env, "127.0.3.50")
        body = {"current_password": P0, "new_password": "Fresh-Heron-34"}
        r = c.call("POST", ROUTE, body)
        expect(r, 401, "UNAUTHENTICATED")
        assert (r.header("www-authenticate") or "").startswith("Bearer"), r
        expect(c.call("POST", ROUTE, body, token="not.a.token"), 401, "TOKEN_INVALID")
        # a logged-out session cannot change the password
        _, email, _, t = self.player("gone", "127.0.3.50")
        expect(c.call("POST", "/v1/player/logout", token=t["access_token"], check=False), 204)
        expect(c.call("POST", ROUTE, body, token=t["access_token"]), 401, "SESSION_REVOKED")
        self.login(c, email, P0, 200)

    def stop(self):
        assert self.env.stop() == 0, "the server did not exit 0"
        r = self.env.cli("audit", "verify", check=False)
        assert r.returncode == 0, r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_player_password.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("ok: 200; the other session's access and refresh tokens die, the current one lives; "
         "the new password logs in, the old does not; audited with the client address",
         run.ok_other_sessions_end_current_kept),
        ("a wrong current password: 403 CURRENT_PASSWORD_INVALID (no challenge, session "
         "kept), counted per account and address; "
         "the fifth locks that address (change and login: 423), not another",
         run.wrong_current_counts),
        ("none of the last four: 422 PASSWORD_REUSED (current included); the fifth-last again ok",
         run.reused),
        ("the registration policy: 422 PASSWORD_WEAK (short, digits, few characters, the "
         "email's local part, over 256 bytes); nothing written", run.weak),
        ("bad bodies: 422 FIELD_MISSING, 400 UNKNOWN_FIELD, 422 FIELD_INVALID", run.bad_requests),
        ("no token 401 UNAUTHENTICATED with a challenge; a garbled one TOKEN_INVALID; a "
         "logged-out session SESSION_REVOKED", run.unauthenticated),
        ("SIGTERM exits 0; `pitboss audit verify` passes", run.stop),
    ]
    tap = Tap(len(cases) + 1)
    try:
        if not tap.case("setup: a brand, the server", run.setup):
            for name, _ in cases:
                tap.ok(False, name + " (setup failed)")
            return tap.done()
        for name, fn in cases:
            tap.case(name, fn)
    except Exception:
        traceback.print_exc()
    finally:
        env.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
