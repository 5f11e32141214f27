// The P1 gateway's parts without a chain: config checks, serial line settings per DSMR version,
// the input limits at their edges, cutting readings (per period and per N telegrams, sinceMs),
// reconciliation's attribution of readings to intervals and its exact bills, and a serial source
// on a pseudo-terminal (when socat is installed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChainError } from '../src/core/errors.js';
import { PrivateKey } from '../src/core/keys.js';
import { systemScheduler } from '../src/core/scheduler.js';
import type { ChainReading } from '../src/meter/gateway/chain-readings.js';
import {
  DSMR_SERIAL,
  checkGatewayConfig,
  checkMetersFile,
  sttyArgs,
  type SerialSource,
} from '../src/meter/gateway/config.js';
import { checkTelegram } from '../src/meter/gateway/limits.js';
import { MeterRunner } from '../src/meter/gateway/meter.js';
import { GatewayReporter } from '../src/meter/gateway/report.js';
import { createSource } from '../src/meter/gateway/sources.js';
import { emptyState, readingTxId } from '../src/meter/gateway/state.js';
import { attribute, billOf, parsePrice } from '../src/meter/reconcile/compare.js';
import { parseTelegram } from '../src/meter/p1/parse.js';
import { telegramAt } from './support/meter-chain.js';

const CONTEXT = PrivateKey.generate().address;
const Q = 900_000;

function configError(raw: unknown): ChainError {
  try {
    checkGatewayConfig(raw, '/etc/hanzenet');
  } catch (err) {
    assert.ok(err instanceof ChainError);
    assert.equal(err.code, 'gateway_config_invalid');
    return err;
  }
  assert.fail('the config was accepted');
}

const minimal = {
  api: 'http://127.0.0.1:8080',
  context: CONTEXT,
  stateDir: 'state',
  meters: [
    {
      equipmentId: 'E1',
      producerKeyFile: 'p.json',
      consumerKeyFile: 'c.json',
      source: { type: 'file', path: 'day.txt' },
    },
  ],
};

test('config: defaults, paths relative to the config, and field-named errors', () => {
  const c = checkGatewayConfig(minimal, '/etc/hanzenet');
  assert.equal(c.stateDir, '/etc/hanzenet/state');
  assert.equal(c.statusFile, '/etc/hanzenet/state/status.json');
  assert.equal(c.periodSeconds, 900);
  assert.equal(c.telegrams, null);
  assert.equal(c.maxKw, 17.25);
  assert.deepEqual(c.meters[0]?.source, { type: 'file', path: '/etc/hanzenet/day.txt' });
  assert.equal(c.meters[0]?.gridId, 'E1');
  assert.equal(configError({ ...minimal, colour: 'red' }).details['field'], 'colour');
  assert.equal(configError({ ...minimal, context: 'nope' }).details['field'], 'context');
  assert.equal(
    configError({ ...minimal, aggregation: { periodSeconds: 7 } }).details['field'],
    'aggregation.periodSeconds',
  );
  assert.equal(configError({ ...minimal, meters: [] }).details['field'], 'meters');
  assert.equal(
    configError({ ...minimal, meters: [{ equipmentId: 'E1', consumerKeyFile: 'c.json' }] }).details[
      'field'
    ],
    'meters[0].producerKeyFile',
  );
  assert.equal(
    configError({ ...minimal, meters: [{ ...minimal.meters[0], source: { type: 'pigeon' } }] })
      .details['field'],
    'meters[0].source.type',
  );
  const two = { equipmentId: 'E2', producerKeyFile: 'p2.json', consumerKeyFile: 'c2.json' };
  assert.match(
    configError({
      ...minimal,
      meters: [
        { ...two, source: { type: 'stdin' } },
        { ...two, equipmentId: 'E3', source: { type: 'stdin' } },
      ],
    }).message,
    /only one meter can read stdin/,
  );
  // Reconciliation needs addresses only.
  const addr = PrivateKey.generate().address;
  const meters = checkMetersFile(
    {
      meters: [{ equipmentId: 'E1', gridId: '8716', producerAddress: addr, consumerAddress: addr }],
    },
    '/tmp',
  );
  assert.equal(meters[0]?.gridId, '8716');
  assert.equal(meters[0]?.producerKeyFile, null);
});

