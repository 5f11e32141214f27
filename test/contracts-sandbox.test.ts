// Escapes and limits of the QuickJS sandbox. Every case runs in one block, and the block is run
// in fresh executors several times (in process and in the worker): outcomes, state changes and
// digests must be identical every time, including for loops, memory bombs and deep recursion.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TxOutcome } from '../src/chain/types.js';
import {
  aliceKey,
  createTestChain,
  makeTx,
  rawCreateTx,
  resultText,
} from './support/contracts-chain.js';
import type { RawContract } from './support/contracts-chain.js';

interface Case extends RawContract {
  /** Expected outcome: a code, or 'accepted'. A function checks more. */
  readonly expect: string | ((o: TxOutcome) => void);
}

const NOTE_TABLE = {
  tables: { notes: { columns: { id: 'text', v: 'bigint' }, key: ['id'] } },
  reads: [],
};

const CASES: Case[] = [
  { type: 'Loop', code: 'function (p, ctx) { for (;;) {} }', expect: 'contract_out_of_gas' },
  {
    type: 'LoopCatch',
    code: 'function (p, ctx) { try { for (;;) {} } catch (e) { return "caught"; } }',
    expect: 'contract_out_of_gas',
  },
  {
    type: 'WhileWrite',
    code: 'function (p, ctx) { let i = 0n; for (;;) { i++; } }',
    expect: 'contract_out_of_gas',
  },
  {
    type: 'Repeat',
    code: 'function (p, ctx) { return "x".repeat(1e9); }',
    expect: 'contract_out_of_memory',
  },
  {
    type: 'RepeatCatch',
    code: 'function (p, ctx) { try { "x".repeat(1e9); } catch (e) { return "caught " + e.message; } }',
    expect: (o) =>
      assert.deepEqual(o, {
        status: 'rejected',
        code: 'contract_rejected',
        message: 'caught out of memory',
      }),
  },
  {
    type: 'GrowArray',
    code: 'function (p, ctx) { const a = []; for (;;) a.push({ x: a.length, y: [a.length] }); }',
    expect: (o) =>
      assert.match(o.status === 'rejected' ? o.code : '', /^contract_out_of_(gas|memory)$/),
  },
  {
    type: 'GrowString',
    code: 'function (p, ctx) { let s = "x"; for (;;) s = s + s; }',
    expect: (o) => assert.equal(o.status, 'rejected'),
  },
  {
    type: 'BigArray',
    code: 'function (p, ctx) { return String(new Array(1e8).fill(0).length); }',
    expect: 'contract_out_of_memory',
  },
  {
    type: 'Recursion',
    code: 'function f(p, ctx) { return f(p, ctx) + 1; }',
    expect: (o) =>
      assert.deepEqual(o, {
        status: 'rejected',
        code: 'contract_error',
        message: 'InternalError: stack overflow',
      }),
  },
  {
    type: 'NativeRecursion',
    code: 'function (p, ctx) { let a = []; for (let i = 0; i < 100000; i++) a = [a]; return JSON.stringify(a).length; }',
    expect: (o) =>
      assert.deepEqual(o, {
        status: 'rejected',
        code: 'contract_error',
        message: 'InternalError: stack overflow',
      }),
  },
  {
    type: 'ParseDeep',
    code: 'function (p, ctx) { JSON.parse("[".repeat(100000)); }',
    expect: (o) =>
      assert.deepEqual(o, {
        status: 'rejected',
        code: 'contract_error',
        message: 'SyntaxError: stack overflow',
      }),
  },
  {
    type: 'UnstorableMessage',
    code: 'function (p, ctx) { return "a" + String.fromCharCode(0) + "b" + String.fromCharCode(0xd800) + "c"; }',
    expect: (o) =>
      assert.deepEqual(o, {
        status: 'rejected',
        code: 'contract_rejected',
        message: 'a\ufffdb\ufffdc',
      }),
  },
  {
    type: 'LongMessage',
    code: 'function (p, ctx) { return ctx.reject("too_long", "\u00e9".repeat(5000)); }',
    expect: (o) =>
      assert.deepEqual(o, { status: 'rejected', code: 'too_long', message: '\u00e9'.repeat(512) }),
  },
  {
    type: 'DateNow',
    code: 'function (p, ctx) { return String(Date.now()); }',
    expect: (o) => assert.match(o.message, /^TypeError: Date.now is not available to contracts/),
  },
  {
    type: 'NewDate',
    code: 'function (p, ctx) { return String(new Date()); }',
    expect: (o) => assert.match(o.message, /^TypeError: new Date\(\) reads the clock/),
  },
  {
    type: 'DateCall',
    code: 'function (p, ctx) { return Date(); }',
    expect: (o) => assert.match(o.message, /^TypeError: Date\(\) reads the clock/),
  },
  {
    type: 'Random',
    code: 'function (p, ctx) { return String(Math.random()); }',
    expect: (o) => assert.match(o.message, /^TypeError: Math.random is not available/),
  },
  {
    type: 'GlobalWrite',
    code: 'function (p, ctx) { globalThis.stash = 1; }',
    expect: 'contract_error',
  },
  { type: 'ImplicitGlobal', code: 'function (p, ctx) { stash = 1; }', expect: 'contract_error' },
  {
    type: 'ProtoWrite',
    code: 'function (p, ctx) { Object.prototype.stash = 1; }',
    expect: 'contract_error',
  },
  {
    type: 'BuiltinWrite',
    code: 'function (p, ctx) { Array.prototype.map = function () { return []; }; }',
    expect: 'contract_error',
  },
  {
    type: 'MethodProps',
    code: 'function (p, ctx) { Array.prototype.map.stash = 1; }',
    expect: 'contract_error',
  },
  { type: 'SelfWrite', code: 'function me(p, ctx) { me.stash = 1; }', expect: 'contract_error' },
  {
    type: 'IteratorProto',
    code: 'function (p, ctx) { Object.getPrototypeOf([][Symbol.iterator]()).next = null; }',
    expect: 'contract_error',
  },
  {
    type: 'FunctionCtor',
    code: 'function (p, ctx) { return (function () {}).constructor("return 1")(); }',
    expect: (o) => assert.match(o.message, /^TypeError: Function cannot create code in a contract/),
  },
  {
    type: 'GeneratorCtor',
    code: 'function (p, ctx) { return Object.getPrototypeOf(function* () {}).constructor("yield 1"); }',
    expect: (o) => assert.match(o.message, /^TypeError: GeneratorFunction cannot create code/),
  },
  {
    type: 'Inventory',
    code: 'function (p, ctx) { return [typeof eval, typeof Promise, typeof WeakRef, typeof FinalizationRegistry, typeof Uint8Array, typeof ArrayBuffer, typeof SharedArrayBuffer, typeof Atomics, typeof this, typeof ctx.db.get].join(","); }',
    expect: (o) =>
      assert.equal(
        o.message,
        'undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,function',
      ),
  },
  {
    type: 'DateUtc',
    code: 'function (p, ctx) { const d = new Date(ctx.block.processedMs); return [d.getHours(), d.getTimezoneOffset(), d.toString(), d.toDateString(), d.toTimeString(), new Date(2024, 0, 1, 12).getTime(), Date.parse("2024-01-01T00:00:00"), Date.parse("Jan 1 2024"), new Date("2024-02-03").getDate()].join("|"); }',
    expect: (o) =>
      assert.equal(
        o.message,
        '22|0|2023-11-14T22:13:22.000Z|2023-11-14|22:13:22.000Z|1704110400000|1704067200000|NaN|3',
      ),
  },
  {
    type: 'Async',
    code: 'function (p, ctx) { (async () => { await 0; })(); return "ran"; }',
    expect: (o) =>
      assert.deepEqual(o, { status: 'rejected', code: 'contract_rejected', message: 'ran' }),
  },
  { type: 'ReturnBigint', code: 'function (p, ctx) { return 5n; }', expect: 'contract_error' },
  { type: 'ReturnObject', code: 'function (p, ctx) { return {}; }', expect: 'contract_error' },
  { type: 'ReturnNull', code: 'function (p, ctx) { return null; }', expect: 'contract_error' },
  {
    type: 'BadRejectCode',
    code: 'function (p, ctx) { return ctx.reject("Not Valid", "x"); }',
    expect: 'contract_error',
  },
  {
    type: 'GoodReject',
    code: 'function (p, ctx) { return ctx.reject("too_late", "it is " + ctx.block.height); }',
    expect: (o) =>
      assert.deepEqual(o, { status: 'rejected', code: 'too_late', message: 'it is 2' }),
  },
  {
    type: 'ThrowString',
    code: 'function (p, ctx) { throw "nope"; }',
    expect: (o) =>
      assert.deepEqual(o, { status: 'rejected', code: 'contract_error', message: 'nope' }),
  },
  {
    type: 'ThrowLong',
    code: 'function (p, ctx) { throw new Error("e".repeat(5000)); }',
    expect: (o) => {
      assert.equal(o.status === 'rejected' && o.code, 'contract_error');
      assert.equal(o.message.length, 200);
    },
  },
  {
    type: 'LongMessage',
    code: 'function (p, ctx) { return "é".repeat(2000); }',
    expect: (o) => {
      assert.equal(Buffer.byteLength(o.message, 'utf8'), 1024);
      assert.equal(o.message, 'é'.repeat(512));
    },
  },
  {
    type: 'ThrowGetter',
    code: 'function (p, ctx) { throw { get message() { for (;;) {} } }; }',
    expect: 'contract_out_of_gas',
  },
  {
    type: 'Ok',
    code: 'function (p, ctx) { ctx.db.put("notes", { id: ctx.txId, v: 1n }); }',
    manifest: NOTE_TABLE,
    expect: 'accepted',
  },
];

