// Creating and deleting contracts (shared PROTOCOL.md section 4). Both are transactions signed by
// the processor and sent to the special hashes 00..00 (create) and ff..ff (delete). A create or
// delete that fails is `invalid` (Validana: it is never in a block), with code not_processor,
// contract_create_invalid or contract_delete_invalid.
//
// Contract code is the text of one plain function expression (authoring/pack.ts makes it from a
// TypeScript contract). A create evaluates it once in a scratch QuickJS instance (never the
// block's) to make sure of that: the function's own source text must be the whole code, so
// evaluating the code can have no effect other than making the function.

import type { InvalidCode } from '../../core/errors.js';
import type { Tx, TxOutcome } from '../../chain/types.js';
import type { ContractRecord, TableDef } from '../../chain/contract-model.js';
import { checkManifestAgainst } from '../manifest.js';
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { parseCreatePayload, parseDeletePayload } from '../create-payload.js';
import type { ContractDraft } from '../create-payload.js';
import { CONTRACT_LIMITS } from '../limits.js';
import { freshQuickJS, SANDBOX_INTRINSICS } from './quickjs.js';
import { contractScript } from './sandbox.js';

/** Budget of the scratch evaluation: a function expression needs almost nothing. */
const SCRATCH_INTERRUPTS_MAX = 20;
const SCRATCH_MEMORY_BYTES = 32 * 1024 * 1024;

const invalid = (code: InvalidCode, message: string): TxOutcome => ({
  status: 'invalid',
  code,
  message,
});

function notProcessor(
  tx: Pick<Tx, 'sender' | 'idHex'>,
  processorAddress: string,
  what: string,
): TxOutcome {
  return invalid(
    'not_processor',
    `Only the processor ${processorAddress} may ${what} contracts; transaction ${tx.idHex} is signed by ${tx.sender}.`,
  );
}

/**
 * Everything about a create that needs no QuickJS: signer, payload, hash not taken, tables
 * compatible. `known` holds every contract ever created (deleted ones too), `defs` every table.
 * At admission (`pending: true`) a table under `reads` may still be missing, because a create
 * queued before this one may define it; the block executor checks that in block order.
 */
export function checkCreate(
  tx: Pick<Tx, 'sender' | 'idHex' | 'payloadText'>,
  processorAddress: string,
  known: ReadonlyMap<string, Pick<ContractRecord, 'hashHex'>>,
  defs: ReadonlyMap<string, TableDef>,
  opts: { readonly pending?: boolean } = {},
): { ok: true; draft: ContractDraft } | { ok: false; outcome: TxOutcome } {
  if (tx.sender !== processorAddress)
    return { ok: false, outcome: notProcessor(tx, processorAddress, 'create') };
  const parsed = parseCreatePayload(tx.payloadText);
  if (!parsed.ok)
    return {
      ok: false,
      outcome: invalid('contract_create_invalid', `Invalid create payload: ${parsed.message}.`),
    };
  const { draft } = parsed;
  if (known.has(draft.hashHex))
    return {
      ok: false,
      outcome: invalid('contract_create_invalid', `Contract ${draft.hashHex} already exists.`),
    };
  const manifest =
    opts.pending === true
      ? { tables: draft.manifest.tables, reads: draft.manifest.reads.filter((r) => defs.has(r)) }
      : draft.manifest;
  const clash = checkManifestAgainst(manifest, defs);
  if (clash !== null)
    return {
      ok: false,
      outcome: invalid(
        'contract_create_invalid',
        `Invalid manifest for contract ${draft.type}: ${clash}.`,
      ),
    };
  return { ok: true, draft };
}

/**
 * Signer, payload and target of a delete; `known` holds every contract ever created. At
 * admission (`pending: true`) the target may still be queued for creation, so only the signer
 * and the payload are checked; the block executor checks the target in block order.
 */
