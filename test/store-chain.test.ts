import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ChainError } from '../src/core/errors.js';
import type { Block, BlockTxOutcome, GenesisInfo, Tx, TxOutcome } from '../src/chain/types.js';
import { ChainStore } from '../src/store/chain-store.js';
import type { ContractRecord, StateChange, TableDef } from '../src/chain/contract-model.js';
import type { Database } from '../src/store/types.js';
import type { TxRecord } from '../src/chain/records.js';
import { testBackends } from './support/test-db.js';

// Fake blocks: the store stores the fields it is given and never decodes block bytes.

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function fakeTx(
  name: string,
  payloadText = `{"name": ${JSON.stringify(name)}, "receiver": "r-${name}"}`,
): Tx {
  return {
    bytes: Buffer.from(`tx-bytes-${name}`),
    version: 1,
    idHex: hashOf(`id-${name}`).slice(0, 32),
    contractHashHex: hashOf('contract-balances'),
    validTillMs: 0,
    payloadText,
    signature: Buffer.alloc(64, 7),
    publicKey: Buffer.alloc(33, 2),
    sender: `sender-${name}`,
  };
}

const GENESIS: GenesisInfo = {
  chainId: 'HanzeTest',
  processorPublicKeyHex: '02'.repeat(33),
  processorAddress: '1Processor',
};

function fakeBlock(
  height: number,
  previousHashHex: string,
  txs: readonly Tx[],
  outcomes: readonly BlockTxOutcome[],
): Block {
  return {
    bytes: Buffer.from(`block-bytes-${height}-${txs.length}-${'x'.repeat(300)}`),
    version: 1,
    height,
    previousHashHex,
    processedMs: 1_700_000_000_000 + height * 1000,
    stateDigestHex: hashOf(`digest-${height}`),
    genesis: height === 0 ? GENESIS : null,
    txs,
    outcomes,
    signature: Buffer.alloc(64, height + 1),
    hashHex: hashOf(`block-${height}-${previousHashHex}-${txs.map((t) => t.idHex).join()}`),
  };
}

function txRecord(
  tx: Tx,
  outcome: TxOutcome,
  height: number | null,
  position: number | null,
): TxRecord {
  return {
    idHex: tx.idHex,
    bytes: tx.bytes,
    contractHashHex: tx.contractHashHex,
    contractType: outcome.status === 'invalid' ? null : 'Balances',
    sender: tx.sender,
    validTillMs: tx.validTillMs,
    payloadText: tx.payloadText,
    signatureHex: Buffer.from(tx.signature).toString('hex'),
    publicKeyHex: Buffer.from(tx.publicKey).toString('hex'),
    createMs: 1_700_000_000_000,
    outcome,
    blockHeight: height,
    position,
    processedMs: 1_700_000_000_500,
    receiver: outcome.status === 'invalid' ? null : 'r-x',
  };
}

const BALANCES: TableDef = {
  columns: {
    context: 'text',
    owner: 'text',
    period: 'bigint',
    label_key: 'text',
    labels: 'text[]',
    amount: 'bigint',
    settled: 'boolean',
    note: 'json',
  },
  key: ['context', 'owner', 'period', 'label_key'],
  indexes: [['labels'], ['owner', 'period']],
};

const CONTRACT: ContractRecord = {
  hashHex: hashOf('contract-balances'),
  type: 'Balances',
  version: '1',
  description: 'Test balances',
  template: { amount: { type: 'kwh', name: 'amount', desc: 'kWh' } },
  validanaVersion: 2,
  manifest: { tables: { balances: BALANCES }, reads: [] },
  code: 'export default {}; // “unicode” code',
  creator: '1Processor',
  createdHeight: 0,
  deletedHeight: null,
};

interface Chain {
  blocks: Block[];
  txs: Record<string, Tx>;
}

function blockInput(
  block: Block,
  txRecords: TxRecord[],
  extra: Partial<{
    invalid: TxRecord[];
    changes: StateChange[];
    created: ContractRecord[];
    deleted: string[];
  }> = {},
) {
  return {
    block,
    txRecords,
    invalidRecords: extra.invalid ?? [],
    stateChanges: extra.changes ?? [],
    createdContracts: extra.created ?? [],
    deletedContracts: extra.deleted ?? [],
  };
}

const accepted: BlockTxOutcome = { status: 'accepted', message: 'OK' };
const rejected: BlockTxOutcome = {
  status: 'rejected',
  code: 'insufficient_energy',
  message: 'have 1 Wh, want 2 Wh',
};
const invalidExpired: TxOutcome = {
  status: 'invalid',
  code: 'tx_expired',
  message: 'valid_till passed',
};

