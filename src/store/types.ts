// The storage interface. PostgreSQL is the system of record: the embedded PGlite and a PostgreSQL
// server sit behind the same `Database` interface and hold the same tables (docs/storage.md).

export interface QueryResult<R> {
  rows: R[];
}

export interface Sql {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
}

export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one database transaction: all of its writes commit, or none. */
  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
