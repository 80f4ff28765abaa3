#!/usr/bin/env python3
"""test_keys_bind.py — a database and its keys directory belong together.

`pitboss serve` records a check value for each secret that seals data at rest
(totp.key, fair.key, provider.key, pii.key) and refuses to start, naming the
file and creating nothing, with a keys directory that lacks one of them (lost,
a restore without it) or holds another one (another database's). The right
directory starts again; `provider create` and `restore` refuse a wrong
directory too (`restore --no-verify` as well: it skips the verifications only).

Usage: test_keys_bind.py PATH/TO/pitboss   (speaks TAP)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SECRETS = ("totp.key", "fair.key", "provider.key", "pii.key")


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("PITBOSS_")}
    e["PITBOSS_PWHASH_COST"] = "min"
    e["PITBOSS_WAL_RESERVE"] = "0"
    return e


def serve(binary, db, keys, cwd):
    """Starts serve; (True, log) once it listens (then stopped), (False, log) if it exits."""
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--db", db,
                          "--keys-dir", keys], cwd=cwd, env=env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(p.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any('"event":"http.listening"' in line for line in list(lines)):
            p.terminate()
            p.wait(30)
            reader.join(10)
            return True, "".join(lines)
        if p.poll() is not None:
            reader.join(10)
            return False, "".join(lines)
        time.sleep(0.05)
    p.kill()
    raise RuntimeError("serve neither listened nor exited:\n" + "".join(lines))


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_keys_bind.py PATH/TO/pitboss")
        return 1
    binary = os.path.abspath(sys.argv[1])
    d = tempfile.mkdtemp(prefix="pbkeys.")
    db, keys = os.path.join(d, "pitboss.db"), os.path.join(d, "keys")
    cases = []

    def case(name, fn):
        cases.append((name, fn))

    def first_start():
        ok, log = serve(binary, db, keys, d)
        assert ok, log
        for name in SECRETS:
            assert os.path.exists(os.path.join(keys, name)), name
        rows = subprocess.run(["sqlite3", db, "SELECT name, length(kcv) FROM key_check "
                               "ORDER BY name"], capture_output=True, text=True).stdout.split()
        assert rows == ["fair.key|16", "pii.key|16", "provider.key|16", "totp.key|16"], rows

    def lost_directory():
        empty = os.path.join(d, "empty-keys")
        ok, log = serve(binary, db, empty, d)
        assert not ok, "started with an empty keys directory"
        assert "totp.key is missing, but this database has data sealed under it" in log, log
        assert not os.path.exists(os.path.join(empty, "totp.key")), "a new secret was created"

    def one_file_missing():
        other = os.path.join(d, "other-keys")
        shutil.copytree(keys, other)
        os.remove(os.path.join(other, "pii.key"))
        ok, log = serve(binary, db, other, d)
        assert not ok and "pii.key is missing" in log, log
        assert not os.path.exists(os.path.join(other, "pii.key"))

    def another_key():
        other = os.path.join(d, "other-keys")
        with open(os.path.join(other, "pii.key"), "wb") as f:
            f.write(os.urandom(32))
        os.chmod(os.path.join(other, "pii.key"), 0o600)
        ok, log = serve(binary, db, other, d)
        assert not ok and "pii.key is not the key this database's data is sealed under" in log, log

    def right_directory():
        ok, log = serve(binary, db, keys, d)
        assert ok, log

    def provider_create():
        r = subprocess.run([binary, "provider", "create", "--code", "studio", "--name", "Studio",
                            "--protocol", "native", "--db", db, "--keys-dir",
                            os.path.join(d, "other-keys")], capture_output=True, text=True,
                           env=env(), cwd=d)
        assert r.returncode != 0 and "pii.key is not the key" in r.stderr, r.stderr
        n = subprocess.run(["sqlite3", db, "SELECT count(*) FROM provider"],
                           capture_output=True, text=True).stdout.strip()
        assert n == "0", n
        r = subprocess.run([binary, "provider", "create", "--code", "studio", "--name", "Studio",
                            "--protocol", "native", "--db", db, "--keys-dir", keys],
                           capture_output=True, text=True, env=env(), cwd=d)
        assert r.returncode == 0, r.stderr

    def restore():
        copy = os.path.join(d, "copy.db")
        r = subprocess.run([binary, "backup", "--db", db, "--to", copy, "--keys-dir", keys],
                           capture_output=True, text=True, env=env(), cwd=d)
        assert r.returncode == 0, r.stderr
        # --no-verify skips the ledger and audit verifications, never the key check
        for wrong, why, extra in ((os.path.join(d, "other-keys"), "pii.key is not the key", []),
                                  (os.path.join(d, "empty-keys"), "totp.key is missing", []),
                                  (os.path.join(d, "other-keys"), "pii.key is not the key",
                                   ["--no-verify"]),
                                  (os.path.join(d, "empty-keys"), "totp.key is missing",
                                   ["--no-verify"])):
            target = os.path.join(d, "restored.db")
            r = subprocess.run([binary, "restore", "--from", copy, "--db", target,
                                "--keys-dir", wrong] + extra, capture_output=True, text=True,
                               env=env(), cwd=d)
            assert r.returncode == 2 and why in r.stderr, (r.returncode, r.stderr)
            assert "do not belong together" in r.stderr, r.stderr
            assert not os.path.exists(target), "restored anyway"
        r = subprocess.run([binary, "restore", "--from", copy, "--db",
                            os.path.join(d, "restored.db"), "--keys-dir", keys],
                           capture_output=True, text=True, env=env(), cwd=d)
        assert r.returncode == 0, r.stderr
        # --no-verify with the right directory: restored, the verifications not run
        target = os.path.join(d, "restored-nv.db")
        r = subprocess.run([binary, "restore", "--from", copy, "--db", target, "--keys-dir",
                            keys, "--no-verify"], capture_output=True, text=True, env=env(),
                           cwd=d)
        assert r.returncode == 0 and os.path.exists(target), (r.returncode, r.stderr)
        assert "ledger_verify" not in r.stdout, r.stdout

    def restore_older_backup():
        # a backup taken before the upgrade that added key_check (0028): restore reads
        # the copy unmigrated, finds nothing recorded and puts it in place; serve then
        # migrates it and records the values
        copy = os.path.join(d, "old-copy.db")
        r = subprocess.run([binary, "backup", "--db", db, "--to", copy, "--keys-dir", keys],
                           capture_output=True, text=True, env=env(), cwd=d)
        assert r.returncode == 0, r.stderr
        subprocess.run(["sqlite3", copy, "DROP TABLE key_check; "
                        "DELETE FROM schema_migrations WHERE version = 28"], check=True)
        target = os.path.join(d, "restored-old.db")
        r = subprocess.run([binary, "restore", "--from", copy, "--db", target,
                            "--keys-dir", keys], capture_output=True, text=True, env=env(),
                           cwd=d)
        assert r.returncode == 0, (r.returncode, r.stderr)
        assert os.path.exists(target), "not restored"

    case("first start: the four secrets created and their check values recorded", first_start)
    case("a start with an empty keys directory is refused naming totp.key; nothing created",
         lost_directory)
    case("a start with pii.key missing is refused naming it; it is not created",
         one_file_missing)
    case("a start with another pii.key is refused naming it", another_key)
    case("the database's own keys directory starts", right_directory)
    case("provider create refuses another keys directory (nothing written), takes the right one",
         provider_create)
    case("restore refuses a backup with another or an empty keys directory (nothing put in "
         "place), with --no-verify too; takes the right one, with --no-verify too", restore)
    case("restore takes a backup taken before key check values existed", restore_older_backup)
    print(f"1..{len(cases)}")
    failed = 0
    try:
        for i, (name, fn) in enumerate(cases, 1):
            try:
                fn()
                print(f"ok {i} - {name}")
            except Exception as e:  # noqa: BLE001 - reported as TAP
                failed += 1
                print(f"not ok {i} - {name}")
                for line in str(e).splitlines()[-15:]:
                    print(f"# {line}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
