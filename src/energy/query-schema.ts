// Query strings of the dashboard's reads (docs/api.md "Energy"), checked against a TypeBox schema
// before anything is read: the parameters are strings, and the schema says which ones exist and
// what each must look like. The first problem becomes one bad_request naming the parameter in
// details.field, in the same words as a config file's problems (src/config/check.ts).

import { Type, type TSchema } from '@sinclair/typebox';
import { configProblem } from '../config/check.js';
import { ChainError } from '../core/errors.js';
import { isJsonObject, queryParam } from '../api/input.js';

/** A non-negative decimal integer as text, at most 16 digits (no sign, no leading zeros). */
export const DecimalText = Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' });

/** A base58check address as text (checked in full by parseAddressParam afterwards). */
export const AddressText = Type.String({ pattern: '^[1-9A-HJ-NP-Za-km-z]{25,40}$' });

/**
 * The query parameters of a request checked against `schema` (an object of optional strings):
 * an unknown or repeated parameter, or one that does not match, is bad_request with details.field.
 */
export function checkQuery(schema: TSchema, query: unknown): Record<string, string> {
  const names = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
  const params = onlyParams(query, names);
  const problem = configProblem(schema, params);
  if (problem !== null) {
    throw new ChainError('bad_request', `query parameter ${problem.field}: ${problem.message}`, {
      field: problem.field,
    });
  }
  return params;
}

/** The named query parameters (each at most once); any other parameter is a bad_request. */
export function onlyParams(query: unknown, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isJsonObject(query)) return out;
  for (const name of Object.keys(query)) {
    if (!names.includes(name)) {
      const allowed = names.length === 0 ? 'none are taken' : `expected ${names.join(', ')}`;
      throw new ChainError('bad_request', `unknown query parameter "${name}": ${allowed}`, {
        field: name,
        allowed: [...names],
      });
    }
    const value = queryParam(query, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}
