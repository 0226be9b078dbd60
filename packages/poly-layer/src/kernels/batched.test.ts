// G models side by side (batched.ts) against one model at a time, on cpu and
// wasm: polyDenseBatched = polyDense per model (values, r and every gradient,
// bit for bit), also through the composite fallback; weightedSumGrouped =
// weightedSum on each model's rows; the dense activation kernel leaves σ' out
// and trace.dy is computed when read; the float32 SIMD guard against float64.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { expect, it } from 'vitest';
import { Rng } from '@chainz/core';
import { describeBackends } from '@chainz/core/test';
import '../register';
import { resolvePolyConfig, type PolyGuard } from '../config';
import { polyDense } from '../poly-dense';
import { disposeTraces } from '../trace';
import { polyActivation } from '../activation';
import { polyDenseBatched, weightedSumGrouped } from './batched';
import { weightedSum } from './ops';
import { POLY_ACTIVATION_JACOBIAN } from './names';
import { POLY_DENSE } from './poly-dense-kernel';
import { polyActivationDense } from '../activation';
import { dense } from '@chainz/core';

const r = (rng: Rng, shape: number[], s = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * s), shape);

describeBackends(['cpu', 'wasm'], ({ name }) => {
  for (const [guard, shared, C] of [
    ['tanh', false, 6],
    ['clip', true, 5],
    ['none', false, 9],
  ] as Array<[PolyGuard, boolean, number]>) {
    it(`polyDenseBatched (${guard}, ${shared ? 'shared' : 'per-channel'}, C = ${C}) = polyDense per model: y, r, ∂/∂(x, W, b, coeffs) bit for bit`, async () => {
      const rng = new Rng(C);
      const [G, B, dIn] = [3, 5, 4];
      const cfg = resolvePolyConfig({ guard, sharing: shared ? 'layer' : 'channel', scale: 1.5 });
      const x = r(rng, [G, B, dIn]) as tf.Tensor3D;
      const W = r(rng, [G, dIn, C], 0.7) as tf.Tensor3D;
      const b = r(rng, [G, C], 0.3) as tf.Tensor2D;
      const a = r(rng, [G, shared ? 1 : C, 4], 0.4) as tf.Tensor3D;
      const cy = r(rng, [G, B, C]);
      const cr = r(rng, [G, B]);
      const before = tf.memory().numTensors;
      for (const impl of ['auto', 'composite'] as const) {
        const loss = (xx: tf.Tensor, WW: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor) => {
          const o = polyDenseBatched(xx as tf.Tensor3D, { kernel: WW as tf.Tensor3D, bias: bb as tf.Tensor2D, coeffs: aa as tf.Tensor3D }, cfg, { jacobianNorm: true, implementation: impl });
          return tf.add(tf.sum(tf.mul(o.y, cy)), tf.sum(tf.mul(o.jacobianFrobenius!, cr))) as tf.Scalar;
        };
        const gb = tf.grads(loss)([x, W, b, a]);
        const ob = polyDenseBatched(x, { kernel: W, bias: b, coeffs: a }, cfg, { jacobianNorm: true, implementation: impl });
        const batched = await Promise.all([ob.y, ob.jacobianFrobenius!, ...gb].map((t) => t.data()));
        for (let g = 0; g < G; g++) {
          const sl = (t: tf.Tensor) => tf.tidy(() => tf.squeeze(tf.slice(t, [g], [1]), [0]));
          const [xg, Wg, bg, ag, cyg, crg] = [x, W, b, a, cy, cr].map(sl);
          const one = (xx: tf.Tensor, WW: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor) => {
            const o = polyDense(xx as tf.Tensor2D, { kernel: WW as tf.Tensor2D, bias: bb as tf.Tensor1D, coeffs: aa as tf.Tensor2D }, cfg, { jacobianNorm: true, check: false, implementation: impl });
            return tf.add(tf.sum(tf.mul(o.y, cyg)), tf.sum(tf.mul(o.trace.jacobianFrobenius!, crg))) as tf.Scalar;
          };
          const gs = tf.grads(one)([xg, Wg, bg, ag]);
          const o = polyDense(xg as tf.Tensor2D, { kernel: Wg as tf.Tensor2D, bias: bg as tf.Tensor1D, coeffs: ag as tf.Tensor2D }, cfg, { jacobianNorm: true, check: false, implementation: impl });
          const single = await Promise.all([o.y, o.trace.jacobianFrobenius!, ...gs].map((t) => t.data()));
          const names = ['y', 'r', '∂/∂x', '∂/∂W', '∂/∂b', '∂/∂coeffs'];
          single.forEach((s, i) => {
            const part = Array.from(batched[i].subarray(g * s.length, (g + 1) * s.length));
            expect(part, `${impl} model ${g} ${names[i]}`).toEqual(Array.from(s));
          });
          tf.dispose([xg, Wg, bg, ag, cyg, crg, ...gs, o.y]);
          disposeTraces(o.trace);
        }
        tf.dispose([ob.y, ob.jacobianFrobenius!, ...gb]);
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, W, b, a, cy, cr]);
    });
  }

  it('weightedSumGrouped = weightedSum on each model’s rows (padding ignored), value and gradients', async () => {
    const rng = new Rng(5);
    const xs = [r(rng, [3, 6]) as tf.Tensor2D, r(rng, [3, 6]) as tf.Tensor2D];
    const counts = [6, 4, 1];
    const w = [
      [0.5, -1, 2],
      [0.25, 3, -0.5],
    ];
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(weightedSumGrouped([a as tf.Tensor2D, b as tf.Tensor2D], w, counts), tf.tensor1d([1, 2, 3]))) as tf.Scalar;
    const v = await weightedSumGrouped(xs, w, counts).data();
    const g = await Promise.all(tf.grads(f)(xs).map((t) => t.data()));
    for (let m = 0; m < 3; m++) {
      const rows = xs.map((x) => tf.slice(x, [m, 0], [1, counts[m]]));
      expect(v[m]).toBe((await weightedSum(rows, [w[0][m], w[1][m]]).data())[0]);
      for (let l = 0; l < 2; l++) {
        const row = Array.from(g[l].subarray(m * 6, (m + 1) * 6));
        expect(row).toEqual([...new Array(counts[m]).fill(Math.fround(w[l][m] * (m + 1))), ...new Array(6 - counts[m]).fill(0)]);
      }
      tf.dispose(rows);
    }
    tf.dispose(xs);
  });

  it("polyDense's activation kernel leaves σ' out; trace.dy is computed when read (equal to polyActivation's), not by disposeTraces", async () => {
    const rng = new Rng(8);
    const cfg = resolvePolyConfig({});
    const x = r(rng, [4, 3]) as tf.Tensor2D;
    const p = { kernel: r(rng, [3, 5]) as tf.Tensor2D, bias: r(rng, [5]) as tf.Tensor1D, coeffs: r(rng, [5, 4], 0.3) as tf.Tensor2D };
    const prof = await tf.profile(() => {
      const o = polyDense(x, p, cfg, { jacobianNorm: true });
      tf.dispose(o.y);
      disposeTraces(o.trace); // must not compute σ'
    });
    const act = prof.kernels.filter((k) => k.name.startsWith('ChainzPoly'));
    if (name === 'wasm') {
      // the whole layer in one kernel: y, z, r
      expect(act.map((k) => k.name)).toEqual([POLY_DENSE]);
      expect(act[0].outputShapes).toEqual([[4, 5], [4, 5], [4]]);
    } else {
      expect(act.map((k) => k.name)).toEqual([POLY_ACTIVATION_JACOBIAN]);
      expect(act[0].outputShapes).toEqual([[4, 5], [4]]);
    }
    const before = tf.memory().numTensors;
    const o = polyDense(x, p, cfg, { jacobianNorm: true });
    const ref = polyActivation(o.trace.z, p.coeffs, cfg);
    const composite = polyActivation(o.trace.z, p.coeffs, cfg, { implementation: 'composite' });
    const dy = await o.trace.dy.data();
    expect(Array.from(dy)).toEqual(Array.from(await ref.dy.data()));
    const c = await composite.dy.data();
    dy.forEach((v, i) => expect(Math.abs(v - c[i])).toBeLessThan(1e-6));
    expect(o.trace.dy).toBe(o.trace.dy); // computed once
    tf.dispose([o.y, ref.y, ref.dy, composite.y, composite.dy]);
    disposeTraces(o.trace);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...Object.values(p)]);
  });

  it('float32 tanh guard (rational, and exp beyond |z/s| = 2): σ and σ′ within 3e-7 of float64, every channel count', async () => {
    const s = 1.7;
    const cfg = resolvePolyConfig({ guard: 'tanh', scale: s, sharing: 'layer' });
    for (const C of [1, 3, 4, 5, 9]) {
      const n = 400;
      const zv = Float32Array.from({ length: n * C }, (_, i) => Math.fround(-60 + (120 * i) / (n * C - 1)));
      const z = tf.tensor2d(zv, [n, C]);
      const a = tf.tensor2d([[0, 1, 0, 0]]); // σ = tanh(z/s)
      const o = polyActivation(z, a, cfg, { implementation: 'fused' });
      const [y, dy] = [await o.y.data(), await o.dy.data()];
      let ey = 0;
      let ed = 0;
      zv.forEach((zi, i) => {
        const t = Math.tanh(zi / s);
        ey = Math.max(ey, Math.abs(y[i] - t));
        ed = Math.max(ed, Math.abs(dy[i] - (1 - t * t) / s));
      });
      expect(ey, `${name} C = ${C} σ`).toBeLessThan(3e-7);
      expect(ed, `${name} C = ${C} σ′`).toBeLessThan(3e-7);
      tf.dispose([z, a, o.y, o.dy]);
    }
  });
});

