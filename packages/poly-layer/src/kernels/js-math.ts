import type { PolyBasis } from '../config';
import type { KernelGuard } from './names';

/*
 * Plain typed-array loops behind the cpu and wasm kernels (the two backends
 * differ only in where the arrays live). Arithmetic is float64 (JavaScript
 * numbers); inputs and outputs are float32.
 *
 * Speed notes (measured on the project's machines, Node 20): Math.exp and
 * Math.tanh cost 40–60 ns per call here and Math.round ~20 ns, so the tanh
 * guard uses its own exp (a 2^(k/32) table and a degree-4 polynomial: relative
 * error < 1e-12) and every hot loop avoids data-dependent branches (a ternary on
 * a random sign costs ~10 ns by misprediction). The common case — a cubic (any
 * degree ≤ 3) in the monomial basis — has its own loops; other bases and
 * degrees use one generic loop with the basis recurrences of DESIGN §2.
 */

const EXP_STEPS_PER_OCTAVE = 32;
/** |x| ≤ 44 in tanh(x): beyond, float32 tanh is ±1 and sech² < 2.5e-38. */
const TANH_CLAMP = 44;
const EXP_OFFSET = Math.ceil((2 * TANH_CLAMP * EXP_STEPS_PER_OCTAVE) / Math.LN2) + 2;
const K_PER_UNIT = EXP_STEPS_PER_OCTAVE / Math.LN2;
const UNIT_PER_K = Math.LN2 / EXP_STEPS_PER_OCTAVE;
/** Below this |x|, tanh(x) = x·(1 − x²/3 + 2x⁴/15) (error < 2e-16 relative); (1−e)/(1+e) would cancel. */
const TANH_SERIES = 0.004;

let expTable: Float64Array | undefined;

/** 2^(k/32) for k = −EXP_OFFSET … EXP_OFFSET, built on first use. */
function table(): Float64Array {
  if (expTable === undefined) {
    const t = new Float64Array(2 * EXP_OFFSET + 1);
    for (let k = 0; k < t.length; k++) t[k] = Math.pow(2, (k - EXP_OFFSET) / EXP_STEPS_PER_OCTAVE);
    expTable = t;
  }
  return expTable;
}

/**
 * tanh(x) and sech²(x) (float64, relative error < 1e-11 for every finite x;
 * NaN in, NaN out), from e = exp(−2x): tanh = (1 − e)/(1 + e), sech² = 4e/(1 + e)²,
 * which does not cancel in saturation. Writes `out[0] = tanh`, `out[1] = sech²`.
 */
