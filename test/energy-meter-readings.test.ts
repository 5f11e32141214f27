// The Energy contract's optional meter readings (docs/energy.md, "Meter readings"): the first
// reading sets the baseline, every later one must advance the register by exactly |amount| at a
// later time, and a device that sent one reading must keep sending them. Without the fields,
// Energy behaves as in the thesis.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ENERGY_READING_AHEAD_MS_MAX } from '../src/energy/codes.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import {
  EnergyChain,
  balanceTable,
  closeEnergyChains,
  mustAccept,
  testAddress,
} from './support/energy-chain.js';
import type { Outcome } from './support/energy-chain.js';

const OWNER = testAddress('owner');
const A = testAddress('trader A');
const B = testAddress('trader B');
const PRODUCER = testAddress('producer');
const CONSUMER = testAddress('consumer');
const TWO_WAY = testAddress('two-way meter');
const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);

async function market(): Promise<EnergyChain> {
  const chain = await EnergyChain.open({ processedMs: T0 + 3_600_000 });
  const ok = async (type: string, payload: Record<string, unknown>): Promise<void> =>
    mustAccept(await chain.execute(type, OWNER, payload), type);
  await ok('Trader', { context: OWNER, address: A, allowed: true });
  await ok('Trader', { context: OWNER, address: B, allowed: true });
  await ok('Producer', {
    context: OWNER,
    address: PRODUCER,
    allowed: true,
    trader: A,
    labels: ['solar'],
  });
  await ok('Consumer', { context: OWNER, address: CONSUMER, allowed: true, trader: B, labels: [] });
  await ok('Producer', { context: OWNER, address: TWO_WAY, allowed: true, trader: A, labels: [] });
  await ok('Consumer', { context: OWNER, address: TWO_WAY, allowed: true, trader: A, labels: [] });
  return chain;
}

function energy(
  chain: EnergyChain,
  sender: string,
  fields: Record<string, unknown>,
): Promise<Outcome> {
  return chain.execute('Energy', sender, { context: OWNER, ...fields });
}

async function assertRejectedNoChange(
  chain: EnergyChain,
  sender: string,
  fields: Record<string, unknown>,
  code: string,
  parts: readonly string[] = [],
): Promise<void> {
  const before = await chain.snapshot();
  const outcome = await energy(chain, sender, fields);
  assert.equal(outcome.status, 'rejected', JSON.stringify(outcome));
  if (outcome.status !== 'rejected') return;
  assert.equal(outcome.code, code, outcome.message);
  for (const part of parts)
    assert.ok(outcome.message.includes(part), `message "${outcome.message}" lacks "${part}"`);
  assert.equal(await chain.snapshot(), before, `rejected with ${code} but changed the state`);
}

/** The stored readings, one sorted line each (P producer, C consumer, W the two-way meter). */
async function readings(chain: EnergyChain): Promise<string[]> {
  return (await chain.rows('energy_meter_readings'))
    .map(
      (r) =>
        `${r['address'] === PRODUCER ? 'P' : r['address'] === CONSUMER ? 'C' : 'W'} ${r['direction']} ${r['register_wh']} ${r['reading_ms']}`,
    )
    .sort();
}

async function totalWh(chain: EnergyChain, trader: string): Promise<bigint> {
  return (await balanceTable(chain, OWNER))
    .filter((r) => r.trader === trader)
    .reduce((sum, r) => sum + r.wh, 0n);
}

after(closeEnergyChains);

