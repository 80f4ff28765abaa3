"""bank_checks.py — the final checks of the crash bank test, on the database the
server wrote (crash_bank.py runs them once the server has stopped).

From the clients' op log (bank_clients.Op) it derives what the database must hold,
and compares:
  presence     every acknowledged op is there exactly once (payment, wallet_op,
               in-house game round with its two wallet ops, withdrawal, approval,
               adjustment transfer and its audit entry); a
               refused op left nothing but its stored refusal; no row that no op
               of the clients explains;
  transfers    the ledger's transfers are exactly the ones the acknowledged ops
               imply — keys, amounts, currencies — and nothing is half-applied: a
               wallet_op without its transfer or a game transfer without its
               wallet_op, a completed payment without its credit, a withdrawal
               whose status and hold transfers disagree, a bet row in the wrong state;
  balances     each player's cash and held in the ledger (the balance rows plus the
               transfers above their write-back mark) equal the client's model;
  conservation per currency: money in through the PSP = money out + every
               balance (players' and the casino's), and the same figures as the
               clients counted them.
Each check appends human-readable violations to a Report; `verified` counts the
ops whose own checks all passed.
"""
import sqlite3
from collections import defaultdict

from admin_helpers import live_balances

TRANSFER_PENDING = 1 << 1
ORIGINALS = "pitboss"  # the in-house games' provider code
KINDS = {"bet": 1, "win": 2, "rollback": 3}


class Report:
    def __init__(self):
        self.violations = defaultdict(list)  # category → messages
        self.verified = 0
        self.retried_verified = 0  # of them, ops retried after an unknown outcome
        self.figures = {}

    def bad(self, category, msg):
        self.violations[category].append(msg)

    def count(self, category=None):
        if category:
            return len(self.violations[category])
        return sum(len(v) for v in self.violations.values())

    def text(self, category, limit=20):
        v = self.violations[category]
        more = f"\n… and {len(v) - limit} more" if len(v) > limit else ""
        return "\n".join(v[:limit]) + more


class Db:
    """Every row the checks read, loaded once."""

    def __init__(self, path):
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            self.accounts = {r[0]: r[1:] for r in con.execute(
                "SELECT id, brand, owner, kind, currency FROM ledger_account")}
            self.transfers = defaultdict(list)
            for r in self.transfers_rows(con):
                self.transfers[(r[0], r[1])].append(r[2:])
            self.rejections = {(r[0], r[1]) for r in con.execute(
                "SELECT scope, ikey FROM ledger_rejection")}
            self.payments = defaultdict(list)
            self.payment_by_id = {}
            for r in con.execute("SELECT player, idempotency_key, id, status, amount, currency, "
                                 "transfer_id FROM payment"):
                self.payments[(r[0], r[1])].append(r[2:])
                self.payment_by_id[r[2]] = r[2:]
            self.wallet_ops = defaultdict(list)
            # a game op's ledger keys are "<ref>:c" / "<ref>:b": ref is "op:<uuid>" (the
            # first leg's key, found through wallet_op.transfer_id), "<tx_id>" before 0019
            key_of = {r[2]: (r[0], r[1]) for r in self.transfers_rows(con)}
            self.op_ref, self.ref_tx = {}, {}
            for r in con.execute("SELECT provider, tx_id, kind, result, amount, bet_unknown, "
                                 "player, currency, transfer_id FROM wallet_op"):
                self.wallet_ops[(r[0], r[1])].append(r[2:8])
                if r[8] is not None and r[8] in key_of:
                    ref = key_of[r[8]][1].rsplit(":", 1)[0]
                    self.op_ref[(r[0], r[1])] = ref
                    self.ref_tx[(r[0], ref)] = r[1]
            # a bet's state: its wallet_bet row (rolled back, tombstone, or placed before
            # 2026-11-22), else "placed" when its own operation row is an accepted bet
            self.bets = {(r[0], r[1]): r[2] for r in con.execute(
                "SELECT provider, bet_tx_id, state FROM wallet_bet")}
            for key, rows in self.wallet_ops.items():
                if key not in self.bets and any(k == 1 and res == "OK" for k, res, *_ in rows):
                    self.bets[key] = "placed"
            self.withdrawals = defaultdict(list)
            self.withdrawal_by_id = {}
            for r in con.execute("SELECT player, idempotency_key, id, status, amount, currency "
                                 "FROM withdrawal"):
                self.withdrawals[(r[0], r[1])].append(r[2:])
                self.withdrawal_by_id[r[2]] = r[2:]
            self.approvals = defaultdict(list)
            for wid, staff in con.execute("SELECT withdrawal_id, staff_id FROM withdrawal_approval"):
                self.approvals[wid].append(staff)
            self.rounds = defaultdict(list)
            for r in con.execute("SELECT player, idempotency_key, id, state, amount, payout "
                                 "FROM game_round"):
                self.rounds[(r[0], r[1])].append(r[2:])
            self.adjust_audit = defaultdict(int)
            for (reason,) in con.execute("SELECT reason FROM audit_entry "
                                         "WHERE action = 'player.adjust'"):
                self.adjust_audit[reason] += 1
        finally:
            con.close()
        self.balances = {r[0]: r[1:] for r in live_balances(path)}

    @staticmethod
    def transfers_rows(con):
        return con.execute("SELECT scope, ikey, id, amount, currency, flags, "
                           "debit_account_id, credit_account_id FROM ledger_transfer").fetchall()

    def leg(self, provider, tx, leg):
        """The (scope, key) of a game op's cash ("c") or bonus ("b") leg."""
        return ("game:" + provider, self.op_ref.get((provider, tx), tx) + ":" + leg)