function balance(
  owner: string,
  period: bigint,
  labels: string[],
  amount: bigint,
  note: unknown,
  settled = false,
): StateChange {
  const labelKey = labels.join(',');
  return {
    table: 'balances',
    key: ['ctx', owner, period, labelKey],
    row: {
      context: 'ctx',
      owner,
      period,
      label_key: labelKey,
      labels,
      amount,
      settled,
      note: note as null,
    },
  };
}

/** Genesis (creating the contract) and block 1 with transactions, refusals and state changes. */
async function buildChain(store: ChainStore): Promise<Chain> {
  const create = fakeTx('create', '{"type":"Balances",  "init": {}}');
  const genesis = fakeBlock(0, '00'.repeat(32), [create], [accepted]);
  await store.commitBlock(
    blockInput(genesis, [txRecord(create, accepted, 0, 0)], { created: [CONTRACT] }),
  );

  const a = fakeTx('a');
  const b = fakeTx('b', '{"amount":"1.500","receiver":"𝄞 ünïcode","n":12345678901234567890}');
  const c = fakeTx('c');
  const bad1 = fakeTx('bad1');
  const block1 = fakeBlock(1, genesis.hashHex, [a, b, c], [accepted, rejected, accepted]);
  await store.commitBlock(
    blockInput(
      block1,
      [txRecord(a, accepted, 1, 0), txRecord(b, rejected, 1, 1), txRecord(c, accepted, 1, 2)],
      {
        invalid: [
          txRecord(bad1, { ...invalidExpired, message: 'first refusal' }, null, null),
          txRecord(bad1, invalidExpired, null, null),
        ],
        changes: [
          balance('alice', 2n ** 62n + 1n, ['local', 'solar'], 2n ** 53n + 1n, {
            kwh: '1.500',
            nested: [1, null, 'x'],
          }),
          balance('alice', -5n, [], -(2n ** 63n), null, true),
          balance('Bob', 0n, ['wind'], 9_223_372_036_854_775_807n, 'just text'),
          balance('bob', 0n, ['solar'], 7n, 12.5),
          balance('carol', 1n, ['solar'], 1n, [true, false]),
        ],
      },
    ),
  );
  return { blocks: [genesis, block1], txs: { create, a, b, c, bad1 } };
}

async function stateRows(db: Database): Promise<unknown[]> {
  const store = new ChainStore(db);
  return store.findRows('balances', BALANCES, {}, 1000);
}

const snapshots = new Map<string, unknown>();

