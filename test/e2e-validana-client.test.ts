// Existing Validana clients work against our server unchanged: the real client library from npm
// (@coinversable/validana-client 2.0.5) drives a real processor process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startProcessorProcess, stopProcess, tempDir } from './support/processes.js';

const require = createRequire(import.meta.url);
// The library is CommonJS with a singleton client; load it the way its users do.
const validana = require('@coinversable/validana-client') as {
  Client: { get(forceNew?: boolean): ValidanaClient };
  PrivateKey: { generate(): ValidanaKey };
};

interface ValidanaKey {
  getAddress(): string;
}
interface ValidanaClient {
  init(signPrefix: string, serviceURL: string): Promise<void>;
  processTx(
    key: ValidanaKey,
    contractName: string,
    payload: Record<string, unknown>,
  ): Promise<{ status: string; message: string; id: string; blockId: number | null }>;
  query(type: string, data?: unknown): Promise<unknown>;
  closeWebsocket(): void;
}

test('the real Validana client lists contracts, processes transactions and awaits their result', async () => {
  const dir = await tempDir('validana');
  const p = await startProcessorProcess({ dataDir: dir.path, blockIntervalMs: 100 });
  const client = validana.Client.get(true);
  try {
    await client.init(p.chainId, `${p.url.replace(/^http/, 'ws')}/api/v1/`);
    const contracts = (await client.query('contracts')) as {
      type: string;
      hash: string;
      template: Record<string, unknown>;
    }[];
    assert.ok(
      contracts.some((c) => c.type === 'Trader' && typeof c.template === 'object'),
      JSON.stringify(contracts).slice(0, 300),
    );

    const owner = validana.PrivateKey.generate();
    const trader = validana.PrivateKey.generate();
    const accepted = await client.processTx(owner, 'Trader', {
      context: owner.getAddress(),
      address: trader.getAddress(),
      allowed: true,
    });
    assert.equal(accepted.status, 'accepted');
    assert.equal(typeof accepted.blockId, 'number');
    const status = await client.query('txStatus', { txId: accepted.id });
    assert.equal(status, 'accepted');

    // Someone who does not own the context is rejected, with the contract's message.
    const stranger = validana.PrivateKey.generate();
    let outcome: unknown;
    try {
      outcome = await client.processTx(stranger, 'Trader', {
        context: owner.getAddress(),
        address: trader.getAddress(),
        allowed: false,
      });
    } catch (err) {
      outcome = err;
    }
    const text = outcome instanceof Error ? outcome.message : JSON.stringify(outcome);
    assert.match(text, /rejected|owner/i);
    const time = (await client.query('time')) as number;
    assert.ok(time > 1_700_000_000_000);
  } finally {
    client.closeWebsocket();
    await stopProcess(p);
    await dir.remove();
  }
});
