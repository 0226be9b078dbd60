import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { wasmKernels } from '@chainz/core';
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
  type PolyKernelAttrs,
} from './names';
export { allZero as allZeroF32 } from './js-math';
import { allZero, columnNorms2, jacobianFrobeniusBackward, jacobianFrobeniusForward, polyBackward, polyForward, type PolyDims } from './js-math';
import { BWD_GDY, BWD_JAC, BWD_SAVED, FWD_DY, FWD_JAC, FWD_SAVE, FWD_SECOND, simdLoops, type SimdLoops } from './wasm-simd';

/*
 * Kernel functions for the `cpu` and `wasm` backends: the same typed-array
 * loops (js-math.ts), with the arrays read from and written to where each
 * backend keeps its data. No backend package is imported: the functions only
 * use the backend object tfjs passes in.
 *
 * - cpu: input data is `backend.data.get(dataId).values`; outputs are new
 *   Float32Arrays handed over with `backend.makeTensorInfo(shape, dtype, values)`.
 * - wasm: outputs are allocated on the wasm heap with `backend.makeOutput`, and
 *   every view (`backend.typedArrayFromHeap`) is taken after the last
 *   allocation, since an allocation can grow (and so detach) the heap.
 */

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

type Body = (input: (t: TensorInfo) => Float32Array, outputs: Float32Array[]) => void;

function size(shape: number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

function runCpu(backend: unknown, shapes: number[][], body: Body): TensorInfo[] {
  const be = backend as CpuBackendLike;
  const outs = shapes.map((s) => new Float32Array(size(s)));
  body((t) => be.data.get(t.dataId).values as Float32Array, outs);
  return shapes.map((s, i) => be.makeTensorInfo(s, 'float32', outs[i]));
}

function runWasm(backend: unknown, shapes: number[][], body: Body): TensorInfo[] {
  const be = backend as WasmBackendLike;
  const infos = shapes.map((s) => be.makeOutput(s, 'float32'));
  const outs = infos.map((t) => be.typedArrayFromHeap(t));
  body((t) => be.typedArrayFromHeap(t), outs);
  return infos;
}

type Runner = typeof runCpu;

function need(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`kernel input '${name}' is missing`);
  return t;
}

/**
 * Shapes of a call. Coefficients `[C | 1, K+1]`: one group, z `[…, C]`. Coefficients
 * `[G, C | 1, K+1]` (the grouped form, G models side by side): z `[G, …, C]`, kernel
 * `[G, d_in, C]`, r `[G, …]`, each group with its own coefficients and kernel.
 * `n` counts the rows of one group.
 */
function dimsOf(z: TensorInfo, coeffs: TensorInfo): PolyDims & { G: number } {
  const C = z.shape[z.shape.length - 1];
  const grouped = coeffs.shape.length === 3;
  const G = grouped ? coeffs.shape[0] : 1;
  const rows = coeffs.shape[coeffs.shape.length - 2];
  return { n: size(z.shape) / Math.max(C, 1) / G, C, K: coeffs.shape[coeffs.shape.length - 1] - 1, shared: rows === 1 && C !== 1, G };
}

/** Shape of r: z's shape without the channel axis. */
function rShape(z: TensorInfo): number[] {
  return z.shape.slice(0, -1);
}

/** Group g's slice of a flat array holding G equal parts. */
function part(a: Float32Array, G: number, g: number): Float32Array {
  const n = a.length / G;
  return a.subarray(g * n, (g + 1) * n);
}

/** Forward kernel; with `jacobian`, the dense Jacobian-norm output r (inputs include `kernel`). */
function polyActivationKernel(run: Runner, jacobian: boolean): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a = fromAttrMap(attrs);
    if (run === runWasm) {
      const fast = simdForward(backend, inputs, a, jacobian);
      if (fast) return fast;
    }
    const z = need(inputs, 'z');
    const coeffs = need(inputs, 'coeffs');
    const W = jacobian ? need(inputs, 'kernel') : undefined;
    const d = dimsOf(z, coeffs);
    const L = outputLayout(a, jacobian);
    const shapes: number[][] = [];
    for (let i = 0; i < L.count; i++) shapes.push(i === L.r ? rShape(z) : z.shape);
    return run(backend, shapes, (input, o) => {
      const dIn = W ? W.shape[W.shape.length - 2] : 0;
      for (let g = 0; g < d.G; g++) {
        const p = (t: Float32Array) => part(t, d.G, g);
        const y = p(o[L.y]);
        polyForward(p(input(z)), p(input(coeffs)), d, a, {
          y,
          dy: L.dy >= 0 ? p(o[L.dy]) : new Float32Array(y.length), // σ' is needed for r even when not output
          u: L.u >= 0 ? p(o[L.u]) : null,
          g1: L.g1 >= 0 ? p(o[L.g1]) : null,
          r: L.r >= 0 ? p(o[L.r]) : null,
          c: W ? columnNorms2(p(input(W)), dIn, d.C) : null,
          d2y: L.d2y >= 0 ? p(o[L.d2y]) : null,
        });
      }
    });
  };
}

