"""bank_clients.py — the clients of the crash bank test (crash_bank.py drives them).

Target is the server the clients talk to now; the driver swaps it at every
restart. A request that finds no server, a reset connection, a timeout or a 5xx
raises Down, and the caller sends the very same request again (same key, same
bytes; only a signature's timestamp is fresh) until it gets an answer: that is
what a real client does, and every check of the test depends on it.

Every money request is an Op: its kind, the player, its key (idempotency key,
transaction id or payment / withdrawal id), its amount and what came of it:
  outcome    "ok" (the server said it took effect) or "refused" (a 4xx that says
             nothing happened); None only if it was never answered;
  attempts   how many times it was sent;
  uncertain  how many of those ended without an answer after the request may
             have reached the server (reset, timeout, 5xx): an op with
             uncertain > 0 is a retried op whose effect must count once.
A Worker owns some players and plays them one operation after another, so it
keeps each player's balance without asking the server: cash and held move by
the acknowledged ops only (a payout paid or failed by the sandbox PSP moves a
withdrawal on its own: crash_bank.py reads the withdrawals' final states at the
end). The player therefore never asks for more than the model says is
available, except on purpose: a request beyond the whole balance must be refused.
The Desk, a staff member, credits any player meanwhile (so two clients move the
same accounts in the same batches); credits only, and never while the owner asks
beyond the balance, so the owner's view stays a lower bound.

Standard library only (the staff logins reuse tests/api/admin_helpers.py).
"""
import hashlib
import hmac
import http.client
import json
import random
import threading
import time

from admin_helpers import totp

PASSWORD = "Player-pass-77"
GIVE_UP_S = 180  # an op that gets no answer for this long is reported, not retried forever


class Down(Exception):
    """No answer: maybe_applied says whether the request may have reached the server."""

    def __init__(self, why, maybe_applied):
        super().__init__(why)
        self.maybe_applied = maybe_applied


class Stuck(Exception):
    """An op that got no answer for GIVE_UP_S seconds."""


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else {}

    def code(self):
        try:
            return self.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


class Target:
    """The current server's address and the number of requests in flight."""

    def __init__(self, timeout, short_rate=0.0, short_timeout=0.01):
        self.lock = threading.Lock()
        self.addr = None
        self.inflight = 0
        self.timeout = timeout
        self.short_rate, self.short_timeout = short_rate, short_timeout
        self.errors_5xx = 0
        self.short_timeouts = 0  # attempts given up by an impatient client
        self.aborted = None      # why every request now fails at once (the server crashed)

    def set(self, host, port):
        with self.lock:
            self.addr = (host, port)

    def clear(self):
        with self.lock:
            self.addr = None

    def send(self, method, path, data=None, headers=None, ip="127.0.0.1"):
        """One exchange; raises Down when there is no answer (Stuck once aborted)."""
        if self.aborted:
            raise Stuck(self.aborted)
        addr = self.addr
        if addr is None:
            raise Down("no server", False)
        h = dict(headers or {})
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        # now and then an impatient client: it gives up after a few milliseconds and sends
        # the request again while the first one may still be running
        short = method != "GET" and random.random() < self.short_rate
        conn = http.client.HTTPConnection(addr[0], addr[1],
                                          timeout=self.short_timeout if short else self.timeout,
                                          source_address=(ip, 0))
        with self.lock:
            self.inflight += 1
        reached = False
        try:
            conn.connect()
            reached = True
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            body = r.read()
            status, hdrs = r.status, {k.lower(): v for k, v in r.getheaders()}
        except (OSError, http.client.HTTPException) as e:
            if short and isinstance(e, TimeoutError):
                with self.lock:
                    self.short_timeouts += 1
            raise Down(f"{type(e).__name__}: {e}", reached) from None
        finally:
            with self.lock:
                self.inflight -= 1
            conn.close()
        if status >= 500:
            with self.lock:
                self.errors_5xx += 1
            raise Down(f"HTTP {status} {body[:120]!r}", True)
        return Answer(status, hdrs, body)


