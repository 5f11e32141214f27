// The fast host-call path (quickjs.ts, newTextHostFunction) must be invisible: every ctx.db call
// gives the contract, the host and the outcome exactly what quickjs-emscripten's public API gives.
// Each case runs on both paths and the results are compared; the runtime must free cleanly after.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuickJSContext } from 'quickjs-emscripten';
import {
  freshQuickJS,
  HostThrow,
  newTextHostFunction,
  SANDBOX_INTRINSICS,
} from '../src/contracts/runtime/quickjs.js';
import type {
  HostCallPath,
  HostReply,
  TextHostFunction,
} from '../src/contracts/runtime/quickjs.js';
import { BlockSandbox, ContractFault } from '../src/contracts/runtime/sandbox.js';
import type { CallInfo, DbHost } from '../src/contracts/runtime/sandbox.js';
import { DEFAULT_EXECUTION_LIMITS } from '../src/contracts/limits.js';
import type { BlockTxOutcome } from '../src/chain/types.js';
import type { Row } from '../src/chain/contract-model.js';

const PATHS: HostCallPath[] = ['fast', 'public'];

// Strings that stress the UTF-8 conversions both ways: empty, short and long, non-ASCII, astral,
// U+0000, lone surrogates, a byte order mark.
const ODD_STRINGS = [
  '',
  'a',
  'ascii only and longer than sixteen bytes',
  'h\u00e9llo w\u00f6rld \u20ac',
  '\ud83d\ude00 astral \ud83c\udf1e',
  'nul\u0000inside',
  '\u0000',
  'lone \ud800 high',
  'lone \udc00 low',
  '\ud800',
  '\ufeffbom first',
  'end high \ud83d',
];

/** Runs `source` (a function of host) in a fresh context with the host function on `path`. */
async function runRaw(
  path: HostCallPath,
  fn: TextHostFunction,
  source: string,
): Promise<{ path: HostCallPath; result: unknown; disposeProblem: unknown }> {
  const module = await freshQuickJS();
  const runtime = module.newRuntime();
  const ctx: QuickJSContext = runtime.newContext({ intrinsics: SANDBOX_INTRINSICS });
  const made = newTextHostFunction(ctx, fn, path);
  const f = ctx.unwrapResult(ctx.evalCode(`(function (host) { ${source} })`));
  const r = ctx.callFunction(f, ctx.undefined, made.handle);
  let result: unknown;
  if (r.error !== undefined) {
    result = { threw: ctx.dump(r.error) as unknown };
    r.error.dispose();
  } else {
    result = ctx.dump(r.value) as unknown;
    r.value.dispose();
  }
  f.dispose();
  made.handle.dispose();
  let disposeProblem: unknown = null;
  try {
    ctx.dispose();
    runtime.dispose();
  } catch (err) {
    disposeProblem = err;
  }
  return { path: made.path, result, disposeProblem };
}

/** Same source on both paths: the fast one must really be fast, and both must agree. */
async function bothRaw(fn: () => TextHostFunction, source: string): Promise<unknown> {
  const fast = await runRaw('fast', fn(), source);
  const slow = await runRaw('public', fn(), source);
  assert.equal(fast.path, 'fast');
  assert.equal(slow.path, 'public');
  assert.equal(fast.disposeProblem, null);
  assert.equal(slow.disposeProblem, null);
  assert.deepEqual(fast.result, slow.result);
  return fast.result;
}

test('the fast path is used with quickjs-emscripten 0.32.0, the public one on request', async () => {
  for (const path of PATHS) {
    const sandbox = await BlockSandbox.create(DEFAULT_EXECUTION_LIMITS, { hostCalls: path });
    assert.equal(sandbox.hostCallPath, null);
    const out = sandbox.call(
      {
        hashHex: 'a'.repeat(64),
        type: 'Ok',
        code: 'function (p, ctx) { return typeof ctx.db.get; }',
      },
      {},
      INFO,
      emptyDb(),
    );
    assert.deepEqual(out, { status: 'rejected', code: 'contract_rejected', message: 'function' });
    assert.equal(sandbox.hostCallPath, path);
    sandbox.dispose();
    assert.equal(sandbox.disposeProblem, null);
  }
});

