import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors';
import { simdGemm } from './simd';
import { heapOffset, wasmSimd } from './wasm-backend';

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

const denseKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { be, simd } = simdOrThrow(backend);
  const x = need(inputs, 'x');
  const W = need(inputs, 'kernel');
  const b = inputs.bias;
  const [B, dIn] = x.shape;
  const n = W.shape[1];
  const out = be.makeOutput([B, n], 'float32');
  const pack = be.wasm._malloc(32 * dIn);
  try {
    simdGemm(simd, 'n', heapOffset(be, x), heapOffset(be, W), heapOffset(be, out), b ? heapOffset(be, b) : 0, B, n, dIn, pack);
  } finally {
    be.wasm._free(pack);
  }
  return out;
};

const denseGradParamsKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { be, simd } = simdOrThrow(backend);
  const x = need(inputs, 'x');
  const dz = need(inputs, 'dz');
  const [B, dIn] = x.shape;
  const n = dz.shape[1];
  const gW = be.makeOutput([dIn, n], 'float32');
  const gb = attrs?.hasBias === true ? be.makeOutput([n], 'float32') : null;
  // ∂L/∂W = xᵀ·dz: A = x read as the transposed operand (K = B rows)
  const pack = be.wasm._malloc(32 * B);
  try {
    simdGemm(simd, 't', heapOffset(be, x), heapOffset(be, dz), heapOffset(be, gW), 0, dIn, n, B, pack);
  } finally {
    be.wasm._free(pack);
  }
  if (gb) simd.colsum(heapOffset(be, dz), heapOffset(be, gb), B, n);
  return gb ? [gW, gb] : [gW];
};

const denseGradInputKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { be, simd } = simdOrThrow(backend);
  const dz = need(inputs, 'dz');
  const W = need(inputs, 'kernel');
  const [B, n] = dz.shape;
  const dIn = W.shape[0];
  const gx = be.makeOutput([B, dIn], 'float32');
  const wt = be.wasm._malloc(4 * dIn * n + 32 * n);
  try {
    simd.transpose(heapOffset(be, W), wt, dIn, n); // Wᵀ [n, d_in]
    simdGemm(simd, 'n', heapOffset(be, dz), wt, heapOffset(be, gx), 0, B, dIn, n, wt + 4 * dIn * n);
  } finally {
    be.wasm._free(wt);
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
