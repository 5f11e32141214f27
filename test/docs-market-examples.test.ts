// The worked examples of docs/market.md, run on the real engine (test/support/energy-chain.ts:
// signed transactions in blocks at chosen times). The document is the input and the expected
// output: the test reads the households' quarter-hour curves, the price table and the order book
// from its tables, runs exactly that, renders the flows, statements, clearing prices and day
// totals the engine produced in the document's table format, and compares them with the tables
// printed there, so the document cannot drift from what the market does.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { formatWh } from '../src/core/amount.js';
import { formatNeur } from '../src/energy/market-statements.js';
import { EnergyChain, closeEnergyChains, mustAccept, testAddress } from './support/energy-chain.js';
import type { EnergyCall, Row } from './support/energy-chain.js';
import { assertBalanced } from './support/market-community.js';

const DOC = readFileSync('docs/market.md', 'utf8');
const QUARTER_MS = 900_000;
const DAY_MS = Date.UTC(2026, 5, 1);

/** The lines of the table that follows `<!-- marker -->` in docs/market.md (none: []). */
function tableLines(marker: string): string[] {
  const lines = DOC.split('\n');
  const at = lines.indexOf(`<!-- ${marker} -->`);
  if (at < 0) return [];
  let i = at + 1;
  while (lines[i]?.trim() === '') i++;
  const table: string[] = [];
  for (; lines[i]?.startsWith('|'); i++) table.push(lines[i] as string);
  return table;
}

/** The table that follows `<!-- marker -->`: an input of the examples. */
function docTable(marker: string): string[] {
  const table = tableLines(marker);
  assert.ok(table.length > 2, `docs/market.md has a table after <!-- ${marker} -->`);
  return table;
}

/** The body cells of a table (header and rule dropped). */
function cellsOf(table: readonly string[]): string[][] {
  return table.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim()),
  );
}

/**
 * Compares the table after `<!-- marker -->` with `rendered`; a mismatch is collected with the
 * table the document should print, and the test fails at its end with all of them.
 */
function checkTable(mismatches: string[], marker: string, rendered: readonly string[]): void {
  const printed = tableLines(marker);
  if (printed.join('\n') !== rendered.join('\n'))
    mismatches.push(
      `after <!-- ${marker} --> docs/market.md should print:\n${rendered.join('\n')}`,
    );
}

function assertNoMismatches(mismatches: readonly string[]): void {
  assert.equal(mismatches.length, 0, mismatches.join('\n\n'));
}

function markdown(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}

/** "HH:MM" of a day as ms after its start ("24:00" is the day's end). */
function clockMs(text: string): number {
  const m = /^(\d\d):(\d\d)$/.exec(text);
  assert.ok(m !== null, `a time as HH:MM, got ${text}`);
  return (Number(m[1]) * 60 + Number(m[2])) * 60_000;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** Exact kWh text as Wh: "0.055" -> 55n. */
function whOf(kwhText: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,3}))?$/.exec(kwhText);
  assert.ok(m !== null, `kWh with at most 3 decimals, got ${kwhText}`);
  return BigInt(m[1] as string) * 1000n + BigInt((m[2] ?? '').padEnd(3, '0'));
}

/** A kWh cell: empty for 0. */
function kwhCell(wh: bigint): string {
  return wh === 0n ? '' : formatWh(wh);
}

const n = (row: Row, column: string): bigint => row[column] as bigint;