def expected_transfers(db, ops, brand, provider, final_status):
    """(scope, ikey) → (amount, currency, op) of every transfer the acknowledged ops imply."""
    want = {}
    for op in ops:
        if op.outcome != "ok":
            continue
        if op.kind == "deposit.confirm":
            want[("deposit", op.key)] = (op.amount, op.currency, op)
        elif op.kind in ("bet", "win") and op.amount > 0:
            want[db.leg(provider, op.key, "c")] = (op.amount, op.currency, op)
        elif op.kind == "rollback" and not op.extra.get("early"):
            want[db.leg(provider, op.key, "c")] = (op.amount, op.currency, op)
        elif op.kind == "original":
            rid = op.extra["round"]
            want[db.leg(ORIGINALS, rid + ":bet", "c")] = (op.amount, op.currency, op)
            if op.extra["payout"] > 0:
                want[db.leg(ORIGINALS, rid + ":win", "c")] = (op.extra["payout"], op.currency, op)
        elif op.kind == "withdrawal":
            wid = op.extra["id"]
            want[("withdrawal", wid + ":hold")] = (op.amount, op.currency, op)
            status = final_status.get(wid)
            if status == "paid":
                want[("withdrawal", wid + ":post")] = (op.amount, op.currency, op)
            elif status in ("failed", "cancelled", "rejected"):
                want[("withdrawal", wid + ":void")] = (op.amount, op.currency, op)
        elif op.kind == "adjustment":
            want[(f"adjustment:{brand}", op.key)] = (op.amount, op.currency, op)
    return want


