#!/usr/bin/env node
// The `hanzenet` command (package.json "bin"). See docs/cli.md.

import { runCli } from './program.js';

// A reader that went away (`hanzenet meter parse --all f | head -1`) ends the command quietly, as
// a closed pipe ends any Unix tool, instead of an unhandled EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await runCli(process.argv);
