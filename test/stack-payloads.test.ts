// The pure builders of stacked marketplaces (src/stack/payloads.ts, src/stack/ids.ts) against
// golden examples written by hand from docs/decisions/0012-stacked-marketplaces.md. The two ids
// were computed once with Python's hashlib, independently of the code under test.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stackTxIdHex } from '../src/stack/ids.js';
import {
  buildMemberPosition,
  buildMissedSettlement,
  buildUpstreamSettlement,
  formatUeur,
  memberFlows,
  residualTotalsWh,
  settlementHeight,
} from '../src/stack/payloads.js';
import type { ParentFlowRow } from '../src/stack/payloads.js';

const N = '1NeighbourhoodN';
const C = '1CityC';
const M = '1NeighbourhoodM';

test('the derived ids are the first 16 bytes of SHA-256 of the decision 0012 text', () => {
  const base = {
    childChain: 'hanzenet-child',
    parentChain: 'hanzenet-city',
    childContext: '1N1ghbourhoodContextxxxxxxxxxxxxx',
    periodStartMs: 1700000100000,
  };
  assert.equal(stackTxIdHex({ ...base, direction: 'up' }), '71dc8a9aaa298d18bbbbc3bd966ddeb2');
  assert.equal(stackTxIdHex({ ...base, direction: 'down' }), '005bd41f549fc7e06c0acfad887ffdca');
  // Every part counts: another period or another chain is another id.
  assert.notEqual(
    stackTxIdHex({ ...base, periodStartMs: 1700000160000, direction: 'up' }),
    '71dc8a9aaa298d18bbbbc3bd966ddeb2',
  );
  assert.notEqual(
    stackTxIdHex({ ...base, parentChain: 'hanzenet-region', direction: 'up' }),
    '71dc8a9aaa298d18bbbbc3bd966ddeb2',
  );
});

test('a MemberPosition sums the residual per direction and label set, sorted, in exact kWh', () => {
  const residuals = [
    { trader: 'h3', direction: 'produced', labels: ['solar'], wh: 1500n },
    { trader: 'h1', direction: 'consumed', labels: [], wh: 700n },
    { trader: 'h4', direction: 'produced', labels: ['wind', 'local'], wh: 1n },
    { trader: 'h2', direction: 'consumed', labels: [], wh: 500n },
    { trader: 'h5', direction: 'produced', labels: ['solar'], wh: 1000n },
    { trader: 'h6', direction: 'produced', labels: ['local', 'wind'], wh: 999n },
  ];
  const payload = buildMemberPosition({
    parentContext: C,
    childChain: 'hanzenet-child',
    childContext: N,
    periodStartMs: 1700000100000,
    periodMs: 900_000,
    height: 812,
    blockHash: 'ab'.repeat(32),
    residuals,
  });
  assert.deepEqual(payload, {
    context: C,
    member: N,
    chain: 'hanzenet-child',
    childContext: N,
    periodStartMs: 1700000100000,
    periodSeconds: 900,
    height: 812,
    blockHash: 'ab'.repeat(32),
    directions: ['consumed', 'produced', 'produced'],
    labels: [[], ['local', 'wind'], ['solar']],
    amounts: ['1.2', '1', '2.5'],
  });
  // The field order is the decision's: the payload text is part of the signed bytes.
  assert.equal(
    JSON.stringify(payload).slice(0, 60),
    `{"context":"${C}","member":"${N}","chain":"hanzenet-child"`.slice(0, 60),
  );
  assert.deepEqual(residualTotalsWh(residuals), { producedWh: 3500n, consumedWh: 1200n });
});

test('a MemberPosition leaves out label sets that sum to nothing', () => {
  const payload = buildMemberPosition({
    parentContext: C,
    childChain: 'a',
    childContext: N,
    periodStartMs: 0,
    periodMs: 60_000,
    height: 3,
    blockHash: '00'.repeat(32),
    residuals: [
      { trader: 'h1', direction: 'consumed', labels: [], wh: 0n },
      { trader: 'h2', direction: 'produced', labels: [], wh: 2n },
    ],
  });
  assert.deepEqual(
    [payload.directions, payload.labels, payload.amounts],
    [['produced'], [[]], ['0.002']],
  );
  assert.equal(payload.periodSeconds, 60);
});

