// Grouped market statements and the market's figures (src/energy/market-groups.ts,
// market-grouped-statements.ts, market-figures.ts): calendar days and months of a time zone on the
// two DST days of 2026 in Europe/Amsterdam and at month and year ends, checked against Intl with
// fast-check in several zones; bad parameters named in a coded error; and the figures and grouped
// statements of a community whose market settled four periods around the spring change, against
// what the statements, flows and prices tables say when summed here by hand. The HTTP route and
// the CLI on a real processor are in test/e2e-market-figures.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { formatWh } from '../src/core/amount.js';
import { ChainError } from '../src/core/errors.js';
import { marketFigures, ratioText } from '../src/energy/market-figures.js';
import type { FiguresGroupView, FiguresView } from '../src/energy/market-figures.js';
import { groupedMarketStatements } from '../src/energy/market-grouped-statements.js';
import { calendarGroupOf, calendarGroups, parseGroupQuery } from '../src/energy/market-groups.js';
import { COLUMNS, formatNeur } from '../src/energy/market-statements.js';
import { EnergyChain, closeEnergyChains } from './support/energy-chain.js';
import {
  ANNA,
  ANNA_HOUSE,
  ANNA_SOLAR,
  BERT,
  BERT_HOUSE,
  CARL,
  CARL_HOUSE,
  Community,
  QUARTER_MS,
} from './support/market-community.js';

const AMS = 'Europe/Amsterdam';
const HOUR_MS = 3_600_000;

/** The local date of an instant as Intl writes it (en-CA: 2026-03-29). */
function localDate(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(ms);
}

