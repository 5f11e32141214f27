// `hanzenet market statements` and `hanzenet market figures`: the local market's statements of a
// context, per trader and settled period, day or month, and its figures (self-sufficiency,
// import, export, prices) per period, day or month, as JSON (with totals) or CSV (docs/energy.md
// "The market", docs/cli.md).

import { InvalidArgumentError, Option, type Command } from 'commander';
import { fetchMarketFigures, fetchMarketStatements } from '../../energy/client.js';
import { figuresCsv } from '../../energy/market-figures.js';
import { groupedStatementsCsv } from '../../energy/market-grouped-statements.js';
import { GROUP_KINDS, GROUPS_LIMIT_MAX, parseTimeZone } from '../../energy/market-groups.js';
import type { GroupKind } from '../../energy/market-groups.js';
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
  readonly group: GroupKind;
  readonly tz?: string;
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

/** The options --from, --to, --group and --tz that statements and figures share. */
function addRangeOptions(cmd: Command): Command {
  return cmd
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
      new Option('--group <group>', 'one line per settled period, or per calendar day or month')
        .choices([...GROUP_KINDS])
        .default('period'),
    )
    .addOption(
      new Option(
        '--tz <zone>',
        'the IANA time zone of days and months, such as Europe/Amsterdam (default UTC)',
      ),
    );
}

/** The query fields of the shared options (the time zone checked before anything is sent). */
function rangeQuery(opts: Omit<StatementsOptions, 'context' | 'format'>): {
  fromMs?: number;
  toMs?: number;
  limit?: number;
  tz?: string;
} {
  return {
    ...(opts.from === undefined ? {} : { fromMs: opts.from }),
    ...(opts.to === undefined ? {} : { toMs: opts.to }),
    ...(opts.limit === undefined ? {} : { limit: opts.limit }),
    ...(opts.tz === undefined ? {} : { tz: parseTimeZone(opts.tz, '--tz') }),
  };
}

export function register(program: Command): void {
  const market = program.command('market').description("the local market's results");
  const statements = market
    .command('statements')
    .description(
      'print the statements of a context per trader and settled period: energy in kWh and money in EUR, with totals (JSON) or one line each (CSV)',
    )
    .requiredOption('--context <address>', 'the context address')
    .option('--trader <address>', 'only this trader');
  addRangeOptions(statements)
    .addOption(
      new Option(
        '--limit <n>',
        `list at most this many statements, or grouped statements (at most ${STATEMENTS_LIMIT_MAX})`,
      ).argParser(intOption(1)),
    )
    .addOption(
      new Option('--format <format>', 'json or csv').choices(['json', 'csv']).default('json'),
    )
    .action(async (opts: StatementsOptions, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      const trader =
        opts.trader === undefined ? undefined : parseAddressParam(opts.trader, '--trader');
      const query = { ...rangeQuery(opts), ...(trader === undefined ? {} : { trader }) };
      if (opts.group === 'period') {
        const view = await withClient(cmd, (client) =>
          fetchMarketStatements(client, context, { ...query, group: 'period' }),
        );
        if (opts.format === 'csv') process.stdout.write(statementsCsv(view));
        else printJson(view);
        return;
      }
      const group = opts.group;
      const view = await withClient(cmd, (client) =>
        fetchMarketStatements(client, context, { ...query, group }),
      );
      if (opts.format === 'csv') process.stdout.write(groupedStatementsCsv(view));
      else printJson(view);
    });
  registerFigures(market);
}

function registerFigures(market: Command): void {
  const figures = market
    .command('figures')
    .description(
      "print a context's figures per settled period, day or month: consumption, production, import, export, self-sufficiency, self-consumption, peak import and prices, with totals",
    )
    .requiredOption('--context <address>', 'the context address');
  addRangeOptions(figures)
    .addOption(
      new Option(
        '--limit <n>',
        `list at most this many groups (at most ${GROUPS_LIMIT_MAX})`,
      ).argParser(intOption(1)),
    )
    .addOption(
      new Option('--format <format>', 'json or csv').choices(['json', 'csv']).default('json'),
    )
    .action(async (opts: StatementsOptions, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      const view = await withClient(cmd, (client) =>
        fetchMarketFigures(client, context, { ...rangeQuery(opts), group: opts.group }),
      );
      if (opts.format === 'csv') process.stdout.write(figuresCsv(view));
      else printJson(view);
    });
}
