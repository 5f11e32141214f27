#!/usr/bin/env node
// `npm run lint`: the formatter and linter (Biome, biome.json), then the import rules
// (dependency-cruiser, .dependency-cruiser.cjs). Both run even when the first fails, so one run
// shows everything to fix; the exit status is non-zero when either found a problem.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = (name) => join('node_modules', '.bin', name);

const checks = [
  {
    title: 'format and lint (Biome, biome.json)',
    command: bin('biome'),
    args: ['check', '--error-on-warnings', '--max-diagnostics=200', '.'],
    hint:
      'Each finding above names the file, line and rule (lint/<group>/<rule>; "format" is a ' +
      'formatting difference).\n' +
      '  npm run format      rewrites the formatting of every file\n' +
      '  npm run lint:fix    also applies the safe fixes of the lint rules\n' +
      '  What a rule wants: https://biomejs.dev/linter/rules/ ; why some are off: ' +
      'docs/decisions/0006-formatter-and-import-rules.md',
  },
  {
    title: 'import rules (dependency-cruiser, .dependency-cruiser.cjs)',
    command: bin('depcruise'),
    args: [
      'src',
      'web',
      '--config',
      '.dependency-cruiser.cjs',
      '--ignore-known',
      '--output-type',
      'err-long',
    ],
    hint:
      'Each finding above names the rule, the importing file -> the imported file, and why.\n' +
      '  The folders and their order: docs/ARCHITECTURE.md and LAYERS in .dependency-cruiser.cjs.\n' +
      '  Violations listed in .dependency-cruiser-known-violations.json are not reported; a new\n' +
      '  one is. Fix the import rather than adding it to that list.',
  },
];

let failed = 0;
for (const check of checks) {
  console.error(`\n== ${check.title}`);
  // node_modules/.bin holds .cmd wrappers on Windows, which only a shell can start.
  const result = spawnSync(check.command, check.args, {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.error) {
    console.error(`could not run ${check.command}: ${result.error.message} (did npm ci run?)`);
  }
  if (result.status !== 0) {
    failed++;
    console.error(`\nFAILED: ${check.title}\n  ${check.hint}`);
  }
}
if (failed > 0) {
  console.error(`\nlint: ${failed} of ${checks.length} checks failed (see above)`);
  process.exit(1);
}
console.error(`\nlint: ${checks.length} checks passed`);
