/*
 * adjust.test.mjs — staff balance adjustments in a real browser (headless
 * Chromium) against a real `pitboss serve` (tests/web/harness.mjs): the player
 * page's "Adjust balance" form and the Adjustments page (the 4-eyes queue).
 *
 * Brand demo's settings.adjustment_4eyes_thresholds is EUR 100000 (1000.00 EUR),
 * set through the staff API in before(). Finance members A and B (demo), a
 * support member (demo):
 *   - A credits below the threshold on the player page: "adjusted", the wallet
 *     shows the new cash at once (the server agrees); the amount goes out as the
 *     string typed; a debit beyond the bonus is refused with the server's message
 *     and moves nothing;
 *   - an answer lost on the way (the request reached the server, the browser saw a
 *     network failure): Adjust again sends the same key, the server answers the
 *     first adjustment again (replayed), the money moved once;
 *   - A credits above the threshold: "awaiting a second approver" with a link, the
 *     wallet unchanged; the request is on the Adjustments page (brand, amount,
 *     player link, requester, reason; the brand's threshold reads 1 000.00 EUR) and
 *     its page offers A no Approve; B sees A's e-mail as the requester (the answer
 *     names it: finance cannot read the staff list) and approves it from the queue:
 *     the player's balance changes (detail and player page), and A's page of it
 *     names B by e-mail;
 *   - B rejects another request with a reason: it shows rejected with the reason,
 *     the balance unchanged; a request rejected meanwhile (by the admin through the
 *     API) that B approves from a stale page shows the server's ADJUSTMENT_STATE;
 *   - a request pending past the brand's expiry reads expired: no buttons;
 *   - live: A's queue announces requests made elsewhere ("2 new adjustment requests:
 *     show", not inserted until asked) and shows a rejection (the admin, through the
 *     API) and an approval (B, on the request's page) in their rows without a reload;
 *     B's open page of a request shows the rejection made elsewhere (and a page whose
 *     stream is held up stays stale: its Approve is the server's refusal, above);
 *   - a support member (players.ledger.read, no finance.*) sees the wallets but no
 *     form, no Adjustments entry, and /adjustments is not found for them.
 * Screenshots: adjust-form, adjust-pending, adjust-queue, adjust-approved, adjust-rejected.
 * Run: node --test --test-reporter=tap tests/web/adjust.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import {
  adminCall, createStaff, expectStatus, fund, isResourceError, launchBrowser, login, newPage, registerPlayer,
  screenshot, startServer,
} from './harness.mjs';

let server, browser, a, b, pa, pb;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const brand = (await expectStatus(adminCall(server, 'GET', '/v1/admin/brands/demo'), 200, 'brand')).brand;
  await expectStatus(adminCall(server, 'PATCH', '/v1/admin/brands/demo',
    { settings: { ...brand.settings, adjustment_4eyes_thresholds: { EUR: 100000 } } }), 200, 'threshold');
  a = await createStaff(server, { role: 'finance', brands: ['demo'] });
  b = await createStaff(server, { role: 'finance', brands: ['demo'] });
  // one tab per member for the whole file: a TOTP code is good once per 30 s
  pa = await newPage(browser);
  await login(pa, server, a);
  pb = await newPage(browser);
  await login(pb, server, b);
});

after(async () => {
  await browser?.close();
  if (server) await server.finish(); // exit 0, ledger verify + audit verify on the database
});

const EUR = (s) => `${s} EUR`;

/** The player's EUR cash and bonus as the server has them (GET …/accounts, posted balances). */
async function balances(p) {
  const r = await expectStatus(adminCall(server, 'GET', `/v1/admin/players/${p.id}/accounts`), 200, 'accounts');
  const eur = (kind) => r.accounts.find((x) => x.currency === 'EUR' && x.kind === kind)?.posted ?? null;
  return { cash: eur('player_cash'), bonus: eur('player_bonus') };
}

async function openWallets(page, p) {
  await page.goto(`${server.url}/players/${p.id}?tab=wallets`);
  await page.getByTestId('wallet-EUR').waitFor();
}

/** Fills the player page's form and submits it. */
async function adjust(page, { balance = 'cash', direction = 'credit', amount, reason }) {
  const form = page.getByTestId('adjust-form');
  await form.locator('select[name=balance]').selectOption(balance);
  await form.locator('select[name=direction]').selectOption(direction);
  await form.locator('input[name=amount]').fill(amount);
  await form.locator('input[name=reason]').fill(reason);
  await form.getByTestId('adjust-submit').click();
}