/** The document shows this payload (with the context written as <owner>) as a JSON line. */
function assertPayloadShown(payload: Record<string, unknown>, owner: string): void {
  const shown = DOC.split('\n').filter((l) => l.startsWith('{"context": "<owner>"'));
  const line = JSON.stringify({ ...payload, context: '<owner>' })
    .replace(/":/g, '": ')
    .replace(/,"/g, ', "');
  assert.ok(shown.includes(line), `docs/market.md shows the payload ${line}`);
  assert.equal(payload['context'], owner);
}

/** A period's flows as the document prints them. */
function flowsTable(flows: readonly Row[], names: ReadonlyMap<string, string>): string[] {
  return markdown(
    ['flow', 'from', 'to', 'labels', 'kWh', 'EUR/kWh', 'EUR'],
    flows.map((f) => {
      const own = f['kind'] === 'own';
      return [
        f['kind'] as string,
        names.get(f['seller'] as string) as string,
        names.get(f['buyer'] as string) as string,
        (f['labels'] as string[]).join(', '),
        formatWh(n(f, 'wh')),
        own ? '' : formatNeur(n(f, 'price_ueur_per_kwh') * 1000n),
        own ? '' : formatNeur(n(f, 'neur')),
      ];
    }),
  );
}

const STATEMENT_COLUMNS = [
  ['produced', 'produced_wh'],
  ['consumed', 'consumed_wh'],
  ['own use', 'own_use_wh'],
  ['bought', 'bought_wh'],
  ['sold', 'sold_wh'],
  ['supplied', 'supplied_wh'],
  ['exported', 'exported_wh'],
] as const;

/** Statements (or sums of them) per household as the document prints them, in `order`. */
function statementsTable(
  byName: ReadonlyMap<string, Readonly<Record<string, bigint>>>,
  order: readonly string[],
): string[] {
  return markdown(
    ['household', ...STATEMENT_COLUMNS.map(([title]) => `${title} kWh`), 'due EUR'],
    order
      .filter((name) => byName.has(name))
      .map((name) => {
        const s = byName.get(name) as Readonly<Record<string, bigint>>;
        return [
          name,
          ...STATEMENT_COLUMNS.map(([, column]) => kwhCell(s[column] ?? 0n)),
          formatNeur(s['due_neur'] ?? 0n),
        ];
      }),
  );
}

function statementValues(row: Row): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [column, value] of Object.entries(row))
    if (typeof value === 'bigint') out[column] = value;
  return out;
}

/** A fresh context on `chain` with traders, meters and the market on. */
async function openContext(
  chain: EnergyChain,
  owner: string,
  traders: readonly string[],
  meters: readonly {
    meter: string;
    trader: string;
    type: 'Producer' | 'Consumer';
    labels: string[];
  }[],
  market: Record<string, unknown>,
): Promise<void> {
  const calls: EnergyCall[] = traders.map((address) => ({
    type: 'Trader',
    sender: owner,
    payload: { context: owner, address, allowed: true },
  }));
  for (const m of meters)
    calls.push({
      type: m.type,
      sender: owner,
      payload: {
        context: owner,
        address: m.meter,
        allowed: true,
        trader: m.trader,
        labels: m.labels,
      },
    });
  calls.push({ type: 'Market', sender: owner, payload: { context: owner, on: true, ...market } });
  for (const [i, o] of (await chain.executeAll(calls)).entries()) mustAccept(o, calls[i]?.type);
}

async function rowsOf(
  chain: EnergyChain,
  table: string,
  owner: string,
  periodMs?: number,
): Promise<Row[]> {
  return (await chain.rows(table)).filter(
    (r) =>
      r['context'] === owner &&
      (periodMs === undefined || r['period_start_ms'] === BigInt(periodMs)),
  );
}

/** Example A's meters, in the order of the profile's columns. */
const METERS_A = [
  { title: 'anna solar', trader: 'anna', type: 'Producer', labels: ['solar'] },
  { title: 'anna house', trader: 'anna', type: 'Consumer', labels: [] },
  { title: 'bert house', trader: 'bert', type: 'Consumer', labels: [] },
  { title: 'carl house', trader: 'carl', type: 'Consumer', labels: [] },
] as const;

/**
 * A table of example A whose rows give values for a range of the day ("from", "to", then one
 * column each): the values of each column for each of the day's 96 quarter hours.
 */
