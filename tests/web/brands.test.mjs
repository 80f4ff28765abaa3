/*
 * brands.test.mjs — the Brands page (list, settings, create) in a real browser
 * (headless Chromium) against a real `pitboss serve` (tests/web/harness.mjs: brands
 * "demo" EUR+USD and "other" EUR).
 *
 *   - an admin scoped to demo finds Brands in the navigation and sees demo only (no
 *     "New brand": only staff who see every brand create one); on demo's page they set
 *     the withdrawal 4-eyes threshold per currency in major units (1 500.50 EUR, 250 USD):
 *     the API then holds 150050 and 25000 minor units, audited as brand.update, and the
 *     page shows the saved values; an amount with more decimals than the currency has
 *     is refused at its field without a request;
 *   - the accepted currencies and the default: an unknown code is refused at the field
 *     (nothing changed); "eur usd, gbp" with USD the default is saved as the API then
 *     holds it, audited, and GBP gets its per-currency rows (a GBP threshold saved);
 *   - a bad value (an adjustment threshold of 0) shows the server's FIELD_INVALID at
 *     that setting, keeps what was typed, and changes nothing (the API's brand is the
 *     same, updated_at included);
 *   - a support member (brands.read only) sees the values read-only: no inputs, no Save;
 *   - an admin who sees every brand sees both brands and creates a third from the
 *     list: the API then has it, and the browser is on its page. (A member made with
 *     createStaff, as web_payments does, not the bootstrap admin: the harness's API
 *     login already used the admin's code one step ahead, so a browser login as them
 *     waited up to 30 s for the step after; a new member logs in at once.)
 * Screenshots: brands-list, brand-settings, brand-field-error.
 * Run: node --test --test-reporter=tap tests/web/brands.test.mjs [PATH/TO/pitboss]
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  adminCall, createStaff, expectStatus, isResourceError, launchBrowser, login, newPage, screenshot, startServer,
} from './harness.mjs';

let server, browser, scopedAdmin;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  scopedAdmin = await createStaff(server, { role: 'admin', brands: ['demo'] });
});

after(async () => {
  await browser?.close();
  if (server) await server.finish();
});

const brandApi = async (code) => (await expectStatus(adminCall(server, 'GET', `/v1/admin/brands/${code}`), 200)).brand;
const rowCodes = async (page) =>
  page.locator('[data-testid=brand-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));
const moneyInput = (page, key, cur) => page.locator(`[data-testid=brand-form] input[name="${key}.${cur}"]`);
const fieldError = (page, field) => page.locator(`[data-testid=field-error][data-field="${field}"]`);

/** Save, and wait for the PATCH's answer (the "Saved." of an earlier save may still show). */
async function saveAndWait(p) {
  const answered = p.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/v1/admin/brands/'));
  await p.getByTestId('brand-save').click();
  assert.equal((await answered).status(), 200);
  await p.getByTestId('saved').waitFor();
}

let page; // the scoped admin's, shared by the first three cases (one login)

