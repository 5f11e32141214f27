// Deterministic randomness for the simulated meter. Every random quantity is a pure function of
// (seed, stream, index), so the same seed gives the same weather and appliances at the same
// instant, whatever the start time, interval or number of telegrams asked for.

/** A 32-bit avalanche mix (the murmur3 finaliser) of `a` combined with `b`. */
function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b ^ (b >>> 16), 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A uniform number in [0, 1) for (seed, stream, index); index may be any safe integer. */
export function uniform(seed: number, stream: number, index: number): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 2 ** 32) >>> 0;
  const h = mix32(mix32(mix32(seed >>> 0, stream), lo), hi);
  return h / 2 ** 32;
}

/**
 * Smooth value noise in [0, 1): random values on a grid of `stepMs`, joined by a smoothstep, so
 * the value drifts instead of jumping from one telegram to the next.
 */
export function smoothNoise(seed: number, stream: number, timeMs: number, stepMs: number): number {
  const x = timeMs / stepMs;
  const k = Math.floor(x);
  const f = x - k;
  const s = f * f * (3 - 2 * f);
  return uniform(seed, stream, k) * (1 - s) + uniform(seed, stream, k + 1) * s;
}
