#!/usr/bin/python3
"""test_player.py PATH/TO/pitboss — API tests of the player door (/v1/player/…) and
the public key set, against a real `pitboss serve` with a fresh SQLite database
(speaks TAP).

The brand "demo" (EUR, USD; MT) is created with `pitboss brand create` before the
server starts. Every response is validated against docs/openapi.yaml (JSON Schema
2020-12; errors also against their code's status). Each scenario talks from its
own loopback address (127.0.1.x) so that the per-IP rate limits of one do not
reach the others.

Covers: register / login / profile / wallet / sessions; age 18 today accepted and
a day short refused; duplicate email; the other registration refusals; the JWK
Set verifying a real token; forged tokens (a flipped signature character, a
changed claim, alg none, HS256 keyed with the public key, an unknown kid, a
foreign key under our kid, a staff-audience token signed with our own key) and
an expired one (a server whose player tokens live 1 s); player tokens on staff
routes and a real staff token on player routes; refresh rotation and reuse detection (the newest token of the family
dies too); logout; revoking a device; a blocked player; lockout after 5 wrong
passwords; per-IP rate limits on login and on registration; bad input on every
player route (malformed JSON, wrong types, unknown and missing fields, oversize
body and field, huge numbers, invalid UTF-8, wrong media type) refused with its
stable code and nothing written (the database fingerprint, read through a
read-only SQLite connection, is unchanged); SIGTERM exits 0.

Run with Debian's /usr/bin/python3 (python3-yaml, python3-jsonschema,
python3-cryptography).
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import jsonschema
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Response, Server, Tap, binary_from_argv, parse_raw_response  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = binary_from_argv()
PASSWORD = "correct horse battery"
JSON = {"Content-Type": "application/json"}


# ---- the OpenAPI document -------------------------------------------------------

class Spec:
    """docs/openapi.yaml and validation of responses against it."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.resolver = jsonschema.RefResolver("", self.doc)

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def check(self, pattern, method, r):
        """r matches the operation's documented response for its status."""
        op = self.doc["paths"][pattern][method.lower()]
        spec = op["responses"].get(str(r.status))
        assert spec is not None, f"{method} {pattern}: status {r.status} not documented: {r}"
        spec = self.deref(spec)
        for name, h in spec.get("headers", {}).items():
            value = r.header(name)
            assert value is not None, f"{method} {pattern} {r.status}: header {name} missing"
            jsonschema.Draft202012Validator(self.deref(h)["schema"]).validate(value)
        content = spec.get("content")
        if not content:
            assert r.body == b"", f"{method} {pattern} {r.status}: a body where none is documented"
            return
        ctype = (r.header("content-type") or "").split(";")[0].strip()
        assert ctype in content, f"{method} {pattern} {r.status}: content type {ctype}"
        schema = self.deref(content[ctype]["schema"])
        body = r.json()
        jsonschema.Draft202012Validator(schema, resolver=self.resolver).validate(body)
        if "error" in body:
            statuses = self.doc["components"]["schemas"]["ErrorCode"]["x-pitboss-http-status"]
            code = body["error"]["code"]
            assert statuses[code] == r.status, f"{code} answered with {r.status}"

    def validate(self, instance, name):
        schema = {"$ref": "#/components/schemas/" + name}
        jsonschema.Draft202012Validator(schema, resolver=self.resolver).validate(instance)


SPEC = Spec(os.path.join(ROOT, "docs/openapi.yaml"))


# ---- JWTs -----------------------------------------------------------------------

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, s = token.split(".")
    return json.loads(b64u_dec(h)), json.loads(b64u_dec(p)), s


