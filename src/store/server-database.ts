// Databases on a PostgreSQL server for services that each need one of their own (`hanzenet city
// up --database-url`: one per chain and per mirror node). A database that exists is used as it
// is, so a second start resumes each chain where it stopped.

import pg from 'pg';
import { ChainError } from '../core/errors.js';
import { redactUrl } from './database-start.js';

/** PostgreSQL's own limit on identifiers is 63 bytes; lower case, so no quoting is needed. */
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function isDatabaseName(name: string): boolean {
  return DATABASE_NAME.test(name);
}

/** `serverUrl` with its database replaced by `name` (user, password, host and options kept). */
export function databaseUrlOf(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Creates each named database on the server of `serverUrl` that does not exist yet, on one
 * connection; returns the names it created. Fails with `database_unreachable` when the server
 * cannot be reached or refuses, naming the server without its password.
 */
export async function ensureServerDatabases(
  serverUrl: string,
  names: readonly string[],
): Promise<string[]> {
  const bad = names.find((n) => !isDatabaseName(n));
  if (bad !== undefined)
    throw new ChainError('bad_request', `"${bad}" is not a database name: ${DATABASE_NAME}`, {
      name: bad,
    });
  const admin = new pg.Client({ connectionString: serverUrl });
  let connected = false;
  try {
    await admin.connect();
    connected = true;
    const known = await admin.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname = ANY($1)',
      [names],
    );
    const have = new Set(known.rows.map((r) => r.datname));
    const created: string[] = [];
    for (const name of names.filter((n) => !have.has(n))) {
      await admin.query(`CREATE DATABASE ${name}`);
      created.push(name);
    }
    return created;
  } catch (err) {
    throw new ChainError(
      'database_unreachable',
      `cannot create the databases on ${redactUrl(serverUrl)}: ${(err as Error).message}`,
      { server: redactUrl(serverUrl) },
      { cause: err },
    );
  } finally {
    if (connected) await admin.end();
  }
}
