/*
 * settings.ts — a brand's settings as the Brands page shows and edits them: one
 * row per setting the server knows (src/tenancy/tenancy.c SETTINGS, documented in
 * docs/openapi.yaml BrandSettings), with its label, unit and built-in default.
 *
 * Money settings are stored per currency in minor units (an integer: 100000 EUR
 * minor units); staff read and type them in the currency's major units
 * ("1000.00"), the exponent coming from the brand's currency_exponents. Both ways
 * go through BigInt decimals (lib/decimal.ts), never a float. Only the shape of
 * a typed value is checked here (a decimal with at most the currency's decimals,
 * an integer); ranges and the deposit minimum-below-maximum rule are the
 * server's (422 FIELD_INVALID naming settings.<key>), shown at the setting.
 */
import { minorToMajor, parseDec } from '../lib/decimal';

export interface BrandFull {
  code: string;
  name: string;
  default_currency: string;
  currencies: string[];
  jurisdiction: string;
  settings: Record<string, unknown>;
  status: string;
  currency_exponents: Record<string, number>;
  created_at: string;
  updated_at: string;
}

export type SettingKind = 'money' | 'int' | 'choice';

export interface SettingDef {
  key: string;
  label: string;
  kind: SettingKind;
  unit?: string; // for integer settings: hours, minutes, days
  choices?: string[];
  help: string; // what it does and what applies without it
  defaultMinor?: number; // money: the value without an entry (minor units), if any
}

export const SETTINGS: SettingDef[] = [
  {
    key: 'funding_policy', label: 'Funding policy', kind: 'choice',
    choices: ['cash_first', 'bonus_first', 'cash_only'],
    help: 'What a bet draws from. Without a value: cash_first.',
  },
  {
    key: 'withdrawal_4eyes_thresholds', label: 'Withdrawal 4-eyes threshold', kind: 'money',
    help: 'A withdrawal at or above it needs two approvals. A currency without one: every withdrawal needs two (fail-safe).',
  },
  {
    key: 'adjustment_4eyes_thresholds', label: 'Adjustment 4-eyes threshold', kind: 'money',
    help: 'A staff balance adjustment at or above it waits for a second member. A currency without one: no 4-eyes for adjustments.',
  },
  {
    key: 'deposit_mins', label: 'Deposit minimum', kind: 'money', defaultMinor: 100,
    help: 'The smallest deposit; not above the maximum. A currency without one: the built-in minimum (100 minor units: 1.00 EUR, 100 JPY).',
  },
  {
    key: 'deposit_maxes', label: 'Deposit maximum', kind: 'money', defaultMinor: 100000000,
    help: 'The largest deposit. A currency without one: the built-in maximum (100 000 000 minor units: 1 000 000.00 EUR).',
  },
  {
    key: 'deposit_expiry_minutes', label: 'Deposit expiry', kind: 'int', unit: 'minutes',
    help: 'How long a deposit intent stays payable (1 to 525 600). Without a value: 1440 (24 h).',
  },
  {
    key: 'adjustment_request_expiry_hours', label: 'Adjustment request expiry', kind: 'int', unit: 'hours',
    help: 'How long an adjustment request may wait for its second member (1 to 720). Without a value: 72.',
  },
  {
    key: 'unclaimed_settlement_expiry_hours', label: 'Unclaimed settlement expiry', kind: 'int', unit: 'hours',
    help: 'How long an unclaimed-funds settlement request may wait for its second member (1 to 720). Without a value: 72.',
  },
  {
    key: 'erase_after_days', label: 'Erase after', kind: 'int', unit: 'days',
    help: 'Days after a player’s last activity before the player may be erased (0 to 36 500). Without a value: 1826.',
  },
];

/**
 * A typed amount in major units → minor units, or a message: "1000", "1000.5",
 * "1000.50" → 100050 for exponent 2; more decimals than the currency has, or not a
 * decimal, is refused here (the server would read only integers).
 */
