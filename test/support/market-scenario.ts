// Random market scenarios for the market's property tests on the real engine: a community of 2 to 8
// traders (producers with and without labels, consumers with and without label requirements),
// meter readings over 2 to 4 periods (some spanning periods, some sent late, after their period
// was settled), orders (buy and sell, few distinct prices so that they tie, amounts or the whole
// position, labels, standing ranges, some cancelled), auction and/or allocation, random prices,
// a few corrections by the owner (MarketCorrection); every period settled in order, then one more
// period that settles what came in late.
//
// A plan (what fast-check generates) becomes blocks of calls with their block times, signed by
// named keys, so that the same scenario runs on an EnergyChain and on real processors. A plan can
// be built as a second context whose traders have other keys and whose orders are submitted in
// another order, keeping only the order of equal orders (same side and price): the auction must
// clear it the same way (test/energy-market-properties.test.ts).

import fc from 'fast-check';
import { formatWh } from '../../src/core/amount.js';
import type { PrivateKey } from '../../src/core/keys.js';
import { testKey } from './energy-chain.js';

export const QUARTER_MS = 900_000;
const LABELS = ['local', 'solar', 'wind'] as const;
/** Few distinct prices, so that orders tie and prices meet at the margin. */
export const PRICES = ['0', '0.05', '0.1', '0.12', '0.15', '0.2', '0.3'] as const;

export interface PlanReading {
  /** Offset of readingMs from the first period's start, in (0, periods × 15 min]. */
  readonly atMs: number;
  readonly wh: number;
  /** null: no sinceMs (the device's previous reading); else where in (previous, atMs) it lies. */
  readonly since: number | null;
}

export interface PlanDevice {
  readonly trader: number;
  readonly produces: boolean;
  readonly labels: readonly string[];
  readonly readings: readonly PlanReading[];
  /** From this reading on, the meter is offline until round `backRound` (a late sender). */
  readonly offlineFrom: number;
  readonly backRound: number;
}

export interface PlanOrder {
  readonly trader: number;
  readonly side: 'buy' | 'sell';
  readonly price: (typeof PRICES)[number];
  readonly amountWh: number | null;
  readonly labels: readonly string[];
  readonly fromPeriod: number;
  readonly spanPeriods: number;
  /** -1: placed in the setup block; r: in the block before period r is settled. */
  readonly round: number;
  /** A number to pick the round of its cancellation from, or null: never cancelled. */
  readonly cancel: number | null;
}

/** An owner's correction (MarketCorrection) of what a trader metered in a period, sent later. */
export interface PlanCorrection {
  readonly trader: number;
  readonly period: number;
  readonly produced: boolean;
  /** Signed Wh: positive, the trader metered more. */
  readonly wh: number;
  /** A number to pick its round (after the period ended) from. */
  readonly delay: number;
}

export interface PlanPrices {
  readonly local: string;
  readonly supply: string;
  readonly feedIn: string;
}

export interface Plan {
  readonly periods: number;
  readonly traders: number;
  readonly gateSeconds: number;
  readonly auction: boolean;
  readonly allocation: boolean;
  readonly devices: readonly PlanDevice[];
  readonly orders: readonly PlanOrder[];
  readonly corrections: readonly PlanCorrection[];
  readonly prices: readonly PlanPrices[];
  /** Seed of the submission order of the orders in the renamed context. */
  readonly shuffle: number;
}

const arbLabels = fc
  .subarray([...LABELS], { minLength: 0, maxLength: 2 })
  .map((ls) => [...ls].sort());
const arbPrice = fc.constantFrom(...PRICES);

