// Float64 helpers for DREG tests: random float32-exact layers and an explicit-matrix
// Jacobian (J = diag(σ')·J_LN·Wᵀ built entry by entry) to complement the
// finite-difference Jacobian of @chainz/poly-layer/testing.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@chainz/core';
import type { PolyConfig } from '@chainz/poly-layer';
import { refPolyDenseSample, type RefDenseParams } from '@chainz/poly-layer/testing';

export interface RandomLayer {
  x: number[][];
  params: RefDenseParams & { bias: number[] };
  cfg: PolyConfig;
}

export function randomLayer(rng: Rng, B: number, dIn: number, dOut: number, cfg: PolyConfig, xScale = 1): RandomLayer {
  const f = (s: number) => Math.fround(rng.normal() * s);
  const rows = cfg.sharing === 'channel' ? dOut : 1;
  return {
    x: Array.from({ length: B }, () => Array.from({ length: dIn }, () => f(xScale))),
    params: {
      kernel: Array.from({ length: dIn }, () => Array.from({ length: dOut }, () => f(1 / Math.sqrt(dIn)))),
      bias: Array.from({ length: dOut }, () => f(0.3)),
      coeffs: Array.from({ length: rows }, () => Array.from({ length: cfg.degree + 1 }, () => f(0.6))),
    },
    cfg,
  };
}

export function toTensors(l: RandomLayer): { x: tf.Tensor2D; kernel: tf.Tensor2D; bias: tf.Tensor1D; coeffs: tf.Tensor2D } {
  return { x: tf.tensor2d(l.x), kernel: tf.tensor2d(l.params.kernel), bias: tf.tensor1d(l.params.bias), coeffs: tf.tensor2d(l.params.coeffs) };
}

/** Explicit per-sample Jacobian [d_out][d_in] = diag(σ')·(J_LN)·Wᵀ in float64. */
export function explicitJacobian(x: number[], params: RefDenseParams, cfg: PolyConfig): number[][] {
  const r = refPolyDenseSample(x, params, cfg);
  const dIn = x.length;
  const n = params.kernel[0].length;
  const Wt = Array.from({ length: n }, (_, k) => Array.from({ length: dIn }, (_, m) => params.kernel[m][k]));
  let M = Wt; // ∂z/∂x
  if (cfg.guard === 'layernorm') {
    const u = r.u!;
    const JLN = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, k) => r.invStd! * ((i === k ? 1 : 0) - 1 / n - (u[i] * u[k]) / n)));
    M = JLN.map((row) => Array.from({ length: dIn }, (_, m) => row.reduce((s, v, k) => s + v * Wt[k][m], 0)));
  }
  return M.map((row, i) => row.map((v) => r.dy[i] * v));
}
