// The dense op's wasm kernels (float32 WebAssembly SIMD): values and gradients
// equal the composite path's (tf.matMul with explicit transposes) bit for bit,
// for shapes with every tile edge; ∂L/∂x runs only when x needs a gradient;
// second-order autodiff takes the composite path; no tensor leaks.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { expect, it } from 'vitest';
import { describeBackends } from '../test';
import { Rng } from '../rng';
import { dense, denseBatched, DENSE, DENSE_GRAD_INPUT, DENSE_GRAD_PARAMS } from './dense';

function randn(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

async function kernelNames(f: () => tf.TensorContainer): Promise<string[]> {
  const p = await tf.profile(() => {
    tf.dispose(f());
  });
  return p.kernels.map((k) => k.name);
}

describeBackends(['wasm'], () => {
  // rows: multiples of 4 and not; columns: tiles of 8, 4 and single lanes
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [5, 3, 7],
    [8, 16, 8],
    [9, 13, 10],
    [64, 8, 32],
    [33, 65, 19],
    [256, 64, 256],
  ];
  for (const [B, dIn, dOut] of shapes) {
    it(`[${B},${dIn}]·[${dIn},${dOut}]: value and ∂/∂x, ∂/∂W, ∂/∂b equal the composite path bit for bit (with and without bias)`, async () => {
      const rng = new Rng(B * 1000 + dIn * 10 + dOut);
      const x = randn(rng, [B, dIn]) as tf.Tensor2D;
      const w = randn(rng, [dIn, dOut]) as tf.Tensor2D;
      const b = randn(rng, [dOut]) as tf.Tensor1D;
      const c = randn(rng, [B, dOut]);
      const before = tf.memory().numTensors;
      for (const withBias of [true, false]) {
        const run = async (implementation: 'auto' | 'composite') => {
          const f = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => tf.sum(tf.mul(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D | undefined, { implementation }), c)) as tf.Scalar;
          const z = dense(x, w, withBias ? b : undefined, { implementation });
          const g = withBias ? tf.grads(f)([x, w, b]) : tf.grads((xx: tf.Tensor, ww: tf.Tensor) => f(xx, ww))([x, w]);
          const out = [await z.data(), ...(await Promise.all(g.map((t) => t.data())))];
          tf.dispose([z, ...g]);
          return out;
        };
        const fused = await run('auto');
        const composite = await run('composite');
        const names = ['z', '∂/∂x', '∂/∂W', '∂/∂b'];
        for (let i = 0; i < (withBias ? 4 : 3); i++) expect(Array.from(fused[i]), `${names[i]} (bias: ${withBias})`).toEqual(Array.from(composite[i]));
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w, b, c]);
    });
  }

  it('runs the dense kernels (no Transpose, no BatchMatMul); ∂L/∂x only for an input that needs it', async () => {
    const rng = new Rng(5);
    const x = randn(rng, [6, 4]) as tf.Tensor2D;
    const w1 = tf.variable(randn(rng, [4, 5])) as tf.Variable<tf.Rank.R2>;
    const w2 = tf.variable(randn(rng, [5, 3])) as tf.Variable<tf.Rank.R2>;
    const b = tf.variable(tf.zeros([5])) as tf.Variable<tf.Rank.R1>;
    const names = await kernelNames(() => tf.variableGrads(() => tf.sum(dense(tf.relu(dense(x, w1, b)), w2)) as tf.Scalar).grads as unknown as tf.TensorContainer);
    expect(names.filter((n) => n === DENSE)).toHaveLength(2);
    expect(names.filter((n) => n === DENSE_GRAD_PARAMS)).toHaveLength(2);
    // the second layer's input (relu output) needs ∂L/∂x; the first layer's input x does not
    expect(names.filter((n) => n === DENSE_GRAD_INPUT)).toHaveLength(1);
    expect(names).not.toContain('Transpose');
    expect(names).not.toContain('BatchMatMul');
    tf.dispose([x, w1, w2, b]);
  });

  it('second-order autodiff (gradient of a gradient) takes the composite path and stays correct', async () => {
    const rng = new Rng(6);
    const x = randn(rng, [3, 4]) as tf.Tensor2D;
    const w = randn(rng, [4, 2]) as tf.Tensor2D;
    const inner = (impl: 'auto' | 'composite') => (xx: tf.Tensor) => tf.sum(tf.square(dense(xx as tf.Tensor2D, w, undefined, { implementation: impl })));
    const outer = (impl: 'auto' | 'composite') => (ww: tf.Tensor) => tf.sum(tf.square(tf.grad((xx: tf.Tensor) => tf.sum(tf.square(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, undefined, { implementation: impl }))))(x)));
    const g = tf.grad(outer('auto'))(w);
    const ref = tf.grad(outer('composite'))(w);
    expect(Array.from(await g.data())).toEqual(Array.from(await ref.data()));
    const names = await kernelNames(() => tf.grad(outer('auto'))(w));
    expect(names).not.toContain(DENSE);
    expect(await kernelNames(() => tf.grad(inner('auto'))(x))).toContain(DENSE);
    tf.dispose([x, w, g, ref]);
  });

  it("rejects an unknown implementation with a ConfigError naming the option", () => {
    const x = tf.zeros([1, 2]) as tf.Tensor2D;
    const w = tf.zeros([2, 2]) as tf.Tensor2D;
    expect(() => dense(x, w, undefined, { implementation: 'gpu' as never })).toThrow(/option implementation/);
    tf.dispose([x, w]);
  });
});

