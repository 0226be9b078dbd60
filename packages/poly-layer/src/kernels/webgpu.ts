import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { PolyBasis } from '../config';
import {
  DENSE_JACOBIAN_FROBENIUS,
  DENSE_JACOBIAN_FROBENIUS_GRAD,
  POLY_ACTIVATION,
  POLY_ACTIVATION_GRAD,
  POLY_ACTIVATION_JACOBIAN,
  fromAttrMap,
  outputLayout,
  type KernelGuard,
  type PolyKernelAttrs,
} from './names';

/*
 * Kernel functions for the `webgpu` backend: WGSL compute shaders run through
 * the backend's own program runner (`backend.runWebGPUProgram(program, inputs,
 * dtype, uniforms)`), so `@tensorflow/tfjs-backend-webgpu` is never imported.
 * A program object has the fields tfjs's programs have: `variableNames` (the
 * input arrays, by these names, in the shader), `outputShape`, a flat
 * `dispatchLayout`/`dispatch`, `workgroupSize`, `shaderKey` (the pipeline cache
 * key: everything baked into the code must be in it), optional `uniforms`, and
 * `getUserCode()` returning `fn main(index : i32) { … setOutputAtIndex(index, v); }`.
 *
 * One program writes one output, so the forward kernel runs one program per
 * output (σ, σ', σ''), and the gradient kernel one for ∂L/∂z and one for
 * ∂L/∂coeffs (a per-coefficient reduction: thread (row, k) loops over the
 * elements of its channel). u and g' are not saved: the shaders recompute them
 * from z (cheap on a GPU), so the forward kernel returns one-element
 * placeholders in their slots. tanh uses exp (tfjs avoids WGSL's built-in tanh,
 * which is inaccurate on some drivers): tanh|x| = (1 − e)/(1 + e),
 * sech² = 4e/(1 + e)², e = exp(−2|x|), with a Taylor series below |x| = 0.25 where
 * 1 − e would cancel in float32.
 */

interface WebGPUBackendLike {
  runWebGPUProgram(program: object, inputs: TensorInfo[], dtype: 'float32', uniforms?: Array<{ type: string; data: number[] }>): TensorInfo;
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): TensorInfo;
  disposeData(dataId: object): void;
}

const WORKGROUP = 64;

function size(shape: number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** A flat, one-output-element-per-thread WebGPU program. */
class FlatProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly size = true;
  readonly uniforms: string;
  shaderKey: string;
  private readonly body: string;

  constructor(key: string, variableNames: string[], outputShape: number[], uniforms: string, body: string) {
    this.variableNames = variableNames;
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(size(outputShape) / WORKGROUP), 1, 1];
    this.uniforms = uniforms;
    this.shaderKey = key;
    this.body = body;
  }

  getUserCode(): string {
    return this.body;
  }
}

/** WGSL for u, g', g'', g''' of the guard at z (`uniforms.scale` = s). */
function guardFn(guard: KernelGuard): string {
  const tanh = `
  fn tanhSech2(x : f32) -> vec2<f32> {
    let ax = min(abs(x), 44.0);
    let e = exp(-2.0 * ax);
    let d = 1.0 / (1.0 + e);
    var t = (1.0 - e) * d;
    if (ax < 0.25) {
      let x2 = ax * ax;
      t = ax * (1.0 + x2 * (-0.33333333 + x2 * (0.13333333 + x2 * (-0.053968254 + x2 * 0.021869488))));
    }
    return vec2<f32>(select(t, -t, x < 0.0), 4.0 * e * d * d);
  }`;
  const body =
    guard === 'tanh'
      ? `let inv = 1.0 / uniforms.scale;
    let ts = tanhSech2(z * inv);
    let g1 = ts.y * inv;
    let g2 = -2.0 * ts.x * g1 * inv;
    return vec4<f32>(ts.x, g1, g2, -2.0 * inv * (g1 * g1 + ts.x * g2));`
      : guard === 'clip'
        ? `let x = z / uniforms.scale;
    let u = select(x, select(-1.0, 1.0, x > 0.0), abs(x) > 1.0);
    let g1 = select(0.0, 1.0 / uniforms.scale, abs(x) <= 1.0);
    return vec4<f32>(u, g1, 0.0, 0.0);`
        : `return vec4<f32>(z, 1.0, 0.0, 0.0);`;
  return `${guard === 'tanh' ? tanh : ''}
  fn guardVals(z : f32) -> vec4<f32> {
    ${body}
  }`;
}

