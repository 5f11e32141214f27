// Ledger invariants of the energy contracts under random sequences of all eight contracts, sent
// from several keys into two contexts: energy is conserved (balances change in sum only by Energy,
// Mutate and the removal of a trader, and always equal the history), Transfer and Reduce never
// make a balance negative nor add a label, a rejected call changes nothing, a call in one context
// leaves the other alone, and every rejection carries a catalogued code. The calls are real signed
// transactions in blocks on the real engine (test/support/energy-chain.ts: QuickJS executor,
// ChainStore on an in-memory PGlite), and the properties are checked on the database's tables.
// Each run starts a new chain (in an emptied database). Replay with SEED=<n>; NUM_RUNS=<n> runs more.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { formatWh, parseKwh } from '../src/core/amount.js';
import { ENERGY_REJECT_CODES } from '../src/energy/codes.js';
import { EnergyChain, closeEnergyChains, testAddress } from './support/energy-chain.js';
import type { Outcome, Row } from './support/energy-chain.js';
import { arbOp, LABELS, pick } from './support/energy-ops.js';
import type { Fields, Op } from './support/energy-ops.js';

const CONTEXTS = [testAddress('context one'), testAddress('context two')] as const;
const TRADERS = [testAddress('t1'), testAddress('t2'), testAddress('t3')] as const;
const DEVICES = [testAddress('d1'), testAddress('d2'), testAddress('t1')] as const; // t1 is also a meter
const STRANGER = testAddress('stranger');
const KEYS = [...CONTEXTS, ...TRADERS, ...DEVICES, STRANGER];

const arbOps = arbOp({
  blockWeight: 2,
  senderMax: KEYS.length * 4,
  periodSeconds: [0, 0, 1, 2, 5, 7],
});

/** Senders lean towards the key a call needs, so that many calls are accepted. */
function senderFor(type: string, context: string, index: number, fields: Fields): string {
  if (index >= KEYS.length * 3) return pick(KEYS, index);
  if (['Trader', 'Producer', 'Consumer', 'Mutate', 'SettlementPeriod'].includes(type))
    return context;
  if (type === 'Energy') return pick(DEVICES, index);
  return pick(TRADERS, index + fields.other);
}

/**
 * The payload of a call. Transfer and Reduce mostly aim at a positive balance the sender holds
 * (its period, labels and at most its amount), so that many of them are accepted; the fields
 * still send them off course often enough to reach every rejection.
 */
async function payloadFor(
  chain: EnergyChain,
  type: string,
  context: string,
  sender: string,
  f: Fields,
): Promise<Record<string, unknown>> {
  const periods = (await chain.rows('energy_periods'))
    .filter((r) => r['context'] === context)
    .map((r) => Number(r['block']));
  let block = Math.max(
    0,
    f.rawBlock || periods.length === 0 ? chain.height - f.blockPick : pick(periods, f.blockPick),
  );
  let labels = [...f.labels];
  let wh = BigInt(f.wh);
  if (type === 'Transfer' || type === 'Reduce') {
    if (f.wh >= -4000 && wh < 0n) wh = -wh;
    const held = (await chain.rows('energy_balances')).filter(
      (r) => r['context'] === context && r['trader'] === sender && (r['amount_wh'] as bigint) > 0n,
    );
    if (held.length > 0 && !f.rawBlock) {
      const balance = pick(held, f.blockPick);
      block = Number(balance['block']);
      labels = balance['labels'] as string[];
      const heldWh = balance['amount_wh'] as bigint;
      if (wh > heldWh && f.allowed) wh = heldWh;
    }
  }
  const amount = formatWh(wh);
  switch (type) {
    case 'Trader':
      return { context, address: pick(TRADERS, f.address), allowed: f.allowed };
    case 'Producer':
    case 'Consumer':
      return {
        context,
        address: pick(DEVICES, f.address),
        allowed: f.allowed,
        trader: pick(TRADERS, f.other),
        labels,
      };
    case 'SettlementPeriod':
      return { context, periodSeconds: f.periodSeconds };
    case 'Energy':
      return { context, amount };
    case 'Transfer': {
      const receiver =
        f.address % 6 === 0
          ? sender
          : pick(
              TRADERS.filter((t) => t !== sender),
              f.address,
            );
      return { context, receiver, block, labels, amount, description: 'p' };
    }
    case 'Reduce': {
      const subset = labels.filter((label) => f.labels2.includes(label));
      const labelsToRemove = f.allowed ? (subset.length > 0 ? subset : labels) : [...f.labels2];
      return { context, block, originalLabels: labels, amount, labelsToRemove };
    }
    default:
      return { context, trader: pick(TRADERS, f.address), block, labels, amount };
  }
}

