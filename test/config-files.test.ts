// The one config-file mechanism (src/config/, docs/config.md): a bad file is one coded error
// naming the file, the key path and what was expected; an unknown key lists the valid keys at its
// level; the processor's file fills what flags and environment variables leave at the default.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_SCHEMAS, configSchemaJson } from '../src/cli/commands/config.js';
import * as service from '../src/cli/commands/service.js';
import { buildProgram } from '../src/cli/program.js';
import type { ProcessorStartOptions } from '../src/cli/processor-options.js';
import { configProblem, fieldOf } from '../src/config/check.js';
import { loadConfigFile, withFileValues } from '../src/config/file.js';
import { ChainError } from '../src/core/errors.js';
import { PrivateKey } from '../src/core/keys.js';
import { checkGatewayConfig } from '../src/meter/gateway/config.js';
import { GATEWAY_CONFIG_KIND } from '../src/meter/gateway/config-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'hz-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const CONTEXT = PrivateKey.generate().address;
const gateway = (meter: Record<string, unknown>) => ({
  api: 'http://127.0.0.1:8080',
  context: CONTEXT,
  stateDir: 'state',
  meters: [
    { equipmentId: 'E1', producerKeyFile: 'p1', consumerKeyFile: 'c1' },
    { equipmentId: 'E2', producerKeyFile: 'p2', consumerKeyFile: 'c2' },
    { equipmentId: 'E3', producerKeyFile: 'p3', consumerKeyFile: 'c3', ...meter },
  ],
});

function gatewayError(raw: unknown, file: string | null = null): ChainError {
  try {
    checkGatewayConfig(raw, '/etc/hanzenet', file);
  } catch (err) {
    assert.ok(err instanceof ChainError);
    assert.equal(err.code, 'gateway_config_invalid');
    return err;
  }
  assert.fail('the config was accepted');
}

test('key paths: a JSON pointer becomes the path a user writes', () => {
  assert.equal(fieldOf(''), '(file)');
  assert.equal(fieldOf('/meters/2/source/baud'), 'meters[2].source.baud');
  assert.equal(fieldOf('/a~1b/c~0d'), 'a/b.c~d');
});

test('gateway: a nested problem names its path inside meters and the source its type selects', () => {
  const baud = gatewayError(
    gateway({ source: { type: 'serial', device: '/dev/ttyUSB0', baud: 'fast' } }),
  );
  assert.equal(baud.details['field'], 'meters[2].source.baud');
  assert.equal(
    baud.message,
    'the gateway config: meters[2].source.baud: expected an integer from 300 to 4000000, got "fast"',
  );
  const port = gatewayError(gateway({ source: { type: 'tcp', host: 'ser2net' } }));
  assert.equal(port.details['field'], 'meters[2].source.port');
  assert.match(port.message, /expected an integer from 1 to 65535, got nothing$/);
  const type = gatewayError(gateway({ source: { type: 'pigeon' } }));
  assert.equal(type.details['field'], 'meters[2].source.type');
  assert.match(type.message, /expected "file", "stdin", "tcp", "serial" or "mqtt", got "pigeon"/);
  const parity = gatewayError(
    gateway({ source: { type: 'serial', device: '/dev/ttyUSB0', parity: 'mark' } }),
  );
  assert.match(parity.message, /meters\[2\]\.source\.parity: expected "none", "even" or "odd"/);
});

test('gateway: an unknown key lists the valid keys at its level, and the file is named', () => {
  const file = '/etc/hanzenet/gateway.json';
  const top = gatewayError({ ...gateway({}), colour: 'red' }, file);
  assert.equal(top.details['field'], 'colour');
  assert.equal(top.details['file'], file);
  assert.match(top.message, /^the gateway config file \/etc\/hanzenet\/gateway\.json: colour: /);
  assert.match(top.message, /valid keys here: api, chainId, context, stateDir, statusFile, /);
  const inSource = gatewayError(gateway({ source: { type: 'tcp', host: 'h', port: 1, baud: 9 } }));
  assert.equal(inSource.details['field'], 'meters[2].source.baud');
  assert.match(inSource.message, /unknown key \(valid keys here: type, host, port\)$/);
  const inMeter = gatewayError(gateway({ colour: 'red' }));
  assert.equal(inMeter.details['field'], 'meters[2].colour');
  assert.match(inMeter.message, /valid keys here: equipmentId, gridId, producerKeyFile, /);
});

