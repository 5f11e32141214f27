import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError } from '../src/core/errors.js';
import type { TxOutcome } from '../src/chain/types.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import type { BlockExecutionResult } from '../src/contracts/runtime/types.js';
import {
  aliceKey,
  bobKey,
  createTestChain,
  createTx,
  deleteTx,
  makeTx,
  MemoryReader,
  processorKey,
  rawCreateTx,
  resultText,
} from './support/contracts-chain.js';
import type { TestChain } from './support/contracts-chain.js';

const codes = (r: BlockExecutionResult): string[] =>
  r.outcomes.map((o) => (o.status === 'accepted' ? 'ok' : o.code));
const messageOf = (o: TxOutcome | undefined): string => o?.message ?? '';

const NOTES = {
  tables: { notes: { columns: { id: 'text', v: 'bigint' }, key: ['id'] } },
  reads: [],
};
const MODE = { mode: { type: 'str', name: 'mode', desc: 'what to do' } };

async function withChain(
  fn: (chain: TestChain) => Promise<void>,
  opts: Parameters<typeof createTestChain>[0] = {},
): Promise<void> {
  const chain = await createTestChain(opts);
  try {
    await fn(chain);
  } finally {
    await chain.close();
  }
}

test('pack -> create -> call: the energy contracts install, and a packed contract runs', async () => {
  await withChain(async (chain) => {
    const r = await chain.run(ENERGY_CONTRACTS.map((d) => createTx(d).tx));
    assert.deepEqual(
      codes(r),
      ENERGY_CONTRACTS.map(() => 'ok'),
    );
    assert.deepEqual(
      chain.executor.contracts().map((c) => c.type),
      ENERGY_CONTRACTS.map((d) => d.type),
    );
    assert.equal(r.stateChanges.length, 0);
  });
});

test('a rejected or failed call leaves no state behind, whatever it wrote first', async () => {
  await withChain(async (chain) => {
    const w = rawCreateTx({
      type: 'Writer',
      template: MODE,
      manifest: NOTES,
      code: `function (p, ctx) {
        ctx.db.put('notes', { id: p.mode, v: 1n });
        if (p.mode === 'reject') return ctx.reject('not_now', 'later');
        if (p.mode === 'string') return 'no';
        if (p.mode === 'throw') throw new Error('boom');
        if (p.mode === 'badrow') { try { ctx.db.put('notes', { id: 'x' }); } catch (e) {} return 'OK'; }
        if (p.mode === 'denied') { try { ctx.db.get('elsewhere', { id: 'x' }); } catch (e) {} return 'OK'; }
        if (p.mode === 'gas') { for (;;) {} }
        return 'OK';
      }`,
    });
    await chain.run([w.tx]);
    const modes = ['reject', 'string', 'throw', 'badrow', 'denied', 'gas', 'ok'];
    const r = await chain.run(modes.map((mode) => makeTx(aliceKey, w.hashHex, { mode })));
    assert.deepEqual(codes(r), [
      'not_now',
      'contract_rejected',
      'contract_error',
      'contract_bad_row',
      'contract_access_denied',
      'contract_out_of_gas',
      'ok',
    ]);
    assert.deepEqual(r.stateChanges, [{ table: 'notes', key: ['ok'], row: { id: 'ok', v: 1n } }]);
    assert.equal(
      messageOf(r.outcomes[3]),
      'table notes: the row lacks column v (bigint); put() takes every column',
    );
    assert.equal(
      messageOf(r.outcomes[4]),
      'contract Writer may not read table elsewhere: its manifest does not list it',
    );
  });
});