export function checkDelete(
  tx: Pick<Tx, 'sender' | 'idHex' | 'payloadText'>,
  processorAddress: string,
  known: ReadonlyMap<string, Pick<ContractRecord, 'hashHex' | 'creator' | 'deletedHeight'>>,
  opts: { readonly pending?: boolean } = {},
): { ok: true; hashHex: string } | { ok: false; outcome: TxOutcome } {
  if (tx.sender !== processorAddress)
    return { ok: false, outcome: notProcessor(tx, processorAddress, 'delete') };
  const parsed = parseDeletePayload(tx.payloadText);
  if (!parsed.ok)
    return {
      ok: false,
      outcome: invalid('contract_delete_invalid', `Invalid delete payload: ${parsed.message}.`),
    };
  if (opts.pending === true) return { ok: true, hashHex: parsed.hashHex };
  const record = known.get(parsed.hashHex);
  if (record === undefined || record.deletedHeight !== null || record.creator !== tx.sender) {
    return {
      ok: false,
      outcome: invalid(
        'contract_delete_invalid',
        `Not creator of contract or contract: ${parsed.hashHex} does not exist.`,
      ),
    };
  }
  return { ok: true, hashHex: parsed.hashHex };
}

/**
 * Evaluates the code in a fresh scratch QuickJS instance and checks that it is exactly one plain
 * function expression (not async, not a generator, not a class). Returns a message or null.
 */
export async function checkContractCode(code: string): Promise<string | null> {
  const module = await freshQuickJS();
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(SCRATCH_MEMORY_BYTES);
  runtime.setMaxStackSize(CONTRACT_LIMITS.stackBytes);
  let interrupts = 0;
  runtime.setInterruptHandler(() => ++interrupts > SCRATCH_INTERRUPTS_MAX);
  const ctx = runtime.newContext({ intrinsics: SANDBOX_INTRINSICS });
  try {
    const evaluated = ctx.evalCode(contractScript(code), 'contract.js');
    if (evaluated.error !== undefined) {
      const err = ctx.dump(evaluated.error) as { name?: unknown; message?: unknown } | null;
      evaluated.error.dispose();
      return `the code does not evaluate: ${String(err?.name)}: ${String(err?.message)}`;
    }
    const fn = evaluated.value;
    try {
      if (ctx.typeof(fn) !== 'function')
        return `the code must be a function expression, it evaluates to ${ctx.typeof(fn)}`;
      const described = describeFunction(ctx, fn);
      if (typeof described === 'string') return described;
      const [source, plain] = described;
      if (!plain)
        return 'the code must be a plain function expression, not async and not a generator';
      if (/^class\b/.test(source)) return 'the code must be a function expression, not a class';
      if (source !== code.trim())
        return 'the code must be exactly one function expression, with nothing before or after it but whitespace';
      return null;
    } finally {
      fn.dispose();
    }
  } finally {
    ctx.dispose();
    try {
      runtime.dispose();
    } catch {
      // The scratch instance is dropped anyway; the check's answer above is what counts.
    }
  }
}

/** [source text, is a plain function] of a function handle, or a message when it cannot be read. */
function describeFunction(ctx: QuickJSContext, fn: QuickJSHandle): [string, boolean] | string {
  const probe = ctx.evalCode(
    '(function (f) { return [Function.prototype.toString.call(f), Object.getPrototypeOf(f) === Function.prototype]; })',
  );
  if (probe.error !== undefined) {
    probe.error.dispose();
    return 'the code could not be inspected';
  }
  const result = ctx.callFunction(probe.value, ctx.undefined, fn);
  probe.value.dispose();
  if (result.error !== undefined) {
    result.error.dispose();
    return 'the code could not be inspected';
  }
  const value: unknown = ctx.dump(result.value);
  result.value.dispose();
  if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'boolean')
    return 'the code could not be inspected';
  return [value[0], value[1]];
}

/** The record of a contract created by `tx` in block `height`. */
export function recordOf(draft: ContractDraft, creator: string, height: number): ContractRecord {
  return { ...draft, creator, createdHeight: height, deletedHeight: null };
}
