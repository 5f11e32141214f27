// Payload templates (shared PROTOCOL.md section 4): Validana's field types and messages, plus the
// HanzeNet types `kwh` (exact energy, becomes a BigInt of Wh) and `labels` (a canonical label
// set). checkPayload returns the *converted* payload: that object is what contract code receives.
//
// Deliberate difference from Validana: a `T?` type is optional for every validanaVersion (Validana
// honours `?` only for version-2 contracts and treats `T?` as an unknown type, i.e. a string, in
// version 1). `TArray?` is an optional array.

import { parseKwh } from '../core/amount.js';
import { isAddress } from '../core/keys.js';
import { parseLabels } from '../core/labels.js';
import type { Template, TemplateField } from '../chain/contract-model.js';
import { CONTRACT_LIMITS } from './limits.js';

export type PayloadCheck =
  | { ok: true; payload: Record<string, unknown> }
  | { ok: false; message: string };
export type TemplateCheck = { ok: true; template: Template } | { ok: false; message: string };

export const TEMPLATE_KEY_CHARS_MAX = 64;
export const TEMPLATE_TYPE_CHARS_MAX = 64;
export const TEMPLATE_NAME_CHARS_MAX = 64;
export const TEMPLATE_DESC_CHARS_MAX = 256;
export const TEMPLATE_FIELDS_MAX = 100;

/** Types with a check of their own; any other type name counts as `str` (Validana rule). */
export const KNOWN_FIELD_TYPES: ReadonlySet<string> = new Set([
  'bool',
  'int',
  'uint',
  'float',
  'addr',
  'hex',
  'hash',
  'base64',
  'id',
  'json',
  'str',
  'kwh',
  'labels',
]);

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[+/0-9A-Za-z]*={0,2}$/;
const hasOwn = (o: object, k: string): boolean => Object.hasOwn(o, k);

/** The word Validana's messages use for a type. */
function kindWord(type: string): string {
  switch (type) {
    case 'bool':
      return 'boolean';
    case 'addr':
      return 'address';
    case 'int':
    case 'uint':
    case 'float':
    case 'hex':
    case 'hash':
    case 'base64':
    case 'json':
    case 'id':
    case 'kwh':
    case 'labels':
      return type;
    default:
      return 'string';
  }
}

export function isHexText(s: string): boolean {
  return s.length % 2 === 0 && HEX.test(s);
}

export function isBase64Text(s: string): boolean {
  return s.length % 4 === 0 && BASE64.test(s);
}

type ValueCheck = { ok: true; value: unknown } | { ok: false; detail: string };
const fine = (value: unknown): ValueCheck => ({ ok: true, value });
const wrong: ValueCheck = { ok: false, detail: '' };

/** Checks one value against a single (non-array, non-optional) type; returns the converted value. */
function checkValue(value: unknown, type: string, validanaVersion: number): ValueCheck {
  switch (type) {
    case 'bool':
      return typeof value === 'boolean' ? fine(value) : wrong;
    case 'int':
      return Number.isSafeInteger(value) ? fine(value) : wrong;
    case 'uint':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? fine(value) : wrong;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? fine(value) : wrong;
    case 'addr':
      return isAddress(value) ? fine(value) : wrong;
    case 'hex':
      return typeof value === 'string' && isHexText(value) ? fine(value) : wrong;
    case 'hash':
      return typeof value === 'string' && value.length === 64 && isHexText(value)
        ? fine(value)
        : wrong;
    case 'base64':
      return typeof value === 'string' && isBase64Text(value) ? fine(value) : wrong;
    case 'json':
      if (validanaVersion !== 1) return fine(value);
      return typeof value === 'string' && parsesAsJson(value) ? fine(value) : wrong;
    case 'id':
      if (typeof value !== 'string') return wrong;
      return validanaVersion === 1 || (value.length === 32 && isHexText(value))
        ? fine(value)
        : wrong;
    case 'kwh': {
      const r = parseKwh(value);
      return r.ok ? fine(r.wh) : { ok: false, detail: r.reason };
    }
    case 'labels': {
      const r = parseLabels(value);
      return r.ok ? fine(r.labels) : { ok: false, detail: r.reason };
    }
    default:
      return typeof value === 'string' ? fine(value) : wrong;
  }
}

function parsesAsJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** The deepest nesting of arrays and objects in a parsed JSON value (iterative: no recursion). */
export function jsonDepth(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (depth > CONTRACT_LIMITS.jsonDepthMax + 1) return depth;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>))
      stack.push([child, depth]);
  }
  return max;
}

/** Parses the payload text to a JSON object, as Validana does ("Payload is invalid json."). */
export function parsePayloadObject(payloadText: string): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payloadText);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  return parsed as Record<string, unknown>;
}

function fieldMessage(type: string, key: string, detail: string, inArray: boolean): string {
  const base = `Payload has invalid or missing ${kindWord(type)} type${inArray ? ' in array' : ''}: ${key}`;
  return detail === '' ? base : `${base} (${detail})`;
}