/** The POST bodies of adjustments the page sends (collected from now on). */
function adjustmentBodies(page) {
  const bodies = [];
  const on = (rq) => {
    if (rq.method() === 'POST' && /\/v1\/admin\/players\/[^/]+\/adjustments$/.test(new URL(rq.url()).pathname))
      bodies.push(JSON.parse(rq.postData() ?? 'null'));
  };
  page.on('request', on);
  return { bodies, stop: () => page.off('request', on) };
}

function pageErrors(page) {
  return page.errors.filter((e) => !isResourceError(e));
}

test('below the threshold: the form adjusts and the wallet shows it at once; a refusal is shown', async () => {
  const p = await registerPlayer(server, {});
  await fund(server, p, '50.00');
  await openWallets(pa, p);
  const eur = pa.getByTestId('wallet-EUR');
  assert.equal(await eur.getByTestId('cash').textContent(), EUR('50.00'));
  const sent = adjustmentBodies(pa);
  await adjust(pa, { amount: '12.34', reason: 'goodwill for a late payout' });
  const result = pa.locator('[data-testid=adjust-result][data-outcome=adjusted]');
  await result.waitFor();
  assert.match(await result.innerText(), /^Adjusted: credit cash 12\.34 EUR\. Now cash 62\.34 EUR, bonus 0\.00 EUR\.$/);
  // the wallets table, without a reload
  await pa.locator('[data-testid=wallet-EUR] [data-testid=cash]', { hasText: '62.34 EUR' }).waitFor();
  assert.deepEqual(await balances(p), { cash: '62.34', bonus: '0.00' });
  // the amount goes out as typed (a string, no float), with a key and the reason
  sent.stop();
  assert.equal(sent.bodies.length, 1);
  assert.equal(sent.bodies[0].amount, '12.34');
  assert.equal(sent.bodies[0].balance, 'cash');
  assert.equal(sent.bodies[0].direction, 'credit');
  assert.equal(sent.bodies[0].reason, 'goodwill for a late payout');
  assert.match(sent.bodies[0].idempotency_key, /^bo-adj-[0-9a-f]{32}$/);
  // the form is empty again for the next one
  assert.equal(await pa.getByTestId('adjust-form').locator('input[name=amount]').inputValue(), '');
  await screenshot(pa, 'adjust-form');

  // a debit beyond the bonus: the server's refusal, nothing moved
  await adjust(pa, { balance: 'bonus', direction: 'debit', amount: '5.00', reason: 'claw back' });
  const alert = pa.getByTestId('adjust-form').getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /^INSUFFICIENT_FUNDS: /);
  assert.equal(await pa.locator('[data-testid=adjust-result]').count(), 0);
  assert.deepEqual(await balances(p), { cash: '62.34', bonus: '0.00' });
  assert.deepEqual(pageErrors(pa), []);
});

test('a lost answer: Adjust again is the same adjustment (same key, answered again), the money moves once', async () => {
  const p = await registerPlayer(server, {});
  await fund(server, p, '10.00');
  await openWallets(pa, p);
  const sent = adjustmentBodies(pa);
  // the first POST reaches the server, its answer never reaches the page
  let lost = 0;
  await pa.route('**/v1/admin/players/*/adjustments', async (route) => {
    if (route.request().method() !== 'POST' || lost > 0) return route.continue();
    lost++;
    const res = await route.fetch();
    assert.equal(res.status(), 201);
    await route.abort('failed');
  });
  try {
    await adjust(pa, { amount: '7.50', reason: 'refund of a void round' });
    await pa.getByTestId('adjust-form').getByRole('alert').waitFor();
    assert.deepEqual(await balances(p), { cash: '17.50', bonus: '0.00' }, 'the first request was applied');
    // the form still holds the same request: submit it again
    await pa.getByTestId('adjust-submit').click();
    const result = pa.locator('[data-testid=adjust-result][data-outcome=adjusted]');
    await result.waitFor();
    assert.match(await result.innerText(), /^Adjusted already \(answered again, nothing moved twice\): credit cash 7\.50 EUR\./);
  } finally {
    await pa.unroute('**/v1/admin/players/*/adjustments');
  }
  sent.stop();
  assert.equal(lost, 1);
  assert.equal(sent.bodies.length, 2);
  assert.equal(sent.bodies[0].idempotency_key, sent.bodies[1].idempotency_key, 'the retry sends the same key');
  assert.deepEqual(await balances(p), { cash: '17.50', bonus: '0.00' }, 'credited once');
  await pa.locator('[data-testid=wallet-EUR] [data-testid=cash]', { hasText: '17.50 EUR' }).waitFor();
  // a new fill is a new adjustment: another key
  const next = adjustmentBodies(pa);
  await adjust(pa, { amount: '7.50', reason: 'refund of another void round' });
  await pa.locator('[data-testid=adjust-result][data-outcome=adjusted]', { hasText: /^Adjusted: / }).waitFor();
  next.stop();
  assert.notEqual(next.bodies[0].idempotency_key, sent.bodies[0].idempotency_key);
  assert.deepEqual(await balances(p), { cash: '25.00', bonus: '0.00' });
});

