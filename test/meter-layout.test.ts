// The shape of src/meter: no import cycle among its files or its folders, no file over 500 lines,
// and a gateway that reads the clock and starts timers only through the Scheduler it is given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/, so the repository is two folders up.
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const METER = join(REPO, 'src', 'meter');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

test('src/meter has no import cycle', () => {
  const run = spawnSync(process.execPath, [join(REPO, 'scripts', 'check-cycles.mjs'), METER], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});

test('no file in src/meter is over 500 lines', () => {
  const long = tsFiles(METER)
    .map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n').length }))
    .filter((x) => x.lines > 500);
  assert.deepEqual(long, []);
});

test('the gateway takes time only from its Scheduler', () => {
  const direct =
    /\b(?:Date\.now|performance\.now|setTimeout|setInterval|setImmediate)\b|new Date\(\)|node:timers/;
  const found = tsFiles(join(METER, 'gateway')).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .map((line, i) => ({ at: `${f.slice(REPO.length + 1)}:${i + 1}`, line }))
      .filter((x) => direct.test(x.line)),
  );
  assert.deepEqual(found, []);
});
