/*
 * money.test.mjs — the withdrawals, games and staff pages in a real browser
 * (headless Chromium) against a real `pitboss serve` (tests/web/harness.mjs):
 *
 *   - 4-eyes: a withdrawal above the brand's threshold needs two finance
 *     members; the first approval leaves it pending and shows who; the first
 *     approver is not offered approve again (and the server would refuse);
 *     the second approval sends it to the sandbox PSP and "paid" shows; below
 *     the threshold one approval pays; a rejection keeps its reason; the page
 *     states the brand's thresholds as amounts (1 000.00 EUR, not 100000);
 *   - the "N new withdrawal requests" announcement counts distinct withdrawals: one
 *     requested while the page is open and then back in the queue (its approver
 *     disabled: withdrawal.approval_lapsed) is one new request, not two;
 *   - a payout the PSP keeps refusing is resolved from the detail page (the
 *     PSP asked: never taken → failed, the money back; pending → the refusal
 *     shown, nothing changed);
 *   - a payout the PSP cannot report on (sandbox cents 37: processing for ever)
 *     is settled by hand: member A states "failed" with reason and evidence
 *     (nothing moves, the statement shows who and what), A's own confirmation
 *     shows FOUR_EYES_VIOLATION, member B confirms it: failed, the money back;
 *   - a support member sees no Withdrawals, /withdrawals is not found for them,
 *     and the approve call made with their own token from the page is 403;
 *   - staff: an admin (made for the case: a browser login as the bootstrap admin
 *     would wait for a TOTP step its API calls have not used) creates a finance
 *     member, the one-time password is shown once; the member completes the
 *     first login and logs in; role change; TOTP reset with a reason: a new
 *     one-time password shown once, the old password refused, the member
 *     changes it and enrols again;
 *   - unclaimed funds: a late win for an erased player shows on the finance
 *     member's Unclaimed funds page (balance, the entry by player id, no
 *     e-mail); support has no such page;
 *   - games: game_ops changes an in-house RTP within range (audited), out of
 *     range shows the server's message, a provider game switched off for the
 *     brand shows disabled (and the API agrees).
 * Screenshots: money-unclaimed, money-withdrawals, money-withdrawal-detail, money-manual-resolution,
 *   money-manual-resolution-four-eyes, money-games, money-staff.
 * Run: node --test --test-reporter=tap tests/web/money.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  adminCall, createStaff, deposit, erasedLateWin, expectStatus, launchBrowser, login, newPage, nextCode, playerCall,
  registerPlayer, request, requestWithdrawal, screenshot, staffCall, startServer, totp,
} from './harness.mjs';

let server, browser;

before(async () => {
  // the sandbox's stuck-payout knobs (cents 19: never taken, 29: pending) for the
  // resolve test, 37 (status unknown for ever) for the settle-by-hand test; the
  // other tests' amounts end in none of 19, 23, 29, 31, 37
  server = await startServer({ env: { PITBOSS_SANDBOX_STUCK_PAYOUTS: '1' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (server) {
    await server.finish(); // exit 0, ledger verify + audit verify on the database
  }
});

const row = (page, id) => page.locator(`[data-testid=withdrawal-row][data-id="${id}"]`);
const dialog = (page) => page.locator('[role=dialog]');

async function getW(id) {
  return expectStatus(adminCall(server, 'GET', `/v1/admin/withdrawals/${id}`), 200, 'get withdrawal');
}

/** Polls until the withdrawal's status is one of want (the sandbox PSP pays after 300 ms). */
async function waitStatus(id, want, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const w = await getW(id);
    if (want.includes(w.status) || Date.now() > until) return w;
    await new Promise((r) => setTimeout(r, 200));
  }
}

let player, paidBig;
async function richPlayer() {
  if (!player) {
    player = await registerPlayer(server, { brand: 'demo' });
    await deposit(server, player, '5000.00');
  }
  return player;
}

