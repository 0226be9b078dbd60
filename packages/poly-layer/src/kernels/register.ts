import * as tf from '@tensorflow/tfjs-core';
import { jsKernelConfigs } from './js-kernels';
import { webgpuKernelConfigs } from './webgpu';
import { forwardGradConfigs, jacobianFrobeniusGradConfig, weightedSumGradConfig, weightedSumGroupedGradConfig } from './gradients';

/**
 * Registers the fused kernels of `@chainz/poly-layer` with tfjs's kernel
 * registry (docs/backends.md): the polynomial activation (σ, σ', σ'' in one pass; also
 * with the dense layer's Jacobian norm as an extra output) and the dense-layer
 * Jacobian norm used by DREG (and on cpu/wasm DREG's final weighted sum), with
 * their gradients, for the
 * `cpu`, `wasm` (typed-array loops) and `webgpu` (WGSL) backends. Every other
 * backend uses the composite-op implementation.
 *
 * Idempotent: a kernel or gradient already registered under the same name is
 * left alone (tfjs only warns and overwrites on a second registration, and test
 * runners re-import modules). Registering for a backend that is not loaded is
 * harmless (the registry is keyed by backend name). Called once by the package's
 * side-effect module `register.ts`; no backend package is imported.
 */
export function registerPolyKernels(): void {
  for (const config of [...jsKernelConfigs(), ...webgpuKernelConfigs()]) {
    if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
  }
  for (const config of [...forwardGradConfigs, jacobianFrobeniusGradConfig, weightedSumGradConfig, weightedSumGroupedGradConfig]) {
    if (tf.getGradient(config.kernelName) == null) tf.registerGradient(config);
  }
}
