// Creating and deleting contracts (shared PROTOCOL.md section 4). Both are transactions signed by
// the processor and sent to the special hashes 00..00 (create) and ff..ff (delete). A create or
// delete that fails is `invalid` (Validana: it is never in a block), with code not_processor,
// contract_create_invalid or contract_delete_invalid.
//
// Contract code is the text of one plain function expression (see define.ts and pack.ts). A create
// evaluates it once in a scratch QuickJS instance (never the block's) to make sure of that: the
// function's own source text must be the whole code, so evaluating the code can have no effect
// other than making the function.

import { utf8Decode, utf8Encode, toHex } from '../core/bytes.js';
import { hash256 } from '../core/hash.js';
import type { InvalidCode } from '../core/errors.js';
import type { Tx, TxOutcome } from '../chain/types.js';
import type { ContractManifest, ContractRecord, TableDef, Template } from '../chain/contract-model.js';
import { checkManifestAgainst, parseManifest } from './manifest.js';
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { freshQuickJS, SANDBOX_INTRINSICS } from './quickjs.js';
import { contractScript } from './sandbox.js';
import { checkPayload, checkTemplateDefinition } from './template.js';
import { CONTRACT_LIMITS } from './types.js';

export const CONTRACT_TYPE_CHARS_MAX = 64;
export const CONTRACT_VERSION_CHARS_MAX = 32;
export const CONTRACT_DESCRIPTION_CHARS_MAX = 256;
/** Budget of the scratch evaluation: a function expression needs almost nothing. */
const SCRATCH_INTERRUPTS_MAX = 20;
const SCRATCH_MEMORY_BYTES = 32 * 1024 * 1024;

/** A contract as a create payload describes it, before it is on chain. */
export interface ContractDraft {
  readonly hashHex: string;
  readonly type: string;
  readonly version: string;
  readonly description: string;
  readonly template: Template;
  readonly validanaVersion: 1 | 2;
  readonly manifest: ContractManifest;
  readonly code: string;
}

export type CreateParse = { ok: true; draft: ContractDraft } | { ok: false; message: string };
export type DeleteParse = { ok: true; hashHex: string } | { ok: false; message: string };

const field = (type: string, desc: string): { type: string; name: string; desc: string } => ({ type, name: desc, desc });

/** The create payload's template, checked with version-2 rules as Validana does. */
const CREATE_TEMPLATE: Template = {
  type: field('str', 'type'),
  version: field('str', 'version'),
  description: field('str', 'description'),
  template: field('json', 'template'),
  init: field('base64', 'init'),
  code: field('base64', 'code'),
  validanaVersion: field('uint?', 'validanaVersion'),
};

const DELETE_TEMPLATE: Template = { hash: field('hash', 'hash') };

/** hash256 of the UTF-8 code text; validanaVersion 2 puts `"use strict";` in front first. */
export function contractHashHex(code: string, validanaVersion: number): string {
  return toHex(hash256(utf8Encode(validanaVersion === 2 ? `"use strict";${code}` : code)));
}

function base64Text(value: string, what: string): { ok: true; text: string } | { ok: false; message: string } {
  try {
    return { ok: true, text: utf8Decode(Buffer.from(value, 'base64')) };
  } catch {
    return { ok: false, message: `${what} is not base64 of UTF-8 text` };
  }
}

function templateOf(value: unknown): { ok: true; template: Template } | { ok: false; message: string } {
  let t = value;
  if (typeof value === 'string') {
    try {
      t = JSON.parse(value);
    } catch {
      return { ok: false, message: 'template is a string that is not JSON' };
    }
  }
  if (t === undefined) return { ok: false, message: 'template is missing' };
  return checkTemplateDefinition(t);
}

