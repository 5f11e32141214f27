// Transactions in the v1 layout (PROTOCOL.md section 2) for the in-memory ledger double
// (memory-ledger.ts): decoded just enough to know ids, hashes and payloads, and encoded without a
// real signature so that tests can make any transaction they need.

import { createHash } from 'node:crypto';
import type { ApiError } from '../../src/api/types.js';
import type { Tx } from '../../src/chain/types.js';

export interface FakeTx {
  readonly bytes: Uint8Array;
  readonly idHex: string;
  readonly contractHashHex: string;
  readonly validTillMs: number;
  readonly payloadText: string;
  readonly payload: Record<string, unknown>;
  readonly signatureHex: string;
  readonly publicKeyHex: string;
  readonly sender: string;
}

/** The public key of the vectors' "context" role; its address is 1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4. */
export const CONTEXT_PUBLIC_KEY =
  '027ee7cd1232d219c2843a31a3f1e10e9522dd88a4a4b82db7801417d89fe09dea';

// ---- the v1 layout (PROTOCOL.md section 2), just enough for a fake ------------------------

function refusal(code: string, message: string): { ok: false; error: ApiError } {
  return { ok: false, error: { code, message, details: {} } };
}

export function decodeFakeTx(
  bytes: Uint8Array,
): { ok: true; tx: FakeTx } | { ok: false; error: ApiError } {
  const buf = Buffer.from(bytes);
  if (buf.length < 158)
    return refusal('tx_malformed', `a transaction needs at least 158 bytes, got ${buf.length}`);
  if (buf[4] !== 1)
    return refusal('tx_unsupported_version', `transaction version must be 1, got ${buf[4]}`);
  const validTill = buf.readUInt32LE(53) + buf.readUInt32LE(57) * 2 ** 32;
  if (!Number.isSafeInteger(validTill))
    return refusal('tx_bad_valid_till', 'valid_till is larger than 2^53-1');
  const publicKey = buf.subarray(buf.length - 33);
  if (publicKey[0] !== 2 && publicKey[0] !== 3)
    return refusal('tx_bad_public_key', 'the public key is not compressed');
  const payloadText = buf.subarray(61, buf.length - 97).toString('utf8');
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch {
    return refusal('tx_payload_not_json', 'the payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return refusal('tx_payload_not_json', 'the payload is not a JSON object');
  return {
    ok: true,
    tx: {
      bytes,
      idHex: buf.subarray(5, 21).toString('hex'),
      contractHashHex: buf.subarray(21, 53).toString('hex'),
      validTillMs: validTill,
      payloadText,
      payload: payload as Record<string, unknown>,
      signatureHex: buf.subarray(buf.length - 97, buf.length - 33).toString('hex'),
      publicKeyHex: publicKey.toString('hex'),
      sender: addressOf(publicKey),
    },
  };
}

export interface TxFields {
  readonly idHex: string;
  readonly contractHashHex: string;
  readonly payload: unknown;
  readonly validTillMs?: number;
  readonly signatureHex?: string;
  readonly publicKeyHex?: string;
}

/** Encodes a (not really signed) v1 transaction for tests. */
export function encodeFakeTx(f: TxFields): Uint8Array {
  const validTill = f.validTillMs ?? 0;
  const head = Buffer.alloc(61);
  head.writeUInt8(1, 4);
  Buffer.from(f.idHex, 'hex').copy(head, 5);
  Buffer.from(f.contractHashHex, 'hex').copy(head, 21);
  head.writeUInt32LE(validTill % 2 ** 32, 53);
  head.writeUInt32LE(Math.floor(validTill / 2 ** 32), 57);
  const payload = Buffer.from(JSON.stringify(f.payload), 'utf8');
  const tail = Buffer.concat([
    Buffer.from(f.signatureHex ?? '11'.repeat(64), 'hex'),
    Buffer.from(f.publicKeyHex ?? CONTEXT_PUBLIC_KEY, 'hex'),
  ]);
  const all = Buffer.concat([head, payload, tail]);
  all.writeUInt32LE(all.length - 4, 0);
  return new Uint8Array(all);
}

export function coreTx(t: FakeTx): Tx {
  return {
    bytes: t.bytes,
    version: 1,
    idHex: t.idHex,
    contractHashHex: t.contractHashHex,
    validTillMs: t.validTillMs,
    payloadText: t.payloadText,
    signature: new Uint8Array(Buffer.from(t.signatureHex, 'hex')),
    publicKey: new Uint8Array(Buffer.from(t.publicKeyHex, 'hex')),
    sender: t.sender,
  };
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(data: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(data).toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = (BASE58[Number(n % 58n)] ?? '') + out;
    n /= 58n;
  }
  for (const byte of data) {
    if (byte !== 0) break;
    out = `1${out}`;
  }
  return out;
}

/** The Validana (Bitcoin P2PKH) address of a compressed public key. */
export function addressOf(publicKey: Uint8Array): string {
  const hash160 = createHash('ripemd160').update(sha256(publicKey)).digest();
  const versioned = Buffer.concat([Buffer.from([0]), hash160]);
  const checksum = sha256(sha256(versioned)).subarray(0, 4);
  return base58(Buffer.concat([versioned, checksum]));
}
