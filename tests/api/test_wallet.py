"""test_wallet.py — the player's wallet over real HTTP: balances, staff
adjustments (the way money is put on a wallet by hand, audited, idempotent),
the transaction history (merged cash and bonus, filters, cursor pages), one
transaction, and bad input refused with nothing changed. Ends with
`pitboss ledger verify` and `pitboss audit verify` on the database the run wrote.

Usage: test_wallet.py PATH/TO/pitboss
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_helpers import Client, Env, Staff, create_staff, expect, register_player  # noqa: E402
from harness import run_cases  # noqa: E402

PASSWORD = "Player-pass-77"


class Run:
    def __init__(self, env):
        self.env = env
        self.n = 0

    def key(self):
        self.n += 1
        return f"adj-{self.n}"

    def setup(self):
        env = self.env
        otp = env.bootstrap_admin("root@example.com")
        env.start()
        self.admin = Staff(env, "root@example.com", otp, "127.0.2.10").activate("Blue-Falcon-0-Xy")
        for code in ("alpha", "beta"):
            expect(self.admin.call("POST", "/v1/admin/brands",
                                   {"code": code, "name": code.title(), "default_currency": "EUR",
                                    "currencies": ["EUR", "JPY"], "jurisdiction": "MT"}), 201)
        self.finance = create_staff(env, self.admin, "fin@example.com", "finance", "127.0.2.11",
                                    brands=["alpha"]).activate("Blue-Falcon-1-Xy")
        self.support = create_staff(env, self.admin, "sup@example.com", "support", "127.0.2.12",
                                    brands=["alpha"]).activate("Blue-Falcon-2-Xy")
        self.client = Client(env, "127.0.2.20")
        self.alice = register_player(self.client, "alpha", "alice@example.com")
        self.bob = register_player(self.client, "alpha", "bob@example.com")
        self.yuki = register_player(self.client, "alpha", "yuki@example.com", currency="JPY")
        self.carol = register_player(self.client, "beta", "carol@example.com")
        self.tokens = {}
        for name, brand, email in (("alice", "alpha", "alice@example.com"),
                                   ("bob", "alpha", "bob@example.com"),
                                   ("yuki", "alpha", "yuki@example.com")):
            r = expect(self.client.call("POST", "/v1/player/login",
                                        {"brand": brand, "email": email, "password": PASSWORD}), 200)
            self.tokens[name] = r["access_token"]

    def wallet(self, who):
        return expect(self.client.call("GET", "/v1/player/wallet", token=self.tokens[who]), 200)

    def adjust(self, staff, player, balance, direction, amount, key=None, reason="test"):
        return staff.call("POST", f"/v1/admin/players/{player}/adjustments",
                          {"balance": balance, "direction": direction, "amount": amount,
                           "reason": reason, "idempotency_key": key or self.key()})

    def ledger_rows(self):
        return self.env.rows("SELECT count(*) FROM ledger_transfer")[0][0]

    def zero_wallet(self):
        w = self.wallet("alice")
        assert w == {"currency": "EUR", "cash": "0.00", "bonus": "0.00", "held": "0.00",
                     "withdrawable": "0.00", "total": "0.00"}, w
        w = self.wallet("yuki")
        assert w["currency"] == "JPY" and w["cash"] == "0", w

    def adjustments(self):
        r = expect(self.adjust(self.finance, self.alice, "cash", "credit", "100.00"), 201)
        assert r["replayed"] is False and r["balance"]["cash"] == "100.00", r
        r = expect(self.adjust(self.finance, self.alice, "bonus", "credit", "25.50"), 201)
        assert r["balance"]["bonus"] == "25.50" and r["balance"]["total"] == "125.50", r
        r = expect(self.adjust(self.finance, self.alice, "cash", "debit", "10.00"), 201)
        assert r["balance"]["cash"] == "90.00", r
        w = self.wallet("alice")
        assert (w["cash"], w["bonus"], w["withdrawable"], w["total"]) == \
            ("90.00", "25.50", "90.00", "115.50"), w
        r = expect(self.adjust(self.finance, self.yuki, "cash", "credit", "500"), 201)
        assert r["balance"]["cash"] == "500", r

    def adjustment_audited(self):
        rows = self.env.rows("SELECT action, target_id, reason, before, after FROM "
                             "audit_entry WHERE action='player.adjust' ORDER BY seq")
        assert len(rows) == 4, rows
        action, target, reason, before, after = rows[0]
        assert target == self.alice and reason == "test", rows[0]
        assert '"cash":"0.00"' in before and '"cash":"100.00"' in after, rows[0]

    def replay_and_conflict(self):
        before = self.ledger_rows()
        r1 = expect(self.adjust(self.finance, self.bob, "cash", "credit", "7.00", key="same"), 201)
        r2 = expect(self.adjust(self.finance, self.bob, "cash", "credit", "7.00", key="same"), 200)
        assert r2["replayed"] is True and r2["transfer_id"] == r1["transfer_id"], (r1, r2)
        expect(self.adjust(self.finance, self.bob, "cash", "credit", "8.00", key="same"), 409,
               "IDEMPOTENCY_CONFLICT")
        assert self.ledger_rows() == before + 1
        assert self.wallet("bob")["cash"] == "7.00"
        audits = self.env.rows("SELECT count(*) FROM audit_entry WHERE action='player.adjust' AND "
                               "target_id=?", self.bob)[0][0]
        assert audits == 1, audits

    def insufficient(self):
        before = self.ledger_rows()
        expect(self.adjust(self.finance, self.bob, "cash", "debit", "7.01"), 422,
               "INSUFFICIENT_FUNDS")
        expect(self.adjust(self.finance, self.bob, "bonus", "debit", "0.01"), 422,
               "INSUFFICIENT_FUNDS")
        assert self.ledger_rows() == before
        assert self.wallet("bob")["cash"] == "7.00"

    def scope_and_permission(self):
        before = self.ledger_rows()
        expect(self.adjust(self.support, self.alice, "cash", "credit", "1.00"), 403, "FORBIDDEN")
        expect(self.adjust(self.finance, self.carol, "cash", "credit", "1.00"), 404,
               "PLAYER_NOT_FOUND")
        expect(self.adjust(self.finance, "0190aaaa-0000-7000-8000-000000000000", "cash", "credit",
                           "1.00"), 404, "PLAYER_NOT_FOUND")
        assert self.ledger_rows() == before

    def bad_inputs(self):
        before = self.ledger_rows()
        base = {"balance": "cash", "direction": "credit", "amount": "1.00", "reason": "x",
                "idempotency_key": "k-bad"}
        cases = [
            ({"balance": "gold"}, 422, "FIELD_INVALID"),
            ({"direction": "up"}, 422, "FIELD_INVALID"),
            ({"amount": "1.001"}, 422, "AMOUNT_INVALID"),
            ({"amount": "-1.00"}, 422, "AMOUNT_INVALID"),
            ({"amount": "0.00"}, 422, "AMOUNT_INVALID"),
            ({"amount": "1e3"}, 422, "AMOUNT_INVALID"),
            ({"amount": "92233720368547758.08"}, 422, "AMOUNT_INVALID"),  # INT64_MAX + 1 cent
            ({"amount": "99999999999999999999999"}, 422, "AMOUNT_INVALID"),
            ({"amount": 5}, 422, "FIELD_INVALID"),
            ({"reason": ""}, 422, "FIELD_INVALID"),
            ({"reason": "   "}, 422, "FIELD_INVALID"),
            ({"idempotency_key": "has space"}, 422, "FIELD_INVALID"),
            ({"extra": 1}, 400, "UNKNOWN_FIELD"),
        ]
        for change, status, code in cases:
            body = dict(base, **change)
            r = self.finance.call("POST", f"/v1/admin/players/{self.alice}/adjustments", body)
            expect(r, status, code)
        for missing in base:
            body = {k: v for k, v in base.items() if k != missing}
            expect(self.finance.call("POST", f"/v1/admin/players/{self.alice}/adjustments", body),
                   422, "FIELD_MISSING")
        r = self.finance.call("POST", f"/v1/admin/players/{self.alice}/adjustments",
                              raw=b"{not json")
        expect(r, 400, "INVALID_JSON")
        # JPY has no decimals
        expect(self.adjust(self.finance, self.yuki, "cash", "credit", "1.5"), 422, "AMOUNT_INVALID")
        assert self.ledger_rows() == before

    def history(self):
        t = self.tokens["alice"]
        r = expect(self.client.call("GET", "/v1/player/transactions", token=t), 200)
        items = r["items"]
        assert r["next_cursor"] is None, r
        assert [(i["type"], i["balance"], i["amount"]) for i in items] == [
            ("adjustment", "cash", "-10.00"), ("bonus_grant", "bonus", "25.50"),
            ("adjustment", "cash", "100.00")], items
        assert all(i["status"] == "posted" and i["currency"] == "EUR" for i in items), items
        # pages of one cover the same lines in the same order
        seen, cursor = [], None
        for _ in range(10):
            q = "/v1/player/transactions?limit=1" + (f"&cursor={cursor}" if cursor else "")
            r = expect(self.client.call("GET", q, token=t), 200)
            seen += [i["id"] for i in r["items"]]
            cursor = r["next_cursor"]
            if not cursor:
                break
        assert seen == [i["id"] for i in items], (seen, items)
        r = expect(self.client.call("GET", "/v1/player/transactions?type=bonus_grant", token=t), 200)
        assert [i["amount"] for i in r["items"]] == ["25.50"], r
        r = expect(self.client.call("GET", "/v1/player/transactions?from=2099-01-01T00:00:00Z",
                                    token=t), 200)
        assert r["items"] == [], r
        one = expect(self.client.call("GET", f"/v1/player/transactions/{items[1]['id']}",
                                      token=t), 200)
        assert one == items[1], (one, items[1])
        self.alice_tx = items[0]["id"]

    def history_refused(self):
        t = self.tokens["alice"]
        for q, field in (("limit=0", "limit"), ("limit=201", "limit"), ("type=jackpot", "type"),
                         ("cursor=abc", "cursor"), ("cursor=1.2.3", "cursor"),
                         ("from=yesterday", "from"),
                         ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to")):
            r = self.client.call("GET", f"/v1/player/transactions?{q}", token=t)
            body = expect(r, 422, "FIELD_INVALID")
            assert body["error"].get("field") == field, (q, body)
        # another player's transaction, and a non-id, are not found
        expect(self.client.call("GET", f"/v1/player/transactions/{self.alice_tx}",
                                token=self.tokens["bob"]), 404, "TRANSFER_NOT_FOUND")
        expect(self.client.call("GET", "/v1/player/transactions/not-an-id",
                                token=self.tokens["bob"]), 404, "TRANSFER_NOT_FOUND")
        expect(self.client.call("GET", "/v1/player/transactions"), 401, "UNAUTHENTICATED")
        expect(self.client.call("GET", "/v1/player/wallet", token=self.admin.token), 401)

    def history_filtered_pages(self):
        t = self.tokens["alice"]
        # more lines, so that a filter and a cursor work together over several pages
        for amount in ("1.00", "2.00", "3.00"):
            expect(self.adjust(self.finance, self.alice, "bonus", "credit", amount), 201)
        expect(self.adjust(self.finance, self.alice, "bonus", "debit", "0.50"), 201)
        seen, cursor = [], None
        for _ in range(10):
            q = "/v1/player/transactions?type=bonus_grant&limit=2" + \
                (f"&cursor={cursor}" if cursor else "")
            r = expect(self.client.call("GET", q, token=t), 200)
            seen += [i["amount"] for i in r["items"]]
            assert all(i["type"] == "bonus_grant" for i in r["items"]), r
            cursor = r["next_cursor"]
            if not cursor:
                break
        assert seen == ["3.00", "2.00", "1.00", "25.50"], seen
        # a time window: everything up to now, nothing before the first line
        full = expect(self.client.call("GET", "/v1/player/transactions", token=t), 200)["items"]
        first = full[-1]["created_at"]
        r = expect(self.client.call("GET", f"/v1/player/transactions?to={first}", token=t), 200)
        assert r["items"] == [], r  # `to` is exclusive
        r = expect(self.client.call("GET", f"/v1/player/transactions?from={first}&limit=200",
                                    token=t), 200)
        assert [i["id"] for i in r["items"]] == [i["id"] for i in full], r
        # alice's cursor is no key to bob's history
        r = expect(self.client.call("GET", "/v1/player/transactions?limit=1", token=t), 200)
        body = expect(self.client.call("GET", "/v1/player/transactions?cursor="
                                       f"{r['next_cursor']}", token=self.tokens["bob"]),
                      422, "FIELD_INVALID")
        assert body["error"].get("field") == "cursor", body

    def held_and_pending(self):
        t = self.tokens["alice"]
        before = self.wallet("alice")
        assert (before["cash"], before["held"]) == ("90.00", "0.00"), before
        w = expect(self.client.call("POST", "/v1/player/withdrawals",
                                    {"amount": "30.00", "idempotency_key": "wd-1"}, token=t), 201)
        b = self.wallet("alice")
        assert (b["cash"], b["held"], b["withdrawable"]) == ("90.00", "30.00", "60.00"), b
        assert (b["bonus"], b["total"]) == ("31.00", "91.00"), b  # total = withdrawable + bonus
        top = expect(self.client.call("GET", "/v1/player/transactions?limit=1", token=t), 200)
        line = top["items"][0]
        assert (line["type"], line["balance"], line["amount"], line["status"]) == \
            ("withdrawal", "cash", "-30.00", "pending"), line
        expect(self.client.call("DELETE", f"/v1/player/withdrawals/{w['id']}", token=t), 200)
        b = self.wallet("alice")
        assert (b["cash"], b["held"], b["withdrawable"]) == ("90.00", "0.00", "90.00"), b
        top = expect(self.client.call("GET", "/v1/player/transactions?limit=2", token=t), 200)
        assert [(i["status"], i["amount"]) for i in top["items"]] == \
            [("voided", "-30.00"), ("pending", "-30.00")], top
        one = expect(self.client.call("GET", f"/v1/player/transactions/{top['items'][0]['id']}",
                                      token=t), 200)
        assert one == top["items"][0], one

    def self_adjust(self):
        # a finance member's own player account (the player's e-mail is theirs): one
        # person through two accounts, as the cashier refuses their own withdrawal
        me = register_player(self.client, "alpha", "Fin@EXAMPLE.com")  # stored lower-case
        before = self.ledger_rows()
        for direction in ("credit", "debit"):
            expect(self.adjust(self.finance, me, "cash", direction, "50.00"), 403,
                   "FOUR_EYES_VIOLATION")
        assert self.ledger_rows() == before
        assert not self.env.rows("SELECT 1 FROM audit_entry WHERE action='player.adjust' AND "
                                 "target_id=?", me)
        # another staff member may
        r = expect(self.adjust(self.admin, me, "cash", "credit", "50.00"), 201)
        assert r["balance"]["cash"] == "50.00", r

    def closed_player(self):
        # an erased (closed) account: nothing may land in it, nobody can take it out
        gone = register_player(self.client, "alpha", "gone@example.com")
        first = expect(self.adjust(self.finance, gone, "cash", "credit", "5.00", key="pre-erase"),
                       201)
        expect(self.adjust(self.finance, gone, "cash", "debit", "5.00"), 201)
        expect(self.admin.call("PATCH", "/v1/admin/brands/alpha",
                               {"settings": {"erase_after_days": 0}}), 200)
        expect(self.admin.call("POST", f"/v1/admin/players/{gone}/erase",
                               {"reason": "GDPR request"}), 200)
        before = self.ledger_rows()
        for balance in ("cash", "bonus"):
            for direction in ("credit", "debit"):
                expect(self.adjust(self.finance, gone, balance, direction, "1.00"), 409,
                       "PLAYER_ERASED")
        assert self.ledger_rows() == before
        # the retry of an adjustment made before the erasure still gets its answer
        r = expect(self.adjust(self.finance, gone, "cash", "credit", "5.00", key="pre-erase"), 200)
        assert r["replayed"] is True and r["transfer_id"] == first["transfer_id"], r
        assert r["balance"]["cash"] == "0.00", r
        assert self.ledger_rows() == before
        # blocked and self-excluded players stay adjustable (corrections, refunds owed)
        expect(self.admin.call("POST", f"/v1/admin/players/{self.bob}/block",
                               {"reason": "review"}), 200)
        expect(self.adjust(self.finance, self.bob, "cash", "credit", "1.00"), 201)

    def stop_and_verify(self):
        assert self.env.stop() == 0
        r = self.env.cli("ledger", "verify", "--db", self.env.db, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        r = self.env.cli("audit", "verify", "--db", self.env.db, "--keys-dir", self.env.keys,
                         check=False)
        assert r.returncode == 0, r.stdout + r.stderr


def main():
    if len(sys.argv) < 2:
        print("1..0 # SKIP usage: test_wallet.py PATH/TO/pitboss")
        return 1
    env = Env(os.path.abspath(sys.argv[1]))
    run = Run(env)
    cases = [
        ("setup: brands, finance and support staff, players in EUR and JPY", run.setup),
        ("a new wallet reads zeros in the player's currency", run.zero_wallet),
        ("adjustments: cash and bonus credits and debits move the balances", run.adjustments),
        ("every adjustment is audited with the balances before and after", run.adjustment_audited),
        ("the same idempotency key replays (200, no second transfer or entry); "
         "another request under it is IDEMPOTENCY_CONFLICT", run.replay_and_conflict),
        ("a debit beyond the balance is INSUFFICIENT_FUNDS and moves nothing", run.insufficient),
        ("support may not adjust; another brand's player is 404; nothing moves", run.scope_and_permission),
        ("bad adjustment input: 4xx with stable codes, the ledger unchanged", run.bad_inputs),
        ("history: merged newest first, signed amounts, pages, filters, one line", run.history),
        ("history refusals: bad parameters name their field; others' lines are 404", run.history_refused),
        ("history: a type filter over cursor pages, a time window, a cursor is the player's own",
         run.history_filtered_pages),
        ("a withdrawal in review: held, withdrawable, a pending line; cancelled: a voided line",
         run.held_and_pending),
        ("a staff member may not adjust their own player account (same e-mail): "
         "FOUR_EYES_VIOLATION, nothing moves", run.self_adjust),
        ("a closed (erased) player takes no adjustment: PLAYER_ERASED, nothing moves; "
         "a retry from before the erasure replays", run.closed_player),
        ("SIGTERM exits 0; `ledger verify` and `audit verify` pass", run.stop_and_verify),
    ]
    return run_cases(cases, env.cleanup)


if __name__ == "__main__":
    sys.exit(main())
