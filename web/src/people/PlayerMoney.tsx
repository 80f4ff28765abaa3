/*
 * PlayerMoney.tsx — the player page's money: wallets per currency and the
 * transaction history of one account (players.ledger.read).
 *
 * Wallets come from GET /v1/admin/players/{id}/accounts (exact ledger
 * balances). Per currency: cash = the player_cash account's posted balance,
 * bonus = player_bonus posted, held = cash held by pending debits (a
 * withdrawal on hold), withdrawable = cash available (posted − held).
 *
 * History is GET /v1/admin/players/{id}/transfers?account=… with a time
 * filter, newest first, one cursor page at a time; amounts are signed from the
 * player's view (money leaving the player's account is negative; the void of a
 * hold gives the held money back, so it is positive).
 *
 * The "Adjust balance" form under the wallets (finance.adjust) is AdjustBalance.tsx;
 * after an applied adjustment it reads the accounts again (useAccounts' reload).
 */
import { useState } from 'preact/hooks';
import { get } from '../lib/api';
import { ErrorBox, Money, Pager, Time, useAsync, usePaged } from '../components/ui';
import { clean, ListState, signed, wallToUtc } from './common';

export interface Account {
  id: string;
  kind: string; // player_cash | player_bonus
  currency: string;
  available: string;
  posted: string;
  pending_debits: string;
  pending_credits: string;
  created_at: string;
}

interface Transfer {
  id: string;
  created_at: string;
  direction: 'debit' | 'credit';
  amount: string;
  currency: string;
  code: number;
  code_name: string | null;
  flags: string[];
  reference: string;
  pending_id: string | null;
  counterparty_account: string;
}

/** The accounts of a player (one request; the page shares it between the two tabs). */
export function useAccounts(playerId: string, enabled: boolean) {
  return useAsync<Account[]>(
    async () =>
      enabled
        ? (await get<{ accounts: Account[] }>(`/v1/admin/players/${encodeURIComponent(playerId)}/accounts`)).accounts
        : [],
    [playerId, enabled],
  );
}

/** A transfer's amount from the player's view: a void of a hold gives the held money back. */
function playerAmount(t: Transfer) {
  const release = t.flags.includes('void_pending') || t.flags.includes('expired');
  return signed(t.amount, release ? (t.direction === 'debit' ? 'credit' : 'debit') : t.direction);
}

/** A transfer's phase in words: holds (pending), their posting and their release. */
function stateOf(t: Transfer): string {
  if (t.flags.includes('expired')) return 'hold expired';
  if (t.flags.includes('void_pending')) return 'hold released';
  if (t.flags.includes('post_pending')) return 'hold posted';
  if (t.flags.includes('pending')) return 'held';
  return '';
}

const kindLabel = (k: string) => (k === 'player_cash' ? 'cash' : k === 'player_bonus' ? 'bonus' : k);

export function Wallets({ accounts }: { accounts: ReturnType<typeof useAccounts> }) {
  const rows = accounts.data ?? [];
  const currencies = [...new Set(rows.map((a) => a.currency))];
  return (
    <section aria-label="Wallets">
      <ErrorBox error={accounts.error} />
      <table class="table pp-table" data-testid="wallets-table">
        <thead>
          <tr>
            <th scope="col">Currency</th>
            <th scope="col" class="pp-num">Cash</th>
            <th scope="col" class="pp-num">Bonus</th>
            <th scope="col" class="pp-num">Held</th>
            <th scope="col" class="pp-num">Withdrawable</th>
          </tr>
        </thead>
        <tbody>
          {currencies.map((cur) => {
            const cash = rows.find((a) => a.currency === cur && a.kind === 'player_cash');
            const bonus = rows.find((a) => a.currency === cur && a.kind === 'player_bonus');
            return (
              <tr key={cur} data-testid={`wallet-${cur}`}>
                <th scope="row">{cur}</th>
                <td class="pp-num" data-testid="cash">
                  <Money amount={cash?.posted ?? null} currency={cur} />
                </td>
                <td class="pp-num" data-testid="bonus">
                  <Money amount={bonus?.posted ?? null} currency={cur} />
                </td>
                <td class="pp-num" data-testid="held">
                  <Money amount={cash?.pending_debits ?? null} currency={cur} />
                </td>
                <td class="pp-num" data-testid="withdrawable">
                  <Money amount={cash?.available ?? null} currency={cur} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ListState loading={accounts.loading} empty={rows.length === 0} what="wallets yet" />
    </section>
  );
}

export function History({ playerId, accounts }: { playerId: string; accounts: ReturnType<typeof useAccounts> }) {
  const rows = accounts.data ?? [];
  const [account, setAccount] = useState<string>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const chosen = account || rows.find((a) => a.kind === 'player_cash')?.id || rows[0]?.id || '';
  return (
    <section aria-label="Transaction history">
      <ErrorBox error={accounts.error} />
      <form class="pp-filters pp-inline" onSubmit={(e) => e.preventDefault()}>
        <label>
          Account
          <select value={chosen} onChange={(e) => setAccount(e.currentTarget.value)}>
            {rows.map((a) => (
              <option value={a.id}>
                {a.currency} {kindLabel(a.kind)}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
      </form>
      {chosen ? <TransferList playerId={playerId} account={chosen} from={from} to={to} /> : null}
      {!chosen && <ListState loading={accounts.loading} empty what="accounts" />}
    </section>
  );
}

function TransferList({ playerId, account, from, to }: { playerId: string; account: string; from: string; to: string }) {
  const list = usePaged<Transfer>(
    `/v1/admin/players/${encodeURIComponent(playerId)}/transfers`,
    'transfers',
    clean({ account, from: wallToUtc(from), to: wallToUtc(to) }),
  );
  return (
    <>
      <ErrorBox error={list.error} />
      <table class="table pp-table" data-testid="transfers-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Kind</th>
            <th scope="col" class="pp-num">Amount</th>
            <th scope="col">Reference</th>
            <th scope="col">State</th>
            <th scope="col">Transfer</th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((t) => (
            <tr key={t.id} data-testid="transfer-row">
              <td>
                <Time at={t.created_at} />
              </td>
              <td data-testid="transfer-kind">{t.code_name ?? `code ${t.code}`}</td>
              <td class="pp-num" data-testid="transfer-amount">
                <Money amount={playerAmount(t)} currency={t.currency} />
              </td>
              <td class="pp-mono pp-clip" title={t.reference}>
                {t.reference}
              </td>
              <td>{stateOf(t)}</td>
              <td class="pp-mono pp-clip" title={t.id}>
                {t.id}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ListState loading={list.loading} empty={list.items.length === 0} what="transactions in this account" />
      <Pager list={list} />
    </>
  );
}
