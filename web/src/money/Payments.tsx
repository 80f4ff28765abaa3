/*
 * Payments.tsx — the deposits (/payments) and one deposit (/payments/:id),
 * finance.read: what finance staff read when a player says "my deposit didn't
 * arrive".
 *
 * The list is GET /v1/admin/payments, newest first, a page at a time
 * (usePaged), with the API's filters kept in the URL's query: status (pending,
 * expired — an intent pending past its brand's deposit_expiry_minutes —,
 * completed, failed, or all), brand, player id and the PSP's reference (exact:
 * the one payment the PSP knows by it, what a player quotes from a bank
 * statement or the PSP's own page). A row shows the amount as
 * the API's decimal string (ui.tsx Money, never a float), the PSP and its
 * reference, when it was made and when it expires or was settled, its status,
 * and "late completion" for a deposit the PSP confirmed after its intent had
 * expired (the API's completed_late: the player was credited all the same).
 *
 * One deposit shows everything the API answers, the ledger transfer that
 * credited the player (with the player's deposits in the transactions
 * explorer, where that transfer is the row of that id), and its history: the
 * audit trail of the payment for members with audit.read (created, completed
 * or failed with the reason, a late or contradicting PSP event), else the
 * timestamps the payment itself carries.
 *
 * Live (live.ts): the cashier announces deposit.created (a new intent, pending),
 * deposit.completed and deposit.failed (payload.payment_id); a shown deposit they
 * name is re-read in place, one not shown that matches the filters is counted
 * for the "N new deposits / N more deposits settled: show" button (a deposit
 * made and settled while the page is open counts once, as new). Expiry is a view
 * computed on read (the row stays "pending" in the store, no event announces it):
 * a shown intent still pending is re-read once its expires_at has passed
 * (useExpiryRereads), so it turns "expired" in place, list and detail alike.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../lib/api';
import type { StreamEvent, StreamStatus } from '../lib/events';
import { useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, Time, useAsync, usePaged } from '../components/ui';
import { CopyButton, Link, StaffName, Status, useBrands, BrandFilter, StatusFilter, setListFilters } from './common';
import { useLiveQueue, useRecordEvents } from './live';
import type { AuditEntry } from '../lib/audit';

export interface Payment {
  id: string;
  status: 'pending' | 'expired' | 'completed' | 'failed';
  amount: string;
  currency: string;
  psp: string;
  psp_reference: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  brand: string;
  player: string;
  transfer_id: string | null;
  completed_late: boolean;
}

const STATUSES = ['all', 'pending', 'expired', 'completed', 'failed'] as const;

export const getPayment = (id: string) => get<Payment>(`/v1/admin/payments/${encodeURIComponent(id)}`);

/** deposit.created / completed / failed of the cashier, by payload.payment_id. */
function useDepositEvents(onEvent: (e: StreamEvent, id: string) => void, onGap: () => void): StreamStatus {
  return useRecordEvents(['deposit.'], 'payment_id', onEvent, onGap);
}

/** setTimeout's longest delay (about 24.8 days); an expiry further off is not waited for. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Re-reads each shown intent still "pending" just after its expires_at, so the page
 * shows what the server reads then ("expired", or settled meanwhile) without a
 * reload. The server decides: a re-read still pending (the browser's clock ahead of
 * the server's) is tried again, each wait twice the last (from 250 ms, at most a
 * minute); a new expires_at (the brand's expiry changed) is waited for afresh.
 */
