// The HanzeNet block format v1: build/decode/verify round trips, exact errors for each
// malformation, tamper detection on every byte, and the golden vectors in test/vectors/blocks.json.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as opensslVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { decodeBlock } from '../src/chain/block-decode.js';
import { buildBlock, fitOutcome } from '../src/chain/block-encode.js';
import { blockHashHex, verifyBlockSignature } from '../src/chain/block-hash.js';
import {
  BLOCK_BYTES_MIN,
  OUTCOME_MESSAGE_BYTES_MAX,
  TXS_PER_BLOCK_MAX,
} from '../src/chain/block-layout.js';
import type { BlockFields } from '../src/chain/block-layout.js';
import { genesisJson } from '../src/chain/genesis.js';
import {
  concatBytes,
  fromHex,
  toHex,
  utf8Encode,
  writeU16LE,
  writeU32LE,
  writeU64LE,
} from '../src/core/bytes.js';
import { ChainError } from '../src/core/errors.js';
import { sha256 } from '../src/core/hash.js';
import { PrivateKey } from '../src/core/keys.js';
import { decodeTx, lengthPrefixMatches, signTx, verifyTxSignature } from '../src/chain/tx.js';
import type { Block, BlockTxOutcome, GenesisInfo, Tx } from '../src/chain/types.js';

const SEED = Number(process.env.SEED ?? 1);
const CHAIN = 'hanzenet';
const ZERO = '00'.repeat(32);
const processor = PrivateKey.fromWIF('L5e8BH9qJRaipGtbgTJkibCzFi9ZBaAYVHbVaUshf7DWAMwsseDw');
const stranger = PrivateKey.fromWIF('L2fpZWmgzEdxoowk7aBQYcEKjgQWDv7YSTM46waducPeEsUXgGX2');
const genesisInfo: GenesisInfo = {
  chainId: CHAIN,
  processorPublicKeyHex: toHex(processor.publicKey),
  processorAddress: processor.address,
};

const txs: Tx[] = [0, 1, 2, 3, 4, 5].map((i) =>
  signTx(
    {
      idHex: `${i}`.padStart(32, 'a'),
      contractHashHex: '11'.repeat(32),
      validTillMs: i,
      payloadText: JSON.stringify({ i, t: 'é☀' }),
    },
    stranger,
    CHAIN,
  ),
);

function errorOf(fn: () => unknown): ChainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainError) return err;
    throw err;
  }
  assert.fail('expected a ChainError');
}

function genesisBlock(): Block {
  return buildBlock(
    {
      height: 0,
      previousHashHex: ZERO,
      processedMs: 1000,
      stateDigestHex: '01'.repeat(32),
      genesis: genesisInfo,
      txs: [],
      outcomes: [],
    },
    processor,
    CHAIN,
  );
}

function blockFields(overrides: Partial<BlockFields> = {}): BlockFields {
  return {
    height: 1,
    previousHashHex: genesisBlock().hashHex,
    processedMs: 2000,
    stateDigestHex: '02'.repeat(32),
    genesis: null,
    txs: txs.slice(0, 2),
    outcomes: [
      { status: 'accepted', message: 'OK' },
      { status: 'rejected', code: 'contract_rejected', message: 'nope ☀' },
    ],
    ...overrides,
  };
}

function assertSameBlock(a: Block, b: Block): void {
  assert.deepEqual(a.bytes, b.bytes);
  assert.equal(a.hashHex, b.hashHex);
  assert.equal(a.height, b.height);
  assert.equal(a.previousHashHex, b.previousHashHex);
  assert.equal(a.processedMs, b.processedMs);
  assert.equal(a.stateDigestHex, b.stateDigestHex);
  assert.deepEqual(a.genesis, b.genesis);
  assert.deepEqual(a.outcomes, b.outcomes);
  assert.deepEqual(a.signature, b.signature);
  assert.deepEqual(
    a.txs.map((t) => toHex(t.bytes)),
    b.txs.map((t) => toHex(t.bytes)),
  );
}

// A raw assembler for malformed blocks: every part can be wrong, the outer prefix is always right.
interface RawParts {
  version?: number;
  height?: number;
  prev?: string;
  genesis?: Uint8Array;
  count?: number;
  txs?: Uint8Array[];
  outcomes?: Uint8Array[];
  beforeSignature?: Uint8Array;
}

