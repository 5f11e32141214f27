// The energy contracts on the real platform: random sequences of all eight contracts, signed by
// several keys in two contexts, submitted to real processors (Processor with ChainStore, the
// QuickJS executor and the verification pool, a fake clock, blocks made with produceNow) on the
// embedded database and, when DATABASE_URL is set, on the PostgreSQL server. Checked:
//
//   - every backend ends in the same chain (head hash, every block's state digest) and the same
//     state tables, row for row;
//   - each transaction's outcome, each block's hash and the state equal those of the test chain
//     (test/support/test-chain.ts: the same executor, one block at a time, without the
//     processor's pipeline) made with the same key from the same transactions;
//   - on the real tables: the sum of the balances equals the sum of the accepted Energy and Mutate
//     amounts (read back from the transactions on chain) plus what removing traders took away;
//     Transfer and Reduce move energy exactly, never add a label and never make a balance
//     negative (a balance is negative only by consumption or Mutate: the definitions of the
//     property test, test/energy-properties.test.ts); a rejected call left no trace in
//     the state, and a block of only rejected calls has the digest of no change.
//
// All runs share one chain per backend (opening a backend costs about a second); each run takes
// two fresh contexts, so runs never see each other's rows. Replay with SEED=<n>.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatWh, parseKwh } from '../src/core/amount.js';
import { utf8Encode } from '../src/core/bytes.js';
import { PrivateKey } from '../src/core/keys.js';
import { signTx } from '../src/chain/tx.js';
import { CREATE_CONTRACT_HASH } from '../src/chain/types.js';
import type { Tx } from '../src/chain/types.js';
import { createExecutor } from '../src/contracts/runtime/executor.js';
import type { Executor } from '../src/contracts/runtime/executor.js';
import { packContract } from '../src/contracts/authoring/pack.js';
import { stateDigestHex } from '../src/contracts/runtime/digest.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import { ENERGY_TABLES } from '../src/energy/tables.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from '../src/processor/processor.js';
import { SignaturePool } from '../src/ledger/signature-pool.js';
import { silentLogger } from '../src/ledger/log.js';
import { systemScheduler } from '../src/core/scheduler.js';
import { ChainStore } from '../src/store/chain-store.js';
import type { Database } from '../src/store/types.js';
import type { Row } from '../src/chain/contract-model.js';
import type { TxOutcome } from '../src/chain/types.js';
import { TestChain } from './support/test-chain.js';
import { arbOp, pick } from './support/energy-ops.js';
import type { Fields } from './support/energy-ops.js';
import { testBackends } from './support/test-db.js';

const SEED = Number(process.env['SEED'] ?? 20260315);
const NUM_RUNS = Number(process.env['NUM_RUNS'] ?? 25);
const CHAIN_ID = 'hanzenet-energy-backends';
const T0 = Date.UTC(2026, 2, 1, 9, 59, 0);
const NO_CHANGE_DIGEST = stateDigestHex([], new Map(), [], []);

function key(name: string): PrivateKey {
  return PrivateKey.generateNonRandom(utf8Encode(`energy backends ${name}`), utf8Encode('salt'));
}

const PROCESSOR_KEY = key('processor');
const TRADERS = [key('t1'), key('t2'), key('t3')] as const;
const DEVICES = [key('d1'), key('d2'), TRADERS[0]] as const; // t1 is also a meter
const STRANGER = key('stranger');
const TABLES = Object.keys(ENERGY_TABLES).sort();

// ---------------------------------------------------------------------------------------------
// Generators (as in test/energy-properties.test.ts, with keys instead of bare addresses).

const arbOps = arbOp({ blockWeight: 3, senderMax: 40, periodSeconds: [0, 0, 1, 2, 5] });

// ---------------------------------------------------------------------------------------------
// The chains: one processor per backend, all fed the same transactions and the same clock.

interface Node {
  readonly name: string;
  readonly db: Database;
  readonly store: ChainStore;
  readonly executor: Executor;
  readonly processor: Processor;
}