test('4-eyes: two finance members approve a withdrawal above the threshold; one suffices below it', async () => {
  const a = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const b = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const p = await richPlayer();
  const big = await requestWithdrawal(server, p, '1500.00'); // demo's EUR threshold 1000.00 EUR
  const small = await requestWithdrawal(server, p, '20.00');
  assert.equal(big.approvals_required, 2);
  paidBig = big.id;
  assert.equal(small.approvals_required, 1);

  const pa = await newPage(browser);
  // A's access token as the page sends it (for the direct API call below: a second login
  // of A through the API would wait for the next 30-second TOTP step)
  let aBearer = null;
  pa.on('request', (rq) => {
    const h = rq.headers().authorization;
    if (h?.startsWith('Bearer ')) aBearer = h.slice(7);
  });
  await login(pa, server, a);
  await pa.locator('nav a[href="/withdrawals"]').click();
  const rb = row(pa, big.id);
  await rb.waitFor();
  assert.equal(await rb.getAttribute('data-status'), 'pending_approval');
  assert.match(await rb.locator('[data-testid=approvals]').innerText(), /0 of 2 \(4-eyes\)/);
  assert.match(await rb.innerText(), /1\s?500\.00 EUR/);
  assert.match(await row(pa, small.id).locator('[data-testid=approvals]').innerText(), /0 of 1/);
  // the brand's thresholds (100000 minor units each) as amounts, in the UI's money format
  const threshold = pa.locator('[data-testid=threshold][data-brand=demo]');
  assert.equal(await threshold.innerText(), 'demo: 1\u202f000.00 EUR, 1\u202f000.00 USD');
  assert.equal(await threshold.locator('[data-testid=threshold-amount][data-currency=EUR]').innerText(), '1\u202f000.00 EUR');
  await screenshot(pa, 'money-withdrawals');

  // A approves first: still pending, A shown as the first approver, not offered again
  await rb.locator('[data-testid=approve]').click();
  await dialog(pa).getByRole('button', { name: 'Approve (first of two)' }).click();
  await rb.locator('[data-testid=approval]').waitFor();
  assert.equal(await rb.getAttribute('data-status'), 'pending_approval');
  assert.match(await rb.locator('[data-testid=approvals]').innerText(), /1 of 2/);
  assert.equal(await rb.locator(`[data-staff-id="${a.id}"]`).count(), 1);
  assert.match(await rb.locator('[data-testid=needs-second]').innerText(), /second approval/);
  assert.equal(await rb.locator('[data-testid=approve]').count(), 0, 'A is not offered approve again');
  assert.match(await rb.locator('[data-testid=cannot-approve]').innerText(), /approved it already/);
  let w = await getW(big.id);
  assert.equal(w.status, 'pending_approval');
  assert.deepEqual(w.approvals.map((x) => x.staff_id), [a.id]);
  // after a reload too (the server's record, not the page's memory)
  await pa.reload();
  await row(pa, big.id).locator(`[data-staff-id="${a.id}"]`).waitFor();
  assert.equal(await row(pa, big.id).locator('[data-testid=approve]').count(), 0);
  // the server refuses A's second approval anyway (with A's own session, the page's token)
  assert.ok(aBearer, 'the page sent no Authorization header');
  const again = await request(server, {
    method: 'POST', path: `/v1/admin/withdrawals/${big.id}/approve`, body: {}, ip: a.ip, token: aBearer,
  });
  assert.equal(again.status, 403, again.text);
  assert.equal(again.json.error.code, 'FOUR_EYES_VIOLATION');

  // B approves on the detail page: payout, then paid
  const pb = await newPage(browser);
  await login(pb, server, b);
  await pb.goto(`${server.url}/withdrawals/${big.id}`);
  const detail = pb.locator('[data-testid=withdrawal-detail]');
  await detail.waitFor();
  assert.equal(await detail.locator(`[data-staff-id="${a.id}"]`).count() >= 1, true, 'A shown as first approver');
  // by e-mail, though B (finance) may not read the staff list
  assert.equal(
    await detail.locator(`[data-testid=approvals] [data-staff-id="${a.id}"]`).innerText(),
    `${a.email} · finance`,
  );
  // the player gate as it stands now, beside the checks recorded at the request
  assert.equal(await detail.getByTestId('current-checks').innerText(), 'player_status: pass');
  await detail.locator('[data-testid=approve]').click();
  await dialog(pb).getByRole('button', { name: 'Approve and pay' }).click();
  await pb.locator('[data-testid=withdrawal-detail][data-status=paid]').waitFor({ timeout: 20_000 });
  assert.match(await detail.locator('[data-testid=approvals]').innerText(), /2 of 2/);
  w = await getW(big.id);
  assert.equal(w.status, 'paid');
  assert.deepEqual(w.approvals.map((x) => x.staff_id), [a.id, b.id]);
  assert.deepEqual(w.approvals.map((x) => x.email), [a.email, b.email]);
  assert.ok(w.psp_reference);
  await screenshot(pb, 'money-withdrawal-detail');
  // A's queue, open all along, follows the stream: paid shows there without a reload
  await pa.locator(`[data-testid=withdrawal-row][data-id="${big.id}"][data-status=paid]`).waitFor({ timeout: 15_000 });
  await pa.locator(`[data-testid=withdrawal-row][data-id="${big.id}"] [data-staff-id="${b.id}"]`).waitFor();
  assert.equal(
    await row(pa, big.id).locator(`[data-testid=approvals] [data-staff-id="${b.id}"]`).innerText(),
    `${b.email} · finance`,
  );
  assert.doesNotMatch(await row(pa, big.id).locator('[data-testid=approvals]').innerText(), /staff [0-9a-z]/i);
  // a new request is announced live and shown on demand
  await pa.locator('[data-testid=live][data-status=live]').waitFor();
  const fresh = await requestWithdrawal(server, p, '25.00');
  await pa.locator('[data-testid=show-new]', { hasText: '1 new withdrawal request' }).click();
  await row(pa, fresh.id).waitFor();
  assert.equal(await pa.getByTestId('show-new').count(), 0, 'the announcement goes once shown');
  assert.equal(await row(pa, fresh.id).getAttribute('data-status'), 'pending_approval');

  // below the threshold: A alone pays it
  await pa.goto(`${server.url}/withdrawals`);
  const rs = row(pa, small.id);
  await rs.locator('[data-testid=approve]').click();
  await dialog(pa).getByRole('button', { name: 'Approve and pay' }).click();
  await pa.locator(`[data-testid=withdrawal-row][data-id="${small.id}"][data-status=paid]`).waitFor({ timeout: 20_000 });
  assert.equal((await waitStatus(small.id, ['paid'])).status, 'paid');

  // a rejection needs a reason and keeps it
  const third = await requestWithdrawal(server, p, '30.00');
  await pb.goto(`${server.url}/withdrawals?status=pending_approval`);
  const rt = row(pb, third.id);
  // keyboard: the reason field has the focus when the dialog opens; Escape closes it
  await rt.locator('[data-testid=reject]').click();
  await dialog(pb).locator('textarea[name=reason]').waitFor();
  assert.equal(await pb.evaluate(() => document.activeElement?.getAttribute('name')), 'reason');
  assert.equal(await pb.evaluate(() => document.activeElement?.tagName), 'TEXTAREA');
  await pb.keyboard.type('typed straight away');
  assert.equal(await dialog(pb).locator('textarea[name=reason]').inputValue(), 'typed straight away');
  await pb.keyboard.press('Escape');
  await dialog(pb).waitFor({ state: 'detached' });
  assert.equal((await getW(third.id)).status, 'pending_approval', 'Escape rejects nothing');
  await rt.locator('[data-testid=reject]').click();
  const dlg = dialog(pb);
  assert.equal(await dlg.getByRole('button', { name: 'Reject' }).isDisabled(), true, 'no reason, no rejection');
  await dlg.locator('textarea[name=reason]').fill('Name on the account does not match');
  await dlg.getByRole('button', { name: 'Reject' }).click();
  await pb.locator(`[data-testid=withdrawal-row][data-id="${third.id}"][data-status=rejected]`).waitFor();
  const rj = await getW(third.id);
  assert.equal(rj.status, 'rejected');
  assert.equal(rj.reason, 'Name on the account does not match');
  // filters: status paid lists the two paid ones, not the rejected one
  await pb.goto(`${server.url}/withdrawals?status=paid`);
  await row(pb, big.id).waitFor();
  assert.equal(await row(pb, small.id).count(), 1);
  assert.equal(await row(pb, third.id).count(), 0);
  assert.deepEqual(pa.errors.concat(pb.errors), []);
  await pa.close();
  await pb.close();
});

