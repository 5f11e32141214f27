// How fast the dashboard's reads answer for a context of 1,000 households (issue 15: "its API
// calls answer in milliseconds"): a day of 96 settled quarter hours written straight into the
// contracts' tables (places, 3,000 flows and 1,000 statements per period, 2,000 standing orders,
// prices and clearings), then each read asked through the API server (app.inject, no network)
// `--repeat` times after one warm-up; the median and the slowest are printed as JSON.
//
//   node dist/bench/dashboard-reads.js                       (embedded PGlite in memory)
//   node dist/bench/dashboard-reads.js --database-url postgres://postgres@127.0.0.1:5432/test
//       (creates a database hz_bench_dash_<hex> on that server and drops it afterwards)

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createApiServer } from '../src/api/server.js';
import { PrivateKey } from '../src/core/keys.js';
import { registerEnergyRoutes } from '../src/energy/http-routes.js';
import { ENERGY_TABLES } from '../src/energy/tables.js';
import { createContractTable } from '../src/store/contract-tables.js';
import { openDatabase } from '../src/store/database.js';
import { migrate } from '../src/store/migrations.js';
import type { Database } from '../src/store/types.js';
import { MemoryLedger } from '../test/support/memory-ledger.js';

const HOUSEHOLDS = 1000;
const PERIODS = 96;
const QUARTER_MS = 900_000;
const DAY0 = Date.UTC(2026, 5, 1);

class LedgerWithDatabase extends MemoryLedger {
  constructor(private readonly db: Database) {
    super();
  }
  querySql(): Database {
    return this.db;
  }
}