describe('calendar days and months of a time zone', () => {
  test('the two DST days of 2026 in Europe/Amsterdam hold 92 and 100 quarter hours', () => {
    // CET is UTC+1 and CEST UTC+2; the clocks change at 01:00 UTC on both Sundays.
    const spring = calendarGroupOf('day', Date.UTC(2026, 2, 29, 12), AMS);
    assert.deepEqual(spring, {
      label: '2026-03-29',
      startMs: Date.UTC(2026, 2, 28, 23),
      endMs: Date.UTC(2026, 2, 29, 22),
    });
    assert.equal((spring.endMs - spring.startMs) / QUARTER_MS, 92);
    const autumn = calendarGroupOf('day', Date.UTC(2026, 9, 25, 12), AMS);
    assert.deepEqual(autumn, {
      label: '2026-10-25',
      startMs: Date.UTC(2026, 9, 24, 22),
      endMs: Date.UTC(2026, 9, 25, 23),
    });
    assert.equal((autumn.endMs - autumn.startMs) / QUARTER_MS, 100);
    // The last quarter hour before local midnight and the first after it.
    assert.equal(calendarGroupOf('day', Date.UTC(2026, 2, 28, 22, 45), AMS).label, '2026-03-28');
    assert.equal(calendarGroupOf('day', Date.UTC(2026, 2, 28, 23, 0), AMS).label, '2026-03-29');
    assert.equal(calendarGroupOf('day', Date.UTC(2026, 2, 28, 23, 0), 'UTC').label, '2026-03-28');
  });

  test('months: March 2026 in Amsterdam loses an hour, a year ends at local midnight', () => {
    const march = calendarGroupOf('month', Date.UTC(2026, 2, 15), AMS);
    assert.deepEqual(march, {
      label: '2026-03',
      startMs: Date.UTC(2026, 1, 28, 23),
      endMs: Date.UTC(2026, 2, 31, 22),
    });
    assert.equal((march.endMs - march.startMs) / HOUR_MS, 31 * 24 - 1);
    const months = calendarGroups('month', Date.UTC(2026, 10, 15), Date.UTC(2027, 0, 5), AMS, 10);
    assert.deepEqual(
      months.map((g) => [g.label, g.startMs]),
      [
        ['2026-11', Date.UTC(2026, 9, 31, 23)],
        ['2026-12', Date.UTC(2026, 10, 30, 23)],
        ['2027-01', Date.UTC(2026, 11, 31, 23)],
      ],
    );
    assert.equal(calendarGroups('day', 0, Date.UTC(2030, 0, 1), 'UTC', 3).length, 3, 'bounded');
  });

  test('property: a group starts at the first instant of its date and ends where the next starts', () => {
    const zones = [
      AMS,
      'UTC',
      'America/New_York',
      'America/Sao_Paulo', // changed its clocks at midnight until 2019
      'America/St_Johns',
      'Australia/Lord_Howe', // a half-hour change
      'Asia/Kathmandu',
      'Pacific/Chatham',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.constantFrom(...zones),
        fc.constantFrom('day' as const, 'month' as const),
        (ms, tz, kind) => {
          const g = calendarGroupOf(kind, ms, tz);
          assert.ok(g.startMs <= ms && ms < g.endMs, `${ms} in ${JSON.stringify(g)}`);
          const first = localDate(g.startMs, tz);
          assert.equal(kind === 'day' ? first : first.slice(0, 7), g.label);
          if (kind === 'month') assert.ok(first.endsWith('-01'));
          assert.ok(localDate(g.startMs - 1, tz) < first, 'the instant before is an earlier date');
          assert.ok(localDate(g.endMs, tz) > first);
          assert.ok(localDate(g.endMs - 1, tz) < localDate(g.endMs, tz));
          const hours = (g.endMs - g.startMs) / HOUR_MS;
          if (kind === 'day') assert.ok(hours >= 22.5 && hours <= 25.5, `${hours} h`);
          const [next] = calendarGroups(kind, g.endMs, g.endMs, tz, 1);
          assert.equal(next?.startMs, g.endMs);
        },
      ),
      { seed: Number(process.env['SEED'] ?? 1), numRuns: 300 },
    );
  });

  test('parseGroupQuery: defaults, a canonical zone, and each bad parameter named', () => {
    assert.deepEqual(parseGroupQuery({}), { group: 'period', tz: 'UTC', limit: 10_000 });
    assert.deepEqual(
      parseGroupQuery({ group: 'day', tz: 'europe/amsterdam', from: '5', to: '6', limit: '3' }),
      { group: 'day', tz: AMS, limit: 3, fromMs: 5, toMs: 6 },
    );
    for (const [params, field] of [
      [{ group: 'week' }, 'group'],
      [{ group: '' }, 'group'],
      [{ tz: 'Mars/Olympus_Mons' }, 'tz'],
      [{ tz: '' }, 'tz'],
      [{ tz: '../../etc/passwd' }, 'tz'],
      [{ tz: 'x'.repeat(200) }, 'tz'],
      [{ from: '10', to: '10' }, 'to'],
      [{ from: '10', to: '9' }, 'to'],
      [{ from: '-1' }, 'from'],
      [{ limit: '0' }, 'limit'],
      [{ limit: '10001' }, 'limit'],
    ] as const) {
      assert.throws(
        () => parseGroupQuery(params),
        (err: unknown) =>
          err instanceof ChainError &&
          err.code === 'bad_request' &&
          (err.details as { field?: string }).field === field,
        JSON.stringify(params),
      );
    }
  });

  test('ratioText: 6 decimals rounded down, null without a denominator', () => {
    assert.equal(ratioText(2n, 3n), '0.666666');
    assert.equal(ratioText(3n, 3n), '1.000000');
    assert.equal(ratioText(0n, 7n), '0.000000');
    assert.equal(ratioText(1n, 0n), null);
    assert.equal(ratioText(-1n, 3n), '-0.333334');
  });
});

