/*
 * Reconciliations.tsx — the PSP reconciliation runs (/reconciliations) and one
 * run (/reconciliations/:id), finance.read: what finance reads to know whether a
 * PSP's settlement report agrees with our books (README "PSP reconciliation").
 *
 * The list is GET /v1/admin/reconciliations, newest first, a page at a time
 * (usePaged, Pager): the PSP, the period [from, to), where the report came from
 * (fetched from the PSP or a file uploaded), who ran it and when, and the counts
 * per class (matched, missing_ours, missing_psp, amount_mismatch,
 * status_mismatch); a run with any discrepancy stands out (its row marked, the
 * total in bold). The API has no filters for runs: none are offered.
 *
 * One run shows its facts and its discrepancies a page at a time (GET …/{id}
 * with the items' cursor): the class, the PSP's reference, the brand, our record
 * (a deposit links to /payments/:id, a payout or its return to
 * /withdrawals/:id), our status and amount, the PSP's status, amount and
 * settled time. Amounts are the API's decimal strings (Money, never a float).
 * A report spans brands: every finance.read member sees the whole run's counts,
 * but the server gives a brand-scoped member only the items of their brands (a
 * missing_ours item has no brand: only all-brands members see those); the page
 * says so to such a member, with how many of the run's discrepancies they do not
 * see once every page is read.
 *
 * "Run reconciliation" (finance.adjust) opens ReconcileRun.tsx's dialog. On a run
 * fetched from the PSP, a status_mismatch deposit the PSP settled and we still do
 * not have completed has "Credit the player" (finance.adjust): a reason, then POST
 * /v1/admin/payments/{id}/complete with the run's id — the deposit completed as the
 * PSP's notification would have done it. Our status shows as the run saw it and,
 * when it changed since (ours.status_now), what it is now.
 *
 * Live (live.ts): reconciliation.completed (payload.reconciliation_id) on the
 * staff stream; a run not shown is announced ("N new runs: show"), never
 * inserted, as the other list pages announce new records.
 */
import { useState } from 'preact/hooks';
import type { StreamEvent, StreamStatus } from '../lib/events';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, ReasonDialog, Time, useAsync, usePaged } from '../components/ui';
import { Link, StaffName, Status } from './common';
import { useLiveQueue, useRecordEvents } from './live';
import { RunDialog } from './ReconcileRun';
import {
  CLASSES,
  type Counts,
  type Item,
  type Run,
  completeDeposit,
  creditable,
  discrepancies,
  getRun,
  oursPath,
  runPath,
} from './reconcile';

/** reconciliation.completed, by payload.reconciliation_id. */
function useRunEvents(onEvent: (e: StreamEvent, id: string) => void, onGap: () => void): StreamStatus {
  return useRecordEvents(['reconciliation.'], 'reconciliation_id', onEvent, onGap);
}

/** [from, to) on one line (a run's page) or two (the list's narrow column). */
function Period({ r, stacked = false }: { r: Run; stacked?: boolean }) {
  return (
    <span class={`m-recon-period${stacked ? ' m-recon-stacked' : ''}`}>
      <Time at={r.from} /> <span>→ <Time at={r.to} /></span>
    </span>
  );
}

/** The counts per class, each tagged with its class (a non-zero discrepancy count marked). */
function CountCells({ c }: { c: Counts }) {
  return (
    <>
      <td class="num" data-testid="count" data-class="matched">
        {c.matched}
      </td>
      {CLASSES.map((k) => (
        <td class={`num${c[k] > 0 ? ' m-recon-bad' : ''}`} data-testid="count" data-class={k}>
          {c[k]}
        </td>
      ))}
    </>
  );
}

function RunRow({ r }: { r: Run }) {
  const off = discrepancies(r.counts);
  return (
    <tr
      class={off > 0 ? 'm-recon-off' : undefined}
      data-testid="recon-row"
      data-id={r.id}
      data-discrepancies={off}
    >
      <td>
        <Link to={`/reconciliations/${encodeURIComponent(r.id)}`} testid="recon-link">
          <code>{r.id.slice(-8)}</code>
        </Link>
      </td>
      <td>
        <span data-testid="recon-psp">{r.psp}</span>
        <div class="m-muted" data-testid="recon-source">
          {r.source}
        </div>
      </td>
      <td>
        <Period r={r} stacked />
      </td>
      <td>
        <RunBy id={r.run_by} />
        <div class="m-muted">
          <Time at={r.created_at} />
        </div>
      </td>
      <CountCells c={r.counts} />
      <td data-testid="recon-verdict">
        {off > 0 ? <strong class="m-recon-bad">{off} to look at</strong> : <span class="m-ok">all matched</span>}
      </td>
    </tr>
  );
}