let bigPlayer, bigId;

test('above the threshold: a pending request, on the Adjustments page; not approvable by its requester', async () => {
  const p = (bigPlayer = await registerPlayer(server, {}));
  await fund(server, p, '20.00');
  await openWallets(pa, p);
  await adjust(pa, { amount: '1500.00', reason: 'lost deposit found by the PSP' });
  const result = pa.locator('[data-testid=adjust-result][data-outcome=pending]');
  await result.waitFor();
  assert.match(await result.innerText(), /^Awaiting a second approver/);
  const link = result.getByTestId('adjust-request-link');
  bigId = (await link.getAttribute('href')).split('/').pop();
  assert.match(bigId, /^[0-9a-f-]{36}$/);
  assert.match(await link.innerText(), /credit cash 1\u202f500\.00 EUR/);
  await screenshot(pa, 'adjust-pending');
  // nothing moved
  assert.equal(await pa.getByTestId('wallet-EUR').getByTestId('cash').textContent(), EUR('20.00'));
  assert.deepEqual(await balances(p), { cash: '20.00', bonus: '0.00' });

  // the link: the request's page, pending; A (the requester) has no Approve
  await link.click();
  const detail = pa.locator(`[data-testid=adjustment-detail][data-status=pending]`);
  await detail.waitFor();
  assert.equal(new URL(pa.url()).pathname, `/adjustments/${bigId}`);
  assert.match(await detail.getByTestId('own-request').innerText(), /You requested it/);
  assert.equal(await detail.getByTestId('approve').count(), 0, 'no Approve for the requester');
  assert.equal(await detail.getByTestId('adjustment-reason').innerText(), 'lost deposit found by the PSP');

  // the queue (navigation entry; pending by default)
  await pa.locator('nav a[href="/adjustments"]').click();
  const row = pa.locator(`[data-testid=adjustment-row][data-id="${bigId}"]`);
  await row.waitFor();
  assert.equal(await pa.locator('select[name=status]').inputValue(), 'pending');
  assert.equal(await row.getAttribute('data-status'), 'pending');
  assert.equal(await row.getByTestId('adjustment-brand').innerText(), 'demo');
  assert.equal(await row.getByTestId('adjustment-amount').innerText(), EUR('1\u202f500.00'));
  assert.equal(await row.getByTestId('adjustment-player').getAttribute('href'), `/players/${p.id}`);
  assert.equal(await row.getByTestId('adjustment-requester').innerText(), `you (${a.email})`);
  assert.equal(await row.getByTestId('adjustment-reason').innerText(), 'lost deposit found by the PSP');
  // the brand's threshold (EUR 100000 minor units; none for USD) as an amount, in the UI's money format
  const threshold = pa.locator('[data-testid=threshold][data-brand=demo]');
  assert.equal(await threshold.innerText(), 'demo: 1\u202f000.00 EUR, USD none');
  assert.equal(await threshold.locator('[data-testid=threshold-amount][data-currency=EUR]').innerText(), '1\u202f000.00 EUR');
  await screenshot(pa, 'adjust-queue');
  assert.deepEqual(pageErrors(pa), []);
});