function polyActivationGradKernel(run: Runner): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a = fromAttrMap(attrs);
    if (run === runWasm) {
      const fast = simdBackward(backend, inputs, a);
      if (fast) return fast;
    }
    const z = inputs.z;
    const coeffs = need(inputs, 'coeffs');
    const u = inputs.u;
    const g1 = inputs.g1;
    const keep = u !== undefined && g1 !== undefined;
    const zShape = (z ?? need(inputs, 'u')).shape;
    const d = dimsOf({ shape: zShape } as TensorInfo, coeffs);
    const W = inputs.kernel;
    const shapes = [zShape, coeffs.shape];
    if (W) shapes.push(W.shape);
    return run(backend, shapes, (input, o) => {
      const dIn = W ? W.shape[W.shape.length - 2] : 0;
      for (let g = 0; g < d.G; g++) {
        const p = (t: Float32Array) => part(t, d.G, g);
        const gdy = inputs.gdy ? p(input(inputs.gdy)) : null;
        const gd2y = inputs.gd2y ? p(input(inputs.gd2y)) : null;
        const gr = inputs.gr ? p(input(inputs.gr)) : null;
        const Wv = W ? p(input(W)) : null;
        const useJ = Wv !== null && gr !== null && !allZero(gr);
        const s = useJ ? new Float64Array(d.C) : null;
        polyBackward(
          z ? p(input(z)) : null,
          p(input(coeffs)),
          d,
          a,
          {
            u: keep ? p(input(u)) : null,
            g1: keep ? p(input(g1)) : null,
            gy: p(input(need(inputs, 'gy'))),
            // σ' and σ'' are outputs only where a loss may use them: no scan for all-zero gradients
            gdy,
            gd2y,
            gr: useJ ? gr : null,
            c: useJ ? columnNorms2(Wv!, dIn, d.C) : null,
          },
          { gz: p(o[0]), ga: p(o[1]), s },
        );
        if (W) {
          // ∂L/∂W_ij = 2·W_ij·s_j (zero when r is unused)
          const gW = p(o[2]);
          if (s === null) gW.fill(0);
          else for (let i = 0, t = 0; i < dIn; i++) for (let j = 0; j < d.C; j++, t++) gW[t] = 2 * Wv![t] * s[j];
        }
      }
    });
  };
}

function jacobianKernel(run: Runner): KernelFunc {
  return ({ inputs, backend }) => {
    const dy = need(inputs, 'dy');
    const W = need(inputs, 'kernel');
    const [B, n] = dy.shape;
    return run(backend, [[B]], (input, o) => jacobianFrobeniusForward(input(dy), input(W), B, W.shape[0], n, o[0]))[0];
  };
}

function jacobianGradKernel(run: Runner): KernelFunc {
  return ({ inputs, backend }) => {
    const dy = need(inputs, 'dy');
    const W = need(inputs, 'kernel');
    const gr = need(inputs, 'gr');
    const [B, n] = dy.shape;
    return run(backend, [dy.shape, W.shape], (input, o) => jacobianFrobeniusBackward(input(dy), input(W), input(gr), B, W.shape[0], n, o[0], o[1]));
  };
}

function weightedSumKernel(run: Runner): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const weights = (attrs?.weights ?? []) as number[];
    return run(backend, [[]], (input, o) => {
      let total = 0;
      weights.forEach((w, l) => {
        const x = input(need(inputs, `x${l}`));
        let s = 0;
        for (let i = 0; i < x.length; i++) s += x[i];
        total += w * s;
      });
      o[0][0] = total;
    })[0];
  };
}

function weightedSumGradKernel(run: Runner): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const weights = (attrs?.weights ?? []) as number[];
    const shapes = (attrs?.shapes ?? []) as number[][];
    return run(backend, shapes, (input, o) => {
      const dy = input(need(inputs, 'dy'))[0];
      o.forEach((out, l) => out.fill(weights[l] * dy));
    });
  };
}

