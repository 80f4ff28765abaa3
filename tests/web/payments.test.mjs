/*
 * payments.test.mjs — the Payments (deposits) page in a real browser (headless
 * Chromium) against a real `pitboss serve` (tests/web/harness.mjs). Deposits are
 * made as players make them: POST /v1/player/deposits (an intent at the sandbox
 * PSP), then the sandbox's complete / fail endpoint (its signed webhook).
 *
 *   - a finance member of both brands finds Payments in the navigation: the
 *     deposits newest first, each with its status (pending, completed, failed),
 *     the amount as the API's decimal string grouped (1 234.50 EUR), the PSP
 *     reference and a link to the player's page;
 *   - live: an intent shown as pending that the PSP completes turns completed in
 *     place, without a reload; a deposit made meanwhile (deposit.created) is
 *     announced ("1 new deposit: show", once even if it settles before the click)
 *     and one settled that the page's filters would show ("1 more deposit
 *     settled: show"), each shown on the click;
 *   - the filters (status, brand, player id, PSP reference) ask the API and show
 *     only its rows, and a shared link keeps them;
 *   - expiry: an intent made 25 h ago (aged by SQL) reads expired (status filter
 *     expired too); the PSP's success arriving after that turns it completed with
 *     the "late completion" badge, live; for a member with audit.read its page's
 *     history is the audit trail, the late completion's reason in it;
 *   - an intent shown pending whose expiry passes while the page is open (aged to
 *     expire 8 s later) turns expired in place, in the list and on its page,
 *     without a reload (expiry is no event: the page re-reads it when due);
 *   - one deposit (/payments/:id): status, amount, player, brand, PSP, reference,
 *     made, expires (while pending), last change, the ledger transfer once
 *     completed (the API's transfer_id) with the link to the player's deposits in
 *     Transactions, and its history (finance has no audit.read: the payment's own
 *     timestamps); it follows the stream too;
 *   - a support member (no finance.read) has no Payments in the navigation and
 *     /payments and /payments/:id are not found for them.
 * Screenshots: payments-list, payments-detail.
 * Run: node --test --test-reporter=tap tests/web/payments.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  adminCall, createStaff, deposit, expectStatus, launchBrowser, login, newPage, playerCall, registerPlayer, request,
  screenshot, startServer,
} from './harness.mjs';

let server, browser, finance, financePage;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  finance = await createStaff(server, { role: 'finance', brands: ['demo', 'other'] });
});

/** The finance member's page, logged in once (a second login would wait for the next TOTP step). */
async function asFinance() {
  if (!financePage) {
    financePage = await newPage(browser);
    await login(financePage, server, finance);
  }
  financePage.errors.length = 0;
  return financePage;
}

after(async () => {
  await browser?.close();
  if (server) {
    await server.finish(); // exit 0, ledger verify + audit verify on the database
  }
});

const row = (page, id) => page.locator(`[data-testid=payment-row][data-id="${id}"]`);
const shownIds = (page) =>
  page.locator('[data-testid=payment-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));

/** Waits (15 s at most) until the rows shown are exactly `want`, in that order (a
 * filter change empties the list while it reads); asserts it. */
async function rowsAre(page, want, what) {
  let got;
  for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    got = await shownIds(page);
    if (JSON.stringify(got) === JSON.stringify(want)) break;
  }
  assert.deepEqual(got, want, what);
}

/** A deposit intent (pending at the sandbox PSP) as the player's browser makes it. */
async function intent(player, amount) {
  return expectStatus(
    playerCall(server, player, 'POST', '/v1/player/deposits', {
      amount, idempotency_key: `pay-${Date.now()}-${randomBytes(4).toString('hex')}` }),
    201,
    'deposit intent',
  );
}

/** The sandbox PSP settles an intent (its signed webhook): "complete" or "fail". */
async function settle(d, verb = 'complete') {
  const r = await expectStatus(
    request(server, { method: 'POST', path: `/v1/sandbox-psp/payments/${d.psp_reference}/${verb}`, ip: '127.0.8.31' }),
    200,
    `sandbox ${verb}`,
  );
  assert.equal(r.outcome, 'applied', JSON.stringify(r));
}

const getPayment = (id) => expectStatus(adminCall(server, 'GET', `/v1/admin/payments/${id}`), 200, 'get payment');

/** Makes the intent older by us µs, default 25 hours (demo's deposit_expiry_minutes
 * is the default 24 h). */
function age(d, us = 25 * 3600 * 1e6) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', server.dbPath,
    `UPDATE payment SET created_at = created_at - ${us} WHERE id = '${d.id}'`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`aging the intent: ${r.stderr}`);
}

