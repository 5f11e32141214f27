// SignaturePool: signature verification over worker threads gives exactly the answers of the
// in-thread check, survives a dying worker, and shuts down cleanly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { utf8Encode } from '../src/core/bytes.js';
import { ChainError } from '../src/core/errors.js';
import { PrivateKey } from '../src/core/keys.js';
import { signTx, verifyTxBytesSignature } from '../src/chain/tx.js';
import { VERIFY_INLINE_BELOW, SignaturePool } from '../src/ledger/signature-pool.js';
import type { VerifyItem } from '../src/ledger/signature-pool.js';

const SEED = Number(process.env.SEED ?? 1);
const CHAIN = 'hanzenet';
const REAL_WORKER = new URL('../src/ledger/signature-worker.js', import.meta.url);

interface Case {
  readonly item: VerifyItem;
  readonly expected: boolean;
  readonly kind: string;
}

/** A small seeded generator, so a failing mix can be replayed with SEED. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

function validanaVectorTxs(): Uint8Array[] {
  const v = JSON.parse(
    readFileSync(new URL('../../test/vectors/validana.json', import.meta.url), 'utf8'),
  ) as { transactions: { base64tx: string }[] };
  return v.transactions.map((t) => new Uint8Array(Buffer.from(t.base64tx, 'base64')));
}

function mixedBatch(count: number, seed: number): Case[] {
  const random = prng(seed);
  const keys = [0, 1, 2, 3].map(() => PrivateKey.generate());
  const vectorTxs = validanaVectorTxs();
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const key = keys[i % keys.length] as PrivateKey;
    const payloadText = JSON.stringify({ n: i, note: 'energie ☀', r: random() });
    const kind =
      ['valid', 'tampered', 'wrong chain', 'other chain item', 'validana vector', 'malformed'][
        Math.floor(random() * 6)
      ] ?? 'valid';
    const signedFor = kind === 'wrong chain' || kind === 'other chain item' ? 'wrongnet' : CHAIN;
    const tx = signTx(
      { contractHashHex: '22'.repeat(32), validTillMs: 0, payloadText },
      key,
      signedFor,
    );
    if (kind === 'valid')
      cases.push({ kind, expected: true, item: { chainId: CHAIN, txBytes: tx.bytes } });
    if (kind === 'wrong chain')
      cases.push({ kind, expected: false, item: { chainId: CHAIN, txBytes: tx.bytes } });
    if (kind === 'other chain item')
      cases.push({ kind, expected: true, item: { chainId: 'wrongnet', txBytes: tx.bytes } });
    if (kind === 'tampered') {
      const bytes = tx.bytes.slice();
      const at = 61 + Math.floor(random() * (bytes.length - 158));
      bytes[at] = (bytes[at] ?? 0) ^ 0x04;
      cases.push({ kind, expected: false, item: { chainId: CHAIN, txBytes: bytes } });
    }
    if (kind === 'validana vector')
      cases.push({
        kind,
        expected: true,
        item: { chainId: CHAIN, txBytes: vectorTxs[i % vectorTxs.length] as Uint8Array },
      });
    if (kind === 'malformed')
      cases.push({
        kind,
        expected: false,
        item: { chainId: CHAIN, txBytes: tx.bytes.subarray(0, Math.floor(random() * 158)) },
      });
  }
  return cases;
}

async function crashingWorker(dir: string, mode: 'once' | 'always'): Promise<URL> {
  const marker = join(dir, 'crashed');
  const file = join(dir, `worker-${mode}.mjs`);
  const crash =
    mode === 'once'
      ? `writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(3);`
      : `throw new Error('boom in worker');`;
  await writeFile(
    file,
    [
      `import { existsSync, writeFileSync } from 'node:fs';`,
      `import { parentPort } from 'node:worker_threads';`,
      `if (${mode === 'once'} && existsSync(${JSON.stringify(marker)})) {`,
      `  await import(${JSON.stringify(REAL_WORKER.href)});`,
      `} else {`,
      `  parentPort.on('message', () => { ${crash} });`,
      `  parentPort.postMessage({ type: 'ready' });`,
      `}`,
    ].join('\n'),
  );
  return pathToFileURL(file);
}

test('a mixed batch of 2000 is verified correctly over the workers', async () => {
  const cases = mixedBatch(2000, SEED);
  const kinds = new Set(cases.map((c) => c.kind));
  assert.equal(kinds.size, 6, `all kinds present: ${[...kinds].join(', ')}`);
  const pool = await SignaturePool.start({ workers: 2 });
  try {
    const results = await pool.verify(cases.map((c) => c.item));
    assert.equal(results.length, cases.length);
    cases.forEach((c, i) => {
      assert.equal(results[i], c.expected, `item ${i} (${c.kind}), SEED=${SEED}`);
    });
    const prefixes = new Map<string, Uint8Array>();
    const inline = cases.map((c) =>
      verifyTxBytesSignature(
        prefixes.get(c.item.chainId) ?? utf8Encode(c.item.chainId),
        c.item.txBytes,
      ),
    );
    assert.deepEqual(results, inline);
    assert.deepEqual(pool.stats(), { workers: 2, restarts: 0, queuedTasks: 0 });
  } finally {
    await pool.close();
  }
});

test('a pool without workers (the simulator) gives the same answers in the calling thread', async () => {
  const cases = mixedBatch(500, SEED);
  const pool = SignaturePool.inThread();
  try {
    const results = await pool.verify(cases.map((c) => c.item));
    cases.forEach((c, i) => {
      assert.equal(results[i], c.expected, `item ${i} (${c.kind}), SEED=${SEED}`);
    });
    assert.deepEqual(pool.stats(), { workers: 0, restarts: 0, queuedTasks: 0 });
  } finally {
    await pool.close();
  }
});

test('small batches, empty batches and concurrent batches', async () => {
  const cases = mixedBatch(300, SEED + 1);
  const pool = await SignaturePool.start({ workers: 2 });
  try {
    assert.deepEqual(await pool.verify([]), []);
    const small = cases.slice(0, VERIFY_INLINE_BELOW - 1);
    assert.deepEqual(
      await pool.verify(small.map((c) => c.item)),
      small.map((c) => c.expected),
    );
    const parts = [cases.slice(0, 100), cases.slice(100, 117), cases.slice(117)];
    const results = await Promise.all(parts.map((p) => pool.verify(p.map((c) => c.item))));
    parts.forEach((p, i) => {
      assert.deepEqual(
        results[i],
        p.map((c) => c.expected),
      );
    });
  } finally {
    await pool.close();
  }
});

test('a worker that dies is replaced and its range is retried once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hanzenet-verify-'));
  const pool = await SignaturePool.start({
    workers: 1,
    workerUrl: await crashingWorker(dir, 'once'),
  });
  try {
    const cases = mixedBatch(200, SEED + 2);
    const results = await pool.verify(cases.map((c) => c.item));
    assert.deepEqual(
      results,
      cases.map((c) => c.expected),
    );
    assert.equal(pool.stats().restarts, 1);
    assert.equal(pool.stats().workers, 1);
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a range whose worker dies twice fails with internal; the pool keeps replacing workers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hanzenet-verify-'));
  const pool = await SignaturePool.start({
    workers: 1,
    workerUrl: await crashingWorker(dir, 'always'),
  });
  try {
    const cases = mixedBatch(20, SEED + 3);
    await assert.rejects(pool.verify(cases.map((c) => c.item)), (err: unknown) => {
      assert.ok(err instanceof ChainError);
      assert.equal(err.code, 'internal');
      assert.match(err.message, /failed twice because its worker died \(boom in worker\)/);
      return true;
    });
    assert.ok(pool.stats().restarts >= 1, 'the first death was replaced before the retry');
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('close: later batches fail with shutting_down; closing twice is harmless', async () => {
  const pool = await SignaturePool.start({ workers: 1 });
  await pool.close();
  await pool.close();
  await assert.rejects(
    pool.verify([]),
    (err: unknown) => err instanceof ChainError && err.code === 'shutting_down',
  );
});

test('start: refuses a bad worker count and reports a worker that cannot load', async () => {
  await assert.rejects(SignaturePool.start({ workers: 0 }), RangeError);
  await assert.rejects(
    SignaturePool.start({ workers: 1, workerUrl: new URL('./no-such-worker.js', REAL_WORKER) }),
    (err: unknown) => err instanceof ChainError && err.code === 'internal',
  );
});
