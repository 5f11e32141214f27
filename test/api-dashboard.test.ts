// The read routes of the live dashboard (docs/api.md "Energy": places, market flows, market
// orders) through app.inject, on the embedded database and on a PostgreSQL server when
// DATABASE_URL is set: the exact JSON shapes over rows written into the contracts' tables, the
// limits and cursors, every bad parameter as a bad_request naming it, and every statement the
// routes ran served by a key or an index (planned with sequential scans switched off).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fetchPlaces } from '../src/energy/dashboard-client.js';
import { DashboardDb } from './support/dashboard-db.js';
import { testAddress } from './support/energy-chain.js';
import { testBackends } from './support/test-db.js';

const CTX = testAddress('dashboard context');
const OTHER = testAddress('dashboard other context');
const [A, B, C] = ['a', 'b', 'c'].map((n) => testAddress(`dashboard trader ${n}`)).sort() as [
  string,
  string,
  string,
];
const GONE = testAddress('dashboard removed trader');

async function fixture(d: DashboardDb): Promise<void> {
  await d.insert(
    'energy_traders',
    [A, B, C].map((address, i) => ({ context: CTX, address, added_height: 2 + i })),
  );
  await d.insert('energy_traders', [{ context: OTHER, address: A, added_height: 9 }]);
  await d.insert('energy_places', [
    { context: CTX, member: A, x: 0, y: 10000, label: 'Solar row 3', height: 20 },
    { context: CTX, member: B, x: 5000, y: 250, label: '', height: 21 },
    { context: CTX, member: C, x: 10000, y: 0, label: 'Flat 2', height: 22 },
    { context: CTX, member: GONE, x: 1, y: 1, label: '', height: 23 },
    { context: OTHER, member: A, x: 7, y: 7, label: '', height: 24 },
  ]);
}

for (const backend of testBackends()) {
  describe(`dashboard routes (${backend.name})`, () => {
    let d: DashboardDb;
    before(async () => {
      d = await DashboardDb.open(backend);
      await fixture(d);
    });
    after(async () => {
      await d.close();
    });

    test('GET .../places lists current traders by address, paged by after and limit', async () => {
      d.takeStatements();
      const all = await d.get(`/api/energy/contexts/${CTX}/places`);
      assert.equal(all.status, 200);
      assert.deepEqual(all.body, {
        context: CTX,
        places: [
          { member: A, x: 0, y: 10000, label: 'Solar row 3', height: 20 },
          { member: B, x: 5000, y: 250, label: null, height: 21 },
          { member: C, x: 10000, y: 0, label: 'Flat 2', height: 22 },
        ],
        next: null,
      });
      await d.assertIndexed(d.takeStatements(), ['energy_places', 'energy_traders']);
      const first = await d.get(`/api/energy/contexts/${CTX}/places?limit=2`);
      assert.deepEqual(
        first.body.places.map((p: { member: string }) => p.member),
        [A, B],
      );
      assert.equal(first.body.next, B);
      const second = await d.get(`/api/energy/contexts/${CTX}/places?limit=2&after=${B}`);
      assert.deepEqual(second.body, {
        context: CTX,
        places: [{ member: C, x: 10000, y: 0, label: 'Flat 2', height: 22 }],
        next: null,
      });
      const viaClient = await fetchPlaces(
        { getJson: async (path, query) => (await d.get(withQuery(path, query))).body },
        CTX,
        { limit: 1 },
      );
      assert.equal(viaClient.places.length, 1);
      assert.equal(viaClient.next, A);
    });

    test('GET .../places refuses bad parameters with bad_request naming them', async () => {
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=1001', 'limit'],
        ['limit=abc', 'limit'],
        ['limit=1&limit=2', 'limit'],
        ['after=nope', 'after'],
        ['after=1111111111111111111111111', 'after'],
        ['cursor=1', 'cursor'],
      ] as const) {
        const res = await d.get(`/api/energy/contexts/${CTX}/places?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.body.error.code, 'bad_request', query);
        assert.equal(res.body.error.details.field, field, query);
      }
      const bad = await d.get('/api/energy/contexts/nope/places');
      assert.equal(bad.body.error.details.field, 'context');
    });
  });
}

/** A path with a client's query object, as the client's getJson would send it. */
function withQuery(path: string, query?: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}