function CountHeads() {
  return (
    <>
      <th class="num m-recon-count">matched</th>
      {CLASSES.map((k) => (
        <th class="num m-recon-count">{k.replace(/_/g, ' ')}</th>
      ))}
    </>
  );
}

/** Who made a run: a staff member, or the server's daily run (PITBOSS_RECONCILE_AT). */
function RunBy({ id }: { id: string }) {
  if (id === 'cashier.reconcile')
    return (
      <span data-testid="run-by-system" title="the server's daily reconciliation (PITBOSS_RECONCILE_AT)">
        daily run (system)
      </span>
    );
  return <StaffName id={id} />;
}

export function Reconciliations() {
  const { can } = useSession();
  const [running, setRunning] = useState(false);
  const list = usePaged<Run>('/v1/admin/reconciliations', 'items', {});
  // a run stored by anyone while the page is open: announced, not inserted
  const { live, latest, fresh, reload } = useLiveQueue({
    list,
    events: useRunEvents,
    classify: (e, id, shown) =>
      e.type !== 'reconciliation.completed' ? 'other' : shown.has(id) ? 'change' : 'new',
    reread: getRun,
    filters: [],
  });

  return (
    <div class="m-page">
      <h1>Reconciliations</h1>
      <p class="m-muted">
        Each PSP settlement report compared with our payments and payouts, newest first. A run moves no money:
        fix what it finds with an adjustment or a withdrawal’s resolution.
      </p>
      <div class="filters m-filters">
        {can('finance.adjust') && (
          <button type="button" class="primary" data-testid="recon-run" onClick={() => setRunning(true)}>
            Run reconciliation
          </button>
        )}
        <button type="button" onClick={reload}>
          Refresh
        </button>
        <span class={`m-live m-live-${live}`} data-testid="live" data-status={live}>
          {live === 'live' ? '● live' : live}
        </span>
      </div>
      {fresh > 0 && (
        <p class="m-fresh" role="status">
          <button type="button" data-testid="show-new" onClick={reload}>
            {fresh === 1 ? '1 new run' : `${fresh} new runs`}: show
          </button>
        </p>
      )}
      <ErrorBox error={list.error} />
      <table class="table m-table" data-testid="reconciliations">
        <thead>
          <tr>
            <th>Id</th>
            <th>PSP · report</th>
            <th>Period</th>
            <th>Run by · when</th>
            <CountHeads />
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((r) => (
            <RunRow key={r.id} r={latest[r.id] ?? r} />
          ))}
        </tbody>
      </table>
      {!list.loading && !list.error && list.items.length === 0 && <p class="m-empty">No reconciliation yet.</p>}
      <Pager list={list} />
      {running && <RunDialog onClose={() => setRunning(false)} />}
    </div>
  );
}

