// The energy contracts, rule by rule: every reject code asserted exactly, the thesis' example
// (6.3) step by step with every balance table, settlement periods, and isolation of contexts.

import { CHAIN_ID_PATTERN } from '../src/chain/genesis.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { formatWh } from '../src/core/amount.js';
import type { ContractDefinition } from '../src/contracts/authoring/define.js';
import { packContract } from '../src/contracts/authoring/pack.js';
import {
  ENERGY_BALANCE_WH_MAX,
  ENERGY_DESCRIPTION_CHARS_MAX,
  ENERGY_REJECT_CODES,
  PLACE_COORDINATE_MAX,
  PLACE_LABEL_CHARS_MAX,
} from '../src/energy/codes.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import { ENERGY_TABLES } from '../src/energy/tables.js';
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
const C = testAddress('trader C');
const PRODUCER = testAddress('producer');
const CONSUMER = testAddress('consumer');
const STRANGER = testAddress('stranger');
const NAMES = new Map([
  [OWNER, 'Owner'],
  [A, 'A'],
  [B, 'B'],
  [C, 'C'],
  [PRODUCER, 'Producer'],
  [CONSUMER, 'Consumer'],
]);
const THESIS_DESCRIPTION =
  'Energy supplied by external party, you will be billed for this at the end of the month';
const MINUTE_MS = 60_000;

/** The balance overview of a context, one "trader block labels kWh" line each, as in thesis 6.3. */
async function overview(chain: EnergyChain, context = OWNER): Promise<string[]> {
  return (await balanceTable(chain, context))
    .map(
      (r) =>
        `${NAMES.get(r.trader) ?? r.trader} ${r.block} ${r.labels.length === 0 ? '(none)' : r.labels.join(',')} ${formatWh(r.wh)}`,
    )
    .sort();
}

function assertRejected(
  outcome: Outcome,
  code: string,
  messageParts: readonly string[] = [],
): void {
  assert.equal(outcome.status, 'rejected', `expected ${code}, got ${JSON.stringify(outcome)}`);
  if (outcome.status !== 'rejected') return;
  assert.equal(outcome.code, code, outcome.message);
  for (const part of messageParts)
    assert.ok(outcome.message.includes(part), `message "${outcome.message}" lacks "${part}"`);
}

/** Runs a call that must be rejected with `code` and checks that no table changed. */
async function assertRejectedNoChange(
  chain: EnergyChain,
  type: string,
  sender: string,
  payload: Record<string, unknown>,
  code: string,
  parts: readonly string[] = [],
): Promise<void> {
  const before = await chain.snapshot();
  assertRejected(await chain.execute(type, sender, payload), code, parts);
  assert.equal(
    await chain.snapshot(),
    before,
    `${type} rejected with ${code} but changed the state`,
  );
}

async function ok(
  chain: EnergyChain,
  type: string,
  sender: string,
  payload: Record<string, unknown>,
): Promise<void> {
  mustAccept(
    await chain.execute(type, sender, payload),
    `${type} by ${NAMES.get(sender) ?? sender}`,
  );
}

/** `count` times the same call, all accepted, in the open block (executed once: see executeAll). */
async function okTimes(
  chain: EnergyChain,
  count: number,
  type: string,
  sender: string,
  payload: Record<string, unknown>,
): Promise<void> {
  const outcomes = await chain.executeAll(
    Array.from({ length: count }, () => ({ type, sender, payload })),
  );
  for (const outcome of outcomes) mustAccept(outcome, `${type} by ${NAMES.get(sender) ?? sender}`);
}

/** A context with traders A and B, a "solar" producer for A and an unlabelled consumer for B. */
async function market(
  options: { height?: number; processedMs?: number } = {},
): Promise<EnergyChain> {
  const chain = await EnergyChain.open(options);
  await ok(chain, 'Trader', OWNER, { context: OWNER, address: A, allowed: true });
  await ok(chain, 'Trader', OWNER, { context: OWNER, address: B, allowed: true });
  await ok(chain, 'Producer', OWNER, {
    context: OWNER,
    address: PRODUCER,
    allowed: true,
    trader: A,
    labels: ['solar'],
  });
  await ok(chain, 'Consumer', OWNER, {
    context: OWNER,
    address: CONSUMER,
    allowed: true,
    trader: B,
    labels: [],
  });
  return chain;
}

/** The contract's code as it goes on chain: execute with the shared helpers it declares. */
function packedCode(def: ContractDefinition): string {
  return Buffer.from(packContract(def).payload.code, 'base64').toString('utf8');
}

after(closeEnergyChains);

