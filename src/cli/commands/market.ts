// `hanzenet market statements` and `hanzenet market figures`: the local market's statements of a
// context, per trader and settled period, day or month, and its figures (self-sufficiency,
// import, export, prices) per period, day or month, as JSON (with totals) or CSV (docs/energy.md
// "The market", docs/cli.md).

import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  fetchMarketFigures,
  fetchMarketPrices,
  fetchMarketStatements,
} from '../../energy/client.js';
import { figuresCsv } from '../../energy/market-figures.js';
import { groupedStatementsCsv } from '../../energy/market-grouped-statements.js';
import { GROUP_KINDS, GROUPS_LIMIT_MAX, parseTimeZone } from '../../energy/market-groups.js';
import type { GroupKind } from '../../energy/market-groups.js';
import { STATEMENTS_LIMIT_MAX, statementsCsv } from '../../energy/market-statements.js';
import { parseAddressParam } from '../../energy/query-params.js';
import { inputs, intOption, withClient } from '../context.js';
import { CommandFailed, EXIT_FAILED, printJson } from '../output.js';
import { parsePriceTable, type PriceUnit } from '../../market/price-table.js';
import { uploadPrices } from '../../market/price-upload.js';
import { PRICES_LIMIT_MAX } from '../../energy/market-prices-read.js';
import { DEFAULT_SUBMIT_WAIT_MS, readSigningKey } from './signing.js';

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
  registerPrices(market);
}

interface PricesOptions {
  readonly context: string;
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
}

interface UploadOptions {
  readonly context: string;
  readonly file: string;
  readonly unit: PriceUnit;
  readonly feedInEur?: string;
  readonly localEur?: string;
  readonly rowMinutes?: number;
  readonly dryRun: boolean;
  readonly timeoutMs: number;
  readonly signingKey?: string;
  readonly signingKeyfile?: string;
}

function registerPrices(market: Command): void {
  market
    .command('prices')
    .description("print a context's market settings and the prices of its periods (EUR per kWh)")
    .requiredOption('--context <address>', 'the context address')
    .addOption(
      new Option(
        '--from <time>',
        'periods starting at or after this time (ms, or ISO 8601)',
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
        `list at most this many periods (at most ${PRICES_LIMIT_MAX})`,
      ).argParser(intOption(1)),
    )
    .action(async (opts: PricesOptions, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      printJson(
        await withClient(cmd, (client) =>
          fetchMarketPrices(client, context, {
            ...(opts.from === undefined ? {} : { fromMs: opts.from }),
            ...(opts.to === undefined ? {} : { toMs: opts.to }),
            ...(opts.limit === undefined ? {} : { limit: opts.limit }),
          }),
        ),
      );
    });
  market
    .command('upload-prices')
    .description(
      "set the market's prices from a CSV price table (the context owner's key): one MarketPrices per run of up to 2976 periods; running it again books nothing twice",
    )
    .requiredOption('--context <address>', 'the context address (its key holder is the owner)')
    .requiredOption(
      '--file <csv>',
      'the price table: a header naming start and supply (and optionally feedIn, local) columns; "-" reads stdin',
    )
    .addOption(
      new Option('--unit <unit>', 'the unit of the prices in the file')
        .choices(['eur-per-kwh', 'eur-per-mwh'])
        .default('eur-per-kwh'),
    )
    .option(
      '--feed-in-eur <price>',
      'the feed-in price of every row when the file has no feedIn column',
    )
    .option('--local-eur <price>', 'the local price of every row when the file has no local column')
    .addOption(
      new Option(
        '--row-minutes <n>',
        "how long each row's prices apply (default: the smallest step between two rows)",
      ).argParser(intOption(1)),
    )
    .option('--dry-run', 'check the file and print the transactions without sending them', false)
    .option('--signing-key <key>', 'the owner\'s private key: a WIF, or JSON with "privateKey"')
    .option('--signing-keyfile <file>', "file holding the owner's private key")
    .addOption(
      new Option('--timeout-ms <ms>', 'how long to wait for the outcomes')
        .argParser(intOption(1))
        .default(DEFAULT_SUBMIT_WAIT_MS),
    )
    .action(async (opts: UploadOptions, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      const key =
        opts.dryRun && opts.signingKey === undefined && opts.signingKeyfile === undefined
          ? null
          : await readSigningKey(opts);
      const text = await inputs.read('--file', opts.file);
      const result = await withClient(cmd, async (client) => {
        const { market } = await fetchMarketPrices(client, context, { limit: 1 });
        if (market === null)
          throw new CommandFailed(EXIT_FAILED, {
            code: 'market_not_on',
            message: `context ${context} has never turned its market on (Market), so it has no periods to price`,
            details: { context },
          });
        const table = parsePriceTable(text, {
          periodMs: market.periodSeconds * 1000,
          unit: opts.unit,
          ...(opts.feedInEur === undefined ? {} : { feedInEur: opts.feedInEur }),
          ...(opts.localEur === undefined ? {} : { localEur: opts.localEur }),
          ...(opts.rowMinutes === undefined ? {} : { rowMs: opts.rowMinutes * 60_000 }),
        });
        return uploadPrices(client, key, context, table, {
          dryRun: opts.dryRun,
          timeoutMs: opts.timeoutMs,
        });
      });
      printJson(result);
      if (!result.ok && !opts.dryRun) {
        const failed = result.transactions.filter(
          (t) => t.status !== 'accepted' && t.status !== 'already_accepted',
        );
        throw new CommandFailed(EXIT_FAILED, {
          code: failed[0]?.code ?? 'prices_not_set',
          message: `${failed.length} of ${result.transactions.length} MarketPrices transactions were not accepted: ${failed[0]?.message ?? ''}`,
          details: { transactions: failed.map((t) => t.id) },
        });
      }
    });
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
