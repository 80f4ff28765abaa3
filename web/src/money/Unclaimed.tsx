/*
 * Unclaimed.tsx — the brands' unclaimed funds (/unclaimed-funds, finance.read):
 * what came for erased players after their erasure (a late win or refund,
 * wallet.h "Closed players") and is held on the brand's unclaimed_funds
 * account. The balances per brand and currency on top, the account's entries
 * below, newest first, a page at a time (GET /v1/admin/unclaimed-funds; the
 * brand and currency filters in the URL's query). An entry names the erased
 * player only by public id: there is no personal data left to show.
 */
import { get } from '../lib/api';
import { navigate, useLocation } from '../lib/router';
import { ErrorBox, Money, Pager, Time, useAsync, usePaged } from '../components/ui';
import { useBrands } from './common';

interface Balance {
  brand: string;
  currency: string;
  balance: string;
}

interface Entry {
  id: string;
  time: string;
  brand: string;
  kind: string;
  direction: 'credit' | 'debit';
  amount: string;
  currency: string;
  provider: string | null;
  round_id: string | null;
  player_id: string | null;
  tx_id: string | null;
}

export function Unclaimed() {
  const { query } = useLocation();
  const brands = useBrands();
  const brand = query.get('brand') ?? '';
  const q = { brand: brand || undefined };
  const balances = useAsync(
    () => get<{ balances: Balance[] }>('/v1/admin/unclaimed-funds', { ...q, limit: 1 }),
    [brand],
  );
  const list = usePaged<Entry>('/v1/admin/unclaimed-funds', 'entries', q);
  function setBrand(v: string) {
    navigate(`/unclaimed-funds${v ? `?brand=${encodeURIComponent(v)}` : ''}`, true);
  }
  return (
    <div class="m-page">
      <h1>Unclaimed funds</h1>
      <p class="m-muted">
        Wins and refunds that came for erased players after their erasure, held for the brand
        (a liability, settled by the operator’s rules).
      </p>
      <form class="filters m-filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Brand
          <select name="brand" value={brand} onChange={(e) => setBrand(e.currentTarget.value)}>
            <option value="">all my brands</option>
            {(brands.data ?? []).map((b) => (
              <option value={b.code}>{b.name || b.code}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => (balances.reload(), list.reload())}>
          Refresh
        </button>
      </form>
      <ErrorBox error={balances.error} />
      <table class="table m-table" data-testid="unclaimed-balances">
        <thead>
          <tr>
            <th>Brand</th>
            <th>Currency</th>
            <th class="num">Balance</th>
          </tr>
        </thead>
        <tbody>
          {(balances.data?.balances ?? []).map((b) => (
            <tr data-testid="unclaimed-balance" data-brand={b.brand} data-currency={b.currency}>
              <td>{b.brand}</td>
              <td>{b.currency}</td>
              <td class="num">
                <Money amount={b.balance} currency={b.currency} />
              </td>
            </tr>
          ))}
          {!balances.loading && (balances.data?.balances ?? []).length === 0 && (
            <tr>
              <td colSpan={3} class="m-muted">
                No unclaimed funds.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h2>Entries</h2>
      <ErrorBox error={list.error} />
      <table class="table m-table" data-testid="unclaimed-entries">
        <thead>
          <tr>
            <th>Time</th>
            <th>Brand</th>
            <th>Kind</th>
            <th class="num">Amount</th>
            <th>Erased player</th>
            <th>Provider</th>
            <th>Round</th>
            <th>Operation</th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((e) => (
            <tr data-testid="unclaimed-entry" data-id={e.id} data-direction={e.direction}>
              <td>
                <Time at={e.time} />
              </td>
              <td>{e.brand}</td>
              <td>{e.kind}</td>
              <td class="num">
                {e.direction === 'debit' ? '−' : ''}
                <Money amount={e.amount} currency={e.currency} />
              </td>
              <td data-testid="unclaimed-player">{e.player_id ?? '—'}</td>
              <td>{e.provider ?? '—'}</td>
              <td>{e.round_id ?? '—'}</td>
              <td>{e.tx_id ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager list={list} />
    </div>
  );
}
