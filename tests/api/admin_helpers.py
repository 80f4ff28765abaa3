"""admin_helpers.py — what the staff API tests (test_admin.py, test_rbac.py) share.

- Env: one temporary directory with the database and keys; starts and stops
  `pitboss serve` on it (harness.Server with --db/--keys-dir pointing there),
  so a test can stop the server, run a tool on the database, and start again.
- Client: HTTP from a chosen loopback source address (127.0.0.N). identity
  limits logins per client IP (a burst of 20, then one per 3 s); giving each
  staff member their own address keeps those limits out of the way of tests
  that are not about them. Every answer of a documented route is checked
  against docs/openapi.yaml (status documented, content type, JSON Schema
  2020-12 of the body, ErrorCode status).
- TOTP (RFC 6238, SHA-1, 6 digits, 30 s) computed from the otpauth:// URI, and
  Staff: a member's credentials, session and last used TOTP step. identity
  accepts a code of step now-1, now or now+1, but only a step above the last one
  used: enrolment confirms with step S and the first login uses S+1 at once.
- fingerprint(db): a digest of every row of the identity, tenancy, audit and
  ledger tables, to show that a refused request wrote nothing (audit checkpoints
  are left out: the server's timer signs them whenever one is due).

Standard library plus python3-yaml and python3-jsonschema (Debian's /usr/bin/python3).
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time
import urllib.parse

import jsonschema
import yaml

from harness import Response, Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OTPAUTH = re.compile(r"^otpauth://totp/pitboss:(?P<account>[^?]+)\?secret=(?P<secret>[A-Z2-7]{32})"
                     r"&issuer=pitboss&algorithm=SHA1&digits=6&period=30$")
FINGERPRINT_TABLES = ("brand", "brand_currency", "player", "player_pii", "staff", "staff_brand",
                      "auth_session", "auth_refresh", "audit_entry", "ledger_account",
                      "ledger_transfer")


# ---- TOTP ---------------------------------------------------------------

def totp(secret, step):
    """The 6-digit RFC 6238 code of a base32 secret at a 30-second step."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def step_now():
    return int(time.time()) // 30


# ---- the OpenAPI document ------------------------------------------------

class Spec:
    """docs/openapi.yaml and response validation against it."""

    def __init__(self):
        with open(os.path.join(ROOT, "docs/openapi.yaml"), encoding="utf-8") as f:
            # libyaml's safe loader when python3-yaml has it: the same document, read
            # ~5x faster (pure Python takes ~0.6 s of CPU for it, once per suite)
            self.doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        self.resolver = jsonschema.RefResolver("", self.doc)
        self.statuses = self.doc["components"]["schemas"]["ErrorCode"]["x-pitboss-http-status"]
        self.checked = 0
        self.seen = set()  # (METHOD, pattern, "2xx" / "4xx" / …) of every checked answer

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def validate(self, instance, schema):
        jsonschema.Draft202012Validator(schema, resolver=self.resolver).validate(instance)

    def schema(self, name):
        return {"$ref": "#/components/schemas/" + name}

    def operation(self, method, path):
        """(pattern, operation) documented for a concrete path, or (None, None)."""
        path = path.split("?", 1)[0]
        for pattern, ops in self.doc["paths"].items():
            regex = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(pattern)) + "$"
            if re.match(regex, path) and method.lower() in ops:
                return pattern, ops[method.lower()]
        return None, None

    def check(self, method, path, r):
        """Raises AssertionError unless r is a documented answer of the operation."""
        if r.status == 405:  # a method the path does not have: not an operation
            return
        pattern, op = self.operation(method if method != "HEAD" else "GET", path)
        assert op is not None, f"{method} {path}: not in openapi.yaml"
        spec = op["responses"].get(str(r.status)) or op["responses"].get("default")
        assert spec is not None, f"{method} {pattern}: status {r.status} not documented"
        spec = self.deref(spec)
        ctype = (r.header("content-type") or "").split(";")[0].strip()
        content = spec.get("content", {})
        assert ctype in content, f"{method} {pattern} {r.status}: {ctype} not in {list(content)}"
        if ctype == "application/json" and method != "HEAD":
            body = r.json()
            try:
                self.validate(body, self.deref(content[ctype]["schema"]))
            except jsonschema.ValidationError as e:
                raise AssertionError(f"{method} {pattern} {r.status}: {e.message} in "
                                     f"{list(e.absolute_path)}: {str(body)[:400]}") from None
            if "error" in body:
                code = body["error"]["code"]
                assert self.statuses[code] == r.status, f"{code} answered with {r.status}"
        for name, h in spec.get("headers", {}).items():
            value = r.header(name)
            assert value is not None, f"{method} {pattern} {r.status}: header {name} missing"
            jsonschema.Draft202012Validator(self.deref(h)["schema"]).validate(value)
        self.checked += 1
        self.seen.add((method.upper(), pattern, f"{r.status // 100}xx"))

    def unexercised(self, prefix, exclude=()):
        """Operations under prefix (but under none of the exclude prefixes) without
        both a validated 2xx and a validated 4xx answer."""
        missing = []
        for pattern, ops in self.doc["paths"].items():
            if any(pattern.startswith(x) for x in exclude):
                continue
            for m in ops:
                if pattern.startswith(prefix) and m in ("get", "post", "put", "patch", "delete"):
                    for cls in ("2xx", "4xx"):
                        if (m.upper(), pattern, cls) not in self.seen:
                            missing.append(f"{m.upper()} {pattern}: no {cls} answer checked")
        return missing


