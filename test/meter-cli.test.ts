// `hanzenet meter parse` and `hanzenet meter simulate` as a shell user runs them: files, stdin,
// exit codes, error JSON on stderr, and the simulate | parse pipeline.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorOf, runCli, runShell } from './support/cli-run.js';

const VECTORS = fileURLToPath(new URL('../../test/vectors/telegrams/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hanzenet-meter-'));

after(() => rmSync(dir, { recursive: true, force: true }));

interface TelegramOut {
  version: string;
  equipmentId: string;
  timestamp: string;
  registersKwh: Record<string, string>;
  currentPowerDeliveredW: number;
  currentPowerReturnedW: number;
  gas: { m3: string } | null;
}

test('meter parse FILE prints the telegram as JSON', async () => {
  const r = await runCli(['meter', 'parse', join(VECTORS, 'dsmr-4.2-kfm-1.txt')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const t = JSON.parse(r.stdout) as TelegramOut;
  assert.equal(t.version, '4.x');
  assert.equal(t.equipmentId, 'E0003000002124813');
  assert.equal(t.timestamp, '2018-03-06T11:30:56.000Z');
  assert.deepEqual(t.registersKwh, {
    deliveredTariff1: '4726.494',
    deliveredTariff2: '4844.281',
    returnedTariff1: '3284.32',
    returnedTariff2: '7764.691',
    deliveredTotal: '9570.775',
    returnedTotal: '11049.011',
  });
  assert.equal(t.currentPowerReturnedW, 1869);
  assert.equal(t.gas?.m3, '5359.919');
});

test('meter parse reads stdin with no argument and with "-"', async () => {
  const text = readFileSync(join(VECTORS, 'dsmr_parser-fluvius-emucs-v1.7.1.crlf.txt'), 'latin1');
  for (const args of [
    ['meter', 'parse'],
    ['meter', 'parse', '-'],
  ]) {
    const r = await runCli(args, { stdin: text });
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as TelegramOut;
    assert.equal(t.version, 'e-MUCS');
    assert.equal(t.registersKwh['deliveredTariff2'], '15.758');
  }
});

test('meter parse: bad CRC, truncated, unknown format and a missing file', async () => {
  const bad = await runCli(['meter', 'parse', join(VECTORS, 'dsmr-5.0-ene-1.txt')]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.deepEqual(errorOf(bad).details, { expected: 'D59D', computed: '2E0A' });
  assert.equal(errorOf(bad).code, 'telegram_bad_crc');

  const isk = readFileSync(join(VECTORS, 'dsmr-5.0-isk-1.txt'), 'latin1');
  const cut = await runCli(['meter', 'parse', '-'], { stdin: isk.slice(0, 400) });
  assert.equal(cut.code, 1);
  assert.equal(errorOf(cut).code, 'telegram_truncated');

  const other = await runCli(['meter', 'parse'], { stdin: 'hello world\n' });
  assert.equal(other.code, 1);
  assert.equal(errorOf(other).code, 'telegram_unknown_format');

  const noCrc = join(VECTORS, 'edge-5.0-no-crc.txt');
  assert.equal(errorOf(await runCli(['meter', 'parse', noCrc])).code, 'telegram_truncated');
  assert.equal((await runCli(['meter', 'parse', noCrc, '--allow-missing-crc'])).code, 0);

  const missing = await runCli(['meter', 'parse', join(dir, 'nope.txt')]);
  assert.equal(missing.code, 2);
  assert.equal(errorOf(missing).code, 'usage_error');
});

test('simulate | parse: one telegram, and a stream with --all', async () => {
  const one = await runShell(
    'hanzenet meter simulate --start 2026-06-21T10:00:00Z --seed 4 | hanzenet meter parse',
  );
  assert.equal(one.code, 0, one.stderr);
  const t = JSON.parse(one.stdout) as TelegramOut;
  assert.equal(t.version, '5.0');
  assert.equal(t.timestamp, '2026-06-21T10:00:00.000Z');
  assert.equal(t.equipmentId, 'E9900000000000004');

  const many = await runShell(
    'hanzenet meter simulate --start 2026-06-21T10:00:00Z --seed 4 --interval-s 10 --count 30 --equipment-id E1234 | hanzenet meter parse --all',
  );
  assert.equal(many.code, 0, many.stderr);
  const lines = many.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as TelegramOut);
  assert.equal(lines.length, 30);
  assert.deepEqual(
    lines.map((l) => l.timestamp),
    lines.map((_, k) => new Date(Date.UTC(2026, 5, 21, 10) + k * 10_000).toISOString()),
  );
  assert.ok(lines.every((l) => l.equipmentId === 'E1234'));
});

test('simulate is deterministic, CRLF-framed, and refuses bad options', async () => {
  const args = [
    'meter',
    'simulate',
    '--start',
    '2026-01-10T06:00:00+01:00',
    '--count',
    '5',
    '--seed',
    '9',
    '--pv-kwp',
    '3.5',
    '--latitude',
    '52.1',
    '--base-load-w',
    '250',
    '--no-gas',
  ];
  const a = await runCli(args);
  const b = await runCli(args);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.equal(a.stdout.match(/^\//gm)?.length, 5);
  assert.ok(!/[^\r]\n/.test(a.stdout), 'every line ends in CRLF');
  assert.ok(!a.stdout.includes('0-1:24.2.1'), '--no-gas');
  assert.match(a.stdout, /^0-0:1\.0\.0\(260110060000W\)\r$/m);

  for (const bad of [
    ['--start', 'tomorrow'],
    ['--start', '2026-01-10T06:00:00.5Z'],
    ['--interval-s', '0'],
    ['--latitude', '95'],
    ['--seed', 'x'],
  ]) {
    const r = await runCli(['meter', 'simulate', ...bad]);
    assert.equal(r.code, 2, bad.join(' '));
    assert.equal(errorOf(r).code, 'usage_error');
  }
});

test('parse --all: good telegrams on stdout, rejected ones counted on stderr, exit 1', async () => {
  const read = (n: string): string =>
    readFileSync(join(VECTORS, n), 'latin1').trimEnd().replace(/\r?\n/g, '\r\n') + '\r\n';
  const stream =
    'noise' +
    read('dsmr-4.2-kfm-1.txt') +
    read('dsmr-5.0-ene-1.txt') +
    read('dsmr-5.0-isk-1.txt').slice(0, 200) +
    read('dsmr-5.0-isk-1.txt');
  const file = join(dir, 'stream.txt');
  writeFileSync(file, stream, 'latin1');
  const r = await runCli(['meter', 'parse', '--all', file]);
  assert.equal(r.code, 1);
  const good = r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as TelegramOut);
  assert.deepEqual(
    good.map((t) => t.equipmentId),
    ['E0003000002124813', 'E0034006810516416'],
  );
  const errors = r.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l.startsWith('{"error"'))
    .map((l) => (JSON.parse(l) as { error: { code: string } }).error.code);
  assert.deepEqual(errors, ['telegram_bad_crc']);
  const summary = JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('{\n  "error"'))) as {
    error: { code: string; details: Record<string, unknown> };
  };
  assert.equal(summary.error.code, 'telegram_bad_crc');
  assert.deepEqual(summary.error.details, {
    telegrams: 3,
    parsed: 2,
    rejected: { telegram_bad_crc: 1 },
    droppedBytes: 205,
    droppedTelegrams: 1,
  });
});

test('simulate --realtime waits between telegrams', async () => {
  const started = Date.now();
  const r = await runCli(['meter', 'simulate', '--realtime', '--interval-s', '1', '--count', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/^\//gm)?.length, 2);
  assert.ok(Date.now() - started >= 900);
});
