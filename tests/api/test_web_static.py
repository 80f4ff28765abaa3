#!/usr/bin/env python3
"""test_web_static.py PATH/TO/pitboss — the back office UI's files served at / (src/http/static.c).

A web root made here (not web/dist: this test does not need the UI built): an
index.html, hashed assets, an SVG, a dotfile, a symlink to a file outside the
root and a symlinked directory pointing outside it. `pitboss serve --web-dir`.

  - types by extension; HEAD; index.html for / and for any unknown UI path
    (the History API routes), `no-cache`; /assets/* `immutable` for a year, a
    missing asset is a 404 (not index.html);
  - ETag + If-None-Match → 304 without a body;
  - the security headers on every UI answer (CSP, nosniff, Referrer-Policy);
  - traversal: raw "..", encoded %2e%2e (and %2E, %2f), NUL, backslashes,
    dotfiles, a symlink out of the root (file and directory) → 404/400, never the
    outside file's bytes;
  - the API's paths are untouched: an unknown /v1/… is the API's 404 JSON, as
    are /.well-known/x, /metrics/x; POST to a UI path is the API's 404;
  - PITBOSS_WEB_DIR works like --web-dir; a missing root answers 503 with a page
    that says to run `make run` (the API still works);
  - SIGTERM, then `pitboss ledger verify` on the database.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, binary_from_argv, parse_raw_response  # noqa: E402

INDEX = b"<!doctype html><html><head><title>bo</title></head><body><div id=app></div></body></html>\n"
JS = b"console.log('pitboss');\n"
CSS = b"body{margin:0}\n"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'/>\n"
SECRET = b"outside-the-root: do not serve\n"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def make_root(base):
    root = os.path.join(base, "dist")
    os.makedirs(os.path.join(root, "assets"))
    outside = os.path.join(base, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "secret.txt"), "wb") as f:
        f.write(SECRET)
    for rel, data in (("index.html", INDEX), ("assets/app-3f9a1c.js", JS),
                      ("assets/style-77ab.css", CSS), ("logo.svg", SVG), (".env", SECRET)):
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(root, "escape.txt"))
    os.symlink(outside, os.path.join(root, "outdir"))
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(root, "assets", "leak.js"))
    return root


def main():
    binary = binary_from_argv()
    base = tempfile.mkdtemp(prefix="pbweb.")
    root = make_root(base)
    t = Tap(11)
    srv = Server(binary, extra_args=["--web-dir", root])

    def get(path, headers=None, method="GET"):
        return srv.request(method, path, headers=headers)

    def ui_headers(r):
        assert r.header("content-security-policy") == CSP, r.headers
        assert r.header("x-content-type-options") == "nosniff", r.headers
        assert r.header("referrer-policy") == "no-referrer", r.headers

    def raw_get(path):
        data = srv.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
        return parse_raw_response(data)

    def types():
        for path, ctype, body in (("/", "text/html", INDEX), ("/index.html", "text/html", INDEX),
                                  ("/assets/app-3f9a1c.js", "text/javascript", JS),
                                  ("/assets/style-77ab.css", "text/css", CSS),
                                  ("/logo.svg", "image/svg+xml", SVG)):
            r = get(path)
            assert r.status == 200 and r.body == body, (path, r)
            assert r.header("content-type").split(";")[0] == ctype, (path, r.headers)
            ui_headers(r)
        h = get("/assets/app-3f9a1c.js", method="HEAD")
        assert h.status == 200 and h.body == b"" and h.header("etag"), h

    def spa_fallback():
        for path in ("/players", "/players/01HXYZ/notes", "/withdrawals?status=pending",
                     "/dashboard/", "/assets"):
            r = get(path)
            assert r.status == 200 and r.body == INDEX, (path, r)
            assert r.header("cache-control") == "no-cache", (path, r.headers)
            ui_headers(r)
        r = get("/assets/missing-0000.js")
        assert r.status == 404 and r.body != INDEX, r
        ui_headers(r)

    def caching():
        a = get("/assets/app-3f9a1c.js")
        assert a.header("cache-control") == "public, max-age=31536000, immutable", a.headers
        assert get("/").header("cache-control") == "no-cache"
        assert get("/logo.svg").header("cache-control") == "no-cache"

    def not_modified():
        for path in ("/", "/assets/style-77ab.css"):
            r = get(path)
            etag = r.header("etag")
            assert etag and etag.startswith('"'), r.headers
            n = get(path, {"If-None-Match": etag})
            assert n.status == 304 and n.body == b"" and n.header("etag") == etag, n
            n = get(path, {"If-None-Match": f'"nope", W/{etag}'})
            assert n.status == 304, n
            m = get(path, {"If-None-Match": '"other"'})
            assert m.status == 200 and m.body, m
        # a changed file gets a new ETag
        old = get("/logo.svg").header("etag")
        with open(os.path.join(root, "logo.svg"), "ab") as f:
            f.write(b"<!-- v2 -->")
        r = get("/logo.svg", {"If-None-Match": old})
        assert r.status == 200 and r.header("etag") != old and r.body.endswith(b"v2 -->"), r

    def traversal():
        cases = ["/../../../../etc/passwd", "/assets/../../outside/secret.txt",
                 "/%2e%2e/outside/secret.txt", "/%2E%2E/%2e%2e/etc/passwd",
                 "/assets/%2e%2e%2f%2e%2e%2foutside/secret.txt", "/..%2foutside/secret.txt",
                 "/.env", "/%2eenv", "/assets/..", "/a\\..\\..\\outside\\secret.txt",
                 "/escape.txt", "/outdir/secret.txt", "/assets/leak.js", "/./index.html"]
        for path in cases:
            status, headers, body = raw_get(path)
            assert status in (400, 404), (path, status, body[:200])
            assert SECRET not in body and b"root:" not in body, (path, body[:200])
        for path in ("/%00", "/index.html%00.js", "/%zz", "/%2"):
            status, headers, body = raw_get(path)
            assert status == 400, (path, status, body[:200])

    def headers_on_errors():
        r = get("/.env")
        assert r.status == 404
        ui_headers(r)

    def api_untouched():
        for path in ("/v1/x", "/v1/admin/nothing-here", "/v1", "/.well-known/x", "/metrics/x",
                     "/healthz/x", "/docs/x"):
            r = get(path)
            assert r.status == 404, (path, r)
            assert r.header("content-type") == "application/json", (path, r.headers)
            assert r.json()["error"]["code"] == "NOT_FOUND", (path, r.body)
            assert r.header("content-security-policy") is None, (path, r.headers)
        r = srv.request("POST", "/players", body=b"{}", headers={"Content-Type": "application/json"})
        assert r.status == 404 and r.json()["error"]["code"] == "NOT_FOUND", r
        assert get("/healthz").status == 200
        assert get("/openapi.yaml").status == 200
        assert get("/v1/admin/me").status == 401

    t.case("types by extension, HEAD, security headers", types)
    t.case("unknown UI paths answer index.html; a missing asset is 404", spa_fallback)
    t.case("cache headers: immutable assets, no-cache index", caching)
    t.case("ETag and If-None-Match: 304; a changed file, a new ETag", not_modified)
    t.case("traversal (raw, encoded, NUL, backslash, dotfiles, symlinks out) refused", traversal)
    t.case("refusals carry the UI's security headers", headers_on_errors)
    t.case("the API's paths are untouched (404 JSON)", api_untouched)
    rc = srv.stop()
    t.ok(rc == 0, "SIGTERM: exit status 0", f"status {rc}")

    def env_and_missing():
        # PITBOSS_WEB_DIR works like --web-dir
        s2 = Server(binary, env={"PITBOSS_WEB_DIR": root})
        try:
            r = s2.request("GET", "/some/page")
            assert r.status == 200 and r.body == INDEX, r
        finally:
            assert s2.stop() == 0
            shutil.rmtree(s2.dir, ignore_errors=True)
        s3 = Server(binary, extra_args=["--web-dir", os.path.join(base, "not-built")])
        try:
            r = s3.request("GET", "/")
            assert r.status == 503 and b"make run" in r.body, r
            assert r.header("content-type").startswith("text/html"), r.headers
            assert s3.request("GET", "/v1/x").status == 404
            assert s3.request("GET", "/healthz").status == 200
        finally:
            assert s3.stop() == 0
            shutil.rmtree(s3.dir, ignore_errors=True)

    t.case("PITBOSS_WEB_DIR; a missing web root answers 503 saying to run make run", env_and_missing)

    def default_root():
        # no flag, no variable: web/dist relative to the working directory when it exists
        s4 = Server(binary)  # cwd = its temporary directory: no web/dist there
        try:
            r = s4.request("GET", "/players")
            assert r.status == 404 and r.header("content-type") == "application/json", r
        finally:
            assert s4.stop() == 0
            shutil.rmtree(s4.dir, ignore_errors=True)

    t.case("without --web-dir and no web/dist, unknown paths stay the API's 404", default_root)
    r = subprocess.run([binary, "ledger", "verify", "--db", srv.db], capture_output=True, text=True,
                       timeout=120)
    t.ok(r.returncode == 0, "ledger verify", r.stdout + r.stderr)
    shutil.rmtree(srv.dir, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)
    sys.exit(t.done())


if __name__ == "__main__":
    main()