class Op:
    """One money request and what came of it (see the file comment)."""

    __slots__ = ("kind", "player", "key", "amount", "currency", "outcome", "code", "attempts",
                 "uncertain", "extra", "expect_refusal", "staff")

    def __init__(self, kind, player, key, amount=0, expect_refusal=False, **extra):
        self.kind, self.player, self.key, self.amount = kind, player, key, amount
        self.currency = player.currency if player else None
        self.outcome, self.code = None, None
        self.attempts, self.uncertain = 0, 0
        self.extra = extra
        self.expect_refusal = expect_refusal
        self.staff = None

    def __repr__(self):
        who = self.player.id if self.player else "-"
        return (f"{self.kind} {self.key} player={who} amount={self.amount} outcome={self.outcome}"
                f" code={self.code} attempts={self.attempts} uncertain={self.uncertain}"
                f" {self.extra}")


def money(minor):
    """1234 → "12.34" (every currency of the test has two decimals)."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def minor_of(text):
    whole, _, frac = text.partition(".")
    neg = whole.startswith("-")
    v = abs(int(whole)) * 100 + int((frac + "00")[:2])
    return -v if neg else v


class Player:
    """A player as its worker sees it; cash and held are the client's model."""

    def __init__(self, pid, email, ip, currency):
        self.id, self.email, self.ip, self.currency = pid, email, ip, currency
        self.token = None        # player access token
        self.launch = None       # native provider launch token
        self.cash = 0            # minor units: every acknowledged op's effect
        self.held = 0            # holds of withdrawals not yet resolved
        self.withdrawals = []    # {"id", "amount", "status"} (status as last seen)
        self.mu = threading.Lock()    # cash and held: the owner and the desk both move them
        self.gate = threading.Lock()  # held by the owner while it asks beyond the balance,
        #                               by the desk while it credits: never both at once

    def move(self, cash=0, held=0):
        with self.mu:
            self.cash += cash
            self.held += held


class World:
    """What every worker shares: the target, the staff, the provider, the op log."""

    def __init__(self, target, brand, provider, secret, game, psp_secret, staff):
        self.target = target
        self.brand, self.provider, self.secret, self.game = brand, provider, secret, game
        self.psp_secret = psp_secret
        self.staff = staff  # [StaffSession, StaffSession]
        self.lock = threading.Lock()
        self.ops = []
        self.stuck = []

    def record(self, op):
        with self.lock:
            self.ops.append(op)


def retrying(op, attempt):
    """Calls attempt() until it returns an Answer; counts attempts and uncertain ones."""
    start = time.monotonic()
    while True:
        op.attempts += 1
        try:
            return attempt()
        except Down as e:
            if e.maybe_applied:
                op.uncertain += 1
            if time.monotonic() - start > GIVE_UP_S:
                raise Stuck(f"{op}: no answer for {GIVE_UP_S} s ({e})") from None
            time.sleep(0.02 + random.random() * (0.05 if e.maybe_applied else 0.1))


def player_call(world, op, p, method, path, body=None, headers=None):
    """A player request with the player's access token (a new login on 401)."""
    data = json.dumps(body).encode() if body is not None else None
    while True:
        token = p.token
        h = dict(headers or {}, Authorization="Bearer " + token)
        r = retrying(op, lambda: world.target.send(method, path, data, h, p.ip))
        if r.status != 401:
            return r
        player_login(world, p)


def player_login(world, p):
    dummy = Op("player.login", p, p.email)
    body = json.dumps({"brand": world.brand, "email": p.email, "password": PASSWORD}).encode()
    for _ in range(40):
        r = retrying(dummy, lambda: world.target.send("POST", "/v1/player/login", body, None, p.ip))
        if r.status == 200:
            p.token = r.json()["access_token"]
            return
        time.sleep(3)  # rate limited: wait for the bucket
    raise Stuck(f"player {p.email} cannot log in again: {r!r}")


