// Every error code the system can report is documented in docs/errors.md, and every documented
// code exists (codes are a public interface: clients branch on them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE } from '../src/core/errors.js';

const doc = readFileSync('docs/errors.md', 'utf8');
const documented = new Set(
  [...doc.matchAll(/^\|\s*`([a-z][a-z0-9_]*)`\s*\|/gm)].map((m) => m[1] ?? ''),
);

test('every platform error code is documented in docs/errors.md', () => {
  const missing = Object.keys(ERROR_CATALOGUE).filter((code) => !documented.has(code));
  assert.deepEqual(missing, []);
});

test('every documented platform code in the platform table exists in the catalogue', () => {
  const section = doc.split(/^## /m).find((s) => s.startsWith('Platform codes')) ?? '';
  const listed = [...section.matchAll(/^\|\s*`([a-z][a-z0-9_]*)`\s*\|/gm)].map((m) => m[1] ?? '');
  assert.ok(listed.length > 0, 'docs/errors.md has a "Platform codes" section with a table');
  const unknown = listed.filter((code) => !(code in ERROR_CATALOGUE));
  assert.deepEqual(unknown, []);
});

test('every energy reject code is documented in docs/errors.md', async () => {
  const { ENERGY_REJECT_CODES } = await import('../src/energy/codes.js');
  const missing = Object.keys(ENERGY_REJECT_CODES).filter((code) => !documented.has(code));
  assert.deepEqual(missing, []);
});

test('the energy table names the contracts that declare each code in their `rejects`', async () => {
  const { contractsByRejectCode } = await import('../src/energy/index.js');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Energy contract codes')) ?? '';
  const listed = new Map(
    [...section.matchAll(/^\|\s*`([a-z][a-z0-9_]*)`\s*\|([^|]*)\|/gm)].map((m) => [
      m[1] ?? '',
      (m[2] ?? '').trim(),
    ]),
  );
  const declared = new Map(
    [...contractsByRejectCode()].map(([code, types]) => [code as string, types.join(', ')]),
  );
  assert.deepEqual(listed, declared, 'run `node scripts/gen-errors-doc.mjs` after a build');
});
