/*
 * unclaimed.test.mjs — settling a brand's unclaimed funds with 4-eyes in a real
 * browser (headless Chromium) against a real `pitboss serve` (tests/web/harness.mjs).
 * The unclaimed funds arise as they do in production (harness.mjs erasedLateWin): a
 * player's round left open, idle 31 days, she is erased, the provider's late win lands
 * on the brand's unclaimed_funds account.
 *
 *   - finance member A requests a settlement on the Unclaimed funds page (remitted,
 *     with a reference): it shows as pending, nothing moved, and A is offered no
 *     Approve on their own request; a request beyond the balance shows the server's
 *     INSUFFICIENT_FUNDS;
 *   - member B sees A's e-mail as the requester (finance cannot read the staff list:
 *     the answer names it) and approves it: the balance drops and the entry shows the
 *     destination and the reference;
 *   - A requests another, B rejects it with a reason: nothing moves (the API agrees).
 *   - live: A's page, open all along, shows B's approval and rejection in the
 *     requests' rows (status and decider, no buttons) and the new balance without a
 *     reload; B's page announces A's second request ("1 new settlement request: show")
 *     rather than inserting it.
 * Screenshots: unclaimed-settle-pending, unclaimed-settle-approved.
 * Run: node --test --test-reporter=tap tests/web/unclaimed.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  adminCall, createStaff, erasedLateWin, expectStatus, isResourceError, launchBrowser, login, newPage, screenshot,
  startServer,
} from './harness.mjs';

let server, browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (server) {
    await server.finish(); // exit 0, ledger verify + audit verify on the database
  }
});

const balanceCell = (page) => page.locator('[data-testid=unclaimed-balance][data-brand=demo][data-currency=EUR]');
const pendingRow = (page, id) => page.locator(`[data-testid=settlement-row][data-id="${id}"]`);

async function settlements(status) {
  return (await expectStatus(adminCall(server, 'GET', `/v1/admin/unclaimed-funds/settlements?status=${status}`), 200)).items;
}

/** Fills and sends the Settle form; the request the API then holds (or null when refused). */
async function requestInUi(page, { amount, destination, reference, reason }) {
  const form = page.locator('[data-testid=settle-form]');
  await form.locator('input[name=amount]').fill(amount);
  await form.locator('select[name=destination]').selectOption(destination);
  await form.locator('input[name=reference]').fill(reference ?? '');
  await form.locator('input[name=reason]').fill(reason);
  await form.getByRole('button', { name: 'Request settlement' }).click();
}

