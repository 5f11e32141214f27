// Options shared by the commands that sign and submit a transaction (contract create, delete and
// execute), and how their result is reported.

import { Option, type Command } from 'commander';
import type { TxView } from '../../chain/views.js';
import type { SubmittedTx } from '../../client/client.js';
import { normaliseTxId } from '../../client/check.js';
import type { PrivateKey } from '../../core/keys.js';
import { inputs, intOption } from '../context.js';
import { exactlyOne, parseSigningKey } from '../inputs.js';
import { CommandFailed, EXIT_FAILED, printJson } from '../output.js';

export const DEFAULT_SUBMIT_WAIT_MS = 120_000;

export interface SigningOptions {
  readonly signingKey?: string;
  readonly signingKeyfile?: string;
  readonly validUntil: number;
  readonly id?: string;
  readonly wait: boolean;
  readonly timeoutMs: number;
}

export function addSigningOptions(cmd: Command): Command {
  return cmd
    .option(
      '--signing-key <key>',
      'private key: a WIF, or JSON with "privateKey" (as key generate prints)',
    )
    .option(
      '--signing-keyfile <file>',
      'file holding the private key (WIF or JSON); "-" reads stdin',
    )
    .addOption(
      new Option('--valid-until <ms>', 'valid till, ms since the Unix epoch; 0 = never expires')
        .argParser(intOption(0))
        .default(0),
    )
    .option('--id <hex>', 'transaction id, 32 hex characters (default: random)')
    .option(
      '--no-wait',
      'print the id as soon as the server stored the transaction, without waiting for its outcome',
    )
    .addOption(
      new Option('--timeout-ms <ms>', 'how long to wait for the outcome')
        .argParser(intOption(1))
        .default(DEFAULT_SUBMIT_WAIT_MS),
    );
}

export async function readSigningKey(
  opts: Pick<SigningOptions, 'signingKey' | 'signingKeyfile'>,
): Promise<PrivateKey> {
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

/** The id, valid-till and wait settings in the form the client takes them. */
export function callSettings(opts: SigningOptions): {
  validTillMs: number;
  idHex?: string;
  wait: boolean;
  timeoutMs: number;
} {
  const base = { validTillMs: opts.validUntil, wait: opts.wait, timeoutMs: opts.timeoutMs };
  return opts.id === undefined ? base : { ...base, idHex: normaliseTxId(opts.id) };
}

/**
 * Prints {"transactionId"} when the transaction was stored (no wait) or accepted; a rejected or
 * invalid one ends the command with its code and message on stderr and exit code 1.
 */
export function reportSubmission(result: SubmittedTx | TxView): void {
  if (result.status === 'new' || result.status === 'accepted') {
    printJson({ transactionId: result.id });
    return;
  }
  const view = result as TxView;
  const code = view.code ?? (view.status === 'rejected' ? 'contract_rejected' : 'internal');
  const message = view.message ?? `transaction ${view.id} is ${view.status}`;
  throw new CommandFailed(EXIT_FAILED, {
    code,
    message,
    details: {
      transactionId: view.id,
      status: view.status,
      contractType: view.contractType,
      blockId: view.blockId,
    },
  });
}
