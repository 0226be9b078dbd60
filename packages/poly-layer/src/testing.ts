/**
 * Float64 plain-JS reference implementations for tests (subpath export
 * `@chainz/poly-layer/testing`). They share no code with the tfjs implementation:
 * basis polynomials come from their closed-form power series (not the
 * recurrences), derivatives from the power rule, the guard derivative from
 * cosh, and the layer norm is the textbook formula. Use them to check values,
 * derivatives and Jacobians of `polyActivation` / `polyDense` and of DREG.
 */
import type { PolyBasis, PolyConfig } from './config';
import { LAYERNORM_EPSILON } from './config';

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/**
 * Power-series coefficients c[0..k] of the basis polynomial P_k (P_k(u) = Σ_j c[j]·u^j):
 * monomial u^k; Chebyshev T_k(u) = (k/2)·Σ_m (−1)^m (k−m−1)!/(m!(k−2m)!)·(2u)^{k−2m};
 * Legendre P_k(u) = 2^{−k}·Σ_m (−1)^m (2k−2m)!/(m!(k−m)!(k−2m)!)·u^{k−2m}.
 */
export function refBasisPowerCoefficients(basis: PolyBasis, k: number): number[] {
  const c = new Array<number>(k + 1).fill(0);
  if (basis === 'monomial' || k === 0) {
    c[k] = 1;
    return c;
  }
  for (let m = 0; 2 * m <= k; m++) {
    if (basis === 'chebyshev') {
      c[k - 2 * m] = (k / 2) * (-1) ** m * (factorial(k - m - 1) / (factorial(m) * factorial(k - 2 * m))) * 2 ** (k - 2 * m);
    } else {
      c[k - 2 * m] = ((-1) ** m * factorial(2 * k - 2 * m)) / (2 ** k * factorial(m) * factorial(k - m) * factorial(k - 2 * m));
    }
  }
  return c;
}

/** p(u), p'(u), p''(u) for coefficients a[0..K] in `basis`, via power series. */
export function refPolynomial(basis: PolyBasis, a: readonly number[], u: number): [number, number, number] {
  const K = a.length - 1;
  const c = new Array<number>(K + 1).fill(0);
  for (let k = 0; k <= K; k++) {
    const b = refBasisPowerCoefficients(basis, k);
    for (let j = 0; j <= k; j++) c[j] += a[k] * b[j];
  }
  let p = 0;
  let dp = 0;
  let d2p = 0;
  for (let j = 0; j <= K; j++) {
    p += c[j] * u ** j;
    if (j >= 1) dp += j * c[j] * u ** (j - 1);
    if (j >= 2) d2p += j * (j - 1) * c[j] * u ** (j - 2);
  }
  return [p, dp, d2p];
}

/** Elementwise guard: u, g'(z), g''(z) (not for `layernorm`). */
export function refGuard(cfg: Pick<PolyConfig, 'guard' | 'scale'>, z: number): [number, number, number] {
  const s = cfg.scale;
  switch (cfg.guard) {
    case 'tanh': {
      const x = z / s;
      const ch = Math.cosh(x);
      const g1 = 1 / (s * ch * ch);
      return [Math.tanh(x), g1, (-2 * Math.tanh(x) * g1) / s];
    }
    case 'clip':
      return [Math.max(-1, Math.min(1, z / s)), Math.abs(z / s) <= 1 ? 1 / s : 0, 0];
    case 'none':
      return [z, 1, 0];
    default:
      throw new Error(`refGuard: ${cfg.guard} is not elementwise`);
  }
}

/** σ(z), σ'(z), σ''(z) for an elementwise guard, one coefficient set. */
export function refActivation(cfg: Pick<PolyConfig, 'basis' | 'guard' | 'scale'>, a: readonly number[], z: number): [number, number, number] {
  const [u, g1, g2] = refGuard(cfg, z);
  const [p, dp, d2p] = refPolynomial(cfg.basis, a, u);
  return [p, dp * g1, d2p * g1 * g1 + dp * g2];
}

