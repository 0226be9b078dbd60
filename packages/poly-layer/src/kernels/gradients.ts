import * as tf from '@tensorflow/tfjs-core';
import { DENSE_JACOBIAN_FROBENIUS, DENSE_JACOBIAN_FROBENIUS_GRAD, OUT, OUT_J, POLY_ACTIVATION, POLY_ACTIVATION_GRAD, POLY_ACTIVATION_JACOBIAN } from './names';

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

/** Gradient of {@link POLY_ACTIVATION}: saves z, coeffs, and the outputs σ', u, g'. */
export const polyActivationGradConfig: tf.GradConfig = {
  kernelName: POLY_ACTIVATION,
  inputsToSave: ['z', 'coeffs'],
  outputsToSave: [false, true, true, true, false],
  gradFunc: (dys, saved, attrs) => {
    const d = dys as tf.Tensor[];
    const [z, coeffs, dy, u, g1] = saved;
    const inputs: tf.NamedTensorMap = { z, coeffs, dy, u, g1, gy: d[OUT.y], gdy: d[OUT.dy] };
    if (d.length > OUT.d2y) inputs.gd2y = d[OUT.d2y];
    const [gz, ga] = tf.engine().runKernel(POLY_ACTIVATION_GRAD, inputs, attrs) as tf.Tensor[];
    return { z: () => gz, coeffs: () => ga };
  },
};

/** Gradient of {@link POLY_ACTIVATION_JACOBIAN}: saves z, coeffs, the kernel, and the outputs σ', u, g'. */
export const polyActivationJacobianGradConfig: tf.GradConfig = {
  kernelName: POLY_ACTIVATION_JACOBIAN,
  inputsToSave: ['z', 'coeffs', 'kernel'],
  outputsToSave: [false, true, true, true, false, false],
  gradFunc: (dys, saved, attrs) => {
    const d = dys as tf.Tensor[];
    const [z, coeffs, kernel, dy, u, g1] = saved;
    const inputs: tf.NamedTensorMap = { z, coeffs, kernel, dy, u, g1, gy: d[OUT_J.y], gdy: d[OUT_J.dy], gr: d[OUT_J.r] };
    if (d.length > OUT_J.d2y) inputs.gd2y = d[OUT_J.d2y];
    const [gz, ga, gW] = tf.engine().runKernel(POLY_ACTIVATION_GRAD, inputs, attrs) as tf.Tensor[];
    return { z: () => gz, coeffs: () => ga, kernel: () => gW };
  },
};

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
