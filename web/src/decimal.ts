// Exact decimals for the figures the API sends as strings (kWh with at most 3 decimals, EUR with
// at most 9): sums and differences are computed on integers of 10^-9, never on floats, and shown
// back as the shortest exact decimal. Floats are used only to size shapes and plot charts.

const SCALE = 9;
const ONE = 10n ** BigInt(SCALE);
const DECIMAL = /^(-?)(\d+)(?:\.(\d{1,9}))?$/;

/** The decimal string as an integer count of 10^-9; throws on anything else. */
export function parseDecimal(text: string): bigint {
  const m = DECIMAL.exec(text);
  if (m === null) throw new Error(`not a decimal with at most ${SCALE} digits: ${text}`);
  const units = BigInt(m[2] ?? '0') * ONE + BigInt((m[3] ?? '').padEnd(SCALE, '0'));
  return m[1] === '-' ? -units : units;
}

export function formatDecimal(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const frac = (abs % ONE).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / ONE}${frac === '' ? '' : `.${frac}`}`;
}

export function addDecimals(...texts: readonly string[]): string {
  let sum = 0n;
  for (const t of texts) sum += parseDecimal(t);
  return formatDecimal(sum);
}

export function subtractDecimals(a: string, b: string): string {
  return formatDecimal(parseDecimal(a) - parseDecimal(b));
}

/** For sizes and charts only (never for a figure shown as text). */
export function approximate(text: string | null | undefined): number {
  return text === null || text === undefined ? 0 : Number(text);
}

/** A share such as "0.738717" as a percentage string, exact: "73.8717 %". */
export function percentOf(share: string | null): string {
  if (share === null) return '–';
  return `${formatDecimal(parseDecimal(share) * 100n)} %`;
}