test('serial: the line settings of each DSMR version, and the stty call', () => {
  const serial = (dsmr: string, extra: Record<string, unknown> = {}): SerialSource => {
    const c = checkGatewayConfig(
      {
        ...minimal,
        meters: [
          {
            ...minimal.meters[0],
            source: { type: 'serial', device: '/dev/ttyUSB0', dsmr, ...extra },
          },
        ],
      },
      '/',
    );
    return c.meters[0]?.source as SerialSource;
  };
  assert.deepEqual(DSMR_SERIAL['5.0'], { baud: 115_200, dataBits: 8, parity: 'none' });
  assert.deepEqual(sttyArgs(serial('5.0')).slice(0, 6), [
    '-F',
    '/dev/ttyUSB0',
    '115200',
    'cs8',
    '-parenb',
    '-cstopb',
  ]);
  assert.deepEqual(sttyArgs(serial('4.x')).slice(0, 7), [
    '-F',
    '/dev/ttyUSB0',
    '115200',
    'cs7',
    'parenb',
    '-parodd',
    '-cstopb',
  ]);
  assert.deepEqual(sttyArgs(serial('2.2')).slice(0, 7), [
    '-F',
    '/dev/ttyUSB0',
    '9600',
    'cs7',
    'parenb',
    '-parodd',
    '-cstopb',
  ]);
  assert.deepEqual(
    sttyArgs(serial('5.0', { baud: 9600, dataBits: 7, parity: 'odd', stopBits: 2 })).slice(0, 7),
    ['-F', '/dev/ttyUSB0', '9600', 'cs7', 'parenb', 'parodd', 'cstopb'],
  );
  assert.ok(sttyArgs(serial('5.0')).includes('raw'));
});

test('limits: the jump limit is exact to the Wh, and every check names its numbers', () => {
  const t0 = Date.now() - 3_600_000;
  const r = { d1: 1000n, d2: 2000n, r1: 0n, r2: 0n };
  const parse = (
    ms: number,
    regs: typeof r,
    id = 'E1',
  ): NonNullable<ReturnType<typeof parseTelegram> & { ok: true }>['telegram'] => {
    const p = parseTelegram(telegramAt(id, ms, regs));
    assert.ok(p.ok);
    return p.telegram;
  };
  const limits = {
    equipmentId: 'E1',
    maxKw: 3.6,
    maxClockSkewMs: 1000,
    maxAgeMs: 86_400_000,
    disconnectAfterMs: 60_000,
  };
  const first = checkTelegram(parse(t0, r), null, limits, Date.now());
  assert.ok(first.ok);
  // 3.6 kW for 10 s is exactly 10 Wh.
  const at = checkTelegram(
    parse(t0 + 10_000, { ...r, d2: 2010n }),
    first.reading,
    limits,
    Date.now(),
  );
  assert.ok(at.ok);
  assert.equal(at.gapMs, null);
  const over = checkTelegram(
    parse(t0 + 10_000, { ...r, d2: 2005n, r2: 6n }),
    first.reading,
    limits,
    Date.now(),
  );
  assert.ok(!over.ok && over.violation.code === 'meter_jump_too_large');
  const gap = checkTelegram(
    parse(t0 + 120_000, { ...r, d2: 2010n }),
    first.reading,
    limits,
    Date.now(),
  );
  assert.ok(gap.ok && gap.gapMs === 120_000);
  const back = checkTelegram(
    parse(t0 + 10_000, { ...r, r1: 0n, d1: 999n }),
    first.reading,
    limits,
    Date.now(),
  );
  assert.ok(
    !back.ok &&
      back.violation.code === 'meter_counter_backwards' &&
      back.violation.details['obis'] === '1-0:1.8.1',
  );
  const other = checkTelegram(parse(t0 + 10_000, r, 'E2'), first.reading, limits, Date.now());
  assert.ok(!other.ok && other.violation.code === 'meter_equipment_changed');
});

