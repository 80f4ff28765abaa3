#!/usr/bin/python3
"""test_ops.py PATH/TO/pitboss — API tests of the operations endpoints against a
real `pitboss serve` with a fresh SQLite database (speaks TAP).

Covers /healthz, /readyz (also when the schema is not current), /metrics (request
counters, histograms, ledger counters, gauges, exposition syntax), request ids and
W3C traceparent (echo, continuation, creation), 404/405 bodies with stable codes
and trace ids, oversize bodies (413 before the body is sent), oversize headers,
/openapi.yaml (OpenAPI 3.1; the route table and the document list the same
operations; the ErrorCode enum equals src/core/error.h), /docs, every response
validated against the document's schemas (JSON Schema 2020-12), 1000 requests on
one keep-alive connection, the JSON request log, `serve --help` and bad flags,
scheduled backups (--backup-dir: checked copies, the oldest removed, /metrics),
and SIGTERM: a request whose body is still being uploaded is completed, new
connections are refused, the process exits 0.

Run with Debian's /usr/bin/python3 (python3-yaml, python3-jsonschema).
"""
import concurrent.futures
import json
import os
import re
import socket
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, binary_from_argv, parse_raw_response  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = binary_from_argv()
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# libyaml's safe loader when python3-yaml has it (the same documents, ~5x faster)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
CLIENT_TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def registry():
    """[(code, status)] from the PB_ERRORS X-macro of src/core/error.h, without OK."""
    with open(os.path.join(ROOT, "src/core/error.h"), encoding="utf-8") as f:
        rows = re.findall(r'X\((\w+),\s*(\d+),', f.read())
    return [(c, int(s)) for c, s in rows if c != "OK"]


class Spec:
    """The served OpenAPI document and JSON Schema validation against it."""

    def __init__(self, doc):
        self.doc = doc
        self.resolver = jsonschema.RefResolver("", doc)

    def validate(self, instance, ref):
        """Raises jsonschema.ValidationError unless instance matches #/components/schemas/<ref>."""
        schema = {"$ref": "#/components/schemas/" + ref}
        jsonschema.Draft202012Validator(schema, resolver=self.resolver).validate(instance)

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def check_response(self, pattern, method, r):
        """Checks r against the operation's documented response: content type,
        body schema, header patterns; errors also against ErrorCode's status."""
        op = self.doc["paths"][pattern][method.lower()]
        spec = op["responses"].get(str(r.status)) or op["responses"].get("default")
        assert spec is not None, f"{method} {pattern}: status {r.status} not documented"
        spec = self.deref(spec)
        ctype = (r.header("content-type") or "").split(";")[0].strip()
        content = spec.get("content", {})
        assert ctype in content, f"{method} {pattern} {r.status}: content type {ctype} not in {list(content)}"
        schema = self.deref(content[ctype].get("schema", {}))
        if ctype == "application/json":
            body = r.json()
            jsonschema.Draft202012Validator(schema, resolver=self.resolver).validate(body)
            if "error" in body:
                self.check_error_status(body, r.status)
        for name, h in spec.get("headers", {}).items():
            h = self.deref(h)
            value = r.header(name)
            assert value is not None, f"{method} {pattern}: header {name} missing"
            jsonschema.Draft202012Validator(h["schema"]).validate(value)
        return True

    def check_error_status(self, body, status):
        statuses = self.deref(self.doc["components"]["schemas"]["ErrorCode"])["x-pitboss-http-status"]
        code = body["error"]["code"]
        assert statuses[code] == status, f"{code} documented as {statuses[code]}, answered {status}"


def main():
    tap = Tap(39)
    srv = Server(BIN)
    try:
        run_cases(tap, srv)
    finally:
        srv.cleanup()
    sys.exit(tap.done())