/** The whole battery as one block after the creating block; the same every time. */
async function runBattery(
  inWorker: boolean,
): Promise<{ text: string; outcomes: readonly TxOutcome[] }> {
  const chain = await createTestChain({ inWorker });
  try {
    const creates = CASES.map((c) => rawCreateTx(c));
    const created = await chain.run(creates.map((c) => c.tx));
    assert.deepEqual(
      created.outcomes.map((o, i) => `${CASES[i]?.type}:${o.status}`),
      CASES.map((c) => `${c.type}:accepted`),
    );
    let n = 0;
    const txs = creates.map((c) =>
      makeTx(aliceKey, c.hashHex, {}, (++n).toString(16).padStart(32, 'a')),
    );
    // The last contract runs once more after every bomb went off: memory and state are fine.
    txs.push(makeTx(aliceKey, creates[creates.length - 1]?.hashHex ?? '', {}, 'ff'.repeat(16)));
    const r = await chain.run(txs);
    return { text: resultText(r), outcomes: r.outcomes };
  } finally {
    await chain.close();
  }
}

test('every escape and limit case ends as expected, identically in fresh executors and in the worker', async () => {
  const first = await runBattery(false);
  CASES.forEach((c, i) => {
    const o = first.outcomes[i];
    assert.ok(o !== undefined);
    if (typeof c.expect === 'function') c.expect(o);
    else if (c.expect === 'accepted')
      assert.equal(o.status, 'accepted', `${c.type}: ${JSON.stringify(o)}`);
    else
      assert.equal(
        o.status === 'accepted' ? 'accepted' : o.code,
        c.expect,
        `${c.type}: ${JSON.stringify(o)}`,
      );
  });
  assert.equal(first.outcomes[CASES.length]?.status, 'accepted');
  const second = await runBattery(false);
  assert.equal(second.text, first.text);
  const inWorker = await runBattery(true);
  assert.equal(inWorker.text, first.text);
});

