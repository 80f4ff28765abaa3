/*
 * harness.mjs — what the browser tests (tests/web/*.test.mjs) share: a real
 * `pitboss serve` with the built UI, staff and players made through the API,
 * money moved the way the Python API tests move it, and a headless Chromium.
 *
 * Run a test file as
 *     node --test --test-reporter=tap tests/web/<name>.test.mjs [PATH/TO/pitboss]
 * (meson does, suite 'web', plain build only; `make test-web` runs them all).
 * The pitboss binary comes from argv[2] or $PITBOSS_BIN (default build/pitboss);
 * the UI from $PITBOSS_WEB_DIR or web/dist (build it first: scripts/web-build.sh).
 *
 * startServer() → a server on a fresh database in a temporary directory:
 *   - the bootstrap admin (server.admin: admin@example.com), activated: password
 *     changed, TOTP enrolled; its API calls go through adminCall();
 *   - brands "demo" (EUR default, USD) and "other" (EUR), both MT;
 *   - the sandbox PSP on (payouts confirmed after 300 ms);
 *   - a native-protocol provider "studio" (secret PROVIDER_SECRET) with a game
 *     "slot1" (bets 0.10..100.00 EUR/USD), enabled for both brands, and the
 *     in-house dice enabled for both;
 *   - server.url, .dbPath, .dir, .cli(args) (pitboss with this database and keys:
 *     {code, stdout, stderr}), .stop() (SIGTERM, resolves with the exit code).
 *
 * Staff: createStaff(server, {email, role, brands, allBrands, enrol}) creates a
 * member as the admin and (unless enrol: false) logs in with the one-time
 * password, sets `password`, enrols TOTP and confirms it. The returned object
 * is {email, password, totpSecret, id, ip, lastStep}: keep passing the same
 * object (login() and nextCode() update lastStep). identity accepts a code of
 * step now-1..now+1 but only above the member's last used step, so a second
 * login within 30 s waits for the next step (nextCode does).
 *
 * Every API request of the harness goes from its own loopback address
 * (127.0.9.N for staff, 127.0.10.N for players): identity rate-limits logins per
 * client IP and the browser's own logins come from 127.0.0.1.
 *
 * Write cases as top-level test() calls (scripts/test-summary.py counts every
 * "ok" line, nested subtests included). A new tests/web/<name>.test.mjs is run
 * by meson once listed at @web-tests in tests/meson.build.
 *
 * Node's standard library plus playwright-core (from web/node_modules).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PROVIDER_SECRET = '5a'.repeat(32); // hex; the HMAC key is its bytes
export const PLAYER_PASSWORD = 'Player-pass-77';
export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'Blue-Falcon-0-Xy';

const require = createRequire(path.join(ROOT, 'web', 'package.json'));

/** The pitboss binary: argv[2], $PITBOSS_BIN, else build/pitboss. */
export function pitbossBin() {
  const arg = process.argv.slice(2).find((a) => !a.startsWith('-') && existsSync(a));
  return path.resolve(arg || process.env.PITBOSS_BIN || path.join(ROOT, 'build', 'pitboss'));
}

/** The built UI: $PITBOSS_WEB_DIR, else web/dist. */
export function webDir() {
  return path.resolve(process.env.PITBOSS_WEB_DIR || path.join(ROOT, 'web', 'dist'));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let ipCounter = 10;
/** A fresh loopback source address in 127.0.<net>.N. */
function nextIp(net = 9) {
  const n = ipCounter++;
  return `127.0.${net + Math.floor(n / 250)}.${(n % 250) + 2}`;
}

function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PITBOSS_')) env[k] = v;
  // argon2id at libsodium's minimum cost (every test logs in; see tests/api/harness.py)
  // the sandbox PSP is off unless asked for; the tests pay through it
  return { ...env, PITBOSS_PWHASH_COST: 'min', PITBOSS_SANDBOX_PSP: '1', ...extra };
}

// ---- HTTP ---------------------------------------------------------------

