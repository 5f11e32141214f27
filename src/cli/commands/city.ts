// `hanzenet city up`: a city of marketplaces on many processors, for tests and demos
// (src/city/, docs/operations.md "A city on many processors"). The options are checked here,
// before anything is created; the city's code is loaded only when the command runs.

import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { checkCityOptions, HOUSEHOLDS_MAX, NEIGHBOURHOODS_MAX } from '../../city/options.js';
import { intOption, portOption } from '../context.js';

interface CityUpCliOptions {
  readonly neighbourhoods: number;
  readonly households: number;
  readonly dataDir: string;
  readonly periodSeconds: number;
  readonly gateClosureSeconds: number;
  readonly cityGateClosureSeconds: number;
  readonly blockIntervalMs: number;
  readonly host: string;
  readonly basePort?: number;
  readonly databaseUrl?: string;
  readonly localEur: string;
  readonly supplyEur: string;
  readonly feedInEur: string;
}

export function register(program: Command): void {
  program
    .command('city')
    .description('a city of marketplaces on many processors, for tests and demos')
    .command('up')
    .description(
      'start a city processor and K neighbourhood processors, a mirror node per chain, set up their contexts, print one JSON line, stop all on SIGINT/SIGTERM',
    )
    .addOption(
      new Option('--neighbourhoods <k>', `neighbourhood chains, 1 to ${NEIGHBOURHOODS_MAX}`)
        .argParser(intOption(1, NEIGHBOURHOODS_MAX))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--households <h>', `households per neighbourhood, 1 to ${HOUSEHOLDS_MAX}`)
        .argParser(intOption(1, HOUSEHOLDS_MAX))
        .default(4),
    )
    .addOption(
      new Option('--data-dir <dir>', 'folder of every chain, key and log').default('./city'),
    )
    .addOption(
      new Option('--period-seconds <s>', 'market period of every layer (divides 86400, >= 60)')
        .argParser(intOption(60, 86_400))
        .default(900),
    )
    .addOption(
      new Option('--gate-closure-seconds <s>', "the neighbourhoods' gate closure")
        .argParser(intOption(0, 86_400))
        .default(60),
    )
    .addOption(
      new Option(
        '--city-gate-closure-seconds <s>',
        "the city's gate closure, later than the neighbourhoods'",
      )
        .argParser(intOption(0, 86_400))
        .default(180),
    )
    .addOption(
      new Option('--block-interval-ms <ms>', 'block interval of every processor')
        .argParser(intOption(1))
        .default(1000),
    )
    .addOption(
      new Option('--host <host>', 'interface every service listens on').default('127.0.0.1'),
    )
    .addOption(
      new Option(
        '--base-port <port>',
        'ports from here on, two per chain (processor, node), the city first (default: any free port)',
      ).argParser(portOption),
    )
    .addOption(
      new Option(
        '--database-url <url>',
        'PostgreSQL server on which each chain and node gets a database of its own (default: PGlite each)',
      ),
    )
    .addOption(new Option('--local-eur <price>', 'local price, EUR per kWh').default('0.15'))
    .addOption(new Option('--supply-eur <price>', 'supply price, EUR per kWh').default('0.3'))
    .addOption(new Option('--feed-in-eur <price>', 'feed-in price, EUR per kWh').default('0.05'))
    .action(async (opts: CityUpCliOptions) => {
      const options = checkCityOptions({
        neighbourhoods: opts.neighbourhoods,
        households: opts.households,
        dataDir: resolve(opts.dataDir),
        periodSeconds: opts.periodSeconds,
        gateClosureSeconds: opts.gateClosureSeconds,
        cityGateClosureSeconds: opts.cityGateClosureSeconds,
        blockIntervalMs: opts.blockIntervalMs,
        host: opts.host,
        basePort: opts.basePort ?? null,
        databaseUrl: opts.databaseUrl ?? null,
        prices: { localEur: opts.localEur, supplyEur: opts.supplyEur, feedInEur: opts.feedInEur },
      });
      const { runCity } = await import('../../city/run.js');
      await runCity(options);
    });
}