/** WGSL statements filling P, P1, P2, P3 (basis values and derivatives, k = 0..K) at `u`. */
function basisCode(basis: PolyBasis, K: number): string {
  const step =
    basis === 'monomial'
      ? `P[k + 1] = P[k] * u;
      P1[k + 1] = (kf + 1.0) * P[k];
      P2[k + 1] = (kf + 1.0) * P1[k];
      P3[k + 1] = (kf + 1.0) * P2[k];`
      : basis === 'chebyshev'
        ? `P[k + 1] = 2.0 * u * P[k] - P[k - 1];
      P1[k + 1] = 2.0 * P[k] + 2.0 * u * P1[k] - P1[k - 1];
      P2[k + 1] = 4.0 * P1[k] + 2.0 * u * P2[k] - P2[k - 1];
      P3[k + 1] = 6.0 * P2[k] + 2.0 * u * P3[k] - P3[k - 1];`
        : `P[k + 1] = ((2.0 * kf + 1.0) * u * P[k] - kf * P[k - 1]) / (kf + 1.0);
      P1[k + 1] = P1[k - 1] + (2.0 * kf + 1.0) * P[k];
      P2[k + 1] = P2[k - 1] + (2.0 * kf + 1.0) * P1[k];
      P3[k + 1] = P3[k - 1] + (2.0 * kf + 1.0) * P2[k];`;
  return `
    var P : array<f32, ${K + 1}>;
    var P1 : array<f32, ${K + 1}>;
    var P2 : array<f32, ${K + 1}>;
    var P3 : array<f32, ${K + 1}>;
    P[0] = 1.0;
    P[1] = u;
    P1[1] = 1.0;
    for (var k = 1; k < ${K}; k++) {
      let kf = f32(k);
      ${step}
    }`;
}

/** WGSL `polyAt(z, row)` → (σ, σ', σ'', σ''') reading coefficients from array A. */
function polyAtFn(basis: PolyBasis, K: number): string {
  return `
  fn polyAt(z : f32, row : i32) -> vec4<f32> {
    let g = guardVals(z);
    let u = g.x;
    ${basisCode(basis, K)}
    var p = 0.0;
    var p1 = 0.0;
    var p2 = 0.0;
    var p3 = 0.0;
    for (var k = 0; k <= ${K}; k++) {
      let a = A[row * ${K + 1} + k];
      p = p + a * P[k];
      p1 = p1 + a * P1[k];
      p2 = p2 + a * P2[k];
      p3 = p3 + a * P3[k];
    }
    let g1 = g.y;
    let g2 = g.z;
    return vec4<f32>(p, p1 * g1, p2 * g1 * g1 + p1 * g2, p3 * g1 * g1 * g1 + 3.0 * p2 * g1 * g2 + p1 * g.w);
  }`;
}

const POLY_UNIFORMS = 'scale : f32, channels : i32, rows : i32, total : i32,';

function key(parts: Array<string | number | boolean>): string {
  return `chainz_${parts.join('_')}`;
}

function polyUniforms(scale: number, C: number, rows: number, total: number): Array<{ type: string; data: number[] }> {
  return [
    { type: 'float32', data: [scale] },
    { type: 'int32', data: [C] },
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [total] },
  ];
}

function need(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`kernel input '${name}' is missing`);
  return t;
}

const rowOf = `select(index % uniforms.channels, 0, uniforms.rows == 1)`;

/** σ (which = 0), σ' (1) or σ'' (2) of z, elementwise. */
function polyValues(be: WebGPUBackendLike, z: TensorInfo, coeffs: TensorInfo, a: PolyKernelAttrs, which: number): TensorInfo {
  const K = coeffs.shape[1] - 1;
  const program = new FlatProgram(
    key(['poly', a.basis, a.guard, K, which]),
    ['Z', 'A'],
    z.shape,
    POLY_UNIFORMS,
    `${guardFn(a.guard)}${polyAtFn(a.basis, K)}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let v = polyAt(Z[index], ${rowOf});
      setOutputAtIndex(index, v[${which}]);
    }
  }`,
  );
  return be.runWebGPUProgram(program, [z, coeffs], 'float32', polyUniforms(a.scale, z.shape[z.shape.length - 1], coeffs.shape[0], size(z.shape)));
}

function polyActivationKernel(jacobian: boolean): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as unknown as WebGPUBackendLike;
    const a = fromAttrMap(attrs);
    const z = need(inputs, 'z');
    const coeffs = need(inputs, 'coeffs');
    const run = (which: number) => polyValues(be, z, coeffs, a, which);
    // u and g' are recomputed in the gradient shaders: when a caller asks to keep them, one-element placeholders fill their slots
    const L = outputLayout(a, jacobian);
    const outs: TensorInfo[] = new Array(L.count);
    outs[L.y] = run(0);
    outs[L.dy] = run(1);
    if (L.r >= 0) outs[L.r] = jacobianNorm(be, outs[L.dy], need(inputs, 'kernel'));
    if (L.u >= 0) {
      outs[L.u] = be.makeTensorInfo([1], 'float32', new Float32Array(1));
      outs[L.g1] = be.makeTensorInfo([1], 'float32', new Float32Array(1));
    }
    if (L.d2y >= 0) outs[L.d2y] = run(2);
    return outs;
  };
}

const polyActivationGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WebGPUBackendLike;
  const a = fromAttrMap(attrs);
  const z = need(inputs, 'z');
  const coeffs = need(inputs, 'coeffs');
  const gy = need(inputs, 'gy');
  const gd2y = inputs.gd2y;
  const W = inputs.kernel;
  // Jacobian-norm output: ĝdy = gdy + 2·gr_b·c_j·σ' (σ' recomputed), and ∂L/∂W
  let jac: { gdy: TensorInfo; gW: TensorInfo } | undefined;
  if (W !== undefined) {
    const dy = polyValues(be, z, coeffs, a, 1);
    jac = jacobianGrad(be, dy, W, need(inputs, 'gr'), need(inputs, 'gdy'));
    be.disposeData(dy.dataId);
  }
  const gdy = jac ? jac.gdy : need(inputs, 'gdy');
  const K = coeffs.shape[1] - 1;
  const C = z.shape[z.shape.length - 1];
  const total = size(z.shape);
  const rows = coeffs.shape[0];
  const uni = polyUniforms(a.scale, C, rows, total);
  const has2 = gd2y !== undefined;
  const names = ['Z', 'A', 'GY', 'GDY', ...(has2 ? ['GDDY'] : [])];
  const ins = [z, coeffs, gy, gdy, ...(has2 ? [gd2y] : [])];
  const gzProgram = new FlatProgram(
    key(['polygz', a.basis, a.guard, K, has2]),
    names,
    z.shape,
    POLY_UNIFORMS,
    `${guardFn(a.guard)}${polyAtFn(a.basis, K)}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let v = polyAt(Z[index], ${rowOf});
      var s = GY[index] * v.y + GDY[index] * v.z;
      ${has2 ? 's = s + GDDY[index] * v.w;' : ''}
      setOutputAtIndex(index, s);
    }
  }`,
  );
  const gz = be.runWebGPUProgram(gzProgram, ins, 'float32', uni);
  // ∂L/∂a[r, k]: thread (r, k) sums over the elements of channel r (all elements when shared)
  const gaProgram = new FlatProgram(
    key(['polyga', a.basis, a.guard, K, has2]),
    names.filter((n) => n !== 'A'),
    coeffs.shape,
    POLY_UNIFORMS,
    `${guardFn(a.guard)}
  fn term(i : i32, k : i32) -> f32 {
    let g = guardVals(Z[i]);
    let u = g.x;
    ${basisCode(a.basis, K)}
    var t = GY[i] * P[k] + GDY[i] * P1[k] * g.y;
    ${has2 ? 't = t + GDDY[i] * (P2[k] * g.y * g.y + P1[k] * g.z);' : ''}
    return t;
  }
  fn main(index : i32) {
    if (index < uniforms.size) {
      let r = index / ${K + 1};
      let k = index % ${K + 1};
      var acc = 0.0;
      if (uniforms.rows == 1) {
        for (var i = 0; i < uniforms.total; i++) { acc = acc + term(i, k); }
      } else {
        for (var i = r; i < uniforms.total; i += uniforms.channels) { acc = acc + term(i, k); }
      }
      setOutputAtIndex(index, acc);
    }
  }`,
  );
  const ga = be.runWebGPUProgram(gaProgram, ins.filter((t) => t !== coeffs), 'float32', uni);
  if (!jac) return [gz, ga];
  be.disposeData(jac.gdy.dataId);
  return [gz, ga, jac.gW];
};

const JAC_UNIFORMS = 'dIn : i32, n : i32, batch : i32,';

function jacUniforms(dIn: number, n: number, B: number): Array<{ type: string; data: number[] }> {
  return [
    { type: 'int32', data: [dIn] },
    { type: 'int32', data: [n] },
    { type: 'int32', data: [B] },
  ];
}

/** c_j = Σ_i W_ij² ([n]). */
function columnNorms2(be: WebGPUBackendLike, W: TensorInfo, uni: Array<{ type: string; data: number[] }>): TensorInfo {
  const p = new FlatProgram(
    key(['colnorm2']),
    ['W'],
    [W.shape[1]],
    JAC_UNIFORMS,
    `fn main(index : i32) {
    if (index < uniforms.size) {
      var s = 0.0;
      for (var i = 0; i < uniforms.dIn; i++) { let w = W[i * uniforms.n + index]; s = s + w * w; }
      setOutputAtIndex(index, s);
    }
  }`,
  );
  return be.runWebGPUProgram(p, [W], 'float32', uni);
}

