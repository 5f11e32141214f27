// Light shape checks of what the server sends, so that a wrong server or proxy gives a clear
// `bad_response` instead of a TypeError deep inside the caller's code. The full shapes are in
// docs/ARCHITECTURE.md; only the fields the client relies on are checked here.

import type { BlockView, ChainInfo, ContractView, TxView } from '../chain/views.js';
import { ClientError } from './errors.js';
import { isRecord } from './http.js';

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['accepted', 'rejected', 'invalid']);

export function isFinal(view: TxView): boolean {
  return FINAL_STATUSES.has(view.status);
}

function fail(what: string, body: unknown): never {
  const excerpt = JSON.stringify(body)?.slice(0, 200) ?? String(body);
  throw new ClientError('bad_response', `expected ${what} from the server, got ${excerpt}`, {
    expected: what,
  });
}

export function isTxView(body: unknown): body is TxView {
  return isRecord(body) && typeof body['id'] === 'string' && typeof body['status'] === 'string';
}

export function asTxView(body: unknown): TxView {
  return isTxView(body) ? body : fail('a TxView', body);
}

export function asBlockView(body: unknown): BlockView {
  const ok =
    isRecord(body) && typeof body['height'] === 'number' && typeof body['hash'] === 'string';
  return ok ? (body as unknown as BlockView) : fail('a BlockView', body);
}

export function asBlockViews(body: unknown): BlockView[] {
  return Array.isArray(body) ? body.map(asBlockView) : fail('an array of BlockView', body);
}

export function asChainInfo(body: unknown): ChainInfo {
  const ok =
    isRecord(body) &&
    typeof body['chainId'] === 'string' &&
    typeof body['processorAddress'] === 'string';
  return ok
    ? (body as unknown as ChainInfo)
    : fail('chain info {chainId, processorAddress, ...}', body);
}

export function asContractViews(body: unknown): ContractView[] {
  if (!Array.isArray(body)) return fail('an array of contracts', body);
  for (const c of body) {
    if (!isRecord(c) || typeof c['hash'] !== 'string' || typeof c['type'] !== 'string')
      fail('a contract {hash, type, ...}', c);
  }
  return body as ContractView[];
}

export function asRawBlocks(body: unknown): Uint8Array[] {
  const blocks = isRecord(body) ? body['blocks'] : undefined;
  if (!Array.isArray(blocks) || !blocks.every((b) => typeof b === 'string'))
    return fail('{"blocks": [base64, ...]}', body);
  return blocks.map((b: string) => new Uint8Array(Buffer.from(b, 'base64')));
}

/** 'an array', 'null', 'a string', ...: for messages about a JSON value of the wrong kind. */
export function describeJsonType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const ID_HEX = /^[0-9a-fA-F]{32}$/;
const HASH_HEX = /^[0-9a-fA-F]{64}$/;

/** A transaction id as the API wants it: 32 lowercase hex characters. */
export function normaliseTxId(id: string): string {
  const trimmed = id.trim();
  if (!ID_HEX.test(trimmed)) {
    throw new ClientError(
      'bad_hex',
      `a transaction id is 32 hex characters (16 bytes), got "${id}"`,
      { id },
    );
  }
  return trimmed.toLowerCase();
}

/** A contract hash: 64 lowercase hex characters. */
export function normaliseContractHash(hash: string): string {
  const trimmed = hash.trim();
  if (!HASH_HEX.test(trimmed)) {
    throw new ClientError(
      'bad_hex',
      `a contract hash is 64 hex characters (32 bytes), got "${hash}"`,
      { hash },
    );
  }
  return trimmed.toLowerCase();
}

export function checkHeight(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ClientError('bad_request', `${name} must be an integer >= 0, got ${value}`, {
      [name]: value,
    });
  }
  return value;
}
