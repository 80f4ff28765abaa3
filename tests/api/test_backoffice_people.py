#!/usr/bin/python3
"""test_backoffice_people.py PATH/TO/pitboss — the staff API behind the back
office's people pages over real HTTP (speaks TAP): the player page's sessions
(two logins with different User-Agents, devices, masking), notes (append-only,
audited in the same transaction, validation), rounds from both sources
(in-house bets and native-protocol provider bets/wins/rollbacks merged by time,
pages without gaps or repeats, filters), the brand scope (another brand's
player is 404 on every route). Every answer is checked against
docs/openapi.yaml. Ends with `pitboss ledger verify` and `pitboss audit verify`.

Usage: test_backoffice_people.py PATH/TO/pitboss
"""
import hashlib
import hmac
import http.client
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import (Client, Env, Staff, create_staff, expect, fingerprint,  # noqa: E402
                           qs, step_now, totp)
from harness import Tap  # noqa: E402

PASSWORD = "Player-pass-77"
SECRET = bytes.fromhex("6b" * 32)
UA_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Safari/537.36")
UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0

    def key(self, prefix="k"):
        self.n += 1
        return f"{prefix}-{self.n}-{time.time_ns()}"

    # ---- helpers ----

    def fresh(self):
        """A client from an address of its own (registrations are limited per IP)."""
        self.ip_n = getattr(self, "ip_n", 0) + 1
        return Client(self.env, f"127.0.7.{self.ip_n}")

    def register(self, brand, email, **extra):
        body = {"brand": brand, "email": email, "password": PASSWORD, "country": "MT",
                "date_of_birth": "1990-01-01"}
        body.update(extra)
        r = self.fresh().call("POST", "/v1/player/register", body)
        assert r.status == 201, r
        return r.json()["player"]

    def player_login(self, brand, email, ua):
        r = self.client.call("POST", "/v1/player/login",
                             {"brand": brand, "email": email, "password": PASSWORD},
                             headers={"User-Agent": ua})
        return expect(r, 200)["access_token"]

    def pages(self, who, path, key, limit, **params):
        """Every page of a cursor list; the rows and the number of pages."""
        rows, cursor, n = [], None, 0
        while True:
            page = expect(who.call("GET", path + qs(cursor=cursor, limit=limit, **params)), 200)
            rows += page[key]
            n += 1
            cursor = page["next_cursor"]
            if cursor is None:
                return rows, n
            assert len(page[key]) == limit, page
            assert n < 1000

    def fund(self, pid, amount):
        expect(self.admin.call("POST", f"/v1/admin/players/{pid}/adjustments",
                               {"balance": "cash", "direction": "credit", "amount": amount,
                                "reason": "test funds", "idempotency_key": self.key("fund")}), 201)

    def provider(self, path, body):
        data = json.dumps(body).encode()
        ts = str(int(time.time()))
        mac = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + data, hashlib.sha256).hexdigest()
        srv = self.env.srv
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
        try:
            c.request("POST", f"/v1/providers/studio/{path}", body=data,
                      headers={"Content-Type": "application/json", "X-Pitboss-Timestamp": ts,
                               "X-Pitboss-Signature": mac})
            r = c.getresponse()
            status, out = r.status, r.read()
        finally:
            c.close()
        assert status == 200, (path, status, out)
        return json.loads(out)

    # ---- cases ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.6.10").activate("Blue-Falcon-0-Xy")
        for code in ("alpha", "beta"):
            expect(self.admin.call("POST", "/v1/admin/brands",
                                   {"code": code, "name": code.title(), "default_currency": "EUR",
                                    "currencies": ["EUR", "USD"], "jurisdiction": "MT"}), 201)
        self.support = create_staff(env, self.admin, "sup@example.com", "support", "127.0.6.11",
                                    brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.finance = create_staff(env, self.admin, "fin@example.com", "finance", "127.0.6.12",
                                    brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.beta_support = create_staff(env, self.admin, "supb@example.com", "support",
                                         "127.0.6.13", brands=["beta"]).activate("Blue-Falcon-3-Xy")
        self.officer = create_staff(env, self.admin, "cmp@example.com", "compliance", "127.0.6.14",
                                    brands=["alpha"]).activate("Blue-Falcon-4-Xy")
        self.client = Client(env, "127.0.6.20")
        self.alice = self.register("alpha", "alice@example.com")["id"]
        self.carol = self.register("beta", "carol@example.com")["id"]

    def sessions(self):
        t1 = self.player_login("alpha", "alice@example.com", UA_CHROME)
        t2 = self.player_login("alpha", "alice@example.com", UA_FIREFOX)
        page = expect(self.support.call("GET", f"/v1/admin/players/{self.alice}/sessions"), 200)
        s = page["sessions"]
        assert len(s) == 2 and page["next_cursor"] is None, page
        assert s[0]["device"] == "Firefox on Linux" and s[1]["device"] == "Chrome on Windows", s
        assert s[0]["user_agent"] == UA_FIREFOX and s[0]["ip"] == "127.0.6.20", s
        assert all(x["active"] and x["revoked_at"] is None for x in s), s
        assert s[0]["created_at"] >= s[1]["created_at"]
        # without players.pii.read: the IP masked, no User-Agent, the device label stays
        m = expect(self.finance.call("GET", f"/v1/admin/players/{self.alice}/sessions"),
                   200)["sessions"]
        assert [x["ip"] for x in m] == ["127.0.*.*"] * 2 and all(x["user_agent"] is None
                                                                  for x in m), m
        assert [x["device"] for x in m] == ["Firefox on Linux", "Chrome on Windows"], m
        # pages of one
        rows, n = self.pages(self.support, f"/v1/admin/players/{self.alice}/sessions", "sessions", 1)
        assert n == 2 and [x["id"] for x in rows] == [x["id"] for x in s], rows
        # a revoked session says so: block the player (sessions end), unblock
        expect(self.support.call("POST", f"/v1/admin/players/{self.alice}/block",
                                 {"reason": "check"}), 200)
        expect(self.support.call("POST", f"/v1/admin/players/{self.alice}/unblock",
                                 {"reason": "ok"}), 200)
        s = expect(self.support.call("GET", f"/v1/admin/players/{self.alice}/sessions"),
                   200)["sessions"]
        assert all(not x["active"] and x["revoked_at"] and x["revoke_reason"] for x in s), s
        self.alice_token = self.player_login("alpha", "alice@example.com", UA_CHROME)
        del t1, t2
        # bad input
        expect(self.support.call("GET", f"/v1/admin/players/{self.alice}/sessions?limit=0"), 422,
               "FIELD_INVALID")
        expect(self.support.call("GET", f"/v1/admin/players/{self.alice}/sessions?cursor=x"), 422,
               "FIELD_INVALID")

    def notes(self):
        path = f"/v1/admin/players/{self.alice}/notes"
        empty = expect(self.support.call("GET", path), 200)
        assert empty == {"player_id": self.alice, "notes": [], "next_cursor": None}, empty
        before = fingerprint(self.env.db)
        for body, code in (({}, "FIELD_MISSING"), ({"text": ""}, "FIELD_INVALID"),
                           ({"text": "   \n "}, "FIELD_INVALID"),
                           ({"text": "x" * 2001}, "FIELD_INVALID"),
                           ({"text": "a\u0007b"}, "FIELD_INVALID"),
                           ({"text": 5}, "FIELD_INVALID"),
                           ({"text": "ok", "extra": 1}, "UNKNOWN_FIELD")):
            expect(self.support.call("POST", path, body), 400 if code == "UNKNOWN_FIELD" else 422,
                   code)
        # finance may read players but not write notes
        expect(self.finance.call("POST", path, {"text": "hello"}), 403, "FORBIDDEN")
        assert fingerprint(self.env.db) == before, "a refused note wrote something"
        # 2000 characters of 4 bytes each is fine
        long_text = "\U0001F600" * 2000
        texts = ["Called about a withdrawal.\nAll fine.", long_text] + [f"note {i}" for i in range(5)]
        made = []
        for t in texts:
            made.append(expect(self.support.call("POST", path, {"text": t}), 201)["note"])
        assert made[0]["author_id"] == self.support.id and made[0]["author_email"] == "sup@example.com"
        assert made[1]["text"] == long_text
        rows, n = self.pages(self.finance, path, "notes", 3)
        assert n == 3 and [x["id"] for x in rows] == [x["id"] for x in reversed(made)], rows
        # audited in the same transaction: one entry per note with the note's id and text
        ents = self.env.rows("SELECT actor_id, target_kind, target_id, after, brand FROM audit_entry "
                             "WHERE action='player.note_added' ORDER BY seq")
        assert len(ents) == len(made), ents
        for (actor, kind, target, after, brand), note in zip(ents, made):
            a = json.loads(after)
            assert (actor, kind, target, brand) == (self.support.id, "player", self.alice, "alpha")
            assert a == {"note_id": note["id"], "text": note["text"]}, a
        # append-only in the database too
        import sqlite3
        con = sqlite3.connect(self.env.db, timeout=30)
        try:
            for sql in ("UPDATE player_note SET text='x'", "DELETE FROM player_note"):
                try:
                    con.execute(sql)
                    raise AssertionError(sql + " was allowed")
                except sqlite3.DatabaseError as e:
                    assert "append-only" in str(e), e
        finally:
            con.close()

    def names(self):
        """Optional names at registration: trimmed, 1..100 characters; shown to the player."""
        c = Client(self.env, "127.0.6.21")
        self.search_client = c
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "gamma", "name": "Gamma", "default_currency": "EUR",
                                "currencies": ["EUR"], "jurisdiction": "MT"}), 201)
        base = {"brand": "gamma", "password": PASSWORD, "country": "MT",
                "date_of_birth": "1990-01-01"}
        for bad in ({"first_name": "   "}, {"last_name": "x" * 101}, {"first_name": "a\u0001b"},
                    {"first_name": ""}):
            r = self.fresh().call("POST", "/v1/player/register",
                                  dict(base, email="bad@s.example", **bad))
            want = list(bad)[0]
            assert r.status == 422 and r.json()["error"]["field"] == want, (bad, r)
        r = self.fresh().call("POST", "/v1/player/register",
                   dict(base, email="max@s.example", first_name="\u00e9" * 100, last_name=None))
        assert r.status == 201 and r.json()["player"]["first_name"] == "\u00e9" * 100, r
        assert r.json()["player"]["last_name"] is None, r
        self.extra_gamma = r.json()["player"]["id"]
        self.sp = []  # (id, email, first, last, balance minor)
        for email, first, last, bal in (("zoe@s.example", "  Zo\u00e9 ", "Adams", 5000),
                                        ("adam@s.example", "Adam", "Zimmer", 1000),
                                        ("john@s.example", "John", "Smith", 1000),
                                        ("jane@s.example", "Jane", "Johnson", 0),
                                        ("mike@s.example", None, None, 12050),
                                        ("Bob@s.example", "bob", "Jones", 7500),
                                        ("carl@s.example", "Carl", "Jonas", 1000)):
            body = dict(base, email=email)
            if first:
                body.update(first_name=first, last_name=last)
            r = self.fresh().call("POST", "/v1/player/register", body)
            assert r.status == 201, r
            pl = r.json()["player"]
            assert pl["first_name"] == (first.strip() if first else None), pl
            self.sp.append([pl["id"], email.lower(), first.strip() if first else None, last, bal])
        # the profile shows them too
        tok = expect(c.call("POST", "/v1/player/login", {"brand": "gamma", "email": "zoe@s.example",
                                                         "password": PASSWORD}), 200)["access_token"]
        prof = expect(c.call("GET", "/v1/player/profile", token=tok), 200)
        assert (prof["first_name"], prof["last_name"]) == ("Zo\u00e9", "Adams"), prof

    def search(self):
        sp = self.sp
        for pid, _, _, _, bal in sp:
            if bal:
                self.fund(pid, f"{bal // 100}.{bal % 100:02d}")
        # last logins: john, bob, zoe in that order (zoe logged in during names() already)
        logins = {}
        for i in (2, 5, 0):
            time.sleep(0.002)
            expect(self.search_client.call("POST", "/v1/player/login",
                                           {"brand": "gamma", "email": sp[i][1],
                                            "password": PASSWORD}), 200)
            logins[i] = len(logins) + 1
        ids = [x[0] for x in sp]
        P = "/v1/admin/players"
        def listing(who, limit=50, **params):
            rows, _ = self.pages(who, P, "players", limit, brand="gamma", **params)
            return [r["id"] for r in rows if r["id"] != self.extra_gamma]
        # default: newest first; every page size gives the same list
        want = list(reversed(ids))
        for limit in (1, 2, 3, 50):
            assert listing(self.admin, limit) == want, limit
        # every sort, both directions, pages of 2 and 3
        keys = {"created_at": lambda i: i, "email": lambda i: sp[i][1],
                "last_login_at": lambda i: logins.get(i, 0), "balance": lambda i: sp[i][4]}
        for sort, key in keys.items():
            # the balance rows are written back lazily (~1 s): 15 s from the balance sort's
            # start (not from before the other sorts, which a loaded machine makes slow)
            deadline = time.time() + 15
            for order in ("asc", "desc"):
                exp = [ids[i] for i in sorted(range(len(sp)), key=lambda i: (key(i), i),
                                              reverse=order == "desc")]
                extra = {"currency": "EUR"} if sort == "balance" else {}
                for limit in (2, 3):
                    got = listing(self.admin, limit, sort=sort, order=order, **extra)
                    while got != exp and sort == "balance" and time.time() < deadline:
                        time.sleep(0.3)
                        got = listing(self.admin, limit, sort=sort, order=order, **extra)
                    assert got == exp, (sort, order, limit, got, exp)
        # several brands (no brand filter): the balance order is computed per player, not
        # read from one brand's index; same rules — by EUR cash, ties by age, every player
        # once, across pages of 2
        def eur(row):
            cash = [b["cash"] for b in row["balances"] if b["currency"] == "EUR"]
            return int(cash[0].replace(".", "")) if cash else 0
        by_age = [r["id"] for r in reversed(self.pages(self.admin, P, "players", 50)[0])]
        deadline = time.time() + 15
        for order in ("asc", "desc"):
            while True:
                rows, _ = self.pages(self.admin, P, "players", 2, sort="balance", order=order,
                                     currency="EUR")
                exp = sorted(rows, key=lambda r: (eur(r), by_age.index(r["id"])),
                             reverse=order == "desc")
                if [r["id"] for r in rows] == [r["id"] for r in exp] or time.time() > deadline:
                    break
                time.sleep(0.3)
            assert sorted(r["id"] for r in rows) == sorted(by_age), (order, rows)
            assert [r["id"] for r in rows] == [r["id"] for r in exp], (order, rows)
            assert len({r["brand"] for r in rows}) >= 3, rows
        # balance ranges (inclusive)
        got = listing(self.admin, 2, currency="EUR", balance_min="10.00", balance_max="75.00",
                      sort="balance", order="asc")
        assert got == [ids[1], ids[2], ids[6], ids[0], ids[5]], got
        got = listing(self.admin, 50, currency="EUR", balance_min="100")
        assert got == [ids[4]], got
        # each row's balances come from the ledger, exactly
        rows = expect(self.finance.call("GET", P + qs(q=ids[4])), 200)["players"]
        assert rows == [] , rows  # finance's scope is alpha only
        row = expect(self.admin.call("GET", P + qs(q=ids[4])), 200)["players"]
        assert len(row) == 1 and row[0]["balances"] == [{"currency": "EUR", "cash": "120.50",
                                                         "bonus": "0.00"}], row
        # q: an exact id, an email prefix, a first or last name prefix, case-insensitive
        assert set(listing(self.admin, 2, q="jo")) == {ids[2], ids[3], ids[5], ids[6]}
        assert listing(self.admin, 50, q="ZO") == [ids[0]]
        assert listing(self.admin, 50, q="BOB@") == [ids[5]]
        assert listing(self.admin, 50, q=ids[4]) == [ids[4]]
        # email: a prefix (exact bytes after the lower-casing at registration), the whole
        # address included, nothing past it
        assert listing(self.admin, 50, email="j") == [ids[3], ids[2]]
        assert listing(self.admin, 50, email="john@s.example") == [ids[2]]
        assert listing(self.admin, 50, email="john@s.example.") == []
        assert listing(self.admin, 50, email="jo") == [ids[2]]
        assert listing(self.admin, 50, email="bob@") == [ids[5]]
        assert listing(self.admin, 50, email="k") == []
        assert listing(self.admin, 50, name="SMI") == [ids[2]]
        assert listing(self.admin, 50, name="adams") == [ids[0]]
        assert listing(self.admin, 50, name="jon", sort="email", order="asc") == [ids[5], ids[6]]
        # finance (no players.pii.read) on alpha: masked names, q is an id only, no name search
        alpha_named = self.register("alpha", "nora@s.example", first_name="Nora",
                                    last_name="Quist")["id"]
        got = expect(self.finance.call("GET", P + qs(q=alpha_named)), 200)["players"]
        assert len(got) == 1 and (got[0]["first_name"], got[0]["last_name"]) == ("N***", "Q***"), got
        assert got[0]["email"] == "n***@s.example" and "date_of_birth" not in got[0], got
        assert expect(self.finance.call("GET", P + qs(q="nora")), 200)["players"] == []
        full = expect(self.support.call("GET", P + qs(q="nora")), 200)["players"]
        assert [(p["id"], p["first_name"]) for p in full] == [(alpha_named, "Nora")], full
        r = expect(self.finance.call("GET", P + qs(name="No")), 403, "FORBIDDEN")
        assert r["error"]["field"] == "name", r
        # nor sort by email: that order's cursor names the last row's email in the clear
        # (and one made up would probe the addresses); a cursor of the email order made
        # by someone who may is refused the same way; the other orders' cursors hold no email
        for order in ("asc", "desc"):
            r = expect(self.finance.call("GET", P + qs(sort="email", order=order, limit=1)),
                       403, "FORBIDDEN")
            assert r["error"]["field"] == "sort", r
        mine = expect(self.support.call("GET", P + qs(sort="email", order="asc", limit=1)), 200)
        assert mine["next_cursor"], mine
        r = expect(self.finance.call("GET", P + qs(sort="email", order="asc", limit=1,
                                                   cursor=mine["next_cursor"])), 403, "FORBIDDEN")
        for sort in ("created_at", "last_login_at"):
            page = expect(self.finance.call("GET", P + qs(sort=sort, limit=1)), 200)
            assert page["next_cursor"], page
            raw = bytes.fromhex(page["next_cursor"]).decode()
            assert "@" not in raw and raw.startswith(sort + "|"), raw
        # q with '@' is an email prefix only (names are sealed: not opened for it); the
        # name filter still finds a name with '@'
        at_named = self.register("alpha", "quill@s.example", first_name="Qu@il",
                                 last_name="Pen")["id"]
        assert expect(self.support.call("GET", P + qs(q="qu@")), 200)["players"] == []
        assert [p["id"] for p in expect(self.support.call("GET", P + qs(name="qu@")),
                                        200)["players"]] == [at_named]
        assert [p["id"] for p in expect(self.support.call("GET", P + qs(q="quill@")),
                                        200)["players"]] == [at_named]
        # scope: alpha's support never sees gamma's players
        assert expect(self.support.call("GET", P + qs(q="zoe")), 200)["players"] == []
        # bad input
        first = expect(self.admin.call("GET", P + qs(brand="gamma", limit=2, sort="email")), 200)
        for params, field in (({"balance_min": "1.00"}, "balance_min"),
                              ({"currency": "EUR", "balance_max": "1.001"}, "balance_max"),
                              ({"currency": "EUR", "balance_min": "5", "balance_max": "4"},
                               "balance_max"),
                              ({"currency": "XXX"}, "currency"),
                              ({"sort": "balance"}, "sort"), ({"sort": "name"}, "sort"),
                              ({"order": "up"}, "order"),
                              ({"cursor": first["next_cursor"]}, "cursor"),
                              ({"cursor": first["next_cursor"], "sort": "email", "order": "asc"},
                               "cursor"),
                              ({"cursor": "zz"}, "cursor"), ({"cursor": "12"}, "cursor")):
            r = expect(self.admin.call("GET", P + qs(**params)), 422, "FIELD_INVALID")
            assert r["error"]["field"] == field, (params, r)
        # the cursor with its own sort and order works
        nxt = expect(self.admin.call("GET", P + qs(brand="gamma", limit=2, sort="email",
                                                   cursor=first["next_cursor"])), 200)
        assert len(nxt["players"]) == 2 and nxt["players"][0]["email"] < first["players"][1]["email"]

    def rounds_setup(self):
        # in-house games on alpha, a native provider with one game
        # (registers the in-house games; its answer is test_games.py's to check)
        expect(self.admin.call("GET", "/v1/admin/brands/alpha/originals", check=False), 200)
        for g in ("dice", "limbo"):
            expect(self.admin.call("PUT", f"/v1/admin/brands/alpha/games/pitboss/{g}",
                                   {"enabled": True}), 200)
        expect(self.admin.call("POST", "/v1/admin/providers",
                               {"code": "studio", "name": "Studio", "protocol": "native",
                                "secret": SECRET.hex()}), 201)
        limits = [{"currency": "EUR", "min_bet": "0.10", "max_bet": "100.00"}]
        expect(self.admin.call("POST", "/v1/admin/providers/studio/games",
                               {"code": "slot1", "name": "Slot1", "category": "slots",
                                "rtp_bp": 9600, "volatility": "medium", "limits": limits}), 201)
        expect(self.admin.call("PUT", "/v1/admin/brands/alpha/games/studio/slot1",
                               {"enabled": True}), 200)
        self.fund(self.alice, "500.00")
        r = self.client.call("POST", "/v1/player/games/studio/slot1/launch",
                             token=self.alice_token, check=False)
        assert r.status == 201, r
        self.launch = r.json()["token"]

    def dice(self, amount):
        r = self.client.call("POST", "/v1/player/originals/dice/bets",
                             {"amount": amount, "params": {"target": 50.5, "direction": "over"}},
                             token=self.alice_token, headers={"Idempotency-Key": self.key("bet")})
        return expect(r, 201)["round"]

    def at_rest(self):
        """Names and dates of birth are sealed in player_pii; pii.key is 0600, 32 bytes."""
        clear = [x for x in self.sp if x[2]]
        for pid, email, first, last, _ in clear:
            (row,) = self.env.rows("SELECT e.first_name, e.last_name, e.date_of_birth, e.email "
                                   "FROM player_pii e JOIN player p ON p.id=e.player_id "
                                   "WHERE p.public_id=?", pid)
            assert row[3] == email, row  # email stays clear: the login key
            for stored in row[:3]:
                assert stored.startswith("e1:") and len(stored) >= 115, row
                for word in (first, last, "1990-01-01"):
                    assert word.lower() not in stored.lower(), (word, stored)
        (n,) = self.env.rows("SELECT count(*) FROM player_pii WHERE date_of_birth "
                             "NOT LIKE 'e1:%'")[0]
        assert n == 0, n
        key = os.path.join(self.env.keys, "pii.key")
        st = os.stat(key)
        assert st.st_mode & 0o777 == 0o600 and st.st_size == 32, oct(st.st_mode)

    def restart(self):
        """A clear row written while the server is stopped is sealed at start, shown, found."""
        import sqlite3
        pid = self.sp[4][0]  # mike: registered without names
        assert self.env.stop() == 0
        con = sqlite3.connect(self.env.db)
        try:
            con.execute("UPDATE player_pii SET first_name='Quentin', last_name='Xavier-Rook', "
                        "date_of_birth='1985-03-04' WHERE player_id=(SELECT id FROM player "
                        "WHERE public_id=?)", (pid,))
            con.commit()
        finally:
            con.close()
        srv = self.env.start()
        sealed = srv.log_events("identity.pii_sealed")
        assert len(sealed) == 1 and sealed[0]["msg"].startswith("1 player(s)"), sealed
        (row,) = self.env.rows("SELECT e.first_name, e.last_name, e.date_of_birth FROM player_pii "
                               "e JOIN player p ON p.id=e.player_id WHERE p.public_id=?", pid)
        assert all(v.startswith("e1:") and len(v) >= 115 for v in row), row
        assert "quentin" not in " ".join(row).lower(), row
        pl = expect(self.admin.call("GET", f"/v1/admin/players/{pid}"), 200)["player"]
        assert (pl["first_name"], pl["last_name"], pl["date_of_birth"]) == (
            "Quentin", "Xavier-Rook", "1985-03-04"), pl
        for params in ({"name": "quen"}, {"name": "XAVIER-r"}, {"q": "Qu"}):
            got = expect(self.admin.call("GET", "/v1/admin/players" + qs(brand="gamma", **params)),
                         200)["players"]
            assert [r["id"] for r in got] == [pid], (params, got)
        # a restart seals nothing more
        assert self.env.stop() == 0
        srv = self.env.start()
        assert srv.log_events("identity.pii_sealed") == [], srv.log_events("identity.pii_sealed")
        (again,) = self.env.rows("SELECT e.first_name, e.last_name, e.date_of_birth FROM "
                                 "player_pii e JOIN player p ON p.id=e.player_id WHERE "
                                 "p.public_id=?", pid)
        assert again == row, (again, row)
        self.sp[4][2:4] = ["Quentin", "Xavier-Rook"]

    def rounds(self):
        self.rounds_setup()
        want = []  # (source, id) newest last
        # interleave: in-house, provider round with bet+win (closed), in-house, provider
        # round rolled back, provider round open with two bets, in-house
        d1 = self.dice("1.00")
        want.append(("original", d1["id"]))
        tok = self.launch
        self.provider("bet", {"token": tok, "transaction_id": "t1", "round_id": "r1",
                              "game": "slot1", "currency": "EUR", "amount": "2.00"})
        self.provider("win", {"token": tok, "transaction_id": "t2", "round_id": "r1",
                              "bet_transaction_id": "t1", "currency": "EUR", "amount": "5.50"})
        self.provider("round/close", {"token": tok, "transaction_id": "t3", "round_id": "r1"})
        want.append(("provider", "r1"))
        d2 = self.dice("1.50")
        want.append(("original", d2["id"]))
        self.provider("bet", {"token": tok, "transaction_id": "t4", "round_id": "r2",
                              "game": "slot1", "currency": "EUR", "amount": "3.00"})
        self.provider("rollback", {"token": tok, "transaction_id": "t5", "round_id": "r2",
                                   "bet_transaction_id": "t4", "currency": "EUR"})
        want.append(("provider", "r2"))
        self.provider("bet", {"token": tok, "transaction_id": "t6", "round_id": "r3",
                              "game": "slot1", "currency": "EUR", "amount": "1.00"})
        self.provider("bet", {"token": tok, "transaction_id": "t7", "round_id": "r3",
                              "game": "slot1", "currency": "EUR", "amount": "0.25"})
        want.append(("provider", "r3"))
        for _ in range(4):
            want.append(("original", self.dice("0.10")["id"]))
        path = f"/v1/admin/players/{self.alice}/rounds"
        full = expect(self.support.call("GET", path), 200)
        got = [(r["source"], r["id"]) for r in full["rounds"]]
        assert got == list(reversed(want)), got
        by = {r["id"]: r for r in full["rounds"]}
        r1, r2, r3 = by["r1"], by["r2"], by["r3"]
        assert (r1["provider"], r1["game"], r1["bet"], r1["win"], r1["status"]) == \
            ("studio", "slot1", "2.00", "5.50", "closed") and r1["settled_at"], r1
        assert (r2["bet"], r2["refunded"], r2["win"], r2["status"]) == \
            ("3.00", "3.00", "0.00", "rolled_back"), r2
        assert (r3["bet"], r3["status"], r3["settled_at"]) == ("1.25", "open", None), r3
        # a provider round has no in-house state
        assert (r1["state"], r2["state"], r3["state"]) == (None, None, None), (r1, r2, r3)
        o = by[d1["id"]]
        assert (o["provider"], o["game"], o["currency"], o["bet"], o["status"]) == \
            ("pitboss", "dice", "EUR", "1.00", "settled"), o
        assert o["state"] == "settled", o
        assert o["win"] == d1["payout"] and o["rtp_bp"] == d1["rtp_bp"] and o["settled_at"], (o, d1)
        # every page size: the same list, no gaps, no repeats
        for limit in (1, 2, 3, 4):
            rows, n = self.pages(self.finance, path, "rounds", limit)
            assert [(r["source"], r["id"]) for r in rows] == got, (limit, rows)
            assert n == -(-len(got) // limit), (limit, n)
        # filters
        rows, _ = self.pages(self.support, path, "rounds", 2, source="provider")
        assert [r["id"] for r in rows] == ["r3", "r2", "r1"], rows
        rows, _ = self.pages(self.support, path, "rounds", 2, source="original")
        assert [("original", r["id"]) for r in rows] == [w for w in reversed(want)
                                                          if w[0] == "original"], rows
        rows, _ = self.pages(self.support, path, "rounds", 50, game="slot1")
        assert {r["id"] for r in rows} == {"r1", "r2", "r3"}, rows
        cut = by["r2"]["started_at"]
        newer = expect(self.support.call("GET", path + qs(**{"from": cut})), 200)["rounds"]
        older = expect(self.support.call("GET", path + qs(to=cut)), 200)["rounds"]
        assert [(r["source"], r["id"]) for r in newer + older] == got, (newer, older)
        assert newer[-1]["id"] == "r2", newer
        for q, field in (("?source=slots", "source"), ("?cursor=zz", "cursor"),
                         ("?cursor=" + "31" * 4, "cursor"), ("?limit=201", "limit"),
                         ("?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z", "to")):
            r = expect(self.support.call("GET", path + q), 422, "FIELD_INVALID")
            assert r["error"]["field"] == field, r

    def scope(self):
        """Another brand's player is 404 on every new route, exactly like a missing one."""
        for who, pid in ((self.support, self.carol), (self.beta_support, self.alice),
                         (self.support, "0190a0a0-0000-7000-8000-000000000000")):
            for method, path, body in (("GET", "sessions", None), ("GET", "notes", None),
                                       ("POST", "notes", {"text": "peek"}),
                                       ("GET", "rounds", None)):
                expect(who.call(method, f"/v1/admin/players/{pid}/{path}", body), 404,
                       "PLAYER_NOT_FOUND")
        # and the other brand's own staff see their player
        expect(self.beta_support.call("GET", f"/v1/admin/players/{self.carol}/notes"), 200)

    def totp_reset(self):
        P = "/v1/admin/staff/{}/totp/reset"
        admin2 = create_staff(self.env, self.admin, "root2@example.com", "admin", "127.0.6.14",
                              all_brands=True).activate("Blue-Falcon-4-Xy")
        self.admin2 = admin2
        sup = self.support
        old_token = sup.token
        before = fingerprint(self.env.db)
        for who, target, body, status, code in (
                (self.admin, self.admin.id, {"reason": "lost phone"}, 403, "FORBIDDEN"),
                (sup, sup.id, {"reason": "lost phone"}, 403, "FORBIDDEN"),
                (sup, self.admin.id, {"reason": "lost phone"}, 403, "FORBIDDEN"),
                (self.admin, sup.id, {}, 422, "FIELD_MISSING"),
                (self.admin, sup.id, {"reason": "  "}, 422, "FIELD_INVALID"),
                (self.admin, sup.id, {"reason": "a\u0007"}, 422, "FIELD_INVALID"),
                (self.admin, sup.id, {"reason": "x", "also": 1}, 400, "UNKNOWN_FIELD"),
                (self.admin, "0190a0a0-0000-7000-8000-000000000000", {"reason": "x"}, 404,
                 "STAFF_NOT_FOUND"),
                (self.beta_support, sup.id, {"reason": "x"}, 403, "FORBIDDEN")):
            r = expect(who.call("POST", P.format(target), body), status, code)
            if who is self.admin and target == self.admin.id:
                assert "own" in r["error"]["message"], r
        assert fingerprint(self.env.db) == before, "a refused reset wrote something"
        expect(sup.call("GET", "/v1/admin/me"), 200)
        old_password = sup.password
        r = expect(self.admin.call("POST", P.format(sup.id), {"reason": "lost phone"}), 200)
        assert r["staff"]["id"] == sup.id and r["staff"]["totp_enrolled"] is False, r
        assert r["staff"]["must_change_password"] is True, r
        otp = r["one_time_password"]
        assert re.fullmatch(r"[A-Za-z2-9]{5}(-[A-Za-z2-9]{5}){3}", otp), otp
        # every session of theirs ended: the old access token is refused
        expect(sup.client.call("GET", "/v1/admin/me", token=old_token), 401, "SESSION_REVOKED")
        # audited with the reason, before and after, in the same transaction; no secret in it
        (actor, target, reason, b, a), = self.env.rows(
            "SELECT actor_id, target_id, reason, before, after FROM audit_entry "
            "WHERE action='staff.totp_reset'")
        assert (actor, target, reason) == (self.admin.id, sup.id, "lost phone")
        assert json.loads(b)["totp_enrolled"] is True and json.loads(a)["totp_enrolled"] is False
        assert json.loads(b)["must_change_password"] is False
        assert json.loads(a)["must_change_password"] is True
        (stored,), = self.env.rows("SELECT password_hash FROM staff WHERE public_id=?", sup.id)
        entry = repr(self.env.rows("SELECT * FROM audit_entry WHERE action='staff.totp_reset'"))
        for secret in (otp, otp.replace("-", ""), stored, "$argon2", old_password):
            assert secret not in entry, ("a secret in the audit entry", secret)
        # the old password alone no longer opens anything: the very answer of a wrong
        # password (no enumeration of reset accounts), no setup session to enrol from
        wrong = sup.client.call("POST", "/v1/admin/login",
                                {"email": sup.email, "password": "Not-the-password-9"})
        old = sup.client.call("POST", "/v1/admin/login",
                              {"email": sup.email, "password": old_password})
        for x in (wrong, old):
            expect(x, 401, "CREDENTIALS_INVALID")
        same = [{k: v for k, v in x.json()["error"].items() if k != "trace_id"} for x in (old, wrong)]
        assert same[0] == same[1], (old.body, wrong.body)
        assert old.header("www-authenticate") == wrong.header("www-authenticate")
        # nor with a code of the old authenticator (of the current step: the server no
        # longer holds that secret, so whether this member used the step makes no
        # difference, and a fresh one would mean waiting for the next 30-second step)
        expect(sup.client.call("POST", "/v1/admin/login",
                               {"email": sup.email, "password": old_password,
                                "totp": totp(sup.secret, step_now())}), 401, "CREDENTIALS_INVALID")
        # the one-time password: a setup session that must change it, then enrol
        sup.password, sup.secret, sup.refresh_token = otp, None, None
        t = expect(sup.login(), 200)
        assert t["scope"] == "setup" and t["must_change_password"], t
        assert t["totp_enrollment_required"] and t["refresh_token"] is None, t
        expect(sup.call("GET", "/v1/admin/players"), 403, "FORBIDDEN")
        expect(sup.call("POST", "/v1/admin/password", {"current": otp, "new": "Blue-Falcon-9-Xy"}),
               200)
        sup.password = "Blue-Falcon-9-Xy"
        # it worked once: now it is just a wrong password
        expect(sup.client.call("POST", "/v1/admin/login", {"email": sup.email, "password": otp}),
               401, "CREDENTIALS_INVALID")
        sup.enroll()
        t = expect(sup.login(), 200)
        assert t["scope"] == "full" and not t["must_change_password"], t
        expect(sup.call("GET", f"/v1/admin/players/{self.alice}/notes"), 200)
        # an administrator's TOTP: another administrator may reset it, the same way
        r = expect(admin2.call("POST", P.format(self.admin.id), {"reason": "new phone"}), 200)
        assert r["staff"]["totp_enrolled"] is False and r["one_time_password"] != otp, r
        expect(self.admin.client.call("POST", "/v1/admin/login",
                                      {"email": self.admin.email, "password": self.admin.password}),
               401, "CREDENTIALS_INVALID")
        self.admin.password = r["one_time_password"]
        self.admin.secret, self.admin.refresh_token = None, None
        self.admin.activate("Blue-Falcon-8-Xy")

    def audit_verify(self):
        V = "/v1/admin/audit/verify"
        expect(self.support.call("GET", V), 403, "FORBIDDEN")
        # the counts are the whole platform's audit volume: a member limited to some
        # brands is refused, before any check runs or is cached
        expect(self.officer.call("GET", V), 403, "BRAND_FORBIDDEN")
        r = expect(self.admin.call("GET", V + "?fresh=maybe"), 422, "FIELD_INVALID")
        assert r["error"]["field"] == "fresh", r
        first = expect(self.admin.call("GET", V), 200)
        (n,), = self.env.rows("SELECT count(*) FROM audit_entry")
        (seq, h), = self.env.rows("SELECT seq, hex(hash) FROM audit_entry ORDER BY seq DESC LIMIT 1")
        assert first["ok"] is True and first["violations"] == [] and not first["cached"], first
        assert first["entries"] == n and first["head_seq"] == seq and first["head"] == h.lower(), \
            (first, n, seq, h)
        # a change: the answer stays cached (same check) until fresh=true
        expect(self.support.call("POST", f"/v1/admin/players/{self.alice}/notes",
                                 {"text": "after the check"}), 201)
        again = expect(self.admin.call("GET", V), 200)
        assert again["cached"] is True and again["entries"] == n, again
        assert again["checked_at"] == first["checked_at"], again
        now = expect(self.admin.call("GET", V + "?fresh=true"), 200)
        assert not now["cached"] and now["entries"] == n + 1 and now["ok"], now
        assert now["checked_at"] > first["checked_at"], now
        r = self.admin.call("GET", V + "?fresh=true")
        expect(r, 429, "RATE_LIMITED")
        assert 1 <= int(r.header("Retry-After")) <= 10, r.headers
        # another member has their own allowance; the cache now holds the fresh answer
        admin2 = [s for s in (getattr(self, "admin2", None),) if s]
        for who in admin2:
            assert not expect(who.call("GET", V + "?fresh=true"), 200)["cached"]
        assert expect(self.admin.call("GET", V), 200)["cached"] is True

    def key_rotation(self):
        """After `pitboss audit rotate-key` (server stopped) the server still trusts the
        retired key for the checkpoints it signed: the chain verifies."""
        assert self.env.stop() == 0
        r = self.env.cli("audit", "rotate-key", "--db", self.env.db, "--keys-dir", self.env.keys)
        assert "trusted through seq" in r.stdout, r.stdout
        retired = open(os.path.join(self.env.keys, "audit-retired.pub")).read().split()
        assert len(retired) == 2 and len(retired[0]) == 64, retired
        (head,), = self.env.rows("SELECT max(seq) FROM audit_entry")
        assert int(retired[1]) == head, (retired, head)
        srv = self.env.start()
        assert srv.log_events("audit.key"), "the server logs the retired key it trusts"
        expect(self.support.call("POST", f"/v1/admin/players/{self.alice}/notes",
                                 {"text": "after the rotation"}), 201)
        r = expect(self.admin.call("GET", "/v1/admin/audit/verify"), 200)
        assert r["ok"] is True and r["violations"] == [] and r["violations_total"] == 0, r
        assert r["signed_upto"] == head and r["entries"] == head + 1, (r, head)

    def tampered(self):
        """A changed entry in a copy of the database: the server names it."""
        import copy as copying
        import shutil
        import sqlite3
        import tempfile
        copy = copying.copy(self.env)  # the same binary and OpenAPI document, another directory
        copy.dir = tempfile.mkdtemp(prefix="pbtamper.")
        copy.db = os.path.join(copy.dir, "pitboss.db")
        copy.keys = os.path.join(copy.dir, "keys")
        copy.srv = None
        shutil.rmtree(copy.dir)
        shutil.copytree(self.env.dir, copy.dir)
        self.tamper_env = copy
        con = sqlite3.connect(copy.db)
        try:
            (seq, eid), = con.execute("SELECT seq, hex(id) FROM audit_entry WHERE "
                                      "action='player.note_added' ORDER BY seq LIMIT 1").fetchall()
            con.execute("UPDATE audit_entry SET reason='nothing to see' WHERE seq=?", (seq,))
            con.commit()
        finally:
            con.close()
        copy.start()
        admin = Staff(copy, self.admin.email, self.admin.password, "127.0.6.30")
        # the copy holds the admin's session and the keys that signed its token: no new
        # login (a third TOTP login within 30 s would wait for the next step)
        admin.token, admin.refresh_token = self.admin.token, self.admin.refresh_token
        admin.id, admin.expires = self.admin.id, self.admin.expires
        r = expect(admin.call("GET", "/v1/admin/audit/verify"), 200)
        assert r["ok"] is False and r["violations_total"] >= 1, r
        v = r["violations"][0]
        want_id = eid.lower()
        want_id = "-".join((want_id[:8], want_id[8:12], want_id[12:16], want_id[16:20], want_id[20:]))
        assert (v["kind"], v["seq"], v["id"]) == ("hash_mismatch", seq, want_id), (v, seq, want_id)
        assert f"seq {seq}" in r["first_broken"], r
        # a member limited to some brands: refused (the chain, its counts and its
        # violations are every brand's), from the cache too
        officer = Staff(copy, self.officer.email, self.officer.password, "127.0.6.31")
        officer.token, officer.refresh_token = self.officer.token, self.officer.refresh_token
        officer.id, officer.expires = self.officer.id, self.officer.expires
        for q in ("", "?fresh=true"):
            o = expect(officer.call("GET", "/v1/admin/audit/verify" + q), 403, "BRAND_FORBIDDEN")
            assert "entries" not in o and "violations_total" not in o, o
        assert copy.stop() == 0
        bad = copy.cli("audit", "verify", "--db", copy.db, "--keys-dir", copy.keys, check=False)
        assert bad.returncode == 1 and f"seq {seq}" in bad.stdout, bad.stdout

    def stop_and_verify(self):
        assert self.env.stop() == 0, "exit status"
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0 and " 0 violation(s)" in r.stdout, r.stdout + r.stderr
        missing = [m for m in self.env.spec.unexercised("/v1/admin/")
                   if any(p in m for p in ("/sessions", "/notes", "/rounds", "/totp/reset",
                                           "/audit/verify"))
                   and "/sessions/revoke" not in m  # test_admin.py's sessions_revoke
                   and "/rounds/{round}/void" not in m  # test_games.py's staff_void
                   and "/rounds/{round}/settle" not in m]  # test_games.py's stuck_settling
        assert not missing, "\n".join(missing)


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_backoffice_people.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: two brands, support / finance of alpha, support of beta, players", run.setup),
        ("sessions: two logins with different User-Agents, devices, newest first, masking "
         "without pii.read, pages, revoked after a block, bad input", run.sessions),
        ("notes: validation writes nothing, append-only, pages, audited with the note in the "
         "same transaction, players.write needed", run.notes),
        ("names: optional at registration, trimmed, 1..100 characters, in the profile",
         run.names),
        ("search: every sort both ways over pages of 1-3 (no gaps, no repeats, ties by id), "
         "balance ranges, q by id / email / name, exact balances per row, masking and q without "
         "pii.read, scope, bad input and foreign cursors refused", run.search),
        ("at rest: player_pii holds the names and date of birth sealed (e1:), never in the "
         "clear; the email stays clear; keys/pii.key is 0600, 32 bytes", run.at_rest),
        ("restart: a clear row written with SQL while stopped is sealed at start (logged with "
         "the count), shown and found by name; the next start seals nothing", run.restart),
        ("rounds: in-house and provider rounds merged by time, sums and statuses, every page "
         "size without gaps or repeats, filters, bad input", run.rounds),
        ("brand scope: another brand's player is 404 PLAYER_NOT_FOUND on every new route",
         run.scope),
        ("TOTP reset: reason required, self and foreign refused with nothing written, sessions "
         "end, a one-time password replaces the password (the old one answered as any wrong "
         "one), audited with the reason and no secret, the one-time password works once, then "
         "password change and enrolment; admin by admin",
         run.totp_reset),
        ("audit verify: ok with the entry count and head hash, cached 60 s, fresh=true once per "
         "10 s per member (429 with Retry-After), audit.read needed", run.audit_verify),
        ("audit key rotation: stopped, rotate-key, started again: the server trusts the "
         "retired key up to the head it signed, and the chain verifies", run.key_rotation),
        ("stop; ledger verify and audit verify pass; every new route answered 2xx and 4xx",
         run.stop_and_verify),
        ("a tampered copy of the database: GET /v1/admin/audit/verify says ok=false naming the "
         "changed entry (and so does `pitboss audit verify`)", run.tampered),
    ]
    tap = Tap(len(cases))
    try:
        for name, fn in cases:
            tap.case(name, fn)
    finally:
        env.cleanup()
        if getattr(run, "tamper_env", None):
            run.tamper_env.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
