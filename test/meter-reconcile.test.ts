// Reconciliation end to end: a real processor, the autumn clock-change day (25 October 2026, 100
// quarter hours) of a simulated meter replayed through the real gateway (with a 40-minute P1
// disconnect), the grid operator's CSV of that day in Amsterdam wall time with the repeated hour,
// ';' separators and decimal commas, and two injected differences. `hanzenet reconcile` must find
// exactly those (plus the estimated split of the disconnect, which nets to zero), bill them, and
// settle them with Mutate exactly once when run twice.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatWh } from '../src/core/amount.js';
import { utcToAmsterdamWall } from '../src/meter/shared/amsterdam-time.js';
import { simulateTelegrams, type SimulatedTelegram } from '../src/meter/sim/simulate.js';
import type { ReconcileReport } from '../src/meter/reconcile/run.js';
import { settleTxId } from '../src/meter/reconcile/run.js';
import { runCli } from './support/cli-run.js';
import {
  QUARTER_MS,
  freePort,
  setUpContext,
  spawnGateway,
  startProcessorOn,
  traderTotalWh,
  writeGatewayConfig,
  type MeterContext,
} from './support/meter-chain.js';
import { stopProcess, tempDir, type StartedProcessor } from './support/processes.js';

const METER = 'E9900000000000042';
const GRID_ID = '871687400000000042';
/** Local midnight of Sunday 25 October 2026 (summer time, UTC+2); the day has 25 hours. */
const DAY_START_MS = Date.UTC(2026, 9, 24, 22, 0, 0);
const INTERVALS = 100;
const PER_INTERVAL = 90;
const INJECT_DELIVERED = { interval: 40, wh: 123n };
const INJECT_RETURNED = { interval: 60, wh: 50n };
/** Telegrams left out: the P1 link is silent from 02:07 to 02:44 UTC (intervals 16..18). */
const GAP = { from: 16 * PER_INTERVAL + 42, to: 18 * PER_INTERVAL + 84 };

let dir: { path: string; remove(): Promise<void> };
let p: StartedProcessor;
let ctx: MeterContext;
let telegrams: SimulatedTelegram[];

const delivered = (t: SimulatedTelegram): bigint =>
  t.registersWh.deliveredTariff1 + t.registersWh.deliveredTariff2;
const returned = (t: SimulatedTelegram): bigint =>
  t.registersWh.returnedTariff1 + t.registersWh.returnedTariff2;

function at(i: number): SimulatedTelegram {
  const t = telegrams[i];
  if (t === undefined) throw new Error(`no telegram ${i}`);
  return t;
}