describe('contract definitions', () => {
  test('nineteen contracts in installation order, each defined once', async () => {
    assert.deepEqual(
      ENERGY_CONTRACTS.map((c) => c.type),
      [
        'Trader',
        'Producer',
        'Consumer',
        'SettlementPeriod',
        'Market',
        'Energy',
        'MarketPrices',
        'Order',
        'CancelOrder',
        'MarketParent',
        'SettlePeriod',
        'Transfer',
        'Reduce',
        'Mutate',
        'MarketCorrection',
        'MarketMember',
        'MemberPosition',
        'UpstreamSettlement',
        'Place',
      ],
    );
  });

  test('execute is a self-contained function expression', async () => {
    for (const def of ENERGY_CONTRACTS) {
      const source = packedCode(def);
      assert.match(source, /^function execute\(payload, ctx\) \{/, def.type);
      for (const banned of [
        /\bDate\b/,
        /\bMath\.random\b/,
        /\brequire\s*\(/,
        /\bimport\b/,
        /\bglobalThis\b/,
        /\bprocess\b/,
        /\beval\b/,
        /\bFunction\s*\(/,
        /\btry\b/,
      ]) {
        assert.doesNotMatch(source, banned, `${def.type} execute uses ${String(banned)}`);
      }
    }
  });

  test('helpers copied into several contracts are identical everywhere', async () => {
    // The code on chain must be self-contained, so the packer copies each declared helper
    // (src/energy/helpers.ts) into every contract's code; this keeps the copies the same.
    const expected: Record<string, string[]> = {
      kwh: [
        'Energy',
        'Order',
        'Transfer',
        'Reduce',
        'Mutate',
        'MarketCorrection',
        'MemberPosition',
        'UpstreamSettlement',
      ],
      labelText: ['Transfer', 'Reduce', 'MemberPosition', 'UpstreamSettlement'],
      priceUeur: ['MarketPrices', 'Order', 'UpstreamSettlement'],
      shareByWeight: ['Energy', 'SettlePeriod', 'UpstreamSettlement'],
      periodStartingAt: ['Transfer', 'Reduce', 'Mutate'],
      planBalanceChange: ['Energy', 'Transfer', 'Reduce', 'Mutate'],
      applyBalanceChange: ['Energy', 'Transfer', 'Reduce', 'Mutate'],
    };
    for (const [name, types] of Object.entries(expected)) {
      const copies = new Map<string, string>();
      for (const def of ENERGY_CONTRACTS) {
        const m = new RegExp(`^( *)function ${name}\\([\\s\\S]*?^\\1}$`, 'm').exec(packedCode(def));
        if (m !== null) copies.set(def.type, m[0]);
      }
      assert.deepEqual([...copies.keys()], types, name);
      assert.equal(
        new Set(copies.values()).size,
        1,
        `${name} differs between ${[...copies.keys()].join(', ')}`,
      );
    }
  });

  test('limits written as literals in the contracts match codes.ts', async () => {
    for (const def of ENERGY_CONTRACTS) {
      const source = def.execute.toString();
      for (const m of source.matchAll(/BALANCE_WH_MAX = (\d+)n;/g))
        assert.equal(BigInt(m[1] ?? ''), ENERGY_BALANCE_WH_MAX, def.type);
      for (const m of source.matchAll(/DESCRIPTION_CHARS_MAX = (\d+);/g))
        assert.equal(Number(m[1]), ENERGY_DESCRIPTION_CHARS_MAX, def.type);
      for (const m of source.matchAll(/COORDINATE_MAX = (\d+);/g))
        assert.equal(Number(m[1]), PLACE_COORDINATE_MAX, def.type);
      for (const m of source.matchAll(/LABEL_CHARS_MAX = (\d+);/g))
        assert.equal(Number(m[1]), PLACE_LABEL_CHARS_MAX, def.type);
      for (const m of source.matchAll(/(\/\^\[A-Za-z0-9[^/]*\/)\.test/g))
        assert.equal(m[1], String(CHAIN_ID_PATTERN), def.type);
    }
    const chainIdChecks = ENERGY_CONTRACTS.filter((d) =>
      d.execute.toString().includes(String(CHAIN_ID_PATTERN)),
    ).map((d) => d.type);
    assert.deepEqual(chainIdChecks, ['MarketParent', 'MarketMember']);
  });

  test('manifests use the shared table definitions; every read table is defined earlier', async () => {
    const defined = new Set<string>();
    for (const def of ENERGY_CONTRACTS) {
      for (const [name, table] of Object.entries(def.manifest.tables)) {
        assert.equal(table, ENERGY_TABLES[name], `${def.type} ${name}`);
        defined.add(name);
      }
      for (const name of def.manifest.reads)
        assert.ok(defined.has(name), `${def.type} reads ${name} before it is defined`);
    }
    assert.deepEqual([...defined].sort(), Object.keys(ENERGY_TABLES).sort());
    for (const name of Object.keys(ENERGY_TABLES)) assert.match(name, /^energy_[a-z_]+$/);
  });

  test('templates use only the platform types', async () => {
    const known = /^(bool|int|uint|float|addr|hex|hash|str|json|kwh|labels)(Array)?\??$/;
    for (const def of ENERGY_CONTRACTS) {
      for (const [key, field] of Object.entries(def.template)) {
        assert.match(field.type, known, `${def.type}.${key}`);
        assert.equal(field.name, key);
      }
    }
  });

  // The compiler holds every ctx.reject call to its contract's `rejects` (test/energy-reject-codes.test.ts
  // shows a misspelt code failing the build), and `rejects` to the catalogue. What is left to check
  // at run time: every catalogued code is declared by some contract, and no contract declares a
  // code its execute never uses.
  test('every catalogued reject code is declared by a contract that uses it, and documented', async () => {
    const declared = new Set<string>();
    for (const def of ENERGY_CONTRACTS) {
      assert.ok(
        def.rejects !== undefined && def.rejects.length > 0,
        `${def.type} declares no reject codes`,
      );
      for (const code of def.rejects) {
        declared.add(code);
        assert.ok(
          def.execute.toString().includes(`'${code}'`),
          `${def.type} declares ${code} but its execute never uses it`,
        );
      }
    }
    assert.deepEqual([...declared].sort(), Object.keys(ENERGY_REJECT_CODES).sort());
    const docs = readFileSync(new URL('../../docs/energy.md', import.meta.url), 'utf8');
    for (const code of Object.keys(ENERGY_REJECT_CODES))
      assert.ok(docs.includes(`\`${code}\``), `docs/energy.md lacks ${code}`);
    for (const table of Object.keys(ENERGY_TABLES))
      assert.ok(docs.includes(table), `docs/energy.md lacks ${table}`);
  });
});

describe('the thesis example (6.3), step by step', () => {
  test('traders, devices, energy, transfer, reduce, mutate', async () => {
    const chain = await EnergyChain.open({ height: 98 });
    // First, the owner sets up a context with two traders, a producer and a consumer.
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: A, allowed: true });
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: B, allowed: true });
    await chain.nextBlock();
    await ok(chain, 'Producer', OWNER, {
      context: OWNER,
      address: PRODUCER,
      allowed: true,
      trader: A,
      labels: ['solar'],
    });
    await ok(chain, 'Consumer', OWNER, {
      context: OWNER,
      address: CONSUMER,
      allowed: true,
      trader: B,
      labels: [],
    });
    assert.deepEqual(await overview(chain), []);

    // The producer and consumer record energy in block 100.
    await chain.nextBlock();
    assert.equal(chain.height, 100);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 10 });
    await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: -15 });
    assert.deepEqual(await overview(chain), ['A 100 solar 10', 'B 100 (none) -15']);

    // A transfers its 10 solar to B: A's balance is zero and disappears from the overview.
    await chain.nextBlock();
    await ok(chain, 'Transfer', A, {
      context: OWNER,
      receiver: B,
      block: 100,
      labels: ['solar'],
      amount: 10,
    });
    assert.deepEqual(await overview(chain), ['B 100 (none) -15', 'B 100 solar 10']);

    // B removes the "solar" label: the 10 join its unlabelled -15.
    await chain.nextBlock();
    await ok(chain, 'Reduce', B, {
      context: OWNER,
      block: 100,
      originalLabels: ['solar'],
      amount: 10,
      labelsToRemove: ['solar'],
    });
    assert.deepEqual(await overview(chain), ['B 100 (none) -5']);

    // The owner settles B's deficit with energy from an external supplier.
    await chain.nextBlock();
    await ok(chain, 'Mutate', OWNER, {
      context: OWNER,
      trader: B,
      block: 100,
      labels: [],
      amount: 5,
      description: THESIS_DESCRIPTION,
    });
    assert.deepEqual(await overview(chain), []);

    // The history shows every movement, with the description, and adds up to the balances (0).
    const history = (await chain.rows('energy_history')).sort(
      (x, y) =>
        Number((x['height'] as bigint) - (y['height'] as bigint)) ||
        Number((x['seq'] as bigint) - (y['seq'] as bigint)),
    );
    assert.deepEqual(
      history
        .map(
          (r) =>
            `${r['height']} ${NAMES.get(r['trader'] as string)} ${r['kind']} ${(r['labels'] as string[]).join(',') || '(none)'} ${formatWh(r['delta_wh'] as bigint)} ${NAMES.get(r['counterparty'] as string) ?? '-'}`,
        )
        .slice(2),
      [
        '101 A transfer solar -10 B',
        '101 B transfer solar 10 A',
        '102 B reduce solar -10 -',
        '102 B reduce (none) 10 -',
        '103 B mutate (none) 5 Owner',
      ],
    );
    assert.equal(
      history.reduce((sum, r) => sum + (r['delta_wh'] as bigint), 0n),
      0n,
    );
    assert.equal(history.at(-1)?.['description'], THESIS_DESCRIPTION);
  });

  test('every balance row carries the block and the period start time', async () => {
    const chain = await market({ height: 100, processedMs: Date.UTC(2026, 5, 1, 12, 0, 7, 250) });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: '0.001' });
    assert.deepEqual(await balanceTable(chain, OWNER), [
      {
        trader: A,
        block: 100,
        labels: ['solar'],
        wh: 1n,
        startMs: Date.UTC(2026, 5, 1, 12, 0, 7, 250),
      },
    ]);
  });
});