/** Waits for the page's event stream to be live (the SSE is opened after the list is read). */
async function waitLive(page) {
  await page.locator('[data-testid=live][data-status=live]').first().waitFor({ timeout: 15_000 });
}

let shared;
/**
 * The first deposits, made once for the tests that need them: players p1, p2 (demo)
 * and q (other); a: p1's intent of 25.00, pending; b: p2's 1234.50, completed;
 * c: p1's 7.00, failed; d: q's 9.00, completed (brand other).
 */
async function data() {
  if (!shared) {
    const p1 = await registerPlayer(server, { brand: 'demo' });
    const p2 = await registerPlayer(server, { brand: 'demo' });
    const q = await registerPlayer(server, { brand: 'other' });
    const a = await intent(p1, '25.00');
    const b = await deposit(server, p2, '1234.50');
    const c = await deposit(server, p1, '7.00', { fail: true });
    const d = await deposit(server, q, '9.00');
    shared = { p1, p2, q, a, b, c, d };
  }
  return shared;
}

test('the list: newest first, statuses, amounts, references, player links; live completion and announcement', async () => {
  const { p1, p2, a, b, c, d } = await data();
  const page = await asFinance();
  await page.locator('nav a[href="/payments"]').click();
  await rowsAre(page, [d.id, c.id, b.id, a.id], 'newest first');
  assert.equal(await row(page, a.id).getAttribute('data-status'), 'pending');
  assert.equal(await row(page, b.id).getAttribute('data-status'), 'completed');
  assert.equal(await row(page, c.id).getAttribute('data-status'), 'failed');
  assert.match(await row(page, a.id).getByTestId('payment-status').innerText(), /^pending/);
  assert.match(await row(page, c.id).getByTestId('payment-status').innerText(), /^failed/);
  assert.equal(await row(page, b.id).getByTestId('payment-amount').innerText(), '1\u202f234.50 EUR');
  assert.equal(await row(page, a.id).getByTestId('payment-amount').innerText(), '25.00 EUR');
  assert.equal(await row(page, b.id).getByTestId('payment-reference').innerText(), b.psp_reference);
  assert.equal(await row(page, a.id).getByTestId('payment-player').getAttribute('href'), `/players/${p1.id}`);
  assert.match(await row(page, d.id).innerText(), /other/);
  assert.equal(await page.locator('[data-testid=late]').count(), 0, 'no late completion yet');
  await waitLive(page);

  // the PSP completes the shown intent: the row turns completed in place
  await settle(a);
  await page.locator(`[data-testid=payment-row][data-id="${a.id}"][data-status=completed]`).waitFor({ timeout: 15_000 });
  assert.deepEqual(await shownIds(page), [d.id, c.id, b.id, a.id], 'rows keep their place');

  // a deposit made meanwhile (deposit.created), not on the page: announced as new, not
  // inserted; settled before the click it is still one new deposit; a second made
  // after it makes two (the stream is in order: the settlement was seen by then)
  const e = await intent(p2, '3.00');
  const fresh = page.getByTestId('show-new');
  await fresh.waitFor({ timeout: 15_000 });
  assert.match(await fresh.innerText(), /^1 new deposit: show$/);
  assert.equal(await row(page, e.id).count(), 0, 'announced, not inserted');
  await settle(e);
  const e2 = await intent(p1, '4.00');
  await page.getByTestId('show-new').getByText('2 new deposits: show').waitFor({ timeout: 15_000 });
  assert.equal(await row(page, e2.id).count(), 0, 'announced, not inserted');
  await fresh.click();
  await row(page, e2.id).waitFor();
  assert.deepEqual((await shownIds(page)).slice(0, 2), [e2.id, e.id]);
  assert.equal(await row(page, e.id).getAttribute('data-status'), 'completed');
  assert.equal(await row(page, e2.id).getAttribute('data-status'), 'pending');
  assert.equal(await page.getByTestId('show-new').count(), 0, 'the count starts over');
  await screenshot(page, 'payments-list');

  // the completed ones: a new intent is not theirs (not announced); once the PSP
  // completes it, it is announced as settled
  await page.goto(`${server.url}/payments?status=completed`);
  await row(page, e.id).waitFor();
  await waitLive(page);
  const e3 = await intent(p2, '5.00');
  await settle(e3);
  await fresh.waitFor({ timeout: 15_000 });
  assert.match(await fresh.innerText(), /^1 more deposit settled: show$/);
  await fresh.click();
  await row(page, e3.id).waitFor();
  assert.equal((await shownIds(page))[0], e3.id);
  assert.deepEqual(page.errors, []);
});