# ---- the server and its files --------------------------------------------

class Env:
    """A temporary directory with the database and keys, and the server on them."""

    def __init__(self, binary, fixture=None):
        self.binary = binary
        self.fixture = fixture
        self.dir = tempfile.mkdtemp(prefix="pbadmin.")
        self.db = os.path.join(self.dir, "pitboss.db")
        self.keys = os.path.join(self.dir, "keys")
        self.srv = None
        self.spec = Spec()

    def start(self, *extra_args):
        self.srv = Server(self.binary, extra_args=["--db", self.db, "--keys-dir", self.keys,
                                                   *extra_args])
        return self.srv

    def stop(self):
        """SIGTERM; the exit status."""
        rc = self.srv.stop()
        shutil.rmtree(self.srv.dir, ignore_errors=True)
        return rc

    def cleanup(self):
        if self.srv:
            self.srv.kill()
            shutil.rmtree(self.srv.dir, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args, check=True):
        """Runs `pitboss ARGS` (with this database and keys); CompletedProcess."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
        env["PITBOSS_DB"] = self.db
        env["PITBOSS_KEYS_DIR"] = self.keys
        r = subprocess.run([self.binary, *args], capture_output=True, text=True, env=env,
                           timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"pitboss {' '.join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def bootstrap_admin(self, email):
        """`pitboss admin create`: the first admin's one-time password."""
        out = self.cli("admin", "create", "--email", email, "--db", self.db).stdout
        return re.search(r"one-time password: (\S+)", out).group(1)

    def ledger_fixture(self, brand, player_id, currency):
        """Stops the server, puts money on the player's accounts, starts it again.
        {"cash": id, "bonus": id, "house": id}."""
        rc = self.stop()
        assert rc == 0, f"server exit status {rc}"
        r = subprocess.run([self.fixture, self.db, brand, "player:" + player_id, currency],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        self.start()
        return json.loads(r.stdout)

    def rows(self, sql, *args):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()


TRANSFER_PENDING, TRANSFER_POST, TRANSFER_VOID = 1 << 1, 1 << 2, 1 << 3


def live_balances(db):
    """Every account's counters as the ledger has them, sorted by account:
    (account_id, debits_pending, debits_posted, credits_pending, credits_posted).
    The writer writes balance rows back lazily, so a row is its account's state as
    of the row's last_seq; the transfers above it are applied here (the way the
    ledger replays its log), which makes two snapshots equal exactly when no money
    moved between them, whenever the rows were written back."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        con.execute("BEGIN")  # one snapshot for the rows and the transfers
        rows = {r[0]: list(r[1:]) for r in con.execute(
            "SELECT account_id, debits_pending, debits_posted, credits_pending, credits_posted, "
            "last_seq FROM ledger_balance")}
        held = {}
        for seq, tid, dr, cr, amount, flags, pid in con.execute(
                "SELECT seq, id, debit_account_id, credit_account_id, amount, flags, pending_id "
                "FROM ledger_transfer ORDER BY seq"):
            if flags & TRANSFER_PENDING:
                held[tid] = amount
            for acct, side in ((dr, 0), (cr, 2)):
                r = rows[acct]
                if seq <= r[4]:
                    continue
                if flags & TRANSFER_PENDING:
                    r[side] += amount
                elif flags & (TRANSFER_POST | TRANSFER_VOID):
                    r[side] -= held[pid]
                    if flags & TRANSFER_POST:
                        r[side + 1] += amount
                else:
                    r[side + 1] += amount
                r[4] = seq
        return sorted((k, *v[:4]) for k, v in rows.items())
    finally:
        con.close()


def account_balance(db, brand, owner, kind, currency):
    """The posted balance (credits - debits, minor units) of the ledger account
    (brand, owner, kind, currency) as the ledger has it now (live_balances), and its
    id; (None, None) when it does not exist."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute("SELECT id FROM ledger_account WHERE brand=? AND owner=? AND kind=? "
                          "AND currency=?", (brand, owner, kind, currency)).fetchone()
    finally:
        con.close()
    if row is None:
        return None, None
    for acct, _dp, dposted, _cp, cposted in live_balances(db):
        if acct == row[0]:
            return cposted - dposted, acct
    raise AssertionError(f"account {row[0]} has no balance row")