test('4-eyes settlement: A requests, A cannot approve, B approves, the entry shows destination and reference; a reject', async () => {
  await erasedLateWin(server, { win: '9.00' });
  const a = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const b = await createStaff(server, { role: 'finance', brands: ['demo'] });

  const pa = await newPage(browser);
  await login(pa, server, a);
  await pa.locator('nav a[href="/unclaimed-funds"]').click();
  await balanceCell(pa).waitFor();
  assert.match(await balanceCell(pa).innerText(), /9\.00/);

  // beyond the balance: the server's message, nothing requested
  await requestInUi(pa, { amount: '100.00', destination: 'remitted', reference: 'ESCH-WEB-0', reason: 'too much' });
  await pa.locator('[data-testid=settle-form] [role=alert]').waitFor();
  assert.match(await pa.locator('[data-testid=settle-form] [role=alert]').innerText(), /INSUFFICIENT_FUNDS/);
  assert.deepEqual(await settlements('pending'), []);

  // A requests 5.00 remitted: pending, nothing moved, no Approve for A
  await requestInUi(pa, { amount: '5.00', destination: 'remitted', reference: 'ESCH-WEB-1', reason: 'escheatment FY2026' });
  await pa.locator('[data-testid=settle-requested]').waitFor();
  const [req] = await settlements('pending');
  assert.equal(req.requested_by, a.id);
  assert.equal(req.requested_by_email, a.email);
  assert.equal(req.decided_by_email, null);
  assert.equal(req.reference, 'ESCH-WEB-1');
  const rowA = pendingRow(pa, req.id);
  await rowA.waitFor();
  assert.equal(await rowA.getAttribute('data-mine'), 'yes');
  assert.equal(await rowA.locator('[data-testid=settle-approve]').count(), 0, 'no Approve on one’s own request');
  await rowA.locator('[data-testid=cannot-approve]').waitFor();
  assert.match(await balanceCell(pa).innerText(), /9\.00/);
  await screenshot(pa, 'unclaimed-settle-pending');

  // B approves: the balance drops, the entry shows destination and reference
  const pb = await newPage(browser);
  await login(pb, server, b);
  await pb.locator('nav a[href="/unclaimed-funds"]').click();
  const rowB = pendingRow(pb, req.id);
  await rowB.waitFor();
  assert.equal(await rowB.getAttribute('data-mine'), 'no');
  // B (finance: may not read the staff list) sees who asked, by e-mail
  assert.equal(await rowB.getByTestId('settlement-requester').innerText(), a.email);
  await rowB.locator('[data-testid=settle-approve]').click();
  await pb.locator('[role=dialog]').getByRole('button', { name: 'Approve and settle' }).click();
  await rowB.waitFor({ state: 'detached' });
  await pb.waitForFunction(() => /4\.00/.test(document.querySelector('[data-testid=unclaimed-balance][data-brand=demo][data-currency=EUR]')?.textContent ?? ''));
  const got = await expectStatus(adminCall(server, 'GET', `/v1/admin/unclaimed-funds/settlements/${req.id}`), 200);
  assert.equal(got.status, 'approved');
  assert.equal(got.decided_by, b.id);
  assert.equal(got.decided_by_email, b.email);
  const entry = pb.locator(`[data-testid=unclaimed-entry][data-id="${got.transfer_id}"]`);
  await entry.waitFor();
  assert.equal(await entry.getAttribute('data-direction'), 'debit');
  assert.equal(await entry.locator('[data-testid=unclaimed-destination]').innerText(), 'remitted');
  assert.equal(await entry.locator('[data-testid=unclaimed-reference]').innerText(), 'ESCH-WEB-1');
  await screenshot(pb, 'unclaimed-settle-approved');
  // A's page, open all along, follows the stream: the request keeps its row, approved by
  // B, with no buttons; the balance there drops too, without a reload
  await pa.locator(`[data-testid=settlement-row][data-id="${req.id}"][data-status=approved]`).waitFor({ timeout: 15_000 });
  assert.equal(await rowA.getByTestId('settlement-status').innerText(), `approved by ${b.email}`);
  assert.equal(await rowA.locator('[data-testid=settle-reject]').count(), 0);
  await pa.waitForFunction(() => /4\.00/.test(document.querySelector('[data-testid=unclaimed-balance][data-brand=demo][data-currency=EUR]')?.textContent ?? ''));

  // A requests 1.00 for the house; B rejects it with a reason: nothing moves
  await pa.reload();
  await requestInUi(pa, { amount: '1.00', destination: 'house', reason: 'recognise' });
  await pa.locator('[data-testid=settle-requested]').waitFor();
  const [second] = await settlements('pending');
  assert.equal(second.destination, 'house');
  // B's page, open all along, announces it (not inserted until asked)
  await pb.locator('[data-testid=settlements-live][data-status=live]').waitFor();
  const announce = pb.locator('[data-testid=show-new-settlements]', { hasText: '1 new settlement request: show' });
  await announce.waitFor({ timeout: 15_000 });
  assert.equal(await pendingRow(pb, second.id).count(), 0, 'not inserted');
  await announce.click();
  const rowR = pendingRow(pb, second.id);
  await rowR.waitFor();
  assert.equal(await announce.count(), 0, 'the announcement goes once shown');
  await rowR.locator('[data-testid=settle-reject]').click();
  await pb.locator('[role=dialog] textarea[name=reason]').fill('not yet due');
  await pb.locator('[role=dialog]').getByRole('button', { name: 'Reject' }).click();
  await rowR.waitFor({ state: 'detached' });
  const rejected = await expectStatus(adminCall(server, 'GET', `/v1/admin/unclaimed-funds/settlements/${second.id}`), 200);
  assert.equal(rejected.status, 'rejected');
  assert.equal(rejected.decision_reason, 'not yet due');
  assert.equal(rejected.transfer_id, null);
  assert.match(await balanceCell(pb).innerText(), /4\.00/);
  // and A's page shows the rejection in the request's row
  await pa.locator(`[data-testid=settlement-row][data-id="${second.id}"][data-status=rejected]`).waitFor({ timeout: 15_000 });
  assert.deepEqual(pa.errors.filter((e) => !isResourceError(e)), []);
  await pa.close();
  await pb.close();
});