describeBackends(['wasm', 'cpu'], ({ name }) => {
  it('denseBatched: each group equals dense on its slice (value and gradients; bit for bit on wasm)', async () => {
    const rng = new Rng(12);
    const [G, B, dIn, dOut] = [3, 7, 5, 6];
    const x = randn(rng, [G, B, dIn]) as tf.Tensor3D;
    const w = randn(rng, [G, dIn, dOut]) as tf.Tensor3D;
    const b = randn(rng, [G, dOut]) as tf.Tensor2D;
    const c = randn(rng, [G, B, dOut]);
    const before = tf.memory().numTensors;
    const batched = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(denseBatched(xx as tf.Tensor3D, ww as tf.Tensor3D, bb as tf.Tensor2D), c)) as tf.Scalar)([x, w, b]);
    const z = denseBatched(x, w, b);
    const zs = (await z.data()) as Float32Array;
    const gs = (await Promise.all(batched.map((t) => t.data()))) as Float32Array[];
    const parts = (t: tf.Tensor) => tf.unstack(t);
    const [xs, ws, bs, cs] = [parts(x), parts(w), parts(b), parts(c)];
    for (let g = 0; g < G; g++) {
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), cs[g])) as tf.Scalar;
      const one = tf.grads(f)([xs[g], ws[g], bs[g]]);
      const zg = dense(xs[g] as tf.Tensor2D, ws[g] as tf.Tensor2D, bs[g] as tf.Tensor1D);
      const slice = (a: Float32Array, n: number) => Array.from(a.subarray(g * n, (g + 1) * n));
      const tol = name === 'wasm' ? 0 : 1e-5;
      const close = (a: number[], e: ArrayLike<number>, what: string) => a.forEach((v, i) => expect(Math.abs(v - e[i]), `${what}[${i}]`).toBeLessThanOrEqual(tol * (1 + Math.abs(e[i]))));
      close(slice(zs, B * dOut), await zg.data(), `group ${g} z`);
      close(slice(gs[0], B * dIn), await one[0].data(), `group ${g} ∂/∂x`);
      close(slice(gs[1], dIn * dOut), await one[1].data(), `group ${g} ∂/∂W`);
      close(slice(gs[2], dOut), await one[2].data(), `group ${g} ∂/∂b`);
      tf.dispose([...one, zg]);
    }
    tf.dispose([z, ...batched, ...xs, ...ws, ...bs, ...cs]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => denseBatched(x, w, tf.zeros([G, dOut + 1]) as tf.Tensor2D)).toThrow(/tensor bias/);
    tf.dispose([x, w, b, c]);
  });
});