function overTheDay<T>(marker: string, parse: (cell: string) => T): T[][] {
  const rows = cellsOf(docTable(marker));
  const columns: (T | undefined)[][] = (rows[0] ?? []).slice(2).map(() => Array(96));
  for (const [from, to, ...values] of rows)
    for (let q = clockMs(from as string) / QUARTER_MS; q < clockMs(to as string) / QUARTER_MS; q++)
      values.forEach((v, k) => {
        (columns[k] as (T | undefined)[])[q] = parse(v);
      });
  assert.ok(
    columns.every((c) => c.length === 96 && [...c].every((v) => v !== undefined)),
    `the table after <!-- ${marker} --> covers the day`,
  );
  return columns as T[][];
}

/**
 * Runs example A's day: every quarter hour, in one block a minute after its end (the gate
 * closure), the readings of the meters that metered energy in it and its settlement. Returns the
 * payload of anna's panels' reading at 10:00, which the document shows.
 */
async function runDay(
  chain: EnergyChain,
  owner: string,
  meters: readonly { meter: string; type: string }[],
  whPerQuarter: readonly (readonly bigint[])[],
): Promise<Record<string, unknown>> {
  const registers = meters.map(() => 0n);
  let shown: Record<string, unknown> = {};
  for (let q = 0; q < 96; q++) {
    const startMs = DAY_MS + q * QUARTER_MS;
    const endMs = startMs + QUARTER_MS;
    await chain.gotoBlock(chain.height + 1, endMs + 60_000);
    const calls: EnergyCall[] = [];
    meters.forEach((m, i) => {
      const wh = whPerQuarter[i]?.[q] as bigint;
      if (wh === 0n) return;
      registers[i] = (registers[i] as bigint) + wh;
      const payload = {
        context: owner,
        amount: `${m.type === 'Producer' ? '' : '-'}${formatWh(wh)}`,
        register: formatWh(registers[i] as bigint),
        readingMs: endMs,
        sinceMs: startMs,
      };
      if (i === 0 && clock(startMs) === '10:00') shown = payload;
      calls.push({ type: 'Energy', sender: m.meter, payload });
    });
    calls.push({
      type: 'SettlePeriod',
      sender: owner,
      payload: { context: owner, periodStartMs: startMs },
    });
    for (const [i, o] of (await chain.executeAll(calls)).entries())
      mustAccept(o, `${calls[i]?.type} at ${clock(startMs)}`);
  }
  return shown;
}

/** The flows and statements of the periods the document shows in detail. */
async function checkDetailedPeriods(
  chain: EnergyChain,
  owner: string,
  names: ReadonlyMap<string, string>,
  households: readonly string[],
  mismatches: string[],
): Promise<void> {
  const detailed = DOC.split('\n').filter((l) => l.startsWith('<!-- example-a:flows '));
  assert.ok(detailed.length > 0, 'docs/market.md shows periods of example A in detail');
  for (const marker of detailed) {
    const time = marker.slice('<!-- example-a:flows '.length, -' -->'.length);
    const startMs = DAY_MS + clockMs(time);
    const flows = await rowsOf(chain, 'energy_market_flows', owner, startMs);
    const statements = await rowsOf(chain, 'energy_market_statements', owner, startMs);
    const nameOf = (s: Row): string => names.get(s['trader'] as string) as string;
    assertBalanced(new Map(statements.map((s) => [nameOf(s), s])));
    const byName = new Map(statements.map((s) => [nameOf(s), statementValues(s)]));
    checkTable(mismatches, `example-a:flows ${time}`, flowsTable(flows, names));
    checkTable(mismatches, `example-a:statements ${time}`, statementsTable(byName, households));
  }
}

/** Every statement of the context summed per household and over all ("all"). */
async function dayTotals(
  chain: EnergyChain,
  owner: string,
  names: ReadonlyMap<string, string>,
): Promise<Map<string, Record<string, bigint>>> {
  const statements = await rowsOf(chain, 'energy_market_statements', owner);
  assertBalanced(
    new Map(statements.map((s, i) => [`${names.get(s['trader'] as string)} #${i}`, s])),
  );
  const totals = new Map<string, Record<string, bigint>>();
  for (const s of statements)
    for (const name of [names.get(s['trader'] as string) as string, 'all']) {
      const sum = totals.get(name) ?? {};
      for (const [column, value] of Object.entries(statementValues(s)))
        if (column !== 'period_start_ms') sum[column] = (sum[column] ?? 0n) + value;
      totals.set(name, sum);
    }
  return totals;
}

