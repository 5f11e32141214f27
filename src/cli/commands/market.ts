// `hanzenet market statements`: the local market's statements of a context, per trader and
// settled period, as JSON (with totals) or CSV (docs/energy.md "The market", docs/cli.md).

import { InvalidArgumentError, Option, type Command } from 'commander';
import { fetchMarketStatements } from '../../energy/client.js';
import { STATEMENTS_LIMIT_MAX, statementsCsv } from '../../energy/market-statements.js';
import { parseAddressParam } from '../../energy/query-params.js';
import { intOption, withClient } from '../context.js';
import { printJson } from '../output.js';

interface StatementsOptions {
  readonly context: string;
  readonly trader?: string;
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
  readonly format: 'json' | 'csv';
}

/** A time option: ms since the Unix epoch, or an ISO 8601 date-time with its offset (or Z). */
function timeOption(): (text: string) => number {
  return (text) => {
    if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
    const ms = iso.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(ms) || ms < 0)
      throw new InvalidArgumentError(
        `expected ms since the Unix epoch or an ISO 8601 time with its offset (2026-06-01T12:00Z), got "${text}"`,
      );
    return ms;
  };
}

export function register(program: Command): void {
  const market = program.command('market').description("the local market's results");
  market
    .command('statements')
    .description(
      'print the statements of a context per trader and settled period: energy in kWh and money in EUR, with totals (JSON) or one line each (CSV)',
    )
    .requiredOption('--context <address>', 'the context address')
    .option('--trader <address>', 'only this trader')
    .addOption(
      new Option(
        '--from <time>',
        'periods starting at or after this time (ms since the epoch, or ISO 8601 with its offset)',
      ).argParser(timeOption()),
    )
    .addOption(
      new Option('--to <time>', 'periods starting before this time (ms, or ISO 8601)').argParser(
        timeOption(),
      ),
    )
    .addOption(
      new Option(
        '--limit <n>',
        `list at most this many statements (at most ${STATEMENTS_LIMIT_MAX})`,
      ).argParser(intOption(1)),
    )
    .addOption(
      new Option('--format <format>', 'json or csv').choices(['json', 'csv']).default('json'),
    )
    .action(async (opts: StatementsOptions, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      const trader =
        opts.trader === undefined ? undefined : parseAddressParam(opts.trader, '--trader');
      const view = await withClient(cmd, (client) =>
        fetchMarketStatements(client, context, {
          ...(trader === undefined ? {} : { trader }),
          ...(opts.from === undefined ? {} : { fromMs: opts.from }),
          ...(opts.to === undefined ? {} : { toMs: opts.to }),
          ...(opts.limit === undefined ? {} : { limit: opts.limit }),
        }),
      );
      if (opts.format === 'csv') process.stdout.write(statementsCsv(view));
      else printJson(view);
    });
}
