#!/usr/bin/env node
// npm links the bins of dependencies into node_modules/.bin but not the project's own, so in a
// checkout `npx hanzenet` would look for a package on the registry. After a build, link our bin
// there too (what `npm install -g .` does globally).
import { chmodSync, existsSync, lstatSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

const target = join('dist', 'src', 'cli', 'main.js');
if (!existsSync(target)) {
  console.error(`link-bin: ${target} does not exist; run the build first`);
  process.exit(1);
}
chmodSync(target, 0o755);
const binDir = join('node_modules', '.bin');
if (!existsSync('node_modules')) process.exit(0); // installed as a dependency elsewhere: npm links it
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'hanzenet');
try {
  if (lstatSync(link)) unlinkSync(link);
} catch {
  // no link yet
}
symlinkSync(relative(binDir, target), link);
