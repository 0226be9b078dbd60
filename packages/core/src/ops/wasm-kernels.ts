/*
 * Internal: what `@chainz/poly-layer`'s fused dense-layer kernel shares with
 * the dense op's wasm kernels (SIMD matrix products, heap access, scratch).
 */
export { coreSimd, simdGemm, type CoreSimd } from './simd';
export { heapOffset, heapScratch, scratchAllocator, wasmSimd, wasmMemoryOf, type WasmBackendInternals } from './wasm-backend';
export { DENSE_GRAD_INPUT, registerDenseKernels } from './dense';
