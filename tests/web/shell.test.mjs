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
 * Also, without a browser: the UI's decimal arithmetic, SSE parser and dashboard
 * model (web/src, transpiled with TypeScript on the fly).
 * Screenshots (login, enrolment, dashboard) go to $WEB_ARTIFACTS or build/web-artifacts.
 * Run: node --test --test-reporter=tap tests/web/shell.test.mjs (PITBOSS_BIN=… for the binary)
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  createStaff, deposit, expectStatus, fund, isResourceError, launchBrowser, login, newPage, nextCode, providerBet, providerWin, registerPlayer,
  requestWithdrawal, ROOT, screenshot, staffCall, startServer, stepNow, totp,
} from './harness.mjs';

let server, browser;
const tmpDirs = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  await browser?.close();
  if (server) {
    await server.finish();
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

/**
 * The UI's pure modules (decimal arithmetic, the SSE parser, the dashboard model)
 * transpiled from web/src with TypeScript into a temporary directory and imported:
 * they are tested here without a browser.
 */
async function loadUiModules() {
  const require = createRequire(path.join(ROOT, 'web', 'package.json'));
  const ts = require('typescript');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pbui.'));
  tmpDirs.push(dir);
  for (const rel of ['lib/decimal.ts', 'lib/api.ts', 'lib/events.ts', 'dashboard/model.ts']) {
    const src = readFileSync(path.join(ROOT, 'web', 'src', rel), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText.replace(/from '(\.\.?\/[^']+)'/g, "from '$1.mjs'");
    mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    writeFileSync(path.join(dir, rel.replace(/\.ts$/, '.mjs')), js);
  }
  const url = (rel) => pathToFileURL(path.join(dir, rel)).href;
  const mods = {
    decimal: await import(url('lib/decimal.mjs')),
    events: await import(url('lib/events.mjs')),
    model: await import(url('dashboard/model.mjs')),
    api: await import(url('lib/api.mjs')), // the same instance events.mjs uses
  };
  return mods;
}

let uiModules = null;
/** The transpiled modules, once (so lib/api's token state is the one events.ts reads). */
async function ui() {
  uiModules ??= await loadUiModules();
  return uiModules;
}

/** lib/api.ts with a sessionStorage for Node. */
async function importApi() {
  const store = new Map();
  globalThis.sessionStorage ??= {
    getItem: (k) => (store.has(k) ? store.get(k) : null),
    setItem: (k, v) => store.set(k, String(v)),
    removeItem: (k) => store.delete(k),
  };
  return (await ui()).api;
}

test('decimal arithmetic on amount strings is exact (BigInt, no floats)', async () => {
  const { decimal: d } = await ui();
  assert.equal(d.decAdd('0.10', '0.20'), '0.30');
  assert.equal(d.decAdd('1.5', '0.25'), '1.75');
  assert.equal(d.decSub('1.00', '2.50'), '-1.50');
  assert.equal(d.decSub('-0.30', '-0.30'), '0.00');
  assert.equal(d.decAdd('90071992547409930.01', '0.99'), '90071992547409931.00');
  assert.equal(d.decAdd('1000', '1'), '1001');
  assert.equal(d.decAdd('0.000001', '0.000009'), '0.000010');
  assert.equal(d.decCmp('0.00', '0'), 0);
  assert.equal(d.decCmp('-0.01', '0.00'), -1);
  assert.equal(d.decZeroLike('12.345'), '0.000');
  assert.throws(() => d.decAdd('1e3', '1'));
  assert.throws(() => d.decAdd('1.', '1'));
});

test('SSE parser: frames across chunk boundaries, CRLF, comments, multi-line data, retry', async () => {
  const { events } = await ui();
  const p = new events.SseParser();
  const text = 'retry: 3000\r\n\r\n: hb\n\nid: 7\nevent: bet.placed\ndata: {"a":\ndata: 1}\n\nevent: end\ndata: {"reason":"credentials_expired"}\n\n';
  const frames = [];
  for (let i = 0; i < text.length; i += 3) frames.push(...p.push(text.slice(i, i + 3))); // awkward splits
  assert.equal(frames.length, 4, JSON.stringify(frames));
  assert.equal(frames[0].retry, 3000);
  assert.equal(frames[1].comment, true);
  assert.deepEqual([frames[2].id, frames[2].event, frames[2].data.join('\n')], ['7', 'bet.placed', '{"a":\n1}']);
  assert.equal(frames[3].event, 'end');
  assert.equal(frames[3].id, undefined);
  // a CRLF split between two chunks ends one line, not two
  const q = new events.SseParser();
  assert.deepEqual(q.push('id: 1\r'), []);
  assert.deepEqual(q.push('\ndata: x\r'), []);
  const f = q.push('\n\r\n');
  assert.equal(f.length, 1);
  assert.deepEqual([f[0].id, f[0].data], ['1', ['x']]);
});

test('dashboard model: snapshot + events as the contract defines; the last hour rolls minute by minute', async () => {
  const { model: M } = await ui();
  const now = Date.parse('2026-11-21T14:05:30Z');
  const zero = { count: 0, amount: '0.00' };
  const win = (o = {}) => ({ deposits: zero, withdrawals: zero, bets: zero, wins: zero, rollbacks: zero, ggr: '0.00',
    active_players: 0, ...o });
  // the snapshot's minutes: a 5.00 bet at 13:35; a 2.00 win and a 10.00 deposit at 13:45
  const minutes = [];
  for (let i = 59; i >= 0; i--) {
    const t = new Date(Date.parse('2026-11-21T14:05:00Z') - i * 60_000).toISOString();
    const m = { minute: t, bets: '0.00', wins: '0.00', rollbacks: '0.00', ggr: '0.00', bet_count: 0, win_count: 0,
      rollback_count: 0, deposits: zero, withdrawals: zero };
    if (i === 30) Object.assign(m, { bets: '5.00', ggr: '5.00', bet_count: 1 });
    if (i === 20) Object.assign(m, { wins: '2.00', ggr: '-2.00', win_count: 1, deposits: { count: 1, amount: '10.00' } });
    minutes.push(m);
  }
  const snap = {
    as_of: new Date(now).toISOString(), since: '2026-11-21T00:00:00Z', last_event_id: 100,
    rows: [{ brand: 'demo', currency: 'EUR',
      today: win({ deposits: { count: 1, amount: '10.00' }, bets: { count: 3, amount: '9.00' },
        wins: { count: 1, amount: '2.00' }, ggr: '7.00', active_players: 1 }),
      last_hour: win({ deposits: { count: 1, amount: '10.00' }, bets: { count: 1, amount: '5.00' },
        wins: { count: 1, amount: '2.00' }, ggr: '3.00', active_players: 1 }),
      pending_withdrawals: { count: 1, amount: '20.00' }, minutes,
      active_player_ids_today: ['p1'], active_last_hour: [{ player_id: 'p1', last_bet_at: '2026-11-21T13:35:10Z' }],
      active_truncated: false }],
  };
  const m = new M.DashboardModel(snap);
  let id = 100;
  const ev = (type, amount, player = 'p2', at = '2026-11-21T14:05:40Z', extra = {}) =>
    m.apply({ id: ++id, type, brand: 'demo', subject: player, created_at: at,
      payload: { amount, currency: 'EUR', ...extra } });
  assert.equal(m.apply({ id: 100, type: 'deposit.completed', brand: 'demo', subject: 'p1', created_at: snap.as_of,
    payload: { amount: '99.00', currency: 'EUR' } }), false, 'an id already in the snapshot is ignored');
  ev('deposit.completed', '25.00');
  ev('bet.placed', '2.00');
  ev('bet.placed', '1.00', 'p1');
  ev('round.settled', '0.00'); // a losing round's close: nothing
  ev('round.settled', '3.50');
  ev('bet.rolled_back', '1.00');
  ev('withdrawal.requested', '7.00');
  ev('withdrawal.rejected', '7.00');
  ev('withdrawal.paid', '20.00');
  ev('withdrawal.approved', '5.00'); // nothing
  const r = m.rows.get('demo/EUR');
  assert.deepEqual(r.today.deposits, { count: 2, amount: '35.00' });
  assert.deepEqual(r.today.withdrawals, { count: 1, amount: '20.00' });
  assert.deepEqual(r.today.bets, { count: 5, amount: '12.00' });
  assert.deepEqual(r.today.wins, { count: 2, amount: '5.50' });
  assert.deepEqual(r.today.rollbacks, { count: 1, amount: '1.00' });
  assert.equal(r.today.ggr, '5.50');
  assert.equal(r.today.active_players, 2, 'p1 was already active: counted once');
  assert.deepEqual(r.pending, { count: 0, amount: '0.00' });
  const h = r.lastHour(now + 10_000); // before the first roll: the snapshot's hour + the events
  assert.deepEqual(h.bets, { count: 3, amount: '8.00' });
  assert.deepEqual(h.wins, { count: 2, amount: '5.50' });
  assert.deepEqual(h.deposits, { count: 2, amount: '35.00' });
  assert.equal(h.ggr, '1.50');
  assert.equal(h.active_players, 2);
  assert.equal(m.feed.length, 10);
  assert.equal(m.feed[0].type, 'withdrawal.approved');
  // this minute's bucket
  const mins = r.minutes(now);
  assert.equal(mins.length, 60);
  assert.deepEqual(mins[59], { minute: '2026-11-21T14:05:00.000Z', bets: '3.00', wins: '3.50', rollbacks: '1.00',
    ggr: '-1.50', bet_count: 2, win_count: 1, rollback_count: 1, deposits: { count: 1, amount: '25.00' },
    withdrawals: { count: 1, amount: '20.00' } });
  // 31 minutes later the snapshot's 13:35 bet and p1's activity have left the hour; its
  // 13:45 win and deposit have not, nor have ours
  const later = now + 31 * 60_000;
  m.roll(later);
  const h2 = r.lastHour(later);
  assert.deepEqual(h2.bets, { count: 2, amount: '3.00' });
  assert.deepEqual(h2.wins, { count: 2, amount: '5.50' });
  assert.deepEqual(h2.rollbacks, { count: 1, amount: '1.00' });
  assert.equal(h2.ggr, '-3.50');
  assert.equal(h2.active_players, 2, 'p1 bet again at 14:05');
  assert.deepEqual(h2.deposits, { count: 2, amount: '35.00' });
  assert.deepEqual(h2.withdrawals, { count: 1, amount: '20.00' });
  // at 14:45:30 the 13:45 minute has left: its win and deposit go, to the minute
  const exact = now + 40 * 60_000;
  m.roll(exact);
  const h2b = r.lastHour(exact);
  assert.deepEqual([h2b.wins, h2b.deposits, h2b.ggr],
    [{ count: 1, amount: '3.50' }, { count: 1, amount: '25.00' }, '-1.50']);
  // an hour and a bit later everything has left the hour; today keeps it
  const after = now + 62 * 60_000;
  m.roll(after);
  const h3 = r.lastHour(after);
  assert.deepEqual([h3.bets.count, h3.deposits.count, h3.active_players, h3.ggr], [0, 0, 0, '0.00']);
  assert.deepEqual(r.today.bets, { count: 5, amount: '12.00' });
  // a currency the snapshot did not have gets its own row
  ev('deposit.completed', '5.00', 'p9', '2026-11-21T15:08:00Z', { currency: 'USD' });
  assert.deepEqual(m.rows.get('demo/USD').today.deposits, { count: 1, amount: '5.00' });
  // the feed links the record an event names; a staff member as subject is not a player
  ev('withdrawal.rejected', '7.00', 'p2', undefined, { withdrawal_id: 'w 1' });
  assert.deepEqual([m.feed[0].link, m.feed[0].player], ['/withdrawals/w%201', 'p2']);
  ev('balance.adjustment_rejected', '1500.00', 'p2', undefined, { adjustment_id: 'a-1' });
  assert.deepEqual([m.feed[0].link, m.feed[0].player], ['/adjustments/a-1', 'p2']);
  ev('funds.unclaimed_settlement_requested', '5.00', 'staff-1', undefined, { settlement_id: 's-1' });
  assert.deepEqual([m.feed[0].link, m.feed[0].player], ['/unclaimed-funds?brand=demo', null]);
  ev('rtp.changed', '0.00', 'staff-1');
  assert.deepEqual([m.feed[0].link, m.feed[0].player], [null, null]);
  ev('bet.placed', '0.10', 'p3');
  assert.deepEqual([m.feed[0].link, m.feed[0].player], [null, 'p3']);
  // feed capped at 50
  for (let i = 0; i < 60; i++) ev('bet.placed', '0.10', 'p3', '2026-11-21T15:08:00Z');
  assert.equal(m.feed.length, 50);

  assert.equal(m.finance, true);
  assert.equal(r.finance, true);

  // without finance.read the snapshot's deposit, withdrawal and pending figures are null:
  // the rows say so (the page shows "not in your role"), bets and GGR still apply
  const nf = (w) => ({ ...w, deposits: null, withdrawals: null });
  const blind = new M.DashboardModel({ ...snap, rows: snap.rows.map((x) => ({ ...x, today: nf(x.today),
    last_hour: nf(x.last_hour), pending_withdrawals: null, minutes: x.minutes.map(nf) })) });
  assert.equal(blind.finance, false);
  const br = blind.rows.get('demo/EUR');
  assert.equal(br.finance, false);
  assert.deepEqual([br.today.deposits, br.pending], [zero, zero]);
  blind.apply({ id: 101, type: 'bet.placed', brand: 'demo', subject: 'p2', created_at: '2026-11-21T14:05:40Z',
    payload: { amount: '2.00', currency: 'EUR' } });
  assert.deepEqual(br.today.bets, { count: 4, amount: '11.00' });
  assert.equal(br.lastHour(now + 10_000).ggr, '5.00');
  blind.roll(later);
  assert.deepEqual([br.lastHour(later).deposits, br.lastHour(later).wins.count], [zero, 1],
    'rolled: the null per-minute deposits count as zeros');
  blind.apply({ id: 102, type: 'bet.placed', brand: 'demo', subject: 'p2', created_at: '2026-11-21T14:05:40Z',
    payload: { amount: '1.00', currency: 'USD' } });
  assert.equal(blind.rows.get('demo/USD').finance, false, 'a row the events open inherits it');
});

test('dashboard model: a returned payout leaves the withdrawn figures that counted it, as a new snapshot would', async () => {
  const { model: M } = await ui();
  const now = Date.parse('2026-11-21T14:05:30Z');
  const zero = { count: 0, amount: '0.00' };
  const win = (o = {}) => ({ deposits: zero, withdrawals: zero, bets: zero, wins: zero, rollbacks: zero, ggr: '0.00',
    active_players: 0, ...o });
  // paid today: 20.00 at 09:00 (today only) and 30.00 at 13:50:10 (today, the last hour, its minute)
  const minutes = [];
  for (let i = 59; i >= 0; i--) {
    const t = new Date(Date.parse('2026-11-21T14:05:00Z') - i * 60_000).toISOString();
    minutes.push({ minute: t, bets: '0.00', wins: '0.00', rollbacks: '0.00', ggr: '0.00', bet_count: 0, win_count: 0,
      rollback_count: 0, deposits: zero, withdrawals: i === 15 ? { count: 1, amount: '30.00' } : zero });
  }
  const snap = {
    as_of: new Date(now).toISOString(), since: '2026-11-21T00:00:00Z', last_event_id: 100,
    rows: [{ brand: 'demo', currency: 'EUR',
      today: win({ withdrawals: { count: 2, amount: '50.00' } }),
      last_hour: win({ withdrawals: { count: 1, amount: '30.00' } }),
      pending_withdrawals: { count: 2, amount: '22.00' }, minutes, // the 15.00 paid below, and 7.00
      active_player_ids_today: [], active_last_hour: [], active_truncated: false }],
  };
  const m = new M.DashboardModel(snap);
  let id = 100;
  const ev = (type, amount, extra = {}, at = '2026-11-21T14:05:40Z') =>
    m.apply({ id: ++id, type, brand: 'demo', subject: 'p1', created_at: at,
      payload: { amount, currency: 'EUR', ...extra } });
  const r = m.rows.get('demo/EUR');
  const minute = (iso) => r.minutes(now).find((b) => b.minute === iso).withdrawals;

  ev('withdrawal.paid', '15.00', {}, '2026-11-21T14:05:20Z'); // live: 14:05
  assert.deepEqual(r.today.withdrawals, { count: 3, amount: '65.00' });
  assert.deepEqual(r.lastHour(now + 10_000).withdrawals, { count: 2, amount: '45.00' });

  // the 13:50 one comes back: out of today, the hour and its minute
  ev('withdrawal.returned', '30.00', { paid_at: '2026-11-21T13:50:10.000000Z', status: 'returned' });
  assert.deepEqual(r.today.withdrawals, { count: 2, amount: '35.00' });
  assert.deepEqual(r.lastHour(now + 10_000).withdrawals, { count: 1, amount: '15.00' });
  assert.deepEqual(minute('2026-11-21T13:50:00.000Z'), zero);
  // the 09:00 one: out of today; the hour never had it
  ev('withdrawal.returned', '20.00', { paid_at: '2026-11-21T09:00:00.000000Z' });
  assert.deepEqual(r.today.withdrawals, { count: 1, amount: '15.00' });
  assert.deepEqual(r.lastHour(now + 10_000).withdrawals, { count: 1, amount: '15.00' });
  // paid yesterday, or no paid_at: no figure counted it (nothing moves); the feed shows both
  ev('withdrawal.returned', '40.00', { paid_at: '2026-11-20T22:00:00.000000Z' });
  ev('withdrawal.returned', '40.00');
  assert.deepEqual(r.today.withdrawals, { count: 1, amount: '15.00' });
  assert.deepEqual(r.lastHour(now + 10_000).withdrawals, { count: 1, amount: '15.00' });
  assert.deepEqual(r.pending, { count: 1, amount: '7.00' }, 'a returned payout was not pending');
  assert.deepEqual(m.feed.slice(0, 4).map((f) => f.type), Array(4).fill('withdrawal.returned'));
  // a currency no row has: no row opened for it
  ev('withdrawal.returned', '5.00', { paid_at: '2026-11-21T10:00:00.000000Z', currency: 'USD' });
  assert.equal(m.rows.has('demo/USD'), false);

  // rolled (the hour from the minutes): the live 14:05 one comes back too
  const later = now + 5 * 60_000;
  m.roll(later);
  assert.deepEqual(r.lastHour(later).withdrawals, { count: 1, amount: '15.00' });
  ev('withdrawal.returned', '15.00', { paid_at: '2026-11-21T14:05:20.000000Z' }, '2026-11-21T14:10:00Z');
  assert.deepEqual([r.today.withdrawals, r.lastHour(later).withdrawals, minute('2026-11-21T14:05:00.000Z')],
    [zero, zero, zero]);
});

test('event stream reader: 401 → refresh, a cut connection resumes with Last-Event-ID, end → fresh token, reset → gap', async () => {
  const { events } = await ui();
  const api = await importApi();
  const staff = await createStaff(server, { role: 'admin', allBrands: true });
  await expectStatus(staffCall(server, staff, 'GET', '/v1/admin/me'), 200, 'me');
  api.setTokens(staff.tokens);
  const snap = await expectStatus(staffCall(server, staff, 'GET', `/v1/admin/dashboard?since=${encodeURIComponent(
    new Date(Date.now() - 3_600_000).toISOString())}`), 200, 'dashboard');

  // fetch as the browser would (relative URLs), with a script per stream connection
  const realFetch = globalThis.fetch;
  const conns = [];
  let refreshes = 0;
  const plans = ['401', 'cut', 'end', 'pass'];
  const enc = new TextEncoder();
  globalThis.fetch = async (input, init = {}) => {
    const url = String(input).startsWith('/') ? server.url + input : String(input);
    if (url.includes('/v1/admin/refresh')) refreshes++;
    if (!url.includes('/v1/admin/events/stream')) return realFetch(url, init);
    const h = new Headers(init.headers);
    const plan = plans[conns.length] ?? 'pass';
    const conn = { plan, auth: h.get('Authorization'), last: h.get('Last-Event-ID'), ids: [] };
    conns.push(conn);
    if (plan === '401')
      return new Response('{"error":{"code":"TOKEN_EXPIRED","message":"expired"}}', { status: 401,
        headers: { 'Content-Type': 'application/json' } });
    const res = await realFetch(url, init);
    if (plan === 'pass' || !res.ok) return res;
    let seen = '';
    const cut = new TransformStream({
      start(ctrl) {
        if (plan === 'reset') ctrl.enqueue(enc.encode('event: reset\ndata: {"oldest_id":1}\n\n'));
      },
      transform(chunk, ctrl) {
        ctrl.enqueue(chunk);
        seen += new TextDecoder().decode(chunk);
        conn.ids = [...seen.matchAll(/(?:^|\n)id: (\d+)\n/g)].map((m) => Number(m[1]));
        if (plan !== 'reset' && /(^|\n)id: \d+\n[^]*?\n\n/.test(seen)) {
          if (plan === 'cut') ctrl.error(new Error('connection cut'));
          else {
            ctrl.enqueue(enc.encode('event: end\ndata: {"reason":"credentials_expired"}\n\n'));
            ctrl.terminate();
          }
        }
      },
    });
    return new Response(res.body.pipeThrough(cut), { status: res.status, headers: res.headers });
  };

  const got = [];
  const statuses = [];
  let gaps = 0;
  const es = events.openEventStream({
    lastEventId: snap.last_event_id,
    onEvent: (e) => got.push(e),
    onGap: () => gaps++,
    onStatus: (s) => statuses.push(s),
  });
  const waitFor = async (what, cond, ms = 20_000) => {
    for (const end = Date.now() + ms; !cond(); ) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; conns ${JSON.stringify(conns)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const deposited = (amount) => got.filter((e) => e.type === 'deposit.completed' && e.payload.amount === amount);
  try {
    const p = await registerPlayer(server, { brand: 'demo' });
    await waitFor('the second connection', () => conns.length >= 2 && statuses.includes('live'));
    await deposit(server, p, '1.11');
    await waitFor('the first deposit', () => deposited('1.11').length === 1);
    await deposit(server, p, '2.22'); // made while the cut connection waits to reconnect
    await waitFor('the second deposit after the resume', () => deposited('2.22').length === 1);
    await waitFor('the fourth connection', () => conns.length >= 4);
    await deposit(server, p, '3.33');
    await waitFor('the third deposit', () => deposited('3.33').length === 1);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    es.close();
  }
  // every event once, in id order, nothing missed across the cut and the end (this
  // member sees every type in every brand: the outbox ids after the snapshot's, contiguous)
  const ids = got.map((e) => e.id);
  assert.deepEqual(ids, ids.map((_, i) => snap.last_event_id + 1 + i), JSON.stringify(ids));
  for (const a of ['1.11', '2.22', '3.33']) assert.equal(deposited(a).length, 1, a);
  // 401 → a refresh and a new token; the cut and the end → Last-Event-ID = the last id
  // that connection delivered; end (credentials_expired) → a fresh token
  const brief = JSON.stringify(conns.map(({ plan, last, ids: i }) => ({ plan, last, ids: i })));
  assert.equal(conns[0].last, String(snap.last_event_id));
  assert.notEqual(conns[1].auth, conns[0].auth);
  assert.ok(conns[1].ids.length > 0 && conns[2].ids.length > 0, brief);
  assert.equal(conns[2].last, String(conns[1].ids.at(-1)), brief);
  assert.equal(conns[3].last, String(conns[2].ids.at(-1)), brief);
  assert.notEqual(conns[3].auth, conns[2].auth);
  assert.ok(refreshes >= 2, `refreshes ${refreshes}`);
  assert.ok(statuses.includes('retrying'), statuses.join(','));
  assert.equal(gaps, 0);

  // a reset frame (events pruned) is a gap
  plans.length = 0;
  conns.length = 0;
  plans.push('reset');
  const es2 = events.openEventStream({ lastEventId: 1, onEvent: () => {}, onGap: () => gaps++ });
  try {
    await waitFor('the gap', () => gaps === 1);
  } finally {
    es2.close();
    globalThis.fetch = realFetch;
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

test('a locked account: the server\'s ACCOUNT_LOCKED message with the wait from Retry-After', async () => {
  const staff = await createStaff(server, { role: 'support', brands: ['demo'], enrol: false });
  const page = await newPage(browser);
  await page.goto(server.url + '/');
  const attempt = async (password) => {
    await page.fill('form.login input[name=email]', staff.email);
    await page.fill('form.login input[name=password]', password);
    await page.click('form.login button[type=submit]');
    await page.locator('[data-testid=login-error]').waitFor();
    await page.waitForFunction(() => !document.querySelector('form.login button[type=submit]')?.disabled);
    return (await page.locator('[data-testid=login-error]').textContent()).trim();
  };
  const first = await attempt('not-the-password-1');
  assert.match(first, /^CREDENTIALS_INVALID: /);
  let last = first;
  for (let i = 2; i <= 6 && !/ACCOUNT_LOCKED/.test(last); i++) last = await attempt(`not-the-password-${i}`);
  // locked now: even the right password is refused, with the wait
  const locked = await attempt(staff.password);
  assert.match(locked, /^ACCOUNT_LOCKED: .*\(try again in \d+ (s|min)\)$/);
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

  // the time-zone selector: times are shown in the chosen zone, and the choice is kept
  await page.selectOption('[data-testid=tz-select]', 'Asia/Tokyo');
  await page.waitForFunction(() => {
    const last = document.querySelector('[data-testid=chart-bets] .chart-scale span:last-child')?.textContent;
    const fmt = (tz) => new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit',
      hourCycle: 'h23' }).format(new Date(Math.floor(Date.now() / 60_000) * 60_000));
    return last === fmt('Asia/Tokyo') && fmt('Asia/Tokyo') !== fmt('UTC');
  }, undefined, { timeout: 10_000 });
  await page.reload();
  await page.locator('[data-testid=whoami]').waitFor();
  assert.equal(await page.locator('[data-testid=tz-select]').inputValue(), 'Asia/Tokyo');

  // logout: the login form, and a reload does not bring the session back
  await page.click('[data-testid=logout]');
  await page.locator('form.login').waitFor();
  await page.reload();
  await page.locator('form.login').waitFor();
  assert.equal(await page.locator('[data-testid=whoami]').count(), 0);
  assert.deepEqual(page.errors.filter((e) => !isResourceError(e)), []);
  await page.close();
});

test('the navigation spans the viewport on a long page and scrolls on its own when taller', async () => {
  const staff = await createStaff(server, { role: 'admin', allBrands: true });
  const page = await newPage(browser);
  await login(page, server, staff);
  await page.locator('[data-testid=stream-status].live').waitFor({ timeout: 15_000 });
  await page.setViewportSize({ width: 1360, height: 420 }); // the dashboard is taller than this
  const at = () => page.evaluate(() => {
    const n = document.querySelector('nav.nav');
    const r = n.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, vh: innerHeight, page: document.documentElement.scrollHeight,
      scrollY, navScroll: n.scrollHeight, navClient: n.clientHeight, overflow: getComputedStyle(n).overflowY };
  });
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const b = await at();
  assert.ok(b.page > b.vh + 100 && b.scrollY > 0, JSON.stringify(b));
  assert.equal(b.top, 0, 'sticks to the top when scrolled');
  assert.equal(b.bottom, b.vh, 'reaches the bottom of the viewport');
  // taller than the viewport: it scrolls by itself (the staff member and logout stay reachable)
  assert.equal(b.overflow, 'auto');
  assert.ok(b.navScroll > b.navClient, JSON.stringify(b));
  await page.locator('[data-testid=logout]').scrollIntoViewIfNeeded();
  assert.ok(await page.evaluate(() => document.querySelector('nav.nav').scrollTop) > 0);
  await page.locator('[data-testid=logout]').click({ trial: true });
  await screenshot(page, 'shell-long-page');
  await page.close();
});

test('dashboard without finance.read (game_ops): no deposit/withdrawal figures, bets still move live', async () => {
  const staff = await createStaff(server, { role: 'game_ops', brands: ['demo'] });
  const page = await newPage(browser);
  await login(page, server, staff);
  await page.locator('[data-testid=stream-status].live').waitFor({ timeout: 15_000 });
  if (await page.locator('[data-testid=row-select]').count()) await page.selectOption('[data-testid=row-select]', 'demo/EUR');
  await page.locator('[data-testid=figures][data-brand=demo][data-currency=EUR]').waitFor();
  const hidden = async () => {
    for (const w of ['today', 'hour'])
      for (const k of ['deposits', 'withdrawals']) {
        assert.equal((await page.locator(`[data-testid=kpi-${w}-${k}-hidden]`).textContent()).trim(), 'not in your role');
        assert.equal(await page.locator(`[data-testid=kpi-${w}-${k}-count]`).count(), 0);
        assert.equal(await page.locator(`[data-testid=kpi-${w}-${k}-amount]`).count(), 0);
      }
    assert.equal((await page.locator('[data-testid=kpi-pending-hidden]').textContent()).trim(), 'not in your role');
    assert.equal(await page.locator('[data-testid=kpi-pending-count]').count(), 0);
    assert.equal(await page.locator('[data-testid=kpi-pending-amount]').count(), 0);
  };
  await hidden();
  const bets = Number((await page.locator('[data-testid=kpi-today-bets-count]').textContent()).trim());

  const p = await registerPlayer(server, { brand: 'demo' });
  await deposit(server, p, '25.00');
  await requestWithdrawal(server, p, '5.00');
  await providerBet(server, p, { amount: '2.00' });
  await page.waitForFunction(
    ([n]) => Number(document.querySelector('[data-testid=kpi-today-bets-count]')?.textContent) >= n,
    [bets + 1],
    { timeout: 15_000 },
  );
  await page.locator('[data-testid=feed] tr[data-type="bet.placed"]').first().waitFor();
  await hidden();
  // the stream sends this role no deposit or withdrawal events
  assert.equal(await page.locator('[data-testid=feed] tr[data-type^="deposit."]').count(), 0);
  assert.equal(await page.locator('[data-testid=feed] tr[data-type^="withdrawal."]').count(), 0);
  await screenshot(page, 'dashboard-game-ops');
  assert.deepEqual(page.errors.filter((e) => !isResourceError(e)), []);
  await page.close();
});
