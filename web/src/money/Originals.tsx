/*
 * Originals.tsx — the in-house games of one brand, part of /games.
 *
 *   GET /v1/admin/brands/{brand}/originals            RTP in force, allowed range, default,
 *                                                     and (when the server sends it) `actual`:
 *                                                     per currency, rounds, wagered, paid, rtp
 *   PUT /v1/admin/brands/{brand}/originals/{game}/rtp  games.manage: {rtp_bp, reason?}
 *   GET /v1/admin/brands/{brand}/originals/control     per game and currency: rounds, turnover,
 *                                                     payout, GGR, target, expected, actual RTP
 *
 * The RTP is typed as a percentage ("96.50") and sent in basis points; the range
 * is shown but not enforced here: the server decides and its message is shown.
 * RTP figures are percentages (not money): the control route's fractions are
 * shown to two decimals.
 */
import { useState } from 'preact/hooks';
import { get, put } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, Money, useAsync } from '../components/ui';
import { ConfirmDialog, bp, parsePercent } from './common';

interface Actual {
  currency: string;
  rounds: number;
  wagered: string;
  paid: string;
  rtp: string | null;
}

interface Original {
  game: string;
  rtp_bp: number;
  configured: boolean;
  min_rtp_bp: number;
  max_rtp_bp: number;
  default_rtp_bp: number;
  actual?: Actual[];
}

interface ControlLine {
  game: string;
  currency: string;
  rounds: number;
  turnover: string;
  payout: string;
  ggr: string;
  target_rtp_bp: number;
  expected_rtp: number;
  actual_rtp: number;
  deviation: number;
}

/** A fraction (0.9612) as a percentage with two decimals, for display only. */
const pct = (f: number | null | undefined) => (typeof f === 'number' && Number.isFinite(f) ? `${(f * 100).toFixed(2)} %` : '—');

function RtpDialog({ brand, g, onClose, onDone }: { brand: string; g: Original; onClose: () => void; onDone: () => void }) {
  const [text, setText] = useState((g.rtp_bp / 100).toFixed(2));
  const [reason, setReason] = useState('');
  const [step, setStep] = useState<'edit' | 'confirm'>('edit');
  const value = parsePercent(text);
  if (step === 'confirm' && value !== null)
    return (
      <ConfirmDialog
        title={`Change the RTP of ${g.game} on ${brand}`}
        confirm="Change RTP"
        onConfirm={async () => {
          await put(`/v1/admin/brands/${encodeURIComponent(brand)}/originals/${encodeURIComponent(g.game)}/rtp`, {
            rtp_bp: value,
            reason: reason.trim() || null,
          });
          onDone();
        }}
        onClose={onClose}
      >
        <p data-testid="rtp-confirm-text">
          From {bp(g.rtp_bp)} to {bp(value)} for every new round of {g.game} on {brand}. The change is recorded in
          the audit log{reason.trim() ? ' with your reason' : ''}.
        </p>
      </ConfirmDialog>
    );
  return (
    <div class="modal-backdrop" role="dialog" aria-modal="true" aria-label={`RTP of ${g.game}`}>
      <form
        class="modal"
        onSubmit={(e) => {
          e.preventDefault();
          if (value !== null) setStep('confirm');
        }}
      >
        <h2>RTP of {g.game}</h2>
        <p class="m-muted">
          In force {bp(g.rtp_bp)}; allowed {bp(g.min_rtp_bp)} to {bp(g.max_rtp_bp)}; default {bp(g.default_rtp_bp)}.
        </p>
        <label>
          New RTP (%)
          <input name="rtp" inputMode="decimal" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        {value === null && text.trim() !== '' && <p class="error">A percentage such as 96.50</p>}
        <label>
          Reason (optional, kept in the audit log)
          <textarea name="reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={value === null}>
            Continue
          </button>
        </div>
      </form>
    </div>
  );
}