function outcomeBytes(status: number, code: string, message: Uint8Array | string): Uint8Array {
  const msg = typeof message === 'string' ? utf8Encode(message) : message;
  const head = new Uint8Array(2 + code.length + 2);
  head[0] = status;
  head[1] = code.length;
  head.set(utf8Encode(code), 2);
  writeU16LE(head, 2 + code.length, msg.length);
  return concatBytes(head, msg);
}

function assemble(p: RawParts): Uint8Array {
  const head = new Uint8Array(87);
  head[4] = p.version ?? 1;
  writeU64LE(head, 5, p.height ?? 1);
  head.set(fromHex(p.prev ?? 'aa'.repeat(32)), 13);
  writeU64LE(head, 45, 2000);
  const genesis = p.genesis ?? new Uint8Array();
  writeU16LE(head, 85, genesis.length);
  const txParts = p.txs ?? [txs[0]?.bytes ?? new Uint8Array()];
  const count = new Uint8Array(4);
  writeU32LE(count, 0, p.count ?? txParts.length);
  const outcomes = p.outcomes ?? [outcomeBytes(1, '', 'OK')];
  const out = concatBytes(
    head,
    genesis,
    count,
    ...txParts,
    ...outcomes,
    p.beforeSignature ?? new Uint8Array(),
    new Uint8Array(64),
  );
  writeU32LE(out, 0, out.length - 4);
  return out;
}

test('build, decode and verify round trip', () => {
  const g = genesisBlock();
  const decodedGenesis = decodeBlock(g.bytes, CHAIN);
  assertSameBlock(decodedGenesis, g);
  assert.deepEqual(decodedGenesis.genesis, genesisInfo);
  assert.equal(verifyBlockSignature(decodedGenesis, processor.publicKey), true);
  const b = buildBlock(blockFields(), processor, CHAIN);
  const decoded = decodeBlock(b.bytes, CHAIN);
  assertSameBlock(decoded, b);
  assert.equal(decoded.previousHashHex, g.hashHex);
  assert.equal(verifyBlockSignature(decoded, processor.publicKey), true);
  assert.equal(
    decoded.txs.every((t) => verifyTxSignature(t, CHAIN)),
    true,
  );
  assert.equal(blockHashHex(CHAIN, b.bytes), b.hashHex);
  const outcomeBytes = 1 + 1 + 0 + 2 + 2 + (1 + 1 + 17 + 2 + utf8Encode('nope ☀').length);
  assert.equal(
    b.bytes.length,
    BLOCK_BYTES_MIN + txs.slice(0, 2).reduce((n, t) => n + t.bytes.length, 0) + outcomeBytes,
  );
});

test('a block signed by another key, or checked against another key, fails verification', () => {
  const byStranger = buildBlock(blockFields(), stranger, CHAIN);
  assert.equal(
    verifyBlockSignature(decodeBlock(byStranger.bytes, CHAIN), processor.publicKey),
    false,
  );
  const ours = buildBlock(blockFields(), processor, CHAIN);
  assert.equal(verifyBlockSignature(ours, stranger.publicKey), false);
  assert.equal(verifyBlockSignature(ours, new Uint8Array(33)), false);
});

test('the chain id is part of the hash; a genesis of another chain is chain_mismatch', () => {
  const b = buildBlock(blockFields(), processor, CHAIN);
  const other = decodeBlock(b.bytes, 'othernet');
  assert.notEqual(other.hashHex, b.hashHex);
  assert.equal(verifyBlockSignature(other, processor.publicKey), false);
  assert.equal(errorOf(() => decodeBlock(genesisBlock().bytes, 'othernet')).code, 'chain_mismatch');
});

test('one flipped byte anywhere changes the hash, fails decoding, or fails the signature', () => {
  const b = buildBlock(
    blockFields({
      txs: txs.slice(0, 3),
      outcomes: [
        { status: 'accepted', message: 'OK' },
        { status: 'rejected', code: 'x', message: '' },
        { status: 'accepted', message: 'fine' },
      ],
    }),
    processor,
    CHAIN,
  );
  for (let at = 0; at < b.bytes.length; at++) {
    for (const mask of [0x01, 0x80]) {
      const flipped = b.bytes.slice();
      flipped[at] = (flipped[at] ?? 0) ^ mask;
      let decoded: Block;
      try {
        decoded = decodeBlock(flipped, CHAIN);
      } catch (err) {
        assert.ok(err instanceof ChainError, `byte ${at}: ${String(err)}`);
        continue;
      }
      const caught =
        decoded.hashHex !== b.hashHex || !verifyBlockSignature(decoded, processor.publicKey);
      assert.ok(caught, `flipping byte ${at} with ${mask} went unnoticed`);
      if (at >= 4 && at < b.bytes.length - 64)
        assert.notEqual(decoded.hashHex, b.hashHex, `byte ${at} is hashed`);
    }
  }
});

