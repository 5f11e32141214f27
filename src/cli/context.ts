// What every command shares: the global options (--url, --prefix), a client built from them,
// the input reader and option value parsers.

import { InvalidArgumentError, type Command } from 'commander';
import { HanzenetClient } from '../client/client.js';
import { InputReader } from './inputs.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface GlobalOptions {
  readonly url: string;
  readonly prefix?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const all = cmd.optsWithGlobals<{ url?: string; prefix?: string }>();
  const url = all.url ?? DEFAULT_URL;
  return all.prefix === undefined || all.prefix === '' ? { url } : { url, prefix: all.prefix };
}

/** Runs `work` with a client for the global options and closes the client afterwards. */
export async function withClient<T>(
  cmd: Command,
  work: (client: HanzenetClient) => Promise<T>,
): Promise<T> {
  const g = globalOptions(cmd);
  const client = new HanzenetClient(
    g.prefix === undefined ? { url: g.url } : { url: g.url, chainId: g.prefix },
  );
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

/** One reader per process: stdin can be consumed only once. */
export const inputs = new InputReader();

/** Option parser: an integer from `min` to 2^53-1. */
export function intOption(
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): (value: string) => number {
  return (value: string) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

export const portOption = intOption(0, 65_535);
