// Loading QuickJS (quickjs-emscripten, sync build). The WebAssembly code is compiled once per
// thread; every block, and every create check, gets a *fresh instance* of it: a new linear
// memory, so the allocator starts from the same state each time. QuickJS's memory accounting uses
// the allocator's real chunk sizes, so only a fresh instance makes memory limits (and the garbage
// collector's timing) depend on nothing but the block itself.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DefaultIntrinsics, newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } from 'quickjs-emscripten';
import type { Intrinsics, QuickJSWASMModule } from 'quickjs-emscripten';

/**
 * The language features contracts get. Typed arrays are left out because they expose the bit
 * pattern of NaN, which WebAssembly does not fix across CPUs (and with them go SharedArrayBuffer
 * and Atomics). Promise stays built in, because QuickJS mishandles async functions without it,
 * but the prelude removes the global: the job queue never runs, so promise callbacks never run.
 */
export const SANDBOX_INTRINSICS: Intrinsics = { ...DefaultIntrinsics, TypedArrays: false };

// This project's lib settings carry no WebAssembly typings; Node has the global all the same.
type WasmModule = NonNullable<Parameters<typeof newVariant>[1]['wasmModule']>;
const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }).WebAssembly;

let compiled: WasmModule | null = null;

function compiledModule(): WasmModule {
  if (compiled === null) {
    // The .wasm file belongs to quickjs-emscripten's own dependency, so resolve it from there.
    const fromQuickjs = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'));
    compiled = new wasm.Module(readFileSync(fromQuickjs.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')));
  }
  return compiled;
}

/** A new, independent QuickJS WebAssembly instance (a few milliseconds). */
export function freshQuickJS(): Promise<QuickJSWASMModule> {
  return newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule: compiledModule() }));
}
