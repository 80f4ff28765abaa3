/*
 * people.test.mjs — the players, player, transactions and audit pages in a real
 * browser against a real server (tests/web/harness.mjs): search by email
 * prefix and by name, sorting by registration both ways, "More" paging; block
 * with a reason → the status and reason on the player page → the audit entry
 * with that reason and its diff → unblock; end game sessions; log a player out
 * everywhere (players.sessions.manage) from the sessions tab; balances after a deposit and a bet,
 * rounds, sessions, a note; the transactions explorer filtered by kind (and its pages
 * that end at the read budget) and its
 * CSV download compared with the table; a role without finance.read sees no
 * Transactions; a data subject's requests on the player page: compliance exports
 * a player (the JSON file, audited with the reason) and erases one (refused in the
 * brand's retention period and with money, the server's message in the dialog;
 * then the erased player shown), support is offered neither; support voids a
 * player's open mines game from the rounds tab (a reason; the stake back; audited),
 * finance is offered no Void. Screenshots of each
 * page into $WEB_ARTIFACTS.
 *
 * Run: node --test --test-reporter=tap tests/web/people.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  adminCall, createStaff, deposit, expectStatus, fund, isResourceError, launchBrowser, login, newPage, PLAYER_PASSWORD,
  playerCall, providerBet, providerCall, providerWin, registerPlayer, request, screenshot, startServer,
} from './harness.mjs';

let server, browser, support, finance, auditor, risk, compliance;
const tag = randomBytes(3).toString('hex');
const NAMED = { first_name: 'Zebulon', last_name: `Quill${tag}`, email: `zq-${tag}@example.com` };
const BULK = 52; // more than one page of 50
let named, otherBrand; // the named player (demo) and one of brand "other"
let supportPage, financePage, officerPage; // one tab per member across the tests: a TOTP code is good once per 30 s
let officer; // a compliance member of its own (players.export, players.erase) for the data subject tests
let regIp = 0;

/** Registers a player (with names, when given) without logging in: {id, email}. */
async function registerRaw(extra) {
  const ip = `127.0.11.${(regIp++ % 250) + 2}`;
  const body = { brand: 'demo', password: PLAYER_PASSWORD, country: 'MT', date_of_birth: '1990-01-01', ...extra };
  const r = await expectStatus(request(server, { method: 'POST', path: '/v1/player/register', body, ip }), 201, 'register');
  return { id: r.player.id, email: body.email };
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF). */
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += ch;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}

/** Support's tab, logged in once (the session survives navigation and reloads). */
async function asSupport() {
  if (!supportPage) {
    supportPage = await newPage(browser);
    await login(supportPage, server, support);
  }
  supportPage.errors.length = 0;
  return supportPage;
}

/** Finance's tab, logged in once. */
async function asFinance() {
  if (!financePage) {
    financePage = await newPage(browser);
    await login(financePage, server, finance);
  }
  financePage.errors.length = 0;
  return financePage;
}

/** The compliance officer's tab (made and logged in on first use). */
async function asOfficer() {
  if (!officerPage) {
    officer = await createStaff(server, { role: 'compliance', brands: ['demo'] });
    officerPage = await newPage(browser);
    await login(officerPage, server, officer);
  }
  officerPage.errors.length = 0;
  return officerPage;
}

/** Waits until the list shows exactly these texts in the column `testid` (old rows gone). */
const listIs = (page, testid, want) =>
  page.waitForFunction(
    ([id, w]) => JSON.stringify([...document.querySelectorAll(`[data-testid=${id}]`)].map((e) => e.textContent)) === w,
    [testid, JSON.stringify(want)],
  );

/** Waits until the players table has n rows. */
const rowCount = (page, n) =>
  page.waitForFunction((k) => document.querySelectorAll('[data-testid=player-row]').length === k, n);

/** The datetime attributes of a column's <time> elements, in row order. */
const times = (page, testid) =>
  page.locator(`[data-testid=${testid}] time`).evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  support = await createStaff(server, { role: 'support', brands: ['demo'] });
  finance = await createStaff(server, { role: 'finance', brands: ['demo'] });
  auditor = await createStaff(server, { role: 'auditor', allBrands: true });
  risk = await createStaff(server, { role: 'risk', brands: ['demo'] });
  compliance = await createStaff(server, { role: 'compliance', brands: ['demo'] });
  named = await registerRaw(NAMED);
  for (let i = 0; i < BULK; i++) await registerRaw({ email: `bulk${String(i).padStart(2, '0')}-${tag}@example.com` });
  otherBrand = await registerRaw({ email: `other-${tag}@example.com`, brand: 'other' });
});

after(async () => {
  await browser?.close();
  if (server) {
    await server.finish();
  }
});

