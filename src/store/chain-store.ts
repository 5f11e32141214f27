// The chain tables: blocks, transactions (in blocks and refused), contracts, meta, and the
// contract tables in schema `state`. A block and everything it caused commit in one database
// transaction with a handful of batched statements, whatever the number of transactions.

import { ChainError, isInvalidCode } from '../core/errors.js';
import type { GenesisInfo, TxOutcome } from '../core/types.js';
import { applyStateChanges, createContractTable, findRows, readRows, ROWS_PER_STATEMENT_MAX, scanTable, textProblem } from './contract-tables.js';
import { migrate } from './migrations.js';
import {
  arrayLiteral,
  base64Of,
  bufferHex,
  byteaElement,
  asBuffer,
  int8Text,
  normalHex,
  toNullableNumber,
  toSafeNumber,
} from './sql-values.js';
import type {
  ChainMeta,
  CommitBlockInput,
  ContractManifest,
  ContractRecord,
  Database,
  HeadInfo,
  Row,
  RowValue,
  Sql,
  StateReader,
  TableDef,
  Template,
  TxRecord,
} from './types.js';

/** The most blocks one getRawBlocks/getBlockRows call returns. */
export const BLOCKS_PER_READ_MAX = 1000;

const ZERO_HASH = '00'.repeat(32);
const META_KEYS = { chainId: 'chain_id', processorAddress: 'processor_address', processorPublicKeyHex: 'processor_public_key' } as const;

/** One transaction of a block as BlockView lists it. */
export interface BlockTxRow {
  readonly id: string;
  readonly contractType: string | null;
  readonly sender: string;
  readonly status: 'accepted' | 'rejected';
  readonly code: string | null;
  readonly message: string;
}

/** A stored block's header and transaction summaries: the shape of the API's BlockView. */
export interface BlockRow {
  readonly height: number;
  readonly hash: string;
  readonly previousHash: string;
  readonly processedMs: number;
  readonly stateDigest: string;
  readonly txCount: number;
  readonly transactions: readonly BlockTxRow[];
  readonly signature: string;
  readonly genesis: { readonly chainId: string; readonly processorPublicKey: string; readonly processorAddress: string } | null;
}

const TX_COLUMN_NAMES = [
  'id', 'bytes', 'contract_hash', 'contract_type', 'sender', 'valid_till_ms', 'payload', 'signature', 'public_key',
  'status', 'code', 'message', 'create_ms', 'processed_ms', 'block_height', 'position', 'receiver',
] as const;

/** The transaction columns, `payload` as text, from table alias `t`. */
function txColumns(t: string): string {
  return TX_COLUMN_NAMES.map((c) => (c === 'payload' ? `${t}.payload::text AS payload_text` : `${t}.${c}`)).join(', ');
}

/**
 * Ids in $1 (a bytea[] literal) as rows `w(id)`. Joining them to a table lets the planner pick an
 * index lookup per id or one hash join; `id = ANY($1)` can end up as a scan that compares every
 * row with every id (PGlite never analyzes, so its plans are chosen without statistics).
 */
const ID_LIST = `unnest($1::text::bytea[]) AS w(id)`;

export class ChainStore implements StateReader {
  private defsCache: Map<string, TableDef> | null = null;

  constructor(readonly db: Database) {}

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  async getMeta(): Promise<ChainMeta | null> {
    return readMeta(this.db);
  }

  async head(): Promise<HeadInfo | null> {
    return readHead(this.db);
  }

  /** Writes a block and all it caused in one transaction; nothing is written if any part fails. */
  async commitBlock(input: CommitBlockInput): Promise<void> {
    checkCommitInput(input);
    const defs = await this.db.transaction(async (sql) => {
      await assertLinksToHead(sql, input);
      const defs = new Map(this.defsCache ?? (await loadTableDefs(sql)));
      if (input.block.height === 0 && input.block.genesis !== null) await insertMeta(sql, input.block.genesis);
      await insertBlock(sql, input);
      await insertContracts(sql, input.createdContracts, defs);
      await markDeleted(sql, input.block.height, input.deletedContracts);
      await insertTransactions(sql, input);
      await upsertInvalid(sql, input.invalidRecords);
      await applyStateChanges(sql, defs, input.stateChanges);
      return defs;
    });
    this.defsCache = defs;
  }

