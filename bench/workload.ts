// The benchmark's workload: deterministic from a seed, generated and signed before anything is
// timed. One context (its key is the owner) with `traders` traders, each with one producer meter
// and one consumer meter, and a 15-minute settlement period. The transactions come in phases:
//
//   1. traders                 (Trader, signed by the owner)
//   2. devices + period        (Producer, Consumer, SettlementPeriod 900 s, signed by the owner)
//   3. warm-up                 (one Energy production reading per producer: opens the period and
//                               gives every trader energy it can trade; its first block names it)
//   4. the timed load of N     (mostly Energy readings, plus ~5% Transfer, ~2% Reduce, ~1% Mutate)
//
// Phases 1-3 are submitted and confirmed before timing starts. Phase 4 is generated once the
// period's first block is known (Transfer, Reduce and Mutate name it), and every transaction in it
// is accepted whatever order the processor puts them in: Transfer and Reduce spend only energy
// from the warm-up (the model below subtracts every planned spend and never counts energy that
// arrives during the load), Energy readings come from registered meters with non-zero amounts, and
// Mutate (the owner's settlement) touches only the unlabelled balance, which may go negative.

import { createHash } from 'node:crypto';
import { PrivateKey } from '../src/core/keys.js';
import { signTx } from '../src/chain/tx.js';
import type { Tx } from '../src/chain/types.js';

/** Contract hash (64 hex) per contract type, as GET /api/contracts lists them. */
export type ContractHashes = Readonly<Record<string, string>>;

export const SETTLEMENT_PERIOD_SECONDS = 900;
export const SETTLEMENT_PERIOD_MS = SETTLEMENT_PERIOD_SECONDS * 1000;

export type TxKind =
  | 'trader'
  | 'producer'
  | 'consumer'
  | 'period'
  | 'warmup'
  | 'produce'
  | 'consume'
  | 'transfer'
  | 'reduce'
  | 'mutate'
  | 'market'
  | 'prices'
  | 'order'
  | 'settle';

export interface BenchTx {
  readonly kind: TxKind;
  readonly contractType: string;
  /** The signer's address. */
  readonly sender: string;
  /** The payload as signed (JSON.stringify of this object). */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly tx: Tx;
  /** base64 of tx.bytes, computed while generating so that the timed phase only sends. */
  readonly base64: string;
  /** For warm-up readings: the trader credited and the Wh produced. */
  readonly credit?: { readonly trader: number; readonly wh: number };
}

/** The label sets the owner gives producers, in turn; consumers carry none. */
export const PRODUCER_LABEL_SETS: readonly (readonly string[])[] = [
  ['solar'],
  ['local', 'solar'],
  ['wind'],
];

/** Shares of the timed load (the rest is Energy). */
export const MIX = { transfer: 0.05, reduce: 0.02, mutate: 0.01 } as const;
/** Of the Energy readings, this share is production (the rest consumption). */
export const PRODUCTION_SHARE = 0.45;

export interface Participants {
  readonly seed: string;
  readonly owner: PrivateKey;
  readonly traders: readonly PrivateKey[];
  readonly producers: readonly PrivateKey[];
  readonly consumers: readonly PrivateKey[];
}

export interface SignContext {
  readonly chainId: string;
  readonly hashes: ContractHashes;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness and keys.

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** mulberry32 over a 32-bit state taken from sha256(seed | stream): small, fast, reproducible. */
export class Prng {
  private state: number;

