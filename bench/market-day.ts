// A simulated day of a market community on the real contract engine (in memory, like engine.ts):
// households with and without solar panels, their quarter-hour production and consumption from
// the meter simulator's curves (src/meter/sim: the sun over Groningen, household routines and
// appliances), some standing orders, the market on (double auction, then community allocation),
// a supply price that follows the day, and every period settled after its gate closure. Prints
// each period's figures and the day's: self-sufficiency, self-consumption, import, export, peak
// import, local clearing prices against the supplier's, and each household's statement.
//
//   node dist/bench/market-day.js                          (30 households, 2026-06-21, seed 1)
//   node dist/bench/market-day.js --households 100 --date 2026-12-21 --seed 7 --json day.json

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Row } from '../src/chain/contract-model.js';
import { householdLoadW } from '../src/meter/sim/load.js';
import { solarPowerW } from '../src/meter/sim/solar.js';
import { formatNeur } from '../src/energy/market-statements.js';
import {
  communityHouseholds as households,
  type Household,
  supplyEur,
} from '../src/demo/community.js';
import { MemoryChain } from './memory-chain.js';
import {
  type BenchTx,
  type Participants,
  type SignContext,
  deriveKey,
  kwhText,
  participants,
  signBenchTx,
} from './workload.js';

const CHAIN_ID = 'hanzenet-market-day';
const QUARTER_MS = 900_000;
const PERIODS = 96;
const GATE_SECONDS = 60;
/** Power is sampled this often to integrate a quarter hour's energy. */
const SAMPLE_MS = 60_000;
const SITE = { latitude: 53.2, longitude: 6.57 };

