/*
 * Withdrawals.tsx — the approval queue (/withdrawals) and one withdrawal
 * (/withdrawals/:id), finance.read.
 *
 * The queue is server-side paginated (usePaged over GET /v1/admin/withdrawals
 * with the status/brand/player filters in the URL's query, so a reload or a
 * shared link keeps them). Each row shows who asked, the approvals so far and
 * whether a second one is needed (4-eyes: fixed when it was requested, from the
 * brand's threshold). Approve and reject are offered only with
 * finance.withdrawals.approve and never to the member who approved it already;
 * the server refuses anyway, and what it says is shown as it said it.
 *
 * A payout under way (approved/processing) is resolved with the PSP, or, when
 * the PSP cannot report on it, settled by hand on the detail page with 4-eyes:
 * one member states the outcome (paid/failed) with a reason and evidence, the
 * statement is shown (who, when, the reason and evidence; the outcome only to its
 * author), a different member establishes the outcome themselves and picks it when
 * confirming (nothing pre-filled; the money moves only when it is the stated one —
 * another is the server's 409 MANUAL_RESOLUTION_CONFLICT, explained in the dialog),
 * the stating member may withdraw it. Confirm is offered to the stating member
 * too, marked as needing a different member: the server's FOUR_EYES_VIOLATION is
 * what they see if they try.
 *
 * The manual settlement's parts are in WithdrawalManual.tsx.
 *
 * Live (live.ts): the pages follow the staff event stream; a withdrawal shown
 * whose state changes (approved, paid, rejected, …, by anyone) is re-read
 * (GET …/{id}); a new request matching the filters is announced with a button
 * that re-reads the list (rows never jump under the reader's pointer). Besides,
 * right after this member's own approval, while the PSP moves it, the row
 * re-reads that one withdrawal every second (at most 20 times), so "paid" shows
 * even when the stream is down.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../lib/api';
import { useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, ReasonDialog, Time, useAsync, usePaged } from '../components/ui';
import { BrandThresholds, ConfirmDialog, Link, StaffName, Status, useBrands, BrandFilter, StatusFilter, setListFilters } from './common';
import { useLiveQueue, useWithdrawalEvents } from './live';
import { ManualResolutionBox, ResolveAction, statedOutcome } from './WithdrawalManual';
import type { AuditEntry } from '../lib/audit';
import {
  MOVING,
  STATUSES,
  type Withdrawal,
  approveWithdrawal,
  fourEyes,
  getWithdrawal,
  missingApprovals,
  rejectWithdrawal,
  whyNotApprove,
} from './withdrawal';

/** Re-reads a withdrawal while the PSP is still moving it (bounded: 20 tries, 1 s apart). */
function useFollow(w: Withdrawal, onChange: (w: Withdrawal) => void) {
  const tries = useRef(0);
  const moving = MOVING.has(w.status);
  useEffect(() => {
    if (!moving) return;
    tries.current = 0;
    const t = setInterval(async () => {
      if (++tries.current > 20) return clearInterval(t);
      try {
        const now = await getWithdrawal(w.id);
        if (now.status !== w.status || now.updated_at !== w.updated_at) onChange(now);
      } catch {
        /* shown on the next manual refresh */
      }
    }, 1000);
    return () => clearInterval(t);
  }, [w.id, w.status, moving]);
}

/** Approve / reject buttons with their dialogs (resolve for a payout under way);
 * onChange receives the server's new view. */
