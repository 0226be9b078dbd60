/**
 * Float64 plain-JS references for convolutional polynomial layers (part of the
 * `@chainz/poly-layer/testing` subpath). Direct loops over the definition of a
 * channels-last cross-correlation with TensorFlow's SAME/VALID padding, written
 * independently of `conv2d.ts`; the activation comes from the power-series
 * references of `testing.ts`.
 */
import type { PolyConfig } from './config';
import { refActivation, refLayerNorm, refPolynomial } from './testing';

/** Parameters of a conv polynomial layer in float64, flat row-major arrays. */
export interface RefConvParams {
  /** K, flat `[kh, kw, C_in, C_out]`. */
  kernel: number[];
  /** `[kh, kw, C_in, C_out]`. */
  kernelShape: [number, number, number, number];
  /** b, `[C_out]` (zeros if omitted). */
  bias?: number[];
  /** a, `[rows][K+1]`, rows = C_out (channel sharing) or 1. */
  coeffs: number[][];
}

/** Geometry of a reference convolution. */
export interface RefConvGeometry {
  strides: [number, number];
  padding: 'same' | 'valid';
}

/** Output size and leading padding of one axis (TensorFlow's conventions, re-derived). */
export function refConvAxis(n: number, k: number, s: number, padding: 'same' | 'valid'): { out: number; before: number } {
  if (padding === 'valid') return { out: Math.floor((n - k) / s) + 1, before: 0 };
  const out = Math.ceil(n / s);
  const total = Math.max(0, (out - 1) * s + k - n);
  return { out, before: Math.floor(total / 2) };
}

/**
 * One sample `x` (flat `[H, W, C_in]`) through conv + polynomial activation in float64.
 * @returns z, y, dy, d2y (w.r.t. z; w.r.t. u for layernorm), flat `[H', W', C_out]`, the
 *   output size, and for layernorm u and invStd per position (`[H'·W']`).
 */
export function refPolyConv2dSample(
  x: readonly number[],
  inputHW: [number, number],
  params: RefConvParams,
  cfg: Pick<PolyConfig, 'basis' | 'guard' | 'scale'>,
  geom: RefConvGeometry,
): { z: number[]; y: number[]; dy: number[]; d2y: number[]; outHW: [number, number]; u?: number[]; invStd?: number[] } {
  const [H, W] = inputHW;
  const [kh, kw, cIn, cOut] = params.kernelShape;
  const ah = refConvAxis(H, kh, geom.strides[0], geom.padding);
  const aw = refConvAxis(W, kw, geom.strides[1], geom.padding);
  const P = ah.out * aw.out;
  const z = new Array<number>(P * cOut).fill(0);
  for (let oy = 0; oy < ah.out; oy++) {
    for (let ox = 0; ox < aw.out; ox++) {
      for (let o = 0; o < cOut; o++) {
        let s = params.bias ? params.bias[o] : 0;
        for (let i = 0; i < kh; i++) {
          const r = oy * geom.strides[0] + i - ah.before;
          if (r < 0 || r >= H) continue;
          for (let j = 0; j < kw; j++) {
            const c = ox * geom.strides[1] + j - aw.before;
            if (c < 0 || c >= W) continue;
            for (let ci = 0; ci < cIn; ci++) s += x[(r * W + c) * cIn + ci] * params.kernel[((i * kw + j) * cIn + ci) * cOut + o];
          }
        }
        z[(oy * aw.out + ox) * cOut + o] = s;
      }
    }
  }
  const row = (o: number) => params.coeffs[params.coeffs.length === 1 ? 0 : o];
  const y = new Array<number>(z.length);
  const dy = new Array<number>(z.length);
  const d2y = new Array<number>(z.length);
  if (cfg.guard === 'layernorm') {
    const u = new Array<number>(z.length);
    const invStd = new Array<number>(P);
    for (let p = 0; p < P; p++) {
      const ln = refLayerNorm(z.slice(p * cOut, (p + 1) * cOut));
      invStd[p] = ln.invStd;
      ln.u.forEach((v, o) => {
        const [py, pdy, pd2y] = refPolynomial(cfg.basis, row(o), v);
        u[p * cOut + o] = v;
        y[p * cOut + o] = py;
        dy[p * cOut + o] = pdy;
        d2y[p * cOut + o] = pd2y;
      });
    }
    return { z, y, dy, d2y, outHW: [ah.out, aw.out], u, invStd };
  }
  z.forEach((v, k) => {
    const [a, b, c] = refActivation(cfg, row(k % cOut), v);
    y[k] = a;
    dy[k] = b;
    d2y[k] = c;
  });
  return { z, y, dy, d2y, outHW: [ah.out, aw.out] };
}

/**
 * Per-sample Jacobian ∂y/∂x (`[H'·W'·C_out][H·W·C_in]`) of a conv polynomial layer by
 * central finite differences in float64; independent of any Jacobian formula.
 */
export function refConvJacobianFD(
  x: readonly number[],
  inputHW: [number, number],
  params: RefConvParams,
  cfg: Pick<PolyConfig, 'basis' | 'guard' | 'scale'>,
  geom: RefConvGeometry,
  h = 1e-6,
): number[][] {
  const nOut = refPolyConv2dSample(x, inputHW, params, cfg, geom).y.length;
  const J = Array.from({ length: nOut }, () => new Array<number>(x.length).fill(0));
  for (let i = 0; i < x.length; i++) {
    const step = h * Math.max(1, Math.abs(x[i]));
    const xp = x.slice();
    const xm = x.slice();
    xp[i] += step;
    xm[i] -= step;
    const yp = refPolyConv2dSample(xp, inputHW, params, cfg, geom).y;
    const ym = refPolyConv2dSample(xm, inputHW, params, cfg, geom).y;
    for (let j = 0; j < nOut; j++) J[j][i] = (yp[j] - ym[j]) / (2 * step);
  }
  return J;
}
