// Running it as an operator would, with real processes. One writer per chain: a second processor
// (or a node) on the same data directory is refused with `data_dir_locked`, a second processor on
// the same PostgreSQL database with `database_locked`, each naming the holder; after kill -9 of the
// holder a restart takes over; a processor whose database lock session is ended stops with
// `database_lock_lost`. Start-up checks: a taken port, an insecure key file, a database that is
// missing or unreachable each end the start with their own code, and the start leaves nothing
// behind (no key, no pgdata, no lock).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { traderRegistration } from './support/trader-tx.js';
import type { Tx } from '../src/chain/types.js';
import type { ChainInfo, ContractView, TxView } from '../src/chain/views.js';
import { PrivateKey } from '../src/core/keys.js';
import { LOCK_FILE_NAME, parseHolder } from '../src/store/data-dir-lock.js';
import { LOCK_CLASS_ID, LOCK_WRITER_ID } from '../src/store/database-lock.js';
import { createKeyFile } from '../src/store/key-file.js';
import {
  CLI,
  e2eBackends,
  getJson,
  postJson,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';

interface Finished {
  readonly code: number | string;
  readonly error: { code: string; message: string; details: Record<string, unknown> } | null;
  readonly stderr: string;
}

/** Runs `hanzenet ARGS` to its end (a start that is expected to fail). */
async function runToEnd(args: readonly string[]): Promise<Finished> {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'HANZENET_PORT', 'HANZENET_DATA_DIR', 'HANZENET_FOLLOW'])
    delete env[name];
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  proc.stdout.resume();
  const code = await new Promise<number | string>((res) =>
    proc.on('exit', (c, signal) => res(c ?? signal ?? -1)),
  );
  const start = stderr.lastIndexOf('{\n  "error"');
  const error =
    start < 0 ? null : (JSON.parse(stderr.slice(start)) as { error: Finished['error'] }).error;
  return { code, error, stderr };
}

function lockHolderPid(dataDir: string): number | undefined {
  return parseHolder(readFileSync(join(dataDir, LOCK_FILE_NAME), 'utf8'))?.pid;
}

test('[pglite] one process per data directory; after kill -9 the restart takes over', async () => {
  const dir = await tempDir('ops-lock');
  try {
    const first = await startProcessorProcess({ dataDir: dir.path });
    const firstPid = first.proc.pid;
    assert.equal(lockHolderPid(dir.path), firstPid);

    const second = await runToEnd(['processor', 'start', '--port', '0', '--data-dir', dir.path]);
    assert.equal(second.code, 1, second.stderr);
    assert.equal(second.error?.code, 'data_dir_locked');
    assert.equal(second.error?.details['pid'], firstPid);
    assert.equal(second.error?.details['role'], 'processor');
    assert.match(second.error?.message ?? '', new RegExp(`pid ${firstPid}`));

    const node = await runToEnd([
      'node',
      'start',
      '--port',
      '0',
      '--follow',
      first.url,
      '--data-dir',
      dir.path,
    ]);
    assert.equal(node.code, 1, node.stderr);
    assert.equal(node.error?.code, 'data_dir_locked');
    assert.equal(node.error?.details['pid'], firstPid);

    const before = (await getJson<ChainInfo>(`${first.url}/api/info`)).body;
    assert.equal(await stopProcess(first, 'SIGKILL'), 'SIGKILL');
    // kill -9 leaves the lock file behind, naming a pid that no longer runs.
    assert.equal(lockHolderPid(dir.path), firstPid);

    const restarted = await startProcessorProcess({ dataDir: dir.path });
    try {
      assert.equal(lockHolderPid(dir.path), restarted.proc.pid);
      assert.match(restarted.stderr(), /took over the lock of a process that no longer runs/);
      const after = (await getJson<ChainInfo>(`${restarted.url}/api/info`)).body;
      assert.equal(after.chainId, before.chainId);
      assert.ok((after.head?.height ?? -1) >= (before.head?.height ?? 0));
    } finally {
      assert.equal(await stopProcess(restarted), 0);
    }
    assert.equal(
      existsSync(join(dir.path, LOCK_FILE_NAME)),
      false,
      'a clean stop removes the lock',
    );
  } finally {
    await dir.remove();
  }
});