/**
 * One request to the server: {status, headers, text, json}. opts: method, path,
 * body (JSON-encoded unless raw: a string/Buffer sent as is), token (Bearer),
 * headers, ip (source address).
 */
export function request(server, { method = 'GET', path: p, body, raw, token, headers = {}, ip }) {
  const u = new URL(server.url);
  const h = { ...headers };
  let data = raw;
  if (body !== undefined) data = JSON.stringify(body);
  if (data !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
    h['Content-Type'] = 'application/json';
  if (token) h.Authorization = `Bearer ${token}`;
  if (data !== undefined) h['Content-Length'] = Buffer.byteLength(data);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: p, headers: h, localAddress: ip, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${p}: timeout`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** request() that insists on one of the wanted statuses; resolves with the JSON body. */
export async function expectStatus(promise, want, what = '') {
  const r = await promise;
  const ok = Array.isArray(want) ? want.includes(r.status) : r.status === want;
  if (!ok) throw new Error(`${what || 'request'}: want ${want}, got ${r.status}: ${r.text.slice(0, 400)}`);
  return r.json;
}

// ---- TOTP (RFC 6238: SHA-1, 6 digits, 30 s) -------------------------------

function base32(secret) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0,
    value = 0;
  const out = [];
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    const i = alpha.indexOf(ch);
    if (i < 0) throw new Error(`bad base32 character ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function stepNow() {
  return Math.floor(Date.now() / 1000 / 30);
}

/** The 6-digit code of a base32 secret at a step (default: now). */
export function totp(secret, step = stepNow()) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

/**
 * A code the server accepts now for this staff member and that they have not
 * used (waits for the next 30-second step when needed); marks it used.
 */
export async function nextCode(staff) {
  for (;;) {
    const now = stepNow();
    const step = Math.max((staff.lastStep ?? -1) + 1, now);
    if (step <= now + 1) {
      staff.lastStep = step;
      return totp(staff.totpSecret, step);
    }
    await sleep(30_000 - (Date.now() % 30_000) + 200);
  }
}

// ---- staff through the API -------------------------------------------------

async function staffLogin(server, staff) {
  const body = { email: staff.email, password: staff.password };
  if (staff.totpSecret) body.totp = await nextCode(staff);
  const t = await expectStatus(
    request(server, { method: 'POST', path: '/v1/admin/login', body, ip: staff.ip }),
    200,
    `login ${staff.email}`,
  );
  staff.tokens = t;
  staff.expires = Date.now() + 280_000;
  staff.id = t.staff_id;
  return t;
}

/** A request as a staff member (harness-made: admin or createStaff), refreshing the token when due. */
export async function staffCall(server, staff, method, p, body, extra = {}) {
  if (!staff.tokens || staff.tokens.scope !== 'full' || Date.now() > staff.expires) {
    if (staff.tokens?.refresh_token) {
      const r = await request(server, {
        method: 'POST',
        path: '/v1/admin/refresh',
        body: { refresh_token: staff.tokens.refresh_token },
        ip: staff.ip,
      });
      if (r.status === 200) {
        staff.tokens = r.json;
        staff.expires = Date.now() + 280_000;
      } else await staffLogin(server, staff);
    } else await staffLogin(server, staff);
  }
  return request(server, { method, path: p, body, token: staff.tokens.access_token, ip: staff.ip, ...extra });
}

/** A request as the bootstrap admin. */
export function adminCall(server, method, p, body, extra) {
  return staffCall(server, server.admin, method, p, body, extra);
}

/** Password change, TOTP enrolment and confirmation in a setup session. */
async function activate(server, staff, newPassword) {
  const t = await staffLogin(server, staff);
  if (t.scope !== 'setup') throw new Error(`${staff.email}: expected a setup session, got ${t.scope}`);
  const call = (m, p, b) =>
    request(server, { method: m, path: p, body: b, token: staff.tokens.access_token, ip: staff.ip });
  if (t.must_change_password) {
    await expectStatus(call('POST', '/v1/admin/password', { current: staff.password, new: newPassword }), 200, 'password');
    staff.password = newPassword;
  }
  const e = await expectStatus(call('POST', '/v1/admin/totp/enroll'), 200, 'totp enroll');
  staff.totpSecret = e.secret;
  staff.otpauthUri = e.otpauth_uri;
  staff.lastStep = -1;
  await expectStatus(call('POST', '/v1/admin/totp/confirm', { code: await nextCode(staff) }), 200, 'totp confirm');
  staff.tokens = null; // the setup session is spent: the next call logs in with a full one
  return staff;
}

let staffCounter = 0;
/**
 * Creates a staff member as the admin. opts: email, role (e.g. "finance",
 * "support", "admin"), brands (codes), allBrands, password (the one they set;
 * default generated), enrol (default true: activated as described above;
 * false: {email, password: the one-time password, id} for a UI enrolment test).
 */
export async function createStaff(server, opts = {}) {
  const n = ++staffCounter;
  const body = { email: opts.email ?? `staff${n}@example.com`, role: opts.role ?? 'admin' };
  if (opts.allBrands) body.all_brands = true;
  if (opts.brands) body.brands = opts.brands;
  const r = await expectStatus(adminCall(server, 'POST', '/v1/admin/staff', body), 201, 'create staff');
  const staff = { email: body.email, password: r.one_time_password, id: r.staff.id, ip: nextIp(9), lastStep: -1 };
  if (opts.enrol === false) return staff;
  return activate(server, staff, opts.password ?? `Blue-Falcon-${n}-Xy${randomBytes(3).toString('hex')}`);
}

// ---- the server ----------------------------------------------------------

/**
 * Starts `pitboss serve` on a fresh database with the demo setup (see the top
 * of the file). opts: pitboss (binary), env (extra environment), webDir, setup
 * (default true; false: only the bootstrap admin, activated).
 */
export async function startServer(opts = {}) {
  const bin = path.resolve(opts.pitboss ?? pitbossBin());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pbweb.'));
  const dbPath = path.join(dir, 'pitboss.db');
  const keys = path.join(dir, 'keys');
  const cliEnv = cleanEnv({ PITBOSS_DB: dbPath, PITBOSS_KEYS_DIR: keys });
  const cli = (args) => {
    const r = spawnSync(bin, args, { env: cliEnv, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const made = cli(['admin', 'create', '--email', ADMIN_EMAIL, '--db', dbPath]);
  const otp = /one-time password: (\S+)/.exec(made.stdout)?.[1];
  if (made.code !== 0 || !otp) throw new Error(`pitboss admin create: ${made.code}\n${made.stdout}\n${made.stderr}`);

  const args = ['serve', '--listen', '127.0.0.1:0', '--db', dbPath, '--keys-dir', keys,
    '--web-dir', opts.webDir ?? webDir()];
  const proc = spawn(bin, args, {
    cwd: dir,
    // PITBOSS_WAL_RESERVE=0: ~280 MB of zeros per fresh database is not what these test
    env: cleanEnv({ PITBOSS_SANDBOX_PAYOUT_DELAY_MS: '300', PITBOSS_WAL_RESERVE: '0', ...(opts.env ?? {}) }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs = [];
  let exited = null;
  const exit = new Promise((resolve) => proc.on('exit', (code, sig) => resolve((exited = code ?? sig))));
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no http.listening:\n${logs.slice(-20).join('\n')}`)), 30_000);
    proc.stderr.on('data', (d) => {
      buf += d.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        if (logs.length > 5000) logs.splice(0, 1000);
        if (line.includes('"event":"http.listening"')) {
          try {
            clearTimeout(timer);
            resolve(JSON.parse(line).url);
          } catch {
            /* keep reading */
          }
        }
      }
    });
    exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`pitboss serve exited (${code}):\n${logs.slice(-20).join('\n')}`));
    });
  });

  const server = {
    url,
    dbPath,
    dir,
    keysDir: keys,
    logs,
    proc,
    cli,
    admin: { email: ADMIN_EMAIL, password: otp, ip: nextIp(9), lastStep: -1 },
    async stop() {
      if (exited === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
    /** After stop(): `ledger verify` and `audit verify` on the database; throws on a failure. */
    verify() {
      const l = cli(['ledger', 'verify', '--db', dbPath]);
      if (l.code !== 0) throw new Error(`ledger verify: ${l.code}\n${l.stdout}\n${l.stderr}`);
      const a = cli(['audit', 'verify', '--db', dbPath, '--keys-dir', keys]);
      if (a.code !== 0 || !/ 0 violation\(s\)/.test(a.stdout))
        throw new Error(`audit verify: ${a.code}\n${a.stdout}\n${a.stderr}`);
      return true;
    },
    cleanup() {
      if (exited === null) proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    /** The end of a test's server: stop(), which must exit 0, verify(), and always cleanup(). */
    async finish() {
      try {
        const code = await this.stop();
        if (code !== 0) throw new Error(`server exit status ${code}`);
        this.verify();
      } finally {
        this.cleanup();
      }
    },
  };
  try {
    for (let deadline = Date.now() + 20_000; ; ) {
      try {
        if ((await request(server, { path: '/healthz' })).status === 200) break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error('server never answered /healthz');
      await sleep(50);
    }
    await activate(server, server.admin, ADMIN_PASSWORD);
    if (opts.setup !== false) await demoSetup(server);
  } catch (e) {
    server.cleanup(); // never leave a server behind
    throw e;
  }
  return server;
}

async function demoSetup(server) {
  const a = (m, p, b, want) => expectStatus(adminCall(server, m, p, b), want, `${m} ${p}`);
  await a('POST', '/v1/admin/brands', { code: 'demo', name: 'Demo', default_currency: 'EUR',
    currencies: ['EUR', 'USD'], jurisdiction: 'MT',
    settings: { withdrawal_4eyes_thresholds: { EUR: 100000, USD: 100000 } } }, 201);
  await a('POST', '/v1/admin/brands', { code: 'other', name: 'Other', default_currency: 'EUR',
    currencies: ['EUR'], jurisdiction: 'MT' }, 201);
  await a('POST', '/v1/admin/providers', { code: 'studio', name: 'Studio', protocol: 'native',
    secret: PROVIDER_SECRET }, 201);
  const limits = ['EUR', 'USD'].map((currency) => ({ currency, min_bet: '0.10', max_bet: '100.00' }));
  await a('POST', '/v1/admin/providers/studio/games', { code: 'slot1', name: 'Slot One', category: 'slots',
    rtp_bp: 9600, volatility: 'medium', limits }, 201);
  for (const b of ['demo', 'other']) {
    await a('PUT', `/v1/admin/brands/${b}/games/studio/slot1`, { enabled: true }, 200);
    await a('GET', `/v1/admin/brands/${b}/originals`, undefined, 200);
    await a('PUT', `/v1/admin/brands/${b}/games/pitboss/dice`, { enabled: true }, 200);
  }
}

// ---- players and money ---------------------------------------------------

let playerCounter = 0;
/**
 * Registers and logs in a player. opts: brand (default "demo"), email,
 * currency, country ("MT"), dob, password. → {id, email, brand, currency,
 * password, token, ip}.
 */
export async function registerPlayer(server, opts = {}) {
  const n = ++playerCounter;
  const brand = opts.brand ?? 'demo';
  const email = opts.email ?? `player${n}-${randomBytes(3).toString('hex')}@example.com`;
  const password = opts.password ?? PLAYER_PASSWORD;
  const ip = nextIp(10);
  const body = { brand, email, password, country: opts.country ?? 'MT', date_of_birth: opts.dob ?? '1990-01-01' };
  if (opts.currency) body.currency = opts.currency;
  const r = await expectStatus(request(server, { method: 'POST', path: '/v1/player/register', body, ip }), 201, 'register');
  const player = { id: r.player.id, email, brand, currency: opts.currency ?? 'EUR', password, ip, player: r.player };
  const t = await expectStatus(
    request(server, { method: 'POST', path: '/v1/player/login', body: { brand, email, password }, ip }),
    200,
    'player login',
  );
  player.token = t.access_token;
  return player;
}

/** A request as a player (their access token, their address). */
export function playerCall(server, player, method, p, body, extra = {}) {
  return request(server, { method, path: p, body, token: player.token, ip: player.ip, ...extra });
}

let keyCounter = 0;
const ikey = (prefix) => `${prefix}-${Date.now()}-${++keyCounter}-${randomBytes(4).toString('hex')}`;

/**
 * A deposit through the sandbox PSP, completed (or failed: {fail: true}) the way
 * the player's browser would: POST /v1/player/deposits, then the sandbox's
 * complete endpoint. amount: a decimal string ("25.00"). → the deposit as created.
 */
export async function deposit(server, player, amount, opts = {}) {
  const d = await expectStatus(
    playerCall(server, player, 'POST', '/v1/player/deposits', { amount, idempotency_key: ikey('dep') }),
    201,
    'deposit',
  );
  const verb = opts.fail ? 'fail' : 'complete';
  const r = await expectStatus(
    request(server, { method: 'POST', path: `/v1/sandbox-psp/payments/${d.psp_reference}/${verb}`, ip: '127.0.8.30' }),
    200,
    'sandbox',
  );
  if (r.outcome !== 'applied') throw new Error(`sandbox ${verb}: ${JSON.stringify(r)}`);
  return d;
}

/** Puts money on a player's balance by a staff adjustment (cash unless balance: "bonus"). */
export async function fund(server, player, amount, balance = 'cash') {
  return expectStatus(
    adminCall(server, 'POST', `/v1/admin/players/${player.id}/adjustments`, {
      balance, direction: 'credit', amount, reason: 'test funds', idempotency_key: ikey('fund') }),
    201,
    'adjustment',
  );
}

/** A withdrawal request by the player (needs cash: deposit first). → the withdrawal. */
export async function requestWithdrawal(server, player, amount) {
  return expectStatus(
    playerCall(server, player, 'POST', '/v1/player/withdrawals', { amount, idempotency_key: ikey('wd') }),
    201,
    'withdrawal',
  );
}

/** A signed call of the native provider protocol (provider "studio"). → {status, json, ...}. */
export function providerCall(server, op, body, provider = 'studio') {
  const data = JSON.stringify(body);
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = createHmac('sha256', Buffer.from(PROVIDER_SECRET, 'hex')).update(`${ts}.${data}`).digest('hex');
  return request(server, {
    method: 'POST',
    path: `/v1/providers/${provider}/${op}`,
    raw: data,
    headers: { 'Content-Type': 'application/json', 'X-Pitboss-Timestamp': ts, 'X-Pitboss-Signature': `sha256=${mac}` },
    ip: '127.0.8.40',
  });
}

async function launchToken(server, player, game) {
  player.launch ??= {};
  if (!player.launch[game]) {
    const r = await expectStatus(playerCall(server, player, 'POST', `/v1/player/games/studio/${game}/launch`), 201, 'launch');
    player.launch[game] = r.token;
  }
  return player.launch[game];
}

/**
 * A provider bet on studio's game (default slot1). opts: amount ("1.00"), game,
 * round, tx, currency (the player's). → {tx, round, ...the provider answer}.
 */
export async function providerBet(server, player, opts = {}) {
  const tx = opts.tx ?? ikey('bet');
  const round = opts.round ?? ikey('rnd');
  const body = { token: await launchToken(server, player, opts.game ?? 'slot1'), transaction_id: tx, round_id: round,
    game: opts.game ?? 'slot1', currency: opts.currency ?? player.currency, amount: opts.amount ?? '1.00' };
  const r = await expectStatus(providerCall(server, 'bet', body), 200, 'provider bet');
  return { ...r, tx, round };
}

/**
 * A provider win for a bet made with providerBet (bet: its result, or {tx, round}).
 * opts: amount, tx, currency.
 */
export async function providerWin(server, player, bet, opts = {}) {
  const tx = opts.tx ?? ikey('win');
  const body = { token: await launchToken(server, player, opts.game ?? 'slot1'), transaction_id: tx, round_id: bet.round,
    bet_transaction_id: bet.tx, currency: opts.currency ?? player.currency, amount: opts.amount ?? '2.00' };
  const r = await expectStatus(providerCall(server, 'win', body), 200, 'provider win');
  return { ...r, tx };
}

/**
 * Unclaimed funds as they arise: a new player of demo funded with `stake` EUR bets it
 * all on a round left open, the round idles 31 days (wallet_op aged by SQL), she is
 * erased (demo's erase_after_days set to 0 meanwhile, then restored), and the
 * provider's late win of `win` lands on demo's unclaimed_funds account.
 * → {player, bet, tx (the win's transaction id), answer (the provider's)}.
 */
export async function erasedLateWin(server, { win, stake = '3.00' }) {
  const player = await registerPlayer(server, {});
  await fund(server, player, stake);
  const bet = await providerBet(server, player, { amount: stake });
  const brand = (await expectStatus(adminCall(server, 'GET', '/v1/admin/brands/demo'), 200)).brand;
  await expectStatus(adminCall(server, 'PATCH', '/v1/admin/brands/demo',
    { settings: { ...brand.settings, erase_after_days: 0 } }), 200, 'brand settings');
  try {
    const old = spawnSync('sqlite3', ['-cmd', '.timeout 10000', server.dbPath, `UPDATE wallet_op SET created_at = created_at - ${31 * 86400 * 1e6} WHERE player = '${player.id}'`], { encoding: 'utf8' });
    if (old.status !== 0) throw new Error(`aging the round: ${old.stderr}`);
    await expectStatus(adminCall(server, 'POST', `/v1/admin/players/${player.id}/erase`, { reason: 'RTBF unclaimed' }), 200, 'erase');
  } finally {
    await expectStatus(adminCall(server, 'PATCH', '/v1/admin/brands/demo', { settings: brand.settings }), 200, 'restore');
  }
  const tx = `late-${Date.now()}`;
  const answer = await expectStatus(providerCall(server, 'win', { token: player.launch.slot1, transaction_id: tx,
    round_id: bet.round, bet_transaction_id: bet.tx, currency: 'EUR', amount: win }), 200, 'late win');
  return { player, bet, tx, answer };
}

// ---- the browser -----------------------------------------------------------

/** Headless Chromium (Debian's /usr/bin/chromium or $CHROMIUM). Close it in an after() hook. */
export async function launchBrowser() {
  const { chromium } = require('playwright-core');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: root ? ['--no-sandbox'] : [],
  });
}

/**
 * A new page (own context: own sessionStorage) with its errors collected in
 * page.errors: uncaught exceptions and console errors, including the browser's
 * own "Failed to load resource: … status of 422" line of every refused API call
 * (filter those out when a test expects refusals; isResourceError() tells them).
 */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && page.errors.push(m.text()));
  return page;
}

/** True for the browser's "Failed to load resource" console line (a refused request). */
export function isResourceError(text) {
  return text.startsWith('Failed to load resource');
}

/**
 * Logs in through the real login form (email, password, code computed from the
 * member's secret) and waits for the shell ([data-testid=whoami]).
 */
export async function login(page, server, staff) {
  await page.goto(server.url + '/');
  await page.locator('form.login input[name=email]').fill(staff.email);
  await page.locator('form.login input[name=password]').fill(staff.password);
  const code = page.locator('form.login input[name=totp]');
  if (staff.totpSecret) await code.fill(await nextCode(staff));
  await page.locator('form.login button[type=submit]').click();
  await page.locator('[data-testid=whoami]').waitFor({ timeout: 15_000 });
}

/** A full-page PNG into $WEB_ARTIFACTS (default build/web-artifacts)/<name>.png; its path. */
export async function screenshot(page, name) {
  const dir = process.env.WEB_ARTIFACTS || path.join(ROOT, 'build', 'web-artifacts');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
