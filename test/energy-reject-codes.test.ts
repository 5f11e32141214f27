// Reject and outcome codes are checked by the compiler. Each `@ts-expect-error` below marks a line
// that must NOT compile: should the type checks behind it ever be lost, the directive is unused and
// `npm run build` fails. The run-time assertions only show that the lines that do compile work.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineContract } from '../src/contracts/authoring/define.js';
import type {
  ContractContext,
  HelperContext,
  RejectResult,
} from '../src/contracts/authoring/define.js';
import type { InvalidCode, OutcomeCode, PlatformRejectCode } from '../src/core/errors.js';
import type { TxOutcome } from '../src/chain/types.js';
import type { EnergyRejectCodeName, EnergyTxOutcome } from '../src/energy/codes.js';
import type transfer from '../src/energy/transfer.js';

const template = { n: { type: 'uint', name: 'n', desc: 'A number' } };
const manifest = { tables: {}, reads: [] };

/** A context whose reject only builds the result, as the sandbox's does. */
function fakeContext<C extends string>(): ContractContext<C> {
  const db = { get: () => null, put: () => undefined, delete: () => false, find: () => [] };
  const block = {
    height: 1,
    processedMs: 1,
    previousProcessedMs: 0,
    previousHash: '00'.repeat(32),
  };
  const reject = (code: C, message: string): RejectResult => ({ __reject: true, code, message });
  return {
    sender: 's',
    txId: '00'.repeat(16),
    contractHash: '00'.repeat(32),
    contractType: 'T',
    processor: 'p',
    block,
    db,
    reject,
  };
}

test('ctx.reject takes only the codes the contract declares', () => {
  const counter = defineContract({
    type: 'Counter',
    version: '1',
    description: 'Rejects large numbers.',
    template,
    manifest,
    rejects: ['number_too_large'],
    execute(payload: { n: number }, ctx) {
      if (payload.n > 10) return ctx.reject('number_too_large', `${payload.n} is more than 10`);
      // @ts-expect-error a code the contract does not declare
      if (payload.n > 5) return ctx.reject('number_too_big', 'a misspelt code');
      return 'OK';
    },
  });
  assert.deepEqual(counter.rejects, ['number_too_large']);
  assert.deepEqual(counter.execute({ n: 11 }, fakeContext()), {
    __reject: true,
    code: 'number_too_large',
    message: '11 is more than 10',
  });
});

test('an execute that accepts more codes than the contract declares does not compile', () => {
  const wide = (_p: { n: number }, ctx: ContractContext<'a_code' | 'b_code'>) =>
    ctx.reject('b_code', 'b');
  const def = defineContract({
    type: 'Wide',
    version: '1',
    description: 'd',
    template,
    manifest,
    rejects: ['a_code'],
    // @ts-expect-error `execute` may reject with b_code, which `rejects` leaves out
    execute: wide,
  });
  assert.equal(def.type, 'Wide');
});

test("an energy contract's ctx.reject takes its own catalogued codes only", () => {
  type TransferContext = Parameters<typeof transfer.execute>[1];
  const ctx: TransferContext = fakeContext();
  assert.equal(ctx.reject('insufficient_energy', 'too little').code, 'insufficient_energy');
  // @ts-expect-error a catalogued code that Transfer does not declare
  assert.equal(ctx.reject('trader_has_producers', 'not Transfer').code, 'trader_has_producers');
  const txIdOf = (helperCtx: HelperContext): string => helperCtx.txId;
  assert.equal(txIdOf(ctx), '00'.repeat(16));
  const rejectsAnything = (anyCtx: ContractContext): string => anyCtx.txId;
  // @ts-expect-error a helper that may reject with any code cannot take Transfer's context
  assert.equal(rejectsAnything(ctx), '00'.repeat(16));
  // @ts-expect-error a code missing from the catalogue
  const declared: readonly EnergyRejectCodeName[] = ['insufficient_energy', 'insufficent_energy'];
  assert.equal(declared.length, 2);
});

test('outcome codes are the catalogues: a misspelt one does not compile', () => {
  const invalid: InvalidCode = 'tx_expired';
  const platform: PlatformRejectCode = 'contract_out_of_gas';
  const energy: EnergyTxOutcome = { status: 'rejected', code: 'insufficient_energy', message: 'm' };
  const any: TxOutcome = { status: 'rejected', code: 'a_code_of_another_contract', message: 'm' };
  // @ts-expect-error not a code a transaction ends invalid with
  const notInvalid: TxOutcome = { status: 'invalid', code: 'contract_error', message: 'm' };
  const misspelt: EnergyTxOutcome = {
    status: 'rejected',
    // @ts-expect-error misspelt energy code
    code: 'insufficent_energy',
    message: 'm',
  };
  // @ts-expect-error a platform code that is no outcome
  const notOutcome: OutcomeCode<EnergyRejectCodeName> = 'block_link_mismatch';
  assert.deepEqual(
    [invalid, platform, energy.status, any.status, notInvalid.status, misspelt.status, notOutcome],
    [
      'tx_expired',
      'contract_out_of_gas',
      'rejected',
      'rejected',
      'invalid',
      'rejected',
      'block_link_mismatch',
    ],
  );
});