export function majorToMinor(text: string, exponent: number): { minor: number } | { error: string } {
  let d;
  try {
    d = parseDec(text);
  } catch {
    return { error: 'not an amount (digits, and a point for the decimals)' };
  }
  if (d.scale > exponent)
    return { error: exponent === 0 ? 'no decimals in this currency' : `at most ${exponent} decimals in this currency` };
  const minor = d.v * 10n ** BigInt(exponent - d.scale);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < -BigInt(Number.MAX_SAFE_INTEGER))
    return { error: 'too large' };
  return { minor: Number(minor) };
}

/** A typed whole number, or a message. */
export function parseWhole(text: string): { value: number } | { error: string } {
  const t = text.trim();
  if (!/^-?\d{1,15}$/.test(t)) return { error: 'a whole number' };
  return { value: Number(t) };
}

/** The currencies a money setting shows: the brand's, then any other its map names. */
export function settingCurrencies(b: BrandFull, key: string): string[] {
  const map = b.settings[key];
  const extra = map && typeof map === 'object' ? Object.keys(map as object) : [];
  return [...b.currencies, ...extra.filter((c) => !b.currencies.includes(c)).sort()];
}

/** The form's text of every setting: key → text (scalars) or key → currency → text (money). */
export type SettingsForm = Record<string, string | Record<string, string>>;

export function formOf(b: BrandFull): SettingsForm {
  const out: SettingsForm = {};
  for (const s of SETTINGS) {
    const v = b.settings[s.key];
    if (s.kind === 'money') {
      const map = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
      const row: Record<string, string> = {};
      for (const c of settingCurrencies(b, s.key)) {
        const n = map[c];
        const exp = b.currency_exponents[c];
        row[c] = typeof n === 'number' && exp !== undefined ? minorToMajor(n, exp) : typeof n === 'number' ? String(n) : '';
      }
      out[s.key] = row;
    } else {
      out[s.key] = v === undefined || v === null ? '' : String(v);
    }
  }
  return out;
}

/**
 * The settings object to send: the brand's, each known setting replaced by the
 * form's (an empty field removes the entry: the default applies). Errors: the
 * form field ("settings.deposit_mins.EUR", "settings.erase_after_days") → message.
 */
export function settingsOf(b: BrandFull, form: SettingsForm): { settings: Record<string, unknown>; errors: Record<string, string> } {
  const settings: Record<string, unknown> = { ...b.settings };
  const errors: Record<string, string> = {};
  for (const s of SETTINGS) {
    const v = form[s.key];
    if (s.kind === 'money') {
      const map: Record<string, number> = {};
      for (const [c, text] of Object.entries((v as Record<string, string>) ?? {})) {
        if (!text.trim()) continue;
        const exp = b.currency_exponents[c];
        const r = exp === undefined ? { error: 'unknown currency' } : majorToMinor(text, exp);
        if ('error' in r) errors[`settings.${s.key}.${c}`] = r.error;
        else map[c] = r.minor;
      }
      if (Object.keys(map).length) settings[s.key] = map;
      else delete settings[s.key];
    } else {
      const text = ((v as string) ?? '').trim();
      if (!text) {
        delete settings[s.key];
      } else if (s.kind === 'int') {
        const r = parseWhole(text);
        if ('error' in r) errors[`settings.${s.key}`] = r.error;
        else settings[s.key] = r.value;
      } else {
        settings[s.key] = text;
      }
    }
  }
  return { settings, errors };
}

/** Two JSON values alike (objects compared key by key, whatever their order). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a as object).sort();
  const kb = Object.keys(b as object).sort();
  if (ka.join('\u0000') !== kb.join('\u0000')) return false;
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** "EUR, usd  GBP" → ["EUR", "USD", "GBP"] (the server checks each). */
export function codes(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((c) => c.trim().toUpperCase())
    .filter(Boolean);
}
