// The same market chain gives the same statements on every backend: random market scenarios
// (test/support/market-scenario.ts: Trader, Producer, Consumer, Market, MarketPrices, Order,
// CancelOrder, Energy with readings on time, spanning periods and late, MarketCorrection,
// SettlePeriod for every period in order) submitted to real processors (Processor with
// ChainStore, the QuickJS executor and the verification pool, a fake clock at each block's time,
// blocks made with produceNow) on the embedded database and, when DATABASE_URL is set, on the
// PostgreSQL server, and run block for block on the test chain (test/support/test-chain.ts, the
// same executor without the processor's pipeline). Checked: every call is accepted on every
// backend; every block has the same hash on every backend and on the test chain; after each
// scenario the market's tables (statements, flows, clearings, positions, bookings, periods,
// orders, late energy, corrections) of its contexts are the same row for row everywhere; at the
// end the whole chains (blocks, state digests, transactions) and all state tables are the same.
// Replay with SEED=<n>; NUM_RUNS=<n> runs more.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { Row } from '../src/chain/contract-model.js';
import { signTx } from '../src/chain/tx.js';
import { CREATE_CONTRACT_HASH } from '../src/chain/types.js';
import type { Tx } from '../src/chain/types.js';
import { packContract } from '../src/contracts/authoring/pack.js';
import { createExecutor } from '../src/contracts/runtime/executor.js';
import type { Executor } from '../src/contracts/runtime/executor.js';
import { systemScheduler } from '../src/core/scheduler.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import { ENERGY_TABLES } from '../src/energy/tables.js';
import { silentLogger } from '../src/ledger/log.js';
import { SignaturePool } from '../src/ledger/signature-pool.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from '../src/processor/processor.js';
import { ChainStore } from '../src/store/chain-store.js';
import type { Database } from '../src/store/types.js';
import { arbPlan, buildScenario, QUARTER_MS } from './support/market-scenario.js';
import type { ScenarioCall } from './support/market-scenario.js';
import { orderKey, payloadOf } from './support/market-run.js';
import { TestChain, namedKey } from './support/test-chain.js';
import { testBackends } from './support/test-db.js';

const SEED = Number(process.env['SEED'] ?? 20261208);
const NUM_RUNS = Number(process.env['NUM_RUNS'] ?? 4);
const CHAIN_ID = 'hanzenet-market-backends';
const T0 = Date.UTC(2026, 8, 1, 6, 0, 0);
const PROCESSOR_KEY = namedKey('market backends processor');
const MARKET_TABLES = Object.keys(ENERGY_TABLES)
  .filter((t) => t.startsWith('energy_market_'))
  .sort();
const ALL_TABLES = Object.keys(ENERGY_TABLES).sort();
const CONTRACT_HASHES = new Map(ENERGY_CONTRACTS.map((d) => [d.type, packContract(d).hashHex]));

interface Node {
  readonly name: string;
  readonly db: Database;
  readonly executor: Executor;
  readonly processor: Processor;
}

let now = T0;
const scheduler = { ...systemScheduler, nowMs: () => now };
let verifier: SignaturePool;
const nodes: Node[] = [];
let reference: TestChain;
let txCounter = 0;

function sign(
  type: string,
  call: Pick<ScenarioCall, 'signer'>,
  payload: Record<string, unknown>,
  idHex: string,
): Tx {
  const hash = type === 'create' ? CREATE_CONTRACT_HASH : CONTRACT_HASHES.get(type);
  assert.ok(hash !== undefined, `no contract ${type}`);
  return signTx(
    { idHex, contractHashHex: hash, validTillMs: 0, payloadText: JSON.stringify(payload) },
    call.signer,
    CHAIN_ID,
  );
}

function nextTxId(): string {
  txCounter += 1;
  return `a0${txCounter.toString(16).padStart(30, '0')}`;
}

