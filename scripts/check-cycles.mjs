#!/usr/bin/env node
// Finds import cycles among the TypeScript files under a folder (default src/meter), counting
// `import type` too, and cycles among its subfolders (a file in a/ importing b/ and one in b/
// importing a/). Exits 1 and prints each cycle found. Usage: node scripts/check-cycles.mjs [dir]
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src/meter');
const files = readdirSync(root, { recursive: true })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(root, f));
const edges = new Map(
  files.map((f) => {
    const specs = [
      ...readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g),
    ];
    return [
      f,
      specs
        .map((m) => resolve(dirname(f), m[1].replace(/\.js$/, '.ts')))
        .filter((t) => t.startsWith(root + '/')),
    ];
  }),
);
const folderOf = (f) => relative(root, f).split('/').slice(0, -1).join('/') || '.';
const folders = new Map();
for (const [f, ts] of edges)
  for (const t of ts)
    if (folderOf(f) !== folderOf(t))
      folders.set(folderOf(f), new Set([...(folders.get(folderOf(f)) ?? []), folderOf(t)]));

function cycles(graph, name) {
  const found = [],
    state = new Map(),
    stack = [];
  const visit = (n) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open')
        found.push([...stack.slice(stack.indexOf(m)), m].map(name).join(' -> '));
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found;
}
const found = [
  ...new Set([...cycles(edges, (f) => relative(root, f)), ...cycles(folders, (d) => `${d}/`)]),
];
for (const c of found) console.log(`cycle: ${c}`);
console.log(
  `${files.length} files under ${relative(process.cwd(), root) || '.'}: ${found.length === 0 ? 'no import cycle' : `${found.length} cycle(s)`}`,
);
process.exit(found.length === 0 ? 0 : 1);