describe('Trader', () => {
  test('only the context owner adds and removes traders', async () => {
    const chain = await market();
    await assertRejectedNoChange(
      chain,
      'Trader',
      A,
      { context: OWNER, address: C, allowed: true },
      'not_context_owner',
      [OWNER, A],
    );
    await assertRejectedNoChange(
      chain,
      'Trader',
      A,
      { context: OWNER, address: B, allowed: false },
      'not_context_owner',
    );
  });

  test('adding is idempotent; removing an unknown trader is rejected', async () => {
    const chain = await market();
    const before = await chain.rows('energy_traders');
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: A, allowed: true });
    assert.deepEqual(await chain.rows('energy_traders'), before);
    await assertRejectedNoChange(
      chain,
      'Trader',
      OWNER,
      { context: OWNER, address: C, allowed: false },
      'trader_not_found',
      [C, OWNER],
    );
  });

  test('a trader with linked producers or consumers cannot be removed', async () => {
    const chain = await market();
    await assertRejectedNoChange(
      chain,
      'Trader',
      OWNER,
      { context: OWNER, address: A, allowed: false },
      'trader_has_producers',
      [A, PRODUCER],
    );
    await assertRejectedNoChange(
      chain,
      'Trader',
      OWNER,
      { context: OWNER, address: B, allowed: false },
      'trader_has_consumers',
      [B, CONSUMER],
    );
    await ok(chain, 'Producer', OWNER, {
      context: OWNER,
      address: PRODUCER,
      allowed: true,
      trader: B,
      labels: ['solar'],
    });
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: A, allowed: false });
    assert.deepEqual(
      (await chain.rows('energy_traders')).map((r) => r['address']),
      [B],
    );
  });

  test('removing a trader removes its balances and records them in the history', async () => {
    const chain = await market();
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: C, allowed: true });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 4 });
    await ok(chain, 'Transfer', A, {
      context: OWNER,
      receiver: C,
      block: 100,
      labels: ['solar'],
      amount: 3,
    });
    await chain.nextBlock();
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 2 });
    await ok(chain, 'Transfer', A, {
      context: OWNER,
      receiver: C,
      block: 101,
      labels: ['solar'],
      amount: 2,
    });
    assert.deepEqual(await overview(chain), ['A 100 solar 1', 'C 100 solar 3', 'C 101 solar 2']);
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: C, allowed: false });
    assert.deepEqual(await overview(chain), ['A 100 solar 1']);
    const removals = (await chain.rows('energy_history')).filter((r) => r['kind'] === 'removal');
    assert.deepEqual(removals.map((r) => [r['block'], r['delta_wh']]).sort(), [
      [100n, -3000n],
      [101n, -2000n],
    ]);
    // Re-adding the address starts from nothing.
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: C, allowed: true });
    assert.deepEqual(await overview(chain), ['A 100 solar 1']);
  });

  test('a trader with more than 1000 balances is removed over several calls, oldest first', async () => {
    const chain = await market();
    // 2,100 balances of B: 21 blocks (each its own period) of 100 label sets, one per meter.
    const meters = Array.from({ length: 100 }, (_, i) => ({
      address: testAddress(`meter ${i} of B`),
      labels: [`l${String(i).padStart(2, '0')}`],
    }));
    const link = (allowed: boolean) =>
      meters.map((m) => ({
        type: 'Consumer',
        sender: OWNER,
        payload: { context: OWNER, address: m.address, allowed, trader: B, labels: m.labels },
      }));
    for (const o of await chain.executeAll(link(true))) mustAccept(o, 'Consumer');
    const heights: number[] = [];
    for (let block = 0; block < 21; block += 1) {
      await chain.nextBlock();
      heights.push(chain.height);
      const readings = meters.map((m) => ({
        type: 'Energy',
        sender: m.address,
        payload: { context: OWNER, amount: -1 },
      }));
      for (const o of await chain.executeAll(readings)) mustAccept(o, 'Energy');
    }
    await chain.nextBlock();
    for (const o of await chain.executeAll(link(false))) mustAccept(o, 'Consumer removal');
    await ok(chain, 'Consumer', OWNER, {
      context: OWNER,
      address: CONSUMER,
      allowed: false,
      trader: B,
      labels: [],
    });
    const traderB = async (): Promise<boolean> =>
      (await chain.rows('energy_traders')).some((r) => r['address'] === B);
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: B, allowed: false });
    assert.equal((await chain.rows('energy_balances')).length, 1100);
    // The ten oldest blocks' balances went first.
    assert.equal((await balanceTable(chain, OWNER))[0]?.block, heights[10]);
    assert.ok(await traderB());
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: B, allowed: false });
    assert.equal((await chain.rows('energy_balances')).length, 100);
    assert.equal((await balanceTable(chain, OWNER))[0]?.block, heights[20]);
    assert.ok(await traderB());
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: B, allowed: false });
    assert.equal((await chain.rows('energy_balances')).length, 0);
    assert.ok(!(await traderB()));
    assert.equal(
      (await chain.rows('energy_history')).reduce((sum, r) => sum + (r['delta_wh'] as bigint), 0n),
      0n,
    );
  });
});