const silent = silentLogger;
let now = T0;
const scheduler = { ...systemScheduler, nowMs: () => now };
let verifier: SignaturePool;
const nodes: Node[] = [];
/** The test chain fed the same transactions, block for block, as the processors. */
let reference: TestChain;
let txCounter = 0;

function nextTxId(): string {
  txCounter += 1;
  return `e0${txCounter.toString(16).padStart(30, '0')}`;
}

/** Submits the same transactions to every node and makes one block on each; returns node 0's block height. */
async function makeBlock(txs: readonly Tx[]): Promise<number> {
  const heights: number[] = [];
  for (const node of nodes) {
    const results = await node.processor.submit(txs.map((t) => t.bytes));
    for (const r of results)
      assert.ok(r.ok, `${node.name}: refused at admission: ${JSON.stringify(r)}`);
    const block = await node.processor.produceNow();
    assert.ok(block !== null, `${node.name}: no block produced`);
    heights.push(block.height);
  }
  assert.ok(
    heights.every((h) => h === heights[0]),
    `block heights differ: ${heights.join(', ')}`,
  );
  const { outcomes } = await reference.runBlock(txs, reference.headerAfter(now));
  for (const node of nodes)
    assert.equal(
      node.processor.headInfo.hashHex,
      reference.head.hashHex,
      `${node.name}: block hash`,
    );
  lastOutcomes = outcomes;
  return heights[0] ?? -1;
}

/** The test chain's outcomes of the block makeBlock made last. */
let lastOutcomes: readonly TxOutcome[] = [];

before(async () => {
  verifier = await SignaturePool.start({ workers: 1 });
  for (const backend of testBackends()) {
    const db = await backend.open();
    const store = new ChainStore(db);
    await store.migrate();
    const executor = await createExecutor({ reader: store });
    const processor = await Processor.open(
      {
        store,
        executor,
        verifier,
        key: PROCESSOR_KEY,
        scheduler,
        config: DEFAULT_PROCESSOR_CONFIG,
        log: silent,
      },
      CHAIN_ID,
    );
    nodes.push({ name: backend.name, db, store, executor, processor });
  }
  now += 1000;
  const creates = ENERGY_CONTRACTS.map((def) =>
    signTx(
      {
        idHex: nextTxId(),
        contractHashHex: CREATE_CONTRACT_HASH,
        validTillMs: 0,
        payloadText: JSON.stringify(packContract(def).payload),
      },
      PROCESSOR_KEY,
      CHAIN_ID,
    ),
  );
  reference = await TestChain.open({
    chainId: CHAIN_ID,
    processorKey: PROCESSOR_KEY,
    genesisMs: T0,
  });
  await makeBlock(creates);
  for (const node of nodes) {
    for (const tx of creates)
      assert.equal(
        (await node.processor.getTransaction(tx.idHex))?.status,
        'accepted',
        `${node.name}: contract creation`,
      );
  }
});

after(async () => {
  await reference?.close();
  for (const node of nodes) {
    await node.executor.close();
    await node.db.close();
  }
  await verifier?.close();
});

// ---------------------------------------------------------------------------------------------
// One run: a fresh pair of contexts, the calls made into blocks by the processors and the test chain.

interface Sent {
  readonly type: string;
  readonly tx: Tx;
  /** The test chain's outcome, once the block is made. */
  outcome: TxOutcome | null;
}

let runCounter = 0;

class Run {
  readonly contexts: readonly [PrivateKey, PrivateKey];
  readonly keys: readonly PrivateKey[];
  private pending: Sent[] = [];
  private advanceMs = 1000;
  readonly sent: Sent[] = [];
  readonly allRejectedBlocks: number[] = [];

  constructor() {
    runCounter += 1;
    this.contexts = [key(`run ${runCounter} context one`), key(`run ${runCounter} context two`)];
    this.keys = [...this.contexts, ...TRADERS, ...DEVICES.slice(0, 2), STRANGER];
  }

  get addresses(): string[] {
    return this.contexts.map((c) => c.address);
  }

