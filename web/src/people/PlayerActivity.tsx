/*
 * PlayerActivity.tsx — the player page's activity lists, each paged on its own:
 * game rounds (GET …/rounds: in-house and provider rounds merged by time,
 * filters source, game, from, to; an open in-house round shows its own state;
 * one in play (active) or settling offers "Void…" with a reason to
 * players.write: POST …/rounds/{round}/void, the stake given back, and a
 * settling one "Retry payout…": POST …/rounds/{round}/settle, a payout stuck
 * "settling" tried again now, the wallet's refusal shown), sessions and devices (GET …/sessions,
 * newest first; ip and user agent masked by the server without
 * players.pii.read; "Log out everywhere" POSTs …/sessions/revoke with a required
 * reason, offered only with players.sessions.manage, and reloads the list) and
 * staff notes (GET …/notes, append-only; POST …/notes
 * with players.write).
 */
import { useState } from 'preact/hooks';
import { post } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, Money, Pager, ReasonDialog, Time, usePaged } from '../components/ui';
import { clean, ListState, wallToUtc } from './common';

interface Round {
  id: string;
  source: 'original' | 'provider';
  provider: string | null;
  game: string;
  currency: string;
  bet: string;
  win: string;
  status: string;
  /** in-house: the round's own state (pending, active, settling, settled, voiding, void); null: provider */
  state?: string | null;
  started_at: string;
  settled_at: string | null;
}

interface PlayerSession {
  id?: string;
  created_at: string;
  last_seen_at: string | null;
  ip: string | null;
  user_agent: string | null;
  device?: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  revoke_reason: string | null;
  active: boolean;
}

interface Note {
  id: string;
  text: string;
  author_id: string;
  author_email: string;
  created_at: string;
}

const base = (id: string) => `/v1/admin/players/${encodeURIComponent(id)}`;

