/*
 * format.ts — amounts and times as staff read them.
 *
 * Amounts arrive as strict decimal strings in the currency's exponent ("1234.50",
 * "-0.30", "1000" for JPY) and are shown by rearranging that string: grouping
 * the integer part with thin spaces and appending the currency code. Never
 * through a float, so a KWD or BTC amount shows every digit it has.
 *
 * Times are stored and sent in UTC (RFC 3339); they are shown in the staff
 * member's time zone: the one chosen in the header's selector (kept in
 * localStorage), else the browser's.
 */

const TZ_KEY = 'pitboss.tz';

export function timeZone(): string {
  return localStorage.getItem(TZ_KEY) || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function setTimeZone(tz: string) {
  localStorage.setItem(TZ_KEY, tz);
}

/** "1234567.50" + "EUR" → "1 234 567.50 EUR" (thin-space groups; sign kept). */
export function money(amount: string | null | undefined, currency?: string | null): string {
  if (amount === null || amount === undefined || amount === '') return '—';
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(amount);
  if (!m) return `${amount}${currency ? ` ${currency}` : ''}`;
  const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  return `${m[1] ? '−' : ''}${int}${m[3] ?? ''}${currency ? ` ${currency}` : ''}`;
}

/** An RFC 3339 UTC time in the staff member's zone: "2026-11-21 14:05:09". */
export function time(iso: string | null | undefined, tz = timeZone()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(d);
  const v = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${v('year')}-${v('month')}-${v('day')} ${v('hour')}:${v('minute')}:${v('second')}`;
}

/** The UTC instant (RFC 3339) of the start of "today" in the staff member's zone. */
export function startOfToday(tz = timeZone(), now = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(now);
  const v = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  // the zone's offset now: its wall clock read as UTC minus the real instant
  const wall = Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second'));
  const offset = wall - Math.floor(now.getTime() / 1000) * 1000;
  const midnightWall = Date.UTC(v('year'), v('month') - 1, v('day'));
  return new Date(midnightWall - offset).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
