// The chain tables' reads: the head, the genesis meta, blocks (raw and as BlockView),
// transactions by id, and contracts.

import { genesisViewOf } from '../../chain/projections.js';
import type {
  ContractManifest,
  ContractRecord,
  TableDef,
  Template,
} from '../../chain/contract-model.js';
import type { HeadInfo } from '../../chain/header-rules.js';
import type { TxRecord } from '../../chain/records.js';
import type { GenesisInfo, TxOutcome } from '../../chain/types.js';
import type { BlockTxSummary, BlockView } from '../../chain/views.js';
import { ChainError, isInvalidCode } from '../../core/errors.js';
import { ROWS_PER_STATEMENT_MAX } from '../contract-tables.js';
import {
  arrayLiteral,
  asBuffer,
  bufferHex,
  byteaElement,
  normalHex,
  toNullableNumber,
  toSafeNumber,
} from '../sql-values.js';
import type { Sql } from '../types.js';

/** The most blocks one readRawBlocks/readBlockViews call returns. */
export const BLOCKS_PER_READ_MAX = 1000;

/** Keys of the genesis information in chain.meta. */
export const META_KEYS = {
  chainId: 'chain_id',
  processorAddress: 'processor_address',
  processorPublicKeyHex: 'processor_public_key',
} as const;

const TX_COLUMN_NAMES = [
  'id',
  'bytes',
  'contract_hash',
  'contract_type',
  'sender',
  'valid_till_ms',
  'payload',
  'signature',
  'public_key',
  'status',
  'code',
  'message',
  'create_ms',
  'processed_ms',
  'block_height',
  'position',
  'receiver',
] as const;

/** The transaction columns, `payload` as text, from table alias `t`. */
function txColumns(t: string): string {
  return TX_COLUMN_NAMES.map((c) =>
    c === 'payload' ? `${t}.payload::text AS payload_text` : `${t}.${c}`,
  ).join(', ');
}

/**
 * Ids in $1 (a bytea[] literal) as rows `w(id)`. Joining them to a table lets the planner pick an
 * index lookup per id or one hash join; `id = ANY($1)` can end up as a scan that compares every
 * row with every id (PGlite never analyzes, so its plans are chosen without statistics).
 */
const ID_LIST = `unnest($1::text::bytea[]) AS w(id)`;

/** Encoded blocks fromHeight.., at most `limit`. */
export async function readRawBlocks(
  sql: Sql,
  fromHeight: number,
  limit: number,
): Promise<Uint8Array[]> {
  checkRange(fromHeight, limit);
  const { rows } = await sql.query<{ bytes: unknown }>(
    `SELECT bytes FROM chain.blocks WHERE height >= $1::bigint AND height < $1::bigint + $2::bigint ORDER BY height`,
    [fromHeight, limit],
  );
  return rows.map((r) => asBuffer(r.bytes));
}

/** Headers and transaction summaries of blocks fromHeight.. (two queries, three from genesis). */
export async function readBlockViews(
  sql: Sql,
  fromHeight: number,
  limit: number,
): Promise<BlockView[]> {
  checkRange(fromHeight, limit);
  const params = [fromHeight, limit];
  const blocks = await sql.query<Record<string, unknown>>(
    `SELECT height, hash, previous_hash, processed_ms, state_digest, tx_count, signature FROM chain.blocks
     WHERE height >= $1::bigint AND height < $1::bigint + $2::bigint ORDER BY height`,
    params,
  );
  if (blocks.rows.length === 0) return [];
  const txs = await sql.query<Record<string, unknown>>(
    `SELECT block_height, id, contract_type, sender, status, code, message FROM chain.transactions
     WHERE block_height >= $1::bigint AND block_height < $1::bigint + $2::bigint ORDER BY block_height, position`,
    params,
  );
  const byHeight = new Map<number, BlockTxSummary[]>();
  for (const r of txs.rows) {
    const height = toSafeNumber(r['block_height'], 'block_height');
    let list = byHeight.get(height);
    if (list === undefined) byHeight.set(height, (list = []));
    list.push(blockTxSummaryOfRow(r));
  }
  const meta = fromHeight === 0 ? await readMeta(sql) : null;
  return blocks.rows.map((r) => blockViewOfRow(r, byHeight, meta));
}

