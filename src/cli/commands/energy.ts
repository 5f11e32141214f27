// `hanzenet energy install|context|balance|history` (and `place|places`, ./energy-place.ts):
// install the energy contracts, and read a context's members, balances and history (docs/energy.md, docs/cli.md).

import { Option, type Command } from 'commander';
import type { TxView } from '../../chain/views.js';
import { ClientError } from '../../client/errors.js';
import type { PrivateKey } from '../../core/keys.js';
import {
  fetchEnergyBalances,
  fetchEnergyContext,
  fetchEnergyHistory,
} from '../../energy/client.js';
import {
  BALANCES_LIMIT_MAX,
  HISTORY_LIMIT_MAX,
  parseAddressParam,
  parseBalanceFilter,
  parseHistoryPage,
} from '../../energy/query-params.js';
import { inputs, intOption, withClient } from '../context.js';
import { exactlyOne, parseSigningKey } from '../inputs.js';
import { CommandFailed, EXIT_FAILED, printJson } from '../output.js';
import { registerPlaces } from './energy-place.js';
import { DEFAULT_SUBMIT_WAIT_MS } from './signing.js';

interface InstallOptions {
  readonly signingKey?: string;
  readonly signingKeyfile?: string;
  readonly timeoutMs: number;
}

interface BalanceOptions {
  readonly context: string;
  readonly trader?: string;
  readonly label?: string;
  readonly block?: string;
  readonly limit?: string;
}

interface HistoryOptions {
  readonly context: string;
  readonly trader: string;
  readonly limit?: string;
  readonly before?: string;
}

export function register(program: Command): void {
  const energy = program
    .command('energy')
    .description('the energy market: install its contracts, read balances, members and history');

  energy
    .command('install')
    .description(
      'install every energy contract that is not active yet (processor key only); prints {"created", "alreadyActive"}',
    )
    .option('--signing-key <key>', 'the processor key: a WIF, or JSON with "privateKey"')
    .option(
      '--signing-keyfile <file>',
      'file holding the processor key (e.g. data/processor.key); "-" reads stdin',
    )
    .addOption(
      new Option('--timeout-ms <ms>', 'how long to wait for the contracts to be created')
        .argParser(intOption(1))
        .default(DEFAULT_SUBMIT_WAIT_MS),
    )
    .action(async (opts: InstallOptions, cmd: Command) => {
      const key = await readKey(opts);
      printJson(await withClient(cmd, (client) => install(client, key, opts.timeoutMs)));
    });

  energy
    .command('context')
    .description('print the members of a context and their roles, and its settlement period')
    .requiredOption('--context <address>', 'the context address')
    .action(async (opts: { context: string }, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      printJson(await withClient(cmd, (client) => fetchEnergyContext(client, context)));
    });

  energy
    .command('balance')
    .description(
      'print the balances of a context per trader, period (first block and start) and label set, with totals per trader',
    )
    .requiredOption('--context <address>', 'the context address')
    .option('--trader <address>', 'only this trader')
    .option('--label <label>', 'only balances carrying this label ("a,b": carrying both)')
    .option('--block <block>', 'only the settlement period with this first block')
    .option(
      '--limit <n>',
      `list at most this many balances (default 1000, at most ${BALANCES_LIMIT_MAX}); totals count them all`,
    )
    .action(async (opts: BalanceOptions, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      // Checked here too, so that a wrong option is a usage error (exit 2) before anything is sent.
      const filter = parseBalanceFilter(opts);
      const query = {
        ...(filter.trader === undefined ? {} : { trader: filter.trader }),
        ...(filter.labels === undefined ? {} : { label: filter.labels }),
        ...(filter.block === undefined ? {} : { block: filter.block }),
        ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      };
      printJson(await withClient(cmd, (client) => fetchEnergyBalances(client, context, query)));
    });

  energy
    .command('history')
    .description(
      'print a trader\'s balance changes in a context, newest first; "next" continues with --before',
    )
    .requiredOption('--context <address>', 'the context address')
    .requiredOption('--trader <address>', 'the trader')
    .option('--limit <n>', `entries per page (default 100, at most ${HISTORY_LIMIT_MAX})`)
    .option(
      '--before <cursor>',
      'a block height (entries of earlier blocks), or the "next" of the previous page',
    )
    .action(async (opts: HistoryOptions, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      const trader = parseAddressParam(opts.trader, '--trader');
      const page = parseHistoryPage(opts);
      const query = {
        ...(page.limit === undefined ? {} : { limit: page.limit }),
        ...(opts.before === undefined ? {} : { before: opts.before }),
      };
      printJson(
        await withClient(cmd, (client) => fetchEnergyHistory(client, context, trader, query)),
      );
    });

  registerPlaces(energy);
}

async function readKey(opts: InstallOptions): Promise<PrivateKey> {
  const which = exactlyOne(opts, {
    signingKey: '--signing-key',
    signingKeyfile: '--signing-keyfile',
  });
  if (which === 'signingKey') return parseSigningKey(opts.signingKey ?? '', '--signing-key');
  const source = opts.signingKeyfile ?? '';
  return parseSigningKey(
    await inputs.read('--signing-keyfile', source),
    `--signing-keyfile ${source}`,
  );
}

interface InstalledContract {
  readonly type: string;
  readonly version: string;
  readonly hash: string;
}

type Client = Parameters<Parameters<typeof withClient>[1]>[0];

/**
 * Creates the energy contracts that are not active (by hash), in installation order: all are
 * submitted first (so they usually share one block, in order), then awaited. Idempotent.
 */
async function install(
  client: Client,
  key: PrivateKey,
  timeoutMs: number,
): Promise<{
  created: (InstalledContract & { transactionId: string; blockId: number | null })[];
  alreadyActive: InstalledContract[];
}> {
  // Loaded only here: packing a contract checks it with the contract runtime.
  const [{ packContract }, { ENERGY_CONTRACTS }] = await Promise.all([
    import('../../contracts/authoring/pack.js'),
    import('../../energy/index.js'),
  ]);
  const active = new Set((await client.contracts()).map((c) => c.hash));
  const alreadyActive: InstalledContract[] = [];
  const submitted: (InstalledContract & { transactionId: string })[] = [];
  for (const def of ENERGY_CONTRACTS) {
    const packed = packContract(def);
    const contract = { type: def.type, version: def.version, hash: packed.hashHex };
    if (active.has(packed.hashHex)) {
      alreadyActive.push(contract);
      continue;
    }
    const { id } = await client.createContract(packed.payload, key, {
      wait: false,
      validTillMs: 0,
    });
    submitted.push({ ...contract, transactionId: id });
  }
  const created: (InstalledContract & { transactionId: string; blockId: number | null })[] = [];
  for (const s of submitted) {
    let view: TxView;
    try {
      view = await client.awaitTransaction(s.transactionId, timeoutMs);
    } catch (err) {
      if (err instanceof ClientError)
        throw new ClientError(
          err.code,
          `${err.message} (creating ${s.type})`,
          { ...err.details, created },
          err.status,
          { cause: err },
        );
      throw err;
    }
    if (view.status !== 'accepted') {
      throw new CommandFailed(EXIT_FAILED, {
        code: view.code ?? 'contract_create_invalid',
        message: `creating contract ${s.type} ended ${view.status}: ${view.message ?? ''}`,
        details: {
          type: s.type,
          hash: s.hash,
          transactionId: s.transactionId,
          status: view.status,
          created,
        },
      });
    }
    created.push({ ...s, blockId: view.blockId });
  }
  return { created, alreadyActive };
}
