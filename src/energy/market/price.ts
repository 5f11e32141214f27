// Prices at the edge: EUR per kWh as an exact decimal text with at most 6 decimals, from 0 to
// 10 EUR/kWh, inside an integer count of micro-euro per kWh. A contract helper (../helpers.ts).

/** Micro-euro per kWh of a price text such as "0.2345", or null when it is not a valid price. */
export function priceUeur(text: string): bigint | null {
  const m = /^(\d{1,2})(?:\.(\d{1,6}))?$/.exec(text);
  if (m === null) return null;
  const ueur = BigInt(m[1] as string) * 1000000n + BigInt(((m[2] as string | undefined) ?? '').padEnd(6, '0'));
  return ueur > 10000000n ? null : ueur;
}
