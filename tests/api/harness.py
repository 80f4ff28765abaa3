"""harness.py — drives a real `pitboss serve` for the API tests.

Server(binary) starts `pitboss serve` on 127.0.0.1 with port 0 (the kernel picks
a free one; the URL is read from the server's "http.listening" log line) and a
fresh database in a temporary directory, and waits for /healthz. stop() sends
SIGTERM and returns the exit status. Every stderr line is kept (server.logs) so
a test can look at the JSON request log.

Tap prints TAP: a plan line, then "ok N - name" / "not ok N - name" with the
diagnostics as "# " lines. Only the Python standard library is used here.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback


class Tap:
    """TAP output: a plan, one line per case, a failure count for the exit status."""

    def __init__(self, plan):
        self.plan = plan
        self.n = 0
        self.failed = 0
        print(f"1..{plan}", flush=True)

    def ok(self, cond, name, diag=None):
        """Reports one case; diag (a string or a callable giving one) explains a failure."""
        self.n += 1
        if cond:
            print(f"ok {self.n} - {name}", flush=True)
            return True
        self.failed += 1
        print(f"not ok {self.n} - {name}", flush=True)
        text = diag() if callable(diag) else diag
        for line in str(text or "").splitlines()[:40]:
            print(f"# {line}", flush=True)
        return False

    def case(self, name, fn):
        """Runs fn() as one case: passes when it returns True (or None), fails on
        False or an exception (the traceback becomes the diagnostic)."""
        try:
            res = fn()
            return self.ok(res is None or res is True, name, None if res in (None, True) else res)
        except Exception:  # a case must never take the whole run down
            return self.ok(False, name, traceback.format_exc())

    def done(self):
        """Exit status: 0 when every planned case ran and passed."""
        if self.n != self.plan:
            print(f"# planned {self.plan} cases, ran {self.n}", flush=True)
            return 1
        return 1 if self.failed else 0


def run_cases(cases, cleanup, on_failure=None):
    """Runs (name, fn) cases in order as one TAP run and returns the exit status. The
    first case is the set-up: when it fails, the others are reported as skipped.
    on_failure() runs when a case failed (e.g. to print the server's last log lines),
    then cleanup() whatever happens (the server stopped, the temporary files gone)."""
    tap = Tap(len(cases))
    try:
        for i, (name, fn) in enumerate(cases):
            if not tap.case(name, fn) and i == 0:
                for _ in range(tap.plan - 1):
                    tap.ok(False, "skipped: setup failed")
                break
    finally:
        if tap.failed and on_failure:
            on_failure()
        cleanup()
    return tap.done()


class Response:
    """Status, headers (lower-case names) and body of one HTTP exchange."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:300]!r}>"


class Server:
    """A running `pitboss serve` with its own temporary database."""

    def __init__(self, binary, extra_args=(), env=None):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="pbapi.")
        self.db = os.path.join(self.dir, "pitboss.db")
        self.logs = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self.url = None
        full_env = dict(os.environ)
        for k in list(full_env):
            if k.startswith("PITBOSS_"):
                del full_env[k]
        # argon2id at libsodium's minimum cost: the suites log in and register hundreds
        # of times (~100 ms each at the default); the hashing code path is the same, the
        # default cost is covered by test_identity_password and test_demo_run
        full_env["PITBOSS_PWHASH_COST"] = "min"
        # the sandbox PSP is off unless asked for; the suites pay through it
        full_env["PITBOSS_SANDBOX_PSP"] = "1"
        # the WAL reserve writes ~280 MB of zeros once per database: off here, where the
        # suites start hundreds of servers on fresh databases (test_ops covers the default)
        full_env["PITBOSS_WAL_RESERVE"] = "0"
        for k, v in (env or {}).items():  # None: unset, the server's default
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
        args = [binary, "serve", "--listen", "127.0.0.1:0", "--db", self.db,
                "--keys-dir", os.path.join(self.dir, "keys"), *extra_args]
        self.proc = subprocess.Popen(args, cwd=self.dir, env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read_logs, daemon=True)
        self._reader.start()
        if not self._listening.wait(30):
            self.kill()
            raise RuntimeError("server did not log http.listening:\n" + "\n".join(self.logs[-20:]))
        host_port = self.url.split("//", 1)[1]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.request("GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("server never answered /healthz")
            time.sleep(0.05)

    def _read_logs(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.logs.append(line)
            if not self._listening.is_set() and '"event":"http.listening"' in line:
                try:
                    self.url = json.loads(line)["url"]
                    self._listening.set()
                except (ValueError, KeyError):
                    pass

    def log_events(self, event):
        """The parsed JSON log lines with this event name."""
        with self._lock:
            lines = list(self.logs)
        out = []
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("event") == event:
                out.append(obj)
        return out

    def connection(self, timeout=10):
        """A new keep-alive HTTP/1.1 connection to the server."""
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """One request; on a new connection unless conn is given."""
        own = conn is None
        c = conn or self.connection()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            if own:
                c.close()

    def raw(self, data, read_timeout=10):
        """Sends raw bytes on a new socket and returns everything read until EOF."""
        s = socket.create_connection((self.host, self.port), timeout=read_timeout)
        try:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)
        finally:
            s.close()

    def stop(self, timeout=30):
        """SIGTERM, then the exit status (None if it did not exit in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        self._reader.join(5)
        return rc

    def wait(self, timeout=30):
        """The exit status of a server already told to stop (None if it did not exit in
        time), once every line it wrote is in self.logs: the process can be gone while
        the reader thread has yet to take its last lines from the pipe."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reader.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def parse_raw_response(data):
    """(status, headers, body) of the first HTTP response in raw bytes."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", len(body)))
    return status, headers, body[:length]


def binary_from_argv():
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print("1..0 # SKIP usage: test_ops.py PATH/TO/pitboss")
        sys.exit(1)
    return os.path.abspath(sys.argv[1])
