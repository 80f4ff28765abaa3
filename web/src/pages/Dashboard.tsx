/*
 * Dashboard.tsx — live KPIs, feed and charts (issue 7), with no polling:
 *
 *   1. the snapshot: GET /v1/admin/dashboard?since=<start of today in the staff
 *      zone> — figures per brand and currency and the outbox id they are exact at;
 *   2. the event stream (lib/events.ts) from that id: every event is applied to
 *      the figures (dashboard/model.ts) and shown in the feed (latest 50);
 *   3. a clock tick rolls the last-hour window and the charts forward each minute;
 *      the snapshot is taken again only when it must be: a gap in the stream
 *      (events pruned before we read them), a new day in the staff zone, or the
 *      zone changed (the last hour rolls exactly on the snapshot's per-minute
 *      figures: it never needs a new snapshot).
 * Events that arrive while a snapshot is being (re)taken are queued and applied
 * after it (those at or below its last_event_id are already in it).
 * Without finance.read the snapshot leaves deposits, withdrawals and pending
 * withdrawals out (the stream would never move them): those tiles say "not in
 * your role" instead of showing a figure.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { MinuteChart } from '../dashboard/Chart';
import { DashboardModel, type LiveRow, type Snapshot, type Window } from '../dashboard/model';
import { ErrorBox } from '../components/ui';
import { get } from '../lib/api';
import { type StreamEvent, type StreamStatus, openEventStream } from '../lib/events';
import { money, startOfToday, time, timeZone } from '../lib/format';
import { onLinkClick } from '../lib/router';

const KPIS: { key: keyof Omit<Window, 'ggr' | 'active_players'>; label: string; finance?: boolean }[] = [
  { key: 'deposits', label: 'Deposits', finance: true },
  { key: 'withdrawals', label: 'Withdrawals', finance: true },
  { key: 'bets', label: 'Bets' },
  { key: 'wins', label: 'Wins' },
  { key: 'rollbacks', label: 'Rollbacks' },
];

function minuteLabel(iso: string, tz: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(iso));
}

export function Dashboard() {
  const tz = timeZone();
  const model = useRef<DashboardModel | null>(null);
  const queue = useRef<StreamEvent[] | null>(null); // non-null while a snapshot is in flight
  const [, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [stream, setStream] = useState<{ s: StreamStatus; d?: string }>({ s: 'connecting' });
  const [selected, setSelected] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const redraw = () => setVersion((v) => v + 1);

  useEffect(() => {
    let closed = false;
    let es: ReturnType<typeof openEventStream> | null = null;
    let day = startOfToday(tz);

    async function takeSnapshot(): Promise<Snapshot | null> {
      queue.current = [];
      try {
        day = startOfToday(tz);
        const s = await get<Snapshot>('/v1/admin/dashboard', { since: day });
        if (closed) return null;
        const m = new DashboardModel(s);
        for (const e of queue.current ?? []) m.apply(e);
        model.current = m;
        setError(null);
        return s;
      } catch (e) {
        if (!closed) setError(e);
        return null;
      } finally {
        queue.current = null;
        if (!closed) redraw();
      }
    }

    // a busy casino sends many events a second: draw at most every 200 ms
    let drawPending = false;
    function onEvent(e: StreamEvent) {
      if (queue.current) queue.current.push(e);
      else if (model.current?.apply(e) && !drawPending) {
        drawPending = true;
        setTimeout(() => {
          drawPending = false;
          if (!closed) redraw();
        }, 200);
      }
    }

    (async () => {
      const s = await takeSnapshot();
      if (closed || !s) return;
      es = openEventStream({
        lastEventId: s.last_event_id,
        onEvent,
        onGap: () => void takeSnapshot(),
        onStatus: (st, d) => !closed && setStream({ s: st, d }),
      });
    })();

    // the clock: each new minute rolls the last hour; a new day re-takes the snapshot
    let minute = Math.floor(Date.now() / 60_000);
    const tick = setInterval(() => {
      const t = Date.now();
      const m = Math.floor(t / 60_000);
      if (m === minute) return;
      minute = m;
      if (startOfToday(tz) !== day) void takeSnapshot();
      else model.current?.roll(t);
      setNow(t);
    }, 1000);

    return () => {
      closed = true;
      clearInterval(tick);
      es?.close();
    };
  }, [tz]);

  const m = model.current;
  const rows = m ? [...m.rows.values()] : [];
  rows.sort((a, b) => (a.brand + a.currency).localeCompare(b.brand + b.currency));
  const key = selected && m?.rows.has(selected) ? selected : rows.length ? `${rows[0].brand}/${rows[0].currency}` : null;
  const row = key ? m?.rows.get(key) ?? null : null;
  const t = Math.max(now, Date.now());

  return (
    <div class="dashboard">
      <header class="page-head">
        <h1>Dashboard</h1>
        <span class={`stream-status ${stream.s}`} data-testid="stream-status" title={stream.d}>
          {stream.s === 'live' ? '● live' : stream.s === 'closed' ? `stopped: ${stream.d ?? ''}` : `${stream.s}…`}
        </span>
        {rows.length > 1 && (
          <label class="inline">
            Brand and currency{' '}
            <select data-testid="row-select" value={key ?? ''} onChange={(e) => setSelected(e.currentTarget.value)}>
              {rows.map((r) => (
                <option value={`${r.brand}/${r.currency}`}>{`${r.brand} · ${r.currency}`}</option>
              ))}
            </select>
          </label>
        )}
      </header>
      <ErrorBox error={error} />
      {!m && !error && <p class="loading">Loading…</p>}
      {m && !row && <p class="muted">No brand in your scope has figures yet.</p>}
      {m && row && <RowView row={row} now={t} tz={tz} />}
      {m && <Feed items={m.feed} />}
    </div>
  );
}

function RowView({ row, now, tz }: { row: LiveRow; now: number; tz: string }) {
  const hour = row.lastHour(now);
  const minutes = row.minutes(now);
  const cur = row.currency;
  return (
    <section data-testid="figures" data-brand={row.brand} data-currency={cur}>
      <div class="kpi-grid">
        <WindowCard title="Today" id="today" w={row.today} cur={cur} finance={row.finance} />
        <WindowCard title="Last hour" id="hour" w={hour} cur={cur} finance={row.finance} />
        <div class="card kpi-pending">
          <h3>Pending withdrawals</h3>
          {row.finance ? (
            <>
              <div class="kpi-value" data-testid="kpi-pending-count">{row.pending.count}</div>
              <div class="money" data-testid="kpi-pending-amount">{money(row.pending.amount, cur)}</div>
            </>
          ) : (
            <div class="muted" data-testid="kpi-pending-hidden">not in your role</div>
          )}
        </div>
      </div>
      <div class="charts">
        <MinuteChart title="Bets" currency={cur} testid="chart-bets"
          bars={minutes.map((b) => ({ label: minuteLabel(b.minute, tz), value: b.bets }))} />
        <MinuteChart title="GGR" currency={cur} testid="chart-ggr"
          bars={minutes.map((b) => ({ label: minuteLabel(b.minute, tz), value: b.ggr }))} />
      </div>
    </section>
  );
}

function WindowCard({ title, id, w, cur, finance }: {
  title: string;
  id: string;
  w: Window;
  cur: string;
  finance: boolean;
}) {
  return (
    <div class="card window" data-testid={`window-${id}`}>
      <h3>{title}</h3>
      <table class="kpis">
        <tbody>
          {KPIS.map((k) =>
            k.finance && !finance ? (
              <tr>
                <th>{k.label}</th>
                <td class="muted" colSpan={2} data-testid={`kpi-${id}-${k.key}-hidden`}>not in your role</td>
              </tr>
            ) : (
              <tr>
                <th>{k.label}</th>
                <td class="num" data-testid={`kpi-${id}-${k.key}-count`}>{w[k.key].count}</td>
                <td class="num money" data-testid={`kpi-${id}-${k.key}-amount`}>{money(w[k.key].amount, cur)}</td>
              </tr>
            ),
          )}
          <tr>
            <th>GGR</th>
            <td />
            <td class={`num money${w.ggr.startsWith('-') ? ' neg' : ''}`} data-testid={`kpi-${id}-ggr`}>
              {money(w.ggr, cur)}
            </td>
          </tr>
          <tr>
            <th>Active players</th>
            <td class="num" data-testid={`kpi-${id}-active`}>{w.active_players}</td>
            <td />
          </tr>
        </tbody>
      </table>
    </div>
  );
}

const TYPE_LABEL: Record<string, string> = {
  'deposit.created': 'Deposit started',
  'deposit.completed': 'Deposit',
  'deposit.failed': 'Deposit failed',
  'withdrawal.requested': 'Withdrawal requested',
  'withdrawal.approved': 'Withdrawal approved',
  'withdrawal.approval_recorded': 'Withdrawal: first of two approvals',
  'withdrawal.approval_lapsed': 'Withdrawal: approval lapsed (back to pending approval)',
  'withdrawal.payout_sent': 'Withdrawal payout sent (processing)',
  'withdrawal.paid': 'Withdrawal paid',
  'withdrawal.rejected': 'Withdrawal rejected',
  'withdrawal.cancelled': 'Withdrawal cancelled',
  'withdrawal.failed': 'Withdrawal failed',
  'withdrawal.returned': 'Withdrawal returned (money back to the player)',
  'withdrawal.manual_resolution_stated': 'Withdrawal: manual settlement stated',
  'withdrawal.manual_resolution_withdrawn': 'Withdrawal: manual settlement withdrawn',
  'rtp.changed': 'Game RTP changed',
  'bet.placed': 'Bet',
  'round.settled': 'Round settled',
  'bet.rolled_back': 'Bet rolled back',
  'balance.adjusted': 'Balance adjusted',
  'balance.adjustment_requested': 'Balance adjustment awaiting a second approver',
  'balance.adjustment_expired': 'Balance adjustment request expired (not approved in time)',
  'balance.adjustment_rejected': 'Balance adjustment request rejected',
  'reconciliation.completed': 'PSP reconciliation run',
  'player.registered': 'Player registered',
  'player.blocked': 'Player blocked',
  'player.unblocked': 'Player unblocked',
  'player.erased': 'Player erased',
  'platform.restored': 'Platform restored from a backup',
  'funds.unclaimed': 'Unclaimed funds (erased player)',
  'funds.unclaimed_settled': 'Unclaimed funds settled',
  'funds.unclaimed_settlement_requested': 'Unclaimed funds settlement requested (awaiting approval)',
  'funds.unclaimed_settlement_rejected': 'Unclaimed funds settlement rejected',
  'funds.unclaimed_settlement_expired': 'Unclaimed funds settlement request expired (not approved in time)',
};

function Feed({ items }: { items: DashboardModel['feed'] }) {
  return (
    <section class="card feed">
      <h3>Live events <span class="muted">(latest {items.length} of at most 50)</span></h3>
      {items.length === 0 ? (
        <p class="muted" data-testid="feed-empty">Nothing yet: events appear here as they happen.</p>
      ) : (
        <table class="table" data-testid="feed">
          <thead>
            <tr>
              <th>Time</th>
              <th>Event</th>
              <th>Brand</th>
              <th>Player</th>
              <th class="num">Amount</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} data-type={e.type} data-id={e.id}>
                <td>{time(e.at)}</td>
                <td>
                  {e.link ? (
                    <a href={e.link} onClick={(ev) => onLinkClick(ev, e.link as string)} data-testid="feed-record">
                      {TYPE_LABEL[e.type] ?? e.type}
                    </a>
                  ) : (
                    (TYPE_LABEL[e.type] ?? e.type)
                  )}
                </td>
                <td>{e.brand ?? '—'}</td>
                <td>
                  {e.player ? (
                    <a href={`/players/${e.player}`} onClick={(ev) => onLinkClick(ev, `/players/${e.player}`)}
                      title={e.player}>
                      …{e.player.slice(-8)}
                    </a>
                  ) : (
                    '—'
                  )}
                </td>
                <td class={`num money${e.amount?.startsWith('-') ? ' neg' : ''}`}>
                  {e.amount ? money(e.amount, e.currency) : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
