// `hanzenet block get <height>` and `hanzenet block list [--from H] [--limit N]`.

import type { Command } from 'commander';
import { intOption, withClient } from '../context.js';
import { printJson } from '../output.js';

export const BLOCK_LIST_LIMIT_MAX = 1000;

export function register(program: Command): void {
  const block = program.command('block').description('read blocks');
  block
    .command('get')
    .description('print one block (BlockView)')
    .argument('<height>', 'block height (0 is the genesis block)', intOption(0))
    .action(async (height: number, _opts: unknown, cmd: Command) => {
      printJson(await withClient(cmd, (client) => client.block(height)));
    });
  block
    .command('list')
    .description('print blocks in ascending height order (array of BlockView)')
    .option('--from <height>', 'first height', intOption(0), 0)
    .option(
      '--limit <n>',
      `how many blocks, at most ${BLOCK_LIST_LIMIT_MAX}`,
      intOption(1, BLOCK_LIST_LIMIT_MAX),
      100,
    )
    .action(async (opts: { from: number; limit: number }, cmd: Command) => {
      printJson(await withClient(cmd, (client) => client.blocks(opts.from, opts.limit)));
    });
}
