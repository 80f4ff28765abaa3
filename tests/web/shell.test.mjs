/*
 * shell.test.mjs — the back office shell in a real browser (headless Chromium):
 *
 *   - the harness itself: staff, players, deposits, provider rounds, withdrawals,
 *     a login through the form;
 *   - first login of a new member through the UI: the one-time password, a new
 *     password, TOTP enrolment (the QR code is shown; the code is computed from the
 *     secret shown as text), confirmation, then a login with TOTP: without a code
 *     and with a wrong one it is refused with the server's message;
 *   - the dashboard is live: after a sandbox deposit and a provider bet the
 *     deposit count and amount, the bets and the feed change WITHOUT a reload (no
 *     navigation happened, a marker on window survives); a reload keeps the
 *     session (refresh token) and the re-taken snapshot shows the same figures;
 *     logout returns to the login form, and a reload stays there.
 * Screenshots (login, enrolment, dashboard) go to $WEB_ARTIFACTS or build/web-artifacts.
 * Run: node --test --test-reporter=tap tests/web/shell.test.mjs (PITBOSS_BIN=… for the binary)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createStaff, deposit, fund, isResourceError, launchBrowser, login, newPage, nextCode, providerBet, providerWin, registerPlayer,
  requestWithdrawal, screenshot, startServer, stepNow, totp,
} from './harness.mjs';

let server, browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (server) {
    const code = await server.stop();
    try {
      assert.equal(code, 0, 'server exit status');
      server.verify();
    } finally {
      server.cleanup();
    }
  }
});

/** "1 234.50 EUR" / "−3.00 EUR" → 123450n / -300n (minor units of a 2-decimal currency). */
function minor(text) {
  const t = text.replace(/[\s\u202f\u00a0]/g, '').replace('−', '-').replace(/[A-Z]+$/, '');
  const m = /^(-?)(\d+)\.(\d{2})$/.exec(t);
  assert.ok(m, `not an amount: ${JSON.stringify(text)}`);
  const v = BigInt(m[2] + m[3]);
  return m[1] ? -v : v;
}

/** A 6-digit code that is valid for none of the steps the server accepts now. */
function wrongCode(secret) {
  const s = stepNow();
  const valid = new Set([totp(secret, s - 1), totp(secret, s), totp(secret, s + 1), totp(secret, s + 2)]);
  for (let n = 123456; ; n = (n + 111111) % 1000000) {
    const c = String(n).padStart(6, '0');
    if (!valid.has(c)) return c;
  }
}

test('harness: staff, players, deposits, provider rounds, withdrawals, login in a browser', async () => {
  const fin = await createStaff(server, { role: 'finance', brands: ['demo'] });
  assert.match(fin.totpSecret, /^[A-Z2-7]{32}$/);
  const p = await registerPlayer(server, {});
  await deposit(server, p, '50.00');
  const bet = await providerBet(server, p, { amount: '2.00' });
  await providerWin(server, p, bet, { amount: '3.00' });
  await fund(server, p, '5.00');
  const w = await requestWithdrawal(server, p, '10.00');
  assert.equal(w.status, 'pending_approval');
  const page = await newPage(browser);
  await login(page, server, fin);
  assert.equal(await page.locator('[data-testid=whoami]').textContent(), fin.email);
  await page.close();
});

