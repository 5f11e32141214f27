// Property: executing the same random blocks (same prior state, same ordered transactions) in two
// fresh executors gives identical outcomes, state changes, digests and final state, including
// transactions that run out of gas or memory, throw, recurse too deeply or reject.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { PrivateKey } from '../src/core/keys.js';
import {
  aliceKey,
  bobKey,
  createTestChain,
  makeTx,
  rawCreateTx,
  resultText,
} from './support/contracts-chain.js';

const LEDGER = rawCreateTx({
  type: 'Ledger',
  template: {
    to: { type: 'str', name: 'to', desc: '' },
    amount: { type: 'kwh', name: 'amount', desc: '' },
  },
  manifest: { tables: { balances: { columns: { who: 'text', wh: 'bigint' }, key: ['who'] } } },
  code: `function (p, ctx) {
    if (p.amount <= 0n) return ctx.reject('amount_must_be_positive', 'got ' + p.amount);
    const from = ctx.db.get('balances', { who: ctx.sender });
    const have = from === null ? 5000n : from.wh;
    if (have < p.amount) return ctx.reject('insufficient_energy', 'have ' + have + ', want ' + p.amount);
    const to = ctx.db.get('balances', { who: p.to });
    ctx.db.put('balances', { who: ctx.sender, wh: have - p.amount });
    ctx.db.put('balances', { who: p.to, wh: (to === null ? 0n : to.wh) + p.amount });
  }`,
});

const CHAOS = rawCreateTx({
  type: 'Chaos',
  template: {
    op: { type: 'uint', name: 'op', desc: '' },
    n: { type: 'uint', name: 'n', desc: '' },
    key: { type: 'str', name: 'key', desc: '' },
  },
  manifest: {
    tables: { notes: { columns: { id: 'text', v: 'bigint', seen: 'text[]' }, key: ['id'] } },
    reads: ['balances'],
  },
  code: `function (p, ctx) {
    const put = (id, v) => ctx.db.put('notes', { id, v: BigInt(v), seen: [ctx.txId.slice(0, 4)] });
    switch (p.op) {
      case 0: put(p.key, p.n); return;
      case 1: return ctx.db.delete('notes', { id: p.key }) ? 'OK' : 'nothing to delete';
      case 2: { let s = 0; for (let i = 0; i < p.n * 3000; i++) s = (s + i * 7) % 1009; put(p.key, s); return; }
      case 3: put(p.key, 1); throw new RangeError('chaos ' + p.n);
      case 4: put(p.key, 2); return ctx.reject('chaos_says_no', 'n=' + p.n);
      case 5: { const a = []; for (let i = 0; i < p.n * 20000; i++) a.push({ i }); put(p.key, a.length); return; }
      case 6: { const rows = ctx.db.find('notes', {}, p.n % 7); put(p.key, rows.length); return rows.map((r) => r.id).join(',') || 'OK'; }
      case 7: for (;;) {}
      case 8: { const f = (d) => (d === 0 ? 0 : 1 + f(d - 1)); put(p.key, f(p.n * 40)); return; }
      case 9: { const r = ctx.db.get('notes', { id: p.key }); put(p.key, r === null ? 1 : Number(r.v) + 1); return; }
      case 10: { const b = ctx.db.get('balances', { who: p.key }); return b === null ? 'no balance' : 'balance ' + b.wh; }
      default: return 'x'.repeat(p.n * 1000000);
    }
  }`,
});

const KEYS: PrivateKey[] = [aliceKey, bobKey];
const NAMES = ['a', 'b', 'c', 'é', '😀', aliceKey.address, bobKey.address];

const arbTx = fc.oneof(
  fc.record({
    kind: fc.constant('ledger' as const),
    signer: fc.nat(1),
    to: fc.constantFrom(...NAMES),
    amount: fc.oneof(
      fc.integer({ min: -2, max: 6 }).map(String),
      fc.constantFrom('0.5', '1.25', '4.999'),
    ),
  }),
  fc.record({
    kind: fc.constant('chaos' as const),
    signer: fc.nat(1),
    op: fc.nat(11),
    n: fc.nat(12),
    key: fc.constantFrom(...NAMES),
  }),
);
const arbBlocks = fc.array(fc.array(arbTx, { minLength: 1, maxLength: 12 }), {
  minLength: 1,
  maxLength: 3,
});

type GenTx = typeof arbTx extends fc.Arbitrary<infer T> ? T : never;

async function execute(
  blocks: readonly (readonly GenTx[])[],
  inWorker: boolean,
): Promise<string[]> {
  const chain = await createTestChain({
    inWorker,
    limits: { gasInterruptsPerTx: 40, memoryBytesPerBlock: 16 * 1024 * 1024 },
  });
  try {
    const out = [resultText(await chain.run([LEDGER.tx, CHAOS.tx]))];
    let n = 0;
    for (const block of blocks) {
      const txs = block.map((t) => {
        const id = (++n).toString(16).padStart(32, '0');
        const key = KEYS[t.signer] ?? aliceKey;
        return t.kind === 'ledger'
          ? makeTx(key, LEDGER.hashHex, { to: t.to, amount: t.amount }, id)
          : makeTx(key, CHAOS.hashHex, { op: t.op, n: t.n, key: t.key }, id);
      });
      out.push(resultText(await chain.run(txs)));
    }
    out.push(chain.reader.dump());
    return out;
  } finally {
    await chain.close();
  }
}

test('random blocks give identical results in two fresh executors (in process and in the worker)', async () => {
  const seed = Number(process.env['SEED'] ?? 20260101);
  try {
    await fc.assert(
      fc.asyncProperty(arbBlocks, async (blocks) => {
        const first = await execute(blocks, false);
        const second = await execute(blocks, true);
        assert.deepEqual(second, first);
      }),
      { seed, numRuns: 12 },
    );
  } catch (err) {
    throw new Error(`property failed, replay with SEED=${seed}`, { cause: err });
  }
});