test('decodeBlock: truncation and trailing bytes', () => {
  const b = buildBlock(blockFields(), processor, CHAIN).bytes;
  const cut = b.subarray(0, b.length - 1);
  assert.match(
    errorOf(() => decodeBlock(cut, CHAIN)).message,
    /truncated: the length prefix announces/,
  );
  assert.match(
    errorOf(() => decodeBlock(concatBytes(b, Uint8Array.of(0)), CHAIN)).message,
    /trailing bytes: the length prefix/,
  );
  assert.match(
    errorOf(() => decodeBlock(b.subarray(0, 10), CHAIN)).message,
    /truncated: a block is at least/,
  );
  assert.match(
    errorOf(() => decodeBlock(assemble({ beforeSignature: Uint8Array.of(1, 2) }), CHAIN)).message,
    /2 trailing bytes between the last outcome and the signature/,
  );
  assert.match(
    errorOf(() => decodeBlock(assemble({ outcomes: [] }), CHAIN)).message,
    /truncated: status of outcome 0/,
  );
  for (const bad of [cut, assemble({ beforeSignature: Uint8Array.of(1) })])
    assert.equal(errorOf(() => decodeBlock(bad, CHAIN)).code, 'block_malformed');
});

test('decodeBlock: header errors', () => {
  assert.doesNotThrow(() => decodeBlock(assemble({}), CHAIN));
  assert.match(
    errorOf(() => decodeBlock(assemble({ version: 2 }), CHAIN)).message,
    /unsupported block version 2, expected 1/,
  );
  assert.match(
    errorOf(() => decodeBlock(assemble({ height: 0, prev: ZERO }), CHAIN)).message,
    /block 0 carries no genesis/,
  );
  const gj = utf8Encode(genesisJson(genesisInfo));
  assert.match(
    errorOf(() => decodeBlock(assemble({ height: 0, genesis: gj }), CHAIN)).message,
    /block 0 must link to the zero hash/,
  );
  assert.match(
    errorOf(() => decodeBlock(assemble({ height: 5, genesis: gj }), CHAIN)).message,
    /block 5 carries genesis information/,
  );
  const huge = assemble({});
  huge.set([0, 0, 0, 0, 0, 0, 0x20, 0], 5);
  assert.match(
    errorOf(() => decodeBlock(huge, CHAIN)).message,
    /height at offset 5 is larger than 2\^53-1/,
  );
});

test('decodeBlock: genesis JSON must be canonical and consistent', () => {
  const g = (text: string): string =>
    errorOf(() =>
      decodeBlock(
        assemble({ height: 0, prev: ZERO, genesis: utf8Encode(text), txs: [], outcomes: [] }),
        CHAIN,
      ),
    ).message;
  assert.doesNotThrow(() =>
    decodeBlock(
      assemble({
        height: 0,
        prev: ZERO,
        genesis: utf8Encode(genesisJson(genesisInfo)),
        txs: [],
        outcomes: [],
      }),
      CHAIN,
    ),
  );
  assert.match(g(genesisJson(genesisInfo).replace(':', ': ')), /not canonical/);
  const reordered = JSON.stringify({
    processorPublicKey: genesisInfo.processorPublicKeyHex,
    chainId: CHAIN,
    processorAddress: processor.address,
  });
  assert.match(g(reordered), /not canonical/);
  assert.match(g('{"chainId":"hanzenet"}'), /must hold the strings/);
  assert.match(g('not json'), /not UTF-8 JSON/);
  assert.match(
    g(genesisJson({ ...genesisInfo, processorAddress: stranger.address })),
    /does not belong to processorPublicKey/,
  );
  assert.match(
    g(
      genesisJson({
        ...genesisInfo,
        processorPublicKeyHex: genesisInfo.processorPublicKeyHex.toUpperCase(),
      }),
    ),
    /lowercase hex compressed public key/,
  );
});

