export * from './errors';
export * from './rng';
export * from './backend';
export * from './tfjs-check';
export * from './ops/dense';
export * from './ops/adam';
/** @internal The WebAssembly writer behind the project's SIMD kernels (used by `@chainz/poly-layer`). */
export * as wasmAsm from './ops/wasm-asm';
