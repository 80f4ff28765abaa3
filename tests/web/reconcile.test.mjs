/*
 * reconcile.test.mjs — the Reconciliations page (PSP settlement reports against
 * our books) in a real browser (headless Chromium) against a real `pitboss serve`
 * (tests/web/harness.mjs: the sandbox PSP on, brands "demo" and "other"). Deposits
 * are made as players make them (harness deposit(): the intent, then the
 * sandbox's complete endpoint), so the sandbox's own books are the PSP's side.
 *
 *   - a finance member of both brands finds Reconciliations in the navigation, runs
 *     a fetch reconciliation of the period of three real deposits (typed as wall
 *     times in the member's zone, Asia/Kolkata: the API stores the UTC instants),
 *     lands on the new run's page: all matched, 3; the list shows the run (fetch,
 *     who ran it, matched 3, nothing standing out);
 *   - the sandbox's report (GET /v1/sandbox-psp/reports/settlement) edited by the
 *     test — a demo deposit's row removed, another's amount changed, the other
 *     brand's amount changed, a foreign reference added — uploaded through the
 *     dialog's file input: the run's page shows missing_psp and amount_mismatch
 *     items with our and the PSP's amounts as the UI shows money (1 234.50 EUR)
 *     and links to the payments (one followed); the foreign reference counted as
 *     missing_ours but, having no brand, not shown to a brand-scoped member (the page
 *     says so: 1 not shown); the list's row stands out;
 *   - refusals in the dialog: a period whose end is before its start (the server's
 *     FIELD_INVALID naming `to`, that input marked) and a malformed file (the
 *     server's SETTLEMENT_REPORT_INVALID naming line 2) are shown in the dialog,
 *     which keeps what was typed and picked; the API's list of runs is unchanged;
 *   - a risk member of demo (finance.read, not finance.adjust) sees the runs but no
 *     "Run reconciliation"; on the edited run the page says the items are limited
 *     to their brands: the counts are the whole report's, the items only demo's
 *     (2 discrepancies not shown to them);
 *   - an auditor (every brand, finance.read only): no "Run reconciliation"; live, a
 *     run stored meanwhile is announced ("1 new run: show", not inserted) and shown
 *     on the click (reconciliation.completed has no brand: the stream gives it to
 *     all-brands staff only); the edited run's four items, the brandless
 *     missing_ours among them without a link, and no "filtered" note.
 *   - a deposit collected by the sandbox whose notification was lost (its 41 knob, a
 *     server of its own): on the fetched run's page a finance member has "Credit the
 *     player" on the status_mismatch item, gives a reason, and the deposit is
 *     completed (the API says so); the item then shows our status now (completed)
 *     and no button; a risk member (finance.read only) never sees the button.
 * Screenshots: recon-list, recon-detail, recon-dialog-error.
 * Run: node --test --test-reporter=tap tests/web/reconcile.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  adminCall, createStaff, deposit, expectStatus, isResourceError, launchBrowser, login, newPage, playerCall,
  registerPlayer, request, screenshot, startServer,
} from './harness.mjs';

const TZ = 'Asia/Kolkata'; // +05:30 all year: the wall times typed are UTC + 5:30
const OFFSET_MS = 5.5 * 3600 * 1000;

let server, browser, finance, financePage, t0, t1, d;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  finance = await createStaff(server, { role: 'finance', brands: ['demo', 'other'] });
  t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 2000); // whole seconds: a datetime-local's
  const p = await registerPlayer(server, { brand: 'demo' });
  const q = await registerPlayer(server, { brand: 'other' });
  d = {
    a: await deposit(server, p, '25.00'),
    b: await deposit(server, p, '1234.50'),
    c: await deposit(server, q, '9.00'),
  };
  t1 = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000);
});

after(async () => {
  await browser?.close();
  if (server) await server.finish(); // exit 0, ledger verify + audit verify on the database
});

/** A page in the member's zone (Asia/Kolkata), logged in once. */
async function pageOf(staff) {
  const page = await newPage(browser);
  await page.addInitScript((tz) => localStorage.setItem('pitboss.tz', tz), TZ);
  await login(page, server, staff);
  return page;
}