test('without the internals it needs, the host function takes the public path and still works', async () => {
  const module = await freshQuickJS();
  const runtime = module.newRuntime();
  const ctx = runtime.newContext();
  // A context whose C -> host callbacks cannot be found, as with another quickjs-emscripten.
  const hidden = Object.create(ctx, { cToHostCallbacks: { value: undefined } }) as QuickJSContext;
  const made = newTextHostFunction(hidden, (op, a, b, n) => `${op}|${a}|${b}|${n}`);
  assert.equal(made.path, 'public');
  const f = ctx.unwrapResult(ctx.evalCode('(function (host) { return host(3, "t", "x", 7); })'));
  const r = ctx.unwrapResult(ctx.callFunction(f, ctx.undefined, made.handle));
  assert.equal(ctx.getString(r), '3|t|x|7');
  for (const h of [r, f, made.handle]) h.dispose();
  ctx.dispose();
  runtime.dispose();
});

test('arguments reach the host alike on both paths, whatever the text', async () => {
  const seen = await bothRaw(
    () => {
      return (op, a, b, n) => JSON.stringify([op, a, b, n]);
    },
    `const odd = ${JSON.stringify(ODD_STRINGS)}; const out = [];
     for (let i = 0; i < odd.length; i++) out.push(host(i, odd[i], odd[odd.length - 1 - i], i * 1.5));
     out.push(host(-0, 5, null, 2 ** 53), host(1, {}, [1, 2], NaN));
     return out;`,
  );
  assert.ok(Array.isArray(seen));
  // Well-formed text arrives as it was; a lone surrogate becomes U+FFFD (one per byte of
  // QuickJS's UTF-8 for it), and text ends at U+0000, as quickjs-emscripten's getString has it.
  assert.deepEqual(JSON.parse((seen as string[])[3] as string), [
    3,
    ODD_STRINGS[3],
    'lone \ufffd\ufffd\ufffd low',
    4.5,
  ]);
  assert.deepEqual(JSON.parse((seen as string[])[5] as string), [5, 'nul', '', 7.5]);
});

test('replies reach QuickJS alike on both paths: strings, booleans, undefined', async () => {
  const replies: HostReply[] = [
    ...ODD_STRINGS,
    'x'.repeat(100_000) + '\u00e9',
    true,
    false,
    undefined,
  ];
  const got = await bothRaw(
    () => (op) => replies[op],
    `const out = [];
     for (let i = 0; i < ${replies.length}; i++) { const r = host(i, '', '', 0); out.push(typeof r === 'string' ? JSON.stringify(r).slice(0, 200) + '#' + r.length : r === undefined ? 'undefined' : r); }
     return out;`,
  );
  assert.deepEqual((got as unknown[]).slice(-3), [true, false, 'undefined']);
  assert.equal(
    (got as unknown[])[2],
    JSON.stringify(ODD_STRINGS[2]) + '#' + String(ODD_STRINGS[2]?.length),
  );
});

test('errors the host throws into QuickJS are alike on both paths, and catchable', async () => {
  const got = await bothRaw(
    () => (op) => {
      if (op === 0)
        return new HostThrow('ContractFault', 'table "x" is not in the manifest \u00e9');
      if (op === 1) return new HostThrow(undefined, 'the host failed');
      throw new RangeError('unexpected');
    },
    `const out = [];
     for (let i = 0; i < 3; i++) { try { host(i, '', '', 0); out.push('no error'); } catch (e) { out.push([e instanceof Error, e.name, e.message]); } }
     return out;`,
  );
  assert.deepEqual(got, [
    [true, 'ContractFault', 'table "x" is not in the manifest \u00e9'],
    [true, 'Error', 'the host failed'],
    [true, 'RangeError', 'unexpected'],
  ]);
});

test('many host calls leave nothing behind (the runtime frees without complaint)', async () => {
  await bothRaw(
    () => (op, a) => (op === 0 ? a + a : op === 1 ? op === 1 : new HostThrow(undefined, a)),
    `let n = 0;
     for (let i = 0; i < 3000; i++) {
       n += host(0, 'abc\u00e9' + i, '', 0).length;
       if (host(1, '', '', 0) !== true) throw new Error('not true');
       try { host(2, 'e' + i, '', 0); } catch (e) { n += e.message.length; }
     }
     return n;`,
  );
});

// Whole calls through BlockSandbox on both paths.

const INFO: CallInfo = {
  sender: 'sender-\u00e9',
  txId: 'a'.repeat(64),
  contractHash: 'b'.repeat(64),
  contractType: 'T',
  processor: 'P',
  height: 7,
  processedMs: 1_700_000_000_000,
  previousProcessedMs: 1_699_999_999_000,
  previousHash: 'c'.repeat(64),
};

