import type { PolyBasis } from '../config';
import type { KernelGuard } from './names';

/*
 * Plain typed-array loops behind the cpu and wasm kernels (the two backends
 * differ only in where the arrays live). Arithmetic is float64 (JavaScript
 * numbers); inputs and outputs are float32.
 *
 * Speed notes (measured on the project's machines, Node 20): Math.exp and
 * Math.tanh cost 40–60 ns per call here and Math.round ~20 ns, so the tanh
 * guard uses a rational function (a continued-fraction convergent) where
 * |z/s| ≤ 2 and Math.exp only beyond, and the hot loops avoid data-dependent
 * branches (a ternary on a random sign costs ~10 ns by misprediction). The common case — a cubic (any
 * degree ≤ 3) in the monomial basis — has its own loops; other bases and
 * degrees use one generic loop with the basis recurrences of docs/poly-layer.md.
 */

/**
 * tanh(x) = x·N(x²)/D(x²) on |x| ≤ TANH_RATIONAL_MAX: the 8th convergent of
 * Lambert's continued fraction tanh x = x/(1 + x²/(3 + x²/(5 + …))), relative
 * error < 3e-12 there (and sech² = (1 − t)(1 + t) < 6e-11, no cancellation while
 * |x| ≤ 2). Beyond, tanh|x| = (1 − e)/(1 + e), sech² = 4e/(1 + e)² with
 * e = exp(−2|x|) < 0.02 (no cancellation either; Math.exp is slow here, but
 * |z| > 2s is rare for normalised pre-activations).
 */
const TANH_RATIONAL_MAX = 2;
const N0 = 34459425;
const N1 = 4729725;
const N2 = 135135;
const N3 = 990;
const D1 = 16216200;
const D2 = 945945;
const D3 = 13860;
const D4 = 45;

/**
 * tanh(x) and sech²(x) in float64 (relative error < 1e-10 for every finite x;
 * NaN in, NaN out). Writes `out[0] = tanh`, `out[1] = sech²`.
 */
export function tanhSech2(x: number, out: Float64Array): void {
  if (x <= TANH_RATIONAL_MAX && x >= -TANH_RATIONAL_MAX) {
    const y = x * x;
    const t = (x * (N0 + y * (N1 + y * (N2 + y * (N3 + y))))) / (N0 + y * (D1 + y * (D2 + y * (D3 + y * D4))));
    out[0] = t;
    out[1] = (1 - t) * (1 + t);
    return;
  }
  const e = Math.exp(-2 * Math.abs(x));
  const d = 1 / (1 + e);
  const t = (1 - e) * d;
  out[0] = x < 0 ? -t : x > 0 ? t : x; // x > 0 false for NaN: NaN passes through
  out[1] = 4 * e * d * d;
}

/** Shapes of one call: z is `n × C` (row-major, channel last), coefficients `[C | 1, K+1]`. */
export interface PolyDims {
  /** Rows: the product of all but the last dimension of z. */
  n: number;
  /** Channels (last dimension of z). */
  C: number;
  /** Degree K. */
  K: number;
  /** One coefficient set for every channel (`coeffs` is `[1, K+1]`). */
  shared: boolean;
}

/** Guard and basis of one call. */
export interface PolyMath {
  basis: PolyBasis;
  guard: KernelGuard;
  scale: number;
}

/** Cubic coefficients per channel a_k[j] (zero-padded for K < 3), float64. */
function cubicColumns(coeffs: Float32Array, d: PolyDims): [Float64Array, Float64Array, Float64Array, Float64Array] {
  const cols: [Float64Array, Float64Array, Float64Array, Float64Array] = [new Float64Array(d.C), new Float64Array(d.C), new Float64Array(d.C), new Float64Array(d.C)];
  for (let j = 0; j < d.C; j++) {
    const row = d.shared ? 0 : j;
    for (let k = 0; k <= d.K; k++) cols[k][j] = coeffs[row * (d.K + 1) + k];
  }
  return cols;
}

/** True when the cubic fast path applies (monomial basis, K ≤ 3). */
function isCubic(m: PolyMath, d: PolyDims): boolean {
  return m.basis === 'monomial' && d.K <= 3;
}

