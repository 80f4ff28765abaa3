/*
 * PlayerPage.tsx — /players/:id: one player as staff see them.
 *
 * The profile (GET /v1/admin/players/{id}: email, names, country, date of
 * birth when the role may see it, status and block reason, registration and
 * last login), block / unblock and "End game sessions" (every live game launch
 * of the player revoked) with a required reason (players.block: offered only
 * with the permission; the server's refusal is shown in the dialog if it
 * refuses anyway), and tabs kept in the URL (?tab=): wallets and transaction
 * history (players.ledger.read), game rounds, sessions and devices, notes.
 * Under the wallets, with finance.adjust, the "Adjust balance" form
 * (AdjustBalance.tsx: a staff adjustment, or a 4-eyes request above the
 * brand's threshold); not for an erased player.
 * Each list pages on its own. A player outside the caller's brand scope is a
 * 404 from the server, shown as it said it.
 *
 * A data subject's requests, each with a required reason (the request's
 * reference): "Export data" (players.export) downloads GET …/export as
 * pitboss-player-<id>.json (fetched with the session's token, then saved from a
 * Blob; a body without its closing "complete": true was cut and is not saved);
 * "Erase personal data" (players.erase, while not erased) POSTs …/erase and
 * shows the player the server returns; its refusals (money left, an open
 * payment, the retention period with its date) are shown in the dialog. An
 * erased player carries a "Personal data erased <time>" note by the title.
 */
import { useState } from 'preact/hooks';
import { ApiError, authFetch, get, post, withQuery } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, ReasonDialog, Time, useAsync } from '../components/ui';
import { Link, StatusBadge, Tabs, useUrlQuery } from './common';
import { History, useAccounts, Wallets } from './PlayerMoney';
import { AdjustBalance } from './AdjustBalance';
import { Notes, Rounds, Sessions } from './PlayerActivity';
import type { PlayerRow } from './Players';
import './people.css';

interface Player extends PlayerRow {
  /** absent without players.pii.read; null when erased (or not readable) */
  date_of_birth?: string | null;
  locked_until: string | null;
  /** per-address login locks in force (GET /v1/admin/players/{id}); address null: unknown */
  address_locks?: { address: string | null; locked_until: string }[];
  updated_at: string | null;
  erased_at?: string | null;
}

type Action = 'block' | 'unblock' | 'unlock' | 'revoke' | 'export' | 'erase';

/** The server's refusal of a raw request, as the API client reports it (an ApiError). */
async function refusal(res: Response): Promise<ApiError> {
  const text = await res.text();
  let body: unknown = text || null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: kept as text */
  }
  const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
  const code = err?.code ?? `HTTP_${res.status}`;
  return new ApiError(res.status, code, err?.message ?? (res.statusText || code), body);
}

/**
 * GET …/players/{id}/export with the session's token and saves the body as
 * pitboss-player-<id>.json. The document ends with "complete": true; a body
 * without it was cut on the way (the server stopped, a read failed) and is refused.
 */
