// Place on the real engine (test/support/energy-chain.ts): the owner places a trader on the
// community map and moves it; a non-owner, an unknown member, a coordinate outside 0..10000 and
// a bad label are rejected with their codes and change nothing.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { placePayload } from '../src/energy/places.js';
import { ChainError } from '../src/core/errors.js';
import { EnergyChain, closeEnergyChains, testAddress } from './support/energy-chain.js';
import { ANNA, BERT, Community } from './support/market-community.js';

after(closeEnergyChains);

async function placesOf(c: Community): Promise<string[]> {
  return (await c.rows('energy_places'))
    .map(
      (r) => `${r['member'] === ANNA ? 'anna' : r['member']} ${r['x']},${r['y']} "${r['label']}"`,
    )
    .sort();
}

test('the owner places a trader, and a second Place moves it and replaces its label', async () => {
  const chain = await EnergyChain.open();
  const c = await Community.open(chain, 'place owner', { market: false });
  await c.accept('Place', c.owner, { member: ANNA, x: 1200, y: 10000, label: 'Solar row 3' });
  assert.deepEqual(await placesOf(c), ['anna 1200,10000 "Solar row 3"']);
  await c.accept('Place', c.owner, { member: ANNA, x: 0, y: 35 });
  assert.deepEqual(await placesOf(c), ['anna 0,35 ""']);
  const row = (await c.rows('energy_places'))[0];
  assert.equal(row?.['height'], BigInt(chain.height));
});

test('Place rejects a non-owner, an unknown member, out-of-range values and bad labels', async () => {
  const chain = await EnergyChain.open();
  const c = await Community.open(chain, 'place owner 2', { market: false });
  await c.accept('Place', c.owner, { member: BERT, x: 5, y: 5 });
  await c.reject('Place', BERT, { member: BERT, x: 6, y: 6 }, 'not_context_owner');
  await c.reject(
    'Place',
    c.owner,
    { member: testAddress('not a trader'), x: 1, y: 1 },
    'trader_not_found',
  );
  await c.reject('Place', c.owner, { member: ANNA, x: 10001, y: 0 }, 'place_out_of_range');
  await c.reject('Place', c.owner, { member: ANNA, x: 0, y: 10001 }, 'place_out_of_range');
  await c.reject(
    'Place',
    c.owner,
    { member: ANNA, x: 1, y: 1, label: 'x'.repeat(33) },
    'place_label_invalid',
  );
  await c.reject(
    'Place',
    c.owner,
    { member: ANNA, x: 1, y: 1, label: 'a\nb' },
    'place_label_invalid',
  );
  // 32 characters is the most.
  await c.accept('Place', c.owner, { member: ANNA, x: 1, y: 1, label: 'é'.repeat(32) });
  // A negative or fractional coordinate is not a uint: the template refuses it before the code runs.
  const outcome = await c.call('Place', c.owner, { member: ANNA, x: -1, y: 1 });
  assert.equal(outcome.status, 'invalid');
  if (outcome.status === 'invalid') assert.equal(outcome.code, 'payload_invalid');
});

test('placePayload checks what the contract checks before anything is signed', () => {
  const base = { context: ANNA, member: BERT, x: 0, y: 10000 };
  assert.deepEqual(placePayload({ ...base, label: 'ok' }), { ...base, label: 'ok' });
  const field = (input: Parameters<typeof placePayload>[0]): unknown => {
    try {
      placePayload(input);
    } catch (err) {
      assert.ok(err instanceof ChainError);
      assert.equal(err.code, 'bad_request');
      return err.details['field'];
    }
    return null;
  };
  assert.equal(field({ ...base, x: 10001 }), 'x');
  assert.equal(field({ ...base, y: 1.5 }), 'y');
  assert.equal(field({ ...base, label: 'y'.repeat(33) }), 'label');
  assert.equal(field({ ...base, label: 'tab\there' }), 'label');
  assert.equal(field({ ...base, member: 'nope' }), 'member');
});
