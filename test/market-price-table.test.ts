// Reading the owner's price table from CSV (src/market/price-table.ts): rows fill the market
// periods of their slot, gaps start a new run, runs are cut at one MarketPrices transaction's
// 2,976 periods, prices are exact in either unit, and a bad file is refused naming its line and
// column.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChainError } from '../src/core/errors.js';
import { PRICE_RUN_PERIODS_MAX, parsePriceTable } from '../src/market/price-table.js';
import type { PriceTableOptions } from '../src/market/price-table.js';
import { pricesTxId } from '../src/market/price-upload.js';

const QUARTER_MS = 900_000;
const T0 = Date.UTC(2026, 5, 1, 22, 0, 0); // 2026-06-02T00:00+02:00
const KWH: PriceTableOptions = { periodMs: QUARTER_MS, unit: 'eur-per-kwh' };

function refused(text: string, o: PriceTableOptions, message: RegExp, line?: number): void {
  assert.throws(
    () => parsePriceTable(text, o),
    (err: unknown) =>
      err instanceof ChainError &&
      err.code === 'bad_request' &&
      message.test(err.message) &&
      (line === undefined || err.details['line'] === line),
    `expected ${message} at line ${line}`,
  );
}

test('hourly day-ahead rows in EUR/MWh fill four quarter hours each; a gap starts a new run', () => {
  const csv = [
    'Start;Supply (EUR/MWh);feedIn;local',
    '2026-06-02T00:00:00+02:00;85,5;50;150',
    '2026-06-02T01:00:00+02:00;120;50;150',
    '',
    '2026-06-02T03:00:00+02:00;0,001;0;150',
  ].join('\r\n');
  const table = parsePriceTable(`\uFEFF${csv}`, { ...KWH, unit: 'eur-per-mwh' });
  assert.equal(table.rows, 3);
  assert.equal(table.rowMs, 3_600_000);
  assert.equal(table.periods, 12);
  assert.deepEqual(
    table.runs.map((r) => [new Date(r.fromMs).toISOString(), r.supplyEur.length]),
    [
      ['2026-06-01T22:00:00.000Z', 8],
      ['2026-06-02T01:00:00.000Z', 4],
    ],
  );
  const [first, second] = table.runs;
  assert.deepEqual(first?.supplyEur, [
    '0.0855',
    '0.0855',
    '0.0855',
    '0.0855',
    '0.12',
    '0.12',
    '0.12',
    '0.12',
  ]);
  assert.deepEqual(first?.feedInEur.slice(0, 1), ['0.05']);
  assert.deepEqual(first?.localEur.slice(0, 1), ['0.15']);
  assert.deepEqual(second?.supplyEur, ['0.000001', '0.000001', '0.000001', '0.000001']);
  assert.deepEqual(second?.feedInEur, ['0', '0', '0', '0']);
});

test('EUR/kWh with the feed-in and local prices from options; runs are cut at one transaction', () => {
  const lines = ['time,price'];
  const count = PRICE_RUN_PERIODS_MAX + 4;
  for (let i = 0; i < count; i++)
    lines.push(`${new Date(T0 + i * QUARTER_MS).toISOString()},0.2${i % 10}`);
  const table = parsePriceTable(lines.join('\n'), { ...KWH, feedInEur: '0.05', localEur: '0.150' });
  assert.equal(table.rowMs, QUARTER_MS);
  assert.deepEqual(
    table.runs.map((r) => r.supplyEur.length),
    [PRICE_RUN_PERIODS_MAX, 4],
  );
  assert.equal(table.runs[1]?.fromMs, T0 + PRICE_RUN_PERIODS_MAX * QUARTER_MS);
  assert.deepEqual(table.runs[0]?.supplyEur.slice(0, 3), ['0.2', '0.21', '0.22']);
  assert.equal(table.runs[0]?.localEur[0], '0.15');
  // The id of a run is derived from what it sets: the same table gives the same ids.
  const again = parsePriceTable(lines.join('\n'), { ...KWH, feedInEur: '0.05', localEur: '0.15' });
  assert.equal(
    pricesTxId('ctx', table.runs[0] as never),
    pricesTxId('ctx', again.runs[0] as never),
  );
  assert.notEqual(
    pricesTxId('ctx', table.runs[0] as never),
    pricesTxId('ctx', table.runs[1] as never),
  );
});

test('a single row covers one period unless --row-minutes says otherwise', () => {
  const csv = `start,supply,feedIn,local\n${new Date(T0).toISOString()},0.3,0.05,0.15\n`;
  assert.equal(parsePriceTable(csv, KWH).periods, 1);
  assert.equal(parsePriceTable(csv, { ...KWH, rowMs: 3_600_000 }).periods, 4);
});

test('a bad file is refused, naming the line and column', () => {
  const head = 'start,supply,feedIn,local';
  const at = (i: number): string => new Date(T0 + i * QUARTER_MS).toISOString();
  refused('when,what\n', KWH, /header must name a start column/, 1);
  refused(`${head},price\n`, KWH, /two columns name the supply/, 1);
  refused('start,supply\n', KWH, /no feedIn column: give --feed-in-eur/, 1);
  refused(`${head}\n`, KWH, /header but no rows/);
  refused(
    `${head}\n2026-06-02 00:00,0.3,0.05,0.15\n`,
    KWH,
    /not an exact time: write it as ISO 8601 with its offset/,
    2,
  );
  refused(
    `${head}\n${new Date(T0 + 60_000).toISOString()},0.3,0.05,0.15\n`,
    KWH,
    /not the start of a market period/,
    2,
  );
  refused(
    `${head}\n${at(1)},0.3,0.05,0.15\n${at(0)},0.3,0.05,0.15\n`,
    KWH,
    /not after the slot of line 2/,
    3,
  );
  refused(
    `${head}\n${at(0)},0.3,0.05,0.15\n${at(0)},0.3,0.05,0.15\n`,
    KWH,
    /rows must be in time order/,
    3,
  );
  refused(`${head}\n${at(0)},-0.01,0.05,0.15\n`, KWH, /supply price -0.01 is negative/, 2);
  refused(`${head}\n${at(0)},0.1234567,0.05,0.15\n`, KWH, /at most 6 decimals/, 2);
  refused(`${head}\n${at(0)},0.3,10.5,0.15\n`, KWH, /feedIn price 10.5 is above 10 EUR per kWh/, 2);
  refused(`${head}\n${at(0)},0.3,0.05,"0.15\n`, KWH, /quoted field is not closed/, 2);
  refused(`${head}\n${at(0)},0,3,0.05,0.15\n`, KWH, /^line 2/, 2);
  refused(
    `start,supply\n${at(0)},85.1234\n`,
    { ...KWH, unit: 'eur-per-mwh', feedInEur: '0', localEur: '0' },
    /EUR per MWh with at most 3 decimals/,
    2,
  );
  refused(
    `start;supply\n${at(0)};0,3\n${at(1)};0,3\n`,
    { ...KWH, periodMs: 3_600_000, feedInEur: '0', localEur: '0' },
    /15 minutes apart, not a multiple of the market's 60-minute periods/,
  );
  refused(
    'start,supply\n',
    { ...KWH, feedInEur: '-1', localEur: '0' },
    /--feed-in-eur price -1 is negative/,
  );
});
