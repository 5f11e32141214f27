// docs/cli.md documents every command and every option of the real command tree: each command has
// a `### \`hanzenet ...\`` section, and each of its long options appears in that section. A new
// command or option without its documentation fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/program.js';

const doc = readFileSync('docs/cli.md', 'utf8');

/** The text of each `### \`hanzenet ...\`` section, by the command path its heading starts with. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  const parts = doc.split(/^### /m).slice(1);
  for (const part of parts) {
    const heading = /^`hanzenet ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)*)/.exec(part);
    if (heading?.[1] !== undefined) out.set(heading[1], part.split(/^## /m)[0] ?? part);
  }
  return out;
}

function leaves(cmd: Command, path: string[] = []): { path: string; cmd: Command }[] {
  if (cmd.commands.length === 0) return [{ path: path.join(' '), cmd }];
  return cmd.commands.flatMap((sub) => leaves(sub, [...path, sub.name()]));
}

test('docs/cli.md has a section for every command and names every option in it', () => {
  const documented = sections();
  const missing: string[] = [];
  for (const { path, cmd } of leaves(buildProgram())) {
    const text = documented.get(path);
    if (text === undefined) {
      missing.push(`hanzenet ${path}: no section`);
      continue;
    }
    for (const option of cmd.options) {
      const flag = option.long ?? option.short ?? option.flags;
      if (!text.includes(flag)) missing.push(`hanzenet ${path}: option ${flag}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('docs/cli.md names the global options', () => {
  for (const option of buildProgram().options) {
    const flag = option.long ?? option.flags;
    assert.ok(doc.includes(flag), `global option ${flag} is not in docs/cli.md`);
  }
});