function useExpiryRereads(shown: Payment[], reread: (id: string) => Promise<Payment | null>) {
  const cb = useRef(reread);
  cb.current = reread;
  const pending = shown.filter((p) => p.status === 'pending' && p.expires_at);
  const key = pending.map((p) => `${p.id}@${p.expires_at}`).join(',');
  useEffect(() => {
    let gone = false;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const due = (p: Payment, tries: number) => {
      const wait = Math.max(Date.parse(p.expires_at ?? '') - Date.now(), 0) + Math.min(250 * 2 ** tries, 60_000);
      if (!(wait <= MAX_TIMER_MS)) return; // NaN (no date) or too far off
      const t = setTimeout(async () => {
        timers.delete(t);
        const now = await cb.current(p.id);
        if (!gone && now && now.status === 'pending' && now.expires_at === p.expires_at) due(now, tries + 1);
      }, wait);
      timers.add(t);
    };
    for (const p of pending) due(p, 0);
    return () => {
      gone = true;
      timers.forEach(clearTimeout);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
}

/** The status tag, and "late completion" beside a deposit completed after its intent expired. */
function PaymentStatus({ p }: { p: Payment }) {
  return (
    <span class="m-pay-status">
      <Status value={p.status} />
      {p.completed_late && (
        <span
          class="m-status m-status-late"
          data-testid="late"
          title="The PSP confirmed it after the intent had expired; the player was credited"
        >
          late completion
        </span>
      )}
    </span>
  );
}

/** When it expires (pending/expired) or was settled (completed/failed). */
function Until({ p }: { p: Payment }) {
  if (p.status === 'pending' || p.status === 'expired')
    return (
      <span class="m-muted">
        {p.status === 'expired' ? 'expired ' : 'expires '}
        <Time at={p.expires_at} />
      </span>
    );
  return (
    <span class="m-muted">
      {p.status} <Time at={p.updated_at} />
    </span>
  );
}

function Row({ p: initial, latest }: { p: Payment; latest?: Payment }) {
  const p = latest ?? initial;
  return (
    <tr data-testid="payment-row" data-id={p.id} data-status={p.status}>
      <td>
        <Link to={`/payments/${p.id}`}>
          <code>{p.id.slice(-8)}</code>
        </Link>
      </td>
      <td>
        <Link to={`/players/${p.player}`} testid="payment-player">
          <code class="m-id" title={p.player}>
            {p.player}
          </code>
        </Link>
        <div class="m-muted">{p.brand}</div>
      </td>
      <td class="num" data-testid="payment-amount">
        <Money amount={p.amount} currency={p.currency} />
      </td>
      <td>
        {p.psp}
        <div>
          <code class="m-id" title={p.psp_reference} data-testid="payment-reference">
            {p.psp_reference}
          </code>
        </div>
      </td>
      <td>
        <Time at={p.created_at} />
      </td>
      <td data-testid="payment-status">
        <PaymentStatus p={p} />
      </td>
      <td>
        <Until p={p} />
      </td>
    </tr>
  );
}

export function Payments() {
  const { query } = useLocation();
  const brands = useBrands();
  const status = query.get('status') ?? 'all';
  const brand = query.get('brand') ?? '';
  const player = query.get('player') ?? '';
  const reference = query.get('psp_reference') ?? '';
  const [playerText, setPlayerText] = useState(player);
  const [referenceText, setReferenceText] = useState(reference);
  useEffect(() => setPlayerText(player), [player]);
  useEffect(() => setReferenceText(reference), [reference]);
  const list = usePaged<Payment>('/v1/admin/payments', 'items', {
    status: status === 'all' ? undefined : status,
    brand: brand || undefined,
    player: player || undefined,
    psp_reference: reference || undefined,
  });
  // a new or settled deposit not shown that this view would list: announced, not inserted
  const { live, latest, freshIds, reload, refresh } = useLiveQueue({
    list,
    events: useDepositEvents,
    classify: (e, id, shown) => {
      if (shown.has(id)) return 'change';
      const now =
        e.type === 'deposit.created'
          ? 'pending'
          : e.type === 'deposit.completed'
            ? 'completed'
            : e.type === 'deposit.failed'
              ? 'failed'
              : '';
      // the events carry no PSP reference: a reference's view only follows its own row
      return now && (status === 'all' || status === now) && (!brand || e.brand === brand) &&
        (!player || e.subject === player) && !reference
        ? 'new'
        : 'other';
    },
    reread: getPayment,
    filters: [status, brand, player, reference],
  });

  // an intent's expiry is no event: each shown pending one re-read when it is due
  useExpiryRereads(
    list.items.map((p) => latest[p.id] ?? p),
    refresh,
  );

  // each deposit announced once: as new when its intent was, else as settled
  const announced = Object.values(freshIds);
  const made = announced.filter((t) => t === 'deposit.created').length;
  const settled = announced.length - made;

  const setFilters = (f: Record<string, string>) => setListFilters('/payments', f, { status: 'all' });
  const setFilter = (k: string, v: string) => setFilters({ [k]: v });

  return (
    <div class="m-page">
      <h1>Payments</h1>
      <p class="m-muted">
        Deposits of your brands, newest first. An intent left pending past its brand’s expiry reads
        “expired”; a PSP confirmation arriving after that still credits the player (a late completion).
      </p>
      <form
        class="filters m-filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ player: playerText.trim(), psp_reference: referenceText.trim() });
        }}
      >
        <StatusFilter statuses={STATUSES} value={status} onChange={(v) => setFilter('status', v)} />
        <BrandFilter brands={brands.data} value={brand} onChange={(v) => setFilter('brand', v)} />
        <label>
          Player id
          <input name="player" value={playerText} onInput={(e) => setPlayerText(e.currentTarget.value)} />
        </label>
        <label>
          PSP reference
          <input
            name="psp_reference"
            value={referenceText}
            onInput={(e) => setReferenceText(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Filter</button>
        <button type="button" onClick={reload}>
          Refresh
        </button>
        <span class={`m-live m-live-${live}`} data-testid="live" data-status={live}>
          {live === 'live' ? '● live' : live}
        </span>
      </form>
      {made + settled > 0 && (
        <p class="m-fresh" role="status">
          <button type="button" data-testid="show-new" onClick={reload}>
            {[
              made === 0 ? '' : made === 1 ? '1 new deposit' : `${made} new deposits`,
              settled === 0 ? '' : settled === 1 ? '1 more deposit settled' : `${settled} more deposits settled`,
            ]
              .filter(Boolean)
              .join(', ')}
            : show
          </button>
        </p>
      )}
      <ErrorBox error={list.error} />
      <table class="table m-table" data-testid="payments">
        <thead>
          <tr>
            <th>Id</th>
            <th>Player</th>
            <th class="num">Amount</th>
            <th>PSP · reference</th>
            <th>Made</th>
            <th>Status</th>
            <th>Expiry / settled</th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((p) => (
            <Row key={p.id} p={p} latest={latest[p.id]} />
          ))}
        </tbody>
      </table>
      {!list.loading && !list.error && list.items.length === 0 && <p class="m-empty">No deposits match.</p>}
      <Pager list={list} />
    </div>
  );
}


/** The payment's audit trail (with audit.read), else the timestamps it carries. */
function History({ p }: { p: Payment }) {
  const { can } = useSession();
  const audit = useAsync(
    async () =>
      can('audit.read')
        ? (
            await get<{ entries: AuditEntry[] }>('/v1/admin/audit', {
              target_kind: 'payment',
              target_id: p.id,
              limit: 100,
            })
          ).entries.slice().reverse()
        : null,
    [p.id, p.status, p.updated_at],
  );
  if (audit.data) {
    return (
      <ol class="m-history" data-testid="history" data-source="audit">
        {audit.data.map((e) => (
          <li data-testid="history-entry" data-action={e.action}>
            <Time at={e.at} /> <strong>{e.action}</strong> by{' '}
            {e.actor_kind === 'staff' ? e.actor_email || <StaffName id={e.actor_id} /> : `${e.actor_kind} ${e.actor_id}`}
            {e.reason ? <span class="m-muted"> — {e.reason}</span> : null}
          </li>
        ))}
      </ol>
    );
  }
  const settled = p.status === 'completed' || p.status === 'failed';
  return (
    <ol class="m-history" data-testid="history" data-source="payment">
      <li data-testid="history-entry" data-action="created">
        <Time at={p.created_at} /> <strong>created</strong> by the player, sent to {p.psp}
      </li>
      {p.status === 'expired' && (
        <li data-testid="history-entry" data-action="expired">
          <Time at={p.expires_at} /> <strong>expired</strong>
          <span class="m-muted"> — no confirmation from the PSP yet; one arriving later still credits</span>
        </li>
      )}
      {settled && (
        <li data-testid="history-entry" data-action={p.status}>
          <Time at={p.updated_at} /> <strong>{p.status}</strong>
          {p.completed_late ? <span class="m-muted"> — late completion: after the intent expired</span> : null}
        </li>
      )}
      <ErrorBox error={audit.error} />
    </ol>
  );
}

export function PaymentDetail({ params }: { params: Record<string, string> }) {
  const loaded = useAsync(() => getPayment(params.id), [params.id]);
  const [p, setP] = useState<Payment | null>(null);
  useEffect(() => setP(loaded.data ?? null), [loaded.data]);
  const live = useDepositEvents(
    async (_e, id) => {
      if (id !== params.id) return;
      try {
        setP(await getPayment(id));
      } catch {
        /* the next refresh shows it */
      }
    },
    loaded.reload,
  );
  useExpiryRereads(p ? [p] : [], async (id) => {
    try {
      const now = await getPayment(id);
      setP(now);
      return now;
    } catch {
      return null; /* the next refresh shows it */
    }
  });
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (!p) return <p class="loading">Loading…</p>;
  return (
    <div class="m-page" data-testid="payment-detail" data-status={p.status}>
      <p>
        <Link to="/payments">← Payments</Link>
      </p>
      <h1>
        Deposit <code>{p.id}</code>
      </h1>
      <dl class="m-facts">
        <dt>Status</dt>
        <dd data-testid="detail-status">
          <PaymentStatus p={p} />{' '}
          <span class={`m-live m-live-${live}`} data-testid="live" data-status={live}>
            {live === 'live' ? '● live' : live}
          </span>
        </dd>
        <dt>Amount</dt>
        <dd data-testid="detail-amount">
          <Money amount={p.amount} currency={p.currency} />
        </dd>
        <dt>Player</dt>
        <dd>
          <Link to={`/players/${p.player}`} testid="detail-player">
            <code>{p.player}</code>
          </Link>{' '}
          (<span data-testid="detail-brand">{p.brand}</span>)
        </dd>
        <dt>PSP</dt>
        <dd data-testid="detail-psp">{p.psp}</dd>
        <dt>PSP reference</dt>
        <dd>
          <code data-testid="detail-reference">{p.psp_reference}</code> <CopyButton text={p.psp_reference} />
        </dd>
        <dt>Made</dt>
        <dd data-testid="detail-created">
          <Time at={p.created_at} />
        </dd>
        <dt>Expires</dt>
        <dd data-testid="detail-expires">
          {p.expires_at ? <Time at={p.expires_at} /> : <span class="m-muted">— (settled)</span>}
        </dd>
        <dt>Last change</dt>
        <dd data-testid="detail-updated">
          <Time at={p.updated_at} />
        </dd>
        <dt>Ledger transfer</dt>
        <dd data-testid="detail-transfer">
          {p.transfer_id ? (
            <>
              <code>{p.transfer_id}</code>{' '}
              <Link
                to={`/transactions?player=${encodeURIComponent(p.player)}&kind=deposit`}
                testid="detail-transactions"
              >
                the player’s deposits in Transactions
              </Link>
            </>
          ) : (
            <span class="m-muted">none (nothing credited)</span>
          )}
        </dd>
      </dl>
      <button type="button" onClick={loaded.reload}>
        Refresh
      </button>
      <h2>History</h2>
      <History p={p} />
    </div>
  );
}
