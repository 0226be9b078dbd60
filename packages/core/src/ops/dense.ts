import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors';
import { simdGemm } from './simd';
import { heapOffset, heapScratch, wasmSimd } from './wasm-backend';

/*
 * Dense (fully connected) op with a hand-written backward pass.
 *
 * tfjs's own MatMul gradient uses the transposed forms `matMul(dy, W, false,
 * true)` and `matMul(x, dy, true, false)`. On the wasm backend those fall back
 * to a scalar loop (512³ takes 12 ms plain, 146 ms transposeB, 296 ms
 * transposeA), so an MLP step is ~6× slower than it need be.
 *
 * - wasm backend (first-order gradients): three kernels of our own (float32
 *   WebAssembly SIMD, simd.ts): the forward product with the bias added in
 *   its last pass, one gradient kernel for ∂L/∂W = xᵀ·dz (read column-wise from
 *   x: no transpose) and ∂L/∂b = Σ_batch dz, and one for ∂L/∂x = dz·Wᵀ, run
 *   only when x needs a gradient (not for a network's first layer). They need
 *   no `Transpose` kernel, and no packed copy of the weights (tfjs's wasm
 *   matMul repacks its right-hand operand whenever it is a new tensor, i.e.
 *   every training step). Results equal the composite path's bit for bit.
 * - elsewhere, and under second-order autodiff: `tf.customGrad` with explicit
 *   `tf.transpose` and the plain (fast) `tf.matMul`.
 *
 * The kernels are registered and the custom-gradient closures built lazily on
 * first use, so importing this module has no side effects.
 */

/** The fused dense kernel: inputs `{ x [B, d_in], kernel [d_in, d_out], bias? [d_out] }`, attribute `hasBias`; output z = x·W (+ b). */
export const DENSE = 'ChainzDense';
/** Gradient kernel of {@link DENSE} for the parameters: inputs `{ x, dz }`, attribute `hasBias`; outputs ∂L/∂W = xᵀ·dz and (with a bias) ∂L/∂b = Σ_batch dz. */
export const DENSE_GRAD_PARAMS = 'ChainzDenseGradParams';
/** Gradient kernel of {@link DENSE} for the input: inputs `{ dz, kernel }`; output ∂L/∂x = dz·Wᵀ. */
export const DENSE_GRAD_INPUT = 'ChainzDenseGradInput';

interface KernelInputs {
  [name: string]: tf.TensorInfo | undefined;
}

function need(inputs: KernelInputs, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`kernel input '${name}' is missing`);
  return t;
}

function simdOrThrow(backend: unknown) {
  const s = wasmSimd(backend);
  if (!s) throw new Error('the dense kernels need the wasm backend with WebAssembly SIMD on a non-shared memory');
  return s;
}

/**
 * Leading group count of a dense kernel call: 1 for x `[B, d_in]`, G for the
 * batched form x `[G, B, d_in]` (kernel `[G, d_in, n]`, bias `[G, n]`), which
 * runs the same loops on each group's slice.
 */
function groups(x: tf.TensorInfo): number {
  return x.shape.length === 3 ? x.shape[0] : 1;
}

const denseKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { be, simd } = simdOrThrow(backend);
  const x = need(inputs, 'x');
  const W = need(inputs, 'kernel');
  const b = inputs.bias;
  const G = groups(x);
  const [B, dIn] = x.shape.slice(-2);
  const n = W.shape[W.shape.length - 1];
  const out = be.makeOutput(G === 1 && x.shape.length === 2 ? [B, n] : [G, B, n], 'float32');
  const pack = heapScratch(be, 32 * dIn);
  const [px, pW, pOut] = [heapOffset(be, x), heapOffset(be, W), heapOffset(be, out)];
  const pb = b ? heapOffset(be, b) : 0;
  for (let g = 0; g < G; g++) {
    simdGemm(simd, 'n', px + 4 * g * B * dIn, pW + 4 * g * dIn * n, pOut + 4 * g * B * n, pb ? pb + 4 * g * n : 0, B, n, dIn, pack);
  }
  return out;
};

const denseGradParamsKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { be, simd } = simdOrThrow(backend);
  const x = need(inputs, 'x');
  const dz = need(inputs, 'dz');
  const G = groups(x);
  const grouped = x.shape.length === 3;
  const [B, dIn] = x.shape.slice(-2);
  const n = dz.shape[dz.shape.length - 1];
  const gW = be.makeOutput(grouped ? [G, dIn, n] : [dIn, n], 'float32');
  const gb = attrs?.hasBias === true ? be.makeOutput(grouped ? [G, n] : [n], 'float32') : null;
  const pack = heapScratch(be, 32 * B);
  const [px, pdz, pgW] = [heapOffset(be, x), heapOffset(be, dz), heapOffset(be, gW)];
  for (let g = 0; g < G; g++) {
    // ∂L/∂W = xᵀ·dz: A = x read as the transposed operand (K = B rows)
    simdGemm(simd, 't', px + 4 * g * B * dIn, pdz + 4 * g * B * n, pgW + 4 * g * dIn * n, 0, dIn, n, B, pack);
    if (gb) simd.colsum(pdz + 4 * g * B * n, heapOffset(be, gb) + 4 * g * n, B, n);
  }
  return gb ? [gW, gb] : [gW];
};

const denseGradInputKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { be, simd } = simdOrThrow(backend);
  const dz = need(inputs, 'dz');
  const W = need(inputs, 'kernel');
  const G = groups(dz);
  const [B, n] = dz.shape.slice(-2);
  const dIn = W.shape[W.shape.length - 2];
  const gx = be.makeOutput(dz.shape.length === 3 ? [G, B, dIn] : [B, dIn], 'float32');
  const wt = heapScratch(be, 4 * dIn * n + 32 * n);
  const [pdz, pW, pgx] = [heapOffset(be, dz), heapOffset(be, W), heapOffset(be, gx)];
  for (let g = 0; g < G; g++) {
    simd.transpose(pW + 4 * g * dIn * n, wt, dIn, n); // Wᵀ [n, d_in]
    simdGemm(simd, 'n', pdz + 4 * g * B * n, wt, pgx + 4 * g * B * dIn, 0, B, dIn, n, wt + 4 * dIn * n);
  }
  return gx;
};

const denseGradConfig: tf.GradConfig = {
  kernelName: DENSE,
  inputsToSave: ['x', 'kernel'],
  gradFunc: (dy, saved, attrs) => {
    const [x, W] = saved;
    const dz = dy as tf.Tensor;
    const hasBias = attrs.hasBias === true;
    // ∂L/∂W and ∂L/∂b now, in one kernel; ∂L/∂x only if tfjs asks for it (an input on the path to a variable)
    const g = tf.engine().runKernel(DENSE_GRAD_PARAMS, { x, dz }, { hasBias }) as tf.Tensor[];
    const grads: Record<string, () => tf.Tensor> = {
      x: () => tf.engine().runKernel(DENSE_GRAD_INPUT, { dz, kernel: W }) as tf.Tensor,
      kernel: () => g[0],
    };
    if (hasBias) grads.bias = () => g[1];
    return grads;
  },
};

let registered = false;

/** Registers the wasm dense kernels and their gradient (idempotent; a registration by another copy of this module is kept). */
export function registerDenseKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of [
    [DENSE, denseKernel],
    [DENSE_GRAD_PARAMS, denseGradParamsKernel],
    [DENSE_GRAD_INPUT, denseGradInputKernel],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm') == null) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  if (tf.getGradient(DENSE) == null) tf.registerGradient(denseGradConfig);
}

/** Nesting depth of gradient recording (1 inside one `tf.grad`/`minimize`, 2 inside a gradient of a gradient). */
function gradientDepth(): number {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth;
}

const simdReady = new WeakMap<object, boolean>();

/** True when the active backend is wasm with the SIMD loops usable (cached per backend object). */
function wasmKernelsUsable(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const backend = tf.backend() as unknown as object;
  let ok = simdReady.get(backend);
  if (ok === undefined) {
    ok = wasmSimd(backend) !== null;
    simdReady.set(backend, ok);
  }
  return ok;
}

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

/** Which implementation {@link dense} runs (see there). */
export type DenseImplementation = 'auto' | 'composite';

/** Options of {@link dense}. */
export interface DenseOptions {
  /**
   * `'auto'` (default): the wasm kernels where they apply (wasm backend,
   * float32, not inside a second-order gradient), the composite op otherwise;
   * `'composite'`: always the composite op (`tf.matMul` + explicit transposes).
   */
  implementation?: DenseImplementation;
}

