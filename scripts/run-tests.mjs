#!/usr/bin/env node
// Runs the compiled test files (dist/test/*.test.js) with node's test runner. Optional arguments
// filter by substring: `npm test -- store energy`. When DATABASE_URL is set, the store and
// end-to-end tests also run against that PostgreSQL server.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const dir = join('dist', 'test');
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => join(dir, f));
if (files.length === 0) {
  console.error(`no test files match ${JSON.stringify(filters)} in ${dir}`);
  process.exit(1);
}
console.error(
  `running ${files.length} test files${process.env.DATABASE_URL ? ' (PGlite and PostgreSQL at DATABASE_URL)' : ' (PGlite only; set DATABASE_URL to also test PostgreSQL)'}`,
);
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
