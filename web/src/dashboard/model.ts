/*
 * model.ts — the dashboard's figures: the snapshot (GET /v1/admin/dashboard)
 * plus the events applied after its last_event_id, exactly as the snapshot's
 * contract (docs/openapi.yaml, admin.dashboard) defines them:
 *
 *   deposit.completed                        deposits +1 +amount
 *   withdrawal.paid                          withdrawals +1 +amount; pending −1 −amount
 *   withdrawal.requested                     pending +1 +amount
 *   withdrawal.failed / rejected / cancelled pending −1 −amount
 *   withdrawal.returned                      withdrawals −1 −amount where its payload's
 *                                            paid_at counted it: today if paid today, the
 *                                            last hour if paid in it, paid_at's minute
 *                                            (the snapshot counts status 'paid' only)
 *   bet.placed                               bets +1 +amount; player active; minute bucket
 *   round.settled, amount > 0                wins +1 +amount; minute bucket
 *   bet.rolled_back                          rollbacks +1 +amount; minute bucket
 *   GGR = bets − wins − rollbacks
 *
 * All sums are decimal strings through lib/decimal.ts (BigInt, never floats).
 *
 * "Today" only grows but for a returned payout (at the zone's midnight the page
 * re-takes the snapshot).
 * Until its first roll the last hour is the snapshot's own last_hour plus the
 * events since. Then it rolls forward every minute (roll()): every figure —
 * bets, wins, rollbacks with their counts, GGR, deposits and withdrawals — is
 * the sum of the 60 one-minute buckets (the snapshot's `minutes`, which carry
 * all of them, then the events' own minutes), so each leaves the window in the
 * minute it falls out of it; active players are the players whose last bet is
 * within the hour (the snapshot's `active_last_hour`, then bet events).
 *
 * A caller without finance.read gets the deposit, withdrawal and pending
 * figures as null (it receives no deposit.* / withdrawal.* events, so they
 * could not move): the row then has finance = false, keeps zeros inside and
 * the page shows those figures as "not in your role".
 */
import { decAdd, decCmp, decSub, decZeroLike, isDec } from '../lib/decimal';
import type { StreamEvent } from '../lib/events';

export interface Tally {
  count: number;
  amount: string;
}

export interface Window {
  deposits: Tally;
  withdrawals: Tally;
  bets: Tally;
  wins: Tally;
  rollbacks: Tally;
  ggr: string;
  active_players: number;
}

export interface Minute {
  minute: string;
  bets: string;
  wins: string;
  rollbacks: string;
  ggr: string;
  bet_count: number;
  win_count: number;
  rollback_count: number;
  /** null in the snapshot without finance.read; kept as zeros here */
  deposits: Tally | null;
  withdrawals: Tally | null;
}

/** A window as the snapshot sends it: deposits and withdrawals are null without finance.read. */
export type SnapshotWindow = Omit<Window, 'deposits' | 'withdrawals'> & {
  deposits: Tally | null;
  withdrawals: Tally | null;
};

export interface SnapshotRow {
  brand: string;
  currency: string;
  today: SnapshotWindow;
  last_hour: SnapshotWindow;
  pending_withdrawals: Tally | null;
  minutes: Minute[];
  active_player_ids_today: string[];
  active_last_hour: { player_id: string; last_bet_at: string }[];
  active_truncated: boolean;
}

export interface Snapshot {
  as_of: string;
  since: string;
  last_event_id: number;
  rows: SnapshotRow[];
}

export interface FeedItem {
  id: number;
  type: string;
  brand: string | null;
  /** The player it is about; null when none or when the subject is a staff member. */
  player: string | null;
  amount: string | null;
  currency: string | null;
  at: string;
  /** The back office page of the record it is about (a withdrawal, an adjustment request,
   * a brand's unclaimed funds with its settlements), or null. */
  link: string | null;
}

/** Event types whose subject is the staff member who acted, not a player. */
const STAFF_SUBJECT = new Set([
  'rtp.changed',
  'funds.unclaimed_settled',
  'funds.unclaimed_settlement_requested',
  'funds.unclaimed_settlement_rejected',
  'funds.unclaimed_settlement_expired',
]);

