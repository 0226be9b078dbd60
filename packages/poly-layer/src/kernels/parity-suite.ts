/*
 * Parity tests of the fused kernels, shared by the unit project (cpu, wasm:
 * kernels.test.ts) and the webgpu project (kernels.webgpu.test.ts). Call inside
 * `describeBackends([...], …)`: the backend under test is active.
 *
 * Each case draws random z (a few values far in the guard's saturation) and
 * coefficients and checks, for the fused kernel against the composite op on the
 * same backend and against the float64 references of `../testing`:
 * - σ, σ', σ'' (forward outputs);
 * - ∂L/∂z and ∂L/∂coeffs of L = Σ c1·σ + c2·σ' + c3·σ'' (random c), i.e. every
 *   path through the gradient kernel (σ'' needs σ''' in the backward pass);
 * - the same gradients without the σ'' output, for losses on σ alone (σ'
 *   unused: its upstream gradient is a zero tensor) and on σ and σ' (DREG).
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { Rng } from '@chainz/core';
import { polyActivation } from '../activation';
import { resolvePolyConfig, type PolyBasis, type PolyConfig, type PolyGuard } from '../config';
import { refActivation, refLayerNorm, refPolyDenseSample, refPolynomial } from '../testing';
import { polyDense } from '../poly-dense';
import { denseJacobianFrobenius, weightedSum } from './ops';

export const BASES: readonly PolyBasis[] = ['monomial', 'chebyshev', 'legendre'];
export const GUARDS: readonly PolyGuard[] = ['tanh', 'clip', 'none', 'layernorm'];

/** max |a − b| / (1 + max |b|). */
export function scaledError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  if (a.length !== b.length) return Infinity;
  return d / (1 + m);
}

interface Case {
  cfg: PolyConfig;
  z: number[][];
  coeffs: number[][];
  weights: [number[][], number[][], number[][]];
}

function makeCase(rng: Rng, basis: PolyBasis, guard: PolyGuard, degree: number, shared: boolean, B: number, C: number): Case {
  const cfg = resolvePolyConfig({ basis, guard, degree, scale: 1.7, sharing: shared ? 'layer' : 'channel' });
  // z ~ N(0, 2²), float32-exact, with a few values far out in the guard's saturation
  const z = Array.from({ length: B }, () => Array.from({ length: C }, () => Math.fround(rng.normal() * 2)));
  if (guard !== 'none') {
    z[0][0] = 40;
    z[B - 1][C - 1] = -1e6;
  }
  // coefficients shrink with k so that high-degree polynomials stay O(1) on |u| ≤ 1 (and on the 'none' guard's z)
  const coeffs = Array.from({ length: shared ? 1 : C }, () => Array.from({ length: degree + 1 }, (_, k) => Math.fround((rng.normal() * 0.7) / (guard === 'none' ? 2 ** k : 1))));
  const w = () => Array.from({ length: B }, () => Array.from({ length: C }, () => Math.fround(rng.normal())));
  return { cfg, z, coeffs, weights: [w(), w(), w()] };
}

/** float64 σ, σ', σ'' of a case (w.r.t. u for layernorm), row-major. */
function reference(c: Case): [number[], number[], number[]] {
  const y: number[] = [];
  const dy: number[] = [];
  const d2y: number[] = [];
  const row = (j: number) => c.coeffs[c.coeffs.length === 1 ? 0 : j];
  for (const zr of c.z) {
    const vals = c.cfg.guard === 'layernorm' ? refLayerNorm(zr).u.map((u, j) => refPolynomial(c.cfg.basis, row(j), u)) : zr.map((z, j) => refActivation(c.cfg, row(j), z));
    for (const v of vals) {
      y.push(v[0]);
      dy.push(v[1]);
      d2y.push(v[2]);
    }
  }
  return [y, dy, d2y];
}

type Impl = 'fused' | 'composite';