async function downloadExport(id: string, reason: string): Promise<void> {
  const res = await authFetch(withQuery(`/v1/admin/players/${encodeURIComponent(id)}/export`, { reason }));
  if (!res.ok) throw await refusal(res);
  const blob = await res.blob();
  const tail = await blob.slice(Math.max(0, blob.size - 64)).text();
  if (!/"complete"\s*:\s*true\s*}\s*$/.test(tail))
    throw new Error('The export was cut short (it does not end with "complete": true): nothing was saved. Try again.');
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `pitboss-player-${id}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function PlayerPage({ params }: { params: Record<string, string> }) {
  const id = params.id;
  const { can } = useSession();
  const { query, set } = useUrlQuery();
  const player = useAsync(
    async () => (await get<{ player: Player }>(`/v1/admin/players/${encodeURIComponent(id)}`)).player,
    [id],
  );
  const ledger = can('players.ledger.read');
  const accounts = useAccounts(id, ledger);
  const [dialog, setDialog] = useState<Action | null>(null);
  const [revoked, setRevoked] = useState<number | null>(null);
  // the player the erasure answered with (until the next load of this player)
  const [erased, setErased] = useState<Player | null>(null);

  const tabs = [
    ...(ledger ? [{ id: 'wallets', label: 'Wallets' }, { id: 'transactions', label: 'Transactions' }] : []),
    { id: 'rounds', label: 'Game rounds' },
    { id: 'sessions', label: 'Sessions' },
    { id: 'notes', label: 'Notes' },
  ];
  const tab = tabs.some((t) => t.id === query.tab) ? query.tab : tabs[0].id;
  const p = erased?.id === id ? erased : player.data;

  async function change(action: Action, reason: string) {
    const base = `/v1/admin/players/${encodeURIComponent(id)}`;
    if (action === 'revoke') {
      const r = await post<{ revoked: number }>(`${base}/launches/revoke`, { reason });
      setRevoked(r.revoked);
      return;
    }
    if (action === 'export') return downloadExport(id, reason);
    if (action === 'erase') {
      const r = await post<{ player: Player }>(`${base}/erase`, { reason });
      setErased(r.player);
      return;
    }
    await post(`${base}/${action}`, { reason });
    setErased(null);
    player.reload();
  }

  const dialogs: Record<Action, { title: string; confirm: string; label?: string; text: string }> = {
    block: {
      title: 'Block player',
      confirm: 'Block',
      text: 'The player is logged out and cannot log in or play until unblocked.',
    },
    unblock: { title: 'Unblock player', confirm: 'Unblock', text: 'The player can log in and play again.' },
    unlock: {
      title: 'Clear login locks',
      confirm: 'Unlock',
      text:
        "The account's failed-login count and lock, and the lock of every address, end now: the player can log " +
        'in again at once from anywhere. Only after the player has proved who they are another way.',
    },
    revoke: {
      title: 'End game sessions',
      confirm: 'End sessions',
      text:
        "Every game the player has open stops taking bets now (the studios' calls with those launches are " +
        'refused as expired); wins and refunds of bets already placed are still paid. The player may launch ' +
        'games again.',
    },
    export: {
      title: 'Export data',
      confirm: 'Download',
      label: "Reason (the request's reference)",
      text:
        'Downloads everything the platform holds about the player (profile, accounts, transactions, rounds, ' +
        "payments, sessions with IP addresses, notes, audit entries) as one JSON file, for a data subject's " +
        'access request. It holds personal data in the clear: review it before handing it over.',
    },
    erase: {
      title: 'Erase personal data',
      confirm: 'Erase',
      label: "Reason (the request's reference)",
      text:
        'The account is closed and can no longer log in. The email address, first and last name, date of birth ' +
        "and the sessions' IP addresses and browsers are removed. This cannot be undone. The money records " +
        '(transactions, game rounds, deposits, withdrawals), the country, the notes and the audit log stay ' +
        "under the player id. The server refuses while the player has money or an open payment, or the brand's " +
        'retention period has not passed.',
    },
  };

  return (
    <div class="pp-page">
      <p class="pp-crumbs">
        <Link to="/players">Players</Link> / <span class="pp-mono">{id}</span>
      </p>
      <ErrorBox error={player.error} />
      {player.loading && !p && <p class="pp-muted">Loading…</p>}
      {p && (
        <>
          <header class="pp-head">
            <h1 data-testid="player-title">{p.email}</h1>
            <StatusBadge status={p.status} />
            {p.erased_at && (
              <span class="pp-badge pp-erased" data-testid="erased-note">
                Personal data erased <Time at={p.erased_at} />
              </span>
            )}
            {can('players.block') && p.status === 'active' && (
              <button type="button" class="danger" onClick={() => setDialog('block')}>
                Block
              </button>
            )}
            {can('players.block') && p.status === 'blocked' && (
              <button type="button" onClick={() => setDialog('unblock')}>
                Unblock
              </button>
            )}
            {can('players.block') && (
              <button type="button" onClick={() => setDialog('revoke')}>
                End game sessions
              </button>
            )}
            {can('players.export') && (
              <button type="button" onClick={() => setDialog('export')}>
                Export data
              </button>
            )}
            {can('players.erase') && !p.erased_at && (
              <button type="button" class="danger" onClick={() => setDialog('erase')}>
                Erase personal data
              </button>
            )}
            {can('audit.read') && (
              <Link to={`/audit?target_kind=player&target_id=${encodeURIComponent(p.id)}`}>Audit trail</Link>
            )}
            {can('finance.read') && (
              <Link to={`/transactions?player=${encodeURIComponent(p.id)}`}>All transactions</Link>
            )}
          </header>
          {revoked !== null && (
            <p class="pp-muted" role="status" data-testid="revoked-note">
              {revoked === 1 ? '1 game session ended.' : `${revoked} game sessions ended.`}
            </p>
          )}
          <dl class="pp-profile" data-testid="player-profile">
            <dt>Player id</dt>
            <dd class="pp-mono">{p.id}</dd>
            <dt>Brand</dt>
            <dd>{p.brand}</dd>
            <dt>Email</dt>
            <dd>{p.email}</dd>
            <dt>First name</dt>
            <dd>{p.first_name || '—'}</dd>
            <dt>Last name</dt>
            <dd>{p.last_name || '—'}</dd>
            <dt>Country</dt>
            <dd>{p.country}</dd>
            <dt>Date of birth</dt>
            <dd>
              {p.date_of_birth === undefined ? <span class="pp-muted">hidden for your role</span> : p.date_of_birth || '—'}
            </dd>
            <dt>Currency</dt>
            <dd>{p.currency}</dd>
            <dt>Status</dt>
            <dd data-testid="profile-status">{p.status.replace('_', ' ')}</dd>
            {p.block_reason && (
              <>
                <dt>Block reason</dt>
                <dd data-testid="block-reason">{p.block_reason}</dd>
              </>
            )}
            {p.locked_until && (
              <>
                <dt>Login locked until</dt>
                <dd>
                  <Time at={p.locked_until} />
                </dd>
              </>
            )}
            {p.address_locks && p.address_locks.length > 0 && (
              <>
                <dt>Login locked from</dt>
                <dd data-testid="address-locks">
                  <ul>
                    {p.address_locks.map((l) => (
                      <li key={`${l.address ?? ''}-${l.locked_until}`}>
                        {l.address ?? 'an unknown address'} until <Time at={l.locked_until} />
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
            {can('players.sessions.manage') &&
              ((p.locked_until && Date.parse(p.locked_until) > Date.now()) ||
                (p.address_locks && p.address_locks.length > 0)) && (
                <>
                  <dt />
                  <dd>
                    <button type="button" data-testid="unlock-player" onClick={() => setDialog('unlock')}>
                      Unlock
                    </button>
                  </dd>
                </>
              )}
            <dt>Registered</dt>
            <dd>
              <Time at={p.created_at} />
            </dd>
            <dt>Last login</dt>
            <dd>
              <Time at={p.last_login_at} />
            </dd>
          </dl>
          <Tabs tabs={tabs} selected={tab} onSelect={(t) => set({ ...query, tab: t })} />
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="pp-panel">
            {tab === 'wallets' && <Wallets accounts={accounts} />}
            {tab === 'wallets' && can('finance.adjust') && !p.erased_at && (
              <AdjustBalance playerId={p.id} currency={p.currency} onAdjusted={accounts.reload} />
            )}
            {tab === 'transactions' && <History playerId={id} accounts={accounts} />}
            {tab === 'rounds' && <Rounds playerId={id} />}
            {tab === 'sessions' && <Sessions playerId={id} />}
            {tab === 'notes' && <Notes playerId={id} />}
          </div>
        </>
      )}
      {dialog && (
        <ReasonDialog
          title={dialogs[dialog].title}
          confirm={dialogs[dialog].confirm}
          label={dialogs[dialog].label}
          onConfirm={(reason) => change(dialog, reason)}
          onClose={() => setDialog(null)}
        >
          <p>{dialogs[dialog].text} The reason is written to the audit log.</p>
        </ReasonDialog>
      )}
    </div>
  );
}
