// Sharing an exact amount in proportion, to the unit, by largest remainder: how the market splits
// a reading over periods (booking.ts) and a surplus over deficits (clearing.ts). A contract helper
// (../helpers.ts): a plain function declaration that runs inside QuickJS.

/**
 * Shares `total` over `weights` in proportion, rounded down, the rest one each to the largest
 * remainders (the earlier weight first on a tie). The weights' sum must be positive.
 */
export function shareByWeight(total: bigint, weights: readonly bigint[]): bigint[] {
  let sum = 0n;
  for (const w of weights) sum += w;
  const shares = weights.map((w) => (total * w) / sum);
  const remainders = weights.map((w) => (total * w) % sum);
  let left = total;
  for (const s of shares) left -= s;
  const order = weights.map((_, i) => i);
  order.sort((a, b) => {
    const ra = remainders[a] as bigint;
    const rb = remainders[b] as bigint;
    return ra === rb ? a - b : ra > rb ? -1 : 1;
  });
  for (let k = 0; left > 0n; k++, left--) {
    const i = order[k] as number;
    shares[i] = (shares[i] as bigint) + 1n;
  }
  return shares;
}
