// When the PostgreSQL server goes away, the API answers "try again" (`retry`), nothing is half
// written, and the processor carries on once the server is back. The outage is made with a TCP
// proxy between the processor and the server, so the shared server itself is never touched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { connect } from 'node:net';
import { PrivateKey } from '../src/core/keys.js';
import { traderRegistration } from './support/trader-tx.js';
import type { ContractView, TxView } from '../src/chain/views.js';
import {
  e2eBackends,
  getJson,
  postJson,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';

class ToggleProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((res) => server.listen(this.port, '127.0.0.1', () => res()));
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((res) => server.close(() => res()));
  }
}

const postgres = e2eBackends().find((b) => b.name === 'postgres');

test('a database outage answers retry, writes nothing half, and the processor recovers', {
  skip: postgres ? false : 'DATABASE_URL is not set',
}, async () => {
  assert.ok(postgres);
  const db = await postgres.databaseUrl();
  const dir = await tempDir('dbdown');
  const target = new URL(db.url ?? '');
  const proxy = new ToggleProxy(target.hostname, Number(target.port || 5432));
  await proxy.up();
  const viaProxy = new URL(target.toString());
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const p = await startProcessorProcess({
    dataDir: dir.path,
    databaseUrl: viaProxy.toString(),
    blockIntervalMs: 100,
  });
  try {
    const trader = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body.find(
      (c) => c.type === 'Trader',
    );
    assert.ok(trader);
    const owner = PrivateKey.generate();
    const make = () => traderRegistration(owner, trader.hash, p.chainId);
    const first = await postJson<TxView>(`${p.url}/api/transactions`, {
      base64tx: Buffer.from(make().bytes).toString('base64'),
      wait: true,
    });
    assert.equal(first.body.status, 'accepted');

    await proxy.down();
    const during = make();
    const refused = await postJson<{ error: { code: string } }>(`${p.url}/api/transactions`, {
      base64tx: Buffer.from(during.bytes).toString('base64'),
    });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'retry');

    await proxy.up();
    let after: { status: number; body: TxView } | null = null;
    for (let attempt = 0; attempt < 50; attempt++) {
      after = await postJson<TxView>(`${p.url}/api/transactions`, {
        base64tx: Buffer.from(during.bytes).toString('base64'),
        wait: true,
      });
      if (after.status !== 503) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(after?.body.status, 'accepted', JSON.stringify(after?.body));
    assert.equal(p.proc.exitCode, null, 'the processor survived the outage');
  } finally {
    await stopProcess(p);
    await proxy.down();
    await db.drop();
    await dir.remove();
  }
});