describe('Producer and Consumer', () => {
  for (const type of ['Producer', 'Consumer'] as const) {
    const device = type === 'Producer' ? PRODUCER : CONSUMER;
    const table = type === 'Producer' ? 'energy_producers' : 'energy_consumers';
    const missing = type === 'Producer' ? 'producer_not_found' : 'consumer_not_found';

    test(`${type}: only the owner, only for a trader of the context`, async () => {
      const chain = await market();
      await assertRejectedNoChange(
        chain,
        type,
        A,
        { context: OWNER, address: device, allowed: true, trader: A, labels: [] },
        'not_context_owner',
        [OWNER, A],
      );
      await assertRejectedNoChange(
        chain,
        type,
        OWNER,
        { context: OWNER, address: device, allowed: true, trader: C, labels: [] },
        'trader_not_found',
        [C, OWNER],
      );
    });

    test(`${type}: update relinks and relabels (labels canonical); remove; removing again is rejected`, async () => {
      const chain = await market();
      await ok(chain, type, OWNER, {
        context: OWNER,
        address: device,
        allowed: true,
        trader: A,
        labels: ['wind', 'local', 'wind'],
      });
      assert.deepEqual(
        (await chain.rows(table)).map((r) => [r['address'], r['trader'], r['labels']]),
        [[device, A, ['local', 'wind']]],
      );
      await ok(chain, type, OWNER, {
        context: OWNER,
        address: device,
        allowed: false,
        trader: A,
        labels: [],
      });
      assert.deepEqual(await chain.rows(table), []);
      await assertRejectedNoChange(
        chain,
        type,
        OWNER,
        { context: OWNER, address: device, allowed: false, trader: A, labels: [] },
        missing,
        [device, OWNER],
      );
    });
  }

  test('labels are checked by the template', async () => {
    const chain = await market();
    const outcome = await chain.execute('Producer', OWNER, {
      context: OWNER,
      address: PRODUCER,
      allowed: true,
      trader: A,
      labels: ['Solar'],
    });
    assert.equal(outcome.status, 'invalid');
    assert.equal(outcome.status === 'invalid' ? outcome.code : '', 'payload_invalid');
  });
});

describe('Energy', () => {
  test("production goes to the producer's trader with its labels; consumption comes from the consumer's", async () => {
    const chain = await market();
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: '1.25' });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 0.75 });
    await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: -0.001 });
    assert.deepEqual(await overview(chain), ['A 100 solar 2', 'B 100 (none) -0.001']);
  });

  test('zero is rejected; the sign decides the role', async () => {
    const chain = await market();
    await assertRejectedNoChange(
      chain,
      'Energy',
      PRODUCER,
      { context: OWNER, amount: 0 },
      'amount_zero',
      [OWNER],
    );
    await assertRejectedNoChange(
      chain,
      'Energy',
      PRODUCER,
      { context: OWNER, amount: -1 },
      'sender_not_consumer',
      [PRODUCER, OWNER, '-1 kWh'],
    );
    await assertRejectedNoChange(
      chain,
      'Energy',
      CONSUMER,
      { context: OWNER, amount: 1 },
      'sender_not_producer',
      [CONSUMER, OWNER, '1 kWh'],
    );
    await assertRejectedNoChange(
      chain,
      'Energy',
      A,
      { context: OWNER, amount: 1 },
      'sender_not_producer',
    );
  });

  test('one key may be both producer and consumer (a two-way meter)', async () => {
    const chain = await market();
    await ok(chain, 'Consumer', OWNER, {
      context: OWNER,
      address: PRODUCER,
      allowed: true,
      trader: A,
      labels: [],
    });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 3 });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: -1 });
    assert.deepEqual(await overview(chain), ['A 100 (none) -1', 'A 100 solar 3']);
  });

  test('a balance that reaches zero is deleted', async () => {
    const chain = await market();
    await ok(chain, 'Consumer', OWNER, {
      context: OWNER,
      address: PRODUCER,
      allowed: true,
      trader: A,
      labels: ['solar'],
    });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 3 });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: -3 });
    assert.deepEqual(await overview(chain), []);
    assert.equal((await chain.rows('energy_history')).length, 2);
  });

  test('amounts finer than 1 Wh, NaN or beyond 1 TWh never reach the contract', async () => {
    const chain = await market();
    for (const amount of [0.0001, '1e3', 'NaN', '1000000000.001', Number.POSITIVE_INFINITY, '']) {
      const outcome = await chain.execute('Energy', PRODUCER, { context: OWNER, amount });
      assert.equal(
        outcome.status === 'invalid' ? outcome.code : outcome.status,
        'payload_invalid',
        String(amount),
      );
    }
  });

  test('a balance cannot pass 10^15 Wh', async () => {
    const chain = await market();
    await okTimes(chain, 1000, 'Energy', PRODUCER, { context: OWNER, amount: 1_000_000_000 });
    assert.deepEqual(await overview(chain), ['A 100 solar 1000000000000']);
    await assertRejectedNoChange(
      chain,
      'Energy',
      PRODUCER,
      { context: OWNER, amount: 0.001 },
      'balance_limit_exceeded',
      [A],
    );
  });
});

