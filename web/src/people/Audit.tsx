/*
 * Audit.tsx — /audit (audit.read): the audit log, newest first
 * (GET /v1/admin/audit), with the filters the server supports (actor kind and
 * id, target kind and id, action or an action prefix ending in ".", time range)
 * kept in the URL; each entry opens to its detail with before/after as a diff
 * (every key path, the changed ones highlighted).
 *
 * Above the list, the chain's state from GET /v1/admin/audit/verify (ok or the
 * violations, how many entries, when it was checked — the server caches it for
 * a minute; "Check now" asks ?fresh=true, which the server rate-limits and says
 * so); only for staff who see every brand (the server refuses the others 403
 * BRAND_FORBIDDEN: the chain's counts are the whole platform's). With audit.export, "Export" downloads the signed log (JSON lines) for the
 * chosen time range.
 */
import { useEffect, useState } from 'preact/hooks';
import { download, get } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, Pager, Time, usePaged } from '../components/ui';
import { clean, Link, ListState, useUrlQuery, wallToUtc } from './common';
import { Diff } from './Diff';
import type { AuditEntry } from '../lib/audit';
import './people.css';


interface Verify {
  ok: boolean;
  entries: number;
  checked_at: string;
  head?: string;
  checkpoints?: number;
  unsigned_entries?: number;
  violations_total?: number;
  violations: { id?: string | null; seq?: number | null; checkpoint?: number | null; kind: string; detail: string }[];
}

/** Where a violation is: the entry (seq and id) or the checkpoint it names. */
function where(x: Verify['violations'][number]): string {
  if (x.seq) return `entry #${x.seq}${x.id ? ` (${x.id})` : ''}`;
  if (x.checkpoint) return `checkpoint ${x.checkpoint}`;
  return x.id ? `entry ${x.id}` : 'the chain';
}

const FILTERS = ['actor_kind', 'actor_id', 'target_kind', 'target_id', 'action', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

export function Audit() {
  const { can, me } = useSession();
  const { query, set } = useUrlQuery();
  const filters: Filters = {};
  for (const k of FILTERS) if (query[k]) filters[k] = query[k];
  const [draft, setDraft] = useState<Filters>(filters);
  const urlKey = JSON.stringify(filters);
  useEffect(() => setDraft(filters), [urlKey]);
  const q = clean({
    actor_kind: filters.actor_kind,
    actor_id: filters.actor_id?.trim(),
    target_kind: filters.target_kind?.trim(),
    target_id: filters.target_id?.trim(),
    action: filters.action?.trim(),
    from: wallToUtc(filters.from),
    to: wallToUtc(filters.to),
  });
  const list = usePaged<AuditEntry>('/v1/admin/audit', 'entries', q);
  const [open, setOpen] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);

  const field = (k: keyof Filters) => ({
    name: k,
    value: draft[k] ?? '',
    onInput: (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value }),
  });

  async function exportLog() {
    setExportError(null);
    try {
      await download('/v1/admin/audit/export', clean({ from: q.from, to: q.to }), 'pitboss-audit.jsonl');
    } catch (e) {
      setExportError(e);
    }
  }

  return (
    <div class="pp-page">
      <h1>Audit log</h1>
      {me.staff.all_brands && <ChainStatus />}
      <form
        class="pp-filters"
        aria-label="Audit filters"
        onSubmit={(e) => {
          e.preventDefault();
          if (!set(draft)) list.reload(); // the same filters: ask the server again
        }}
      >
        <div class="pp-filtergrid">
          <label>
            Action
            <input {...field('action')} placeholder="player.block or player." />
          </label>
          <label>
            Actor kind
            <select {...field('actor_kind')} onChange={(e) => setDraft({ ...draft, actor_kind: e.currentTarget.value })}>
              <option value="">any</option>
              <option value="staff">staff</option>
              <option value="player">player</option>
              <option value="system">system</option>
            </select>
          </label>
          <label>
            Actor id
            <input {...field('actor_id')} />
          </label>
          <label>
            Target kind
            <input {...field('target_kind')} placeholder="player" />
          </label>
          <label>
            Target id
            <input {...field('target_id')} />
          </label>
          <label>
            From
            <input type="datetime-local" {...field('from')} />
          </label>
          <label>
            To
            <input type="datetime-local" {...field('to')} />
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
          {can('audit.export') && (
            <button type="button" onClick={exportLog}>
              Export
            </button>
          )}
        </div>
      </form>
      <ErrorBox error={exportError} />
      <ErrorBox error={list.error} />
      <table class="table pp-table" data-testid="audit-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Action</th>
            <th scope="col">Actor</th>
            <th scope="col">Target</th>
            <th scope="col">Brand</th>
            <th scope="col">Reason</th>
            <th scope="col">
              <span class="pp-sr">Detail</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((en) => (
            <EntryRows key={en.id} en={en} open={open === en.id} toggle={() => setOpen(open === en.id ? null : en.id)} />
          ))}
        </tbody>
      </table>
      <ListState loading={list.loading} empty={list.items.length === 0} what="entries match" />
      <Pager list={list} />
    </div>
  );
}

