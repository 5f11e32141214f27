// Loading QuickJS (quickjs-emscripten, sync build). The WebAssembly code is compiled once per
// thread; every block, and every create check, gets a *fresh instance* of it: a new linear
// memory, so the allocator starts from the same state each time. QuickJS's memory accounting uses
// the allocator's real chunk sizes, so only a fresh instance makes memory limits (and the garbage
// collector's timing) depend on nothing but the block itself.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  DefaultIntrinsics,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  RELEASE_SYNC,
} from 'quickjs-emscripten';
import type {
  Intrinsics,
  QuickJSContext,
  QuickJSHandle,
  QuickJSWASMModule,
} from 'quickjs-emscripten';

/**
 * The language features contracts get. Typed arrays are left out because they expose the bit
 * pattern of NaN, which WebAssembly does not fix across CPUs (and with them go SharedArrayBuffer
 * and Atomics). Promise stays built in, because QuickJS mishandles async functions without it,
 * but the prelude removes the global: the job queue never runs, so promise callbacks never run.
 */
export const SANDBOX_INTRINSICS: Intrinsics = { ...DefaultIntrinsics, TypedArrays: false };

// This project's lib settings carry no WebAssembly typings; Node has the global all the same.
type WasmModule = NonNullable<Parameters<typeof newVariant>[1]['wasmModule']>;
const wasm = (
  globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }
).WebAssembly;

let compiled: WasmModule | null = null;

