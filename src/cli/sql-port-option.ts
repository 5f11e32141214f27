// `--sql-port` of `processor start` and `node start`: the embedded database served read-only to
// psql on the loopback interface (docs/storage.md). A PostgreSQL server has its own port, so the
// option together with --database-url (DATABASE_URL) is a usage error.

import { Option } from 'commander';
import { ClientError } from '../client/errors.js';
import { portOption } from './context.js';

export function sqlPortCliOption(): Option {
  return new Option(
    '--sql-port <port>',
    'serve the embedded database read-only to psql on 127.0.0.1:<port>',
  )
    .env('HANZENET_SQL_PORT')
    .argParser(portOption);
}

/** `{sqlPort}` when given; a usage error when a PostgreSQL server was chosen too. */
export function sqlPortOf(o: { readonly sqlPort?: number; readonly databaseUrl?: string }): {
  sqlPort?: number;
} {
  if (o.sqlPort === undefined) return {};
  if (o.databaseUrl !== undefined && o.databaseUrl !== '') {
    throw new ClientError(
      'usage_error',
      '--sql-port serves the embedded database only; with --database-url (DATABASE_URL) use psql on the PostgreSQL server directly',
      { sqlPort: o.sqlPort },
    );
  }
  return { sqlPort: o.sqlPort };
}
