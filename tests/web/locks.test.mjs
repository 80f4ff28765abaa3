/*
 * locks.test.mjs — the login-lock buttons of the back office in a real browser
 * against a real server (tests/web/harness.mjs):
 *   - player page: five wrong passwords from one address lock the player there;
 *     the page lists the lock, finance (no players.sessions.manage) is offered no
 *     Unlock, support's Unlock needs a reason and clears it (POST
 *     /v1/admin/players/{id}/unlock): the page and the API show no lock, the
 *     player logs in from that address, the audit entry player.login_unlock
 *     holds the reason and what was in force;
 *   - staff list: the same for a staff member through the row's "Login locks"
 *     dialog (GET /v1/admin/staff/{id} → its address_locks; POST …/unlock), as an
 *     admin; audited as staff.login_unlock.
 * The locks are made over the real API from the harness's own loopback
 * addresses (the browser logs in from 127.0.0.1, which stays unlocked).
 *
 * Run: node --test --test-reporter=tap tests/web/locks.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  adminCall, createStaff, expectStatus, launchBrowser, login, newPage, PLAYER_PASSWORD, registerPlayer, request,
  screenshot, staffCall, startServer,
} from './harness.mjs';

let server, browser, support, finance, manager;
const tag = randomBytes(3).toString('hex');

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  support = await createStaff(server, { role: 'support', brands: ['demo'] });
  finance = await createStaff(server, { role: 'finance', brands: ['demo'] });
  manager = await createStaff(server, { role: 'admin', allBrands: true });
});

after(async () => {
  await browser?.close();
  if (server) await server.finish();
});

/** The audit entries of an action on one target, newest first (as the admin). */
async function auditOf(action, kind, id) {
  const r = await expectStatus(
    adminCall(server, 'GET', `/v1/admin/audit?action=${action}&target_kind=${kind}&target_id=${id}`),
    200,
    'audit',
  );
  return r.entries;
}