describe('Transfer', () => {
  async function funded(): Promise<EnergyChain> {
    const chain = await market();
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: C, allowed: true });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 10 });
    await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: -15 });
    await chain.nextBlock();
    return chain;
  }
  const base = { context: OWNER, receiver: B, block: 100, labels: ['solar'], amount: 4 };

  test('every rule, with its code', async () => {
    const chain = await funded();
    await assertRejectedNoChange(chain, 'Transfer', STRANGER, base, 'sender_not_trader', [
      STRANGER,
      OWNER,
    ]);
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, receiver: STRANGER },
      'receiver_not_trader',
      [STRANGER, OWNER],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, receiver: A },
      'transfer_to_self',
      [A],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, amount: 0 },
      'amount_must_be_positive',
      ['0 kWh'],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, amount: -4 },
      'amount_must_be_positive',
      ['-4 kWh'],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, description: 'x'.repeat(257) },
      'description_too_long',
      ['257'],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, block: 99 },
      'block_not_period_start',
      ['99', OWNER],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, block: 101 },
      'block_not_period_start',
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, amount: '10.001' },
      'insufficient_energy',
      ['10 kWh', '10.001 kWh', 'labels [solar]'],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, labels: [] },
      'insufficient_energy',
      ['0 kWh', 'no labels'],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { ...base, labels: ['solar', 'local'] },
      'insufficient_energy',
    );
    // B's balance is negative: trading cannot make it more negative.
    await assertRejectedNoChange(
      chain,
      'Transfer',
      B,
      { ...base, receiver: A, labels: [] },
      'insufficient_energy',
      ['-15 kWh'],
    );
  });

  test('moves exactly the amount; a description up to 256 characters is kept in the history', async () => {
    const chain = await funded();
    await ok(chain, 'Transfer', A, { ...base, amount: '3.333', description: 'd'.repeat(256) });
    await ok(chain, 'Transfer', A, { ...base, receiver: C, amount: '6.667' });
    assert.deepEqual(await overview(chain), [
      'B 100 (none) -15',
      'B 100 solar 3.333',
      'C 100 solar 6.667',
    ]);
    const rows = (await chain.rows('energy_history')).filter((r) => r['kind'] === 'transfer');
    assert.equal(rows.length, 4);
    assert.ok(
      rows.some(
        (r) => r['description'] === 'd'.repeat(256) && r['trader'] === B && r['counterparty'] === A,
      ),
    );
  });

  test("the receiver's balance cannot pass 10^15 Wh", async () => {
    const chain = await funded();
    await okTimes(chain, 1000, 'Mutate', OWNER, {
      context: OWNER,
      trader: B,
      block: 100,
      labels: ['solar'],
      amount: 1_000_000_000,
    });
    await assertRejectedNoChange(chain, 'Transfer', A, base, 'balance_limit_exceeded', [B]);
  });
});

