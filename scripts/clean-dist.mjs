// Removes dist/ before a build, so that a test or module deleted from the sources does not live on
// as a stale compiled file (the test runner runs every dist/test/*.test.js it finds).
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