const postgres = e2eBackends().find((b) => b.name === 'postgres');

test('[postgres] one writer per database: refused naming the holder, taken over after kill -9; a lost lock pauses the processor until it is taken again, or stops it when another took it', {
  skip: postgres === undefined && 'DATABASE_URL is not set: the PostgreSQL lock is not tested',
}, async () => {
  assert.ok(postgres !== undefined);
  const db = await postgres.databaseUrl();
  const dirA = await tempDir('ops-pg-a');
  const dirB = await tempDir('ops-pg-b');
  try {
    const url = db.url;
    assert.ok(url !== undefined);
    const first = await startProcessorProcess({ dataDir: dirA.path, databaseUrl: url });
    const otherDir = join(dirB.path, 'data');
    const second = await runToEnd([
      'processor',
      'start',
      '--port',
      '0',
      '--data-dir',
      otherDir,
      '--database-url',
      url,
    ]);
    assert.equal(second.code, 1, second.stderr);
    assert.equal(second.error?.code, 'database_locked');
    assert.match(
      String(second.error?.details['applicationName']),
      new RegExp(`pid=${first.proc.pid} `),
    );
    assert.equal(typeof second.error?.details['backendPid'], 'number');
    assert.equal(existsSync(otherDir), false, 'the refused start left no data directory');

    assert.equal(await stopProcess(first, 'SIGKILL'), 'SIGKILL');
    const restarted = await startProcessorProcess({ dataDir: dirA.path, databaseUrl: url });
    assert.equal(restarted.chainId, first.chainId);

    const lockSession = `hanzenet processor pid=${restarted.proc.pid} host=${hostname()}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // Ending the session that holds the lock (as a lost connection would): the processor stops
      // producing blocks, takes the lock again on a new session and produces again.
      const ended = await admin.query<{ ended: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1',
        [lockSession],
      );
      assert.deepEqual(
        ended.rows.map((r) => r.ended),
        [true],
      );
      await untilLogged(restarted.stderr, /holding the database lock again; producing blocks/);
      assert.ok(
        restarted
          .stderr()
          .split('\n')
          .some(
            (l) =>
              l.includes('"msg":"stopped producing blocks"') && l.includes('database_lock_lost'),
          ),
        'the processor logged that it stopped producing blocks',
      );
      const tx = await traderTx(restarted.url, restarted.chainId);
      const after = await postJson<TxView>(`${restarted.url}/api/transactions`, {
        base64tx: Buffer.from(tx.bytes).toString('base64'),
        wait: true,
      });
      assert.equal(after.body.status, 'accepted', JSON.stringify(after.body));

      // Ending it while another session waits for the lock: that one gets it, and the processor,
      // finding the lock taken, stops.
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [lockSession],
      );
      await admin.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS_ID, LOCK_WRITER_ID]);
      assert.equal(await restarted.exited, 1, restarted.stderr());
      assert.match(restarted.stderr(), /"code": "database_lock_lost"/);
      assert.match(restarted.stderr(), /another process took it/);
    } finally {
      await admin.end();
    }
    assert.equal(existsSync(join(dirA.path, LOCK_FILE_NAME)), false);
  } finally {
    await dirA.remove();
    await dirB.remove();
    await db.drop();
  }
});

// ---- Start-up checks ---------------------------------------------------------------------------

/** A TCP port that something listens on for the duration of `fn`. */
async function withTakenPort(fn: (port: number) => Promise<void>): Promise<void> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    await new Promise<void>((res) => server.close(() => res()));
  }
}

/** A TCP port nothing listens on (bound, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

test('a taken port ends the start before anything is created, naming the port', async () => {
  const dir = await tempDir('ops-port');
  try {
    await withTakenPort(async (port) => {
      const fresh = join(dir.path, 'fresh');
      const processor = await runToEnd([
        'processor',
        'start',
        '--port',
        String(port),
        '--data-dir',
        fresh,
      ]);
      assert.equal(processor.code, 1, processor.stderr);
      assert.equal(processor.error?.code, 'port_unavailable');
      assert.equal(processor.error?.details['port'], port);
      assert.match(processor.error?.message ?? '', new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.equal(
        existsSync(fresh),
        false,
        'the data directory it would have created is not there',
      );
      // An existing data directory keeps what it had: nothing.
      const existing = join(dir.path, 'existing');
      await mkdir(existing);
      const again = await runToEnd([
        'processor',
        'start',
        '--port',
        String(port),
        '--data-dir',
        existing,
      ]);
      assert.equal(again.error?.code, 'port_unavailable');
      assert.deepEqual(await readdir(existing), []);
      const node = await runToEnd([
        'node',
        'start',
        '--port',
        String(port),
        '--data-dir',
        existing,
      ]);
      assert.equal(node.code, 1, node.stderr);
      assert.equal(node.error?.code, 'port_unavailable');
      assert.deepEqual(await readdir(existing), []);
    });
  } finally {
    await dir.remove();
  }
});

test('a key file readable by others is refused before the database is created', async () => {
  const dir = await tempDir('ops-key');
  try {
    const keyFile = join(dir.path, 'processor.key');
    await createKeyFile(keyFile);
    await chmod(keyFile, 0o644);
    const run = await runToEnd(['processor', 'start', '--port', '0', '--data-dir', dir.path]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.error?.code, 'key_file_insecure');
    assert.deepEqual(await readdir(dir.path), ['processor.key']);
  } finally {
    await dir.remove();
  }
});

test('an unreachable database is retried up to --database-wait-ms, then database_unreachable', async () => {
  const dir = await tempDir('ops-unreachable');
  try {
    const port = await closedPort();
    const data = join(dir.path, 'data');
    const startedMs = Date.now();
    const run = await runToEnd([
      'processor',
      'start',
      '--port',
      '0',
      '--data-dir',
      data,
      '--database-url',
      `postgres://hanzenet@127.0.0.1:${port}/chain`,
      '--database-wait-ms',
      '1500',
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.error?.code, 'database_unreachable');
    assert.ok(Date.now() - startedMs >= 1500, 'it waited for the server');
    assert.match(run.stderr, /the database is unreachable; trying again/);
    assert.equal(existsSync(data), false, 'no key, no data directory');
  } finally {
    await dir.remove();
  }
});