function weightedSumGroupedKernel(run: Runner): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const weights = (attrs?.weights ?? []) as number[][];
    const counts = (attrs?.counts ?? []) as number[];
    const G = counts.length;
    return run(backend, [[G]], (input, o) => {
      const xs = weights.map((_, l) => input(need(inputs, `x${l}`)));
      for (let g = 0; g < G; g++) {
        let total = 0;
        weights.forEach((w, l) => {
          const x = xs[l];
          const B = x.length / G;
          let s = 0;
          for (let i = g * B, end = g * B + counts[g]; i < end; i++) s += x[i];
          total += w[g] * s;
        });
        o[0][g] = total;
      }
    })[0];
  };
}

function weightedSumGroupedGradKernel(run: Runner): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const weights = (attrs?.weights ?? []) as number[][];
    const counts = (attrs?.counts ?? []) as number[];
    const shapes = (attrs?.shapes ?? []) as number[][];
    const G = counts.length;
    return run(backend, shapes, (input, o) => {
      const dy = input(need(inputs, 'dy'));
      o.forEach((out, l) => {
        const B = out.length / G;
        for (let g = 0; g < G; g++) {
          out.fill(weights[l][g] * dy[g], g * B, g * B + counts[g]);
          out.fill(0, g * B + counts[g], (g + 1) * B);
        }
      });
    });
  };
}

/** Kernel configurations for the `cpu` and `wasm` backends. */
export function jsKernelConfigs(): KernelConfig[] {
  const out: KernelConfig[] = [];
  for (const [backendName, run] of [
    ['cpu', runCpu],
    ['wasm', runWasm],
  ] as const) {
    out.push(
      { kernelName: POLY_ACTIVATION, backendName, kernelFunc: polyActivationKernel(run, false) },
      { kernelName: POLY_ACTIVATION_SAVING, backendName, kernelFunc: polyActivationKernel(run, false) },
      { kernelName: POLY_ACTIVATION_JACOBIAN, backendName, kernelFunc: polyActivationKernel(run, true) },
      { kernelName: POLY_ACTIVATION_JACOBIAN_SAVING, backendName, kernelFunc: polyActivationKernel(run, true) },
      { kernelName: POLY_ACTIVATION_GRAD, backendName, kernelFunc: polyActivationGradKernel(run) },
      { kernelName: DENSE_JACOBIAN_FROBENIUS, backendName, kernelFunc: jacobianKernel(run) },
      { kernelName: DENSE_JACOBIAN_FROBENIUS_GRAD, backendName, kernelFunc: jacobianGradKernel(run) },
      { kernelName: WEIGHTED_SUM, backendName, kernelFunc: weightedSumKernel(run) },
      { kernelName: WEIGHTED_SUM_GRAD, backendName, kernelFunc: weightedSumGradKernel(run) },
      { kernelName: WEIGHTED_SUM_GROUPED, backendName, kernelFunc: weightedSumGroupedKernel(run) },
      { kernelName: WEIGHTED_SUM_GROUPED_GRAD, backendName, kernelFunc: weightedSumGroupedGradKernel(run) },
    );
  }
  return out;
}

// ---- wasm backend: WebAssembly SIMD loops on the heap (wasm-simd.ts), when they apply ----

export interface WasmBackendInternals extends WasmBackendLike {
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown; _malloc(bytes: number): number; _free(ptr: number): void };
  getMemoryOffset(dataId: object): number;
}

/** The SIMD loops when they apply to this call (a cubic or lower degree in the monomial basis), else null. */
function simdFor(backend: unknown, a: PolyKernelAttrs, d: PolyDims): { be: WasmBackendInternals; loops: SimdLoops; memory: WebAssembly.Memory } | null {
  if (a.basis !== 'monomial' || d.K > 3 || d.C < 1) return null;
  const be = backend as WasmBackendInternals;
  const memory = be.wasm?.asm?.memory ?? be.wasm?.wasmMemory;
  if (typeof be.getMemoryOffset !== 'function' || typeof be.wasm?._malloc !== 'function') return null;
  const loops = simdLoops(memory);
  return loops ? { be, loops, memory: memory as WebAssembly.Memory } : null;
}

/** C rounded up to a multiple of 4: the stride of the per-channel float32 columns of the SIMD loops. */
export function paddedChannels(C: number): number {
  return (C + 3) & ~3;
}

