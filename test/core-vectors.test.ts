// Golden vectors produced by the real Validana libraries (test/vectors/validana.json, a copy of
// shared/validana/vectors.json): our keys, addresses, transaction codec and signature checks must
// agree with them byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, readU32LE, toHex, utf8Encode } from '../src/core/bytes.js';
import { ChainError } from '../src/core/errors.js';
import { hash160, hash256 } from '../src/core/hash.js';
import {
  PrivateKey,
  addressFromPublicKey,
  addressToHash160,
  isAddress,
  isValidPublicKey,
  isValidWIF,
} from '../src/core/keys.js';
import {
  decodeTx,
  encodeTx,
  lengthPrefixMatches,
  receiverOf,
  txDigest,
  txSignedMessage,
  verifyTxSignature,
} from '../src/chain/tx.js';

interface KeyVector {
  role: string;
  privateKeyHex: string;
  wif: string;
  /** Absent on the generateNonRandom key. */
  wifRoundTrip?: string;
  publicKeyHex: string;
  address: string;
  /** Absent on the generateNonRandom key. */
  addressHash160Hex?: string;
}

interface TxVectorFields {
  lengthPrefix: number;
  actualLengthAfterPrefix: number;
  version: number;
  id: string;
  contractHash: string;
  validTill: number;
  payload: string;
  signature: string;
  publicKey: string;
  payloadUtf8Bytes: number;
}

interface TxVector {
  name: string;
  contractType: string;
  signerAddress: string;
  signPrefix: string;
  fields: TxVectorFields;
  inputPayloadObject: unknown;
  signedDataHex: string;
  signedDataHash256Hex: string;
  signatureR: string;
  signatureS: string;
  sIsHigh: boolean;
  base64tx: string;
  createdContractHashWouldBe?: string;
  createdContractHashIfValidanaVersion2?: string;
}

interface Vectors {
  signPrefix: string;
  keys: KeyVector[];
  rejectedWifs: { why: string; wif: string; coreIsValidWIF: boolean }[];
  rejectedAddresses: { why: string; address: string; coreIsValidAddress: boolean }[];
  rejectedPublicKeys: { why: string; hex: string; coreIsValidPublic: boolean }[];
  contracts: {
    type: string;
    contractHash: string;
    contractHashIfCreatedAsValidanaVersion2: string;
  }[];
  transactions: TxVector[];
  tampered: {
    name: string;
    base64tx: string;
    signedWithPrefix?: string;
    fields?: TxVectorFields;
  }[];
  malleability: { name: string; base64tx: string; originalSIsHigh: boolean }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/validana.json', import.meta.url), 'utf8'),
) as Vectors;
const PREFIX = vectors.signPrefix;
const CURVE_ORDER = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');

function txBytesOf(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainError) return err.code;
    throw err;
  }
  return 'no error';
}

test('the vectors are the ones this test was written for', () => {
  assert.equal(PREFIX, 'hanzenet');
  assert.equal(vectors.keys.length, 7);
  assert.equal(vectors.transactions.length, 8);
  assert.equal(vectors.tampered.length, 2);
  assert.equal(vectors.malleability.length, 1);
});

test('every key reproduces its WIF, public key, address and hash160', () => {
  for (const k of vectors.keys) {
    const key = PrivateKey.fromWIF(k.wif);
    assert.equal(key.toWIF(), k.wifRoundTrip ?? k.wif, k.role);
    assert.equal(toHex(key.bytes), k.privateKeyHex, k.role);
    assert.equal(toHex(key.publicKey), k.publicKeyHex, k.role);
    assert.equal(key.address, k.address, k.role);
    assert.equal(addressFromPublicKey(fromHex(k.publicKeyHex)), k.address, k.role);
    assert.equal(
      toHex(addressToHash160(k.address) ?? new Uint8Array()),
      toHex(hash160(key.publicKey)),
      k.role,
    );
    if (k.addressHash160Hex !== undefined)
      assert.equal(toHex(hash160(key.publicKey)), k.addressHash160Hex, k.role);
    assert.equal(PrivateKey.fromBytes(fromHex(k.privateKeyHex)).toWIF(), k.wif, k.role);
    assert.ok(isValidWIF(k.wif), k.role);
    assert.ok(isAddress(k.address), k.role);
    assert.ok(isValidPublicKey(fromHex(k.publicKeyHex)), k.role);
  }
});

test('the protocol check value d = 1', () => {
  const one = vectors.keys.find((k) => k.privateKeyHex === '00'.repeat(31) + '01');
  assert.ok(one);
  assert.equal(one.wif, 'KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn');
  assert.equal(one.address, '1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH');
});

