// The README's documentation list names every document in docs/ (a new document gets listed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

test('the README links every document in docs/', () => {
  const readme = readFileSync('README.md', 'utf8');
  const docs = readdirSync('docs').filter((f) => f.endsWith('.md'));
  assert.ok(docs.includes('operations.md'));
  const missing = docs.filter((f) => !readme.includes(`](docs/${f})`));
  assert.deepEqual(missing, []);
  assert.ok(readme.includes('](docs/decisions/)'), 'the README links docs/decisions/');
});
