import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import {
  DENSE_JACOBIAN_FROBENIUS,
  DENSE_JACOBIAN_FROBENIUS_GRAD,
  POLY_ACTIVATION,
  POLY_ACTIVATION_GRAD,
  POLY_ACTIVATION_JACOBIAN,
  POLY_ACTIVATION_JACOBIAN_SAVING,
  POLY_ACTIVATION_SAVING,
  fromAttrMap,
  outputLayout,
} from './names';
import { allZero, columnNorms2, jacobianFrobeniusBackward, jacobianFrobeniusForward, polyBackward, polyForward, type PolyDims } from './js-math';

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

function dimsOf(z: TensorInfo, coeffs: TensorInfo): PolyDims {
  const C = z.shape[z.shape.length - 1];
  return { n: size(z.shape) / Math.max(C, 1), C, K: coeffs.shape[1] - 1, shared: coeffs.shape[0] === 1 && C !== 1 };
}

/** Forward kernel; with `jacobian`, the dense Jacobian-norm output r (inputs include `kernel`). */
function polyActivationKernel(run: Runner, jacobian: boolean): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a = fromAttrMap(attrs);
    const z = need(inputs, 'z');
    const coeffs = need(inputs, 'coeffs');
    const W = jacobian ? need(inputs, 'kernel') : undefined;
    const d = dimsOf(z, coeffs);
    const L = outputLayout(a, jacobian);
    const shapes: number[][] = [];
    for (let i = 0; i < L.count; i++) shapes.push(i === L.r ? [d.n] : z.shape);
    return run(backend, shapes, (input, o) => {
      polyForward(input(z), input(coeffs), d, a, {
        y: o[L.y],
        dy: o[L.dy],
        u: L.u >= 0 ? o[L.u] : null,
        g1: L.g1 >= 0 ? o[L.g1] : null,
        r: L.r >= 0 ? o[L.r] : null,
        c: W ? columnNorms2(input(W), W.shape[0], d.C) : null,
        d2y: L.d2y >= 0 ? o[L.d2y] : null,
      });
    });
  };
}

function polyActivationGradKernel(run: Runner): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a = fromAttrMap(attrs);
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
      const gdy = inputs.gdy ? input(inputs.gdy) : null;
      const gd2y = inputs.gd2y ? input(inputs.gd2y) : null;
      const gr = inputs.gr ? input(inputs.gr) : null;
      const Wv = W ? input(W) : null;
      const useJ = Wv !== null && gr !== null && !allZero(gr);
      const s = useJ ? new Float64Array(d.C) : null;
      polyBackward(
        z ? input(z) : null,
        input(coeffs),
        d,
        a,
        {
          u: keep ? input(u) : null,
          g1: keep ? input(g1) : null,
          gy: input(need(inputs, 'gy')),
          gdy: gdy !== null && !allZero(gdy) ? gdy : null,
          gd2y: gd2y !== null && !allZero(gd2y) ? gd2y : null,
          gr: useJ ? gr : null,
          c: useJ ? columnNorms2(Wv!, W!.shape[0], d.C) : null,
        },
        { gz: o[0], ga: o[1], s },
      );
      if (W) {
        // ∂L/∂W_ij = 2·W_ij·s_j (zero when r is unused)
        const gW = o[2];
        if (s === null) gW.fill(0);
        else for (let i = 0, t = 0; i < W.shape[0]; i++) for (let j = 0; j < d.C; j++, t++) gW[t] = 2 * Wv![t] * s[j];
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
    );
  }
  return out;
}