  /** Signs the call and queues it for the open block (opened on first use, like the processor's). */
  call(type: string, signer: PrivateKey, payload: Record<string, unknown>): void {
    if (this.pending.length === 0) {
      now += Math.max(1, this.advanceMs);
      this.advanceMs = 0;
    }
    const contract = packContract(
      ENERGY_CONTRACTS.find((d) => d.type === type) ?? fail(`no contract ${type}`),
    );
    const tx = signTx(
      {
        idHex: nextTxId(),
        contractHashHex: contract.hashHex,
        validTillMs: 0,
        payloadText: JSON.stringify(payload),
      },
      signer,
      CHAIN_ID,
    );
    const sent = { type, tx, outcome: null };
    this.pending.push(sent);
    this.sent.push(sent);
  }

  /** Ends the open block: the processors and the test chain make it, with the same outcomes. */
  async endBlock(advanceMs: number): Promise<void> {
    this.advanceMs += advanceMs;
    if (this.pending.length === 0) return;
    const block = this.pending;
    this.pending = [];
    const height = await makeBlock(block.map((s) => s.tx));
    block.forEach((s, i) => {
      s.outcome = lastOutcomes[i] ?? fail(`no outcome for ${s.tx.idHex}`);
      assert.notEqual(
        s.outcome.status,
        'invalid',
        `${s.type} ${s.tx.payloadText}: the generator must send valid payloads (${s.outcome.message})`,
      );
    });
    for (const node of nodes) {
      for (const s of block) {
        const view = await node.processor.getTransaction(s.tx.idHex);
        const got = view?.status === 'accepted' ? 'accepted' : `${view?.status} ${view?.code}`;
        const want =
          s.outcome?.status === 'accepted' ? 'accepted' : `${s.outcome?.status} ${s.outcome?.code}`;
        assert.equal(
          got,
          want,
          `${node.name}: ${s.type} ${s.tx.payloadText}: ${view?.message ?? ''}`,
        );
      }
    }
    if (block.every((s) => s.outcome?.status !== 'accepted')) this.allRejectedBlocks.push(height);
    // The processor's tables hold exactly what the test chain's hold.
    const node = nodes[0];
    if (node !== undefined)
      assert.equal(
        await dump(node.db, this.addresses),
        await dump(reference.db, this.addresses),
        `${node.name}: state after block ${height}`,
      );
  }

  /** Both contexts start with three traders and devices, so that random calls often succeed. */
  bootstrap(): void {
    const [t1, t2, t3] = TRADERS.map((t) => t.address);
    const [d1, d2, d3] = DEVICES.map((d) => d.address);
    for (const owner of this.contexts) {
      const context = owner.address;
      const calls: [string, Record<string, unknown>][] = [
        ['Trader', { context, address: t1, allowed: true }],
        ['Trader', { context, address: t2, allowed: true }],
        ['Trader', { context, address: t3, allowed: true }],
        ['Producer', { context, address: d1, allowed: true, trader: t1, labels: ['solar'] }],
        [
          'Producer',
          { context, address: d2, allowed: true, trader: t2, labels: ['local', 'wind'] },
        ],
        ['Consumer', { context, address: d2, allowed: true, trader: t3, labels: [] }],
        ['Consumer', { context, address: d3, allowed: true, trader: t1, labels: [] }],
      ];
      for (const [type, payload] of calls) this.call(type, owner, payload);
    }
  }

  signerFor(type: string, context: PrivateKey, index: number, f: Fields): PrivateKey {
    if (index >= 32) return pick(this.keys, index);
    if (['Trader', 'Producer', 'Consumer', 'Mutate', 'SettlementPeriod'].includes(type))
      return context;
    if (type === 'Energy') return pick(DEVICES, index);
    return pick(TRADERS, index + f.other);
  }

