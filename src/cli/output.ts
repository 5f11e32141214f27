// What the CLI writes: JSON only on stdout (pretty, 2 spaces); errors as
// `{"error": {code, message, details}}` on stderr. Exit codes: 0 done, 1 failed (the server said
// no, the transaction was rejected or invalid, or the server could not be reached), 2 usage
// (the command line or the files and stdin it names are wrong; nothing was sent).

import { ChainError } from '../core/errors.js';
import { ClientError, type ClientErrorJson } from '../client/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Codes that, when found on the client side, mean the user's input is wrong. */
const INPUT_CODES: ReadonlySet<string> = new Set([
  'usage_error',
  'key_invalid',
  'bad_hex',
  'bad_request',
  'tx_payload_not_json',
  'tx_too_large',
  'tx_bad_valid_till',
]);

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function errorJson(err: unknown): ClientErrorJson {
  if (err instanceof ClientError || err instanceof ChainError) {
    return { code: err.code, message: err.message, details: err.details };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message, details: {} };
}

export function printError(error: ClientErrorJson): void {
  process.stderr.write(`${JSON.stringify({ error }, null, 2)}\n`);
}

export function exitCodeOf(err: unknown): number {
  const local = (err instanceof ClientError && err.status === null) || err instanceof ChainError;
  return local && INPUT_CODES.has(err.code) ? EXIT_USAGE : EXIT_FAILED;
}

export function usageError(message: string, details: Record<string, unknown> = {}): ClientError {
  return new ClientError('usage_error', message, details);
}

/**
 * Thrown by a command that has already printed what it had to say (for example the error JSON of
 * a rejected transaction) and only needs the process to end with `exitCode`.
 */
export class CommandFailed extends Error {
  constructor(
    readonly exitCode: number,
    readonly error: ClientErrorJson,
  ) {
    super(error.message);
    this.name = 'CommandFailed';
  }
}