function runnerWith(telegrams: number | null): {
  runner: MeterRunner;
  state: ReturnType<typeof emptyState>;
  lines: string[];
} {
  const state = emptyState(CONTEXT);
  const lines: string[] = [];
  const runner = new MeterRunner(
    {
      config: {
        equipmentId: 'E1',
        gridId: 'E1',
        producerKeyFile: null,
        consumerKeyFile: null,
        producerAddress: null,
        consumerAddress: null,
        maxKw: 17.25,
        source: { type: 'stdin' },
      },
      context: CONTEXT,
      producer: 'P',
      consumer: 'C',
      periodMs: Q,
      telegrams,
      maxClockSkewMs: 60_000,
      maxAgeMs: 86_400_000,
      disconnectAfterMs: 60_000,
      requireCrc: true,
      outboxMax: 100,
      scheduler: systemScheduler,
    },
    state,
    new GatewayReporter((l) => lines.push(l), systemScheduler),
  );
  return { runner, state, lines };
}

test('cuts: at each period boundary, or every N telegrams; zero advance moves sinceMs, no reading', () => {
  const t0 = Math.floor(Date.now() / Q) * Q - 4 * Q;
  const { runner, state } = runnerWith(null);
  const feed = (dt: number, d: bigint, r: bigint): boolean =>
    runner.feed(telegramAt('E1', t0 + dt, { d1: 0n, d2: d, r1: 0n, r2: r }), Date.now());
  assert.equal(feed(30_000, 100n, 50n), true, 'the first telegram sets the baseline');
  assert.equal(feed(60_000, 110n, 50n), false);
  assert.equal(feed(Q, 120n, 50n), true, 'the boundary telegram cuts');
  assert.deepEqual(
    state.outbox.map((e) => [e.direction, e.amountWh, e.registerWh, e.readingMs, e.sinceMs]),
    [['delivered', '20', '120', t0 + Q, t0 + 30_000]],
  );
  assert.equal(
    state.meters['E1']?.streams?.returned.sinceMs,
    t0 + Q,
    'returned stood still until the cut',
  );
  assert.equal(feed(Q + 50_000, 125n, 60n), false);
  assert.equal(feed(2 * Q + 10_000, 130n, 70n), true);
  assert.deepEqual(
    state.outbox.slice(1).map((e) => [e.direction, e.amountWh, e.sinceMs]),
    [
      ['delivered', '10', t0 + Q],
      ['returned', '20', t0 + Q],
    ],
  );
  const first = state.outbox[0];
  assert.equal(first?.txId, readingTxId(CONTEXT, 'C', 'delivered', '120', t0 + Q, 0));

  const counted = runnerWith(2);
  for (let i = 0; i < 5; i += 1)
    counted.runner.feed(
      telegramAt('E1', t0 + 10_000 * (i + 1), { d1: 0n, d2: 100n + BigInt(i), r1: 0n, r2: 0n }),
      Date.now(),
    );
  assert.deepEqual(
    counted.state.outbox.map((e) => [e.amountWh, e.readingMs]),
    [
      ['2', t0 + 30_000],
      ['2', t0 + 50_000],
    ],
  );
  assert.equal(counted.runner.finish(Date.now()), false, 'nothing after the last cut');
});

function reading(
  readingMs: number | null,
  amountWh: bigint,
  sinceMs: number | null,
  processedMs = 0,
): ChainReading {
  return {
    txId: 'x',
    device: 'P',
    direction: 'delivered',
    amountWh,
    registerWh: readingMs === null ? null : 0n,
    readingMs,
    sinceMs,
    height: 1,
    processedMs,
    block: 7,
    trader: 'T',
    labels: [],
  };
}