/** The grid operator's CSV of the day: wall time without offset, ';', decimal comma, Dutch header. */
function gridCsv(): string {
  const lines = ['EAN;Datum;Afname kWh;Teruglevering kWh'];
  for (let k = 0; k < INTERVALS; k += 1) {
    const a = at(k * PER_INTERVAL);
    const b = at((k + 1) * PER_INTERVAL);
    let d = delivered(b) - delivered(a);
    let r = returned(b) - returned(a);
    if (k === INJECT_DELIVERED.interval) d += INJECT_DELIVERED.wh;
    if (k === INJECT_RETURNED.interval) r += INJECT_RETURNED.wh;
    const w = utcToAmsterdamWall(a.timestampMs);
    const two = (n: number): string => String(n).padStart(2, '0');
    lines.push(
      `${GRID_ID};${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)};${formatWh(d).replace('.', ',')};${formatWh(r).replace('.', ',')}`,
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

before(async () => {
  dir = await tempDir('reconcile');
  p = await startProcessorOn(join(dir.path, 'chain'), await freePort());
  ctx = await setUpContext(p.url, dir.path);
  telegrams = simulateTelegrams(
    {
      equipmentId: METER,
      startMs: DAY_START_MS,
      intervalS: 10,
      seed: 42,
      latitude: 53.2,
      longitude: 6.57,
      pvKwp: 5,
      baseLoadW: 300,
      gas: false,
    },
    INTERVALS * PER_INTERVAL + 1,
  );
  const replay = telegrams.filter((_t, i) => i < GAP.from || i > GAP.to);
  const file = join(dir.path, 'day.txt');
  await writeFile(file, replay.map((t) => t.text).join(''), 'latin1');
  const config = join(dir.path, 'gateway.json');
  await writeGatewayConfig(config, {
    api: p.url,
    context: ctx.owner.address,
    stateDir: join(dir.path, 'state'),
    equipmentId: METER,
    producerKeyFile: ctx.producerKeyFile,
    consumerKeyFile: ctx.consumerKeyFile,
    source: { type: 'file', path: file },
    extra: { maxAgeMs: 10 * 365 * 86_400_000 },
  });
  // The meters config for reconciliation: the gateway's, with the grid operator's id.
  const gatewayConfig = JSON.parse(await readFile(config, 'utf8')) as {
    meters: Record<string, unknown>[];
  };
  const meter = gatewayConfig.meters[0] ?? {};
  await writeFile(
    join(dir.path, 'meters.json'),
    JSON.stringify({
      meters: [
        {
          equipmentId: METER,
          gridId: GRID_ID,
          producerAddress: ctx.producer.address,
          consumerKeyFile: meter['consumerKeyFile'],
        },
      ],
    }),
  );
  const gw = spawnGateway(config);
  assert.equal(await gw.exited, 0, gw.stderr().slice(-3000));
  assert.ok(
    gw.reports().some((r) => r['event'] === 'disconnect'),
    'the gap is reported as a disconnect',
  );
  await writeFile(join(dir.path, 'grid.csv'), gridCsv());
});

after(async () => {
  ctx.client.close();
  await stopProcess(p);
  await dir.remove();
});

function reconcileArgs(extra: readonly string[] = []): string[] {
  return [
    '--url',
    p.url,
    'reconcile',
    '--context',
    ctx.owner.address,
    '--csv',
    join(dir.path, 'grid.csv'),
    '--meters',
    join(dir.path, 'meters.json'),
    '--price-eur-per-kwh',
    '0.25',
    ...extra,
  ];
}

test('reconcile finds the injected differences on a 100-quarter-hour day and bills them', async () => {
  const out = join(dir.path, 'report.json');
  const csvOut = join(dir.path, 'report.csv');
  const r = await runCli(reconcileArgs(['--out', out, '--csv-out', csvOut]), { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(await readFile(out, 'utf8')) as ReconcileReport;
  assert.equal(report.summary.meters, 1);
  assert.equal(report.summary.intervals, 100, 'the autumn day has 100 quarter hours');
  assert.equal(report.csv.separator, ';');
  assert.equal(report.csv.decimalMark, ',');
  assert.equal(report.csv.fromUtc, '2026-10-24T22:00:00.000Z');
  assert.equal(report.csv.toUtc, '2026-10-25T23:00:00.000Z');

  // Outside the disconnect, exactly the two injected differences.
  const exact = report.differences.filter((d) => !d.estimated);
  assert.deepEqual(
    exact.map((d) => [d.intervalStartUtc, d.deliveredDiffKwh, d.returnedDiffKwh, d.billEur]),
    [
      [
        new Date(DAY_START_MS + INJECT_DELIVERED.interval * QUARTER_MS).toISOString(),
        '0.123',
        '0',
        '0.03075',
      ],
      [
        new Date(DAY_START_MS + INJECT_RETURNED.interval * QUARTER_MS).toISOString(),
        '0',
        '0.05',
        '-0.0125',
      ],
    ],
  );
  // The disconnect: its energy arrived in one reading, split over the silent intervals by time;
  // per interval that is an estimate, but over the disconnect nothing is missing.
  const estimated = report.differences.filter((d) => d.estimated);
  assert.ok(
    estimated.every(
      (d) =>
        d.intervalStartMs >= DAY_START_MS + 16 * QUARTER_MS &&
        d.intervalStartMs <= DAY_START_MS + 18 * QUARTER_MS,
    ),
  );
  const sum = (xs: readonly string[]): bigint =>
    xs.reduce((s, x) => s + BigInt(Math.round(Number(x) * 1000)), 0n);
  assert.equal(sum(estimated.map((d) => d.deliveredDiffKwh)), 0n);
  assert.equal(sum(estimated.map((d) => d.returnedDiffKwh)), 0n);
  assert.equal(report.summary.deliveredDiffKwh, '0.123');
  assert.equal(report.summary.returnedDiffKwh, '0.05');
  assert.equal(report.summary.billEur, '0.01825');
  assert.deepEqual(
    report.disconnects.map((d) => [d.fromUtc, d.toUtc, d.intervals]),
    [
      [
        new Date(DAY_START_MS + 17 * QUARTER_MS).toISOString(),
        new Date(DAY_START_MS + 18 * QUARTER_MS).toISOString(),
        1,
      ],
    ],
  );
  assert.deepEqual(report.meters[0]?.notes, []);
  assert.equal(report.settlement, null);

  const csv = (await readFile(csvOut, 'utf8')).trim().split('\n');
  assert.equal(
    csv[0],
    'meter_id,interval_start_utc,grid_delivered_kwh,chain_delivered_kwh,delivered_diff_kwh,grid_returned_kwh,chain_returned_kwh,returned_diff_kwh,bill_eur,estimated,disconnected,settlement',
  );
  assert.equal(csv.length, report.differences.length + 1);
  assert.ok(
    csv.some(
      (l) =>
        l.startsWith(`${GRID_ID},${exact[0]?.intervalStartUtc},`) &&
        l.includes(',0.123,') &&
        l.includes(',0.03075,false,false,'),
    ),
  );
});

test('--settle books every difference once; a second run finds them already settled', async () => {
  const context = ctx.owner.address;
  const before = {
    produced: await traderTotalWh(ctx.client, context, ctx.producerTrader.address),
    consumed: await traderTotalWh(ctx.client, context, ctx.consumerTrader.address),
  };
  const first = await runCli(reconcileArgs(['--settle', '--signing-keyfile', ctx.ownerKeyFile]), {
    timeoutMs: 60_000,
  });
  assert.equal(first.code, 0, first.stderr);
  const r1 = JSON.parse(first.stdout) as ReconcileReport;
  const txs = r1.settlement?.transactions ?? [];
  assert.ok(txs.length >= 2);
  assert.equal(r1.settlement?.settled, txs.length);
  assert.equal(r1.settlement?.alreadySettled, 0);
  const injected = txs.find(
    (t) =>
      t.intervalStartUtc ===
      new Date(DAY_START_MS + INJECT_DELIVERED.interval * QUARTER_MS).toISOString(),
  );
  assert.equal(injected?.direction, 'delivered');
  assert.equal(injected?.amountKwh, '-0.123');
  assert.equal(
    injected?.txId,
    settleTxId(
      context,
      GRID_ID,
      DAY_START_MS + INJECT_DELIVERED.interval * QUARTER_MS,
      'delivered',
    ),
  );
  const view = await ctx.client.getTransaction(injected?.txId ?? '');
  assert.equal(view.status, 'accepted');
  assert.equal(view.contractType, 'Mutate');
  assert.match(
    JSON.stringify(view.payload),
    new RegExp(
      `Reconciliation meter ${GRID_ID} interval ${injected?.intervalStartUtc ?? ''} delivered`,
    ),
  );
  // The ledger now says what the grid measured: 123 Wh more consumed, 50 Wh more returned.
  assert.equal(
    await traderTotalWh(ctx.client, context, ctx.consumerTrader.address),
    before.consumed - 123n,
  );
  assert.equal(
    await traderTotalWh(ctx.client, context, ctx.producerTrader.address),
    before.produced + 50n,
  );

  const second = await runCli(reconcileArgs(['--settle', '--signing-keyfile', ctx.ownerKeyFile]), {
    timeoutMs: 60_000,
  });
  assert.equal(second.code, 0, second.stderr);
  const r2 = JSON.parse(second.stdout) as ReconcileReport;
  assert.equal(r2.settlement?.settled, 0);
  assert.equal(r2.settlement?.alreadySettled, txs.length);
  assert.deepEqual(
    r2.settlement?.transactions.map((t) => t.txId),
    txs.map((t) => t.txId),
  );
  assert.equal(
    await traderTotalWh(ctx.client, context, ctx.consumerTrader.address),
    before.consumed - 123n,
  );
  assert.equal(
    await traderTotalWh(ctx.client, context, ctx.producerTrader.address),
    before.produced + 50n,
  );
});

test('usage errors: a bad price, --settle without the owner key', async () => {
  const bad = await runCli([
    '--url',
    p.url,
    'reconcile',
    '--context',
    ctx.owner.address,
    '--csv',
    join(dir.path, 'grid.csv'),
    '--meters',
    join(dir.path, 'meters.json'),
    '--price-eur-per-kwh',
    '0,25',
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /price-eur-per-kwh/);
  const notOwner = await runCli(
    reconcileArgs(['--settle', '--signing-keyfile', ctx.producerKeyFile]),
  );
  assert.equal(notOwner.code, 2);
  assert.match(notOwner.stderr, /not the owner/);
});