/** The page of the record an event's payload names (withdrawal_id, adjustment_id, settlement_id). */
export function recordLink(brand: string | null, p: Record<string, unknown>): string | null {
  const enc = encodeURIComponent;
  if (typeof p.withdrawal_id === 'string') return `/withdrawals/${enc(p.withdrawal_id)}`;
  if (typeof p.adjustment_id === 'string') return `/adjustments/${enc(p.adjustment_id)}`;
  if (typeof p.settlement_id === 'string') return `/unclaimed-funds${brand ? `?brand=${enc(brand)}` : ''}`;
  return null;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
export const FEED_MAX = 50;

/** One brand and currency, live. */
export class LiveRow {
  brand: string;
  currency: string;
  zero: string;
  /** False when the caller may not see deposits, withdrawals and pending withdrawals. */
  finance: boolean;
  today: Window;
  pending: Tally;
  truncated: boolean;
  private activeToday: Set<string>;
  private lastBet = new Map<string, number>(); // player → last bet time (ms), last hour
  private buckets = new Map<number, Minute>(); // minute start (ms) → bucket
  private snapHour: Window | null; // the snapshot's last hour, until the first roll
  private delta: Window; // live changes since the snapshot (until the first roll)
  private snapStart: number; // where the snapshot's last hour starts (as_of − 1 h), ms

  /** asOf: the snapshot's as_of (ms); NaN when unknown (a returned payout then leaves the hour alone). */
  constructor(r: SnapshotRow, finance = true, asOf = NaN) {
    this.brand = r.brand;
    this.currency = r.currency;
    this.zero = decZeroLike(r.today.ggr);
    this.finance = finance && r.today.deposits !== null && r.pending_withdrawals !== null;
    const none = { count: 0, amount: this.zero };
    const full = (w: SnapshotWindow): Window => ({
      ...structuredClone(w),
      deposits: w.deposits ? { ...w.deposits } : { ...none },
      withdrawals: w.withdrawals ? { ...w.withdrawals } : { ...none },
    });
    this.today = full(r.today);
    this.pending = r.pending_withdrawals ? { ...r.pending_withdrawals } : { ...none };
    this.truncated = r.active_truncated;
    this.activeToday = new Set(r.active_player_ids_today);
    for (const a of r.active_last_hour) this.lastBet.set(a.player_id, Date.parse(a.last_bet_at));
    for (const m of r.minutes)
      this.buckets.set(Date.parse(m.minute), {
        ...m,
        deposits: m.deposits ? { ...m.deposits } : { ...none },
        withdrawals: m.withdrawals ? { ...m.withdrawals } : { ...none },
      });
    this.snapHour = full(r.last_hour);
    this.delta = emptyWindow(this.zero);
    this.snapStart = asOf - HOUR;
  }

  static empty(brand: string, currency: string, zero: string, finance = true, asOf = NaN): LiveRow {
    const w = emptyWindow(zero);
    return new LiveRow(
      { brand, currency, today: w, last_hour: w, pending_withdrawals: { count: 0, amount: zero }, minutes: [],
        active_player_ids_today: [], active_last_hour: [], active_truncated: false },
      finance,
      asOf,
    );
  }

  private bucket(t: number): Minute {
    const start = Math.floor(t / MINUTE) * MINUTE;
    let b = this.buckets.get(start);
    if (!b) {
      b = emptyMinute(start, this.zero);
      this.buckets.set(start, b);
    }
    return b;
  }

  /**
   * Applies one event of this brand and currency (amount already checked). paidAt: a
   * withdrawal.returned's paid_at (ms), NaN when it has none.
   */
  apply(type: string, amount: string, player: string | null, t: number, since: number, paidAt = NaN) {
    const inToday = t >= since;
    const add = (w: Window, k: 'deposits' | 'withdrawals' | 'bets' | 'wins' | 'rollbacks') => {
      w[k] = { count: w[k].count + 1, amount: decAdd(w[k].amount, amount) };
    };
    const ggr = (w: Window) => {
      w.ggr = decSub(decSub(w.bets.amount, w.wins.amount), w.rollbacks.amount);
    };
    switch (type) {
      case 'deposit.completed':
      case 'withdrawal.paid': {
        const k = type === 'deposit.completed' ? 'deposits' : 'withdrawals';
        if (inToday) add(this.today, k);
        add(this.delta, k);
        const b = this.bucket(t);
        b[k] = { count: (b[k]?.count ?? 0) + 1, amount: decAdd(b[k]?.amount ?? this.zero, amount) };
        if (k === 'withdrawals') this.pendingOut(amount);
        break;
      }
      case 'withdrawal.requested':
        this.pending = { count: this.pending.count + 1, amount: decAdd(this.pending.amount, amount) };
        break;
      case 'withdrawal.failed':
      case 'withdrawal.rejected':
      case 'withdrawal.cancelled':
        this.pendingOut(amount);
        break;
      case 'withdrawal.returned': {
        // No longer "paid": out of every figure that counted it when it was paid (today,
        // the last hour, its minute), as a snapshot taken now would leave it out. Without
        // paid_at nothing says which did: nothing moves (it was no longer pending).
        if (!Number.isFinite(paidAt)) return;
        const sub = (x: Tally): Tally => ({ count: Math.max(0, x.count - 1), amount: decSub(x.amount, amount) });
        if (paidAt >= since) this.today.withdrawals = sub(this.today.withdrawals);
        // until the first roll the hour is the snapshot's (from as_of − 1 h) plus the events since
        if (this.snapHour && paidAt >= this.snapStart) this.delta.withdrawals = sub(this.delta.withdrawals);
        // a minute no longer (or never) held counted nothing that is still shown
        const b = this.buckets.get(Math.floor(paidAt / MINUTE) * MINUTE);
        if (b?.withdrawals && b.withdrawals.count > 0) b.withdrawals = sub(b.withdrawals);
        break;
      }
      case 'bet.placed':
      case 'round.settled':
      case 'bet.rolled_back': {
        if (type === 'round.settled' && decCmp(amount, this.zero) <= 0) return; // a losing round's close
        const k = type === 'bet.placed' ? 'bets' : type === 'round.settled' ? 'wins' : 'rollbacks';
        if (inToday) {
          add(this.today, k);
          ggr(this.today);
        }
        add(this.delta, k);
        const b = this.bucket(t);
        b[k] = decAdd(b[k], amount);
        if (k === 'bets') b.bet_count++;
        else if (k === 'wins') b.win_count++;
        else b.rollback_count++;
        b.ggr = decSub(decSub(b.bets, b.wins), b.rollbacks);
        if (k === 'bets' && player) {
          if (inToday && !this.activeToday.has(player)) {
            this.activeToday.add(player);
            this.today.active_players++;
          }
          const prev = this.lastBet.get(player);
          if (prev === undefined || prev < t) this.lastBet.set(player, t);
        }
        break;
      }
      default:
        return;
    }
  }

  private pendingOut(amount: string) {
    this.pending = {
      count: Math.max(0, this.pending.count - 1),
      amount: decSub(this.pending.amount, amount),
    };
  }

  /** Moves the last-hour window to end at now: drops what left it. */
  roll(now: number) {
    this.snapHour = null;
    const first = Math.floor(now / MINUTE) * MINUTE - 59 * MINUTE;
    for (const k of [...this.buckets.keys()]) if (k < first) this.buckets.delete(k);
    for (const [p, t] of [...this.lastBet]) if (t <= now - HOUR) this.lastBet.delete(p);
  }

  /** The last hour ending now. */
  lastHour(now: number): Window {
    if (this.snapHour) {
      // until the first roll: the snapshot's figures plus what arrived since
      const w = structuredClone(this.snapHour);
      for (const k of ['deposits', 'withdrawals', 'bets', 'wins', 'rollbacks'] as const)
        w[k] = { count: w[k].count + this.delta[k].count, amount: decAdd(w[k].amount, this.delta[k].amount) };
      w.ggr = decSub(decSub(w.bets.amount, w.wins.amount), w.rollbacks.amount);
      w.active_players = this.activeCount(now);
      return w;
    }
    const w = emptyWindow(this.zero);
    const sum = (t: Tally, count: number, amount: string): Tally =>
      ({ count: t.count + count, amount: decAdd(t.amount, amount) });
    for (const b of this.minutes(now)) {
      w.bets = sum(w.bets, b.bet_count, b.bets);
      w.wins = sum(w.wins, b.win_count, b.wins);
      w.rollbacks = sum(w.rollbacks, b.rollback_count, b.rollbacks);
      if (b.deposits) w.deposits = sum(w.deposits, b.deposits.count, b.deposits.amount);
      if (b.withdrawals) w.withdrawals = sum(w.withdrawals, b.withdrawals.count, b.withdrawals.amount);
    }
    w.ggr = decSub(decSub(w.bets.amount, w.wins.amount), w.rollbacks.amount);
    w.active_players = this.activeCount(now);
    return w;
  }

  private activeCount(now: number): number {
    let n = 0;
    for (const t of this.lastBet.values()) if (t > now - HOUR) n++;
    return n;
  }

  /** The 60 one-minute buckets ending with the current minute, oldest first, zeros included. */
  minutes(now: number): Minute[] {
    const last = Math.floor(now / MINUTE) * MINUTE;
    const out: Minute[] = [];
    for (let t = last - 59 * MINUTE; t <= last; t += MINUTE) out.push(this.buckets.get(t) ?? emptyMinute(t, this.zero));
    return out;
  }
}

function emptyMinute(start: number, zero: string): Minute {
  return { minute: new Date(start).toISOString(), bets: zero, wins: zero, rollbacks: zero, ggr: zero, bet_count: 0,
    win_count: 0, rollback_count: 0, deposits: { count: 0, amount: zero }, withdrawals: { count: 0, amount: zero } };
}

export function emptyWindow(zero: string): Window {
  const t = () => ({ count: 0, amount: zero });
  return { deposits: t(), withdrawals: t(), bets: t(), wins: t(), rollbacks: t(), ggr: zero, active_players: 0 };
}

/** The whole dashboard: rows by brand/currency, the feed. */
export class DashboardModel {
  rows = new Map<string, LiveRow>();
  feed: FeedItem[] = [];
  since: number;
  lastEventId: number;
  /** False when the snapshot left the deposit and withdrawal figures out (no finance.read). */
  finance: boolean;
  private asOf: number;

  constructor(s: Snapshot) {
    this.since = Date.parse(s.since);
    this.lastEventId = s.last_event_id;
    this.finance = s.rows.every((r) => r.today.deposits !== null && r.pending_withdrawals !== null);
    this.asOf = Date.parse(s.as_of);
    for (const r of s.rows) this.rows.set(`${r.brand}/${r.currency}`, new LiveRow(r, true, this.asOf));
  }

  /** Applies a stream event (ids at or below the snapshot's are already in it). Returns true when shown. */
  apply(e: StreamEvent): boolean {
    if (e.id <= this.lastEventId) return false;
    this.lastEventId = e.id;
    const p = e.payload ?? {};
    const amount = isDec(p.amount) ? (p.amount as string) : null;
    const currency = typeof p.currency === 'string' ? p.currency : null;
    const player = e.subject && !STAFF_SUBJECT.has(e.type) ? e.subject : null;
    this.feed.unshift({ id: e.id, type: e.type, brand: e.brand, player, amount, currency,
      at: e.created_at, link: recordLink(e.brand, p) });
    if (this.feed.length > FEED_MAX) this.feed.length = FEED_MAX;
    if (!amount || !currency || !e.brand) return true;
    const key = `${e.brand}/${currency}`;
    let row = this.rows.get(key);
    if (!row) {
      if (!TRACKED.has(e.type)) return true;
      row = LiveRow.empty(e.brand, currency, decZeroLike(amount), this.finance, this.asOf);
      this.rows.set(key, row);
    }
    const t = Date.parse(e.created_at) || Date.now();
    const paidAt = typeof p.paid_at === 'string' ? Date.parse(p.paid_at) : NaN;
    row.apply(e.type, amount, e.subject, t, this.since, paidAt);
    return true;
  }

  roll(now: number) {
    for (const r of this.rows.values()) r.roll(now);
  }
}

// the events that open a row the snapshot had not; not withdrawal.returned: a payout
// counted anywhere shown made its row (the snapshot's or its withdrawal.paid's)
const TRACKED = new Set([
  'deposit.completed', 'withdrawal.paid', 'withdrawal.requested', 'withdrawal.failed', 'withdrawal.rejected',
  'withdrawal.cancelled', 'bet.placed', 'round.settled', 'bet.rolled_back',
]);