describe('Reduce', () => {
  async function funded(): Promise<EnergyChain> {
    const chain = await market();
    await ok(chain, 'Producer', OWNER, {
      context: OWNER,
      address: PRODUCER,
      allowed: true,
      trader: B,
      labels: ['local', 'solar'],
    });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 10 });
    await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: -4 });
    await chain.nextBlock();
    return chain;
  }
  const base = {
    context: OWNER,
    block: 100,
    originalLabels: ['local', 'solar'],
    amount: 6,
    labelsToRemove: ['solar'],
  };

  test('every rule, with its code', async () => {
    const chain = await funded();
    await assertRejectedNoChange(chain, 'Reduce', STRANGER, base, 'sender_not_trader', [
      STRANGER,
      OWNER,
    ]);
    await assertRejectedNoChange(
      chain,
      'Reduce',
      B,
      { ...base, amount: 0 },
      'amount_must_be_positive',
    );
    await assertRejectedNoChange(
      chain,
      'Reduce',
      B,
      { ...base, amount: -1 },
      'amount_must_be_positive',
      ['-1 kWh'],
    );
    await assertRejectedNoChange(
      chain,
      'Reduce',
      B,
      { ...base, labelsToRemove: [] },
      'labels_to_remove_empty',
    );
    await assertRejectedNoChange(
      chain,
      'Reduce',
      B,
      { ...base, labelsToRemove: ['solar', 'wind'] },
      'labels_to_remove_not_subset',
      ['wind'],
    );
    await assertRejectedNoChange(
      chain,
      'Reduce',
      B,
      { ...base, originalLabels: [], labelsToRemove: ['solar'] },
      'labels_to_remove_not_subset',
    );
    await assertRejectedNoChange(
      chain,
      'Reduce',
      B,
      { ...base, block: 101 },
      'block_not_period_start',
      ['101'],
    );
    await assertRejectedNoChange(
      chain,
      'Reduce',
      B,
      { ...base, amount: 11 },
      'insufficient_energy',
      ['10 kWh', '11 kWh'],
    );
    await assertRejectedNoChange(
      chain,
      'Reduce',
      B,
      { ...base, originalLabels: ['solar'] },
      'insufficient_energy',
    );
    await assertRejectedNoChange(chain, 'Reduce', A, base, 'insufficient_energy');
  });

  test('removes some labels, keeps the rest; removing all cancels a negative balance', async () => {
    const chain = await funded();
    await ok(chain, 'Reduce', B, base);
    assert.deepEqual(await overview(chain), [
      'B 100 (none) -4',
      'B 100 local 6',
      'B 100 local,solar 4',
    ]);
    await ok(chain, 'Reduce', B, { ...base, amount: 4, labelsToRemove: ['solar', 'local'] });
    assert.deepEqual(await overview(chain), ['B 100 local 6']);
    await ok(chain, 'Reduce', B, {
      ...base,
      originalLabels: ['local'],
      amount: 1,
      labelsToRemove: ['local'],
    });
    assert.deepEqual(await overview(chain), ['B 100 (none) 1', 'B 100 local 5']);
  });

  test('figure 6: reducing in one block leaves other blocks alone', async () => {
    const chain = await market();
    await ok(chain, 'Consumer', OWNER, {
      context: OWNER,
      address: CONSUMER,
      allowed: true,
      trader: A,
      labels: [],
    });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 5 });
    await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: -3 });
    await chain.nextBlock();
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 5 });
    await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: -5 });
    await ok(chain, 'Reduce', A, {
      context: OWNER,
      block: 101,
      originalLabels: ['solar'],
      amount: 5,
      labelsToRemove: ['solar'],
    });
    assert.deepEqual(await overview(chain), ['A 100 (none) -3', 'A 100 solar 5']);
  });

  test('the remaining balance cannot pass 10^15 Wh', async () => {
    const chain = await funded();
    await okTimes(chain, 1000, 'Mutate', OWNER, {
      context: OWNER,
      trader: B,
      block: 100,
      labels: ['local'],
      amount: 1_000_000_000,
    });
    await assertRejectedNoChange(chain, 'Reduce', B, base, 'balance_limit_exceeded', ['local']);
  });
});

describe('Mutate', () => {
  const base = { context: OWNER, trader: B, block: 100, labels: [], amount: 5 };

  test('every rule, with its code', async () => {
    const chain = await market();
    await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: -15 });
    await assertRejectedNoChange(chain, 'Mutate', A, base, 'not_context_owner', [OWNER, A]);
    await assertRejectedNoChange(
      chain,
      'Mutate',
      OWNER,
      { ...base, trader: C },
      'trader_not_found',
      [C],
    );
    await assertRejectedNoChange(chain, 'Mutate', OWNER, { ...base, amount: 0 }, 'amount_zero');
    await assertRejectedNoChange(
      chain,
      'Mutate',
      OWNER,
      { ...base, description: 'x'.repeat(257) },
      'description_too_long',
    );
    await assertRejectedNoChange(
      chain,
      'Mutate',
      OWNER,
      { ...base, block: 101 },
      'block_not_period_start',
      ['101'],
    );
    await okTimes(chain, 1000, 'Mutate', OWNER, { ...base, labels: ['x'], amount: -1_000_000_000 });
    await assertRejectedNoChange(
      chain,
      'Mutate',
      OWNER,
      { ...base, labels: ['x'], amount: -0.001 },
      'balance_limit_exceeded',
      ['-1000000000000.001 kWh'],
    );
  });

  test('any amount, any label set, also below zero; the history names the owner', async () => {
    const chain = await market();
    await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: -15 });
    await ok(chain, 'Mutate', OWNER, { ...base, amount: -2 });
    await ok(chain, 'Mutate', OWNER, { ...base, labels: ['wind'], amount: 1.5 });
    await ok(chain, 'Mutate', OWNER, { ...base, trader: A, amount: 17 });
    assert.deepEqual(await overview(chain), [
      'A 100 (none) 17',
      'B 100 (none) -17',
      'B 100 wind 1.5',
    ]);
    const mutations = (await chain.rows('energy_history')).filter((r) => r['kind'] === 'mutate');
    assert.ok(mutations.every((r) => r['counterparty'] === OWNER && r['description'] === ''));
  });
});

