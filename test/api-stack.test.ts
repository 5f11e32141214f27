// The routes of stacked marketplaces (src/stack/http-routes.ts) through app.inject: a server
// without a processor key (a mirror node) answers the signing routes with 404, every bad
// parameter is a bad_request naming its field, and a chain without the energy tables answers
// not_found. The answers of a real child and parent are in test/e2e-stack.test.ts.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createApiServer } from '../src/api/server.js';
import type { ApiServer } from '../src/api/server.js';
import { stackRoutes } from '../src/stack/http-routes.js';
import { openDatabase } from '../src/store/database.js';
import { migrate } from '../src/store/migrations.js';
import type { Database, Sql } from '../src/store/types.js';
import { testAddress } from './support/energy-chain.js';
import { MemoryLedger } from './support/memory-ledger.js';

const CTX = testAddress('stack context');
const MEMBER = testAddress('stack member');

class LedgerWithDatabase extends MemoryLedger {
  constructor(private readonly sql: Sql) {
    super();
  }

  querySql(): Sql {
    return this.sql;
  }
}

let db: Database;
let ledger: LedgerWithDatabase;
let api: ApiServer;

before(async () => {
  db = await openDatabase({ memory: true });
  await migrate(db);
  ledger = new LedgerWithDatabase(db);
  api = await createApiServer(ledger, {
    reportError: () => undefined,
    routes: [stackRoutes(null)],
  });
});

after(async () => {
  await api.close();
  ledger.close();
  await db.close();
});

async function get(url: string): Promise<{
  status: number;
  error: { code: string; message: string; details: Record<string, unknown> };
}> {
  const res = await api.app.inject({ method: 'GET', url });
  return { status: res.statusCode, error: (JSON.parse(res.body) as { error: never }).error };
}

test('a server without a processor key does not sign: 404 not_found', async () => {
  for (const url of [
    `/api/energy/contexts/${CTX}/market/stack/up/1700000100000?parentChain=hz-city`,
    `/api/energy/contexts/${CTX}/market/stack/down/1700000100000?member=${MEMBER}&childChain=hz-n`,
  ]) {
    const res = await get(url);
    assert.equal(res.status, 404, url);
    assert.equal(res.error.code, 'not_found');
    assert.match(res.error.message, /holds no processor key/);
  }
});

test('bad parameters are bad_request naming the field', async () => {
  const cases: [string, string][] = [
    ['/api/energy/stack/parents', 'parentChain'],
    ['/api/energy/stack/parents?parentChain=no%20spaces', 'parentChain'],
    ['/api/energy/stack/parents?parentChain=a&after=x', 'after'],
    ['/api/energy/stack/parents?parentChain=a&limit=0', 'limit'],
    ['/api/energy/stack/parents?parentChain=a&limit=1001', 'limit'],
    [`/api/energy/contexts/${CTX}/market/stack/upstream?state=closed`, 'state'],
    [`/api/energy/contexts/${CTX}/market/stack/upstream?from=-1`, 'from'],
    [`/api/energy/contexts/${CTX}/market/stack/upstream?sort=1`, 'sort'],
    [`/api/energy/contexts/nope/market/stack/members`, 'context'],
    [`/api/energy/contexts/${CTX}/market/stack/members?chain=`, 'chain'],
    [`/api/energy/contexts/${CTX}/market/stack/positions?member=nope`, 'member'],
    [`/api/energy/contexts/${CTX}/market/stack/flows/12x?member=${MEMBER}`, 'periodStartMs'],
    [`/api/energy/contexts/${CTX}/market/stack/flows/0`, 'member'],
    [`/api/energy/contexts/${CTX}/market/stack/residuals/0?x=1`, 'x'],
  ];
  for (const [url, field] of cases) {
    const res = await get(url);
    assert.equal(res.status, 400, url);
    assert.deepEqual([res.error.code, res.error.details['field']], ['bad_request', field], url);
  }
});

test('a chain without the energy tables answers not_found', async () => {
  const res = await get(`/api/energy/contexts/${CTX}/market/stack/upstream`);
  assert.equal(res.status, 404);
  assert.match(res.error.message, /energy contracts are not installed/);
});