function EntryRows({ en, open, toggle }: { en: AuditEntry; open: boolean; toggle: () => void }) {
  return (
    <>
      <tr data-testid="audit-row" data-action={en.action} class={open ? 'pp-open' : ''}>
        <td>
          <Time at={en.at} />
        </td>
        <td class="pp-mono" data-testid="audit-action">
          {en.action}
        </td>
        <td>
          {en.actor_email || <ShortId id={en.actor_id} />} <span class="pp-muted">{en.role || en.actor_kind}</span>
        </td>
        <td>
          {en.target_kind}{' '}
          {en.target_kind === 'player' && en.target_id ? (
            <Link to={`/players/${encodeURIComponent(en.target_id)}`}>
              <ShortId id={en.target_id} />
            </Link>
          ) : (
            <ShortId id={en.target_id} />
          )}
        </td>
        <td>{en.brand ?? '—'}</td>
        <td data-testid="audit-reason">{en.reason}</td>
        <td>
          <button type="button" aria-expanded={open} onClick={toggle} aria-label={`Details of entry ${en.seq}`}>
            {open ? 'Hide' : 'Details'}
          </button>
        </td>
      </tr>
      {open && (
        <tr class="pp-detail">
          <td colSpan={7}>
            <div data-testid="audit-detail">
              <dl class="pp-profile">
                <dt>Entry</dt>
                <dd class="pp-mono">
                  #{en.seq} {en.id}
                </dd>
                <dt>Action</dt>
                <dd class="pp-mono">{en.action}</dd>
                <dt>Actor</dt>
                <dd>
                  {en.actor_kind} {en.actor_email} {en.actor_id && <span class="pp-mono">({en.actor_id})</span>} {en.role}
                </dd>
                <dt>Reason</dt>
                <dd data-testid="audit-detail-reason">{en.reason || '—'}</dd>
                <dt>IP</dt>
                <dd class="pp-mono">{en.ip || '—'}</dd>
                <dt>Trace</dt>
                <dd class="pp-mono">{en.trace_id || '—'}</dd>
                <dt>Hash</dt>
                <dd class="pp-mono pp-clip" title={en.hash}>
                  {en.hash}
                </dd>
              </dl>
              <Diff before={en.before} after={en.after} />
            </div>
          </td>
        </tr>
      )}
    </>
  );
}

/** A long id cut to its first 8 characters (the whole one in the tooltip). */
function ShortId({ id }: { id: string }) {
  if (!id) return null;
  return (
    <span class="pp-mono" title={id}>
      {id.length > 12 ? `${id.slice(0, 8)}…` : id}
    </span>
  );
}

/** The chain's verification state, cached by the server; "Check now" asks for a fresh run. */
function ChainStatus() {
  const [state, setState] = useState<{ data?: Verify; error?: unknown; loading: boolean }>({ loading: true });
  async function load(fresh: boolean) {
    setState((s) => ({ ...s, loading: true, error: undefined }));
    try {
      const data = await get<Verify>('/v1/admin/audit/verify', fresh ? { fresh: true } : undefined);
      setState({ data, loading: false });
    } catch (error) {
      setState((s) => ({ data: s.data, error, loading: false }));
    }
  }
  useEffect(() => void load(false), []);
  const v = state.data;
  return (
    <section class={`pp-chain ${v ? (v.ok ? 'pp-ok' : 'pp-bad') : ''}`} aria-label="Chain verification" data-testid="chain-status">
      <strong data-testid="chain-verdict">
        {v
          ? v.ok
            ? 'Chain verified'
            : `Chain broken: ${v.violations_total ?? v.violations.length} violation(s)`
          : state.loading
            ? 'Checking the chain…'
            : 'Chain state unknown'}
      </strong>
      {v && (
        <span class="pp-muted">
          {' '}
          {v.entries} entries{v.checkpoints !== undefined ? `, ${v.checkpoints} signed checkpoints` : ''}
          {v.unsigned_entries ? ` (${v.unsigned_entries} not yet signed)` : ''}; checked{' '}
          <Time at={v.checked_at} />
        </span>
      )}
      <button type="button" onClick={() => load(true)} disabled={state.loading}>
        Check now
      </button>
      <ErrorBox error={state.error} />
      {v && v.violations.length > 0 && (
        <ul class="pp-violations" data-testid="chain-violations">
          {v.violations.map((x) => (
            <li>
              {where(x)}: <strong>{x.kind}</strong> — {x.detail}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