describe('SettlementPeriod and settlement periods', () => {
  const QUARTER_MS = 15 * MINUTE_MS;
  const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

  test('only the owner; the length must be 0 or divide a day', async () => {
    const chain = await market();
    await assertRejectedNoChange(
      chain,
      'SettlementPeriod',
      A,
      { context: OWNER, periodSeconds: 900 },
      'not_context_owner',
      [OWNER, A],
    );
    for (const periodSeconds of [7, 1000, 86401, 172800]) {
      await assertRejectedNoChange(
        chain,
        'SettlementPeriod',
        OWNER,
        { context: OWNER, periodSeconds },
        'period_length_invalid',
        [String(periodSeconds)],
      );
    }
    for (const periodSeconds of [1, 60, 300, 900, 3600, 86400, 0])
      await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds });
    assert.equal(
      (await chain.execute('SettlementPeriod', OWNER, { context: OWNER, periodSeconds: -900 }))
        .status,
      'invalid',
    );
  });

  test('the length in force in a block stays in force for the whole block', async () => {
    const chain = await market({ height: 100, processedMs: T0 });
    const settings = async (): Promise<unknown[]> =>
      (await chain.rows('energy_settings')).map((r) => [
        r['period_ms'],
        r['previous_period_ms'],
        r['from_height'],
      ]);
    const periodMsOfLatest = async (): Promise<unknown> =>
      (await chain.rows('energy_periods')).find((r) => r['latest'] === true)?.['period_ms'];
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 0 });
    assert.deepEqual(await settings(), []);
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 900 });
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 300 });
    assert.deepEqual(await settings(), [[300_000n, 0n, 101n]]);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    assert.equal(await periodMsOfLatest(), 0n);
    await chain.nextBlock();
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 60 });
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 0 });
    assert.deepEqual(await settings(), [[0n, 300_000n, 102n]]);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    assert.equal(await periodMsOfLatest(), 300_000n);
    await chain.nextBlock();
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    assert.equal(await periodMsOfLatest(), 0n);
    assert.deepEqual(await overview(chain), ['A 100 solar 1', 'A 101 solar 1', 'A 102 solar 1']);
  });

  test('by default every block is its own period (the thesis)', async () => {
    const chain = await market({ height: 100, processedMs: T0 });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    await chain.nextBlock();
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    assert.deepEqual(await overview(chain), ['A 100 solar 1', 'A 101 solar 2']);
    assert.deepEqual(
      (await chain.rows('energy_periods')).map((r) => [
        r['block'],
        r['start_ms'],
        r['end_ms'],
        r['period_ms'],
        r['latest'],
      ]),
      [
        [100n, BigInt(T0), BigInt(T0 + 1), 0n, false],
        [101n, BigInt(T0 + 1000), BigInt(T0 + 1001), 0n, true],
      ],
    );
  });

  test('90 readings in one 15-minute period form one balance; the next period a new one', async () => {
    // The length is set in block 99 and applies from block 100 on. Block 100 is at 10:00:05; a
    // reading every 10 s fills 10:00:05 .. 10:14:55.
    const chain = await market({ height: 99, processedMs: T0 + 4000 });
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 900 });
    await chain.nextBlock();
    for (let i = 0; i < 90; i += 1) {
      await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: '0.011' });
      await ok(chain, 'Energy', CONSUMER, { context: OWNER, amount: '-0.007' });
      await chain.nextBlock(10_000);
    }
    assert.equal(chain.height, 190);
    assert.equal(chain.processedMs, T0 + QUARTER_MS + 5000);
    assert.deepEqual(await overview(chain), ['A 100 solar 0.99', 'B 100 (none) -0.63']);
    assert.deepEqual(
      (await balanceTable(chain, OWNER)).map((r) => r.startMs),
      [T0, T0],
    );
    assert.equal((await chain.rows('energy_history')).length, 180);

    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    await chain.nextBlock(10_000);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    assert.deepEqual(await overview(chain), [
      'A 100 solar 0.99',
      'A 190 solar 2',
      'B 100 (none) -0.63',
    ]);
    assert.deepEqual(
      (await chain.rows('energy_periods')).map((r) => [
        r['block'],
        r['start_ms'],
        r['end_ms'],
        r['latest'],
      ]),
      [
        [100n, BigInt(T0), BigInt(T0 + QUARTER_MS), false],
        [190n, BigInt(T0 + QUARTER_MS), BigInt(T0 + 2 * QUARTER_MS), true],
      ],
    );

    // Transfer, Reduce and Mutate name a period by its first block only.
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { context: OWNER, receiver: B, block: 150, labels: ['solar'], amount: 0.5 },
      'block_not_period_start',
      ['150'],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { context: OWNER, receiver: B, block: 191, labels: ['solar'], amount: 0.5 },
      'block_not_period_start',
      ['191'],
    );
    await assertRejectedNoChange(
      chain,
      'Reduce',
      A,
      {
        context: OWNER,
        block: 101,
        originalLabels: ['solar'],
        amount: 0.5,
        labelsToRemove: ['solar'],
      },
      'block_not_period_start',
    );
    await assertRejectedNoChange(
      chain,
      'Mutate',
      OWNER,
      { context: OWNER, trader: B, block: 189, labels: [], amount: 0.63 },
      'block_not_period_start',
    );
    await ok(chain, 'Transfer', A, {
      context: OWNER,
      receiver: B,
      block: 100,
      labels: ['solar'],
      amount: 0.5,
    });
    await ok(chain, 'Reduce', B, {
      context: OWNER,
      block: 100,
      originalLabels: ['solar'],
      amount: 0.5,
      labelsToRemove: ['solar'],
    });
    await ok(chain, 'Mutate', OWNER, {
      context: OWNER,
      trader: B,
      block: 100,
      labels: [],
      amount: 0.13,
    });
    assert.deepEqual(await overview(chain), ['A 100 solar 0.49', 'A 190 solar 2']);
    assert.ok(
      (await balanceTable(chain, OWNER)).every(
        (r) => r.startMs === (r.block === 100 ? T0 : T0 + QUARTER_MS),
      ),
    );
  });

  test('an empty quarter hour opens no period; the next reading opens one at its own quarter', async () => {
    const chain = await market({ height: 99, processedMs: T0 + 59_000 });
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 900 });
    await chain.nextBlock();
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    await chain.gotoBlock(400, T0 + 2 * QUARTER_MS + 1);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    assert.deepEqual(
      (await balanceTable(chain, OWNER)).map((r) => [r.block, r.startMs]),
      [
        [100, T0],
        [400, T0 + 2 * QUARTER_MS],
      ],
    );
  });

  test('a new length applies from the next block; a change inside a period cuts it short', async () => {
    const chain = await market({ height: 99, processedMs: T0 + MINUTE_MS });
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 900 });
    await chain.gotoBlock(100, T0 + 2 * MINUTE_MS);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    await chain.gotoBlock(110, T0 + 5 * MINUTE_MS);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    // Per-block periods from block 111 on; block 110 stays in the quarter hour it began in.
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 0 });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    // The quarter hour that began at 10:00 ends where block 120's period starts.
    await chain.gotoBlock(120, T0 + 6 * MINUTE_MS);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    await chain.gotoBlock(121, T0 + 7 * MINUTE_MS);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    // Back to quarter hours from block 122 on: its period starts after block 121, not at 10:00.
    await ok(chain, 'SettlementPeriod', OWNER, { context: OWNER, periodSeconds: 900 });
    await chain.gotoBlock(122, T0 + 8 * MINUTE_MS);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    await chain.gotoBlock(130, T0 + 14 * MINUTE_MS);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    await chain.gotoBlock(140, T0 + 16 * MINUTE_MS);
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 1 });
    assert.deepEqual(await overview(chain), [
      'A 100 solar 3',
      'A 120 solar 1',
      'A 121 solar 1',
      'A 122 solar 2',
      'A 140 solar 1',
    ]);
    const periods = (await chain.rows('energy_periods')).map((r) => [
      Number(r['block']),
      Number(r['start_ms']) - T0,
      Number(r['end_ms']) - T0,
    ]);
    assert.deepEqual(periods, [
      [100, 0, 6 * MINUTE_MS],
      [120, 6 * MINUTE_MS, 6 * MINUTE_MS + 1],
      [121, 7 * MINUTE_MS, 7 * MINUTE_MS + 1],
      [122, 7 * MINUTE_MS + 1, 15 * MINUTE_MS],
      [140, 15 * MINUTE_MS, 30 * MINUTE_MS],
    ]);
    for (let i = 1; i < periods.length; i += 1)
      assert.ok((periods[i]?.[1] ?? 0) >= (periods[i - 1]?.[2] ?? 0));
  });
});

