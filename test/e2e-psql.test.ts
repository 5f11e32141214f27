// End-to-end: a real processor process started with --sql-port on the embedded database, read by
// the real psql. Every SQL query of docs/storage.md runs (taken from its ```sql blocks, so the
// docs and this test stay in step); writes, session changes and several statements at once are
// refused with the port's error and change nothing; the processor keeps producing blocks while
// psql reads; a mirror node serves its own database the same way; with DATABASE_URL, or on a taken
// port, the option ends the start before anything is created.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ChainInfo, ContractView, TxView } from '../src/chain/views.js';
import { PrivateKey } from '../src/core/keys.js';
import { runCli } from './support/cli-run.js';
import {
  getJson,
  postJson,
  type StartedNode,
  type StartedProcessor,
  startNodeProcess,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import { psql, psqlMissing, rowCount } from './support/psql.js';
import { traderRegistration } from './support/trader-tx.js';

const missing = psqlMissing();

/** The statements of the ```sql blocks of a Markdown file, each with its comment lines. */
function sqlOfDoc(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const blocks = [...text.matchAll(/^```sql\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? '');
  return blocks.flatMap((b) =>
    b
      .split(/;\s*$/m)
      .map((s) => s.trim())
      .filter((s) => s.replace(/^--.*$/gm, '').trim() !== ''),
  );
}

function sqlPortOf(p: { readonly sql?: string }): number {
  assert.ok(p.sql !== undefined, 'the startup line names the SQL port');
  const url = new URL(p.sql);
  assert.equal(url.hostname, '127.0.0.1');
  return Number(url.port);
}

async function registerTraders(p: StartedProcessor, count: number): Promise<TxView[]> {
  const contracts = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body;
  const trader = contracts.find((c) => c.type === 'Trader');
  assert.ok(trader !== undefined);
  const owner = PrivateKey.generate();
  const views: TxView[] = [];
  for (let i = 0; i < count; i++) {
    const tx = traderRegistration(owner, trader.hash, p.chainId);
    const res = await postJson<TxView>(`${p.url}/api/transactions`, {
      base64tx: Buffer.from(tx.bytes).toString('base64'),
      wait: true,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    views.push(res.body);
  }
  return views;
}

/** Resolves once `check` holds (polled every 100 ms, for at most 60 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('the condition did not hold within 60 s');
}

/** What the chain holds, as psql sees it: a change to any stored block or meta row changes it. */
const FINGERPRINT = `SELECT (SELECT count(*) FROM chain.blocks) AS blocks,
  (SELECT count(*) FROM chain.transactions) AS txs,
  (SELECT count(*) FROM chain.meta) AS meta,
  (SELECT md5(string_agg(encode(hash, 'hex'), ',' ORDER BY height)) FROM chain.blocks) AS hashes`;

/** Blocks whose stored transactions do not match their count: a half-seen commit would show here. */
const TORN_BLOCKS = `SELECT count(*) FROM chain.blocks b
  WHERE b.tx_count <> (SELECT count(*) FROM chain.transactions t WHERE t.block_height = b.height)`;

test('psql on a running processor: the docs queries, refusals, and blocks go on', {
  skip: missing ?? false,
}, async (t) => {
  const dir = await tempDir('psql');
  let p: StartedProcessor | null = null;
  try {
    p = await startProcessorProcess({ dataDir: dir.path, extraArgs: ['--sql-port', '0'] });
    const running = p;
    const port = sqlPortOf(running);
    await registerTraders(running, 2);

    await t.test('every SQL query of docs/storage.md runs and answers rows', async () => {
      const queries = sqlOfDoc('docs/storage.md');
      assert.ok(queries.length >= 5, `found ${queries.length} queries in docs/storage.md`);
      const counts: number[] = [];
      for (const sql of queries) {
        const r = await psql(port, sql);
        assert.equal(r.code, 0, `${sql}\n${r.stderr}`);
        const n = rowCount(r.stdout);
        assert.ok(n !== null, `${sql}\n${r.stdout}`);
        counts.push(n);
      }
      assert.ok(
        counts.some((n) => n > 0),
        `some query finds rows: ${counts.join(', ')}`,
      );
    });

    await t.test(
      'writes, session changes and several statements are refused; nothing changes',
      async () => {
        const info = async (): Promise<ChainInfo> =>
          (await getJson<ChainInfo>(`${running.url}/api/info`)).body;
        const headBefore = (await info()).head;
        const before = await psql(port, FINGERPRINT, '-At');
        assert.equal(before.code, 0, before.stderr);
        const refused: [string, string][] = [
          [`INSERT INTO chain.meta (key, value) VALUES ('x', 'y')`, '25006'],
          ['UPDATE chain.blocks SET tx_count = 0', '25006'],
          ['DELETE FROM chain.transactions', '25006'],
          ['CREATE TABLE state.x (a int)', '25006'],
          ['DROP TABLE chain.blocks', '25006'],
          ['SET search_path = state', '25006'],
          ['BEGIN', '25006'],
          ['COPY chain.meta FROM STDIN', '25006'],
          ['PREPARE p AS SELECT 1', '25006'],
          ['LISTEN blocks', '25006'],
          ['SELECT 1; DELETE FROM chain.blocks', '42601'],
          ['WITH d AS (DELETE FROM chain.meta RETURNING key) SELECT * FROM d', '25006'],
          ['SELECT * FROM chain.blocks FOR UPDATE', '25006'],
          ['SELECT pg_advisory_lock(1)', '42501'],
          [`COPY chain.meta TO '/tmp/meta.txt'`, '42501'],
        ];
        for (const [sql, code] of refused) {
          const r = await psql(port, sql);
          assert.equal(r.code, 1, `${sql} was refused`);
          assert.match(r.stderr, new RegExp(`ERROR: {2}${code}: `), `${sql}: ${r.stderr}`);
          assert.match(r.stderr, /embedded SQL port|read-only transaction/, `${sql}: ${r.stderr}`);
        }
        const after = await psql(port, FINGERPRINT, '-At');
        assert.equal(after.stdout, before.stdout, 'the chain is unchanged');
        assert.deepEqual((await info()).head, headBefore);
        // The session the processor shares holds nothing a client left behind.
        const session = await psql(
          port,
          `SELECT (SELECT count(*) FROM pg_prepared_statements) || ' ' ||
           (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory') || ' ' ||
           (SELECT count(*) FROM pg_listening_channels()) || ' ' || current_setting('search_path')`,
          '-At',
        );
        assert.equal(session.stdout.trim(), '0 0 0 public', session.stderr);
      },
    );

    await t.test('the processor keeps producing blocks while psql reads', async () => {
      const height = async (): Promise<number> =>
        (await getJson<ChainInfo>(`${running.url}/api/info`)).body.head?.height ?? -1;
      const headBefore = await height();
      let reading = true;
      const seen: number[] = [];
      const reader = (async () => {
        while (reading) {
          const r = await psql(
            port,
            [`SELECT count(*) FROM chain.transactions`, TORN_BLOCKS],
            '-At',
          );
          assert.equal(r.code, 0, r.stderr);
          const [txs, torn] = r.stdout.trim().split('\n').map(Number);
          assert.equal(torn, 0, 'no block is seen without its transactions');
          seen.push(txs ?? -1);
        }
      })();
      try {
        const views = await registerTraders(running, 8);
        assert.deepEqual(
          views.map((v) => v.status),
          Array(8).fill('accepted'),
        );
      } finally {
        reading = false;
        await reader;
      }
      const headAfter = await height();
      t.diagnostic(
        `${seen.length} psql runs while 8 transactions went into blocks ${headBefore + 1}..${headAfter}`,
      );
      assert.ok(headAfter > headBefore, `blocks were produced: ${headBefore} -> ${headAfter}`);
      assert.ok(seen.length >= 2, `psql read ${seen.length} times meanwhile`);
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
        'the transactions psql sees only grow',
      );
    });

    await t.test('a mirror node serves its own embedded database the same way', async () => {
      const nodeDir = await tempDir('psql-node');
      let node: StartedNode | null = null;
      try {
        node = await startNodeProcess({
          follow: running.url,
          dataDir: nodeDir.path,
          extraArgs: ['--sql-port', '0'],
        });
        const nodePort = sqlPortOf(node);
        const head = (await getJson<ChainInfo>(`${running.url}/api/info`)).body.head;
        assert.ok(head !== null);
        const url = node.url;
        await until(
          async () => (await getJson<ChainInfo>(`${url}/api/info`)).body.head?.hash === head.hash,
        );
        const r = await psql(
          nodePort,
          `SELECT encode(hash, 'hex') FROM chain.blocks ORDER BY height DESC LIMIT 1`,
          '-At',
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), head.hash);
        const refused = await psql(nodePort, 'DELETE FROM chain.blocks');
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /ERROR: {2}25006: the embedded SQL port is read-only/);
      } finally {
        if (node !== null) assert.equal(await stopProcess(node), 0, node.stderr());
        await nodeDir.remove();
      }
    });
  } finally {
    if (p !== null) assert.equal(await stopProcess(p), 0, p.stderr());
    await dir.remove();
  }
});

interface CliError {
  readonly code: string;
  readonly message: string;
}

/** The error the CLI printed last on stderr (pretty-printed JSON, after any log lines). */
function cliError(stderr: string): CliError {
  const start = stderr.lastIndexOf('{\n  "error"');
  assert.ok(start >= 0, stderr);
  return (JSON.parse(stderr.slice(start)) as { error: CliError }).error;
}

test('--sql-port with DATABASE_URL is a usage error (exit 2), for the processor and the node', async () => {
  const dir = await tempDir('psql-pg');
  try {
    const fresh = join(dir.path, 'data');
    const processor = await runCli(
      ['processor', 'start', '--port', '0', '--data-dir', fresh, '--sql-port', '0'],
      { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/any' } },
    );
    assert.equal(processor.code, 2, processor.stderr);
    const error = cliError(processor.stderr);
    assert.equal(error.code, 'usage_error');
    assert.match(error.message, /use psql on the PostgreSQL server directly/);
    assert.equal(existsSync(fresh), false, 'nothing was created');
    const node = await runCli(
      [
        'node',
        'start',
        '--port',
        '0',
        '--data-dir',
        fresh,
        '--database-url',
        'postgres://x@127.0.0.1/y',
      ],
      { env: { HANZENET_SQL_PORT: '5433' } },
    );
    assert.equal(node.code, 2, node.stderr);
    assert.equal(cliError(node.stderr).code, 'usage_error');
    assert.equal(existsSync(fresh), false, 'nothing was created');
    // The same from a config file: sqlPort is one of its keys.
    const file = join(dir.path, 'processor.json');
    writeFileSync(file, JSON.stringify({ sqlPort: 5434, databaseUrl: 'postgres://x@127.0.0.1/y' }));
    const fromFile = await runCli(['processor', 'start', '--data-dir', fresh, '--config', file]);
    assert.equal(fromFile.code, 2, fromFile.stderr);
    assert.match(cliError(fromFile.stderr).message, /use psql on the PostgreSQL server directly/);
    assert.equal(existsSync(fresh), false, 'nothing was created');
  } finally {
    await dir.remove();
  }
});

test('a taken SQL port, or the API port, ends the start before anything is created', async () => {
  const dir = await tempDir('psql-port');
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  try {
    const { port } = server.address() as AddressInfo;
    const fresh = join(dir.path, 'data');
    const run = await runCli([
      'processor',
      'start',
      '--port',
      '0',
      '--data-dir',
      fresh,
      '--sql-port',
      String(port),
    ]);
    assert.equal(run.code, 1, run.stderr);
    const error = cliError(run.stderr);
    assert.equal(error.code, 'port_unavailable');
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*--sql-port`));
    assert.equal(existsSync(fresh), false, 'nothing was created');
    const same = await runCli([
      'processor',
      'start',
      '--port',
      String(port),
      '--data-dir',
      fresh,
      '--sql-port',
      String(port),
    ]);
    assert.equal(same.code, 2, same.stderr);
    assert.equal(cliError(same.stderr).code, 'bad_request');
    assert.match(cliError(same.stderr).message, /is the API port/);
    assert.equal(existsSync(fresh), false, 'nothing was created');
  } finally {
    await new Promise<void>((res) => server.close(() => res()));
    await dir.remove();
  }
});