test('tables are reachable only as the manifest grants: own tables read-write, reads read-only', async () => {
  await withChain(async (chain) => {
    const a = rawCreateTx({
      type: 'A',
      template: MODE,
      manifest: { tables: { a_rows: { columns: { id: 'text' }, key: ['id'] } } },
      code: "function (p, ctx) { if (p.mode === 'write') ctx.db.put('a_rows', { id: 'one' }); else ctx.db.get('b_rows', { id: 'x' }); }",
    });
    const b = rawCreateTx({
      type: 'B',
      template: MODE,
      manifest: { tables: { b_rows: { columns: { id: 'text' }, key: ['id'] } }, reads: ['a_rows'] },
      code: `function (p, ctx) {
        if (p.mode === 'read') return ctx.db.get('a_rows', { id: 'one' }) === null ? 'missing' : 'found';
        if (p.mode === 'find') return String(ctx.db.find('a_rows', {}).length);
        if (p.mode === 'write') ctx.db.put('a_rows', { id: 'two' });
        if (p.mode === 'delete') ctx.db.delete('a_rows', { id: 'one' });
        if (p.mode === 'other') ctx.db.get('c_rows', { id: 'one' });
        if (p.mode === 'own') ctx.db.put('b_rows', { id: 'mine' });
      }`,
    });
    assert.deepEqual(codes(await chain.run([a.tx, b.tx])), ['ok', 'ok']);
    const r = await chain.run([
      makeTx(aliceKey, a.hashHex, { mode: 'write' }),
      makeTx(aliceKey, b.hashHex, { mode: 'read' }),
      makeTx(aliceKey, b.hashHex, { mode: 'find' }),
      makeTx(aliceKey, b.hashHex, { mode: 'write' }),
      makeTx(aliceKey, b.hashHex, { mode: 'delete' }),
      makeTx(aliceKey, b.hashHex, { mode: 'other' }),
      makeTx(aliceKey, b.hashHex, { mode: 'own' }),
      makeTx(aliceKey, a.hashHex, { mode: 'read' }),
    ]);
    assert.deepEqual(codes(r), [
      'ok',
      'contract_rejected',
      'contract_rejected',
      'contract_access_denied',
      'contract_access_denied',
      'contract_access_denied',
      'ok',
      'contract_access_denied',
    ]);
    assert.equal(messageOf(r.outcomes[1]), 'found');
    assert.equal(messageOf(r.outcomes[2]), '1');
    assert.equal(
      messageOf(r.outcomes[3]),
      'contract B may not write table a_rows: its manifest lists it under reads only',
    );
  });
});

