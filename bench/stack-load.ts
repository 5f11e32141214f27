// The load of `npm run bench -- --stack K` (docs/benchmark.md, "A city on many processors"): the
// meter readings of one neighbourhood, as its households' meters send them. Every reading is an
// Energy call with the meter's register and the time of the reading (now), so a meter's readings
// must arrive in order: the meters are split over lanes, and a lane sends the next reading of its
// meters only once the previous batch is final. The house meters consume, the solar meters
// produce, in 10-second deltas at Wh resolution. Signed as they are sent (a meter signs its own
// readings at the time it reads), so the signing counts as the load generator's CPU.

import { signTx } from '../src/chain/tx.js';
import type { TxView } from '../src/chain/views.js';
import type { PrivateKey } from '../src/core/keys.js';
import { Prng, kwhText } from './workload.js';

/** The server takes at most this many transactions in one batch request. */
const BATCH_TXS_MAX = 1000;
/** The server answers a batch with `wait` within this long. */
const SERVER_WAIT_MS = 30_000;
/** A batch refused whole (503, the queue is full) is sent again this many times at most. */
const RETRIES_MAX = 40;

export interface StackMeter {
  readonly key: PrivateKey;
  /** A solar meter (Producer) produces, a house meter (Consumer) consumes. */
  readonly producing: boolean;
}

interface MeterState {
  readonly meter: StackMeter;
  registerWh: number;
  lastReadingMs: number;
}

export interface NeighbourhoodTarget {
  readonly name: string;
  readonly url: string;
  readonly chainId: string;
  readonly context: string;
  readonly energyHashHex: string;
  readonly meters: readonly StackMeter[];
}

export interface NeighbourhoodLoad {
  readonly name: string;
  readonly readings: number;
  /** From the common start to this neighbourhood's last final answer. */
  readonly seconds: number;
  readonly txPerSecond: number;
  readonly firstReadingMs: number;
  readonly lastReadingMs: number;
}

type BatchEntry =
  | TxView
  | { readonly id: string | null; readonly error: { code: string; message: string } };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Splits `total` readings over `lanes` lanes as evenly as possible. */
export function laneQuotas(total: number, lanes: number): number[] {
  return Array.from(
    { length: lanes },
    (_, i) => Math.floor(total / lanes) + (i < total % lanes ? 1 : 0),
  );
}

/** How many lanes a neighbourhood uses: `wanted`, or more when a lane's meters exceed a batch. */
export function laneCount(meters: number, wanted: number): number {
  return Math.min(meters, Math.max(wanted, Math.ceil(meters / BATCH_TXS_MAX)));
}

function readingPayload(
  context: string,
  s: MeterState,
  rng: Prng,
  nowMs: number,
): Record<string, unknown> {
  const wh = s.meter.producing ? rng.int(1, 12) : rng.int(1, 9);
  s.registerWh += wh;
  // A meter's readings must be newer than its last one, also within one millisecond.
  s.lastReadingMs = Math.max(nowMs, s.lastReadingMs + 1);
  return {
    context,
    amount: kwhText(s.meter.producing ? wh : -wh),
    register: kwhText(s.registerWh),
    readingMs: s.lastReadingMs,
  };
}

async function postBatch(
  url: string,
  base64: readonly string[],
  what: string,
): Promise<BatchEntry[]> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}/api/transactions/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transactions: base64, wait: true, timeoutMs: SERVER_WAIT_MS }),
    });
    const text = await res.text();
    if (res.status === 503 && attempt < RETRIES_MAX) {
      await sleep(250);
      continue;
    }
    if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status}: ${text.slice(0, 500)}`);
    return (JSON.parse(text) as { results: BatchEntry[] }).results;
  }
}

function checkAccepted(
  entries: readonly BatchEntry[],
  payloads: readonly unknown[],
  what: string,
): void {
  entries.forEach((e, i) => {
    if ('error' in e && e.error !== undefined)
      throw new Error(
        `${what}: reading ${JSON.stringify(payloads[i])} refused: ${e.error.code}: ${e.error.message}`,
      );
    const v = e as TxView;
    if (v.status !== 'accepted')
      throw new Error(
        `${what}: reading ${JSON.stringify(payloads[i])} ended ${v.status}: ${v.code ?? ''}: ${v.message ?? ''}`,
      );
  });
}

/**
 * Sends `readings` readings to one neighbourhood over `lanes` lanes, all starting at `startMs`
 * (performance.now()); throws at the first reading that is not accepted.
 */
export async function loadNeighbourhood(
  t: NeighbourhoodTarget,
  readings: number,
  lanes: number,
  seed: string,
  startMs: number,
): Promise<NeighbourhoodLoad> {
  const n = laneCount(t.meters.length, lanes);
  const states: MeterState[] = t.meters.map((meter) => ({
    meter,
    registerWh: 0,
    lastReadingMs: 0,
  }));
  const quotas = laneQuotas(readings, n);
  let firstReadingMs = Number.POSITIVE_INFINITY;
  let lastReadingMs = 0;
  const lane = async (l: number): Promise<void> => {
    const mine = states.filter((_, i) => i % n === l);
    const rng = new Prng(seed, `stack-${t.name}-lane-${l}`);
    for (let left = quotas[l] ?? 0; left > 0; ) {
      const nowMs = Date.now();
      const round = mine.slice(0, Math.min(left, mine.length));
      const payloads = round.map((s) => readingPayload(t.context, s, rng, nowMs));
      const base64 = round.map((s, i) => {
        const tx = signTx(
          {
            contractHashHex: t.energyHashHex,
            validTillMs: 0,
            payloadText: JSON.stringify(payloads[i]),
          },
          s.meter.key,
          t.chainId,
        );
        return Buffer.from(tx.bytes.buffer, tx.bytes.byteOffset, tx.bytes.byteLength).toString(
          'base64',
        );
      });
      firstReadingMs = Math.min(firstReadingMs, nowMs);
      lastReadingMs = Math.max(lastReadingMs, ...round.map((s) => s.lastReadingMs));
      checkAccepted(await postBatch(t.url, base64, t.name), payloads, t.name);
      left -= round.length;
    }
  };
  await Promise.all(Array.from({ length: n }, (_, l) => lane(l)));
  const seconds = (performance.now() - startMs) / 1000;
  return {
    name: t.name,
    readings,
    seconds,
    txPerSecond: readings / seconds,
    firstReadingMs,
    lastReadingMs,
  };
}