test('a loop near the gas budget ends the same way every time', async () => {
  const runs: string[] = [];
  for (const inWorker of [false, false, true]) {
    const chain = await createTestChain({ inWorker, limits: { gasInterruptsPerTx: 20 } });
    try {
      const c = rawCreateTx({
        type: 'Counting',
        template: { n: { type: 'uint', name: 'n', desc: '' } },
        manifest: NOTE_TABLE,
        code: 'function (p, ctx) { let s = 0; for (let i = 0; i < p.n; i++) s += i % 7; ctx.db.put("notes", { id: String(p.n), v: BigInt(s) }); }',
      });
      await chain.run([c.tx]);
      const sizes = [
        1000, 20000, 40000, 60000, 80000, 100000, 120000, 140000, 160000, 200000, 400000,
      ];
      const r = await chain.run(
        sizes.map((n, i) =>
          makeTx(aliceKey, c.hashHex, { n }, (i + 1).toString(16).padStart(32, '0')),
        ),
      );
      runs.push(resultText(r));
      const codes = r.outcomes.map((o) => (o.status === 'accepted' ? 'ok' : o.code));
      assert.equal(codes[0], 'ok');
      assert.equal(codes[codes.length - 1], 'contract_out_of_gas');
    } finally {
      await chain.close();
    }
  }
  assert.equal(runs[1], runs[0]);
  assert.equal(runs[2], runs[0]);
});

test('a failing contract leaves the next transactions and the next block unharmed', async () => {
  const chain = await createTestChain({ inWorker: true });
  try {
    const bomb = rawCreateTx({
      type: 'Bomb',
      code: 'function (p, ctx) { let a = [1]; for (;;) a = a.concat(a); }',
    });
    const ok = rawCreateTx({
      type: 'Fine',
      manifest: NOTE_TABLE,
      code: 'function (p, ctx) { ctx.db.put("notes", { id: ctx.txId, v: BigInt(ctx.block.height) }); }',
    });
    await chain.run([bomb.tx, ok.tx]);
    const r = await chain.run([
      makeTx(aliceKey, bomb.hashHex, {}),
      makeTx(aliceKey, ok.hashHex, {}),
      makeTx(aliceKey, bomb.hashHex, {}),
      makeTx(aliceKey, ok.hashHex, {}),
    ]);
    assert.deepEqual(
      r.outcomes.map((o) => (o.status === 'accepted' ? 'ok' : o.code)),
      ['contract_out_of_memory', 'ok', 'contract_out_of_memory', 'ok'],
    );
    const next = await chain.run([makeTx(aliceKey, ok.hashHex, {})]);
    assert.equal(next.outcomes[0]?.status, 'accepted');
  } finally {
    await chain.close();
  }
});

test('contract dates do not depend on the host time zone', () => {
  const child = fileURLToPath(new URL('./support/contracts-tz-child.js', import.meta.url));
  const outputs = ['UTC', 'Pacific/Chatham', 'America/St_Johns'].map((tz) => {
    const r = spawnSync(process.execPath, [child], {
      env: { ...process.env, TZ: tz },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  });
  assert.match(outputs[0] ?? '', /"message":"22\|0\|2023-11-14T22:13:22.000Z\|/);
  assert.equal(outputs[1], outputs[0]);
  assert.equal(outputs[2], outputs[0]);
});