/** Both contexts start with three traders and devices, so that random calls often succeed. */
async function bootstrap(): Promise<EnergyChain> {
  const chain = await EnergyChain.open({ height: 2 });
  const [t1, t2, t3] = TRADERS;
  const [d1, d2, d3] = DEVICES;
  for (const context of CONTEXTS) {
    const calls: [string, Record<string, unknown>][] = [
      ['Trader', { context, address: t1, allowed: true }],
      ['Trader', { context, address: t2, allowed: true }],
      ['Trader', { context, address: t3, allowed: true }],
      ['Producer', { context, address: d1, allowed: true, trader: t1, labels: ['solar'] }],
      ['Producer', { context, address: d2, allowed: true, trader: t2, labels: ['local', 'wind'] }],
      ['Consumer', { context, address: d2, allowed: true, trader: t3, labels: [] }],
      ['Consumer', { context, address: d3, allowed: true, trader: t1, labels: [] }],
    ];
    for (const [type, payload] of calls) {
      const outcome = await chain.execute(type, context, payload);
      if (outcome.status !== 'accepted') throw new Error(`bootstrap ${type}: ${outcome.code}`);
    }
  }
  return chain;
}

async function contextRows(chain: EnergyChain, context: string): Promise<string> {
  const tables = [
    'energy_traders',
    'energy_producers',
    'energy_consumers',
    'energy_balances',
    'energy_periods',
    'energy_settings',
    'energy_history',
  ];
  const rows: Row[][] = [];
  for (const t of tables) rows.push((await chain.rows(t)).filter((r) => r['context'] === context));
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

async function balances(chain: EnergyChain, context: string): Promise<Row[]> {
  return (await chain.rows('energy_balances')).filter((r) => r['context'] === context);
}

function sumWh(rows: readonly Row[], column = 'amount_wh'): bigint {
  return rows.reduce((sum, r) => sum + (r[column] as bigint), 0n);
}

function balanceMap(rows: readonly Row[]): Map<string, bigint> {
  return new Map(
    rows.map((r) => [`${r['trader']}|${r['block']}|${r['labels_key']}`, r['amount_wh'] as bigint]),
  );
}

function labelSums(rows: readonly Row[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const label of LABELS)
    sums.set(label, sumWh(rows.filter((r) => (r['labels'] as string[]).includes(label))));
  return sums;
}

/** Invariants that hold in every state. */
async function checkState(chain: EnergyChain): Promise<void> {
  const history = await chain.rows('energy_history');
  const allPeriods = await chain.rows('energy_periods');
  for (const context of CONTEXTS) {
    const rows = await balances(chain, context);
    assert.equal(
      sumWh(rows),
      sumWh(
        history.filter((r) => r['context'] === context),
        'delta_wh',
      ),
      'history adds up to the balances',
    );
    const periods = new Map(
      allPeriods.filter((r) => r['context'] === context).map((r) => [r['block'] as bigint, r]),
    );
    for (const r of rows) {
      const labels = r['labels'] as string[];
      assert.notEqual(r['amount_wh'], 0n, 'zero balances are deleted');
      assert.deepEqual(labels, [...new Set(labels)].sort(), 'labels canonical');
      assert.equal(r['labels_key'], labels.join(','));
      assert.equal(
        periods.get(r['block'] as bigint)?.['start_ms'],
        r['period_start_ms'],
        'balance names a period and its start',
      );
    }
    const ordered = [...periods.values()];
    assert.ok(
      ordered.length === 0 || ordered.filter((p) => p['latest'] === true).length === 1,
      'one latest period',
    );
    for (let i = 1; i < ordered.length; i += 1) {
      const previous = ordered[i - 1];
      const current = ordered[i];
      if (previous === undefined || current === undefined) continue;
      assert.ok(
        (previous['end_ms'] as bigint) <= (current['start_ms'] as bigint),
        'periods never overlap',
      );
      assert.ok((current['start_ms'] as bigint) < (current['end_ms'] as bigint));
    }
  }
}

/** What an accepted call may do to the sum of its context's balances. */
function expectedDeltaWh(
  type: string,
  payload: Record<string, unknown>,
  before: readonly Row[],
): bigint {
  if (type === 'Energy' || type === 'Mutate') {
    const parsed = parseKwh(payload['amount']);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.wh;
  }
  if (type === 'Trader' && payload['allowed'] === false)
    return -sumWh(before.filter((r) => r['trader'] === payload['address']));
  return 0n;
}

async function checkCall(
  chain: EnergyChain,
  type: string,
  context: string,
  payload: Record<string, unknown>,
  run: () => Promise<Outcome>,
): Promise<Outcome> {
  const other = CONTEXTS.find((c) => c !== context) ?? '';
  const snapshot = await chain.snapshot();
  const otherBefore = await contextRows(chain, other);
  const before = await balances(chain, context);
  const outcome = await run();
  assert.equal(
    await contextRows(chain, other),
    otherBefore,
    'a call never touches another context',
  );
  if (outcome.status !== 'accepted') {
    assert.equal(await chain.snapshot(), snapshot, `${type} ${outcome.code} changed the state`);
    if (outcome.status === 'rejected')
      assert.ok(
        outcome.code in ENERGY_REJECT_CODES,
        `${type}: uncatalogued ${outcome.code}: ${outcome.message}`,
      );
    return outcome;
  }
  const after = await balances(chain, context);
  assert.equal(
    sumWh(after) - sumWh(before),
    expectedDeltaWh(type, payload, before),
    `${type} changed the total wrongly`,
  );
  if (type === 'Transfer' || type === 'Reduce') {
    const was = balanceMap(before);
    for (const [key, amountWh] of balanceMap(after)) {
      if (amountWh < (was.get(key) ?? 0n))
        assert.ok(amountWh >= 0n, `${type} made ${key} negative`);
    }
    const labelsBefore = labelSums(before);
    for (const [label, sum] of labelSums(after))
      assert.ok(sum <= (labelsBefore.get(label) ?? 0n), `${type} added label ${label}`);
  }
  return outcome;
}

// Each run is a new chain and up to 60 signed calls in real blocks: a few runs keep the file short.
const NUM_RUNS = Number(process.env['NUM_RUNS'] ?? 5);
const arbSequence = fc.array(arbOps, { minLength: 20, maxLength: 60 });
after(closeEnergyChains);

/** Runs one generated sequence on a new chain, `onCall` seeing each call and its outcome. */
async function runOps(
  ops: readonly Op[],
  call: (
    chain: EnergyChain,
    type: string,
    sender: string,
    context: string,
    payload: Record<string, unknown>,
  ) => Promise<Outcome>,
): Promise<void> {
  const chain = await bootstrap();
  try {
    for (const op of ops) {
      if (op.kind === 'block') {
        await chain.nextBlock(op.advanceMs);
        continue;
      }
      const context = pick(CONTEXTS, op.ctx);
      const sender = senderFor(op.type, context, op.sender, op.fields);
      const payload = await payloadFor(chain, op.type, context, sender, op.fields);
      await call(chain, op.type, sender, context, payload);
    }
  } finally {
    await chain.close();
  }
}

test('random sequences of all contracts keep the ledger invariants', async () => {
  const seed = Number(process.env['SEED'] ?? 20260101);
  let accepted = 0;
  let total = 0;
  await fc.assert(
    fc.asyncProperty(arbSequence, async (ops) => {
      await runOps(ops, async (chain, type, sender, context, payload) => {
        const outcome = await checkCall(chain, type, context, payload, () =>
          chain.execute(type, sender, payload),
        );
        total += 1;
        if (outcome.status === 'accepted') accepted += 1;
        await checkState(chain);
        return outcome;
      });
    }),
    { seed, numRuns: NUM_RUNS, includeErrorInReport: true },
  );
  // The generators must reach the interesting paths, not only rejections.
  assert.ok(accepted > total / 4, `only ${accepted} of ${total} calls were accepted`);
});

test('every contract is accepted and rejected somewhere in the random runs', async () => {
  const seen = new Map<string, Set<string>>();
  const counts = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(arbSequence, async (ops) => {
      await runOps(ops, async (chain, type, sender, _context, payload) => {
        const outcome = await chain.execute(type, sender, payload);
        const key = outcome.status === 'accepted' ? 'accepted' : outcome.code;
        seen.set(type, (seen.get(type) ?? new Set()).add(key));
        counts.set(`${type} ${key}`, (counts.get(`${type} ${key}`) ?? 0) + 1);
        return outcome;
      });
    }),
    { seed: Number(process.env['SEED'] ?? 7), numRuns: NUM_RUNS * 2, includeErrorInReport: true },
  );
  const breakdown = JSON.stringify([...counts].sort());
  for (const type of [
    'Trader',
    'Producer',
    'Consumer',
    'SettlementPeriod',
    'Energy',
    'Transfer',
    'Reduce',
    'Mutate',
  ]) {
    const outcomes = seen.get(type) ?? new Set();
    assert.ok(outcomes.has('accepted'), `${type} never accepted: ${breakdown}`);
    assert.ok(outcomes.size > 1, `${type} never rejected`);
  }
  const codes = new Set([...seen.values()].flatMap((s) => [...s]));
  for (const code of [
    'insufficient_energy',
    'block_not_period_start',
    'labels_to_remove_not_subset',
    'trader_has_producers',
    'sender_not_trader',
  ]) {
    assert.ok(codes.has(code), `the random runs never produced ${code}`);
  }
});