/**
 * Basis values and derivatives P_k, P_k', P_k'', P_k''' at u for k = 0..K
 * (`order` = highest derivative needed, 0..3), by the recurrences of docs/poly-layer.md:
 * monomial by the power rule, Chebyshev T_{k+1} = 2uT_k − T_{k−1} (and its
 * derivatives T'_{k+1} = 2T_k + 2uT'_k − T'_{k−1}, T''_{k+1} = 4T'_k + 2uT''_k − T''_{k−1},
 * T'''_{k+1} = 6T''_k + 2uT'''_k − T'''_{k−1}), Legendre (k+1)P_{k+1} = (2k+1)uP_k − kP_{k−1}
 * (and P^{(m)}_{k+1} = P^{(m)}_{k−1} + (2k+1)P^{(m−1)}_k for m ≥ 1).
 */
function basisAt(basis: PolyBasis, K: number, u: number, order: number, P: Float64Array, P1: Float64Array, P2: Float64Array, P3: Float64Array): void {
  P[0] = 1;
  P1[0] = 0;
  P2[0] = 0;
  P3[0] = 0;
  if (K === 0) return;
  P[1] = u;
  P1[1] = 1;
  P2[1] = 0;
  P3[1] = 0;
  for (let k = 1; k < K; k++) {
    if (basis === 'monomial') {
      P[k + 1] = P[k] * u;
      if (order >= 1) P1[k + 1] = (k + 1) * P[k];
      if (order >= 2) P2[k + 1] = (k + 1) * P1[k];
      if (order >= 3) P3[k + 1] = (k + 1) * P2[k];
    } else if (basis === 'chebyshev') {
      const u2 = 2 * u;
      P[k + 1] = u2 * P[k] - P[k - 1];
      if (order >= 1) P1[k + 1] = 2 * P[k] + u2 * P1[k] - P1[k - 1];
      if (order >= 2) P2[k + 1] = 4 * P1[k] + u2 * P2[k] - P2[k - 1];
      if (order >= 3) P3[k + 1] = 6 * P2[k] + u2 * P3[k] - P3[k - 1];
    } else {
      P[k + 1] = ((2 * k + 1) * u * P[k] - k * P[k - 1]) / (k + 1);
      if (order >= 1) P1[k + 1] = P1[k - 1] + (2 * k + 1) * P[k];
      if (order >= 2) P2[k + 1] = P2[k - 1] + (2 * k + 1) * P1[k];
      if (order >= 3) P3[k + 1] = P3[k - 1] + (2 * k + 1) * P2[k];
    }
  }
}

/** Elementwise guard at z: writes u, g', g'', g''' into `out[0..3]`. */
function guardAt(m: PolyMath, z: number, out: Float64Array, tmp: Float64Array): void {
  const inv = 1 / m.scale;
  if (m.guard === 'none') {
    out[0] = z;
    out[1] = 1;
    out[2] = 0;
    out[3] = 0;
  } else if (m.guard === 'clip') {
    const x = z * inv;
    out[0] = x > 1 ? 1 : x < -1 ? -1 : x;
    out[1] = x <= 1 && x >= -1 ? inv : 0; // boundary inclusive, as the composite op; NaN → 0
    out[2] = 0;
    out[3] = 0;
  } else {
    tanhSech2(z * inv, tmp);
    const u = tmp[0];
    const g1 = tmp[1] * inv;
    const g2 = -2 * u * g1 * inv; // g'' = −2·tanh·sech²/s²
    out[0] = u;
    out[1] = g1;
    out[2] = g2;
    out[3] = -2 * inv * (g1 * g1 + u * g2); // g''' = −(2/s)(g'² + u·g'')
  }
}

/** Output arrays of {@link polyForward} (all `n·C` long except `r`). */
export interface ForwardOutputs {
  y: Float32Array;
  dy: Float32Array;
  /** σ'' (null: not requested). */
  d2y: Float32Array | null;
  /** u = g(z) and g1 = g'(z), saved for the backward pass (`tanh` guard; null: not saved). */
  u: Float32Array | null;
  g1: Float32Array | null;
  /** Per row b: r_b = Σ_j dy_bj²·c_j (length n; null: not requested, then `c` is ignored). */
  r: Float32Array | null;
  /** c_j = ‖W[:, j]‖² (length C), see {@link columnNorms2}. */
  c: Float64Array | null;
}

