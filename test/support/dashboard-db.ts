// A database for the dashboard's read routes (test/api-dashboard.test.ts), on each test backend:
// the energy tables created as the contracts create them (src/store/contract-tables.ts), rows
// written straight into them, an API server with the energy routes over it, and a recorder of
// every SQL statement the routes ran, so a test can show that each is served by an index.

import assert from 'node:assert/strict';
import { createApiServer } from '../../src/api/server.js';
import type { ApiServer } from '../../src/api/server.js';
import { registerEnergyRoutes } from '../../src/energy/http-routes.js';
import { ENERGY_TABLES } from '../../src/energy/tables.js';
import { createContractTable } from '../../src/store/contract-tables.js';
import { migrate } from '../../src/store/migrations.js';
import type { Sql } from '../../src/store/types.js';
import { MemoryLedger } from './memory-ledger.js';
import type { TestBackend, TestDatabase } from './test-db.js';

interface Statement {
  readonly text: string;
  readonly params: unknown[];
}

/** A fake ledger whose querySql is the database, recording what the routes asked. */
class RecordingLedger extends MemoryLedger {
  readonly statements: Statement[] = [];

  constructor(private readonly sql: Sql) {
    super();
  }

  querySql(): Sql {
    return {
      query: (text, params) => {
        this.statements.push({ text, params: params ?? [] });
        return this.sql.query(text, params);
      },
    };
  }
}

export class DashboardDb {
  private constructor(
    readonly db: TestDatabase,
    readonly api: ApiServer,
    private readonly ledger: RecordingLedger,
  ) {}

  static async open(backend: TestBackend): Promise<DashboardDb> {
    const db = await backend.open();
    await migrate(db);
    for (const [name, def] of Object.entries(ENERGY_TABLES))
      await createContractTable(db, name, def);
    const ledger = new RecordingLedger(db);
    const api = await createApiServer(ledger, {
      reportError: () => undefined,
      routes: [registerEnergyRoutes],
    });
    return new DashboardDb(db, api, ledger);
  }

  /** Inserts rows into state.<table>: each row an object of column values. */
  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    for (const row of rows) {
      const columns = Object.keys(row);
      const values = columns.map((_, i) => `$${i + 1}`);
      await this.db.query(
        `INSERT INTO state.${table} (${columns.join(', ')}) VALUES (${values.join(', ')})`,
        columns.map((c) => {
          const v = row[c];
          return typeof v === 'bigint' ? v.toString() : v;
        }),
      );
    }
  }

  /** Copies every row of the energy tables from `source` (a chain the contracts wrote). */
  async copyFrom(source: Sql): Promise<void> {
    for (const table of Object.keys(ENERGY_TABLES)) {
      const rows = await source.query<Record<string, unknown>>(`SELECT * FROM state.${table}`);
      await this.insert(table, rows.rows);
    }
  }

  /** GET through app.inject: the status and the parsed body. */
  async get(url: string): Promise<{ status: number; body: any }> {
    const res = await this.api.app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: JSON.parse(res.body) as unknown };
  }

  /** The statements run since the last call (and forgets them). */
  takeStatements(): Statement[] {
    return this.ledger.statements.splice(0);
  }

  /**
   * Every statement of `statements` that reads one of `tables`, planned with sequential scans
   * switched off: none may scan those tables whole (an index or key serves each read).
   */
  async assertIndexed(statements: readonly Statement[], tables: readonly string[]): Promise<void> {
    assert.ok(statements.length > 0, 'the route ran no statement');
    await this.db.transaction(async (sql) => {
      await sql.query('SET LOCAL enable_seqscan = off');
      for (const s of statements) {
        const plan = await sql.query<Record<string, string>>(`EXPLAIN ${s.text}`, s.params);
        const text = plan.rows.map((r) => Object.values(r).join(' ')).join('\n');
        for (const table of tables)
          assert.doesNotMatch(text, new RegExp(`Seq Scan on ${table}\\b`), `${s.text}\n${text}`);
      }
    });
  }

  async close(): Promise<void> {
    await this.api.close();
    this.ledger.close();
    await this.db.close();
  }
}