test('rows, keys and filters must fit the table definition', async () => {
  const table = {
    tables: {
      items: {
        columns: { id: 'text', n: 'bigint', ok: 'boolean', tags: 'text[]', data: 'json' },
        key: ['id'],
      },
    },
  };
  const cases: [string, RegExp | string][] = [
    [
      "{ id: 'a', n: 1n, ok: true, tags: [], data: null, extra: 1 }",
      'table items has no column extra',
    ],
    [
      "{ id: 'a', n: 1, ok: true, tags: [], data: null }",
      /^table items: column n \(bigint\) must be a BigInt/,
    ],
    [
      "{ id: 'a', n: 2n ** 63n, ok: true, tags: [], data: null }",
      'table items: column n (bigint) must fit in 64 bits, got 9223372036854775808n',
    ],
    [
      "{ id: 'a', n: 1n, ok: 'yes', tags: [], data: null }",
      /^table items: column ok \(boolean\) must be true or false/,
    ],
    [
      "{ id: 'a\\u0000', n: 1n, ok: true, tags: [], data: null }",
      'table items: column id (text) contains U+0000, which PostgreSQL text cannot hold',
    ],
    [
      "{ id: '\\ud800', n: 1n, ok: true, tags: [], data: null }",
      'table items: column id (text) contains an unpaired UTF-16 surrogate',
    ],
    [
      "{ id: 'a', n: 1n, ok: true, tags: [1], data: null }",
      /^table items: column tags \(text\[\]\) must hold only strings/,
    ],
    [
      "{ id: 'a', n: 1n, ok: true, tags: [], data: { big: 1n } }",
      'table items: column data (json) holds the BigInt 1n',
    ],
    [
      "{ id: 'a', n: 1n, ok: true, tags: [], data: { u: undefined } }",
      'table items: column data (json) holds undefined',
    ],
    [
      "{ id: 'a', n: 1n, ok: true, tags: [], data: [NaN] }",
      'table items: column data (json) holds the number NaN',
    ],
    [
      "{ id: 'a', n: 1n, ok: true, tags: [], data: 'x'.repeat(70000) }",
      /^table items: the row is \d+ bytes as JSON, more than 65536$/,
    ],
    [
      "(() => { let d = 1; for (let i = 0; i < 70; i++) d = [d]; return { id: 'a', n: 1n, ok: true, tags: [], data: d }; })()",
      /nest/,
    ],
    ['5', 'table items: a row must be an object, got number 5'],
  ];
  await withChain(async (chain) => {
    const txs = cases.map(([row], i) =>
      rawCreateTx({
        type: `Bad${i}`,
        manifest: table,
        code: `function (p, ctx) { try { ctx.db.put('items', ${row}); } catch (e) {} }`,
      }),
    );
    const keyed = rawCreateTx({
      type: 'BadKey',
      template: MODE,
      manifest: table,
      code: `function (p, ctx) {
        if (p.mode === 'extra') ctx.db.get('items', { id: 'a', n: 1n });
        if (p.mode === 'missing') ctx.db.get('items', {});
        if (p.mode === 'json') ctx.db.find('items', { data: 1 });
        if (p.mode === 'where') ctx.db.find('items', { nope: 1 });
        if (p.mode === 'good') ctx.db.put('items', { id: 'a', n: -5n, ok: false, tags: ['x', 'x'], data: { b: 1, a: [true, null, 'é'], $big: '1' } });
        if (p.mode === 'show') return JSON.stringify(ctx.db.get('items', { id: 'a' }), (k, v) => typeof v === 'bigint' ? v + 'n' : v);
      }`,
    });
    assert.deepEqual(
      new Set(codes(await chain.run([...txs.map((t) => t.tx), keyed.tx]))),
      new Set(['ok']),
    );
    const r = await chain.run(txs.map((t) => makeTx(aliceKey, t.hashHex, {})));
    r.outcomes.forEach((o, i) => {
      assert.equal(
        o.status === 'rejected' && o.code,
        'contract_bad_row',
        `case ${i}: ${JSON.stringify(o)}`,
      );
      const expected = cases[i]?.[1] ?? '';
      if (typeof expected === 'string') assert.equal(o.message, expected, `case ${i}`);
      else assert.match(o.message, expected, `case ${i}`);
    });
    assert.equal(r.stateChanges.length, 0);
    const k = await chain.run(
      ['extra', 'missing', 'json', 'where', 'good', 'show'].map((mode) =>
        makeTx(aliceKey, keyed.hashHex, { mode }),
      ),
    );
    assert.deepEqual(codes(k), [
      'contract_bad_row',
      'contract_bad_row',
      'contract_bad_row',
      'contract_bad_row',
      'ok',
      'contract_rejected',
    ]);
    assert.equal(
      messageOf(k.outcomes[0]),
      'table items: a key must hold exactly its key columns (id), got (id, n)',
    );
    assert.equal(messageOf(k.outcomes[2]), 'table items: find() cannot filter on json column data');
    // json values come back with keys in jsonb order (shorter first), "$" keys intact.
    assert.equal(
      messageOf(k.outcomes[5]),
      '{"id":"a","n":"-5n","ok":false,"tags":["x","x"],"data":{"a":[true,null,"é"],"b":1,"$big":"1"}}',
    );
    assert.deepEqual(k.stateChanges, [
      {
        table: 'items',
        key: ['a'],
        row: {
          id: 'a',
          n: -5n,
          ok: false,
          tags: ['x', 'x'],
          data: { a: [true, null, 'é'], b: 1, $big: '1' },
        },
      },
    ]);
  });
});

