/*
 * AdjustBalance.tsx — the player page's "Adjust balance" form (wallets tab,
 * finance.adjust; PlayerPage shows it only with the permission, and not for an
 * erased player, whose account takes no money; the server refuses anyway).
 *
 * POST /v1/admin/players/{id}/adjustments (money/adjustment.ts): cash or bonus,
 * credit or debit, the amount as typed (a decimal string in the player's
 * currency: the server parses it, no float here), a required reason. Applied
 * (201, or 200 for a replay): "adjusted", with the balances it answers, and the
 * page's wallets are read again. At or above the brand's 4-eyes threshold (202):
 * nothing moved, "awaiting a second approver", with a link to the request
 * (/adjustments/:id). A refusal is shown as the server said it.
 *
 * The idempotency key belongs to what the form holds: a new one whenever a field
 * changes, after an adjustment is made and after the server refused one (a 4xx
 * changes nothing). It stays the same while the content does, so a double click
 * (also ignored while a request is in flight) or a retry after a lost answer (a
 * network failure, a 5xx) is the same adjustment: answered again, never made twice.
 */
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { ErrorBox, Money } from '../components/ui';
import { type Applied, type AdjustmentRequest, adjustPlayer, newKey, what } from '../money/adjustment';
import { Link } from './common';

type Outcome =
  | { kind: 'adjusted'; applied: Applied; text: string }
  | { kind: 'pending'; request: AdjustmentRequest };

export function AdjustBalance({
  playerId,
  currency,
  onAdjusted,
}: {
  playerId: string;
  currency: string;
  onAdjusted: () => void;
}) {
  const [balance, setBalance] = useState<'cash' | 'bonus'>('cash');
  const [direction, setDirection] = useState<'credit' | 'debit'>('credit');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [key, setKey] = useState(newKey);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false); // a second click before the re-render disables the button
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  /** A field's setter that makes the form another request (a new key; the last answer cleared). */
  function edit<T>(set: (v: T) => void) {
    return (v: T) => {
      set(v);
      setKey(newKey());
      setError(null);
    };
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(null);
    setOutcome(null);
    const input = { balance, direction, amount: amount.trim(), reason: reason.trim(), idempotency_key: key };
    try {
      const r = await adjustPlayer(playerId, input);
      if ('applied' in r) {
        setOutcome({ kind: 'adjusted', applied: r.applied, text: `${what(input)} ${input.amount} ${currency}` });
        onAdjusted();
      } else {
        setOutcome({ kind: 'pending', request: r.pending });
      }
      setAmount('');
      setReason('');
      setKey(newKey());
    } catch (err) {
      setError(err);
      // the server answered and changed nothing: the next try is a new request
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) setKey(newKey());
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  const ready = amount.trim() !== '' && reason.trim() !== '';
  return (
    <section class="pp-adjust" aria-label="Adjust balance" data-testid="adjust-form">
      <h2>Adjust balance</h2>
      <form class="pp-filters pp-inline" onSubmit={submit} data-key={key}>
        <label>
          Balance
          <select name="balance" value={balance} onChange={(e) => edit(setBalance)(e.currentTarget.value as 'cash' | 'bonus')}>
            <option value="cash">cash</option>
            <option value="bonus">bonus</option>
          </select>
        </label>
        <label>
          Direction
          <select
            name="direction"
            value={direction}
            onChange={(e) => edit(setDirection)(e.currentTarget.value as 'credit' | 'debit')}
          >
            <option value="credit">credit (add)</option>
            <option value="debit">debit (take)</option>
          </select>
        </label>
        <label>
          Amount ({currency})
          <input
            name="amount"
            inputMode="decimal"
            autocomplete="off"
            placeholder="0.00"
            value={amount}
            onInput={(e) => edit(setAmount)(e.currentTarget.value)}
          />
        </label>
        <label class="pp-grow">
          Reason (kept in the audit log)
          <input
            name="reason"
            maxLength={500}
            value={reason}
            onInput={(e) => edit(setReason)(e.currentTarget.value)}
          />
        </label>
        <div class="actions">
          <button type="submit" class="primary" data-testid="adjust-submit" disabled={busy || !ready}>
            {busy ? 'Adjusting…' : 'Adjust'}
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {outcome?.kind === 'adjusted' && (
        <p class="pp-adjust-result" role="status" data-testid="adjust-result" data-outcome="adjusted">
          {outcome.applied.replayed ? 'Adjusted already (answered again, nothing moved twice): ' : 'Adjusted: '}
          {outcome.text}. Now cash <Money amount={outcome.applied.balance.cash} currency={outcome.applied.balance.currency} />
          , bonus <Money amount={outcome.applied.balance.bonus} currency={outcome.applied.balance.currency} />.
        </p>
      )}
      {outcome?.kind === 'pending' && (
        <p class="pp-adjust-result" role="status" data-testid="adjust-result" data-outcome="pending">
          {outcome.request.status === 'pending'
            ? 'Awaiting a second approver: at or above the brand’s 4-eyes threshold, nothing moved yet. '
            : `This request was made already and is ${outcome.request.status}. `}
          <Link to={`/adjustments/${outcome.request.id}`} testid="adjust-request-link">
            Request: {what(outcome.request)} <Money amount={outcome.request.amount} currency={outcome.request.currency} />
          </Link>
        </p>
      )}
    </section>
  );
}
