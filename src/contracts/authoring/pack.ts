// Packing a TypeScript contract (define.ts) into a create payload: only the source text of
// `execute`, with the declared helpers put into its body (helpers.ts), goes on chain, so its hash
// depends on nothing but that text. Deterministic: the same
// definition always gives the same payload and hash.

import { ChainError } from '../../core/errors.js';
import type { ContractDefinition } from './define.js';
import { withHelpers } from './helpers.js';
import { contractHashHex, parseCreatePayload } from '../create-payload.js';
import { manifestJson } from '../manifest.js';
import { baseFieldType, checkTemplateDefinition, KNOWN_FIELD_TYPES } from '../template.js';

export interface PackedContract {
  /** The create payload (send JSON.stringify of it to the create hash 00..00). */
  readonly payload: {
    readonly type: string;
    readonly version: string;
    readonly description: string;
    /** JSON text of the template (Validana v1 style). */
    readonly template: string;
    /** base64 of the manifest JSON. */
    readonly init: string;
    /** base64 of the code: one function expression. */
    readonly code: string;
  };
  readonly hashHex: string;
}

const IDENTIFIER_HEAD = /^[A-Za-z_$][A-Za-z0-9_$]*\s*\(/;
const KEYWORD_HEAD = /^(?:function|async|class)\b/;

/**
 * The source text of `execute` as a function expression. A method written as `execute(p, ctx) {`
 * prints as exactly that, which is not an expression: it becomes `function execute(p, ctx) {`.
 */
export function executeSource(fn: (...args: never[]) => unknown): string {
  const source = Function.prototype.toString.call(fn).trim();
  if (KEYWORD_HEAD.test(source) || source.startsWith('(')) return source;
  if (IDENTIFIER_HEAD.test(source)) return `function ${source}`;
  // Arrow functions with one bare parameter (`p => ...`) and anything else are left as printed.
  return source;
}

/** Refuses template types that would silently count as `str` (a typo such as `address`). */
function checkKnownTypes<P>(def: ContractDefinition<P>): void {
  for (const [key, field] of Object.entries(def.template)) {
    if (!KNOWN_FIELD_TYPES.has(baseFieldType(field.type))) {
      throw new ChainError(
        'contract_create_invalid',
        `contract ${def.type}: template field ${key} has type ${JSON.stringify(field.type)}, which is not a known type`,
        { field: key },
      );
    }
  }
}

export function packContract<P>(def: ContractDefinition<P>): PackedContract {
  const templateCheck = checkTemplateDefinition(def.template);
  if (!templateCheck.ok)
    throw new ChainError(
      'contract_create_invalid',
      `contract ${def.type}: ${templateCheck.message}`,
    );
  checkKnownTypes(def);
  const code = withHelpers(
    def.type,
    executeSource(def.execute as (...args: never[]) => unknown),
    def.helpers,
  );
  const payload = {
    type: def.type,
    version: def.version,
    description: def.description,
    template: JSON.stringify(def.template),
    init: Buffer.from(manifestJson(def.manifest), 'utf8').toString('base64'),
    code: Buffer.from(code, 'utf8').toString('base64'),
  };
  const parsed = parseCreatePayload(JSON.stringify(payload));
  if (!parsed.ok)
    throw new ChainError(
      'contract_create_invalid',
      `contract ${def.type} does not pack into a valid create payload: ${parsed.message}`,
    );
  return { payload, hashHex: contractHashHex(code, 1) };
}