export function arbPlan(): fc.Arbitrary<Plan> {
  return fc
    .record({
      periods: fc.integer({ min: 2, max: 4 }),
      traders: fc.integer({ min: 2, max: 8 }),
      gateSeconds: fc.constantFrom(0, 60),
      mode: fc.constantFrom('auction', 'allocation', 'both', 'both'),
      shuffle: fc.integer({ min: 0, max: 1_000_000 }),
      tied: fc.boolean(),
    })
    .chain((base) =>
      fc.record({
        periods: fc.constant(base.periods),
        traders: fc.constant(base.traders),
        gateSeconds: fc.constant(base.gateSeconds),
        auction: fc.constant(base.mode !== 'allocation'),
        allocation: fc.constant(base.mode !== 'auction'),
        shuffle: fc.constant(base.shuffle),
        devices: fc.array(arbDevice(base.traders, base.periods), {
          minLength: base.traders,
          maxLength: 12,
        }),
        orders: fc.array(arbOrder(base.traders, base.periods, base.tied), {
          minLength: 2 * base.traders,
          maxLength: 24,
        }),
        corrections: fc.array(arbCorrection(base.traders, base.periods), { maxLength: 3 }),
        prices: fc.array(fc.record({ local: arbPrice, supply: arbPrice, feedIn: arbPrice }), {
          minLength: base.periods + 1,
          maxLength: base.periods + 1,
        }),
      }),
    );
}

function arbDevice(traders: number, periods: number): fc.Arbitrary<PlanDevice> {
  const spanMs = periods * QUARTER_MS;
  // Readings often at a period's end, or at random instants.
  const arbAt = fc.oneof(
    fc.integer({ min: 1, max: periods }).map((k) => k * QUARTER_MS),
    fc.integer({ min: 1, max: spanMs }),
  );
  return fc.record({
    trader: fc.integer({ min: 0, max: traders - 1 }),
    produces: fc.boolean(),
    labels: fc.oneof(fc.constant([] as string[]), arbLabels),
    readings: fc
      .uniqueArray(
        fc.record({
          atMs: arbAt,
          wh: fc.integer({ min: 1, max: 3000 }),
          since: fc.option(fc.double({ min: 0, max: 0.999, noNaN: true }), { nil: null }),
        }),
        { minLength: 1, maxLength: 5, selector: (r) => r.atMs },
      )
      .map((rs) => [...rs].sort((a, b) => a.atMs - b.atMs)),
    offlineFrom: fc.oneof(
      { arbitrary: fc.constant(99), weight: 3 },
      { arbitrary: fc.integer({ min: 0, max: 4 }), weight: 1 },
    ),
    backRound: fc.integer({ min: 0, max: periods }),
  });
}

function arbCorrection(traders: number, periods: number): fc.Arbitrary<PlanCorrection> {
  return fc.record({
    trader: fc.integer({ min: 0, max: traders - 1 }),
    period: fc.integer({ min: 0, max: periods - 1 }),
    produced: fc.boolean(),
    wh: fc.integer({ min: -3000, max: 3000 }).filter((wh) => wh !== 0),
    delay: fc.integer({ min: 0, max: 100 }),
  });
}

