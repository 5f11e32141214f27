// The P1 gateway end to end: a real processor process, the gateway as a real `hanzenet meter
// gateway` process, simulated DSMR 5.0 telegrams (one every 10 s), an MQTT broker for the MQTT
// source (the one at HANZENET_TEST_MQTT_URL, else an in-process Aedes broker: see
// support/mqtt-broker.ts) and a local TCP server for the ser2net-style source. Chain
// totals must equal the simulated counters exactly: after a file replay, after kill -9 in the
// middle of a day, after the state is lost, across a dropped TCP connection and across a
// processor outage. Every input limit is rejected and reported, never submitted.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'mqtt';
import { createServer, type Socket } from 'node:net';
import { startTestBroker } from './support/mqtt-broker.js';
import { stopProcess, tempDir, type StartedProcessor } from './support/processes.js';
import {
  QUARTER_MS,
  consumedWh,
  freePort,
  producedWh,
  setUpContext,
  simulatedDay,
  spawnGateway,
  startProcessorOn,
  telegramAt,
  traderTotalWh,
  writeGatewayConfig,
  type MeterContext,
} from './support/meter-chain.js';
import type { SimulatedTelegram } from '../src/meter/sim/simulate.js';

const METER = 'E9900000000000001';

// One processor for the whole file (starting one takes seconds); each test has its own context,
// and contexts never see each other. The outage test stops and restarts it on the same port.
let shared: { dir: { path: string; remove(): Promise<void> }; port: number; p: StartedProcessor };

before(async () => {
  const dir = await tempDir('gw-chain');
  const port = await freePort();
  shared = { dir, port, p: await startProcessorOn(join(dir.path, 'chain'), port) };
});

after(async () => {
  await stopProcess(shared.p);
  await shared.dir.remove();
});

async function totals(ctx: MeterContext): Promise<{ produced: bigint; consumed: bigint }> {
  const context = ctx.owner.address;
  return {
    produced: await traderTotalWh(ctx.client, context, ctx.producerTrader.address),
    consumed: -(await traderTotalWh(ctx.client, context, ctx.consumerTrader.address)),
  };
}

function expected(
  t: readonly SimulatedTelegram[],
  from = 0,
  to = t.length - 1,
): { produced: bigint; consumed: bigint } {
  return { produced: producedWh(t, from, to), consumed: consumedWh(t, from, to) };
}

function text(t: readonly SimulatedTelegram[]): string {
  return t.map((x) => x.text).join('');
}

function count(reports: readonly Record<string, unknown>[], event: string): number {
  return reports.filter((r) => r['event'] === event).length;
}

test('file replay of a simulated day: chain totals equal the counters exactly, one reading per quarter hour', async () => {
  const dir = await tempDir('gw-replay');
  const p = shared.p;
  try {
    const ctx = await setUpContext(p.url, dir.path);
    const { telegrams } = simulatedDay(METER, 8640);
    const file = join(dir.path, 'day.txt');
    await writeFile(file, text(telegrams), 'latin1');
    const config = join(dir.path, 'gateway.json');
    const stateDir = join(dir.path, 'state');
    await writeGatewayConfig(config, {
      api: p.url,
      context: ctx.owner.address,
      stateDir,
      equipmentId: METER,
      producerKeyFile: ctx.producerKeyFile,
      consumerKeyFile: ctx.consumerKeyFile,
      source: { type: 'file', path: file },
    });
    const gw = spawnGateway(config);
    assert.equal(await gw.exited, 0, gw.stderr().slice(-3000));
    assert.deepEqual(await totals(ctx), expected(telegrams));
    const reports = gw.reports();
    assert.equal(count(reports, 'telegram_rejected'), 0);
    assert.equal(count(reports, 'tx_rejected'), 0);
    assert.equal(count(reports, 'tx_accepted'), count(reports, 'reading'));
    // 96 quarter hours, each cut into at most one delivered and one returned reading.
    const readings = reports.filter((r) => r['event'] === 'reading');
    const lastMs = telegrams[telegrams.length - 1]?.timestampMs;
    for (const r of readings)
      if (r['readingMs'] !== lastMs)
        assert.equal(
          (r['readingMs'] as number) % QUARTER_MS,
          0,
          'cut on the boundary telegram (or at the end of the input)',
        );
    assert.ok(readings.length >= 96 && readings.length <= 192, `${readings.length} readings`);
    const status = JSON.parse(await readFile(join(stateDir, 'status.json'), 'utf8')) as {
      outbox: number;
      meters: { counters: { accepted: number } }[];
    };
    assert.equal(status.outbox, 0);
    assert.equal(status.meters[0]?.counters.accepted, 8640);
    ctx.client.close();
  } finally {
    await dir.remove();
  }
});