async function asFinance() {
  if (!financePage) financePage = await pageOf(finance);
  financePage.errors.length = 0;
  return financePage;
}

/** An instant as the member types it in Asia/Kolkata: "YYYY-MM-DDTHH:MM:SS". */
const wall = (t) => new Date(t.getTime() + OFFSET_MS).toISOString().slice(0, 19);
const iso = (t) => t.toISOString().replace(/\.\d{3}Z$/, 'Z');

const runs = async () => (await expectStatus(adminCall(server, 'GET', '/v1/admin/reconciliations'), 200, 'list')).items;

/** Opens the dialog from the list and fills the period. */
async function openDialog(page, from, to) {
  await page.goto(server.url + '/reconciliations');
  await page.locator('[data-testid=recon-run]').click();
  const dlg = page.locator('[data-testid=recon-dialog]');
  await dlg.waitFor();
  await dlg.locator('select[name=psp] option[value=sandbox]').waitFor({ state: 'attached' });
  await dlg.locator('input[name=from]').fill(wall(from));
  await dlg.locator('input[name=to]').fill(wall(to));
  return dlg;
}

/** The counts a page shows, by class. */
const counts = (scope) =>
  scope.locator('[data-testid=count]').evaluateAll((cells) =>
    Object.fromEntries(cells.map((c) => [c.getAttribute('data-class'), Number(c.textContent)])),
  );

let fetched, edited;

