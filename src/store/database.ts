// The two database backends behind one `Database`: a PostgreSQL server through a `pg` pool, or the
// embedded PGlite (PostgreSQL compiled to WebAssembly) in this process. Both are configured to
// return the same JavaScript values for the same query (docs/storage.md, "Values"):
//   int8 -> bigint (JS BigInt), int8[] -> bigint[], int2/int4 -> number, numeric -> string,
//   bytea -> Buffer, bool -> boolean, json/jsonb -> parsed value, text[] -> string[].

import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction as PgliteTransaction } from '@electric-sql/pglite';
import pg from 'pg';
import { ChainError } from '../core/errors.js';
import { keepLeadingByteOrderMarks } from './pglite-bom.js';
import { SQL_READER_ROLE } from './sql-port/reader-role.js';
import type { ReadOnlyTurns } from './sql-port/session.js';
import type { Database, QueryResult, Sql } from './types.js';

export interface OpenDatabaseOptions {
  /** postgres://user@host:port/db: use that server. Wins over dataDir and memory. */
  readonly databaseUrl?: string;
  /** Directory of an embedded PGlite database; created when missing. */
  readonly dataDir?: string;
  /** An embedded database that lives only in this process (the default without the others). */
  readonly memory?: boolean;
  /** Connections of the server pool (default 4). */
  readonly poolSize?: number;
  /**
   * An in-memory embedded database starts as a copy of this one (`databaseImage`), which is much
   * faster than creating a database cluster: the simulator opens several for every seed.
   */
  readonly image?: Blob;
}

export const POOL_SIZE_DEFAULT = 4;
const CONNECT_TIMEOUT_MS = 10_000;

const OID_BYTEA = 17;
const OID_INT8 = 20;
const OID_INT8_ARRAY = 1016;

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') {
    return openPostgres(opts.databaseUrl, opts.poolSize ?? POOL_SIZE_DEFAULT);
  }
  if (opts.dataDir !== undefined && opts.dataDir !== '' && opts.memory !== true) {
    mkdirSync(opts.dataDir, { recursive: true });
    return openPglite(opts.dataDir);
  }
  return openPglite(undefined, opts.image);
}

/** A copy of an embedded database's files, to open others from (OpenDatabaseOptions.image). */
export async function databaseImage(db: Database): Promise<Blob> {
  if (!(db instanceof PgliteDatabase))
    throw new ChainError('internal', `only an embedded database has an image, not ${db.kind}`);
  return db.image();
}

/** The embedded database's read-only turns for the SQL port; null for a PostgreSQL server. */
export function readOnlyTurns(db: Database): ReadOnlyTurns | null {
  return db instanceof PgliteDatabase ? db : null;
}

// ---------------------------------------------------------------------------------------------
// Errors: a server we cannot reach, or one that drops us, is a temporary failure ("retry").

const RETRY_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'EHOSTDOWN',
  'ENETDOWN',
]);
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections,
// 40001 serialization_failure and 40P01 deadlock_detected (the transaction was rolled back).
const RETRY_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);
const RETRY_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
];

/** True when `err` means the database is unreachable or dropped us: the caller may try again. */
export function isTransientDatabaseError(err: unknown): boolean {
  if (err instanceof ChainError) return err.code === 'retry';
  if (err instanceof AggregateError) return err.errors.some((e) => isTransientDatabaseError(e));
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (RETRY_NODE_CODES.has(code) || RETRY_SQLSTATES.has(code) || code.startsWith('08'))
      return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && RETRY_MESSAGES.some((m) => message.includes(m));
}

function asRetry(err: unknown, what: string): unknown {
  if (err instanceof ChainError || !isTransientDatabaseError(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ChainError(
    'retry',
    `database unavailable during ${what}: ${reason}`,
    {},
    { cause: err },
  );
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL server through a pg pool.

function parseInt8(text: string): bigint {
  return BigInt(text);
}

// pg's type ids are an enum without the array types; the id is right, only the enum is narrow.
const defaultInt8ArrayParser = pg.types.getTypeParser(
  OID_INT8_ARRAY as Parameters<typeof pg.types.getTypeParser>[0],
  'text',
) as (t: string) => (string | null)[];

function parseInt8Array(text: string): (bigint | null)[] {
  return defaultInt8ArrayParser(text).map((v) => (v === null ? null : BigInt(v)));
}

const PG_TYPE_PARSERS = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === undefined || format === 'text') {
      if (oid === OID_INT8) return parseInt8;
      if (oid === OID_INT8_ARRAY) return parseInt8Array;
    }
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: PG_TYPE_PARSERS,
  });
  // An idle connection that the server drops emits 'error' on the pool; without a listener that
  // would end the process. The pool discards the connection and the next query opens a new one.
  pool.on('error', () => undefined);
  const db = new PostgresDatabase(pool);
  try {
    await checkServer(db);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return db;
}

async function checkServer(db: Database): Promise<void> {
  const { rows } = await db.query<{ encoding: string }>(
    `SELECT pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = current_database()`,
  );
  const encoding = rows[0]?.encoding;
  if (encoding !== 'UTF8') {
    throw new ChainError(
      'database_unsuitable',
      `the database must use encoding UTF8, it uses ${String(encoding)}`,
      { encoding },
    );
  }
}

class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  private closing: Promise<void> | null = null;

  constructor(private readonly pool: pg.Pool) {}

  async query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<QueryResult<R>> {
    try {
      const result = await this.pool.query(text, params);
      return { rows: result.rows as R[] };
    } catch (err) {
      throw asRetry(err, 'a query');
    }
  }

  async transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw asRetry(err, 'connect');
    }
    // A checked-out connection that the server drops emits 'error'; the failing query reports
    // it, so the event itself only needs a listener (an unheard 'error' ends the process).
    const ignore = (): undefined => undefined;
    client.on('error', ignore);
    const connection = { broken: false };
    let broken: Error | undefined;
    try {
      return await runPgTransaction(client, fn, connection);
    } catch (err) {
      // A connection that failed mid-transaction is not given back to the pool.
      if (connection.broken || isTransientDatabaseError(err))
        broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closing === null) this.closing = this.pool.end();
    return this.closing;
  }
}

