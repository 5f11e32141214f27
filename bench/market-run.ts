// The market workload of `npm run bench -- --market` (docs/benchmark.md, "The market workload"):
// a second context, a market of `traders` households with one-minute periods, set up before
// timing (traders, meters, the market on with auction and allocation, prices, and one standing
// order per trader over every period of the run). During the timed phase a fifth of the load is
// readings of its meters, booked into the period of their block; the processor's settlement agent
// settles each period after its gate closure. After the timed phase the run waits until every
// period that received readings is settled and reports, per period, the block that settled it:
// how long executing and committing that block took.

import type { BlockView, TxView } from '../src/chain/views.js';
import type { BlockLog } from './runner.js';
import { marketOrderTxs, marketReadingTxs, marketSetupTxs } from './market-workload.js';
import {
  type BenchTx,
  type Participants,
  type SignContext,
  deviceTxs,
  participants,
  traderTxs,
} from './workload.js';

/** Periods of the benchmark's market: one minute, the shortest the Market contract allows. */
export const BENCH_MARKET_PERIOD_SECONDS = 60;
/** The benchmark's market may settle a period 5 s after its end. */
export const BENCH_MARKET_GATE_SECONDS = 5;
/** Periods priced and covered by the standing orders: two hours, longer than any run. */
const BENCH_MARKET_PERIODS = 120;
/** Orders are placed for the next period when the current one ends sooner than this. */
const ORDERS_MARGIN_MS = 20_000;
/** Of the timed load, this share is readings of the market's meters. */
export const MARKET_SHARE = 0.2;
/** The settlement agent looks every 5 s; a period is waited for this long after its gate closes. */
const SETTLE_WAIT_MS = 60_000;

export interface MarketSetup {
  readonly people: Participants;
  readonly periodMs: number;
  readonly setupTxs: number;
}

export interface MarketPeriodResult {
  readonly periodStartMs: number;
  /** The block that settled the period (null: not settled within the wait). */
  readonly height: number | null;
  readonly txsInBlock: number | null;
  readonly executeMs: number | null;
  readonly commitMs: number | null;
}

export interface MarketResult {
  readonly traders: number;
  readonly orders: number;
  readonly readings: number;
  readonly periodSeconds: number;
  readonly periods: readonly MarketPeriodResult[];
}

type Submit = (txs: readonly BenchTx[], what: string) => Promise<Map<string, TxView>>;

/** Traders, meters, the market on, prices and the standing orders; submitted and confirmed. */
export async function setupMarket(
  ctx: SignContext,
  seed: string,
  traders: number,
  submit: Submit,
  log: (line: string) => void,
): Promise<MarketSetup> {
  const people = participants(`${seed}-market`, traders);
  const periodMs = BENCH_MARKET_PERIOD_SECONDS * 1000;
  // Prices from the current period on; orders from the period that is current when they are
  // placed, or the next one when it ends within ORDERS_MARGIN_MS (an order for a period that has
  // ended is refused).
  const fromMs = Math.floor(Date.now() / periodMs) * periodMs;
  const setup = marketSetupTxs(ctx, people, fromMs, BENCH_MARKET_PERIODS, {
    periodSeconds: BENCH_MARKET_PERIOD_SECONDS,
    gateClosureSeconds: BENCH_MARKET_GATE_SECONDS,
  });
  const members = [...traderTxs(ctx, people), ...deviceTxs(ctx, people)];
  log(
    `market: ${traders} traders with meters, the market on (${BENCH_MARKET_PERIOD_SECONDS}-s periods)`,
  );
  await submit(members, 'market setup (traders and meters)');
  await submit(setup, 'market setup (market on, prices)');
  // Orders need the market on, and a period that has not ended: placed last.
  const nowMs = Date.now();
  const current = Math.floor(nowMs / periodMs) * periodMs;
  const ordersFromMs = current + periodMs - nowMs < ORDERS_MARGIN_MS ? current + periodMs : current;
  const toMs = fromMs + (BENCH_MARKET_PERIODS - 1) * periodMs;
  const orders = marketOrderTxs(ctx, people, ordersFromMs, toMs);
  log(`market: ${orders.length} standing orders over ${BENCH_MARKET_PERIODS} periods`);
  await submit(orders, 'market setup (standing orders)');
  return { people, periodMs, setupTxs: members.length + setup.length + orders.length };
}

/** `count` readings of the market's meters, round after round of one reading per trader. */
export function marketTimedTxs(ctx: SignContext, setup: MarketSetup, count: number): BenchTx[] {
  const out: BenchTx[] = [];
  for (let round = 0; out.length < count; round++)
    out.push(...marketReadingTxs(ctx, setup.people, round).slice(0, count - out.length));
  return out;
}

/** `extra` spread evenly through `base`, keeping the order of each. */
export function interleave(base: readonly BenchTx[], extra: readonly BenchTx[]): BenchTx[] {
  const out: BenchTx[] = [];
  const total = base.length + extra.length;
  let b = 0;
  let e = 0;
  for (let i = 0; i < total; i++) {
    // Take from `extra` whenever it has fallen behind its share of the positions so far.
    if (e < extra.length && (b >= base.length || e * total < (i + 1) * extra.length))
      out.push(extra[e++] as BenchTx);
    else out.push(base[b++] as BenchTx);
  }
  return out;
}

interface Chain {
  readonly blocks: (from: number, to: number) => Promise<BlockView[]>;
  readonly tx: (id: string) => Promise<TxView>;
  readonly head: () => Promise<number>;
  readonly blockLogs: () => readonly BlockLog[];
}

/** The accepted SettlePeriod transactions of this market in `blocks`: period start -> height. */
async function settlementsIn(
  blocks: readonly BlockView[],
  context: string,
  chain: Chain,
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const b of blocks)
    for (const t of b.transactions) {
      if (t.contractType !== 'SettlePeriod' || t.status !== 'accepted') continue;
      const p = (await chain.tx(t.id)).payload as { context?: unknown; periodStartMs?: unknown };
      if (p.context === context) out.set(Number(p.periodStartMs), b.height);
    }
  return out;
}

/**
 * Waits until every period that received readings of the timed load is settled (or its wait is
 * over), then reports the block that settled each.
 */
export async function awaitSettlements(
  setup: MarketSetup,
  readingBlocks: readonly BlockView[],
  firstHeight: number,
  chain: Chain,
  log: (line: string) => void,
): Promise<MarketPeriodResult[]> {
  const context = setup.people.owner.address;
  const periods = [
    ...new Set(
      readingBlocks.map((b) => Math.floor(b.processedMs / setup.periodMs) * setup.periodMs),
    ),
  ].sort((a, b) => a - b);
  const last = periods[periods.length - 1];
  if (last === undefined) return [];
  const deadlineMs = last + setup.periodMs + BENCH_MARKET_GATE_SECONDS * 1000 + SETTLE_WAIT_MS;
  let settled = new Map<number, number>();
  log(`market: waiting for the settlement of ${periods.length} period(s)`);
  for (;;) {
    settled = await settlementsIn(
      await chain.blocks(firstHeight, await chain.head()),
      context,
      chain,
    );
    if (periods.every((p) => settled.has(p)) || Date.now() > deadlineMs) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  const logs = chain.blockLogs();
  return periods.map((periodStartMs) => {
    const height = settled.get(periodStartMs) ?? null;
    const block = height === null ? undefined : logs.find((l) => l.height === height);
    return {
      periodStartMs,
      height,
      txsInBlock: block?.txs ?? null,
      executeMs: block?.executeMs ?? null,
      commitMs: block?.commitMs ?? null,
    };
  });
}
