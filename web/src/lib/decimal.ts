/*
 * decimal.ts — money arithmetic on the API's decimal strings, without floats.
 *
 * An amount "1234.50" is read as the integer 123450 (a BigInt) with scale 2;
 * sums align the scales (the larger wins: "1.5" + "0.25" = "1.75") and are
 * written back as a strict decimal string in that scale ("-0.30", "1000").
 * The dashboard adds and subtracts event amounts with these, so its figures
 * stay exact however many events it applies. Brand settings held in minor units
 * (integers) become such strings through minorToMajor.
 */

export interface Dec {
  v: bigint; // the amount in units of 10^-scale
  scale: number;
}

const RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Parses a decimal string; throws on anything else. */
export function parseDec(s: string): Dec {
  const m = RE.exec(s.trim());
  if (!m) throw new Error(`not a decimal amount: ${s}`);
  const frac = m[3] ?? '';
  const v = BigInt(m[2] + frac);
  return { v: m[1] ? -v : v, scale: frac.length };
}

/** True when s is a decimal string parseDec accepts. */
export function isDec(s: unknown): s is string {
  return typeof s === 'string' && RE.test(s.trim());
}

function rescale(d: Dec, scale: number): bigint {
  return d.v * 10n ** BigInt(scale - d.scale);
}

/** Writes a Dec as a decimal string in its scale. */
export function formatDec(d: Dec): string {
  const neg = d.v < 0n;
  let digits = (neg ? -d.v : d.v).toString();
  if (d.scale === 0) return (neg ? '-' : '') + digits;
  digits = digits.padStart(d.scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`;
}

/**
 * An integer count of minor units (a brand setting such as a 4-eyes threshold)
 * as a decimal string in the currency's exponent: 100000, 2 → "1000.00"; 5, 0 → "5".
 */
export function minorToMajor(minor: number, exponent: number): string {
  return formatDec({ v: BigInt(minor), scale: exponent });
}

/** a + b as a decimal string (scale: the larger of the two). */
export function decAdd(a: string, b: string): string {
  const x = parseDec(a);
  const y = parseDec(b);
  const scale = Math.max(x.scale, y.scale);
  return formatDec({ v: rescale(x, scale) + rescale(y, scale), scale });
}

/** a − b as a decimal string (scale: the larger of the two). */
export function decSub(a: string, b: string): string {
  const x = parseDec(a);
  const y = parseDec(b);
  const scale = Math.max(x.scale, y.scale);
  return formatDec({ v: rescale(x, scale) - rescale(y, scale), scale });
}

/** −1, 0 or 1. */
export function decCmp(a: string, b: string): number {
  const x = parseDec(a);
  const y = parseDec(b);
  const scale = Math.max(x.scale, y.scale);
  const d = rescale(x, scale) - rescale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** "0" in the scale of s ("12.34" → "0.00"). */
export function decZeroLike(s: string): string {
  return formatDec({ v: 0n, scale: parseDec(s).scale });
}

/** The sum of a list ("0" when empty). */
export function decSum(list: string[], zero = '0'): string {
  return list.reduce((acc, s) => decAdd(acc, s), zero);
}