  async getRawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]> {
    checkRange(fromHeight, limit);
    const { rows } = await this.db.query<{ bytes: unknown }>(
      `SELECT bytes FROM chain.blocks WHERE height >= $1::bigint AND height < $1::bigint + $2::bigint ORDER BY height`,
      [fromHeight, limit],
    );
    return rows.map((r) => asBuffer(r.bytes));
  }

  /** Headers and transaction summaries of blocks fromHeight.. (two queries, three from genesis). */
  async getBlockRows(fromHeight: number, limit: number): Promise<BlockRow[]> {
    checkRange(fromHeight, limit);
    const params = [fromHeight, limit];
    const blocks = await this.db.query<Record<string, unknown>>(
      `SELECT height, hash, previous_hash, processed_ms, state_digest, tx_count, signature FROM chain.blocks
       WHERE height >= $1::bigint AND height < $1::bigint + $2::bigint ORDER BY height`,
      params,
    );
    if (blocks.rows.length === 0) return [];
    const txs = await this.db.query<Record<string, unknown>>(
      `SELECT block_height, id, contract_type, sender, status, code, message FROM chain.transactions
       WHERE block_height >= $1::bigint AND block_height < $1::bigint + $2::bigint ORDER BY block_height, position`,
      params,
    );
    const byHeight = new Map<number, BlockTxRow[]>();
    for (const r of txs.rows) {
      const height = toSafeNumber(r['block_height'], 'block_height');
      let list = byHeight.get(height);
      if (list === undefined) byHeight.set(height, (list = []));
      list.push(blockTxRow(r));
    }
    const meta = fromHeight === 0 ? await this.getMeta() : null;
    return blocks.rows.map((r) => blockRow(r, byHeight, meta));
  }

  /** A transaction in a block, else the latest refusal of that id, else null. */
  async getTransaction(idHex: string): Promise<TxRecord | null> {
    return (await this.getTransactions([idHex])).get(idHex) ?? null;
  }

  /** Like getTransaction for many ids at once; the map is keyed by the ids as given. */
  async getTransactions(ids: readonly string[]): Promise<Map<string, TxRecord>> {
    const found = new Map<string, TxRecord>();
    const wanted = normalIds(ids);
    for (let i = 0; i < wanted.length; i += ROWS_PER_STATEMENT_MAX) {
      const chunk = wanted.slice(i, i + ROWS_PER_STATEMENT_MAX);
      const { rows } = await this.db.query<Record<string, unknown>>(
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
  async knownTxIds(ids: readonly string[]): Promise<Set<string>> {
    const known = new Set<string>();
    const wanted = normalIds(ids);
    for (let i = 0; i < wanted.length; i += ROWS_PER_STATEMENT_MAX) {
      const chunk = wanted.slice(i, i + ROWS_PER_STATEMENT_MAX);
      const { rows } = await this.db.query<{ id: unknown }>(
        `SELECT t.id FROM ${ID_LIST} JOIN chain.transactions t ON t.id = w.id`,
        [arrayLiteral(chunk.map(([, hex]) => byteaElement(hex)))],
      );
      const present = new Set(rows.map((r) => bufferHex(r.id)));
      for (const [given, hex] of chunk) if (present.has(hex)) known.add(given);
    }
    return known;
  }

  /** Every contract, deleted ones included, ordered by created height then hash. */
  async listContracts(): Promise<ContractRecord[]> {
    return loadContracts(this.db);
  }

  /** Definitions of every contract table, from active and deleted contracts (first definer wins). */
  async tableDefs(): Promise<Map<string, TableDef>> {
    if (this.defsCache === null) this.defsCache = await loadTableDefs(this.db);
    return new Map(this.defsCache);
  }

  readRows(table: string, def: TableDef, keys: readonly (readonly RowValue[])[]): Promise<Row[]> {
    return readRows(this.db, table, def, keys);
  }

  scanTable(table: string, def: TableDef, limit: number): Promise<Row[] | null> {
    return scanTable(this.db, table, def, limit);
  }

  findRows(table: string, def: TableDef, where: Readonly<Row>, limit: number): Promise<Row[]> {
    return findRows(this.db, table, def, where, limit);
  }

  async sizeBytes(): Promise<number> {
    const { rows } = await this.db.query<{ n: unknown }>(`SELECT pg_database_size(current_database()) AS n`);
    return toSafeNumber(rows[0]?.n, 'database size');
  }

  async countTransactions(): Promise<number> {
    const { rows } = await this.db.query<{ n: unknown }>(`SELECT count(*) AS n FROM chain.transactions`);
    return toSafeNumber(rows[0]?.n, 'transaction count');
  }
}

// ---------------------------------------------------------------------------------------------
// Commit steps.

function checkCommitInput(input: CommitBlockInput): void {
  const { block, txRecords, invalidRecords } = input;
  const fail = (why: string): never => {
    throw new ChainError('internal', `block ${block.height} cannot be stored: ${why}`, { height: block.height });
  };
  if (!Number.isSafeInteger(block.height) || block.height < 0) fail('its height is not a non-negative integer');
  if (txRecords.length !== block.txs.length) fail(`it holds ${block.txs.length} transactions but ${txRecords.length} records were given`);
  txRecords.forEach((record, i) => {
    if (record.idHex !== block.txs[i]?.idHex) fail(`record ${i} is for tx ${record.idHex}, the block has ${String(block.txs[i]?.idHex)} there`);
    if (record.outcome.status === 'invalid') fail(`tx ${record.idHex} is invalid and cannot be in a block`);
    if (record.blockHeight !== block.height || record.position !== i) {
      fail(`tx ${record.idHex} says block ${String(record.blockHeight)} position ${String(record.position)}, expected ${block.height} position ${i}`);
    }
  });
  for (const record of invalidRecords) {
    if (record.outcome.status !== 'invalid') fail(`refused tx ${record.idHex} has status ${record.outcome.status}, expected invalid`);
  }
  checkTexts(input, fail);
}

// PostgreSQL text cannot hold U+0000, and the drivers would silently replace an unpaired
// surrogate; refuse both before writing anything, naming the field, rather than fail half-way.
function checkTexts(input: CommitBlockInput, fail: (why: string) => never): void {
  const check = (value: string | null, what: string): void => {
    const problem = value === null ? null : textProblem(value);
    if (problem !== null) fail(`${what} ${problem}`);
  };
  for (const record of [...input.txRecords, ...input.invalidRecords]) {
    const o = record.outcome;
    for (const [field, value] of [
      ['sender', record.sender], ['contractType', record.contractType], ['payloadText', record.payloadText],
      ['message', o.message], ['code', o.status === 'accepted' ? null : o.code], ['receiver', record.receiver],
    ] as const) {
      check(value, `the ${field} of tx ${record.idHex}`);
    }
  }
  for (const c of input.createdContracts) {
    for (const [field, value] of [['type', c.type], ['version', c.version], ['description', c.description], ['code', c.code], ['creator', c.creator]] as const) {
      check(value, `the ${field} of contract ${c.hashHex}`);
    }
  }
  const genesis = input.block.genesis;
  if (genesis !== null) check(genesis.chainId + genesis.processorAddress, 'the genesis information');
}

async function assertLinksToHead(sql: Sql, input: CommitBlockInput): Promise<void> {
  const { block } = input;
  const head = await readHead(sql);
  const wantHeight = head === null ? 0 : head.height + 1;
  const wantPrevious = head === null ? ZERO_HASH : head.hashHex;
  const gotPrevious = block.previousHashHex.toLowerCase();
  if (block.height !== wantHeight || gotPrevious !== wantPrevious) {
    throw new ChainError(
      'block_link_mismatch',
      `block ${block.height} links to ${gotPrevious}, expected height ${wantHeight} linking to ${wantPrevious}`,
      { height: block.height, expectedHeight: wantHeight, previousHash: gotPrevious, expectedPreviousHash: wantPrevious },
    );
  }
  if (block.height === 0 && block.genesis === null) {
    throw new ChainError('block_link_mismatch', 'block 0 carries no genesis information', { height: 0 });
  }
}

async function insertMeta(sql: Sql, genesis: GenesisInfo): Promise<void> {
  await sql.query(`INSERT INTO chain.meta (key, value) VALUES ($1, $2), ($3, $4), ($5, $6)`, [
    META_KEYS.chainId,
    genesis.chainId,
    META_KEYS.processorAddress,
    genesis.processorAddress,
    META_KEYS.processorPublicKeyHex,
    genesis.processorPublicKeyHex.toLowerCase(),
  ]);
}

async function insertBlock(sql: Sql, input: CommitBlockInput): Promise<void> {
  const { block } = input;
  const params = [
    int8Text(block.height, 'height'),
    normalHex(block.hashHex, 'block hash'),
    normalHex(block.previousHashHex, 'previous hash'),
    int8Text(block.processedMs, 'processedMs'),
    normalHex(block.stateDigestHex, 'state digest'),
    String(block.txs.length),
    Buffer.from(block.signature).toString('hex'),
    base64Of(block.bytes),
  ];
  try {
    await sql.query(
      `INSERT INTO chain.blocks (height, hash, previous_hash, processed_ms, state_digest, tx_count, signature, bytes)
       VALUES ($1::text::bigint, decode($2, 'hex'), decode($3, 'hex'), $4::text::bigint, decode($5, 'hex'), $6::text::int,
               decode($7, 'hex'), decode($8, 'base64'))`,
      params,
    );
  } catch (err) {
    // Another writer stored this height first (or a block with this hash exists).
    if ((err as { code?: unknown }).code === '23505') {
      throw new ChainError('block_link_mismatch', `block ${block.height} (${block.hashHex}) collides with a stored block`, { height: block.height }, { cause: err });
    }
    throw err;
  }
}

async function insertContracts(sql: Sql, contracts: readonly ContractRecord[], defs: Map<string, TableDef>): Promise<void> {
  if (contracts.length === 0) return;
  for (const contract of contracts) {
    for (const [name, def] of Object.entries(contract.manifest.tables)) {
      await createContractTable(sql, name, def);
      if (!defs.has(name)) defs.set(name, def);
    }
  }
  const col = <T>(f: (c: ContractRecord) => T): T[] => contracts.map(f);
  await sql.query(
    `INSERT INTO chain.contracts (hash, type, version, description, template, validana_version, manifest, code, creator, created_height, deleted_height)
     SELECT decode(u.hash, 'hex'), u.type, u.version, u.description, u.template::json, u.vv, u.manifest::json, u.code, u.creator, u.created, u.deleted
     FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::int[],
                 $7::text::text[], $8::text::text[], $9::text::text[], $10::text::bigint[], $11::text::bigint[])
          AS u(hash, type, version, description, template, vv, manifest, code, creator, created, deleted)`,
    [
      arrayLiteral(col((c) => normalHex(c.hashHex, 'contract hash'))),
      arrayLiteral(col((c) => c.type)),
      arrayLiteral(col((c) => c.version)),
      arrayLiteral(col((c) => c.description)),
      arrayLiteral(col((c) => JSON.stringify(c.template))),
      arrayLiteral(col((c) => int8Text(c.validanaVersion, 'validanaVersion'))),
      arrayLiteral(col((c) => JSON.stringify(c.manifest))),
      arrayLiteral(col((c) => c.code)),
      arrayLiteral(col((c) => c.creator)),
      arrayLiteral(col((c) => int8Text(c.createdHeight, 'createdHeight'))),
      arrayLiteral(col((c) => (c.deletedHeight === null ? null : int8Text(c.deletedHeight, 'deletedHeight')))),
    ],
  );
}

async function markDeleted(sql: Sql, height: number, hashes: readonly string[]): Promise<void> {
  if (hashes.length === 0) return;
  const wanted = hashes.map((h) => normalHex(h, 'deleted contract hash'));
  const { rows } = await sql.query<{ hash: unknown }>(
    `UPDATE chain.contracts SET deleted_height = $1::text::bigint
     WHERE hash = ANY($2::text::bytea[]) AND deleted_height IS NULL RETURNING hash`,
    [String(height), arrayLiteral(wanted.map(byteaElement))],
  );
  const marked = new Set(rows.map((r) => bufferHex(r.hash)));
  const missing = wanted.filter((h) => !marked.has(h));
  if (missing.length > 0) {
    throw new ChainError('chain_mismatch', `block ${height} deletes contracts that are unknown or already deleted: ${missing.join(', ')}`, {
      height,
      hashes: missing,
    });
  }
}

/** Column arrays of tx records, in the order of TX_INSERT_COLUMNS. */
function txParams(records: readonly TxRecord[]): string[] {
  const col = (f: (r: TxRecord) => string | null): string => arrayLiteral(records.map(f));
  const code = (o: TxOutcome): string | null => (o.status === 'accepted' ? null : o.code);
  return [
    col((r) => normalHex(r.idHex, 'tx id', 16)),
    col((r) => base64Of(r.bytes)),
    col((r) => normalHex(r.contractHashHex, 'contract hash')),
    col((r) => r.contractType),
    col((r) => r.sender),
    col((r) => int8Text(r.validTillMs, 'validTillMs')),
    col((r) => r.payloadText),
    col((r) => normalHex(r.signatureHex, 'signature')),
    col((r) => normalHex(r.publicKeyHex, 'public key')),
    col((r) => r.outcome.status),
    col((r) => code(r.outcome)),
    col((r) => r.outcome.message),
    col((r) => int8Text(r.createMs, 'createMs')),
    col((r) => int8Text(r.processedMs, 'processedMs')),
    col((r) => (r.blockHeight === null ? null : int8Text(r.blockHeight, 'blockHeight'))),
    col((r) => (r.position === null ? null : int8Text(r.position, 'position'))),
    col((r) => r.receiver),
  ];
}

const TX_INSERT_COLUMNS = `id, bytes, contract_hash, contract_type, sender, valid_till_ms, payload, signature, public_key,
  status, code, message, create_ms, processed_ms, block_height, position, receiver`;
const TX_INSERT_SELECT = `SELECT decode(u.id, 'hex'), decode(u.bytes, 'base64'), decode(u.ch, 'hex'), u.ct, u.sender, u.vt, u.payload::json,
    decode(u.sig, 'hex'), decode(u.pk, 'hex'), u.status, u.code, u.message, u.cms, u.pms, u.bh, u.pos, u.receiver
  FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::bigint[],
              $7::text::text[], $8::text::text[], $9::text::text[], $10::text::text[], $11::text::text[], $12::text::text[],
              $13::text::bigint[], $14::text::bigint[], $15::text::bigint[], $16::text::int[], $17::text::text[])
       AS u(id, bytes, ch, ct, sender, vt, payload, sig, pk, status, code, message, cms, pms, bh, pos, receiver)`;

async function insertTransactions(sql: Sql, input: CommitBlockInput): Promise<void> {
  const records = input.txRecords;
  for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT_MAX) {
    const chunk = records.slice(i, i + ROWS_PER_STATEMENT_MAX);
    await sql.query(`INSERT INTO chain.transactions (${TX_INSERT_COLUMNS}) ${TX_INSERT_SELECT}`, txParams(chunk));
  }
}

/** Stores refusals; a later refusal of the same id replaces the earlier one. */
async function upsertInvalid(sql: Sql, records: readonly TxRecord[]): Promise<void> {
  const latest = [...new Map(records.map((r) => [r.idHex.toLowerCase(), r])).values()];
  const updates = TX_INSERT_COLUMNS.split(',')
    .map((c) => c.trim())
    .filter((c) => c !== 'id')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ');
  for (let i = 0; i < latest.length; i += ROWS_PER_STATEMENT_MAX) {
    const chunk = latest.slice(i, i + ROWS_PER_STATEMENT_MAX);
    await sql.query(
      `INSERT INTO chain.invalid_transactions (${TX_INSERT_COLUMNS}) ${TX_INSERT_SELECT} ON CONFLICT (id) DO UPDATE SET ${updates}`,
      txParams(chunk),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Reads.

async function readHead(sql: Sql): Promise<HeadInfo | null> {
  const { rows } = await sql.query<Record<string, unknown>>(
    `SELECT height, hash, processed_ms FROM chain.blocks ORDER BY height DESC LIMIT 1`,
  );
  const r = rows[0];
  if (r === undefined) return null;
  return { height: toSafeNumber(r['height'], 'height'), hashHex: bufferHex(r['hash']), processedMs: toSafeNumber(r['processed_ms'], 'processed_ms') };
}

async function readMeta(sql: Sql): Promise<ChainMeta | null> {
  const { rows } = await sql.query<{ key: string; value: string }>(`SELECT key, value FROM chain.meta WHERE key = ANY($1::text::text[])`, [
    arrayLiteral(Object.values(META_KEYS)),
  ]);
  const values = new Map(rows.map((r) => [r.key, r.value]));
  const chainId = values.get(META_KEYS.chainId);
  const processorAddress = values.get(META_KEYS.processorAddress);
  const processorPublicKeyHex = values.get(META_KEYS.processorPublicKeyHex);
  if (chainId === undefined || processorAddress === undefined || processorPublicKeyHex === undefined) return null;
  return { chainId, processorAddress, processorPublicKeyHex };
}

async function loadContracts(sql: Sql): Promise<ContractRecord[]> {
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

async function loadTableDefs(sql: Sql): Promise<Map<string, TableDef>> {
  const defs = new Map<string, TableDef>();
  for (const contract of await loadContracts(sql)) {
    for (const [name, def] of Object.entries(contract.manifest.tables)) if (!defs.has(name)) defs.set(name, def);
  }
  return defs;
}

function checkRange(fromHeight: number, limit: number): void {
  if (!Number.isSafeInteger(fromHeight) || fromHeight < 0) {
    throw new ChainError('bad_request', `from height must be a non-negative integer, got ${fromHeight}`, { fromHeight });
  }
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > BLOCKS_PER_READ_MAX) {
    throw new ChainError('bad_request', `limit must be an integer from 0 to ${BLOCKS_PER_READ_MAX}, got ${limit}`, { limit });
  }
}

/** [id as given, lowercase hex] pairs; throws bad_hex when an id is not 16 bytes of hex. */
function normalIds(ids: readonly string[]): [string, string][] {
  return ids.map((id) => [id, normalHex(id, 'transaction id', 16)]);
}

function blockTxRow(r: Record<string, unknown>): BlockTxRow {
  return {
    id: bufferHex(r['id']),
    contractType: (r['contract_type'] as string | null) ?? null,
    sender: r['sender'] as string,
    status: r['status'] as 'accepted' | 'rejected',
    code: (r['code'] as string | null) ?? null,
    message: r['message'] as string,
  };
}

function blockRow(r: Record<string, unknown>, txs: Map<number, BlockTxRow[]>, meta: ChainMeta | null): BlockRow {
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
    genesis:
      height === 0 && meta !== null
        ? { chainId: meta.chainId, processorPublicKey: meta.processorPublicKeyHex, processorAddress: meta.processorAddress }
        : null,
  };
}

function txOutcomeOf(status: string, code: string | null, message: string): TxOutcome {
  if (status === 'accepted') return { status, message };
  if (status === 'rejected') return { status, code: code ?? '', message };
  if (status === 'invalid' && code !== null && isInvalidCode(code)) return { status, code, message };
  if (status === 'invalid') throw new ChainError('chain_mismatch', `a stored invalid transaction has code ${JSON.stringify(code)}, which no transaction ends invalid with`);
  throw new ChainError('chain_mismatch', `a stored transaction has status ${JSON.stringify(status)}`);
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
    outcome: txOutcomeOf(r['status'] as string, (r['code'] as string | null) ?? null, r['message'] as string),
    blockHeight: toNullableNumber(r['block_height'], 'block_height'),
    position: toNullableNumber(r['position'], 'position'),
    processedMs: toSafeNumber(r['processed_ms'], 'processed_ms'),
    receiver: (r['receiver'] as string | null) ?? null,
  };
}