def unclaimed_records(db, player):
    """The audit entries (after, as a dict, with actor and trace) and the events
    (payload as a dict) "funds.unclaimed" of a player, oldest first."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        audit = [dict(json.loads(a), actor=f"{k}:{i}", brand=b) for k, i, b, a in con.execute(
            "SELECT actor_kind, actor_id, brand, after FROM audit_entry WHERE "
            "action='funds.unclaimed' AND target_kind='player' AND target_id=? ORDER BY seq",
            (player,))]
        events = [dict(json.loads(p), brand=b) for b, p in con.execute(
            "SELECT brand, payload FROM event_outbox WHERE type='funds.unclaimed' AND subject=? "
            "ORDER BY id", (player,))]
    finally:
        con.close()
    return audit, events


def _age_request(db, table, rid, us):
    con = sqlite3.connect(db, timeout=30)
    with con:
        con.execute(f"UPDATE {table} SET requested_at = requested_at - ? WHERE public_id=?",
                    (us, rid))
    con.close()


def age_adjustment(db, rid, us):
    """Moves an adjustment request's requested_at back by us microseconds (forward when
    negative), as if it had been made then."""
    _age_request(db, "adjustment_request", rid, us)


def age_settlement(db, rid, us):
    """The same for an unclaimed-funds settlement request."""
    _age_request(db, "unclaimed_settlement_request", rid, us)


def fingerprint(db):
    """A digest of every row of the tables a staff request could write, with the counts."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        h = hashlib.sha256()
        counts = {}
        for t in FINGERPRINT_TABLES:
            rows = sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            counts[t] = len(rows)
            h.update(repr((t, rows)).encode())
        return h.hexdigest(), counts
    finally:
        con.close()


# ---- HTTP ----------------------------------------------------------------

class Client:
    """Requests to env's current server from one loopback source address."""

    def __init__(self, env, source_ip):
        self.env = env
        self.ip = source_ip

    def call(self, method, path, body=None, token=None, raw=None, headers=None, check=True):
        """One request. body: JSON-encoded; raw: bytes sent as is (Content-Type
        application/json unless headers say otherwise). The answer is checked
        against the OpenAPI document unless check is False."""
        srv = self.env.srv
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = "Bearer " + token
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=60,
                                       source_address=(self.ip, 0))
        try:
            c.request(method, path, body=data, headers=h)
            resp = c.getresponse()
            r = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            c.close()
        if check:
            self.env.spec.check(method, path, r)
        return r


