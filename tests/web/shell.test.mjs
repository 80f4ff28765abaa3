/*
 * shell.test.mjs — the back office shell in a real browser: the harness itself,
 * first-login enrolment, login with TOTP, the live dashboard, reload, logout.
 * Run: node --test --test-reporter=tap tests/web/shell.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createStaff, deposit, fund, launchBrowser, login, newPage, providerBet, providerWin, registerPlayer,
  requestWithdrawal, screenshot, startServer,
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

test('harness: staff, players, deposits, provider rounds, withdrawals, login in a browser', async () => {
  const fin = await createStaff(server, { role: 'finance', brands: ['demo'] });
  assert.match(fin.totpSecret, /^[A-Z2-7]{32}$/);
  const p = await registerPlayer(server, {});
  await deposit(server, p, '50.00');
  const bet = await providerBet(server, p, { amount: '2.00' });
  await providerWin(server, p, bet, { amount: '3.00' });
  await fund(server, p, '5.00');
  const w = await requestWithdrawal(server, p, '10.00');
  assert.ok(w.id);
  const page = await newPage(browser);
  await login(page, server, fin);
  assert.equal(await page.locator('[data-testid=whoami]').textContent(), fin.email);
  await page.close();
});