/** r_b = Σ_j dy_bj²·‖W[:, j]‖² ([B]). */
function jacobianNorm(be: WebGPUBackendLike, dy: TensorInfo, W: TensorInfo): TensorInfo {
  const [B, n] = dy.shape;
  const uni = jacUniforms(W.shape[0], n, B);
  const c = columnNorms2(be, W, uni);
  const p = new FlatProgram(
    key(['jacfro']),
    ['DY', 'CN'],
    [B],
    JAC_UNIFORMS,
    `fn main(index : i32) {
    if (index < uniforms.size) {
      var s = 0.0;
      for (var j = 0; j < uniforms.n; j++) { let v = DY[index * uniforms.n + j]; s = s + v * v * CN[j]; }
      setOutputAtIndex(index, s);
    }
  }`,
  );
  const r = be.runWebGPUProgram(p, [dy, c], 'float32', uni);
  be.disposeData(c.dataId);
  return r;
}

/**
 * Gradients of r = Σ_j dy²·c_j for upstream gr: ∂L/∂dy = base + 2·gr_b·c_j·dy_bj
 * (base: another upstream gradient of dy, or none) and ∂L/∂W_ij = 2·W_ij·Σ_b gr_b·dy_bj².
 */
function jacobianGrad(be: WebGPUBackendLike, dy: TensorInfo, W: TensorInfo, gr: TensorInfo, base?: TensorInfo): { gdy: TensorInfo; gW: TensorInfo } {
  const [B, n] = dy.shape;
  const uni = jacUniforms(W.shape[0], n, B);
  const c = columnNorms2(be, W, uni);
  const gdyP = new FlatProgram(
    key(['jacgdy', base !== undefined]),
    ['DY', 'CN', 'GR', ...(base ? ['BASE'] : [])],
    dy.shape,
    JAC_UNIFORMS,
    `fn main(index : i32) {
    if (index < uniforms.size) {
      setOutputAtIndex(index, ${base ? 'BASE[index] + ' : ''}2.0 * GR[index / uniforms.n] * CN[index % uniforms.n] * DY[index]);
    }
  }`,
  );
  const gdy = be.runWebGPUProgram(gdyP, [dy, c, gr, ...(base ? [base] : [])], 'float32', uni);
  be.disposeData(c.dataId);
  const sP = new FlatProgram(
    key(['jacs']),
    ['DY', 'GR'],
    [n],
    JAC_UNIFORMS,
    `fn main(index : i32) {
    if (index < uniforms.size) {
      var s = 0.0;
      for (var b = 0; b < uniforms.batch; b++) { let v = DY[b * uniforms.n + index]; s = s + GR[b] * v * v; }
      setOutputAtIndex(index, s);
    }
  }`,
  );
  const s = be.runWebGPUProgram(sP, [dy, gr], 'float32', uni);
  const gwP = new FlatProgram(
    key(['jacgw']),
    ['W', 'S'],
    W.shape,
    JAC_UNIFORMS,
    `fn main(index : i32) {
    if (index < uniforms.size) {
      setOutputAtIndex(index, 2.0 * W[index] * S[index % uniforms.n]);
    }
  }`,
  );
  const gW = be.runWebGPUProgram(gwP, [W, s], 'float32', uni);
  be.disposeData(s.dataId);
  return { gdy, gW };
}

const jacobianKernel: KernelFunc = ({ inputs, backend }) => jacobianNorm(backend as unknown as WebGPUBackendLike, need(inputs, 'dy'), need(inputs, 'kernel'));

const jacobianGradKernel: KernelFunc = ({ inputs, backend }) => {
  const r = jacobianGrad(backend as unknown as WebGPUBackendLike, need(inputs, 'dy'), need(inputs, 'kernel'), need(inputs, 'gr'));
  return [r.gdy, r.gW];
};

/** Kernel configurations for the `webgpu` backend. */
export function webgpuKernelConfigs(): KernelConfig[] {
  const backendName = 'webgpu';
  return [
    { kernelName: POLY_ACTIVATION, backendName, kernelFunc: polyActivationKernel(false) },
    { kernelName: POLY_ACTIVATION_JACOBIAN, backendName, kernelFunc: polyActivationKernel(true) },
    { kernelName: POLY_ACTIVATION_GRAD, backendName, kernelFunc: polyActivationGradKernel },
    { kernelName: DENSE_JACOBIAN_FROBENIUS, backendName, kernelFunc: jacobianKernel },
    { kernelName: DENSE_JACOBIAN_FROBENIUS_GRAD, backendName, kernelFunc: jacobianGradKernel },
  ];
}
