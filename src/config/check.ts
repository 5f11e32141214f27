// Checking a parsed config file against its JSON Schema (written with TypeBox, docs/decisions/
// 0009-config-schemas-with-typebox.md) and turning the first thing wrong into one problem: the key
// path in the file (`meters[2].source.baud`) and what was expected there. Pure: no I/O.

import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';

/** The first thing wrong with a config: where (a key path, `(file)` for the whole file) and what. */
export interface ConfigProblem {
  readonly field: string;
  readonly message: string;
}

/** The schema's shape as this module reads it (a JSON Schema object). */
interface SchemaNode {
  readonly type?: string;
  readonly const?: unknown;
  readonly anyOf?: readonly SchemaNode[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** The first problem of `value` under `schema`, or null when the value is valid. */
export function configProblem(schema: TSchema, value: unknown): ConfigProblem | null {
  return problemAt(schema, value, '');
}

function problemAt(schema: TSchema, value: unknown, prefix: string): ConfigProblem | null {
  const first: ValueError | undefined = Value.Errors(schema, value).First();
  if (first === undefined) return null;
  const pointer = prefix + first.path;
  const node = first.schema as SchemaNode;
  if (first.type === ValueErrorType.ObjectAdditionalProperties) {
    const valid = Object.keys(node.properties ?? {});
    return {
      field: fieldOf(pointer),
      message: `unknown key (valid keys here: ${valid.join(', ')})`,
    };
  }
  const variants = discriminated(node);
  if (variants !== null) return variantProblem(variants, first.value, pointer);
  const got = first.type === ValueErrorType.ObjectRequiredProperty ? 'nothing' : shown(first.value);
  return { field: fieldOf(pointer), message: `expected ${describe(node)}, got ${got}` };
}

/**
 * A union of objects told apart by their `type` key (the gateway's sources): the value is
 * checked against the variant its `type` names, so the problem names the key inside it.
 */
function variantProblem(
  variants: ReadonlyMap<unknown, SchemaNode>,
  value: unknown,
  pointer: string,
): ConfigProblem | null {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject)
    return {
      field: fieldOf(pointer),
      message: `expected an object with "type", got ${shown(value)}`,
    };
  const type = (value as Record<string, unknown>)['type'];
  const variant = variants.get(type);
  if (variant === undefined) {
    const names = [...variants.keys()].map((k) => JSON.stringify(k));
    return {
      field: fieldOf(`${pointer}/type`),
      message: `expected ${alternatives(names)}, got ${type === undefined ? 'nothing' : shown(type)}`,
    };
  }
  return problemAt(variant as TSchema, value, pointer);
}

/** The variants of a union of objects by their `type` constant, or null for any other schema. */
function discriminated(node: SchemaNode): Map<unknown, SchemaNode> | null {
  if (node.anyOf === undefined) return null;
  const out = new Map<unknown, SchemaNode>();
  for (const v of node.anyOf) {
    const tag = v.properties?.['type']?.const;
    if (v.type !== 'object' || tag === undefined) return null;
    out.set(tag, v);
  }
  return out;
}

/** A value as JSON, cut short: a message names the value, it does not repeat a whole object. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= SHOWN_CHARS_MAX ? text : `${text.slice(0, SHOWN_CHARS_MAX)}...`;
}

const SHOWN_CHARS_MAX = 80;

/** A JSON pointer (`/meters/2/source/baud`) as a key path (`meters[2].source.baud`). */
export function fieldOf(pointer: string): string {
  if (pointer === '') return '(file)';
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** What a schema accepts, in words ("an integer from 0 to 65535"). */
export function describe(node: SchemaNode): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.anyOf !== undefined) return alternatives(node.anyOf.map(describe));
  switch (node.type) {
    case 'integer':
      return `an integer${range(node.minimum, node.maximum)}`;
    case 'number':
      return `a number${range(node.minimum, node.maximum)}`;
    case 'string': {
      const what = (node.minLength ?? 0) > 0 ? 'a non-empty string' : 'a string';
      return node.pattern === undefined ? what : `${what} matching ${node.pattern}`;
    }
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array':
      return `an array of ${node.minItems ?? 0} to ${node.maxItems ?? 'any number of'} items`;
    case 'object':
      return `an object with keys ${Object.keys(node.properties ?? {}).join(', ')}`;
    default:
      return 'a valid value';
  }
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** "a", "a or b", "a, b or c". */
function alternatives(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? 'nothing';
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
