/*
 * UnclaimedSettle.tsx — settling a brand's unclaimed funds with 4-eyes, on the
 * Unclaimed funds page (src/api/admin_unclaimed_settle.c):
 *
 *   - the Settle form (finance.adjust): brand and currency (one of the accounts the
 *     balances show), amount, destination (remitted to an authority, with its
 *     reference; or recognised by the house), reason. It only requests: a second
 *     member approves. Its idempotency key is made once per form and kept until a
 *     request is answered, so a retry after a lost answer is the same request;
 *   - the pending settlement requests (GET …/settlements?status=pending), each
 *     naming its requester by e-mail (requested_by_email: finance may not read the
 *     staff list; the id when the member is gone), with
 *     Approve and Reject (finance.adjust). The requester is offered no Approve on
 *     their own request (the server refuses it anyway: FOUR_EYES_VIOLATION), only
 *     Reject, which withdraws it. The server's error is shown as it says it.
 *     Live (live.ts, useSettlementEvents): a shown request that another member
 *     approves or rejects, or the sweep expires, is re-read and keeps its row with
 *     its new status and no buttons (rows do not move under the pointer); a new
 *     request is announced ("1 new settlement request: show"); a settlement made
 *     re-reads the page's balances and entries.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, Money, ReasonDialog, Time, usePaged } from '../components/ui';
import { ConfirmDialog, StaffName, Status } from './common';
import { useLiveQueue, useSettlementEvents } from './live';

export interface Balance {
  brand: string;
  currency: string;
  balance: string;
}

export interface Settlement {
  id: string;
  brand: string;
  currency: string;
  amount: string;
  destination: 'remitted' | 'house';
  reference: string | null;
  reason: string;
  requested_by: string; // a staff id
  requested_by_email: string | null; // null when the member no longer exists
  requested_at: string;
  status: string;
  decided_by: string | null;
  decided_by_email: string | null; // null while pending, expired, or the member is gone
}

const PATH = '/v1/admin/unclaimed-funds/settlements';

/** A fresh idempotency key: 128 random bits as hex. */
function newKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return 'ui-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** The Settle form: requests a settlement; onDone after the server took it. */
export function SettleForm({ balances, onDone }: { balances: Balance[]; onDone: () => void }) {
  const [account, setAccount] = useState('');
  const [amount, setAmount] = useState('');
  const [destination, setDestination] = useState<'remitted' | 'house'>('remitted');
  const [reference, setReference] = useState('');
  const [reason, setReason] = useState('');
  const [key, setKey] = useState(newKey);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Settlement | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = balances.find((b) => `${b.brand}/${b.currency}` === account) ?? balances[0];
  async function submit(e: Event) {
    e.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const body: Record<string, string> = {
        brand: chosen.brand,
        currency: chosen.currency,
        amount: amount.trim(),
        destination,
        reason: reason.trim(),
        idempotency_key: key,
      };
      if (reference.trim()) body.reference = reference.trim();
      const s = await post<Settlement>(PATH, body);
      setDone(s);
      setKey(newKey()); // the next request is another one
      setAmount('');
      setReference('');
      setReason('');
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  if (balances.length === 0) return null;
  return (
    <form class="filters m-filters" data-testid="settle-form" onSubmit={submit}>
      <label>
        Account
        <select
          name="account"
          value={chosen ? `${chosen.brand}/${chosen.currency}` : ''}
          onChange={(e) => setAccount(e.currentTarget.value)}
        >
          {balances.map((b) => (
            <option value={`${b.brand}/${b.currency}`}>
              {b.brand} {b.currency}
            </option>
          ))}
        </select>
      </label>
      <label>
        Amount
        <input name="amount" required value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
      </label>
      <label>
        Destination
        <select
          name="destination"
          value={destination}
          onChange={(e) => setDestination(e.currentTarget.value as 'remitted' | 'house')}
        >
          <option value="remitted">remitted to an authority</option>
          <option value="house">recognised by the house</option>
        </select>
      </label>
      <label>
        Reference{destination === 'remitted' ? '' : ' (optional)'}
        <input name="reference" value={reference} onInput={(e) => setReference(e.currentTarget.value)} />
      </label>
      <label>
        Reason
        <input name="reason" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Request settlement
      </button>
      <ErrorBox error={error} />
      {done && (
        <p class="m-muted" data-testid="settle-requested">
          Requested <Money amount={done.amount} currency={done.currency} />: a second finance member must approve
          it.
        </p>
      )}
    </form>
  );
}

/**
 * The pending requests with Approve / Reject; onChange after a decision. rev: a
 * counter the page raises when a request was made (the list is read again).
 */
export function PendingSettlements({ brand, rev, onChange }: { brand: string; rev: number; onChange: () => void }) {
  const { me, can } = useSession();
  const list = usePaged<Settlement>(PATH, 'items', { status: 'pending', brand: brand || undefined });
  const [dialog, setDialog] = useState<{ kind: 'approve' | 'reject'; s: Settlement } | null>(null);
  const adjust = can('finance.adjust');
  // live: a shown request decided or expired elsewhere is re-read in place (its row
  // stays, with its status and no buttons); a new one is announced, not inserted
  const { live, latest, fresh, reload } = useLiveQueue({
    list,
    events: useSettlementEvents,
    classify: (e, id, shown) =>
      brand && e.brand !== brand
        ? 'other'
        : e.type !== 'funds.unclaimed_settlement_requested'
          ? 'change'
          : shown.has(id)
            ? 'other'
            : 'new',
    reread: (id) => get<Settlement>(`${PATH}/${id}`),
    filters: [brand],
    // a settlement made: the page's balance and entries moved
    onEvent: (e) => e.type === 'funds.unclaimed_settled' && (!brand || e.brand === brand) && onChange(),
  });
  useEffect(() => {
    if (rev) reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rev]);
  function decided() {
    reload();
    onChange();
  }
  return (
    <>
      <h2>
        Pending settlements{' '}
        <span class={`m-live m-live-${live}`} data-testid="settlements-live" data-status={live}>
          {live === 'live' ? '● live' : live}
        </span>
      </h2>
      {fresh > 0 && (
        <p class="m-fresh" role="status">
          <button type="button" data-testid="show-new-settlements" onClick={reload}>
            {fresh === 1 ? '1 new settlement request' : `${fresh} new settlement requests`}: show
          </button>
        </p>
      )}
      <ErrorBox error={list.error} />
      <table class="table m-table" data-testid="settlements-pending">
        <thead>
          <tr>
            <th>Requested</th>
            <th>Brand</th>
            <th class="num">Amount</th>
            <th>Destination</th>
            <th>Reference</th>
            <th>Reason</th>
            <th>Requested by</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((listed) => {
            const s = latest[listed.id] ?? listed;
            const mine = s.requested_by === me.staff.id;
            const pending = s.status === 'pending';
            return (
              <tr data-testid="settlement-row" data-id={s.id} data-mine={mine ? 'yes' : 'no'} data-status={s.status}>
                <td>
                  <Time at={s.requested_at} />
                </td>
                <td>{s.brand}</td>
                <td class="num">
                  <Money amount={s.amount} currency={s.currency} />
                </td>
                <td>{s.destination}</td>
                <td>{s.reference ?? '—'}</td>
                <td>{s.reason}</td>
                <td data-testid="settlement-requester">
                  <StaffName id={s.requested_by} email={s.requested_by_email} />
                </td>
                <td>
                  {!pending && (
                    <span data-testid="settlement-status">
                      <Status value={s.status} />
                      {s.decided_by ? (
                        <>
                          {' '}
                          by <StaffName id={s.decided_by} email={s.decided_by_email} />
                        </>
                      ) : null}
                    </span>
                  )}
                  {adjust && pending && (
                    <div class="m-actions">
                      {mine ? (
                        <span class="m-muted" data-testid="cannot-approve">
                          your request: another member approves it
                        </span>
                      ) : (
                        <button class="primary" data-testid="settle-approve" onClick={() => setDialog({ kind: 'approve', s })}>
                          Approve
                        </button>
                      )}
                      <button class="danger" data-testid="settle-reject" onClick={() => setDialog({ kind: 'reject', s })}>
                        {mine ? 'Withdraw' : 'Reject'}
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
          {!list.loading && list.items.length === 0 && (
            <tr>
              <td colSpan={8} class="m-muted">
                No settlement waits for approval.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {dialog?.kind === 'approve' && (
        <ConfirmDialog
          title="Approve settlement"
          confirm="Approve and settle"
          onConfirm={async () => {
            await post(`${PATH}/${dialog.s.id}/approve`);
            decided();
          }}
          onClose={() => setDialog(null)}
        >
          <p>
            <Money amount={dialog.s.amount} currency={dialog.s.currency} /> leaves {dialog.s.brand}’s unclaimed funds:{' '}
            {dialog.s.destination === 'remitted' ? `remitted (${dialog.s.reference})` : 'recognised by the house'}.
          </p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'reject' && (
        <ReasonDialog
          title="Reject settlement"
          label="Reason (kept in the audit log)"
          confirm="Reject"
          onConfirm={async (reason) => {
            await post(`${PATH}/${dialog.s.id}/reject`, { reason });
            decided();
          }}
          onClose={() => setDialog(null)}
        >
          <p>Nothing moves; the request can no longer be approved.</p>
        </ReasonDialog>
      )}
    </>
  );
}