test('the "N new" announcement counts a withdrawal once when its approval lapses after its request', async () => {
  const f = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const x = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const p = await registerPlayer(server, { brand: 'demo' });
  await deposit(server, p, '3000.00');
  // shown when the page opens; its rejection below marks when the page has seen the lapse
  const marker = await requestWithdrawal(server, p, '12.00');
  const page = await newPage(browser);
  await login(page, server, f);
  await page.locator('nav a[href="/withdrawals"]').click();
  await row(page, marker.id).waitFor();
  await page.locator('[data-testid=live][data-status=live]').waitFor();
  // requested while the page is open: announced, not inserted
  const w = await requestWithdrawal(server, p, '1200.00'); // above demo's 1 000.00 EUR: two approvals
  assert.equal(w.approvals_required, 2);
  const fresh = page.getByTestId('show-new');
  await fresh.getByText('1 new withdrawal request: show').waitFor({ timeout: 15_000 });
  // X's approval (the first of two), then X disabled: the approval lapses at once and
  // withdrawal.approval_lapsed announces the withdrawal back in the queue — the same one
  await expectStatus(staffCall(server, x, 'POST', `/v1/admin/withdrawals/${w.id}/approve`, {}), 200, 'approve');
  await expectStatus(adminCall(server, 'PATCH', `/v1/admin/staff/${x.id}`, { active: false, reason: 'left the team' }),
    200, 'disable');
  const lapsed = await getW(w.id);
  assert.deepEqual(lapsed.approvals.map((a) => [a.staff_id, a.lapsed_reason]), [[x.id, 'staff_disabled']]);
  // the stream is in order: once the marker's rejection shows, the lapse was seen before it
  // (as the admin: an API login of F now would wait for a TOTP step the browser's has not used)
  await expectStatus(adminCall(server, 'POST', `/v1/admin/withdrawals/${marker.id}/reject`, { reason: 'marker' }),
    200, 'reject');
  await page.locator(`[data-testid=withdrawal-row][data-id="${marker.id}"][data-status=rejected]`)
    .waitFor({ timeout: 15_000 });
  assert.equal(await fresh.innerText(), '1 new withdrawal request: show');
  await fresh.click();
  await row(page, w.id).waitFor();
  assert.equal(await page.getByTestId('show-new').count(), 0, 'the announcement goes once shown');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a stuck payout is resolved with the PSP from the detail page', async () => {
  const f = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const p = await richPlayer();
  const never = await requestWithdrawal(server, p, '40.19'); // the sandbox never takes it
  const pending = await requestWithdrawal(server, p, '40.29'); // the sandbox says pending
  for (const w of [never, pending]) {
    const r = await expectStatus(adminCall(server, 'POST', `/v1/admin/withdrawals/${w.id}/approve`, {}), 200,
      'approve');
    assert.equal(r.status, 'approved');
  }
  const page = await newPage(browser);
  await login(page, server, f);
  // the PSP says pending: the dialog shows the server's refusal, nothing changes
  await page.goto(`${server.url}/withdrawals/${pending.id}`);
  const detail = page.locator('[data-testid=withdrawal-detail][data-status=approved]');
  await detail.waitFor();
  await detail.locator('[data-testid=resolve]').click();
  await dialog(page).locator('textarea[name=reason]').fill('no webhook for a day');
  await dialog(page).getByRole('button', { name: 'Ask the PSP and resolve' }).click();
  const refusal = dialog(page).locator('[role=alert]');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /^PAYOUT_PENDING: /);
  assert.equal((await getW(pending.id)).status, 'approved');
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'detached' });
  // never taken: resolved as failed, the hold released, the reason kept
  await page.goto(`${server.url}/withdrawals/${never.id}`);
  await page.locator('[data-testid=withdrawal-detail][data-status=approved] [data-testid=resolve]').click();
  await dialog(page).locator('textarea[name=reason]').fill('the PSP never took it');
  await dialog(page).getByRole('button', { name: 'Ask the PSP and resolve' }).click();
  await page.locator('[data-testid=withdrawal-detail][data-status=failed]').waitFor();
  const w = await getW(never.id);
  assert.equal(w.status, 'failed');
  assert.equal(w.reason, 'the PSP never took it');
  assert.equal(await page.locator('[data-testid=resolve]').count(), 0, 'nothing to resolve once failed');
  // the one console error: the refused (409) resolve of the pending payout
  assert.deepEqual(page.errors.filter((e) => !/status of 409/.test(e)), []);
  assert.equal(page.errors.length, 1);
  await page.close();
});

