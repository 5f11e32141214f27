// The mirror node's signature pool gives the same answer as verifying one by one, in worker
// threads for large batches and inline for small ones.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrivateKey } from '../src/core/keys.js';
import { signTx, verifyTxSignature } from '../src/chain/tx.js';
import { SIGNATURES_INLINE_BELOW, SignaturePool } from '../src/ledger/signature-pool.js';

const CHAIN = 'hanzenet-pool-test';

function batch(count: number): Uint8Array[] {
  const key = PrivateKey.generate();
  return Array.from({ length: count }, (_, i) => {
    const bytes = new Uint8Array(
      signTx(
        { contractHashHex: 'ab'.repeat(32), validTillMs: 0, payloadText: JSON.stringify({ n: i }) },
        key,
        CHAIN,
      ).bytes,
    );
    // Every seventh transaction is altered after signing (a payload byte), every eleventh cut short.
    if (i % 7 === 3) bytes[61 + 2] = 0x39;
    return i % 11 === 5 ? bytes.subarray(0, 100) : bytes;
  });
}

test('large and small batches: one answer per transaction, as a one-by-one check gives', async () => {
  const pool = await SignaturePool.start({ workers: 2, inlineBelow: SIGNATURES_INLINE_BELOW });
  try {
    for (const size of [0, 5, SIGNATURES_INLINE_BELOW + 1, 1000]) {
      const txs = batch(size);
      const got = await pool.verifyOnChain(CHAIN, txs);
      assert.equal(got.length, size);
      got.forEach((ok, i) => {
        const expected = i % 11 !== 5 && i % 7 !== 3;
        assert.equal(ok, expected, `transaction ${i} of ${size}`);
      });
    }
    const signed = signTx(
      { contractHashHex: 'ab'.repeat(32), validTillMs: 0, payloadText: '{}' },
      PrivateKey.generate(),
      CHAIN,
    );
    assert.ok(verifyTxSignature(signed, CHAIN));
    const many = Array.from({ length: 100 }, () => signed.bytes);
    assert.deepEqual(
      await pool.verifyOnChain('another-chain', many),
      many.map(() => false),
      'the chain id is part of what is signed',
    );
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.verifyOnChain(CHAIN, batch(100)), /closed/);
});