test('a fetch reconciliation of real sandbox deposits: all matched, the run listed', async () => {
  const page = await asFinance();
  await page.locator('nav a[href="/reconciliations"]').click();
  await page.locator('[data-testid=reconciliations]').waitFor();
  assert.equal(await page.locator('[data-testid=recon-row]').count(), 0);
  const dlg = await openDialog(page, t0, t1);
  assert.match(await dlg.locator('[data-testid=recon-zone]').textContent(), /Asia\/Kolkata/);
  assert.equal(await dlg.locator('input[name=source][value=fetch]').isChecked(), true, 'fetch offered first');
  await dlg.locator('[data-testid=recon-submit]').click();
  const detail = page.locator('[data-testid=recon-detail]');
  await detail.waitFor({ timeout: 15_000 });
  const [r] = await runs();
  fetched = r;
  assert.equal(new URL(page.url()).pathname, `/reconciliations/${r.id}`, 'on the new run’s page');
  // the wall times typed in Kolkata are the UTC instants the server got
  assert.deepEqual([r.psp, r.source, r.run_by], ['sandbox', 'fetch', finance.id]);
  assert.deepEqual([Date.parse(r.from), Date.parse(r.to)], [t0.getTime(), t1.getTime()], `${r.from} ${r.to}`);
  assert.deepEqual(r.counts, { matched: 3, missing_ours: 0, status_mismatch: 0, amount_mismatch: 0, missing_psp: 0 });
  assert.equal(await detail.getAttribute('data-discrepancies'), '0');
  assert.match(await page.locator('[data-testid=detail-verdict]').textContent(), /all matched/);
  assert.deepEqual(await counts(page.locator('[data-testid=detail-counts]')), {
    matched: 3, missing_ours: 0, missing_psp: 0, amount_mismatch: 0, status_mismatch: 0 });
  assert.match(await page.locator('[data-testid=detail-source]').textContent(), /fetched from the PSP · 3 rows/);
  await page.locator('[data-testid=no-items]').waitFor();
  // the list: the run, by this member, nothing standing out
  await page.locator('a', { hasText: '← Reconciliations' }).click();
  const row = page.locator(`[data-testid=recon-row][data-id="${r.id}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-discrepancies'), '0');
  assert.equal(await row.locator('[data-testid=recon-source]').textContent(), 'fetch');
  assert.match(await row.textContent(), new RegExp(`you \\(${finance.email}\\)`));
  assert.equal((await counts(row)).matched, 3);
  assert.match(await row.locator('[data-testid=recon-verdict]').textContent(), /all matched/);
  assert.deepEqual(page.errors, []);
});

test('an uploaded report, edited: missing_psp and amount_mismatch items with amounts and payment links', async () => {
  const page = await asFinance();
  const q = new URLSearchParams({ from: iso(t0), to: iso(t1) });
  const r = await request(server, { path: `/v1/sandbox-psp/reports/settlement?${q}`, ip: '127.0.8.40' });
  assert.equal(r.status, 200, r.text);
  const [header, ...rows] = r.text.trimEnd().split(/\r?\n/);
  assert.equal(rows.length, 3, r.text);
  const at = (dep) => rows.findIndex((x) => x.startsWith(`${dep.psp_reference},`));
  const edit = (dep, amount) => {
    const f = rows[at(dep)].split(',');
    f[2] = amount;
    rows[at(dep)] = f.join(',');
  };
  edit(d.b, '123460'); // our 1 234.50 EUR, the PSP's 1 234.60 EUR
  edit(d.c, '950'); // the other brand's 9.00 at 9.50
  const settled = rows[at(d.a)].split(',')[5];
  rows.splice(at(d.a), 1); // demo's 25.00: the PSP does not have it
  rows.push(`sbxp_foreign-web,deposit,999,EUR,settled,${settled}`);
  const csv = [header, ...rows].join('\n') + '\n';

  const dlg = await openDialog(page, t0, t1);
  await dlg.locator('input[name=source][value=upload]').check();
  await dlg.locator('input[name=report]').setInputFiles({ name: 'settlement.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await dlg.locator('[data-testid=recon-submit]').click();
  const detail = page.locator('[data-testid=recon-detail]');
  await detail.waitFor({ timeout: 15_000 });
  [edited] = await runs();
  assert.notEqual(edited.id, fetched.id);
  assert.equal(new URL(page.url()).pathname, `/reconciliations/${edited.id}`);
  assert.equal(edited.source, 'upload');
  assert.deepEqual(await counts(page.locator('[data-testid=detail-counts]')), {
    matched: 0, missing_ours: 1, missing_psp: 1, amount_mismatch: 2, status_mismatch: 0 });
  assert.equal(await detail.getAttribute('data-discrepancies'), '4');
  assert.match(await page.locator('[data-testid=detail-verdict]').textContent(), /4 discrepancies/);
  assert.match(await page.locator('[data-testid=detail-source]').textContent(), /a file uploaded · 3 rows compared/);
  // finance of both brands is still brand-scoped: the brandless missing_ours is not theirs to see
  await page.locator('[data-testid=items-unseen]').waitFor();
  assert.match(await page.locator('[data-testid=items-filtered]').textContent(), /only those of your brands \(demo, other\)/);
  assert.match(await page.locator('[data-testid=items-unseen]').textContent(), /^1 discrepancy is not shown to you/);
  const items = page.locator('[data-testid=recon-item]');
  assert.equal(await items.count(), 3);

  const missing = page.locator(`[data-testid=recon-item][data-class=missing_psp][data-reference="${d.a.psp_reference}"]`);
  assert.equal(await missing.locator('[data-testid=item-brand]').textContent(), 'demo');
  assert.equal(await missing.locator('[data-testid=item-ours]').getAttribute('href'), `/payments/${d.a.id}`);
  assert.equal(await missing.locator('[data-testid=item-our-status]').textContent(), 'completed');
  assert.equal(await missing.locator('[data-testid=item-our-amount]').textContent(), '25.00 EUR');
  assert.match(await missing.locator('[data-testid=item-psp-status]').textContent(), /not in the report/);

  const changed = page.locator(`[data-testid=recon-item][data-class=amount_mismatch][data-reference="${d.b.psp_reference}"]`);
  assert.equal(await changed.locator('[data-testid=item-ours]').getAttribute('href'), `/payments/${d.b.id}`);
  assert.equal(await changed.locator('[data-testid=item-our-amount]').textContent(), '1\u202f234.50 EUR');
  assert.equal(await changed.locator('[data-testid=item-psp-amount]').textContent(), '1\u202f234.60 EUR');
  assert.equal(await changed.locator('[data-testid=item-psp-status]').textContent(), 'settled');
  const other = page.locator(`[data-testid=recon-item][data-class=amount_mismatch][data-reference="${d.c.psp_reference}"]`);
  assert.equal(await other.locator('[data-testid=item-brand]').textContent(), 'other');
  assert.equal(await other.locator('[data-testid=item-psp-amount]').textContent(), '9.50 EUR');
  await screenshot(page, 'recon-detail');

  // the link is the payment's page
  await missing.locator('[data-testid=item-ours]').click();
  await page.locator('[data-testid=payment-detail]').waitFor();
  assert.equal(await page.locator('[data-testid=detail-reference]').textContent(), d.a.psp_reference);

  // the list: newest first, the edited run standing out
  await page.locator('nav a[href="/reconciliations"]').click();
  const shown = page.locator('[data-testid=recon-row]');
  await shown.nth(1).waitFor();
  assert.deepEqual(await shown.evaluateAll((x) => x.map((r) => r.getAttribute('data-id'))), [edited.id, fetched.id]);
  assert.equal(await shown.first().getAttribute('class'), 'm-recon-off');
  assert.match(await shown.first().locator('[data-testid=recon-verdict]').textContent(), /4 to look at/);
  assert.equal(await shown.nth(1).getAttribute('class'), null);
  await screenshot(page, 'recon-list');
  assert.deepEqual(page.errors, []);
});

test('refusals in the dialog: a reversed period, a malformed file; input kept, nothing stored', async () => {
  const page = await asFinance();
  const before = await runs();
  // the end before the start: the server's FIELD_INVALID, shown in the dialog
  let dlg = await openDialog(page, t1, t0);
  await dlg.locator('[data-testid=recon-submit]').click();
  let alert = dlg.locator('[role=alert]');
  await alert.waitFor();
  assert.match(await alert.textContent(), /^FIELD_INVALID: to: must be after from/);
  assert.equal(await dlg.locator('input[name=from]').inputValue(), wall(t1), 'from kept');
  assert.equal(await dlg.locator('input[name=to]').inputValue(), wall(t0), 'to kept');
  assert.deepEqual(await page.locator('[aria-invalid=true]').evaluateAll((x) => x.map((i) => i.name)), ['to'],
    'the field named is marked');
  assert.equal(new URL(page.url()).pathname, '/reconciliations');

  // a file the sandbox's parser cannot read: the line named
  await dlg.locator('button', { hasText: 'Cancel' }).click();
  dlg = await openDialog(page, t0, t1);
  await dlg.locator('input[name=source][value=upload]').check();
  const bad = 'reference,kind,amount,currency,status,settled_at\nsbxp_x,deposit,twelve,EUR,settled,2026-01-01T00:00:00Z\n';
  await dlg.locator('input[name=report]').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await dlg.locator('[data-testid=recon-submit]').click();
  alert = dlg.locator('[role=alert]');
  await alert.waitFor();
  assert.match(await alert.textContent(), /^SETTLEMENT_REPORT_INVALID: .*line 2/);
  assert.equal(await dlg.locator('input[name=source][value=upload]').isChecked(), true, 'upload kept');
  assert.equal(await dlg.locator('input[name=report]').evaluate((i) => i.files.length && i.files[0].name), 'bad.csv');
  assert.equal(await dlg.locator('input[name=from]').inputValue(), wall(t0));
  await screenshot(page, 'recon-dialog-error');
  assert.deepEqual(await runs(), before, 'nothing stored');
  assert.deepEqual(page.errors.filter((e) => !isResourceError(e)), []);
  await dlg.locator('button', { hasText: 'Cancel' }).click();
});

test('a finance.read member of demo: runs but no Run; the items limited to demo, said so', async () => {
  const risk = await createStaff(server, { role: 'risk', brands: ['demo'] });
  const page = await pageOf(risk);
  await page.locator('nav a[href="/reconciliations"]').click();
  const shown = page.locator('[data-testid=recon-row]');
  await shown.nth(1).waitFor();
  assert.equal(await shown.count(), 2);
  assert.equal(await page.locator('[data-testid=recon-run]').count(), 0, 'no Run reconciliation');

  // the edited run: every count, demo's items only, and the page says so
  await page.locator(`[data-testid=recon-row][data-id="${edited.id}"] [data-testid=recon-link]`).click();
  await page.locator('[data-testid=recon-detail]').waitFor();
  assert.deepEqual(await counts(page.locator('[data-testid=detail-counts]')), {
    matched: 0, missing_ours: 1, missing_psp: 1, amount_mismatch: 2, status_mismatch: 0 });
  const note = page.locator('[data-testid=items-filtered]');
  await note.waitFor();
  assert.match(await note.textContent(), /only those of your brands \(demo\)/);
  await page.locator('[data-testid=items-unseen]').waitFor();
  assert.match(await page.locator('[data-testid=items-unseen]').textContent(), /^2 discrepancies are not shown to you/);
  const items = page.locator('[data-testid=recon-item]');
  assert.deepEqual(
    await items.evaluateAll((x) => x.map((r) => r.getAttribute('data-reference')).sort()),
    [d.a.psp_reference, d.b.psp_reference].sort(),
  );
  assert.deepEqual(page.errors, []);
});

test('an auditor (every brand, finance.read only): no Run; every item, nothing said filtered; a new run announced live', async () => {
  const auditor = await createStaff(server, { role: 'auditor', allBrands: true });
  const page = await pageOf(auditor);
  await page.locator('nav a[href="/reconciliations"]').click();
  const shown = page.locator('[data-testid=recon-row]');
  await shown.nth(1).waitFor();
  assert.equal(await page.locator('[data-testid=recon-run]').count(), 0, 'no Run reconciliation');

  // live: a run stored meanwhile (by the admin, through the API) is announced, then shown
  await page.locator('[data-testid=live][data-status=live]').waitFor({ timeout: 15_000 });
  const made = await expectStatus(
    adminCall(server, 'POST', '/v1/admin/reconciliations', { psp: 'sandbox', from: iso(t0), to: iso(t1) }), 201, 'run');
  const fresh = page.locator('[data-testid=show-new]');
  await fresh.waitFor({ timeout: 15_000 });
  assert.match(await fresh.textContent(), /^1 new run: show$/);
  assert.equal(await shown.count(), 2, 'announced, not inserted');
  await fresh.click();
  await page.locator(`[data-testid=recon-row][data-id="${made.id}"]`).waitFor();
  assert.equal(await shown.first().getAttribute('data-id'), made.id);

  // the edited run: all four items, the brandless missing_ours with no record to link
  await page.locator(`[data-testid=recon-row][data-id="${edited.id}"] [data-testid=recon-link]`).click();
  await page.locator('[data-testid=recon-detail]').waitFor();
  const items = page.locator('[data-testid=recon-item]');
  await items.nth(3).waitFor();
  assert.equal(await items.count(), 4);
  assert.equal(await page.locator('[data-testid=items-filtered]').count(), 0, 'every brand: nothing filtered');
  const foreign = page.locator('[data-testid=recon-item][data-class=missing_ours][data-reference="sbxp_foreign-web"]');
  assert.equal(await foreign.locator('[data-testid=item-ours]').count(), 0, 'no record of ours to link');
  assert.match(await foreign.locator('[data-testid=item-psp-amount]').textContent(), /^9\.99 EUR$/);
  assert.deepEqual(page.errors, []);
});

test('the daily run (PITBOSS_RECONCILE_AT): listed as made by the system, not as a staff member', async () => {
  // a server of its own: with the daily run on, it reconciles yesterday (UTC) at start
  const daily = await startServer({ env: { PITBOSS_RECONCILE_AT: '00:00' } });
  try {
    const fin = await createStaff(daily, { role: 'finance', brands: ['demo'] });
    let made = [];
    for (let i = 0; i < 100 && made.length === 0; i++) {
      made = (await expectStatus(adminCall(daily, 'GET', '/v1/admin/reconciliations'), 200)).items;
      if (made.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(made.length, 1, 'the daily run at start');
    assert.equal(made[0].run_by, 'cashier.reconcile');
    const page = await newPage(browser);
    await login(page, daily, fin);
    await page.locator('nav a[href="/reconciliations"]').click();
    const row = page.locator(`[data-testid=recon-row][data-id="${made[0].id}"]`);
    await row.waitFor();
    assert.equal(await row.locator('[data-testid=run-by-system]').textContent(), 'daily run (system)');
    await row.locator('[data-testid=recon-link]').click();
    await page.locator('[data-testid=recon-detail] [data-testid=run-by-system]').waitFor();
    assert.deepEqual(page.errors.filter((e) => !isResourceError(e)), []);
    await page.close();
  } finally {
    await daily.finish();
  }
});

test('a lost deposit (41) on a fetched run: finance credits the player from the item, with a reason', async () => {
  const own = await startServer({ env: { PITBOSS_SANDBOX_STUCK_PAYOUTS: '1' } });
  try {
    const from = new Date(Date.now() - 2000);
    const p = await registerPlayer(own, { brand: 'demo' });
    const dep = await expectStatus(
      playerCall(own, p, 'POST', '/v1/player/deposits', { amount: '20.41', idempotency_key: 'web-lost-41' }),
      201,
      'deposit',
    );
    const paid = await expectStatus(
      request(own, { method: 'POST', path: `/v1/sandbox-psp/payments/${dep.psp_reference}/complete`, ip: '127.0.8.30' }),
      200,
      'sandbox',
    );
    assert.equal(paid.outcome, 'not_delivered');
    const to = new Date(Date.now() + 2000);
    const run = await expectStatus(
      adminCall(own, 'POST', '/v1/admin/reconciliations', { psp: 'sandbox', from: iso(from), to: iso(to) }),
      201,
      'run',
    );
    assert.equal(run.counts.status_mismatch, 1);
    // a risk member reads the run but may not credit
    const risk = await createStaff(own, { role: 'risk', brands: ['demo'] });
    const rp = await newPage(browser);
    await login(rp, own, risk);
    await rp.goto(`${own.url}/reconciliations/${run.id}`);
    await rp.locator('[data-testid=recon-item][data-class=status_mismatch]').waitFor();
    assert.equal(await rp.locator('[data-testid=item-credit]').count(), 0, 'no button for finance.read');
    await rp.close();
    const fin = await createStaff(own, { role: 'finance', brands: ['demo'] });
    const page = await newPage(browser);
    await login(page, own, fin);
    await page.goto(`${own.url}/reconciliations/${run.id}`);
    const item = page.locator(`[data-testid=recon-item][data-reference="${dep.psp_reference}"]`);
    await item.waitFor();
    await item.locator('[data-testid=item-credit]').click();
    const dlg = page.locator('[role=dialog][aria-label="Credit the player"]');
    await dlg.waitFor();
    await dlg.locator('textarea[name=reason]').fill('PSP confirmed by e-mail, ticket 41');
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' });
    await item.locator('[data-testid=item-status-now]').waitFor();
    assert.match(await item.locator('[data-testid=item-status-now]').textContent(), /completed/);
    assert.equal(await item.locator('[data-testid=item-credit]').count(), 0, 'credited: no button');
    const got = await expectStatus(adminCall(own, 'GET', `/v1/admin/payments/${dep.id}`), 200, 'payment');
    assert.equal(got.status, 'completed');
    assert.deepEqual(page.errors.filter((e) => !isResourceError(e)), []);
    await page.close();
  } finally {
    await own.finish();
  }
});
