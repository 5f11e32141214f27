// The market statements' read side without a server (src/energy/market-statements.ts): money as
// exact EUR text, and the filter of the API's query parameters. The route itself, on a real
// processor, is in test/e2e-settlement-agent.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChainError } from '../src/core/errors.js';
import { formatNeur, parseStatementFilter } from '../src/energy/market-statements.js';

test('formatNeur: nano-euro as exact EUR text', () => {
  assert.equal(formatNeur(0n), '0');
  assert.equal(formatNeur(225_000_000n), '0.225');
  assert.equal(formatNeur(-150_000_000n), '-0.15');
  assert.equal(formatNeur(1n), '0.000000001');
  assert.equal(formatNeur(-1n), '-0.000000001');
  assert.equal(formatNeur(12_000_000_000n), '12');
  assert.equal(formatNeur(9_223_372_036_854_775_807n), '9223372036.854775807');
});

test('parseStatementFilter: parameters checked, a bad one named', () => {
  assert.deepEqual(parseStatementFilter({}), { limit: 10_000 });
  assert.deepEqual(parseStatementFilter({ from: '900000', to: '1800000', limit: '5' }), {
    limit: 5,
    fromMs: 900_000,
    toMs: 1_800_000,
  });
  for (const [params, field] of [
    [{ trader: 'nobody' }, 'trader'],
    [{ from: '-1' }, 'from'],
    [{ to: 'x' }, 'to'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '10001' }, 'limit'],
    [{ from: '10', to: '10' }, 'to'],
  ] as const) {
    assert.throws(
      () => parseStatementFilter(params),
      (err: unknown) =>
        err instanceof ChainError &&
        err.code === 'bad_request' &&
        (err.details as { field?: string }).field === field,
      JSON.stringify(params),
    );
  }
});
