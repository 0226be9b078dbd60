import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { wasmKernels } from '@chainz/core';
import { fromAttrMap, toAttrMap, type PolyKernelAttrs } from './names';
import { simdLoops, BWD_JAC, FWD_JAC } from './wasm-simd';
import { paddedChannels, writeBackwardColumns, writeForwardColumns, polyScratch, allZeroF32 } from './js-kernels';

/*
 * A dense polynomial layer as one recorded op on the wasm backend: z = x·W + b,
 * y = σ(z) and (DREG `frobenius`) r_b = Σ_j σ'(z_bj)²·‖W[:, j]‖² in one forward
 * kernel, and one gradient kernel for ∂L/∂z (from y's and r's gradients),
 * ∂L/∂W = xᵀ·∂L/∂z + 2·W·diag(Σ_b ∂L/∂r_b·σ'_b²), ∂L/∂b and ∂L/∂coeffs
 * (∂L/∂x = ∂L/∂z·Wᵀ by the dense op's kernel, only when x needs it). Against
 * the dense op followed by the activation kernel this saves, per layer and
 * step, two kernel calls, two saved-tensor copies and (with DREG) the addition
 * of W's two gradient parts — and computes every value with the same loops,
 * so results are unchanged (bit for bit; the one difference: where ∂L/∂z is
 * exactly zero its sign may differ). z is an output (the layer's trace keeps
 * it, and the gradient reads it back); a gradient reaching z directly is added.
 *
 * Grouped form (G models side by side, see batched.ts): x `[G, B, d_in]`,
 * kernel `[G, d_in, n]`, bias `[G, n]`, coeffs `[G, C|1, K+1]`.
 */

/** The fused dense polynomial layer: inputs `{ x, kernel, bias?, coeffs }`, attributes {@link PolyKernelAttrs} + `hasBias`, `jacobian`; outputs `y, z, [r]`. */
export const POLY_DENSE = 'ChainzPolyDense';
/** Its gradient: inputs `{ x, kernel, coeffs, z, gy, gz, gr? }`; outputs `[∂L/∂z, ∂L/∂W, (∂L/∂b), ∂L/∂coeffs]`. */
export const POLY_DENSE_GRAD = 'ChainzPolyDenseGrad';

interface Dims {
  G: number;
  B: number;
  dIn: number;
  n: number;
  K: number;
  shared: boolean;
  grouped: boolean;
}

function need(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`kernel input '${name}' is missing`);
  return t;
}

function dims(x: TensorInfo, W: TensorInfo, coeffs: TensorInfo): Dims {
  const grouped = x.shape.length === 3;
  const [B, dIn] = x.shape.slice(-2);
  const n = W.shape[W.shape.length - 1];
  const rows = coeffs.shape[coeffs.shape.length - 2];
  return { G: grouped ? x.shape[0] : 1, B, dIn, n, K: coeffs.shape[coeffs.shape.length - 1] - 1, shared: rows === 1 && n !== 1, grouped };
}

function backendParts(backend: unknown) {
  const core = wasmKernels.wasmSimd(backend);
  const memory = wasmKernels.wasmMemoryOf(backend);
  const loops = simdLoops(memory);
  if (!core || !loops) throw new Error('the fused dense polynomial layer needs the wasm backend with WebAssembly SIMD on a non-shared memory');
  return { be: core.be, simd: core.simd, loops, memory: memory as WebAssembly.Memory };
}

const forwardKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { be, simd, loops, memory } = backendParts(backend);
  const a = fromAttrMap(attrs);
  const jacobian = attrs?.jacobian === true;
  const x = need(inputs, 'x');
  const W = need(inputs, 'kernel');
  const coeffs = need(inputs, 'coeffs');
  const b = inputs.bias;
  const d = dims(x, W, coeffs);
  const zShape = d.grouped ? [d.G, d.B, d.n] : [d.B, d.n];
  const y = be.makeOutput(zShape, 'float32');
  const z = be.makeOutput(zShape, 'float32');
  const r = jacobian ? be.makeOutput(zShape.slice(0, -1), 'float32') : null;
  const off = (t: TensorInfo) => wasmKernels.heapOffset(be, t);
  const [px, pW, py, pz] = [off(x), off(W), off(y), off(z)];
  const pb = b ? off(b) : 0;
  const pr = r ? off(r) : 0;
  const pack = wasmKernels.heapScratch(be, 32 * d.dIn);
  const C4b = 4 * paddedChannels(d.n);
  const sc = polyScratch(be, 8 * C4b);
  const coef = be.typedArrayFromHeap(coeffs);
  const per = coef.length / d.G;
  const pd = { n: d.B, C: d.n, K: d.K, shared: d.shared };
  for (let g = 0; g < d.G; g++) {
    const zo = 4 * g * d.B * d.n;
    wasmKernels.simdGemm(simd, 'n', px + 4 * g * d.B * d.dIn, pW + 4 * g * d.dIn * d.n, pz + zo, pb ? pb + 4 * g * d.n : 0, d.B, d.n, d.dIn, pack);
    writeForwardColumns(memory, sc, coef.subarray(g * per, (g + 1) * per), pd);
    if (jacobian) loops.colnorm(pW + 4 * g * d.dIn * d.n, sc + 7 * C4b, d.dIn, d.n, 1);
    loops.fwd[a.guard](pz + zo, py + zo, 0, 0, 0, 0, pr ? pr + 4 * g * d.B : 0, sc, sc + 7 * C4b, d.B, d.n, jacobian ? FWD_JAC : 0, 1 / a.scale);
  }
  return r ? [y, z, r] : [y, z];
};

const gradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { be, simd, loops, memory } = backendParts(backend);
  const a = fromAttrMap(attrs);
  const x = need(inputs, 'x');
  const W = need(inputs, 'kernel');
  const coeffs = need(inputs, 'coeffs');
  const z = need(inputs, 'z');
  const gy = need(inputs, 'gy');
  const gz = inputs.gz;
  const gr = inputs.gr;
  const d = dims(x, W, coeffs);
  const hasBias = attrs?.hasBias === true;
  const dz = be.makeOutput(z.shape, 'float32');
  const gW = be.makeOutput(W.shape, 'float32');
  const gb = hasBias ? be.makeOutput(d.grouped ? [d.G, d.n] : [d.n], 'float32') : null;
  const ga = be.makeOutput(coeffs.shape, 'float32');
  const off = (t: TensorInfo) => wasmKernels.heapOffset(be, t);
  // r's gradient is all zero only when r is unused (λ = 0): [G·B] values, cheap to check
  const jac = gr !== undefined && !allZeroF32(be.typedArrayFromHeap(gr));
  const [px, pW, pz, pgy, pdz, pgW] = [off(x), off(W), off(z), off(gy), off(dz), off(gW)];
  const pgz = gz ? off(gz) : 0;
  const pgr = jac ? off(gr!) : 0;
  const C4 = paddedChannels(d.n);
  const C4b = 4 * C4;
  const sc = polyScratch(be, 10 * C4b);
  const pack = wasmKernels.heapScratch(be, 32 * d.B);
  const coef = be.typedArrayFromHeap(coeffs);
  const per = coef.length / d.G;
  const K1 = d.K + 1;
  const pd = { n: d.B, C: d.n, K: d.K, shared: d.shared };
  for (let g = 0; g < d.G; g++) {
    const zo = 4 * g * d.B * d.n;
    const wo = 4 * g * d.dIn * d.n;
    writeBackwardColumns(memory, sc, coef.subarray(g * per, (g + 1) * per), pd);
    if (jac) loops.colnorm(pW + wo, sc + 9 * C4b, d.dIn, d.n, 2);
    loops.bwd[a.guard](pz + zo, 0, 0, pgy + zo, 0, pdz + zo, sc, sc + 4 * C4b, pgr ? pgr + 4 * g * d.B : 0, sc + 9 * C4b, d.B, d.n, jac ? BWD_JAC : 0, 1 / a.scale);
    if (pgz) loops.addinto(pdz + zo, pgz + zo, d.B * d.n); // a gradient reaching z directly (usually the zeros tfjs gives an unused output)
    wasmKernels.simdGemm(simd, 't', px + 4 * g * d.B * d.dIn, pdz + zo, pgW + wo, 0, d.dIn, d.n, d.B, pack);
    if (jac) loops.scalegradadd(pW + wo, sc + 8 * C4b, pgW + wo, d.dIn, d.n);
    if (gb) simd.colsum(pdz + zo, off(gb) + 4 * g * d.n, d.B, d.n);
    // ∂L/∂coeffs from the accumulators (summed over channels when shared)
    const G = new Float32Array(memory.buffer, sc + 4 * C4b, 5 * C4);
    const out = be.typedArrayFromHeap(ga).subarray(g * per, (g + 1) * per);
    if (d.shared) {
      for (let k = 0; k <= d.K; k++) {
        let t = 0;
        for (let j = 0; j < d.n; j++) t += G[k * C4 + j];
        out[k] = t;
      }
    } else {
      for (let j = 0; j < d.n; j++) for (let k = 0; k < K1; k++) out[j * K1 + k] = G[k * C4 + j];
    }
  }
  return gb ? [dz, gW, gb, ga] : [dz, gW, ga];
};