test('first login: new password, TOTP enrolment with a QR code, then login with TOTP', async () => {
  const staff = await createStaff(server, { role: 'admin', allBrands: true, enrol: false });
  const page = await newPage(browser);
  await page.goto(server.url + '/');
  await page.locator('form.login input[name=email]').waitFor();
  await screenshot(page, 'login');
  await page.fill('form.login input[name=email]', staff.email);
  await page.fill('form.login input[name=password]', staff.password);
  await page.click('form.login button[type=submit]');

  // step 1: a new password (a weak one is refused with the server's message first)
  await page.locator('[data-testid=setup-password]').waitFor();
  await page.fill('input[name=new-password]', 'short');
  await page.fill('input[name=new-password-again]', 'short');
  await page.click('[data-testid=setup-password] button[type=submit]');
  await page.locator('[data-testid=setup-error]').waitFor();
  assert.match(await page.locator('[data-testid=setup-error]').textContent(), /PASSWORD_WEAK|FIELD_INVALID/);
  const newPassword = 'Green-Heron-42-Xy';
  await page.fill('input[name=new-password]', newPassword);
  await page.fill('input[name=new-password-again]', newPassword);
  await page.click('[data-testid=setup-password] button[type=submit]');

  // step 2: TOTP enrolment: the QR code and the secret
  await page.locator('[data-testid=totp-qr]').waitFor();
  const src = await page.locator('[data-testid=totp-qr]').getAttribute('src');
  assert.match(src, /^data:image\/png;base64,/);
  assert.ok(await page.locator('[data-testid=totp-qr]').evaluate((img) => img.complete && img.naturalWidth > 100));
  const secret = (await page.locator('[data-testid=totp-secret]').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await screenshot(page, 'enrolment');
  staff.password = newPassword;
  staff.totpSecret = secret;
  staff.lastStep = -1;
  // a wrong code is refused with the server's message; the right one confirms
  await page.fill('[data-testid=setup-totp] input[name=code]', wrongCode(secret));
  await page.click('[data-testid=setup-totp] button[type=submit]');
  await page.locator('[data-testid=setup-error]').waitFor();
  assert.match(await page.locator('[data-testid=setup-error]').textContent(), /TOTP_INVALID/);
  await page.fill('[data-testid=setup-totp] input[name=code]', await nextCode(staff));
  await page.click('[data-testid=setup-totp] button[type=submit]');
  await page.locator('[data-testid=login-notice]').waitFor();
  assert.match(await page.locator('[data-testid=login-notice]').textContent(), /Log in again/);

  // login with TOTP: without a code, then a wrong code, are refused with the server's words
  await page.fill('form.login input[name=email]', staff.email);
  await page.fill('form.login input[name=password]', newPassword);
  await page.click('form.login button[type=submit]');
  await page.locator('[data-testid=login-error]').waitFor();
  assert.match(await page.locator('[data-testid=login-error]').textContent(), /^TOTP_REQUIRED: a TOTP code is required/);
  await page.fill('form.login input[name=password]', newPassword);
  await page.fill('form.login input[name=totp]', wrongCode(secret));
  await page.click('form.login button[type=submit]');
  await page.locator('[data-testid=login-error]', { hasText: 'TOTP_INVALID' }).waitFor();
  assert.match(await page.locator('[data-testid=login-error]').textContent(),
    /^TOTP_INVALID: TOTP code is wrong or was already used/);
  // the right code: in
  await page.fill('form.login input[name=password]', newPassword);
  await page.fill('form.login input[name=totp]', await nextCode(staff));
  await page.click('form.login button[type=submit]');
  await page.locator('[data-testid=whoami]').waitFor();
  assert.equal(await page.locator('[data-testid=whoami]').textContent(), staff.email);
  assert.deepEqual(page.errors.filter((e) => !isResourceError(e)), []);
  await page.close();
});

test('dashboard: live figures and feed without a reload; reload keeps the session; logout', async () => {
  const staff = await createStaff(server, { role: 'admin', allBrands: true });
  const page = await newPage(browser);
  await login(page, server, staff);
  await page.locator('[data-testid=stream-status].live').waitFor({ timeout: 15_000 });
  // several rows (demo EUR/USD, other EUR): pick demo · EUR
  if (await page.locator('[data-testid=row-select]').count()) await page.selectOption('[data-testid=row-select]', 'demo/EUR');
  await page.locator('[data-testid=figures][data-brand=demo][data-currency=EUR]').waitFor();

  const read = async (id) => (await page.locator(`[data-testid=${id}]`).textContent()).trim();
  const figures = async () => ({
    deposits: Number(await read('kpi-today-deposits-count')),
    depositAmount: minor(await read('kpi-today-deposits-amount')),
    bets: Number(await read('kpi-today-bets-count')),
    betAmount: minor(await read('kpi-today-bets-amount')),
    hourBets: Number(await read('kpi-hour-bets-count')),
    ggr: minor(await read('kpi-today-ggr')),
    active: Number(await read('kpi-today-active')),
  });
  const before = await figures();

  // no navigation from here on: a marker on window and a navigation counter
  await page.evaluate(() => {
    window.__pbMarker = 'still here';
  });
  let navigations = 0;
  page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);

  const p = await registerPlayer(server, { brand: 'demo' });
  await deposit(server, p, '25.00');
  await providerBet(server, p, { amount: '2.00' });

  await page.waitForFunction(
    ([n]) => Number(document.querySelector('[data-testid=kpi-today-bets-count]')?.textContent) >= n,
    [before.bets + 1],
    { timeout: 15_000 },
  );
  await page.waitForFunction(
    ([n]) => Number(document.querySelector('[data-testid=kpi-today-deposits-count]')?.textContent) >= n,
    [before.deposits + 1],
    { timeout: 15_000 },
  );
  const live = await figures();
  assert.equal(live.deposits, before.deposits + 1);
  assert.equal(live.depositAmount, before.depositAmount + 2500n);
  assert.equal(live.bets, before.bets + 1);
  assert.equal(live.betAmount, before.betAmount + 200n);
  assert.equal(live.hourBets, before.hourBets + 1);
  assert.equal(live.ggr, before.ggr + 200n);
  assert.equal(live.active, before.active + 1);
  // the feed shows both, newest first
  await page.locator('[data-testid=feed] tr[data-type="bet.placed"]').first().waitFor();
  await page.locator('[data-testid=feed] tr[data-type="deposit.completed"]').first().waitFor();
  const types = await page.locator('[data-testid=feed] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.type));
  assert.ok(types.indexOf('bet.placed') < types.indexOf('deposit.completed'), types.join(','));
  const depositRow = await page.locator('[data-testid=feed] tr[data-type="deposit.completed"]').first().textContent();
  assert.match(depositRow, /25\.00\s*EUR/);
  // the chart has a bar for this minute
  assert.ok((await page.locator('[data-testid=chart-bets] rect.bar').count()) >= 1);
  // nothing reloaded
  assert.equal(await page.evaluate(() => window.__pbMarker), 'still here');
  assert.equal(navigations, 0);
  await screenshot(page, 'dashboard');

  // a reload keeps the session (the refresh token) and the snapshot agrees with what the events made
  await page.reload();
  await page.locator('[data-testid=whoami]').waitFor();
  assert.equal(await page.locator('form.login').count(), 0);
  if (await page.locator('[data-testid=row-select]').count()) await page.selectOption('[data-testid=row-select]', 'demo/EUR');
  await page.locator('[data-testid=figures][data-brand=demo][data-currency=EUR]').waitFor();
  const again = await figures();
  assert.deepEqual(
    { ...again, hourBets: 0 },
    { ...live, hourBets: 0 },
    'the re-taken snapshot equals the figures built from the events',
  );

  // logout: the login form, and a reload does not bring the session back
  await page.click('[data-testid=logout]');
  await page.locator('form.login').waitFor();
  await page.reload();
  await page.locator('form.login').waitFor();
  assert.equal(await page.locator('[data-testid=whoami]').count(), 0);
  assert.deepEqual(page.errors.filter((e) => !isResourceError(e)), []);
  await page.close();
});
