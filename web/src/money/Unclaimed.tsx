/*
 * Unclaimed.tsx — the brands' unclaimed funds (/unclaimed-funds, finance.read):
 * what came for erased players after their erasure (a late win or refund,
 * wallet.h "Closed players") and is held on the brand's unclaimed_funds
 * account. The balances per brand and currency on top, the account's entries
 * below, newest first, a page at a time (GET /v1/admin/unclaimed-funds; the
 * brand and currency filters in the URL's query). An entry names the erased
 * player only by public id: there is no personal data left to show; a settlement
 * names its destination and reference. Settling takes two members
 * (UnclaimedSettle.tsx: the Settle form and the pending requests).
 */
import { useState } from 'preact/hooks';
import { get } from '../lib/api';
import { navigate, useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, Time, useAsync, usePaged } from '../components/ui';
import { useBrands, BrandFilter } from './common';
import { type Balance, PendingSettlements, SettleForm } from './UnclaimedSettle';

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
  destination?: 'remitted' | 'house';
  reference?: string | null;
  settlement_id?: string | null;
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
  const { can } = useSession();
  const [rev, setRev] = useState(0); // a settlement requested: the pending list reads again
  function reloadAll() {
    balances.reload();
    list.reload();
  }
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
        <BrandFilter brands={brands.data} value={brand} onChange={setBrand} />
        <button type="button" onClick={reloadAll}>
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
      {can('finance.adjust') && (
        <>
          <h2>Settle</h2>
          <p class="m-muted">
            A settlement is a request: a second finance member approves it before any money moves.
          </p>
          <SettleForm
            balances={balances.data?.balances ?? []}
            onDone={() => (reloadAll(), setRev((n) => n + 1))}
          />
        </>
      )}
      <PendingSettlements brand={brand} rev={rev} onChange={reloadAll} />
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
            <th>Settlement</th>
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
              <td data-testid="unclaimed-settlement">
                {e.destination ? (
                  <>
                    <span data-testid="unclaimed-destination">{e.destination}</span>
                    {e.reference ? (
                      <>
                        {' '}
                        <code data-testid="unclaimed-reference">{e.reference}</code>
                      </>
                    ) : null}
                  </>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager list={list} />
    </div>
  );
}