/** A DbHost on a Map that records every operation, so the two paths can be compared. */
function memoryDb(log: unknown[], opts: { deny?: string; failOn?: string } = {}): DbHost {
  const rows = new Map<string, unknown>();
  const keyOf = (table: string, key: unknown): string =>
    table +
    '\u0001' +
    JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  const check = (table: string): void => {
    if (table === opts.deny)
      throw new ContractFault(
        'contract_access_denied',
        `table ${JSON.stringify(table)} is not yours`,
      );
    if (table === opts.failOn) throw new Error('the database is down');
  };
  return {
    get(table, key) {
      log.push(['get', table, key]);
      check(table);
      return (rows.get(keyOf(table, key)) as Row | undefined) ?? null;
    },
    put(table, row) {
      log.push(['put', table, row]);
      check(table);
      rows.set(keyOf(table, (row as { id?: unknown }).id), row);
    },
    delete(table, key) {
      log.push(['delete', table, key]);
      check(table);
      return rows.delete(keyOf(table, key));
    },
    find(table, where, limit) {
      log.push(['find', table, where, limit]);
      check(table);
      return [...rows.values()].slice(0, limit) as Row[];
    },
  };
}
const emptyDb = (): DbHost => memoryDb([]);

interface SandboxCase {
  readonly code: string;
  readonly payload?: Record<string, unknown>;
  readonly deny?: string;
  readonly failOn?: string;
}

/** Outcome (or the thrown host error) and the log of db operations, on one path. */
async function runCase(
  path: HostCallPath,
  c: SandboxCase,
  calls = 2,
): Promise<{ outcomes: unknown[]; log: unknown[] }> {
  const sandbox = await BlockSandbox.create(DEFAULT_EXECUTION_LIMITS, { hostCalls: path });
  const log: unknown[] = [];
  const db = memoryDb(log, c);
  const outcomes: unknown[] = [];
  const contract = { hashHex: 'd'.repeat(64), type: 'Case', code: c.code };
  for (let i = 0; i < calls; i++) {
    try {
      outcomes.push(sandbox.call(contract, c.payload ?? { n: BigInt(i) }, INFO, db));
    } catch (err) {
      outcomes.push({ hostError: String(err) });
    }
  }
  // The sandbox still works for a plain call after whatever happened.
  const after: BlockTxOutcome = sandbox.call(
    { hashHex: 'e'.repeat(64), type: 'After', code: 'function () {}' },
    {},
    INFO,
    db,
  );
  assert.deepEqual(after, { status: 'accepted', message: 'OK' });
  assert.equal(sandbox.hostCallPath, path);
  sandbox.dispose();
  assert.equal(sandbox.disposeProblem, null, `${path}: the runtime did not free cleanly`);
  return { outcomes, log };
}

async function sameOnBothPaths(c: SandboxCase): Promise<{ outcomes: unknown[]; log: unknown[] }> {
  const fast = await runCase('fast', c);
  const slow = await runCase('public', c);
  assert.deepEqual(fast, slow);
  return fast;
}

test('values with BigInts, "$" keys, unicode, U+0000 and lone surrogates go through ctx.db alike', async () => {
  const odd = JSON.stringify(ODD_STRINGS);
  const { outcomes, log } = await sameOnBothPaths({
    code: `function (p, ctx) {
      const odd = ${odd};
      const row = { id: 'r' + p.n, big: 12345678901234567890n * (p.n + 1n), neg: -1n, $dollar: { $$two: [1n, '$'] }, texts: odd, nested: { a: [{ b: 2n }] } };
      ctx.db.put('t', row);
      const back = ctx.db.get('t', 'r' + p.n);
      const again = ctx.db.find('t', { $where: 1n }, 5);
      const gone = ctx.db.delete('t', 'r' + p.n);
      const missing = ctx.db.delete('t', 'nothing');
      const same = JSON.stringify(back, (k, v) => typeof v === 'bigint' ? v + 'n' : v) === JSON.stringify(row, (k, v) => typeof v === 'bigint' ? v + 'n' : v);
      return [same, again.length, gone, missing, back.texts[7], typeof back.big].join('|');
    }`,
  });
  assert.deepEqual(outcomes, [
    {
      status: 'rejected',
      code: 'contract_rejected',
      message: 'true|1|true|false|lone \ufffd high|bigint',
    },
    {
      status: 'rejected',
      code: 'contract_rejected',
      message: 'true|1|true|false|lone \ufffd high|bigint',
    },
  ]);
  const put = log[0] as [string, string, Record<string, unknown>];
  assert.equal(put[0], 'put');
  assert.equal(put[2]['big'], 12345678901234567890n);
  assert.deepEqual(put[2]['$dollar'], { $$two: [1n, '$'] });
  assert.deepEqual(put[2]['texts'], ODD_STRINGS);
  assert.deepEqual(log[2], ['find', 't', { $where: 1n }, 5]);
});