  /**
   * As payloadFor in test/energy-properties.test.ts: Transfer and Reduce mostly aim at a held
   * balance (as the test chain's committed tables hold them before the open block).
   */
  async payloadFor(
    type: string,
    context: string,
    sender: string,
    f: Fields,
  ): Promise<Record<string, unknown>> {
    const periods = (await reference.rows('energy_periods'))
      .filter((r) => r['context'] === context)
      .map((r) => Number(r['block']));
    let block = Math.max(
      0,
      f.rawBlock || periods.length === 0
        ? reference.head.height + 1 - f.blockPick
        : pick(periods, f.blockPick),
    );
    let labels = [...f.labels];
    let wh = BigInt(f.wh);
    if (type === 'Transfer' || type === 'Reduce') {
      if (f.wh >= -4000 && wh < 0n) wh = -wh;
      const held = (await reference.rows('energy_balances')).filter(
        (r) =>
          r['context'] === context && r['trader'] === sender && (r['amount_wh'] as bigint) > 0n,
      );
      if (held.length > 0 && !f.rawBlock) {
        const balance = pick(held, f.blockPick);
        block = Number(balance['block']);
        labels = balance['labels'] as string[];
        const heldWh = balance['amount_wh'] as bigint;
        if (wh > heldWh && f.allowed) wh = heldWh;
      }
    }
    const amount = f.wh % 2 === 0 ? formatWh(wh) : Number(formatWh(wh));
    const traders = TRADERS.map((t) => t.address);
    switch (type) {
      case 'Trader':
        return { context, address: pick(traders, f.address), allowed: f.allowed };
      case 'Producer':
      case 'Consumer':
        return {
          context,
          address: pick(DEVICES, f.address).address,
          allowed: f.allowed,
          trader: pick(traders, f.other),
          labels,
        };
      case 'SettlementPeriod':
        return { context, periodSeconds: f.periodSeconds };
      case 'Energy':
        return { context, amount };
      case 'Transfer': {
        const receiver =
          f.address % 6 === 0
            ? sender
            : pick(
                traders.filter((t) => t !== sender),
                f.address,
              );
        return { context, receiver, block, labels, amount, description: 'p' };
      }
      case 'Reduce': {
        const subset = labels.filter((label) => f.labels2.includes(label));
        const labelsToRemove = f.allowed ? (subset.length > 0 ? subset : labels) : [...f.labels2];
        return { context, block, originalLabels: labels, amount, labelsToRemove };
      }
      default:
        return {
          context,
          trader: pick(traders, f.address),
          block,
          labels,
          amount,
          description: 'settled',
        };
    }
  }
}