export function tanhSech2(x: number, out: Float64Array): void {
  const T = table();
  if (x > TANH_CLAMP) x = TANH_CLAMP;
  else if (x < -TANH_CLAMP) x = -TANH_CLAMP;
  const w = -2 * x;
  const k = Math.floor(w * K_PER_UNIT + 0.5);
  const r = w - k * UNIT_PER_K;
  const e = T[k + EXP_OFFSET] * (1 + r * (1 + r * (0.5 + r * (0.16666666666666666 + r * 0.041666666666666664))));
  const d = 1 / (1 + e);
  let t = (1 - e) * d;
  if (x < TANH_SERIES && x > -TANH_SERIES) {
    const x2 = x * x;
    t = x * (1 - x2 * (0.3333333333333333 - x2 * 0.13333333333333333));
  }
  out[0] = t;
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
 * (`order` = highest derivative needed, 0..3), by the recurrences of DESIGN §2:
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

/**
 * Forward pass: y = σ(z), dy = σ'(z), d2y = σ''(z) (when given), and for the
 * `tanh` guard u = tanh(z/s), g1 = sech²(z/s)/s (when given; saved for the
 * backward pass). All arrays `n·C` long.
 */
export function polyForward(
  z: Float32Array,
  coeffs: Float32Array,
  d: PolyDims,
  m: PolyMath,
  y: Float32Array,
  dy: Float32Array,
  d2y: Float32Array | null,
  uOut: Float32Array | null,
  g1Out: Float32Array | null,
): void {
  if (isCubic(m, d)) {
    cubicForward(z, coeffs, d, m, y, dy, d2y, uOut, g1Out);
    return;
  }
  const { n, C, K } = d;
  const second = d2y !== null;
  const P = new Float64Array(K + 1);
  const P1 = new Float64Array(K + 1);
  const P2 = new Float64Array(K + 1);
  const P3 = new Float64Array(K + 1);
  const g = new Float64Array(4);
  const tmp = new Float64Array(2);
  const order = second ? 2 : 1;
  for (let b = 0, i = 0; b < n; b++) {
    for (let j = 0; j < C; j++, i++) {
      guardAt(m, z[i], g, tmp);
      const u = g[0];
      basisAt(m.basis, K, u, order, P, P1, P2, P3);
      const o = (d.shared ? 0 : j) * (K + 1);
      let p = 0;
      let p1 = 0;
      let p2 = 0;
      for (let k = 0; k <= K; k++) {
        const a = coeffs[o + k];
        p += a * P[k];
        p1 += a * P1[k];
        if (second) p2 += a * P2[k];
      }
      y[i] = p;
      dy[i] = p1 * g[1];
      if (second) d2y![i] = p2 * g[1] * g[1] + p1 * g[2];
      if (uOut !== null) {
        uOut[i] = u;
        g1Out![i] = g[1];
      }
    }
  }
}

function cubicForward(
  z: Float32Array,
  coeffs: Float32Array,
  d: PolyDims,
  m: PolyMath,
  y: Float32Array,
  dy: Float32Array,
  d2y: Float32Array | null,
  uOut: Float32Array | null,
  g1Out: Float32Array | null,
): void {
  const { n, C } = d;
  const [A0, A1, A2, A3] = cubicColumns(coeffs, d);
  const inv = 1 / m.scale;
  const second = d2y !== null;
  if (m.guard === 'tanh') {
    const T = table();
    const save = uOut !== null && g1Out !== null;
    for (let b = 0, i = 0; b < n; b++) {
      for (let j = 0; j < C; j++, i++) {
        // u = tanh(x), s2 = sech²(x), x = z/s (see tanhSech2; inlined)
        let x = z[i] * inv;
        if (x > TANH_CLAMP) x = TANH_CLAMP;
        else if (x < -TANH_CLAMP) x = -TANH_CLAMP;
        const w = -2 * x;
        const k = Math.floor(w * K_PER_UNIT + 0.5);
        const r = w - k * UNIT_PER_K;
        const e = T[k + EXP_OFFSET] * (1 + r * (1 + r * (0.5 + r * (0.16666666666666666 + r * 0.041666666666666664))));
        const q = 1 / (1 + e);
        let u = (1 - e) * q;
        if (x < TANH_SERIES && x > -TANH_SERIES) {
          const x2 = x * x;
          u = x * (1 - x2 * (0.3333333333333333 - x2 * 0.13333333333333333));
        }
        const g1 = 4 * e * q * q * inv;
        const a1 = A1[j];
        const a2 = A2[j];
        const a3 = A3[j];
        const p1 = (3 * a3 * u + 2 * a2) * u + a1;
        y[i] = ((a3 * u + a2) * u + a1) * u + A0[j];
        dy[i] = p1 * g1;
        if (second) d2y![i] = (6 * a3 * u + 2 * a2) * g1 * g1 - 2 * p1 * u * g1 * inv;
        if (save) {
          uOut![i] = u;
          g1Out![i] = g1;
        }
      }
    }
    return;
  }
  const clip = m.guard === 'clip';
  for (let b = 0, i = 0; b < n; b++) {
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
      y[i] = ((a3 * u + a2) * u + a1) * u + A0[j];
      dy[i] = p1 * g1;
      if (second) d2y![i] = (6 * a3 * u + 2 * a2) * g1 * g1;
    }
  }
}