test('every input limit is rejected and reported, never submitted; a gap is a disconnect', async () => {
  const dir = await tempDir('gw-limits');
  const p = shared.p;
  try {
    const ctx = await setUpContext(p.url, dir.path);
    const t0 = Math.floor(Date.now() / QUARTER_MS) * QUARTER_MS - 2 * QUARTER_MS;
    const r0 = { d1: 1_000_000n, d2: 2_000_000n, r1: 300_000n, r2: 400_000n };
    const at = (dt: number, r: Partial<typeof r0>, id = METER): string =>
      telegramAt(id, t0 + dt, { ...r0, ...r });
    const good2 = at(10_000, { d2: 2_000_010n });
    const input = [
      at(0, {}),
      good2,
      at(20_000, { d2: 2_000_020n }, 'E0000000000000666'),
      good2.replace(/[0-9A-F]{4}\r\n$/, '0000\r\n'),
      at(20_000, { d2: 2_000_005n }),
      at(20_000, { d2: 2_001_010n }),
      telegramAt(METER, Date.now() + 3_600_000, { ...r0, d2: 2_000_030n }),
      telegramAt(METER, Date.now() - 5 * 86_400_000, { ...r0, d2: 2_000_030n }),
      at(10_000, { d2: 2_000_010n }),
      at(600_000, { d2: 2_000_400n, r1: 300_100n }),
      at(QUARTER_MS, { d2: 2_000_500n, r1: 300_150n }),
    ].join('');
    const file = join(dir.path, 'limits.txt');
    await writeFile(file, input, 'latin1');
    const config = join(dir.path, 'gateway.json');
    await writeGatewayConfig(config, {
      api: p.url,
      context: ctx.owner.address,
      stateDir: join(dir.path, 'state'),
      equipmentId: METER,
      producerKeyFile: ctx.producerKeyFile,
      consumerKeyFile: ctx.consumerKeyFile,
      source: { type: 'file', path: file },
      extra: { maxKw: 17.25, maxClockSkewMs: 60_000, disconnectAfterMs: 400_000 },
    });
    const gw = spawnGateway(config);
    assert.equal(await gw.exited, 0, gw.stderr().slice(-3000));
    const reports = gw.reports();
    const rejected = reports
      .filter((r) => r['event'] === 'telegram_rejected')
      .map((r) => r['code']);
    assert.deepEqual(rejected, [
      'meter_equipment_changed',
      'telegram_bad_crc',
      'meter_counter_backwards',
      'meter_jump_too_large',
      'meter_time_in_future',
      'meter_time_too_old',
      'meter_time_not_increasing',
    ]);
    const jump = reports.find((r) => r['code'] === 'meter_jump_too_large');
    assert.equal((jump?.['details'] as Record<string, unknown> | undefined)?.['maxKw'], 17.25);
    const disconnects = reports.filter((r) => r['event'] === 'disconnect');
    assert.equal(disconnects.length, 1);
    assert.deepEqual(
      [disconnects[0]?.['fromMs'], disconnects[0]?.['toMs']],
      [t0 + 10_000, t0 + 600_000],
    );
    // Only the good telegrams count: 500 Wh delivered, 150 Wh returned since the first.
    assert.deepEqual(await totals(ctx), { produced: 150n, consumed: 500n });
    ctx.client.close();
  } finally {
    await dir.remove();
  }
});

test('a run in which every telegram is rejected ends non-zero with a summary per meter', async () => {
  const dir = await tempDir('gw-none');
  const p = shared.p;
  try {
    const ctx = await setUpContext(p.url, dir.path);
    const t0 = Math.floor(Date.now() / QUARTER_MS) * QUARTER_MS - QUARTER_MS;
    const r0 = { d1: 1_000_000n, d2: 2_000_000n, r1: 300_000n, r2: 400_000n };
    const good = telegramAt(METER, t0, r0);
    const input = [
      good.replace(/[0-9A-F]{4}\r\n$/, '0000\r\n'),
      telegramAt('E0000000000000666', t0 + 10_000, r0),
    ].join('');
    const file = join(dir.path, 'bad.txt');
    await writeFile(file, input, 'latin1');
    const config = join(dir.path, 'gateway.json');
    await writeGatewayConfig(config, {
      api: p.url,
      context: ctx.owner.address,
      stateDir: join(dir.path, 'state'),
      equipmentId: METER,
      producerKeyFile: ctx.producerKeyFile,
      consumerKeyFile: ctx.consumerKeyFile,
      source: { type: 'file', path: file },
    });
    const gw = spawnGateway(config);
    assert.equal(await gw.exited, 1, gw.stderr().slice(-3000));
    const stopped = gw.reports().find((r) => r['event'] === 'stopped');
    assert.equal(stopped?.['nothingAccepted'], true);
    assert.deepEqual(stopped?.['meters'], [
      {
        meter: METER,
        telegrams: 2,
        accepted: 0,
        rejected: { telegram_bad_crc: 1, meter_equipment_changed: 1 },
        readings: 0,
        disconnects: 0,
        droppedBytes: 0,
      },
    ]);
    assert.match(gw.stderr(), /"code": "gateway_nothing_accepted"/);
    assert.deepEqual(await totals(ctx), { produced: 0n, consumed: 0n });
    ctx.client.close();
  } finally {
    await dir.remove();
  }
});

