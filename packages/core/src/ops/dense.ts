import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';

/*
 * Dense (fully connected) op with a hand-written backward pass.
 *
 * tfjs's own MatMul gradient uses the transposed forms `matMul(dy, W, false,
 * true)` and `matMul(x, dy, true, false)`. On the wasm backend those fall back
 * to a scalar loop (PLATFORM.md: 512³ takes 12 ms plain, 146 ms transposeB,
 * 296 ms transposeA), so an MLP step is ~6× slower than it need be. Here the
 * backward pass transposes explicitly with `tf.transpose` and then calls the
 * plain (fast) `tf.matMul`.
 *
 * The custom-gradient closures are built lazily on first use, so importing this
 * module has no side effects.
 */

type DenseFn2 = (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;
type DenseFn3 = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

let denseNoBias: DenseFn2 | undefined;
let denseWithBias: DenseFn3 | undefined;

function getDenseNoBias(): DenseFn2 {
  if (denseNoBias === undefined) {
    denseNoBias = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
      save([x, w]);
      return {
        value: tf.matMul(x, w),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
          const g = dy as tf.Tensor2D;
          // dx = dy · Wᵀ  [B, d_in];  dW = xᵀ · dy  [d_in, d_out]
          return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g)];
        },
      };
    }) as unknown as DenseFn2;
  }
  return denseNoBias;
}

function getDenseWithBias(): DenseFn3 {
  if (denseWithBias === undefined) {
    denseWithBias = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
      save([x, w]);
      return {
        value: tf.add(tf.matMul(x, w), b),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
          const g = dy as tf.Tensor2D;
          // dx = dy · Wᵀ [B, d_in];  dW = xᵀ · dy [d_in, d_out];  db = Σ_batch dy [d_out]
          return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
        },
      };
    }) as unknown as DenseFn3;
  }
  return denseWithBias;
}

/**
 * Affine map `z = x·W + b` with an explicit-transpose backward pass.
 *
 * Forward: `tf.matMul(x, kernel)` (+ `bias` broadcast over the batch).
 * Backward (`tf.customGrad`): `dx = dy·Wᵀ`, `dW = xᵀ·dy`, `db = Σ_batch dy`, each
 * computed as `tf.matMul(a, tf.transpose(b))` / `tf.matMul(tf.transpose(a), b)`
 * rather than with `transposeA/transposeB`, which on the wasm backend fall back
 * to a scalar loop (about 6× slower MLP steps; see PLATFORM.md).
 *
 * First-order only: the backward pass itself is differentiable by tfjs (it is
 * made of ordinary ops) but tfjs does not record it on the tape, so do not use
 * this op where second-order autodiff (double backpropagation) is needed; use
 * `tf.matMul` there.
 *
 * @param x input, shape `[B, d_in]`.
 * @param kernel weights `W`, shape `[d_in, d_out]`.
 * @param bias optional bias `b`, shape `[d_out]`.
 * @returns `z`, shape `[B, d_out]`.
 * @throws ShapeError if ranks or inner dimensions disagree (names the tensor).
 */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  if (x.rank !== 2) throw new ShapeError(`dense expects a rank-2 input [B, d_in], got shape [${x.shape}]`, { tensor: 'x' });
  if (kernel.rank !== 2) throw new ShapeError(`dense expects a rank-2 kernel [d_in, d_out], got shape [${kernel.shape}]`, { tensor: 'kernel' });
  if (x.shape[1] !== kernel.shape[0]) {
    throw new ShapeError(`input has ${x.shape[1]} features but kernel expects ${kernel.shape[0]} (x [${x.shape}], kernel [${kernel.shape}])`, { tensor: 'kernel' });
  }
  if (bias === undefined) return getDenseNoBias()(x, kernel);
  if (bias.rank !== 1 || bias.shape[0] !== kernel.shape[1]) {
    throw new ShapeError(`bias must have shape [${kernel.shape[1]}], got [${bias.shape}]`, { tensor: 'bias' });
  }
  return getDenseWithBias()(x, kernel, bias);
}