/** Transactions in a block, else the latest refusal of each id, keyed by the ids as given. */
export async function readTransactions(
  sql: Sql,
  ids: readonly string[],
): Promise<Map<string, TxRecord>> {
  const found = new Map<string, TxRecord>();
  const wanted = normalIds(ids);
  for (let i = 0; i < wanted.length; i += ROWS_PER_STATEMENT_MAX) {
    const chunk = wanted.slice(i, i + ROWS_PER_STATEMENT_MAX);
    const { rows } = await sql.query<Record<string, unknown>>(
      `SELECT ${txColumns('t')}, 0 AS source FROM ${ID_LIST} JOIN chain.transactions t ON t.id = w.id
       UNION ALL
       SELECT ${txColumns('t')}, 1 AS source FROM ${ID_LIST} JOIN chain.invalid_transactions t ON t.id = w.id
       ORDER BY source DESC`,
      [arrayLiteral(chunk.map(([, hex]) => byteaElement(hex)))],
    );
    // Rows of `transactions` come last, so they replace a refusal of the same id.
    const byHex = new Map<string, TxRecord>();
    for (const r of rows) byHex.set(bufferHex(r['id']), txRecordOf(r));
    for (const [given, hex] of chunk) {
      const record = byHex.get(hex);
      if (record !== undefined) found.set(given, record);
    }
  }
  return found;
}

/** The ids (as given) that a block already holds. Refused (invalid) ids do not count. */
export async function readKnownTxIds(sql: Sql, ids: readonly string[]): Promise<Set<string>> {
  const known = new Set<string>();
  const wanted = normalIds(ids);
  for (let i = 0; i < wanted.length; i += ROWS_PER_STATEMENT_MAX) {
    const chunk = wanted.slice(i, i + ROWS_PER_STATEMENT_MAX);
    const { rows } = await sql.query<{ id: unknown }>(
      `SELECT t.id FROM ${ID_LIST} JOIN chain.transactions t ON t.id = w.id`,
      [arrayLiteral(chunk.map(([, hex]) => byteaElement(hex)))],
    );
    const present = new Set(rows.map((r) => bufferHex(r.id)));
    for (const [given, hex] of chunk) if (present.has(hex)) known.add(given);
  }
  return known;
}

export async function readHead(sql: Sql): Promise<HeadInfo | null> {
  const { rows } = await sql.query<Record<string, unknown>>(
    `SELECT height, hash, processed_ms FROM chain.blocks ORDER BY height DESC LIMIT 1`,
  );
  const r = rows[0];
  if (r === undefined) return null;
  return {
    height: toSafeNumber(r['height'], 'height'),
    hashHex: bufferHex(r['hash']),
    processedMs: toSafeNumber(r['processed_ms'], 'processed_ms'),
  };
}

export async function readMeta(sql: Sql): Promise<GenesisInfo | null> {
  const { rows } = await sql.query<{ key: string; value: string }>(
    `SELECT key, value FROM chain.meta WHERE key = ANY($1::text::text[])`,
    [arrayLiteral(Object.values(META_KEYS))],
  );
  const values = new Map(rows.map((r) => [r.key, r.value]));
  const chainId = values.get(META_KEYS.chainId);
  const processorAddress = values.get(META_KEYS.processorAddress);
  const processorPublicKeyHex = values.get(META_KEYS.processorPublicKeyHex);
  if (
    chainId === undefined ||
    processorAddress === undefined ||
    processorPublicKeyHex === undefined
  )
    return null;
  return { chainId, processorAddress, processorPublicKeyHex };
}

export async function loadContracts(sql: Sql): Promise<ContractRecord[]> {
  const { rows } = await sql.query<Record<string, unknown>>(
    `SELECT hash, type, version, description, template, validana_version, manifest, code, creator, created_height, deleted_height
     FROM chain.contracts ORDER BY created_height, hash`,
  );
  return rows.map((r) => ({
    hashHex: bufferHex(r['hash']),
    type: r['type'] as string,
    version: r['version'] as string,
    description: r['description'] as string,
    template: r['template'] as Template,
    validanaVersion: toSafeNumber(r['validana_version'], 'validana_version'),
    manifest: r['manifest'] as ContractManifest,
    code: r['code'] as string,
    creator: r['creator'] as string,
    createdHeight: toSafeNumber(r['created_height'], 'created_height'),
    deletedHeight: toNullableNumber(r['deleted_height'], 'deleted_height'),
  }));
}