test('processor: unknown keys and wrong types are usage errors naming file and key', () => {
  const kind = { name: 'processor', code: 'usage_error' } as const;
  const cases: [unknown, string, RegExp][] = [
    [{ prot: 8080 }, 'prot', /unknown key \(valid keys here: port, host, dataDir, databaseUrl, /],
    [{ port: 70_000 }, 'port', /expected an integer from 0 to 65535, got 70000/],
    [{ blockIntervalMs: 0 }, 'blockIntervalMs', /expected an integer of at least 1, got 0/],
    [{ energy: 'no' }, 'energy', /expected true or false, got "no"/],
    [{ dataDir: '' }, 'dataDir', /expected a non-empty string, got ""/],
    [{ logRequests: 1 }, 'logRequests', /expected true or false, got 1/],
    ['null', '(file)', /expected an object with keys port, /],
  ];
  for (const [content, field, message] of cases) {
    const path = configFile('processor-bad.json', content);
    assert.throws(
      () => loadConfigFile(CONFIG_SCHEMAS.processor, kind, path),
      (err: unknown) => {
        assert.ok(err instanceof ChainError);
        assert.equal(err.code, 'usage_error');
        assert.deepEqual(err.details, { field, file: path });
        assert.ok(err.message.startsWith(`the processor config file ${path}: ${field}: `));
        assert.match(err.message, message);
        return true;
      },
    );
  }
});

test('a problem is the first one found; a valid value has none', () => {
  assert.equal(configProblem(CONFIG_SCHEMAS.node, { port: 1, follow: 'http://x' }), null);
  assert.deepEqual(configProblem(CONFIG_SCHEMAS.node, { exitOnAlarm: null }), {
    field: 'exitOnAlarm',
    message: 'expected true or false, got null',
  });
  const long = configProblem(CONFIG_SCHEMAS.node, { port: 'x'.repeat(500) });
  assert.match(long?.message ?? '', /^expected an integer from 0 to 65535, got "x{79}\.\.\.$/);
  assert.throws(
    () => loadConfigFile(CONFIG_SCHEMAS.gateway, GATEWAY_CONFIG_KIND, join(dir, 'none.json')),
    (err: unknown) =>
      err instanceof ChainError &&
      err.code === 'gateway_config_invalid' &&
      err.details['field'] === '(file)' &&
      /cannot be read: ENOENT/.test(err.message),
  );
});

test('withFileValues: flag > environment > file > default', () => {
  const sources: Record<string, string | undefined> = {
    a: 'cli',
    b: 'env',
    c: 'default',
    d: undefined,
  };
  const merged = withFileValues(
    { a: 1, b: 2, c: 3 },
    { a: 10, b: 20, c: 30, d: 40 },
    (key) => sources[key],
  );
  assert.deepEqual(merged, { a: 1, b: 2, c: 30, d: 40 });
});

const PROCESSOR_ENV = [
  'HANZENET_PORT',
  'HANZENET_DATA_DIR',
  'HANZENET_BLOCK_INTERVAL_MS',
  'HANZENET_BLOCK_TXS_MAX',
  'HANZENET_DATABASE_WAIT_MS',
  'HANZENET_LOG_LEVEL',
  'HANZENET_PROCESSOR_CONFIG',
  'HANZENET_MIRRORS',
  'DATABASE_URL',
];

async function parseProcessor(
  args: string[],
  env: Record<string, string> = {},
): Promise<ProcessorStartOptions> {
  const saved = { ...process.env };
  for (const name of PROCESSOR_ENV) delete process.env[name];
  Object.assign(process.env, env);
  try {
    const program = buildProgram([service]);
    let captured: ProcessorStartOptions | null = null;
    const start = program.commands
      .find((c) => c.name() === 'processor')
      ?.commands.find((c) => c.name() === 'start') as Command;
    start.action((opts: Parameters<typeof service.processorStartOptionsOf>[0], cmd: Command) => {
      captured = service.processorStartOptionsOf(opts, cmd);
    });
    await program.parseAsync(['node', 'hanzenet', 'processor', 'start', ...args]);
    assert.ok(captured !== null);
    return captured;
  } finally {
    process.env = saved;
  }
}

test('processor start: every option is a key of its config file; paths from the file folder', async () => {
  const config = configFile('processor.json', {
    port: 9300,
    host: '0.0.0.0',
    dataDir: 'chain',
    databaseUrl: 'postgres://db/ledger',
    databaseWaitMs: 1234,
    blockIntervalMs: 250,
    blockTxsMax: 300,
    chainId: 'from-file',
    keyFile: 'keys/processor.key',
    energy: false,
    settlementAgent: false,
    logLevel: 'warn',
    logRequests: true,
    dashboard: false,
  });
  assert.deepEqual(await parseProcessor(['--config', config]), {
    port: 9300,
    host: '0.0.0.0',
    dataDir: join(dir, 'chain'),
    databaseUrl: 'postgres://db/ledger',
    databaseWaitMs: 1234,
    blockIntervalMs: 250,
    blockTxsMax: 300,
    chainId: 'from-file',
    keyFile: join(dir, 'keys/processor.key'),
    energy: false,
    settlementAgent: false,
    logLevel: 'warn',
    logRequests: true,
    dashboard: false,
  });
  const onlyDir = configFile('processor-dir.json', { dataDir: '/srv/hz' });
  const o = await parseProcessor([], { HANZENET_PROCESSOR_CONFIG: onlyDir });
  assert.equal(o.dataDir, '/srv/hz', 'HANZENET_PROCESSOR_CONFIG names the file too');
  assert.equal(o.keyFile, '/srv/hz/processor.key', 'the key file follows the data dir');
  assert.equal(o.port, 8080, 'the default where the file says nothing');
});

test('processor start: a flag wins over the environment, which wins over the file', async () => {
  const config = configFile('processor-p.json', {
    port: 9300,
    blockIntervalMs: 250,
    databaseWaitMs: 1234,
    logLevel: 'warn',
    energy: false,
    logRequests: true,
  });
  const o = await parseProcessor(['--config', config, '--port', '9400', '--energy'], {
    HANZENET_BLOCK_INTERVAL_MS: '750',
    HANZENET_DATABASE_WAIT_MS: '99',
    HANZENET_PORT: '9500',
  });
  assert.equal(o.port, 9400, 'the flag wins over the environment and the file');
  assert.equal(o.blockIntervalMs, 750, 'the environment wins over the file');
  assert.equal(o.databaseWaitMs, 99, 'the environment wins over the file');
  assert.equal(o.logLevel, 'warn', 'the file wins over the default');
  assert.equal(o.logRequests, true, 'the file wins over the default');
  assert.equal(o.energy, true, '--energy wins over the file');
  const quiet = await parseProcessor(['--config', config, '--no-log-requests']);
  assert.equal(quiet.logRequests, undefined, '--no-log-requests wins over the file');
  assert.equal(quiet.energy, false, 'the file wins over the default');
  assert.equal(o.dataDir, resolve('./data'), 'the default where the file says nothing');
});

test('processor start: the mirror nodes from --mirrors, HANZENET_MIRRORS or the file', async () => {
  const config = configFile('processor-mirrors.json', {
    mirrors: ['http://n1.example:8081', 'https://n2.example'],
  });
  const fromFile = await parseProcessor(['--config', config]);
  assert.deepEqual(fromFile.mirrors, ['http://n1.example:8081', 'https://n2.example']);
  const fromEnv = await parseProcessor(['--config', config], {
    HANZENET_MIRRORS: 'http://a:1, http://b:2',
  });
  assert.deepEqual(fromEnv.mirrors, ['http://a:1', 'http://b:2'], 'the environment wins');
  const fromFlag = await parseProcessor(['--mirrors', 'http://c:3'], {
    HANZENET_MIRRORS: 'http://a:1',
  });
  assert.deepEqual(fromFlag.mirrors, ['http://c:3'], 'the flag wins');
  assert.equal((await parseProcessor([])).mirrors, undefined, 'none by default');
  const bad = configFile('processor-mirrors-bad.json', { mirrors: ['n1:8081'] });
  await assert.rejects(parseProcessor(['--config', bad]), /mirrors\[0\]/);
});

test('config schema: each published schema is plain JSON Schema with its defaults', () => {
  const schema = configSchemaJson('processor') as {
    $schema: string;
    additionalProperties: boolean;
    properties: Record<string, { default?: unknown }>;
  };
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(schema.additionalProperties, false);
  assert.equal(schema.properties['port']?.default, 8080);
  assert.equal(schema.properties['blockTxsMax']?.default, 2000);
  const node = configSchemaJson('node') as { properties: Record<string, unknown> };
  assert.ok('databaseWaitMs' in node.properties && 'logLevel' in node.properties);
  const text = JSON.stringify(configSchemaJson('gateway'));
  assert.ok(text.includes('"meters"') && text.includes('"mqtt"'));
});

test('every option of processor start and node start is a key of its config file, and only those', () => {
  const program = buildProgram([service]);
  const optionsOf = (group: string): string[] => {
    const start = program.commands
      .find((c) => c.name() === group)
      ?.commands.find((c) => c.name() === 'start') as Command;
    const names = start.options.map((o) => o.attributeName()).filter((n) => n !== 'config');
    return [...new Set(names)].sort();
  };
  const keysOf = (schema: { properties: object }): string[] =>
    Object.keys(schema.properties).sort();
  assert.deepEqual(optionsOf('processor'), keysOf(CONFIG_SCHEMAS.processor));
  assert.deepEqual(optionsOf('node'), keysOf(CONFIG_SCHEMAS.node));
});
