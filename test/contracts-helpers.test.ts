// Shared contract helpers (src/contracts/authoring/helpers.ts): written once, declared by each
// contract that calls them, and put into its code by the packer exactly once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError } from '../src/core/errors.js';
import { defineContract } from '../src/contracts/authoring/define.js';
import type {
  ContractContext,
  ContractDefinition,
  ContractResult,
} from '../src/contracts/authoring/define.js';
import { packContract } from '../src/contracts/authoring/pack.js';
import { declaredNames, tokenize, usedNames } from '../src/contracts/authoring/source-scan.js';
import { checkContractCode } from '../src/contracts/runtime/lifecycle.js';
import type { TableDef } from '../src/chain/contract-model.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import { aliceKey, createTestChain, createTx, makeTx } from './support/contracts-chain.js';

const NOTES = {
  tables: { notes: { columns: { id: 'text', body: 'text' }, key: ['id'] } as TableDef },
  reads: [],
};
const TEMPLATE = { text: { type: 'str', name: 'text', desc: 'a text' } };
const NOTES_PER_CALL = 1;

function shout(text: string): string {
  return text.toUpperCase() + '!';
}
function noteRow(id: string, body: string): { id: string; body: string } {
  return { id, body: shout(body) };
}
const arrowHelper = (text: string): string => text;
function unusedHelper(): number {
  return 1;
}

interface NotePayload {
  readonly text: string;
}

function notesContract(
  type: string,
  over: Partial<ContractDefinition<NotePayload>> = {},
): ContractDefinition<NotePayload> {
  return defineContract<NotePayload>({
    type,
    version: '1.0',
    description: 'notes in capitals',
    template: TEMPLATE,
    manifest: NOTES,
    helpers: { shout, noteRow },
    execute(p: NotePayload, ctx: ContractContext): ContractResult {
      if (p.text === '') return shout('empty');
      ctx.db.put('notes', noteRow(p.text, p.text));
      return 'OK';
    },
    ...over,
  });
}

const count = (text: string, part: string): number => text.split(part).length - 1;
const codeOf = (def: ContractDefinition<NotePayload>): string =>
  Buffer.from(packContract(def).payload.code, 'base64').toString('utf8');

/** Runs `fn` and returns the ChainError it throws. */
function packError(fn: () => unknown): ChainError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ChainError, `expected a ChainError, got ${String(err)}`);
    assert.equal(err.code, 'contract_create_invalid');
    return err;
  }
  assert.fail('packing succeeded');
}

