// The database backends a store test runs against: always the embedded PGlite (in memory), and a
// PostgreSQL server too when DATABASE_URL is set. On the server every open() creates its own
// database hz_t_<random hex> (so test files running in parallel processes never share one) and
// close() drops it again. Usage:
//
//   for (const backend of testBackends()) {
//     test(`my test (${backend.name})`, async () => {
//       const db = await backend.open();
//       try { ... } finally { await db.close(); }
//     });
//   }

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../src/store/database.js';
import type { Database } from '../../src/store/types.js';

export type TestDatabase = Database & { drop?(): Promise<void> };

export interface TestBackend {
  readonly name: string;
  open(): Promise<TestDatabase>;
}

/** Empties a database for the next test: opening a fresh embedded one takes seconds, this does not. */
export async function resetDatabase(db: Database): Promise<void> {
  await db.query('DROP SCHEMA IF EXISTS chain CASCADE');
  await db.query('DROP SCHEMA IF EXISTS state CASCADE');
}

export function testBackends(): TestBackend[] {
  const backends: TestBackend[] = [{ name: 'pglite', open: () => openDatabase({ memory: true }) }];
  const url = process.env['DATABASE_URL'];
  if (url !== undefined && url !== '')
    backends.push({ name: 'postgres', open: () => openServerDatabase(url) });
  return backends;
}

/** Databases this process created and has not dropped yet (dropped at exit if a test forgot). */
const created = new Map<string, string>();
let exitHookInstalled = false;

async function openServerDatabase(url: string): Promise<TestDatabase> {
  const name = `hz_t_${randomBytes(8).toString('hex')}`;
  // template0 accepts no connections, so creating from it never fails because someone else is
  // connected to the template (which can happen with template1 when tests run in parallel).
  await maintenance(url, `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
  created.set(name, url);
  installExitHook();
  const target = new URL(url);
  target.pathname = `/${name}`;
  let inner: Database;
  try {
    inner = await openDatabase({ databaseUrl: target.toString() });
  } catch (err) {
    await dropDatabase(name);
    throw err;
  }
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await inner.close();
    await dropDatabase(name);
  };
  return {
    kind: inner.kind,
    query: (text, params) => inner.query(text, params),
    transaction: (fn) => inner.transaction(fn),
    close: drop,
    drop,
  };
}

async function dropDatabase(name: string): Promise<void> {
  const url = created.get(name);
  if (url === undefined) return;
  await maintenance(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  created.delete(name);
}

async function maintenance(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // One attempt only: if the server is gone, retrying here would keep the process alive.
  let attempted = false;
  process.on('beforeExit', () => {
    if (attempted || created.size === 0) return;
    attempted = true;
    void Promise.allSettled([...created.keys()].map((n) => dropDatabase(n)));
  });
}