def check_presence(db, ops, provider, rep):
    """Every op: present exactly once when acknowledged, absent (or a stored refusal)
    when refused; returns the set of ops that failed a check."""
    failed = set()
    rolled_back = {o.extra["bet"] for o in ops if o.kind == "rollback" and o.outcome == "ok"
                   and not o.extra.get("early")}
    tombstones = {o.extra["bet"] for o in ops if o.kind == "rollback" and o.outcome == "ok"
                  and o.extra.get("early")}

    def bad(op, msg):
        failed.add(id(op))
        rep.bad("presence", f"{msg}: {op!r}")

    for op in ops:
        if op.outcome is None:
            bad(op, "never answered")
            continue
        if op.extra.get("unexpected"):
            bad(op, f"unexpected answer {op.extra['unexpected']}")
        if op.extra.get("bad_signature"):
            bad(op, "the provider answer's signature is wrong")
        ok = op.outcome == "ok"
        pid = op.player.id if op.player else None
        if op.kind == "deposit":
            rows = db.payments.get((pid, op.key), [])
            if len(rows) != (1 if ok else 0):
                bad(op, f"{len(rows)} payment rows")
            elif ok and (rows[0][0] != op.extra["id"] or rows[0][2] != op.amount):
                bad(op, f"payment row {rows[0]}")
        elif op.kind == "deposit.confirm":
            row = db.payment_by_id.get(op.key)
            credit = db.transfers.get(("deposit", op.key), [])
            if ok and (not row or row[1] != "completed" or len(credit) != 1 or
                       row[4] != credit[0][0]):
                bad(op, f"payment {row}, credit {credit}")
            elif not ok and credit:
                bad(op, "refused, but credited")
        elif op.kind in KINDS:
            rows = db.wallet_ops.get((provider, op.key), [])
            if ok:
                if len(rows) != 1 or rows[0][0] != KINDS[op.kind] or rows[0][1] != "OK" or \
                        rows[0][4] != pid:
                    bad(op, f"wallet_op rows {rows}")
                elif op.kind != "rollback" and rows[0][2] != op.amount:
                    bad(op, f"wallet_op amount {rows[0][2]}")
                elif op.kind == "rollback" and rows[0][3] != (1 if op.extra.get("early") else 0):
                    bad(op, f"wallet_op bet_unknown {rows[0][3]}")
            elif len(rows) > 1 or (rows and rows[0][1] != op.code):
                bad(op, f"refused with {op.code}, wallet_op rows {rows}")
            if op.kind == "bet":
                state = db.bets.get((provider, op.key))
                want = "rolled_back" if op.key in rolled_back else "placed" if ok else None
                if op.key in tombstones:
                    want = "tombstone"
                if state != want:
                    bad(op, f"wallet_bet state {state}, want {want}")
        elif op.kind == "original":
            rows = db.rounds.get((pid, op.key), [])
            if len(rows) != (1 if ok else 0):
                bad(op, f"{len(rows)} game rounds")
            elif ok:
                rid, payout = op.extra["round"], op.extra["payout"]
                if rows[0] != (rid, "settled", op.amount, payout):
                    bad(op, f"game round {rows[0]}")
                bet = db.wallet_ops.get((ORIGINALS, rid + ":bet"), [])
                win = db.wallet_ops.get((ORIGINALS, rid + ":win"), [])
                if len(bet) != 1 or bet[0][:3] != (1, "OK", op.amount) or \
                        len(win) != 1 or win[0][:3] != (2, "OK", payout):
                    bad(op, f"the round's wallet ops: bet {bet}, win {win}")
        elif op.kind == "withdrawal":
            rows = db.withdrawals.get((pid, op.key), [])
            if len(rows) != (1 if ok else 0):
                bad(op, f"{len(rows)} withdrawal rows")
            elif ok and (rows[0][0] != op.extra["id"] or rows[0][2] != op.amount):
                bad(op, f"withdrawal row {rows[0]}")
        elif op.kind == "approve":
            n = db.approvals.get(op.key, []).count(op.staff)
            if n != (1 if ok else 0):
                bad(op, f"{n} approvals by {op.staff}")
        elif op.kind in ("reject", "cancel"):
            row = db.withdrawal_by_id.get(op.key)
            want = "rejected" if op.kind == "reject" else "cancelled"
            if ok and (not row or row[1] != want):
                bad(op, f"withdrawal {row}")
        elif op.kind == "adjustment":
            n = db.adjust_audit.get("crash test " + op.key, 0)
            if n != (1 if ok else 0):
                bad(op, f"{n} audit entries")
            if not ok and (db.brand_scope_key(op.key) not in db.rejections):
                bad(op, "refused, but no remembered rejection")
        if op.expect_refusal and ok:
            bad(op, "a request beyond the balance was accepted")
    # rows that no op of the clients explains
    keys = {(o.player.id, o.key) for o in ops if o.player and o.kind in ("deposit", "withdrawal")}
    for (player, key) in list(db.payments) + list(db.withdrawals):
        if (player, key) not in keys:
            rep.bad("presence", f"a payment or withdrawal no client asked for: {player} {key}")
    txs = {(provider, o.key) for o in ops if o.kind in KINDS}
    for o in ops:
        if o.kind == "original" and o.outcome == "ok":
            txs |= {(ORIGINALS, o.extra["round"] + ":bet"), (ORIGINALS, o.extra["round"] + ":win")}
    for key in db.wallet_ops:
        if key not in txs:
            rep.bad("presence", f"a wallet_op no client's operation explains: {key}")
    keys = {(o.player.id, o.key) for o in ops if o.kind == "original"}
    for key in db.rounds:
        if key not in keys:
            rep.bad("presence", f"a game round no client asked for: {key}")
    reasons = {"crash test " + o.key for o in ops if o.kind == "adjustment"}
    for reason in db.adjust_audit:
        if reason not in reasons:
            rep.bad("presence", f"an adjustment audit entry no client asked for: {reason}")
    return failed


