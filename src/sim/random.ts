// Deterministic randomness for the simulator. Everything the simulator decides (which message is
// dropped, how long one is delayed, when a process crashes) is drawn from a Random made from the
// run's seed, so a seed replays exactly. Each concern draws from its own named stream: adding a
// new kind of fault then does not shift the decisions of the others, and a trace stays comparable
// across small changes to the simulator.

/** A 32-bit avalanche mix (the murmur3 finaliser). */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a of a stream name, so streams are named in code rather than numbered. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast counting generator): 128 bits of state, a period of at
 * least 2^32, good statistical quality, and only 32-bit integer arithmetic, so it is exact and
 * fast in JavaScript.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`a simulator seed is a non-negative safe integer, got ${String(seed)}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.a = mix32(lo ^ 0x9e3779b9);
    this.b = mix32(hi ^ 0x243f6a88);
    this.c = mix32(stream ^ 0xb7e15162);
    this.d = 1;
    for (let i = 0; i < 15; i++) this.nextUint32(); // mix the seed through the state
  }

  /** A generator for one concern, independent of the others drawn from the same seed. */
  static stream(seed: number, name: string): Random {
    return new Random(seed, hashName(name));
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A uniform number in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67_108_864 + lo) / 9_007_199_254_740_992;
  }

  /** True with probability `p` (0 never draws true, 1 always does). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.nextFloat() < p;
  }

  /** A uniform integer in [min, max], both included. */
  intBetween(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new RangeError(`intBetween needs safe integers min <= max, got ${min} and ${max}`);
    }
    return min + Math.floor(this.nextFloat() * (max - min + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick needs a non-empty list');
    return items[this.intBetween(0, items.length - 1)] as T;
  }

  /**
   * A delay with an exponential distribution of mean `meanMs` above `minMs`, capped at `maxMs`:
   * most messages arrive quickly, a few very late, which is what reorders them.
   */
  delayMs(minMs: number, meanMs: number, maxMs: number): number {
    const u = this.nextFloat();
    const extra = -Math.log(1 - u) * Math.max(0, meanMs - minMs);
    return Math.min(maxMs, Math.round(minMs + extra));
  }
}
