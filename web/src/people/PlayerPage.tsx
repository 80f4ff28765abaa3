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
 * Each list pages on its own. A player outside the caller's brand scope is a
 * 404 from the server, shown as it said it.
 */
import { useState } from 'preact/hooks';
import { get, post } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, ReasonDialog, Time, useAsync } from '../components/ui';
import { Link, StatusBadge, Tabs, useUrlQuery } from './common';
import { History, useAccounts, Wallets } from './PlayerMoney';
import { Notes, Rounds, Sessions } from './PlayerActivity';
import type { PlayerRow } from './Players';
import './people.css';

interface Player extends PlayerRow {
  date_of_birth?: string;
  locked_until: string | null;
  updated_at: string | null;
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
  const [dialog, setDialog] = useState<'block' | 'unblock' | 'revoke' | null>(null);
  const [revoked, setRevoked] = useState<number | null>(null);

  const tabs = [
    ...(ledger ? [{ id: 'wallets', label: 'Wallets' }, { id: 'transactions', label: 'Transactions' }] : []),
    { id: 'rounds', label: 'Game rounds' },
    { id: 'sessions', label: 'Sessions' },
    { id: 'notes', label: 'Notes' },
  ];
  const tab = tabs.some((t) => t.id === query.tab) ? query.tab : tabs[0].id;
  const p = player.data;

  async function change(action: 'block' | 'unblock' | 'revoke', reason: string) {
    const base = `/v1/admin/players/${encodeURIComponent(id)}`;
    if (action === 'revoke') {
      const r = await post<{ revoked: number }>(`${base}/launches/revoke`, { reason });
      setRevoked(r.revoked);
      return;
    }
    await post(`${base}/${action}`, { reason });
    player.reload();
  }

  const dialogs = {
    block: {
      title: 'Block player',
      confirm: 'Block',
      text: 'The player is logged out and cannot log in or play until unblocked.',
    },
    unblock: { title: 'Unblock player', confirm: 'Unblock', text: 'The player can log in and play again.' },
    revoke: {
      title: 'End game sessions',
      confirm: 'End sessions',
      text:
        "Every game the player has open stops taking bets now (the studios' calls with those launches are " +
        'refused as expired); wins and refunds of bets already placed are still paid. The player may launch ' +
        'games again.',
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
            <dd>{p.date_of_birth ?? <span class="pp-muted">hidden for your role</span>}</dd>
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
          onConfirm={(reason) => change(dialog, reason)}
          onClose={() => setDialog(null)}
        >
          <p>{dialogs[dialog].text} The reason is written to the audit log.</p>
        </ReasonDialog>
      )}
    </div>
  );
}