export async function loadTableDefs(sql: Sql): Promise<Map<string, TableDef>> {
  const defs = new Map<string, TableDef>();
  for (const contract of await loadContracts(sql)) {
    for (const [name, def] of Object.entries(contract.manifest.tables))
      if (!defs.has(name)) defs.set(name, def);
  }
  return defs;
}

export function checkRange(fromHeight: number, limit: number): void {
  if (!Number.isSafeInteger(fromHeight) || fromHeight < 0) {
    throw new ChainError(
      'bad_request',
      `from height must be a non-negative integer, got ${fromHeight}`,
      { fromHeight },
    );
  }
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > BLOCKS_PER_READ_MAX) {
    throw new ChainError(
      'bad_request',
      `limit must be an integer from 0 to ${BLOCKS_PER_READ_MAX}, got ${limit}`,
      { limit },
    );
  }
}

/** [id as given, lowercase hex] pairs; throws bad_hex when an id is not 16 bytes of hex. */
function normalIds(ids: readonly string[]): [string, string][] {
  return ids.map((id) => [id, normalHex(id, 'transaction id', 16)]);
}

function blockTxSummaryOfRow(r: Record<string, unknown>): BlockTxSummary {
  return {
    id: bufferHex(r['id']),
    contractType: (r['contract_type'] as string | null) ?? null,
    sender: r['sender'] as string,
    status: r['status'] as 'accepted' | 'rejected',
    code: (r['code'] as string | null) ?? null,
    message: r['message'] as string,
  };
}

function blockViewOfRow(
  r: Record<string, unknown>,
  txs: Map<number, BlockTxSummary[]>,
  meta: GenesisInfo | null,
): BlockView {
  const height = toSafeNumber(r['height'], 'height');
  return {
    height,
    hash: bufferHex(r['hash']),
    previousHash: bufferHex(r['previous_hash']),
    processedMs: toSafeNumber(r['processed_ms'], 'processed_ms'),
    stateDigest: bufferHex(r['state_digest']),
    txCount: toSafeNumber(r['tx_count'], 'tx_count'),
    transactions: txs.get(height) ?? [],
    signature: bufferHex(r['signature']),
    genesis: height === 0 && meta !== null ? genesisViewOf(meta) : null,
  };
}

function txOutcomeOf(status: string, code: string | null, message: string): TxOutcome {
  if (status === 'accepted') return { status, message };
  if (status === 'rejected') return { status, code: code ?? '', message };
  if (status === 'invalid' && code !== null && isInvalidCode(code))
    return { status, code, message };
  if (status === 'invalid')
    throw new ChainError(
      'chain_mismatch',
      `a stored invalid transaction has code ${JSON.stringify(code)}, which no transaction ends invalid with`,
    );
  throw new ChainError(
    'chain_mismatch',
    `a stored transaction has status ${JSON.stringify(status)}`,
  );
}

function txRecordOf(r: Record<string, unknown>): TxRecord {
  return {
    idHex: bufferHex(r['id']),
    bytes: asBuffer(r['bytes']),
    contractHashHex: bufferHex(r['contract_hash']),
    contractType: (r['contract_type'] as string | null) ?? null,
    sender: r['sender'] as string,
    validTillMs: toSafeNumber(r['valid_till_ms'], 'valid_till_ms'),
    payloadText: r['payload_text'] as string,
    signatureHex: bufferHex(r['signature']),
    publicKeyHex: bufferHex(r['public_key']),
    createMs: toSafeNumber(r['create_ms'], 'create_ms'),
    outcome: txOutcomeOf(
      r['status'] as string,
      (r['code'] as string | null) ?? null,
      r['message'] as string,
    ),
    blockHeight: toNullableNumber(r['block_height'], 'block_height'),
    position: toNullableNumber(r['position'], 'position'),
    processedMs: toSafeNumber(r['processed_ms'], 'processed_ms'),
    receiver: (r['receiver'] as string | null) ?? null,
  };
}
