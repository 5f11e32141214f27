// The embedded SQL port of a running processor or node (`--sql-port`): psql reads the embedded
// database on the loopback interface while the service runs (docs/storage.md, "psql on the
// embedded database"; docs/decisions/0010-sql-port.md). A PostgreSQL server has its own port:
// with DATABASE_URL the option is refused before anything starts.

import { ChainError } from '../core/errors.js';
import type { Closers } from '../ledger/lifecycle.js';
import { describeError, type Logger } from '../ledger/log.js';
import { readOnlyTurns } from '../store/database.js';
import { SQL_PORT_HOST, startSqlPort } from '../store/sql-port/server.js';
import type { Database } from '../store/types.js';
import { portUnavailable } from './port-check.js';

/**
 * Refuses --sql-port together with a PostgreSQL server, or on the API's own port, before the
 * service starts.
 */
export function checkSqlPortOption(opts: {
  readonly sqlPort?: number | undefined;
  readonly port: number;
  readonly databaseUrl?: string | undefined;
}): void {
  const { sqlPort, port, databaseUrl } = opts;
  if (sqlPort === undefined) return;
  if (sqlPort === port && port !== 0) {
    throw new ChainError(
      'bad_request',
      `--sql-port ${sqlPort} is the API port (--port); choose another`,
      { sqlPort, port },
    );
  }
  if (databaseUrl === undefined || databaseUrl === '') return;
  throw new ChainError(
    'bad_request',
    '--sql-port serves the embedded database only; with DATABASE_URL use psql on the PostgreSQL server directly',
    { sqlPort },
  );
}

/**
 * Starts the SQL port on the embedded database `db` and registers its closing on `closers` (it
 * closes before the database does). Returns the address clients connect to.
 */
export async function openSqlPort(
  db: Database,
  sqlPort: number,
  closers: Closers,
  log: Logger,
): Promise<{ readonly host: string; readonly port: number }> {
  const turns = readOnlyTurns(db);
  if (turns === null) {
    throw new ChainError('bad_request', '--sql-port serves the embedded database only', {
      sqlPort,
    });
  }
  const sqlLog = log.child('sql');
  let port: Awaited<ReturnType<typeof startSqlPort>>;
  try {
    port = await startSqlPort(
      { turns, sql: db },
      {
        port: sqlPort,
        events: {
          onRefused: (code, message) => sqlLog.info('refused a query', { sqlstate: code, message }),
          onFailure: (err) =>
            sqlLog.warn('the SQL port failed; the connection concerned is closed', {
              error: describeError(err),
            }),
        },
      },
    );
  } catch (err) {
    throw portUnavailable(err, SQL_PORT_HOST, sqlPort, '--sql-port') ?? err;
  }
  closers.add(() => port.close());
  sqlLog.info('serving the embedded database read-only', { host: SQL_PORT_HOST, port: port.port });
  return { host: SQL_PORT_HOST, port: port.port };
}

/** The startup line's `sql` field: where psql connects (absent without --sql-port). */
export function sqlAddress(sql: { readonly host: string; readonly port: number } | null): {
  sql?: string;
} {
  return sql === null ? {} : { sql: `postgres://postgres@${sql.host}:${sql.port}/postgres` };
}