/** Example B's clearing prices, flows and statements against the document. */
async function checkExampleB(
  chain: EnergyChain,
  owner: string,
  p0: number,
  names: ReadonlyMap<string, string>,
  traders: readonly string[],
): Promise<void> {
  const mismatches: string[] = [];
  const classes = (await rowsOf(chain, 'energy_market_clearings', owner, p0)).sort(
    (a, b) => (b['labels'] as string[]).length - (a['labels'] as string[]).length,
  );
  checkTable(
    mismatches,
    'example-b:clearing',
    markdown(
      ['requirement', 'uniform price EUR/kWh', 'kWh traded'],
      classes.map((c) => [
        (c['labels'] as string[]).length === 0 ? '(none)' : (c['labels'] as string[]).join(', '),
        formatNeur(n(c, 'price_ueur_per_kwh') * 1000n),
        formatWh(n(c, 'wh')),
      ]),
    ),
  );
  checkTable(
    mismatches,
    'example-b:flows',
    flowsTable(await rowsOf(chain, 'energy_market_flows', owner, p0), names),
  );
  const statements = await rowsOf(chain, 'energy_market_statements', owner, p0);
  assertBalanced(new Map(statements.map((s) => [names.get(s['trader'] as string) as string, s])));
  checkTable(
    mismatches,
    'example-b:statements',
    statementsTable(
      new Map(
        statements.map((s) => [names.get(s['trader'] as string) as string, statementValues(s)]),
      ),
      traders,
    ),
  );
  assertNoMismatches(mismatches);
}

