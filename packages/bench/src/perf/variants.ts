import * as tf from '@tensorflow/tfjs-core';
import { adam, dense, DENSE, DENSE_GRAD_INPUT, DENSE_GRAD_PARAMS, registerDenseKernels, Rng } from '@chainz/core';
import { setPolyImplementation, getPolyImplementation, type PolyImplementation } from '@chainz/poly-layer';
import {
  dregPenalty,
  inputGradientPenalty,
  randomProjectionJacobianPenalty,
  twiceDifferentiableSoftmaxCrossEntropy,
} from '@chainz/dreg';
import { Mlp, type MlpConfig } from '../models/mlp';

/*
 * The training steps `chainz bench perf` times (one Adam step on one fixed
 * batch each). Every variant owns its parameters and optimizer; `step()` returns
 * the loss (so that asynchronous backends can be synchronised by reading it).
 */

/** Layer widths and batch of one benchmark shape. */
export interface PerfShape {
  /** Short name used in the table and the JSON. */
  name: string;
  /** Widths [d_in, hidden…, classes]. */
  dims: number[];
  batch: number;
}

/** A timed training step. */
export interface PerfVariant {
  name: string;
  /** What it is, for the table. */
  description: string;
  /** One optimiser step on the batch; returns the loss (a scalar the caller disposes). */
  step(): tf.Scalar;
  dispose(): void;
}

/** The fixed batch every variant of a shape trains on. */
export interface PerfBatch {
  x: tf.Tensor2D;
  /** One-hot labels. */
  y: tf.Tensor2D;
}

/** Seeded batch: x ~ N(0, 1) `[B, d_in]`, uniformly random labels. */
export function makeBatch(shape: PerfShape, seed: number): PerfBatch {
  const rng = new Rng(seed);
  const [dIn] = shape.dims;
  const classes = shape.dims[shape.dims.length - 1];
  const xv = Float32Array.from({ length: shape.batch * dIn }, () => rng.normal());
  const labels = Int32Array.from({ length: shape.batch }, () => rng.int(classes));
  return tf.tidy(() => ({
    x: tf.tensor2d(xv, [shape.batch, dIn]),
    y: tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32') as tf.Tensor2D,
  }));
}

const LEARNING_RATE = 1e-3;
/** λ of the baseline penalties (the cost does not depend on it). */
const PENALTY_LAMBDA = 1e-2;

function mlpConfig(activation: MlpConfig['activation'], hidden: number[], dreg: MlpConfig['dreg']): MlpConfig {
  return { hidden, activation, poly: {}, polyInit: 'gelu', dreg, epochs: 1, batchSize: 0, learningRate: LEARNING_RATE, weightDecay: 0, validationFraction: 0 };
}

/** Runs `f` with the process-wide polynomial implementation set to `mode`. */
function withImplementation<T>(mode: PolyImplementation, f: () => T): T {
  const prev = getPolyImplementation();
  setPolyImplementation(mode);
  try {
    return f();
  } finally {
    setPolyImplementation(prev);
  }
}

/**
 * A variant built on the bench's own `Mlp` (the model `chainz bench` trains):
 * `relu` or ChainzRule polynomial hidden layers (PolyDense: core `dense` +
 * polynomial activation), optional DREG (`frobenius`, λ = 10^−2.5), optional
 * input-gradient penalty (double backpropagation through the same network).
 */