test('a scoped admin: Brands lists their brand only; a per-currency threshold saved in major units is what the API then holds', async () => {
  page = await newPage(browser);
  await login(page, server, scopedAdmin);
  await page.locator('nav a[href="/brands"]').click();
  await page.locator('[data-testid=brand-row]').first().waitFor();
  assert.deepEqual(await rowCodes(page), ['demo']);
  const row = page.locator('[data-testid=brand-row][data-code=demo]');
  assert.equal(await row.getByTestId('brand-currencies').innerText(), 'EUR, USD');
  assert.equal(await page.getByTestId('brand-new').count(), 0, 'a scoped member creates no brand');
  await screenshot(page, 'brands-list');

  await row.getByTestId('brand-link').click();
  await page.locator('[data-testid=brand-page][data-code=demo]').waitFor();
  assert.equal(new URL(page.url()).pathname, '/brands/demo');
  const before = await brandApi('demo');

  // more decimals than EUR has: refused at its field, nothing sent
  await moneyInput(page, 'withdrawal_4eyes_thresholds', 'EUR').fill('10.001');
  await page.getByTestId('brand-save').click();
  await fieldError(page, 'settings.withdrawal_4eyes_thresholds.EUR').waitFor();
  assert.match(await fieldError(page, 'settings.withdrawal_4eyes_thresholds.EUR').innerText(), /at most 2 decimals/);
  assert.equal((await brandApi('demo')).updated_at, before.updated_at);

  await moneyInput(page, 'withdrawal_4eyes_thresholds', 'EUR').fill('1500.50');
  await moneyInput(page, 'withdrawal_4eyes_thresholds', 'USD').fill('250');
  await page.getByTestId('brand-save').click();
  await page.getByTestId('saved').waitFor();
  const after = await brandApi('demo');
  assert.deepEqual(after.settings.withdrawal_4eyes_thresholds, { EUR: 150050, USD: 25000 });
  for (const [k, v] of Object.entries(before.settings)) if (k !== 'withdrawal_4eyes_thresholds') assert.deepEqual(after.settings[k], v, k);
  // the page shows what was saved, as the API has it
  assert.equal(await moneyInput(page, 'withdrawal_4eyes_thresholds', 'EUR').inputValue(), '1500.50');
  assert.equal(await moneyInput(page, 'withdrawal_4eyes_thresholds', 'USD').inputValue(), '250.00');
  // audited by the server, with the acting member
  const audit = await expectStatus(adminCall(server, 'GET', '/v1/admin/audit?action=brand.update&target_kind=brand&target_id=demo'), 200);
  assert.equal(audit.entries.length, 1, JSON.stringify(audit.entries));
  assert.equal(audit.entries[0].actor_id, scopedAdmin.id);
  assert.deepEqual(audit.entries[0].after.settings.withdrawal_4eyes_thresholds, { EUR: 150050, USD: 25000 });
  await screenshot(page, 'brand-settings');
});

test('accepted currencies and the default: GBP added and USD made the default are what the API then holds; GBP gets its thresholds; an unknown code is refused at its field', async () => {
  const before = await brandApi('demo');
  const form = page.getByTestId('brand-form');
  const input = (name) => form.locator(`input[name="${name}"]`);
  assert.equal(await input('currencies').inputValue(), 'EUR, USD');
  assert.equal(await input('default_currency').inputValue(), 'EUR');
  assert.equal(await moneyInput(page, 'withdrawal_4eyes_thresholds', 'GBP').count(), 0);

  // a code the server does not know: CURRENCY_UNKNOWN at the currencies, nothing changed
  await input('currencies').fill('EUR, USD, QQQ');
  await page.getByTestId('brand-save').click();
  await fieldError(page, 'currencies').waitFor();
  assert.match(await fieldError(page, 'currencies').innerText(), /^CURRENCY_UNKNOWN: /);
  assert.equal(await input('currencies').inputValue(), 'EUR, USD, QQQ');
  assert.deepEqual(await brandApi('demo'), before);

  await input('currencies').fill('eur usd, gbp');
  await input('default_currency').fill('USD');
  await saveAndWait(page);
  const after = await brandApi('demo');
  assert.deepEqual(after.currencies, ['EUR', 'GBP', 'USD']); // kept sorted
  assert.equal(after.default_currency, 'USD');
  assert.deepEqual(after.settings, before.settings);
  assert.equal(after.currency_exponents.GBP, 2);
  // the saved brand: its facts, and a GBP row in every per-currency setting
  assert.equal(await page.locator('[data-testid=brand-facts] [data-testid=brand-currencies]').innerText(), 'EUR, GBP, USD');
  assert.equal(await input('currencies').inputValue(), 'EUR, GBP, USD');
  await moneyInput(page, 'withdrawal_4eyes_thresholds', 'GBP').fill('900');
  await saveAndWait(page);
  const withGbp = await brandApi('demo');
  assert.deepEqual(withGbp.settings.withdrawal_4eyes_thresholds, { EUR: 150050, USD: 25000, GBP: 90000 });
  const audit = await expectStatus(adminCall(server, 'GET', '/v1/admin/audit?action=brand.update&target_kind=brand&target_id=demo'), 200);
  assert.ok(audit.entries.some((e) => JSON.stringify(e.after.currencies) === '["EUR","GBP","USD"]'), 'audited');
});