const WORDS = {
  tables: {
    words: { columns: { w: 'text', n: 'bigint', tags: 'text[]' }, key: ['w'] },
    pairs: { columns: { a: 'text', b: 'bigint', on: 'boolean' }, key: ['a', 'b', 'on'] },
  },
};

test("find orders by primary key in UTF-8 byte order and merges the block's own changes", async () => {
  for (const inWorker of [false, true]) {
    const reader = new MemoryReader();
    const wordsDef = { columns: { w: 'text', n: 'bigint', tags: 'text[]' }, key: ['w'] } as const;
    const pairsDef = {
      columns: { a: 'text', b: 'bigint', on: 'boolean' },
      key: ['a', 'b', 'on'],
    } as const;
    for (const [w, n] of [
      ['b', 1n],
      ['a', 2n],
      ['\uFFFD', 3n],
      ['😀', 4n],
      ['é', 5n],
      ['Z', 6n],
      ['zz', 7n],
    ] as const)
      reader.seed('words', wordsDef, { w, n, tags: n % 2n === 0n ? ['even'] : ['odd'] });
    for (const [a, b, on] of [
      ['x', -5n, true],
      ['x', 3n, false],
      ['x', -5n, false],
      ['w', 100n, true],
    ] as const)
      reader.seed('pairs', pairsDef, { a, b, on });
    await withChain(
      async (chain) => {
        const c = rawCreateTx({
          type: 'Words',
          template: MODE,
          manifest: WORDS,
          code: `function (p, ctx) {
            const words = (rows) => rows.map((r) => r.w).join(' ');
            if (p.mode === 'change') { ctx.db.put('words', { w: 'c', n: 8n, tags: ['even'] }); ctx.db.delete('words', { w: 'b' }); ctx.db.put('words', { w: 'zz', n: 9n, tags: ['odd'] }); return 'OK'; }
            if (p.mode === 'all') return words(ctx.db.find('words', {}));
            if (p.mode === 'two') return words(ctx.db.find('words', {}, 2));
            if (p.mode === 'odd') return words(ctx.db.find('words', { tags: ['odd'] }));
            if (p.mode === 'pairs') return ctx.db.find('pairs', {}).map((r) => r.a + r.b + r.on).join(' ');
            if (p.mode === 'pairs_x') return ctx.db.find('pairs', { a: 'x', on: false }).map((r) => r.a + r.b + r.on).join(' ');
            if (p.mode === 'none') return String(ctx.db.find('words', {}, 0).length);
          }`,
        });
        await chain.run([c.tx]);
        const r = await chain.run(
          ['all', 'change', 'all', 'two', 'odd', 'pairs', 'pairs_x', 'none'].map((mode) =>
            makeTx(aliceKey, c.hashHex, { mode }),
          ),
        );
        const m = r.outcomes.map(messageOf);
        assert.equal(m[0], 'Z a b zz é \uFFFD 😀');
        assert.equal(m[2], 'Z a c zz é \uFFFD 😀');
        assert.equal(m[3], 'Z a');
        assert.equal(m[4], 'zz é \uFFFD');
        assert.equal(m[5], 'w100true x-5false x-5true x3false');
        assert.equal(m[6], 'x-5false x3false');
        assert.equal(m[7], '0');
        // The next block sees the committed changes through the store and the cache alike.
        const next = await chain.run([
          makeTx(aliceKey, c.hashHex, { mode: 'all' }),
          makeTx(aliceKey, c.hashHex, { mode: 'odd' }),
        ]);
        assert.deepEqual(next.outcomes.map(messageOf), ['Z a c zz é \uFFFD 😀', 'zz é \uFFFD']);
      },
      { inWorker, reader },
    );
  }
});