/** Scratch memory of the polynomial SIMD loops: its own block, live beside the dense op's (one-op dense layer). */
export const polyScratch: (be: WasmBackendInternals, bytes: number) => number = wasmKernels.scratchAllocator();

/**
 * The per-channel float32 columns of the forward loop at `ptr` (stride C4, zero padding):
 * a0, a1, a2, a3, 2a2, 3a3, 6a3, then 0 for the column norms (filled by `colnorm`).
 */
export function writeForwardColumns(memory: WebAssembly.Memory, ptr: number, coeffs: Float32Array, d: PolyDims): void {
  const C4 = paddedChannels(d.C);
  const out = new Float32Array(memory.buffer, ptr, 8 * C4);
  out.fill(0);
  const K1 = d.K + 1;
  for (let j = 0; j < d.C; j++) {
    const o = d.shared ? 0 : j * K1;
    const a0 = coeffs[o];
    const a1 = d.K >= 1 ? coeffs[o + 1] : 0;
    const a2 = d.K >= 2 ? coeffs[o + 2] : 0;
    const a3 = d.K >= 3 ? coeffs[o + 3] : 0;
    out[j] = a0;
    out[C4 + j] = a1;
    out[2 * C4 + j] = a2;
    out[3 * C4 + j] = a3;
    out[4 * C4 + j] = 2 * a2;
    out[5 * C4 + j] = 3 * a3;
    out[6 * C4 + j] = 6 * a3;
  }
}

/** The backward loop's columns at `ptr` (stride C4): a1, 2a2, 3a3, 6a3, then zeros (accumulators, 2c_j). */
export function writeBackwardColumns(memory: WebAssembly.Memory, ptr: number, coeffs: Float32Array, d: PolyDims): void {
  const C4 = paddedChannels(d.C);
  const out = new Float32Array(memory.buffer, ptr, 10 * C4);
  out.fill(0);
  const K1 = d.K + 1;
  for (let j = 0; j < d.C; j++) {
    const o = d.shared ? 0 : j * K1;
    const a1 = d.K >= 1 ? coeffs[o + 1] : 0;
    const a2 = d.K >= 2 ? coeffs[o + 2] : 0;
    const a3 = d.K >= 3 ? coeffs[o + 3] : 0;
    out[j] = a1;
    out[C4 + j] = 2 * a2;
    out[2 * C4 + j] = 3 * a3;
    out[3 * C4 + j] = 6 * a3;
  }
}

function simdForward(backend: unknown, inputs: NamedTensorInfoMap, a: PolyKernelAttrs, jacobian: boolean): TensorInfo[] | null {
  const z = need(inputs, 'z');
  const coeffs = need(inputs, 'coeffs');
  const d = dimsOf(z, coeffs);
  const s = simdFor(backend, a, d);
  if (!s) return null;
  const { be, loops, memory } = s;
  const L = outputLayout(a, jacobian);
  const infos: TensorInfo[] = [];
  for (let i = 0; i < L.count; i++) infos.push(be.makeOutput(i === L.r ? rShape(z) : z.shape, 'float32'));
  const C4b = 4 * paddedChannels(d.C);
  // scratch: 7 coefficient columns, then ‖W[:, j]‖²
  const sc = polyScratch(be, 8 * C4b);
  const W = jacobian ? need(inputs, 'kernel') : undefined;
  const dIn = W ? W.shape[W.shape.length - 2] : 0;
  const off = (i: number) => (i >= 0 ? be.getMemoryOffset(infos[i].dataId) : 0);
  const flags = (L.dy >= 0 ? FWD_DY : 0) | (L.u >= 0 ? FWD_SAVE : 0) | (L.d2y >= 0 ? FWD_SECOND : 0) | (jacobian ? FWD_JAC : 0);
  const step = 4 * d.n * d.C; // bytes of one group's z
  const outs = [L.y, L.dy, L.u, L.g1, L.d2y].map(off);
  const pr = off(L.r);
  const pz = be.getMemoryOffset(z.dataId);
  const coef = be.typedArrayFromHeap(coeffs);
  for (let g = 0; g < d.G; g++) {
    writeForwardColumns(memory, sc, part(coef, d.G, g), d);
    if (W) loops.colnorm(be.getMemoryOffset(W.dataId) + 4 * g * dIn * d.C, sc + 7 * C4b, dIn, d.C, 1);
    const at = (p: number) => (p ? p + g * step : 0);
    loops.fwd[a.guard](pz + g * step, at(outs[0]), at(outs[1]), at(outs[2]), at(outs[3]), at(outs[4]), pr ? pr + 4 * g * d.n : 0, sc, sc + 7 * C4b, d.n, d.C, flags, 1 / a.scale);
  }
  return infos;
}