def expect(r, status, code=None):
    """Asserts the status (and error code) of an answer."""
    got = r.json()["error"]["code"] if r.status >= 400 and r.body else None
    assert r.status == status and (code is None or got == code), \
        f"want {status} {code or ''}, got {r.status} {got}: {r.body[:300]!r}"
    return r.json() if r.body and (r.header("content-type") or "").startswith("application/json") else None


def qs(**params):
    """A query string of the non-None parameters."""
    p = {k: v for k, v in params.items() if v is not None}
    return ("?" + urllib.parse.urlencode(p)) if p else ""


# ---- staff ---------------------------------------------------------------

class Staff:
    """A staff member as a test drives them: credentials, session, TOTP state."""

    def __init__(self, env, email, password, ip):
        self.env = env
        self.email = email
        self.password = password
        self.client = Client(env, ip)
        self.id = None
        self.secret = None
        self.last_step = -1
        self.token = None
        self.refresh_token = None
        self.expires = 0.0

    def call(self, method, path, body=None, **kw):
        """A request with this member's access token (refreshed when close to expiry)."""
        if self.refresh_token and time.time() > self.expires - 60:
            self.refresh()
        return self.client.call(method, path, body, token=self.token, **kw)

    def _take(self, t):
        self.token = t["access_token"]
        self.refresh_token = t["refresh_token"]
        self.id = t["staff_id"]
        self.expires = time.time() + 290  # staff access tokens live 300 s

    def refresh(self):
        t = expect(self.client.call("POST", "/v1/admin/refresh",
                                    {"refresh_token": self.refresh_token}), 200)
        self._take(t)

    def next_step(self):
        """A TOTP step identity accepts now and this member has not used (waits if needed)."""
        while True:
            now = step_now()
            step = max(self.last_step + 1, now)
            if step <= now + 1:
                return step
            time.sleep(30 - time.time() % 30 + 0.2)

    def login(self, totp_code=True):
        """Logs in (with a fresh code when enrolled); the raw answer."""
        body = {"email": self.email, "password": self.password}
        step = None
        if self.secret and totp_code:
            step = self.next_step()
            body["totp"] = totp(self.secret, step)
        r = self.client.call("POST", "/v1/admin/login", body)
        if r.status == 200:
            if step is not None:
                self.last_step = step
            self._take(r.json())
        return r

    def activate(self, new_password):
        """First login with the one-time password, password change, TOTP enrolment
        and confirmation, then a full login."""
        t = expect(self.login(), 200)
        assert t["scope"] == "setup" and t["totp_enrollment_required"], t
        expect(self.call("POST", "/v1/admin/password",
                         {"current": self.password, "new": new_password}), 200)
        self.password = new_password
        self.enroll()
        t = expect(self.login(), 200)
        assert t["scope"] == "full", t
        return self

    def enroll(self):
        """TOTP enrolment and confirmation in the current (setup) session."""
        e = expect(self.call("POST", "/v1/admin/totp/enroll"), 200)
        m = OTPAUTH.match(e["otpauth_uri"])
        assert m and m.group("secret") == e["secret"], e
        self.secret = e["secret"]
        self.last_step = -1
        step = self.next_step()
        expect(self.call("POST", "/v1/admin/totp/confirm", {"code": totp(self.secret, step)}), 200)
        self.last_step = step
        return e


def create_staff(env, creator, email, role, ip, brands=None, all_brands=False):
    """POST /v1/admin/staff by creator; a Staff holding the one-time password."""
    body = {"email": email, "role": role}
    if all_brands:
        body["all_brands"] = True
    if brands:
        body["brands"] = brands
    r = expect(creator.call("POST", "/v1/admin/staff", body), 201)
    s = Staff(env, email, r["one_time_password"], ip)
    s.id = r["staff"]["id"]
    return s


def register_player(client, brand, email, country="MT", dob="1990-01-01", currency=None,
                    password="Player-pass-77"):
    """POST /v1/player/register; the player's public id."""
    body = {"brand": brand, "email": email, "password": password, "country": country,
            "date_of_birth": dob}
    if currency:
        body["currency"] = currency
    r = client.call("POST", "/v1/player/register", body, check=False)
    assert r.status == 201, r
    return r.json()["player"]["id"]