test('table names with odd text reach the host alike on both paths; a name with U+0000 is refused before', async () => {
  const names = ODD_STRINGS.filter((s) => !s.includes('\u0000'));
  const { log } = await sameOnBothPaths({
    code: `function (p, ctx) { const odd = ${JSON.stringify(names)}; for (let i = 0; i < odd.length; i++) ctx.db.get(odd[i], i); }`,
  });
  assert.equal(log.length, names.length * 2);
  assert.deepEqual(log[3], ['get', names[3], 3]);
  const nul = await sameOnBothPaths({ code: `function (p, ctx) { ctx.db.get('t\\u0000x', 1); }` });
  assert.deepEqual(nul.log, [], 'the host never saw it');
  assert.deepEqual(nul.outcomes, [
    {
      status: 'rejected',
      code: 'contract_error',
      message: 'TypeError: a table name must not contain U+0000',
    },
    {
      status: 'rejected',
      code: 'contract_error',
      message: 'TypeError: a table name must not contain U+0000',
    },
  ]);
});

test('a ContractFault decides the outcome even when the contract catches it and carries on', async () => {
  const { outcomes } = await sameOnBothPaths({
    deny: 'secret',
    code: `function (p, ctx) {
      let seen = '';
      try { ctx.db.get('secret', 1); } catch (e) { seen = e.name + ': ' + e.message; }
      try { ctx.db.put('open', { id: 1 }); } catch (e) { seen += ' / ' + e.name; }
      return seen;
    }`,
  });
  assert.deepEqual(outcomes, [
    { status: 'rejected', code: 'contract_access_denied', message: 'table "secret" is not yours' },
    { status: 'rejected', code: 'contract_access_denied', message: 'table "secret" is not yours' },
  ]);
});

test('a failure of the host fails the call, even when the contract catches it', async () => {
  const { outcomes } = await sameOnBothPaths({
    failOn: 'down',
    code: `function (p, ctx) { try { ctx.db.find('down', {}); } catch (e) { return 'caught ' + e.message; } }`,
  });
  assert.deepEqual(outcomes, [
    { hostError: 'Error: the database is down' },
    { hostError: 'Error: the database is down' },
  ]);
});

test('running out of gas between host calls is the same on both paths', async () => {
  const { outcomes, log } = await sameOnBothPaths({
    code: `function (p, ctx) { for (let i = 0; ; i++) { ctx.db.put('t', { id: i % 10, v: BigInt(i) }); ctx.db.get('t', i % 10); } }`,
  });
  assert.deepEqual(
    outcomes.map((o) => (o as { code?: string }).code),
    ['contract_out_of_gas', 'contract_out_of_gas'],
  );
  assert.ok(log.length > 100);
});

test('results other than OK are read alike on both paths', async () => {
  for (const result of [
    "'OK'",
    'undefined',
    "'no luck \\u00e9'",
    "ctx.reject('some_code', 'why')",
    "ctx.reject('Bad Code')",
    '0',
    "''",
    'null',
    '5n',
  ]) {
    const { outcomes } = await sameOnBothPaths({
      code: `function (p, ctx) { ctx.db.get('t', 1); return ${result}; }`,
    });
    assert.equal(outcomes.length, 2);
  }
});

test('host calls stay right when the WebAssembly memory grows under them', async () => {
  // The instance starts with 16 MiB; these strings take QuickJS well past that, between host calls.
  const { outcomes } = await sameOnBothPaths({
    code: `function (p, ctx) {
      const keep = [];
      let sum = 0;
      for (let i = 0; i < 12; i++) {
        keep.push('y'.repeat(2000000) + i);
        ctx.db.put('t', { id: i, text: '\u00e9'.repeat(50000) + i });
        sum += ctx.db.get('t', i).text.length;
      }
      return String(sum + keep.length);
    }`,
  });
  assert.deepEqual(outcomes[0], {
    status: 'rejected',
    code: 'contract_rejected',
    message: String(10 * 50001 + 2 * 50002 + 12),
  });
});