test('every rejected WIF is refused with key_invalid', () => {
  for (const r of vectors.rejectedWifs) {
    assert.equal(r.coreIsValidWIF, false, r.why);
    assert.equal(isValidWIF(r.wif), false, r.why);
    assert.equal(
      codeOf(() => PrivateKey.fromWIF(r.wif)),
      'key_invalid',
      r.why,
    );
  }
});

test('addresses are accepted exactly when Validana core accepts them', () => {
  for (const r of vectors.rejectedAddresses)
    assert.equal(isAddress(r.address), r.coreIsValidAddress, r.why);
  assert.ok(vectors.rejectedAddresses.filter((r) => !r.coreIsValidAddress).length >= 4);
});

test('public keys are accepted exactly when Validana core accepts them', () => {
  for (const r of vectors.rejectedPublicKeys)
    assert.equal(isValidPublicKey(fromHex(r.hex)), r.coreIsValidPublic, r.why);
  assert.ok(vectors.rejectedPublicKeys.filter((r) => !r.coreIsValidPublic).length >= 3);
});

test('every valid transaction decodes to exactly its fields', () => {
  for (const v of vectors.transactions) {
    const bytes = txBytesOf(v.base64tx);
    const tx = decodeTx(bytes);
    const f = v.fields;
    assert.equal(readU32LE(bytes, 0), f.lengthPrefix, v.name);
    assert.equal(bytes.length - 4, f.actualLengthAfterPrefix, v.name);
    assert.ok(lengthPrefixMatches(bytes), v.name);
    assert.equal(tx.version, f.version, v.name);
    assert.equal(tx.idHex, f.id, v.name);
    assert.equal(tx.contractHashHex, f.contractHash, v.name);
    assert.equal(tx.validTillMs, f.validTill, v.name);
    assert.equal(tx.payloadText, f.payload, v.name);
    assert.equal(utf8Encode(tx.payloadText).length, f.payloadUtf8Bytes, v.name);
    assert.deepEqual(JSON.parse(tx.payloadText), v.inputPayloadObject, v.name);
    assert.equal(toHex(tx.signature), f.signature, v.name);
    assert.equal(toHex(tx.publicKey), f.publicKey, v.name);
    assert.equal(tx.sender, v.signerAddress, v.name);
    assert.deepEqual(tx.bytes, bytes, v.name);
  }
});

test('encoding the fields of every valid transaction gives the same bytes', () => {
  for (const v of vectors.transactions) {
    const f = v.fields;
    const encoded = encodeTx({
      idHex: f.id,
      contractHashHex: f.contractHash,
      validTillMs: f.validTill,
      payloadText: f.payload,
      signature: fromHex(f.signature, 64),
      publicKey: fromHex(f.publicKey, 33),
    });
    assert.equal(Buffer.from(encoded).toString('base64'), v.base64tx, v.name);
  }
});

test('signed data and its hash256 match, and the signature verifies for hanzenet only', () => {
  for (const v of vectors.transactions) {
    assert.equal(v.signPrefix, PREFIX, v.name);
    const tx = decodeTx(txBytesOf(v.base64tx));
    assert.equal(toHex(txSignedMessage(PREFIX, tx.bytes)), v.signedDataHex, v.name);
    assert.equal(toHex(hash256(fromHex(v.signedDataHex))), v.signedDataHash256Hex, v.name);
    assert.equal(toHex(txDigest(PREFIX, tx)), v.signedDataHash256Hex, v.name);
    assert.equal(verifyTxSignature(tx, PREFIX), true, v.name);
    assert.equal(verifyTxSignature(tx, 'wrongnet'), false, v.name);
  }
});

test('high-S signatures occur in the vectors and are marked correctly', () => {
  for (const v of vectors.transactions) {
    assert.equal(
      toHex(decodeTx(txBytesOf(v.base64tx)).signature),
      v.signatureR + v.signatureS,
      v.name,
    );
    assert.equal(BigInt(`0x${v.signatureS}`) > CURVE_ORDER / 2n, v.sIsHigh, v.name);
  }
  assert.ok(
    vectors.transactions.some((v) => v.sIsHigh),
    'at least one high-S vector',
  );
  assert.ok(
    vectors.transactions.some((v) => !v.sIsHigh),
    'at least one low-S vector',
  );
});

