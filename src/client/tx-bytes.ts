// Transaction text and bytes as the client prepares them: the payload text checked once, the id
// read from signed bytes, base64 for the API.

import { toHex } from '../core/bytes.js';
import { describeJsonType } from './check.js';
import { ClientError } from './errors.js';
import { isRecord } from './http.js';

const PAYLOAD_BYTES_MAX = 100_000;
const TX_ID_OFFSET = 5;
const TX_ID_BYTES = 16;

/** The exact payload text: an object is serialised once; a string must already be a JSON object. */
export function payloadTextOf(payload: object | string): string {
  let text: string;
  let parsed: unknown = payload;
  if (typeof payload === 'string') {
    text = payload;
    try {
      parsed = JSON.parse(payload);
    } catch (err) {
      throw new ClientError(
        'tx_payload_not_json',
        `the payload is not JSON: ${(err as Error).message}`,
        {},
        null,
        { cause: err },
      );
    }
  } else {
    text = JSON.stringify(payload);
  }
  if (!isRecord(parsed)) {
    throw new ClientError(
      'tx_payload_not_json',
      `the payload must be a JSON object, got ${describeJsonType(parsed)}`,
      {},
    );
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > PAYLOAD_BYTES_MAX) {
    const details = { payloadBytes: bytes, payloadBytesMax: PAYLOAD_BYTES_MAX };
    throw new ClientError(
      'tx_too_large',
      `the payload is ${bytes} bytes, at most ${PAYLOAD_BYTES_MAX} are allowed`,
      details,
    );
  }
  return text;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function idOfBytes(bytes: Uint8Array): string | null {
  return bytes.length >= TX_ID_OFFSET + TX_ID_BYTES
    ? toHex(bytes.subarray(TX_ID_OFFSET, TX_ID_OFFSET + TX_ID_BYTES))
    : null;
}
