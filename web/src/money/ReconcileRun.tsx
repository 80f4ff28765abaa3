/*
 * ReconcileRun.tsx — "Run reconciliation" (finance.adjust): the dialog that asks
 * the server to compare a PSP's settlement report of a period with our books.
 *
 * The PSP is one the server has (GET /v1/admin/psps), offered with the ways its
 * report can be had: fetched from the PSP by its adapter (POST
 * /v1/admin/reconciliations) or the file the PSP delivered, uploaded as it is
 * (POST /v1/admin/reconciliations/upload, the file as the text/csv body). The
 * period [from, to) is typed as wall times in the staff member's zone (the
 * header's selector) and sent as RFC 3339 UTC (people/common wallToUtc); the
 * default is yesterday. The server judges everything (order, 31 days, the
 * file's lines): its refusal is shown in the dialog as it said it (FIELD_INVALID
 * naming from or to, SETTLEMENT_REPORT_INVALID naming the line,
 * SETTLEMENT_REPORT_UNSUPPORTED, PSP_UNAVAILABLE, …), the field it names marked,
 * and what was typed or picked kept. A refused run stores nothing. On success the
 * browser goes to the new run's page.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { navigate } from '../lib/router';
import { time, timeZone } from '../lib/format';
import { ErrorBox, useAsync, useDialogSubmit } from '../components/ui';
import { wallToUtc } from '../people/common';
import { type Psp, listPsps, runFetch, runUpload } from './reconcile';

type Source = 'fetch' | 'upload';

/** The field a refusal names (error.field of the API's answer), if any. */
function fieldOf(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return (error.body as { error?: { field?: string } } | null)?.error?.field ?? undefined;
}

/** "YYYY-MM-DDT00:00:00" of the day `days` from today in the staff zone (a datetime-local value). */
function dayStart(days: number): string {
  const today = time(new Date().toISOString()).slice(0, 10); // the zone's date
  const [y, m, d] = today.split('-').map(Number);
  return `${new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)}T00:00:00`;
}

/** The source offered first for a PSP: fetch when it can, else upload. */
function firstSource(p: Psp | undefined): Source {
  return p && !p.report_fetch && p.report_parse ? 'upload' : 'fetch';
}

export function RunDialog({ onClose }: { onClose: () => void }) {
  const psps = useAsync(listPsps, []);
  const [psp, setPsp] = useState('');
  const [from, setFrom] = useState(dayStart(-1));
  const [to, setTo] = useState(dayStart(0));
  const [source, setSource] = useState<Source>('fetch');
  const [file, setFile] = useState<File | null>(null);
  const chosen = psps.data?.find((p) => p.code === psp);

  // the first PSP the server has, once known
  useEffect(() => {
    if (!psp && psps.data?.length) {
      setPsp(psps.data[0].code);
      setSource(firstSource(psps.data[0]));
    }
  }, [psps.data]);

  const { error, busy, submit } = useDialogSubmit(
    async () => {
      // a wall time the browser could not give (empty): sent as typed, the server names it
      const f = wallToUtc(from) ?? from;
      const t = wallToUtc(to) ?? to;
      const run = source === 'upload' ? await runUpload(psp, f, t, file as File) : await runFetch(psp, f, t);
      navigate(`/reconciliations/${encodeURIComponent(run.id)}`);
    },
    onClose,
    true,
  );
  const bad = fieldOf(error);
  const canFetch = chosen?.report_fetch ?? false;
  const canUpload = chosen?.report_parse ?? false;
  const ready = !!chosen && (source === 'fetch' ? canFetch : canUpload && !!file) && !!from && !!to;

  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label="Run reconciliation">
      <form class="modal m-recon-run" onSubmit={submit} data-testid="recon-dialog">
        <h2>Run reconciliation</h2>
        <p class="m-muted">
          Compares the PSP’s settlement report of the period with our payments and payouts. A run moves no
          money: it lists what differs.
        </p>
        <ErrorBox error={psps.error} />
        <label>
          PSP
          <select
            name="psp"
            value={psp}
            aria-invalid={bad === 'psp' || undefined}
            onChange={(e) => {
              const code = e.currentTarget.value;
              setPsp(code);
              setSource(firstSource(psps.data?.find((p) => p.code === code)));
            }}
          >
            {(psps.data ?? []).map((p) => (
              <option value={p.code}>{p.code}</option>
            ))}
          </select>
        </label>
        {psps.data && psps.data.length === 0 && (
          <p class="m-empty" data-testid="no-psps">
            This server has no PSP.
          </p>
        )}
        <div class="m-recon-dates">
          <label>
            From (included)
            <input
              type="datetime-local"
              step={1}
              name="from"
              required
              value={from}
              aria-invalid={bad === 'from' || undefined}
              onInput={(e) => setFrom(e.currentTarget.value)}
            />
          </label>
          <label>
            To (excluded)
            <input
              type="datetime-local"
              step={1}
              name="to"
              required
              value={to}
              aria-invalid={bad === 'to' || undefined}
              onInput={(e) => setTo(e.currentTarget.value)}
            />
          </label>
        </div>
        <p class="m-muted" data-testid="recon-zone">
          Times in {timeZone()}; at most 31 days.
        </p>
        <fieldset class="m-outcome">
          <legend>The PSP’s report</legend>
          <label class="m-inline">
            <input
              type="radio"
              name="source"
              value="fetch"
              checked={source === 'fetch'}
              disabled={!canFetch}
              onChange={() => setSource('fetch')}
            />
            fetch from the PSP
          </label>
          <label class="m-inline">
            <input
              type="radio"
              name="source"
              value="upload"
              checked={source === 'upload'}
              disabled={!canUpload}
              onChange={() => setSource('upload')}
            />
            upload the PSP’s report file
          </label>
          <label>
            Report file (CSV, at most 1 MiB)
            <input
              type="file"
              name="report"
              accept=".csv,text/csv"
              disabled={source !== 'upload'}
              aria-invalid={bad === 'report' || undefined}
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            />
          </label>
        </fieldset>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" data-testid="recon-submit" disabled={busy || !ready}>
            {busy ? 'Running…' : 'Run'}
          </button>
        </div>
      </form>
    </div>
  );
}