test('decodeBlock: transaction count and transaction errors', () => {
  assert.match(
    errorOf(() => decodeBlock(assemble({ count: TXS_PER_BLOCK_MAX + 1 }), CHAIN)).message,
    /50001 transactions, at most 50000/,
  );
  assert.match(
    errorOf(() => decodeBlock(assemble({ count: 2 }), CHAIN)).message,
    /2 transactions cannot fit/,
  );
  const tx = txs[0]?.bytes ?? new Uint8Array();
  const longPrefix = tx.slice();
  writeU32LE(longPrefix, 0, tx.length + 10);
  assert.equal(
    errorOf(() => decodeBlock(assemble({ txs: [longPrefix] }), CHAIN)).code,
    'block_malformed',
  );
  const shortPrefix = tx.slice();
  writeU32LE(shortPrefix, 0, tx.length - 14);
  assert.equal(
    errorOf(() => decodeBlock(assemble({ txs: [shortPrefix] }), CHAIN)).code,
    'block_malformed',
  );
  const badKey = tx.slice();
  badKey[badKey.length - 33] = 4;
  const err = errorOf(() => decodeBlock(assemble({ txs: [badKey] }), CHAIN));
  assert.equal(err.code, 'block_malformed');
  assert.equal(err.details['txCode'], 'tx_bad_public_key');
  assert.match(err.message, /block 1: transaction 0 at offset 91/);
});

test('decodeBlock: outcome errors', () => {
  const o = (outcome: Uint8Array): string =>
    errorOf(() => decodeBlock(assemble({ outcomes: [outcome] }), CHAIN)).message;
  assert.doesNotThrow(() =>
    decodeBlock(assemble({ outcomes: [outcomeBytes(2, 'contract_rejected', 'why')] }), CHAIN),
  );
  assert.match(o(outcomeBytes(3, '', 'OK')), /unknown status 3, expected 1 or 2/);
  assert.match(o(outcomeBytes(0, '', 'OK')), /unknown status 0/);
  assert.match(o(outcomeBytes(1, 'x', 'OK')), /an accepted outcome has no code/);
  assert.match(o(outcomeBytes(2, '', 'OK')), /a rejected outcome needs a code/);
  assert.match(o(outcomeBytes(2, 'has space', 'OK')), /printable ASCII/);
  assert.match(o(outcomeBytes(2, 'c'.repeat(65), 'OK')), /code length 65, at most 64/);
  assert.match(
    o(outcomeBytes(1, '', 'm'.repeat(OUTCOME_MESSAGE_BYTES_MAX + 1))),
    /message length 1025, at most 1024/,
  );
  assert.match(o(outcomeBytes(1, '', Uint8Array.of(0xc3, 0x28))), /message is not valid UTF-8/);
});

test('buildBlock: refuses fields that break the format, with block_malformed', () => {
  const bad = (f: Partial<BlockFields>): string => {
    const err = errorOf(() => buildBlock(blockFields(f), processor, CHAIN));
    assert.equal(err.code, 'block_malformed');
    return err.message;
  };
  assert.match(
    bad({ outcomes: [{ status: 'accepted', message: 'OK' }] }),
    /2 transactions but 1 outcomes/,
  );
  assert.match(bad({ height: -1 }), /height must be an integer >= 0/);
  assert.match(bad({ processedMs: 1.5 }), /processedMs must be an integer/);
  assert.match(bad({ previousHashHex: 'ab' }), /previousHashHex must be 32 bytes of hex/);
  assert.match(bad({ genesis: genesisInfo }), /only block 0 may carry genesis/);
  assert.match(bad({ height: 0, previousHashHex: ZERO }), /block 0 must carry the genesis/);
  assert.match(
    bad({
      height: 0,
      previousHashHex: 'ab'.repeat(32),
      genesis: genesisInfo,
      txs: [],
      outcomes: [],
    }),
    /block 0 must link to the zero hash/,
  );
  assert.match(
    bad({
      height: 0,
      previousHashHex: ZERO,
      genesis: { ...genesisInfo, chainId: 'x' },
      txs: [],
      outcomes: [],
    }),
    /genesis names chain "x"/,
  );
  assert.match(
    bad({
      height: 0,
      previousHashHex: ZERO,
      genesis: { ...genesisInfo, processorAddress: stranger.address },
      txs: [],
      outcomes: [],
    }),
    /processor address/,
  );
  const two = (o: BlockTxOutcome): Partial<BlockFields> => ({
    outcomes: [{ status: 'accepted', message: 'OK' }, o],
  });
  assert.match(
    bad(two({ status: 'rejected', code: '', message: '' })),
    /code must be 1 to 64 printable ASCII/,
  );
  assert.match(
    bad(two({ status: 'rejected', code: 'x'.repeat(65), message: '' })),
    /code must be 1 to 64/,
  );
  assert.match(
    bad(two({ status: 'accepted', message: '☀'.repeat(342) })),
    /message is 1026 bytes of UTF-8, at most 1024/,
  );
  assert.doesNotThrow(() =>
    buildBlock(
      blockFields(two({ status: 'accepted', message: '☀'.repeat(341) })),
      processor,
      CHAIN,
    ),
  );
});

