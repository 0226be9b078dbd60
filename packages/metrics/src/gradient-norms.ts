import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@chainz/core';

/** Options shared by the per-sample gradient-norm sources. */
export interface GradientNormOptions {
  /**
   * Rows per forward/backward pass; default 256. Only memory use depends on
   * it: the norms are the same for every batch size (samples are independent).
   */
  batchSize?: number;
}

const DEFAULT_BATCH = 256;

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`, { option: 'batchSize' });
  }
}

/**
 * Checks the per-sample loss shape. Called *after* tf.grad/tf.grads returns:
 * an exception thrown inside the differentiated function makes tfjs 4.22 leak
 * the tensors its tape saved for the backward pass.
 */
function checkLoss(shape: number[] | undefined, rows: number): void {
  if (shape === undefined || shape.length !== 1 || shape[0] !== rows) {
    throw new ShapeError(`the per-sample loss must have shape [${rows}] (one loss per row of the batch), got [${shape?.join(', ')}]`, {
      tensor: 'perSampleLoss',
    });
  }
}

/**
 * Per-sample input-gradient norms ‖∂ℓ_i/∂x_i‖₂ — the `input` source of the
 * gradient tail ratio (docs/metrics.md).
 *
 * One backward pass per batch: the gradient of Σ_i ℓ_i with respect to the
 * batch X has row i equal to ∂ℓ_i/∂x_i, because ℓ_i depends on x_i only.
 * **Assumption:** samples are independent in the forward pass — no
 * batch-coupled layers (batch normalisation in training mode, in-batch
 * attention or pooling across rows, losses normalised by a batch statistic).
 * Evaluate such a model in inference mode, or the norms mix samples.
 *
 * @param perSampleLoss maps a batch `[B, …]` to its per-sample losses `[B]`
 *   (e.g. cross-entropy per row, *not* its mean). Called once per batch
 *   inside `tf.grad`; it must be differentiable with respect to its input.
 *   Its second argument is the index of the batch's first row in `x`, to
 *   pick the matching labels (`labels.slice(start, start + B)`).
 * @param x inputs `[N, D]` float32 (or `[N, H, W, C]` / `[N, T, D]`: the norm
 *   is then taken over all non-batch axes). Not disposed.
 * @param opts.batchSize rows per pass; default 256.
 * @returns `[N]` float32 norms in units of loss per input unit.
 * @throws ShapeError if `x` has rank < 2, is not float32, or `perSampleLoss`
 *   returns anything but shape `[B]`.
 * @throws ConfigError if `batchSize` is not a positive integer.
 */
export function inputGradientNorms<T extends tf.Tensor2D | tf.Tensor3D | tf.Tensor4D>(
  perSampleLoss: (x: T, start: number) => tf.Tensor1D,
  x: T,
  opts: GradientNormOptions = {},
): Float32Array {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  checkBatchSize(batchSize);
  if (x.rank < 2) throw new ShapeError(`x must have shape [N, ...] with rank >= 2, got [${x.shape.join(', ')}]`, { tensor: 'x' });
  if (x.dtype !== 'float32') throw new ShapeError(`x must be float32, got ${x.dtype}`, { tensor: 'x' });
  const n = x.shape[0];
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const norms = batchInputGradientNorms(perSampleLoss, x, start, Math.min(batchSize, n - start));
    out.set(norms.dataSync() as Float32Array, start);
    norms.dispose();
  }
  return out;
}

/** ‖∂ℓ_i/∂x_i‖₂ for rows start … start+rows−1 of x, `[rows]` (a new tensor). */
function batchInputGradientNorms<T extends tf.Tensor2D | tf.Tensor3D | tf.Tensor4D>(
  perSampleLoss: (x: T, start: number) => tf.Tensor1D,
  x: T,
  start: number,
  rows: number,
): tf.Tensor1D {
  const reduceAxes = x.shape.slice(1).map((_, i) => i + 1);
  return tf.tidy(() => {
    const begin = x.shape.map((_, i) => (i === 0 ? start : 0));
    const size = x.shape.map((s, i) => (i === 0 ? rows : s));
    const xb = tf.slice(x, begin, size) as T;
    let lossShape: number[] | undefined;
    const g = tf.grad((xi: tf.Tensor) => {
      const loss = perSampleLoss(xi as T, start);
      lossShape = loss.shape;
      return tf.sum(loss);
    })(xb);
    checkLoss(lossShape, rows);
    return tf.sqrt(tf.sum(tf.square(g), reduceAxes)) as tf.Tensor1D;
  });
}

/**
 * {@link inputGradientNorms} with asynchronous reads (`await tensor.data()`),
 * for backends that cannot read synchronously — WebGPU in Node (tfjs's WebGPU
 * `readSync` needs an `OffscreenCanvas`). Same values, arguments and errors.
 */
export async function inputGradientNormsAsync<T extends tf.Tensor2D | tf.Tensor3D | tf.Tensor4D>(
  perSampleLoss: (x: T, start: number) => tf.Tensor1D,
  x: T,
  opts: GradientNormOptions = {},
): Promise<Float32Array> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  checkBatchSize(batchSize);
  if (x.rank < 2) throw new ShapeError(`x must have shape [N, ...] with rank >= 2, got [${x.shape.join(', ')}]`, { tensor: 'x' });
  if (x.dtype !== 'float32') throw new ShapeError(`x must be float32, got ${x.dtype}`, { tensor: 'x' });
  const n = x.shape[0];
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const norms = batchInputGradientNorms(perSampleLoss, x, start, Math.min(batchSize, n - start));
    try {
      out.set((await norms.data()) as Float32Array, start);
    } finally {
      norms.dispose();
    }
  }
  return out;
}

/** What a probed forward pass returns (see {@link parameterGradientNorms}). */
export interface ProbedForwardResult {
  /** Per-sample losses `[B]` (not their mean). */
  perSampleLoss: tf.Tensor1D;
  /**
   * The input a_l `[B, fanIn_l]` of each dense layer l, in the same order as
   * `probes` and `layerWidths` (a_0 is usually the batch itself).
   */
  layerInputs: tf.Tensor2D[];
}

/**
 * A forward pass that adds `probes[l]` (zeros, `[B, layerWidths[l]]`) to the
 * pre-activation of dense layer l: z_l = a_l·W_l + b_l + probes[l]. Adding
 * zeros changes no value; it only exposes δ_l = ∂ℓ/∂z_l as ∂ℓ/∂probes[l].
 */
export type ProbedForward = (x: tf.Tensor2D, probes: tf.Tensor2D[]) => ProbedForwardResult;

/** Options of {@link parameterGradientNorms}. */
export interface ParameterGradientNormOptions extends GradientNormOptions {
  /**
   * Whether each layer has a bias (its gradient δ_i adds ‖δ_i‖² to the
   * squared norm); one flag for all layers or one per layer. Default true.
   */
  bias?: boolean | boolean[];
}

/**
 * Per-sample parameter-gradient norms of a stack of dense layers — the
 * `parameter` source of the gradient tail ratio (docs/metrics.md) — with one
 * backward pass per batch and no per-sample loop.
 *
 * For a dense layer z_i = a_i·W + b, the gradient of ℓ_i with respect to W is
 * the outer product a_iᵀ δ_i with δ_i = ∂ℓ_i/∂z_i, so
 * ‖∂ℓ_i/∂W‖²_F = ‖a_i‖² ‖δ_i‖² and ‖∂ℓ_i/∂b‖² = ‖δ_i‖². The result is
 * g_i = sqrt(Σ_l ‖a_{i,l}‖² ‖δ_{i,l}‖² + [bias_l] ‖δ_{i,l}‖²). δ is obtained
 * without touching the model's internals: the caller's forward adds zero
 * "probe" tensors to each pre-activation, and the gradient of Σ_i ℓ_i with
 * respect to probe l has row i equal to δ_{i,l} (samples are independent —
 * the same assumption as {@link inputGradientNorms}: no batch-coupled layers).
 *
 * Only the dense weights and biases behind the probes are counted; parameters
 * elsewhere (learnable activation coefficients, embeddings, convolutions) are
 * not. Use the same forward for every compared model.
 *
 * @param forward probed forward pass: `(x [B, D], probes) → { perSampleLoss
 *   [B], layerInputs [B, fanIn_l][] }`. Called once per batch inside
 *   `tf.grads`; each probe must be added to its layer's pre-activation.
 * @param x inputs `[N, D]` float32. Not disposed.
 * @param layerWidths output width (units) of each dense layer, in order.
 * @param opts.batchSize rows per pass (default 256); `opts.bias` (default true).
 * @returns `[N]` float32 per-sample norms ‖∂ℓ_i/∂θ‖₂ over the dense weights and biases.
 * @throws ConfigError for empty/invalid `layerWidths`, a `bias` array of the
 *   wrong length, a bad `batchSize`, or a probe the forward never uses.
 * @throws ShapeError if `x` is not `[N, D]` float32, the loss is not `[B]`, or
 *   `layerInputs` does not hold one `[B, fanIn]` tensor per layer.
 */
export function parameterGradientNorms(
  forward: ProbedForward,
  x: tf.Tensor2D,
  layerWidths: number[],
  opts: ParameterGradientNormOptions = {},
): Float32Array {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  checkBatchSize(batchSize);
  if (x.rank !== 2) throw new ShapeError(`x must have shape [N, D], got [${x.shape.join(', ')}]`, { tensor: 'x' });
  if (x.dtype !== 'float32') throw new ShapeError(`x must be float32, got ${x.dtype}`, { tensor: 'x' });
  const L = layerWidths.length;
  if (L === 0) throw new ConfigError('layerWidths must name at least one dense layer', { option: 'layerWidths' });
  for (const w of layerWidths) {
    if (!Number.isInteger(w) || w < 1) throw new ConfigError(`layer widths must be positive integers, got ${w}`, { option: 'layerWidths' });
  }
  const bias = Array.isArray(opts.bias) ? opts.bias : new Array<boolean>(L).fill(opts.bias ?? true);
  if (bias.length !== L) {
    throw new ConfigError(`bias has ${bias.length} flags for ${L} layers`, { option: 'bias' });
  }
  const [n, d] = x.shape;
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    let kept: tf.Tensor2D[] = [];
    try {
      const norms = tf.tidy(() => {
        const xb = tf.slice(x, [start, 0], [rows, d]);
        const probes = layerWidths.map((w) => tf.zeros([rows, w]) as tf.Tensor2D);
        let deltas: tf.Tensor[];
        let lossShape: number[] | undefined;
        try {
          deltas = tf.grads((...ps: tf.Tensor[]) => {
            const r = forward(xb, ps as tf.Tensor2D[]);
            lossShape = r.perSampleLoss.shape;
            // Keep the layer inputs past tf.grads' internal tidy; disposed below.
            kept = r.layerInputs.map((a) => tf.keep(a));
            return tf.sum(r.perSampleLoss);
          })(probes);
        } catch (e) {
          // (tfjs 4.22 leaks the tensors its tape saved on this error path.)
          if (e instanceof Error && /Cannot compute gradient/.test(e.message)) {
            throw new ConfigError(
              'the loss does not depend on every probe: add probes[l] to the pre-activation of dense layer l',
              { option: 'forward' },
            );
          }
          throw e;
        }
        checkLoss(lossShape, rows);
        if (kept.length !== L) {
          throw new ShapeError(`forward returned ${kept.length} layerInputs for ${L} layers`, { tensor: 'layerInputs' });
        }
        let sq: tf.Tensor = tf.zeros([rows]);
        for (let l = 0; l < L; l++) {
          const a = kept[l];
          if (a.rank !== 2 || a.shape[0] !== rows) {
            throw new ShapeError(`layerInputs[${l}] must have shape [${rows}, fanIn], got [${a.shape.join(', ')}]`, { tensor: `layerInputs[${l}]` });
          }
          const deltaSq = tf.sum(tf.square(deltas[l]), 1);
          const aSq = tf.sum(tf.square(a), 1);
          sq = tf.add(sq, bias[l] ? tf.mul(tf.add(aSq, 1), deltaSq) : tf.mul(aSq, deltaSq));
        }
        return tf.sqrt(sq);
      });
      out.set(norms.dataSync() as Float32Array, start);
      norms.dispose();
    } finally {
      for (const a of kept) a.dispose();
    }
  }
  return out;
}