test('a second member approves it from the queue: the player\'s balance changes', async () => {
  assert.ok(bigId, 'needs the pending request of the previous test');
  await pb.locator('nav a[href="/adjustments"]').click();
  const row = pb.locator(`[data-testid=adjustment-row][data-id="${bigId}"]`);
  await row.waitFor();
  assert.equal(await row.locator(`[data-staff-id="${a.id}"]`).count(), 1, 'A shown as the requester');
  // by e-mail (the answer names it: B, finance, may not read the staff list)
  assert.equal(await row.getByTestId('adjustment-requester').innerText(), a.email);
  await row.getByTestId('adjustment-link').click();
  const detail = pb.getByTestId('adjustment-detail');
  await detail.waitFor();
  assert.match(await detail.getByTestId('adjustment-requester').innerText(), new RegExp(` by ${a.email.replace(/\./g, '\\.')}$`));
  assert.equal(await detail.getByTestId('own-request').count(), 0);
  await detail.getByTestId('approve').click();
  await pb.locator('[role=dialog]').getByRole('button', { name: 'Approve and apply' }).click();
  await pb.locator('[data-testid=adjustment-detail][data-status=approved]').waitFor();
  assert.match(await detail.getByTestId('balance-now').innerText(), /^cash 1\u202f520\.00 EUR, bonus 0\.00 EUR$/);
  assert.equal(await detail.getByTestId('approve').count(), 0, 'nothing to decide any more');
  assert.equal(await detail.getByTestId('reject').count(), 0);
  assert.equal(await detail.locator(`[data-testid=adjustment-decided] [data-staff-id="${b.id}"]`).count(), 1);
  await screenshot(pb, 'adjust-approved');
  assert.deepEqual(await balances(bigPlayer), { cash: '1520.00', bonus: '0.00' });
  const stored = await expectStatus(adminCall(server, 'GET', `/v1/admin/adjustments/${bigId}`), 200, 'get');
  assert.equal(stored.status, 'approved');
  assert.equal(stored.decided_by, b.id);
  assert.equal(stored.decided_by_email, b.email);
  assert.equal(stored.requested_by_email, a.email);
  // A's page of it: decided by B, named by e-mail
  await pa.goto(`${server.url}/adjustments/${bigId}`);
  const seen = pa.locator('[data-testid=adjustment-detail][data-status=approved]');
  await seen.waitFor();
  assert.match(await seen.getByTestId('adjustment-decided').innerText(), new RegExp(` by ${b.email.replace(/\./g, '\\.')}$`));
  // the player's page shows it
  await detail.getByTestId('adjustment-player').click();
  await pb.locator('[data-testid=wallet-EUR] [data-testid=cash]', { hasText: EUR('1\u202f520.00') }).waitFor();
  // and the queue's approved filter lists it
  await pb.goto(`${server.url}/adjustments?status=approved`);
  await pb.locator(`[data-testid=adjustment-row][data-id="${bigId}"][data-status=approved]`).waitFor();
  assert.deepEqual(pageErrors(pb), []);
});

