/*
 * Adjustments.tsx — the 4-eyes queue of large staff balance adjustments
 * (/adjustments) and one request (/adjustments/:id), finance.read.
 *
 * An adjustment at or above its brand's settings.adjustment_4eyes_thresholds
 * (made from the player page's "Adjust balance" form, people/AdjustBalance.tsx)
 * moves nothing: it waits here as a request until a second member with
 * finance.adjust approves it (the transfer is made then) or someone rejects it
 * with a reason. The queue is GET /v1/admin/adjustments, server-side paginated
 * (usePaged: "More" passes next_cursor back), with the status (pending by default)
 * and brand filters in the URL's query so a reload or a shared link keeps them.
 * Requester and decider are named by the e-mail the answer gives
 * (requested_by_email, decided_by_email: finance may not read the staff list),
 * else by id.
 *
 * The detail page offers Approve and Reject to members with finance.adjust while
 * the request is pending. Its requester is not offered Approve (the server
 * refuses it with FOUR_EYES_VIOLATION) but may reject (withdraw) it. A request
 * pending past its brand's settings.adjustment_request_expiry_hours reads
 * "expired" (the server computes it) and offers nothing. Whatever the server
 * refuses anyway (decided meanwhile, expired meanwhile, a debit beyond the
 * balance) is shown in the dialog as it said it. After a decision the page shows
 * the request as the server answers it and the player's balances now.
 *
 * Live (live.ts, useAdjustmentEvents): the queue follows the staff event stream: a
 * shown request that another member approves or rejects, or the sweep expires, is
 * re-read in place; a new request (balance.adjustment_requested) in the filters is
 * announced ("1 new adjustment request: show"), not inserted, so the rows do not move
 * under the reader's pointer. The detail page re-reads its request on its events.
 */
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, ReasonDialog, Time, useAsync, usePaged } from '../components/ui';
import { BrandThresholds, ConfirmDialog, Link, StaffName, Status, useBrands, BrandFilter, StatusFilter, setListFilters } from './common';
import { useAdjustmentEvents, useLiveQueue } from './live';
import {
  type AdjustmentRequest,
  STATUSES,
  type Wallet,
  approveAdjustment,
  getAdjustment,
  rejectAdjustment,
  signedAmount,
  what,
} from './adjustment';

function Row({ a }: { a: AdjustmentRequest }) {
  return (
    <tr data-testid="adjustment-row" data-id={a.id} data-status={a.status}>
      <td>
        <Link to={`/adjustments/${a.id}`} testid="adjustment-link">
          <code>{a.id.slice(-8)}</code>
        </Link>
      </td>
      <td data-testid="adjustment-brand">{a.brand}</td>
      <td>
        <Link to={`/players/${a.player_id}`} testid="adjustment-player">
          <code class="m-id" title={a.player_id}>
            {a.player_id}
          </code>
        </Link>
      </td>
      <td>{what(a)}</td>
      <td class="num" data-testid="adjustment-amount">
        <Money amount={signedAmount(a)} currency={a.currency} />
      </td>
      <td data-testid="adjustment-requester">
        <StaffName id={a.requested_by} email={a.requested_by_email} />
      </td>
      <td>
        <Time at={a.requested_at} />
      </td>
      <td data-testid="adjustment-reason">{a.reason}</td>
      <td>
        <Status value={a.status} />
      </td>
      <td>
        {a.decided_by ? <StaffName id={a.decided_by} email={a.decided_by_email} /> : null}
        {a.decided_at ? (
          <div class="m-muted">
            <Time at={a.decided_at} />
          </div>
        ) : null}
        {a.decision_reason ? <div class="m-muted">{a.decision_reason}</div> : null}
      </td>
    </tr>
  );
}