for (const backend of testBackends()) {
  test(`a chain commits and reads back (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      const store = new ChainStore(db);
      await store.migrate();
      await store.migrate();
      assert.equal(await store.getMeta(), null);
      assert.equal(await store.head(), null);
      const chain = await buildChain(store);
      const [genesis, block1] = chain.blocks as [Block, Block];

      assert.deepStrictEqual(await store.getMeta(), {
        chainId: 'HanzeTest',
        processorAddress: '1Processor',
        processorPublicKeyHex: '02'.repeat(33),
      });
      assert.deepStrictEqual(await store.head(), {
        height: 1,
        hashHex: block1.hashHex,
        processedMs: block1.processedMs,
      });

      const raw = await store.getRawBlocks(0, 10);
      assert.deepStrictEqual(
        raw.map((r) => Buffer.from(r).toString()),
        [Buffer.from(genesis.bytes).toString(), Buffer.from(block1.bytes).toString()],
      );
      assert.deepStrictEqual(await store.getRawBlocks(1, 1), [Buffer.from(block1.bytes)]);
      assert.deepStrictEqual(await store.getRawBlocks(5, 10), []);

      const rows = await store.getBlockRows(0, 1000);
      assert.equal(rows.length, 2);
      assert.deepStrictEqual(rows[0]?.genesis, {
        chainId: 'HanzeTest',
        processorPublicKey: '02'.repeat(33),
        processorAddress: '1Processor',
      });
      assert.deepStrictEqual(rows[1], {
        height: 1,
        hash: block1.hashHex,
        previousHash: genesis.hashHex,
        processedMs: block1.processedMs,
        stateDigest: block1.stateDigestHex,
        txCount: 3,
        transactions: [
          {
            id: chain.txs['a']?.idHex,
            contractType: 'Balances',
            sender: 'sender-a',
            status: 'accepted',
            code: null,
            message: 'OK',
          },
          {
            id: chain.txs['b']?.idHex,
            contractType: 'Balances',
            sender: 'sender-b',
            status: 'rejected',
            code: 'insufficient_energy',
            message: 'have 1 Wh, want 2 Wh',
          },
          {
            id: chain.txs['c']?.idHex,
            contractType: 'Balances',
            sender: 'sender-c',
            status: 'accepted',
            code: null,
            message: 'OK',
          },
        ],
        signature: '02'.repeat(64),
        genesis: null,
      });
      assert.deepStrictEqual(
        (await store.getBlockRows(1, 1)).map((r) => r.height),
        [1],
      );

      const b = chain.txs['b'] as Tx;
      const storedB = await store.getTransaction(b.idHex);
      assert.deepStrictEqual(storedB, {
        ...txRecord(b, rejected, 1, 1),
        bytes: Buffer.from(b.bytes),
      });
      assert.equal(
        storedB?.payloadText,
        '{"amount":"1.500","receiver":"𝄞 ünïcode","n":12345678901234567890}',
      );
      const create = chain.txs['create'] as Tx;
      assert.equal(
        (await store.getTransaction(create.idHex))?.payloadText,
        '{"type":"Balances",  "init": {}}',
      );
      assert.equal(await store.getTransaction('ff'.repeat(16)), null);
      await assert.rejects(
        store.getTransaction('zz'),
        (err: unknown) => err instanceof ChainError && err.code === 'bad_hex',
      );

      const bad1 = chain.txs['bad1'] as Tx;
      assert.deepStrictEqual(await store.getTransaction(bad1.idHex.toUpperCase()), {
        ...txRecord(bad1, invalidExpired, null, null),
        bytes: Buffer.from(bad1.bytes),
      });

      const ids = [
        chain.txs['a']?.idHex,
        bad1.idHex,
        'ab'.repeat(16),
        chain.txs['c']?.idHex.toUpperCase(),
      ] as string[];
      assert.deepStrictEqual(
        [...(await store.knownTxIds(ids))].sort(),
        [chain.txs['a']?.idHex, chain.txs['c']?.idHex.toUpperCase()].sort(),
      );
      const many = await store.getTransactions(ids);
      assert.deepStrictEqual([...many.keys()].sort(), [ids[0], ids[1], ids[3]].sort());

      const contracts = await store.listContracts();
      assert.deepStrictEqual(contracts, [CONTRACT]);
      assert.deepStrictEqual(await store.tableDefs(), new Map([['balances', BALANCES]]));
      assert.deepStrictEqual(
        await new ChainStore(db).tableDefs(),
        new Map([['balances', BALANCES]]),
      );
      assert.equal(await store.countTransactions(), 4);
      assert.ok((await store.sizeBytes()) > 0);

      const state = await stateRows(db);
      assert.deepStrictEqual(state, [
        {
          context: 'ctx',
          owner: 'Bob',
          period: 0n,
          label_key: 'wind',
          labels: ['wind'],
          amount: 9_223_372_036_854_775_807n,
          settled: false,
          note: 'just text',
        },
        {
          context: 'ctx',
          owner: 'alice',
          period: -5n,
          label_key: '',
          labels: [],
          amount: -(2n ** 63n),
          settled: true,
          note: null,
        },
        {
          context: 'ctx',
          owner: 'alice',
          period: 2n ** 62n + 1n,
          label_key: 'local,solar',
          labels: ['local', 'solar'],
          amount: 2n ** 53n + 1n,
          settled: false,
          note: { kwh: '1.500', nested: [1, null, 'x'] },
        },
        {
          context: 'ctx',
          owner: 'bob',
          period: 0n,
          label_key: 'solar',
          labels: ['solar'],
          amount: 7n,
          settled: false,
          note: 12.5,
        },
        {
          context: 'ctx',
          owner: 'carol',
          period: 1n,
          label_key: 'solar',
          labels: ['solar'],
          amount: 1n,
          settled: false,
          note: [true, false],
        },
      ]);

      // Applications query the tables with plain SQL, e.g. all balances carrying the label "solar".
      const solar = await db.query<{ owner: string; amount: bigint }>(
        `SELECT owner, amount FROM state.balances WHERE labels @> ARRAY['solar'] ORDER BY owner`,
      );
      assert.deepStrictEqual(solar.rows, [
        { owner: 'alice', amount: 2n ** 53n + 1n },
        { owner: 'bob', amount: 7n },
        { owner: 'carol', amount: 1n },
      ]);

      // Block 2: update, delete, a valid tx reusing a refused id, the contract deleted.
      const reuse = { ...bad1 };
      const block2 = fakeBlock(2, block1.hashHex, [reuse], [accepted]);
      await store.commitBlock(
        blockInput(block2, [txRecord(reuse, accepted, 2, 0)], {
          changes: [
            balance('bob', 0n, ['solar'], 8n, { updated: true }, true),
            { table: 'balances', key: ['ctx', 'carol', 1n, 'solar'], row: null },
            { table: 'balances', key: ['ctx', 'nobody', 1n, ''], row: null },
          ],
          deleted: [CONTRACT.hashHex],
        }),
      );
      assert.deepStrictEqual((await store.getTransaction(bad1.idHex))?.outcome, accepted);
      assert.deepStrictEqual([...(await store.knownTxIds([bad1.idHex]))], [bad1.idHex]);
      assert.deepStrictEqual((await store.listContracts())[0]?.deletedHeight, 2);
      assert.deepStrictEqual(await store.tableDefs(), new Map([['balances', BALANCES]]));
      const after = await store.readRows('balances', BALANCES, [
        ['ctx', 'bob', 0n, 'solar'],
        ['ctx', 'carol', 1n, 'solar'],
      ]);
      assert.deepStrictEqual(after, [
        {
          context: 'ctx',
          owner: 'bob',
          period: 0n,
          label_key: 'solar',
          labels: ['solar'],
          amount: 8n,
          settled: true,
          note: { updated: true },
        },
      ]);

      snapshots.set(backend.name, {
        state: await stateRows(db),
        blocks: await store.getBlockRows(0, 10),
        raw: await store.getRawBlocks(0, 10),
        txs: await store.getTransactions(Object.values(chain.txs).map((t) => t.idHex)),
        contracts: await store.listContracts(),
        head: await store.head(),
        meta: await store.getMeta(),
      });
    } finally {
      await db.close();
    }
  });

  test(`a failed commit writes nothing (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      const store = new ChainStore(db);
      await store.migrate();
      const chain = await buildChain(store);
      const block1 = chain.blocks[1] as Block;
      const before = await everything(db);

      const d = fakeTx('d');
      const bad2 = fakeTx('bad2');
      const attempt = (block: Block, extra: Parameters<typeof blockInput>[2]) =>
        store.commitBlock(
          blockInput(
            block,
            block.txs.map((t, i) => txRecord(t, accepted, block.height, i)),
            extra,
          ),
        );
      const good = {
        invalid: [txRecord(bad2, invalidExpired, null, null)],
        changes: [balance('dave', 1n, [], 1n, null)],
      };

      await assert.rejects(
        attempt(fakeBlock(2, 'ab'.repeat(32), [d], [accepted]), good),
        code('block_link_mismatch'),
      );
      await assert.rejects(
        attempt(fakeBlock(3, block1.hashHex, [d], [accepted]), good),
        code('block_link_mismatch'),
      );
      await assert.rejects(
        attempt(fakeBlock(1, (chain.blocks[0] as Block).hashHex, [d], [accepted]), good),
        code('block_link_mismatch'),
      );
      const next = fakeBlock(2, block1.hashHex, [d], [accepted]);
      // A bad row value: a bigint column given a JS number.
      await assert.rejects(
        attempt(next, {
          ...good,
          changes: [
            ...good.changes,
            {
              table: 'balances',
              key: ['ctx', 'x', 1n, ''],
              row: { ...balance('x', 1n, [], 1n, null).row, amount: 5 },
            },
          ],
        }),
        code('contract_bad_row'),
      );
      // The last step fails (a table no contract defines) after block, txs and refusals were written.
      await assert.rejects(
        attempt(next, {
          ...good,
          changes: [...good.changes, { table: 'nope', key: ['x'], row: { k: 'x' } }],
        }),
        code('internal'),
      );
      // The database refuses: a tx id that a block already holds.
      const again = fakeBlock(2, block1.hashHex, [d, chain.txs['a'] as Tx], [accepted, accepted]);
      await assert.rejects(
        attempt(again, good),
        (err: unknown) => (err as { code?: string }).code === '23505',
      );
      // Deleting a contract that does not exist.
      await assert.rejects(
        attempt(next, { ...good, deleted: ['cd'.repeat(32)] }),
        code('chain_mismatch'),
      );
      // A text value PostgreSQL cannot hold.
      await assert.rejects(
        attempt(next, { ...good, changes: [balance('nul\u0000', 1n, [], 1n, null)] }),
        code('contract_bad_row'),
      );
      // A rejection message PostgreSQL cannot hold.
      await assert.rejects(
        store.commitBlock(
          blockInput(
            next,
            [txRecord(d, { status: 'rejected', code: 'x', message: 'bad \u0000 byte' }, 2, 0)],
            good,
          ),
        ),
        code('internal'),
      );
      // Records that do not match the block.
      await assert.rejects(store.commitBlock(blockInput(next, [])), code('internal'));

      assert.deepStrictEqual(await everything(db), before);
      await attempt(next, good);
      assert.equal((await store.head())?.height, 2);
    } finally {
      await db.close();
    }
  });
}