test('rejected with a reason: shown rejected, balance unchanged; a decision taken meanwhile is the server\'s refusal', async () => {
  const p = await registerPlayer(server, {});
  await fund(server, p, '30.00');
  await openWallets(pa, p);
  const ids = [];
  for (const amount of ['2000.00', '1200.00']) {
    await adjust(pa, { balance: 'bonus', amount, reason: `bonus of ${amount}` });
    const link = pa.locator('[data-testid=adjust-result][data-outcome=pending]', { hasText: amount.replace(/^(\d)(\d{3})/, '$1\u202f$2') })
      .getByTestId('adjust-request-link');
    await link.waitFor();
    ids.push((await link.getAttribute('href')).split('/').pop());
  }
  const [stale, rejected] = ids;

  // B's page of the first is stale (its event stream held up: the page cannot learn of
  // the decision), and the admin rejects it through the API meanwhile
  await pb.route('**/v1/admin/events/stream', () => {});
  await pb.goto(`${server.url}/adjustments/${stale}`);
  await pb.locator('[data-testid=adjustment-detail][data-status=pending]').waitFor();
  await expectStatus(adminCall(server, 'POST', `/v1/admin/adjustments/${stale}/reject`, { reason: 'duplicate' }), 200);
  await pb.getByTestId('approve').click();
  const dlg = pb.locator('[role=dialog]');
  await dlg.getByRole('button', { name: 'Approve and apply' }).click();
  await dlg.getByRole('alert').waitFor();
  assert.match(await dlg.getByRole('alert').innerText(), /^ADJUSTMENT_STATE: /);
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  // closing reads it again: rejected, by the admin, for their reason
  await pb.locator('[data-testid=adjustment-detail][data-status=rejected]').waitFor();
  assert.equal(await pb.getByTestId('decision-reason').innerText(), 'duplicate');
  await pb.unroute('**/v1/admin/events/stream');

  // B rejects the second with a reason
  await pb.goto(`${server.url}/adjustments`);
  await pb.locator(`[data-testid=adjustment-row][data-id="${rejected}"] [data-testid=adjustment-link]`).click();
  await pb.locator('[data-testid=adjustment-detail][data-status=pending]').waitFor();
  await pb.getByTestId('reject').click();
  await dlg.locator('textarea[name=reason]').fill('bonus not agreed with the player');
  await dlg.getByRole('button', { name: 'Reject' }).click();
  const detail = pb.locator('[data-testid=adjustment-detail][data-status=rejected]');
  await detail.waitFor();
  assert.equal(await detail.getByTestId('decision-reason').innerText(), 'bonus not agreed with the player');
  assert.equal(await detail.getByTestId('approve').count(), 0);
  assert.match(await detail.getByTestId('balance-now').innerText(), /^cash 30\.00 EUR, bonus 0\.00 EUR$/);
  await screenshot(pb, 'adjust-rejected');
  assert.deepEqual(await balances(p), { cash: '30.00', bonus: '0.00' });
  const r = await expectStatus(adminCall(server, 'GET', `/v1/admin/adjustments/${rejected}`), 200, 'get');
  assert.equal(r.status, 'rejected');
  assert.equal(r.decided_by, b.id);

  // the queue: gone from pending, listed as rejected
  await pb.goto(`${server.url}/adjustments`);
  await pb.getByTestId('adjustments').waitFor();
  await pb.locator('.pager').waitFor();
  assert.equal(await pb.locator(`[data-testid=adjustment-row][data-id="${rejected}"]`).count(), 0);
  await pb.locator('select[name=status]').selectOption('rejected');
  await pb.locator(`[data-testid=adjustment-row][data-id="${rejected}"][data-status=rejected]`).waitFor();
  await pb.locator(`[data-testid=adjustment-row][data-id="${stale}"][data-status=rejected]`).waitFor();
  assert.match(new URL(pb.url()).search, /status=rejected/);
  // the player's page agrees
  await openWallets(pb, p);
  assert.equal(await pb.getByTestId('wallet-EUR').getByTestId('bonus').textContent(), EUR('0.00'));
  assert.deepEqual(pb.errors.filter((e) => !isResourceError(e)), []);
});

test('a request pending past the brand\'s expiry reads expired and offers no decision', async () => {
  const p = await registerPlayer(server, {});
  const req = await expectStatus(adminCall(server, 'POST', `/v1/admin/players/${p.id}/adjustments`, {
    balance: 'cash', direction: 'credit', amount: '1000.00', reason: 'old request', idempotency_key: `old-${p.id}`,
  }), 202, 'request');
  // 73 hours old: past the default 72
  const aged = spawnSync('sqlite3', ['-cmd', '.timeout 10000', server.dbPath,
    `UPDATE adjustment_request SET requested_at = requested_at - ${73 * 3600 * 1e6} WHERE public_id = '${req.id}'`],
  { encoding: 'utf8' });
  assert.equal(aged.status, 0, aged.stderr);
  await pb.goto(`${server.url}/adjustments/${req.id}`);
  const detail = pb.locator('[data-testid=adjustment-detail][data-status=expired]');
  await detail.waitFor();
  assert.match(await detail.getByTestId('expired-note').innerText(), /can no longer be approved or rejected/);
  assert.equal(await detail.locator('[data-testid=approve], [data-testid=reject], [data-testid=own-request]').count(), 0);
  await pb.goto(`${server.url}/adjustments?status=expired`);
  await pb.locator(`[data-testid=adjustment-row][data-id="${req.id}"][data-status=expired]`).waitFor();
  await pb.goto(`${server.url}/adjustments?status=pending`);
  await pb.locator('.pager').waitFor();
  assert.equal(await pb.locator(`[data-testid=adjustment-row][data-id="${req.id}"]`).count(), 0);
  assert.deepEqual(await balances(p), { cash: '0.00', bonus: '0.00' }, 'nothing moved');
});