describeBackends(['wasm'], () => {
  for (const [guard, shared, C, withBias] of [
    ['tanh', false, 7, true],
    ['clip', true, 8, false],
    ['none', false, 3, true],
  ] as Array<[PolyGuard, boolean, number, boolean]>) {
    it(`the fused layer kernel (${guard}, ${shared ? 'shared' : 'per-channel'}, C = ${C}${withBias ? '' : ', no bias'}) = dense op + activation kernel: y, z, r and ∂/∂(x, W, b, coeffs) bit for bit`, async () => {
      const rng = new Rng(40 + C);
      const [B, dIn] = [9, 6];
      const cfg = resolvePolyConfig({ guard, sharing: shared ? 'layer' : 'channel', scale: 1.2 });
      const x = r(rng, [B, dIn]) as tf.Tensor2D;
      const W = r(rng, [dIn, C], 0.6) as tf.Tensor2D;
      const b = r(rng, [C], 0.2) as tf.Tensor1D;
      const a = r(rng, [shared ? 1 : C, 4], 0.4) as tf.Tensor2D;
      const [cy, cz, cr] = [r(rng, [B, C]), r(rng, [B, C]), r(rng, [B])];
      const fusedLoss = (xx: tf.Tensor, WW: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor) => {
        const o = polyDense(xx as tf.Tensor2D, { kernel: WW as tf.Tensor2D, bias: withBias ? (bb as tf.Tensor1D) : undefined, coeffs: aa as tf.Tensor2D }, cfg, { jacobianNorm: true, check: false });
        // z used by the loss too: its direct gradient must reach x, W, b
        return tf.addN([tf.sum(tf.mul(o.y, cy)), tf.sum(tf.mul(o.trace.z, cz)), tf.sum(tf.mul(o.trace.jacobianFrobenius!, cr))]) as tf.Scalar;
      };
      const twoOpLoss = (xx: tf.Tensor, WW: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor) => {
        const z = dense(xx as tf.Tensor2D, WW as tf.Tensor2D, withBias ? (bb as tf.Tensor1D) : undefined);
        const o = polyActivationDense(z, aa as tf.Tensor2D, WW as tf.Tensor2D, cfg, { derivative: false, check: false });
        return tf.addN([tf.sum(tf.mul(o.y, cy)), tf.sum(tf.mul(z, cz)), tf.sum(tf.mul(o.jacobianFrobenius!, cr))]) as tf.Scalar;
      };
      const vars = withBias ? [x, W, b, a] : [x, W, a];
      const wrap = (f: typeof fusedLoss) => (withBias ? f : (xx: tf.Tensor, WW: tf.Tensor, aa: tf.Tensor) => f(xx, WW, b, aa));
      const names = (await tf.profile(() => tf.dispose(tf.grads(wrap(fusedLoss))(vars)))).kernels.map((k) => k.name);
      expect(names).toContain(POLY_DENSE);
      const gf = await Promise.all(tf.grads(wrap(fusedLoss))(vars).map((t) => t.data()));
      const gt = await Promise.all(tf.grads(wrap(twoOpLoss))(vars).map((t) => t.data()));
      // equal values; where a gradient is exactly zero its sign may differ (the fused kernel adds z's direct gradient)
      gf.forEach((g, i) => expect(Array.from(g).map((v) => v + 0), `gradient ${i}`).toEqual(Array.from(gt[i]).map((v) => v + 0)));
      const o = polyDense(x, { kernel: W, bias: withBias ? b : undefined, coeffs: a }, cfg, { jacobianNorm: true, check: false });
      const z = dense(x, W, withBias ? b : undefined);
      const t = polyActivationDense(z, a, W, cfg, { derivative: false, check: false });
      expect(Array.from(await o.y.data())).toEqual(Array.from(await t.y.data()));
      expect(Array.from(await o.trace.z.data())).toEqual(Array.from(await z.data()));
      expect(Array.from(await o.trace.jacobianFrobenius!.data())).toEqual(Array.from(await t.jacobianFrobenius!.data()));
      tf.dispose([x, W, b, a, cy, cz, cr, o.y, z, t.y, t.jacobianFrobenius!]);
      disposeTraces(o.trace);
    });
  }
});
