/*
 * Players.tsx — /players: the player search (GET /v1/admin/players, players.read).
 *
 * One search box (`q`: a player id, an email prefix or a name prefix) and the
 * filters the server supports (brand, country, status, registration dates,
 * currency + cash balance range); sorting by registration, email, last login
 * or balance (balance needs a currency; email only for players.pii.read) is the
 * server's (`sort`, `order`), and so is paging ("More" asks for the next cursor
 * page). Everything is kept in
 * the URL query, so a reload or a pasted link gives the same view. Personal
 * data is shown exactly as the server masks it for the caller's role.
 */
import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, Time, usePaged } from '../components/ui';
import { BrandField, clean, Link, ListState, type Sort, SortTh, StatusBadge, useUrlQuery, wallToUtc } from './common';
import './people.css';

export interface PlayerRow {
  id: string;
  brand: string;
  email: string;
  first_name?: string | null;
  last_name?: string | null;
  country: string;
  currency: string;
  status: string;
  block_reason: string | null;
  last_login_at: string | null;
  created_at: string;
  balances?: { currency: string; cash: string; bonus?: string }[];
}

const FILTERS = ['q', 'brand', 'country', 'status', 'from', 'to', 'currency', 'balance_min', 'balance_max'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** A player's name as the server gave it ("—" without one). */
export function fullName(p: { first_name?: string | null; last_name?: string | null }): string {
  const n = [p.first_name, p.last_name].filter(Boolean).join(' ');
  return n || '—';
}

export function Players() {
  const { query, set } = useUrlQuery();
  const session = useSession();
  const filters: Filters = {};
  for (const k of FILTERS) if (query[k]) filters[k] = query[k];
  const sort: Sort = { sort: query.sort || 'created_at', order: query.order === 'asc' ? 'asc' : 'desc' };
  const [draft, setDraft] = useState<Filters>(filters);
  const urlKey = JSON.stringify(filters);
  useEffect(() => setDraft(filters), [urlKey]); // back/forward or a pasted link

  const apiQuery = clean({
    q: filters.q?.trim(),
    brand: filters.brand,
    country: filters.country?.toUpperCase(),
    status: filters.status,
    registered_from: wallToUtc(filters.from),
    registered_to: wallToUtc(filters.to, true),
    currency: filters.currency?.toUpperCase(),
    balance_min: filters.balance_min,
    balance_max: filters.balance_max,
    sort: query.sort,
    order: query.order,
  });
  const list = usePaged<PlayerRow>('/v1/admin/players', 'players', apiQuery);

  function apply(e: Event) {
    e.preventDefault();
    if (!set({ ...draft, sort: query.sort, order: query.order })) list.reload();
  }
  function reset() {
    setDraft({});
    set({});
  }
  const field = (k: keyof Filters) => ({
    name: k,
    value: draft[k] ?? '',
    onInput: (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value }),
  });
  const onSort = (s: Sort) => set({ ...filters, sort: s.sort, order: s.order });
  const currency = filters.currency?.toUpperCase();
  const showBalances = session.can('players.ledger.read');
  const pii = session.can('players.pii.read');

  return (
    <div class="pp-page">
      <h1>Players</h1>
      <form class="pp-filters" role="search" aria-label="Player search" onSubmit={apply}>
        <div class="pp-searchrow">
          <label class="pp-grow">
            Search
            <input type="search" {...field('q')} placeholder="player id, email or name (prefix)" autoFocus />
          </label>
          <button type="submit" class="primary">
            Search
          </button>
          <button type="button" onClick={reset}>
            Clear
          </button>
        </div>
        <div class="pp-filtergrid">
          <BrandField value={draft.brand ?? ''} onChange={(v) => setDraft({ ...draft, brand: v })} />
          <label>
            Country
            <input {...field('country')} maxLength={2} placeholder="DE" />
          </label>
          <label>
            Status
            <select {...field('status')} onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value })}>
              <option value="">any</option>
              <option value="active">active</option>
              <option value="blocked">blocked</option>
              <option value="self_excluded">self excluded</option>
              <option value="closed">closed</option>
            </select>
          </label>
          <label>
            Registered from
            <input type="date" {...field('from')} />
          </label>
          <label>
            Registered to
            <input type="date" {...field('to')} />
          </label>
          <label>
            Currency
            <input {...field('currency')} maxLength={3} placeholder="EUR" />
          </label>
          <label>
            Balance min
            <input {...field('balance_min')} inputMode="decimal" placeholder="0.00" />
          </label>
          <label>
            Balance max
            <input {...field('balance_max')} inputMode="decimal" placeholder="—" />
          </label>
        </div>
      </form>
      <ErrorBox error={list.error} />
      <table class="table pp-table" data-testid="players-table">
        <thead>
          <tr>
            {/* the email order's cursor holds an email: the server sorts by it only for players.pii.read */}
            {pii ? <SortTh label="Email" field="email" sort={sort} onSort={onSort} /> : <th scope="col">Email</th>}
            <th scope="col">Name</th>
            <th scope="col">Player id</th>
            <th scope="col">Brand</th>
            <th scope="col">Country</th>
            <th scope="col">Status</th>
            <SortTh label="Registered" field="created_at" sort={sort} onSort={onSort} />
            <SortTh label="Last login" field="last_login_at" sort={sort} onSort={onSort} />
            {showBalances && (
              <SortTh
                label="Balance"
                field="balance"
                sort={sort}
                onSort={onSort}
                disabled={!currency}
                title={currency ? `cash balance in ${currency}` : 'choose a currency to sort by balance'}
              />
            )}
          </tr>
        </thead>
        <tbody>
          {list.items.map((p) => (
            <tr key={p.id} data-testid="player-row">
              <td data-testid="player-email">
                <Link to={`/players/${encodeURIComponent(p.id)}`}>{p.email}</Link>
              </td>
              <td>{fullName(p)}</td>
              <td class="pp-mono pp-clip pp-id" title={p.id}>
                {p.id}
              </td>
              <td>{p.brand}</td>
              <td>{p.country}</td>
              <td>
                <StatusBadge status={p.status} />
              </td>
              <td data-testid="player-registered">
                <Time at={p.created_at} />
              </td>
              <td>
                <Time at={p.last_login_at} />
              </td>
              {showBalances && (
                <td class="pp-num" data-testid="player-balance">
                  {(p.balances ?? [])
                    .filter((b) => !currency || b.currency === currency)
                    .map((b) => (
                      <div key={b.currency}>
                        <Money amount={b.cash} currency={b.currency} />
                      </div>
                    ))}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <ListState loading={list.loading} empty={list.items.length === 0} what="players match" />
      <Pager list={list} />
    </div>
  );
}
