// A chain on the real platform for tests, without a processor around it: a ChainStore on an
// in-memory PGlite (or a database the test gives), the genesis block, and blocks of signed
// transactions executed by the real executor (QuickJS, createExecutor) and committed by the store,
// as the processor's seal and commit do (src/processor/seal.ts): invalid transactions stay out of
// the block, the rest are in it with their outcomes, and the block is signed by the processor key.
// Heights are consecutive; a test that wants a later height commits empty blocks up to it.

import { buildBlock } from '../../src/chain/block-encode.js';
import type { ContractRecord, Row, TableDef } from '../../src/chain/contract-model.js';
import { genesisBlockFields } from '../../src/chain/genesis.js';
import { contractTypeOf, txRecordOf } from '../../src/chain/projections.js';
import type { TxRecord } from '../../src/chain/records.js';
import { signTx } from '../../src/chain/tx.js';
import { CREATE_CONTRACT_HASH } from '../../src/chain/types.js';
import type { Block, Tx, TxOutcome } from '../../src/chain/types.js';
import type { ContractDefinition } from '../../src/contracts/authoring/define.js';
import { executeSource, packContract } from '../../src/contracts/authoring/pack.js';
import type { PackedContract } from '../../src/contracts/authoring/pack.js';
import { contractHashHex } from '../../src/contracts/create-payload.js';
import { manifestJson } from '../../src/contracts/manifest.js';
import { ChainError } from '../../src/core/errors.js';
import { createExecutor } from '../../src/contracts/runtime/executor.js';
import type { Executor } from '../../src/contracts/runtime/executor.js';
import type { BlockExecutionResult, BlockHeaderInput } from '../../src/contracts/runtime/types.js';
import { utf8Encode } from '../../src/core/bytes.js';
import { PrivateKey } from '../../src/core/keys.js';
import { ENERGY_CONTRACTS } from '../../src/energy/index.js';
import { ChainStore } from '../../src/store/chain-store.js';
import { openDatabase } from '../../src/store/database.js';
import type { Database } from '../../src/store/types.js';

export const TEST_CHAIN_ID = 'hanzenet-test-chain';

/** A key derived from a name: the same name gives the same key in every run. */
export function namedKey(name: string): PrivateKey {
  return PrivateKey.generateNonRandom(utf8Encode(`hanzenet test key ${name}`), utf8Encode('salt'));
}

export interface TestChainOptions {
  readonly chainId?: string;
  readonly processorKey?: PrivateKey;
  /** processedMs of the genesis block (default 2026-01-01T00:00:00Z). */
  readonly genesisMs?: number;
  /** An empty database to build the chain in (the caller closes it); default a fresh PGlite. */
  readonly db?: Database;
}

export interface TestHead {
  readonly height: number;
  readonly hashHex: string;
  readonly processedMs: number;
}

/** A committed block: the block, each given transaction's outcome (invalid ones too), the result. */
export interface CommittedBlock {
  readonly block: Block;
  readonly outcomes: readonly TxOutcome[];
  readonly result: BlockExecutionResult;
}

export class TestChain {
  private idCounter = 0;

  private constructor(
    readonly db: Database,
    readonly store: ChainStore,
    readonly executor: Executor,
    readonly chainId: string,
    readonly processorKey: PrivateKey,
    private current: TestHead,
    private readonly ownsDb: boolean,
  ) {}

  static async open(opts: TestChainOptions = {}): Promise<TestChain> {
    const db = opts.db ?? (await openDatabase({ memory: true }));
    const chainId = opts.chainId ?? TEST_CHAIN_ID;
    const key = opts.processorKey ?? namedKey('test chain processor');
    const store = new ChainStore(db);
    await store.migrate();
    const genesis = buildBlock(
      genesisBlockFields(key, chainId, opts.genesisMs ?? Date.UTC(2026, 0, 1)),
      key,
      chainId,
    );
    await store.commitBlock({
      block: genesis,
      txRecords: [],
      invalidRecords: [],
      stateChanges: [],
      createdContracts: [],
      deletedContracts: [],
    });
    const executor = await createExecutor({ reader: store });
    const head = { height: 0, hashHex: genesis.hashHex, processedMs: genesis.processedMs };
    return new TestChain(db, store, executor, chainId, key, head, opts.db === undefined);
  }

  get head(): TestHead {
    return this.current;
  }

  /** The header of the block after the head, `processedMs` (default: 1 s after the head) late. */
  headerAfter(processedMs = this.current.processedMs + 1000): BlockHeaderInput {
    return {
      chainId: this.chainId,
      processorAddress: this.processorKey.address,
      height: this.current.height + 1,
      processedMs,
      previousHashHex: this.current.hashHex,
      previousProcessedMs: this.current.processedMs,
    };
  }

  /** A transaction signed by `key` for this chain, with the next id of this chain's id series. */
  sign(key: PrivateKey, contractHashHex: string, payload: unknown, idHex?: string): Tx {
    return signTx(
      {
        idHex: idHex ?? this.nextIdHex(),
        contractHashHex,
        validTillMs: 0,
        payloadText: typeof payload === 'string' ? payload : JSON.stringify(payload),
      },
      key,
      this.chainId,
    );
  }

  /** Ids 'c0' followed by a counter: apart from ids a test numbers itself. */
  private nextIdHex(): string {
    this.idCounter += 1;
    return `c0${this.idCounter.toString(16).padStart(30, '0')}`;
  }