test('attribution: a span inside one interval is exact; across boundaries it is split by time, exactly', () => {
  const s = Q * 1000;
  const exact = attribute([reading(s + Q, 300n, s)]);
  assert.deepEqual(
    [...exact.entries()].map(([k, v]) => [k, v.wh, v.estimated]),
    [[s, 300n, false]],
  );
  // 100 Wh over (s + Q - 10 s, s + Q + 20 s]: a third before the boundary, two thirds after.
  const split = attribute([reading(s + Q + 20_000, 100n, s + Q - 10_000)]);
  assert.deepEqual(
    [...split.entries()].map(([k, v]) => [k, v.wh, v.estimated]),
    [
      [s, 33n, true],
      [s + Q, 67n, true],
    ],
  );
  const long = attribute([reading(s + 3 * Q, 7n, s)]);
  assert.deepEqual(
    [...long.values()].map((v) => v.wh),
    [3n, 2n, 2n],
  );
  // Without sinceMs the previous reading starts the span; without a reading the block time decides.
  const chain = attribute([
    reading(s + Q, 5n, null),
    reading(s + 2 * Q, 6n, null),
    reading(null, 9n, null, s + 2 * Q + 1),
  ]);
  assert.deepEqual(
    [...chain.entries()].map(([k, v]) => [k, v.wh, v.estimated]),
    [
      [s, 5n, false],
      [s + Q, 6n, false],
      [s + 2 * Q, 9n, true],
    ],
  );
});

test('prices and bills are exact decimals', () => {
  assert.equal(parsePrice('0.25'), 250_000n);
  assert.equal(parsePrice('0.2512345'), null);
  assert.equal(parsePrice('0,25'), null);
  assert.equal(billOf(123n, 250_000n), '0.03075');
  assert.equal(billOf(-50n, 250_000n), '-0.0125');
  assert.equal(billOf(4000n, 250_000n), '1.00');
  assert.equal(billOf(0n, 250_000n), '0.00');
});

test('serial source: stty configures a pseudo-terminal, bytes arrive', {
  skip: spawnSync('socat', ['-V']).status !== 0 ? 'socat is not installed' : false,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hz-pty-'));
  const a = join(dir, 'meter');
  const b = join(dir, 'p1');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: 'ignore',
  });
  const stop = new AbortController();
  try {
    for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i += 1) await sleep(20);
    const config = checkGatewayConfig(
      {
        ...minimal,
        meters: [{ ...minimal.meters[0], source: { type: 'serial', device: a, dsmr: '5.0' } }],
      },
      '/',
    );
    const source = createSource(
      config.meters[0]?.source ?? { type: 'stdin' },
      { initialMs: 50, maxMs: 200 },
      systemScheduler,
    );
    const received: Buffer[] = [];
    const events: string[] = [];
    const running = source.run(
      {
        data: async (chunk) => {
          received.push(chunk);
        },
        restart: () => undefined,
        connected: (what) => events.push(`connected ${what}`),
        failed: (message) => events.push(`failed ${message}`),
      },
      stop.signal,
    );
    for (let i = 0; i < 100 && events.length === 0; i += 1) await sleep(20);
    assert.deepEqual(events, [`connected serial ${a} 115200 8N1`]);
    const fd = openSync(b, 'w');
    writeSync(fd, Buffer.from('/HNZ5 hello\r\n!1234\r\n', 'latin1'));
    closeSync(fd);
    for (let i = 0; i < 100 && Buffer.concat(received).length < 20; i += 1) await sleep(20);
    assert.equal(Buffer.concat(received).toString('latin1'), '/HNZ5 hello\r\n!1234\r\n');
    stop.abort();
    await running;
  } finally {
    stop.abort();
    socat.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
