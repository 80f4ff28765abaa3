#!/usr/bin/python3
"""test_deploy.py PATH/TO/pitboss SOURCE_ROOT — the deployment files in deploy/ work
(speaks TAP): systemd-analyze verifies every unit without a word (an unknown key, a bad
value or a missing executable is a finding); every option and variable the unit and
the environment file give is one `pitboss serve` (or `pitboss erasures`) documents;
the unit's own ExecStart command line, with the environment file's settings and its
paths moved into a temporary directory, starts a server that answers /healthz and
/readyz, makes its state directories 0700 and stops with exit 0 on SIGTERM; the
erasures unit's command writes the list whole.

Usage: test_deploy.py PATH/TO/pitboss SOURCE_ROOT
"""
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
from harness import Tap  # noqa: E402

INSTALLED = "/usr/local/bin/pitboss"
STATE = "/var/lib/pitboss"
WEB = "/usr/local/share/pitboss/web"


def unit_keys(path):
    """{section: [(key, value), ...]} of a unit file."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.fullmatch(r"\[(\w+)\]", line)
            if m:
                section = m.group(1)
                out.setdefault(section, [])
                continue
            k, _, v = line.partition("=")
            out[section].append((k, v))
    return out


def exec_start(path):
    return [v for k, v in unit_keys(path)["Service"] if k == "ExecStart"]


def env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                env[k] = v
    return env


class Run:
    def __init__(self, binary, root):
        self.binary = os.path.abspath(binary)
        self.deploy = os.path.join(root, "deploy")
        self.dir = tempfile.mkdtemp(prefix="pbdeploy.")

    def remap(self, text):
        return (text.replace(INSTALLED, self.binary)
                .replace(STATE, os.path.join(self.dir, "state"))
                .replace(WEB, os.path.join(self.dir, "web")))

    def help_of(self, *cmd):
        r = subprocess.run([self.binary, *cmd, "--help"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    # ---- cases ----

    def verify_units(self):
        units = sorted(f for f in os.listdir(self.deploy) if f.endswith((".service", ".timer")))
        assert {"pitboss.service", "pitboss-erasures.service",
                "pitboss-erasures.timer"} <= set(units), units
        d = os.path.join(self.dir, "units")
        os.mkdir(d)
        for u in units:  # the executable must exist: the build's stands for the installed one
            with open(os.path.join(self.deploy, u)) as f, open(os.path.join(d, u), "w") as g:
                g.write(f.read().replace(INSTALLED, self.binary))
        r = subprocess.run(["systemd-analyze", "verify", *[os.path.join(d, u) for u in units]],
                           capture_output=True, text=True, timeout=60)
        said = (r.stdout + r.stderr).strip()
        assert r.returncode == 0 and not said, said

    def options_documented(self):
        serve = self.help_of("serve")
        documented = set(re.findall(r"^  (--[a-z-]+)", serve, re.M))
        variables = set(re.findall(r"\b(PITBOSS_[A-Z_]+)\b", serve))
        assert "--listen" in documented and "PITBOSS_DB" in variables, "the help parses"
        (line,) = exec_start(os.path.join(self.deploy, "pitboss.service"))
        argv = shlex.split(line)
        assert argv[:2] == [INSTALLED, "serve"], argv
        given = [a for a in argv[2:] if a.startswith("--")]
        assert given and set(given) <= documented, set(given) - documented
        env = env_file(os.path.join(self.deploy, "pitboss.env"))
        commented = set(re.findall(r"#\s*(PITBOSS_[A-Z_]+)=",
                                   open(os.path.join(self.deploy, "pitboss.env")).read()))
        assert env and set(env) | commented <= variables, (set(env) | commented) - variables
        erasures = self.help_of("erasures")
        (line,) = exec_start(os.path.join(self.deploy, "pitboss-erasures.service"))
        inner = shlex.split(shlex.split(line)[2])  # /bin/sh -c '<pitboss erasures ...> && mv'
        assert inner[:2] == [INSTALLED, "erasures"], inner
        for a in inner[2:]:
            if a.startswith("--"):
                assert a in erasures, a

    def unit_starts(self):
        (line,) = exec_start(os.path.join(self.deploy, "pitboss.service"))
        argv = [self.remap(a) for a in shlex.split(line)]
        argv = [("127.0.0.1:0" if a == "127.0.0.1:8080" else a) for a in argv]
        state = os.path.join(self.dir, "state")
        os.makedirs(state, mode=0o700)
        os.makedirs(os.path.join(self.dir, "web"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
        env.update(env_file(os.path.join(self.deploy, "pitboss.env")))
        env["PITBOSS_WAL_RESERVE"] = "0"  # ~270 MB of zeros: not what is tested here
        proc = subprocess.Popen(argv, cwd=state, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            url = None
            deadline = time.monotonic() + 30
            while url is None and time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line:
                    break
                m = re.search(r'"event":"http.listening".*"url":"([^"]+)"', line)
                if m:
                    url = m.group(1)
            assert url, "the server did not log http.listening"
            for path in ("/healthz", "/readyz"):
                with urllib.request.urlopen(url + path, timeout=10) as r:
                    assert r.status == 200, (path, r.status)
            for sub in ("keys", "backups"):
                mode = stat.S_IMODE(os.stat(os.path.join(state, sub)).st_mode)
                assert mode == 0o700, (sub, oct(mode))
            assert os.path.exists(os.path.join(state, "pitboss.db"))
            proc.send_signal(signal.SIGTERM)
            proc.stderr.read()  # drained, so that the server never blocks on its log
            assert proc.wait(60) == 0, "exit status"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def erasures_unit_runs(self):
        (line,) = exec_start(os.path.join(self.deploy, "pitboss-erasures.service"))
        argv = [self.remap(a) for a in shlex.split(line)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        listed = os.path.join(self.dir, "state", "erasures.jsonl")
        assert os.path.exists(listed) and not os.path.exists(listed + ".new")
        assert open(listed).read() == "", "no player was erased"

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    run = Run(sys.argv[1], sys.argv[2])
    cases = [
        ("systemd-analyze verify: every unit in deploy/ without a finding", run.verify_units),
        ("the unit's options and the environment file's variables are documented ones",
         run.options_documented),
        ("the unit's ExecStart with the environment file: the server starts, answers "
         "/healthz and /readyz, keeps its directories 0700, stops with 0", run.unit_starts),
        ("the erasures unit's command writes the list whole", run.erasures_unit_runs),
    ]
    tap = Tap(len(cases))
    try:
        for name, fn in cases:
            tap.case(name, fn)
    finally:
        run.cleanup()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