const flow = (
  seq: number,
  kind: string,
  seller: string,
  buyer: string,
  labels: string[],
  wh: bigint,
  priceUeur: bigint,
  height: number,
): ParentFlowRow => ({
  seq: BigInt(seq),
  kind,
  seller,
  buyer,
  labels,
  wh,
  priceUeur,
  height: BigInt(height),
});

test("an UpstreamSettlement lists the member's flows in flow order, without late energy and corrections", () => {
  const flows = [
    flow(4, 'own', N, N, ['solar'], 100n, 0n, 955),
    flow(0, 'allocation', M, N, ['solar'], 1000n, 200_000n, 955),
    flow(1, 'allocation', N, M, ['solar'], 500n, 200_000n, 955),
    flow(2, 'allocation', M, '1Other', ['solar'], 300n, 200_000n, 955),
    flow(3, 'supply', C, N, [], 200n, 300_000n, 955),
    flow(5, 'late_supply', C, N, [], 50n, 300_000n, 956),
    flow(6, 'correction_export', N, C, [], 70n, 50_000n, 957),
  ];
  assert.equal(settlementHeight(N, flows), 955);
  assert.equal(memberFlows(N, flows).length, 4);
  const payload = buildUpstreamSettlement(
    {
      parentChain: 'hanzenet-city',
      parentContext: C,
      member: N,
      periodStartMs: 1700000100000,
      supplyUeur: 300_000n,
      feedInUeur: 50_000n,
      height: 955,
      blockHash: 'cd'.repeat(32),
    },
    flows,
  );
  // The decision's example, field for field.
  assert.deepEqual(payload, {
    context: N,
    periodStartMs: 1700000100000,
    chain: 'hanzenet-city',
    parentContext: C,
    member: N,
    height: 955,
    blockHash: 'cd'.repeat(32),
    missed: false,
    supplyEur: '0.3',
    feedInEur: '0.05',
    sides: ['in', 'out', 'in', 'own'],
    counterparties: [M, M, C, N],
    labels: [['solar'], ['solar'], [], ['solar']],
    amounts: ['1', '0.5', '0.2', '0.1'],
    pricesEur: ['0.2', '0.2', '0.3', '0'],
    external: [false, false, true, false],
  });
});

test('an export from the member is an external out flow; a member without flows has no height', () => {
  const flows = [flow(0, 'export', N, C, ['solar'], 1234n, 40_000n, 20)];
  const payload = buildUpstreamSettlement(
    {
      parentChain: 'p',
      parentContext: C,
      member: N,
      periodStartMs: 0,
      supplyUeur: 1n,
      feedInUeur: 40_000n,
      height: 20,
      blockHash: '11'.repeat(32),
    },
    flows,
  );
  assert.deepEqual(
    [payload.sides, payload.counterparties, payload.amounts, payload.pricesEur, payload.external],
    [['out'], [C], ['1.234'], ['0.04'], [true]],
  );
  assert.equal(settlementHeight(M, flows), null);
});

test("the missed variant has no flows and the parent's supply and feed-in prices", () => {
  const payload = buildMissedSettlement({
    parentChain: 'hanzenet-city',
    parentContext: C,
    member: N,
    periodStartMs: 1700000100000,
    supplyUeur: 312_345n,
    feedInUeur: 1n,
    height: 1001,
    blockHash: 'ef'.repeat(32),
  });
  assert.deepEqual(payload, {
    context: N,
    periodStartMs: 1700000100000,
    chain: 'hanzenet-city',
    parentContext: C,
    member: N,
    height: 1001,
    blockHash: 'ef'.repeat(32),
    missed: true,
    supplyEur: '0.312345',
    feedInEur: '0.000001',
    sides: [],
    counterparties: [],
    labels: [],
    amounts: [],
    pricesEur: [],
    external: [],
  });
});

test('prices are exact EUR text', () => {
  assert.deepEqual([0n, 1n, 200_000n, 10_000_000n, 1_230_000n].map(formatUeur), [
    '0',
    '0.000001',
    '0.2',
    '10',
    '1.23',
  ]);
});
