// The keys of a config file's JSON Schema as docs/config.md lists them: one row per key path
// (`aggregation.periodSeconds`, `meters[].source.baud`), with what it accepts (in the words the
// errors use), its default, and whether it is required.

import { describe } from '../../src/config/check.js';

interface Node {
  readonly type?: string;
  readonly const?: unknown;
  readonly anyOf?: readonly Node[];
  readonly properties?: Readonly<Record<string, Node>>;
  readonly required?: readonly string[];
  readonly items?: Node;
  readonly default?: unknown;
}

export interface KeyRow {
  readonly key: string;
  readonly accepts: string;
  /** The schema's default as JSON, "(required)", or null (none: the docs say what happens). */
  readonly fallback: string | null;
}

/** The leaf keys of an object schema, containers (objects, arrays, tagged unions) opened. */
export function keyRows(schema: unknown, prefix = ''): KeyRow[] {
  const node = schema as Node;
  const out: KeyRow[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = `${prefix}${name}`;
    const required = (node.required ?? []).includes(name);
    const variants = child.anyOf?.filter((v) => v.type === 'object') ?? [];
    if (child.type === 'object') out.push(...keyRows(child, `${key}.`));
    else if (child.type === 'array' && child.items?.type === 'object')
      out.push(...keyRows(child.items, `${key}[].`));
    else if (variants.length > 0 && variants.length === child.anyOf?.length)
      out.push(...variantRows(variants, `${key}.`));
    else out.push({ key, accepts: describe(child), fallback: fallbackOf(child, required) });
  }
  return out;
}

/** A union of objects told apart by `type`: `type` lists the tags, the other keys once each. */
function variantRows(variants: readonly Node[], prefix: string): KeyRow[] {
  const tags = variants.map((v) => v.properties?.['type'] ?? {});
  const rows = new Map<string, KeyRow>();
  rows.set(`${prefix}type`, {
    key: `${prefix}type`,
    accepts: describe({ anyOf: tags } as never),
    fallback: '(required)',
  });
  for (const v of variants)
    for (const row of keyRows({ ...v, properties: withoutType(v) }, prefix))
      if (!rows.has(row.key)) rows.set(row.key, row);
  return [...rows.values()];
}

function withoutType(v: Node): Record<string, Node> {
  const { type: _type, ...rest } = v.properties ?? {};
  return rest;
}

function fallbackOf(node: Node, required: boolean): string | null {
  if (required) return '(required)';
  return node.default === undefined ? null : JSON.stringify(node.default);
}