def es256_sign(key, header, claims):
    """A compact JWS signed with an EC private key (r || s, as JWS wants)."""
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64u(json.dumps(claims, separators=(",", ":")).encode()))
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def server_key(keys_dir, kid):
    """The server's own signing key, read from its keys directory."""
    with open(os.path.join(keys_dir, kid + ".pem"), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


# ---- the run --------------------------------------------------------------------

class Ctx:
    """The server under test and what the cases share."""

    def __init__(self, srv, db):
        self.srv = srv
        self.db = db
        self.ip_next = 1
        self.n_email = 0

    def ip(self):
        """A loopback address of its own for a scenario (its own rate-limit buckets)."""
        self.ip_next += 1
        return f"127.0.1.{self.ip_next}"

    def email(self, tag):
        self.n_email += 1
        return f"{tag}{self.n_email}@example.org"

    def call(self, method, path, pattern=None, body=None, token=None, ip="127.0.1.1",
             headers=None, raw=None):
        """One request from `ip`; body is JSON-encoded (raw: bytes as they are). The
        response is checked against the document (pattern defaults to the path)."""
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = "Bearer " + token
        if data is not None and len(data) > 1024 * 1024:
            resp = self.announce_only(method, path, h, len(data), ip)
            SPEC.check(pattern or path, method, resp)
            return resp
        conn = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=60,
                                          source_address=(ip, 0))
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()
        SPEC.check(pattern or path, method, resp)
        return resp

    def announce_only(self, method, path, headers, length, ip):
        """Sends only the headers of an oversize body: the server answers at once."""
        head = f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        s = socket.create_connection((self.srv.host, self.srv.port), timeout=30,
                                     source_address=(ip, 0))
        try:
            s.sendall(head.encode("latin-1"))
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        status, hdrs, body = parse_raw_response(data)
        return Response(status, hdrs, body)

    def register(self, email, ip="127.0.1.1", **over):
        body = {"brand": "demo", "email": email, "password": PASSWORD, "country": "MT",
                "date_of_birth": "1990-05-17", "currency": "EUR"}
        body.update(over)
        return self.call("POST", "/v1/player/register", body=body, ip=ip)

    def login(self, email, password=PASSWORD, ip="127.0.1.1", device=None):
        body = {"brand": "demo", "email": email, "password": password}
        if device:
            body["device"] = device
        return self.call("POST", "/v1/player/login", body=body, ip=ip)

    def player(self, tag, ip="127.0.1.1", device=None):
        """A new registered player, logged in: (email, tokens)."""
        email = self.email(tag)
        r = self.register(email, ip=ip)
        assert r.status == 201, r
        r = self.login(email, ip=ip, device=device)
        assert r.status == 200, r
        return email, r.json()

    def refresh(self, token, ip="127.0.1.1"):
        return self.call("POST", "/v1/player/refresh", body={"refresh_token": token}, ip=ip)

    def fingerprint(self):
        """Every row of the tables a player request may write, read-only."""
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            out = []
            for table in ("player", "player_pii", "auth_session", "auth_refresh", "brand",
                          "ledger_account", "ledger_transfer"):
                out.append((table, con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()))
            return out
        finally:
            con.close()

    def counts(self):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                         for t in ("player", "auth_session"))
        finally:
            con.close()


def expect_error(r, status, code, field=None):
    assert r.status == status, r
    err = r.json()["error"]
    assert err["code"] == code, r
    if field is not None:
        assert err.get("field") == field, r
    return err


def main():
    tap = Tap(len(CASES))
    work = tempfile.mkdtemp(prefix="pbplayer.")
    db = os.path.join(work, "pitboss.db")
    srv = None
    try:
        out = subprocess.run([BIN, "brand", "create", "--code", "demo", "--name", "Demo",
                              "--currency", "EUR", "--currencies", "EUR,USD",
                              "--jurisdiction", "MT", "--db", db],
                             capture_output=True, timeout=60)
        if out.returncode != 0:
            print(f"Bail out! pitboss brand create: {out.stderr.decode()}")
            sys.exit(1)
        out = subprocess.run([BIN, "admin", "create", "--email", "staff@example.org", "--db", db],
                             capture_output=True, timeout=60)
        otp = re.search(r"one-time password: (\S+)", out.stdout.decode())
        if out.returncode != 0 or not otp:
            print(f"Bail out! pitboss admin create: {out.stderr.decode()}")
            sys.exit(1)
        STATE["staff_otp"] = otp.group(1)
        # the second --db wins: the server runs on the database that holds the brand
        srv = Server(BIN, extra_args=["--db", db])
        ctx = Ctx(srv, db)
        staff = staff_route_table()
        for name, fn in CASES:
            if fn is player_token_on_staff_routes and not staff:
                tap.ok(True, name + " # SKIP the route table has no staff route yet")
                continue
            if fn is staff_token_on_player_routes and not any(
                    r["name"] == "admin.login" for r in ROUTES):
                tap.ok(True, name + " # SKIP there is no staff login route yet")
                continue
            tap.case(name, lambda fn=fn: fn(ctx))
    finally:
        if srv:
            srv.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(tap.done())


# ---- cases: the happy path ------------------------------------------------------

STATE = {}


def happy_register(ctx):
    email = ctx.email("Alice.")
    r = ctx.register(email)
    assert r.status == 201, r
    assert r.header("location") == "/v1/player/profile", r
    p = r.json()["player"]
    assert p["email"] == email.lower() and p["brand"] == "demo" and p["country"] == "MT", p
    assert p["date_of_birth"] == "1990-05-17" and p["currency"] == "EUR", p
    assert p["status"] == "active", p
    assert b"password" not in r.body and PASSWORD.encode() not in r.body, r
    STATE["alice"] = (email, p)


def happy_login(ctx):
    email, p = STATE["alice"]
    r = ctx.login(email, device="Alice's phone")
    assert r.status == 200, r
    t = r.json()
    assert t["token_type"] == "Bearer" and 0 < t["expires_in"] <= 900, t
    assert t["player_id"] == p["id"], t
    header, claims, _ = jwt_parts(t["access_token"])
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt" and header["kid"], header
    assert claims["sub"] == p["id"] and claims["sid"] == t["session_id"], claims
    assert claims["brand"] == "demo" and claims["kind"] == "player", claims
    assert not any(PASSWORD in l for l in ctx.srv.logs), "the password reached the log"
    assert not any(t["refresh_token"] in l for l in ctx.srv.logs), "a token reached the log"
    STATE["alice_tokens"] = t


def happy_profile(ctx):
    email, p = STATE["alice"]
    r = ctx.call("GET", "/v1/player/profile", token=STATE["alice_tokens"]["access_token"])
    assert r.status == 200, r
    assert r.json() == p, (r.json(), p)


