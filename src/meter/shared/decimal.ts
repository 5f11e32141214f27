// Exact decimal text <-> scaled integers for meter readings. Meters print fixed-point numbers
// ("004726.494"); nothing here goes through a float.

const UNSIGNED_DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;
/** Longer digit strings are refused: no meter register has more than 20 digits. */
const DIGITS_MAX = 20;

/**
 * The integer `text * 10^scale` for an unsigned decimal `text`, or null when `text` is not a
 * plain unsigned decimal or has non-zero digits beyond `scale` decimals (more precision than the
 * target unit: refused, never rounded). "004726.494", 3 -> 4726494n; "1.2340", 3 -> 1234n.
 */
export function scaleDecimal(text: string, scale: number): bigint | null {
  const m = UNSIGNED_DECIMAL.exec(text);
  if (!m || text.length > DIGITS_MAX + 1) return null;
  const whole = m[1] ?? '0';
  const frac = m[2] ?? '';
  const kept = frac.slice(0, scale);
  if (/[^0]/.test(frac.slice(scale))) return null;
  return BigInt(whole + kept.padEnd(scale, '0'));
}

/** A canonical exact decimal: no leading zeros, no trailing fractional zeros. "00124.470" -> "124.47". */
export function normaliseDecimal(text: string): string | null {
  const m = UNSIGNED_DECIMAL.exec(text);
  if (!m || text.length > DIGITS_MAX + 1) return null;
  const whole = (m[1] ?? '0').replace(/^0+(?=[0-9])/, '');
  const frac = (m[2] ?? '').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole;
}

/** Fixed-point text of `value / 10^decimals` with `intDigits` zero-padded integer digits. */
export function formatFixed(value: bigint, decimals: number, intDigits: number): string {
  if (value < 0n) throw new RangeError(`formatFixed takes non-negative values, got ${value}`);
  const unit = 10n ** BigInt(decimals);
  const whole = (value / unit).toString().padStart(intDigits, '0');
  if (decimals === 0) return whole;
  return `${whole}.${(value % unit).toString().padStart(decimals, '0')}`;
}
