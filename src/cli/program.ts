// The `hanzenet` command tree. Each command group lives in commands/<group>.ts and exports
// `register(program)`; adding a group (e.g. `hanzenet energy ...`) takes one import and one entry
// in COMMAND_GROUPS. Groups should add commands with `program.command(...)`; error handling and
// output settings are applied to the whole tree after registration, so they need nothing else.

import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import * as block from './commands/block.js';
import * as city from './commands/city.js';
import * as config from './commands/config.js';
import * as contract from './commands/contract.js';
import * as demo from './commands/demo.js';
import * as energy from './commands/energy.js';
import * as info from './commands/info.js';
import * as key from './commands/key.js';
import * as market from './commands/market.js';
import * as meter from './commands/meter.js';
import * as service from './commands/service.js';
import * as stack from './commands/stack.js';
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
  config,
  meter,
  market,
  energy,
  stack,
  city,
  demo,
];

/** Examples shown at the end of a command's help, by command path. */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': [
    'hanzenet processor start                      # a processor on the embedded database',
    'hanzenet info                                 # the chain, its head and processor',
    'hanzenet key generate > alice.json',
    'hanzenet energy balance --context 1Ctx... --trader 1Trd...',
    'hanzenet block list --limit 5',
  ],
  'key generate': ['hanzenet key generate > alice.json'],
  'processor start': [
    'hanzenet processor start --data-dir /var/lib/hanzenet --block-interval-ms 5000',
    'DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger hanzenet processor start',
    'hanzenet processor start --config /etc/hanzenet/processor.json',
  ],
  'node start': [
    'hanzenet node start --follow http://processor.example:8080',
    'hanzenet node start --config /etc/hanzenet/node.json',
  ],
  'city up': [
    'hanzenet city up --neighbourhoods 2 --data-dir /tmp/city --period-seconds 60',
    'hanzenet city up --neighbourhoods 3 --households 50 --database-url postgres://postgres@127.0.0.1:5432/postgres',
  ],
  demo: [
    'hanzenet demo                                 # 30 households, yesterday in 5 minutes',
    'hanzenet demo --households 12 --day-minutes 2 --date 2026-06-21 --port 0',
    'hanzenet demo --stack --data-dir /tmp/demo',
  ],
  'config schema': ['hanzenet config schema gateway > gateway.schema.json'],
  'contract execute': [
    `hanzenet contract execute --contract-type Trader --payload '{"name":"alice"}' --signing-keyfile alice.json`,
  ],
  'transaction get': ['hanzenet transaction get --id 0123456789abcdef0123456789abcdef --wait'],
  'block get': ['hanzenet block get 0'],
  'meter parse': ['hanzenet meter parse --all recording.txt | head -1'],
  'meter simulate': ['hanzenet meter simulate --count 360 --seed 7 > hour.txt'],
  'meter gateway': ['hanzenet meter gateway --config gateway.json'],
  reconcile: [
    'hanzenet reconcile --context 1Ctx... --csv grid.csv --meters gateway.json --price-eur-per-kwh 0.25',
  ],
  'market statements': [
    'hanzenet market statements --context 1Ctx... --trader 1Trd... --from 2026-06-01T00:00Z --to 2026-07-01T00:00Z',
    'hanzenet market statements --context 1Ctx... --format csv > statements.csv',
    'hanzenet market statements --context 1Ctx... --group month --tz Europe/Amsterdam --format csv',
  ],
  'market figures': [
    'hanzenet market figures --context 1Ctx... --group day --tz Europe/Amsterdam --from 2026-03-01T00:00+01:00',
    'hanzenet market figures --context 1Ctx... --group month --tz Europe/Amsterdam --format csv > figures.csv',
  ],
};

/** The package's version, from its package.json (two folders above dist/src/cli). */
function packageVersion(): string {
  const pkg = createRequire(import.meta.url)('../../../package.json') as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export function buildProgram(groups: readonly CommandGroup[] = COMMAND_GROUPS): Command {
  const program = new Command('hanzenet')
    .description('HanzeNet ledger command line: JSON on stdout, errors as JSON on stderr')
    .version(packageVersion(), '-V, --version', 'print the version')
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
  addExamples(program, []);
  return program;
}

function addExamples(cmd: Command, path: readonly string[]): void {
  const examples = EXAMPLES[path.join(' ')];
  if (examples !== undefined)
    cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`);
  for (const sub of cmd.commands) addExamples(sub, [...path, sub.name()]);
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
    // A group without its command (`hanzenet`, `hanzenet contract`): the help, as text, on stderr.
    process.stderr.write(`error: a command is missing\n\n${helpText}`);
    return EXIT_USAGE;
  }
  const message = err.message.replace(/^error: /, '');
  printError({ code: 'usage_error', message, details: { reason: err.code } });
  return err.exitCode === EXIT_OK ? EXIT_FAILED : EXIT_USAGE;
}
