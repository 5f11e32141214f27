// Byte helpers, base58, keys and the transaction codec: exact error codes for each malformation,
// round trips (also as fast-check properties), signing and verification edge cases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  base58CheckDecode,
  base58CheckEncode,
  base58Decode,
  base58Encode,
} from '../src/core/base58.js';
import {
  concatBytes,
  fromHex,
  isHex,
  readU64LE,
  toHex,
  truncateUtf8,
  utf8Decode,
  utf8Encode,
  writeU32LE,
  writeU64LE,
} from '../src/core/bytes.js';
import { ChainError } from '../src/core/errors.js';
import {
  PrivateKey,
  addressFromPublicKey,
  addressOfPublicKey,
  isAddress,
  isValidPublicKey,
  verifyDigest,
} from '../src/core/keys.js';
import {
  TX_BYTES_MIN,
  TX_PAYLOAD_BYTES_MAX,
  decodeTx,
  encodeTx,
  lengthPrefixMatches,
  randomTxIdHex,
  receiverOf,
  signTx,
  txDigest,
  verifyTxBytesSignature,
  verifyTxSignature,
  withCorrectLengthPrefix,
} from '../src/chain/tx.js';
import type { TxFields } from '../src/chain/tx.js';

const SEED = Number(process.env.SEED ?? 1);
const CHAIN = 'hanzenet';
const N = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
const key = PrivateKey.fromBytes(
  fromHex('a29e720b6925d08235ad01c35f8bdc34ed07241280e57e3ea55c3c46fc6a80de'),
);
const otherKey = PrivateKey.fromBytes(
  fromHex('eda425174936cacf1a04fca8bf1455a1b557b114404a921eee8409ecc8e69bb0'),
);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainError) return err.code;
    throw err;
  }
  return 'no error';
}

function scalarBytes(v: bigint): Uint8Array {
  return fromHex(v.toString(16).padStart(64, '0'), 32);
}

function sampleFields(overrides: Partial<TxFields> = {}): TxFields {
  return {
    idHex: '00112233445566778899aabbccddeeff',
    contractHashHex: 'ab'.repeat(32),
    validTillMs: 1_700_000_000_000,
    payloadText: '{"context":"x","amount":12.5}',
    signature: new Uint8Array(64).fill(7),
    publicKey: key.publicKey,
    ...overrides,
  };
}

/** Encoded bytes with the payload replaced by raw bytes (encodeTx only takes text). */
function withPayloadBytes(payload: Uint8Array): Uint8Array {
  const base = encodeTx(sampleFields({ payloadText: '' }));
  const out = concatBytes(base.subarray(0, 61), payload, base.subarray(61));
  writeU32LE(out, 0, out.length - 4);
  return out;
}

test('hex: lowercase out, either case in, bad_hex with what was expected', () => {
  assert.equal(toHex(Uint8Array.of(0, 0xab, 0xff)), '00abff');
  assert.deepEqual(fromHex('00ABff'), Uint8Array.of(0, 0xab, 0xff));
  assert.equal(
    codeOf(() => fromHex('abc')),
    'bad_hex',
  );
  assert.equal(
    codeOf(() => fromHex('zz')),
    'bad_hex',
  );
  assert.equal(
    codeOf(() => fromHex('abcd', 3)),
    'bad_hex',
  );
  assert.throws(() => fromHex('abcd', 3), /expected 3 bytes \(6 hex digits\), got 2 bytes/);
  assert.equal(isHex('abCD'), true);
  assert.equal(isHex('abCD', 2), true);
  assert.equal(isHex('abCD', 3), false);
  assert.equal(isHex('xy'), false);
  assert.equal(isHex(12), false);
});

test('u64: round trip up to 2^53-1, RangeError above', () => {
  const b = new Uint8Array(8);
  for (const v of [0, 1, 0xffffffff, 0x1_0000_0000, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]) {
    writeU64LE(b, 0, v);
    assert.equal(readU64LE(b, 0), v);
  }
  b.set([0, 0, 0, 0, 0, 0, 0x20, 0]);
  assert.throws(() => readU64LE(b, 0), RangeError);
  assert.throws(() => writeU64LE(b, 0, 2 ** 53), RangeError);
  assert.throws(() => writeU64LE(b, 0, -1), RangeError);
});

