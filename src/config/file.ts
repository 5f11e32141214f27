// One config-file mechanism for the processor, the mirror node and the P1 gateway (docs/config.md):
// a JSON file read whole, checked against the service's JSON Schema before anything starts, any
// problem reported as one coded error naming the file, the key path and what was expected.
// Relative paths in a file are taken relative to the file's folder.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { ChainError, type ErrorCode } from '../core/errors.js';
import { configProblem } from './check.js';

/** Which config a file holds, for messages, and the code its problems are reported with. */
export interface ConfigKind {
  /** "processor", "node", "gateway": messages say "the processor config file FILE". */
  readonly name: string;
  readonly code: ErrorCode;
}

/** A config as read from a file: the checked value and the folder its relative paths start in. */
export interface LoadedConfig<T> {
  readonly value: T;
  readonly file: string;
  readonly baseDir: string;
}

/** The error for a problem in `file` (or in a config not read from a file, when file is null). */
export function configError(
  kind: ConfigKind,
  file: string | null,
  field: string,
  message: string,
  options?: ErrorOptions,
): ChainError {
  const where = file === null ? `the ${kind.name} config` : `the ${kind.name} config file ${file}`;
  const details = file === null ? { field } : { field, file };
  return new ChainError(kind.code, `${where}: ${field}: ${message}`, details, options);
}

/** Checks a parsed config against its schema; throws the kind's coded error at the first problem. */
export function checkConfig<T extends TSchema>(
  schema: T,
  raw: unknown,
  kind: ConfigKind,
  file: string | null,
): Static<T> {
  const problem = configProblem(schema, raw);
  if (problem !== null) throw configError(kind, file, problem.field, problem.message);
  return raw as Static<T>;
}

/** The parsed JSON of a config file (not yet checked). */
export function readConfigJson(kind: ConfigKind, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw configError(kind, file, '(file)', `cannot be read: ${reason}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw configError(kind, file, '(file)', `is not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Reads and checks a config file; `file` is taken relative to the working directory. */
export function loadConfigFile<T extends TSchema>(
  schema: T,
  kind: ConfigKind,
  file: string,
): LoadedConfig<Static<T>> {
  const path = resolve(file);
  const value = checkConfig(schema, readConfigJson(kind, path), kind, path);
  return { value, file: path, baseDir: dirname(path) };
}

/** A path from a config file: absolute as given, relative ones from the file's folder. */
export function pathIn(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : join(baseDir, p);
}

/**
 * Command options with a config file's values filled in: a value set by a flag or an environment
 * variable stays; one left at its default (or unset) takes the file's value. The precedence is
 * flag > environment > file > default. `sourceOf` tells where an option's value came from
 * (commander's getOptionValueSource: "cli", "env", "default" or undefined).
 */
export function withFileValues<O extends object>(
  options: O,
  fileValues: Readonly<Record<string, unknown>>,
  sourceOf: (key: string) => string | undefined,
): O {
  const merged: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  for (const [key, value] of Object.entries(fileValues)) {
    if (value === undefined) continue;
    const source = sourceOf(key);
    if (source === undefined || source === 'default') merged[key] = value;
  }
  return merged as O;
}