describe('contexts', () => {
  test('contexts never see or affect each other, even with the same keys', async () => {
    const other = testAddress('other context');
    const chain = await market();
    await ok(chain, 'Trader', other, { context: other, address: A, allowed: true });
    await ok(chain, 'Trader', other, { context: other, address: C, allowed: true });
    await ok(chain, 'Producer', other, {
      context: other,
      address: PRODUCER,
      allowed: true,
      trader: C,
      labels: ['wind'],
    });
    await ok(chain, 'SettlementPeriod', other, { context: other, periodSeconds: 900 });
    await ok(chain, 'Energy', PRODUCER, { context: OWNER, amount: 2 });
    await ok(chain, 'Energy', PRODUCER, { context: other, amount: 7 });
    assert.deepEqual(await overview(chain, OWNER), ['A 100 solar 2']);
    assert.deepEqual(await overview(chain, other), ['C 100 wind 7']);

    // Roles, owners and periods of one context mean nothing in the other.
    await assertRejectedNoChange(
      chain,
      'Energy',
      CONSUMER,
      { context: other, amount: -1 },
      'sender_not_consumer',
      [other],
    );
    await assertRejectedNoChange(
      chain,
      'Trader',
      OWNER,
      { context: other, address: B, allowed: true },
      'not_context_owner',
      [other],
    );
    await assertRejectedNoChange(
      chain,
      'Mutate',
      other,
      { context: OWNER, trader: A, block: 100, labels: [], amount: 1 },
      'not_context_owner',
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      B,
      { context: other, receiver: A, block: 100, labels: [], amount: 1 },
      'sender_not_trader',
      [other],
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { context: other, receiver: C, block: 100, labels: ['solar'], amount: 1 },
      'insufficient_energy',
    );
    await assertRejectedNoChange(
      chain,
      'Transfer',
      A,
      { context: OWNER, receiver: C, block: 100, labels: ['solar'], amount: 1 },
      'receiver_not_trader',
      [OWNER],
    );

    // Removing A from one context leaves its place in the other.
    await ok(chain, 'Producer', OWNER, {
      context: OWNER,
      address: PRODUCER,
      allowed: true,
      trader: B,
      labels: [],
    });
    await ok(chain, 'Trader', OWNER, { context: OWNER, address: A, allowed: false });
    assert.deepEqual(await overview(chain, OWNER), []);
    assert.deepEqual(await overview(chain, other), ['C 100 wind 7']);
    await ok(chain, 'Transfer', C, {
      context: other,
      receiver: A,
      block: 100,
      labels: ['wind'],
      amount: 7,
    });
    assert.deepEqual(await overview(chain, other), ['A 100 wind 7']);
  });
});

describe('the test chain keeps the platform rules', () => {
  const table = { columns: { context: 'text', n: 'bigint' }, key: ['context'] } as const;
  function contract(execute: ContractDefinition['execute']): ContractDefinition {
    return {
      type: 'Probe',
      version: '1',
      description: 'probe',
      template: {},
      manifest: { tables: { probe_rows: table }, reads: [] },
      execute,
    };
  }

  test('a call that throws or rejects after writing changes nothing', async () => {
    const chain = await EnergyChain.open({
      contracts: [
        contract(function execute(_payload, ctx) {
          ctx.db.put('probe_rows', { context: 'x', n: 1n });
          throw new Error('boom');
        }),
      ],
    });
    const outcome = await chain.execute('Probe', OWNER, {});
    // The platform's message for a thrown error is `Name: message` (docs/contract-api.md).
    assert.deepEqual(outcome, {
      status: 'rejected',
      code: 'contract_error',
      message: 'Error: boom',
    });
    assert.deepEqual(await chain.rows('probe_rows'), []);
  });

  test('tables outside the manifest and malformed rows are refused', async () => {
    const chain = await EnergyChain.open({
      contracts: [
        contract(function execute(_payload, ctx) {
          ctx.db.put('probe_rows', { context: 'x', n: 1 as unknown as bigint });
          return 'OK';
        }),
      ],
    });
    assert.equal(
      ((await chain.execute('Probe', OWNER, {})) as { code?: string }).code,
      'contract_bad_row',
    );
    const denied = await EnergyChain.open({
      contracts: [
        contract(function execute(_payload, ctx) {
          ctx.db.get('energy_balances', {});
          return 'OK';
        }),
      ],
    });
    assert.equal(
      ((await denied.execute('Probe', OWNER, {})) as { code?: string }).code,
      'contract_access_denied',
    );
  });

  test('a contract that uses anything outside execute fails here as on chain', async () => {
    const outside = 7n;
    const chain = await EnergyChain.open({
      contracts: [
        contract(function execute(_payload, ctx) {
          ctx.db.put('probe_rows', { context: 'x', n: outside });
          return 'OK';
        }),
      ],
    });
    assert.equal(
      ((await chain.execute('Probe', OWNER, {})) as { code?: string }).code,
      'contract_error',
    );
  });
});