test('a value the server refuses: its FIELD_INVALID at that setting, the input kept, nothing changed', async () => {
  const before = await brandApi('demo');
  await moneyInput(page, 'adjustment_4eyes_thresholds', 'EUR').fill('0');
  await moneyInput(page, 'withdrawal_4eyes_thresholds', 'USD').fill('300');
  await page.getByTestId('brand-save').click();
  const err = fieldError(page, 'settings.adjustment_4eyes_thresholds');
  await err.waitFor();
  assert.match(await err.innerText(), /^FIELD_INVALID: /);
  assert.equal(await page.getByTestId('saved').count(), 0);
  // the form keeps what was typed
  assert.equal(await moneyInput(page, 'adjustment_4eyes_thresholds', 'EUR').inputValue(), '0');
  assert.equal(await moneyInput(page, 'withdrawal_4eyes_thresholds', 'USD').inputValue(), '300');
  const now = await brandApi('demo');
  assert.deepEqual(now, before);
  await screenshot(page, 'brand-field-error');
  assert.deepEqual(page.errors.filter((e) => !isResourceError(e)), []);
  await page.close();
});

test('a member without brands.manage sees the settings read-only, with units, and no Save', async () => {
  const support = await createStaff(server, { role: 'support', brands: ['demo'] });
  const p = await newPage(browser);
  await login(p, server, support);
  await p.locator('nav a[href="/brands"]').click();
  await p.locator('[data-testid=brand-row][data-code=demo]').getByTestId('brand-link').click();
  await p.locator('[data-testid=brand-page][data-code=demo]').waitFor();
  await p.getByTestId('read-only').waitFor();
  assert.equal(await p.getByTestId('brand-save').count(), 0);
  assert.equal(await p.locator('[data-testid=brand-form] input, [data-testid=brand-form] select').count(), 0);
  const eur = p.locator('[data-testid=setting][data-field="settings.withdrawal_4eyes_thresholds"] [data-testid=setting-currency][data-currency=EUR]');
  assert.equal(await eur.getByTestId('value').innerText(), '1\u202f500.50 EUR');
  assert.equal(await p.locator('[data-testid=setting][data-field=currencies] [data-testid=value]').innerText(), 'EUR, GBP, USD');
  const hours = p.locator('[data-testid=setting][data-field="settings.adjustment_request_expiry_hours"]');
  assert.match(await hours.innerText(), /\(hours\)/);
  assert.deepEqual(p.errors.filter((e) => !isResourceError(e)), []);
  await p.close();
});

test('the admin who sees every brand lists them all and creates a brand from the list', async () => {
  const admin = await createStaff(server, { role: 'admin', allBrands: true });
  const p = await newPage(browser);
  await login(p, server, admin);
  await p.locator('nav a[href="/brands"]').click();
  await p.locator('[data-testid=brand-row]').first().waitFor();
  assert.deepEqual(await rowCodes(p), ['demo', 'other']);
  await p.getByTestId('brand-new').click();
  const form = p.getByTestId('brand-create');
  await form.locator('input[name=code]').fill('third');
  await form.locator('input[name=name]').fill('Third Casino');
  await form.locator('input[name=default_currency]').fill('GBP');
  await form.locator('input[name=currencies]').fill('eur');
  await form.locator('input[name=jurisdiction]').fill('gb');
  await form.getByRole('button', { name: 'Create brand' }).click();
  await p.locator('[data-testid=brand-page][data-code=third]').waitFor();
  const b = await brandApi('third');
  assert.equal(b.name, 'Third Casino');
  assert.equal(b.default_currency, 'GBP');
  assert.deepEqual(b.currencies, ['EUR', 'GBP']);
  assert.equal(b.jurisdiction, 'GB');
  // its settings are set on its page; the list has it
  assert.equal(await moneyInput(p, 'withdrawal_4eyes_thresholds', 'GBP').count(), 1);
  await p.locator('nav a[href="/brands"]').click();
  await p.locator('[data-testid=brand-row][data-code=third]').waitFor();
  assert.deepEqual(await rowCodes(p), ['demo', 'other', 'third']);
  assert.deepEqual(p.errors.filter((e) => !isResourceError(e)), []);
  await p.close();
});