async function runPgTransaction<T>(
  client: pg.PoolClient,
  fn: (sql: Sql) => Promise<T>,
  connection: { broken: boolean },
): Promise<T> {
  const scope = { open: true };
  const sql: Sql = {
    query: async <R>(text: string, params?: unknown[]): Promise<QueryResult<R>> => {
      assertOpen(scope);
      try {
        const result = await client.query(text, params);
        return { rows: result.rows as R[] };
      } catch (err) {
        throw asRetry(err, 'a transaction');
      }
    },
  };
  try {
    await client.query('BEGIN');
    const result = await fn(sql);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    connection.broken = !(await rollbackQuietly(client, err));
    // A connection lost during COMMIT leaves the outcome unknown: callers re-read before retrying.
    throw asRetry(err, 'a transaction');
  } finally {
    scope.open = false;
  }
}

/** Rolls back; false when that failed too (the connection is then unusable). */
async function rollbackQuietly(client: pg.PoolClient, original: unknown): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch (rollbackErr) {
    // The original error is the one worth reporting; a failed ROLLBACK means the connection is
    // gone, which the server treats as a rollback. Attach it so nothing is lost.
    if (original instanceof Error && original.cause === undefined) {
      Object.defineProperty(original, 'cause', { value: rollbackErr, enumerable: false });
    }
    return false;
  }
}

function assertOpen(scope: { open: boolean }): void {
  if (!scope.open)
    throw new ChainError('internal', 'a transaction handle was used after its transaction ended');
}

// ---------------------------------------------------------------------------------------------
// Embedded PGlite. It has one connection, and its own `query` does not wait for an open
// transaction (it would run inside it), so every use takes our lock, and a transaction holds it
// until COMMIT or ROLLBACK.

const PGLITE_PARSERS = {
  [OID_INT8]: parseInt8,
  [OID_BYTEA]: (text: string): Buffer => Buffer.from(text.slice(2), 'hex'),
};

async function openPglite(dataDir: string | undefined, image?: Blob): Promise<Database> {
  keepLeadingByteOrderMarks();
  const options = {
    parsers: PGLITE_PARSERS,
    ...(image === undefined ? {} : { loadDataDir: image }),
  };
  const lite =
    dataDir === undefined ? await PGlite.create(options) : await PGlite.create(dataDir, options);
  return new PgliteDatabase(lite);
}

class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

class PgliteDatabase implements Database, ReadOnlyTurns {
  readonly kind = 'pglite' as const;
  private readonly lock = new Mutex();
  private readonly scope = new AsyncLocalStorage<{ open: boolean }>();
  private closing: Promise<void> | null = null;

  constructor(private readonly lite: PGlite) {}

  async query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<QueryResult<R>> {
    this.assertNotInTransaction();
    return this.lock.run(async () => {
      const result = await this.lite.query<R>(text, params);
      return { rows: result.rows };
    });
  }

  async transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    this.assertNotInTransaction();
    return this.lock.run(async () => {
      const scope = { open: true };
      try {
        return await this.lite.transaction((tx) =>
          this.scope.run(scope, () => fn(pgliteSql(tx, scope))),
        );
      } finally {
        scope.open = false;
      }
    });
  }

  /**
   * Runs one client's protocol messages (the SQL port's, docs/decisions/0010) in a read-only
   * transaction that is rolled back, as the port's reader role (`reader-role.ts`), in one turn of
   * the lock: the processor's transactions are never open meanwhile, and the query sees only
   * committed blocks. Session advisory locks would outlive the rollback; the port refuses the
   * functions that take them, and releasing all of them afterwards makes sure (the embedded
   * database holds none of its own).
   */
  readOnlyTurn(messages: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<void> {
    this.assertNotInTransaction();
    if (this.closing !== null)
      return Promise.reject(new ChainError('shutting_down', 'the embedded database is closing'));
    return this.lock.run(async () => {
      if (this.lite.isInTransaction())
        throw new ChainError(
          'internal',
          'the embedded database has a transaction open between turns',
        );
      try {
        await this.lite.exec(`BEGIN TRANSACTION READ ONLY; SET LOCAL ROLE ${SQL_READER_ROLE}`);
        await this.lite.execProtocolRawStream(messages, { onRawData: onData });
      } finally {
        await this.lite.exec('ROLLBACK; SELECT pg_advisory_unlock_all()');
      }
    });
  }

  image(): Promise<Blob> {
    return this.lock.run(async () => {
      const dump = await this.lite.dumpDataDir('none');
      return dump;
    });
  }

  async close(): Promise<void> {
    if (this.closing === null) this.closing = this.lock.run(() => this.lite.close());
    return this.closing;
  }

  // With one connection, waiting for the lock from inside the transaction that holds it would
  // hang for ever; fail loudly instead (use the `sql` handed to the transaction).
  private assertNotInTransaction(): void {
    if (this.scope.getStore()?.open === true) {
      throw new ChainError(
        'internal',
        'the embedded database was used directly inside one of its transactions; use the transaction handle',
      );
    }
  }
}

function pgliteSql(tx: PgliteTransaction, scope: { open: boolean }): Sql {
  return {
    query: async <R>(text: string, params?: unknown[]): Promise<QueryResult<R>> => {
      assertOpen(scope);
      const result = await tx.query<R>(text, params);
      return { rows: result.rows };
    },
  };
}