export function mlpVariant(
  name: string,
  description: string,
  shape: PerfShape,
  batch: PerfBatch,
  opts: { activation: 'relu' | 'poly'; dreg?: boolean; implementation?: PolyImplementation; inputGradientPenalty?: boolean; seed?: number },
): PerfVariant {
  const hidden = shape.dims.slice(1, -1);
  const model = new Mlp(mlpConfig(opts.activation, hidden, opts.dreg ? { variant: 'frobenius' } : null), shape.dims[0], shape.dims[shape.dims.length - 1], opts.seed ?? 1);
  const optimizer = adam(LEARNING_RATE);
  const mode = opts.implementation ?? 'auto';
  let t = 0;
  return {
    name,
    description,
    step: () =>
      withImplementation(mode, () =>
        optimizer.minimize(() => {
          const { logits, traces } = model.forward(batch.x);
          let loss = tf.losses.softmaxCrossEntropy(batch.y, logits) as tf.Scalar;
          if (opts.dreg) loss = tf.add(loss, dregPenalty(traces, { variant: 'frobenius' }, t));
          if (opts.inputGradientPenalty) {
            const pen = inputGradientPenalty((xx) => twiceDifferentiableSoftmaxCrossEntropy(batch.y, model.forward(xx as tf.Tensor2D).logits), batch.x);
            loss = tf.add(loss, tf.mul(pen, PENALTY_LAMBDA));
          }
          t++;
          return loss;
        }, true, model.variables()) as tf.Scalar,
      ),
    dispose: () => {
      model.dispose();
      optimizer.dispose();
    },
  };
}

function glorot(rng: Rng, fanIn: number, fanOut: number): tf.Tensor2D {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.tensor2d(Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng.next() - 1) * limit), [fanIn, fanOut]);
}

/**
 * The matrix multiplies of one training step of the shape's MLP, alone: for
 * widths d_0…d_L and batch B, the forward products [B, d_l]·[d_l, d_{l+1}]
 * (l = 0…L−1), the weight gradients [d_l, B]·[B, d_{l+1}] (every layer) and the
 * input gradients [B, d_{l+1}]·[d_{l+1}, d_l] (l ≥ 1; the first layer's input
 * needs none): 3L − 1 products on fixed, seeded operands, nothing else.
 *
 * - `own` (the `matmul` variant): computed the way the step computes them — on
 *   wasm the dense op's kernels (`ChainzDense`, `ChainzDenseGradParams`,
 *   `ChainzDenseGradInput`, the last one transposing W as in the step),
 *   elsewhere `tf.matMul` on operands stored in the layout the product needs.
 *   `stepVsMatmul` = step / this: what a step costs beyond its multiplies.
 * - `tfjs` (the `tfjs-matmul` variant): plain `tf.matMul` on operands stored
 *   in the layout each product needs (on wasm tfjs keeps its packed copy of a
 *   fixed right-hand operand between calls, which a training step, with new
 *   weights every step, cannot): tfjs's own floor.
 */
export function matmulVariant(name: string, description: string, shape: PerfShape, kind: 'own' | 'tfjs', seed = 3): PerfVariant {
  const rng = new Rng(seed);
  const t = (r: number, c: number) => tf.tensor2d(Float32Array.from({ length: r * c }, () => rng.normal() * 0.1), [r, c]);
  const B = shape.batch;
  const d = shape.dims;
  const own = kind === 'own' && tf.getBackend() === 'wasm';
  if (own) registerDenseKernels();
  const run = (kernel: string, inputs: tf.NamedTensorMap) => tf.engine().runKernel(kernel, inputs, { hasBias: false }) as tf.Tensor | tf.Tensor[];
  const products: Array<{ tensors: tf.Tensor2D[]; f: () => tf.Tensor | tf.Tensor[] }> = [];
  for (let l = 0; l < d.length - 1; l++) {
    const [x, w] = [t(B, d[l]), t(d[l], d[l + 1])];
    products.push({ tensors: [x, w], f: own ? () => run(DENSE, { x, kernel: w }) : () => tf.matMul(x, w) });
  }
  for (let l = 0; l < d.length - 1; l++) {
    const [x, dz] = [t(B, d[l]), t(B, d[l + 1])];
    const xt = own ? x : (tf.transpose(x) as tf.Tensor2D);
    products.push({ tensors: own ? [x, dz] : [x, xt, dz], f: own ? () => run(DENSE_GRAD_PARAMS, { x, dz }) : () => tf.matMul(xt, dz) });
  }
  for (let l = 1; l < d.length - 1; l++) {
    const [dz, w] = [t(B, d[l + 1]), t(d[l], d[l + 1])];
    const wt = own ? w : (tf.transpose(w) as tf.Tensor2D);
    products.push({ tensors: own ? [dz, w] : [dz, w, wt], f: own ? () => run(DENSE_GRAD_INPUT, { dz, kernel: w }) : () => tf.matMul(dz, wt) });
  }
  // cpu and wasm run synchronously: nothing to wait for (and no extra kernel in the timing)
  const sync = ['cpu', 'wasm'].includes(tf.getBackend());
  return {
    name,
    description,
    step: () =>
      tf.tidy(() => {
        let last: tf.Tensor = tf.scalar(0);
        for (const p of products) {
          const out = p.f();
          last = Array.isArray(out) ? out[0] : out;
        }
        // elsewhere: a scalar that depends on the last product (read back after the step)
        return (sync ? tf.scalar(0) : tf.reshape(tf.slice(last, [0, 0], [1, 1]), [])) as tf.Scalar;
      }),
    dispose: () => tf.dispose(products.flatMap((p) => p.tensors)),
  };
}