class StaffSession:
    """A finance member shared by the workers: calls with retries, token renewal."""

    def __init__(self, target, staff):
        self.target, self.staff = target, staff
        self.lock = threading.Lock()

    def call(self, op, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        while True:
            token = self.staff.token
            r = retrying(op, lambda: self.target.send(
                method, path, data, {"Authorization": "Bearer " + token}, self.staff.client.ip))
            if r.status != 401:
                return r
            self.renew(token)

    def renew(self, stale):
        """A new access token (refresh, else a login with a fresh TOTP step)."""
        with self.lock:
            if self.staff.token != stale:
                return
            s = self.staff
            dummy = Op("staff.refresh", None, s.email)
            r = retrying(dummy, lambda: self.target.send(
                "POST", "/v1/admin/refresh", json.dumps({"refresh_token": s.refresh_token}).encode(),
                None, s.client.ip))
            if r.status == 200:
                s._take(r.json())
                return
            for _ in range(10):  # the refresh token was used up by an answer that got lost
                step = s.next_step()
                s.last_step = step  # spent once sent, answered or not
                body = json.dumps({"email": s.email, "password": s.password,
                                   "totp": totp(s.secret, step)}).encode()
                r = retrying(dummy, lambda: self.target.send(
                    "POST", "/v1/admin/login", body, None, s.client.ip))
                if r.status == 200:
                    s._take(r.json())
                    return
                time.sleep(1)
            raise Stuck(f"staff {s.email} cannot log in again: {r!r}")


class Worker(threading.Thread):
    """Plays its players until stop is set; every op is run to an answer."""

    def __init__(self, world, index, players, seed, stop):
        super().__init__(daemon=True, name=f"worker-{index}")
        self.world, self.index, self.players, self.stop = world, index, players, stop
        self.rng = random.Random(seed)
        self.n = 0
        self.error = None

    # ---- plumbing ----

    def key(self, prefix):
        self.n += 1
        return f"{prefix}-{self.index}-{self.n}"

    def player_call(self, op, p, method, path, body=None, headers=None):
        return player_call(self.world, op, p, method, path, body, headers)

    def provider_call(self, op, path, body):
        """A signed native-protocol call; the answer's signature is checked."""
        w = self.world
        data = json.dumps(body, separators=(",", ":")).encode()

        def attempt():
            ts = str(int(time.time()))
            mac = hmac.new(w.secret, ts.encode() + b"." + data, hashlib.sha256).hexdigest()
            return w.target.send("POST", f"/v1/providers/{w.provider}/{path}", data,
                                 {"X-Pitboss-Timestamp": ts, "X-Pitboss-Signature": "sha256=" + mac})
        r = retrying(op, attempt)
        want = "sha256=" + hmac.new(w.secret, r.body, hashlib.sha256).hexdigest()
        if r.headers.get("x-pitboss-signature") != want:
            op.extra["bad_signature"] = True
        return r

    def settle(self, op, r, ok_statuses, refusals=()):
        """Records the op's outcome from its answer; True when it took effect."""
        if r.status in ok_statuses:
            op.outcome = "ok"
        else:
            op.outcome, op.code = "refused", r.code()
            if op.code not in refusals:
                op.extra["unexpected"] = f"{r.status} {r.body[:200]!r}"
        self.world.record(op)
        return op.outcome == "ok"

    # ---- operations ----

    def deposit(self, p, amount):
        op = Op("deposit", p, self.key("dep"), amount)
        r = self.player_call(op, p, "POST", "/v1/player/deposits",
                             {"amount": money(amount), "idempotency_key": op.key})
        if not self.settle(op, r, (200, 201)):
            return
        d = r.json()
        op.extra["id"] = d["id"]
        op.extra["replay"] = r.status == 200  # the first attempt had created it
        conf = Op("deposit.confirm", p, d["id"], amount)
        if self.rng.random() < 0.5:  # the PSP's signed webhook, one event id for every retry
            conf.extra["via"] = "webhook"
            event = json.dumps({"id": "evt-" + d["id"], "type": "deposit.succeeded",
                                "created": int(time.time()),
                                "data": {"reference": d["psp_reference"], "amount": amount,
                                         "currency": p.currency}}).encode()

            def attempt():
                t = int(time.time())
                mac = hmac.new(self.world.psp_secret.encode(), f"{t}.".encode() + event,
                               hashlib.sha256).hexdigest()
                return self.world.target.send("POST", "/v1/cashier/webhooks/sandbox", event,
                                              {"X-Sandbox-Signature": f"t={t},v1={mac}"}, p.ip)
            r = retrying(conf, attempt)
            good = r.status == 200 and r.json().get("outcome") in ("applied", "duplicate")
            conf.extra["replay"] = good and r.json().get("outcome") == "duplicate"
        else:  # the sandbox's checkout page: each call is a new event, a late one is "ignored"
            conf.extra["via"] = "sandbox"
            r = retrying(conf, lambda: self.world.target.send(
                "POST", f"/v1/sandbox-psp/payments/{d['psp_reference']}/complete", None, None, p.ip))
            good = r.status == 200 and r.json().get("outcome") == "applied"
            if r.status == 200 and r.json().get("outcome") == "ignored":
                g = self.player_call(conf, p, "GET", f"/v1/player/deposits/{d['id']}")
                good = g.status == 200 and g.json().get("status") == "completed"
                conf.extra["replay"] = good
        if good:
            conf.outcome = "ok"
            p.move(cash=amount)
        else:
            conf.outcome, conf.code = "refused", r.code()
            conf.extra["unexpected"] = f"{r.status} {r.body[:200]!r}"
        self.world.record(conf)

    def bet_round(self, p, amount, over=False):
        w = self.world
        tx, rnd = self.key("b"), self.key("r")
        if not over and self.rng.random() < 0.04:  # a rollback that arrives before its bet
            rb = Op("rollback", p, self.key("rb"), 0, bet=tx, bet_amount=amount, early=True)
            r = self.provider_call(rb, "rollback", {"token": p.launch, "transaction_id": rb.key,
                                                    "round_id": rnd, "bet_transaction_id": tx,
                                                    "currency": p.currency})
            self.settle(rb, r, (200,))
            if rb.outcome == "ok" and r.json().get("bet_found") is not False:
                rb.extra["unexpected"] = f"bet_found: {r.body[:200]!r}"
            op = Op("bet", p, tx, amount, expect_refusal=True, round=rnd)
            r = self.provider_call(op, "bet", {"token": p.launch, "transaction_id": tx,
                                               "round_id": rnd, "game": w.game,
                                               "currency": p.currency, "amount": money(amount)})
            self.settle(op, r, (200,), ("TRANSACTION_ROLLED_BACK",))
            return
        op = Op("bet", p, tx, amount, expect_refusal=over, round=rnd)
        r = self.provider_call(op, "bet", {"token": p.launch, "transaction_id": tx, "round_id": rnd,
                                           "game": w.game, "currency": p.currency,
                                           "amount": money(amount)})
        if not self.settle(op, r, (200,), ("INSUFFICIENT_FUNDS",)):
            return
        p.move(cash=-amount)
        x = self.rng.random()
        if x < 0.5:
            win = self.rng.choice((0, amount // 2, amount, amount * 2, amount * 5))
            wo = Op("win", p, self.key("w"), win, bet=tx, round=rnd)
            r = self.provider_call(wo, "win", {"token": p.launch, "transaction_id": wo.key,
                                               "round_id": rnd, "bet_transaction_id": tx,
                                               "currency": p.currency, "amount": money(win)})
            if self.settle(wo, r, (200,)):
                p.move(cash=win)
        elif x < 0.7:
            rb = Op("rollback", p, self.key("rb"), amount, bet=tx, round=rnd)
            r = self.provider_call(rb, "rollback", {"token": p.launch, "transaction_id": rb.key,
                                                    "round_id": rnd, "bet_transaction_id": tx,
                                                    "currency": p.currency})
            if self.settle(rb, r, (200,)):
                p.move(cash=amount)

    def original(self, p, amount):
        """A round of an in-house game (dice or limbo) under an Idempotency-Key: inside
        the server the round is recorded, staked, decided and paid in separate
        idempotent steps, and start-up drives an unfinished round to its end."""
        game, params = self.rng.choice((("dice", {"target": 50.5, "direction": "over"}),
                                        ("limbo", {"target": "2.00"})))
        op = Op("original", p, self.key("og"), amount, game=game)
        r = self.player_call(op, p, "POST", f"/v1/player/originals/{game}/bets",
                             {"amount": money(amount), "params": params},
                             {"Idempotency-Key": op.key})
        if r.status not in (200, 201):
            self.settle(op, r, (200, 201), ("INSUFFICIENT_FUNDS",))
            return
        rd = r.json()["round"]
        deadline = time.monotonic() + 60
        if rd.get("state") != "settled":
            op.extra["unfinished"] = rd.get("state")  # its answer shows it half-way
        while rd.get("state") != "settled" and time.monotonic() < deadline:
            time.sleep(0.1)  # a retry found it half-way: it is driven to its end
            g = self.player_call(op, p, "GET", f"/v1/player/originals/rounds/{rd['id']}")
            rd = g.json().get("round", g.json()) if g.status == 200 else rd
        op.extra.update(round=rd["id"], state=rd.get("state"), replay=r.status == 200)
        if rd.get("state") != "settled":
            op.extra["unexpected"] = f"round never settled: {rd}"
        op.extra["payout"] = payout = minor_of(rd.get("payout") or "0")
        if self.settle(op, r, (200, 201)):
            p.move(cash=payout - amount)

    def request_withdrawal(self, p, amount, over=False):
        """The player's request: the withdrawal {"id", "amount", "status", "required"},
        or None when refused."""
        op = Op("withdrawal", p, self.key("wd"), amount, expect_refusal=over)
        r = self.player_call(op, p, "POST", "/v1/player/withdrawals",
                             {"amount": money(amount), "idempotency_key": op.key})
        if not self.settle(op, r, (200, 201), ("INSUFFICIENT_FUNDS",)):
            return None
        d = r.json()
        op.extra["id"] = d["id"]
        op.extra["replay"] = r.status == 200
        wd = {"id": d["id"], "amount": amount, "status": "pending_approval",
              "required": d["approvals_required"]}
        p.withdrawals.append(wd)
        p.move(held=amount)
        return wd

    def withdrawal(self, p, amount, over=False):
        wd = self.request_withdrawal(p, amount, over)
        if not wd:
            return
        x = self.rng.random()
        if x < 0.65:
            for s in self.world.staff[:wd["required"]]:
                self.staff_step(p, wd, "approve", s)
        elif x < 0.8:
            self.player_cancel(p, wd)
        elif x < 0.9:
            self.staff_step(p, wd, "reject", self.rng.choice(self.world.staff))
        # else: left waiting for approval

    def staff_step(self, p, wd, verb, s):
        op = Op(verb, p, wd["id"], wd["amount"])
        op.staff = s.staff.id
        body = {"reason": "crash test"} if verb == "reject" else None
        r = s.call(op, "POST", f"/v1/admin/withdrawals/{wd['id']}/{verb}", body)
        if r.status == 409 and r.code() == "WITHDRAWAL_STATE" or \
                r.status == 403 and r.code() == "FOUR_EYES_VIOLATION":
            # the first attempt took effect and its answer was lost: look
            g = s.call(op, "GET", f"/v1/admin/withdrawals/{wd['id']}")
            v = g.json() if g.status == 200 else {}
            done = (verb == "reject" and v.get("status") == "rejected") or \
                (verb == "approve" and s.staff.id in [a["staff_id"] for a in v.get("approvals", [])])
            if done:
                op.extra["seen_after"] = r.code()
                op.extra["replay"] = True
                r = g
        if self.settle(op, r, (200,)):
            wd["status"] = r.json()["status"]
            if wd["status"] == "rejected":
                p.move(held=-wd["amount"])

    def player_cancel(self, p, wd):
        op = Op("cancel", p, wd["id"], wd["amount"])
        r = self.player_call(op, p, "DELETE", f"/v1/player/withdrawals/{wd['id']}")
        if r.status == 409 and r.code() == "WITHDRAWAL_STATE":  # cancelled by a lost answer?
            g = self.world.staff[0].call(op, "GET", f"/v1/admin/withdrawals/{wd['id']}")
            if g.status == 200 and g.json().get("status") == "cancelled":
                op.extra["seen_after"] = "WITHDRAWAL_STATE"
                op.extra["replay"] = True
                r = g
        if self.settle(op, r, (200,)):
            wd["status"] = "cancelled"
            p.move(held=-wd["amount"])

    def adjustment(self, p, amount, credit, over=False):
        s = self.rng.choice(self.world.staff)
        op = Op("adjustment", p, self.key("adj"), amount, expect_refusal=over, credit=credit)
        op.staff = s.staff.id
        r = s.call(op, "POST", f"/v1/admin/players/{p.id}/adjustments",
                   {"balance": "cash", "direction": "credit" if credit else "debit",
                    "amount": money(amount), "reason": "crash test " + op.key,
                    "idempotency_key": op.key})
        if self.settle(op, r, (200, 201), ("INSUFFICIENT_FUNDS",)):
            p.move(cash=amount if credit else -amount)
            op.extra["replay"] = r.json().get("replayed") is True

    # ---- the loop ----

    def one(self, p):
        rng = self.rng
        free = p.cash - p.held  # the least the player can spend (a failed payout frees more)
        x = rng.random()
        if free < 500 or x < 0.12:
            self.deposit(p, rng.choice((1000, 2500, 5000, 10000, 20000, 50000)))
        elif x < 0.50:
            self.bet_round(p, rng.randint(10, min(10000, free)))
        elif x < 0.60:
            self.original(p, rng.randint(10, min(10000, free)))
        elif x < 0.72:
            big = rng.random() < 0.1 and free >= 100000
            amount = rng.randint(100000, free) if big else rng.randint(100, max(100, free // 4))
            y = rng.random()
            if y < 0.15:
                amount = amount // 100 * 100 + 13  # the sandbox fails payouts ending in 13
            elif y < 0.25:  # and refuses the first attempt at those ending in 17: the retry
                amount = amount // 100 * 100 + 17
            if amount <= free:
                self.withdrawal(p, amount)
        elif x < 0.86:
            credit = rng.random() < 0.6
            self.adjustment(p, rng.randint(1, 5000) if credit else rng.randint(1, free), credit)
        else:  # beyond everything the player could have: must be refused, nothing moves
            with p.gate:
                y = rng.random()
                beyond = p.cash + rng.randint(100, 10000)
                if y < 0.33 and beyond <= 10000:
                    self.bet_round(p, beyond, over=True)
                elif y < 0.66:
                    self.withdrawal(p, beyond, over=True)
                else:
                    self.adjustment(p, beyond, False, over=True)

    def run(self):
        try:
            while not self.stop.is_set():
                self.one(self.rng.choice(self.players))
        except Stuck as e:
            self.world.stuck.append(str(e))
        except Exception as e:  # reported by the driver as a failure
            import traceback
            self.error = f"{e}\n{traceback.format_exc()}"



class Desk(Worker):
    """Finance staff crediting any player while its owner plays it: the same accounts
    in the same group-commit batches from two clients. Credits only, so the owner's
    view of the balance stays a lower bound; never while the owner asks beyond it."""

    def one(self, p):
        with p.gate:
            self.adjustment(p, self.rng.randint(1, 2000), True)
