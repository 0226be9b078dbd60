import erf from '@stdlib/math-base-special-erf';
import { ConfigError } from '@chainz/core';

/** Activation that a polynomial layer is initialised to imitate (docs/poly-layer.md). */
export type TargetActivation = 'identity' | 'relu' | 'leakyRelu' | 'gelu' | 'silu' | 'tanh';

/** All supported target activations. */
export const TARGET_ACTIVATIONS: readonly TargetActivation[] = Object.freeze(['identity', 'relu', 'leakyRelu', 'gelu', 'silu', 'tanh'] as const);

/** Negative slope of the `leakyRelu` target when not given (tfjs's `tf.leakyRelu` default). */
export const DEFAULT_LEAKY_RELU_ALPHA = 0.2;

/**
 * The target activation as a float64 function.
 *
 * - identity: z; relu: max(0, z); leakyRelu: z ≥ 0 ? z : α·z (α default 0.2);
 * - gelu: the exact form z·Φ(z) = z·(1 + erf(z/√2))/2 (not the tanh approximation);
 * - silu: z·sigmoid(z); tanh: tanh(z).
 *
 * @param target the activation's name.
 * @param alpha negative slope of `leakyRelu`.
 * @throws ConfigError (option `target`) for an unknown name.
 */
export function targetFunction(target: TargetActivation, alpha = DEFAULT_LEAKY_RELU_ALPHA): (z: number) => number {
  switch (target) {
    case 'identity':
      return (z) => z;
    case 'relu':
      return (z) => (z > 0 ? z : 0);
    case 'leakyRelu':
      return (z) => (z >= 0 ? z : alpha * z);
    case 'gelu':
      return (z) => 0.5 * z * (1 + erf(z / Math.SQRT2));
    case 'silu':
      return (z) => z / (1 + Math.exp(-z));
    case 'tanh':
      return (z) => Math.tanh(z);
    default:
      throw new ConfigError(`unknown target activation ${JSON.stringify(target)} (valid: ${TARGET_ACTIVATIONS.join(', ')})`, { option: 'target' });
  }
}