function arbOrder(traders: number, periods: number, tied: boolean): fc.Arbitrary<PlanOrder> {
  // Bids from 0.10 to 0.20, asks from 0.05 to 0.15: they meet and tie often (`tied`: every bid
  // at 0.15 and every ask at 0.10, so that only the sequence orders each side); mostly standing
  // orders placed before the first period, mostly without labels.
  const side = fc.constantFrom('buy' as const, 'sell' as const);
  return side.chain((s) =>
    fc.record({
      trader: fc.integer({ min: 0, max: traders - 1 }),
      side: fc.constant(s),
      price: tied
        ? fc.constant(s === 'buy' ? PRICES[4] : PRICES[2])
        : fc.constantFrom(...(s === 'buy' ? PRICES.slice(2, 6) : PRICES.slice(1, 5))),
      amountWh: fc.option(fc.integer({ min: 1, max: 3000 }), { nil: null }),
      labels: fc.oneof(
        { arbitrary: fc.constant([] as string[]), weight: 3 },
        { arbitrary: arbLabels, weight: 1 },
      ),
      fromPeriod: fc.integer({ min: 0, max: periods - 1 }),
      spanPeriods: fc.oneof(fc.constant(periods), fc.integer({ min: 0, max: periods - 1 })),
      round: fc.oneof(
        { arbitrary: fc.constant(-1), weight: 3 },
        { arbitrary: fc.integer({ min: 0, max: periods - 1 }), weight: 1 },
      ),
      cancel: fc.oneof(
        { arbitrary: fc.constant(null), weight: 5 },
        { arbitrary: fc.integer({ min: 0, max: 100 }), weight: 1 },
      ),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Building a plan into calls.

export interface ScenarioCall {
  readonly type: string;
  readonly signer: PrivateKey;
  /** The payload; a CancelOrder's `order` is filled in by the runner from `cancels`. */
  readonly payload: Record<string, unknown>;
  /** For an Order: its index in the context's orders. */
  readonly orderRef?: number;
  /** For a CancelOrder: the index of the order it cancels. */
  readonly cancels?: number;
}

export interface ScenarioBlock {
  readonly atMs: number;
  readonly calls: ScenarioCall[];
}

/** An order as placed, with the rounds of its placement and cancellation, for the checks. */
export interface ScenarioOrder {
  readonly trader: string;
  readonly side: 'buy' | 'sell';
  readonly priceUeur: bigint;
  readonly amountWh: bigint | null;
  readonly labels: readonly string[];
  readonly fromMs: bigint;
  readonly toMs: bigint;
  readonly round: number;
  /** The round in whose reading block it is cancelled (-1: setup), or null. */
  readonly cancelRound: number | null;
}

/** One context of a scenario: its keys, devices, orders and what its meters sent, for the checks. */
export interface ScenarioContext {
  readonly owner: PrivateKey;
  readonly traders: readonly PrivateKey[];
  /** Producer and consumer devices: their trader's address, labels and kind. */
  readonly devices: readonly { trader: string; labels: readonly string[]; produces: boolean }[];
  readonly orders: readonly ScenarioOrder[];
  /** Wh each trader's meters sent, per direction ("trader|produced"). */
  readonly sentWh: ReadonlyMap<string, bigint>;
  /** The owner's corrections per trader, production positive (more production or less consumption). */
  readonly correctedWh: ReadonlyMap<string, bigint>;
  readonly blocks: readonly ScenarioBlock[];
}

export interface Scenario {
  readonly plan: Plan;
  readonly baseMs: number;
  readonly periodStartsMs: readonly number[];
  readonly contexts: readonly ScenarioContext[];
  /** The blocks of every context merged (they have the same block times). */
  readonly blocks: readonly ScenarioBlock[];
}

/** Micro-euro per kWh of a price from PRICES. */
export function ueurOf(price: string): bigint {
  const [whole = '0', frac = ''] = price.split('.');
  return BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, '0'));
}

/**
 * The scenario of a plan from `baseMs` (a period start, more than two minutes after the chain's
 * last block), in a context per name (`names`); the contexts after the first submit their orders
 * in another order (keeping the order of equal orders).
 */
export function buildScenario(plan: Plan, baseMs: number, names: readonly string[]): Scenario {
  const contexts = names.map((name, i) =>
    buildContext(plan, baseMs, name, i === 0 ? null : plan.shuffle + i),
  );
  const first = contexts[0];
  if (first === undefined) throw new Error('a scenario needs a context');
  const blocks = first.blocks.map((b, k) => ({
    atMs: b.atMs,
    calls: contexts.flatMap((c) => c.blocks[k]?.calls ?? []),
  }));
  const periodStartsMs = Array.from(
    { length: plan.periods + 1 },
    (_, i) => baseMs + i * QUARTER_MS,
  );
  return { plan, baseMs, periodStartsMs, contexts, blocks };
}

function buildContext(
  plan: Plan,
  baseMs: number,
  name: string,
  shuffle: number | null,
): ScenarioContext {
  const owner = testKey(`${name} owner`);
  const context = owner.address;
  const traders = Array.from({ length: plan.traders }, (_, i) => testKey(`${name} trader ${i}`));
  const rounds = plan.periods + 1;
  // Block 0: setup; then per round r the reading block (index 1 + 2r) and the settle block.
  const blocks: ScenarioBlock[] = [{ atMs: baseMs - 120_000, calls: [] }];
  for (let r = 0; r < rounds; r++) {
    blocks.push({ atMs: baseMs + (r + 1) * QUARTER_MS - 1, calls: [] });
    blocks.push({ atMs: baseMs + (r + 1) * QUARTER_MS + plan.gateSeconds * 1000, calls: [] });
  }
  const call: CallFn = (round, type, signer, payload, extra = {}) => {
    const block = blocks[round < 0 ? 0 : 1 + 2 * round] as ScenarioBlock;
    block.calls.push({ type, signer, payload: { context, ...payload }, ...extra });
  };
  const devices = plan.devices.map((d, i) => ({
    ...d,
    key: testKey(`${name} device ${i}`),
    trader: (traders[d.trader] as PrivateKey).address,
  }));
  setUp(plan, baseMs, owner, traders, devices, call);
  const orders = placeOrders(plan, baseMs, call, traders, shuffle);
  const sentWh = sendReadings(plan, baseMs, devices, call);
  const correctedWh = new Map<string, bigint>();
  for (const c of plan.corrections) {
    const trader = (traders[c.trader] as PrivateKey).address;
    // The labels of one of its devices in that direction, if it has one.
    const device = devices.find((d) => d.trader === trader && d.produces === c.produced);
    // Sent once the period has ended: in the reading block of a later round.
    const round = c.period + 1 + (c.delay % (plan.periods - c.period));
    call(round, 'MarketCorrection', owner, {
      trader,
      periodStartMs: baseMs + c.period * QUARTER_MS,
      labels: [...(device?.labels ?? [])],
      amount: formatWh(BigInt(c.wh)),
      direction: c.produced ? 'produced' : 'consumed',
    });
    const production = c.produced ? BigInt(c.wh) : -BigInt(c.wh);
    correctedWh.set(trader, (correctedWh.get(trader) ?? 0n) + production);
  }
  for (let r = 0; r < rounds; r++) {
    (blocks[2 + 2 * r] as ScenarioBlock).calls.push({
      type: 'SettlePeriod',
      signer: traders[r % traders.length] as PrivateKey,
      payload: { context, periodStartMs: baseMs + r * QUARTER_MS },
    });
  }
  return {
    owner,
    traders,
    devices: devices.map((d) => ({ trader: d.trader, labels: d.labels, produces: d.produces })),
    orders,
    sentWh,
    correctedWh,
    blocks,
  };
}

type Device = Omit<PlanDevice, 'trader'> & { readonly key: PrivateKey; readonly trader: string };

/** The setup block: traders, devices, the market turned on, the prices of every period. */
function setUp(
  plan: Plan,
  baseMs: number,
  owner: PrivateKey,
  traders: readonly PrivateKey[],
  devices: readonly Device[],
  call: CallFn,
): void {
  for (const t of traders) call(-1, 'Trader', owner, { address: t.address, allowed: true });
  for (const d of devices) {
    call(-1, d.produces ? 'Producer' : 'Consumer', owner, {
      address: d.key.address,
      allowed: true,
      trader: d.trader,
      labels: [...d.labels],
    });
  }
  call(-1, 'Market', owner, {
    on: true,
    gateClosureSeconds: plan.gateSeconds,
    auction: plan.auction,
    allocation: plan.allocation,
  });
  call(-1, 'MarketPrices', owner, {
    fromMs: baseMs,
    localEur: plan.prices.map((p) => p.local),
    supplyEur: plan.prices.map((p) => p.supply),
    feedInEur: plan.prices.map((p) => p.feedIn),
  });
}

/**
 * Each device's readings, in the reading block of the period they end in, or of its back round
 * once the meter went offline (late, when that period is settled by then). Returns the Wh sent per
 * "trader|direction".
 */
function sendReadings(
  plan: Plan,
  baseMs: number,
  devices: readonly Device[],
  call: CallFn,
): Map<string, bigint> {
  const sentWh = new Map<string, bigint>();
  for (const d of devices) {
    const direction = d.produces ? 'produced' : 'consumed';
    let registerWh = 0n;
    let lastAt = 0;
    d.readings.forEach((reading, k) => {
      const atMs = ((reading.atMs - 1) % (plan.periods * QUARTER_MS)) + 1;
      if (atMs <= lastAt) return; // folded onto an earlier reading: left out
      const wh = BigInt(reading.wh);
      registerWh += wh;
      const natural = Math.floor((atMs - 1) / QUARTER_MS);
      const round = k >= d.offlineFrom ? Math.max(natural, d.backRound) : natural;
      const payload: Record<string, unknown> = {
        amount: formatWh(d.produces ? wh : -wh),
        register: formatWh(registerWh),
        readingMs: baseMs + atMs,
      };
      if (reading.since !== null)
        payload['sinceMs'] = baseMs + lastAt + Math.floor(reading.since * (atMs - lastAt));
      call(round, 'Energy', d.key, payload);
      const key = `${d.trader}|${direction}`;
      sentWh.set(key, (sentWh.get(key) ?? 0n) + wh);
      lastAt = atMs;
    });
  }
  return sentWh;
}

type CallFn = (
  round: number,
  type: string,
  signer: PrivateKey,
  payload: Record<string, unknown>,
  extra?: Partial<ScenarioCall>,
) => void;

/**
 * Places the plan's orders (in their rounds; with `shuffle`, each block's orders in another order
 * that keeps equal orders in theirs), then the cancellations at the end of their blocks.
 */
function placeOrders(
  plan: Plan,
  baseMs: number,
  call: CallFn,
  traders: readonly PrivateKey[],
  shuffle: number | null,
): ScenarioOrder[] {
  const orders: ScenarioOrder[] = plan.orders.map((o) => {
    const from = Math.max(o.fromPeriod, o.round);
    const to = Math.min(from + o.spanPeriods, plan.periods - 1);
    // A cancellation comes while the order is still in the book: before its last period is settled.
    const cancelRound = o.cancel === null ? null : o.round + (o.cancel % (to - o.round + 1));
    return {
      trader: (traders[o.trader] as PrivateKey).address,
      side: o.side,
      priceUeur: ueurOf(o.price),
      amountWh: o.amountWh === null ? null : BigInt(o.amountWh),
      labels: o.side === 'buy' ? o.labels : [],
      fromMs: BigInt(baseMs + from * QUARTER_MS),
      toMs: BigInt(baseMs + to * QUARTER_MS),
      round: o.round,
      cancelRound,
    };
  });
  const signerOf = (a: string): PrivateKey => traders.find((t) => t.address === a) as PrivateKey;
  for (let round = -1; round < plan.periods; round++) {
    const here = orders
      .map((_, i) => i)
      .filter((i) => (orders[i] as ScenarioOrder).round === round);
    for (const i of shuffle === null ? here : keepTies(here, orders, shuffle + round)) {
      const o = orders[i] as ScenarioOrder;
      const payload: Record<string, unknown> = {
        side: o.side,
        priceEur: plan.orders[i]?.price,
        labels: [...o.labels],
        fromMs: Number(o.fromMs),
        toMs: Number(o.toMs),
      };
      if (o.amountWh !== null) payload['amount'] = formatWh(o.amountWh);
      call(round, 'Order', signerOf(o.trader), payload, { orderRef: i });
    }
    orders.forEach((o, i) => {
      if (o.cancelRound === round)
        call(round, 'CancelOrder', signerOf(o.trader), {}, { cancels: i });
    });
  }
  return orders;
}

/**
 * The indexes in a pseudo-random order, in which orders of the same side and price keep their
 * relative order (so that the sequence numbers of equal orders compare as before).
 */
function keepTies(
  indexes: readonly number[],
  orders: readonly ScenarioOrder[],
  seed: number,
): number[] {
  let state = (seed >>> 0) + 1;
  const random = (): number => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state;
  };
  const shuffled = indexes
    .map((i) => ({ i, r: random() }))
    .sort((a, b) => a.r - b.r)
    .map((x) => x.i);
  const group = (i: number): string => `${orders[i]?.side}|${orders[i]?.priceUeur}`;
  const queues = new Map<string, number[]>();
  for (const i of indexes) queues.set(group(i), [...(queues.get(group(i)) ?? []), i]);
  // Each place of the shuffled order takes the next index of its group in the original order.
  return shuffled.map((i) => (queues.get(group(i)) as number[]).shift() as number);
}