/** Makes a block of `txs` at `atMs` on every processor and on the test chain; all must accept every call. */
async function makeBlock(txs: readonly Tx[], atMs: number, what: readonly string[]): Promise<void> {
  now = atMs;
  for (const node of nodes) {
    const results = await node.processor.submit(txs.map((t) => t.bytes));
    for (const r of results)
      assert.ok(r.ok, `${node.name}: refused at admission: ${JSON.stringify(r)}`);
    const block = await node.processor.produceNow();
    assert.ok(block !== null, `${node.name}: no block produced`);
  }
  const { outcomes } = await reference.runBlock(txs, reference.headerAfter(atMs));
  outcomes.forEach((o, i) => {
    assert.equal(
      o.status,
      'accepted',
      `${what[i]}: ${o.status === 'accepted' ? '' : `${o.code} ${o.message}`}`,
    );
  });
  for (const node of nodes) {
    assert.equal(
      node.processor.headInfo.hashHex,
      reference.head.hashHex,
      `${node.name}: block hash at ${atMs}`,
    );
    for (const tx of txs)
      assert.equal(
        (await node.processor.getTransaction(tx.idHex))?.status,
        'accepted',
        `${node.name}: ${tx.idHex}`,
      );
  }
}

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
        log: silentLogger,
      },
      CHAIN_ID,
    );
    nodes.push({ name: backend.name, db, executor, processor });
  }
  reference = await TestChain.open({
    chainId: CHAIN_ID,
    processorKey: PROCESSOR_KEY,
    genesisMs: T0,
  });
  const creates = ENERGY_CONTRACTS.map((def) =>
    sign(
      'create',
      { signer: PROCESSOR_KEY },
      packContract(def).payload as Record<string, unknown>,
      nextTxId(),
    ),
  );
  await makeBlock(
    creates,
    T0 + 1000,
    ENERGY_CONTRACTS.map((d) => `create ${d.type}`),
  );
});

after(async () => {
  await reference?.close();
  for (const node of nodes) {
    await node.executor.close();
    await node.db.close();
  }
  await verifier?.close();
});

const replacer = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

/** The rows of `tables` (in `contexts`, or all), by primary key, with sorted columns. */
async function dump(
  db: Database,
  tables: readonly string[],
  contexts: readonly string[] | null,
): Promise<string> {
  const out: [string, Row[]][] = [];
  for (const table of tables) {
    const def = ENERGY_TABLES[table];
    assert.ok(def !== undefined, table);
    const where = contexts === null ? '' : 'WHERE context = ANY($1::text[])';
    const { rows } = await db.query<Row>(
      `SELECT * FROM state.${table} ${where} ORDER BY ${def.key.join(', ')}`,
      contexts === null ? [] : [contexts],
    );
    out.push([
      table,
      rows.map(
        (r) =>
          Object.fromEntries(
            Object.keys(r)
              .sort()
              .map((k) => [k, r[k]]),
          ) as Row,
      ),
    ]);
  }
  return JSON.stringify(out, replacer);
}

async function chainDump(node: Node): Promise<string> {
  const blocks = await node.db.query(
    "SELECT height, encode(hash, 'hex') AS hash, encode(state_digest, 'hex') AS state_digest FROM chain.blocks ORDER BY height",
  );
  const txs = await node.db.query(
    "SELECT encode(id, 'hex') AS id, status, code, block_height, position FROM chain.transactions ORDER BY block_height, position",
  );
  return JSON.stringify(
    [node.processor.headInfo, blocks.rows, txs.rows, await dump(node.db, ALL_TABLES, null)],
    replacer,
  );
}

let runCounter = 0;

test('random market scenarios on real processors: the same chain and the same statements on every backend', async () => {
  let statements = 0;
  await fc.assert(
    fc.asyncProperty(arbPlan(), async (plan) => {
      runCounter += 1;
      // A failed run (while shrinking) may leave transactions behind: finish them first.
      for (const node of nodes)
        while (node.processor.pendingCount > 0) await node.processor.produceNow();
      const baseMs =
        Math.ceil((reference.head.processedMs + 120_000 + 2) / QUARTER_MS) * QUARTER_MS;
      const scenario = buildScenario(plan, baseMs, [
        `backends ${runCounter} a`,
        `backends ${runCounter} b`,
      ]);
      const orderIds = new Map<string, string>();
      for (const block of scenario.blocks) {
        if (block.calls.length === 0) continue;
        const ids = block.calls.map(() => nextTxId());
        block.calls.forEach((call, i) => {
          if (call.orderRef !== undefined)
            orderIds.set(orderKey(call, call.orderRef), ids[i] as string);
        });
        const txs = block.calls.map((call, i) =>
          sign(call.type, call, payloadOf(call, orderIds), ids[i] as string),
        );
        await makeBlock(
          txs,
          block.atMs,
          block.calls.map((c) => `${c.type} ${JSON.stringify(c.payload)}`),
        );
      }
      const contexts = scenario.contexts.map((c) => c.owner.address);
      const want = await dump(reference.db, MARKET_TABLES, contexts);
      for (const node of nodes)
        assert.equal(
          await dump(node.db, MARKET_TABLES, contexts),
          want,
          `${node.name}: the market's tables`,
        );
      const { rows } = await reference.db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM state.energy_market_statements WHERE context = ANY($1::text[])',
        [contexts],
      );
      statements += Number(rows[0]?.n ?? 0);
    }),
    { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
  );
  assert.ok(statements > 0, 'the scenarios settled statements');
  const [first, ...others] = nodes;
  assert.ok(first !== undefined);
  const mine = await chainDump(first);
  for (const other of others)
    assert.equal(await chainDump(other), mine, `${other.name} and ${first.name} differ`);
});