test('kill -9 in the middle of a day, restart: nothing counted twice, nothing skipped; lost state is caught by the chain', async () => {
  const dir = await tempDir('gw-crash');
  const p = shared.p;
  try {
    const ctx = await setUpContext(p.url, dir.path);
    // A day, and an hour more for the end of the test.
    const more = simulatedDay(METER, 8640 + 360, 11).telegrams;
    const telegrams = more.slice(0, 8640);
    const stateDir = join(dir.path, 'state');
    const base = {
      api: p.url,
      context: ctx.owner.address,
      stateDir,
      equipmentId: METER,
      producerKeyFile: ctx.producerKeyFile,
      consumerKeyFile: ctx.consumerKeyFile,
    };
    const viaStdin = join(dir.path, 'stdin.json');
    await writeGatewayConfig(viaStdin, { ...base, source: { type: 'stdin' } });
    const gw1 = spawnGateway(viaStdin);
    gw1.proc.stdin?.write(text(telegrams.slice(0, 5000)), 'latin1');
    // Kill while it works: readings are being cut, sent and confirmed.
    await gw1.waitFor(
      (r) =>
        r['event'] === 'tx_accepted' &&
        (r['readingMs'] as number) >= (telegrams[2500]?.timestampMs ?? 0),
    );
    gw1.proc.kill('SIGKILL');
    assert.equal(await gw1.exited, 'SIGKILL');
    const midway = await totals(ctx);
    assert.ok(
      midway.consumed > 0n && midway.consumed < consumedWh(telegrams),
      `killed midway: ${midway.consumed}`,
    );

    // Restart on the whole day: what was cut before the kill is not read again.
    const file = join(dir.path, 'day.txt');
    await writeFile(file, text(telegrams), 'latin1');
    const viaFile = join(dir.path, 'file.json');
    await writeGatewayConfig(viaFile, { ...base, source: { type: 'file', path: file } });
    const gw2 = spawnGateway(viaFile);
    assert.equal(await gw2.exited, 0, gw2.stderr().slice(-3000));
    assert.deepEqual(await totals(ctx), expected(telegrams));
    assert.ok(gw2.reports().some((r) => r['code'] === 'meter_time_not_increasing'));

    // The state is lost. A replay cut at other telegrams (other readings, other ids) is refused by
    // the chain's register check and resynchronised from the chain; only the new hour adds energy.
    await rm(stateDir, { recursive: true, force: true });
    await writeFile(file, text(more.slice(4000)), 'latin1');
    const lost = join(dir.path, 'lost.json');
    await writeGatewayConfig(lost, {
      ...base,
      source: { type: 'file', path: file },
      extra: { aggregation: { periodSeconds: 900, telegrams: 7 } },
    });
    const gw3 = spawnGateway(lost);
    assert.equal(await gw3.exited, 0, gw3.stderr().slice(-3000));
    assert.ok(count(gw3.reports(), 'resync') >= 1, 'resynchronised from the chain');
    assert.deepEqual(await totals(ctx), expected(more));
    ctx.client.close();
  } finally {
    await dir.remove();
  }
});

test('MQTT source: telegrams published to a broker become readings', async () => {
  const dir = await tempDir('gw-mqtt');
  const p = shared.p;
  const topic = `hanzenet/test/${randomBytes(8).toString('hex')}/p1`;
  const broker = await startTestBroker();
  const publisher = connect(broker.url, { connectTimeout: 5000 });
  try {
    await new Promise<void>((resolve, reject) => {
      publisher.once('connect', () => resolve());
      publisher.once('error', reject);
    });
    const ctx = await setUpContext(p.url, dir.path);
    // Two hours and the telegram on the last boundary: every quarter hour gets cut.
    const { telegrams } = simulatedDay(METER, 721, 5);
    const config = join(dir.path, 'gateway.json');
    await writeGatewayConfig(config, {
      api: p.url,
      context: ctx.owner.address,
      stateDir: join(dir.path, 'state'),
      equipmentId: METER,
      producerKeyFile: ctx.producerKeyFile,
      consumerKeyFile: ctx.consumerKeyFile,
      source: { type: 'mqtt', url: broker.url, topic, qos: 1 },
    });
    const gw = spawnGateway(config);
    await gw.waitFor((r) => r['event'] === 'source_connected');
    for (const t of telegrams)
      await publisher.publishAsync(topic, Buffer.from(t.text, 'latin1'), { qos: 1 });
    const want = expected(telegrams);
    const deadline = Date.now() + 20_000;
    let got = await totals(ctx);
    while (
      (got.produced !== want.produced || got.consumed !== want.consumed) &&
      Date.now() < deadline
    ) {
      await sleep(200);
      got = await totals(ctx);
    }
    assert.deepEqual(got, want);
    gw.proc.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr().slice(-3000));
    assert.equal(count(gw.reports(), 'telegram_rejected'), 0);
    ctx.client.close();
  } finally {
    await publisher.endAsync();
    await broker.close();
    await dir.remove();
  }
});