describe('Energy with meter readings', () => {
  test('the template adds optional register, readingMs and sinceMs; the table is defined by Energy', async () => {
    const def = ENERGY_CONTRACTS.find((c) => c.type === 'Energy');
    assert.ok(def);
    assert.deepEqual(
      Object.fromEntries(Object.entries(def.template).map(([k, f]) => [k, f.type])),
      {
        context: 'addr',
        amount: 'kwh',
        register: 'kwh?',
        readingMs: 'uint?',
        sinceMs: 'uint?',
      },
    );
    assert.ok('energy_meter_readings' in def.manifest.tables);
    assert.match(
      def.execute.toString(),
      new RegExp(`READING_AHEAD_MS_MAX = ${ENERGY_READING_AHEAD_MS_MAX}n;`),
    );
  });

  test('first reading sets the baseline; later readings advance by exactly the amount', async () => {
    const chain = await market();
    mustAccept(
      await energy(chain, PRODUCER, { amount: '0.250', register: '1000.250', readingMs: T0 }),
    );
    mustAccept(
      await energy(chain, PRODUCER, {
        amount: '0.125',
        register: '1000.375',
        readingMs: T0 + 900_000,
        sinceMs: T0,
      }),
    );
    mustAccept(
      await energy(chain, CONSUMER, { amount: '-0.5', register: '2500.5', readingMs: T0 + 10_000 }),
    );
    mustAccept(
      await energy(chain, CONSUMER, {
        amount: '-0.001',
        register: '2500.501',
        readingMs: T0 + 20_000,
      }),
    );
    assert.deepEqual(
      await readings(chain),
      [`C delivered 2500501 ${T0 + 20_000}`, `P returned 1000375 ${T0 + 900_000}`].sort(),
    );
    assert.equal(await totalWh(chain, A), 375n);
    assert.equal(await totalWh(chain, B), -501n);
    const row = (await chain.rows('energy_meter_readings')).find((r) => r['address'] === PRODUCER);
    assert.equal(row?.['height'], 100n);
    assert.match(String(row?.['tx_id']), /^[0-9a-f]{32}$/);
  });

  test('a resubmitted reading is refused, whatever its transaction id', async () => {
    const chain = await market();
    const reading = { amount: 1, register: 5001, readingMs: T0 };
    mustAccept(await energy(chain, PRODUCER, reading));
    await chain.nextBlock();
    await assertRejectedNoChange(chain, PRODUCER, reading, 'reading_not_newer', [
      `at ${T0} is not after its last reading at ${T0}`,
    ]);
    // A gateway that lost its state and counts the same advance again, at a later time:
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, register: 5001, readingMs: T0 + 10_000 },
      'register_mismatch',
      ['expected register 5002 kWh, got 5001 kWh'],
    );
    assert.equal(await totalWh(chain, A), 1000n);
  });

  test('register_mismatch names the expected and the received register', async () => {
    const chain = await market();
    mustAccept(await energy(chain, CONSUMER, { amount: '-1', register: '100', readingMs: T0 }));
    await assertRejectedNoChange(
      chain,
      CONSUMER,
      { amount: '-1', register: '100.999', readingMs: T0 + 1000 },
      'register_mismatch',
      ['was 100 kWh', 'expected register 101 kWh, got 100.999 kWh'],
    );
    await assertRejectedNoChange(
      chain,
      CONSUMER,
      { amount: '-2', register: '101', readingMs: T0 + 1000 },
      'register_mismatch',
      ['expected register 102 kWh'],
    );
    // Skipping energy is refused as well as counting it twice.
    await assertRejectedNoChange(
      chain,
      CONSUMER,
      { amount: '-1', register: '102', readingMs: T0 + 1000 },
      'register_mismatch',
    );
    mustAccept(
      await energy(chain, CONSUMER, { amount: '-2', register: '102', readingMs: T0 + 1000 }),
    );
  });

  test('the first reading may claim at most its register', async () => {
    const chain = await market();
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: '10.001', register: '10', readingMs: T0 },
      'register_mismatch',
      ['expected at most the register'],
    );
    mustAccept(await energy(chain, PRODUCER, { amount: '10', register: '10', readingMs: T0 }));
  });

  test('time: readings must be newer, sinceMs not before the last, not dated ahead of the block', async () => {
    const chain = await market();
    mustAccept(await energy(chain, PRODUCER, { amount: 1, register: 10, readingMs: T0 }));
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, register: 11, readingMs: T0 - 1 },
      'reading_not_newer',
    );
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, register: 11, readingMs: T0 + 5000, sinceMs: T0 - 1 },
      'reading_not_newer',
      ['stood still since'],
    );
    const aheadMs = chain.processedMs + ENERGY_READING_AHEAD_MS_MAX;
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, register: 11, readingMs: aheadMs + 1 },
      'reading_in_future',
    );
    mustAccept(
      await energy(chain, PRODUCER, { amount: 1, register: 11, readingMs: aheadMs, sinceMs: T0 }),
    );
  });

  test('incomplete or inconsistent readings are meter_reading_invalid', async () => {
    const chain = await market();
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, register: 10 },
      'meter_reading_invalid',
      ['no readingMs'],
    );
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, readingMs: T0 },
      'meter_reading_invalid',
      ['no register'],
    );
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, sinceMs: T0 },
      'meter_reading_invalid',
    );
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, register: -10, readingMs: T0 },
      'meter_reading_invalid',
      ['must not be negative'],
    );
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 1, register: 10, readingMs: T0, sinceMs: T0 },
      'meter_reading_invalid',
      ['must be before readingMs'],
    );
    // The device checks come first.
    await assertRejectedNoChange(
      chain,
      CONSUMER,
      { amount: 1, register: 10, readingMs: T0 },
      'sender_not_producer',
    );
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 0, register: 10, readingMs: T0 },
      'amount_zero',
    );
  });

  test('payload types: register is kwh with at most 3 decimals, readingMs a uint', async () => {
    const chain = await market();
    assert.equal(
      (await energy(chain, PRODUCER, { amount: 1, register: '10.0001', readingMs: T0 })).status,
      'invalid',
    );
    assert.equal(
      (await energy(chain, PRODUCER, { amount: 1, register: 10, readingMs: -1 })).status,
      'invalid',
    );
    assert.equal(
      (await energy(chain, PRODUCER, { amount: 1, register: 10, readingMs: '1' })).status,
      'invalid',
    );
  });

  test('after a reading, the device must keep sending readings in that direction (register_required)', async () => {
    const chain = await market();
    mustAccept(await energy(chain, PRODUCER, { amount: 1 }));
    mustAccept(await energy(chain, PRODUCER, { amount: 1, register: 10, readingMs: T0 }));
    await assertRejectedNoChange(chain, PRODUCER, { amount: 1 }, 'register_required', [
      'returned register',
    ]);
    // Another device, and the other direction of a two-way key, are not affected.
    mustAccept(await energy(chain, CONSUMER, { amount: -1 }));
    mustAccept(await energy(chain, TWO_WAY, { amount: 3, register: 30, readingMs: T0 }));
    mustAccept(await energy(chain, TWO_WAY, { amount: -4 }));
    mustAccept(await energy(chain, TWO_WAY, { amount: -4, register: 4, readingMs: T0 }));
    await assertRejectedNoChange(chain, TWO_WAY, { amount: -4 }, 'register_required', [
      'delivered register',
    ]);
    assert.deepEqual(await readings(chain), [
      `P returned 10000 ${T0}`,
      `W delivered 4000 ${T0}`,
      `W returned 30000 ${T0}`,
    ]);
  });

  test('without the fields Energy is the thesis contract: no reading is stored', async () => {
    const chain = await market();
    mustAccept(await energy(chain, PRODUCER, { amount: 10 }));
    mustAccept(await energy(chain, PRODUCER, { amount: 10 }));
    mustAccept(await energy(chain, CONSUMER, { amount: -15 }));
    assert.deepEqual(await chain.rows('energy_meter_readings'), []);
    assert.equal(await totalWh(chain, A), 20_000n);
    assert.equal(await totalWh(chain, B), -15_000n);
  });

  test('a rejected balance change stores no reading', async () => {
    const chain = await market();
    mustAccept(await energy(chain, PRODUCER, { amount: 1, register: 100, readingMs: T0 }));
    // Bring A's solar balance of this period to the limit of 10^15 Wh with the owner's Mutate.
    const mutates = Array.from({ length: 1000 }, (_, i) => ({
      type: 'Mutate',
      sender: OWNER,
      payload: {
        context: OWNER,
        trader: A,
        block: chain.height,
        labels: ['solar'],
        amount: i === 0 ? '999999999' : '1000000000',
      },
    }));
    for (const outcome of await chain.executeAll(mutates)) mustAccept(outcome, 'Mutate');
    await assertRejectedNoChange(
      chain,
      PRODUCER,
      { amount: 2, register: 102, readingMs: T0 + 1000 },
      'balance_limit_exceeded',
    );
    assert.deepEqual(await readings(chain), [`P returned 100000 ${T0}`]);
  });
});
