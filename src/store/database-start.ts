// Opening the database at a service's start, with the operator's mistakes told apart: a
// PostgreSQL server that is not there (yet) is waited for, with backoff, up to the database wait
// time, then `database_unreachable`; a database that does not exist is `database_missing` at once
// (waiting will not create it); a refused login is `database_login_failed`. The embedded database
// is opened as before.

import { setTimeout as sleep } from 'node:timers/promises';
import { ChainError } from '../core/errors.js';
import { isTransientDatabaseError, openDatabase } from './database.js';
import type { OpenDatabaseOptions } from './database.js';
import type { Database } from './types.js';

export const DATABASE_WAIT_MS_DEFAULT = 30_000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 5_000;

export interface DatabaseWait {
  /** How long to keep trying an unreachable server (0: try once). */
  readonly waitMs: number;
  /** Told before each wait (the service logs it). */
  readonly onRetry?: (info: { attempt: number; inMs: number; reason: string }) => void;
  /** The clock that bounds the wait (default the real one). */
  readonly nowMs?: () => number;
}

export async function openDatabaseWaiting(
  opts: OpenDatabaseOptions,
  wait: DatabaseWait,
): Promise<Database> {
  const url = opts.databaseUrl;
  if (url === undefined || url === '') return openDatabase(opts);
  const nowMs = wait.nowMs ?? Date.now;
  const deadlineMs = nowMs() + wait.waitMs;
  let backoffMs = BACKOFF_FIRST_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatabase(opts);
    } catch (err) {
      const known = startError(err, url);
      if (known !== null) throw known;
      if (!isTransientDatabaseError(err)) throw err;
      const leftMs = deadlineMs - nowMs();
      if (leftMs <= 0) throw unreachable(err, url, wait.waitMs, attempt);
      const inMs = Math.min(backoffMs, leftMs);
      wait.onRetry?.({ attempt, inMs, reason: reasonOf(err) });
      await sleep(inMs);
      backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
    }
  }
}

/** The URL without its password, to name in messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(not a valid URL)';
  }
}

/** A start-up error with its own code, or null for the others. */
export function startError(err: unknown, url: string): ChainError | null {
  const code = sqlState(err);
  const where = redactUrl(url);
  if (code === '3D000') {
    const name = safePathName(url);
    return new ChainError(
      'database_missing',
      `the PostgreSQL server has no database ${JSON.stringify(name)} (${where}); create it with: createdb ${name}`,
      { database: name, url: where },
      { cause: err },
    );
  }
  if (code === '28P01' || code === '28000') {
    return new ChainError(
      'database_login_failed',
      `the PostgreSQL server refused the login for ${where}: ${reasonOf(err)}`,
      { url: where },
      { cause: err },
    );
  }
  if (err instanceof TypeError && /invalid url/i.test(err.message)) {
    return new ChainError('database_unreachable', `the database URL is not valid: ${where}`, {
      url: where,
    });
  }
  return null;
}

function unreachable(err: unknown, url: string, waitMs: number, attempts: number): ChainError {
  return new ChainError(
    'database_unreachable',
    `cannot reach the PostgreSQL server of ${redactUrl(url)} after ${attempts} attempts in ${waitMs} ms (--database-wait-ms): ${reasonOf(err)}`,
    { url: redactUrl(url), waitMs, attempts },
    { cause: err },
  );
}

function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as Error).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return reasonOf(err.errors[0]);
  if (err instanceof Error) return err.message === '' ? String(err) : err.message;
  return String(err);
}

function safePathName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  } catch {
    return '';
  }
}