/** Plain MLP parameters (kernels, biases), Glorot-uniform, seeded. */
function plainParams(dims: number[], seed: number): { kernels: tf.Variable[]; biases: tf.Variable[] } {
  const rng = new Rng(seed);
  const kernels: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  for (let l = 0; l < dims.length - 1; l++) {
    kernels.push(tf.tidy(() => tf.variable(glorot(rng, dims[l], dims[l + 1]))));
    biases.push(tf.tidy(() => tf.variable(tf.zeros([dims[l + 1]]))));
  }
  return { kernels, biases };
}

/**
 * An MLP written directly with tfjs ops, for the baselines that need a
 * second-order-differentiable activation (`softplus`) or tfjs's own matmul:
 * - `penalty: 'none' | 'igpen' | 'projection'`: no penalty, the exact
 *   input-gradient penalty (double backpropagation), or the random-projection
 *   Jacobian estimate (Hoffman et al. 2019, one projection per sample per step);
 * - `matmul: true`: affine maps with `tf.matMul` + `tf.add` (tfjs's own MatMul
 *   gradient) instead of the project's `dense`.
 */
export function plainVariant(
  name: string,
  description: string,
  shape: PerfShape,
  batch: PerfBatch,
  opts: { activation: 'relu' | 'softplus'; penalty?: 'none' | 'igpen' | 'projection'; matmul?: boolean; seed?: number },
): PerfVariant {
  const { kernels, biases } = plainParams(shape.dims, opts.seed ?? 1);
  const vars = [...kernels, ...biases];
  const act = opts.activation === 'relu' ? tf.relu : tf.softplus;
  const affine = (h: tf.Tensor2D, l: number): tf.Tensor2D =>
    opts.matmul ? (tf.add(tf.matMul(h, kernels[l] as tf.Tensor2D), biases[l]) as tf.Tensor2D) : dense(h, kernels[l] as tf.Tensor2D, biases[l] as tf.Tensor1D);
  const forward = (x: tf.Tensor2D): tf.Tensor2D => {
    let h = x;
    for (let l = 0; l < kernels.length; l++) {
      const z = affine(h, l);
      h = l < kernels.length - 1 ? (act(z) as tf.Tensor2D) : z;
    }
    return h;
  };
  const optimizer = adam(LEARNING_RATE);
  const penalty = opts.penalty ?? 'none';
  let t = 0;
  return {
    name,
    description,
    step: () =>
      optimizer.minimize(() => {
        let loss: tf.Scalar;
        if (penalty === 'none') {
          loss = tf.losses.softmaxCrossEntropy(batch.y, forward(batch.x)) as tf.Scalar;
        } else {
          loss = tf.mean(twiceDifferentiableSoftmaxCrossEntropy(batch.y, forward(batch.x))) as tf.Scalar;
          const pen =
            penalty === 'igpen'
              ? inputGradientPenalty((xx) => twiceDifferentiableSoftmaxCrossEntropy(batch.y, forward(xx as tf.Tensor2D)), batch.x)
              : randomProjectionJacobianPenalty((xx) => forward(xx as tf.Tensor2D), batch.x, { projections: 1, seed: t });
          loss = tf.add(loss, tf.mul(pen, PENALTY_LAMBDA));
        }
        t++;
        return loss;
      }, true, vars) as tf.Scalar,
    dispose: () => {
      tf.dispose(vars);
      optimizer.dispose();
    },
  };
}