// Four settled periods around the spring change: 23:45 and 00:00 local on 28/29 March (CET), and
// 23:45 and 00:00 local on 29/30 March (CEST). In UTC the first two lie on 28 March.
const PA = Date.UTC(2026, 2, 28, 22, 45);
const PB = PA + QUARTER_MS;
const PC = Date.UTC(2026, 2, 29, 21, 45);
const PD = PC + QUARTER_MS;
const DAYS_AMS = new Map([
  [PA, '2026-03-28'],
  [PB, '2026-03-29'],
  [PC, '2026-03-29'],
  [PD, '2026-03-30'],
]);
const DAYS_UTC = new Map([
  [PA, '2026-03-28'],
  [PB, '2026-03-28'],
  [PC, '2026-03-29'],
  [PD, '2026-03-29'],
]);
/** What each meter reported per period, kWh (consumption negative). */
const READINGS: readonly (readonly [number, readonly (readonly [string, number])[]])[] = [
  [
    PA,
    [
      [ANNA_SOLAR, 3],
      [ANNA_HOUSE, -0.5],
      [BERT_HOUSE, -1],
    ],
  ],
  [
    PB,
    [
      [ANNA_SOLAR, 0.2],
      [BERT_HOUSE, -1],
      [CARL_HOUSE, -0.7],
    ],
  ],
  [
    PC,
    [
      [ANNA_SOLAR, 2],
      [ANNA_HOUSE, -0.3],
      [BERT_HOUSE, -2.5],
      [CARL_HOUSE, -0.5],
    ],
  ],
  [PD, [[CARL_HOUSE, -0.4]]],
];

type Row = Record<string, unknown>;

const n = (row: Row, column: string): bigint => row[column] as bigint;
const startOf = (row: Row): number => Number(n(row, 'period_start_ms'));

/** A price's min, avg (floor of sum / weight) and max as EUR per kWh text, from micro-euro. */
function priceRange(values: readonly bigint[], sum: bigint, weight: bigint) {
  if (values.length === 0 || weight === 0n) return null;
  const eur = (ueur: bigint) => formatNeur(ueur * 1000n);
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    minEurPerKwh: eur(sorted[0] ?? 0n),
    avgEurPerKwh: eur(sum / weight),
    maxEurPerKwh: eur(sorted.at(-1) ?? 0n),
  };
}

/** A ratio's text checked by its definition: r = floor(10^6 num / den) / 10^6. */
function assertRatio(text: string | null, num: bigint, den: bigint, what: string): void {
  if (den === 0n) return assert.equal(text, null, what);
  assert.match(text ?? '', /^\d+\.\d{6}$/, what);
  const r = BigInt((text ?? '').replace('.', ''));
  assert.ok(r * den <= num * 1_000_000n && num * 1_000_000n < (r + 1n) * den, `${what}: ${text}`);
}