test('utf8: strict decoding, BOM kept, truncation never splits a character', () => {
  assert.throws(() => utf8Decode(Uint8Array.of(0xc3)), TypeError);
  assert.throws(
    () => utf8Decode(Uint8Array.of(0xed, 0xa0, 0x80)),
    TypeError,
    'a UTF-8 encoded surrogate',
  );
  assert.equal(utf8Decode(utf8Encode('\ufeff{}')), '\ufeff{}');
  assert.equal(truncateUtf8('ab☀cd', 4), 'ab');
  assert.equal(truncateUtf8('ab☀cd', 5), 'ab☀');
  assert.equal(truncateUtf8('short', 100), 'short');
});

test('base58: leading zeros, bad characters, checksums', () => {
  assert.equal(base58Encode(Uint8Array.of(0, 0, 1)), '112');
  assert.deepEqual(base58Decode('112'), Uint8Array.of(0, 0, 1));
  assert.equal(base58Encode(new Uint8Array()), '');
  assert.equal(base58Decode('0OIl'), null);
  assert.equal(base58Decode('1'.repeat(129)), null, 'longer than any key or address');
  const check = base58CheckEncode(Uint8Array.of(1, 2, 3));
  assert.deepEqual(base58CheckDecode(check), Uint8Array.of(1, 2, 3));
  assert.equal(base58CheckDecode(`${check.slice(0, -1)}${check.endsWith('2') ? '3' : '2'}`), null);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
      assert.deepEqual(base58Decode(base58Encode(bytes)), bytes);
      assert.deepEqual(base58CheckDecode(base58CheckEncode(bytes)), bytes);
    }),
    { seed: SEED },
  );
});

test('keys: fromBytes and generate refuse out-of-range scalars with key_invalid', () => {
  assert.equal(
    codeOf(() => PrivateKey.fromBytes(new Uint8Array(32))),
    'key_invalid',
  );
  assert.equal(
    codeOf(() => PrivateKey.fromBytes(scalarBytes(N))),
    'key_invalid',
  );
  assert.equal(
    codeOf(() => PrivateKey.fromBytes(new Uint8Array(31).fill(1))),
    'key_invalid',
  );
  assert.equal(PrivateKey.fromBytes(scalarBytes(N - 1n)).publicKey.length, 33);
  const g = PrivateKey.generate();
  assert.ok(isAddress(g.address));
  assert.equal(PrivateKey.fromWIF(g.toWIF()).address, g.address);
  assert.equal(
    JSON.stringify(g),
    JSON.stringify({ address: g.address }),
    'the secret never reaches JSON',
  );
});

test('keys: the bytes and publicKey getters return copies', () => {
  const k = PrivateKey.fromWIF(key.toWIF());
  k.bytes.fill(0);
  k.publicKey.fill(0);
  assert.equal(toHex(k.bytes), toHex(key.bytes));
  assert.ok(isValidPublicKey(k.publicKey));
});

test('addressOfPublicKey: the address for valid keys (also when asked again), null for invalid ones, never remembered as valid', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
      const key = PrivateKey.generateNonRandom(seed, new Uint8Array(0));
      const pk = key.publicKey;
      assert.equal(addressOfPublicKey(pk), addressFromPublicKey(pk));
      assert.equal(
        addressOfPublicKey(Buffer.from(pk)),
        key.address,
        'a second time, from a Buffer',
      );
      const flipped = Uint8Array.from(pk);
      flipped[0] = flipped[0] === 0x02 ? 0x04 : 0x05;
      assert.equal(addressOfPublicKey(flipped), null, 'not a compressed key');
    }),
    { numRuns: 50, seed: 7 },
  );
  // x = 5 is not on secp256k1 (5^3 + 7 = 132 has no square root mod p).
  const offCurve = new Uint8Array(33);
  offCurve[0] = 0x02;
  offCurve[32] = 5;
  assert.equal(isValidPublicKey(offCurve), false);
  assert.equal(addressOfPublicKey(offCurve), null);
  assert.equal(addressOfPublicKey(offCurve), null, 'asked again');
  assert.equal(addressOfPublicKey(new Uint8Array(32)), null, 'wrong length');
});

test('signDigest: deterministic (RFC 6979), always low S, verifies', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
      const sig = key.signDigest(digest);
      assert.deepEqual(key.signDigest(digest), sig);
      assert.ok(BigInt(`0x${toHex(sig.subarray(32))}`) <= N / 2n);
      assert.equal(verifyDigest(digest, sig, key.publicKey), true);
      assert.equal(verifyDigest(digest, sig, otherKey.publicKey), false);
    }),
    { seed: SEED, numRuns: 50 },
  );
  assert.throws(() => key.signDigest(new Uint8Array(31)), TypeError);
});