test('fitOutcome cuts long messages at a character boundary and leaves short ones alone', () => {
  const short: BlockTxOutcome = { status: 'accepted', message: 'OK' };
  assert.equal(fitOutcome(short), short);
  const long = fitOutcome({
    status: 'rejected',
    code: 'contract_rejected',
    message: `x${'☀'.repeat(400)}`,
  });
  assert.equal(long.status, 'rejected');
  assert.equal(long.status === 'rejected' ? long.code : '', 'contract_rejected');
  assert.equal(utf8Encode(long.message).length, 1 + 341 * 3);
  assert.doesNotThrow(() =>
    buildBlock(
      blockFields({
        outcomes: [long, fitOutcome({ status: 'accepted', message: 'y'.repeat(5000) })],
      }),
      processor,
      CHAIN,
    ),
  );
});

test('buildBlock writes the correct length prefix for a transaction that arrived with a wrong one', () => {
  const wrong = txs[0]?.bytes.slice() ?? new Uint8Array();
  writeU32LE(wrong, 0, 3);
  const quirky = decodeTx(wrong);
  assert.equal(lengthPrefixMatches(quirky.bytes), false);
  const b = buildBlock(blockFields({ txs: [quirky, txs[1] as Tx] }), processor, CHAIN);
  assert.equal(lengthPrefixMatches(b.txs[0]?.bytes ?? new Uint8Array()), true);
  assert.equal(b.txs[1], txs[1], 'correct transactions are passed through unchanged');
  const decoded = decodeBlock(b.bytes, CHAIN);
  assertSameBlock(decoded, b);
  assert.equal(verifyTxSignature(decoded.txs[0] as Tx, CHAIN), true);
});

test('property: random blocks survive build and decode unchanged', () => {
  const arbOutcome: fc.Arbitrary<BlockTxOutcome> = fc.oneof(
    fc.record({
      status: fc.constant('accepted' as const),
      message: fc.string({ unit: 'grapheme', maxLength: 40 }),
    }),
    fc.record({
      status: fc.constant('rejected' as const),
      code: fc.stringMatching(/^[a-z_]{1,64}$/),
      message: fc.string({ unit: 'grapheme', maxLength: 40 }),
    }),
  );
  const arbBlock = fc
    .record({
      height: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      previousHashHex: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
      processedMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      stateDigestHex: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
      picks: fc.array(fc.tuple(fc.integer({ min: 0, max: txs.length - 1 }), arbOutcome), {
        maxLength: 6,
      }),
    })
    // Spread into plain objects: fast-check records have a null prototype, decoded ones do not.
    .map(
      ({ picks, ...rest }): BlockFields => ({
        ...rest,
        genesis: null,
        txs: picks.map(([i]) => txs[i] as Tx),
        outcomes: picks.map(([, o]) => ({ ...o })),
      }),
    );
  fc.assert(
    fc.property(arbBlock, (fields) => {
      const b = buildBlock(fields, processor, CHAIN);
      const d = decodeBlock(b.bytes, CHAIN);
      assertSameBlock(d, b);
      assert.equal(d.height, fields.height);
      assert.deepEqual(d.outcomes, fields.outcomes);
      assert.equal(verifyBlockSignature(d, processor.publicKey), true);
    }),
    { seed: SEED, numRuns: 200 },
  );
});

// ---- Golden vectors ------------------------------------------------------------------------

interface GoldenTx {
  idHex: string;
  sender: string;
  hex: string;
}

interface GoldenBlock {
  name: string;
  hex: string;
  hashHex: string;
  fields: {
    version: number;
    height: number;
    previousHashHex: string;
    processedMs: number;
    stateDigestHex: string;
    genesis: GenesisInfo | null;
    txs: GoldenTx[];
    outcomes: BlockTxOutcome[];
    signatureHex: string;
  };
}

