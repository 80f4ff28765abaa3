"""test_demo_run.py PITBOSS — `make run`'s demo casino and the README walkthrough.

Runs scripts/run.sh (BUILD = the directory of PITBOSS) on a fresh database and keys
directory, on a free port, and checks what it set up: the native provider with its
secret file (0600), the Hub88 provider with its RSA key pair, five games in the four
categories with EUR and USD limits, enabled for the demo brand. Then it runs the
README's "Try it: deposit, play, withdraw" shell blocks AS WRITTEN (only the server
URL, the binary and the keys directory substituted): a player deposits through the
sandbox PSP, plays through `pitboss sim provider --email`, withdraws, and the admin
run.sh created approves it; the withdrawal must end "paid" and the simulator OK.
A second run.sh on the same database must create nothing new. Finally the server
stops cleanly and `ledger verify` passes. Needs curl, jq, oathtool and openssl
(scripts/deps.sh installs them).
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
from harness import Tap, binary_from_argv  # noqa: E402

BIN = binary_from_argv()
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TMP = tempfile.mkdtemp(prefix="pbdemo.")
DB = os.path.join(TMP, "pitboss.db")
KEYS = os.path.join(TMP, "keys")


class RunSh:
    """scripts/run.sh in the background; its stdout and stderr kept."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
        env.update({"BUILD": os.path.dirname(BIN), "DB": DB, "PITBOSS_KEYS_DIR": KEYS,
                    "PITBOSS_LISTEN": "127.0.0.1:0"})
        self.proc = subprocess.Popen([os.path.join(ROOT, "scripts", "run.sh")], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        self.out, self.err, self.url = [], [], None
        self.ready = threading.Event()
        threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True).start()
        if not self.ready.wait(120):
            raise RuntimeError("run.sh did not start the server:\n" + "".join(self.out + self.err))

    def _read(self, f, into):
        for line in f:
            into.append(line)
            if '"event":"http.listening"' in line:
                self.url = json.loads(line)["url"]
                self.ready.set()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)  # run.sh exec'd pitboss serve
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def cli(*args):
    return subprocess.run([BIN, *args, "--db", DB], capture_output=True, text=True, timeout=60)


def readme_script(url, otp):
    """The README's walkthrough blocks, with this server, binary and keys substituted."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text.split("## Try it: deposit, play, withdraw", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    script = "set -e\nOTP='%s'\n" % otp + "\n".join(blocks)
    script = script.replace("U=http://127.0.0.1:8080", "U=" + url)
    script = script.replace("build/pitboss", BIN).replace("var/keys", KEYS)
    return script, len(blocks)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def main():
    tap = Tap(8)
    run = None
    try:
        run = RunSh()
        out = "".join(run.out)
        tap.ok(os.path.exists(os.path.join(KEYS, "demo-studio.secret")) and
               mode(os.path.join(KEYS, "demo-studio.secret")) == 0o600 and
               re.fullmatch(r"[0-9a-f]{64}\n",
                            open(os.path.join(KEYS, "demo-studio.secret")).read()) is not None and
               mode(os.path.join(KEYS, "hub88-demo.key")) == 0o600 and
               "BEGIN PUBLIC KEY" in open(os.path.join(KEYS, "hub88-demo.pub")).read(),
               "the native secret (hex, 0600) and the Hub88 RSA key pair are in the keys dir",
               lambda: out + str(os.listdir(KEYS)))
        providers = cli("provider", "list").stdout
        tap.ok(re.search(r"^provider demo-studio .*protocol=native", providers, re.M) and
               re.search(r"^provider hub88-demo .*protocol=hub88", providers, re.M),
               "providers demo-studio (native) and hub88-demo (hub88)", providers)
        games = cli("game", "list", "--brand", "demo").stdout
        cats = set(re.findall(r"category=(\w+)", games))
        tap.ok(len(games.splitlines()) == 5 and cats == {"slots", "crash", "table", "live"} and
               all("EUR:" in g and "USD:" in g for g in games.splitlines()),
               "five games in slots/crash/table/live, EUR and USD limits, on for the demo brand",
               games)
        m = re.search(r"one-time password: (\S+)", out)
        tap.ok(m and "sim provider --url" in out and "demo-studio.secret" in out,
               "run.sh prints the admin's one-time password and the walkthrough", out)

        script, nblocks = readme_script(run.url, m.group(1) if m else "")
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300,
                           cwd=TMP)
        tail = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        tap.ok(nblocks == 2 and r.returncode == 0 and "result: OK" in r.stdout and
               '"status":"paid"' in tail,
               "the README walkthrough: deposit, play through the simulator, withdraw, approve, paid",
               lambda: f"exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}")

        code = run.stop()
        run = None
        again = RunSh()
        again_out = "".join(again.out)
        tap.ok("run: provider" not in again_out and "one-time password" not in again_out
               and len(cli("game", "list", "--brand", "demo").stdout.splitlines()) == 5,
               "a second run.sh keeps what exists (no new provider, game or admin)", again_out)
        code2 = again.stop()
        tap.ok(code == 0 and code2 == 0, "the server stops cleanly both times",
               f"exits {code} {code2}")
        v = cli("ledger", "verify")
        tap.ok(v.returncode == 0 and " 0 violation(s)" in v.stdout, "ledger verify passes",
               v.stdout + v.stderr)
    except Exception:
        import traceback
        tap.ok(False, "the test ran to its end", traceback.format_exc())
    finally:
        if run:
            run.proc.kill()
        shutil.rmtree(TMP, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