/**
 * Forward pass: y = σ(z), dy = σ'(z), d2y = σ''(z) (when requested), for the
 * `tanh` guard u = tanh(z/s), g1 = sech²(z/s)/s (when requested; saved for the
 * backward pass), and the dense layer's per-sample squared Jacobian norm
 * r_b = Σ_j σ'(z_bj)²·‖W[:, j]‖² (DREG `frobenius`, when requested).
 */
export function polyForward(z: Float32Array, coeffs: Float32Array, d: PolyDims, m: PolyMath, o: ForwardOutputs): void {
  if (isCubic(m, d)) {
    cubicForward(z, coeffs, d, m, o);
    return;
  }
  const { n, C, K } = d;
  const { y, dy, d2y, u: uOut, g1: g1Out, r, c } = o;
  const second = d2y !== null;
  const jac = r !== null && c !== null;
  const P = new Float64Array(K + 1);
  const P1 = new Float64Array(K + 1);
  const P2 = new Float64Array(K + 1);
  const P3 = new Float64Array(K + 1);
  const g = new Float64Array(4);
  const tmp = new Float64Array(2);
  const order = second ? 2 : 1;
  for (let b = 0, i = 0; b < n; b++) {
    let acc = 0;
    for (let j = 0; j < C; j++, i++) {
      guardAt(m, z[i], g, tmp);
      const u = g[0];
      basisAt(m.basis, K, u, order, P, P1, P2, P3);
      const off = (d.shared ? 0 : j) * (K + 1);
      let p = 0;
      let p1 = 0;
      let p2 = 0;
      for (let k = 0; k <= K; k++) {
        const a = coeffs[off + k];
        p += a * P[k];
        p1 += a * P1[k];
        if (second) p2 += a * P2[k];
      }
      const s1 = p1 * g[1];
      y[i] = p;
      dy[i] = s1;
      if (second) d2y![i] = p2 * g[1] * g[1] + p1 * g[2];
      if (uOut !== null) {
        uOut[i] = u;
        g1Out![i] = g[1];
      }
      if (jac) acc += s1 * s1 * c![j];
    }
    if (jac) r![b] = acc;
  }
}

function cubicForward(z: Float32Array, coeffs: Float32Array, d: PolyDims, m: PolyMath, o: ForwardOutputs): void {
  const { n, C } = d;
  const { y, dy, d2y, u: uOut, g1: g1Out, r } = o;
  const [A0, A1, A2, A3] = cubicColumns(coeffs, d);
  const inv = 1 / m.scale;
  const second = d2y !== null;
  const jac = r !== null && o.c !== null;
  const c = o.c ?? new Float64Array(C);
  if (m.guard === 'tanh') {
    const save = uOut !== null && g1Out !== null;
    const tmp = new Float64Array(2);
    for (let b = 0, i = 0; b < n; b++) {
      let acc = 0;
      for (let j = 0; j < C; j++, i++) {
        // u = tanh(x), s2 = sech²(x), x = z/s (tanhSech2, the common branch inlined)
        const x = z[i] * inv;
        let u: number;
        let s2: number;
        if (x <= TANH_RATIONAL_MAX && x >= -TANH_RATIONAL_MAX) {
          const y2 = x * x;
          u = (x * (N0 + y2 * (N1 + y2 * (N2 + y2 * (N3 + y2))))) / (N0 + y2 * (D1 + y2 * (D2 + y2 * (D3 + y2 * D4))));
          s2 = (1 - u) * (1 + u);
        } else {
          tanhSech2(x, tmp);
          u = tmp[0];
          s2 = tmp[1];
        }
        const g1 = s2 * inv;
        const a1 = A1[j];
        const a2 = A2[j];
        const a3 = A3[j];
        const p1 = (3 * a3 * u + 2 * a2) * u + a1;
        const s1 = p1 * g1;
        y[i] = ((a3 * u + a2) * u + a1) * u + A0[j];
        dy[i] = s1;
        if (second) d2y![i] = (6 * a3 * u + 2 * a2) * g1 * g1 - 2 * p1 * u * g1 * inv;
        if (save) {
          uOut![i] = u;
          g1Out![i] = g1;
        }
        if (jac) acc += s1 * s1 * c[j];
      }
      if (jac) r![b] = acc;
    }
    return;
  }
  const clip = m.guard === 'clip';
  for (let b = 0, i = 0; b < n; b++) {
    let acc = 0;
    for (let j = 0; j < C; j++, i++) {
      let u: number;
      let g1: number;
      if (clip) {
        const x = z[i] * inv;
        u = x > 1 ? 1 : x < -1 ? -1 : x;
        g1 = x <= 1 && x >= -1 ? inv : 0;
      } else {
        u = z[i];
        g1 = 1;
      }
      const a1 = A1[j];
      const a2 = A2[j];
      const a3 = A3[j];
      const p1 = (3 * a3 * u + 2 * a2) * u + a1;
      const s1 = p1 * g1;
      y[i] = ((a3 * u + a2) * u + a1) * u + A0[j];
      dy[i] = s1;
      if (second) d2y![i] = (6 * a3 * u + 2 * a2) * g1 * g1;
      if (jac) acc += s1 * s1 * c[j];
    }
    if (jac) r![b] = acc;
  }
}