/**
 * Affine map `z = x·W + b` with a backward pass that needs no transposed matmul:
 *
 *     z = x·W + b,   ∂L/∂x = dz·Wᵀ,   ∂L/∂W = xᵀ·dz,   ∂L/∂b = Σ_batch dz.
 *
 * On the wasm backend (first-order gradients): three float32 SIMD kernels of
 * our own, no transposed or repacked operands, ∂L/∂x computed only when x
 * needs a gradient; results equal the composite path's bit for bit. Elsewhere
 * (and under second-order autodiff, or with `implementation: 'composite'`):
 * `tf.customGrad` with `tf.matMul(a, tf.transpose(b))` /
 * `tf.matMul(tf.transpose(a), b)` instead of `transposeA/transposeB`, which on
 * wasm fall back to a scalar loop (about 6× slower MLP steps).
 *
 * @param x input, shape `[B, d_in]`.
 * @param kernel weights `W`, shape `[d_in, d_out]`.
 * @param bias optional bias `b`, shape `[d_out]`.
 * @param opts `implementation` (default `'auto'`).
 * @returns `z`, shape `[B, d_out]`.
 * @throws ShapeError if ranks or inner dimensions disagree (names the tensor).
 * @throws ConfigError (option `implementation`) for an unknown implementation.
 */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D, opts: DenseOptions = {}): tf.Tensor2D {
  const impl = opts.implementation ?? 'auto';
  if (impl !== 'auto' && impl !== 'composite') throw new ConfigError(`must be 'auto' or 'composite', got ${JSON.stringify(impl)}`, { option: 'implementation' });
  if (x.rank !== 2) throw new ShapeError(`dense expects a rank-2 input [B, d_in], got shape [${x.shape}]`, { tensor: 'x' });
  if (kernel.rank !== 2) throw new ShapeError(`dense expects a rank-2 kernel [d_in, d_out], got shape [${kernel.shape}]`, { tensor: 'kernel' });
  if (x.shape[1] !== kernel.shape[0]) {
    throw new ShapeError(`input has ${x.shape[1]} features but kernel expects ${kernel.shape[0]} (x [${x.shape}], kernel [${kernel.shape}])`, { tensor: 'kernel' });
  }
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== kernel.shape[1])) {
    throw new ShapeError(`bias must have shape [${kernel.shape[1]}], got [${bias.shape}]`, { tensor: 'bias' });
  }
  if (
    impl === 'auto' &&
    x.dtype === 'float32' &&
    kernel.dtype === 'float32' &&
    (bias === undefined || bias.dtype === 'float32') &&
    x.size > 0 &&
    kernel.size > 0 &&
    gradientDepth() <= 1 &&
    wasmKernelsUsable()
  ) {
    registerDenseKernels();
    const inputs: tf.NamedTensorMap = bias === undefined ? { x, kernel } : { x, kernel, bias };
    return tf.engine().runKernel(DENSE, inputs, { hasBias: bias !== undefined }) as tf.Tensor2D;
  }
  if (bias === undefined) return getDenseNoBias()(x, kernel);
  return getDenseWithBias()(x, kernel, bias);
}

let denseBatchedComposite: ((x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor2D) => tf.Tensor3D) | undefined;

function getDenseBatchedComposite(): (x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor2D) => tf.Tensor3D {
  if (denseBatchedComposite === undefined) {
    denseBatchedComposite = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [x, w, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.GradSaveFunc];
      save([x, w]);
      return {
        value: tf.add(tf.matMul(x, w), tf.expandDims(b, 1)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ws] = saved as [tf.Tensor3D, tf.Tensor3D];
          const g = dy as tf.Tensor3D;
          return [tf.matMul(g, tf.transpose(ws, [0, 2, 1])), tf.matMul(tf.transpose(xs, [0, 2, 1]), g), tf.sum(g, 1)];
        },
      };
    }) as unknown as (x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor2D) => tf.Tensor3D;
  }
  return denseBatchedComposite;
}

/**
 * G independent affine maps in one op — z[g] = x[g]·W[g] + b[g] — for training
 * several models of one shape together (e.g. the folds of a cross-validation):
 * on the wasm backend the kernels of {@link dense} run on each group's slice
 * (results equal G separate `dense` calls bit for bit, so ∂L/∂W[g] and ∂L/∂b[g]
 * too); elsewhere batched `tf.matMul` with explicit transposes.
 *
 * @param x inputs `[G, B, d_in]`.
 * @param kernel weights `[G, d_in, d_out]`.
 * @param bias biases `[G, d_out]`.
 * @returns z `[G, B, d_out]`.
 * @throws ShapeError when the shapes do not match (names the tensor).
 */
export function denseBatched(x: tf.Tensor3D, kernel: tf.Tensor3D, bias: tf.Tensor2D): tf.Tensor3D {
  if (x.rank !== 3) throw new ShapeError(`denseBatched expects x [G, B, d_in], got shape [${x.shape}]`, { tensor: 'x' });
  const [G, , dIn] = x.shape;
  if (kernel.rank !== 3 || kernel.shape[0] !== G || kernel.shape[1] !== dIn) {
    throw new ShapeError(`kernel must have shape [${G}, ${dIn}, d_out], got [${kernel.shape}]`, { tensor: 'kernel' });
  }
  if (bias.rank !== 2 || bias.shape[0] !== G || bias.shape[1] !== kernel.shape[2]) {
    throw new ShapeError(`bias must have shape [${G}, ${kernel.shape[2]}], got [${bias.shape}]`, { tensor: 'bias' });
  }
  if (x.dtype === 'float32' && kernel.dtype === 'float32' && bias.dtype === 'float32' && x.size > 0 && kernel.size > 0 && gradientDepth() <= 1 && wasmKernelsUsable()) {
    registerDenseKernels();
    return tf.engine().runKernel(DENSE, { x, kernel, bias }, { hasBias: true }) as tf.Tensor3D;
  }
  return getDenseBatchedComposite()(x, kernel, bias);
}
