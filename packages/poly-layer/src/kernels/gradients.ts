import * as tf from '@tensorflow/tfjs-core';
import {
  DENSE_JACOBIAN_FROBENIUS,
  DENSE_JACOBIAN_FROBENIUS_GRAD,
  POLY_ACTIVATION,
  POLY_ACTIVATION_GRAD,
  POLY_ACTIVATION_JACOBIAN,
  POLY_ACTIVATION_JACOBIAN_SAVING,
  POLY_ACTIVATION_SAVING,
  WEIGHTED_SUM,
  WEIGHTED_SUM_GRAD,
  WEIGHTED_SUM_GROUPED,
  WEIGHTED_SUM_GROUPED_GRAD,
  fromAttrMap,
  outputLayout,
} from './names';

/*
 * Gradients of the fused kernels (backend-independent: each runs the matching
 * *Grad kernel of the active backend). tfjs passes one dy per output, zeros for
 * an output the loss does not use. Each gradient kernel computes every input's
 * gradient in one pass, so it runs once, eagerly, in `gradFunc` (tfjs calls the
 * per-input closures inside separate tidy scopes: a tensor made lazily in the
 * first would be disposed before the second could return it). The gradient
 * kernels have no gradients of their own: second-order autodiff (double
 * backpropagation) goes through the composite op instead (see activation.ts).
 */

/**
 * Builds the gradient of a forward kernel. Without `saving`, tfjs saves z and
 * the coefficients (and the kernel W); with `saving`, the coefficients (and W)
 * and the outputs u, g' — the gradient kernel recomputes σ' and the rest.
 */
function forwardGradConfig(kernelName: string, jacobian: boolean, saving: boolean): tf.GradConfig {
  const inputsToSave = [...(saving ? [] : ['z']), 'coeffs', ...(jacobian ? ['kernel'] : [])];
  // (outputsToSave is fixed per kernel name: u and g1 follow y, dy, r whether or not dy is output,
  // so the `…Saving` kernels always output dy)
  const layout = outputLayout({ save: saving, second: false }, jacobian);
  const outputsToSave: boolean[] = [];
  if (saving) for (let i = 0; i < layout.count; i++) outputsToSave.push(i === layout.u || i === layout.g1);
  return {
    kernelName,
    inputsToSave,
    outputsToSave,
    gradFunc: (dys, saved, attrs) => {
      const L = outputLayout(fromAttrMap(attrs), jacobian);
      const d = Array.isArray(dys) ? dys : [dys]; // tfjs passes a lone output's gradient unwrapped
      const named: Record<string, tf.Tensor> = {};
      inputsToSave.forEach((n, i) => (named[n] = saved[i]));
      const inputs: tf.NamedTensorMap = { ...named, gy: d[L.y] };
      if (L.dy >= 0) inputs.gdy = d[L.dy];
      if (saving) {
        inputs.u = saved[inputsToSave.length];
        inputs.g1 = saved[inputsToSave.length + 1];
      }
      if (L.d2y >= 0) inputs.gd2y = d[L.d2y];
      if (jacobian) inputs.gr = d[L.r];
      const g = tf.engine().runKernel(POLY_ACTIVATION_GRAD, inputs, attrs) as tf.Tensor[];
      const grads: Record<string, () => tf.Tensor> = { z: () => g[0], coeffs: () => g[1] };
      if (jacobian) grads.kernel = () => g[2];
      return grads;
    },
  };
}

/** Gradients of the four forward kernels. */
export const forwardGradConfigs: tf.GradConfig[] = [
  forwardGradConfig(POLY_ACTIVATION, false, false),
  forwardGradConfig(POLY_ACTIVATION_SAVING, false, true),
  forwardGradConfig(POLY_ACTIVATION_JACOBIAN, true, false),
  forwardGradConfig(POLY_ACTIVATION_JACOBIAN_SAVING, true, true),
];

/** Gradient of {@link DENSE_JACOBIAN_FROBENIUS}: saves dy and the kernel. */
export const jacobianFrobeniusGradConfig: tf.GradConfig = {
  kernelName: DENSE_JACOBIAN_FROBENIUS,
  inputsToSave: ['dy', 'kernel'],
  gradFunc: (gr, saved) => {
    const [dy, kernel] = saved;
    const [gdy, gW] = tf.engine().runKernel(DENSE_JACOBIAN_FROBENIUS_GRAD, { dy, kernel, gr: gr as tf.Tensor }) as tf.Tensor[];
    return { dy: () => gdy, kernel: () => gW };
  },
};

/** Gradient of {@link WEIGHTED_SUM}: w_l·dy everywhere (nothing saved). */
export const weightedSumGradConfig: tf.GradConfig = {
  kernelName: WEIGHTED_SUM,
  gradFunc: (dy, _saved, attrs) => {
    const weights = attrs.weights as number[];
    const g = tf.engine().runKernel(WEIGHTED_SUM_GRAD, { dy: dy as tf.Tensor }, attrs) as tf.Tensor[];
    const grads: Record<string, () => tf.Tensor> = {};
    weights.forEach((_, l) => (grads[`x${l}`] = () => g[l]));
    return grads;
  },
};

/** Gradient of {@link WEIGHTED_SUM_GROUPED}: w[l][g]·dy[g] on each group's rows (nothing saved). */
export const weightedSumGroupedGradConfig: tf.GradConfig = {
  kernelName: WEIGHTED_SUM_GROUPED,
  gradFunc: (dy, _saved, attrs) => {
    const weights = attrs.weights as number[][];
    const g = tf.engine().runKernel(WEIGHTED_SUM_GROUPED_GRAD, { dy: dy as tf.Tensor }, attrs) as tf.Tensor[];
    const grads: Record<string, () => tf.Tensor> = {};
    weights.forEach((_, l) => (grads[`x${l}`] = () => g[l]));
    return grads;
  },
};
