// A real `hanzenet processor start --config FILE`: the port, the data directory (relative to the
// file's folder) and the chain id come from the file; a bad file ends the start with the coded
// error (exit 2) before anything is created. `hanzenet config schema` prints the schemas.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ChainInfo } from '../src/chain/views.js';
import {
  CLI,
  PROCESSOR_ENV,
  getJson,
  startProcessorCommand,
  stopProcess,
  tempDir,
} from './support/processes.js';
import { errorOf, runCli } from './support/cli-run.js';

/** A port free at this moment (the processor binds it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

test('processor start --config: port, data dir and chain id from the file', async () => {
  const dir = await tempDir('config-e2e');
  try {
    const port = await freePort();
    const config = join(dir.path, 'processor.json');
    writeFileSync(
      config,
      JSON.stringify({
        port,
        dataDir: 'chain-data',
        chainId: 'hanzenet-config-test',
        blockIntervalMs: 150,
        energy: false,
        logLevel: 'warn',
      }),
    );
    const p = await startProcessorCommand(['--config', config]);
    try {
      assert.equal(p.url, `http://127.0.0.1:${port}`);
      assert.equal(p.chainId, 'hanzenet-config-test');
      assert.ok(existsSync(join(dir.path, 'chain-data', 'processor.key')));
      assert.ok(existsSync(join(dir.path, 'chain-data', 'pgdata')));
      const info = await getJson<ChainInfo>(`${p.url}/api/info`);
      assert.equal(info.status, 200);
      assert.equal(info.body.chainId, 'hanzenet-config-test');
    } finally {
      assert.equal(await stopProcess(p), 0);
    }
  } finally {
    await dir.remove();
  }
});

test('processor start --config: a bad file exits 2 with usage_error and creates nothing', async () => {
  const dir = await tempDir('config-e2e-bad');
  try {
    const config = join(dir.path, 'processor.json');
    writeFileSync(config, JSON.stringify({ dataDir: 'chain-data', blockIntervalMs: 'fast' }));
    const env = { ...process.env };
    for (const name of PROCESSOR_ENV) delete env[name];
    env['HANZENET_PROCESSOR_CONFIG'] = config;
    const proc = spawn(process.execPath, [CLI, 'processor', 'start'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.stdout.resume();
    const code = await new Promise<number | string>((res) =>
      proc.on('exit', (c, signal) => res(c ?? signal ?? -1)),
    );
    assert.equal(code, 2, stderr);
    const { error } = JSON.parse(stderr) as {
      error: { code: string; message: string; details: Record<string, unknown> };
    };
    assert.equal(error.code, 'usage_error');
    assert.deepEqual(error.details, { field: 'blockIntervalMs', file: config });
    assert.equal(
      error.message,
      `the processor config file ${config}: blockIntervalMs: expected an integer of at least 1, got "fast"`,
    );
    assert.deepEqual(readdirSync(dir.path), ['processor.json'], 'no data dir was created');
  } finally {
    await dir.remove();
  }
});

test('hanzenet config schema prints each schema as JSON; an unknown service is a usage error', async () => {
  for (const service of ['processor', 'node', 'gateway']) {
    const r = await runCli(['config', 'schema', service]);
    assert.equal(r.code, 0, r.stderr);
    const schema = JSON.parse(r.stdout) as { type: string; additionalProperties: boolean };
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false);
  }
  const bad = await runCli(['config', 'schema', 'pigeon']);
  assert.equal(bad.code, 2);
  assert.equal(errorOf(bad).code, 'usage_error');
});
