// Key files. The store owns what the services keep on disk, the database and the keys: the
// processor key lives in a file readable only by its owner (mode 0600), created on first start and
// loaded by later starts; the gateway and `hanzenet reconcile` read meter and owner keys with
// parseKeyText. The file holds the same JSON that `hanzenet key generate` prints.

import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ChainError } from '../core/errors.js';
import { PrivateKey } from '../core/keys.js';

export interface KeyFileResult {
  readonly key: PrivateKey;
  readonly created: boolean;
}

export async function loadOrCreateKeyFile(path: string): Promise<KeyFileResult> {
  const existing = await readKeyFile(path);
  if (existing) return { key: existing, created: false };
  try {
    return { key: await createKeyFile(path), created: true };
  } catch (err) {
    // Another process created it between our read and write: use theirs.
    const theirs = await readKeyFile(path);
    if (theirs) return { key: theirs, created: false };
    throw err;
  }
}

/** Generates a key and writes it to a new file of mode 0600; fails when the file exists. */
export async function createKeyFile(path: string): Promise<PrivateKey> {
  const key = PrivateKey.generate();
  const text =
    JSON.stringify(
      {
        privateKey: key.toWIF(),
        publicKey: Buffer.from(key.publicKey).toString('hex'),
        address: key.address,
      },
      null,
      2,
    ) + '\n';
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, { mode: 0o600, flag: 'wx' });
    // The mode given to open() is reduced by the umask; set it exactly.
    await chmod(path, 0o600);
  } catch (err) {
    throw new ChainError(
      'data_dir_unusable',
      `cannot write the processor key file ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  return key;
}

/** The key of an existing key file (checked to be readable by its owner only), or null when none. */
export async function readKeyFile(path: string): Promise<PrivateKey | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ChainError(
      'key_file_unreadable',
      `cannot read the processor key file ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new ChainError(
      'key_file_insecure',
      `the key file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      { path },
    );
  }
  return parseKeyText(text.trim(), path);
}

/** A key file holds a WIF, or JSON with a `privateKey` WIF. */
export function parseKeyText(text: string, source: string): PrivateKey {
  let wif = text;
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { privateKey?: unknown };
      if (typeof parsed.privateKey !== 'string') throw new Error('no privateKey field');
      wif = parsed.privateKey;
    } catch (err) {
      throw new ChainError(
        'key_invalid',
        `${source} is not a key file: expected a WIF or JSON with "privateKey" (${(err as Error).message})`,
        { source },
      );
    }
  }
  return PrivateKey.fromWIF(wif);
}