test('a contract created in a block is usable later in that block; a deleted one is not', async () => {
  await withChain(async (chain) => {
    const c = rawCreateTx({
      type: 'Hello',
      code: "function (p, ctx) { return ctx.contractType === 'Hello' ? 'OK' : 'wrong'; }",
    });
    const r = await chain.run([
      makeTx(aliceKey, c.hashHex, {}),
      c.tx,
      makeTx(aliceKey, c.hashHex, {}),
      deleteTx(c.hashHex),
      makeTx(aliceKey, c.hashHex, {}),
      deleteTx(c.hashHex),
    ]);
    assert.deepEqual(codes(r), [
      'contract_unknown',
      'ok',
      'ok',
      'ok',
      'contract_unknown',
      'contract_delete_invalid',
    ]);
    assert.deepEqual(
      r.createdContracts.map((x) => x.hashHex),
      [c.hashHex],
    );
    assert.deepEqual(r.deletedContracts, [c.hashHex]);
    assert.equal(r.outcomes[4]?.message, `Contract ${c.hashHex} (Hello) was deleted at height 1.`);
    assert.deepEqual(chain.executor.contracts(), []);
    const again = await chain.run([makeTx(aliceKey, c.hashHex, {}), c.tx]);
    assert.deepEqual(codes(again), ['contract_unknown', 'contract_create_invalid']);
  });
});

test('creates and deletes that fail are invalid with a precise code', async () => {
  await withChain(async (chain) => {
    const good = rawCreateTx({ type: 'Good', manifest: NOTES, code: 'function (p, ctx) {}' });
    const byAlice = rawCreateTx(
      { type: 'Alice', code: 'function (p, ctx) { return 1; }' },
      aliceKey,
    );
    const asyncCode = rawCreateTx({ type: 'Async', code: 'async function (p, ctx) {}' });
    const clash = rawCreateTx({
      type: 'Clash',
      manifest: { tables: { notes: { columns: { id: 'text', v: 'text' }, key: ['id'] } } },
      code: 'function (p, ctx) { return 2; }',
    });
    const same = rawCreateTx({
      type: 'Same',
      manifest: NOTES,
      code: 'function (p, ctx) { return 3; }',
    });
    const missingRead = rawCreateTx({
      type: 'Reader',
      manifest: { tables: {}, reads: ['nowhere'] },
      code: 'function (p, ctx) { return 4; }',
    });
    const r = await chain.run([
      good.tx,
      byAlice.tx,
      asyncCode.tx,
      clash.tx,
      same.tx,
      missingRead.tx,
      deleteTx(good.hashHex, bobKey),
    ]);
    assert.deepEqual(codes(r), [
      'ok',
      'not_processor',
      'contract_create_invalid',
      'contract_create_invalid',
      'ok',
      'contract_create_invalid',
      'not_processor',
    ]);
    assert.equal(
      r.outcomes[2]?.message,
      'Invalid code for contract Async: the code must be a plain function expression, not async and not a generator.',
    );
    assert.match(
      messageOf(r.outcomes[3]),
      /^Invalid manifest for contract Clash: table notes already exists with a different definition/,
    );
    assert.equal(
      r.outcomes[1]?.message,
      `Only the processor ${processorKey.address} may create contracts; transaction ${byAlice.tx.idHex} is signed by ${aliceKey.address}.`,
    );
  });
});

test('abort() forgets a block; commit() makes it the base of the next one', async () => {
  for (const inWorker of [false, true]) {
    await withChain(
      async (chain) => {
        const c = rawCreateTx({
          type: 'Counter',
          manifest: NOTES,
          code: "function (p, ctx) { const r = ctx.db.get('notes', { id: 'c' }); const v = r === null ? 1n : r.v + 1n; ctx.db.put('notes', { id: 'c', v }); return 'OK'; }",
        });
        await chain.run([c.tx]);
        const dropped = await chain.run(
          [makeTx(aliceKey, c.hashHex, {}), makeTx(aliceKey, c.hashHex, {})],
          false,
        );
        assert.deepEqual(dropped.stateChanges, [
          { table: 'notes', key: ['c'], row: { id: 'c', v: 2n } },
        ]);
        const kept = await chain.run([makeTx(aliceKey, c.hashHex, {})]);
        assert.deepEqual(kept.stateChanges, [
          { table: 'notes', key: ['c'], row: { id: 'c', v: 1n } },
        ]);
        const readsBefore = chain.reader.reads;
        const next = await chain.run([makeTx(aliceKey, c.hashHex, {})]);
        assert.deepEqual(next.stateChanges, [
          { table: 'notes', key: ['c'], row: { id: 'c', v: 2n } },
        ]);
        assert.equal(chain.reader.reads, readsBefore, 'a committed row is served from the cache');
        // An aborted create leaves no contract behind.
        const ghost = rawCreateTx({ type: 'Ghost', code: 'function (p, ctx) { return 9; }' });
        await chain.run([ghost.tx], false);
        assert.deepEqual(
          chain.executor.contracts().map((x) => x.type),
          ['Counter'],
        );
        assert.deepEqual(codes(await chain.run([makeTx(aliceKey, ghost.hashHex, {})])), [
          'contract_unknown',
        ]);
      },
      { inWorker },
    );
  }
});

