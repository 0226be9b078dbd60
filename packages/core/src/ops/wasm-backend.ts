import type { TensorInfo } from '@tensorflow/tfjs-core';
import { coreSimd, type CoreSimd } from './simd';

/*
 * What the project's wasm kernels use of tfjs's wasm backend object (its
 * internal API, pinned with tfjs 4.22.0): outputs allocated on the wasm heap
 * with `makeOutput`, byte offsets of tensors with `getMemoryOffset`, scratch
 * memory with the module's `_malloc`/`_free`, and typed-array views taken
 * after the last allocation (an allocation can grow, and so detach, the heap).
 */

/** The parts of tfjs's wasm backend the kernels call. */
export interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  getMemoryOffset(dataId: object): number;
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown; _malloc(bytes: number): number; _free(ptr: number): void };
}

/** The backend's WebAssembly.Memory (undefined when it cannot be found). */
export function wasmMemoryOf(backend: unknown): unknown {
  const be = backend as Partial<WasmBackendInternals> | undefined;
  return be?.wasm?.asm?.memory ?? be?.wasm?.wasmMemory;
}

/**
 * The backend's internals and the core SIMD loops bound to its memory, or null
 * when any is missing (not the wasm backend, a shared memory of the threaded
 * build, no WebAssembly SIMD).
 */
export function wasmSimd(backend: unknown): { be: WasmBackendInternals; simd: CoreSimd } | null {
  const be = backend as WasmBackendInternals;
  if (typeof be?.getMemoryOffset !== 'function' || typeof be.makeOutput !== 'function' || typeof be.wasm?._malloc !== 'function') return null;
  const simd = coreSimd(wasmMemoryOf(be));
  return simd ? { be, simd } : null;
}

/** Byte offset of a tensor's data on the heap. */
export function heapOffset(be: WasmBackendInternals, t: TensorInfo): number {
  return be.getMemoryOffset(t.dataId);
}

/**
 * A scratch allocator on the wasm heap: one block per backend module, grown on
 * demand and kept (kernels never run concurrently in one module), so a call
 * pays no malloc/free. The pointer is valid until the allocator's next call;
 * a kernel that needs two live blocks at once uses two allocators.
 */
export function scratchAllocator(): (be: WasmBackendInternals, bytes: number) => number {
  const blocks = new WeakMap<object, { ptr: number; bytes: number }>();
  return (be, bytes) => {
    let s = blocks.get(be.wasm);
    if (!s || s.bytes < bytes) {
      if (s) be.wasm._free(s.ptr);
      const size = Math.max(bytes, 2 * (s?.bytes ?? 0), 4096);
      s = { ptr: be.wasm._malloc(size), bytes: size };
      blocks.set(be.wasm, s);
    }
    return s.ptr;
  };
}

/** The dense op's scratch memory ({@link scratchAllocator}; valid until the next call). */
export const heapScratch = scratchAllocator();