export function Adjustments() {
  const { query } = useLocation();
  const brands = useBrands();
  const status = query.get('status') ?? 'pending';
  const brand = query.get('brand') ?? '';
  const list = usePaged<AdjustmentRequest>('/v1/admin/adjustments', 'items', {
    status: status === 'all' ? undefined : status,
    brand: brand || undefined,
  });
  // live: a shown request that changes is re-read; new requests are announced, not inserted
  const { live, latest, fresh, reload } = useLiveQueue({
    list,
    events: useAdjustmentEvents,
    classify: (e) =>
      e.type !== 'balance.adjustment_requested'
        ? 'change'
        : (status === 'pending' || status === 'all') && (!brand || e.brand === brand)
          ? 'new'
          : 'other',
    reread: getAdjustment,
    filters: [status, brand],
  });

  const setFilter = (k: string, v: string) => setListFilters('/adjustments', { [k]: v });

  return (
    <div class="m-page">
      <h1>Adjustments</h1>
      <p class="m-muted">
        Staff balance adjustments at or above their brand’s threshold wait here for a second member with the
        right to adjust. Make an adjustment from the player’s page (Wallets).
      </p>
      <form class="filters m-filters" onSubmit={(e) => e.preventDefault()}>
        <StatusFilter statuses={STATUSES} value={status} onChange={(v) => setFilter('status', v)} />
        <BrandFilter brands={brands.data} value={brand} onChange={(v) => setFilter('brand', v)} />
        <button type="button" onClick={reload}>
          Refresh
        </button>
        <span class={`m-live m-live-${live}`} data-testid="live" data-status={live}>
          {live === 'live' ? '● live' : live}
        </span>
      </form>
      {fresh > 0 && (
        <p class="m-fresh" role="status">
          <button type="button" data-testid="show-new" onClick={reload}>
            {fresh === 1 ? '1 new adjustment request' : `${fresh} new adjustment requests`}: show
          </button>
        </p>
      )}
      {/* per currency (settings.adjustment_4eyes_thresholds); a currency without one: no 4-eyes */}
      {(brands.data ?? []).length > 0 && (
        <p class="m-muted">
          A second member approves at or above, in the player’s currency:{' '}
          {(brands.data ?? []).map((b) => (
            <BrandThresholds brand={b} setting="adjustment_4eyes_thresholds" none="none" />
          ))}
        </p>
      )}
      <ErrorBox error={list.error} />
      <table class="table m-table" data-testid="adjustments">
        <thead>
          <tr>
            <th>Id</th>
            <th>Brand</th>
            <th>Player</th>
            <th>Adjustment</th>
            <th class="num">Amount</th>
            <th>Requested by</th>
            <th>Requested</th>
            <th>Reason</th>
            <th>Status</th>
            <th>Decided</th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((a) => (
            <Row key={a.id} a={latest[a.id] ?? a} />
          ))}
        </tbody>
      </table>
      {!list.loading && !list.error && list.items.length === 0 && <p class="m-empty">No adjustment requests match.</p>}
      <Pager list={list} />
    </div>
  );
}

/** Approve / Reject for a pending request (finance.adjust); onDecided gets the server's answer. */
function Actions({
  a,
  onDecided,
  reload,
}: {
  a: AdjustmentRequest;
  onDecided: (a: AdjustmentRequest, w: Wallet) => void;
  reload: () => void;
}) {
  const { me, can } = useSession();
  const [dialog, setDialog] = useState<'approve' | 'reject' | null>(null);
  // closing a dialog reads the request again: a refusal (decided or expired meanwhile) shows its state
  const close = () => {
    setDialog(null);
    reload();
  };
  if (!can('finance.adjust') || a.status !== 'pending') return null;
  const mine = a.requested_by === me.staff.id;
  return (
    <div class="m-actions">
      {mine ? (
        <span class="m-muted" data-testid="own-request">
          You requested it: a second member with the right to adjust approves it.
        </span>
      ) : (
        <button class="primary" data-testid="approve" onClick={() => setDialog('approve')}>
          Approve
        </button>
      )}
      <button class="danger" data-testid="reject" onClick={() => setDialog('reject')}>
        {mine ? 'Withdraw (reject)' : 'Reject'}
      </button>
      {dialog === 'approve' && (
        <ConfirmDialog
          title="Approve adjustment"
          confirm="Approve and apply"
          onConfirm={async () => {
            const d = await approveAdjustment(a.id);
            onDecided(d.adjustment, d.balance);
          }}
          onClose={close}
        >
          <p>
            {a.direction === 'credit' ? 'Credit' : 'Debit'} <Money amount={a.amount} currency={a.currency} /> to
            the {a.balance} balance of player <code>{a.player_id}</code> ({a.brand}). The money moves now.
          </p>
          <p class="m-muted">Reason given: {a.reason}</p>
        </ConfirmDialog>
      )}
      {dialog === 'reject' && (
        <ReasonDialog
          title="Reject adjustment"
          label="Reason (kept in the audit log)"
          confirm="Reject"
          onConfirm={async (reason) => {
            const d = await rejectAdjustment(a.id, reason);
            onDecided(d.adjustment, d.balance);
          }}
          onClose={close}
        >
          <p>
            Nothing moves: the {what(a)} of <Money amount={a.amount} currency={a.currency} /> for player{' '}
            <code>{a.player_id}</code> is not made.
          </p>
        </ReasonDialog>
      )}
    </div>
  );
}

