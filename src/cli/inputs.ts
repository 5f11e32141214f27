// Reading what the user hands the CLI: signing keys, transaction ids, payloads and contract
// files, each given inline, as a file path, or as `-` for stdin (as validana-cli does, so that
// `hanzenet key generate > a.json` and `... | hanzenet transaction await --id-file -` work).

import { readFile } from 'node:fs/promises';
import { isValidWIF, PrivateKey } from '../core/keys.js';
import { ClientError } from '../client/errors.js';
import { describeJsonType, normaliseTxId } from '../client/check.js';
import { isRecord } from '../client/http.js';
import { usageError } from './output.js';

export const STDIN = '-';
const INPUT_BYTES_MAX = 16 * 1024 * 1024;

/** Reads files and stdin for one command; stdin can be read only once, by one option. */
export class InputReader {
  private stdinOwner: string | null = null;

  constructor(private readonly stdin: NodeJS.ReadableStream = process.stdin) {}

  /** The text of `source` (a path, or `-` for stdin), named `option` in error messages. */
  async read(option: string, source: string): Promise<string> {
    if (source === STDIN) return this.readStdin(option);
    try {
      return await readFile(source, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw usageError(`${option}: cannot read "${source}" (${reason})`, {
        option,
        path: source,
        reason,
      });
    }
  }

  private async readStdin(option: string): Promise<string> {
    if (this.stdinOwner !== null) {
      throw usageError(
        `${option} and ${this.stdinOwner} both read stdin ("-"); only one option can`,
        { option, other: this.stdinOwner },
      );
    }
    this.stdinOwner = option;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of this.stdin) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buf.length;
      if (bytes > INPUT_BYTES_MAX)
        throw usageError(`${option}: stdin holds more than ${INPUT_BYTES_MAX} bytes`, { option });
      chunks.push(buf);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** Exactly one of the named options must be set; returns the name of the one that is. */
export function exactlyOne<K extends string>(
  opts: Partial<Record<NoInfer<K>, unknown>>,
  names: Readonly<Record<K, string>>,
): K {
  const keys = Object.keys(names) as K[];
  const given = keys.filter((k) => opts[k] !== undefined);
  const flags = keys.map((k) => names[k]);
  const first = given[0];
  if (given.length !== 1 || first === undefined) {
    const got = given.length === 0 ? 'none' : given.map((k) => names[k]).join(' and ');
    throw usageError(`give exactly one of ${flags.join(', ')} (got ${got})`, { options: flags });
  }
  return first;
}

/** A key given as a WIF or as JSON with `privateKey` (what `hanzenet key generate` prints). */
export function parseSigningKey(text: string, source: string): PrivateKey {
  const trimmed = text.trim();
  let wif: unknown = trimmed;
  if (trimmed.startsWith('{')) {
    try {
      wif = (JSON.parse(trimmed) as Record<string, unknown>)['privateKey'];
    } catch (err) {
      throw new ClientError(
        'key_invalid',
        `${source}: not a WIF and not JSON: ${(err as Error).message}`,
        { source },
        null,
        { cause: err },
      );
    }
    if (typeof wif !== 'string') {
      throw new ClientError('key_invalid', `${source}: JSON without a "privateKey" string`, {
        source,
      });
    }
  }
  // The key is a secret: messages never quote it.
  if (!isValidWIF(wif)) {
    throw new ClientError(
      'key_invalid',
      `${source}: not a valid WIF private key (compressed, mainnet, starting with K or L)`,
      { source },
    );
  }
  return PrivateKey.fromWIF(wif as string);
}

/** An id given raw (hex) or as JSON with `transactionId` or `id` (what execute and get print). */
export function parseTxId(text: string, source: string): string {
  const trimmed = text.trim();
  let id: unknown = trimmed;
  if (trimmed.startsWith('{') || trimmed.startsWith('"')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new ClientError(
        'bad_hex',
        `${source}: not a hex id and not JSON: ${(err as Error).message}`,
        { source },
        null,
        { cause: err },
      );
    }
    id = isRecord(parsed) ? (parsed['transactionId'] ?? parsed['id']) : parsed;
    if (typeof id !== 'string') {
      throw new ClientError('bad_hex', `${source}: JSON without a "transactionId" or "id" string`, {
        source,
      });
    }
  }
  return normaliseTxId(id as string);
}

/** A JSON object (a payload or a contract file); a string is parsed first. */
export function parseJsonObject(text: string, source: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ClientError(
      'tx_payload_not_json',
      `${source}: not JSON: ${(err as Error).message}`,
      { source },
      null,
      { cause: err },
    );
  }
  if (!isRecord(parsed)) {
    throw new ClientError(
      'tx_payload_not_json',
      `${source}: expected a JSON object, got ${describeJsonType(parsed)}`,
      { source },
    );
  }
  return parsed;
}