def happy_wallet(ctx):
    r = ctx.call("GET", "/v1/player/wallet", token=STATE["alice_tokens"]["access_token"])
    assert r.status == 200, r
    assert r.json() == {"currency": "EUR", "cash": "0.00", "bonus": "0.00", "held": "0.00",
                        "withdrawable": "0.00", "total": "0.00"}, r


def happy_sessions(ctx):
    email, _ = STATE["alice"]
    second = ctx.login(email, device="Alice's laptop").json()
    r = ctx.call("GET", "/v1/player/sessions", token=STATE["alice_tokens"]["access_token"])
    assert r.status == 200, r
    sessions = r.json()["sessions"]
    assert len(sessions) == 2, sessions
    by_id = {s["id"]: s for s in sessions}
    mine = by_id[STATE["alice_tokens"]["session_id"]]
    other = by_id[second["session_id"]]
    assert mine["current"] is True and other["current"] is False, sessions
    assert mine["device"] == "Alice's phone" and other["device"] == "Alice's laptop", sessions
    assert mine["ip"] == "127.0.1.1", sessions
    assert sessions[0]["id"] == second["session_id"], "newest first"
    STATE["alice_second"] = second


def jwks_verifies_token(ctx):
    r = ctx.call("GET", "/.well-known/jwks.json")
    assert r.status == 200, r
    keys = r.json()["keys"]
    token = STATE["alice_tokens"]["access_token"]
    header, _, sig = jwt_parts(token)
    jwk = next((k for k in keys if k["kid"] == header["kid"]), None)
    assert jwk, (header, keys)
    pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64u_dec(jwk["x"]), "big"),
                                        int.from_bytes(b64u_dec(jwk["y"]), "big"),
                                        ec.SECP256R1()).public_key()
    raw = b64u_dec(sig)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    pub.verify(der, token.rsplit(".", 1)[0].encode(), ec.ECDSA(hashes.SHA256()))
    assert b"\"d\"" not in r.body, "a private key part is published"


# ---- registration rules ---------------------------------------------------------

def years_ago(today, years):
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a common year: that birthday is 1 March
        return today.replace(year=today.year - years, month=3, day=1)


def age_boundary(ctx):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    eighteen = years_ago(today, 18)
    r = ctx.register(ctx.email("adult"), date_of_birth=eighteen.isoformat())
    assert r.status == 201, r
    before = ctx.counts()
    r = ctx.register(ctx.email("minor"), date_of_birth=(eighteen + datetime.timedelta(days=1)).isoformat())
    expect_error(r, 422, "AGE_RESTRICTED", "date_of_birth")
    assert ctx.counts() == before


def duplicate_email(ctx):
    email, _ = STATE["alice"]
    before = ctx.fingerprint()
    r = ctx.register(email.upper())
    expect_error(r, 409, "EMAIL_TAKEN", "email")
    assert ctx.fingerprint() == before, "a refused registration wrote something"


def registration_refusals(ctx):
    before = ctx.fingerprint()
    for over, status, code, field in (
            ({"password": "short"}, 422, "PASSWORD_WEAK", "password"),
            ({"password": "1234567890123"}, 422, "PASSWORD_WEAK", "password"),
            ({"country": "XX"}, 422, "COUNTRY_INVALID", "country"),
            ({"country": "mt"}, 422, "COUNTRY_INVALID", "country"),
            ({"currency": "GBP"}, 422, "CURRENCY_NOT_ALLOWED", "currency"),
            ({"currency": "ZZZ"}, 422, "CURRENCY_UNKNOWN", "currency"),
            ({"brand": "nope"}, 404, "BRAND_NOT_FOUND", "brand"),
            ({"email": "not-an-email"}, 422, "FIELD_INVALID", "email"),
            ({"date_of_birth": "1990-02-30"}, 422, "FIELD_INVALID", "date_of_birth"),
            ({"date_of_birth": "17/05/1990"}, 422, "FIELD_INVALID", "date_of_birth")):
        over = dict(over)
        email = over.pop("email", ctx.email("refused"))
        expect_error(ctx.register(email, ip=ctx.ip(), **over), status, code, field)
    assert ctx.fingerprint() == before, "a refused registration wrote something"
    # the currency is optional: the brand's default
    r = ctx.call("POST", "/v1/player/register", body={
        "brand": "demo", "email": ctx.email("default-cur"), "password": PASSWORD,
        "country": "DE", "date_of_birth": "1985-01-01"}, ip=ctx.ip())
    assert r.status == 201 and r.json()["player"]["currency"] == "EUR", r
    r = ctx.register(ctx.email("usd"), ip=ctx.ip(), currency="USD")
    assert r.status == 201 and r.json()["player"]["currency"] == "USD", r


# ---- tokens ---------------------------------------------------------------------

def expect_bad_token(ctx, token, code="TOKEN_INVALID", path="/v1/player/profile"):
    r = ctx.call("GET", path, token=token)
    expect_error(r, 401, code)
    assert 'error="invalid_token"' in (r.header("www-authenticate") or ""), r