/** Checks one template field of the payload; returns the converted value or undefined when absent. */
function checkField(
  payload: Record<string, unknown>,
  key: string,
  field: TemplateField,
  validanaVersion: number,
): ValueCheck {
  const present = hasOwn(payload, key);
  const value = present ? payload[key] : undefined;
  let type = field.type;
  if (type.endsWith('?')) {
    if (!present) return fine(undefined);
    type = type.slice(0, -1);
  }
  if (type.endsWith('Array')) {
    if (!Array.isArray(value))
      return { ok: false, detail: `Payload has invalid or missing array type: ${key}` };
    const subType = type.slice(0, -'Array'.length);
    const out: unknown[] = [];
    for (const item of value) {
      const c = checkValue(item, subType, validanaVersion);
      if (!c.ok) return { ok: false, detail: fieldMessage(subType, key, c.detail, true) };
      out.push(c.value);
    }
    return fine(out);
  }
  const c = checkValue(value, type, validanaVersion);
  if (!c.ok) return { ok: false, detail: fieldMessage(type, key, c.detail, false) };
  return fine(c.value);
}

/**
 * Checks payload text against a template. The message of a failure follows Validana's forms and
 * names the field, e.g. `Payload has invalid or missing uint type: block`.
 */
export function checkPayload(
  template: Template,
  payloadText: string,
  opts: { validanaVersion: number },
): PayloadCheck {
  const payload = parsePayloadObject(payloadText);
  if (payload === null) return { ok: false, message: 'Payload is invalid json.' };
  if (jsonDepth(payload) > CONTRACT_LIMITS.jsonDepthMax) {
    return {
      ok: false,
      message: `Payload nests deeper than ${CONTRACT_LIMITS.jsonDepthMax} levels.`,
    };
  }
  for (const key of Object.keys(payload)) {
    if (!hasOwn(template, key)) return { ok: false, message: `Payload has extra key: ${key}` };
  }
  const entries: [string, unknown][] = [];
  for (const key of Object.keys(template)) {
    const field = template[key] as TemplateField;
    const c = checkField(payload, key, field, opts.validanaVersion);
    if (!c.ok) return { ok: false, message: c.detail };
    if (c.value !== undefined || hasOwn(payload, key)) entries.push([key, c.value]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return { ok: true, payload: Object.fromEntries(entries) };
}

/**
 * Checks a template object (Validana rules): keys of at most 64 characters, each value an object
 * with exactly the string fields type (<= 64), name (<= 64) and desc (<= 256).
 */
export function checkTemplateDefinition(t: unknown): TemplateCheck {
  if (typeof t !== 'object' || t === null || Array.isArray(t))
    return { ok: false, message: 'The template must be a JSON object.' };
  const keys = Object.keys(t);
  if (keys.length > TEMPLATE_FIELDS_MAX)
    return {
      ok: false,
      message: `The template has ${keys.length} fields, at most ${TEMPLATE_FIELDS_MAX} are allowed.`,
    };
  const out: Record<string, TemplateField> = {};
  for (const key of keys) {
    if (key.length > TEMPLATE_KEY_CHARS_MAX)
      return {
        ok: false,
        message: `Template key ${JSON.stringify(key.slice(0, 80))} is longer than ${TEMPLATE_KEY_CHARS_MAX} characters.`,
      };
    const f = (t as Record<string, unknown>)[key];
    if (typeof f !== 'object' || f === null || Array.isArray(f))
      return { ok: false, message: `Template field ${key} must be an object {type, name, desc}.` };
    const names = Object.keys(f);
    if (names.length !== 3 || !['type', 'name', 'desc'].every((n) => names.includes(n))) {
      return {
        ok: false,
        message: `Template field ${key} must have exactly the keys type, name and desc, got ${names.join(', ') || 'none'}.`,
      };
    }
    const { type, name, desc } = f as Record<string, unknown>;
    if (typeof type !== 'string' || type.length > TEMPLATE_TYPE_CHARS_MAX)
      return {
        ok: false,
        message: `Template field ${key}: type must be a string of at most ${TEMPLATE_TYPE_CHARS_MAX} characters.`,
      };
    if (typeof name !== 'string' || name.length > TEMPLATE_NAME_CHARS_MAX)
      return {
        ok: false,
        message: `Template field ${key}: name must be a string of at most ${TEMPLATE_NAME_CHARS_MAX} characters.`,
      };
    if (typeof desc !== 'string' || desc.length > TEMPLATE_DESC_CHARS_MAX)
      return {
        ok: false,
        message: `Template field ${key}: desc must be a string of at most ${TEMPLATE_DESC_CHARS_MAX} characters.`,
      };
    Object.defineProperty(out, key, {
      value: { type, name, desc },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { ok: true, template: out };
}

/** The base type of a field type with `?` and `Array` removed: "kwhArray?" -> "kwh". */
export function baseFieldType(type: string): string {
  let t = type.endsWith('?') ? type.slice(0, -1) : type;
  if (t.endsWith('Array')) t = t.slice(0, -'Array'.length);
  return t;
}