function ActualCell({ g, control }: { g: Original; control: ControlLine[] }) {
  if (g.actual) {
    if (g.actual.length === 0) return <span class="m-muted">no settled rounds</span>;
    return (
      <span class="m-actual">
        {g.actual.map((a) => (
          <span data-testid="actual" data-currency={a.currency} data-source="actual">
            {a.currency}: {a.rtp === null ? '—' : `${a.rtp} %`}{' '}
            <span class="m-muted">
              ({a.rounds} rounds; paid <Money amount={a.paid} /> of <Money amount={a.wagered} />)
            </span>
          </span>
        ))}
      </span>
    );
  }
  const lines = control.filter((l) => l.game === g.game);
  if (lines.length === 0) return <span class="m-muted">no settled rounds</span>;
  return (
    <span class="m-actual">
      {lines.map((l) => (
        <span data-testid="actual" data-currency={l.currency} data-source="control">
          {l.currency}: {pct(l.actual_rtp)} <span class="m-muted">({l.rounds} rounds)</span>
        </span>
      ))}
    </span>
  );
}

export function Originals({ brand }: { brand: string }) {
  const { can } = useSession();
  const [editing, setEditing] = useState<Original | null>(null);
  const [saved, setSaved] = useState('');
  const data = useAsync(
    async () => {
      const b = encodeURIComponent(brand);
      const [list, control] = await Promise.all([
        get<{ games: Original[] }>(`/v1/admin/brands/${b}/originals`),
        get<{ games: ControlLine[] }>(`/v1/admin/brands/${b}/originals/control`),
      ]);
      return { games: list.games, control: control.games };
    },
    [brand],
  );
  const manage = can('games.manage');
  return (
    <section>
      <h2>In-house games on {brand}</h2>
      <ErrorBox error={data.error} />
      {saved && (
        <p class="m-ok" role="status">
          {saved}
        </p>
      )}
      {data.loading && !data.data && <p class="loading">Loading…</p>}
      {data.data && (
        <>
          <table class="table m-table" data-testid="originals">
            <thead>
              <tr>
                <th>Game</th>
                <th class="num">RTP in force (target)</th>
                <th>Allowed range</th>
                <th>Actual RTP, settled rounds</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data.data.games.map((g) => (
                <tr data-testid="original-row" data-game={g.game} data-rtp-bp={g.rtp_bp}>
                  <td>{g.game}</td>
                  <td class="num" data-testid="rtp">
                    {bp(g.rtp_bp)}
                    {!g.configured && <span class="m-muted"> (default)</span>}
                  </td>
                  <td>
                    {bp(g.min_rtp_bp)} – {bp(g.max_rtp_bp)}
                  </td>
                  <td>
                    <ActualCell g={g} control={data.data!.control} />
                  </td>
                  <td>
                    {manage && g.min_rtp_bp < g.max_rtp_bp && (
                      <button type="button" class="m-small" data-testid="change-rtp" onClick={() => setEditing(g)}>
                        Change RTP
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Game control</h3>
          <table class="table m-table" data-testid="control">
            <thead>
              <tr>
                <th>Game</th>
                <th>Currency</th>
                <th class="num">Rounds</th>
                <th class="num">Turnover</th>
                <th class="num">Payout</th>
                <th class="num">GGR</th>
                <th class="num">Target</th>
                <th class="num">Expected</th>
                <th class="num">Actual</th>
                <th class="num">Deviation</th>
              </tr>
            </thead>
            <tbody>
              {data.data.control.map((l) => (
                <tr data-testid="control-row" data-game={l.game} data-currency={l.currency}>
                  <td>{l.game}</td>
                  <td>{l.currency}</td>
                  <td class="num">{l.rounds}</td>
                  <td class="num">
                    <Money amount={l.turnover} />
                  </td>
                  <td class="num">
                    <Money amount={l.payout} />
                  </td>
                  <td class="num">
                    <Money amount={l.ggr} />
                  </td>
                  <td class="num">{bp(l.target_rtp_bp)}</td>
                  <td class="num">{pct(l.expected_rtp)}</td>
                  <td class="num">{pct(l.actual_rtp)}</td>
                  <td class="num">{pct(l.deviation)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.data.control.length === 0 && <p class="m-empty">No settled rounds on {brand} yet.</p>}
        </>
      )}
      {editing && (
        <RtpDialog
          brand={brand}
          g={editing}
          onClose={() => setEditing(null)}
          onDone={() => {
            setSaved(`RTP of ${editing.game} changed.`);
            data.reload();
          }}
        />
      )}
    </section>
  );
}