test('verifyDigest: accepts high S, refuses r or s of 0 or >= n, never throws', () => {
  const digest = new Uint8Array(32).fill(9);
  const sig = key.signDigest(digest);
  const r = BigInt(`0x${toHex(sig.subarray(0, 32))}`);
  const s = BigInt(`0x${toHex(sig.subarray(32))}`);
  const high = concatBytes(scalarBytes(r), scalarBytes(N - s));
  assert.equal(verifyDigest(digest, high, key.publicKey), true);
  assert.deepEqual(
    sig.subarray(32),
    scalarBytes(s),
    'verifying did not change the caller signature',
  );
  for (const [rr, ss] of [
    [0n, s],
    [r, 0n],
    [N, s],
    [r, N],
    [r + N < 2n ** 256n ? r + N : r, s + N < 2n ** 256n ? s + N : N],
  ] as const) {
    assert.equal(
      verifyDigest(digest, concatBytes(scalarBytes(rr), scalarBytes(ss)), key.publicKey),
      false,
    );
  }
  assert.equal(verifyDigest(digest, new Uint8Array(64).fill(0xff), key.publicKey), false);
  assert.equal(verifyDigest(digest.subarray(1), sig, key.publicKey), false);
  assert.equal(verifyDigest(digest, sig.subarray(1), key.publicKey), false);
  const uncompressed = concatBytes(Uint8Array.of(4), new Uint8Array(64));
  assert.equal(verifyDigest(digest, sig, uncompressed), false);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ minLength: 64, maxLength: 64 }),
      fc.uint8Array({ minLength: 33, maxLength: 33 }),
      (d, sg, pk) => {
        assert.equal(typeof verifyDigest(d, sg, pk), 'boolean');
      },
    ),
    { seed: SEED },
  );
});

test('decodeTx: each malformation gives its exact code, checked in protocol order', () => {
  const good = encodeTx(sampleFields());
  assert.equal(decodeTx(good).payloadText, sampleFields().payloadText);
  assert.equal(
    codeOf(() => decodeTx(good.subarray(0, TX_BYTES_MIN - 1))),
    'tx_malformed',
  );
  assert.equal(
    codeOf(() => decodeTx(new Uint8Array())),
    'tx_malformed',
  );
  const v2 = good.slice();
  v2[4] = 2;
  assert.equal(
    codeOf(() => decodeTx(v2)),
    'tx_unsupported_version',
  );
  assert.throws(() => decodeTx(v2), /version must be 1, got 2/);
  const big = withPayloadBytes(utf8Encode(`{"a":"${'x'.repeat(TX_PAYLOAD_BYTES_MAX)}"}`));
  assert.equal(
    codeOf(() => decodeTx(big)),
    'tx_too_large',
  );
  const atLimit = withPayloadBytes(utf8Encode(`{"a":"${'x'.repeat(TX_PAYLOAD_BYTES_MAX - 8)}"}`));
  assert.equal(decodeTx(atLimit).payloadText.length, TX_PAYLOAD_BYTES_MAX);
  const badKey = good.slice();
  badKey[badKey.length - 33] = 4;
  assert.equal(
    codeOf(() => decodeTx(badKey)),
    'tx_bad_public_key',
  );
  const offCurve = good.slice();
  offCurve.set(
    fromHex('020000000000000000000000000000000000000000000000000000000000000005'),
    offCurve.length - 33,
  );
  assert.equal(
    codeOf(() => decodeTx(offCurve)),
    'tx_bad_public_key',
  );
  const late = good.slice();
  late.set([0, 0, 0, 0, 0, 0, 0x20, 0], 53);
  assert.equal(
    codeOf(() => decodeTx(late)),
    'tx_bad_valid_till',
  );
  const maxSafe = good.slice();
  maxSafe.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0], 53);
  assert.equal(decodeTx(maxSafe).validTillMs, Number.MAX_SAFE_INTEGER);
  const both = v2.slice();
  both[both.length - 33] = 4;
  assert.equal(
    codeOf(() => decodeTx(both)),
    'tx_unsupported_version',
    'the version is checked before the key',
  );
});