function fail(message: string): never {
  throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// Dumps and checks on the real tables.

const replacer = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

/** The rows of the energy tables in `contexts`, by primary key. */
async function dump(db: Database, contexts: readonly string[] | null): Promise<string> {
  const out: [string, Row[]][] = [];
  for (const table of TABLES) {
    const def = ENERGY_TABLES[table] ?? fail(table);
    const where = contexts === null ? '' : 'WHERE context = ANY($1::text[])';
    const { rows } = await db.query<Row>(
      `SELECT * FROM state.${table} ${where} ORDER BY ${def.key.join(', ')}`,
      contexts === null ? [] : [contexts],
    );
    out.push([table, rows]);
  }
  return JSON.stringify(
    out.map(([t, rows]) => [t, rows.map((r) => sortedRow(r))]),
    replacer,
  );
}

function sortedRow(row: Row): Row {
  return Object.fromEntries(
    Object.keys(row)
      .sort()
      .map((k) => [k, row[k]]),
  ) as Row;
}

interface HistoryRow {
  tx_id: string;
  seq: bigint;
  trader: string;
  block: bigint;
  labels: string[];
  labels_key?: string;
  delta_wh: bigint;
  kind: string;
  height: bigint;
  position: number;
}

/** The ledger invariants on the real tables of one context. */
async function checkLedger(db: Database, context: string, run: Run): Promise<void> {
  const { rows: balances } = await db.query<{
    trader: string;
    block: bigint;
    labels: string[];
    labels_key: string;
    amount_wh: bigint;
  }>(
    'SELECT trader, block, labels, labels_key, amount_wh FROM state.energy_balances WHERE context = $1',
    [context],
  );
  const { rows: history } = await db.query<HistoryRow>(
    `SELECT h.tx_id, h.seq, h.trader, h.block, h.labels, h.delta_wh, h.kind, h.height, t.position
     FROM state.energy_history h JOIN chain.transactions t ON t.id = decode(h.tx_id, 'hex')
     WHERE h.context = $1 ORDER BY h.height, t.position, h.seq`,
    [context],
  );
  const { rows: txs } = await db.query<{
    id: string;
    contract_type: string;
    payload: string;
    status: string;
  }>(
    `SELECT encode(id, 'hex') AS id, contract_type, payload::text AS payload, status FROM chain.transactions
     WHERE payload->>'context' = $1 AND contract_type IN ('Energy', 'Mutate')`,
    [context],
  );
  const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);
  for (const b of balances) {
    assert.notEqual(b.amount_wh, 0n, 'a zero balance is deleted');
    assert.deepEqual(b.labels, [...new Set(b.labels)].sort(), 'labels are canonical');
    assert.equal(b.labels_key, b.labels.join(','));
  }
  // Energy is conserved: the balances change in sum only by Energy and Mutate (and trader removal).
  const accepted = sum(
    txs
      .filter((t) => t.status === 'accepted')
      .map((t) => {
        const parsed = parseKwh((JSON.parse(t.payload) as { amount: unknown }).amount);
        return parsed.ok ? parsed.wh : fail(parsed.reason);
      }),
  );
  const removed = sum(history.filter((h) => h.kind === 'removal').map((h) => h.delta_wh));
  assert.equal(
    sum(balances.map((b) => b.amount_wh)),
    accepted + removed,
    `balances of ${context} = accepted Energy and Mutate + removals`,
  );
  assert.equal(
    sum(history.filter((h) => h.kind === 'energy' || h.kind === 'mutate').map((h) => h.delta_wh)),
    accepted,
  );
  // Transfer and Reduce move energy exactly and never add a label.
  const moves = new Map<string, HistoryRow[]>();
  for (const h of history)
    if (h.kind === 'transfer' || h.kind === 'reduce')
      moves.set(h.tx_id, [...(moves.get(h.tx_id) ?? []), h]);
  for (const [txId, rows] of moves) {
    assert.equal(rows.length, 2, `${txId}: two balances change`);
    const [from, to] = rows as [HistoryRow, HistoryRow];
    assert.ok(
      from.delta_wh < 0n && to.delta_wh === -from.delta_wh,
      `${txId}: moves energy exactly`,
    );
    assert.ok(
      to.labels.every((l) => from.labels.includes(l)),
      `${txId}: adds no label`,
    );
    assert.equal(to.block, from.block);
  }
  // A balance is negative only by consumption or Mutate: per balance, the energy that came in
  // (P) minus what Transfer and Reduce took out (T) never goes below zero; a removal resets it.
  const running = new Map<string, { p: bigint; t: bigint; amount: bigint }>();
  for (const h of history) {
    const k = `${h.trader}|${h.block}|${h.labels.join(',')}`;
    if (h.kind === 'removal') {
      running.delete(k);
      continue;
    }
    const r = running.get(k) ?? { p: 0n, t: 0n, amount: 0n };
    if (h.delta_wh > 0n) r.p += h.delta_wh;
    else if (h.kind === 'transfer' || h.kind === 'reduce') r.t += h.delta_wh;
    r.amount += h.delta_wh;
    assert.ok(r.p + r.t >= 0n, `${h.kind} ${h.tx_id} took more than balance ${k} held`);
    running.set(k, r);
  }
  const present = new Map(
    balances.map((b) => [`${b.trader}|${b.block}|${b.labels_key}`, b.amount_wh]),
  );
  for (const [k, r] of running)
    assert.equal(present.get(k) ?? 0n, r.amount, `balance ${k} is the sum of its history`);
  for (const k of present.keys()) assert.ok(running.has(k), `balance ${k} has a history`);
  // A rejected call left no trace.
  const rejected = new Set(
    run.sent.filter((s) => s.outcome?.status !== 'accepted').map((s) => s.tx.idHex),
  );
  assert.ok(
    history.every((h) => !rejected.has(h.tx_id)),
    'no history row of a rejected transaction',
  );
}

