// The role SQL port queries run as. The port's connections use the embedded database's one session,
// whose user is the superuser; each query sets this role for its transaction (SET LOCAL ROLE), so
// what PostgreSQL keeps from ordinary users is kept from psql too: the server administration
// functions (replication slots, WAL switches, backups, statistics resets, signals) and the
// server's files. pg_read_all_data lets it read every table, pg_read_all_settings and
// pg_read_all_stats every setting and statistic. Changing the role back would take set_config,
// which the statement check refuses.

import type { Sql } from '../types.js';

export const SQL_READER_ROLE = 'hanzenet_sql_reader';

/**
 * Creates the role when it is missing, with its read grants (roles live outside the chain's
 * schemas: nothing the chain stores or digests changes). Runs when the port starts.
 */
export async function ensureReaderRole(db: Sql): Promise<void> {
  await db.query(`DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${SQL_READER_ROLE}') THEN
      CREATE ROLE ${SQL_READER_ROLE} NOLOGIN;
    END IF;
  END $$`);
  await db.query(
    `GRANT pg_read_all_data, pg_read_all_settings, pg_read_all_stats TO ${SQL_READER_ROLE}`,
  );
}