test('decodeTx: payloads that are not UTF-8 JSON text of an object give tx_payload_not_json', () => {
  const notJson = ['', '[1,2]', 'null', '"text"', '12', '{', '{"a":1}x', '\ufeff{}', "{'a':1}"];
  for (const text of notJson) {
    assert.equal(
      codeOf(() => decodeTx(withPayloadBytes(utf8Encode(text)))),
      'tx_payload_not_json',
      JSON.stringify(text),
    );
  }
  assert.equal(
    codeOf(() => decodeTx(withPayloadBytes(Uint8Array.of(0x7b, 0xff, 0x7d)))),
    'tx_payload_not_json',
  );
  assert.throws(
    () => decodeTx(withPayloadBytes(Uint8Array.of(0x7b, 0xff, 0x7d))),
    /not valid UTF-8/,
  );
  // Whitespace and key order are part of the signed text and survive exactly.
  for (const text of [' { "b" : 1 , "a" : [ ] } ', '{"a":1,"a":2}', '{"x":"\\u00e9é"}']) {
    assert.equal(decodeTx(withPayloadBytes(utf8Encode(text))).payloadText, text);
  }
});

test('decodeTx: the length prefix is not checked (Validana quirk); withCorrectLengthPrefix fixes it', () => {
  const tx = signTx(
    { contractHashHex: 'cd'.repeat(32), validTillMs: 0, payloadText: '{"a":1}' },
    key,
    CHAIN,
  );
  const wrong = tx.bytes.slice();
  writeU32LE(wrong, 0, 7);
  assert.equal(lengthPrefixMatches(wrong), false);
  const decoded = decodeTx(wrong);
  assert.equal(decoded.idHex, tx.idHex);
  assert.equal(verifyTxSignature(decoded, CHAIN), true, 'the prefix is not signed');
  const fixed = withCorrectLengthPrefix(wrong);
  assert.equal(lengthPrefixMatches(fixed), true);
  assert.deepEqual(fixed.subarray(4), wrong.subarray(4));
  assert.equal(withCorrectLengthPrefix(tx.bytes), tx.bytes, 'no copy when already correct');
});

test('decodeTx: the Tx owns its bytes', () => {
  const bytes = encodeTx(sampleFields());
  const tx = decodeTx(bytes);
  bytes.fill(0);
  assert.equal(tx.bytes[4], 1);
  assert.equal(tx.idHex, '00112233445566778899aabbccddeeff');
});

test('encodeTx: refuses fields that cannot be encoded', () => {
  assert.equal(
    codeOf(() => encodeTx(sampleFields({ idHex: 'abcd' }))),
    'bad_hex',
  );
  assert.equal(
    codeOf(() => encodeTx(sampleFields({ contractHashHex: 'zz'.repeat(32) }))),
    'bad_hex',
  );
  assert.equal(
    codeOf(() => encodeTx(sampleFields({ validTillMs: -1 }))),
    'tx_bad_valid_till',
  );
  assert.equal(
    codeOf(() => encodeTx(sampleFields({ validTillMs: 2 ** 53 }))),
    'tx_bad_valid_till',
  );
  assert.equal(
    codeOf(() => encodeTx(sampleFields({ validTillMs: 1.5 }))),
    'tx_bad_valid_till',
  );
  assert.equal(
    codeOf(() => encodeTx(sampleFields({ payloadText: 'x'.repeat(TX_PAYLOAD_BYTES_MAX + 1) }))),
    'tx_too_large',
  );
  assert.equal(
    codeOf(() => encodeTx(sampleFields({ signature: new Uint8Array(63) }))),
    'tx_malformed',
  );
  assert.equal(
    codeOf(() => encodeTx(sampleFields({ publicKey: new Uint8Array(65) }))),
    'tx_bad_public_key',
  );
});

const arbPayloadText = fc
  .dictionary(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: 6,
  })
  .map((o) => JSON.stringify(o));

const arbFields = fc.record({
  idHex: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(toHex),
  contractHashHex: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
  validTillMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  payloadText: arbPayloadText,
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  publicKey: fc.constantFrom(key.publicKey, otherKey.publicKey, PrivateKey.generate().publicKey),
});

test('property: decode(encode(fields)) gives the same fields', () => {
  fc.assert(
    fc.property(arbFields, (f) => {
      const bytes = encodeTx(f);
      assert.equal(lengthPrefixMatches(bytes), true);
      const tx = decodeTx(bytes);
      assert.equal(tx.idHex, f.idHex);
      assert.equal(tx.contractHashHex, f.contractHashHex);
      assert.equal(tx.validTillMs, f.validTillMs);
      assert.equal(tx.payloadText, f.payloadText);
      assert.deepEqual(tx.signature, f.signature);
      assert.deepEqual(tx.publicKey, f.publicKey);
      assert.deepEqual(encodeTx(tx), bytes);
    }),
    { seed: SEED, numRuns: 300 },
  );
});

