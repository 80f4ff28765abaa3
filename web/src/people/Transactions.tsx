/*
 * Transactions.tsx — /transactions (finance.read): every money movement of
 * players across the caller's brands, newest first (GET /v1/admin/transactions).
 *
 * Filters (brand, player, currency, kind, time range, amount range — the amount
 * range needs a currency, the server says so if not) are kept in the URL query;
 * the list pages by cursor. "Download CSV" (only with reports.export) asks
 * GET /v1/admin/transactions/export with exactly the filters of the view; the
 * server streams it and audits the export.
 */
import { useEffect, useState } from 'preact/hooks';
import { download } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, Time, usePaged } from '../components/ui';
import { BrandField, clean, Link, ListState, signed, useUrlQuery, wallToUtc } from './common';
import './people.css';

interface Transaction {
  id: string;
  time: string;
  brand: string;
  player_id: string;
  player_email: string | null;
  kind: string;
  direction: 'debit' | 'credit';
  amount: string;
  currency: string;
  balance: string;
  reference: string;
  provider: string | null;
  game: string | null;
}

export const KINDS = [
  'deposit', 'withdrawal', 'withdrawal_hold', 'withdrawal_release', 'bet', 'win', 'rollback', 'adjustment', 'bonus', 'other',
];

const FILTERS = ['brand', 'player', 'currency', 'kind', 'from', 'to', 'min_amount', 'max_amount'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** The API query of a filter set (the list and the export take the same). */
function apiQuery(f: Filters) {
  return clean({
    brand: f.brand?.trim(),
    player: f.player?.trim(),
    currency: f.currency?.trim().toUpperCase(),
    kind: f.kind,
    from: wallToUtc(f.from),
    to: wallToUtc(f.to),
    min_amount: f.min_amount?.trim(),
    max_amount: f.max_amount?.trim(),
  });
}

export function Transactions() {
  const { can } = useSession();
  const { query, set } = useUrlQuery();
  const filters: Filters = {};
  for (const k of FILTERS) if (query[k]) filters[k] = query[k];
  const [draft, setDraft] = useState<Filters>(filters);
  const urlKey = JSON.stringify(filters);
  useEffect(() => setDraft(filters), [urlKey]);
  const q = apiQuery(filters);
  const list = usePaged<Transaction>('/v1/admin/transactions', 'transactions', q);
  const [dlError, setDlError] = useState<unknown>(null);
  const [dlBusy, setDlBusy] = useState(false);

  const field = (k: keyof Filters) => ({
    name: k,
    value: draft[k] ?? '',
    onInput: (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value }),
  });

  async function exportCsv() {
    setDlBusy(true);
    setDlError(null);
    try {
      const day = new Date().toISOString().slice(0, 10);
      await download('/v1/admin/transactions/export', q, `transactions-${filters.brand || 'all'}-${day}.csv`);
    } catch (e) {
      setDlError(e);
    } finally {
      setDlBusy(false);
    }
  }

  return (
    <div class="pp-page">
      <h1>Transactions</h1>
      <form
        class="pp-filters"
        aria-label="Transaction filters"
        onSubmit={(e) => {
          e.preventDefault();
          if (!set(draft)) list.reload(); // the same filters: ask the server again
        }}
      >
        <div class="pp-filtergrid">
          <BrandField value={draft.brand ?? ''} onChange={(v) => setDraft({ ...draft, brand: v })} />
          <label>
            Player
            <input {...field('player')} placeholder="player id" />
          </label>
          <label>
            Currency
            <input {...field('currency')} maxLength={3} placeholder="EUR" />
          </label>
          <label>
            Kind
            <select {...field('kind')} onChange={(e) => setDraft({ ...draft, kind: e.currentTarget.value })}>
              <option value="">any</option>
              {KINDS.map((k) => (
                <option value={k}>{k.replace('_', ' ')}</option>
              ))}
            </select>
          </label>
          <label>
            From
            <input type="datetime-local" {...field('from')} />
          </label>
          <label>
            To
            <input type="datetime-local" {...field('to')} />
          </label>
          <label>
            Min amount
            <input {...field('min_amount')} inputMode="decimal" />
          </label>
          <label>
            Max amount
            <input {...field('max_amount')} inputMode="decimal" />
          </label>
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Apply
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft({});
              set({});
            }}
          >
            Clear
          </button>
          {can('reports.export') && (
            <button type="button" onClick={exportCsv} disabled={dlBusy}>
              {dlBusy ? 'Preparing…' : 'Download CSV'}
            </button>
          )}
        </div>
      </form>
      <ErrorBox error={dlError} />
      <ErrorBox error={list.error} />
      <table class="table pp-table" data-testid="transactions-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Brand</th>
            <th scope="col">Player</th>
            <th scope="col">Kind</th>
            <th scope="col" class="pp-num">Amount</th>
            <th scope="col">Balance</th>
            <th scope="col">Game</th>
            <th scope="col">Reference</th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((t) => (
            // one transfer between two players' accounts is two rows (one per side)
            <tr key={`${t.id}:${t.player_id}:${t.balance}:${t.direction}`} data-testid="transaction-row" data-id={t.id}>
              <td>
                <Time at={t.time} />
              </td>
              <td>{t.brand}</td>
              <td>
                <Link to={`/players/${encodeURIComponent(t.player_id)}`}>{t.player_email || t.player_id}</Link>
              </td>
              <td data-testid="transaction-kind">{t.kind.replace('_', ' ')}</td>
              <td class="pp-num" data-testid="transaction-amount">
                <Money amount={signed(t.amount, t.direction)} currency={t.currency} />
              </td>
              <td>{t.balance}</td>
              <td>{[t.provider, t.game].filter(Boolean).join(' / ') || '—'}</td>
              <td class="pp-mono pp-clip" title={t.reference}>
                {t.reference}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListState loading={list.loading} empty={list.items.length === 0} more={!list.done} what="transactions match" />
      <Pager list={list} />
    </div>
  );
}
