// Float64 helpers for the conv DREG tests: random float32-exact conv layers and an
// explicit per-sample Jacobian built entry by entry from the definition
// (J = diag(σ')·(J_LN)·∂z/∂x per output position), complementing the
// finite-difference Jacobian of @chainz/poly-layer/testing.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@chainz/core';
import type { PolyConfig } from '@chainz/poly-layer';
import { refConvAxis, refPolyConv2dSample, type RefConvGeometry, type RefConvParams } from '@chainz/poly-layer/testing';

export interface RandomConvLayer {
  /** Samples, each flat [H, W, C_in]. */
  x: number[][];
  inputHW: [number, number];
  params: RefConvParams & { bias: number[] };
  cfg: PolyConfig;
  geom: RefConvGeometry;
}

export function randomConvLayer(
  rng: Rng,
  B: number,
  inputHW: [number, number],
  cIn: number,
  cOut: number,
  kernelHW: [number, number],
  geom: RefConvGeometry,
  cfg: PolyConfig,
  xScale = 1,
): RandomConvLayer {
  const f = (s: number) => Math.fround(rng.normal() * s);
  const [kh, kw] = kernelHW;
  const rows = cfg.sharing === 'channel' ? cOut : 1;
  return {
    x: Array.from({ length: B }, () => Array.from({ length: inputHW[0] * inputHW[1] * cIn }, () => f(xScale))),
    inputHW,
    params: {
      kernel: Array.from({ length: kh * kw * cIn * cOut }, () => f(1 / Math.sqrt(kh * kw * cIn))),
      kernelShape: [kh, kw, cIn, cOut],
      bias: Array.from({ length: cOut }, () => f(0.3)),
      coeffs: Array.from({ length: rows }, () => Array.from({ length: cfg.degree + 1 }, () => f(0.6))),
    },
    cfg,
    geom,
  };
}

export function convTensors(l: RandomConvLayer): { x: tf.Tensor4D; kernel: tf.Tensor4D; bias: tf.Tensor1D; coeffs: tf.Tensor2D } {
  const [H, W] = l.inputHW;
  const cIn = l.params.kernelShape[2];
  return {
    x: tf.tensor4d(l.x.flat(), [l.x.length, H, W, cIn]),
    kernel: tf.tensor4d(l.params.kernel, l.params.kernelShape),
    bias: tf.tensor1d(l.params.bias),
    coeffs: tf.tensor2d(l.params.coeffs),
  };
}

/** Explicit per-sample Jacobian [H'·W'·C_out][H·W·C_in] in float64. */
export function explicitConvJacobian(x: number[], l: RandomConvLayer): number[][] {
  const [H, W] = l.inputHW;
  const [kh, kw, cIn, C] = l.params.kernelShape;
  const r = refPolyConv2dSample(x, l.inputHW, l.params, l.cfg, l.geom);
  const ah = refConvAxis(H, kh, l.geom.strides[0], l.geom.padding);
  const aw = refConvAxis(W, kw, l.geom.strides[1], l.geom.padding);
  const nIn = H * W * cIn;
  const J: number[][] = [];
  for (let oy = 0; oy < ah.out; oy++) {
    for (let ox = 0; ox < aw.out; ox++) {
      const p = oy * aw.out + ox;
      // A_p: ∂z_{p,c}/∂x, [C][nIn]
      const A = Array.from({ length: C }, () => new Array<number>(nIn).fill(0));
      for (let i = 0; i < kh; i++) {
        const ry = oy * l.geom.strides[0] + i - ah.before;
        if (ry < 0 || ry >= H) continue;
        for (let j = 0; j < kw; j++) {
          const rx = ox * l.geom.strides[1] + j - aw.before;
          if (rx < 0 || rx >= W) continue;
          for (let ci = 0; ci < cIn; ci++) for (let c = 0; c < C; c++) A[c][(ry * W + rx) * cIn + ci] += l.params.kernel[((i * kw + j) * cIn + ci) * C + c];
        }
      }
      let M = A;
      if (l.cfg.guard === 'layernorm') {
        const u = r.u!.slice(p * C, (p + 1) * C);
        const s = r.invStd![p];
        M = Array.from({ length: C }, (_, a) => {
          const row = new Array<number>(nIn).fill(0);
          for (let k = 0; k < C; k++) {
            const jl = s * ((a === k ? 1 : 0) - 1 / C - (u[a] * u[k]) / C);
            for (let m = 0; m < nIn; m++) row[m] += jl * A[k][m];
          }
          return row;
        });
      }
      for (let c = 0; c < C; c++) J.push(M[c].map((v) => r.dy[p * C + c] * v));
    }
  }
  return J;
}
