/*
 * common.tsx — small pieces the people pages share (players, player page,
 * transactions, audit): filters kept in the URL query, wall times in the staff
 * member's zone turned into the UTC instants the API takes, sortable column
 * headers, in-app links, tabs, the brand filter (a select of the caller's
 * brands), status badges, list empty/loading lines, and the sign of an amount
 * from the player's view.
 *
 * Filters live in the URL (navigate(…, true)): a reload or a pasted link shows
 * the same view. Date inputs hold wall times ("2026-11-21", "2026-11-21T14:05")
 * in the staff zone; they go to the API as RFC 3339 UTC instants.
 */
import type { ComponentChildren } from 'preact';
import { get, type Query } from '../lib/api';
import { useSession } from '../lib/session';
import { useAsync } from '../components/ui';
import { timeZone } from '../lib/format';
import { navigate, onLinkClick, useLocation } from '../lib/router';

/**
 * The page's URL query as a plain object, and a setter that rewrites it (replacing history);
 * set() answers false when the query is already that (the caller may then reload its list:
 * pressing Search again asks the server again).
 */
export function useUrlQuery(): { query: Record<string, string>; path: string; set: (next: Record<string, string | undefined>) => boolean } {
  const { path, query } = useLocation();
  const q: Record<string, string> = {};
  query.forEach((v, k) => (q[k] = v));
  return {
    query: q,
    path,
    set: (next) => {
      const s = new URLSearchParams();
      for (const [k, v] of Object.entries(next)) if (v !== undefined && v !== '') s.set(k, v);
      const qs = s.toString();
      const to = qs ? `${path}?${qs}` : path;
      const now = new URLSearchParams(location.search);
      s.sort();
      now.sort();
      if (location.pathname === path && s.toString() === now.toString()) return false;
      navigate(to, true);
      return true;
    },
  };
}

/** The zone's offset from UTC (ms) at the instant `at`. */
function offsetAt(at: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const v = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const wall = Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second'));
  return wall - Math.floor(at / 1000) * 1000;
}

/**
 * A wall time in the staff zone ("2026-11-21" or "2026-11-21T14:05[:09]") → RFC 3339 UTC;
 * `endOfDay` turns a bare date into the start of the next day (a "to" bound).
 * undefined for an empty or unreadable value.
 */
export function wallToUtc(wall: string | undefined, endOfDay = false, tz = timeZone()): string | undefined {
  if (!wall) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(wall);
  if (!m) return undefined;
  const dateOnly = m[4] === undefined;
  let guess = Date.UTC(+m[1], +m[2] - 1, +m[3] + (dateOnly && endOfDay ? 1 : 0), +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  const wallMs = guess;
  // two passes: the offset at the guessed instant, then at the corrected one (DST edges)
  guess = wallMs - offsetAt(wallMs, tz);
  guess = wallMs - offsetAt(guess, tz);
  return new Date(guess).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Keeps only the non-empty values of a query (so usePaged's key is stable). */
export function clean(q: Query): Query {
  const out: Query = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') out[k] = v;
  return out;
}

/** An amount as the player sees it: a debit of their account is negative. */
export function signed(amount: string | null | undefined, direction: string | null | undefined): string | null | undefined {
  if (!amount || direction !== 'debit' || amount.startsWith('-') || /^0(\.0+)?$/.test(amount)) return amount;
  return `-${amount}`;
}

/** An in-app link (a real href: open in a new tab works). */
export function Link({ to, children, testid }: { to: string; children: ComponentChildren; testid?: string }) {
  return (
    <a href={to} onClick={(e) => onLinkClick(e, to)} data-testid={testid}>
      {children}
    </a>
  );
}

export interface Sort {
  sort: string;
  order: 'asc' | 'desc';
}

/** A column header that sorts on the server: click toggles the order, aria-sort says the state. */
export function SortTh({ label, field, sort, onSort, disabled, title }: {
  label: string;
  field: string;
  sort: Sort;
  onSort: (s: Sort) => void;
  disabled?: boolean;
  title?: string;
}) {
  const active = sort.sort === field;
  const ariaSort = active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none';
  return (
    <th aria-sort={ariaSort} scope="col">
      <button
        type="button"
        class={`sort${active ? ' active' : ''}`}
        disabled={disabled}
        title={title}
        onClick={() => onSort({ sort: field, order: active && sort.order === 'desc' ? 'asc' : 'desc' })}
      >
        {label}
        <span aria-hidden="true">{active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ' ↕'}</span>
      </button>
    </th>
  );
}

/** Tabs kept in the URL (?tab=…); the panel is the caller's children for the selected one. */
export function Tabs({ tabs, selected, onSelect }: {
  tabs: { id: string; label: string }[];
  selected: string;
  onSelect: (id: string) => void;
}) {
  function key(e: KeyboardEvent, i: number) {
    const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!d) return;
    e.preventDefault();
    const next = tabs[(i + d + tabs.length) % tabs.length];
    onSelect(next.id);
    (document.getElementById(`tab-${next.id}`) as HTMLElement | null)?.focus();
  }
  return (
    <div role="tablist" class="pp-tabs">
      {tabs.map((t, i) => (
        <button
          type="button"
          role="tab"
          id={`tab-${t.id}`}
          aria-selected={t.id === selected}
          aria-controls={`panel-${t.id}`}
          tabIndex={t.id === selected ? 0 : -1}
          onClick={() => onSelect(t.id)}
          onKeyDown={(e) => key(e, i)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

/** A player's status as a badge (blocked in red, self-excluded and closed in grey). */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`pp-badge pp-${status}`} data-testid="player-status">
      {status.replace('_', ' ')}
    </span>
  );
}

/** "Loading…" / the empty-state line under a list. */
export function ListState({
  loading,
  empty,
  what,
  more = false,
}: {
  loading: boolean;
  empty: boolean;
  what: string;
  /** the list may go on although this page is empty (a page that ended at its read budget) */
  more?: boolean;
}) {
  if (loading && empty) return <p class="pp-muted">Loading…</p>;
  if (empty && more)
    return <p class="pp-muted pp-empty">No {what} in the part searched so far: “More” searches further back.</p>;
  if (empty) return <p class="pp-muted pp-empty">No {what}.</p>;
  return null;
}

/**
 * A brand filter: a select of the brands in the caller's scope (GET /v1/admin/brands, the first
 * page of 100) with brands.read, else a text box. "" means every brand in scope.
 */
export function BrandField({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const { can } = useSession();
  const brands = useAsync(
    async () =>
      can('brands.read')
        ? (await get<{ brands: { code: string; name?: string }[] }>('/v1/admin/brands', { limit: 100 })).brands
        : null,
    [],
  );
  if (!brands.data)
    return (
      <label>
        Brand
        <input name="brand" value={value} placeholder="any" onInput={(e) => onChange(e.currentTarget.value)} />
      </label>
    );
  return (
    <label>
      Brand
      <select name="brand" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">any</option>
        {brands.data.map((b) => (
          <option value={b.code}>{b.name ? `${b.code} — ${b.name}` : b.code}</option>
        ))}
        {value && !brands.data.some((b) => b.code === value) && <option value={value}>{value}</option>}
      </select>
    </label>
  );
}