test('every tampered transaction decodes but fails verification', () => {
  for (const t of vectors.tampered) {
    const tx = decodeTx(txBytesOf(t.base64tx));
    assert.equal(verifyTxSignature(tx, PREFIX), false, t.name);
    if (t.signedWithPrefix !== undefined)
      assert.equal(
        verifyTxSignature(tx, t.signedWithPrefix),
        true,
        `${t.name}: control with its own prefix`,
      );
  }
});

test('the other S half of a signature also verifies (no low-S rule for transactions)', () => {
  for (const m of vectors.malleability) {
    const tx = decodeTx(txBytesOf(m.base64tx));
    assert.equal(verifyTxSignature(tx, PREFIX), true, m.name);
    const s = BigInt(`0x${toHex(tx.signature.subarray(32))}`);
    assert.equal(s > CURVE_ORDER / 2n, !m.originalSIsHigh, m.name);
    const original = vectors.transactions.find((v) => v.fields.id === tx.idHex);
    assert.ok(original, `${m.name}: its original is among the transactions`);
    assert.equal(toHex(tx.signature.subarray(0, 32)), original.signatureR);
    assert.equal(BigInt(`0x${original.signatureS}`) + s, CURVE_ORDER);
  }
});

test('contract hashes: the create vector reproduces its hash from its code text (v1 and v2)', () => {
  const create = vectors.transactions.find((v) => v.createdContractHashWouldBe !== undefined);
  assert.ok(create);
  const code = Buffer.from((create.inputPayloadObject as { code: string }).code, 'base64').toString(
    'utf8',
  );
  assert.equal(toHex(hash256(utf8Encode(code))), create.createdContractHashWouldBe);
  assert.equal(
    toHex(hash256(utf8Encode(`"use strict";${code}`))),
    create.createdContractHashIfValidanaVersion2,
  );
});

test('contract hashes: the HanzeNet contract hashes agree with every transaction that names them', () => {
  // The vectors hold the HanzeNet contracts' hashes but not their code text, so the hashes are
  // checked against the transactions that call or delete them, and the known Trader hash.
  const byType = new Map(vectors.contracts.map((c) => [c.type, c.contractHash]));
  assert.equal(
    byType.get('Trader'),
    'af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a',
  );
  let checked = 0;
  for (const v of vectors.transactions) {
    const hash = byType.get(v.contractType);
    if (hash === undefined) continue;
    assert.equal(decodeTx(txBytesOf(v.base64tx)).contractHashHex, hash, v.name);
    checked++;
  }
  assert.ok(checked >= 6, `checked ${checked} transactions against contract hashes`);
  const del = vectors.transactions.find(
    (v) => v.contractType === '__delete__' || v.fields.contractHash === 'ff'.repeat(32),
  );
  assert.ok(del);
  assert.equal((JSON.parse(del.fields.payload) as { hash: string }).hash, byType.get('Trader'));
  for (const c of vectors.contracts) {
    assert.match(c.contractHash, /^[0-9a-f]{64}$/);
    assert.notEqual(c.contractHash, c.contractHashIfCreatedAsValidanaVersion2, c.type);
  }
});

test('receiver of the Transfer vector is its receiver address', () => {
  const transfer = vectors.transactions.find((v) => v.contractType === 'Transfer');
  assert.ok(transfer);
  assert.equal(receiverOf(transfer.fields.payload), '152U9ue72DnbDjRqfUH3v2gARctBYrbf54');
  const trader = vectors.transactions.find((v) => v.contractType === 'Trader');
  assert.ok(trader);
  assert.equal(receiverOf(trader.fields.payload), null);
});

test('generateNonRandom reproduces the vector key', () => {
  const v = vectors.keys.find((k) => k.role.startsWith('generateNonRandom('));
  assert.ok(v);
  assert.equal(v.role, "generateNonRandom(utf8 'hanzenet-vector', utf8 'salt')");
  const key = PrivateKey.generateNonRandom(utf8Encode('hanzenet-vector'), utf8Encode('salt'));
  assert.equal(toHex(key.bytes), v.privateKeyHex);
  assert.equal(toHex(key.bytes), toHex(hash256(utf8Encode('hanzenet-vectorsalt'))));
  assert.equal(key.toWIF(), v.wif);
  assert.equal(key.address, v.address);
});

test('generateNonRandom matches Validana core (its own unit test value)', () => {
  // validana-core's test suite: generateNonRandom("abc", "def").toWIF().
  const key = PrivateKey.generateNonRandom(utf8Encode('abc'), utf8Encode('def'));
  assert.equal(key.toWIF(), 'L48vP7Bid6PWYmgQFeaQnhWc9acFuY7GvWqw7nrRMRegdWRBqNkr');
});
