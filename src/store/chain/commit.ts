// The steps of a block's commit, run by ChainStore.commitBlock inside one database transaction:
// check the input, assert the header rules against the stored head, then a handful of batched
// statements whatever the number of transactions.

import type { ContractRecord, TableDef } from '../../chain/contract-model.js';
import { headerFault } from '../../chain/header-rules.js';
import type { CommitBlockInput, TxRecord } from '../../chain/records.js';
import type { GenesisInfo, TxOutcome } from '../../chain/types.js';
import { ChainError } from '../../core/errors.js';
import { ROWS_PER_STATEMENT_MAX, createContractTable, textProblem } from '../contract-tables.js';
import {
  arrayLiteral,
  base64Of,
  bufferHex,
  byteaElement,
  int8Text,
  normalHex,
} from '../sql-values.js';
import type { Sql } from '../types.js';
import { META_KEYS, readHead } from './reads.js';

export function checkCommitInput(input: CommitBlockInput): void {
  const { block, txRecords, invalidRecords } = input;
  const fail = (why: string): never => {
    throw new ChainError('internal', `block ${block.height} cannot be stored: ${why}`, {
      height: block.height,
    });
  };
  if (!Number.isSafeInteger(block.height) || block.height < 0)
    fail('its height is not a non-negative integer');
  if (txRecords.length !== block.txs.length)
    fail(`it holds ${block.txs.length} transactions but ${txRecords.length} records were given`);
  txRecords.forEach((record, i) => {
    if (record.idHex !== block.txs[i]?.idHex)
      fail(
        `record ${i} is for tx ${record.idHex}, the block has ${String(block.txs[i]?.idHex)} there`,
      );
    if (record.outcome.status === 'invalid')
      fail(`tx ${record.idHex} is invalid and cannot be in a block`);
    if (record.blockHeight !== block.height || record.position !== i) {
      fail(
        `tx ${record.idHex} says block ${String(record.blockHeight)} position ${String(record.position)}, expected ${block.height} position ${i}`,
      );
    }
  });
  for (const record of invalidRecords) {
    if (record.outcome.status !== 'invalid')
      fail(`refused tx ${record.idHex} has status ${record.outcome.status}, expected invalid`);
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
      ['sender', record.sender],
      ['contractType', record.contractType],
      ['payloadText', record.payloadText],
      ['message', o.message],
      ['code', o.status === 'accepted' ? null : o.code],
      ['receiver', record.receiver],
    ] as const) {
      check(value, `the ${field} of tx ${record.idHex}`);
    }
  }
  for (const c of input.createdContracts) {
    for (const [field, value] of [
      ['type', c.type],
      ['version', c.version],
      ['description', c.description],
      ['code', c.code],
      ['creator', c.creator],
    ] as const) {
      check(value, `the ${field} of contract ${c.hashHex}`);
    }
  }
  const genesis = input.block.genesis;
  if (genesis !== null)
    check(genesis.chainId + genesis.processorAddress, 'the genesis information');
}

/** The header rules (chain/header-rules.ts) against the stored head, in the commit's transaction. */
export async function assertLinksToHead(sql: Sql, input: CommitBlockInput): Promise<void> {
  const { block } = input;
  const head = await readHead(sql);
  const fault = headerFault(block, head);
  if (fault !== null) {
    // Whichever rule broke, the block does not extend the stored chain: one code for callers.
    const { field, expected, got } = fault;
    throw new ChainError(
      'block_link_mismatch',
      `block ${block.height} does not follow the stored head: ${fault.message}`,
      { height: block.height, field, expected, got },
    );
  }
  if (block.height === 0 && block.genesis === null) {
    throw new ChainError('block_link_mismatch', 'block 0 carries no genesis information', {
      height: 0,
    });
  }
}

export async function insertMeta(sql: Sql, genesis: GenesisInfo): Promise<void> {
  await sql.query(`INSERT INTO chain.meta (key, value) VALUES ($1, $2), ($3, $4), ($5, $6)`, [
    META_KEYS.chainId,
    genesis.chainId,
    META_KEYS.processorAddress,
    genesis.processorAddress,
    META_KEYS.processorPublicKeyHex,
    genesis.processorPublicKeyHex.toLowerCase(),
  ]);
}

export async function insertBlock(sql: Sql, input: CommitBlockInput): Promise<void> {
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
      throw new ChainError(
        'block_link_mismatch',
        `block ${block.height} (${block.hashHex}) collides with a stored block`,
        { height: block.height },
        { cause: err },
      );
    }
    throw err;
  }
}

export async function insertContracts(
  sql: Sql,
  contracts: readonly ContractRecord[],
  defs: Map<string, TableDef>,
): Promise<void> {
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
      arrayLiteral(
        col((c) => (c.deletedHeight === null ? null : int8Text(c.deletedHeight, 'deletedHeight'))),
      ),
    ],
  );
}

export async function markDeleted(
  sql: Sql,
  height: number,
  hashes: readonly string[],
): Promise<void> {
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
    throw new ChainError(
      'chain_mismatch',
      `block ${height} deletes contracts that are unknown or already deleted: ${missing.join(', ')}`,
      {
        height,
        hashes: missing,
      },
    );
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

export async function insertTransactions(sql: Sql, input: CommitBlockInput): Promise<void> {
  const records = input.txRecords;
  for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT_MAX) {
    const chunk = records.slice(i, i + ROWS_PER_STATEMENT_MAX);
    await sql.query(
      `INSERT INTO chain.transactions (${TX_INSERT_COLUMNS}) ${TX_INSERT_SELECT}`,
      txParams(chunk),
    );
  }
}

/** Stores refusals; a later refusal of the same id replaces the earlier one. */
export async function upsertInvalid(sql: Sql, records: readonly TxRecord[]): Promise<void> {
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