interface Golden {
  chainId: string;
  processorPublicKeyHex: string;
  signedTx: {
    input: { idHex: string; contractHashHex: string; validTillMs: number; payloadText: string };
    hex: string;
    signatureHex: string;
  };
  blocks: GoldenBlock[];
}

const golden = JSON.parse(
  readFileSync(new URL('../../test/vectors/blocks.json', import.meta.url), 'utf8'),
) as Golden;
const goldenTrader = PrivateKey.fromWIF('L5BeuL1KbjeX5dEiwmgSz8VxTBaFDb6FTabEr5cKqaVidAZfpC17');

/** An independent check through OpenSSL: ECDSA-SHA256 over SHA-256(M) is ECDSA over hash256(M). */
function opensslVerifies(signedBody: Uint8Array, signature: Uint8Array, pk33: Uint8Array): boolean {
  const spki = concatBytes(fromHex('3036301006072a8648ce3d020106052b8104000a032200'), pk33);
  const publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  return opensslVerify(
    'sha256',
    sha256(signedBody),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    signature,
  );
}

test('golden: the vectors are the expected set', () => {
  assert.equal(golden.chainId, CHAIN);
  assert.equal(golden.processorPublicKeyHex, toHex(processor.publicKey));
  assert.deepEqual(
    golden.blocks.map((b) => [b.fields.height, b.fields.txs.length]),
    [
      [0, 0],
      [1, 2],
    ],
  );
  assert.deepEqual(
    golden.blocks[1]?.fields.outcomes.map((o) => o.status),
    ['accepted', 'rejected'],
  );
});

test('golden: every block decodes to exactly its fields and hash, and its signature verifies', () => {
  for (const g of golden.blocks) {
    const bytes = fromHex(g.hex);
    const b = decodeBlock(bytes, golden.chainId);
    const f = g.fields;
    assert.equal(b.hashHex, g.hashHex, g.name);
    assert.equal(b.version, f.version, g.name);
    assert.equal(b.height, f.height, g.name);
    assert.equal(b.previousHashHex, f.previousHashHex, g.name);
    assert.equal(b.processedMs, f.processedMs, g.name);
    assert.equal(b.stateDigestHex, f.stateDigestHex, g.name);
    assert.deepEqual(b.genesis, f.genesis, g.name);
    assert.deepEqual(
      b.txs.map((t) => ({ idHex: t.idHex, sender: t.sender, hex: toHex(t.bytes) })),
      f.txs,
      g.name,
    );
    assert.deepEqual(b.outcomes, f.outcomes, g.name);
    assert.equal(toHex(b.signature), f.signatureHex, g.name);
    assert.equal(verifyBlockSignature(b, processor.publicKey), true, g.name);
    assert.equal(
      opensslVerifies(
        concatBytes(utf8Encode(CHAIN), bytes.subarray(4, bytes.length - 64)),
        b.signature,
        processor.publicKey,
      ),
      true,
      g.name,
    );
    for (const t of b.txs)
      assert.equal(verifyTxSignature(t, CHAIN), true, `${g.name}: tx ${t.idHex}`);
  }
  assert.equal(
    golden.blocks[1]?.fields.previousHashHex,
    golden.blocks[0]?.hashHex,
    'block 1 links to the genesis',
  );
});

test('golden: rebuilding every block from its fields gives identical bytes (RFC 6979)', () => {
  for (const g of golden.blocks) {
    const f = g.fields;
    const rebuilt = buildBlock(
      {
        height: f.height,
        previousHashHex: f.previousHashHex,
        processedMs: f.processedMs,
        stateDigestHex: f.stateDigestHex,
        genesis: f.genesis,
        txs: f.txs.map((t) => decodeTx(fromHex(t.hex))),
        outcomes: f.outcomes,
      },
      processor,
      golden.chainId,
    );
    assert.equal(toHex(rebuilt.bytes), g.hex, g.name);
    assert.equal(rebuilt.hashHex, g.hashHex, g.name);
  }
});

test('golden: signTx reproduces the signed transaction byte for byte', () => {
  const tx = signTx(golden.signedTx.input, goldenTrader, golden.chainId);
  assert.equal(toHex(tx.bytes), golden.signedTx.hex);
  assert.equal(toHex(tx.signature), golden.signedTx.signatureHex);
  assert.equal(
    opensslVerifies(
      concatBytes(utf8Encode(CHAIN), tx.bytes.subarray(4, tx.bytes.length - 97)),
      tx.signature,
      tx.publicKey,
    ),
    true,
  );
});