  /** Executes `txs` in the block after the head and drops the result (nothing is committed). */
  async tryBlock(txs: readonly Tx[], header = this.headerAfter()): Promise<BlockExecutionResult> {
    const result = await this.executor.executeBlock({ ...header, txs });
    this.executor.dropLast();
    return result;
  }

  /** Executes `txs` in the block after the head, signs the block and commits it. */
  async runBlock(txs: readonly Tx[], header = this.headerAfter()): Promise<CommittedBlock> {
    return this.commitExecuted(txs, header, await this.executor.executeBlock({ ...header, txs }));
  }

  /**
   * Signs and commits the block the executor executed last and holds uncommitted (`result` of
   * executeBlock with these `txs` and `header`), as the processor's seal and commit do.
   */
  async commitExecuted(
    txs: readonly Tx[],
    header: BlockHeaderInput,
    result: BlockExecutionResult,
  ): Promise<CommittedBlock> {
    const types = typesOf(this.executor.contracts(), result.createdContracts);
    const record = (tx: Tx, outcome: TxOutcome, position: number | null): TxRecord =>
      txRecordOf(tx, outcome, contractTypeOf(tx.contractHashHex, types), header.processedMs, {
        blockHeight: position === null ? null : header.height,
        position,
        processedMs: header.processedMs,
      });
    const included: { tx: Tx; outcome: Exclude<TxOutcome, { status: 'invalid' }> }[] = [];
    const invalidRecords: TxRecord[] = [];
    txs.forEach((tx, i) => {
      const outcome = result.outcomes[i];
      if (outcome === undefined) throw new Error(`no outcome for transaction ${tx.idHex}`);
      if (outcome.status !== 'invalid') included.push({ tx, outcome });
      else invalidRecords.push(record(tx, outcome, null));
    });
    const block = buildBlock(
      {
        height: header.height,
        previousHashHex: header.previousHashHex,
        processedMs: header.processedMs,
        stateDigestHex: result.stateDigestHex,
        genesis: null,
        txs: included.map((i) => i.tx),
        outcomes: included.map((i) => i.outcome),
      },
      this.processorKey,
      this.chainId,
    );
    try {
      await this.store.commitBlock({
        block,
        txRecords: included.map(({ tx, outcome }, position) => record(tx, outcome, position)),
        invalidRecords,
        stateChanges: result.stateChanges,
        createdContracts: result.createdContracts,
        deletedContracts: result.deletedContracts,
      });
    } catch (err) {
      this.executor.abort();
      throw err;
    }
    this.executor.commit();
    this.current = { height: block.height, hashHex: block.hashHex, processedMs: block.processedMs };
    return { block, outcomes: result.outcomes, result };
  }

  /**
   * Commits empty blocks until the head is at `height`, 1 ms apart after the head (a test that
   * names a later height stands for a chain whose blocks in between changed nothing).
   */
  async emptyBlocksUntil(height: number): Promise<void> {
    while (this.current.height < height)
      await this.runBlock([], this.headerAfter(this.current.processedMs + 1));
  }

  /** Creates contracts (type -> hash) in one block signed by the processor key; throws unless all are accepted. */
  async install(
    defs: readonly ContractDefinition[] = ENERGY_CONTRACTS,
    header = this.headerAfter(),
  ): Promise<Map<string, string>> {
    const packed = defs.map((def) => packOrBare(def));
    const txs = packed.map((p) => this.sign(this.processorKey, CREATE_CONTRACT_HASH, p.payload));
    const { outcomes } = await this.runBlock(txs, header);
    outcomes.forEach((o, i) => {
      if (o.status !== 'accepted')
        throw new Error(`creating ${defs[i]?.type}: ${o.status} ${o.code ?? ''} ${o.message}`);
    });
    return new Map(defs.map((def, i) => [def.type, packed[i]?.hashHex ?? '']));
  }

  /** The committed rows of a contract table (at most `limit`; more throws). */
  async rows(table: string, limit = 100_000): Promise<Row[]> {
    const def = (await this.store.tableDefs()).get(table);
    if (def === undefined) throw new Error(`no contract table ${table}`);
    const rows = await this.store.scanTable(table, def, limit);
    if (rows === null) throw new Error(`${table} holds more than ${limit} rows`);
    return rows;
  }

  async tableDefs(): Promise<Map<string, TableDef>> {
    return this.store.tableDefs();
  }

  async close(): Promise<void> {
    await this.executor.close();
    if (this.ownsDb) await this.db.close();
  }
}

/**
 * The create payload of a contract. Code that packContract refuses because it uses a name defined
 * outside execute goes on chain as execute's bare text, as it would in a create transaction made
 * by hand, so that a test can show what the chain then does with it.
 */
function packOrBare(def: ContractDefinition): PackedContract {
  try {
    return packContract(def);
  } catch (err) {
    if (!(err instanceof ChainError) || err.code !== 'contract_create_invalid') throw err;
    const code = executeSource(def.execute as (...args: never[]) => unknown);
    return {
      payload: {
        type: def.type,
        version: def.version,
        description: def.description,
        template: JSON.stringify(def.template),
        init: Buffer.from(manifestJson(def.manifest), 'utf8').toString('base64'),
        code: Buffer.from(code, 'utf8').toString('base64'),
      },
      hashHex: contractHashHex(code, 1),
    };
  }
}

function typesOf(
  active: readonly ContractRecord[],
  created: readonly ContractRecord[],
): Map<string, string> {
  return new Map([...active, ...created].map((c) => [c.hashHex, c.type]));
}
