// How a contract is written in TypeScript. A contract module exports one ContractDefinition made
// with defineContract(). Only the *source text* of `execute` goes on chain (docs/contract-api.md),
// together with the helpers it declares, so `execute` must be self-contained: no references to
// anything outside its own body except declared helpers (type-only imports are fine; they vanish
// when compiled). A helper used by one contract goes inside the function; one shared by several is
// exported once and listed in `helpers` (helpers.ts), and the packer puts its source into each.
//
// A contract declares the codes it rejects with in `rejects`. The compiler then holds every
// ctx.reject(code, ...) in `execute` to that list, so a misspelt code fails the build instead of
// reaching a block; leave out defineContract's type arguments so that the list is inferred.

import type { ContractManifest, Template } from '../../chain/contract-model.js';
import type { ContractHelpers } from './helpers.js';

/** Host row value types as seen *inside* the sandbox (bigint columns arrive as BigInt). */
export type SandboxValue =
  | string
  | bigint
  | boolean
  | string[]
  | null
  | number
  | SandboxValue[]
  | { [k: string]: SandboxValue };
export type SandboxRow = Record<string, SandboxValue>;

export interface RejectResult {
  readonly __reject: true;
  readonly code: string;
  readonly message: string;
}

export interface ContractDb {
  /** The row with this primary key, or null. `key` holds exactly the key columns. */
  get(table: string, key: SandboxRow): SandboxRow | null;
  /** Inserts or replaces the full row (every column of the table). */
  put(table: string, row: SandboxRow): void;
  /** Deletes the row with this primary key; true when it existed. */
  delete(table: string, key: SandboxRow): boolean;
  /** Rows whose columns equal every value in `where`, ordered by primary key; at most `limit` (default 1000, max 10000). */
  find(table: string, where: SandboxRow, limit?: number): SandboxRow[];
}

/** What `execute` sees of the call and the chain; C is the contract's declared reject codes. */
export interface ContractContext<C extends string = string> {
  /** Address of the transaction's signer. */
  readonly sender: string;
  /** Transaction id, lowercase hex. */
  readonly txId: string;
  readonly contractHash: string;
  readonly contractType: string;
  /** The processor's address (pinned at genesis). */
  readonly processor: string;
  /** The block being produced. Contracts get no other clock. */
  readonly block: {
    readonly height: number;
    readonly processedMs: number;
    readonly previousProcessedMs: number;
    readonly previousHash: string;
  };
  readonly db: ContractDb;
  /**
   * Build the value to return to reject the call with a stable code and a human message. A
   * property, not a method: methods are compared bivariantly, and a context that takes fewer
   * codes must not be accepted where `execute` asks for one that takes more.
   */
  readonly reject: (code: C, message: string) => RejectResult;
}

/**
 * What a helper gets of ctx when it takes one: everything but reject, which stays with the
 * contract that declares its codes. Every contract's context fits it, whatever codes it declares
 * (a ContractContext<C> does not fit ContractContext<string>: its reject takes fewer codes).
 */
export type HelperContext = Omit<ContractContext, 'reject'>;

/** Return undefined or 'OK' to accept; return ctx.reject(...) to reject. Any other string rejects (Validana v1 rule). */
export type ContractResult = undefined | string | RejectResult;

/** A contract: P is its payload type (what the template guarantees), C its declared reject codes. */
export interface ContractDefinition<P = Record<string, unknown>, C extends string = string> {
  readonly type: string;
  readonly version: string;
  readonly description: string;
  readonly template: Template;
  readonly manifest: ContractManifest;
  /**
   * Every code `execute` passes to ctx.reject. Not part of the contract on chain: it types
   * ctx.reject and tells the catalogue which contract rejects with which code. A definition
   * without it declares no codes, and its ctx.reject takes any (C = string).
   */
  readonly rejects?: readonly C[];
  /** Shared helper functions execute calls, by name (helpers.ts); their source goes on chain with it. */
  readonly helpers?: ContractHelpers;
  readonly execute: (payload: P, ctx: ContractContext<C>) => ContractResult;
}

/**
 * With `rejects` and no type arguments, C is inferred as the union of the declared codes, from
 * `rejects` alone (NoInfer): an `execute` whose ctx takes more codes does not compile. A contract
 * without `rejects`, or with explicit type arguments, gets C = string: every code compiles.
 */
export function defineContract<P, const C extends string = string>(
  def: Omit<ContractDefinition<P, C>, 'execute'> & {
    readonly execute: (payload: P, ctx: ContractContext<NoInfer<C>>) => ContractResult;
  },
): ContractDefinition<P, C> {
  return def;
}