test('TCP source (ser2net-style): a dropped connection is reopened; the partial telegram is dropped, no energy is lost', async () => {
  const dir = await tempDir('gw-tcp');
  const sockets: Socket[] = [];
  const { telegrams } = simulatedDay(METER, 361, 9);
  const all = text(telegrams);
  // The first connection breaks off in the middle of telegram 200; the second starts at 201.
  const cutAt = all.indexOf(telegrams[200]?.text ?? '') + 300;
  const resumeAt = all.indexOf(telegrams[201]?.text ?? '');
  let connections = 0;
  const server = createServer((socket) => {
    sockets.push(socket);
    connections += 1;
    if (connections === 1) socket.end(all.slice(0, cutAt), 'latin1');
    else socket.write(all.slice(resumeAt), 'latin1');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const ctx = await setUpContext(shared.p.url, dir.path);
    const config = join(dir.path, 'gateway.json');
    await writeGatewayConfig(config, {
      api: shared.p.url,
      context: ctx.owner.address,
      stateDir: join(dir.path, 'state'),
      equipmentId: METER,
      producerKeyFile: ctx.producerKeyFile,
      consumerKeyFile: ctx.consumerKeyFile,
      source: { type: 'tcp', host: '127.0.0.1', port },
    });
    const gw = spawnGateway(config);
    const want = expected(telegrams);
    const deadline = Date.now() + 20_000;
    let got = await totals(ctx);
    while (
      (got.produced !== want.produced || got.consumed !== want.consumed) &&
      Date.now() < deadline
    ) {
      await sleep(200);
      got = await totals(ctx);
    }
    assert.deepEqual(got, want);
    gw.proc.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.stderr().slice(-3000));
    const reports = gw.reports();
    assert.equal(count(reports, 'source_connected'), 2);
    assert.ok(count(reports, 'source_error') >= 1);
    assert.equal(
      count(reports, 'telegram_rejected'),
      0,
      'the partial telegram is dropped by the splitter, not parsed',
    );
    ctx.client.close();
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dir.remove();
  }
});

// Last: it stops and restarts the shared processor.
test('a processor outage only delays: queued readings are delivered exactly once after it restarts', async () => {
  const dir = await tempDir('gw-outage');
  const p = shared.p;
  try {
    const ctx = await setUpContext(p.url, dir.path);
    const { telegrams } = simulatedDay(METER, 4320, 23);
    const config = join(dir.path, 'gateway.json');
    await writeGatewayConfig(config, {
      api: p.url,
      context: ctx.owner.address,
      stateDir: join(dir.path, 'state'),
      equipmentId: METER,
      producerKeyFile: ctx.producerKeyFile,
      consumerKeyFile: ctx.consumerKeyFile,
      source: { type: 'stdin' },
    });
    const gw = spawnGateway(config);
    gw.proc.stdin?.write(text(telegrams.slice(0, 1500)), 'latin1');
    await gw.waitFor(
      (r) =>
        r['event'] === 'tx_accepted' &&
        (r['readingMs'] as number) >= (telegrams[1400]?.timestampMs ?? 0),
    );
    await stopProcess(shared.p);
    gw.proc.stdin?.end(text(telegrams.slice(1500)), 'latin1');
    await gw.waitFor((r) => r['event'] === 'processor_unreachable');
    await sleep(1500);
    assert.equal(gw.proc.exitCode, null, 'the gateway waits for the processor');
    shared.p = await startProcessorOn(join(shared.dir.path, 'chain'), shared.port);
    assert.equal(await gw.exited, 0, gw.stderr().slice(-3000));
    const reports = gw.reports();
    assert.equal(count(reports, 'tx_rejected'), 0);
    assert.equal(count(reports, 'tx_accepted'), count(reports, 'reading'));
    const retries = count(reports, 'processor_unreachable');
    assert.ok(retries >= 1 && retries < 40, `${retries} retries: with backoff, not a storm`);
    assert.deepEqual(await totals(ctx), expected(telegrams));
    ctx.client.close();
  } finally {
    await dir.remove();
  }
});