/** Blocks, digests, transactions and the whole state: the same on every backend. */
async function chainDump(node: Node): Promise<string> {
  const blocks = await node.db.query<{ height: bigint; hash: string; state_digest: string }>(
    "SELECT height, encode(hash, 'hex') AS hash, encode(state_digest, 'hex') AS state_digest FROM chain.blocks ORDER BY height",
  );
  const txs = await node.db.query<{ id: string; status: string; code: string | null }>(
    "SELECT encode(id, 'hex') AS id, status, code, block_height, position FROM chain.transactions ORDER BY block_height, position",
  );
  return JSON.stringify(
    [node.processor.headInfo, blocks.rows, txs.rows, await dump(node.db, null)],
    replacer,
  );
}

// ---------------------------------------------------------------------------------------------

test('random sequences of all contracts on the real platform: same chain on every backend, ledger invariants on the real tables', async () => {
  let accepted = 0;
  let total = 0;
  const kinds = new Set<string>();
  await fc.assert(
    fc.asyncProperty(fc.array(arbOps, { minLength: 10, maxLength: 60 }), async (ops) => {
      // A failed run (while shrinking) may leave transactions behind: finish them first.
      for (const node of nodes)
        while (node.processor.pendingCount > 0) await node.processor.produceNow();
      now = Math.max(now, ...nodes.map((n) => n.processor.headInfo.processedMs));
      const run = new Run();
      run.bootstrap();
      await run.endBlock(1000);
      for (const s of run.sent)
        assert.equal(s.outcome?.status, 'accepted', `bootstrap ${s.type}: ${s.outcome?.message}`);
      for (const op of ops) {
        if (op.kind === 'block') {
          await run.endBlock(op.advanceMs);
          continue;
        }
        const owner = pick(run.contexts, op.ctx);
        const signer = run.signerFor(op.type, owner, op.sender, op.fields);
        const payload = await run.payloadFor(op.type, owner.address, signer.address, op.fields);
        run.call(op.type, signer, payload);
      }
      await run.endBlock(1000);
      for (const s of run.sent.slice(14)) {
        const outcome = s.outcome ?? fail(`no outcome for ${s.tx.idHex}`);
        total += 1;
        if (outcome.status === 'accepted') accepted += 1;
        kinds.add(`${s.type} ${outcome.status === 'accepted' ? 'accepted' : outcome.code}`);
      }
      for (const node of nodes)
        for (const context of run.addresses) await checkLedger(node.db, context, run);
      for (const node of nodes) {
        for (const height of run.allRejectedBlocks) {
          const [block] = await node.store.getBlockRows(height, 1);
          assert.equal(
            block?.stateDigest,
            NO_CHANGE_DIGEST,
            `${node.name}: block ${height} of only rejected calls changed the state`,
          );
        }
      }
      const [first, ...others] = nodes;
      if (first !== undefined) {
        const mine = await dump(first.db, run.addresses);
        for (const other of others) {
          assert.equal(
            other.processor.headInfo.hashHex,
            first.processor.headInfo.hashHex,
            `${other.name} and ${first.name}: head hash`,
          );
          assert.equal(
            await dump(other.db, run.addresses),
            mine,
            `${other.name} and ${first.name}: state of the run's contexts`,
          );
        }
      }
    }),
    { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
  );
  // Every backend holds the same chain and state, block for block.
  const [first, ...others] = nodes;
  assert.ok(first !== undefined);
  const reference = await chainDump(first);
  for (const other of others)
    assert.equal(await chainDump(other), reference, `${other.name} and ${first.name} differ`);
  // The generators reach the interesting paths, not only rejections.
  assert.ok(accepted > total / 5, `only ${accepted} of ${total} calls were accepted`);
  for (const kind of [
    'Transfer accepted',
    'Reduce accepted',
    'Mutate accepted',
    'Energy accepted',
    'Transfer insufficient_energy',
  ]) {
    assert.ok(kinds.has(kind), `never saw ${kind}: ${[...kinds].sort().join('; ')}`);
  }
});