def no_or_garbled_header(ctx):
    token = STATE["alice_tokens"]["access_token"]
    r = ctx.call("GET", "/v1/player/wallet")
    expect_error(r, 401, "UNAUTHENTICATED")
    assert r.header("www-authenticate") == 'Bearer realm="pitboss"', r
    for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", token, "Bearer " + token + " x",
                  "Bearer tok\u00e9n".encode("utf-8").decode("latin-1"), "Token " + token):
        r = ctx.call("GET", "/v1/player/wallet", headers={"Authorization": value})
        expect_error(r, 401, "UNAUTHENTICATED")
    r = ctx.call("GET", "/v1/player/wallet", headers={"Authorization": "bearer " + token})
    assert r.status == 200, "the scheme is case-insensitive (RFC 7235)"


def tampered_signature(ctx):
    token = STATE["alice_tokens"]["access_token"]
    head, _, sig = token.rpartition(".")
    i = len(sig) // 2
    flipped = sig[:i] + ("A" if sig[i] != "A" else "B") + sig[i + 1:]
    expect_bad_token(ctx, head + "." + flipped)
    expect_bad_token(ctx, head + ".")
    expect_bad_token(ctx, head)


def tampered_claims(ctx):
    token = STATE["alice_tokens"]["access_token"]
    h, p, s = token.split(".")
    claims = json.loads(b64u_dec(p))
    claims["sub"] = str(uuid.uuid4())
    expect_bad_token(ctx, h + "." + b64u(json.dumps(claims).encode()) + "." + s)


def alg_none(ctx):
    token = STATE["alice_tokens"]["access_token"]
    _, p, _ = token.split(".")
    for header in ({"alg": "none"}, {"alg": "none", "typ": "at+jwt"},
                   {"alg": "none", "kid": jwt_parts(token)[0]["kid"], "typ": "at+jwt"}):
        forged = b64u(json.dumps(header).encode()) + "." + p + "."
        expect_bad_token(ctx, forged)


def alg_hs256_with_public_key(ctx):
    token = STATE["alice_tokens"]["access_token"]
    header, _, _ = jwt_parts(token)
    jwk = next(k for k in ctx.call("GET", "/.well-known/jwks.json").json()["keys"]
               if k["kid"] == header["kid"])
    pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64u_dec(jwk["x"]), "big"),
                                        int.from_bytes(b64u_dec(jwk["y"]), "big"),
                                        ec.SECP256R1()).public_key()
    pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _, p, _ = token.split(".")
    h = b64u(json.dumps({"alg": "HS256", "kid": header["kid"], "typ": "at+jwt"}).encode())
    mac = hmac.new(pem, (h + "." + p).encode(), hashlib.sha256).digest()
    expect_bad_token(ctx, h + "." + p + "." + b64u(mac))


def unknown_kid_and_foreign_key(ctx):
    token = STATE["alice_tokens"]["access_token"]
    header, claims, _ = jwt_parts(token)
    foreign = ec.generate_private_key(ec.SECP256R1())
    expect_bad_token(ctx, es256_sign(foreign, dict(header, kid="0123456789abcdef"), claims))
    expect_bad_token(ctx, es256_sign(foreign, header, claims))  # our kid, another key


def own_key_other_audience(ctx):
    """Tokens signed with the server's real key but for the staff audience, or with
    bad claims, are refused on the player API."""
    token = STATE["alice_tokens"]["access_token"]
    header, claims, _ = jwt_parts(token)
    key = server_key(os.path.join(ctx.srv.dir, "keys"), header["kid"])
    # a control: re-signing the same claims with the real key is accepted
    r = ctx.call("GET", "/v1/player/profile", token=es256_sign(key, header, claims))
    assert r.status == 200, r
    staff = dict(claims, aud="pitboss:staff-api", kind="staff", role="admin")
    staff.pop("brand")
    expect_bad_token(ctx, es256_sign(key, header, staff))
    expect_bad_token(ctx, es256_sign(key, header, dict(claims, kind="staff")))
    expect_bad_token(ctx, es256_sign(key, header, dict(claims, iss="someone-else")))
    expect_bad_token(ctx, es256_sign(key, header, dict(claims, sid=str(uuid.uuid4()))))
    now = int(time.time())
    expect_bad_token(ctx, es256_sign(key, header, dict(claims, iat=now - 600, nbf=now - 600,
                                                        exp=now - 60)), code="TOKEN_EXPIRED")
    expect_bad_token(ctx, es256_sign(key, header, dict(claims, iat=now, nbf=now,
                                                        exp=now + 86400)))  # longer than issued


