// Rules on the shape of src/ that the import rules (dependency-cruiser, in `npm run lint`) do not
// cover: no file over 500 lines, and the roles that must run on virtual time in the simulator
// (processor, mirror node and follower, the shared ledger layer, the meter gateway) read the clock
// and start timers only through the Scheduler they are given. Import cycles, within a folder and
// between folders, are dependency-cruiser's `no-circular` rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/, so the repository is two folders up.
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(REPO, 'src');
const LINES_MAX = 500;
const ON_SCHEDULER = ['processor', 'node', 'ledger', join('meter', 'gateway')];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

test(`no file in src is over ${LINES_MAX} lines`, () => {
  const long = tsFiles(SRC)
    .map((f) => ({
      file: f.slice(REPO.length + 1),
      lines: readFileSync(f, 'utf8').split('\n').length,
    }))
    .filter((x) => x.lines > LINES_MAX);
  assert.deepEqual(long, []);
});

test('the processor, the node, the ledger layer and the gateway take time only from their Scheduler', () => {
  const direct =
    /\b(?:Date\.now|performance\.now|setTimeout|setInterval|setImmediate)\b|new Date\(\)|node:timers/;
  const found = ON_SCHEDULER.flatMap((folder) => tsFiles(join(SRC, folder))).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .map((line, i) => ({ at: `${f.slice(REPO.length + 1)}:${i + 1}`, line: line.trim() }))
      .filter((x) => !x.line.startsWith('//') && !x.line.startsWith('*') && direct.test(x.line)),
  );
  assert.deepEqual(found, []);
});
