// `hanzenet info`: chain id, processor address, role and head block of the server.

import type { Command } from 'commander';
import { withClient } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('chain id, processor address, role and head block of the server, as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      printJson(await withClient(cmd, (client) => client.info()));
    });
}