test('live: the queue announces new requests and shows decisions made elsewhere in place; a request\'s page too', async () => {
  const p = await registerPlayer(server, {});
  await fund(server, p, '10.00');
  await pa.goto(`${server.url}/adjustments`);
  await pa.locator('[data-testid=live][data-status=live]').waitFor();
  await pa.locator('.pager').waitFor();
  // requests made elsewhere (the admin, through the API) are announced, not inserted
  const make = async (amount) => expectStatus(adminCall(server, 'POST', `/v1/admin/players/${p.id}/adjustments`, {
    balance: 'cash', direction: 'credit', amount, reason: `live ${amount}`, idempotency_key: `live-${amount}-${p.id}`,
  }), 202, 'request');
  const r1 = await make('1500.00');
  const r2 = await make('1600.00');
  await pa.locator('[data-testid=show-new]', { hasText: '2 new adjustment requests: show' }).waitFor({ timeout: 15_000 });
  assert.equal(await pa.locator(`[data-testid=adjustment-row][data-id="${r1.id}"]`).count(), 0, 'not inserted');
  await pa.getByTestId('show-new').click();
  await pa.locator(`[data-testid=adjustment-row][data-id="${r1.id}"][data-status=pending]`).waitFor();
  await pa.locator(`[data-testid=adjustment-row][data-id="${r2.id}"][data-status=pending]`).waitFor();
  assert.equal(await pa.getByTestId('show-new').count(), 0, 'the announcement goes once shown');

  // B's page of r2 follows a rejection made elsewhere; A's queue shows it in its row
  await pb.goto(`${server.url}/adjustments/${r2.id}`);
  await pb.locator('[data-testid=adjustment-detail][data-status=pending] [data-testid=live][data-status=live]').waitFor();
  await expectStatus(adminCall(server, 'POST', `/v1/admin/adjustments/${r2.id}/reject`, { reason: 'not today' }), 200);
  await pb.locator('[data-testid=adjustment-detail][data-status=rejected]').waitFor({ timeout: 15_000 });
  assert.equal(await pb.getByTestId('decision-reason').innerText(), 'not today');
  assert.equal(await pb.getByTestId('approve').count(), 0);
  await pa.locator(`[data-testid=adjustment-row][data-id="${r2.id}"][data-status=rejected]`).waitFor({ timeout: 15_000 });

  // B approves r1 on its page: A's queue shows it approved in place, without a reload
  await pb.goto(`${server.url}/adjustments/${r1.id}`);
  await pb.getByTestId('approve').click();
  await pb.locator('[role=dialog]').getByRole('button', { name: 'Approve and apply' }).click();
  await pb.locator('[data-testid=adjustment-detail][data-status=approved]').waitFor();
  await pa.locator(`[data-testid=adjustment-row][data-id="${r1.id}"][data-status=approved]`).waitFor({ timeout: 15_000 });
  assert.match(await pa.locator(`[data-testid=adjustment-row][data-id="${r1.id}"]`).innerText(), new RegExp(b.email));
  assert.deepEqual(await balances(p), { cash: '1510.00', bonus: '0.00' });
  assert.deepEqual(pa.errors.filter((e) => !isResourceError(e)), []);
});

test('support sees neither the form nor the Adjustments page', async () => {
  const s = await createStaff(server, { role: 'support', brands: ['demo'] });
  const p = await registerPlayer(server, {});
  await fund(server, p, '5.00');
  const page = await newPage(browser);
  await login(page, server, s);
  await openWallets(page, p);
  assert.equal(await page.getByTestId('wallet-EUR').getByTestId('cash').textContent(), EUR('5.00'));
  assert.equal(await page.getByTestId('adjust-form').count(), 0, 'no Adjust balance form');
  assert.equal(await page.locator('nav a[href="/adjustments"]').count(), 0, 'no Adjustments in the navigation');
  await page.goto(`${server.url}/adjustments`);
  await page.getByRole('heading', { name: 'Not here' }).waitFor();
  assert.equal(await page.getByTestId('adjustments').count(), 0);
  await page.goto(`${server.url}/adjustments/${bigId ?? '0190aaaa-0000-7000-8000-0000000000aa'}`);
  await page.getByRole('heading', { name: 'Not here' }).waitFor();
  // the finance member does see both (the same player)
  await openWallets(pa, p);
  await pa.getByTestId('adjust-form').waitFor();
  assert.equal(await pa.locator('nav a[href="/adjustments"]').count(), 1);
  await page.close();
});