async function scriptedBlocks(chain: TestChain): Promise<string[]> {
  const c = rawCreateTx({
    type: 'Ledger',
    template: {
      to: { type: 'str', name: 'to', desc: '' },
      amount: { type: 'kwh', name: 'amount', desc: '' },
    },
    manifest: { tables: { balances: { columns: { who: 'text', wh: 'bigint' }, key: ['who'] } } },
    code: `function (p, ctx) {
      const from = ctx.db.get('balances', { who: ctx.sender });
      const have = from === null ? 1000000n : from.wh;
      if (have < p.amount) return ctx.reject('insufficient_energy', 'have ' + have);
      const to = ctx.db.get('balances', { who: p.to });
      ctx.db.put('balances', { who: ctx.sender, wh: have - p.amount });
      ctx.db.put('balances', { who: p.to, wh: (to === null ? 0n : to.wh) + p.amount });
      return String(ctx.db.find('balances', {}).length) === '0' ? 'empty' : 'OK';
    }`,
  });
  const out: string[] = [resultText(await chain.run([c.tx]))];
  for (let b = 0; b < 4; b++) {
    const txs = [aliceKey, bobKey, aliceKey].map((k, i) =>
      makeTx(
        k,
        c.hashHex,
        { to: i === 1 ? aliceKey.address : `carol${b}`, amount: `${100 * (b + 1)}.5` },
        `${b}${i}`.padStart(32, '0'),
      ),
    );
    out.push(resultText(await chain.run(txs)));
  }
  return out;
}

test('the worker with a slow async reader gives exactly what the in-process executor gives', async () => {
  const local = await createTestChain({ inWorker: false });
  const slowReader = new MemoryReader();
  slowReader.delayMs = 15;
  const remote = await createTestChain({ inWorker: true, reader: slowReader });
  try {
    const a = await scriptedBlocks(local);
    const b = await scriptedBlocks(remote);
    assert.deepEqual(b, a);
    assert.ok(slowReader.reads > 0 && slowReader.finds > 0);
  } finally {
    await local.close();
    await remote.close();
  }
});

test('a failed state read fails the block with retry, never a transaction outcome', async () => {
  for (const inWorker of [false, true]) {
    await withChain(
      async (chain) => {
        const c = rawCreateTx({
          type: 'Peek',
          manifest: NOTES,
          code: "function (p, ctx) { try { ctx.db.get('notes', { id: ctx.txId }); } catch (e) {} return 'OK'; }",
        });
        await chain.run([c.tx]);
        chain.reader.failReads = true;
        await assert.rejects(
          chain.run([makeTx(aliceKey, c.hashHex, {})]),
          (err: unknown) =>
            err instanceof ChainError &&
            err.code === 'retry' &&
            /the test store is down/.test(err.message),
        );
        chain.reader.failReads = false;
        chain.height -= 1;
        chain.processedMs -= 1000;
        assert.deepEqual(codes(await chain.run([makeTx(aliceKey, c.hashHex, {})])), ['ok']);
      },
      { inWorker },
    );
  }
});

