#!/usr/bin/env node
// The `hanzenet` command (package.json "bin"). See docs/cli.md.

import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