test('players: search by email prefix and by name, sort by registration both ways, More pages', async () => {
  const page = await asSupport();
  await page.locator('nav').getByRole('link', { name: 'Players', exact: true }).click();
  await page.waitForURL(/\/players$/);
  const rows = page.locator('[data-testid=player-row]');
  const search = page.getByLabel('Search', { exact: true });
  const onlyNamed = () => listIs(page, 'player-email', [NAMED.email]);

  // email prefix
  await search.fill(`zq-${tag}`);
  await search.press('Enter');
  await page.waitForURL(new RegExp(`q=zq-${tag}`));
  await onlyNamed();
  assert.match(await rows.first().textContent(), new RegExp(`Zebulon Quill${tag}`));

  // the other brand's player is outside support's scope
  await search.fill(`other-${tag}`);
  await search.press('Enter');
  await page.getByText('No players match.').waitFor();

  // a name prefix, either name, any case
  await search.fill(`quill${tag}`);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(new RegExp(`q=quill${tag}`));
  await onlyNamed();
  await search.fill('zebulon');
  await search.press('Enter');
  await page.waitForURL(/q=zebulon/);
  await onlyNamed();

  // a reload keeps the view (the filter lives in the URL)
  await page.reload();
  await onlyNamed();
  assert.equal(await page.getByLabel('Search', { exact: true }).inputValue(), 'zebulon');

  // no filter: newest first by default, one page of 50, More loads the rest
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.waitForURL(/\/players$/);
  await rowCount(page, 50);
  let t = await times(page, 'player-registered');
  assert.deepEqual(t, [...t].sort().reverse(), 'newest first');
  await page.getByRole('button', { name: 'More' }).click();
  await rowCount(page, BULK + 1);
  const emails = await page.locator('[data-testid=player-email]').allTextContents();
  assert.equal(new Set(emails).size, BULK + 1, 'no duplicates across pages');
  assert.ok(emails.includes(NAMED.email));
  assert.equal(await page.getByRole('button', { name: 'More' }).count(), 0, 'the end: no More');
  await screenshot(page, 'people-players');

  // sort by registration: oldest first (a fresh first page), then newest first again
  const registered = page.getByRole('button', { name: /Registered/ });
  await registered.click();
  await page.waitForURL(/sort=created_at&order=asc/);
  await rowCount(page, 50);
  assert.equal(await page.locator('th[aria-sort=ascending]').count(), 1);
  t = await times(page, 'player-registered');
  assert.deepEqual(t, [...t].sort(), 'oldest first');
  assert.equal(await rows.first().getByTestId('player-email').textContent(), NAMED.email, 'registered first');
  await registered.click();
  await page.waitForURL(/sort=created_at&order=desc/);
  await page.waitForFunction((email) => {
    const r = document.querySelectorAll('[data-testid=player-row] [data-testid=player-email]');
    return r.length === 50 && r[0].textContent !== email;
  }, NAMED.email);
  assert.equal(await page.locator('th[aria-sort=descending]').count(), 1);
  t = await times(page, 'player-registered');
  assert.deepEqual(t, [...t].sort().reverse(), 'newest first again');
  assert.equal(await rows.first().getByTestId('player-email').textContent(), `bulk${BULK - 1}-${tag}@example.com`);
  assert.deepEqual(page.errors, []);

  // another brand's player by a pasted link: the server's 404, as it said it
  await page.goto(`${server.url}/players/${otherBrand.id}`);
  await page.getByRole('alert').filter({ hasText: 'PLAYER_NOT_FOUND' }).waitFor();
  assert.equal(await page.getByTestId('player-title').count(), 0);
  assert.ok(page.errors.every(isResourceError), 'only the refused request');
});

test('players: a cash balance range in a currency, sorted by balance; a range without currency refused', async () => {
  const made = [];
  for (const amount of ['10.00', '30.00', '60.00']) {
    const p = await registerPlayer(server, { email: `bal${amount.slice(0, 2)}-${tag}@example.com` });
    await deposit(server, p, amount);
    made.push(p);
  }
  const page = await asSupport();
  await page.goto(`${server.url}/players`);
  const search = page.getByLabel('Search', { exact: true });
  await search.fill(`bal`);
  await page.getByLabel('Currency').fill('EUR');
  await page.getByLabel('Balance min').fill('20.00');
  await search.press('Enter');
  await page.waitForURL(/balance_min=20\.00/);
  // the range reads ledger_balance rows, up to ~1 s behind the ledger: ask again until they are in
  for (let i = 0; ; i++) {
    const emails = await page.locator('[data-testid=player-email]').allTextContents();
    if (emails.length === 2 && !emails.includes(made[0].email)) break;
    if (i >= 20) {
      await screenshot(page, 'people-balance-range-failed');
      assert.fail(`balance range at ${page.url()}: ${emails}`);
    }
    await page.waitForTimeout(500);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
  }
  await page.getByRole('button', { name: /Balance/ }).click();
  await page.waitForURL(/sort=balance&order=desc/);
  await listIs(page, 'player-email', [made[2].email, made[1].email]);
  await listIs(page, 'player-balance', ['60.00 EUR', '30.00 EUR']);
  await page.getByRole('button', { name: /Balance/ }).click();
  await page.waitForURL(/sort=balance&order=asc/);
  await listIs(page, 'player-email', [made[1].email, made[2].email]);

  // without the currency the server refuses the range, and the page says what it said
  await page.getByLabel('Currency').fill('');
  await search.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'FIELD_INVALID' }).waitFor();
  assert.match(await page.getByRole('alert').textContent(), /currency/);
  page.errors.length = 0; // the refused request's console line
});