function compiledModule(): WasmModule {
  if (compiled === null) {
    // The .wasm file belongs to quickjs-emscripten's own dependency, so resolve it from there.
    const fromQuickjs = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'));
    compiled = new wasm.Module(
      readFileSync(fromQuickjs.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')),
    );
  }
  return compiled;
}

type WasmInstance = { readonly exports: unknown };
const wasmInstance = (
  globalThis as unknown as {
    WebAssembly: { Instance: new (module: WasmModule, imports: unknown) => WasmInstance };
  }
).WebAssembly;

/**
 * A new, independent QuickJS WebAssembly instance (a few milliseconds). The compiled module is
 * instantiated synchronously (WebAssembly.instantiate would finish in a later turn of the event
 * loop), so that creating one waits for nothing outside this thread's promise jobs: the
 * deterministic simulator (src/sim) advances its clock only once those are done.
 */
export function freshQuickJS(): Promise<QuickJSWASMModule> {
  const module = compiledModule();
  return newQuickJSWASMModuleFromVariant(
    newVariant(RELEASE_SYNC, {
      emscriptenModule: {
        instantiateWasm: (
          imports: unknown,
          onSuccess: (instance: WasmInstance, module: WasmModule) => void,
        ) => {
          const instance = new wasmInstance.Instance(module, imports);
          onSuccess(instance, module);
          return instance.exports;
        },
      },
    }),
  );
}

// Host functions of the prelude. quickjs-emscripten's ctx.newFunction wraps every call from
// QuickJS in a generator scope and copies every argument into a new handle, which costs about
// 5 µs a call, more than most ctx.db operations themselves. The prelude's host function takes
// only (op, text, text, number) and answers with a string, a boolean, undefined or an error, so
// the fast path below reads and writes those with the raw FFI instead. It needs internals of
// quickjs-emscripten (package.json pins the exact version): when they are missing, the public
// path is used, which gives the same values.

/** An error the host function throws inside QuickJS: an Error with this message (and this name, if given). */
export class HostThrow {
  constructor(
    readonly name: string | undefined,
    readonly message: string,
  ) {}
}

/** What a host function hands back to QuickJS. */
export type HostReply = string | boolean | undefined | HostThrow;

/** A host function of the prelude, called as host(op, a, b, n): a and b are read as strings, op and n as numbers. */
export type TextHostFunction = (op: number, a: string, b: string, n: number) => HostReply;

export type HostCallPath = 'fast' | 'public';

/** Pointers into the WebAssembly memory; 0 is NULL. */
type Ptr = number;

/** The parts of quickjs-emscripten 0.32.0 the fast path uses; checked before use (fastInternals). */
interface FastInternals {
  readonly ctxPtr: Ptr;
  readonly callbacks: {
    callFunction: (ctx: Ptr, thisPtr: Ptr, argc: number, argv: Ptr, fnId: number) => Ptr;
  };
  readonly getFunction: (fnId: number) => unknown;
  readonly module: {
    UTF8ToString(ptr: Ptr): string;
    lengthBytesUTF8(text: string): number;
    stringToUTF8(text: string, ptr: Ptr, maxBytes: number): void;
    _malloc(bytes: number): Ptr;
    _free(ptr: Ptr): void;
  };
  readonly ffi: {
    QTS_ArgvGetJSValueConstPointer(argv: Ptr, index: number): Ptr;
    QTS_GetFloat64(ctx: Ptr, value: Ptr): number;
    QTS_GetString(ctx: Ptr, value: Ptr): Ptr;
    QTS_FreeCString(ctx: Ptr, text: Ptr): void;
    QTS_NewString(ctx: Ptr, text: Ptr): Ptr;
    QTS_DupValuePointer(ctx: Ptr, value: Ptr): Ptr;
    QTS_GetTrue(): Ptr;
    QTS_GetFalse(): Ptr;
    QTS_Throw(ctx: Ptr, error: Ptr): Ptr;
  };
}

const FFI_NEEDED = [
  'QTS_ArgvGetJSValueConstPointer',
  'QTS_GetFloat64',
  'QTS_GetString',
  'QTS_FreeCString',
  'QTS_NewString',
  'QTS_DupValuePointer',
  'QTS_GetTrue',
  'QTS_GetFalse',
  'QTS_Throw',
] as const;
const MODULE_NEEDED = [
  'UTF8ToString',
  'lengthBytesUTF8',
  'stringToUTF8',
  '_malloc',
  '_free',
] as const;

const isFunction = (o: unknown, name: string): boolean =>
  typeof o === 'object' && o !== null && typeof (o as Record<string, unknown>)[name] === 'function';

/** The internals of `ctx` the fast path needs, or null when this quickjs-emscripten lacks any of them. */
function fastInternals(ctx: QuickJSContext): FastInternals | null {
  const c = ctx as unknown as {
    cToHostCallbacks?: unknown;
    getFunction?: unknown;
    module?: unknown;
    ffi?: unknown;
    ctx?: { value?: unknown };
  };
  if (
    !isFunction(c.cToHostCallbacks, 'callFunction') ||
    typeof c.getFunction !== 'function' ||
    typeof c.ctx?.value !== 'number'
  )
    return null;
  if (
    !MODULE_NEEDED.every((name) => isFunction(c.module, name)) ||
    !FFI_NEEDED.every((name) => isFunction(c.ffi, name))
  )
    return null;
  return {
    ctxPtr: c.ctx.value,
    callbacks: c.cToHostCallbacks as FastInternals['callbacks'],
    getFunction: (c.getFunction as (fnId: number) => unknown).bind(ctx),
    module: c.module as FastInternals['module'],
    ffi: c.ffi as FastInternals['ffi'],
  };
}

/** The reply as a handle, for the public path. */
function replyHandle(ctx: QuickJSContext, r: HostReply): QuickJSHandle | { error: QuickJSHandle } {
  if (r === undefined) return ctx.undefined;
  if (typeof r === 'string') return ctx.newString(r);
  if (typeof r === 'boolean') return r ? ctx.true : ctx.false;
  return { error: newHostError(ctx, r) };
}

function newHostError(ctx: QuickJSContext, e: HostThrow): QuickJSHandle {
  return e.name === undefined
    ? ctx.newError(e.message)
    : ctx.newError({ name: e.name, message: e.message });
}

/** What ctx.newFunction does with an exception of the host function: it throws it as an Error. */
function thrownReply(err: unknown): HostThrow {
  const e = err instanceof Error ? err : new Error(String(err));
  return new HostThrow(e.name, e.message);
}

/**
 * Makes the prelude's host function in `ctx`. The public path is ctx.newFunction; the fast path
 * takes over the C -> host calls of that same function in this context (QuickJS still sees one
 * ordinary function, so gas and outcomes do not depend on the path).
 */
export function newTextHostFunction(
  ctx: QuickJSContext,
  fn: TextHostFunction,
  path: HostCallPath = 'fast',
): { handle: QuickJSHandle; path: HostCallPath } {
  const slow = (
    op: QuickJSHandle,
    a: QuickJSHandle,
    b: QuickJSHandle,
    n: QuickJSHandle,
  ): QuickJSHandle | { error: QuickJSHandle } =>
    replyHandle(ctx, fn(ctx.getNumber(op), ctx.getString(a), ctx.getString(b), ctx.getNumber(n)));
  const handle = ctx.newFunction('host', slow);
  const internals = path === 'fast' ? fastInternals(ctx) : null;
  if (internals === null) return { handle, path: 'public' };
  installFastPath(ctx, internals, slow, fn);
  return { handle, path: 'fast' };
}

function installFastPath(
  ctx: QuickJSContext,
  q: FastInternals,
  slow: unknown,
  fn: TextHostFunction,
): void {
  const { ctxPtr, module: m, ffi } = q;
  const original = q.callbacks.callFunction;
  const truePtr = ffi.QTS_GetTrue();
  const falsePtr = ffi.QTS_GetFalse();
  let fnId = -1;
  // Strings are read and written exactly as ctx.getString and ctx.newString do: the same C
  // functions and the same emscripten conversions, so text (lone surrogates, U+0000) comes out the same.
  const text = (value: Ptr): string => {
    const chars = ffi.QTS_GetString(ctxPtr, value);
    const s = m.UTF8ToString(chars);
    ffi.QTS_FreeCString(ctxPtr, chars);
    return s;
  };
  // The C side (qts_call_function) takes ownership of the JSValue the returned pointer holds and
  // frees the pointer; NULL means undefined.
  const reply = (r: HostReply): Ptr => {
    if (r === undefined) return 0;
    if (typeof r === 'string') {
      const bytes = m.lengthBytesUTF8(r) + 1;
      const chars = m._malloc(bytes);
      m.stringToUTF8(r, chars, bytes);
      const value = ffi.QTS_NewString(ctxPtr, chars);
      m._free(chars);
      return value;
    }
    if (typeof r === 'boolean') return ffi.QTS_DupValuePointer(ctxPtr, r ? truePtr : falsePtr);
    // QTS_Throw throws its own copy of the error and returns JS_EXCEPTION.
    const error = newHostError(ctx, r);
    try {
      return ffi.QTS_Throw(ctxPtr, error.value);
    } finally {
      error.dispose();
    }
  };
  q.callbacks.callFunction = (c: Ptr, thisPtr: Ptr, argc: number, argv: Ptr, id: number): Ptr => {
    if (id !== fnId) {
      // Another host function of this context (there is none today) keeps the generic path.
      if (fnId !== -1 || c !== ctxPtr || q.getFunction(id) !== slow)
        return original(c, thisPtr, argc, argv, id);
      fnId = id;
    }
    let r: HostReply;
    try {
      if (argc < 4) throw new TypeError('the host function takes 4 arguments');
      const arg = (i: number): Ptr => ffi.QTS_ArgvGetJSValueConstPointer(argv, i);
      r = fn(
        ffi.QTS_GetFloat64(ctxPtr, arg(0)),
        text(arg(1)),
        text(arg(2)),
        ffi.QTS_GetFloat64(ctxPtr, arg(3)),
      );
    } catch (err) {
      r = thrownReply(err);
    }
    return reply(r);
  };
}