async function evaluate(c: Case, impl: Impl, second: boolean): Promise<{ out: Float32Array[]; grads: Float32Array[] }> {
  const z = tf.tensor2d(c.z);
  const a = tf.tensor2d(c.coeffs);
  const w = c.weights.map((m) => tf.tensor2d(m));
  const o = polyActivation(z, a, c.cfg, { secondDerivative: second, implementation: impl, check: false });
  const outs = [o.y, o.dy, ...(second ? [o.d2y!] : [])];
  const out = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  const g = tf.grads((zz: tf.Tensor, aa: tf.Tensor) => {
    const r = polyActivation(zz, aa as tf.Tensor2D, c.cfg, { secondDerivative: second, implementation: impl, check: false });
    const terms = [tf.sum(tf.mul(r.y, w[0])), tf.sum(tf.mul(r.dy, w[1]))];
    if (second) terms.push(tf.sum(tf.mul(r.d2y!, w[2])));
    return tf.addN(terms) as tf.Scalar;
  })([z, a]);
  const grads = await Promise.all(g.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([z, a, ...w, ...outs, ...(o.layernorm ? [o.layernorm.u, o.layernorm.invStd] : []), ...g]);
  return { out, grads };
}

/**
 * Gradients of a loss on σ only (σ' and σ'' unused: their upstream gradients are
 * zero tensors) or on σ and σ' (the DREG case: σ'' not requested).
 */
async function gradOf(c: Case, impl: Impl, uses: 'y' | 'y+dy'): Promise<Float32Array[]> {
  const z = tf.tensor2d(c.z);
  const a = tf.tensor2d(c.coeffs);
  const w = c.weights.map((m) => tf.tensor2d(m));
  const g = tf.grads((zz: tf.Tensor, aa: tf.Tensor) => {
    const r = polyActivation(zz, aa as tf.Tensor2D, c.cfg, { implementation: impl, check: false });
    const ly = tf.sum(tf.mul(r.y, w[0]));
    return (uses === 'y' ? ly : tf.add(ly, tf.sum(tf.mul(r.dy, w[1])))) as tf.Scalar;
  })([z, a]);
  const out = await Promise.all(g.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([z, a, ...w, ...g]);
  return out;
}

/** Tolerances (scaled errors, see {@link scaledError}). */
export interface ParityTolerances {
  /** fused vs float64 reference, σ and σ'. */
  reference: number;
  /** fused vs composite, forward outputs and gradients. */
  composite: number;
}

/**
 * Declares the parity tests (`it`s) for the active backend.
 * @param degrees the degrees K to cover.
 * @param tol tolerances.
 * @param shape [B, C] of z.
 */
export function declarePolyKernelParity(degrees: readonly number[], tol: ParityTolerances, shape: [number, number] = [6, 5]): void {
  for (const basis of BASES) {
    for (const guard of GUARDS) {
      it(`${basis} / ${guard}, K ∈ {${degrees.join(',')}}, per-channel and shared: fused = composite = float64 (values and gradients)`, async () => {
        const rng = new Rng(basis.length * 101 + guard.length * 7);
        const before = tf.memory().numTensors;
        for (const degree of degrees) {
          const shared = degree % 2 === 0;
          const c = makeCase(rng, basis, guard, degree, shared, shape[0], shape[1]);
          const [ry, rdy, rd2y] = reference(c);
          const f = await evaluate(c, 'fused', true);
          const k = await evaluate(c, 'composite', true);
          const label = `${basis}/${guard}/K=${degree}/${shared ? 'shared' : 'channel'}`;
          expect(scaledError(f.out[0], ry), `${label} σ vs float64`).toBeLessThan(tol.reference);
          expect(scaledError(f.out[1], rdy), `${label} σ' vs float64`).toBeLessThan(tol.reference);
          expect(scaledError(f.out[2], rd2y), `${label} σ'' vs float64`).toBeLessThan(10 * tol.reference);
          for (let i = 0; i < 3; i++) expect(scaledError(f.out[i], k.out[i]), `${label} output ${i} vs composite`).toBeLessThan(tol.composite);
          expect(scaledError(f.grads[0], k.grads[0]), `${label} ∂L/∂z vs composite`).toBeLessThan(tol.composite);
          expect(scaledError(f.grads[1], k.grads[1]), `${label} ∂L/∂coeffs vs composite`).toBeLessThan(tol.composite);
          for (const uses of ['y', 'y+dy'] as const) {
            const fg = await gradOf(c, 'fused', uses);
            const kg = await gradOf(c, 'composite', uses);
            expect(scaledError(fg[0], kg[0]), `${label} loss on ${uses}: ∂L/∂z vs composite`).toBeLessThan(tol.composite);
            expect(scaledError(fg[1], kg[1]), `${label} loss on ${uses}: ∂L/∂coeffs vs composite`).toBeLessThan(tol.composite);
          }
        }
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }
}

/** Parity of the dense Jacobian-norm kernel (value and gradients) with ordinary ops and float64. */
export function declareJacobianParity(tol: number): void {
  it('denseJacobianFrobenius: fused = composite = float64 (value, ∂/∂σ′, ∂/∂W)', async () => {
    const rng = new Rng(3);
    for (const [B, dIn, n] of [
      [5, 3, 4],
      [1, 7, 2],
      [9, 1, 6],
    ]) {
      const dy = Array.from({ length: B }, () => Array.from({ length: n }, () => Math.fround(rng.normal())));
      const W = Array.from({ length: dIn }, () => Array.from({ length: n }, () => Math.fround(rng.normal())));
      const gr = Array.from({ length: B }, () => Math.fround(rng.normal()));
      const ref = dy.map((row) => row.reduce((s, v, j) => s + v * v * W.reduce((t, wr) => t + wr[j] * wr[j], 0), 0));
      // ∂(Σ_b gr_b r_b)/∂dy_bj = 2 gr_b c_j dy_bj;  ∂/∂W_ij = 2 W_ij Σ_b gr_b dy_bj²
      const c = Array.from({ length: n }, (_, j) => W.reduce((t, wr) => t + wr[j] * wr[j], 0));
      const refGdy = dy.flatMap((row, b) => row.map((v, j) => 2 * gr[b] * c[j] * v));
      const refGW = W.flatMap((wr) => wr.map((w, j) => 2 * w * dy.reduce((t, row, b) => t + gr[b] * row[j] * row[j], 0)));
      const run = async (impl: 'fused' | 'composite') => {
        const d = tf.tensor2d(dy);
        const k = tf.tensor2d(W);
        const g = tf.tensor1d(gr);
        const r = denseJacobianFrobenius(d, k, impl);
        const gs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(denseJacobianFrobenius(a as tf.Tensor2D, b as tf.Tensor2D, impl), g)) as tf.Scalar)([d, k]);
        const out = [await r.data(), await gs[0].data(), await gs[1].data()];
        tf.dispose([d, k, g, r, ...gs]);
        return out;
      };
      const f = await run('fused');
      const k = await run('composite');
      expect(scaledError(f[0], ref)).toBeLessThan(tol);
      expect(scaledError(f[1], refGdy)).toBeLessThan(tol);
      expect(scaledError(f[2], refGW)).toBeLessThan(tol);
      for (let i = 0; i < 3; i++) expect(scaledError(f[i], k[i])).toBeLessThan(tol);
    }
  });
}

/**
 * Parity of `polyDense(…, { jacobianNorm: true })` (the activation kernel with the
 * Jacobian-norm output) with the composite op: r = ‖J_b‖_F² against float64, and
 * the gradients of L = Σ c1·y + Σ c2·σ' + Σ c3·r (+ Σ c4·σ'') w.r.t. x, W, b and
 * the coefficients.
 */
export function declareDenseJacobianParity(tol: number): void {
  it('polyDense with jacobianNorm: r = float64 ‖J‖_F², gradients (x, W, b, coeffs) = composite, every elementwise guard', async () => {
    const rng = new Rng(17);
    const cases: Array<{ guard: PolyGuard; basis: PolyBasis; degree: number; shared: boolean; second: boolean }> = [
      { guard: 'tanh', basis: 'monomial', degree: 3, shared: false, second: false },
      { guard: 'tanh', basis: 'chebyshev', degree: 5, shared: true, second: true },
      { guard: 'clip', basis: 'monomial', degree: 2, shared: true, second: false },
      { guard: 'clip', basis: 'legendre', degree: 4, shared: false, second: true },
      { guard: 'none', basis: 'monomial', degree: 3, shared: false, second: true },
      { guard: 'none', basis: 'chebyshev', degree: 3, shared: false, second: false },
    ];
    const B = 5;
    const dIn = 4;
    const n = 6;
    for (const k of cases) {
      const cfg = resolvePolyConfig({ guard: k.guard, basis: k.basis, degree: k.degree, scale: 1.3, sharing: k.shared ? 'layer' : 'channel' });
      const f = () => Math.fround(rng.normal());
      const x = Array.from({ length: B }, () => Array.from({ length: dIn }, f));
      const W = Array.from({ length: dIn }, () => Array.from({ length: n }, () => Math.fround(rng.normal() * 0.6)));
      const bias = Array.from({ length: n }, f);
      const a = Array.from({ length: k.shared ? 1 : n }, () => Array.from({ length: k.degree + 1 }, () => Math.fround(rng.normal() * 0.5)));
      const w = [0, 1, 2, 3].map((i) => Array.from({ length: i === 2 ? B : B * n }, f));
      const refR = x.map((row) => refPolyDenseSample(row, { kernel: W, bias, coeffs: a }, cfg).dy.reduce((s, d, j) => s + d * d * W.reduce((t, wr) => t + wr[j] * wr[j], 0), 0));
      const run = async (impl: 'fused' | 'composite') => {
        const t = { x: tf.tensor2d(x), W: tf.tensor2d(W), b: tf.tensor1d(bias), a: tf.tensor2d(a) };
        const ws = [tf.tensor2d(w[0], [B, n]), tf.tensor2d(w[1], [B, n]), tf.tensor1d(w[2]), tf.tensor2d(w[3], [B, n])];
        const loss = (xx: tf.Tensor, WW: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor) => {
          const { y, trace } = polyDense(xx as tf.Tensor2D, { kernel: WW as tf.Tensor2D, bias: bb as tf.Tensor1D, coeffs: aa as tf.Tensor2D }, cfg, {
            jacobianNorm: true,
            secondDerivative: k.second,
            implementation: impl,
            check: false,
          });
          const terms = [tf.sum(tf.mul(y, ws[0])), tf.sum(tf.mul(trace.dy, ws[1])), tf.sum(tf.mul(trace.jacobianFrobenius!, ws[2]))];
          if (k.second) terms.push(tf.sum(tf.mul(trace.d2y!, ws[3])));
          return tf.addN(terms) as tf.Scalar;
        };
        const { trace, y } = polyDense(t.x, { kernel: t.W, bias: t.b, coeffs: t.a }, cfg, { jacobianNorm: true, implementation: impl, check: false });
        const r = await trace.jacobianFrobenius!.data();
        const g = tf.grads(loss)([t.x, t.W, t.b, t.a]);
        const gv = await Promise.all(g.map((v) => v.data()));
        tf.dispose([...Object.values(t), ...ws, ...g, y, trace.z, trace.dy, trace.jacobianFrobenius!]);
        return { r, gv };
      };
      const before = tf.memory().numTensors;
      const fr = await run('fused');
      const kr = await run('composite');
      expect(tf.memory().numTensors).toBe(before);
      const label = `${k.guard}/${k.basis}/K=${k.degree}`;
      expect(scaledError(fr.r, refR), `${label} r vs float64`).toBeLessThan(tol);
      expect(scaledError(fr.r, kr.r), `${label} r vs composite`).toBeLessThan(tol);
      ['x', 'W', 'b', 'coeffs'].forEach((nm, i) => expect(scaledError(fr.gv[i], kr.gv[i]), `${label} ∂L/∂${nm} vs composite`).toBeLessThan(tol));
    }
  });
}

/**
 * Large `tanh` tensors (≥ 4096 elements): where the typed-array loops run (cpu;
 * wasm except for its SIMD cubic-monomial loops) the kernels that keep u and g'
 * for the gradient run (`…Saving`); values and gradients (through σ, σ', σ''
 * and the Jacobian norm) must still equal the composite op's.
 */
export function declareLargeTanhParity(tol: number, expectSaving: (basis: PolyBasis) => boolean): void {
  it('tanh guard on large tensors (u, g′ kept for the gradient or recomputed): fused = composite', async () => {
    const rng = new Rng(23);
    const B = 80;
    const dIn = 7;
    const n = 64;
    for (const [basis, degree, shared] of [
      ['monomial', 3, false],
      ['chebyshev', 5, true],
    ] as const) {
      const cfg = resolvePolyConfig({ guard: 'tanh', basis, degree, sharing: shared ? 'layer' : 'channel' });
      const x = tf.tensor2d(Float32Array.from({ length: B * dIn }, () => rng.normal() * 2), [B, dIn]);
      const W = tf.tensor2d(Float32Array.from({ length: dIn * n }, () => rng.normal()), [dIn, n]);
      const b = tf.tensor1d(Float32Array.from({ length: n }, () => rng.normal()));
      const a = tf.tensor2d(Float32Array.from({ length: (shared ? 1 : n) * (degree + 1) }, () => rng.normal() * 0.5), [shared ? 1 : n, degree + 1]);
      const w = [0, 1, 2, 3].map((i) => (i === 2 ? tf.tensor1d(Float32Array.from({ length: B }, () => rng.normal())) : tf.tensor2d(Float32Array.from({ length: B * n }, () => rng.normal()), [B, n])));
      const run = async (impl: 'fused' | 'composite', jacobianNorm: boolean) => {
        const loss = (xx: tf.Tensor, WW: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor) => {
          const { y, trace } = polyDense(xx as tf.Tensor2D, { kernel: WW as tf.Tensor2D, bias: bb as tf.Tensor1D, coeffs: aa as tf.Tensor2D }, cfg, {
            jacobianNorm,
            secondDerivative: true,
            implementation: impl,
          });
          const r = trace.jacobianFrobenius ?? denseJacobianFrobenius(trace.dy, WW as tf.Tensor2D, impl);
          return tf.addN([tf.sum(tf.mul(y, w[0])), tf.sum(tf.mul(trace.dy, w[1])), tf.sum(tf.mul(r, w[2])), tf.sum(tf.mul(trace.d2y!, w[3]))]) as tf.Scalar;
        };
        let names: string[] = [];
        const g = tf.grads(loss)([x, W, b, a]);
        const gv = await Promise.all(g.map((t) => t.data()));
        tf.dispose(g);
        if (impl === 'fused') {
          const p = await tf.profile(() => tf.dispose(tf.grads(loss)([x, W, b, a])));
          names = p.kernels.map((k) => k.name);
        }
        return { gv, names };
      };
      for (const jacobianNorm of [false, true]) {
        const f = await run('fused', jacobianNorm);
        const k = await run('composite', jacobianNorm);
        const saving = f.names.some((nm) => nm.endsWith('Saving'));
        expect(saving, `${basis}: …Saving kernel ran`).toBe(expectSaving(basis));
        ['x', 'W', 'b', 'coeffs'].forEach((nm, i) => expect(scaledError(f.gv[i], k.gv[i]), `${basis} jacobianNorm=${jacobianNorm} ∂L/∂${nm}`).toBeLessThan(tol));
      }
      tf.dispose([x, W, b, a, ...w]);
    }
  });
}

/** {@link weightedSum}: value and gradients (with an upstream gradient ≠ 1) equal the composite ops'. */
export function declareWeightedSumParity(expectKernel: boolean): void {
  it(`weightedSum (DREG's reduction): fused = composite, value and gradients${expectKernel ? ' (one kernel)' : ''}`, async () => {
    const rng = new Rng(31);
    const xs = [tf.tensor1d(Float32Array.from({ length: 7 }, () => rng.normal())), tf.tensor2d(Float32Array.from({ length: 6 }, () => rng.normal()), [2, 3])];
    const w = [0.25, -1.5];
    const run = async (impl: 'fused' | 'composite') => {
      const v = await weightedSum(xs, w, impl).data();
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(weightedSum([a, b], w, impl), 3) as tf.Scalar)(xs);
      const out = [v, ...(await Promise.all(g.map((t) => t.data())))];
      tf.dispose(g);
      return out;
    };
    const f = await run('fused');
    const k = await run('composite');
    for (let i = 0; i < 3; i++) expect(scaledError(f[i], k[i])).toBeLessThan(1e-6);
    expect(Array.from(f[1])).toEqual(new Array(7).fill(Math.fround(0.75)));
    const names = (await tf.profile(() => weightedSum(xs, w).dispose())).kernels.map((x) => x.name);
    expect(names.includes('ChainzWeightedSum')).toBe(expectKernel);
    tf.dispose(xs);
  });
}