test('a stuck payout the PSP cannot report on is settled by hand by two finance members (4-eyes)', async () => {
  const a = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const b = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const p = await registerPlayer(server, { brand: 'demo' });
  await deposit(server, p, '100.00');
  const wallet = () => expectStatus(playerCall(server, p, 'GET', '/v1/player/wallet'), 200, 'wallet');
  const stuck = await requestWithdrawal(server, p, '40.37'); // taken, never confirmed, status unknown
  await expectStatus(adminCall(server, 'POST', `/v1/admin/withdrawals/${stuck.id}/approve`, {}), 200, 'approve');
  assert.equal((await waitStatus(stuck.id, ['processing'])).status, 'processing');
  const held = await wallet();
  assert.equal(held.held, '40.37');
  assert.equal(held.withdrawable, '59.63');

  // A states "failed" with a reason and evidence: nothing moves, the statement shows who and what
  const pa = await newPage(browser);
  await login(pa, server, a);
  await pa.goto(`${server.url}/withdrawals/${stuck.id}`);
  const detailA = pa.locator('[data-testid=withdrawal-detail][data-status=processing]');
  await detailA.waitFor();
  assert.equal(await pa.locator('[data-testid=manual-resolution]').count(), 0, 'no statement waits yet');
  await detailA.locator('[data-testid=settle]').click();
  const settle = pa.locator('[data-testid=settle-dialog]');
  const stateBtn = settle.getByRole('button', { name: 'State the outcome' });
  assert.equal(await stateBtn.isDisabled(), true, 'outcome, reason and evidence are needed');
  await settle.locator('input[name=outcome][value=failed]').check();
  await settle.locator('textarea[name=reason]').fill('the PSP closed the account; the bank never debited');
  await settle.locator('input[name=evidence]').fill('bank statement 2024-05 line 88');
  await stateBtn.click();
  await settle.waitFor({ state: 'detached' });
  const boxA = pa.locator('[data-testid=manual-resolution][data-outcome=failed]');
  await boxA.waitFor();
  assert.match(await boxA.locator('[data-testid=manual-stated-by]').innerText(), new RegExp(`you \\(${a.email}\\) · finance`));
  assert.equal(await boxA.locator('[data-testid=manual-evidence]').innerText(), 'bank statement 2024-05 line 88');
  assert.equal(await boxA.locator('[data-testid=manual-withdraw]').count(), 1, 'the stating member may withdraw it');
  assert.equal(await pa.locator('[data-testid=settle]').count(), 0, 'no second statement while one waits');
  // finance reads no audit log: the page's own history names the statement
  assert.match(await pa.locator('[data-testid=history-manual]').innerText(), /stated failed by you/);
  let w = await getW(stuck.id);
  assert.equal(w.status, 'processing');
  // the API shows the stated outcome only to its author: the admin reading here sees null
  assert.equal(w.manual_resolution.outcome, null);
  assert.equal(w.manual_resolution.stated_by.staff_id, a.id);
  assert.equal((await wallet()).held, '40.37', 'a statement moves nothing');
  await screenshot(pa, 'money-manual-resolution');

  // A's own confirmation: the server's four-eyes refusal is shown, nothing changes
  await boxA.locator('[data-testid=manual-confirm]').click();
  await dialog(pa).locator('input[name=outcome][value=failed]').check();
  await dialog(pa).locator('textarea[name=reason]').fill('confirming my own');
  await dialog(pa).getByRole('button', { name: 'Confirm failed: release the hold' }).click();
  const refusal = dialog(pa).locator('[role=alert]');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /^FOUR_EYES_VIOLATION: /);
  await screenshot(pa, 'money-manual-resolution-four-eyes');
  await pa.keyboard.press('Escape');
  await dialog(pa).waitFor({ state: 'detached' });
  w = await getW(stuck.id);
  assert.equal(w.status, 'processing');
  assert.equal(w.manual_resolution.stated_by.staff_id, a.id);

  // B sees A's statement (who, when, the reason and evidence: not the outcome, nor theirs
  // to withdraw) and must find the outcome themselves: nothing is picked for them
  const pb = await newPage(browser);
  await login(pb, server, b);
  await pb.goto(`${server.url}/withdrawals/${stuck.id}`);
  const boxB = pb.locator('[data-testid=manual-resolution]');
  await boxB.waitFor();
  assert.match(await boxB.locator('[data-testid=manual-stated-by]').innerText(), new RegExp(`${a.email} · finance`));
  assert.equal(await boxB.locator('[data-testid=manual-withdraw]').count(), 0, 'only the stating member withdraws');
  assert.equal(await boxB.getAttribute('data-outcome'), null, 'the stated outcome is not shown to the confirmer');
  assert.equal(await boxB.locator('[data-testid=manual-outcome]').count(), 0);
  assert.equal(await boxB.locator('[data-testid=manual-outcome-hidden]').count(), 1);
  assert.doesNotMatch(await pb.locator('[data-testid=history]').innerText(), /stated failed/);
  await boxB.locator('[data-testid=manual-confirm]').click();
  const confirmB = pb.locator('[data-testid=confirm-manual-dialog]');
  await confirmB.waitFor();
  assert.equal(await confirmB.locator('input[name=outcome]:checked').count(), 0, 'no outcome pre-filled');
  await confirmB.locator('textarea[name=reason]').fill('the PSP dashboard shows it paid');
  assert.equal(await confirmB.getByRole('button', { name: 'Confirm the outcome' }).isDisabled(), true,
    'the confirmer must pick an outcome');
  // B finds "paid": the server's 409 MANUAL_RESOLUTION_CONFLICT is shown and explained, nothing moves
  await confirmB.locator('input[name=outcome][value=paid]').check();
  await confirmB.getByRole('button', { name: 'Confirm paid: post the hold' }).click();
  await confirmB.locator('[data-testid=manual-conflict]').waitFor();
  assert.match(await confirmB.locator('[role=alert]').innerText(), /^MANUAL_RESOLUTION_CONFLICT: /);
  assert.match(await confirmB.locator('[data-testid=manual-conflict]').innerText(),
    /You found the payout paid, but the member who stated it found otherwise\. Nothing moved/);
  w = await getW(stuck.id);
  assert.equal(w.status, 'processing');
  assert.equal(w.manual_resolution.stated_by.staff_id, a.id, 'the statement stays');
  assert.equal(w.manual_resolution.outcome, null);
  assert.equal((await wallet()).held, '40.37', 'a refused confirmation moves nothing');
  // B checks again and finds "failed": confirmed, the money back
  await confirmB.locator('input[name=outcome][value=failed]').check();
  await confirmB.locator('textarea[name=reason]').fill('checked the bank statement: never debited');
  await confirmB.getByRole('button', { name: 'Confirm failed: release the hold' }).click();
  await pb.locator('[data-testid=withdrawal-detail][data-status=failed]').waitFor();
  assert.equal(await pb.locator('[data-testid=manual-resolution]').count(), 0, 'nothing waits once settled');
  assert.equal(await pb.locator('[data-testid=settle]').count(), 0, 'nothing to settle once failed');
  w = await getW(stuck.id);
  assert.equal(w.status, 'failed');
  assert.equal(w.manual_resolution, null);
  assert.equal(w.reason, 'checked the bank statement: never debited');
  const back = await wallet();
  assert.equal(back.held, '0.00');
  assert.equal(back.withdrawable, '100.00');
  // the one console error: A's refused (403) confirmation
  assert.deepEqual(pa.errors.filter((e) => !/status of 403/.test(e)), []);
  assert.equal(pa.errors.length, 1);
  // and B's refused (409) confirmation of the other outcome
  assert.deepEqual(pb.errors.filter((e) => !/status of 409/.test(e)), []);
  assert.equal(pb.errors.length, 1);
  await pa.close();
  await pb.close();
});