interface Options {
  readonly households: number;
  readonly dayStartMs: number;
  readonly seed: number;
  readonly json: string | null;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      households: { type: 'string', default: '30' },
      date: { type: 'string', default: '2026-06-21' },
      seed: { type: 'string', default: '1' },
      json: { type: 'string' },
    },
  });
  const households = Number(values.households);
  if (!Number.isSafeInteger(households) || households < 3 || households > 1000)
    throw new RangeError(
      `--households must be an integer from 3 to 1000, got ${values.households}`,
    );
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`--seed must be a non-negative integer, got ${values.seed}`);
  const dayStartMs = Date.parse(`${values.date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(values.date) || Number.isNaN(dayStartMs))
    throw new RangeError(`--date must be a day as YYYY-MM-DD, got ${values.date}`);
  return { households, dayStartMs, seed, json: values.json ?? null };
}

/** Wh of a power curve over [fromMs, fromMs + QUARTER_MS), sampled every minute. */
function quarterWh(powerW: (ms: number) => number, fromMs: number): number {
  let wMinutes = 0;
  for (let t = fromMs; t < fromMs + QUARTER_MS; t += SAMPLE_MS)
    wMinutes += powerW(t + SAMPLE_MS / 2);
  return Math.round(wMinutes / 60);
}

interface Meter {
  registerWh: number;
  lastMs: number;
}

/** The signed transactions of the day, block by block, with the times of their blocks. */
function dayBlocks(
  ctx: SignContext,
  p: Participants,
  homes: readonly Household[],
  o: Options,
): { atMs: number; txs: BenchTx[] }[] {
  const context = p.owner.address;
  const blocks: { atMs: number; txs: BenchTx[] }[] = [];
  let n = 0;
  const sign = (type: string, key: Participants['owner'], payload: Record<string, unknown>) =>
    signBenchTx(ctx, p, 'order', n++, type, key, { context, ...payload });
  const setupMs = o.dayStartMs - 10 * 60_000;
  const setup: BenchTx[] = [];
  homes.forEach((h, i) => {
    const trader = p.traders[i]?.address;
    setup.push(sign('Trader', p.owner, { address: trader, allowed: true }));
    if (h.pvKwp > 0)
      setup.push(
        sign('Producer', p.owner, {
          address: p.producers[i]?.address,
          allowed: true,
          trader,
          labels: ['solar'],
        }),
      );
    setup.push(
      sign('Consumer', p.owner, {
        address: p.consumers[i]?.address,
        allowed: true,
        trader,
        labels: [],
      }),
    );
  });
  blocks.push({ atMs: setupMs, txs: setup });
  const periods = Array.from({ length: PERIODS }, (_, k) => k);
  blocks.push({
    atMs: setupMs + 1000,
    txs: [
      sign('Market', p.owner, {
        on: true,
        gateClosureSeconds: GATE_SECONDS,
        auction: true,
        allocation: true,
      }),
      sign('MarketPrices', p.owner, {
        fromMs: o.dayStartMs,
        localEur: periods.map(() => '0.15'),
        supplyEur: periods.map(supplyEur),
        feedInEur: periods.map(() => '0.05'),
      }),
    ],
  });
  const orders: BenchTx[] = [];
  homes.forEach((h, i) => {
    const key = p.traders[i];
    if (h.order !== null && key !== undefined)
      orders.push(
        sign('Order', key, {
          ...h.order,
          fromMs: o.dayStartMs,
          toMs: o.dayStartMs + (PERIODS - 1) * QUARTER_MS,
        }),
      );
  });
  blocks.push({ atMs: setupMs + 2000, txs: orders });
  const meters = new Map<string, Meter>();
  const reading = (
    key: Participants['owner'],
    wh: number,
    sign1: 1 | -1,
    endMs: number,
  ): BenchTx | null => {
    if (wh <= 0) return null;
    const m = meters.get(key.address) ?? { registerWh: 0, lastMs: endMs - QUARTER_MS };
    m.registerWh += wh;
    const tx = sign('Energy', key, {
      amount: kwhText(sign1 * wh),
      register: kwhText(m.registerWh),
      readingMs: endMs,
      sinceMs: m.lastMs,
    });
    m.lastMs = endMs;
    meters.set(key.address, m);
    return tx;
  };
  for (const k of periods) {
    const startMs = o.dayStartMs + k * QUARTER_MS;
    const endMs = startMs + QUARTER_MS;
    const readings: BenchTx[] = [];
    homes.forEach((h, i) => {
      const producer = p.producers[i];
      const consumer = p.consumers[i];
      if (producer === undefined || consumer === undefined) return;
      const site = { ...SITE, pvKwp: h.pvKwp };
      const produced =
        h.pvKwp > 0 ? quarterWh((t) => solarPowerW(o.seed + i, site, t), startMs) : 0;
      const consumed = quarterWh((t) => householdLoadW(o.seed + i, h.baseLoadW, t), startMs);
      for (const tx of [
        reading(producer, produced, 1, endMs),
        reading(consumer, consumed, -1, endMs),
      ])
        if (tx !== null) readings.push(tx);
    });
    blocks.push({ atMs: endMs + 2000, txs: readings });
    blocks.push({
      atMs: endMs + GATE_SECONDS * 1000 + 1000,
      txs: [sign('SettlePeriod', p.owner, { periodStartMs: startMs })],
    });
  }
  return blocks;
}

const big = (r: Row, k: string): bigint => (r[k] as bigint | undefined) ?? 0n;
const pct = (part: bigint, whole: bigint): string =>
  whole === 0n ? '-' : `${(Number((part * 10000n) / whole) / 100).toFixed(1)}%`;
const kwh = (wh: bigint): string => (Number(wh) / 1000).toFixed(3);

async function main(): Promise<void> {
  const o = options();
  const homes = households(o.seed, o.households);
  const p = participants(`market-day-${o.seed}`, o.households);
  const chain = await MemoryChain.open(
    CHAIN_ID,
    deriveKey('market-day', 'processor', 0),
    o.dayStartMs - 3_600_000,
    false,
  );
  try {
    const hashes = await chain.installEnergy(o.dayStartMs - 1_800_000);
    const blocks = dayBlocks({ chainId: CHAIN_ID, hashes }, p, homes, o);
    const settleMs: number[] = [];
    for (const b of blocks) {
      const t0 = performance.now();
      await chain.run(
        b.txs.map((t) => t.tx),
        b.atMs,
      );
      if (b.txs[0]?.contractType === 'SettlePeriod') settleMs.push(performance.now() - t0);
    }
    report(chain, p, homes, o, settleMs);
  } finally {
    await chain.close();
  }
}

function report(
  chain: MemoryChain,
  p: Participants,
  homes: readonly Household[],
  o: Options,
  settleMs: readonly number[],
): void {
  const statements = chain.store.rows('energy_market_statements');
  const clearings = chain.store.rows('energy_market_clearings');
  const prices = new Map(
    chain.store.rows('energy_market_prices').map((r) => [big(r, 'period_start_ms'), r]),
  );
  const lines: string[] = [];
  const solar = homes.filter((h) => h.pvKwp > 0).length;
  const ordered = homes.filter((h) => h.order !== null).length;
  lines.push(
    `A day of ${o.households} households (${solar} with solar panels, ${ordered} with standing orders) on ${new Date(o.dayStartMs).toISOString().slice(0, 10)}, seed ${o.seed}: ${PERIODS} periods settled, SettlePeriod ${Math.min(...settleMs).toFixed(0)}-${Math.max(...settleMs).toFixed(0)} ms each`,
  );
  lines.push('');
  lines.push(
    'period (UTC)  produced  consumed  local kWh  import  export  auction EUR/kWh per class  supply  feed-in',
  );
  const day = {
    produced: 0n,
    consumed: 0n,
    supplied: 0n,
    exported: 0n,
    local: 0n,
    peak: 0n,
    peakAt: 0n,
  };
  for (let k = 0; k < PERIODS; k++) {
    const start = BigInt(o.dayStartMs + k * QUARTER_MS);
    const of = statements.filter((s) => big(s, 'period_start_ms') === start);
    const sum = (f: string): bigint => of.reduce((a, s) => a + big(s, f), 0n);
    const produced = sum('produced_wh');
    const consumed = sum('consumed_wh');
    const supplied = sum('supplied_wh');
    const exported = sum('exported_wh');
    const local = sum('own_use_wh') + sum('bought_wh');
    day.produced += produced;
    day.consumed += consumed;
    day.supplied += supplied;
    day.exported += exported;
    day.local += local;
    if (supplied > day.peak) {
      day.peak = supplied;
      day.peakAt = start;
    }
    const classes = clearings
      .filter((c) => big(c, 'period_start_ms') === start && big(c, 'wh') > 0n)
      .map((c) => {
        const labels = c['labels'] as string[];
        return `${labels.length > 0 ? labels.join('+') : 'any'} ${formatNeur(big(c, 'price_ueur_per_kwh') * 1000n)}`;
      });
    const pr = prices.get(start);
    lines.push(
      [
        new Date(Number(start)).toISOString().slice(11, 16).padEnd(12),
        kwh(produced).padStart(8),
        kwh(consumed).padStart(9),
        kwh(local).padStart(10),
        kwh(supplied).padStart(7),
        kwh(exported).padStart(7),
        (classes.join(', ') || '-').padStart(26),
        formatNeur(big(pr ?? {}, 'supply_ueur_per_kwh') * 1000n).padStart(7),
        formatNeur(big(pr ?? {}, 'feed_in_ueur_per_kwh') * 1000n).padStart(8),
      ].join('  '),
    );
  }
  lines.push('');
  lines.push(
    `The day: produced ${kwh(day.produced)} kWh, consumed ${kwh(day.consumed)} kWh; covered locally ${kwh(day.consumed - day.supplied)} kWh (self-sufficiency ${pct(day.consumed - day.supplied, day.consumed)}), production used locally ${kwh(day.produced - day.exported)} kWh (self-consumption ${pct(day.produced - day.exported, day.produced)}); import ${kwh(day.supplied)} kWh, export ${kwh(day.exported)} kWh; peak import ${kwh(day.peak)} kWh in the quarter hour from ${new Date(Number(day.peakAt)).toISOString().slice(11, 16)} UTC`,
  );
  lines.push('');
  lines.push(
    'household  panels  order              produced  consumed  bought (EUR)        sold (EUR)          supplied (EUR)      exported (EUR)      due EUR',
  );
  homes.forEach((h, i) => {
    const trader = p.traders[i]?.address;
    const mine = statements.filter((s) => s['trader'] === trader);
    const sum = (f: string): bigint => mine.reduce((a, s) => a + big(s, f), 0n);
    const pair = (whField: string, neurField: string): string =>
      `${kwh(sum(whField))} (${Number(formatNeur(sum(neurField))).toFixed(2)})`.padEnd(18);
    const order =
      h.order === null
        ? '-'
        : `${h.order.side} ${h.order.priceEur}${h.order.labels.length > 0 ? ' solar' : ''}`;
    lines.push(
      [
        `h${String(i + 1).padStart(2, '0')}`.padEnd(9),
        (h.pvKwp > 0 ? `${h.pvKwp} kWp` : '-').padEnd(6),
        order.padEnd(17),
        kwh(sum('produced_wh')).padStart(8),
        kwh(sum('consumed_wh')).padStart(9),
        pair('bought_wh', 'bought_neur'),
        pair('sold_wh', 'sold_neur'),
        pair('supplied_wh', 'supplied_neur'),
        pair('exported_wh', 'exported_neur'),
        Number(formatNeur(sum('due_neur')))
          .toFixed(2)
          .padStart(8),
      ].join('  '),
    );
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  if (o.json !== null)
    writeFileSync(
      o.json,
      JSON.stringify(
        { households: homes, statements, clearings },
        (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
        1,
      ),
    );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