def check_transfers(db, ops, brand, provider, final_status, rep):
    """The ledger holds exactly the transfers the acknowledged ops imply; nothing is
    half-applied. Returns the ids of the ops that failed."""
    failed = set()
    want = expected_transfers(db, ops, brand, provider, final_status)
    for key, (amount, currency, op) in want.items():
        got = db.transfers.get(key, [])
        if len(got) != 1 or got[0][1] != amount or got[0][2] != currency:
            failed.add(id(op))
            rep.bad("transfers", f"transfer {key}: want {amount} {currency}, got {got}: {op!r}")
    for key, rows in db.transfers.items():
        if key not in want:
            rep.bad("transfers", f"a transfer no acknowledged operation explains: {key} {rows}")
    for (prov, tx), rows in db.wallet_ops.items():  # a decided op and its money, together
        for kind, result, amount, unknown, _player, _cur in rows:
            legs = db.transfers.get(db.leg(prov, tx, "c"), []) + db.transfers.get(db.leg(prov, tx, "b"), [])
            moved = sum(t[1] for t in legs)
            should = result == "OK" and not unknown and (kind != 2 or amount > 0)
            if bool(legs) != should or (kind != 3 and legs and moved != amount):
                rep.bad("transfers", f"half-applied game op {prov} {tx}: {result} {amount}, "
                                     f"legs {legs}")
    for (scope, ikey) in db.transfers:
        if scope.startswith("game:"):
            ref = ikey.rsplit(":", 1)[0]
            tx = db.ref_tx.get((scope[5:], ref), ref)
            rows = db.wallet_ops.get((scope[5:], tx), [])
            if len(rows) != 1 or rows[0][1] != "OK":
                rep.bad("transfers", f"a game transfer without its wallet_op: {scope} {ikey} {rows}")
    for (_player, _key), rows in db.rounds.items():  # a round is settled with its money
        for rid, state, amount, payout in rows:
            bet = db.transfers.get(db.leg(ORIGINALS, rid + ":bet", "c"), [])
            win = db.transfers.get(db.leg(ORIGINALS, rid + ":win", "c"), [])
            if state != "settled" or len(bet) != 1 or bet[0][1] != amount or \
                    len(win) != (1 if payout else 0) or (win and win[0][1] != payout):
                rep.bad("transfers", f"game round {rid} {state} {amount}/{payout}: bet {bet}, "
                                     f"win {win}")
    for pid, (status, amount, _cur, tid) in ((k, v[1:]) for k, v in db.payment_by_id.items()):
        credit = db.transfers.get(("deposit", pid), [])
        if (status == "completed") != bool(credit) or (credit and credit[0][0] != tid):
            rep.bad("transfers", f"payment {pid} {status} with credit {credit}")
    for wid, (status, amount, _cur) in ((k, v[1:]) for k, v in db.withdrawal_by_id.items()):
        hold = db.transfers.get(("withdrawal", wid + ":hold"), [])
        post = db.transfers.get(("withdrawal", wid + ":post"), [])
        void = db.transfers.get(("withdrawal", wid + ":void"), [])
        want_post = status == "paid"
        want_void = status in ("failed", "cancelled", "rejected")
        if len(hold) != 1 or not hold[0][3] & TRANSFER_PENDING or bool(post) != want_post or \
                bool(void) != want_void:
            rep.bad("transfers", f"withdrawal {wid} {status}: hold {hold} post {post} void {void}")
    return failed