export function WithdrawalActions({
  w,
  onChange,
  detail,
}: {
  w: Withdrawal;
  onChange: (w: Withdrawal) => void;
  detail?: boolean;
}) {
  const { me, can } = useSession();
  const [dialog, setDialog] = useState<'approve' | 'reject' | null>(null);
  const canApprove = can('finance.withdrawals.approve');
  if (canApprove && (w.status === 'approved' || w.status === 'processing'))
    return <ResolveAction w={w} onChange={onChange} detail={detail} />;
  if (!canApprove || w.status !== 'pending_approval') return null;
  const why = whyNotApprove(w, me.staff.id, canApprove);
  const left = missingApprovals(w);
  return (
    <div class="m-actions">
      {why ? (
        <span class="m-muted" data-testid="cannot-approve">
          {why}
        </span>
      ) : (
        <button class="primary" data-testid="approve" onClick={() => setDialog('approve')}>
          Approve
        </button>
      )}
      <button class="danger" data-testid="reject" onClick={() => setDialog('reject')}>
        Reject
      </button>
      {dialog === 'approve' && (
        <ConfirmDialog
          title="Approve withdrawal"
          confirm={left > 1 ? 'Approve (first of two)' : 'Approve and pay'}
          onConfirm={async () => onChange(await approveWithdrawal(w.id))}
          onClose={() => setDialog(null)}
        >
          <p>
            <Money amount={w.amount} currency={w.currency} /> to player <code>{w.player}</code> ({w.brand}).
          </p>
          <p>
            {left > 1
              ? 'Above the brand’s threshold: a second finance member must approve it after you.'
              : 'This is the last approval: the payout is sent to the PSP.'}
          </p>
        </ConfirmDialog>
      )}
      {dialog === 'reject' && (
        <ReasonDialog
          title="Reject withdrawal"
          label="Reason (kept in the audit log)"
          confirm="Reject"
          onConfirm={async (reason) => onChange(await rejectWithdrawal(w.id, reason))}
          onClose={() => setDialog(null)}
        >
          <p>
            The hold of <Money amount={w.amount} currency={w.currency} /> is released to player{' '}
            <code>{w.player}</code>.
          </p>
        </ReasonDialog>
      )}
    </div>
  );
}

/** "1 of 2", with the approvers. */
function Approvals({ w }: { w: Withdrawal }) {
  return (
    <div class="m-approvals" data-testid="approvals">
      <span class={fourEyes(w) ? 'm-foureyes' : ''}>
        {w.approvals.length} of {w.approvals_required}
        {fourEyes(w) ? ' (4-eyes)' : ''}
      </span>
      {w.approvals.map((a) => (
        <div class="m-approval" data-testid="approval">
          <StaffName id={a.staff_id} email={a.email} role={a.role} /> <Time at={a.at} />
        </div>
      ))}
      {missingApprovals(w) > 0 && w.approvals.length > 0 && (
        <div class="m-needs" data-testid="needs-second">
          needs a second approval
        </div>
      )}
    </div>
  );
}

function RequestedBy({ w }: { w: Withdrawal }) {
  return w.requested_by.kind === 'staff' ? (
    <StaffName id={w.requested_by.id} email={w.requested_by.email} />
  ) : (
    <span>the player</span>
  );
}

function Row({ w: initial, latest }: { w: Withdrawal; latest?: Withdrawal }) {
  const [w, setW] = useState(initial);
  useEffect(() => setW(initial), [initial]);
  useEffect(() => {
    if (latest) setW(latest);
  }, [latest]);
  useFollow(w, setW);
  return (
    <tr data-testid="withdrawal-row" data-id={w.id} data-status={w.status}>
      <td>
        <Link to={`/withdrawals/${w.id}`}>
          <code>{w.id.slice(-8)}</code>
        </Link>
      </td>
      <td>
        <Link to={`/players/${w.player}`}>
          <code class="m-id" title={w.player}>
            {w.player}
          </code>
        </Link>
        <div class="m-muted">{w.brand}</div>
      </td>
      <td class="num">
        <Money amount={w.amount} currency={w.currency} />
      </td>
      <td>
        <Time at={w.created_at} />
      </td>
      <td>
        <Status value={w.status} />
      </td>
      <td>
        <RequestedBy w={w} />
      </td>
      <td>
        <Approvals w={w} />
      </td>
      <td>
        <WithdrawalActions w={w} onChange={setW} />
      </td>
    </tr>
  );
}

