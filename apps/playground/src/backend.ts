/**
 * tfjs backends in the page: all three are bundled (no CDN), the wasm binaries
 * are emitted as assets by Vite (`?url`) and handed to `setWasmPaths`, and
 * `resolveBackend` from `@chainz/core` picks one and says why the others were
 * skipped.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm?url';
import { resolveBackend, type BackendResolution } from '@chainz/core';

// Each binary by file name: tfjs picks SIMD when the browser has it, threads only on
// cross-origin-isolated pages (COOP/COEP headers), else the plain build.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

/** Backend choices of the picker. */
export const BACKEND_CHOICES = ['auto', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * Activates a backend (`auto`: webgpu on a hardware adapter, else wasm, else cpu).
 * @returns the resolution: active backend, and each other one with the reason it was skipped.
 * @throws BackendError when the requested backend cannot start (its message lists why).
 */
export async function activateBackend(choice: BackendChoice): Promise<BackendResolution> {
  const res = await resolveBackend(choice, { env: {}, tf });
  // Small tensors are otherwise handed to the cpu backend on webgpu; keep every op on the GPU.
  if (res.name === 'webgpu') tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
  return res;
}

/** One line describing the active backend, e.g. `wasm (SIMD, 1 thread)`. */
export async function describeActive(res: BackendResolution): Promise<string> {
  if (res.name === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : '1 thread'})`;
  }
  if (res.name === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> } }).gpu;
    const info = (await gpu?.requestAdapter())?.info;
    const what = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ');
    return `webgpu${what ? ` (${what})` : ''}`;
  }
  return res.name === 'cpu' ? 'cpu (plain JavaScript)' : res.name;
}