test('the filters: status, brand, player id and PSP reference, kept in the URL', async () => {
  const { c, d } = await data();
  const p3 = await registerPlayer(server, { brand: 'demo' });
  const f1 = await deposit(server, p3, '2.00');
  const f2 = await deposit(server, p3, '3.00', { fail: true });
  const f3 = await intent(p3, '4.00');
  const page = await asFinance();
  await page.goto(`${server.url}/payments`);
  await row(page, f3.id).waitFor();

  await page.locator('select[name=status]').selectOption('failed');
  await page.waitForURL(/status=failed/);
  await rowsAre(page, [f2.id, c.id]);

  await page.locator('select[name=status]').selectOption('all');
  await page.locator('select[name=brand]').selectOption('other');
  await page.waitForURL((u) => u.search === '?brand=other');
  await rowsAre(page, [d.id]);

  await page.locator('select[name=brand]').selectOption('');
  await page.locator('input[name=player]').fill(p3.id);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(new RegExp(`player=${p3.id}`));
  await row(page, f1.id).waitFor();
  await rowsAre(page, [f3.id, f2.id, f1.id]);
  await page.locator('select[name=status]').selectOption('pending');
  await rowsAre(page, [f3.id]);

  // a shared link keeps its filters
  await page.goto(`${server.url}/payments?status=completed&player=${p3.id}`);
  await row(page, f1.id).waitFor();
  await rowsAre(page, [f1.id]);
  assert.equal(await page.locator('select[name=status]').inputValue(), 'completed');
  assert.equal(await page.locator('input[name=player]').inputValue(), p3.id);

  // by the PSP's reference (what a player quotes): that deposit alone
  await page.goto(`${server.url}/payments`);
  await row(page, f3.id).waitFor();
  await page.locator('input[name=psp_reference]').fill(f2.psp_reference);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/psp_reference=/);
  await rowsAre(page, [f2.id]);
  assert.equal(await row(page, f2.id).getByTestId('payment-reference').innerText(), f2.psp_reference);
  assert.deepEqual(page.errors, []);
});

test('expiry: an old intent reads expired; the PSP success after that is a live late completion', async () => {
  const { p1 } = await data();
  const late = await intent(p1, '12.00');
  age(late);
  const page = await asFinance();
  await page.goto(`${server.url}/payments?status=expired`);
  await rowsAre(page, [late.id]);
  assert.equal(await row(page, late.id).getAttribute('data-status'), 'expired');
  assert.match(await row(page, late.id).innerText(), /expired\s/);

  await page.locator('select[name=status]').selectOption('all');
  await row(page, late.id).waitFor();
  await waitLive(page);
  await settle(late);
  const lateRow = page.locator(`[data-testid=payment-row][data-id="${late.id}"][data-status=completed]`);
  await lateRow.waitFor({ timeout: 15_000 });
  assert.equal(await lateRow.getByTestId('late').innerText(), 'late completion');
  assert.equal(await page.locator('[data-testid=late]').count(), 1, 'only the late one');
  assert.equal((await getPayment(late.id)).completed_late, true);
  assert.deepEqual(page.errors, []);

  // with audit.read (an admin): the deposit's history is its audit trail, the reason in it
  const admin = await createStaff(server, { role: 'admin', allBrands: true });
  const ap = await newPage(browser);
  await login(ap, server, admin);
  await ap.goto(`${server.url}/payments/${late.id}`);
  await ap.locator('[data-testid=history][data-source=audit] [data-action="payment.completed"]').waitFor();
  assert.equal(await ap.locator('[data-testid=history] [data-action="payment.create"]').count(), 1);
  assert.match(await ap.locator('[data-testid=history] [data-action="payment.completed"]').innerText(), /late completion/);
  assert.equal(await ap.getByTestId('detail-status').getByTestId('late').count(), 1);
  assert.deepEqual(ap.errors, []);
  await ap.close();
});

test('expiry while shown: a pending intent turns expired in place, list and detail, without a reload', async () => {
  const { p1 } = await data();
  // made 24 h less 8 s ago: it expires 8 s from now (no event says so: the page re-reads it)
  const soon = await intent(p1, '13.00');
  age(soon, 24 * 3600 * 1e6 - 8e6);
  const page = await asFinance();
  await page.goto(`${server.url}/payments`);
  await row(page, soon.id).waitFor();
  assert.equal(await row(page, soon.id).getAttribute('data-status'), 'pending');
  await page.evaluate(() => { window.sameDocument = true; });
  await page.locator(`[data-testid=payment-row][data-id="${soon.id}"][data-status=expired]`).waitFor({ timeout: 20_000 });
  assert.match(await row(page, soon.id).innerText(), /expired\s/);
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'no reload');
  assert.equal((await getPayment(soon.id)).status, 'expired');
  // nothing announced: neither the expiry nor the intent's own deposit.created (which, under
  // load, may reach the stream after the list that shows it was read)
  assert.equal(await page.getByTestId('show-new').count(), 0, 'an expiry is no new deposit');

  // its page, open when it expires
  const next = await intent(p1, '14.00');
  age(next, 24 * 3600 * 1e6 - 8e6);
  await page.goto(`${server.url}/payments/${next.id}`);
  const detail = page.getByTestId('payment-detail');
  await detail.waitFor();
  assert.equal(await detail.getAttribute('data-status'), 'pending');
  await page.evaluate(() => { window.sameDocument = true; });
  await page.locator('[data-testid=payment-detail][data-status=expired]').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('[data-testid=history] [data-action=expired]').count(), 1);
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'no reload');
  assert.deepEqual(page.errors, []);
});