/** The figures of some periods, summed here from the tables' rows. */
function byHand(
  periods: readonly number[],
  rows: Record<string, Row[]>,
): Omit<FiguresView, 'selfSufficiency' | 'selfConsumption'> {
  const inGroup = (r: Row) => periods.includes(startOf(r));
  const statements = rows['statements']?.filter(inGroup) ?? [];
  const sum = (column: string) => statements.reduce((s, r) => s + n(r, column), 0n);
  const supplied = periods.map((p) =>
    statements.filter((r) => startOf(r) === p).reduce((s, r) => s + n(r, 'supplied_wh'), 0n),
  );
  let peakWh = 0n;
  for (const x of supplied) if (x > peakWh) peakWh = x;
  const peakMs = periods[supplied.indexOf(peakWh)] ?? 0;
  const local = (rows['flows'] ?? []).filter(
    (f) => inGroup(f) && (f['kind'] === 'auction' || f['kind'] === 'allocation'),
  );
  const prices = (rows['prices'] ?? []).filter(inGroup);
  const table = (column: string) =>
    priceRange(
      prices.map((p) => n(p, column)),
      prices.reduce((s, p) => s + n(p, column), 0n),
      BigInt(prices.length),
    );
  const kwh = (c: string) => formatWh(sum(c));
  const eur = (c: string) => formatNeur(sum(c));
  return {
    periods: periods.length,
    consumedKwh: kwh('consumed_wh'),
    producedKwh: kwh('produced_wh'),
    ownUseKwh: kwh('own_use_wh'),
    boughtKwh: kwh('bought_wh'),
    boughtEur: eur('bought_neur'),
    soldKwh: kwh('sold_wh'),
    soldEur: eur('sold_neur'),
    suppliedKwh: kwh('supplied_wh'),
    suppliedEur: eur('supplied_neur'),
    exportedKwh: kwh('exported_wh'),
    exportedEur: eur('exported_neur'),
    peakImport:
      peakWh === 0n
        ? null
        : {
            kwh: formatWh(peakWh),
            periodStartMs: peakMs,
            periodStart: new Date(peakMs).toISOString(),
          },
    prices: {
      local: priceRange(
        local.map((f) => n(f, 'price_ueur_per_kwh')),
        local.reduce((s, f) => s + n(f, 'neur'), 0n),
        local.reduce((s, f) => s + n(f, 'wh'), 0n),
      ),
      supply: table('supply_ueur_per_kwh'),
      feedIn: table('feed_in_ueur_per_kwh'),
    },
  };
}

function assertFigures(
  got: FiguresView,
  periods: readonly number[],
  rows: Record<string, Row[]>,
  what: string,
): void {
  const { selfSufficiency, selfConsumption, ...all } = got as FiguresView &
    Partial<FiguresGroupView>;
  // A group's name and bounds are checked by the callers.
  const { group: _g, startMs: _s, start: _t, endMs: _e, end: _n, ...rest } = all;
  assert.deepEqual(rest, byHand(periods, rows), what);
  const statements = (rows['statements'] ?? []).filter((r) => periods.includes(startOf(r)));
  const sum = (column: string) => statements.reduce((s, r) => s + n(r, column), 0n);
  assertRatio(
    selfSufficiency,
    sum('consumed_wh') - sum('supplied_wh'),
    sum('consumed_wh'),
    `${what} self-sufficiency`,
  );
  assertRatio(
    selfConsumption,
    sum('produced_wh') - sum('exported_wh'),
    sum('produced_wh'),
    `${what} self-consumption`,
  );
}

/** Periods grouped by label, in time order. */
function groupsOf(days: ReadonlyMap<number, string>): [string, number[]][] {
  const out = new Map<string, number[]>();
  for (const [p, label] of days) out.set(label, [...(out.get(label) ?? []), p]);
  return [...out];
}