test('a database that does not exist is database_missing at once', {
  skip:
    postgres === undefined &&
    'DATABASE_URL is not set: a missing PostgreSQL database is not tested',
}, async () => {
  const dir = await tempDir('ops-missing');
  try {
    const url = new URL(process.env['DATABASE_URL'] ?? '');
    url.pathname = `/hz_missing_${process.pid}`;
    const data = join(dir.path, 'data');
    const run = await runToEnd([
      'processor',
      'start',
      '--port',
      '0',
      '--data-dir',
      data,
      '--database-url',
      url.toString(),
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.error?.code, 'database_missing');
    assert.equal(run.error?.details['database'], `hz_missing_${process.pid}`);
    assert.equal(existsSync(data), false);
  } finally {
    await dir.remove();
  }
});

async function untilLogged(stderr: () => string, line: RegExp): Promise<void> {
  for (let waitedMs = 0; !line.test(stderr()); waitedMs += 100) {
    assert.ok(waitedMs < 30_000, `no log line ${line} within 30 s:\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A signed Trader transaction for a new member (the energy contracts are on every new chain). */
async function traderTx(url: string, chainId: string): Promise<Tx> {
  const contracts = (await getJson<ContractView[]>(`${url}/api/contracts`)).body;
  const trader = contracts.find((c) => c.type === 'Trader');
  assert.ok(trader !== undefined);
  return traderRegistration(PrivateKey.generate(), trader.hash, chainId);
}
