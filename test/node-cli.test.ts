// `hanzenet node start` options: flags, environment variables, the JSON config file and defaults,
// in that order of precedence; a bad config file is a usage error naming the key.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/program.js';
import * as service from '../src/cli/commands/service.js';
import type { NodeStartOptions } from '../src/cli/processor-options.js';
import { ChainError } from '../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'hz-node-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ENV_NAMES = [
  'HANZENET_FOLLOW',
  'HANZENET_PORT',
  'HANZENET_DATA_DIR',
  'DATABASE_URL',
  'HANZENET_PROCESSOR_ADDRESS',
  'HANZENET_NODE_CONFIG',
  'HANZENET_DATABASE_WAIT_MS',
  'HANZENET_LOG_LEVEL',
];
const ADDRESS = '15wzzreNkWpqBvtTBdhzSEbJCujrB9PRaU';

async function parse(args: string[], env: Record<string, string> = {}): Promise<NodeStartOptions> {
  const saved = { ...process.env };
  for (const name of ENV_NAMES) delete process.env[name];
  Object.assign(process.env, env);
  try {
    const program = buildProgram([service]);
    program.exitOverride();
    let captured: NodeStartOptions | null = null;
    const start = program.commands
      .find((c) => c.name() === 'node')
      ?.commands.find((c) => c.name() === 'start') as Command;
    start.exitOverride();
    start.action((opts: Parameters<typeof service.nodeStartOptionsOf>[0], cmd: Command) => {
      captured = service.nodeStartOptionsOf(opts, cmd);
    });
    await program.parseAsync(['node', 'hanzenet', 'node', 'start', ...args]);
    assert.ok(captured !== null);
    return captured;
  } finally {
    process.env = saved;
  }
}

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

test('defaults', async () => {
  assert.deepEqual(await parse([]), {
    follow: 'http://127.0.0.1:8080',
    port: 8081,
    host: '127.0.0.1',
    dataDir: resolve('./data-node'),
  });
});

test('flags and environment variables; a flag wins over the environment', async () => {
  const env = {
    HANZENET_FOLLOW: 'http://p:8080',
    HANZENET_PORT: '9001',
    HANZENET_DATA_DIR: '/tmp/n',
    DATABASE_URL: 'postgres://x/y',
    HANZENET_PROCESSOR_ADDRESS: ADDRESS,
  };
  assert.deepEqual(await parse([], env), {
    follow: 'http://p:8080',
    port: 9001,
    host: '127.0.0.1',
    dataDir: '/tmp/n',
    databaseUrl: 'postgres://x/y',
    processorAddress: ADDRESS,
  });
  const flagged = await parse(
    ['--follow', 'http://q:1', '--port', '7000', '--exit-on-alarm', '--host', '0.0.0.0'],
    env,
  );
  assert.equal(flagged.follow, 'http://q:1');
  assert.equal(flagged.port, 7000);
  assert.equal(flagged.host, '0.0.0.0');
  assert.equal(flagged.exitOnAlarm, true);
});

test('a config file fills what flags and environment variables leave at the default', async () => {
  const config = configFile('node.json', {
    follow: 'http://from-file:8080',
    port: 9100,
    dataDir: 'node-data',
    processorAddress: ADDRESS,
    exitOnAlarm: true,
    host: '::',
  });
  assert.deepEqual(await parse(['--config', config]), {
    follow: 'http://from-file:8080',
    port: 9100,
    host: '::',
    dataDir: join(dir, 'node-data'),
    processorAddress: ADDRESS,
    exitOnAlarm: true,
  });
  const overridden = await parse(['--config', config, '--port', '9200'], {
    HANZENET_FOLLOW: 'http://from-env:8080',
  });
  assert.equal(overridden.port, 9200, 'the flag wins');
  assert.equal(overridden.follow, 'http://from-env:8080', 'the environment wins');
  assert.equal(
    (await parse([], { HANZENET_NODE_CONFIG: config })).port,
    9100,
    'HANZENET_NODE_CONFIG names the file too',
  );
});

test('a bad config file is a usage error naming the file, the key and what was expected', async () => {
  const cases: [unknown, string, RegExp][] = [
    [
      { folow: 'http://x' },
      'folow',
      /unknown key \(valid keys here: follow, port, host, dataDir, /,
    ],
    [{ port: '8081' }, 'port', /port: expected an integer from 0 to 65535, got "8081"/],
    [{ exitOnAlarm: 'yes' }, 'exitOnAlarm', /exitOnAlarm: expected true or false, got "yes"/],
    [{ databaseWaitMs: -1 }, 'databaseWaitMs', /expected an integer of at least 0, got -1/],
    [{ logLevel: 'loud' }, 'logLevel', /expected "trace", "debug", .* or "silent", got "loud"/],
    [[1, 2], '(file)', /expected an object with keys follow, /],
    ['{not json', '(file)', /is not JSON/],
  ];
  for (const [content, field, message] of cases) {
    const path = configFile('bad.json', content);
    await assert.rejects(parse(['--config', path]), (err: unknown) => {
      assert.ok(err instanceof ChainError);
      assert.equal(err.code, 'usage_error');
      assert.equal(err.details['field'], field);
      assert.equal(err.details['file'], path);
      assert.match(err.message, new RegExp(`^the node config file ${path}: `));
      assert.match(err.message, message);
      return true;
    });
  }
  await assert.rejects(
    parse(['--config', join(dir, 'missing.json')]),
    (err: unknown) =>
      err instanceof ChainError && err.code === 'usage_error' && /ENOENT/.test(err.message),
  );
});

test('the node config file also sets the database wait and the log settings', async () => {
  const config = configFile('node-log.json', {
    databaseWaitMs: 1500,
    logLevel: 'warn',
    logRequests: true,
  });
  const options = await parse(['--config', config]);
  assert.equal(options.databaseWaitMs, 1500);
  assert.equal(options.logLevel, 'warn');
  assert.equal(options.logRequests, true);
  const flagged = await parse([
    '--config',
    config,
    '--database-wait-ms',
    '10',
    '--log-level',
    'error',
  ]);
  assert.equal(flagged.databaseWaitMs, 10, 'the flag wins');
  assert.equal(flagged.logLevel, 'error', 'the flag wins');
  const fromEnv = await parse(['--config', config], {
    HANZENET_DATABASE_WAIT_MS: '20',
    HANZENET_LOG_LEVEL: 'debug',
  });
  assert.equal(fromEnv.databaseWaitMs, 20, 'the environment wins');
  assert.equal(fromEnv.logLevel, 'debug', 'the environment wins');
});