describe('docs/market.md, worked examples', () => {
  after(closeEnergyChains);

  test('example A: a day of three households', async () => {
    const owner = testAddress('example a owner');
    const households = ['anna', 'bert', 'carl'];
    const address = new Map(households.map((h) => [h, testAddress(`example a ${h}`)]));
    const names = new Map([
      [owner, 'owner'],
      ...households.map((h) => [address.get(h) as string, h] as const),
    ]);
    const meters = METERS_A.map((m) => ({
      ...m,
      meter: testAddress(`example a ${m.title} meter`),
      trader: address.get(m.trader) as string,
      labels: [...m.labels],
    }));
    const header = (docTable('example-a:profile')[0] as string)
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
    assert.deepEqual(header, ['from', 'to', ...METERS_A.map((m) => `${m.title} Wh`)]);
    const whPerQuarter = overTheDay('example-a:profile', (wh) => BigInt(wh));
    const [local, supply, feedIn] = overTheDay('example-a:prices', (eur) => eur);

    const chain = await EnergyChain.open({ processedMs: DAY_MS - 60_000 });
    await openContext(chain, owner, [...address.values()], meters, { gateClosureSeconds: 60 });
    mustAccept(
      await chain.execute('MarketPrices', owner, {
        context: owner,
        fromMs: DAY_MS,
        localEur: local,
        supplyEur: supply,
        feedInEur: feedIn,
      }),
      'MarketPrices',
    );
    const shown = await runDay(chain, owner, meters, whPerQuarter);
    assertPayloadShown(shown, owner);

    const mismatches: string[] = [];
    await checkDetailedPeriods(chain, owner, names, households, mismatches);
    const totals = await dayTotals(chain, owner, names);
    checkTable(mismatches, 'example-a:day', statementsTable(totals, [...households, 'all']));
    assertNoMismatches(mismatches);
    // What the document's profile says the meters metered is what the statements hold, and the
    // community's money leaves it only for supply and export.
    const all = totals.get('all') as Record<string, bigint>;
    const metered = (type: string): bigint =>
      meters.reduce(
        (sum, m, i) =>
          m.type === type ? sum + (whPerQuarter[i] as bigint[]).reduce((x, y) => x + y, 0n) : sum,
        0n,
      );
    assert.equal(all['produced_wh'], metered('Producer'));
    assert.equal(all['consumed_wh'], metered('Consumer'));
    assert.equal(all['due_neur'], (all['supplied_neur'] ?? 0n) - (all['exported_neur'] ?? 0n));
  });

  test('example B: labels, the double auction and a uniform price per class', async () => {
    const owner = testAddress('example b owner');
    // The households' meters and their energy in the period.
    const energy = cellsOf(docTable('example-b:energy'));
    const traders = [...new Set(energy.map(([name]) => name as string))];
    const address = new Map(traders.map((t) => [t, testAddress(`example b ${t}`)]));
    const names = new Map([
      [owner, 'owner'],
      ...traders.map((t) => [address.get(t) as string, t] as const),
    ]);
    // Production is positive, consumption negative, as in an Energy call.
    const meters = energy.map(([name, device, labels, kwh]) => ({
      meter: testAddress(`example b ${name} ${device}`),
      trader: address.get(name as string) as string,
      type: ((kwh as string).startsWith('-') ? 'Consumer' : 'Producer') as 'Producer' | 'Consumer',
      labels: labels === '' ? [] : (labels as string).split(', '),
      wh: whOf((kwh as string).replace(/^-/, '')),
    }));
    const [prices] = cellsOf(docTable('example-b:prices'));
    const [localEur, supplyEur, feedInEur] = prices as string[];

    const p0 = DAY_MS + 12 * 3600_000;
    const chain = await EnergyChain.open({ processedMs: p0 + 60_000 });
    await openContext(chain, owner, [...address.values()], meters, {
      gateClosureSeconds: 60,
      auction: true,
    });
    mustAccept(
      await chain.execute('MarketPrices', owner, {
        context: owner,
        fromMs: p0,
        localEur: [localEur],
        supplyEur: [supplyEur],
        feedInEur: [feedInEur],
      }),
      'MarketPrices',
    );
    // The orders, placed during the period in the table's order (which gives their sequence).
    const orders = cellsOf(docTable('example-b:orders'));
    const orderCalls: EnergyCall[] = orders.map(([, trader, side, limit, amount, labels]) => ({
      type: 'Order',
      sender: address.get(trader as string) as string,
      payload: {
        context: owner,
        side,
        priceEur: limit,
        ...(amount === 'all' ? {} : { amount }),
        labels: labels === '' ? [] : (labels as string).split(', '),
        fromMs: p0,
      },
    }));
    for (const [i, o] of (await chain.executeAll(orderCalls)).entries())
      mustAccept(o, `order ${i + 1}`);
    assertPayloadShown(orderCalls[2]?.payload ?? {}, owner);
    assert.deepEqual(
      (await rowsOf(chain, 'energy_market_orders', owner)).map((r) => Number(r['seq'])).sort(),
      orders.map(([seq]) => Number(seq)),
      'the orders get the sequence numbers of the table',
    );
    // The meters' readings for the period, then its settlement after the gate closure.
    await chain.gotoBlock(chain.height + 1, p0 + QUARTER_MS + 30_000);
    const readings: EnergyCall[] = meters.map((m) => ({
      type: 'Energy',
      sender: m.meter,
      payload: {
        context: owner,
        amount: `${m.type === 'Producer' ? '' : '-'}${formatWh(m.wh)}`,
        register: formatWh(m.wh),
        readingMs: p0 + QUARTER_MS,
      },
    }));
    for (const [i, o] of (await chain.executeAll(readings)).entries())
      mustAccept(o, `reading ${i + 1}`);
    await chain.gotoBlock(chain.height + 1, p0 + QUARTER_MS + 60_000);
    mustAccept(
      await chain.execute('SettlePeriod', owner, { context: owner, periodStartMs: p0 }),
      'SettlePeriod',
    );

    await checkExampleB(chain, owner, p0, names, traders);
    assert.deepEqual(
      await rowsOf(chain, 'energy_market_orders', owner),
      [],
      'the settled period took its orders out of the book',
    );
  });
});