const gradConfig: tf.GradConfig = {
  kernelName: POLY_DENSE,
  inputsToSave: ['x', 'kernel', 'coeffs'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const d = Array.isArray(dys) ? dys : [dys];
    const [x, W, coeffs, z] = saved;
    const hasBias = attrs.hasBias === true;
    const inputs: tf.NamedTensorMap = { x, kernel: W, coeffs, z, gy: d[0], gz: d[1] };
    if (attrs.jacobian === true) inputs.gr = d[2];
    const g = tf.engine().runKernel(POLY_DENSE_GRAD, inputs, attrs) as tf.Tensor[];
    const dz = g[0];
    const grads: Record<string, () => tf.Tensor> = {
      x: () => tf.engine().runKernel(wasmKernels.DENSE_GRAD_INPUT, { dz, kernel: W }) as tf.Tensor,
      kernel: () => g[1],
      coeffs: () => g[hasBias ? 3 : 2],
    };
    if (hasBias) grads.bias = () => g[2];
    return grads;
  },
};

let registered = false;

/** Registers the fused dense-layer kernels for wasm (idempotent). */
export function registerPolyDenseKernels(): void {
  if (registered) return;
  registered = true;
  wasmKernels.registerDenseKernels(); // ∂L/∂x runs the dense op's input-gradient kernel
  for (const [kernelName, kernelFunc] of [
    [POLY_DENSE, forwardKernel],
    [POLY_DENSE_GRAD, gradKernel],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm') == null) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  if (tf.getGradient(POLY_DENSE) == null) tf.registerGradient(gradConfig);
}

const usable = new WeakMap<object, boolean>();

/** Whether the fused layer can run on the active backend (wasm, SIMD loops available). */
export function polyDenseKernelUsable(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const backend = tf.backend() as unknown as object;
  let ok = usable.get(backend);
  if (ok === undefined) {
    ok = wasmKernels.wasmSimd(backend) !== null && simdLoops(wasmKernels.wasmMemoryOf(backend)) !== null;
    usable.set(backend, ok);
  }
  return ok;
}

/**
 * Runs the fused layer: `{ y, z, r? }` (see {@link POLY_DENSE}); the caller has
 * checked shapes, the configuration (monomial, degree ≤ 3, elementwise guard,
 * no σ'') and {@link polyDenseKernelUsable}.
 */
export function runPolyDense(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  coeffs: tf.Tensor,
  attrs: Omit<PolyKernelAttrs, 'save' | 'second' | 'derivative'>,
  jacobian: boolean,
): { y: tf.Tensor; z: tf.Tensor; r?: tf.Tensor } {
  registerPolyDenseKernels();
  const inputs: tf.NamedTensorMap = bias ? { x, kernel, bias, coeffs } : { x, kernel, coeffs };
  const outs = tf.engine().runKernel(POLY_DENSE, inputs, { ...toAttrMap({ ...attrs, save: false, second: false, derivative: false }), hasBias: bias !== undefined, jacobian }) as tf.Tensor[];
  return jacobian ? { y: outs[0], z: outs[1], r: outs[2] } : { y: outs[0], z: outs[1] };
}