test('ctx.db calls per transaction are limited', async () => {
  await withChain(
    async (chain) => {
      const c = rawCreateTx({
        type: 'Chatty',
        manifest: NOTES,
        code: "function (p, ctx) { for (let i = 0; i < 10001; i++) ctx.db.get('notes', { id: 'x' }); }",
      });
      await chain.run([c.tx]);
      const r = await chain.run([makeTx(aliceKey, c.hashHex, {})]);
      assert.deepEqual(r.outcomes, [
        {
          status: 'rejected',
          code: 'contract_out_of_gas',
          message: 'contract Chatty made more than 10000 ctx.db calls in one transaction',
        },
      ]);
    },
    { limits: { gasInterruptsPerTx: 10_000 } },
  );
});

test('a contract with the settlement budget may make 100,000 ctx.db calls and use 100 times the gas', async () => {
  await withChain(async (chain) => {
    // The type goes into the code: the contract hash is the code's.
    const loop = (type: string, calls: number): string =>
      `function (p, ctx) { const t = '${type}'; for (let i = 0; i < ${calls}; i++) ctx.db.get('notes', { id: t }); return 'OK'; }`;
    const settles = rawCreateTx({
      type: 'Settles',
      manifest: { ...NOTES, budget: 'settlement' },
      code: loop('Settles', 20_000),
    });
    const plain = rawCreateTx({ type: 'Plain', manifest: NOTES, code: loop('Plain', 20_000) });
    const tooMany = rawCreateTx({
      type: 'TooMany',
      manifest: { ...NOTES, budget: 'settlement' },
      code: loop('TooMany', 100_001),
    });
    const spin = (type: string, budget: boolean) =>
      rawCreateTx({
        type,
        manifest: budget ? { ...NOTES, budget: 'settlement' } : NOTES,
        code: `function (p, ctx) { const t = '${type}'; let n = 0; for (let i = 0; i < 20000000; i++) n += i; return t === '' ? 'no' : 'OK'; }`,
      });
    const spinBudget = spin('SpinBudget', true);
    const spinPlain = spin('SpinPlain', false);
    await chain.run([settles.tx, plain.tx, tooMany.tx, spinBudget.tx, spinPlain.tx]);
    const r = await chain.run(
      [settles, plain, tooMany, spinBudget, spinPlain].map((c) => makeTx(aliceKey, c.hashHex, {})),
    );
    assert.deepEqual(
      r.outcomes.map((o) => (o.status === 'accepted' ? 'accepted' : `${o.code}: ${o.message}`)),
      [
        'accepted',
        'contract_out_of_gas: contract Plain made more than 10000 ctx.db calls in one transaction',
        'contract_out_of_gas: contract TooMany made more than 100000 ctx.db calls in one transaction',
        'accepted',
        'contract_out_of_gas: contract SpinPlain used more than 200 interrupts (about 2000000 operations), the budget of one transaction',
      ],
    );
  });
});

test('invalid transactions to normal contracts: unknown contract, payload that fails the template', async () => {
  await withChain(async (chain) => {
    const c = rawCreateTx({
      type: 'Typed',
      template: { n: { type: 'uint', name: 'n', desc: '' } },
      code: 'function (p, ctx) { return typeof p.n === "number" ? "OK" : "no"; }',
    });
    await chain.run([c.tx]);
    const r = await chain.run([
      makeTx(aliceKey, c.hashHex, { n: 1 }),
      makeTx(aliceKey, c.hashHex, { n: 'x' }),
      makeTx(aliceKey, 'ee'.repeat(32), {}),
    ]);
    assert.deepEqual(r.outcomes, [
      { status: 'accepted', message: 'OK' },
      {
        status: 'invalid',
        code: 'payload_invalid',
        message: 'Payload has invalid or missing uint type: n (contract Typed)',
      },
      {
        status: 'invalid',
        code: 'contract_unknown',
        message: `Contract ${'ee'.repeat(32)} does not exist.`,
      },
    ]);
  });
});
