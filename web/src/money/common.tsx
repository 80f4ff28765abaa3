/*
 * common.tsx — pieces the money pages (withdrawals, games, staff) share and the
 * shell's ui.tsx does not have: the brands the staff member sees (for filters
 * and brand pickers) and their 4-eyes thresholds as amounts, an in-app link, a
 * status badge, a confirmation dialog, a copy-to-clipboard button, and staff
 * names for approvals (the e-mail the withdrawal JSON carries for its approvers
 * and staff requester; without one, resolved through GET /v1/admin/staff/{id}
 * for members who hold staff.read, else the member's id and role; "you" for
 * themselves).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get } from '../lib/api';
import { navigate, onLinkClick } from '../lib/router';
import { useSession } from '../lib/session';
import { minorToMajor } from '../lib/decimal';
import { ErrorBox, Money, useAsync, useDialogSubmit } from '../components/ui';
import './money.css';

export interface Brand {
  code: string;
  name: string;
  default_currency: string;
  currencies: string[];
  settings: Record<string, unknown>;
  status: string;
  currency_exponents: Record<string, number>; // every currency the brand names → its exponent
}

/** Every brand in the caller's scope (a back office has a handful; pages of 100 until the end). */
/** Sets the list page's filters in its URL (replacing the history entry): a value
 * that is empty, or the page's default for it (defaults), is removed. */
export function setListFilters(path: string, f: Record<string, string>, defaults: Record<string, string> = {}) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(f)) {
    if (v && v !== defaults[k]) q.set(k, v);
    else q.delete(k);
  }
  navigate(`${path}${q.toString() ? `?${q}` : ''}`, true);
}

/** The list pages' brand filter: every brand of the member's scope ("") or one. */
export function BrandFilter(props: { brands: Brand[] | undefined | null; value: string; onChange: (v: string) => void }) {
  return (
    <label>
      Brand
      <select name="brand" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">all my brands</option>
        {(props.brands ?? []).map((b) => (
          <option value={b.code}>{b.name || b.code}</option>
        ))}
      </select>
    </label>
  );
}

/** The list pages' status filter (a status's underscores read as spaces). */
export function StatusFilter(props: {
  statuses: readonly string[];
  value: string;
  onChange: (v: string) => void;
  children?: ComponentChildren; // options after the statuses
}) {
  return (
    <label>
      Status
      <select name="status" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.statuses.map((s) => (
          <option value={s}>{s.replace(/_/g, ' ')}</option>
        ))}
        {props.children}
      </select>
    </label>
  );
}

export function useBrands() {
  const { can } = useSession();
  return useAsync(async () => {
    if (!can('brands.read')) return [] as Brand[];
    const out: Brand[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: { brands: Brand[]; next_cursor: string | null } = await get('/v1/admin/brands', {
        limit: 100,
        cursor: cursor ?? undefined,
      });
      out.push(...page.brands);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return out;
  }, []);
}

/**
 * A brand's per-currency threshold setting (settings.<setting>: currency → minor
 * units) as amounts, one per currency of the brand: "demo: 1 000.00 EUR, USD none".
 * The amount comes from the brand's currency_exponents (never a float); a
 * currency without an entry reads "<currency> <none>" ("USD none").
 */
export function BrandThresholds({ brand, setting, none }: { brand: Brand; setting: string; none: string }) {
  const m = brand.settings?.[setting];
  const map = m && typeof m === 'object' ? (m as Record<string, unknown>) : {};
  return (
    <span class="m-threshold" data-testid="threshold" data-brand={brand.code}>
      {brand.code}:{' '}
      {brand.currencies.map((c, i) => {
        const n = map[c];
        const exp = brand.currency_exponents?.[c];
        return (
          <>
            {i > 0 && ', '}
            <span data-testid="threshold-amount" data-currency={c}>
              {typeof n !== 'number' ? (
                `${c} ${none}`
              ) : exp !== undefined && Number.isSafeInteger(n) ? (
                <Money amount={minorToMajor(n, exp)} currency={c} />
              ) : (
                `${n} minor units of ${c}` /* a currency the server has no exponent for */
              )}
            </span>
          </>
        );
      })}
    </span>
  );
}

/** An in-app link (real href; navigates without a reload). */
export function Link({ to, children, testid }: { to: string; children: ComponentChildren; testid?: string }) {
  return (
    <a href={to} data-testid={testid} onClick={(e) => onLinkClick(e, to)}>
      {children}
    </a>
  );
}

/** A status as a coloured tag: "pending_approval" → "pending approval". */
export function Status({ value }: { value: string }) {
  return (
    <span class={`m-status m-status-${value}`} data-status={value}>
      {value.replace(/_/g, ' ')}
    </span>
  );
}

/** A modal asking to confirm an action; shows the server's error when it refuses. */
export function ConfirmDialog(props: {
  title: string;
  confirm: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  children?: ComponentChildren;
}) {
  const { error, busy, submit } = useDialogSubmit(props.onConfirm, props.onClose);
  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label={props.title}>
      <form class="modal" onSubmit={submit}>
        <h2>{props.title}</h2>
        {props.children}
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {props.confirm}
          </button>
        </div>
      </form>
    </div>
  );
}

/** Copies text to the clipboard (falls back to selecting it when the API is refused). */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      try {
        document.execCommand('copy');
        setDone(true);
      } finally {
        ta.remove();
      }
    }
  }
  return (
    <button type="button" onClick={copy} data-testid="copy">
      {done ? 'Copied' : label}
    </button>
  );
}

const staffNames = new Map<string, Promise<string | null>>();

/**
 * A staff member as staff read them: "you", their e-mail (given by the answer that
 * names them, else read with staff.read), else id + role.
 */
export function StaffName({ id, role, email: given }: { id: string; role?: string; email?: string | null }) {
  const { me, can } = useSession();
  const mine = id === me.staff.id;
  const [email, setEmail] = useState<string | null>(given ?? null);
  useEffect(() => {
    if (given) {
      setEmail(given);
      return;
    }
    if (mine || !can('staff.read')) return;
    let p = staffNames.get(id);
    if (!p) {
      p = get<{ staff: { email: string } }>(`/v1/admin/staff/${encodeURIComponent(id)}`).then(
        (r) => r.staff.email,
        () => null,
      );
      staffNames.set(id, p);
    }
    let live = true;
    p.then((e) => live && setEmail(e));
    return () => {
      live = false;
    };
  }, [id, mine, given]);
  const who = mine ? `you (${me.staff.email})` : (email ?? `staff ${id}`);
  return (
    <span class="m-staff" data-staff-id={id} title={id}>
      {who}
      {role ? ` · ${role}` : ''}
    </span>
  );
}

/** A basis-points RTP as a percentage: 9650 → "96.50 %". Integer arithmetic only. */
export function bp(rtp: number | null | undefined): string {
  if (rtp === null || rtp === undefined) return '—';
  const n = Math.round(rtp);
  return `${Math.trunc(n / 100)}.${String(Math.abs(n % 100)).padStart(2, '0')} %`;
}

/** "96.50" (a percentage typed by staff) → 9650 basis points, or null when not of that shape. */
export function parsePercent(text: string): number | null {
  const m = /^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
