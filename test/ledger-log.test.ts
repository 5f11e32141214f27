// The services' log: JSON lines with level names, the scheduler's time, a component per part,
// filtered by level; `--log-level` and HANZENET_LOG_LEVEL refuse an unknown level up front.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger, LOG_LEVELS, parseLogLevel, serviceLogger } from '../src/ledger/log.js';
import { runCli } from './support/cli-run.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const lines = (): Record<string, unknown>[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

const clock = { nowMs: () => Date.UTC(2026, 11, 7, 12, 0, 0) };

test('lines carry the level name, the scheduler time, the component and the fields', () => {
  const out = capture();
  const log = createLogger(clock, { component: 'node', destination: out.stream });
  log.info('caught up', { height: 7 });
  log.child('follower').warn('upstream lost', { reason: 'closed' });
  log.alarm('block 8 differs', { alarm: { height: 8 } });
  assert.deepEqual(out.lines(), [
    {
      level: 'info',
      time: '2026-12-07T12:00:00.000Z',
      component: 'node',
      height: 7,
      msg: 'caught up',
    },
    {
      level: 'warn',
      time: '2026-12-07T12:00:00.000Z',
      component: 'node.follower',
      reason: 'closed',
      msg: 'upstream lost',
    },
    {
      level: 'alarm',
      time: '2026-12-07T12:00:00.000Z',
      component: 'node',
      alarm: { height: 8 },
      msg: 'block 8 differs',
    },
  ]);
});

test('the level filters: below it nothing is written; alarm sits between error and fatal', () => {
  for (const [level, written] of [
    ['debug', ['debug', 'info', 'warn', 'error', 'alarm']],
    ['info', ['info', 'warn', 'error', 'alarm']],
    ['error', ['error', 'alarm']],
    ['alarm', ['alarm']],
    ['fatal', []],
    ['silent', []],
  ] as const) {
    const out = capture();
    const log = createLogger(clock, { level, destination: out.stream });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.alarm('a');
    assert.deepEqual(
      out.lines().map((l) => l['level']),
      written,
      `level ${level}`,
    );
  }
});

test('parseLogLevel takes every documented level, any case, and names them all when wrong', () => {
  for (const level of LOG_LEVELS) assert.equal(parseLogLevel(level.toUpperCase()), level);
  assert.throws(
    () => parseLogLevel('verbose'),
    (err: Error & { code?: string }) =>
      err.code === 'bad_request' && err.message.includes(LOG_LEVELS.join(', ')),
  );
});

test('HANZENET_LOG_LEVEL is used when no level is given, and a wrong one is refused', () => {
  const before = process.env['HANZENET_LOG_LEVEL'];
  try {
    process.env['HANZENET_LOG_LEVEL'] = 'nonsense';
    assert.throws(() => serviceLogger(clock, undefined, undefined), /not one of/);
    assert.equal(serviceLogger(clock, undefined, 'warn').pino?.level, 'warn');
    process.env['HANZENET_LOG_LEVEL'] = 'error';
    assert.equal(serviceLogger(clock, 'node', undefined).pino?.level, 'error');
  } finally {
    if (before === undefined) delete process.env['HANZENET_LOG_LEVEL'];
    else process.env['HANZENET_LOG_LEVEL'] = before;
  }
});

test('`processor start --log-level` refuses an unknown level before anything starts', async () => {
  for (const command of [
    ['processor', 'start'],
    ['node', 'start'],
  ]) {
    const r = await runCli([...command, '--log-level', 'loud', '--data-dir', '/nonexistent/x']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /log level \\"loud\\" is not one of trace, debug, info/);
  }
});
