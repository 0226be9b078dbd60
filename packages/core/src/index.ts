export * from './errors';
export * from './rng';
export * from './backend';
export * from './tfjs-check';
export * from './ops/dense';
export * from './on-demand';
export * from './watchdog';
export * from './ops/adam';
/** @internal The WebAssembly writer behind the project's SIMD kernels (used by `@chainz/poly-layer`). */
export * as wasmAsm from './ops/wasm-asm';
/** @internal The float32 SIMD matrix products and tfjs wasm-backend access of the dense kernels (used by `@chainz/poly-layer`). */
export * as wasmKernels from './ops/wasm-kernels';