export function AdjustmentDetail({ params }: { params: Record<string, string> }) {
  const loaded = useAsync(() => getAdjustment(params.id), [params.id]);
  const [a, setA] = useState<AdjustmentRequest | null>(null);
  const [wallet, setWallet] = useState<Wallet | null>(null);
  useEffect(() => setA(loaded.data ?? null), [loaded.data]);
  // live: a decision or expiry elsewhere (another tab, another member, the sweep) shows here
  const live = useAdjustmentEvents(
    (_e, id) => {
      if (id === params.id) loaded.reload();
    },
    () => loaded.reload(),
  );
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (!a) return <p class="loading">Loading…</p>;
  return (
    <div class="m-page" data-testid="adjustment-detail" data-status={a.status}>
      <p>
        <Link to="/adjustments">← Adjustments</Link>
      </p>
      <h1>
        Adjustment request <code>{a.id}</code>
      </h1>
      <dl class="m-facts">
        <dt>Status</dt>
        <dd data-testid="adjustment-status">
          <Status value={a.status} />
        </dd>
        <dt>Adjustment</dt>
        <dd>
          {what(a)} <Money amount={a.amount} currency={a.currency} />
        </dd>
        <dt>Player</dt>
        <dd>
          <Link to={`/players/${a.player_id}`} testid="adjustment-player">
            <code>{a.player_id}</code>
          </Link>{' '}
          ({a.brand})
        </dd>
        <dt>Requested</dt>
        <dd data-testid="adjustment-requester">
          <Time at={a.requested_at} /> by <StaffName id={a.requested_by} email={a.requested_by_email} />
        </dd>
        <dt>Reason</dt>
        <dd data-testid="adjustment-reason">{a.reason}</dd>
        {a.decided_at && (
          <>
            <dt>Decided</dt>
            <dd data-testid="adjustment-decided">
              <Time at={a.decided_at} />
              {a.decided_by ? (
                <>
                  {' '}
                  by <StaffName id={a.decided_by} email={a.decided_by_email} />
                </>
              ) : (
                ' (nobody decided it)'
              )}
            </dd>
          </>
        )}
        {a.decision_reason && (
          <>
            <dt>Rejected because</dt>
            <dd data-testid="decision-reason">{a.decision_reason}</dd>
          </>
        )}
        {a.transfer_id && (
          <>
            <dt>Transfer</dt>
            <dd>
              <code>{a.transfer_id}</code>
            </dd>
          </>
        )}
        {a.failure && (
          <>
            <dt>Failure</dt>
            <dd>{a.failure}</dd>
          </>
        )}
        {wallet && (
          <>
            <dt>Player’s balance now</dt>
            <dd data-testid="balance-now">
              cash <Money amount={wallet.cash} currency={wallet.currency} />, bonus{' '}
              <Money amount={wallet.bonus} currency={wallet.currency} />
            </dd>
          </>
        )}
      </dl>
      {a.status === 'expired' && (
        <p class="m-muted" data-testid="expired-note">
          Pending longer than the brand’s adjustment_request_expiry_hours: it can no longer be approved or rejected.
          Make a new adjustment if it is still due.
        </p>
      )}
      <Actions
        a={a}
        onDecided={(next, w) => {
          setA(next);
          setWallet(w);
        }}
        reload={loaded.reload}
      />
      <button type="button" onClick={loaded.reload}>
        Refresh
      </button>
      <span class={`m-live m-live-${live}`} data-testid="live" data-status={live}>
        {live === 'live' ? '● live' : live}
      </span>
    </div>
  );
}
