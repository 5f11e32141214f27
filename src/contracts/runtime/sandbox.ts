// The QuickJS sandbox of one block (docs/ARCHITECTURE.md, "Determinism of contract execution").
//
// A BlockSandbox owns a fresh QuickJS WebAssembly instance and one runtime with the block's memory
// limit. Each contract gets one context, created the first time the block calls it: the prelude
// freezes the realm, the contract's code is evaluated once to a function, and a runner wraps it.
// Every call then counts QuickJS interrupts (one about every 10,000 operations) against the
// transaction's budget. Nothing here reads a clock: the same block gives the same outcomes.

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten';
import { ChainError } from '../../core/errors.js';
import { truncateUtf8 } from '../../core/bytes.js';
import type { BlockTxOutcome } from '../../chain/types.js';
import type { ContractBudget, Row } from '../../chain/contract-model.js';
import { HOST_OP } from './prelude.js';
import { PRELUDE_SOURCE } from './prelude-source.js';
import { freshQuickJS, HostThrow, newTextHostFunction, SANDBOX_INTRINSICS } from './quickjs.js';
import type { HostCallPath, HostReply } from './quickjs.js';
import { CONTRACT_LIMITS, SETTLEMENT_BUDGET } from '../limits.js';
import type { ExecutionLimits } from '../limits.js';
import { decodeTagged, encodeForSandbox } from './wire.js';

export const REJECT_CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** The operations ctx.db offers, implemented by the executor on its overlay for the current tx. */
export interface DbHost {
  get(table: string, key: unknown): Row | null;
  put(table: string, row: unknown): void;
  delete(table: string, key: unknown): boolean;
  find(table: string, where: unknown, limit: number): Row[];
}

/** A contract broke a platform rule inside ctx.db: the call is rejected with this code whatever it returns. */
export class ContractFault extends Error {
  constructor(
    readonly code: 'contract_access_denied' | 'contract_bad_row' | 'contract_out_of_gas',
    message: string,
  ) {
    super(message);
    this.name = 'ContractFault';
  }
}

/** What ctx shows about the transaction and the block. */
export interface CallInfo {
  readonly sender: string;
  readonly txId: string;
  readonly contractHash: string;
  readonly contractType: string;
  readonly processor: string;
  readonly height: number;
  readonly processedMs: number;
  readonly previousProcessedMs: number;
  readonly previousHash: string;
}

export interface SandboxContract {
  readonly hashHex: string;
  readonly type: string;
  readonly code: string;
  /** Its manifest's budget: `settlement` multiplies the gas of one transaction (limits.ts). */
  readonly manifest?: { readonly budget?: ContractBudget };
}

/** State of the call in progress. */
interface CallState {
  readonly db: DbHost;
  interrupts: number;
  /** The interrupts this call may use. */
  readonly interruptsMax: number;
  outOfGas: boolean;
  fault: ContractFault | null;
  /** A failure of the host (a state read that failed): the block fails, no outcome is decided. */
  hostError: unknown;
}

interface LoadedContract {
  readonly ctx: QuickJSContext;
  readonly runner: QuickJSHandle;
}

/**
 * A contract's message goes into the block and into PostgreSQL text columns, which hold neither
 * U+0000 nor unpaired surrogates: those become U+FFFD here, identically on every node.
 */
const storableMessage = (message: string): string =>
  truncateUtf8(
    message.replace(
      /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      '\ufffd',
    ),
    CONTRACT_LIMITS.messageBytesMax,
  );
const rejected = (code: string, message: string): BlockTxOutcome => ({
  status: 'rejected',
  code,
  message: storableMessage(message),
});
const ACCEPTED: BlockTxOutcome = { status: 'accepted', message: 'OK' };

/** The text a contract may read when loading: "use strict" applies to all contract code. */
export function contractScript(code: string): string {
  return `"use strict";(${code}\n)`;
}

function cutChars(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : chars.slice(0, max).join('');
}

export class BlockSandbox {
  private readonly contracts = new Map<string, LoadedContract>();
  private current: CallState | null = null;
  private broken: Error | null = null;
  private disposed = false;
  /** Set when freeing the runtime failed (see dispose). */
  disposeProblem: unknown = null;
  /** How ctx.db calls reach the host in the contexts loaded so far (quickjs.ts); null before the first. */
  hostCallPath: HostCallPath | null = null;