def expired_token(ctx):
    """A server whose player access tokens live 1 s: a real token, expired."""
    work = tempfile.mkdtemp(prefix="pbplayer-ttl.")
    db = os.path.join(work, "ttl.db")
    other = None
    try:
        subprocess.run([BIN, "brand", "create", "--code", "demo", "--name", "Demo", "--currency",
                        "EUR", "--jurisdiction", "MT", "--db", db], capture_output=True,
                       check=True, timeout=60)
        other = Server(BIN, extra_args=["--db", db], env={"PITBOSS_PLAYER_ACCESS_TTL": "1"})
        octx = Ctx(other, db)
        _, t = octx.player("ttl")
        assert t["expires_in"] <= 1, t
        time.sleep(2.2)
        expect_bad_token(octx, t["access_token"], code="TOKEN_EXPIRED")
        r = octx.refresh(t["refresh_token"])  # the session lives on: a refresh brings a new one
        assert r.status == 200, r
        assert jwt_parts(r.json()["access_token"])[1]["exp"] > jwt_parts(t["access_token"])[1]["exp"]
        assert other.stop() == 0
    finally:
        if other:
            other.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def pruned_at_start(ctx):
    """The login tables' pruner runs at start: a session that ended 100 days ago goes with
    its refresh tokens, a token that expired two days ago goes, the live login stays."""
    import sqlite3
    work = tempfile.mkdtemp(prefix="pbplayer-prune.")
    db = os.path.join(work, "prune.db")
    other = None
    try:
        subprocess.run([BIN, "brand", "create", "--code", "demo", "--name", "Demo", "--currency",
                        "EUR", "--jurisdiction", "MT", "--db", db], capture_output=True,
                       check=True, timeout=60)
        args = ["--db", db, "--keys-dir", os.path.join(work, "keys")]  # the token outlives a restart
        other = Server(BIN, extra_args=args)
        octx = Ctx(other, db)
        _, t = octx.player("prune")
        assert other.stop() == 0
        day = 86400 * 1000000
        now = int(time.time() * 1000000)
        con = sqlite3.connect(db)
        try:
            (pid, live), = con.execute("SELECT subject_id, id FROM auth_session").fetchall()
            con.execute("INSERT INTO auth_session (public_id, subject_kind, subject_id, brand_id, "
                        "created_at, last_seen_at, idle_s, expires_at) VALUES "
                        "('old-1', 'player', ?, 1, ?, ?, 1800, ?)",
                        (pid, now - 101 * day, now - 101 * day, now - 100 * day))
            (old,), = con.execute("SELECT id FROM auth_session WHERE public_id='old-1'").fetchall()
            for i, (sid, exp) in enumerate(((old, now - 100 * day), (old, now - 100 * day),
                                            (live, now - 2 * day))):
                con.execute("INSERT INTO auth_refresh (token_hash, family_id, session_id, "
                            "created_at, expires_at) VALUES (?, 'fam-old', ?, ?, ?)",
                            (bytes([i + 1]) * 32, sid, exp - day, exp))
            con.commit()
        finally:
            con.close()
        other = Server(BIN, extra_args=args)
        deadline = time.monotonic() + 10
        while not other.log_events("identity.pruned") and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = other.log_events("identity.pruned")
        assert lines and "3 expired refresh token(s) and 1 session(s)" in lines[0]["msg"], lines
        octx = Ctx(other, db)
        r = octx.call("GET", "/v1/player/profile", token=t["access_token"])
        assert r.status == 200, r  # the live session stays
        assert other.stop() == 0
        con = sqlite3.connect(db)
        try:
            assert con.execute("SELECT count(*) FROM auth_session").fetchone() == (1,)
            assert con.execute("SELECT count(*) FROM auth_refresh WHERE family_id='fam-old'"
                               ).fetchone() == (0,)
            assert con.execute("SELECT count(*) FROM auth_refresh").fetchone() == (1,)
        finally:
            con.close()
    finally:
        if other:
            other.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def route_table():
    out = subprocess.run([BIN, "routes"], capture_output=True, check=True, timeout=30)
    return [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]


ROUTES = route_table()


def staff_route_table():
    """The rows of `pitboss routes` that need a staff session."""
    return [r for r in ROUTES if r["permission"] not in (None, "player")]


def staff_token_on_player_routes(ctx):
    """A real staff access token (the first login's setup session) on the player API."""
    c = http.client.HTTPConnection(ctx.srv.host, ctx.srv.port, timeout=60)
    try:
        c.request("POST", "/v1/admin/login", headers=JSON, body=json.dumps(
            {"email": "staff@example.org", "password": STATE["staff_otp"]}).encode())
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    assert r.status == 200, (r.status, body[:300])
    token = json.loads(body)["access_token"]
    expect_bad_token(ctx, token)
    expect_bad_token(ctx, token, path="/v1/player/wallet")
    r = ctx.call("POST", "/v1/player/logout", token=token)
    expect_error(r, 401, "TOKEN_INVALID")


def player_token_on_staff_routes(ctx):
    token = STATE["alice_tokens"]["access_token"]
    for r in staff_route_table():
        path = re.sub(r"\{[a-z_][a-z0-9_]*\}", str(uuid.uuid4()), r["pattern"])
        c = http.client.HTTPConnection(ctx.srv.host, ctx.srv.port, timeout=30)
        try:
            c.request(r["method"], path, body=b"{}" if r["method"] != "GET" else None,
                      headers=dict(JSON, Authorization="Bearer " + token))
            resp = c.getresponse()
            body = resp.read()
        finally:
            c.close()
        assert resp.status == 401, (r, resp.status, body[:200])
        assert json.loads(body)["error"]["code"] == "TOKEN_INVALID", (r, body[:200])


# ---- sessions -------------------------------------------------------------------

