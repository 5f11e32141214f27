// The prelude's text is made from prelude.ts by tsc and Function.prototype.toString
// (prelude-source.ts). It is part of the protocol, so its bytes must not depend on the machine and
// must change only on purpose.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { freshQuickJS, SANDBOX_INTRINSICS } from '../src/contracts/runtime/quickjs.js';
import { PRELUDE_SOURCE, preludeSource } from '../src/contracts/runtime/prelude-source.js';

/**
 * sha256 of PRELUDE_SOURCE. When a change of prelude.ts (or of the TypeScript version, or of
 * CONTRACT_LIMITS) changes it, every node must take the new prelude at the same time: update this
 * only in a reviewed commit that says so (docs/contract-api.md, "The prelude").
 */
const PRELUDE_SHA256 = '611e9b12d72a39f8631c968343be8cb8aa7df97a022ddb9c1502a1edb173dd16';

test('the prelude text is the same every time it is made, and its hash is pinned', () => {
  assert.equal(preludeSource(), PRELUDE_SOURCE);
  assert.equal(createHash('sha256').update(PRELUDE_SOURCE, 'utf8').digest('hex'), PRELUDE_SHA256);
});

test('the prelude text holds nothing of the machine that made it', () => {
  assert.doesNotMatch(PRELUDE_SOURCE, /\r/);
  assert.doesNotMatch(PRELUDE_SOURCE, /file:|sourceMappingURL|\/dist\/|\/src\//);
  // Only the compiled JavaScript: no TypeScript left, and the two bound names come from the wrapper.
  assert.doesNotMatch(PRELUDE_SOURCE, /: (?:string|number|unknown|Obj)\b/);
  assert.match(PRELUDE_SOURCE, /^\(function \(HOST_OP, CONTRACT_LIMITS\) \{/);
});

test('the prelude evaluates in QuickJS to the setup function', async () => {
  const module = await freshQuickJS();
  const runtime = module.newRuntime();
  const ctx = runtime.newContext({ intrinsics: SANDBOX_INTRINSICS });
  try {
    const result = ctx.evalCode(
      `const setup = ${PRELUDE_SOURCE}; [typeof setup, setup.name, setup.length]`,
    );
    if (result.error !== undefined) {
      const err: unknown = ctx.dump(result.error);
      result.error.dispose();
      assert.fail(`the prelude does not evaluate: ${JSON.stringify(err)}`);
    }
    assert.deepEqual(ctx.dump(result.value), ['function', 'setup', 1]);
    result.value.dispose();
  } finally {
    ctx.dispose();
    runtime.dispose();
  }
});