/** "Credit the player": the deposit completed on the run's evidence, with a reason. */
function CreditAction({ r, it, onDone }: { r: Run; it: Item; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  if (!it.ours) return null;
  const ours = it.ours;
  return (
    <>
      <button type="button" data-testid="item-credit" onClick={() => setOpen(true)}>
        Credit the player
      </button>
      {open && (
        <ReasonDialog
          title="Credit the player"
          label="Reason (kept in the audit log)"
          confirm="Credit"
          onConfirm={async (reason) => {
            await completeDeposit(ours.id, r.id, reason);
            onDone();
          }}
          onClose={() => setOpen(false)}
        >
          <p>
            The PSP settled <Money amount={ours.amount} currency={ours.currency} /> for deposit <code>{ours.id}</code>{' '}
            (this run’s report, fetched from it). The player’s cash is credited as the PSP’s notification would have
            done it.
          </p>
        </ReasonDialog>
      )}
    </>
  );
}

function ItemRow({ it, r, canCredit, onDone }: { it: Item; r: Run; canCredit: boolean; onDone: () => void }) {
  const to = oursPath(it);
  return (
    <tr data-testid="recon-item" data-class={it.class} data-reference={it.reference}>
      <td>
        <Status value={it.class} />
      </td>
      <td>
        <code class="m-id" title={it.reference} data-testid="item-reference">
          {it.reference}
        </code>
        <div class="m-muted">{it.kind.replace(/_/g, ' ')}</div>
      </td>
      <td data-testid="item-brand">{it.brand ?? <span class="m-muted">—</span>}</td>
      <td>
        {it.ours && to ? (
          <Link to={to} testid="item-ours">
            <code class="m-id" title={it.ours.id}>
              {it.ours.id}
            </code>
          </Link>
        ) : (
          <span class="m-muted">none here</span>
        )}
      </td>
      <td data-testid="item-our-status">
        {it.ours ? <Status value={it.ours.status} /> : '—'}
        {it.ours?.status_now && it.ours.status_now !== it.ours.status && (
          <div class="m-muted" data-testid="item-status-now">
            now <Status value={it.ours.status_now} />
          </div>
        )}
      </td>
      <td class="num" data-testid="item-our-amount">
        {it.ours ? <Money amount={it.ours.amount} currency={it.ours.currency} /> : '—'}
      </td>
      <td data-testid="item-psp-status">{it.psp ? <Status value={it.psp.status} /> : <span class="m-muted">not in the report</span>}</td>
      <td class="num" data-testid="item-psp-amount">
        {it.psp ? <Money amount={it.psp.amount} currency={it.psp.currency} /> : '—'}
      </td>
      <td>{it.psp ? <Time at={it.psp.settled_at} /> : '—'}</td>
      <td>{canCredit && creditable(r, it) && <CreditAction r={r} it={it} onDone={onDone} />}</td>
    </tr>
  );
}

export function ReconciliationDetail({ params }: { params: Record<string, string> }) {
  const { me, can } = useSession();
  const run = useAsync(() => getRun(params.id), [params.id]);
  const items = usePaged<Item>(runPath(params.id), 'items', {});
  if (run.error) return <ErrorBox error={run.error} />;
  const r = run.data;
  if (!r) return <p class="loading">Loading…</p>;
  const off = discrepancies(r.counts);
  const scoped = !me.staff.all_brands;
  const unseen = items.done && !items.error ? off - items.items.length : null;
  return (
    <div class="m-page" data-testid="recon-detail" data-discrepancies={off}>
      <p>
        <Link to="/reconciliations">← Reconciliations</Link>
      </p>
      <h1>
        Reconciliation <code>{r.id}</code>
      </h1>
      <dl class="m-facts">
        <dt>PSP</dt>
        <dd data-testid="detail-psp">{r.psp}</dd>
        <dt>Period</dt>
        <dd data-testid="detail-period">
          <Period r={r} /> <span class="m-muted">(to excluded)</span>
        </dd>
        <dt>Report</dt>
        <dd data-testid="detail-source">
          {r.source === 'fetch' ? 'fetched from the PSP' : 'a file uploaded'} · {r.psp_rows} rows compared
          {r.psp_rows_outside > 0 && (
            <span class="m-needs" data-testid="detail-outside">
              {' '}
              · {r.psp_rows_outside} rows of the file outside the period, not compared (the wrong file?)
            </span>
          )}
        </dd>
        <dt>Run by</dt>
        <dd>
          <RunBy id={r.run_by} /> · <Time at={r.created_at} />
        </dd>
        <dt>Result</dt>
        <dd data-testid="detail-verdict">
          {off > 0 ? (
            <strong class="m-recon-bad">{off === 1 ? '1 discrepancy' : `${off} discrepancies`}</strong>
          ) : (
            <span class="m-ok">all matched</span>
          )}
        </dd>
      </dl>
      <table class="table m-table m-recon-counts" data-testid="detail-counts">
        <thead>
          <tr>
            <CountHeads />
          </tr>
        </thead>
        <tbody>
          <tr class={off > 0 ? 'm-recon-off' : undefined}>
            <CountCells c={r.counts} />
          </tr>
        </tbody>
      </table>
      <h2>Discrepancies</h2>
      {scoped && (
        <p class="m-needs" data-testid="items-filtered" role="note">
          The counts are the whole report’s (it spans brands); the items below are only those of your brands (
          {me.staff.brands.join(', ') || 'none'}): a PSP row we have no record of has no brand and is not shown.
          {unseen !== null && unseen > 0 && (
            <>
              {' '}
              <span data-testid="items-unseen">
                {unseen === 1 ? '1 discrepancy is' : `${unseen} discrepancies are`} not shown to you.
              </span>
            </>
          )}
        </p>
      )}
      <ErrorBox error={items.error} />
      {items.items.length > 0 && (
        <table class="table m-table" data-testid="recon-items">
          <thead>
            <tr>
              <th>Class</th>
              <th>PSP reference</th>
              <th>Brand</th>
              <th>Our record</th>
              <th>Our status</th>
              <th class="num">Our amount</th>
              <th>PSP status</th>
              <th class="num">PSP amount</th>
              <th>PSP settled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.items.map((it) => (
              <ItemRow key={it.n} it={it} r={r} canCredit={can('finance.adjust')} onDone={items.reload} />
            ))}
          </tbody>
        </table>
      )}
      {!items.loading && !items.error && items.items.length === 0 && (
        <p class="m-empty" data-testid="no-items">
          {off === 0 ? 'Nothing to look at: every row matched.' : 'No discrepancy in your brands.'}
        </p>
      )}
      <Pager list={items} />
    </div>
  );
}