describe('figures and grouped statements of a settled market', () => {
  let chain: EnergyChain;
  let c: Community;
  let rows: Record<string, Row[]>;
  before(async () => {
    chain = await EnergyChain.open({ processedMs: PA + 5000 });
    c = await Community.open(chain, 'owner figures');
    const count = (PD - PA) / QUARTER_MS + 1;
    const prices = (f: (i: number) => string) => Array.from({ length: count }, (_, i) => f(i));
    await c.accept('MarketPrices', c.owner, {
      fromMs: PA,
      localEur: prices((i) => `0.1${i % 5}`),
      supplyEur: prices((i) => `0.3${i % 3}`),
      feedInEur: prices((i) => `0.0${5 + (i % 2)}`),
    });
    const registers = new Map<string, number>();
    for (const [p, readings] of READINGS) {
      if (p !== PA) await chain.gotoBlock(chain.height + 1, Math.max(p, chain.processedMs) + 1000);
      for (const [meter, kwh] of readings) {
        const register = (registers.get(meter) ?? 0) + Math.abs(kwh);
        registers.set(meter, register);
        await c.accept('Energy', meter, {
          amount: String(kwh),
          register: register.toFixed(3),
          sinceMs: p,
          readingMs: p + QUARTER_MS,
        });
      }
      await chain.gotoBlock(chain.height + 1, p + QUARTER_MS + 60_000);
      await c.accept('SettlePeriod', CARL, { periodStartMs: p });
    }
    await chain.nextBlock(); // commit, so that SQL reads the settled tables
    rows = {
      statements: await c.rows('energy_market_statements'),
      flows: await c.rows('energy_market_flows'),
      prices: await c.rows('energy_market_prices'),
    };
    assert.equal(new Set(rows['statements']?.map(startOf)).size, 4, 'four settled periods');
  });
  after(closeEnergyChains);

  test('per day in Europe/Amsterdam and in UTC, per period, and in total, as summed by hand', async () => {
    const sql = chain.chain.db;
    for (const [tz, days] of [
      [AMS, DAYS_AMS],
      [undefined, DAYS_UTC],
    ] as const) {
      const view = await marketFigures(
        sql,
        c.owner,
        parseGroupQuery({ group: 'day', ...(tz === undefined ? {} : { tz }) }),
      );
      const expected = groupsOf(days);
      assert.deepEqual(
        view.groups.map((g) => g.group),
        expected.map(([label]) => label),
      );
      expected.forEach(([label, periods], i) => {
        const g = view.groups[i];
        assert.ok(g !== undefined);
        assertFigures(g, periods, rows, `${tz ?? 'UTC'} ${label}`);
      });
      assertFigures(view.totals, [PA, PB, PC, PD], rows, `${tz ?? 'UTC'} totals`);
      assert.equal(view.truncated, false);
    }
    const ams = await marketFigures(sql, c.owner, parseGroupQuery({ group: 'day', tz: AMS }));
    assert.deepEqual(
      [ams.groups[1]?.startMs, ams.groups[1]?.endMs],
      [Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 22)],
    );
    const perPeriod = await marketFigures(sql, c.owner, parseGroupQuery({}));
    assert.deepEqual(
      perPeriod.groups.map((g) => [g.startMs, g.endMs - g.startMs]),
      [PA, PB, PC, PD].map((p) => [p, QUARTER_MS]),
    );
    for (const g of perPeriod.groups) assertFigures(g, [g.startMs], rows, g.group);
    const month = await marketFigures(sql, c.owner, parseGroupQuery({ group: 'month', tz: AMS }));
    assert.deepEqual(
      month.groups.map((g) => g.group),
      ['2026-03'],
    );
    assert.deepEqual(month.totals, perPeriod.totals);
  });

  test('property: the totals do not depend on the grouping, the zone or how the range is cut', async () => {
    const sql = chain.chain.db;
    const whole = await marketFigures(sql, c.owner, parseGroupQuery({}));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('period', 'day', 'month'),
        fc.constantFrom(AMS, 'UTC', 'America/New_York', 'Asia/Kathmandu', 'Pacific/Chatham'),
        fc.integer({ min: PA - 2 * QUARTER_MS, max: PD + QUARTER_MS }),
        async (group, tz, cutMs) => {
          // [from, cut) and [cut, to) together are every settled period, once.
          const left = await marketFigures(
            sql,
            c.owner,
            parseGroupQuery({ group, tz, to: String(cutMs + 1) }),
          );
          const right = await marketFigures(
            sql,
            c.owner,
            parseGroupQuery({ group, tz, from: String(cutMs + 1) }),
          );
          const periods = [...left.groups, ...right.groups].reduce((s, g) => s + g.periods, 0);
          assert.equal(periods, 4);
          const both = await marketFigures(sql, c.owner, parseGroupQuery({ group, tz }));
          assert.deepEqual(both.totals, whole.totals);
          assert.equal(
            both.groups.reduce((s, g) => s + g.periods, 0),
            4,
          );
        },
      ),
      { seed: Number(process.env['SEED'] ?? 1), numRuns: 25 },
    );
  });

  test('limit counts groups; nextFromMs continues; from and to cut periods', async () => {
    const sql = chain.chain.db;
    const first = await marketFigures(
      sql,
      c.owner,
      parseGroupQuery({ group: 'day', tz: AMS, limit: '1' }),
    );
    assert.deepEqual(
      first.groups.map((g) => g.group),
      ['2026-03-28'],
    );
    assert.equal(first.truncated, true);
    assert.equal(first.nextFromMs, PB, 'the Amsterdam day 29 March starts at 23:00 UTC');
    const two = await marketFigures(sql, c.owner, parseGroupQuery({ limit: '2' }));
    assert.deepEqual([two.groups.length, two.nextFromMs], [2, PC]);
    const rest = await marketFigures(sql, c.owner, parseGroupQuery({ from: String(PC) }));
    assert.deepEqual([rest.groups.map((g) => g.startMs), rest.truncated], [[PC, PD], false]);
    const cut = await marketFigures(
      sql,
      c.owner,
      parseGroupQuery({ group: 'day', tz: AMS, from: String(PB), to: String(PD) }),
    );
    assert.deepEqual(
      cut.groups.map((g) => [g.group, g.periods]),
      [['2026-03-29', 2]],
    );
    assertFigures(cut.totals, [PB, PC], rows, 'cut');
    const none = await marketFigures(
      sql,
      c.owner,
      parseGroupQuery({ group: 'month', to: String(PA) }),
    );
    assert.deepEqual(
      [none.groups, none.totals.selfSufficiency, none.totals.peakImport],
      [[], null, null],
    );
  });

  test('grouped statements: per trader and Amsterdam day, summed exactly; limit counts them', async () => {
    const sql = chain.chain.db;
    const view = await groupedMarketStatements(sql, c.owner, {
      ...parseGroupQuery({ group: 'day', tz: AMS }),
      group: 'day',
    });
    const expected = new Map<string, Map<string, bigint>>();
    for (const r of rows['statements'] ?? []) {
      const key = `${DAYS_AMS.get(startOf(r))} ${r['trader']}`;
      const sums = expected.get(key) ?? new Map<string, bigint>([['periods', 0n]]);
      sums.set('periods', (sums.get('periods') ?? 0n) + 1n);
      for (const [column] of COLUMNS) sums.set(column, (sums.get(column) ?? 0n) + n(r, column));
      expected.set(key, sums);
    }
    const keys = [...expected.keys()].sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    );
    assert.deepEqual(
      view.statements.map((s) => `${s.group} ${s.trader}`),
      keys,
    );
    for (const s of view.statements) {
      const sums = expected.get(`${s.group} ${s.trader}`);
      assert.equal(BigInt(s.periods), sums?.get('periods'));
      for (const [column, field] of COLUMNS) {
        const v = sums?.get(column) ?? 0n;
        assert.equal(
          s[field],
          column.endsWith('_neur') ? formatNeur(v) : formatWh(v),
          `${s.group} ${field}`,
        );
      }
    }
    const bert = await groupedMarketStatements(sql, c.owner, {
      ...parseGroupQuery({ group: 'month', tz: AMS }),
      group: 'month',
      trader: BERT,
    });
    assert.deepEqual(
      bert.statements.map((s) => [s.group, s.periods, s.consumedKwh]),
      [['2026-03', 3, '4.5']],
    );
    const two = await groupedMarketStatements(sql, c.owner, {
      ...parseGroupQuery({ group: 'day', tz: AMS, limit: '2' }),
      group: 'day',
    });
    assert.equal(two.statements.length, 2);
    assert.equal(two.truncated, true);
    const third = view.statements[2];
    assert.ok(third !== undefined);
    assert.equal(
      two.nextFromMs,
      Math.max(third.startMs, PA),
      'the group of the first statement not listed',
    );
    assert.ok([ANNA, BERT, CARL].includes(view.statements[0]?.trader ?? ''));
  });
});
