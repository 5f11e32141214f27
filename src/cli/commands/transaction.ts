// `hanzenet transaction await|get|status`, each taking --id or --id-file.

import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.js';
import { inputs, intOption, withClient } from '../context.js';
import { exactlyOne, parseTxId } from '../inputs.js';
import { printJson } from '../output.js';

interface IdOptions {
  readonly id?: string;
  readonly idFile?: string;
}

interface AwaitOptions extends IdOptions {
  readonly timeoutMs?: number;
}

interface GetOptions extends IdOptions {
  readonly wait?: boolean;
  readonly timeoutMs?: number;
}

function addIdOptions(cmd: Command): Command {
  return cmd
    .option('--id <id>', 'transaction id (32 hex), or JSON with "transactionId" or "id"')
    .option(
      '--id-file <file>',
      'file holding the id (raw hex, or JSON as contract execute prints); "-" reads stdin',
    );
}

async function readId(opts: IdOptions): Promise<string> {
  const which = exactlyOne(opts, { id: '--id', idFile: '--id-file' });
  if (which === 'id') return parseTxId(opts.id ?? '', '--id');
  const source = opts.idFile ?? '';
  return parseTxId(await inputs.read('--id-file', source), `--id-file ${source}`);
}

export function register(program: Command): void {
  const transaction = program.command('transaction').description('follow transactions');

  addIdOptions(
    transaction
      .command('await')
      .description('wait until the transaction is final; prints its TxView (any final status)'),
  )
    .addOption(
      new Option(
        '--timeout-ms <ms>',
        'give up (error await_timeout, exit 1) after this long; default: wait for ever',
      ).argParser(intOption(1)),
    )
    .action(async (opts: AwaitOptions, cmd: Command) => {
      const id = await readId(opts);
      printJson(
        await withClient(cmd, (client) =>
          client.awaitTransaction(id, opts.timeoutMs ?? Number.POSITIVE_INFINITY),
        ),
      );
    });

  addIdOptions(
    transaction
      .command('get')
      .description('print the TxView of a transaction (error not_found when unknown)'),
  )
    .option('--wait', 'let the server hold the answer until the transaction is final')
    .addOption(new Option('--timeout-ms <ms>', 'with --wait: longest wait').argParser(intOption(1)))
    .action(async (opts: GetOptions, cmd: Command) => {
      const id = await readId(opts);
      const waitOpts =
        opts.wait === true
          ? { wait: true, ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) }
          : {};
      printJson(await withClient(cmd, (client) => client.getTransaction(id, waitOpts)));
    });

  addIdOptions(
    transaction
      .command('status')
      .description(
        'print {"transactionId", "status"}; status is null when the server does not know the id',
      ),
  ).action(async (opts: IdOptions, cmd: Command) => {
    const id = await readId(opts);
    const status = await withClient(cmd, async (client) => {
      try {
        return (await client.getTransaction(id)).status;
      } catch (err) {
        if (err instanceof ClientError && err.code === 'not_found') return null;
        throw err;
      }
    });
    printJson({ transactionId: id, status });
  });
}