function simdBackward(backend: unknown, inputs: NamedTensorInfoMap, a: PolyKernelAttrs): TensorInfo[] | null {
  const coeffs = need(inputs, 'coeffs');
  const z = inputs.z;
  const zShape = (z ?? need(inputs, 'u')).shape;
  const d = dimsOf({ shape: zShape } as TensorInfo, coeffs);
  if (inputs.gd2y !== undefined) return null; // third-derivative path: typed-array loops
  const s = simdFor(backend, a, d);
  if (!s) return null;
  const { be, loops, memory } = s;
  const W = inputs.kernel;
  const infos = [be.makeOutput(zShape, 'float32'), be.makeOutput(coeffs.shape, 'float32'), ...(W ? [be.makeOutput(W.shape, 'float32')] : [])];
  const C4 = paddedChannels(d.C);
  const C4b = 4 * C4;
  // scratch: 4 coefficient columns, 5 accumulators (G0..G3, S), 2c_j — all zeroed
  const sc = polyScratch(be, 10 * C4b);
  const gdy = inputs.gdy;
  const gr = inputs.gr;
  const dIn = W ? W.shape[W.shape.length - 2] : 0;
  // σ' is an output only where a loss may use it; r's gradient is zero only when r is unused ([B]: cheap to check)
  const hasGdy = gdy !== undefined;
  const jac = W !== undefined && gr !== undefined && !allZero(be.typedArrayFromHeap(gr));
  const saved = a.guard === 'tanh' && inputs.u !== undefined && inputs.g1 !== undefined;
  const off = (t: TensorInfo | undefined) => (t !== undefined ? be.getMemoryOffset(t.dataId) : 0);
  const flags = (saved ? BWD_SAVED : 0) | (hasGdy ? BWD_GDY : 0) | (jac ? BWD_JAC : 0);
  const step = 4 * d.n * d.C;
  const [pz, pu, pg1, pgy, pgdy, pgz, pgr] = [saved ? undefined : z, saved ? inputs.u : undefined, saved ? inputs.g1 : undefined, need(inputs, 'gy'), hasGdy ? gdy : undefined, infos[0], jac ? gr : undefined].map(off);
  const coef = be.typedArrayFromHeap(coeffs);
  const K1 = d.K + 1;
  const perGroup = coef.length / d.G;
  for (let g = 0; g < d.G; g++) {
    writeBackwardColumns(memory, sc, part(coef, d.G, g), d);
    if (jac) loops.colnorm(off(W) + 4 * g * dIn * d.C, sc + 9 * C4b, dIn, d.C, 2);
    const at = (p: number) => (p ? p + g * step : 0);
    loops.bwd[a.guard](at(pz), at(pu), at(pg1), at(pgy), at(pgdy), at(pgz), sc, sc + 4 * C4b, pgr ? pgr + 4 * g * d.n : 0, sc + 9 * C4b, d.n, d.C, flags, 1 / a.scale);
    // ∂L/∂coeffs from the accumulators (summed over channels when shared); ∂L/∂W_ij = 2·W_ij·s_j
    const G = new Float32Array(memory.buffer, sc + 4 * C4b, 5 * C4);
    const ga = be.typedArrayFromHeap(infos[1]).subarray(g * perGroup, (g + 1) * perGroup);
    if (d.shared) {
      for (let k = 0; k <= d.K; k++) {
        let t = 0;
        for (let j = 0; j < d.C; j++) t += G[k * C4 + j];
        ga[k] = t;
      }
    } else {
      for (let j = 0; j < d.C; j++) for (let k = 0; k < K1; k++) ga[j * K1 + k] = G[k * C4 + j];
    }
    if (W) {
      const wOff = 4 * g * dIn * d.C;
      if (!jac) be.typedArrayFromHeap(infos[2]).subarray(g * dIn * d.C, (g + 1) * dIn * d.C).fill(0);
      else loops.scalegrad(off(W) + wOff, sc + 8 * C4b, off(infos[2]) + wOff, dIn, d.C);
    }
  }
  return infos;
}