/** True when every element is exactly zero (an unused output's gradient). */
export function allZero(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

/**
 * Backward pass. Given upstream gradients gy (of y), gdy (of dy; null = zero)
 * and gd2y (of d2y; null = zero):
 *
 *     ∂L/∂z      = gy·σ' + gdy·σ'' + gd2y·σ'''
 *     ∂L/∂a[c,k] = Σ gy·P_k(u) + gdy·P_k'(u)·g' + gd2y·(P_k''(u)·g'² + P_k'(u)·g'')
 *
 * (sums over the elements of channel c, or over all elements with shared
 * coefficients), with σ''' = p'''·g'³ + 3p''·g'·g'' + p'·g'''. `dyOut` is the
 * forward σ'; `u`, `g1` the saved guard values (`tanh` only; null = recompute).
 * Writes `gz` (n·C) and `ga` ([C | 1]·(K+1)).
 */
export function polyBackward(
  z: Float32Array,
  coeffs: Float32Array,
  d: PolyDims,
  m: PolyMath,
  dyOut: Float32Array,
  uIn: Float32Array | null,
  g1In: Float32Array | null,
  gy: Float32Array,
  gdy: Float32Array | null,
  gd2y: Float32Array | null,
  gz: Float32Array,
  ga: Float32Array,
): void {
  if (isCubic(m, d) && gd2y === null) {
    cubicBackward(z, coeffs, d, m, dyOut, uIn, g1In, gy, gdy, gz, ga);
    return;
  }
  const { n, C, K } = d;
  const P = new Float64Array(K + 1);
  const P1 = new Float64Array(K + 1);
  const P2 = new Float64Array(K + 1);
  const P3 = new Float64Array(K + 1);
  const g = new Float64Array(4);
  const tmp = new Float64Array(2);
  const rows = d.shared ? 1 : C;
  const acc = new Float64Array(rows * (K + 1));
  const order = gd2y !== null ? 3 : gdy !== null ? 2 : 1;
  const saved = uIn !== null && g1In !== null && m.guard === 'tanh';
  const inv = 1 / m.scale;
  for (let b = 0, i = 0; b < n; b++) {
    for (let j = 0; j < C; j++, i++) {
      if (saved) {
        const u = uIn![i];
        const g1 = g1In![i];
        g[0] = u;
        g[1] = g1;
        g[2] = -2 * u * g1 * inv;
        g[3] = -2 * inv * (g1 * g1 + u * g[2]);
      } else {
        guardAt(m, z[i], g, tmp);
      }
      const [u, g1, g2, g3] = [g[0], g[1], g[2], g[3]];
      basisAt(m.basis, K, u, order, P, P1, P2, P3);
      const o = (d.shared ? 0 : j) * (K + 1);
      const ey = gy[i];
      const edy = gdy !== null ? gdy[i] : 0;
      const ed2y = gd2y !== null ? gd2y[i] : 0;
      let p1 = 0;
      let p2 = 0;
      let p3 = 0;
      for (let k = 0; k <= K; k++) {
        const a = coeffs[o + k];
        p1 += a * P1[k];
        if (order >= 2) p2 += a * P2[k];
        if (order >= 3) p3 += a * P3[k];
        let t = ey * P[k] + edy * P1[k] * g1;
        if (order >= 3) t += ed2y * (P2[k] * g1 * g1 + P1[k] * g2);
        acc[o + k] += t;
      }
      let s = ey * dyOut[i];
      if (order >= 2) s += edy * (p2 * g1 * g1 + p1 * g2);
      if (order >= 3) s += ed2y * (p3 * g1 * g1 * g1 + 3 * p2 * g1 * g2 + p1 * g3);
      gz[i] = s;
    }
  }
  for (let t = 0; t < acc.length; t++) ga[t] = acc[t];
}

function cubicBackward(
  z: Float32Array,
  coeffs: Float32Array,
  d: PolyDims,
  m: PolyMath,
  dyOut: Float32Array,
  uIn: Float32Array | null,
  g1In: Float32Array | null,
  gy: Float32Array,
  gdy: Float32Array | null,
  gz: Float32Array,
  ga: Float32Array,
): void {
  const { n, C, K } = d;
  const inv = 1 / m.scale;
  const G0 = new Float64Array(C);
  const G1 = new Float64Array(C);
  const G2 = new Float64Array(C);
  const G3 = new Float64Array(C);
  const tanh = m.guard === 'tanh';
  const clip = m.guard === 'clip';
  const saved = tanh && uIn !== null && g1In !== null;
  if (gdy === null) {
    // ∂L/∂z = gy·σ' (the saved forward output), ∂L/∂a_k = Σ gy·u^k
    const tmp = new Float64Array(2);
    for (let b = 0, i = 0; b < n; b++) {
      for (let j = 0; j < C; j++, i++) {
        const e = gy[i];
        let u: number;
        if (saved) u = uIn![i];
        else if (tanh) {
          tanhSech2(z[i] * inv, tmp);
          u = tmp[0];
        } else if (clip) {
          const x = z[i] * inv;
          u = x > 1 ? 1 : x < -1 ? -1 : x;
        } else u = z[i];
        gz[i] = e * dyOut[i];
        const eu = e * u;
        const eu2 = eu * u;
        G0[j] += e;
        G1[j] += eu;
        G2[j] += eu2;
        G3[j] += eu2 * u;
      }
    }
  } else {
    const [, A1, A2, A3] = cubicColumns(coeffs, d);
    const tmp = new Float64Array(2);
    for (let b = 0, i = 0; b < n; b++) {
      for (let j = 0; j < C; j++, i++) {
        let u: number;
        let g1: number;
        let g2 = 0;
        if (tanh) {
          if (saved) {
            u = uIn![i];
            g1 = g1In![i];
          } else {
            tanhSech2(z[i] * inv, tmp);
            u = tmp[0];
            g1 = tmp[1] * inv;
          }
          g2 = -2 * u * g1 * inv;
        } else if (clip) {
          const x = z[i] * inv;
          u = x > 1 ? 1 : x < -1 ? -1 : x;
          g1 = x <= 1 && x >= -1 ? inv : 0;
        } else {
          u = z[i];
          g1 = 1;
        }
        const a2 = A2[j];
        const a3 = A3[j];
        const p1 = (3 * a3 * u + 2 * a2) * u + A1[j];
        const p2 = 6 * a3 * u + 2 * a2;
        const e = gy[i];
        const f = gdy[i];
        gz[i] = e * dyOut[i] + f * (p2 * g1 * g1 + p1 * g2);
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
      let s = 0;
      for (let j = 0; j < C; j++) s += cols[k][j];
      ga[k] = s;
    }
  } else {
    for (let j = 0; j < C; j++) for (let k = 0; k <= K; k++) ga[j * (K + 1) + k] = cols[k][j];
  }
}

/**
 * DREG `frobenius` per sample for a dense layer with an elementwise guard
 * (DESIGN §3): r_b = Σ_j dy_bj²·c_j, c_j = Σ_i W_ij². `dy` is B×n, `W` d_in×n.
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

function columnNorms2(W: Float32Array, dIn: number, n: number): Float64Array {
  const c = new Float64Array(n);
  for (let i = 0, t = 0; i < dIn; i++) {
    for (let j = 0; j < n; j++, t++) {
      const w = W[t];
      c[j] += w * w;
    }
  }
  return c;
}