test('one deposit: every field, the ledger transfer, the history; it follows the stream', async () => {
  const { p2 } = await data();
  const pending = await intent(p2, '40.00');
  const page = await asFinance();
  await page.goto(`${server.url}/payments`);
  await row(page, pending.id).locator(`a[href="/payments/${pending.id}"]`).click();
  const detail = page.getByTestId('payment-detail');
  await detail.waitFor();
  assert.equal(await detail.getAttribute('data-status'), 'pending');
  const api = await getPayment(pending.id);
  assert.match(await detail.locator('h1').innerText(), new RegExp(pending.id));
  assert.equal(await page.getByTestId('detail-amount').innerText(), '40.00 EUR');
  assert.equal(await page.getByTestId('detail-player').getAttribute('href'), `/players/${p2.id}`);
  assert.equal(await page.getByTestId('detail-brand').innerText(), 'demo');
  assert.equal(await page.getByTestId('detail-psp').innerText(), api.psp);
  assert.equal(await page.getByTestId('detail-reference').innerText(), api.psp_reference);
  assert.equal(await page.locator('[data-testid=detail-created] time').getAttribute('datetime'), api.created_at);
  assert.equal(await page.locator('[data-testid=detail-expires] time').getAttribute('datetime'), api.expires_at);
  assert.match(await page.getByTestId('detail-transfer').innerText(), /none/);
  // finance has no audit.read: the history is the payment's own timestamps
  assert.equal(await page.locator('[data-testid=history][data-source=payment] [data-testid=history-entry]').count(), 1);

  // the PSP completes it while the page is open: completed, with its transfer
  await waitLive(page);
  await settle(pending);
  await page.locator('[data-testid=payment-detail][data-status=completed]').waitFor({ timeout: 15_000 });
  const done = await getPayment(pending.id);
  assert.ok(done.transfer_id);
  assert.match(await page.getByTestId('detail-transfer').innerText(), new RegExp(done.transfer_id));
  assert.match(await page.getByTestId('detail-expires').innerText(), /settled/);
  assert.equal(await page.locator('[data-testid=detail-updated] time').getAttribute('datetime'), done.updated_at);
  assert.equal(await page.locator('[data-testid=history] [data-action=completed]').count(), 1);
  assert.equal(
    await page.getByTestId('detail-transactions').getAttribute('href'),
    `/transactions?player=${encodeURIComponent(p2.id)}&kind=deposit`,
  );
  await page.getByTestId('detail-transactions').click();
  const tx = page.locator(`[data-testid=transaction-row][data-id="${done.transfer_id}"]`);
  await tx.waitFor();
  assert.match(await tx.innerText(), /40\.00/);
  await page.goBack();
  await detail.waitFor();
  await screenshot(page, 'payments-detail');
  assert.deepEqual(page.errors, []);
});

test('a member without finance.read: no Payments in the navigation, the pages are not found', async () => {
  const { a } = await data();
  const s = await createStaff(server, { role: 'support', brands: ['demo'] });
  const page = await newPage(browser);
  await login(page, server, s);
  await page.locator('nav').getByRole('link', { name: 'Players' }).waitFor();
  assert.equal(await page.locator('nav a[href="/payments"]').count(), 0, 'no Payments in the navigation');
  await page.goto(`${server.url}/payments`);
  await page.getByRole('heading', { name: 'Not here' }).waitFor();
  assert.equal(await page.getByTestId('payments').count(), 0);
  await page.goto(`${server.url}/payments/${a.id}`);
  await page.getByRole('heading', { name: 'Not here' }).waitFor();
  assert.equal(await page.getByTestId('payment-detail').count(), 0);
  // and a finance member does see it (the same navigation, the other role)
  const f = await asFinance();
  await f.goto(`${server.url}/`);
  await f.locator('nav').getByRole('link', { name: 'Payments' }).waitFor();
  await page.close();
});