/** True when every element is exactly zero (an unused output's gradient). */
export function allZero(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

/** Inputs of {@link polyBackward} besides z and the coefficients. */
export interface BackwardInputs {
  /** Saved u, g' (`tanh` guard; null: recompute from z). */
  u: Float32Array | null;
  g1: Float32Array | null;
  /** Upstream gradients of y, dy (null: zero) and d2y (null: zero). */
  gy: Float32Array;
  gdy: Float32Array | null;
  gd2y: Float32Array | null;
  /** Jacobian-norm output: upstream gradient gr (length n; null: none) and c_j = ‖W[:, j]‖². */
  gr: Float32Array | null;
  c: Float64Array | null;
}

/** Outputs of {@link polyBackward}. */
export interface BackwardOutputs {
  gz: Float32Array;
  ga: Float32Array;
  /** s_j = Σ_b gr_b·σ'_bj² (length C), for ∂L/∂W_ij = 2·W_ij·s_j; filled when `gr` is given. */
  s: Float64Array | null;
}

/**
 * Backward pass (σ' and the guard values are recomputed from z, or from the
 * saved u, g' of the `tanh` guard). Given upstream gradients gy (of y), gdy (of
 * dy), gd2y (of d2y) and gr (of the Jacobian norm r_b = Σ_j σ'_bj²·c_j), with the
 * effective ĝdy_bj = gdy_bj + 2·gr_b·c_j·σ'_bj:
 *
 *     ∂L/∂z      = gy·σ' + ĝdy·σ'' + gd2y·σ'''
 *     ∂L/∂a[c,k] = Σ gy·P_k(u) + ĝdy·P_k'(u)·g' + gd2y·(P_k''(u)·g'² + P_k'(u)·g'')
 *     s_j        = Σ_b gr_b·σ'_bj²            (∂L/∂W_ij = 2·W_ij·s_j)
 *
 * (sums over the elements of channel c, or over all elements with shared
 * coefficients), with σ''' = p'''·g'³ + 3p''·g'·g'' + p'·g'''. `z` may be null
 * when u and g' are given.
 */
export function polyBackward(z: Float32Array | null, coeffs: Float32Array, d: PolyDims, m: PolyMath, inp: BackwardInputs, o: BackwardOutputs): void {
  if (isCubic(m, d) && inp.gd2y === null) {
    cubicBackward(z, coeffs, d, m, inp, o);
    return;
  }
  const { n, C, K } = d;
  const { u: uIn, g1: g1In, gy, gdy, gd2y } = inp;
  const jac = inp.gr !== null && inp.c !== null;
  const gr = inp.gr ?? new Float32Array(n);
  const c = inp.c ?? new Float64Array(C);
  const s = o.s ?? new Float64Array(C);
  const P = new Float64Array(K + 1);
  const P1 = new Float64Array(K + 1);
  const P2 = new Float64Array(K + 1);
  const P3 = new Float64Array(K + 1);
  const g = new Float64Array(4);
  const tmp = new Float64Array(2);
  const rows = d.shared ? 1 : C;
  const acc = new Float64Array(rows * (K + 1));
  const order = gd2y !== null ? 3 : gdy !== null || jac ? 2 : 1;
  const saved = uIn !== null && g1In !== null && m.guard === 'tanh';
  const inv = 1 / m.scale;
  for (let b = 0, t = 0; b < n; b++) {
    for (let j = 0; j < C; j++, t++) {
      if (saved) {
        const u = uIn![t];
        const g1 = g1In![t];
        g[0] = u;
        g[1] = g1;
        g[2] = -2 * u * g1 * inv;
        g[3] = -2 * inv * (g1 * g1 + u * g[2]);
      } else {
        guardAt(m, z![t], g, tmp);
      }
      const [u, g1, g2, g3] = [g[0], g[1], g[2], g[3]];
      basisAt(m.basis, K, u, order, P, P1, P2, P3);
      const off = (d.shared ? 0 : j) * (K + 1);
      let p1 = 0;
      let p2 = 0;
      let p3 = 0;
      for (let k = 0; k <= K; k++) {
        const a = coeffs[off + k];
        p1 += a * P1[k];
        if (order >= 2) p2 += a * P2[k];
        if (order >= 3) p3 += a * P3[k];
      }
      const s1 = p1 * g1; // σ'
      const ey = gy[t];
      let edy = gdy !== null ? gdy[t] : 0;
      if (jac) {
        const gs = gr[b] * s1;
        edy += 2 * c[j] * gs;
        s[j] += gs * s1;
      }
      const ed2y = gd2y !== null ? gd2y[t] : 0;
      for (let k = 0; k <= K; k++) {
        let v = ey * P[k] + edy * P1[k] * g1;
        if (order >= 3) v += ed2y * (P2[k] * g1 * g1 + P1[k] * g2);
        acc[off + k] += v;
      }
      let sz = ey * s1;
      if (order >= 2) sz += edy * (p2 * g1 * g1 + p1 * g2);
      if (order >= 3) sz += ed2y * (p3 * g1 * g1 * g1 + 3 * p2 * g1 * g2 + p1 * g3);
      o.gz[t] = sz;
    }
  }
  for (let t = 0; t < acc.length; t++) o.ga[t] = acc[t];
}

function cubicBackward(z: Float32Array | null, coeffs: Float32Array, d: PolyDims, m: PolyMath, inp: BackwardInputs, o: BackwardOutputs): void {
  const { n, C, K } = d;
  const { u: uIn, g1: g1In, gy, gdy } = inp;
  const { gz, ga } = o;
  const inv = 1 / m.scale;
  const G0 = new Float64Array(C);
  const G1 = new Float64Array(C);
  const G2 = new Float64Array(C);
  const G3 = new Float64Array(C);
  const tanh = m.guard === 'tanh';
  const clip = m.guard === 'clip';
  const saved = tanh && uIn !== null && g1In !== null;
  const zv = z ?? new Float32Array(0);
  const tmp = new Float64Array(2);
  const [, A1, A2, A3] = cubicColumns(coeffs, d);
  const jac = inp.gr !== null && inp.c !== null;
  if (gdy === null && !jac) {
    // ∂L/∂z = gy·σ', ∂L/∂a_k = Σ gy·u^k
    for (let b = 0, i = 0; b < n; b++) {
      for (let j = 0; j < C; j++, i++) {
        let u: number;
        let g1: number;
        if (saved) {
          u = uIn![i];
          g1 = g1In![i];
        } else if (tanh) {
          tanhSech2(zv[i] * inv, tmp);
          u = tmp[0];
          g1 = tmp[1] * inv;
        } else if (clip) {
          const x = zv[i] * inv;
          u = x > 1 ? 1 : x < -1 ? -1 : x;
          g1 = x <= 1 && x >= -1 ? inv : 0;
        } else {
          u = zv[i];
          g1 = 1;
        }
        const e = gy[i];
        gz[i] = e * ((3 * A3[j] * u + 2 * A2[j]) * u + A1[j]) * g1;
        const eu = e * u;
        const eu2 = eu * u;
        G0[j] += e;
        G1[j] += eu;
        G2[j] += eu2;
        G3[j] += eu2 * u;
      }
    }
  } else {
    // ĝdy_bj = gdy_bj + 2·gr_b·c_j·σ'_bj (the Jacobian-norm output's gradient), s_j = Σ_b gr_b·σ'_bj²
    const gr = inp.gr ?? new Float32Array(n);
    const c2 = new Float64Array(C);
    if (jac) for (let j = 0; j < C; j++) c2[j] = 2 * inp.c![j];
    const s = o.s ?? new Float64Array(C);
    const hasGdy = gdy !== null;
    const gdyv = gdy ?? gy;
    for (let b = 0, i = 0; b < n; b++) {
      const gb = gr[b];
      for (let j = 0; j < C; j++, i++) {
        let u: number;
        let g1: number;
        let g2 = 0;
        if (tanh) {
          if (saved) {
            u = uIn![i];
            g1 = g1In![i];
          } else {
            tanhSech2(zv[i] * inv, tmp);
            u = tmp[0];
            g1 = tmp[1] * inv;
          }
          g2 = -2 * u * g1 * inv;
        } else if (clip) {
          const x = zv[i] * inv;
          u = x > 1 ? 1 : x < -1 ? -1 : x;
          g1 = x <= 1 && x >= -1 ? inv : 0;
        } else {
          u = zv[i];
          g1 = 1;
        }
        const a2 = A2[j];
        const a3 = A3[j];
        const p1 = (3 * a3 * u + 2 * a2) * u + A1[j];
        const p2 = 6 * a3 * u + 2 * a2;
        const dv = p1 * g1; // σ'
        const e = gy[i];
        let f = hasGdy ? gdyv[i] : 0;
        if (jac) {
          const gdv = gb * dv;
          f += c2[j] * gdv;
          s[j] += gdv * dv;
        }
        gz[i] = e * dv + f * (p2 * g1 * g1 + p1 * g2);
        const fg = f * g1;
        const eu = e * u;
        const eu2 = eu * u;
        G0[j] += e;
        G1[j] += eu + fg;
        G2[j] += eu2 + 2 * fg * u;
        G3[j] += eu2 * u + 3 * fg * u * u;
      }
    }
  }
  const cols = [G0, G1, G2, G3];
  if (d.shared) {
    for (let k = 0; k <= K; k++) {
      let t = 0;
      for (let j = 0; j < C; j++) t += cols[k][j];
      ga[k] = t;
    }
  } else {
    for (let j = 0; j < C; j++) for (let k = 0; k <= K; k++) ga[j * (K + 1) + k] = cols[k][j];
  }
}

/**
 * DREG `frobenius` per sample for a dense layer with an elementwise guard
 * (docs/dreg.md): r_b = Σ_j dy_bj²·c_j, c_j = Σ_i W_ij². `dy` is B×n, `W` d_in×n.
 */
export function jacobianFrobeniusForward(dy: Float32Array, W: Float32Array, B: number, dIn: number, n: number, r: Float32Array): void {
  const c = columnNorms2(W, dIn, n);
  for (let b = 0, i = 0; b < B; b++) {
    let s = 0;
    for (let j = 0; j < n; j++, i++) {
      const v = dy[i];
      s += v * v * c[j];
    }
    r[b] = s;
  }
}

/**
 * Gradient of {@link jacobianFrobeniusForward} for upstream gr (length B):
 * gdy_bj = 2·gr_b·c_j·dy_bj, gW_ij = 2·W_ij·Σ_b gr_b·dy_bj².
 */
export function jacobianFrobeniusBackward(
  dy: Float32Array,
  W: Float32Array,
  gr: Float32Array,
  B: number,
  dIn: number,
  n: number,
  gdy: Float32Array,
  gW: Float32Array,
): void {
  const c = columnNorms2(W, dIn, n);
  const s = new Float64Array(n);
  for (let b = 0, i = 0; b < B; b++) {
    const g = gr[b];
    const g2 = 2 * g;
    for (let j = 0; j < n; j++, i++) {
      const v = dy[i];
      gdy[i] = g2 * c[j] * v;
      s[j] += g * v * v;
    }
  }
  for (let i = 0, t = 0; i < dIn; i++) for (let j = 0; j < n; j++, t++) gW[t] = 2 * W[t] * s[j];
}

/** c_j = Σ_i W_ij² for W `dIn × n` (row-major), float64. */
export function columnNorms2(W: Float32Array, dIn: number, n: number): Float64Array {
  const c = new Float64Array(n);
  for (let i = 0, t = 0; i < dIn; i++) {
    for (let j = 0; j < n; j++, t++) {
      const w = W[t];
      c[j] += w * w;
    }
  }
  return c;
}