test('support cannot reach finance actions', async () => {
  const s = await createStaff(server, { role: 'support', brands: ['demo'] });
  const p = await richPlayer();
  const w = await requestWithdrawal(server, p, '15.00');
  const page = await newPage(browser);
  await login(page, server, s);
  assert.equal(await page.locator('nav a[href="/withdrawals"]').count(), 0, 'no Withdrawals in the navigation');
  await page.goto(`${server.url}/withdrawals`);
  await page.getByRole('heading', { name: 'Not here' }).waitFor();
  assert.equal(await page.locator('[data-testid=withdrawals]').count(), 0);
  await page.goto(`${server.url}/withdrawals/${w.id}`);
  await page.getByRole('heading', { name: 'Not here' }).waitFor();
  // their own token, from the page: the API refuses the approval
  const r = await page.evaluate(async (id) => {
    const rt = sessionStorage.getItem('pitboss.refresh');
    const t = await (await fetch('/v1/admin/refresh', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: rt }),
    })).json();
    sessionStorage.setItem('pitboss.refresh', t.refresh_token); // refresh tokens rotate: keep the app's session
    const res = await fetch(`/v1/admin/withdrawals/${id}/approve`, {
      method: 'POST', headers: { Authorization: `Bearer ${t.access_token}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    const list = await fetch('/v1/admin/withdrawals', { headers: { Authorization: `Bearer ${t.access_token}` } });
    return { status: res.status, body: await res.json(), list: list.status, scope: t.scope };
  }, w.id);
  assert.equal(r.scope, 'full');
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'FORBIDDEN');
  assert.equal(r.list, 403);
  const still = await getW(w.id);
  assert.equal(still.status, 'pending_approval');
  assert.deepEqual(still.approvals, []);
  // games.read without games.manage: the games page reads, offers no switch and no RTP change
  await page.goto(`${server.url}/games`);
  await page.locator('[data-testid=original-row][data-game=dice]').waitFor();
  const slot = page.locator('[data-testid=game-row][data-game="studio/slot1"] [data-testid=brand-enabled]');
  assert.match(await slot.innerText(), /^(enabled|disabled)$/);
  assert.equal(await page.locator('[data-testid^=switch-], [data-testid^=status-], [data-testid=change-rtp]').count(), 0);
  await page.close();
});

test('unclaimed funds: a late win for an erased player shows on the Unclaimed funds page; support has none', async () => {
  // a bet of all her money on a round left open, the round idle 31 days, then she is erased
  const { player: p, tx: win, answer: r } = await erasedLateWin(server, { win: '4.25' });
  assert.equal(r.balance, '0.00');

  const f = await createStaff(server, { role: 'finance', brands: ['demo'] });
  const page = await newPage(browser);
  await login(page, server, f);
  await page.locator('nav a[href="/unclaimed-funds"]').click();
  const bal = page.locator('[data-testid=unclaimed-balance][data-brand=demo][data-currency=EUR]');
  await bal.waitFor();
  assert.match(await bal.innerText(), /4\.25/);
  const entry = page.locator('[data-testid=unclaimed-entry]').filter({ hasText: win });
  await entry.waitFor();
  assert.equal(await entry.getAttribute('data-direction'), 'credit');
  assert.equal(await entry.locator('[data-testid=unclaimed-player]').innerText(), p.id);
  assert.match(await entry.innerText(), /win.*4\.25.*studio/s);
  assert.doesNotMatch(await page.locator('main, body').first().innerText(), new RegExp(p.email.split('@')[0]));
  await screenshot(page, 'money-unclaimed');
  await page.close();

  const s = await createStaff(server, { role: 'support', brands: ['demo'] });
  const sp = await newPage(browser);
  await login(sp, server, s);
  assert.equal(await sp.locator('nav a[href="/unclaimed-funds"]').count(), 0, 'no Unclaimed funds for support');
  await sp.goto(`${server.url}/unclaimed-funds`);
  await sp.getByRole('heading', { name: 'Not here' }).waitFor();
  await sp.close();
});

/**
 * A member's first login in the browser, through the shell's walk: the password
 * they were given (one-time, at creation or after a TOTP reset), a new password
 * when asked, the TOTP enrolment (the secret read from the page), a code, then
 * "log in again". Updates member (password, totpSecret, lastStep).
 */
async function firstLoginInBrowser(page, member, newPassword) {
  await page.goto(server.url + '/');
  await page.fill('form.login input[name=email]', member.email);
  await page.fill('form.login input[name=password]', member.password);
  await page.click('form.login button[type=submit]');
  if (newPassword) {
    await page.locator('[data-testid=setup-password]').waitFor();
    await page.fill('input[name=new-password]', newPassword);
    await page.fill('input[name=new-password-again]', newPassword);
    await page.click('[data-testid=setup-password] button[type=submit]');
    member.password = newPassword;
  }
  await page.locator('[data-testid=totp-secret]').waitFor();
  member.totpSecret = (await page.locator('[data-testid=totp-secret]').textContent()).trim();
  member.lastStep = -1;
  await page.fill('[data-testid=setup-totp] input[name=code]', await nextCode(member));
  await page.click('[data-testid=setup-totp] button[type=submit]');
  await page.locator('[data-testid=login-notice]').waitFor();
  await login(page, server, member);
}

test('staff: create a finance member (one-time password once), first login, role change, TOTP reset', async () => {
  // a member made here, not the bootstrap admin: the harness's API calls as the admin
  // have used its TOTP code up to one step ahead, so a browser login as the admin would
  // wait up to 30 s for the next step; a new member logs in at once (as web_brands)
  const admin = await createStaff(server, { role: 'admin', allBrands: true });
  const page = await newPage(browser);
  await login(page, server, admin);
  await page.locator('nav a[href="/staff"]').click();
  await page.locator('[data-testid=staff]').waitFor();
  await page.locator('[data-testid=new-staff]').click();
  const dlg = dialog(page);
  const email = `fin-ui-${Date.now()}@example.com`;
  await dlg.locator('input[name=email]').fill(email);
  await dlg.locator('select[name=role]').selectOption('finance');
  assert.equal(await dlg.locator('input[name=all_brands]').count(), 0, 'finance may not hold every brand');
  await dlg.locator('input[name=brand][value=demo]').check();
  await dlg.getByRole('button', { name: 'Create' }).click();
  const otpEl = page.locator('[data-testid=one-time-password]');
  await otpEl.waitFor();
  const otp = (await otpEl.innerText()).trim();
  assert.ok(otp.length >= 12, `one-time password shown: ${otp}`);
  assert.equal(await page.locator('[data-testid=created] [data-testid=copy]').count(), 1);
  assert.match(await page.locator('[data-testid=created]').innerText(), /log in with the e-mail and the one-time password/);
  await page.getByRole('button', { name: /Done/ }).click();
  await otpEl.waitFor({ state: 'detached' });
  assert.equal((await page.content()).includes(otp), false, 'the one-time password is gone from the page');
  const r = page.locator(`[data-testid=staff-row][data-email="${email}"]`);
  await r.waitFor();
  assert.match(await r.innerText(), /finance/);
  assert.match(await r.innerText(), /demo/);
  assert.match(await r.locator('[data-testid=totp]').innerText(), /not enrolled/);
  await screenshot(page, 'money-staff');
  const id = await r.getAttribute('data-id');
  const got = await expectStatus(adminCall(server, 'GET', `/v1/admin/staff/${id}`), 200, 'staff get');
  assert.equal(got.staff.role, 'finance');
  assert.deepEqual(got.staff.brands, ['demo']);

  // the member's first login in a browser (new password, TOTP enrolment), then logged in
  const member = { email, password: otp, ip: '127.0.9.200', lastStep: -1 };
  const mp = await newPage(browser);
  await firstLoginInBrowser(mp, member, 'Green-Heron-42-Qz');
  assert.equal(await mp.locator('[data-testid=whoami]').innerText(), email);
  assert.equal(await mp.locator('nav a[href="/withdrawals"]').count(), 1, 'finance sees Withdrawals');
  assert.equal(await mp.locator('nav a[href="/staff"]').count(), 0, 'finance does not see Staff');

  // the admin changes the role (finance → risk) and the brand scope stays
  await page.reload();
  await r.waitFor();
  assert.match(await r.locator('[data-testid=totp]').innerText(), /^enrolled/);
  await r.locator('[data-testid=edit-staff]').click();
  await dialog(page).locator('select[name=role]').selectOption('risk');
  await dialog(page).getByRole('button', { name: 'Save' }).click();
  await dialog(page).waitFor({ state: 'detached' });
  assert.match(await r.innerText(), /risk/);
  const changed = await expectStatus(adminCall(server, 'GET', `/v1/admin/staff/${id}`), 200, 'staff get');
  assert.equal(changed.staff.role, 'risk');
  assert.deepEqual(changed.staff.brands, ['demo']);
  // the admin's own row offers nothing (the server refuses self-changes)
  const mine = page.locator(`[data-testid=staff-row][data-email="${admin.email}"]`);
  assert.equal(await mine.locator('[data-testid=edit-staff]').count(), 0);

  // TOTP reset with a reason (POST /v1/admin/staff/{id}/totp/reset)
  {
    await r.locator('[data-testid=reset-totp]').click();
    await dialog(page).locator('textarea[name=reason]').fill('Lost phone, identity checked by video call');
    await dialog(page).getByRole('button', { name: 'Reset TOTP' }).click();
    // the reset replaces the password too: the admin sees the new one-time password once
    const done = page.locator('[data-testid=totp-reset-done]');
    await done.waitFor();
    const otp2 = (await done.locator('[data-testid=one-time-password]').innerText()).trim();
    assert.ok(otp2.length >= 12 && otp2 !== otp, `one-time password shown: ${otp2}`);
    assert.equal(await done.locator('[data-testid=copy]').count(), 1);
    assert.match(await done.innerText(), /old password no longer works/);
    await done.getByRole('button', { name: /Done/ }).click();
    await done.waitFor({ state: 'detached' });
    assert.equal((await page.content()).includes(otp2), false, 'the one-time password is gone from the page');
    await r.locator('[data-testid=totp]', { hasText: 'not enrolled' }).waitFor();
    assert.match(await r.locator('[data-testid=staff-status]').innerText(), /first login pending/);
    const reset = await expectStatus(adminCall(server, 'GET', `/v1/admin/staff/${id}`), 200, 'staff get');
    assert.equal(reset.staff.totp_enrolled, false);
    assert.equal(reset.staff.must_change_password, true);
    const audit = await expectStatus(
      adminCall(server, 'GET', `/v1/admin/audit?target_kind=staff&target_id=${id}&action=staff.totp_reset`), 200, 'audit');
    assert.equal(audit.entries.length, 1);
    assert.equal(audit.entries[0].reason, 'Lost phone, identity checked by video call');
    assert.equal(audit.entries[0].actor_id, admin.id);
    assert.equal(JSON.stringify(audit.entries[0]).includes(otp2), false, 'no password in the audit entry');
    // the member's open page lost its session (a reload cannot refresh it); their old
    // password is refused like any wrong one; the one-time password leads to a new
    // password and a new authenticator
    await mp.reload();
    await mp.locator('form.login input[name=email]').waitFor();
    await mp.fill('form.login input[name=email]', member.email);
    await mp.fill('form.login input[name=password]', member.password);
    await mp.click('form.login button[type=submit]');
    assert.match(await mp.locator('[data-testid=login-error]').innerText(), /^CREDENTIALS_INVALID: /);
    const oldSecret = member.totpSecret;
    member.password = otp2;
    await firstLoginInBrowser(mp, member, 'Green-Heron-43-Qz');
    assert.notEqual(member.totpSecret, oldSecret);
    assert.equal(await mp.locator('[data-testid=whoami]').innerText(), email);
    await page.reload();
    await r.locator('[data-testid=totp]', { hasText: /^enrolled/ }).waitFor();
  }
  await mp.close();
  // disabled: the row says so, the member can no longer log in
  await r.locator('[data-testid=edit-staff]').click();
  await dialog(page).locator('input[name=active]').uncheck();
  await dialog(page).getByRole('button', { name: 'Save' }).click();
  await dialog(page).waitFor({ state: 'detached' });
  assert.match(await r.locator('[data-testid=staff-status]').innerText(), /disabled/);
  // the right password and a code of the member's authenticator: the status is checked
  // before the code, so a code of the current step (used or not) gets the same answer
  const refused = await request(server, { method: 'POST', path: '/v1/admin/login', ip: member.ip,
    body: { email: member.email, password: member.password, ...(member.totpSecret ? { totp: totp(member.totpSecret) } : {}) } });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json.error.code, 'FORBIDDEN');

  // with audit.read the withdrawal's history is its audit trail: who did what, in order
  if (paidBig) {
    await page.goto(`${server.url}/withdrawals/${paidBig}`);
    const h = page.locator('[data-testid=history]');
    await h.locator('li', { hasText: 'withdrawal.paid' }).waitFor();
    const lines = (await h.innerText()).split('\n').map((l) => /withdrawal\.[a-z_]+/.exec(l)?.[0]).filter(Boolean);
    assert.deepEqual(lines, ['withdrawal.request', 'withdrawal.approve', 'withdrawal.approve',
      'withdrawal.payout_sent', 'withdrawal.paid']);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('games: game_ops changes an in-house RTP in range, out of range is refused, a provider game switched off shows disabled', async () => {
  const ops = await createStaff(server, { role: 'game_ops', brands: ['demo'] });
  // three settled dice rounds of 1.00 EUR on demo: the actual RTP beside the target
  const p = await richPlayer();
  let paid = 0n;
  for (let i = 0; i < 3; i++) {
    const b = await expectStatus(playerCall(server, p, 'POST', '/v1/player/originals/dice/bets',
      { amount: '1.00', params: { target: 50, direction: 'over' } }, { headers: { 'Idempotency-Key': `dice-${Date.now()}-${i}` } }),
    201, 'dice bet');
    paid += BigInt((b.round?.payout ?? b.payout ?? '0.00').replace('.', ''));
  }
  const page = await newPage(browser);
  await login(page, server, ops);
  await page.locator('nav a[href="/games"]').click();
  await page.locator('[data-testid=providers] [data-testid=provider-row][data-code=studio]').waitFor();
  const dice = page.locator('[data-testid=original-row][data-game=dice]');
  await dice.waitFor();
  assert.match(await dice.innerText(), /80\.00 % – 99\.00 %/);
  const ctl = page.locator('[data-testid=control-row][data-game=dice][data-currency=EUR]');
  const ctlText = await ctl.innerText();
  assert.match(ctlText, /\b3\b/, 'three rounds');
  assert.match(ctlText, /3\.00/, 'turnover 3.00');
  assert.match(ctlText, /99\.00 %/, 'target');
  // actual = payout / turnover, as the page shows it (two decimals)
  const want = `${(Number(paid) / 3).toFixed(2)} %`;
  assert.ok(ctlText.includes(want), `actual ${want} in ${ctlText}`);
  const act = dice.locator('[data-testid=actual][data-currency=EUR]');
  assert.match(await act.innerText(), /EUR: .*%.*3 rounds/);
  if ((await act.getAttribute('data-source')) === 'actual') {
    // the originals list's own figure: paid / wagered in integers, two decimals truncated
    const bp = (paid * 10000n) / 300n;
    const txt = `EUR: ${bp / 100n}.${String(bp % 100n).padStart(2, '0')} %`;
    assert.ok((await act.innerText()).startsWith(txt), `${txt} in ${await act.innerText()}`);
    assert.match(await act.innerText(), /of 3\.00\)/);
  }

  // out of range: the server's message, nothing changed
  await dice.locator('[data-testid=change-rtp]').click();
  await dialog(page).locator('input[name=rtp]').fill('50.00');
  await dialog(page).getByRole('button', { name: 'Continue' }).click();
  await dialog(page).getByRole('button', { name: 'Change RTP' }).click();
  const err = dialog(page).locator('.error');
  await err.waitFor();
  assert.match(await err.innerText(), /FIELD_INVALID: rtp_bp: dice allows 8000\.\.9900/);
  await dialog(page).getByRole('button', { name: 'Cancel' }).click();
  let orig = await expectStatus(adminCall(server, 'GET', '/v1/admin/brands/demo/originals'), 200, 'originals');
  assert.equal(orig.games.find((g) => g.game === 'dice').rtp_bp, 9900);

  // in range: confirmed, changed, audited
  await dice.locator('[data-testid=change-rtp]').click();
  await dialog(page).locator('input[name=rtp]').fill('97.50');
  await dialog(page).locator('textarea[name=reason]').fill('Promotion week');
  await dialog(page).getByRole('button', { name: 'Continue' }).click();
  assert.match(await page.locator('[data-testid=rtp-confirm-text]').innerText(), /From 99\.00 % to 97\.50 %/);
  await dialog(page).getByRole('button', { name: 'Change RTP' }).click();
  await page.locator('[data-testid=original-row][data-game=dice][data-rtp-bp="9750"]').waitFor();
  orig = await expectStatus(adminCall(server, 'GET', '/v1/admin/brands/demo/originals'), 200, 'originals');
  assert.equal(orig.games.find((g) => g.game === 'dice').rtp_bp, 9750);
  const audit = await expectStatus(adminCall(server, 'GET', '/v1/admin/audit?action=game.rtp_set'), 200, 'audit');
  assert.equal(audit.entries[0].actor_id, ops.id);
  assert.equal(audit.entries[0].reason, 'Promotion week');

  // the provider game switched off for the brand
  const slot = page.locator('[data-testid=game-row][data-game="studio/slot1"]');
  await slot.waitFor();
  assert.equal(await slot.getAttribute('data-enabled'), 'true');
  await slot.locator('[data-testid=switch-studio-slot1]').click();
  await page.locator('[data-testid=game-row][data-game="studio/slot1"][data-enabled=false]').waitFor();
  const on = await expectStatus(adminCall(server, 'GET', '/v1/admin/games?brand=demo&limit=100'), 200, 'games');
  assert.equal(on.games.some((g) => g.code === 'slot1'), false);
  await page.reload();
  await page.locator('[data-testid=game-row][data-game="studio/slot1"][data-enabled=false]').waitFor();
  assert.match(await page.locator('[data-testid=game-row][data-game="studio/slot1"] [data-testid=brand-enabled]').innerText(), /off/);
  // on the other brand it is still offered (scope: game_ops of demo does not see "other")
  const other = await expectStatus(adminCall(server, 'GET', '/v1/admin/games?brand=other&limit=100'), 200, 'games');
  assert.equal(other.games.some((g) => g.code === 'slot1'), true);
  // game control: limbo disabled on every brand (confirmed), then active again
  const limbo = page.locator('[data-testid=game-row][data-game="pitboss/limbo"]');
  await limbo.locator('[data-testid=status-pitboss-limbo]').click();
  await dialog(page).getByRole('button', { name: 'Disable' }).click();
  await limbo.locator('[data-status=disabled]').waitFor();
  let lg = await expectStatus(adminCall(server, 'GET', '/v1/admin/providers/pitboss/games/limbo'), 200, 'game');
  assert.equal(lg.game.status, 'disabled');
  await limbo.locator('[data-testid=status-pitboss-limbo]', { hasText: 'Activate' }).click();
  await dialog(page).getByRole('button', { name: 'Activate' }).click();
  await limbo.locator('[data-status=active]').waitFor();
  lg = await expectStatus(adminCall(server, 'GET', '/v1/admin/providers/pitboss/games/limbo'), 200, 'game');
  assert.equal(lg.game.status, 'active');
  await screenshot(page, 'money-games');
  // the one refusal the test caused (the out-of-range RTP) is the only console error
  assert.deepEqual(page.errors.filter((e) => !/status of 422/.test(e)), []);
  assert.equal(page.errors.length, 1);
  await page.close();
});
