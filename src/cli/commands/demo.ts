// `hanzenet demo`: a live demo neighbourhood in one command (src/demo/, docs/cli.md "hanzenet
// demo"). The options are checked here, before anything starts; the demo's code is loaded only
// when the command runs.

import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import {
  checkDemoOptions,
  DAY_MINUTES_MAX,
  DAY_MINUTES_MIN,
  dayStartOf,
  HOUSEHOLDS_MAX,
  HOUSEHOLDS_MIN,
  parseDayMinutes,
  yesterdayStartMs,
} from '../../demo/options.js';
import { intOption, portOption } from '../context.js';

interface DemoCliOptions {
  readonly households: number;
  readonly dayMinutes: string;
  readonly date?: string;
  readonly seed: number;
  readonly port: number;
  readonly host: string;
  readonly dataDir?: string;
  readonly keep: boolean;
  readonly stack: boolean;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'a live demo neighbourhood: simulated households, their meters and gateway, the market, a day in a few minutes; prints the dashboard URL, runs until SIGINT/SIGTERM',
    )
    .addOption(
      new Option(
        '--households <n>',
        `households (per neighbourhood), ${HOUSEHOLDS_MIN} to ${HOUSEHOLDS_MAX}`,
      )
        .argParser(intOption(HOUSEHOLDS_MIN, HOUSEHOLDS_MAX))
        .default(30),
    )
    .addOption(
      new Option(
        '--day-minutes <m>',
        `real minutes one simulated day takes, ${DAY_MINUTES_MIN} to ${DAY_MINUTES_MAX}`,
      ).default('5'),
    )
    .addOption(new Option('--date <YYYY-MM-DD>', 'the simulated day, in UTC (default: yesterday)'))
    .addOption(
      new Option('--seed <n>', 'fixes the households, their weather and appliances')
        .argParser(intOption(0, 2 ** 31 - 1))
        .default(1),
    )
    .addOption(
      new Option(
        '--port <port>',
        'API and dashboard port (with --stack: n1, n2 and the city on port, port+1, port+2; 0: any free port)',
      )
        .argParser(portOption)
        .default(8080),
    )
    .addOption(new Option('--host <host>', 'interface to listen on').default('127.0.0.1'))
    .addOption(
      new Option(
        '--data-dir <dir>',
        'a new or empty folder for the chains, keys and gateways, kept at exit (default: a temporary folder, removed at exit)',
      ),
    )
    .addOption(new Option('--keep', 'keep the temporary data folder at exit').default(false))
    .addOption(new Option('--stack', 'two neighbourhoods and their city').default(false))
    .action(async (opts: DemoCliOptions) => {
      const nowMs = Date.now();
      const options = checkDemoOptions({
        households: opts.households,
        dayMinutes: parseDayMinutes(opts.dayMinutes),
        dayStartMs:
          opts.date === undefined ? yesterdayStartMs(nowMs) : dayStartOf(opts.date, nowMs),
        seed: opts.seed,
        port: opts.port,
        host: opts.host,
        dataDir: opts.dataDir === undefined ? null : resolve(opts.dataDir),
        keep: opts.keep,
        stack: opts.stack,
      });
      const { runDemo } = await import('../../demo/run.js');
      await runDemo(options, {
        out: (line) => process.stdout.write(line),
        err: (line) => process.stderr.write(line),
      });
    });
}
