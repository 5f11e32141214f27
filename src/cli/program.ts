// The `hanzenet` command tree. Each command group lives in commands/<group>.ts and exports
// `register(program)`; adding a group (e.g. `hanzenet energy ...`) takes one import and one entry
// in COMMAND_GROUPS. Groups should add commands with `program.command(...)`; error handling and
// output settings are applied to the whole tree after registration, so they need nothing else.

import { Command, CommanderError, Option } from 'commander';
import * as block from './commands/block.js';
import * as contract from './commands/contract.js';
import * as energy from './commands/energy.js';
import * as info from './commands/info.js';
import * as key from './commands/key.js';
import * as meter from './commands/meter.js';
import * as service from './commands/service.js';
import * as transaction from './commands/transaction.js';
import { DEFAULT_URL } from './context.js';
import {
  CommandFailed,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  errorJson,
  exitCodeOf,
  printError,
} from './output.js';

export interface CommandGroup {
  register(program: Command): void;
}

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  key,
  contract,
  transaction,
  block,
  info,
  service,
  meter,
  energy,
];

export function buildProgram(groups: readonly CommandGroup[] = COMMAND_GROUPS): Command {
  const program = new Command('hanzenet')
    .description('HanzeNet ledger command line: JSON on stdout, errors as JSON on stderr')
    .addOption(
      new Option('--url <url>', 'API URL of the processor or node')
        .env('HANZENET_URL')
        .default(DEFAULT_URL),
    )
    .addOption(
      new Option(
        '--prefix <chainId>',
        'chain id, the sign prefix (default: asked from the server)',
      ).env('HANZENET_PREFIX'),
    );
  for (const group of groups) group.register(program);
  return program;
}

/** Parses `argv` (process.argv form), runs the command and returns the exit code. */
export async function runCli(
  argv: readonly string[],
  groups: readonly CommandGroup[] = COMMAND_GROUPS,
): Promise<number> {
  const program = buildProgram(groups);
  const helpText = { value: '' };
  configureTree(program, helpText);
  try {
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (err) {
    return reportFailure(err, helpText.value);
  }
}

/** Commander must throw instead of exiting, and must not print its own (non-JSON) errors. */
function configureTree(cmd: Command, helpText: { value: string }): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => process.stdout.write(s),
    writeErr: (s) => {
      helpText.value += s;
    },
    outputError: () => undefined,
  });
  for (const sub of cmd.commands) configureTree(sub, helpText);
}

function reportFailure(err: unknown, helpText: string): number {
  if (err instanceof CommanderError) return reportCommanderError(err, helpText);
  if (err instanceof CommandFailed) {
    printError(err.error);
    return err.exitCode;
  }
  printError(errorJson(err));
  return exitCodeOf(err);
}

function reportCommanderError(err: CommanderError, helpText: string): number {
  // --help and --version end here with exit code 0 after printing to stdout.
  if (err.exitCode === 0) return EXIT_OK;
  if (err.code === 'commander.help') {
    printError({
      code: 'usage_error',
      message: 'a command is missing; see details.help',
      details: { help: helpText },
    });
    return EXIT_USAGE;
  }
  const message = err.message.replace(/^error: /, '');
  printError({ code: 'usage_error', message, details: { reason: err.code } });
  return err.exitCode === EXIT_OK ? EXIT_FAILED : EXIT_USAGE;
}