export function Withdrawals() {
  const { query } = useLocation();
  const brands = useBrands();
  const status = query.get('status') ?? 'pending_approval';
  const brand = query.get('brand') ?? '';
  const player = query.get('player') ?? '';
  const [playerText, setPlayerText] = useState(player);
  const list = usePaged<Withdrawal>('/v1/admin/withdrawals', 'items', {
    status: status === 'all' ? undefined : status,
    brand: brand || undefined,
    player: player || undefined,
  });
  // live: a shown withdrawal that changes is re-read; new requests are announced, not inserted
  const { live, latest, fresh, reload } = useLiveQueue({
    list,
    events: useWithdrawalEvents,
    // a request, or an approved one back in the queue (its approver lost the right)
    classify: (e, id, shown) =>
      e.type === 'withdrawal.requested' || (e.type === 'withdrawal.approval_lapsed' && !shown.has(id))
        ? (status === 'pending_approval' || status === 'all') && (!brand || e.brand === brand) &&
          (!player || e.subject === player)
          ? 'new'
          : 'other'
        : 'change',
    reread: getWithdrawal,
    filters: [status, brand, player],
  });

  const setFilter = (k: string, v: string) => setListFilters('/withdrawals', { [k]: v });

  return (
    <div class="m-page">
      <h1>Withdrawals</h1>
      <form
        class="filters m-filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter('player', playerText.trim());
        }}
      >
        <StatusFilter statuses={STATUSES} value={status} onChange={(v) => setFilter('status', v)}>
          <option value="all">all</option>
        </StatusFilter>
        <BrandFilter brands={brands.data} value={brand} onChange={(v) => setFilter('brand', v)} />
        <label>
          Player id
          <input name="player" value={playerText} onInput={(e) => setPlayerText(e.currentTarget.value)} />
        </label>
        <button type="submit">Filter</button>
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
            {fresh === 1 ? '1 new withdrawal request' : `${fresh} new withdrawal requests`}: show
          </button>
        </p>
      )}
      {/* per currency (settings.withdrawal_4eyes_thresholds); a currency without one: always two */}
      {(brands.data ?? []).length > 0 && (
        <p class="m-muted">
          Two approvals (4-eyes) at or above, in the withdrawal’s currency:{' '}
          {(brands.data ?? []).map((b) => (
            <BrandThresholds brand={b} setting="withdrawal_4eyes_thresholds" none="none (always two)" />
          ))}
        </p>
      )}
      <ErrorBox error={list.error} />
      <table class="table m-table" data-testid="withdrawals">
        <thead>
          <tr>
            <th>Id</th>
            <th>Player</th>
            <th class="num">Amount</th>
            <th>Requested</th>
            <th>Status</th>
            <th>Requested by</th>
            <th>Approvals</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((w) => (
            <Row key={w.id} w={w} latest={latest[w.id]} />
          ))}
        </tbody>
      </table>
      {!list.loading && !list.error && list.items.length === 0 && <p class="m-empty">No withdrawals match.</p>}
      <Pager list={list} />
    </div>
  );
}


/** The withdrawal's audit trail (with audit.read), else what the withdrawal itself records. */
function History({ w }: { w: Withdrawal }) {
  const { can, me } = useSession();
  const audit = useAsync(
    async () =>
      can('audit.read')
        ? (
            await get<{ entries: AuditEntry[] }>('/v1/admin/audit', {
              target_kind: 'withdrawal',
              target_id: w.id,
              limit: 100,
            })
          ).entries.slice().reverse()
        : null,
    [w.id, w.status, w.approvals.length, w.manual_resolution?.stated_at],
  );
  if (audit.data) {
    return (
      <ol class="m-history" data-testid="history">
        {audit.data.map((e) => (
          <li>
            <Time at={e.at} /> <strong>{e.action}</strong> by{' '}
            {e.actor_kind === 'staff' ? (e.actor_email || <StaffName id={e.actor_id} />) : e.actor_kind}
            {e.role ? ` (${e.role})` : ''}
            {e.reason ? <span class="m-muted"> — {e.reason}</span> : null}
          </li>
        ))}
      </ol>
    );
  }
  return (
    <ol class="m-history" data-testid="history">
      <li>
        <Time at={w.created_at} /> <strong>requested</strong> by <RequestedBy w={w} />
      </li>
      {w.approvals.map((a) => (
        <li>
          <Time at={a.at} /> <strong>approved</strong> by <StaffName id={a.staff_id} email={a.email} role={a.role} />
        </li>
      ))}
      {w.status !== 'pending_approval' && (
        <li>
          <Time at={w.updated_at} /> <strong>{w.status.replace(/_/g, ' ')}</strong>
          {w.reason ? <span class="m-muted"> — {w.reason}</span> : null}
        </li>
      )}
      {w.manual_resolution && (
        <li data-testid="history-manual">
          <Time at={w.manual_resolution.stated_at} />{' '}
          <strong>{statedOutcome(w, me.staff.id) ? `stated ${statedOutcome(w, me.staff.id)}` : 'settled by hand'}</strong>{' '}
          by{' '}
          <StaffName
            id={w.manual_resolution.stated_by.staff_id}
            email={w.manual_resolution.stated_by.email}
            role={w.manual_resolution.stated_by.role}
          />
          <span class="m-muted"> — {w.manual_resolution.reason}</span>
        </li>
      )}
      <ErrorBox error={audit.error} />
    </ol>
  );
}