export async function fill(db: Database, context: string, traders: string[]): Promise<void> {
  for (const [name, def] of Object.entries(ENERGY_TABLES)) await createContractTable(db, name, def);
  const t = `(SELECT unnest($2::text[]) AS trader, generate_subscripts($2::text[], 1) AS i)`;
  await db.query(`INSERT INTO state.energy_traders SELECT $1, trader, i FROM ${t} x`, [
    context,
    traders,
  ]);
  await db.query(
    `INSERT INTO state.energy_places SELECT $1, trader, (i * 37) % 10001, (i * 91) % 10001, 'No. ' || i, 10 + i FROM ${t} x`,
    [context, traders],
  );
  await db.query(
    `INSERT INTO state.energy_market_settings VALUES ($1, true, 900000, 60000, true, true, 5)`,
    [context],
  );
  await db.query(
    `INSERT INTO state.energy_market_periods
       SELECT $1, $2::bigint + p * 900000, $2::bigint + (p + 1) * 900000, true, 20 FROM generate_series(0, $3 - 1) p`,
    [context, DAY0, PERIODS],
  );
  await db.query(
    `INSERT INTO state.energy_market_prices
       SELECT $1, $2::bigint + p * 900000, 150000, 300000, 50000, 6 FROM generate_series(0, $3 - 1) p`,
    [context, DAY0, PERIODS],
  );
  await db.query(
    `INSERT INTO state.energy_market_clearings
       SELECT $1, $2::bigint + p * 900000, '', '{}', 120000, 400000 FROM generate_series(0, $3 - 1) p`,
    [context, DAY0, PERIODS],
  );
  // Three flows per household and period: own use, an auction sale to the next household, supply.
  await db.query(
    `INSERT INTO state.energy_market_flows
       SELECT $1, $3::bigint + p * 900000, (x.i - 1) * 3 + k,
              (ARRAY['own', 'auction', 'supply'])[k + 1],
              CASE k WHEN 2 THEN $1 ELSE x.trader END,
              CASE k WHEN 1 THEN ($2::text[])[(x.i % $4) + 1] ELSE x.trader END,
              CASE k WHEN 2 THEN '{}'::text[] ELSE '{solar}'::text[] END,
              100 + k, 120000, (100 + k) * 120000, $3::bigint + p * 900000, 30 + p
         FROM ${t} x, generate_series(0, $5 - 1) p, generate_series(0, 2) k`,
    [context, traders, DAY0, HOUSEHOLDS, PERIODS],
  );
  await db.query(
    `INSERT INTO state.energy_market_statements
       SELECT $1, $3::bigint + p * 900000, x.trader, 300, 250, 100, 101, 12120000, 101, 12120000,
              102, 30600000, 0, 0, 0, 0, 0, 0, 0, 0, 30600000
         FROM ${t} x, generate_series(0, $4 - 1) p`,
    [context, traders, DAY0, PERIODS],
  );
  // Two standing orders per household over the whole day and the day after.
  await db.query(
    `INSERT INTO state.energy_market_orders
       SELECT $1, side, CASE side WHEN 'sell' THEN 100000 + x.i ELSE 10000000 - 200000 - x.i END,
              x.i * 2 + (side = 'sell')::int, md5(side || x.i), x.trader,
              CASE side WHEN 'sell' THEN 100000 + x.i ELSE 200000 + x.i END, -1, '{}', $3::bigint,
              $3::bigint + 2 * 86400000 - 900000, 8
         FROM ${t} x, unnest(ARRAY['buy', 'sell']) side`,
    [context, traders, DAY0],
  );
  await db.query('ANALYZE');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      repeat: { type: 'string', default: '20' },
    },
  });
  const repeat = Number(values.repeat);
  const base = values['database-url'];
  let db: Database;
  let drop = async (): Promise<void> => {};
  if (base === undefined) db = await openDatabase({ memory: true });
  else {
    const name = `hz_bench_dash_${randomBytes(6).toString('hex')}`;
    const admin = async (sql: string): Promise<void> => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    };
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    db = await openDatabase({ databaseUrl: url.toString() });
    drop = () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  const context = PrivateKey.generate().address;
  const traders = Array.from({ length: HOUSEHOLDS }, () => PrivateKey.generate().address).sort();
  await migrate(db);
  await fill(db, context, traders);
  const ledger = new LedgerWithDatabase(db);
  const api = await createApiServer(ledger, {
    reportError: () => undefined,
    routes: [registerEnergyRoutes],
  });
  const c = `/api/energy/contexts/${context}`;
  const last = DAY0 + (PERIODS - 1) * QUARTER_MS;
  const reads: Record<string, string> = {
    places: `${c}/places`,
    'flows of one period': `${c}/market/flows?from=${last}&to=${last + QUARTER_MS}`,
    'flows, first 10000 of the day': `${c}/market/flows?from=${DAY0}`,
    'orders of the last period': `${c}/market/orders?period=last`,
    'orders of a period': `${c}/market/orders?period=${last}`,
    'figures of the day per period': `${c}/market/figures?from=${DAY0}&to=${DAY0 + 86_400_000}`,
    'figures of the day': `${c}/market/figures?from=${DAY0}&group=day&tz=Europe/Amsterdam`,
    "a household's statements of the day": `${c}/market/statements?trader=${traders[500]}&from=${DAY0}`,
    'context (members)': c,
  };
  const out: Record<string, { medianMs: number; maxMs: number; bytes: number }> = {};
  for (const [name, url] of Object.entries(reads)) {
    const first = await api.app.inject({ method: 'GET', url });
    if (first.statusCode !== 200)
      throw new Error(`${name}: ${first.statusCode} ${first.body.slice(0, 300)}`);
    const times: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      await api.app.inject({ method: 'GET', url });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    out[name] = {
      medianMs: round(times[Math.floor(times.length / 2)] ?? 0),
      maxMs: round(times[times.length - 1] ?? 0),
      bytes: first.body.length,
    };
  }
  await api.close();
  ledger.close();
  await db.close();
  await drop();
  process.stdout.write(
    `${JSON.stringify({ database: base === undefined ? 'pglite' : 'postgres', households: HOUSEHOLDS, periods: PERIODS, repeat, reads: out }, null, 1)}\n`,
  );
}

if (process.argv[1]?.endsWith('dashboard-reads.js')) await main();
