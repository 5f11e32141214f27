// The header rules and the genesis check of chain/: each rule's failure with its stable error
// code, and the genesis a processor creates passing the check a mirror node applies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock } from '../src/chain/block-decode.js';
import { buildBlock } from '../src/chain/block-encode.js';
import { announcedHeight } from '../src/chain/block-layout.js';
import {
  EMPTY_STATE_DIGEST_HEX,
  checkGenesisBlock,
  genesisBlockFields,
  genesisChainIdOf,
} from '../src/chain/genesis.js';
import {
  ZERO_HASH_HEX,
  assertFollowsHead,
  blockTimeAfter,
  genesisPlacementProblem,
  headerFault,
} from '../src/chain/header-rules.js';
import type { HeadInfo } from '../src/chain/header-rules.js';
import { signTx } from '../src/chain/tx.js';
import { stateDigestHex } from '../src/contracts/runtime/digest.js';
import { toHex } from '../src/core/bytes.js';
import { ChainError } from '../src/core/errors.js';
import { hash256 } from '../src/core/hash.js';
import { PrivateKey } from '../src/core/keys.js';

const CHAIN = 'hanzenet';
const processor = PrivateKey.fromWIF('L5e8BH9qJRaipGtbgTJkibCzFi9ZBaAYVHbVaUshf7DWAMwsseDw');
const stranger = PrivateKey.fromWIF('L2fpZWmgzEdxoowk7aBQYcEKjgQWDv7YSTM46waducPeEsUXgGX2');
const head: HeadInfo = { height: 7, hashHex: 'ab'.repeat(32), processedMs: 10_000 };
const next = { height: 8, previousHashHex: head.hashHex, processedMs: 10_001 };

function errorOf(fn: () => unknown): ChainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainError) return err;
    throw err;
  }
  assert.fail('expected a ChainError');
}

test('a header that follows the head breaks no rule', () => {
  assert.equal(headerFault(next, head), null);
  assert.equal(headerFault({ ...next, previousHashHex: head.hashHex.toUpperCase() }, head), null);
  assert.doesNotThrow(() => assertFollowsHead(next, head));
  assert.equal(
    headerFault({ height: 0, previousHashHex: ZERO_HASH_HEX, processedMs: 0 }, null),
    null,
  );
});

test('height: a skipped or repeated block is block_out_of_order', () => {
  const skipped = headerFault({ ...next, height: 9 }, head);
  assert.equal(skipped?.code, 'block_out_of_order');
  assert.equal(skipped?.field, 'height');
  assert.equal(skipped?.expected, 8);
  assert.equal(skipped?.got, 9);
  assert.match(
    skipped?.message ?? '',
    /expected block 8 after block 7, got block 9: block 8 was skipped/,
  );
  const repeated = headerFault({ ...next, height: 7 }, head);
  assert.equal(repeated?.code, 'block_out_of_order');
  assert.match(repeated?.message ?? '', /block 7 is repeated or out of order/);
  assert.equal(
    headerFault({ ...next, height: 1, previousHashHex: ZERO_HASH_HEX }, null)?.code,
    'block_out_of_order',
  );
  assert.equal(
    errorOf(() => assertFollowsHead({ ...next, height: 9 }, head)).code,
    'block_out_of_order',
  );
});

test('previous hash: a block that does not link to the head is block_link_mismatch', () => {
  const fault = headerFault({ ...next, previousHashHex: 'cd'.repeat(32) }, head);
  assert.equal(fault?.code, 'block_link_mismatch');
  assert.equal(fault?.field, 'previousHash');
  assert.equal(fault?.expected, head.hashHex);
  assert.equal(fault?.got, 'cd'.repeat(32));
  const genesis = headerFault(
    { height: 0, previousHashHex: 'cd'.repeat(32), processedMs: 0 },
    null,
  );
  assert.equal(genesis?.code, 'block_link_mismatch');
  assert.equal(genesis?.expected, ZERO_HASH_HEX);
  const err = errorOf(() => assertFollowsHead({ ...next, previousHashHex: 'cd'.repeat(32) }, head));
  assert.equal(err.code, 'block_link_mismatch');
  assert.deepEqual(err.details, {
    height: 8,
    field: 'previousHash',
    expected: head.hashHex,
    got: 'cd'.repeat(32),
  });
});

test('time: a block not later than the head is block_time_not_increasing', () => {
  for (const processedMs of [head.processedMs, head.processedMs - 1, 0]) {
    const fault = headerFault({ ...next, processedMs }, head);
    assert.equal(fault?.code, 'block_time_not_increasing');
    assert.equal(fault?.field, 'processedMs');
    assert.equal(fault?.got, processedMs);
  }
  assert.equal(
    errorOf(() => assertFollowsHead({ ...next, processedMs: head.processedMs }, head)).code,
    'block_time_not_increasing',
  );
});