def refresh_rotation_and_reuse(ctx):
    ip = ctx.ip()
    _, t1 = ctx.player("rot", ip=ip)
    r = ctx.refresh(t1["refresh_token"], ip=ip)
    assert r.status == 200, r
    t2 = r.json()
    assert t2["refresh_token"] != t1["refresh_token"] and t2["access_token"] != t1["access_token"]
    assert t2["session_id"] == t1["session_id"], (t1, t2)
    t3 = ctx.refresh(t2["refresh_token"], ip=ip).json()
    assert ctx.call("GET", "/v1/player/profile", token=t3["access_token"], ip=ip).status == 200
    # t1's refresh token was spent: presenting it again revokes the family
    expect_error(ctx.refresh(t1["refresh_token"], ip=ip), 401, "REFRESH_REUSED")
    r = ctx.refresh(t3["refresh_token"], ip=ip)
    assert r.status == 401 and r.json()["error"]["code"] in (
        "REFRESH_REUSED", "SESSION_REVOKED", "TOKEN_INVALID"), r
    expect_bad_token(ctx, t3["access_token"], code="SESSION_REVOKED")
    expect_error(ctx.refresh("pbr_" + "A" * 43, ip=ip), 401, "TOKEN_INVALID")
    expect_error(ctx.refresh("garbage", ip=ip), 401, "TOKEN_INVALID")


def logout(ctx):
    ip = ctx.ip()
    _, t = ctx.player("bye", ip=ip)
    r = ctx.call("POST", "/v1/player/logout", token=t["access_token"], ip=ip)
    assert r.status == 204 and r.body == b"", r
    expect_bad_token(ctx, t["access_token"], code="SESSION_REVOKED")
    r = ctx.call("POST", "/v1/player/logout", token=t["access_token"], ip=ip)
    expect_error(r, 401, "SESSION_REVOKED")
    r = ctx.refresh(t["refresh_token"], ip=ip)
    assert r.status == 401, r
    _, t2 = ctx.player("bye-empty", ip=ip)  # an empty object is accepted as "no body"
    r = ctx.call("POST", "/v1/player/logout", token=t2["access_token"], ip=ip, body={})
    assert r.status == 204, r


def revoke_device(ctx):
    email, _ = STATE["alice"]
    mine, other = STATE["alice_tokens"], STATE["alice_second"]
    # another player's session: not found, and it keeps working
    _, bob = ctx.player("bob", ip=ctx.ip())
    r = ctx.call("DELETE", f"/v1/player/sessions/{bob['session_id']}",
                 pattern="/v1/player/sessions/{id}", token=mine["access_token"])
    expect_error(r, 404, "NOT_FOUND")
    assert ctx.call("GET", "/v1/player/profile", token=bob["access_token"]).status == 200
    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        r = ctx.call("DELETE", f"/v1/player/sessions/{bad}", pattern="/v1/player/sessions/{id}",
                     token=mine["access_token"])
        expect_error(r, 404, "NOT_FOUND")
    r = ctx.call("DELETE", f"/v1/player/sessions/{other['session_id']}",
                 pattern="/v1/player/sessions/{id}", token=mine["access_token"])
    assert r.status == 204, r
    expect_bad_token(ctx, other["access_token"], code="SESSION_REVOKED")
    sessions = ctx.call("GET", "/v1/player/sessions", token=mine["access_token"]).json()["sessions"]
    assert [s["id"] for s in sessions] == [mine["session_id"]], sessions


def blocked_player(ctx):
    ip = ctx.ip()
    email, t = ctx.player("blocked", ip=ip)
    con = sqlite3.connect(ctx.db, timeout=30)  # what support's block does to the row
    try:
        con.execute("UPDATE player SET status = 'blocked' WHERE public_id = ?", (t["player_id"],))
        con.commit()
    finally:
        con.close()
    r = ctx.call("GET", "/v1/player/wallet", token=t["access_token"], ip=ip)
    expect_error(r, 403, "PLAYER_BLOCKED")
    expect_error(ctx.login(email, ip=ip), 403, "PLAYER_BLOCKED")
    expect_error(ctx.refresh(t["refresh_token"], ip=ip), 403, "PLAYER_BLOCKED")


# ---- limits ---------------------------------------------------------------------

def lockout(ctx):
    ip = ctx.ip()
    email = ctx.email("locked")
    assert ctx.register(email, ip=ip).status == 201
    for i in range(4):
        expect_error(ctx.login(email, password="wrong password %d" % i, ip=ip), 401,
                     "CREDENTIALS_INVALID")
    r = ctx.login(email, password="wrong password 5", ip=ip)
    expect_error(r, 423, "ACCOUNT_LOCKED")
    assert 800 <= int(r.header("retry-after")) <= 900, r
    r = ctx.login(email, ip=ip)
    expect_error(r, 423, "ACCOUNT_LOCKED")
    assert int(r.header("retry-after")) > 0, r
    # an unknown email answers as a wrong password does
    expect_error(ctx.login(ctx.email("nobody"), ip=ip), 401, "CREDENTIALS_INVALID")


def login_rate_limit(ctx):
    ip = ctx.ip()
    for i in range(40):
        r = ctx.login(ctx.email("flood"), password="wrong password", ip=ip)
        if r.status == 429:
            break
        expect_error(r, 401, "CREDENTIALS_INVALID")
    else:
        raise AssertionError("40 logins from one IP were never limited")
    assert i >= 19, f"limited after {i} attempts; the burst is 20"
    expect_error(r, 429, "RATE_LIMITED")
    assert 1 <= int(r.header("retry-after")) <= 3, r
    # per IP: another address is not limited
    email, _ = STATE["alice"]
    assert ctx.login(email, ip=ctx.ip()).status == 200