/** Parses a create payload into a draft, or says exactly what is wrong with it. */
export function parseCreatePayload(payloadText: string): CreateParse {
  const checked = checkPayload(CREATE_TEMPLATE, payloadText, { validanaVersion: 2 });
  if (!checked.ok) return { ok: false, message: checked.message };
  const p = checked.payload as { type: string; version: string; description: string; template: unknown; init: string; code: string; validanaVersion?: number };
  if (p.type.length === 0 || p.type.length > CONTRACT_TYPE_CHARS_MAX) return { ok: false, message: `type must be 1 to ${CONTRACT_TYPE_CHARS_MAX} characters, got ${p.type.length}` };
  if (p.version.length > CONTRACT_VERSION_CHARS_MAX) return { ok: false, message: `version must be at most ${CONTRACT_VERSION_CHARS_MAX} characters, got ${p.version.length}` };
  if (p.description.length > CONTRACT_DESCRIPTION_CHARS_MAX) return { ok: false, message: `description must be at most ${CONTRACT_DESCRIPTION_CHARS_MAX} characters, got ${p.description.length}` };
  const validanaVersion = p.validanaVersion ?? 1;
  if (validanaVersion !== 1 && validanaVersion !== 2) return { ok: false, message: `validanaVersion must be 1 or 2, got ${validanaVersion}` };
  const template = templateOf(p.template);
  if (!template.ok) return { ok: false, message: template.message };
  const init = base64Text(p.init, 'init');
  if (!init.ok) return { ok: false, message: init.message };
  const manifest = parseManifest(init.text);
  if (!manifest.ok) return { ok: false, message: manifest.message };
  if (p.code === '') return { ok: false, message: 'code is empty; it must hold the contract function (base64)' };
  const code = base64Text(p.code, 'code');
  if (!code.ok) return { ok: false, message: code.message };
  return {
    ok: true,
    draft: {
      hashHex: contractHashHex(code.text, validanaVersion),
      type: p.type,
      version: p.version,
      description: p.description,
      template: template.template,
      validanaVersion,
      manifest: manifest.manifest,
      code: code.text,
    },
  };
}

/** Parses a delete payload {"hash": "<64 hex>"}; the hash comes back lowercase. */
export function parseDeletePayload(payloadText: string): DeleteParse {
  const checked = checkPayload(DELETE_TEMPLATE, payloadText, { validanaVersion: 2 });
  if (!checked.ok) return { ok: false, message: checked.message };
  return { ok: true, hashHex: String(checked.payload['hash']).toLowerCase() };
}

const invalid = (code: InvalidCode, message: string): TxOutcome => ({ status: 'invalid', code, message });

function notProcessor(tx: Pick<Tx, 'sender' | 'idHex'>, processorAddress: string, what: string): TxOutcome {
  return invalid('not_processor', `Only the processor ${processorAddress} may ${what} contracts; transaction ${tx.idHex} is signed by ${tx.sender}.`);
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
  if (tx.sender !== processorAddress) return { ok: false, outcome: notProcessor(tx, processorAddress, 'create') };
  const parsed = parseCreatePayload(tx.payloadText);
  if (!parsed.ok) return { ok: false, outcome: invalid('contract_create_invalid', `Invalid create payload: ${parsed.message}.`) };
  const { draft } = parsed;
  if (known.has(draft.hashHex)) return { ok: false, outcome: invalid('contract_create_invalid', `Contract ${draft.hashHex} already exists.`) };
  const manifest = opts.pending === true ? { tables: draft.manifest.tables, reads: draft.manifest.reads.filter((r) => defs.has(r)) } : draft.manifest;
  const clash = checkManifestAgainst(manifest, defs);
  if (clash !== null) return { ok: false, outcome: invalid('contract_create_invalid', `Invalid manifest for contract ${draft.type}: ${clash}.`) };
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
  if (tx.sender !== processorAddress) return { ok: false, outcome: notProcessor(tx, processorAddress, 'delete') };
  const parsed = parseDeletePayload(tx.payloadText);
  if (!parsed.ok) return { ok: false, outcome: invalid('contract_delete_invalid', `Invalid delete payload: ${parsed.message}.`) };
  if (opts.pending === true) return { ok: true, hashHex: parsed.hashHex };
  const record = known.get(parsed.hashHex);
  if (record === undefined || record.deletedHeight !== null || record.creator !== tx.sender) {
    return { ok: false, outcome: invalid('contract_delete_invalid', `Not creator of contract or contract: ${parsed.hashHex} does not exist.`) };
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
      if (ctx.typeof(fn) !== 'function') return `the code must be a function expression, it evaluates to ${ctx.typeof(fn)}`;
      const described = describeFunction(ctx, fn);
      if (typeof described === 'string') return described;
      const [source, plain] = described;
      if (!plain) return 'the code must be a plain function expression, not async and not a generator';
      if (/^class\b/.test(source)) return 'the code must be a function expression, not a class';
      if (source !== code.trim()) return 'the code must be exactly one function expression, with nothing before or after it but whitespace';
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
  const probe = ctx.evalCode('(function (f) { return [Function.prototype.toString.call(f), Object.getPrototypeOf(f) === Function.prototype]; })');
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
  if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'boolean') return 'the code could not be inspected';
  return [value[0], value[1]];
}

/** The record of a contract created by `tx` in block `height`. */
export function recordOf(draft: ContractDraft, creator: string, height: number): ContractRecord {
  return { ...draft, creator, createdHeight: height, deletedHeight: null };
}