export function WithdrawalDetail({ params }: { params: Record<string, string> }) {
  const loaded = useAsync(() => getWithdrawal(params.id), [params.id]);
  const [w, setW] = useState<Withdrawal | null>(null);
  useEffect(() => setW(loaded.data ?? null), [loaded.data]);
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (!w) return <p class="loading">Loading…</p>;
  return <Detail w={w} onChange={setW} reload={loaded.reload} />;
}

function Detail({ w, onChange, reload }: { w: Withdrawal; onChange: (w: Withdrawal) => void; reload: () => void }) {
  useFollow(w, onChange);
  useWithdrawalEvents(
    async (_e, id) => {
      if (id !== w.id) return;
      try {
        onChange(await getWithdrawal(id));
      } catch {
        /* the next refresh shows it */
      }
    },
    reload,
  );
  return (
    <div class="m-page" data-testid="withdrawal-detail" data-status={w.status}>
      <p>
        <Link to="/withdrawals">← Withdrawals</Link>
      </p>
      <h1>
        Withdrawal <code>{w.id}</code>
      </h1>
      <dl class="m-facts">
        <dt>Status</dt>
        <dd>
          <Status value={w.status} />
        </dd>
        <dt>Amount</dt>
        <dd>
          <Money amount={w.amount} currency={w.currency} />
        </dd>
        <dt>Player</dt>
        <dd>
          <Link to={`/players/${w.player}`}>
            <code>{w.player}</code>
          </Link>{' '}
          ({w.brand})
        </dd>
        <dt>Requested</dt>
        <dd>
          <Time at={w.created_at} /> by <RequestedBy w={w} />
        </dd>
        <dt>Approvals</dt>
        <dd>
          <Approvals w={w} />
        </dd>
        <dt>Checks</dt>
        <dd>
          {w.checks.map((c) => (
            <span class="m-check">
              {c.check}: {c.result}
              {c.note ? ` (${c.note})` : ''}
            </span>
          ))}
        </dd>
        {w.current_checks && (
          <>
            <dt>Now</dt>
            <dd data-testid="current-checks">
              {w.current_checks.map((c) => (
                <span class={c.result === 'pass' ? 'm-check' : 'm-check m-check-fail'}>
                  {c.check}: {c.result}
                  {c.code ? ` (${c.code}: an approval is refused)` : ''}
                </span>
              ))}
            </dd>
          </>
        )}
        <dt>Payout</dt>
        <dd>
          {w.psp}
          {w.psp_reference ? (
            <>
              {' '}
              · <code>{w.psp_reference}</code>
            </>
          ) : null}
        </dd>
        {w.reason && (
          <>
            <dt>Reason</dt>
            <dd>{w.reason}</dd>
          </>
        )}
        <dt>Last change</dt>
        <dd>
          <Time at={w.updated_at} />
        </dd>
      </dl>
      {w.manual_resolution && <ManualResolutionBox w={w} onChange={onChange} />}
      <WithdrawalActions w={w} onChange={onChange} detail />
      <button type="button" onClick={reload}>
        Refresh
      </button>
      <h2>History</h2>
      <History w={w} />
    </div>
  );
}