def register_rate_limit(ctx):
    ip = ctx.ip()
    before = ctx.counts()
    for i in range(10):  # refused registrations count too: the limit comes before the checks
        expect_error(ctx.register(ctx.email("spam"), ip=ip, password="weak"), 422, "PASSWORD_WEAK")
    r = ctx.register(ctx.email("spam"), ip=ip)
    expect_error(r, 429, "RATE_LIMITED")
    assert 1 <= int(r.header("retry-after")) <= 60, r
    assert ctx.counts() == before
    assert ctx.register(ctx.email("other-ip"), ip=ctx.ip()).status == 201


# ---- bad input, on every player route -------------------------------------------

BIG = b"{\"brand\":\"" + b"x" * (1024 * 1024 + 10) + b"\"}"
# (raw body, content type, status, code)
COMMON_BAD = [
    (b"{\"brand\":", "application/json", 400, "INVALID_JSON"),
    (b"{\"a\":1,}", "application/json", 400, "INVALID_JSON"),
    (b"{\"x\":\"\xff\xfe\"}", "application/json", 400, "INVALID_UTF8"),
    (b"{\"x\":\"\xed\xa0\x80\"}", "application/json", 400, "INVALID_UTF8"),
    (b"[1,2]", "application/json", 400, "INVALID_REQUEST"),
    (b"\"str\"", "application/json", 400, "INVALID_REQUEST"),
    (b"{\"x\":1}", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (b"{\"x\":123456789012345678901234567890}", "application/json", 422, "FIELD_INVALID"),
    (b"{\"x\":1e999}", "application/json", 422, "FIELD_INVALID"),
    (BIG, "application/json", 413, "PAYLOAD_TOO_LARGE"),
]


def bad_inputs(ctx, method, path, pattern, token, specific):
    """Sends every bad body; each is refused with its code and nothing is written."""
    before = ctx.fingerprint()
    problems = []
    cases = [(raw, ct, st, code, None) for raw, ct, st, code in COMMON_BAD] + specific
    for raw, ctype, status, code, field in cases:
        try:
            r = ctx.call(method, path, pattern=pattern, raw=raw, token=token,
                         headers={"Content-Type": ctype})
            expect_error(r, status, code, field)
        except (AssertionError, OSError, ValueError) as e:
            problems.append(f"{raw[:60]!r}: {e}")
    after = ctx.fingerprint()
    if after != before:
        problems.append("the database changed")
    return not problems or "\n".join(problems)


def j(obj):
    return json.dumps(obj).encode()


REG = {"brand": "demo", "email": "bad-input@example.org", "password": PASSWORD, "country": "MT",
       "date_of_birth": "1990-05-17"}


def without(d, key):
    return {k: v for k, v in d.items() if k != key}


def bad_register(ctx):
    spec = [(j(dict(REG, extra=1)), "application/json", 400, "UNKNOWN_FIELD", "extra"),
            (j(dict(REG, brand=7)), "application/json", 422, "FIELD_INVALID", "brand"),
            (j(dict(REG, email=None)), "application/json", 422, "FIELD_INVALID", "email"),
            (j(dict(REG, password=["x"])), "application/json", 422, "FIELD_INVALID", "password"),
            (j(dict(REG, country=True)), "application/json", 422, "FIELD_INVALID", "country"),
            (j(dict(REG, currency=978)), "application/json", 422, "FIELD_INVALID", "currency"),
            (j(dict(REG, date_of_birth="1990-05-17T00:00:00Z")), "application/json", 422,
             "FIELD_INVALID", "date_of_birth"),
            (j(dict(REG, email="a" * 400 + "@x.org")), "application/json", 422, "FIELD_INVALID", "email"),
            (j(dict(REG, country=99999999999999999999)), "application/json", 422, "FIELD_INVALID", None),
            (b"{\"brand\":\"demo\",\"brand\":\"demo\"}", "application/json", 400, "INVALID_JSON", None)]
    spec += [(j(without(REG, k)), "application/json", 422, "FIELD_MISSING", k)
             for k in ("brand", "email", "password", "country", "date_of_birth")]
    spec.append((b"", "application/json", 400, "INVALID_JSON", None))
    return bad_inputs(ctx, "POST", "/v1/player/register", None, None, spec)


def bad_login(ctx):
    email, _ = STATE["alice"]
    base = {"brand": "demo", "email": email, "password": PASSWORD}
    spec = [(j(dict(base, totp="123456")), "application/json", 400, "UNKNOWN_FIELD", "totp"),
            (j(dict(base, password=12345678901)), "application/json", 422, "FIELD_INVALID", "password"),
            (j(dict(base, device=5)), "application/json", 422, "FIELD_INVALID", "device"),
            (j(dict(base, device="d" * 256)), "application/json", 422, "FIELD_INVALID", "device"),
            (j(dict(base, email="")), "application/json", 422, "FIELD_INVALID", "email")]
    spec += [(j(without(base, k)), "application/json", 422, "FIELD_MISSING", k)
             for k in ("brand", "email", "password")]
    return bad_inputs(ctx, "POST", "/v1/player/login", None, None, spec)


def bad_refresh(ctx):
    spec = [(j({"refresh_token": "x", "device": "y"}), "application/json", 400, "UNKNOWN_FIELD", "device"),
            (j({"refresh_token": 1}), "application/json", 422, "FIELD_INVALID", "refresh_token"),
            (j({"refresh_token": "pbr_" + "A" * 100}), "application/json", 422, "FIELD_INVALID", "refresh_token"),
            (j({}), "application/json", 422, "FIELD_MISSING", "refresh_token")]
    return bad_inputs(ctx, "POST", "/v1/player/refresh", None, None, spec)


def bodyless(method, path, pattern=None):
    """Bad bodies on a route that takes none: the caller's session must survive too."""
    def run(ctx):
        token = STATE["alice_tokens"]["access_token"]
        p = path(ctx) if callable(path) else path
        spec = [(j({"x": 1}), "application/json", 400, "UNKNOWN_FIELD", "x"),
                (j({"": None}), "application/json", 400, "UNKNOWN_FIELD", None)]
        res = bad_inputs(ctx, method, p, pattern, token, spec)
        r = ctx.call("GET", "/v1/player/profile", token=token)
        assert r.status == 200, f"the session did not survive: {r}"
        return res
    return run


def stop_exits_zero(ctx):
    rc = ctx.srv.stop()
    assert rc == 0, f"exit status {rc}; last logs: {ctx.srv.logs[-5:]}"


CASES = [
    ("the login tables' pruner at start: an old session and expired tokens deleted, the live "
     "login kept", pruned_at_start),
    ("register: 201 with the player, never the password", happy_register),
    ("login: 200 with an ES256 access token and a refresh token; no secret logged", happy_login),
    ("profile: the registered player", happy_profile),
    ("wallet: zero balances in the player's currency before money moves", happy_wallet),
    ("sessions: one per device, newest first, the current one marked", happy_sessions),
    ("/.well-known/jwks.json publishes the key that verifies a real token", jwks_verifies_token),
    ("age: 18 today is accepted, one day short is AGE_RESTRICTED", age_boundary),
    ("duplicate email (any case) is 409 EMAIL_TAKEN and writes nothing", duplicate_email),
    ("registration refusals name their field and write nothing", registration_refusals),
    ("missing or garbled Authorization is 401 UNAUTHENTICATED with a challenge", no_or_garbled_header),
    ("a flipped signature character or a cut token is 401 TOKEN_INVALID", tampered_signature),
    ("a changed claim is 401 TOKEN_INVALID", tampered_claims),
    ("alg none (empty signature) is 401 TOKEN_INVALID", alg_none),
    ("HS256 keyed with our public key is 401 TOKEN_INVALID", alg_hs256_with_public_key),
    ("an unknown kid, or another key under our kid, is 401 TOKEN_INVALID", unknown_kid_and_foreign_key),
    ("our own key: staff audience, wrong kind/iss/sid, overlong or expired lifetime refused",
     own_key_other_audience),
    ("a real token past its 1 s lifetime is 401 TOKEN_EXPIRED; refresh still works", expired_token),
    ("refresh rotates; a reused refresh token revokes the family, newest included",
     refresh_rotation_and_reuse),
    ("logout: 204, then the access and refresh tokens are dead (SESSION_REVOKED)", logout),
    ("revoking a device: own sessions only (another's is 404), its token dies", revoke_device),
    ("a blocked player: 403 PLAYER_BLOCKED on routes, login and refresh", blocked_player),
    ("5 wrong passwords lock the account: 423 with Retry-After, right password refused",
     lockout),
    ("logins are rate-limited per IP: 429 RATE_LIMITED with Retry-After", login_rate_limit),
    ("registrations are rate-limited per IP: 429 with Retry-After", register_rate_limit),
    ("bad input on POST /v1/player/register: stable 4xx codes, nothing written", bad_register),
    ("bad input on POST /v1/player/login: stable 4xx codes, nothing written", bad_login),
    ("bad input on POST /v1/player/refresh: stable 4xx codes, nothing written", bad_refresh),
    ("bad input on POST /v1/player/logout: refused, the session survives",
     bodyless("POST", "/v1/player/logout")),
    ("bad input on GET /v1/player/profile: refused, nothing written",
     bodyless("GET", "/v1/player/profile")),
    ("bad input on GET /v1/player/sessions: refused, nothing written",
     bodyless("GET", "/v1/player/sessions")),
    ("bad input on GET /v1/player/wallet: refused, nothing written",
     bodyless("GET", "/v1/player/wallet")),
    ("bad input on DELETE /v1/player/sessions/{id}: refused, the session survives",
     bodyless("DELETE", lambda ctx: f"/v1/player/sessions/{STATE['alice_tokens']['session_id']}",
              "/v1/player/sessions/{id}")),
    ("a player token on every staff route is 401 TOKEN_INVALID", player_token_on_staff_routes),
    ("a real staff token on player routes is 401 TOKEN_INVALID", staff_token_on_player_routes),
    ("SIGTERM stops the server with exit status 0", stop_exits_zero),
]


if __name__ == "__main__":
    main()
