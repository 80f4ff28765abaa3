#!/usr/bin/python3
"""test_ledger_anchor_metrics.py PATH/TO/pitboss — operators see that the ledger
is being anchored (README "Ledger anchors"), against a real `pitboss serve` on
the demo ledger (speaks TAP):

- with PITBOSS_LEDGER_ANCHOR_EVERY=1 the anchorer signs the demo's transfers within
  seconds and /metrics says so: pitboss_ledger_anchor_seq the ledger's head,
  pitboss_ledger_anchors_total 1, pitboss_ledger_anchor_failures_total 0,
  pitboss_ledger_anchor_age_seconds small;
- a server restarted on that ledger shows the anchor already there at once
  (seq, an age that counts from the anchor's signing, anchors_total 0);
- an anchor made unreadable (its signature cut short by SQL): every pass fails,
  failures_total counts them, and an error is logged (three failures in a row,
  and the one at stop);
- PITBOSS_LEDGER_ANCHOR_EVERY out of range is refused at start.
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, Tap, binary_from_argv  # noqa: E402

BIN = binary_from_argv()


def parse_prometheus(text):
    """{series: value} of a text exposition; raises on a malformed line."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (-?[0-9.e+]+|\+Inf|NaN)$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        assert m, f"malformed metrics line: {line!r}"
        out[m.group(1)] = float(m.group(3))
    return out


def metrics(srv):
    r = srv.request("GET", "/metrics")
    assert r.status == 200, r
    return parse_prometheus(r.body.decode())


def wait_metrics(srv, cond, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        m = metrics(srv)
        if cond(m):
            return m
        assert time.monotonic() < deadline, (
            {k: v for k, v in m.items() if "anchor" in k}, srv.logs[-10:])
        time.sleep(0.2)


def main():
    tap = Tap(4)
    work = tempfile.mkdtemp(prefix="pbanchor.")
    db = os.path.join(work, "demo.db")
    keys = os.path.join(work, "keys")
    st = {}
    try:
        def head():
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
            try:
                return con.execute("SELECT max(seq) FROM ledger_transfer").fetchone()[0]
            finally:
                con.close()

        def anchored_by_the_ticker():
            r = subprocess.run([BIN, "demo", "--db", db], capture_output=True, timeout=120,
                               cwd=work)
            assert r.returncode == 0, r
            st["head"] = head()
            assert st["head"] and st["head"] > 0, st
            srv = Server(BIN, extra_args=["--db", db, "--keys-dir", keys],
                         env={"PITBOSS_LEDGER_ANCHOR_EVERY": "1"})
            try:
                m = wait_metrics(srv, lambda m: m.get("pitboss_ledger_anchors_total", 0) >= 1)
                assert m["pitboss_ledger_anchor_seq"] == st["head"], m
                assert m["pitboss_ledger_anchors_total"] == 1, m
                assert m["pitboss_ledger_anchor_failures_total"] == 0, m
                assert 0 <= m["pitboss_ledger_anchor_age_seconds"] < 10, m
                assert srv.stop() == 0
            finally:
                srv.cleanup()
            st["stopped"] = time.time()

        def restart_shows_the_anchor_there():
            time.sleep(1.2)
            srv = Server(BIN, extra_args=["--db", db, "--keys-dir", keys])
            try:
                m = metrics(srv)
                assert m["pitboss_ledger_anchor_seq"] == st["head"], m
                assert m["pitboss_ledger_anchors_total"] == 0, m
                assert m["pitboss_ledger_anchor_failures_total"] == 0, m
                # signed before the first server stopped, more than 1.2 s ago
                age = m["pitboss_ledger_anchor_age_seconds"]
                assert 1.0 <= age < 60 + time.time() - st["stopped"], m
                assert srv.stop() == 0
            finally:
                srv.cleanup()

        def failures_counted_and_logged():
            con = sqlite3.connect(db, timeout=30)
            with con:  # a damaged anchor: the anchorer refuses to extend the chain
                con.execute("UPDATE ledger_anchor SET signature = X'00' "
                            "WHERE id = (SELECT max(id) FROM ledger_anchor)")
            con.close()
            srv = Server(BIN, extra_args=["--db", db, "--keys-dir", keys],
                         env={"PITBOSS_LEDGER_ANCHOR_EVERY": "1"})
            try:
                # passes at 1 s, then backoff 2 s and 4 s: the third ~7 s in
                m = wait_metrics(srv, lambda m: m.get("pitboss_ledger_anchor_failures_total", 0)
                                 >= 3, seconds=30)
                assert m["pitboss_ledger_anchors_total"] == 0, m
                deadline = time.monotonic() + 5
                while not any("3 times in a row" in e.get("msg", "")
                              for e in srv.log_events("ledger.anchor")):
                    assert time.monotonic() < deadline, srv.logs[-10:]
                    time.sleep(0.1)
                errors = [e for e in srv.log_events("ledger.anchor") if e["level"] == "error"]
                assert len(errors) >= 3, srv.logs[-10:]
                assert srv.stop() == 0
                last = srv.log_events("ledger.anchor")[-1]
                assert last["level"] == "error" and "at stop" in last["msg"], srv.logs[-5:]
            finally:
                srv.cleanup()

        def bad_period_refused():
            for bad in ("0", "3601", "x"):
                r = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--db", db,
                                    "--keys-dir", keys], capture_output=True, timeout=30,
                                   env=dict(os.environ, PITBOSS_LEDGER_ANCHOR_EVERY=bad,
                                            PITBOSS_WAL_RESERVE="0"))
                assert r.returncode != 0 and b"PITBOSS_LEDGER_ANCHOR_EVERY" in r.stderr, r

        cases = [
            ("PITBOSS_LEDGER_ANCHOR_EVERY=1: the demo ledger anchored within seconds; /metrics "
             "has its seq (the head), anchors_total 1, failures 0, a small age", anchored_by_the_ticker),
            ("restarted: /metrics shows the anchor already there (seq, its age), none written",
             restart_shows_the_anchor_there),
            ("a damaged anchor: every pass fails, failures_total counts them, errors logged "
             "(three in a row, and at stop)", failures_counted_and_logged),
            ("PITBOSS_LEDGER_ANCHOR_EVERY 0, 3601 or not a number: serve refuses to start",
             bad_period_refused),
        ]
        for name, fn in cases:
            tap.case(name, fn)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