  constructor(seed: string, stream: string) {
    this.state = digest(`hanzenet-bench|${seed}|prng|${stream}`).readUInt32LE(0);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** A key from sha256(seed | role | index), re-hashed in the (negligible) case it is out of range. */
export function deriveKey(seed: string, role: string, index: number): PrivateKey {
  for (let attempt = 0; ; attempt++) {
    const d = digest(`hanzenet-bench|${seed}|key|${role}|${index}|${attempt}`);
    try {
      return PrivateKey.fromBytes(d);
    } catch {
      // 0 or >= n: about 2^-128, try the next hash.
    }
  }
}

export function participants(seed: string, traders: number): Participants {
  if (!Number.isSafeInteger(traders) || traders < 2)
    throw new RangeError(`traders must be an integer >= 2, got ${traders}`);
  const range = (role: string): PrivateKey[] =>
    Array.from({ length: traders }, (_, i) => deriveKey(seed, role, i));
  return {
    seed,
    owner: deriveKey(seed, 'owner', 0),
    traders: range('trader'),
    producers: range('producer'),
    consumers: range('consumer'),
  };
}

export function producerLabels(index: number): readonly string[] {
  return PRODUCER_LABEL_SETS[index % PRODUCER_LABEL_SETS.length] ?? ['solar'];
}

/** kWh text with exactly three decimals for an integer Wh ("-0.007", "1.250"). */
export function kwhText(wh: number): string {
  if (!Number.isSafeInteger(wh)) throw new RangeError(`Wh must be an integer, got ${wh}`);
  const abs = Math.abs(wh);
  return `${wh < 0 ? '-' : ''}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}

/** Signs one benchmark transaction; its id is derived from (seed, kind, index). */
export function signBenchTx(
  ctx: SignContext,
  p: Participants,
  kind: TxKind,
  index: number,
  contractType: string,
  key: PrivateKey,
  payload: Record<string, unknown>,
  credit?: BenchTx['credit'],
): BenchTx {
  const contractHashHex = ctx.hashes[contractType];
  if (contractHashHex === undefined) throw new Error(`the chain has no contract ${contractType}`);
  const idHex = digest(`hanzenet-bench|${p.seed}|tx|${kind}|${index}`)
    .subarray(0, 16)
    .toString('hex');
  const tx = signTx(
    { idHex, contractHashHex, validTillMs: 0, payloadText: JSON.stringify(payload) },
    key,
    ctx.chainId,
  );
  const base64 = Buffer.from(tx.bytes.buffer, tx.bytes.byteOffset, tx.bytes.byteLength).toString(
    'base64',
  );
  const out: BenchTx = { kind, contractType, sender: key.address, payload, tx, base64 };
  return credit === undefined ? out : { ...out, credit };
}

// ---------------------------------------------------------------------------------------------
// Phases 1-3.

export function traderTxs(ctx: SignContext, p: Participants): BenchTx[] {
  const context = p.owner.address;
  return p.traders.map((t, i) =>
    signBenchTx(ctx, p, 'trader', i, 'Trader', p.owner, {
      context,
      address: t.address,
      allowed: true,
    }),
  );
}

export function deviceTxs(ctx: SignContext, p: Participants): BenchTx[] {
  const context = p.owner.address;
  const out: BenchTx[] = [];
  p.traders.forEach((t, i) => {
    const producer = p.producers[i];
    const consumer = p.consumers[i];
    if (producer === undefined || consumer === undefined)
      throw new Error(`trader ${i} has no meters`);
    out.push(
      signBenchTx(ctx, p, 'producer', i, 'Producer', p.owner, {
        context,
        address: producer.address,
        allowed: true,
        trader: t.address,
        labels: [...producerLabels(i)],
      }),
    );
    out.push(
      signBenchTx(ctx, p, 'consumer', i, 'Consumer', p.owner, {
        context,
        address: consumer.address,
        allowed: true,
        trader: t.address,
        labels: [],
      }),
    );
  });
  out.push(
    signBenchTx(ctx, p, 'period', 0, 'SettlementPeriod', p.owner, {
      context,
      periodSeconds: SETTLEMENT_PERIOD_SECONDS,
    }),
  );
  return out;
}

/** One production reading per producer: 0.500 to 2.000 kWh, a quarter hour of a rooftop. */
export function warmupTxs(ctx: SignContext, p: Participants, round: number): BenchTx[] {
  const context = p.owner.address;
  const rng = new Prng(p.seed, `warmup-${round}`);
  return p.producers.map((producer, i) => {
    const wh = rng.int(500, 2000);
    return signBenchTx(
      ctx,
      p,
      'warmup',
      round * p.producers.length + i,
      'Energy',
      producer,
      { context, amount: kwhText(wh) },
      { trader: i, wh },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Phase 4 and its balance model.

/**
 * What each trader can certainly spend in the period, in Wh, with the label set of its producer:
 * the warm-up energy booked into the period minus every Transfer and Reduce planned so far.
 * Incoming energy is never counted, so the processor may order the load any way it likes.
 */
export class SpendableModel {
  private readonly wh: number[];

  constructor(traders: number) {
    this.wh = new Array<number>(traders).fill(0);
  }

  credit(trader: number, wh: number): void {
    this.wh[trader] = (this.wh[trader] ?? 0) + wh;
  }

  available(trader: number): number {
    return this.wh[trader] ?? 0;
  }

  /** Plans a spend; false (and nothing changes) when the trader cannot be sure to hold it. */
  spend(trader: number, wh: number): boolean {
    const have = this.wh[trader] ?? 0;
    if (wh <= 0 || have < wh) return false;
    this.wh[trader] = have - wh;
    return true;
  }

  total(): number {
    return this.wh.reduce((a, b) => a + b, 0);
  }
}

export interface TimedLoadInput {
  readonly n: number;
  /** The first block of the settlement period the warm-up energy is in. */
  readonly periodBlock: number;
  /** The warm-up energy in that period per trader (Wh). */
  readonly model: SpendableModel;
  /** Called every 5,000 transactions (signing 100,000 takes a while). */
  readonly onProgress?: (done: number) => void;
}

export interface MixCounts {
  produce: number;
  consume: number;
  transfer: number;
  reduce: number;
  mutate: number;
}

export function mixOf(txs: readonly BenchTx[]): MixCounts {
  const counts: MixCounts = { produce: 0, consume: 0, transfer: 0, reduce: 0, mutate: 0 };
  for (const t of txs) if (t.kind in counts) counts[t.kind as keyof MixCounts]++;
  return counts;
}

/**
 * The N timed transactions. Energy amounts are a P1 meter's 10-second deltas at Wh resolution
 * (production 1-12 Wh, consumption 1-9 Wh; zero deltas are never sent). A Transfer or Reduce for
 * which no trader is certain to hold the energy becomes a production reading instead (it does not
 * happen with the default sizes, and `mixOf` reports the real mix).
 */
export function timedTxs(ctx: SignContext, p: Participants, input: TimedLoadInput): BenchTx[] {
  const { n, periodBlock, model } = input;
  const context = p.owner.address;
  const traders = p.traders.length;
  const rng = new Prng(p.seed, `timed-${n}`);
  const out: BenchTx[] = [];

  const production = (i: number): BenchTx => {
    const m = rng.int(0, traders - 1);
    const producer = p.producers[m] as PrivateKey;
    return signBenchTx(ctx, p, 'produce', i, 'Energy', producer, {
      context,
      amount: kwhText(rng.int(1, 12)),
    });
  };
  const consumption = (i: number): BenchTx => {
    const m = rng.int(0, traders - 1);
    const consumer = p.consumers[m] as PrivateKey;
    return signBenchTx(ctx, p, 'consume', i, 'Energy', consumer, {
      context,
      amount: kwhText(-rng.int(1, 9)),
    });
  };
  /** A trader that can certainly spend `wh`, or null after a bounded search. */
  const spender = (wh: number): number | null => {
    for (let tries = 0; tries < 32; tries++) {
      const t = rng.int(0, traders - 1);
      if (model.available(t) >= wh) return t;
    }
    return null;
  };

  for (let i = 0; i < n; i++) {
    const r = rng.next();
    let made: BenchTx | null = null;
    if (r < MIX.transfer) {
      const wh = rng.int(1, 50);
      const from = spender(wh);
      if (from !== null && model.spend(from, wh)) {
        let to = rng.int(0, traders - 2);
        if (to >= from) to += 1;
        const payload: Record<string, unknown> = {
          context,
          receiver: (p.traders[to] as PrivateKey).address,
          block: periodBlock,
          labels: [...producerLabels(from)],
          amount: kwhText(wh),
        };
        if (rng.next() < 0.5) payload['description'] = 'peer-to-peer sale';
        made = signBenchTx(
          ctx,
          p,
          'transfer',
          i,
          'Transfer',
          p.traders[from] as PrivateKey,
          payload,
        );
      }
    } else if (r < MIX.transfer + MIX.reduce) {
      const wh = rng.int(1, 30);
      const from = spender(wh);
      if (from !== null && model.spend(from, wh)) {
        const original = producerLabels(from);
        // Remove one label, or (half the time, when there are several) all of them.
        const toRemove =
          original.length > 1 && rng.next() < 0.5
            ? [...original]
            : [original[rng.int(0, original.length - 1)] as string];
        made = signBenchTx(ctx, p, 'reduce', i, 'Reduce', p.traders[from] as PrivateKey, {
          context,
          block: periodBlock,
          originalLabels: [...original],
          amount: kwhText(wh),
          labelsToRemove: toRemove,
        });
      }
    } else if (r < MIX.transfer + MIX.reduce + MIX.mutate) {
      const trader = rng.int(0, traders - 1);
      const magnitude = rng.int(1, 500);
      const payload: Record<string, unknown> = {
        context,
        trader: (p.traders[trader] as PrivateKey).address,
        block: periodBlock,
        labels: [],
        amount: kwhText(rng.next() < 0.5 ? magnitude : -magnitude),
      };
      if (rng.next() < 0.5) payload['description'] = 'settlement with the external supplier';
      made = signBenchTx(ctx, p, 'mutate', i, 'Mutate', p.owner, payload);
    } else {
      made = rng.next() < PRODUCTION_SHARE ? production(i) : consumption(i);
    }
    out.push(made ?? production(i));
    if (input.onProgress !== undefined && (i + 1) % 5000 === 0) input.onProgress(i + 1);
  }
  return out;
}