test('a declared helper is packed once into the code, which passes the create check and runs', async () => {
  const code = codeOf(notesContract('Shout'));
  assert.match(code, /^function execute\(p, ctx\) \{\nfunction shout\(text\) \{/);
  assert.equal(count(code, 'function shout('), 1);
  assert.equal(count(code, 'function noteRow('), 1);
  assert.equal(await checkContractCode(code), null);
  // Another contract with the same helper carries its own copy: the code hash covers it.
  assert.equal(count(codeOf(notesContract('Shout2')), 'function shout('), 1);

  const chain = await createTestChain();
  try {
    const { tx, hashHex } = createTx(notesContract('Shout'));
    await chain.run([tx]);
    const result = await chain.run([
      makeTx(aliceKey, hashHex, { text: 'hello' }),
      makeTx(aliceKey, hashHex, { text: '' }),
    ]);
    assert.deepEqual(result.outcomes, [
      { status: 'accepted', message: 'OK' },
      { status: 'rejected', code: 'contract_rejected', message: 'EMPTY!' },
    ]);
    assert.deepEqual(
      result.stateChanges.map((c) => c.row),
      [{ id: 'hello', body: 'HELLO!' }],
    );
  } finally {
    await chain.close();
  }
});

test('a helper that is called but not declared fails at pack time, naming it', () => {
  const err = packError(() => packContract(notesContract('Undeclared', { helpers: { noteRow } })));
  assert.match(
    err.message,
    /^contract Undeclared: execute uses shout, which its code does not define\./,
  );
  assert.match(err.message, /defineContract\(\{ helpers: \{ shout \} \}\)/);
  // A helper passed as a value, and a module constant, are uses too.
  const asValue = notesContract('AsValue', {
    helpers: {},
    execute: function execute(p: NotePayload): ContractResult {
      return [p.text].map(shout).join('') + String(NOTES_PER_CALL);
    },
  });
  assert.match(
    packError(() => packContract(asValue)).message,
    /^contract AsValue: execute uses shout, NOTES_PER_CALL, which its code does not define\./,
  );
});

test('unused, misnamed, non-declaration and duplicated helpers fail at pack time', () => {
  assert.match(
    packError(() =>
      packContract(notesContract('Unused', { helpers: { shout, noteRow, unusedHelper } })),
    ).message,
    /helpers unusedHelper are declared but never used/,
  );
  assert.match(
    packError(() => packContract(notesContract('Misnamed', { helpers: { shout, row: noteRow } })))
      .message,
    /helper row must be a plain function declaration named row/,
  );
  const usesArrow = notesContract('Arrow', {
    helpers: { arrowHelper },
    execute: function execute(p: NotePayload): ContractResult {
      return arrowHelper(p.text);
    },
  });
  assert.match(
    packError(() => packContract(usesArrow)).message,
    /helper arrowHelper must be a plain function declaration/,
  );
  const definesItself = notesContract('Twice', {
    helpers: { shout },
    execute: function execute(p: NotePayload): ContractResult {
      function shout(text: string): string {
        return text;
      }
      return shout(p.text);
    },
  });
  assert.match(
    packError(() => packContract(definesItself)).message,
    /execute defines shout itself and also declares it as a helper/,
  );
});

test('the scan skips strings, templates, comments and regular expressions, and knows local names', () => {
  const source = [
    'function execute(p, ctx) {',
    '  // fake() in a comment',
    '  /* other() */ const re = /not(a)call\\//g;',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text under test holds a template literal
    '  const s = \'text(\' + "quoted()" + `tpl() ${real(p)} ${`nested() ${deeper(1)}`}`;',
    '  const { a, b: renamed } = p; const [first] = [a];',
    '  const arrow = (x, y) => x + y; const one = z => z;',
    '  function local(q) { return q; }',
    '  const o = { method(m) { return m; } };',
    '  try { ctx.db.get("t", {}); } catch (e) { return e.message; }',
    '  if (guard(p)) { while (again(1)) {} }',
    '  outer: for (const k of [1]) { if (k) continue outer; }',
    '  const picked = p.x ? yes : { key: no, ...spread };',
    '  [1].map(mapper);',
    '  return local(arrow(1, 2)) + one(3) + o.method(4) + BigInt(5) + s.replace(re, "") + renamed + first;',
    '}',
  ].join('\n');
  const tokens = tokenize(source);
  const declared = declaredNames(tokens);
  const free = usedNames(tokens).filter((n) => !declared.has(n));
  assert.deepEqual(free, [
    'real',
    'deeper',
    'guard',
    'again',
    'yes',
    'no',
    'spread',
    'mapper',
    'BigInt',
  ]);
  for (const n of [
    'execute',
    'p',
    'ctx',
    're',
    's',
    'a',
    'renamed',
    'first',
    'arrow',
    'x',
    'y',
    'one',
    'z',
    'local',
    'q',
    'method',
    'm',
    'e',
  ]) {
    assert.ok(declared.has(n), `${n} is declared`);
  }
  for (const n of ['real', 'deeper', 'guard', 'again', 'b', 'key', 'outer'])
    assert.ok(!declared.has(n), `${n} is not declared`);
});

test('the energy contracts carry each helper they declare exactly once, and no copies of their own', () => {
  const helperNames = new Set<string>();
  for (const def of ENERGY_CONTRACTS)
    for (const name of Object.keys(def.helpers ?? {})) helperNames.add(name);
  assert.ok(helperNames.has('kwh') && helperNames.has('planBalanceChange'));
  for (const def of ENERGY_CONTRACTS) {
    const code = Buffer.from(packContract(def).payload.code, 'base64').toString('utf8');
    for (const name of helperNames) {
      const expected = Object.hasOwn(def.helpers ?? {}, name) ? 1 : 0;
      assert.equal(count(code, `function ${name}(`), expected, `${def.type}: function ${name}`);
    }
  }
});