test('block with a reason, see it on the player page and in the audit log, unblock', async () => {
  const reason = `chargeback investigation ${tag}`;
  const page = await asSupport();
  await page.goto(`${server.url}/players/${named.id}`); // a pasted link
  await page.getByTestId('player-title').waitFor();
  assert.equal(await page.getByTestId('player-title').textContent(), NAMED.email);
  await page.getByRole('button', { name: 'Block', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Block player' });
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: 'Block', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByTestId('block-reason').waitFor();
  assert.equal(await page.getByTestId('block-reason').textContent(), reason);
  assert.equal(await page.getByTestId('profile-status').textContent(), 'blocked');
  assert.equal(await page.getByTestId('player-status').textContent(), 'blocked');
  assert.equal(await page.getByRole('button', { name: 'Block', exact: true }).count(), 0, 'no Block on a blocked player');

  // the server's answer is the truth: the API says blocked too
  const api = await expectStatus(adminCall(server, 'GET', `/v1/admin/players/${named.id}`), 200);
  assert.equal(api.player.status, 'blocked');
  assert.equal(api.player.block_reason, reason);

  // the auditor sees the entry with that reason and the status change in its diff
  const audit = await newPage(browser);
  await login(audit, server, auditor);
  await audit.getByRole('link', { name: 'Audit log' }).click();
  await audit.getByLabel('Action').fill('player.block');
  await audit.getByLabel('Target id').fill(named.id);
  await audit.getByLabel('Target kind').fill('player');
  await audit.getByRole('button', { name: 'Apply' }).click();
  await audit.waitForURL(/action=player\.block/);
  const entry = audit.locator('[data-testid=audit-row][data-action="player.block"]');
  await entry.first().waitFor();
  assert.equal(await entry.count(), 1);
  assert.equal(await entry.getByTestId('audit-reason').textContent(), reason);
  await entry.getByRole('button', { name: /Details/ }).click();
  const detail = audit.getByTestId('audit-detail');
  await detail.waitFor();
  assert.equal(await detail.getByTestId('audit-detail-reason').textContent(), reason);
  const changed = detail.locator('[data-testid=diff-row][data-change=changed]');
  assert.ok((await changed.count()) >= 1);
  const statusRow = detail.locator('[data-testid=diff-row]', { hasText: 'status' }).first();
  assert.equal(await statusRow.getAttribute('data-change'), 'changed');
  assert.match(await statusRow.textContent(), /"active".*"blocked"/);

  // the chain's state from the server (cached), then a fresh check
  const verdict = audit.getByTestId('chain-verdict');
  await verdict.filter({ hasText: 'Chain verified' }).waitFor();
  assert.match(await audit.getByTestId('chain-status').textContent(), /\d+ entries/);
  await audit.getByRole('button', { name: 'Check now' }).click();
  await audit.getByRole('button', { name: 'Check now' }).and(audit.locator(':enabled')).waitFor();
  assert.equal(await verdict.textContent(), 'Chain verified');
  assert.equal(await audit.getByTestId('chain-status').getByRole('alert').count(), 0, 'no error from a fresh check');
  // a second fresh check within 10 s: the server's refusal, as it said it
  await audit.getByRole('button', { name: 'Check now' }).click();
  await audit.getByTestId('chain-status').getByRole('alert').filter({ hasText: 'RATE_LIMITED' }).waitFor();
  assert.equal(await verdict.textContent(), 'Chain verified', 'the last answer stays');
  await screenshot(audit, 'people-audit');

  // the auditor (audit.export, every brand) downloads the signed log: JSON lines, the entry in it
  const [dl] = await Promise.all([audit.waitForEvent('download'), audit.getByRole('button', { name: 'Export' }).click()]);
  const lines = readFileSync(await dl.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length > 2);
  assert.ok(lines.some((l) => l.action === 'player.block' && l.reason === reason), 'the block entry is in the export');

  // unblock with a reason
  await page.getByRole('button', { name: 'Unblock', exact: true }).click();
  const d2 = page.getByRole('dialog', { name: 'Unblock player' });
  await d2.getByLabel('Reason').fill(`cleared ${tag}`);
  await d2.getByRole('button', { name: 'Unblock', exact: true }).click();
  await d2.waitFor({ state: 'detached' });
  await page.getByTestId('profile-status').filter({ hasText: 'active' }).waitFor();
  assert.equal(await page.getByTestId('block-reason').count(), 0);
  assert.equal((await expectStatus(adminCall(server, 'GET', `/v1/admin/players/${named.id}`), 200)).player.status, 'active');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(
    audit.errors.filter((e) => !(isResourceError(e) && /status of 429/.test(e))),
    [],
    'no error but the expected 429',
  );
  await audit.close();
});

test('end game sessions: the studio\'s next bet with the launch is refused as expired, its win still pays; audited', async () => {
  const p = await registerPlayer(server, {});
  await deposit(server, p, '10.00');
  const bet = await providerBet(server, p, { amount: '1.00' });
  const page = await asSupport();
  await page.goto(`${server.url}/players/${p.id}`);
  await page.getByTestId('player-title').waitFor();
  await page.getByRole('button', { name: 'End game sessions', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'End game sessions' });
  const reason = `account takeover suspected ${tag}`;
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: 'End sessions', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByTestId('revoked-note').waitFor();
  assert.equal(await page.getByTestId('revoked-note').textContent(), '1 game session ended.');

  // the studio's side: a bet with the revoked launch is refused, the earlier bet's win pays
  const late = await providerCall(server, 'bet', {
    token: p.launch.slot1, transaction_id: `late-${tag}`, round_id: `late-r-${tag}`, game: 'slot1',
    currency: p.currency, amount: '1.00',
  });
  assert.equal(late.status, 401);
  assert.equal(late.json.error.code, 'TOKEN_EXPIRED');
  const win = await providerWin(server, p, bet, { amount: '3.00' });
  assert.equal(win.cash, '12.00');

  // a second time: nothing live is left
  await page.getByRole('button', { name: 'End game sessions', exact: true }).click();
  const again = page.getByRole('dialog', { name: 'End game sessions' });
  await again.getByLabel('Reason').fill(`again ${tag}`);
  await again.getByRole('button', { name: 'End sessions', exact: true }).click();
  await again.waitFor({ state: 'detached' });
  await page.getByTestId('revoked-note').filter({ hasText: '0 game sessions ended.' }).waitFor();

  const audit = await expectStatus(adminCall(server, 'GET',
    `/v1/admin/audit?action=player.launches_revoke&target_kind=player&target_id=${p.id}`), 200);
  assert.deepEqual(audit.entries.map((e) => [e.reason, e.before.live_launches]), [[`again ${tag}`, 0], [reason, 1]]);
  assert.deepEqual(page.errors, []);
});

test('log out everywhere: support ends the player\'s sessions with a reason next to the list; the token is dead; audited; finance is not offered it', async () => {
  const p = await registerPlayer(server, {});
  const page = await asSupport();
  await page.goto(`${server.url}/players/${p.id}?tab=sessions`);
  await page.locator('[data-testid=session-row]').first().waitFor();
  assert.match(await page.getByTestId('session-state').first().textContent(), /active/);
  await page.getByRole('button', { name: 'Log out everywhere', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Log out everywhere' });
  // a reason is required: no confirming without one
  assert.equal(await dialog.getByRole('button', { name: 'Log out', exact: true }).isDisabled(), true);
  const reason = `lost phone, ticket ${tag}`;
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: 'Log out', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByTestId('sessions-revoked-note').waitFor();
  assert.equal(await page.getByTestId('sessions-revoked-note').textContent(), '1 session ended.');
  // the list reloaded: the session is revoked now
  await page.waitForFunction(() => /revoked/.test(document.querySelector('[data-testid=session-state]')?.textContent ?? ''));
  // the player's access token no longer works
  const me = await request(server, { method: 'GET', path: '/v1/player/profile', token: p.token, ip: p.ip });
  assert.equal(me.status, 401);
  const audit = await expectStatus(adminCall(server, 'GET',
    `/v1/admin/audit?action=player.sessions_revoke&target_kind=player&target_id=${p.id}`), 200);
  assert.deepEqual(audit.entries.map((e) => [e.reason, e.after.sessions_revoked]), [[reason, 1]]);
  assert.deepEqual(page.errors, []);
  // finance (no players.sessions.manage) sees the sessions but no button
  const fin = await asFinance();
  await fin.goto(`${server.url}/players/${p.id}?tab=sessions`);
  await fin.locator('[data-testid=session-row]').first().waitFor();
  assert.equal(await fin.getByRole('button', { name: 'Log out everywhere' }).count(), 0);
  assert.deepEqual(fin.errors, []);
});

test('player page: the login locks from one address show next to "locked until" (address and until when)', async () => {
  const p = await registerRaw({ email: `locked-${tag}@example.com` });
  const ip = '127.0.12.9';
  for (let i = 1; i <= 5; i++) {
    const body = { brand: 'demo', email: p.email, password: 'not-the-password-1' };
    const r = await request(server, { method: 'POST', path: '/v1/player/login', body, ip });
    assert.equal(r.status, i < 5 ? 401 : 423, `wrong login ${i}`);
  }
  const page = await asSupport();
  await page.goto(`${server.url}/players/${p.id}`);
  await page.getByTestId('player-title').waitFor();
  const locks = page.getByTestId('address-locks');
  await locks.waitFor();
  const items = await locks.locator('li').allTextContents();
  assert.equal(items.length, 1, items.join(' | '));
  assert.match(items[0], /^127\.0\.12\.9 until \S/);
  await screenshot(page, 'player-address-locks');
});

test('player page: balances after a deposit and a bet, rounds, sessions, a note', async () => {
  const p = await registerPlayer(server, {});
  await deposit(server, p, '50.00');
  const bet = await providerBet(server, p, { amount: '2.00' });
  await providerWin(server, p, bet, { amount: '0.50' });
  const page = await asSupport();
  await page.goto(`${server.url}/players/${p.id}`);
  await page.getByTestId('player-title').waitFor();

  // wallets: 50.00 − 2.00 + 0.50
  const eur = page.getByTestId('wallet-EUR');
  await eur.waitFor();
  assert.equal(await eur.getByTestId('cash').textContent(), '48.50 EUR');
  assert.equal(await eur.getByTestId('withdrawable').textContent(), '48.50 EUR');
  assert.equal(await eur.getByTestId('held').textContent(), '0.00 EUR');

  // transactions of the cash account, signed from the player's view
  await page.getByRole('tab', { name: 'Transactions' }).click();
  await page.waitForURL(/tab=transactions/);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=transfer-row]').length === 3);
  const amounts = await page.locator('[data-testid=transfer-amount]').allTextContents();
  const kinds = await page.locator('[data-testid=transfer-kind]').allTextContents();
  assert.deepEqual(kinds, ['win', 'bet', 'deposit']);
  assert.deepEqual(amounts, ['0.50 EUR', '−2.00 EUR', '50.00 EUR']);
  // the time filter: from a moment after all three, nothing; cleared, all three again
  await page.getByRole('tabpanel').getByLabel('From').fill('2099-01-01T00:00');
  await page.getByText('No transactions in this account.').waitFor();
  await page.getByRole('tabpanel').getByLabel('From').fill('');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=transfer-row]').length === 3);

  // rounds
  await page.getByRole('tab', { name: 'Game rounds' }).click();
  await page.locator('[data-testid=round-row]').first().waitFor();
  const round = page.locator('[data-testid=round-row]').first();
  assert.equal(await round.getByTestId('round-game').textContent(), 'slot1');
  assert.match(await round.textContent(), /2\.00 EUR.*0\.50 EUR/);

  // sessions: the player's login
  await page.getByRole('tab', { name: 'Sessions' }).click();
  await page.locator('[data-testid=session-row]').first().waitFor();
  assert.equal(await page.locator('[data-testid=session-row]').count(), 1);
  assert.match(await page.getByTestId('session-state').first().textContent(), /active/);

  // a note
  await page.getByRole('tab', { name: 'Notes' }).click();
  await page.getByText('No notes.').waitFor();
  const text = `called the player about limits ${tag}`;
  await page.getByLabel('New note').fill(text);
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.locator('[data-testid=note]', { hasText: text }).waitFor();
  assert.match(await page.locator('[data-testid=note]').first().textContent(), new RegExp(support.email));
  // a reload on the same tab shows it again (the tab is in the URL)
  await page.reload();
  await page.locator('[data-testid=note]', { hasText: text }).waitFor();
  await page.getByRole('tab', { name: 'Wallets' }).click();
  await page.getByTestId('wallet-EUR').waitFor();
  await screenshot(page, 'people-player');
  assert.deepEqual(page.errors, []);
});

test('transactions: filter by kind, download the CSV of the view, same rows as the table', async () => {
  const p = await registerPlayer(server, {});
  await deposit(server, p, '20.00');
  await deposit(server, p, '7.25');
  await providerBet(server, p, { amount: '1.00' });
  const page = await asFinance();
  await page.locator('nav').getByRole('link', { name: 'Transactions' }).click();
  await page.waitForURL(/\/transactions$/);
  await page.getByLabel('Player').fill(p.id);
  await page.getByLabel('Kind').selectOption('deposit');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/kind=deposit/);
  await listIs(page, 'transaction-amount', ['7.25 EUR', '20.00 EUR']); // the filtered view, newest first
  const kinds = await page.locator('[data-testid=transaction-kind]').allTextContents();
  assert.deepEqual(kinds, ['deposit', 'deposit']);
  const tableIds = await page.locator('[data-testid=transaction-row]').evaluateAll((r) => r.map((e) => e.dataset.id));
  const tableAmounts = await page.locator('[data-testid=transaction-amount]').allTextContents();
  assert.deepEqual(tableAmounts, ['7.25 EUR', '20.00 EUR']);
  await screenshot(page, 'people-transactions');

  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  const csv = parseCsv(readFileSync(await dl.path(), 'utf8')).filter((r) => r.length > 1);
  const [header, ...rows] = csv;
  const col = (name) => {
    const i = header.indexOf(name);
    assert.ok(i >= 0, `CSV column ${name} in ${header.join(',')}`);
    return i;
  };
  assert.equal(rows.length, 2);
  assert.deepEqual(rows.map((r) => r[col('id')]), tableIds);
  assert.deepEqual(rows.map((r) => r[col('kind')]), ['deposit', 'deposit']);
  assert.deepEqual(rows.map((r) => `${r[col('amount')]} ${r[col('currency')]}`), tableAmounts);
  assert.deepEqual(rows.map((r) => r[col('player_id')]), [p.id, p.id]);
  assert.deepEqual(page.errors, []);
});

test('a role without players.pii.read sees masked email and names, no date of birth; no block or note offered without the permission', async () => {
  const page = await asFinance();
  await page.goto(`${server.url}/players?q=${named.id}`); // a pasted link: the id as the search
  const row = page.locator('[data-testid=player-row]');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.equal(await row.getByTestId('player-email').textContent(), 'z***@example.com');
  assert.match(await row.textContent(), /Z\*\*\* Q\*\*\*/);
  assert.doesNotMatch(await row.textContent(), /Zebulon|Quill/);
  // nor sorting by email (the server refuses it without players.pii.read): a plain header
  const emailTh = page.locator('[data-testid=players-table] th', { hasText: 'Email' });
  assert.equal(await emailTh.count(), 1);
  assert.equal(await emailTh.getByRole('button').count(), 0);
  assert.equal(await page.locator('[data-testid=players-table] th', { hasText: 'Registered' }).getByRole('button').count(), 1);
  await row.getByRole('link').click();
  await page.waitForURL(new RegExp(`/players/${named.id}$`));
  const profile = page.getByTestId('player-profile');
  await profile.waitFor();
  assert.match(await profile.textContent(), /hidden for your role/);
  assert.doesNotMatch(await profile.textContent(), /1990-01-01|Zebulon/);
  // finance may neither block nor write notes: neither is offered
  assert.equal(await page.getByRole('button', { name: /block/i }).count(), 0);
  await page.getByRole('tab', { name: 'Notes' }).click();
  await page.getByText('No notes.').waitFor();
  assert.equal(await page.getByLabel('New note').count(), 0);
  assert.deepEqual(page.errors, []);
});

test('a role without finance.read: no Transactions in the navigation, the URL is not found', async () => {
  const page = await asSupport();
  const nav = page.locator('nav');
  await nav.getByRole('link', { name: 'Players' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Transactions' }).count(), 0);
  assert.equal(await nav.getByRole('link', { name: 'Audit log' }).count(), 0, 'support has no audit.read');
  await page.goto(`${server.url}/transactions`);
  await page.getByRole('heading', { name: 'Not here' }).waitFor();
  assert.equal(await page.getByTestId('transactions-table').count(), 0);
});

test('exports are offered only with the export permissions (risk: no CSV; compliance: no audit export)', async () => {
  const [r, c] = await Promise.all([newPage(browser), newPage(browser)]);
  await Promise.all([login(r, server, risk), login(c, server, compliance)]);
  await r.locator('nav').getByRole('link', { name: 'Transactions' }).click();
  await r.getByTestId('transactions-table').waitFor();
  await r.locator('[data-testid=transaction-row]').first().waitFor();
  assert.equal(await r.getByRole('button', { name: 'Download CSV' }).count(), 0);
  await c.locator('nav').getByRole('link', { name: 'Audit log' }).click();
  await c.getByTestId('audit-table').waitFor();
  await c.locator('[data-testid=audit-row]').first().waitFor();
  // compliance here sees brand alpha only: the chain's status is every brand's, not shown
  assert.equal(await c.getByTestId('chain-status').count(), 0, 'scoped: no chain status');
  assert.equal(await c.getByRole('button', { name: 'Export' }).count(), 0);
  assert.equal(await c.locator('nav').getByRole('link', { name: 'Transactions' }).count(), 0, 'compliance: no finance.read');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(c.errors, []);
  await r.close();
  await c.close();
});

test('export data: compliance downloads pitboss-player-<id>.json (audited with the reason); support is offered neither export nor erase', async () => {
  const p = await registerPlayer(server, {});
  await deposit(server, p, '12.50');
  const page = await asOfficer();
  await page.goto(`${server.url}/players/${p.id}`);
  await page.getByTestId('player-title').waitFor();
  assert.equal(await page.getByTestId('erased-note').count(), 0, 'never erased: no note');
  await page.getByRole('button', { name: 'Export data', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Export data' });
  const download = dialog.getByRole('button', { name: 'Download', exact: true });
  assert.ok(await download.isDisabled(), 'no reason, no export');

  // the server's refusal is shown in the dialog, which stays open
  await dialog.getByLabel('Reason').fill('x'.repeat(201));
  await download.click();
  await dialog.getByRole('alert').filter({ hasText: 'FIELD_INVALID' }).waitFor();

  const reason = `DSAR-${tag} access request`;
  await dialog.getByLabel('Reason').fill(reason);
  const [dl] = await Promise.all([page.waitForEvent('download'), download.click()]);
  await dialog.waitFor({ state: 'detached' });
  assert.equal(dl.suggestedFilename(), `pitboss-player-${p.id}.json`);
  const doc = JSON.parse(readFileSync(await dl.path(), 'utf8'));
  assert.equal(doc.format, 'pitboss.player_export.v1');
  assert.equal(doc.player.id, p.id);
  assert.equal(doc.player.email, p.email);
  assert.equal(doc.player.date_of_birth, '1990-01-01');
  assert.equal(doc.deposits.length, 1);
  assert.equal(doc.complete, true);

  const audit = await expectStatus(adminCall(server, 'GET',
    `/v1/admin/audit?action=player.exported&target_kind=player&target_id=${p.id}`), 200);
  assert.deepEqual(audit.entries.map((e) => e.reason), [reason], 'the refused one wrote nothing');
  assert.deepEqual(page.errors.filter((e) => !(isResourceError(e) && /status of 422/.test(e))), []);

  // support (no players.export, no players.erase): neither is offered
  const s = await asSupport();
  await s.goto(`${server.url}/players/${p.id}`);
  await s.getByTestId('player-title').waitFor();
  await s.getByRole('button', { name: 'End game sessions', exact: true }).waitFor(); // the header's buttons are there
  assert.equal(await s.getByRole('button', { name: 'Export data' }).count(), 0);
  assert.equal(await s.getByRole('button', { name: 'Erase personal data' }).count(), 0);
  assert.deepEqual(s.errors, []);
});

test('erase personal data: refused in the retention period and with money (the reason in the dialog); then the erased player is shown', async () => {
  const funded = await registerPlayer(server, {});
  await deposit(server, funded, '5.00');
  const fresh = await registerPlayer(server, {}); // registered and logged in, never funded
  const page = await asOfficer();

  /** Opens the erase dialog on the player's page, gives the reason and confirms it; → the dialog. */
  const erase = async (player, reason) => {
    await page.goto(`${server.url}/players/${player.id}`);
    await page.getByTestId('player-title').waitFor();
    await page.getByRole('button', { name: 'Erase personal data', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase personal data' });
    assert.match(await dialog.textContent(), /account is closed.*date of birth.*cannot be undone.*stay under the player id/s);
    await dialog.getByLabel('Reason').fill(reason);
    await dialog.getByRole('button', { name: 'Erase', exact: true }).click();
    return dialog;
  };
  /** The dialog shows the server's refusal (code and message); Cancel; nothing changed. */
  const refused = async (dialog, player, code, message) => {
    const alert = dialog.getByRole('alert').filter({ hasText: code });
    await alert.waitFor();
    assert.match(await alert.textContent(), message);
    await screenshot(page, `people-erase-${code}`);
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('player-title').textContent(), player.email);
    assert.equal(await page.getByTestId('erased-note').count(), 0);
  };

  // the brand keeps records for five years by default: the date from when is in the message
  await refused(await erase(fresh, `RTBF-${tag} early`), fresh, 'RETENTION_PERIOD', /erasable from \d{4}-\d{2}-\d{2}/);

  const brand = (await expectStatus(adminCall(server, 'GET', '/v1/admin/brands/demo'), 200)).brand;
  await expectStatus(adminCall(server, 'PATCH', '/v1/admin/brands/demo',
    { settings: { ...brand.settings, erase_after_days: 0 } }), 200, 'brand settings');
  try {
    // money on the account: refused whatever the retention
    await refused(await erase(funded, `RTBF-${tag} funded`), funded, 'PLAYER_HAS_FUNDS', /money/);

    const reason = `RTBF-${tag} erasure request`;
    const dialog = await erase(fresh, reason);
    await dialog.waitFor({ state: 'detached' });
    const placeholder = `erased-${fresh.id}@erased.invalid`;
    await page.getByTestId('player-title').filter({ hasText: placeholder }).waitFor();
    assert.match(await page.getByTestId('erased-note').textContent(), /^Personal data erased \d{4}-\d{2}-\d{2} /);
    assert.equal(await page.getByTestId('player-status').textContent(), 'closed');
    assert.equal(await page.getByTestId('profile-status').textContent(), 'closed');
    assert.doesNotMatch(await page.getByTestId('player-profile').textContent(), /1990-01-01/);
    assert.equal(await page.getByRole('button', { name: 'Erase personal data' }).count(), 0, 'erased: no second erase');
    assert.equal(await page.getByRole('button', { name: 'Export data' }).count(), 1);
    await screenshot(page, 'people-player-erased');

    // the server's record: the same after a reload, and through the API
    await page.reload();
    await page.getByTestId('erased-note').waitFor();
    assert.equal(await page.getByTestId('player-title').textContent(), placeholder);
    assert.equal(await page.getByRole('button', { name: 'Erase personal data' }).count(), 0);
    const api = (await expectStatus(adminCall(server, 'GET', `/v1/admin/players/${fresh.id}`), 200)).player;
    assert.equal(api.email, placeholder);
    assert.equal(api.status, 'closed');
    assert.ok(api.erased_at);
    const audit = await expectStatus(adminCall(server, 'GET',
      `/v1/admin/audit?action=player.erased&target_kind=player&target_id=${fresh.id}`), 200);
    assert.deepEqual(audit.entries.map((e) => e.reason), [reason], 'the refusals wrote nothing');
    assert.equal((await expectStatus(adminCall(server, 'GET', `/v1/admin/players/${funded.id}`), 200)).player.erased_at, null);
  } finally {
    await expectStatus(adminCall(server, 'PATCH', '/v1/admin/brands/demo', { settings: brand.settings }), 200, 'restore');
  }
  assert.deepEqual(page.errors.filter((e) => !(isResourceError(e) && /status of 409/.test(e))), []);
});

test('transactions: a page that ends at the read budget says the search goes on; More searches further back', async () => {
  // a server whose explorer reads 3 transfers per page (PITBOSS_EXPLORER_SCAN): a filter
  // that matches nothing gives empty pages with a cursor until the ledger is read
  const small = await startServer({ env: { PITBOSS_EXPLORER_SCAN: '3' } });
  const page = await newPage(browser);
  try {
    const fin = await createStaff(small, { role: 'finance', brands: ['demo'] });
    const p = await registerPlayer(small, {});
    for (const amount of ['1.00', '2.00', '3.00', '4.00']) await deposit(small, p, amount);
    await login(page, small, fin);
    await page.goto(`${small.url}/transactions?kind=bet`);
    const going = page.getByText('No transactions match in the part searched so far');
    const more = page.getByRole('button', { name: 'More' }); // "Loading…" while a page loads
    const end = page.getByText('No transactions match.');
    await going.waitFor();
    await more.waitFor();
    let clicks = 0;
    for (; clicks < 20; clicks++) {
      // the next state: another page that ended at the budget (More again), or the end
      const settle = (w) => w.waitFor().catch(() => {}); // the loser times out quietly
      await Promise.race([settle(more), settle(end)]);
      if (await end.count()) break;
      await more.click();
    }
    assert.ok(clicks >= 1 && clicks < 20, `${clicks} clicks on More`);
    await end.waitFor(); // the whole ledger read
    assert.equal(await going.count(), 0);
    assert.equal(await more.count(), 0);
    assert.equal(await page.locator('[data-testid=transaction-row]').count(), 0);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
    await small.finish();
  }
});

test('player rounds: support voids an open mines game with a reason (stake back, audited), Retry payout shows the server\'s refusal; finance is offered neither', async () => {
  const p = await registerPlayer(server, { email: `void-${tag}@example.com` });
  await fund(server, p, '10.00');
  const bet = await expectStatus(
    playerCall(server, p, 'POST', '/v1/player/originals/mines/bets', { amount: '2.00', params: { mines: 3 } },
      { headers: { 'Idempotency-Key': `void-${tag}` } }),
    201,
    'mines bet',
  );
  const rid = bet.round.id;
  assert.equal(bet.round.state, 'active');
  const wallet = async () => (await expectStatus(playerCall(server, p, 'GET', '/v1/player/wallet'), 200, 'wallet')).total;
  assert.equal(await wallet(), '8.00');

  // finance sees the round, open, and no Void
  const fin = await asFinance();
  await fin.goto(`${server.url}/players/${p.id}?tab=rounds`);
  await fin.locator('[data-testid=round-row]').first().waitFor();
  assert.equal(await fin.getByTestId('round-status').first().textContent(), 'open');
  assert.equal(await fin.getByTestId('round-void').count(), 0);
  assert.equal(await fin.getByTestId('round-settle').count(), 0);

  // support: Void… → the reason → the round is void, the stake back
  const page = await asSupport();
  await page.goto(`${server.url}/players/${p.id}?tab=rounds`);
  await page.locator('[data-testid=round-row]').first().waitFor();
  // a game in play (state active) owes no payout: Void… only, no "Retry payout…"
  assert.equal(await page.getByTestId('round-state').first().textContent(), ' (active)');
  assert.equal(await page.getByTestId('round-void').count(), 1);
  assert.equal(await page.getByTestId('round-settle').count(), 0);
  await page.getByTestId('round-void').click();
  const dialog = page.getByRole('dialog', { name: 'Void round' });
  await dialog.getByLabel('Reason').fill(`left open ${tag}`);
  await dialog.getByRole('button', { name: 'Void round' }).click();
  await page.getByTestId('round-status').filter({ hasText: 'void' }).waitFor();
  assert.equal(await page.getByTestId('round-void').count(), 0);
  assert.equal(await wallet(), '10.00');
  const audit = await expectStatus(
    adminCall(server, 'GET', `/v1/admin/audit?action=game_round.voided&target_kind=game_round&target_id=${rid}`), 200);
  assert.equal(audit.entries.length, 1);
  assert.equal(audit.entries[0].reason, `left open ${tag}`);
  assert.equal(audit.entries[0].actor_id, support.id);
  await screenshot(page, 'people-player-round-void');
  assert.deepEqual(page.errors, []);

  // a round stuck settling (its wallet round closed under it, written into the
  // database: the wallet refuses its win for good) offers "Retry payout…", which
  // shows the server's refusal and changes nothing
  const stuck = await expectStatus(
    playerCall(server, p, 'POST', '/v1/player/originals/mines/bets', { amount: '1.00', params: { mines: 24 } },
      { headers: { 'Idempotency-Key': `stuck-${tag}` } }),
    201,
    'mines bet',
  );
  const sid = stuck.round.id;
  const ins = spawnSync('sqlite3', ['-cmd', '.timeout 10000', server.dbPath,
    'INSERT INTO wallet_round (provider, round_id, player, game, has_win, closed, created_at, updated_at) ' +
    `SELECT provider, round_id, player, '', 0, 1, created_at, created_at FROM wallet_op WHERE provider='pitboss' AND tx_id='${sid}:bet'`],
  { encoding: 'utf8' });
  assert.equal(ins.status, 0, ins.stderr);
  const reveal = await playerCall(server, p, 'POST', `/v1/player/originals/mines/${sid}/reveal`, { tiles: [0] });
  assert.ok(reveal.status >= 500, `the refused win: ${reveal.status}`);
  await page.reload();
  const row = page.locator('[data-testid=round-row]').filter({ hasText: sid });
  await row.waitFor();
  assert.equal(await row.getByTestId('round-status').textContent(), 'open');
  assert.equal(await row.getByTestId('round-state').textContent(), ' (settling)');
  await row.getByTestId('round-settle').click();
  const retry = page.getByRole('dialog', { name: 'Retry payout' });
  await retry.getByLabel('Reason').fill(`retry ${tag}`);
  await retry.getByRole('button', { name: 'Retry payout' }).click();
  await retry.getByRole('alert').filter({ hasText: 'WIN_REFUSED' }).waitFor();
  await retry.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await wallet(), '9.00');
  assert.ok(page.errors.every((e) => isResourceError(e) && /status of (409|5\d\d)/.test(e)), 'only the refused retry');
  page.errors.length = 0;
  // the remedy: Void… gives the stake back
  await row.getByTestId('round-void').click();
  const vd = page.getByRole('dialog', { name: 'Void round' });
  await vd.getByLabel('Reason').fill(`win refused ${tag}`);
  await vd.getByRole('button', { name: 'Void round' }).click();
  await row.getByTestId('round-status').filter({ hasText: 'void' }).waitFor();
  assert.equal(await wallet(), '10.00');
  assert.deepEqual(page.errors, []);
});
