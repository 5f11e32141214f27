// Energy amounts. At the edges (payloads, API, CLI) an amount is kWh with at most 3 decimals,
// given as a JSON number or a decimal string; inside, it is an exact integer count of Wh (bigint).

/** The largest magnitude accepted: 1 TWh = 10^9 kWh = 10^12 Wh (far beyond any household or city). */
export const ENERGY_WH_MAX = 10n ** 12n;

export type AmountParse = { ok: true; wh: bigint } | { ok: false; reason: string };

const DECIMAL = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]{1,3}))?$/;

/**
 * Parses kWh given as a JSON number or a decimal string into exact Wh. Rejects NaN, Infinity,
 * more than 3 decimals, exponent forms that are not exactly representable, and magnitudes over
 * ENERGY_WH_MAX. A JSON number is read through its shortest round-trip decimal text, so 0.1 is
 * exactly 100 Wh and 0.0001 is refused.
 */
export function parseKwh(value: unknown): AmountParse {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      return { ok: false, reason: `amount must be a finite number, got ${String(value)}` };
    text = numberToPlainDecimal(value);
  } else if (typeof value === 'string') {
    text = value.trim();
    if (text !== value || text.length === 0 || text.length > 32) {
      return {
        ok: false,
        reason: `amount must be a decimal string like "1.234", got ${JSON.stringify(value)}`,
      };
    }
  } else {
    return {
      ok: false,
      reason: `amount must be a number or a decimal string, got ${value === null ? 'null' : typeof value}`,
    };
  }
  const m = DECIMAL.exec(text);
  if (!m)
    return {
      ok: false,
      reason: `amount must be kWh with at most 3 decimals, got ${JSON.stringify(value)}`,
    };
  const negative = m[1] === '-';
  const whole = BigInt(m[2] ?? '0');
  const frac = BigInt((m[3] ?? '').padEnd(3, '0'));
  const wh = whole * 1000n + frac;
  if (wh > ENERGY_WH_MAX)
    return {
      ok: false,
      reason: `amount ${text} kWh exceeds the limit of ${formatWh(ENERGY_WH_MAX)} kWh`,
    };
  return { ok: true, wh: negative ? -wh : wh };
}

/** Exact kWh text of an integer Wh amount: 1500n -> "1.5", -5000n -> "-5", 1n -> "0.001". */
export function formatWh(wh: bigint): string {
  const negative = wh < 0n;
  const abs = negative ? -wh : wh;
  const whole = abs / 1000n;
  const frac = (abs % 1000n).toString().padStart(3, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}

/** The decimal text of a double without exponent notation (shortest round-trip digits). */
function numberToPlainDecimal(n: number): string {
  if (Object.is(n, -0)) return '0';
  const s = String(n);
  if (!/[eE]/.test(s)) return s;
  const [mant = '', expText = '0'] = s.split(/[eE]/);
  const exp = Number(expText);
  const negative = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const pointAt =
    (mant.replace('-', '').indexOf('.') === -1
      ? mant.replace('-', '').length
      : mant.replace('-', '').indexOf('.')) + exp;
  let out: string;
  if (pointAt <= 0) out = '0.' + '0'.repeat(-pointAt) + digits;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = digits.slice(0, pointAt) + '.' + digits.slice(pointAt);
  return (negative ? '-' : '') + out;
}