test('property: signTx output verifies for its chain only, and any flipped signed byte breaks it', () => {
  fc.assert(
    fc.property(
      arbPayloadText,
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.nat(),
      (payloadText, validTillMs, pick) => {
        const tx = signTx(
          { contractHashHex: 'ef'.repeat(32), validTillMs, payloadText },
          key,
          CHAIN,
        );
        assert.equal(verifyTxSignature(tx, CHAIN), true);
        assert.equal(verifyTxSignature(tx, 'hanzenet2'), false);
        assert.equal(tx.sender, key.address);
        const flipped = tx.bytes.slice();
        const at = 4 + (pick % (flipped.length - 4));
        flipped[at] = (flipped[at] ?? 0) ^ 0x01;
        assert.equal(
          verifyTxBytesSignature(utf8Encode(CHAIN), flipped),
          false,
          `flipped byte ${at}`,
        );
      },
    ),
    { seed: SEED, numRuns: 100 },
  );
});

test('signTx: deterministic for fixed input, random id when absent', () => {
  const input = {
    idHex: 'c0'.repeat(16),
    contractHashHex: '01'.repeat(32),
    validTillMs: 5,
    payloadText: '{"a":"é"}',
  };
  const a = signTx(input, key, CHAIN);
  assert.deepEqual(signTx(input, key, CHAIN).bytes, a.bytes);
  assert.equal(a.idHex, 'c0'.repeat(16));
  const { idHex: _ignored, ...withoutId } = input;
  const b = signTx(withoutId, key, CHAIN);
  const c = signTx(withoutId, key, CHAIN);
  assert.match(b.idHex, /^[0-9a-f]{32}$/);
  assert.notEqual(b.idHex, c.idHex);
  assert.match(randomTxIdHex(), /^[0-9a-f]{32}$/);
  assert.equal(txDigest(CHAIN, a).length, 32);
  assert.equal(
    codeOf(() => signTx({ ...input, payloadText: '[1]' }, key, CHAIN)),
    'tx_payload_not_json',
  );
});

test('verifyTxBytesSignature: false for any length outside the format, never throws', () => {
  const prefix = utf8Encode(CHAIN);
  assert.equal(verifyTxBytesSignature(prefix, new Uint8Array(0)), false);
  assert.equal(verifyTxBytesSignature(prefix, new Uint8Array(TX_BYTES_MIN)), false);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      assert.equal(verifyTxBytesSignature(prefix, bytes), false);
    }),
    { seed: SEED },
  );
});

test('receiverOf: Validana receiver column semantics', () => {
  assert.equal(receiverOf('{"receiver":"1abc"}'), '1abc');
  assert.equal(receiverOf('{"receiver":12.5}'), '12.5');
  assert.equal(receiverOf('{"receiver":true}'), 'true');
  assert.equal(receiverOf('{"receiver":null}'), null);
  assert.equal(receiverOf('{"other":"x"}'), null);
  assert.equal(receiverOf('[1]'), null);
  assert.equal(receiverOf('not json'), null);
  assert.equal(receiverOf(`{"receiver":"${'a'.repeat(50)}"}`), 'a'.repeat(35));
  assert.equal(
    receiverOf(`{"receiver":"${'a'.repeat(34)}😀"}`),
    'a'.repeat(34),
    'no half surrogate pair',
  );
});

test('Buffer inputs are copied, never aliased or changed', () => {
  const tx = signTx(
    { contractHashHex: '03'.repeat(32), validTillMs: 0, payloadText: '{"b":1}' },
    key,
    CHAIN,
  );
  const buf = Buffer.from(tx.bytes);
  const decoded = decodeTx(buf);
  assert.equal(Buffer.isBuffer(decoded.bytes), false);
  buf.fill(0);
  assert.deepEqual(decoded.bytes, tx.bytes);
  const wrong = Buffer.from(tx.bytes);
  wrong.writeUInt32LE(1, 0);
  withCorrectLengthPrefix(wrong);
  assert.equal(wrong.readUInt32LE(0), 1, 'the caller buffer keeps its prefix');
  const digest = new Uint8Array(32).fill(3);
  const sig = key.signDigest(digest);
  const s = BigInt(`0x${toHex(sig.subarray(32))}`);
  const high = Buffer.from(concatBytes(sig.subarray(0, 32), scalarBytes(N - s)));
  const before = Buffer.from(high);
  assert.equal(verifyDigest(digest, high, key.publicKey), true);
  assert.deepEqual(high, before, 'normalising worked on a copy');
});