test('rules are checked in order: height, then link, then time', () => {
  assert.equal(
    headerFault({ height: 9, previousHashHex: 'cd'.repeat(32), processedMs: 0 }, head)?.field,
    'height',
  );
  assert.equal(
    headerFault({ ...next, previousHashHex: 'cd'.repeat(32), processedMs: 0 }, head)?.field,
    'previousHash',
  );
});

test('blockTimeAfter: now, but always later than the head', () => {
  assert.equal(blockTimeAfter(head, 20_000), 20_000);
  assert.equal(blockTimeAfter(head, head.processedMs), head.processedMs + 1);
  assert.equal(blockTimeAfter(head, 0), head.processedMs + 1);
  assert.equal(headerFault({ ...next, processedMs: blockTimeAfter(head, 0) }, head), null);
});

test('genesis placement: block 0 links to the zero hash and carries the genesis, no other block does', () => {
  assert.equal(genesisPlacementProblem(0, ZERO_HASH_HEX, true), null);
  assert.equal(genesisPlacementProblem(3, 'ab'.repeat(32), false), null);
  assert.match(
    genesisPlacementProblem(0, 'ab'.repeat(32), true) ?? '',
    /block 0 must link to the zero hash/,
  );
  assert.match(
    genesisPlacementProblem(0, ZERO_HASH_HEX, false) ?? '',
    /block 0 carries no genesis information/,
  );
  assert.match(
    genesisPlacementProblem(3, 'ab'.repeat(32), true) ?? '',
    /block 3 carries genesis information/,
  );
});

test('the empty state digest is hash256 of nothing, the digest of a block that changed nothing', () => {
  assert.equal(EMPTY_STATE_DIGEST_HEX, toHex(hash256(new Uint8Array(0))));
  assert.equal(EMPTY_STATE_DIGEST_HEX, stateDigestHex([], new Map(), [], []));
});

test('a created genesis passes the genesis check and pins the chain id and processor key', () => {
  const block = buildBlock(genesisBlockFields(processor, CHAIN, 1000), processor, CHAIN);
  const decoded = decodeBlock(block.bytes, CHAIN);
  assert.equal(announcedHeight(block.bytes), 0);
  assert.equal(genesisChainIdOf(block.bytes), CHAIN);
  for (const pinned of [null, processor.address]) {
    const checked = checkGenesisBlock(decoded, pinned);
    assert.equal(checked.fault, null);
    assert.equal(checked.keys?.chainId, CHAIN);
    assert.equal(checked.keys?.processorAddress, processor.address);
    assert.deepEqual(checked.keys?.processorPublicKey, processor.publicKey);
  }
});

test('genesis check failures, each with its code', () => {
  const fields = genesisBlockFields(processor, CHAIN, 1000);
  const genesis = buildBlock(fields, processor, CHAIN);
  const pinnedElsewhere = checkGenesisBlock(genesis, stranger.address).fault;
  assert.equal(pinnedElsewhere?.code, 'chain_mismatch');
  assert.equal(pinnedElsewhere?.field, 'processorAddress');

  const forged = {
    ...genesis,
    signature: buildBlock({ ...fields, processedMs: 2000 }, processor, CHAIN).signature,
  };
  assert.equal(checkGenesisBlock(forged, null).fault?.code, 'block_signature_invalid');

  const tx = signTx(
    { contractHashHex: '11'.repeat(32), validTillMs: 0, payloadText: '{}' },
    stranger,
    CHAIN,
  );
  const withTx = buildBlock(
    { ...fields, txs: [tx], outcomes: [{ status: 'accepted', message: '' }] },
    processor,
    CHAIN,
  );
  const txFault = checkGenesisBlock(withTx, null).fault;
  assert.equal(txFault?.code, 'block_malformed');
  assert.equal(txFault?.field, 'txCount');

  const digest = checkGenesisBlock(
    buildBlock({ ...fields, stateDigestHex: '01'.repeat(32) }, processor, CHAIN),
    null,
  ).fault;
  assert.equal(digest?.code, 'state_digest_mismatch');
  assert.equal(digest?.expected, EMPTY_STATE_DIGEST_HEX);

  const later = buildBlock(
    { ...fields, height: 1, previousHashHex: genesis.hashHex, genesis: null },
    processor,
    CHAIN,
  );
  assert.equal(checkGenesisBlock(later, null).fault?.code, 'block_malformed');
});

test('genesisChainIdOf and announcedHeight read raw bytes without decoding, null when they cannot', () => {
  const genesis = buildBlock(genesisBlockFields(processor, CHAIN, 1000), processor, CHAIN);
  assert.equal(genesisChainIdOf(genesis.bytes.subarray(0, 90)), null);
  assert.equal(announcedHeight(genesis.bytes.subarray(0, 12)), null);
  const later = buildBlock(
    {
      ...genesisBlockFields(processor, CHAIN, 1000),
      height: 5,
      previousHashHex: genesis.hashHex,
      genesis: null,
    },
    processor,
    CHAIN,
  );
  assert.equal(genesisChainIdOf(later.bytes), null);
  assert.equal(announcedHeight(later.bytes), 5);
});
