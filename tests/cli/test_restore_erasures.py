#!/usr/bin/python3
"""test_restore_erasures.py PATH/TO/pitboss — a restore never gives erased personal data
back (speaks TAP). A backup is taken while the server runs; two players are erased after
it (GDPR Art. 17, through the staff API); `pitboss erasures` lists them. Restoring the
backup over the database that erased them erases them again in the restored copy (email,
names, date of birth, sessions; closed; audited by "system" "restore" and announced as
player.erased), the third player untouched, the erased emails in no byte of the file,
the ledger and the audit chain verified; its `platform.restored` event takes the id
after the replaced database's newest, so no event id names two events. A lost database: restored into a new file the
copy gives the data back without the list, and not with `--erasures FILE`; the event
ids skip as far as one a microsecond since the copy's newest event. A replaced
database that cannot be read is said, and the file's erasures applied all the same. A bad
list restores nothing.

Usage: test_restore_erasures.py PATH/TO/pitboss
"""
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
from admin_helpers import Client, Env, Staff, expect  # noqa: E402
from harness import run_cases  # noqa: E402

PASSWORD = "Player-pass-77"


def rows(db, sql, *args):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


class Run:
    def __init__(self, env):
        self.env = env
        self.backup = os.path.join(env.dir, "before-erasures.db")
        self.ids = {}

    def restore(self, target, *extra):
        r = self.env.cli("restore", "--from", self.backup, "--db", target, "--keys-dir",
                         self.env.keys, *extra, check=False)
        line = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "{}"
        return r, json.loads(line)

    def person(self, db, name):
        """(status, erased_at, email, first name, last name, date of birth) in db."""
        got = rows(db, "SELECT p.status,p.erased_at,e.email,e.first_name,e.last_name,"
                   "e.date_of_birth FROM player p JOIN player_pii e ON e.player_id=p.id "
                   "WHERE p.public_id=?", self.ids[name])
        assert len(got) == 1, got
        return got[0]

    def assert_erased(self, db, name):
        status, erased_at, email, first, last, dob = self.person(db, name)
        assert status == "closed" and erased_at > 0, (name, status, erased_at)
        assert email == f"erased-{self.ids[name]}@erased.invalid", email
        assert (first, last, dob) == ("", "", ""), (first, last, dob)
        live = rows(db, "SELECT count(*) FROM auth_session s JOIN player p ON p.id=s.subject_id "
                    "WHERE s.subject_kind='player' AND p.public_id=? AND (s.ip<>'' OR "
                    "s.user_agent<>'' OR s.revoked_at=0)", self.ids[name])[0][0]
        assert live == 0, (name, "sessions left", live)

    def assert_whole(self, db, name):
        status, erased_at, email, first, last, dob = self.person(db, name)
        assert status == "active" and erased_at == 0, (name, status, erased_at)
        assert email == f"{name}@example.com" and first and last and dob, (email, first, dob)

    # ---- cases ----

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.9.10").activate("Blue-Falcon-0-Xy")
        expect(self.admin.call("POST", "/v1/admin/brands",
                               {"code": "alpha", "name": "Alpha", "default_currency": "EUR",
                                "currencies": ["EUR"], "jurisdiction": "MT",
                                "settings": {"erase_after_days": 0}}), 201)
        for n, name in enumerate(("alice", "bob", "carol")):
            c = Client(env, f"127.0.8.{n + 1}")
            body = {"brand": "alpha", "email": f"{name}@example.com", "password": PASSWORD,
                    "country": "MT", "date_of_birth": "1990-01-01",
                    "first_name": name.title(), "last_name": "Lindqvist"}
            self.ids[name] = expect(c.call("POST", "/v1/player/register", body), 201)["player"]["id"]
            # a session with its address and browser, as a real player leaves
            expect(c.call("POST", "/v1/player/login", {"brand": "alpha",
                                                       "email": f"{name}@example.com",
                                                       "password": PASSWORD},
                          headers={"User-Agent": "Firefox/128.0"}), 200)
        # the backup, online, before the erasures
        r = env.cli("backup", "--to", self.backup, "--db", env.db, "--keys-dir", env.keys)
        assert '"backup":"ok"' in r.stdout, r.stdout
        for name in ("alice", "carol"):
            expect(self.admin.call("POST", f"/v1/admin/players/{self.ids[name]}/erase",
                                   {"reason": f"DSR-{name}: the player asked to be erased"}), 200)
        assert env.stop() == 0
        self.assert_erased(env.db, "alice")
        self.assert_whole(self.backup, "alice")  # the backup holds what erasure removed

    def listed(self):
        r = self.env.cli("erasures", "--db", self.env.db)
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        assert sorted(x["player"] for x in lines) == sorted([self.ids["alice"], self.ids["carol"]]), lines
        for x in lines:
            assert x["brand"] == "alpha" and x["erased_at"].endswith("Z"), x
        self.list_file = os.path.join(self.env.dir, "erasures.jsonl")
        with open(self.list_file, "w") as f:
            f.write(r.stdout)

    def restored_event(self, db):
        got = rows(db, "SELECT id,brand,payload FROM event_outbox WHERE type='platform.restored'")
        assert len(got) == 1, got
        return got[0][0], got[0][1], json.loads(got[0][2])

    def over_the_database(self):
        db = self.env.db
        audit_before = rows(self.backup, "SELECT count(*) FROM audit_entry")[0][0]
        copy_newest = rows(self.backup, "SELECT max(id) FROM event_outbox")[0][0]
        replaced_newest = rows(db, "SELECT max(id) FROM event_outbox")[0][0]
        assert replaced_newest > copy_newest, (replaced_newest, copy_newest)  # the erasures'
        r, out = self.restore(db, "--replace")
        assert r.returncode == 0, r.stdout + r.stderr
        assert out["restore"] == "ok" and out["erasures_listed"] == 2, out
        assert out["erasures_reapplied"] == 2 and out["ledger_verify"] == "ok", out
        assert "erasures_of_replaced" not in out, out
        self.assert_erased(db, "alice")
        self.assert_erased(db, "carol")
        self.assert_whole(db, "bob")
        with open(db, "rb") as f:
            blob = f.read()
        assert b"bob@example.com" in blob, "the byte search works"
        for name in ("alice", "carol"):
            assert blob.find(f"{name}@example.com".encode()) < 0, (name, "email in the file")
        entries = rows(db, "SELECT actor_kind,actor_id,target_id,reason FROM audit_entry "
                       "WHERE action='player.erased' ORDER BY seq")
        assert len(entries) == 2, entries
        assert {e[2] for e in entries} == {self.ids["alice"], self.ids["carol"]}, entries
        for kind, actor, _, reason in entries:
            assert kind == "system" and actor == "restore", (kind, actor)
            assert reason.startswith("re-applied at restore: erased at 20"), reason
        assert rows(db, "SELECT count(*) FROM audit_entry")[0][0] == audit_before + 2
        # the restore's event takes the id after the replaced database's newest: no id the
        # lost events had names another event; the erasures' events come after it
        rid, brand, payload = self.restored_event(db)
        assert rid == replaced_newest + 1 and brand == "", (rid, replaced_newest)
        assert out["restored_event"] == rid and out["replaced"] == "read", out
        assert payload == {"copy_newest_event": copy_newest,
                           "copy_newest_event_at": payload["copy_newest_event_at"],
                           "skipped_from": copy_newest + 1, "skipped_to": replaced_newest,
                           "replaced": "read"}, payload
        assert out["event_ids_skipped_from"] == copy_newest + 1, out
        assert out["event_ids_skipped_to"] == replaced_newest, out
        events = rows(db, "SELECT subject,id FROM event_outbox WHERE type='player.erased'")
        assert sorted(e[0] for e in events) == sorted([self.ids["alice"], self.ids["carol"]]), events
        assert all(e[1] > rid for e in events), (events, rid)
        for cmd in (("ledger", "verify"), ("audit", "verify")):
            v = self.env.cli(*cmd, "--db", db, "--keys-dir", self.env.keys, check=False)
            assert v.returncode == 0 and " 0 violation(s)" in v.stdout, v.stdout + v.stderr
        # the server runs on it; the erased address registers again as a new player
        self.env.start()
        c = Client(self.env, "127.0.8.9")
        again = expect(c.call("POST", "/v1/player/register",
                              {"brand": "alpha", "email": "alice@example.com",
                               "password": PASSWORD, "country": "MT",
                               "date_of_birth": "1990-01-01"}), 201)["player"]
        assert again["id"] != self.ids["alice"], again
        assert self.env.stop() == 0
        reg = rows(db, "SELECT max(id) FROM event_outbox WHERE type='player.registered'")[0][0]
        assert reg > rid, (reg, rid)  # the server goes on above the restore's ids

    def lost_database(self):
        bare = os.path.join(self.env.dir, "bare.db")
        copy_newest, newest_at = rows(self.backup, "SELECT id,created_at FROM event_outbox "
                                      "ORDER BY id DESC LIMIT 1")[0]
        before = time.time_ns() // 1000
        r, out = self.restore(bare)
        after = time.time_ns() // 1000
        assert r.returncode == 0 and out["erasures_reapplied"] == 0, r.stdout + r.stderr
        # nothing says which ids the lost database gave: at most one event a microsecond
        # since the copy's newest, so the restore's event goes that far above it
        rid, _, payload = self.restored_event(bare)
        assert out["replaced"] == "none" and payload["replaced"] == "none", (out, payload)
        assert before - newest_at <= rid - copy_newest <= after - newest_at, (rid, copy_newest)
        assert payload["skipped_from"] == copy_newest + 1 and payload["skipped_to"] == rid - 1
        self.assert_whole(bare, "alice")  # without the list the copy gives the data back
        listed = os.path.join(self.env.dir, "listed.db")
        r, out = self.restore(listed, "--erasures", self.list_file)
        assert r.returncode == 0, r.stdout + r.stderr
        assert out["erasures_listed"] == 2 and out["erasures_reapplied"] == 2, out
        self.assert_erased(listed, "alice")
        self.assert_erased(listed, "carol")
        self.assert_whole(listed, "bob")

    def unreadable_replaced(self):
        target = os.path.join(self.env.dir, "foreign.db")
        con = sqlite3.connect(target)  # an SQLite file, not a pitboss database
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
        r, out = self.restore(target, "--replace", "--erasures", self.list_file)
        assert r.returncode == 0, r.stdout + r.stderr
        assert out["replaced"] == "unreadable", out
        assert "could not be read" in r.stderr, r.stderr
        assert out["erasures_reapplied"] == 2, out
        self.assert_erased(target, "carol")

    def bad_list(self):
        target = os.path.join(self.env.dir, "never.db")
        bad = os.path.join(self.env.dir, "bad.jsonl")
        for text, line in ((json.dumps({"player": self.ids["bob"]}) + "\nnot json\n", 2),
                           ('{"player":"ALICE; DROP"}\n', 1),
                           ('{"player":"%s","erased_at":"yesterday"}\n' % self.ids["bob"], 1)):
            with open(bad, "w") as f:
                f.write(text)
            r, _ = self.restore(target, "--erasures", bad)
            assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
            assert f"bad.jsonl:{line}:" in r.stderr, r.stderr
            assert not os.path.exists(target), "restored anyway"
        r, _ = self.restore(target, "--erasures", os.path.join(self.env.dir, "absent.jsonl"))
        assert r.returncode == 2 and "cannot be read" in r.stderr, r.stderr
        assert not os.path.exists(target)


def main():
    binary = sys.argv[1]
    env = Env(binary)
    run = Run(env)
    cases = [
        ("set-up: a backup while the server runs, then alice and carol erased through the API",
         run.setup),
        ("`pitboss erasures` lists the erased players (id, brand, time) as JSON lines",
         run.listed),
        ("restore over the database that erased them: both erased again in the copy (no "
         "email in the file's bytes, no names, sessions ended), bob whole, audited by "
         "system/restore, announced, verified; the server runs on it", run.over_the_database),
        ("a lost database: a restore into a new file gives the data back without the list, "
         "not with --erasures FILE", run.lost_database),
        ("a replaced database that cannot be read: said, the file's erasures applied",
         run.unreadable_replaced),
        ("a bad --erasures file (bad JSON, a bad id, a bad time, missing): exit 2 naming the "
         "line, nothing restored", run.bad_list),
    ]
    return run_cases(cases, env.cleanup)

if __name__ == "__main__":
    sys.exit(main())