  private constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly limits: ExecutionLimits,
    private readonly wantedPath: HostCallPath,
  ) {}

  /** `hostCalls: 'public'` makes ctx.db use only quickjs-emscripten's public API (tests compare both paths). */
  static async create(
    limits: ExecutionLimits,
    options: { hostCalls?: HostCallPath } = {},
  ): Promise<BlockSandbox> {
    const module = await freshQuickJS();
    const runtime = module.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytesPerBlock);
    runtime.setMaxStackSize(CONTRACT_LIMITS.stackBytes);
    const sandbox = new BlockSandbox(runtime, limits, options.hostCalls ?? 'fast');
    runtime.setInterruptHandler(() => sandbox.shouldInterrupt());
    return sandbox;
  }

  private shouldInterrupt(): boolean {
    const c = this.current;
    // Loading a contract (the prelude, a function expression) is bounded work: it is not charged.
    if (c === null) return false;
    if (c.fault !== null || c.hostError !== null) return true;
    c.interrupts += 1;
    if (c.interrupts > c.interruptsMax) {
      c.outOfGas = true;
      return true;
    }
    return false;
  }

  /**
   * Runs one transaction of `contract`. Returns its outcome; throws (and the block must fail) only
   * when the host failed: a state read failed, or the native stack ran out.
   */
  call(
    contract: SandboxContract,
    payload: Record<string, unknown>,
    info: CallInfo,
    db: DbHost,
  ): BlockTxOutcome {
    if (this.disposed) throw new ChainError('internal', 'the block sandbox was already disposed');
    if (this.broken !== null) throw this.broken;
    let loaded = this.contracts.get(contract.hashHex);
    if (loaded === undefined) {
      const load = this.load(contract);
      if ('status' in load) return load;
      loaded = load;
      this.contracts.set(contract.hashHex, loaded);
    }
    const interruptsMax =
      contract.manifest?.budget === 'settlement'
        ? this.limits.gasInterruptsPerTx * SETTLEMENT_BUDGET.gasFactor
        : this.limits.gasInterruptsPerTx;
    const state: CallState = {
      db,
      interrupts: 0,
      interruptsMax,
      outOfGas: false,
      fault: null,
      hostError: null,
    };
    const { ctx, runner } = loaded;
    const infoHandle = ctx.newString(JSON.stringify(info));
    const payloadHandle = ctx.newString(encodeForSandbox(payload));
    try {
      if (ctx.typeof(infoHandle) !== 'string' || ctx.typeof(payloadHandle) !== 'string') {
        return rejected(
          'contract_out_of_memory',
          `contract ${contract.type}: the block's ${this.limits.memoryBytesPerBlock} bytes of contract memory are used up`,
        );
      }
      this.current = state;
      const result = this.guardNative(() =>
        ctx.callFunction(runner, ctx.undefined, infoHandle, payloadHandle),
      );
      this.current = null;
      if (state.hostError !== null) {
        result.dispose();
        throw state.hostError;
      }
      if (state.fault !== null) {
        result.dispose();
        return rejected(state.fault.code, state.fault.message);
      }
      if (state.outOfGas) {
        result.dispose();
        return rejected(
          'contract_out_of_gas',
          `contract ${contract.type} used more than ${interruptsMax} interrupts (about ${interruptsMax * 10_000} operations), the budget of one transaction`,
        );
      }
      if (result.error !== undefined) {
        const err = this.readError(ctx, result.error);
        result.error.dispose();
        return this.errorOutcome(contract, err.name, err.message);
      }
      const text =
        ctx.typeof(result.value) === 'string'
          ? ctx.getString(result.value)
          : '{"k":"bad","what":"no result"}';
      result.value.dispose();
      return this.resultOutcome(contract, JSON.parse(text) as Record<string, string>);
    } finally {
      this.current = null;
      infoHandle.dispose();
      payloadHandle.dispose();
    }
  }

  /** Calls into QuickJS; a V8 stack overflow inside it leaves the instance unusable. */
  private guardNative<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof RangeError) {
        this.broken = new ChainError(
          'internal',
          'the native stack ran out inside QuickJS before its own stack limit; run the executor in its worker thread (which has a large stack)',
          {},
          { cause: err },
        );
        throw this.broken;
      }
      throw err;
    }
  }

  private readError(ctx: QuickJSContext, handle: QuickJSHandle): { name: string; message: string } {
    try {
      const dumped: unknown = ctx.dump(handle);
      if (typeof dumped === 'object' && dumped !== null) {
        const d = dumped as { name?: unknown; message?: unknown };
        return { name: String(d.name ?? 'Error'), message: String(d.message ?? '') };
      }
      return { name: 'thrown value', message: String(dumped) };
    } catch {
      // Reading the error needs memory; when none is left the error is the lack of memory.
      return { name: 'InternalError', message: 'out of memory' };
    }
  }

  private errorOutcome(contract: SandboxContract, name: string, message: string): BlockTxOutcome {
    if (name === 'InternalError' && message === 'out of memory') {
      return rejected(
        'contract_out_of_memory',
        `contract ${contract.type} ran out of memory: the block's contracts may use ${this.limits.memoryBytesPerBlock} bytes`,
      );
    }
    const text = name === 'thrown value' ? message : `${name}: ${message}`;
    return rejected('contract_error', cutChars(text, CONTRACT_LIMITS.errorMessageCharsMax));
  }

  private resultOutcome(contract: SandboxContract, r: Record<string, string>): BlockTxOutcome {
    switch (r['k']) {
      case 'ok':
        return ACCEPTED;
      case 'string':
        return rejected('contract_rejected', r['message'] ?? '');
      case 'reject': {
        const code = r['code'] ?? '';
        if (!REJECT_CODE_PATTERN.test(code)) {
          return rejected(
            'contract_error',
            cutChars(
              `contract ${contract.type} called ctx.reject() with code ${JSON.stringify(code)}, which does not match ${REJECT_CODE_PATTERN.source}`,
              CONTRACT_LIMITS.errorMessageCharsMax,
            ),
          );
        }
        return rejected(code, r['message'] ?? '');
      }
      case 'error':
        return this.errorOutcome(contract, r['name'] ?? 'Error', r['message'] ?? '');
      default:
        return rejected(
          'contract_error',
          `contract ${contract.type} returned ${r['what'] ?? 'an unexpected value'}; return undefined, 'OK', a reason string or ctx.reject(code, message)`,
        );
    }
  }

  /** Creates the contract's context: prelude, code, runner. A failure is the outcome of the call that needed it. */
  private load(contract: SandboxContract): LoadedContract | BlockTxOutcome {
    const ctx = this.runtime.newContext({ intrinsics: SANDBOX_INTRINSICS });
    const temporary: QuickJSHandle[] = [];
    let runner: QuickJSHandle | null = null;
    try {
      const host = this.hostFunction(ctx);
      temporary.push(host);
      const setup = this.unwrap(
        ctx,
        ctx.evalCode(PRELUDE_SOURCE, 'prelude.js'),
        contract,
        'the prelude failed',
      );
      if ('status' in setup) return setup;
      temporary.push(setup);
      const makeRunner = this.unwrap(
        ctx,
        ctx.callFunction(setup, ctx.undefined, host),
        contract,
        'the prelude failed',
      );
      if ('status' in makeRunner) return makeRunner;
      temporary.push(makeRunner);
      const fn = this.unwrap(
        ctx,
        ctx.evalCode(contractScript(contract.code), `contract-${contract.type}.js`),
        contract,
        'its code did not load',
      );
      if ('status' in fn) return fn;
      temporary.push(fn);
      const made = this.unwrap(
        ctx,
        ctx.callFunction(makeRunner, ctx.undefined, fn),
        contract,
        'its code did not load',
      );
      if ('status' in made) return made;
      runner = made;
      return { ctx, runner };
    } finally {
      for (const h of temporary) h.dispose();
      if (runner === null) ctx.dispose();
    }
  }

  /** The host side of ctx.db: get, put, delete, find, as one function (handed to the prelude, never to contract code). */
  private hostFunction(ctx: QuickJSContext): QuickJSHandle {
    const made = newTextHostFunction(
      ctx,
      (op, table, text, n) => this.hostCall(op, table, text, n),
      this.wantedPath,
    );
    this.hostCallPath = made.path;
    return made.handle;
  }

  private unwrap(
    ctx: QuickJSContext,
    r: ReturnType<QuickJSContext['evalCode']>,
    contract: SandboxContract,
    what: string,
  ): QuickJSHandle | BlockTxOutcome {
    if (r.error === undefined) return r.value;
    const err = this.readError(ctx, r.error);
    r.error.dispose();
    if (err.name === 'InternalError' && err.message === 'out of memory')
      return this.errorOutcome(contract, err.name, err.message);
    return rejected(
      'contract_error',
      cutChars(
        `contract ${contract.type}: ${what}: ${err.name}: ${err.message}`,
        CONTRACT_LIMITS.errorMessageCharsMax,
      ),
    );
  }

  /** Runs one ctx.db operation for the call in progress; faults stop the call, host errors fail the block. */
  private hostCall(op: number, table: string, text: string, n: number): HostReply {
    const c = this.current;
    if (c === null)
      return new HostThrow(undefined, 'ctx.db can only be used while a transaction runs');
    if (c.fault !== null) return new HostThrow('ContractFault', c.fault.message);
    if (c.hostError !== null) return new HostThrow(undefined, 'the host failed');
    try {
      switch (op) {
        case HOST_OP.get:
          return encodeForSandbox(c.db.get(table, decodeTagged(text)));
        case HOST_OP.put:
          c.db.put(table, decodeTagged(text));
          return undefined;
        case HOST_OP.delete:
          return !!c.db.delete(table, decodeTagged(text));
        case HOST_OP.find:
          return encodeForSandbox(c.db.find(table, decodeTagged(text), n));
        default:
          throw new ChainError('internal', `the prelude asked the host for operation ${op}`);
      }
    } catch (err) {
      if (err instanceof ContractFault) {
        c.fault = err;
        return new HostThrow('ContractFault', err.message);
      }
      c.hostError = err;
      return new HostThrow(undefined, 'the host failed');
    }
  }

  /**
   * Frees the runtime at the end of the block. Never throws: the outcomes are decided by then, and
   * the whole WebAssembly instance is dropped anyway. A QuickJS complaint while freeing (objects it
   * could not account for, or an instance broken by a native stack overflow) is kept in
   * `disposeProblem` for tests to check, instead of failing a block that was executed correctly.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      for (const { ctx, runner } of this.contracts.values()) {
        runner.dispose();
        ctx.dispose();
      }
      this.contracts.clear();
      this.runtime.dispose();
    } catch (err) {
      this.disposeProblem = err;
    }
  }
}