test('player page: a locked player shows the lock; Unlock with a reason clears it (API, login, audit); finance is not offered it', async () => {
  const p = await registerPlayer(server, {});
  const ip = '127.0.12.31';
  const tryLogin = (password) =>
    request(server, { method: 'POST', path: '/v1/player/login', body: { brand: 'demo', email: p.email, password }, ip });
  for (let i = 1; i <= 5; i++) assert.equal((await tryLogin('not-the-password-1')).status, i < 5 ? 401 : 423, `wrong ${i}`);
  const locked = await tryLogin(PLAYER_PASSWORD);
  assert.equal(locked.status, 423, 'the right password is refused from the locked address');
  assert.equal(locked.json.error.code, 'ACCOUNT_LOCKED');
  const api0 = await expectStatus(adminCall(server, 'GET', `/v1/admin/players/${p.id}`), 200);
  assert.deepEqual(api0.player.address_locks.map((l) => l.address), [ip]);

  // finance sees the lock but is offered no Unlock
  const fin = await newPage(browser);
  await login(fin, server, finance);
  await fin.goto(`${server.url}/players/${p.id}`);
  await fin.getByTestId('address-locks').waitFor();
  assert.equal(await fin.getByTestId('unlock-player').count(), 0, 'no Unlock without players.sessions.manage');
  assert.deepEqual(fin.errors, []);
  await fin.close();

  const page = await newPage(browser);
  await login(page, server, support);
  await page.goto(`${server.url}/players/${p.id}`);
  const locks = page.getByTestId('address-locks');
  await locks.waitFor();
  const items = await locks.locator('li').allTextContents();
  assert.equal(items.length, 1, items.join(' | '));
  assert.ok(items[0].startsWith(`${ip} until `), items[0]);
  await page.getByTestId('unlock-player').click();
  const dialog = page.getByRole('dialog', { name: 'Clear login locks' });
  await dialog.waitFor();
  const confirm = dialog.getByRole('button', { name: 'Unlock', exact: true });
  assert.equal(await confirm.isDisabled(), true, 'no Unlock without a reason');
  const reason = `called in, ID checked ${tag}`;
  await dialog.getByLabel('Reason').fill(reason);
  await screenshot(page, 'locks-player-dialog');
  await confirm.click();
  await dialog.waitFor({ state: 'detached' });
  await locks.waitFor({ state: 'detached' }); // the page reloaded the player: no lock left
  assert.equal(await page.getByTestId('unlock-player').count(), 0, 'no Unlock once nothing is locked');
  await screenshot(page, 'locks-player-unlocked');

  const api = await expectStatus(adminCall(server, 'GET', `/v1/admin/players/${p.id}`), 200);
  assert.deepEqual(api.player.address_locks ?? [], []);
  assert.equal(api.player.locked_until, null);
  await expectStatus(tryLogin(PLAYER_PASSWORD), 200, 'the player logs in from the address that was locked');

  const entries = await auditOf('player.login_unlock', 'player', p.id);
  assert.equal(entries.length, 1, JSON.stringify(entries));
  const e = entries[0];
  assert.equal(e.reason, reason);
  assert.equal(e.actor_id, support.id);
  assert.equal(e.before.address_locks, 1);
  assert.equal(e.before.failed_logins, 5);
  assert.deepEqual(e.after, { failed_logins: 0, locked_until: null, address_locks: 0 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('staff list: "Login locks" lists a member\'s address lock; Unlock with a reason clears it (API, login, audit)', async () => {
  const member = await createStaff(server, { role: 'support', brands: ['demo'] });
  const ip = '127.0.12.41';
  for (let i = 1; i <= 5; i++) {
    const r = await request(server, { method: 'POST', path: '/v1/admin/login',
      body: { email: member.email, password: 'not-the-pass-1' }, ip });
    assert.equal(r.status, i < 5 ? 401 : 423, `wrong ${i}: ${r.text}`);
  }
  const st0 = await expectStatus(adminCall(server, 'GET', `/v1/admin/staff/${member.id}`), 200);
  assert.deepEqual(st0.staff.address_locks.map((l) => l.address), [ip]);

  const page = await newPage(browser);
  await login(page, server, manager);
  await page.locator('nav a[href="/staff"]').click();
  const row = page.locator(`[data-testid=staff-row][data-email="${member.email}"]`);
  await row.waitFor();
  await row.getByTestId('unlock-staff').click();
  const dialog = page.getByRole('dialog', { name: `Login locks of ${member.email}` });
  await dialog.waitFor();
  const list = dialog.getByTestId('staff-address-locks');
  await list.waitFor();
  const items = await list.locator('li').allTextContents();
  assert.equal(items.length, 1, items.join(' | '));
  assert.ok(items[0].startsWith(`Locked from ${ip} until `), items[0]);
  const confirm = dialog.getByRole('button', { name: 'Unlock', exact: true });
  assert.equal(await confirm.isDisabled(), true, 'no Unlock without a reason');
  const reason = `the member asked, ticket ${tag}`;
  await dialog.getByLabel('Reason').fill(reason);
  await screenshot(page, 'locks-staff-dialog');
  await confirm.click();
  await dialog.waitFor({ state: 'detached' });
  const note = row.getByRole('status');
  await note.waitFor();
  assert.equal(await note.textContent(), 'Login locks cleared (1 address).');

  // opened again: nothing in force
  await row.getByTestId('unlock-staff').click();
  await dialog.getByText('No login lock is in force.').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });

  const st = await expectStatus(adminCall(server, 'GET', `/v1/admin/staff/${member.id}`), 200);
  assert.deepEqual(st.staff.address_locks, []);
  assert.equal(st.staff.locked_until, null);
  // the member logs in (password and TOTP) from the address that was locked
  member.ip = ip;
  member.tokens = null;
  await expectStatus(staffCall(server, member, 'GET', '/v1/admin/me'), 200, 'the member logs in');
  assert.equal(member.tokens.scope, 'full');

  const entries = await auditOf('staff.login_unlock', 'staff', member.id);
  assert.equal(entries.length, 1, JSON.stringify(entries));
  const e = entries[0];
  assert.equal(e.reason, reason);
  assert.equal(e.actor_id, manager.id);
  assert.equal(e.before.address_locks, 1);
  assert.equal(e.before.failed_logins, 5);
  assert.deepEqual(e.after, { failed_logins: 0, locked_until: null, address_locks: 0 });
  assert.deepEqual(page.errors, []);
  await page.close();
});
