// Schema creation. Each migration runs once, in order, in one transaction with the record of it
// in chain.schema_version; running them again changes nothing. An advisory lock keeps two
// processes that start together on one server from applying the same migration twice.

import type { Database } from './types.js';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly statements: readonly string[];
}

/** Arbitrary constant naming HanzeNet's migration lock among other advisory locks. */
const MIGRATION_LOCK_ID = 7_031_840_221;

const COMMON_TX_COLUMNS = `
  id bytea PRIMARY KEY CHECK (octet_length(id) = 16),
  bytes bytea NOT NULL,
  contract_hash bytea NOT NULL,
  contract_type text,
  sender text NOT NULL,
  valid_till_ms bigint NOT NULL,
  payload json NOT NULL,
  signature bytea NOT NULL,
  public_key bytea NOT NULL,`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'chain tables and the state schema',
    statements: [
      `CREATE SCHEMA IF NOT EXISTS state`,
      `CREATE TABLE chain.meta (key text PRIMARY KEY, value text NOT NULL)`,
      `CREATE TABLE chain.blocks (
        height bigint PRIMARY KEY CHECK (height >= 0),
        hash bytea NOT NULL UNIQUE,
        previous_hash bytea NOT NULL,
        processed_ms bigint NOT NULL,
        state_digest bytea NOT NULL,
        tx_count int NOT NULL,
        signature bytea NOT NULL,
        bytes bytea NOT NULL
      )`,
      `CREATE TABLE chain.transactions (${COMMON_TX_COLUMNS}
        status text NOT NULL CHECK (status IN ('accepted', 'rejected')),
        code text,
        message text NOT NULL,
        create_ms bigint NOT NULL,
        processed_ms bigint NOT NULL,
        block_height bigint NOT NULL REFERENCES chain.blocks (height),
        position int NOT NULL,
        receiver text,
        UNIQUE (block_height, position)
      )`,
      `CREATE INDEX transactions_sender_ix ON chain.transactions (sender)`,
      `CREATE TABLE chain.invalid_transactions (${COMMON_TX_COLUMNS}
        status text NOT NULL CHECK (status = 'invalid'),
        code text,
        message text NOT NULL,
        create_ms bigint NOT NULL,
        processed_ms bigint NOT NULL,
        block_height bigint,
        position int,
        receiver text
      )`,
      `CREATE INDEX invalid_transactions_sender_ix ON chain.invalid_transactions (sender)`,
      `CREATE TABLE chain.contracts (
        hash bytea PRIMARY KEY,
        type text NOT NULL,
        version text NOT NULL,
        description text NOT NULL,
        template json NOT NULL,
        validana_version int NOT NULL,
        manifest json NOT NULL,
        code text NOT NULL,
        creator text NOT NULL,
        created_height bigint NOT NULL,
        deleted_height bigint
      )`,
    ],
  },
];

/** Applies the migrations this database has not seen yet; returns the versions applied. */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return db.transaction(async (sql) => {
    await sql.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`);
    await sql.query(`CREATE SCHEMA IF NOT EXISTS chain`);
    await sql.query(
      `CREATE TABLE IF NOT EXISTS chain.schema_version (version int PRIMARY KEY, description text NOT NULL, applied_ms bigint NOT NULL)`,
    );
    const { rows } = await sql.query<{ version: number }>(
      `SELECT version FROM chain.schema_version`,
    );
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await sql.query(statement);
      await sql.query(
        `INSERT INTO chain.schema_version (version, description, applied_ms) VALUES ($1, $2, $3)`,
        [migration.version, migration.description, Date.now()],
      );
      applied.push(migration.version);
    }
    return applied;
  });
}