/** Textbook layer norm of one vector: u = (z − mean)/sqrt(var + ε) (biased variance), and 1/sqrt(var + ε). */
export function refLayerNorm(z: readonly number[], eps = LAYERNORM_EPSILON): { u: number[]; invStd: number } {
  const n = z.length;
  const mean = z.reduce((s, v) => s + v, 0) / n;
  const v = z.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  const invStd = 1 / Math.sqrt(v + eps);
  return { u: z.map((x) => (x - mean) * invStd), invStd };
}

/** Parameters of a dense polynomial layer in float64 (row-major nested arrays). */
export interface RefDenseParams {
  /** W[d_in][d_out]. */
  kernel: number[][];
  /** b[d_out] (zeros if omitted). */
  bias?: number[];
  /** a[rows][K+1], rows = d_out (channel sharing) or 1. */
  coeffs: number[][];
}

/**
 * One sample through a dense polynomial layer in float64: z = x·W + b, then σ.
 * @returns z, y = σ, dy = σ' (w.r.t. z; w.r.t. u for layernorm), d2y, and for
 *   layernorm u and invStd.
 */
export function refPolyDenseSample(
  x: readonly number[],
  params: RefDenseParams,
  cfg: Pick<PolyConfig, 'basis' | 'guard' | 'scale'>,
): { z: number[]; y: number[]; dy: number[]; d2y: number[]; u?: number[]; invStd?: number } {
  const dOut = params.kernel[0].length;
  const z = new Array<number>(dOut).fill(0);
  for (let j = 0; j < dOut; j++) {
    let s = params.bias ? params.bias[j] : 0;
    for (let i = 0; i < x.length; i++) s += x[i] * params.kernel[i][j];
    z[j] = s;
  }
  const coeffRow = (j: number) => params.coeffs[params.coeffs.length === 1 ? 0 : j];
  if (cfg.guard === 'layernorm') {
    const { u, invStd } = refLayerNorm(z);
    const r = u.map((uj, j) => refPolynomial(cfg.basis, coeffRow(j), uj));
    return { z, y: r.map((t) => t[0]), dy: r.map((t) => t[1]), d2y: r.map((t) => t[2]), u, invStd };
  }
  const r = z.map((zj, j) => refActivation(cfg, coeffRow(j), zj));
  return { z, y: r.map((t) => t[0]), dy: r.map((t) => t[1]), d2y: r.map((t) => t[2]) };
}

/**
 * Per-sample Jacobian ∂y/∂x (`[d_out][d_in]`) of a dense polynomial layer by
 * central finite differences in float64 (step h·max(1, |x_i|)); independent of
 * any Jacobian formula.
 */
export function refDenseJacobianFD(
  x: readonly number[],
  params: RefDenseParams,
  cfg: Pick<PolyConfig, 'basis' | 'guard' | 'scale'>,
  h = 1e-6,
): number[][] {
  const dOut = params.kernel[0].length;
  const J = Array.from({ length: dOut }, () => new Array<number>(x.length).fill(0));
  for (let i = 0; i < x.length; i++) {
    const step = h * Math.max(1, Math.abs(x[i]));
    const xp = x.slice();
    const xm = x.slice();
    xp[i] += step;
    xm[i] -= step;
    const yp = refPolyDenseSample(xp, params, cfg).y;
    const ym = refPolyDenseSample(xm, params, cfg).y;
    for (let j = 0; j < dOut; j++) J[j][i] = (yp[j] - ym[j]) / (2 * step);
  }
  return J;
}

/** ‖J‖_F² of a Jacobian given as nested arrays. */
export function frobenius2(J: readonly (readonly number[])[]): number {
  let s = 0;
  for (const row of J) for (const v of row) s += v * v;
  return s;
}
export * from './testing-conv';