function code(expected: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof ChainError, `expected ChainError ${expected}, got ${String(err)}`);
    assert.equal(err.code, expected, err.message);
    return true;
  };
}

async function everything(db: Database): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const table of [
    'chain.meta',
    'chain.blocks',
    'chain.transactions',
    'chain.invalid_transactions',
    'chain.contracts',
    'state.balances',
  ]) {
    out[table] = (await db.query(`SELECT * FROM ${table} ORDER BY 1`)).rows;
  }
  out['tables'] = (
    await db.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'state' ORDER BY 1`,
    )
  ).rows;
  return out;
}

test('both backends store and return the same chain', {
  skip: testBackends().length < 2 && 'DATABASE_URL not set',
}, () => {
  assert.equal(snapshots.size, 2);
  assert.deepStrictEqual(snapshots.get('pglite'), snapshots.get('postgres'));
});

test('genesis must link to the zero hash and carry genesis information', async () => {
  const backend = testBackends()[0];
  assert.ok(backend !== undefined);
  const db = await backend.open();
  try {
    const store = new ChainStore(db);
    await store.migrate();
    const tx = fakeTx('g');
    const wrongPrevious = fakeBlock(0, 'aa'.repeat(32), [tx], [accepted]);
    await assert.rejects(
      store.commitBlock(blockInput(wrongPrevious, [txRecord(tx, accepted, 0, 0)])),
      code('block_link_mismatch'),
    );
    const noGenesis = { ...fakeBlock(0, '00'.repeat(32), [tx], [accepted]), genesis: null };
    await assert.rejects(
      store.commitBlock(blockInput(noGenesis, [txRecord(tx, accepted, 0, 0)])),
      code('block_link_mismatch'),
    );
    const notFirst = fakeBlock(1, '00'.repeat(32), [tx], [accepted]);
    await assert.rejects(
      store.commitBlock(blockInput(notFirst, [txRecord(tx, accepted, 1, 0)])),
      code('block_link_mismatch'),
    );
    assert.equal(await store.head(), null);
    assert.equal(await store.getMeta(), null);
  } finally {
    await db.close();
  }
});

test('a commit whose answer was lost, but which landed, leaves no stale table definitions behind', async () => {
  // Found by the simulator (npm run sim -- --seed 143): the block that created the energy
  // contracts was stored, but its COMMIT's answer was lost; the store kept its table definitions
  // from before that block, and every later block with a state change failed for ever.
  const backend = testBackends()[0];
  assert.ok(backend !== undefined);
  const db = await backend.open();
  let loseNextAnswer = false;
  const answerLosing: Database = {
    kind: db.kind,
    query: (text, params) => db.query(text, params),
    close: () => db.close(),
    async transaction(fn) {
      const result = await db.transaction(fn);
      if (loseNextAnswer) {
        loseNextAnswer = false;
        throw new ChainError('retry', 'the connection dropped after the commit was sent');
      }
      return result;
    },
  };
  try {
    const store = new ChainStore(answerLosing);
    await store.migrate();
    const genesis = fakeBlock(0, '00'.repeat(32), [], []);
    await store.commitBlock(blockInput(genesis, []));
    const create = fakeTx('create', '{"type":"Balances",  "init": {}}');
    const block1 = fakeBlock(1, genesis.hashHex, [create], [accepted]);
    loseNextAnswer = true;
    await assert.rejects(
      store.commitBlock(
        blockInput(block1, [txRecord(create, accepted, 1, 0)], { created: [CONTRACT] }),
      ),
      code('retry'),
    );
    assert.equal((await store.head())?.height, 1, 'the block landed');
    const a = fakeTx('a');
    const block2 = fakeBlock(2, block1.hashHex, [a], [accepted]);
    await store.commitBlock(
      blockInput(block2, [txRecord(a, accepted, 2, 0)], {
        changes: [balance('alice', 0n, ['solar'], 5n, null)],
      }),
    );
    assert.equal((await store.head())?.height, 2);
    assert.ok((await store.tableDefs()).has('balances'));
  } finally {
    await db.close();
  }
});