def player_accounts(db, brand, player, currency):
    out = {}
    for aid, (b, owner, kind, cur) in db.accounts.items():
        if b == brand and owner == "player:" + player and cur == currency:
            out[kind] = aid
    return out


def check_balances(db, brand, players, rep):
    """Each player's ledger balance equals the client's model."""
    for p in players:
        acc = player_accounts(db, brand, p.id, p.currency)
        cash = db.balances.get(acc.get("player_cash"), (0, 0, 0, 0))
        bonus = db.balances.get(acc.get("player_bonus"), (0, 0, 0, 0))
        got = (cash[3] - cash[1], cash[0], bonus[3] - bonus[1] - bonus[0])
        if got != (p.cash, p.held, 0):
            rep.bad("balances", f"player {p.id}: ledger (cash, held, bonus) {got}, "
                                f"model ({p.cash}, {p.held}, 0)")


def check_conservation(db, ops, players, rep):
    """Per currency: PSP in = PSP out + every balance; the clients' own totals agree."""
    cur_of = {}
    for aid, (_b, _owner, _kind, cur) in db.accounts.items():
        cur_of[aid] = cur
    figures = {}
    for cur in sorted({a[3] for a in db.accounts.values()}):
        psp_in = sum(v[2] for v in db.payment_by_id.values() if v[1] == "completed" and v[3] == cur)
        psp_out = sum(v[2] for v in db.withdrawal_by_id.values() if v[1] == "paid" and v[3] == cur)
        players_sum = casino = psp = total = 0
        for aid, (_dp, dpost, _cp, cpost) in db.balances.items():
            if cur_of.get(aid) != cur:
                continue
            bal = cpost - dpost
            total += bal
            owner, kind = db.accounts[aid][1], db.accounts[aid][2]
            if owner.startswith("player:"):
                players_sum += bal
            elif kind == "psp_clearing":
                psp += bal
            else:
                casino += bal
        model_in = sum(o.amount for o in ops if o.kind == "deposit.confirm" and o.outcome == "ok"
                       and o.currency == cur)
        model_players = sum(p.cash for p in players if p.currency == cur)
        figures[cur] = {"psp_in": psp_in, "psp_out": psp_out, "players": players_sum,
                        "casino": casino}
        if total != 0 or psp != psp_out - psp_in or players_sum + casino != psp_in - psp_out:
            rep.bad("conservation", f"{cur}: in {psp_in}, out {psp_out}, players {players_sum}, "
                                    f"casino {casino}, psp clearing {psp}, sum of all {total}")
        if model_in != psp_in or model_players != players_sum:
            rep.bad("conservation", f"{cur}: the clients counted in {model_in} and players "
                                    f"{model_players}; the server has {psp_in} and {players_sum}")
    rep.figures["currencies"] = figures


def check_all(path, ops, players, brand, provider, final_status):
    """Every check on the database at path; a Report."""
    rep = Report()
    db = Db(path)
    db.brand_scope_key = lambda key: (f"adjustment:{brand}", key)
    failed = check_presence(db, ops, provider, rep)
    failed |= check_transfers(db, ops, brand, provider, final_status, rep)
    check_balances(db, brand, players, rep)
    check_conservation(db, ops, players, rep)
    rep.verified = sum(1 for o in ops if o.outcome is not None and id(o) not in failed)
    rep.retried_verified = sum(1 for o in ops if o.uncertain and o.outcome is not None and
                               id(o) not in failed)
    return rep