def run_cases(tap, srv):
    spec_holder = {}

    def healthz():
        r = srv.request("GET", "/healthz")
        assert r.status == 200 and r.json() == {"status": "ok"}, r
        assert r.header("content-type") == "application/json", r
        assert r.header("cache-control") == "no-store", r

    def readyz():
        r = srv.request("GET", "/readyz")
        body = r.json()
        assert r.status == 200 and body["status"] == "ready", r
        assert isinstance(body["schema_version"], int) and body["schema_version"] >= 1, r

    def readyz_outdated_schema():
        con = sqlite3.connect(srv.db, timeout=10)
        try:
            con.execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (9999, 'future', 0)")
            con.commit()
            r = srv.request("GET", "/readyz")
            assert r.status == 503, r
            err = r.json()["error"]
            assert err["code"] == "STORE_UNAVAILABLE" and "9999" in err["message"], r
            con.execute("DELETE FROM schema_migrations WHERE version = 9999")
            con.commit()
        finally:
            con.close()
        assert srv.request("GET", "/readyz").status == 200

    def request_id_echo():
        r = srv.request("GET", "/healthz", headers={"X-Request-Id": "client-req:42_a.b"})
        assert r.header("x-request-id") == "client-req:42_a.b", r
        for bad in ("has space", "x" * 65, "semi;colon"):
            r = srv.request("GET", "/healthz", headers={"X-Request-Id": bad})
            assert UUID7.match(r.header("x-request-id") or ""), (bad, r)
        r = srv.request("GET", "/healthz")
        assert UUID7.match(r.header("x-request-id") or ""), r

    def traceparent_continued():
        r = srv.request("GET", "/healthz", headers={"traceparent": CLIENT_TP})
        m = TRACEPARENT.match(r.header("traceparent") or "")
        assert m, r
        assert m.group(1) == "0af7651916cd43dd8448eb211c80319c", r
        assert m.group(2) != "b7ad6b7169203331", "the server must use its own span id"
        assert m.group(3) == "01", r

    def traceparent_created():
        seen = set()
        for tp in (None, "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                   "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                   "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", "garbage"):
            r = srv.request("GET", "/healthz", headers={"traceparent": tp} if tp else {})
            m = TRACEPARENT.match(r.header("traceparent") or "")
            assert m and m.group(1) != "0af7651916cd43dd8448eb211c80319c", (tp, r)
            assert m.group(1) != "0" * 32
            seen.add(m.group(1))
        assert len(seen) == 5, "every new trace gets its own id"

    def not_found():
        r = srv.request("GET", "/no/such/thing", headers={"traceparent": CLIENT_TP})
        assert r.status == 404, r
        err = r.json()["error"]
        assert err["code"] == "NOT_FOUND" and err["message"], r
        assert err["trace_id"] == "0af7651916cd43dd8448eb211c80319c", r
        spec_holder["spec"].validate(r.json(), "Error")
        for path in ("/healthz/", "/HEALTHZ", "//healthz"):
            assert srv.request("GET", path).status == 404, path

    def method_not_allowed():
        r = srv.request("POST", "/healthz", body=b"{}", headers={"Content-Type": "application/json"})
        assert r.status == 405, r
        assert r.header("allow") == "GET, HEAD", r
        err = r.json()["error"]
        assert err["code"] == "METHOD_NOT_ALLOWED", r
        assert TRACEPARENT.match(r.header("traceparent")).group(1) == err["trace_id"], r
        spec_holder["spec"].validate(r.json(), "Error")
        r = srv.request("DELETE", "/metrics")
        assert r.status == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED", r

    def head_request():
        r = srv.request("HEAD", "/healthz")
        assert r.status == 200 and r.body == b"", r

    def oversize_body():
        # only the headers are sent: the server must answer without reading a body
        data = srv.raw(b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 2097152\r\n\r\n")
        status, headers, body = parse_raw_response(data)
        assert status == 413, data[:500]
        err = json.loads(body)["error"]
        assert err["code"] == "PAYLOAD_TOO_LARGE" and re.match(r"^[0-9a-f]{32}$", err["trace_id"]), body
        assert headers.get("connection", "").lower() == "close", headers
        spec_holder["spec"].check_error_status(json.loads(body), status)

    def oversize_headers():
        data = srv.raw(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
        status, _, _ = parse_raw_response(data)
        assert status in (413, 431), data[:300]
        assert srv.request("GET", "/healthz").status == 200, "the server survives"

    def openapi_yaml():
        r = srv.request("GET", "/openapi.yaml")
        assert r.status == 200, r
        assert r.header("content-type").startswith("application/yaml"), r
        doc = yaml.load(r.body.decode("utf-8"), Loader=YAML_LOADER)
        assert str(doc["openapi"]).startswith("3.1."), doc.get("openapi")
        with open(os.path.join(ROOT, "docs/openapi.yaml"), encoding="utf-8") as f:
            assert yaml.load(f, Loader=YAML_LOADER) == doc, \
                "the binary serves docs/openapi.yaml as built"
        jsonschema.Draft202012Validator.check_schema(doc["components"]["schemas"]["Error"])
        spec_holder["spec"] = Spec(doc)

    def routes_match_openapi():
        out = subprocess.run([BIN, "routes"], capture_output=True, check=True, timeout=30)
        routes = [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]
        assert routes, "pitboss routes printed nothing"
        doc = spec_holder["spec"].doc
        documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops
                      if m in ("get", "put", "post", "patch", "delete")}
        table = {(r["method"], r["pattern"]) for r in routes}
        problems = [f"in the route table, not in openapi.yaml: {m} {p}" for m, p in sorted(table - documented)]
        problems += [f"in openapi.yaml, not in the route table: {m} {p}" for m, p in sorted(documented - table)]
        for r in routes:
            op = doc["paths"].get(r["pattern"], {}).get(r["method"].lower())
            if not op:
                continue
            if op.get("operationId") != r["name"]:
                problems.append(f"{r['method']} {r['pattern']}: operationId {op.get('operationId')} != route name {r['name']}")
            if op.get("x-pitboss-permission") != r["permission"]:
                problems.append(f"{r['method']} {r['pattern']}: x-pitboss-permission {op.get('x-pitboss-permission')} != {r['permission']}")
        return not problems or "\n".join(problems)

    def error_codes_match_registry():
        schema = spec_holder["spec"].doc["components"]["schemas"]["ErrorCode"]
        want = registry()
        have_enum = schema["enum"]
        have_status = schema["x-pitboss-http-status"]
        problems = []
        if have_enum != [c for c, _ in want]:
            problems.append(f"enum differs: missing {sorted(set(c for c, _ in want) - set(have_enum))}, "
                            f"extra {sorted(set(have_enum) - set(c for c, _ in want))}")
        for c, s in want:
            if have_status.get(c) != s:
                problems.append(f"{c}: status {have_status.get(c)} in openapi.yaml, {s} in error.h")
        if problems:
            problems.append("run scripts/gen_error_enum.py --write")
        return not problems or "\n".join(problems)

    def error_codes_under_their_status():
        # a code an operation lists under a status must be answered with that status
        # (x-pitboss-http-status, i.e. error.h): PLAYER_BLOCKED, a 403, was listed under
        # 401 on 16 player routes
        doc = spec_holder["spec"].doc
        status = doc["components"]["schemas"]["ErrorCode"]["x-pitboss-http-status"]
        problems = []
        for pattern, ops in doc["paths"].items():
            for method, op in ops.items():
                if not isinstance(op, dict):
                    continue
                for st, resp in op.get("responses", {}).items():
                    if not str(st).isdigit():
                        continue
                    for code in re.findall(r"`([A-Z][A-Z0-9_]+)`", resp.get("description", "")):
                        if code in status and status[code] != int(st):
                            problems.append(f"{method.upper()} {pattern}: {code} listed under "
                                            f"{st}, answered {status[code]}")
        return not problems or "\n".join(problems)

    def responses_match_schemas():
        spec = spec_holder["spec"]
        for pattern, method in (("/healthz", "GET"), ("/readyz", "GET"), ("/metrics", "GET"),
                                ("/openapi.yaml", "GET"), ("/docs", "GET")):
            spec.check_response(pattern, method, srv.request(method, pattern))
        spec.check_response("/healthz", "GET", srv.request("DELETE", "/healthz"))

    def docs_page():
        r = srv.request("GET", "/docs")
        assert r.status == 200 and r.header("content-type").startswith("text/html"), r
        html = r.body.decode("utf-8")
        assert 'href="/openapi.yaml"' in html, html[:500]
        out = subprocess.run([BIN, "routes"], capture_output=True, check=True, timeout=30)
        for line in out.stdout.decode().splitlines():
            route = json.loads(line)
            assert f"<code>{route['pattern']}</code>" in html, route
            assert f"<td>{route['name']}</td>" in html, route

    def chain_walks_limited():
        # a check of a crash commitment walks up to a million hashes: 5 at once per client
        # IP, then 429 with Retry-After (a dice round has no chain: each is refused 422, but
        # counted, as any request naming a commitment is)
        hs = {"Content-Type": "application/json"}
        walk = json.dumps({"game": "dice", "server_seed": "ab" * 32, "client_seed": "c",
                           "nonce": 0, "commitment": "00" * 32}).encode()
        for i in range(5):
            r = srv.request("POST", "/v1/fair/verify", body=walk, headers=hs)
            assert r.status == 422 and r.json()["error"]["code"] == "FIELD_INVALID", (i, r)
        r = srv.request("POST", "/v1/fair/verify", body=walk, headers=hs)
        assert r.status == 429 and r.json()["error"]["code"] == "RATE_LIMITED", r
        assert 1 <= int(r.header("retry-after")) <= 12, r.header("retry-after")
        spec_holder["spec"].check_response("/v1/fair/verify", "POST", r)
        # the other checks are one HMAC each: not limited
        plain = json.dumps({"game": "dice", "server_seed": "ab" * 32, "client_seed": "c",
                            "nonce": 0}).encode()
        for i in range(20):
            r = srv.request("POST", "/v1/fair/verify", body=plain, headers=hs)
            assert r.status == 200 and r.json()["game"] == "dice", (i, r)

    def keep_alive_1000():
        conn = srv.connection()
        try:
            conn.connect()
            sock = conn.sock
            for i in range(1000):
                r = srv.request("GET", "/healthz", conn=conn)
                assert r.status == 200, (i, r)
                assert conn.sock is sock, f"connection not kept alive at request {i}"
        finally:
            conn.close()

    def metrics():
        for _ in range(3):
            srv.request("GET", "/healthz")
        srv.request("GET", "/no/such/thing")
        r = srv.request("GET", "/metrics")
        assert r.status == 200, r
        assert r.header("content-type").startswith("text/plain; version=0.0.4"), r
        text = r.body.decode("utf-8")
        series = parse_prometheus(text)
        ok = series.get('pitboss_http_requests_total{route="healthz",method="GET",status="200"}', 0)
        assert ok >= 1000, f"healthz counter {ok}"
        assert series.get('pitboss_http_requests_total{route="unmatched",method="GET",status="404"}', 0) >= 1
        assert series.get('pitboss_http_requests_total{route="healthz",method="POST",status="405"}', 0) >= 1
        count = series['pitboss_http_request_duration_seconds_count{route="healthz"}']
        assert series['pitboss_http_request_duration_seconds_bucket{route="healthz",le="+Inf"}'] == count
        les = [v for k, v in series.items() if k.startswith('pitboss_http_request_duration_seconds_bucket{route="healthz"')]
        assert les == sorted(les), "buckets are cumulative"
        for name in ("pitboss_ledger_batches_total", "pitboss_ledger_commits_total",
                     "pitboss_ledger_transfers_total",
                     "pitboss_ledger_batch_size_max", "pitboss_ledger_commit_seconds_total",
                     "pitboss_ledger_syncs_total", "pitboss_ledger_sync_seconds_total",
                     "pitboss_ledger_corrupt_refusals_total",
                     "pitboss_ledger_expiry_skipped_total",
                     "pitboss_cashier_payouts_refused_total",
                     "pitboss_cashier_payouts_resent_total", "pitboss_cashier_payouts_waiting",
                     "pitboss_games_rounds_retried_total", "pitboss_games_retry_failures_total",
                     "pitboss_games_rounds_waiting", "pitboss_games_mines_abandoned_total",
                     "pitboss_adjustments_expired_total",
                     "pitboss_adjustments_sweep_failures_total",
                     "pitboss_unclaimed_settlements_expired_total",
                     "pitboss_unclaimed_settlements_sweep_failures_total",
                     "pitboss_http_open_connections", "pitboss_http_requests_in_flight"):
            assert name in series, f"{name} missing"
        assert series["pitboss_http_open_connections"] >= 1, "the scrape's own connection is open"
        assert series["pitboss_http_requests_in_flight"] >= 1, "the scrape itself is in flight"
        assert '# TYPE pitboss_http_request_duration_seconds histogram' in text

    def request_log():
        srv.request("GET", "/healthz", headers={"X-Request-Id": "log-check-1", "traceparent": CLIENT_TP})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            lines = [l for l in srv.log_events("http.request") if l.get("request_id") == "log-check-1"]
            if lines:
                break
            time.sleep(0.05)
        assert lines, "no http.request line for the request"
        l = lines[0]
        for key in ("ts", "level", "method", "route", "path", "status", "latency_ms", "bytes",
                    "trace_id", "span_id", "client_ip"):
            assert key in l, f"{key} missing in {l}"
        assert l["route"] == "healthz" and l["status"] == 200 and l["method"] == "GET", l
        assert l["trace_id"] == "0af7651916cd43dd8448eb211c80319c" and l["client_ip"] == "127.0.0.1", l
        assert isinstance(l["latency_ms"], float) and l["bytes"] == 15, l

    def serve_help():
        out = subprocess.run([BIN, "serve", "--help"], capture_output=True, timeout=30)
        text = out.stdout.decode()
        assert out.returncode == 0, out
        for flag, env in (("--listen", "PITBOSS_LISTEN"), ("--db", "PITBOSS_DB"),
                          ("--threads", "PITBOSS_HTTP_THREADS"), ("--max-body", "PITBOSS_MAX_BODY"),
                          ("--max-connections", "PITBOSS_MAX_CONNECTIONS"),
                          ("--timeout", "PITBOSS_HTTP_TIMEOUT"), ("--keys-dir", "PITBOSS_KEYS_DIR"),
                          ("--log-flush-ms", "PITBOSS_LOG_FLUSH_MS"),
                          ("--wal-reserve", "PITBOSS_WAL_RESERVE"),
                          ("--backup-dir", "PITBOSS_BACKUP_DIR"),
                          ("--backup-every", "PITBOSS_BACKUP_EVERY"),
                          ("--backup-keep", "PITBOSS_BACKUP_KEEP"),
                          ("--adjust-sweep-seconds", "PITBOSS_ADJUST_SWEEP_SECONDS"),
                          ("--request-sweep-seconds", "PITBOSS_REQUEST_SWEEP_SECONDS"),
                          ("--log-level", "PITBOSS_LOG_LEVEL")):
            assert flag in text and env in text, f"{flag}/{env} not documented"
        assert "PITBOSS_PWHASH_COST" in text, "PITBOSS_PWHASH_COST not documented"
        # the harness runs servers at the test cost, and the server says so in its log
        warned = [x for x in srv.logs if '"event":"identity.password_cost"' in x]
        assert warned and '"level":"warn"' in warned[0] and "MINIMUM" in warned[0], srv.logs[:8]

    def serve_bad_flags():
        for args in (["--threads", "0"], ["--max-body", "x"], ["--bogus"], ["--log-level", "loud"],
                     ["--log-flush-ms", "1001"], ["--log-flush-ms", "-1"],
                     ["--backup-every", "0"], ["--backup-keep", "0"],
                     ["--adjust-sweep-seconds", "0"], ["--adjust-sweep-seconds", "86401"],
                     ["--request-sweep-seconds", "0"], ["--request-sweep-seconds", "86401"],
                     ["extra"]):
            out = subprocess.run([BIN, "serve", *args], capture_output=True, timeout=30,
                                 env={"PATH": os.environ.get("PATH", "")})
            assert out.returncode == 2, (args, out)
        out = subprocess.run([BIN, "serve"], capture_output=True, timeout=30,
                             env={"PITBOSS_HTTP_THREADS": "-3", "PATH": os.environ.get("PATH", "")})
        assert out.returncode == 2 and b"PITBOSS_HTTP_THREADS" in out.stderr, out

    def listen_in_use():
        out = subprocess.run([BIN, "serve", "--listen", f"127.0.0.1:{srv.port}", "--db",
                              os.path.join(srv.dir, "other.db"), "--keys-dir",
                              os.path.join(srv.dir, "k2")], capture_output=True, timeout=30)
        assert out.returncode == 1 and b"cannot listen" in out.stderr, out

    def env_config():
        other = Server(BIN, env={"PITBOSS_MAX_BODY": "10", "PITBOSS_HTTP_THREADS": "1"})
        try:
            listening = other.log_events("http.listening")[0]
            assert listening["max_body"] == 10 and listening["threads"] == 1, listening
            r = other.request("GET", "/healthz", body=b"0123456789A")
            assert r.status == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE", r
            keys = os.path.join(other.dir, "keys")
            assert os.path.isdir(keys) and (os.stat(keys).st_mode & 0o777) == 0o700
            assert other.stop() == 0
        finally:
            other.cleanup()

    def wal_reserved_by_default():
        # the harness runs the suites with PITBOSS_WAL_RESERVE=0; unset, the server grows
        # the SQLite WAL to its restart size (65536 pages and a sixteenth) when it starts
        assert srv.log_events("ledger.wal_reserved") == [], "reserved although turned off"
        assert os.path.getsize(srv.db + "-wal") < 64 << 20
        other = Server(BIN, env={"PITBOSS_WAL_RESERVE": None})
        try:
            assert len(other.log_events("ledger.wal_reserved")) == 1, other.logs[-5:]
            frames = 65536 + 65536 // 16
            size = os.path.getsize(other.db + "-wal")
            assert size == 32 + frames * (24 + 4096), size
            r = other.request("GET", "/healthz")
            assert r.status == 200, r
            assert other.stop() == 0
            assert os.path.getsize(other.db + "-wal") == size  # kept when the server stops
        finally:
            other.cleanup()

    def sandbox_off_by_default():
        # the harness turns the sandbox on (the suites pay through it), and the server warns
        warned = [x for x in srv.logs if '"event":"cashier.sandbox"' in x]
        assert warned and '"level":"warn"' in warned[0], srv.logs[:10]
        other = Server(BIN, env={"PITBOSS_SANDBOX_PSP": ""})  # unset: the default
        try:
            r = other.request("POST", "/v1/sandbox-psp/payments/sbxp_x/complete")
            assert r.status == 404 and r.json()["error"]["code"] == "PSP_NOT_FOUND", r
            assert not [x for x in other.logs if "cashier.sandbox" in x], other.logs[:10]
            assert other.stop() == 0
        finally:
            other.cleanup()
        bad = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--db",
                              os.path.join(srv.dir, "sandbox.db"), "--keys-dir",
                              os.path.join(srv.dir, "k3")], capture_output=True, timeout=30,
                             env={"PITBOSS_SANDBOX_PSP": "yes", "PATH": os.environ.get("PATH", "")})
        assert bad.returncode != 0 and b"PITBOSS_SANDBOX_PSP must be 0 or 1" in bad.stderr, bad

    def metrics_token():
        token = "Prom-scrape.token_0123456789+/="
        other = Server(BIN, env={"PITBOSS_METRICS_TOKEN": token})
        try:
            for headers in ({}, {"Authorization": "Bearer " + token[:-1]},
                            {"Authorization": "Bearer " + token + "x"},
                            {"Authorization": "Basic " + token}, {"Authorization": token}):
                r = other.request("GET", "/metrics", headers=headers)
                assert r.status == 401 and r.json()["error"]["code"] == "UNAUTHENTICATED", (headers, r)
                assert b"pitboss_" not in r.body, r
            r = other.request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
            assert r.status == 200 and "pitboss_build_info" in r.body.decode(), r
            r = other.request("GET", "/metrics", headers={"Authorization": "bearer " + token})
            assert r.status == 200, r  # the scheme is case-insensitive (RFC 7235)
            assert other.request("GET", "/healthz").status == 200  # the others stay open
            assert other.request("GET", "/readyz").status == 200
            assert other.stop() == 0
        finally:
            other.cleanup()
        # the default (srv): open
        assert srv.request("GET", "/metrics").status == 200
        for bad in ("short-token", "a token with spaces in it", "x" * 257, "tok\u00e9n-0123456789ab"):
            out = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--db",
                                  os.path.join(srv.dir, "mt.db"), "--keys-dir",
                                  os.path.join(srv.dir, "k4")], capture_output=True, timeout=30,
                                 env={"PITBOSS_METRICS_TOKEN": bad, "PATH": os.environ.get("PATH", "")})
            assert out.returncode != 0 and b"PITBOSS_METRICS_TOKEN must be" in out.stderr, (bad, out)

    def wait_violations(server, n):
        """Waits (30 s at most) until /metrics counts n backups kept with violations."""
        deadline = time.monotonic() + 30
        while parse_prometheus(server.request("GET", "/metrics").body.decode()).get(
                "pitboss_backups_violations_total", 0) < n:
            assert time.monotonic() < deadline, server.logs[-10:]
            time.sleep(0.2)

    def scheduled_backups():
        other = Server(BIN, extra_args=["--backup-every", "1", "--backup-keep", "2",
                                        "--backup-dir", "bk"])
        try:
            # money in the ledger: a brand, a player, a deposit through the sandbox PSP
            out = subprocess.run([BIN, "brand", "create", "--code", "bk", "--name", "Bk",
                                  "--currency", "EUR", "--jurisdiction", "MT", "--db", other.db],
                                 capture_output=True, timeout=60)
            assert out.returncode == 0, out
            me = {"brand": "bk", "email": "b@example.org", "password": "correct horse battery"}
            js = {"Content-Type": "application/json"}

            def post(path, body, headers=js):
                return other.request("POST", path, json.dumps(body).encode(), headers)

            deadline = time.monotonic() + 10
            while True:  # the brand cache forgets a miss within 1 s
                r = post("/v1/player/register", dict(me, country="MT", date_of_birth="1990-01-01"))
                if r.status != 404 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert r.status == 201, r
            token = post("/v1/player/login", me).json()["access_token"]
            auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
            d = post("/v1/player/deposits", {"amount": "25.00", "idempotency_key": "bk-1"},
                     auth).json()
            r = other.request("POST", d["redirect_url"].split(other.url, 1)[-1])
            assert r.status in (200, 303), r
            deadline = time.monotonic() + 10
            while other.request("GET", "/v1/player/wallet", headers=auth).json()["cash"] != "25.00":
                assert time.monotonic() < deadline, "the deposit was not credited"
                time.sleep(0.1)
            seen_at = time.time()
            deadline = time.monotonic() + 30
            while True:  # three more copies after the deposit, the oldest removed
                # (the removal follows a copy's count and its backup.done line: wait for it too)
                m = parse_prometheus(other.request("GET", "/metrics").body.decode())
                done = other.log_events("backup.done")
                if m.get('pitboss_backups_total{result="ok"}', 0) >= 3 and \
                        m.get("pitboss_backups_removed_total", 0) >= 1 and \
                        sum(1 for x in done if x["ts"] >= time.strftime(
                            "%Y-%m-%dT%H:%M:%S", time.gmtime(seen_at))) >= 2:
                    break
                assert time.monotonic() < deadline, (m, other.logs[-10:])
                time.sleep(0.2)
            assert m['pitboss_backups_total{result="failed"}'] == 0, m
            assert m["pitboss_backups_removed_total"] >= 1, m
            assert m["pitboss_backup_last_success_timestamp_seconds"] >= seen_at - 2, m
            assert m["pitboss_backup_last_bytes"] > 0, m
            # a database gone bad: its copies are kept and logged, and they never
            # push the last good copies out
            con = sqlite3.connect(other.db, timeout=30)
            with con:
                con.execute("UPDATE ledger_transfer SET amount = amount + 1 WHERE seq = 1")
            con.close()
            wait_violations(other, 3)
            assert other.log_events("backup.violations"), other.logs[-10:]
            assert other.stop() == 0
            bk = os.path.join(other.dir, "bk")
            assert oct(os.stat(bk).st_mode & 0o777) == "0o700", oct(os.stat(bk).st_mode)
            files = sorted(f for f in os.listdir(bk))
            assert all(re.match(r"^pitboss-\d{8}T\d{6}Z(-\d+)?\.db$", f) for f in files), files
            clean, bad_copies = [], []
            for f in files:
                v = subprocess.run([BIN, "ledger", "verify", "--db", os.path.join(bk, f)],
                                   capture_output=True, timeout=60)
                assert v.returncode in (0, 1), v
                (clean if v.returncode == 0 else bad_copies).append((f, v.stdout))
            assert len(clean) == 2 and len(bad_copies) >= 3, (clean, bad_copies)
            assert max(c[0] for c in clean) < min(b[0] for b in bad_copies), files
            # the newest clean copy holds the deposit: the PSP's credit to the player
            assert re.search(rb"ledger verify: [1-9]\d* transfers", clean[-1][1]), clean[-1]
        finally:
            other.cleanup()
        bad = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--db",
                              os.path.join(srv.dir, "bk.db"), "--keys-dir",
                              os.path.join(srv.dir, "k4"), "--backup-dir",
                              os.path.join(srv.dir, "bk.db")], capture_output=True, timeout=30)
        assert bad.returncode != 0 and b"backups:" in bad.stderr, bad

    def backups_pruned_by_time():
        # copies made in one second are named <stamp>.db, <stamp>-2.db, ..., <stamp>-10.db:
        # the pruning removes the oldest by that time, not by the names' byte order
        # (which puts "-10" before "-2" and both before ".db")
        bk = tempfile.mkdtemp(prefix="pbbk.")
        os.chmod(bk, 0o700)
        old = ["pitboss-20000101T000000Z.db", "pitboss-20000101T000000Z-2.db",
               "pitboss-20000101T000000Z-10.db"]
        for f in old:
            open(os.path.join(bk, f), "wb").close()
        other = Server(BIN, extra_args=["--backup-every", "3", "--backup-keep", "3",
                                        "--backup-dir", bk])
        try:
            deadline = time.monotonic() + 30
            while True:  # the first copy of the server: the oldest of the three goes
                files = set(os.listdir(bk))
                if files - set(old):
                    break
                assert time.monotonic() < deadline, files
                time.sleep(0.05)
            # its pruning follows its check (waited for: on a loaded machine it may
            # come later than any fixed time, but well before the next copy, 3 s on)
            deadline = time.monotonic() + 2.5
            while old[0] in files and time.monotonic() < deadline:
                time.sleep(0.05)
                files = set(os.listdir(bk))
            files = set(os.listdir(bk))
            assert len(files - set(old)) == 1, files  # the next is 3 s away
            assert files & set(old) == {old[1], old[2]}, files
        finally:
            other.stop()
            other.cleanup()
            shutil.rmtree(bk, ignore_errors=True)

    def scheduled_backups_audit():
        other = Server(BIN, extra_args=["--backup-every", "1", "--backup-keep", "2",
                                        "--backup-dir", "bk"])
        keys = os.path.join(other.dir, "keys")
        try:
            # two audited changes (the CLI writes each with its audit entry)
            for code in ("s1", "s2"):
                out = subprocess.run([BIN, "provider", "create", "--code", code, "--name", code,
                                      "--protocol", "native", "--secret-hex", "ab" * 32,
                                      "--db", other.db, "--keys-dir", keys],
                                     capture_output=True, timeout=60)
                assert out.returncode == 0, out
            deadline = time.monotonic() + 30
            while sum(1 for x in other.log_events("backup.done")
                      if ", 2 audit entries;" in x["msg"]) < 2:
                assert time.monotonic() < deadline, other.logs[-10:]
                time.sleep(0.2)
            # the audit log edited behind the server's back: its copies are kept and
            # logged, and never push the last good copies out
            con = sqlite3.connect(other.db, timeout=30)
            with con:
                con.execute("UPDATE audit_entry SET reason = 'nothing to see' WHERE seq = 1")
            con.close()
            wait_violations(other, 3)
            bad_logs = [x["msg"] for x in other.log_events("backup.violations")]
            assert bad_logs and all("audit chain has" in m for m in bad_logs), bad_logs
            assert other.stop() == 0
            bk = os.path.join(other.dir, "bk")
            files = sorted(os.listdir(bk))
            clean, bad_copies = [], []
            for f in files:
                v = subprocess.run([BIN, "audit", "verify", "--db", os.path.join(bk, f),
                                    "--keys-dir", keys], capture_output=True, timeout=60)
                assert v.returncode in (0, 1), v
                (clean if v.returncode == 0 else bad_copies).append(f)
                # the ledger of every copy is intact: only the audit chain was edited
                lv = subprocess.run([BIN, "ledger", "verify", "--db", os.path.join(bk, f)],
                                    capture_output=True, timeout=60)
                assert lv.returncode == 0, lv
            assert len(clean) == 2 and len(bad_copies) >= 3, (clean, bad_copies)
            assert max(clean) < min(bad_copies), files
        finally:
            other.cleanup()

    def wait_in_flight(server, scrapes, n):
        """Waits (10 s at most) until /metrics counts n requests in flight, the scrape's own
        among them: a request counts from its request line on (read with its headers), so
        a drain that begins after that lets it finish. A request stays counted until the
        server has finished with it, which can come after its client has read the answer:
        so the scrapes go over one kept-alive connection, scrapes (the server finishes one
        before it reads the next on it), and a case first waits for n = 1 (every request
        made before on other connections finished) before it starts the request it means
        to count: a count of 2 is then that request, not an answered one finishing late."""
        deadline = time.monotonic() + 10
        while parse_prometheus(server.request("GET", "/metrics", conn=scrapes).body.decode()).get(
                "pitboss_http_requests_in_flight", 0) != n:
            assert time.monotonic() < deadline, server.logs[-10:]
            time.sleep(0.05)

    def sigterm_drains_slow_upload():
        other = Server(BIN, extra_args=["--drain-timeout", "20"])
        try:
            body = b"x" * 100000
            scrapes = other.connection()
            wait_in_flight(other, scrapes, 1)  # the start-up's /healthz finished
            s = socket.create_connection((other.host, other.port), timeout=20)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body))
            s.sendall(body[:50000])
            wait_in_flight(other, scrapes, 2)  # the upload and the scrape: the server has begun it
            scrapes.close()
            other.proc.send_signal(15)
            deadline = time.monotonic() + 10
            while not other.log_events("http.draining") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert other.log_events("http.draining"), "no http.draining line"
            try:
                socket.create_connection((other.host, other.port), timeout=2).close()
                refused = False
            except OSError:
                refused = True
            assert refused, "new connections must be refused while draining"
            assert other.proc.poll() is None, "exited with a request in flight"
            time.sleep(0.5)
            assert other.proc.poll() is None, "exited with a request in flight"
            s.sendall(body[50000:])
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            s.close()
            status, headers, resp_body = parse_raw_response(data)
            assert status == 200 and json.loads(resp_body) == {"status": "ok"}, data[:300]
            assert headers.get("connection", "").lower() == "close", headers
            rc = other.wait(20)  # (and its last log lines read)
            assert rc == 0, f"exit status {rc}"
            stopped = other.log_events("http.stopped")
            assert stopped and "0 request(s) cut short" in stopped[0]["msg"], stopped
        finally:
            other.cleanup()

    def new_requests_while_draining_get_503():
        other = Server(BIN, extra_args=["--drain-timeout", "20"])
        try:
            conn = other.connection()
            assert other.request("GET", "/healthz", conn=conn).status == 200
            scrapes = other.connection()
            wait_in_flight(other, scrapes, 1)  # that /healthz finished
            # an upload in flight keeps the server draining
            s = socket.create_connection((other.host, other.port), timeout=20)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345")
            wait_in_flight(other, scrapes, 2)  # the upload and the scrape: the server has begun it
            scrapes.close()
            other.proc.send_signal(15)
            deadline = time.monotonic() + 10
            while not other.log_events("http.draining") and time.monotonic() < deadline:
                time.sleep(0.05)
            r = other.request("GET", "/healthz", conn=conn)  # the kept-alive connection
            assert r.status == 503 and r.json()["error"]["code"] == "SHUTTING_DOWN", r
            assert (r.header("connection") or "").lower() == "close", r
            conn.close()
            s.sendall(b"67890")
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            s.close()
            status, _, _ = parse_raw_response(data)
            assert status == 200, status
            assert other.proc.wait(20) == 0
        finally:
            other.cleanup()

    def bad_path_encoding():
        for path in ("/healthz%", "/%zz", "/%00"):
            data = srv.raw(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
            status, _, body = parse_raw_response(data)
            assert status in (400, 404), (path, data[:200])
            if status != 400:
                assert json.loads(body)["error"]["code"] == "NOT_FOUND"

    def concurrent_clients():
        import threading
        errors = []

        def worker():
            try:
                conn = srv.connection()
                for _ in range(50):
                    r = srv.request("GET", "/readyz", conn=conn)
                    if r.status != 200:
                        errors.append(r)
                conn.close()
            except Exception as e:  # reported below
                errors.append(e)
        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return not errors or repr(errors[:3])

    def stop_exits_zero():
        rc = srv.stop()
        assert rc == 0, f"exit status {rc}; last logs: {srv.logs[-5:]}"
        stopped = srv.log_events("serve.stopped")
        assert stopped, "no serve.stopped line"

    cases = [
        ("GET /healthz is 200 {status: ok}", healthz),
        ("GET /readyz is 200 with the schema version", readyz),
        ("GET /readyz is 503 STORE_UNAVAILABLE when the schema is not current", readyz_outdated_schema),
        ("X-Request-Id is echoed when acceptable, else a new UUIDv7", request_id_echo),
        ("a valid traceparent is continued with a new span id", traceparent_continued),
        ("invalid or missing traceparent starts a new trace", traceparent_created),
        ("GET /openapi.yaml is OpenAPI 3.1 YAML, the built docs/openapi.yaml", openapi_yaml),
        ("unknown paths get 404 NOT_FOUND with the trace id", not_found),
        ("a known path with another method gets 405 with Allow", method_not_allowed),
        ("HEAD is answered for GET routes, without a body", head_request),
        ("a body announced over the limit gets 413 before it is sent", oversize_body),
        ("oversize headers are refused and the server survives", oversize_headers),
        ("the route table and the OpenAPI paths list the same operations", routes_match_openapi),
        ("the ErrorCode enum and its statuses equal src/core/error.h", error_codes_match_registry),
        ("every error code an operation lists under a status is answered with that status",
         error_codes_under_their_status),
        ("responses match the OpenAPI schemas (JSON Schema 2020-12)", responses_match_schemas),
        ("/docs lists every route and links /openapi.yaml", docs_page),
        ("1000 requests on one keep-alive connection", keep_alive_1000),
        ("POST /v1/fair/verify with a crash commitment (a chain walk) is limited per client IP: "
         "429 RATE_LIMITED with Retry-After; other checks are not", chain_walks_limited),
        ("/metrics has request counters, histograms, ledger and connection metrics", metrics),
        ("one JSON log line per request with route, status, latency and trace id", request_log),
        ("serve --help documents every flag with its environment variable", serve_help),
        ("bad flags and environment values exit 2", serve_bad_flags),
        ("an address in use exits 1", listen_in_use),
        ("PITBOSS_* variables configure the server; keys dir created 0700", env_config),
        ("the WAL is reserved at start by default (--wal-reserve), kept after a stop",
         wal_reserved_by_default),
        ("the sandbox PSP is off unless PITBOSS_SANDBOX_PSP=1 (then a warning); other values "
         "refused", sandbox_off_by_default),
        ("PITBOSS_METRICS_TOKEN: /metrics answers only its bearer token (401 UNAUTHENTICATED "
         "otherwise, nothing told), /healthz and /readyz stay open; a bad token refused at start",
         metrics_token),
        ("bad percent-encoding in the path is a 4xx", bad_path_encoding),
        ("16 concurrent keep-alive clients", concurrent_clients),
        ("--backup-dir: a checked copy every --backup-every seconds, --backup-keep kept, "
         "counted in /metrics; a ledger gone bad never pushes the good copies out; a backup "
         "dir that is a file refused", scheduled_backups),
        ("--backup-keep removes the oldest copies by their time: <stamp>.db, then -2, then -10",
         backups_pruned_by_time),
        ("--backup-dir: each copy's audit chain verified against the server's key; an audit log "
         "edited by hand never pushes the good copies out", scheduled_backups_audit),
        ("SIGTERM completes a slowly uploaded request, refuses new connections, exits 0",
         sigterm_drains_slow_upload),
        ("requests arriving while draining get 503 SHUTTING_DOWN", new_requests_while_draining_get_503),
        ("responses to errors validate against the Error schema", lambda: spec_holder["spec"].validate(
            srv.request("GET", "/nope").json(), "Error")),
        ("every error body names its trace id as in traceparent", lambda: all(
            TRACEPARENT.match(r.header("traceparent")).group(1) == r.json()["error"]["trace_id"]
            for r in (srv.request("GET", "/nope"), srv.request("PUT", "/readyz")))),
        ("/metrics counts the 413 answers", lambda: parse_prometheus(srv.request("GET", "/metrics").body.decode())
            .get('pitboss_http_requests_total{route="healthz",method="POST",status="413"}', 0) >= 1),
        ("SIGTERM stops the server with exit status 0", stop_exits_zero),
    ]
    assert len(cases) == tap.plan, f"plan {tap.plan} but {len(cases)} cases"
    # the scheduled backups' cases spend their time waiting for --backup-every timers of
    # servers of their own (their own databases and directories): they run in the
    # background from the start, and each case reports its own one's result (an exception
    # raised in it fails that case with its traceback)
    background = (scheduled_backups, backups_pruned_by_time, scheduled_backups_audit)
    with concurrent.futures.ThreadPoolExecutor(len(background)) as pool:
        started = {fn: pool.submit(fn) for fn in background}
        for name, fn in cases:
            tap.case(name, started[fn].result if fn in started else fn)


def parse_prometheus(text):
    """{series: value} of a text exposition; raises on a malformed line."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (-?[0-9.e+]+|\+Inf|NaN)$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:]", line) or not line, line
            continue
        m = line_re.match(line)
        assert m, f"malformed metrics line: {line!r}"
        out[m.group(1)] = float(m.group(3))
    return out


if __name__ == "__main__":
    main()