export function Rounds({ playerId }: { playerId: string }) {
  const { can } = useSession();
  const voider = can('players.write');
  const [voiding, setVoiding] = useState<Round | null>(null);
  const [settling, setSettling] = useState<Round | null>(null);
  const [f, setF] = useState({ source: '', game: '', from: '', to: '' });
  const [applied, setApplied] = useState(f);
  const list = usePaged<Round>(
    `${base(playerId)}/rounds`,
    'rounds',
    clean({ source: applied.source, game: applied.game.trim(), from: wallToUtc(applied.from), to: wallToUtc(applied.to) }),
  );
  return (
    <section aria-label="Game rounds">
      <form
        class="pp-filters pp-inline"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(f);
        }}
      >
        <label>
          Source
          <select value={f.source} onChange={(e) => setF({ ...f, source: e.currentTarget.value })}>
            <option value="">any</option>
            <option value="original">in-house</option>
            <option value="provider">provider</option>
          </select>
        </label>
        <label>
          Game
          <input value={f.game} onInput={(e) => setF({ ...f, game: e.currentTarget.value })} />
        </label>
        <label>
          From
          <input type="datetime-local" value={f.from} onInput={(e) => setF({ ...f, from: e.currentTarget.value })} />
        </label>
        <label>
          To
          <input type="datetime-local" value={f.to} onInput={(e) => setF({ ...f, to: e.currentTarget.value })} />
        </label>
        <button type="submit">Apply</button>
      </form>
      <ErrorBox error={list.error} />
      <table class="table pp-table" data-testid="rounds-table">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Source</th>
            <th scope="col">Game</th>
            <th scope="col" class="pp-num">Bet</th>
            <th scope="col" class="pp-num">Win</th>
            <th scope="col">Status</th>
            <th scope="col">Settled</th>
            <th scope="col">Round</th>
            {voider && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {list.items.map((r) => (
            <tr key={`${r.source}:${r.id}`} data-testid="round-row">
              <td>
                <Time at={r.started_at} />
              </td>
              <td>{r.source === 'original' ? 'in-house' : r.provider ?? 'provider'}</td>
              <td data-testid="round-game">{r.game}</td>
              <td class="pp-num">
                <Money amount={r.bet} currency={r.currency} />
              </td>
              <td class="pp-num">
                <Money amount={r.win} currency={r.currency} />
              </td>
              <td>
                <span data-testid="round-status">{r.status.replace('_', ' ')}</span>
                {r.state && r.state !== r.status && (
                  <span class="pp-muted" data-testid="round-state">
                    {' '}
                    ({r.state})
                  </span>
                )}
              </td>
              <td>
                <Time at={r.settled_at} />
              </td>
              <td class="pp-mono pp-clip" title={r.id}>
                {r.id}
              </td>
              {voider && (
                <td>
                  {/* the server voids a round in play (active) or one whose win the
                      wallet refused (settling); a payout is owed only while settling */}
                  {r.source === 'original' && (r.state === 'active' || r.state === 'settling') && (
                    <button type="button" data-testid="round-void" onClick={() => setVoiding(r)}>
                      Void…
                    </button>
                  )}
                  {r.source === 'original' && r.state === 'settling' && (
                    <>
                      {' '}
                      <button type="button" data-testid="round-settle" onClick={() => setSettling(r)}>
                        Retry payout…
                      </button>
                    </>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <ListState loading={list.loading} empty={list.items.length === 0} what="game rounds" />
      <Pager list={list} />
      {voiding && (
        <ReasonDialog
          title="Void round"
          confirm="Void round"
          onConfirm={async (reason) => {
            await post(`${base(playerId)}/rounds/${encodeURIComponent(voiding.id)}/void`, { reason });
            list.reload();
          }}
          onClose={() => setVoiding(null)}
        >
          <p>
            The {voiding.game} round {voiding.id} ends without a result and its stake ({voiding.bet} {voiding.currency}) goes
            back to the player. The reason is written to the audit log.
          </p>
        </ReasonDialog>
      )}
      {settling && (
        <ReasonDialog
          title="Retry payout"
          confirm="Retry payout"
          onConfirm={async (reason) => {
            await post(`${base(playerId)}/rounds/${encodeURIComponent(settling.id)}/settle`, { reason });
            list.reload();
          }}
          onClose={() => setSettling(null)}
        >
          <p>
            The {settling.game} round {settling.id} has a result but its win is not paid yet. Its payout is sent to the
            wallet again now, exactly once (a payout made before is not repeated). If the wallet refuses it for good, the
            answer says why: then void the round to give the stake back. The attempt and the reason are written to the
            audit log.
          </p>
        </ReasonDialog>
      )}
    </section>
  );
}

export function Sessions({ playerId }: { playerId: string }) {
  const { can } = useSession();
  const list = usePaged<PlayerSession>(`${base(playerId)}/sessions`, 'sessions', {});
  const [dialog, setDialog] = useState(false);
  const [ended, setEnded] = useState<number | null>(null);
  async function revokeAll(reason: string) {
    const r = await post<{ revoked: number }>(`${base(playerId)}/sessions/revoke`, { reason });
    setEnded(r.revoked);
    list.reload();
  }
  return (
    <section aria-label="Sessions and devices">
      {can('players.sessions.manage') && (
        <div class="pp-actions">
          <button type="button" class="danger" onClick={() => setDialog(true)}>
            Log out everywhere
          </button>
        </div>
      )}
      {ended !== null && (
        <p class="pp-muted" role="status" data-testid="sessions-revoked-note">
          {ended === 1 ? '1 session ended.' : `${ended} sessions ended.`}
        </p>
      )}
      {dialog && (
        <ReasonDialog
          title="Log out everywhere"
          confirm="Log out"
          onConfirm={revokeAll}
          onClose={() => setDialog(false)}
        >
          <p>
            Every session of the player ends now, on every device: their refresh tokens stop working and they must
            log in again. The reason is written to the audit log.
          </p>
        </ReasonDialog>
      )}
      <ErrorBox error={list.error} />
      <table class="table pp-table" data-testid="sessions-table">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Last seen</th>
            <th scope="col">Device</th>
            <th scope="col">IP</th>
            <th scope="col">State</th>
            <th scope="col">Expires</th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((s, i) => (
            <tr key={s.id ?? i} data-testid="session-row">
              <td>
                <Time at={s.created_at} />
              </td>
              <td>
                <Time at={s.last_seen_at} />
              </td>
              <td title={s.user_agent ?? undefined} data-testid="session-device">
                {s.device || s.user_agent || '—'}
              </td>
              <td class="pp-mono">{s.ip || '—'}</td>
              <td data-testid="session-state">
                {s.active ? (
                  <span class="pp-badge pp-active">active</span>
                ) : s.revoked_at ? (
                  <span title={s.revoke_reason ?? undefined}>
                    revoked <Time at={s.revoked_at} />
                    {s.revoke_reason ? ` (${s.revoke_reason})` : ''}
                  </span>
                ) : (
                  'expired'
                )}
              </td>
              <td>
                <Time at={s.expires_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListState loading={list.loading} empty={list.items.length === 0} what="sessions" />
      <Pager list={list} />
    </section>
  );
}

export function Notes({ playerId }: { playerId: string }) {
  const { can } = useSession();
  const list = usePaged<Note>(`${base(playerId)}/notes`, 'notes', {});
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function add(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post(`${base(playerId)}/notes`, { text: text.trim() });
      setText('');
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-label="Notes">
      {can('players.write') && (
        <form class="pp-note-form" onSubmit={add}>
          <label>
            New note
            <textarea value={text} maxLength={2000} required onInput={(e) => setText(e.currentTarget.value)} />
          </label>
          <ErrorBox error={error} />
          <button type="submit" class="primary" disabled={busy || !text.trim()}>
            Add note
          </button>
        </form>
      )}
      <ErrorBox error={list.error} />
      <ol class="pp-notes" data-testid="notes-list">
        {list.items.map((n) => (
          <li key={n.id} data-testid="note">
            <div class="pp-note-meta">
              <Time at={n.created_at} /> — {n.author_email}
            </div>
            <div class="pp-note-text">{n.text}</div>
          </li>
        ))}
      </ol>
      <ListState loading={list.loading} empty={list.items.length === 0} what="notes" />
      <Pager list={list} />
    </section>
  );
}
