// Random energy-market calls for property tests (test/energy-properties.test.ts runs them on the
// test chain one call at a time, test/energy-backends.test.ts on real processors). An op is either "make a
// block" or a call whose fields the test turns into a payload and a sender.

import fc from 'fast-check';

export const LABELS = ['local', 'solar', 'wind'] as const;

export type Op =
  | { kind: 'block'; advanceMs: number }
  | { kind: 'call'; type: string; sender: number; ctx: number; fields: Fields };

export interface Fields {
  readonly address: number;
  readonly other: number;
  readonly allowed: boolean;
  readonly labels: readonly string[];
  readonly labels2: readonly string[];
  readonly wh: number;
  readonly blockPick: number;
  readonly rawBlock: boolean;
  readonly periodSeconds: number;
}

// Label sets lean towards the ones the test devices carry, so that balances match often.
const arbLabels = fc.oneof(
  fc.constantFrom<string[]>([], ['solar'], ['local', 'wind']),
  fc.subarray([...LABELS]),
);
const arbWh = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 1, max: 5000 }) },
  { weight: 20, arbitrary: fc.integer({ min: -5000, max: -1 }) },
  { weight: 1, arbitrary: fc.constant(0) },
);

function arbFields(periodSeconds: readonly number[]): fc.Arbitrary<Fields> {
  return fc.record({
    address: fc.nat(9),
    other: fc.nat(9),
    allowed: fc.constantFrom(true, true, true, false),
    labels: arbLabels,
    labels2: arbLabels,
    wh: arbWh,
    blockPick: fc.nat(50),
    rawBlock: fc.constantFrom(false, false, false, true),
    periodSeconds: fc.constantFrom(...periodSeconds),
  });
}

export interface OpOptions {
  /** Weight of "make a block" against 12 for a call. */
  readonly blockWeight: number;
  /** Sender indexes are drawn from 0..senderMax. */
  readonly senderMax: number;
  readonly periodSeconds: readonly number[];
}

export function arbOp(opts: OpOptions): fc.Arbitrary<Op> {
  return fc.oneof(
    {
      weight: opts.blockWeight,
      arbitrary: fc.record({
        kind: fc.constant('block' as const),
        advanceMs: fc.integer({ min: 1, max: 4000 }),
      }),
    },
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constant('call' as const),
        type: fc.constantFrom(
          'Trader',
          'Producer',
          'Consumer',
          'SettlementPeriod',
          'Energy',
          'Energy',
          'Energy',
          'Energy',
          'Transfer',
          'Transfer',
          'Transfer',
          'Reduce',
          'Reduce',
          'Mutate',
        ),
        sender: fc.nat(opts.senderMax),
        ctx: fc.nat(1),
        fields: arbFields(opts.periodSeconds),
      }),
    },
  );
}

export function pick<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('empty list');
  return item;
}
