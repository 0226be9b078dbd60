// The fused Adam optimiser: parameters and moments equal tf.train.adam's bit
// for bit after many steps (cpu and wasm: one ChainzAdamUpdate kernel per
// step; a backend without the kernel: tfjs's op sequence), with minimize and
// applyGradients, sizes that are not multiples of the SIMD width, a variable
// without gradient; getWeights/setWeights round trip; no tensor leaks.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackends } from '../test';
import { Rng } from '../rng';
import { ADAM_UPDATE, adam, FusedAdamOptimizer, GroupedAdamOptimizer } from './adam';
import { dense } from './dense';

/** A small two-layer model; returns its variables and a loss on a fixed batch. */
function model(seed: number) {
  const rng = new Rng(seed);
  const r = (shape: number[], s = 0.5) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * s), shape);
  const vars = tf.tidy(() => [r([5, 7]), r([7]), r([7, 3]), r([3]), r([2, 2])].map((t) => tf.variable(t)));
  const x = r([9, 5], 1) as tf.Tensor2D;
  const y = r([9, 3], 1);
  // vars[4] takes no part in the loss: no gradient
  const loss = () => tf.mean(tf.square(tf.sub(dense(tf.tanh(dense(x, vars[0] as tf.Tensor2D, vars[1] as tf.Tensor1D)), vars[2] as tf.Tensor2D, vars[3] as tf.Tensor1D), y))) as tf.Scalar;
  return { vars, loss, dispose: () => tf.dispose([...vars, x, y]) };
}

async function train(opt: tf.Optimizer, steps: number, seed: number, useApply = false): Promise<{ values: Float32Array[]; weights: Float32Array[] }> {
  const m = model(seed);
  for (let s = 0; s < steps; s++) {
    if (useApply) {
      const { value, grads } = tf.variableGrads(m.loss, m.vars.slice(0, 4));
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    } else {
      opt.minimize(m.loss, false, m.vars);
    }
  }
  const values = await Promise.all(m.vars.map((v) => v.data() as Promise<Float32Array>));
  const all = await opt.getWeights();
  all[0].tensor.dispose(); // the iteration count (a new scalar)
  const weights = await Promise.all(all.slice(1).map((w) => w.tensor.data() as Promise<Float32Array>));
  m.dispose();
  return { values, weights };
}

function expectBitEqual(a: Float32Array[], b: Float32Array[], what: string): void {
  expect(a.length, what).toBe(b.length);
  a.forEach((x, i) => expect(Array.from(x), `${what} ${i}`).toEqual(Array.from(b[i])));
}

describeBackends(['cpu', 'wasm'], ({ name }) => {
  it('equals tf.train.adam bit for bit over 40 steps (minimize and applyGradients), in one kernel per step', async () => {
    for (const [lr, b1, b2] of [
      [0.01, 0.9, 0.999],
      [3e-3, 0.8, 0.99],
    ]) {
      const before = tf.memory().numTensors;
      const ref = tf.train.adam(lr, b1, b2);
      const ours = adam(lr, b1, b2);
      const a = await train(ref, 40, 1);
      const b = await train(ours, 40, 1);
      expectBitEqual(b.values, a.values, `${name} lr=${lr} parameters`);
      expectBitEqual(b.weights, a.weights, `${name} lr=${lr} moments`);
      const ours2 = adam(lr, b1, b2);
      const c = await train(ours2, 40, 1, true);
      expectBitEqual(c.values, a.values, `${name} applyGradients parameters`);
      ref.dispose();
      ours.dispose();
      ours2.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    const m = model(2);
    const opt = adam(0.01);
    opt.minimize(m.loss, false, m.vars);
    const p = await tf.profile(() => {
      opt.minimize(m.loss, false, m.vars);
    });
    const kernels = p.kernels.map((k) => k.name);
    expect(kernels.filter((k) => k === ADAM_UPDATE)).toHaveLength(1);
    expect(kernels).not.toContain('Sqrt');
    m.dispose();
    opt.dispose();
  });

  it('getWeights/setWeights round trip: a restored optimiser continues exactly like tf.train.adam', async () => {
    const ref = tf.train.adam(0.02);
    const a = await train(ref, 7, 3);
    const src = adam(0.02);
    await train(src, 7, 3);
    const saved = await src.getWeights();
    const refNames = (await ref.getWeights()).map((w) => w.name.replace(/^\d+/, '#'));
    expect(saved.map((w) => w.name.replace(/^\d+/, '#'))).toEqual(refNames);
    const restored = adam(0.02);
    await restored.setWeights(saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) })));
    expect(restored.iterations).toBe(7);
    expectBitEqual((await restored.getWeights()).slice(1).map((w) => w.tensor.dataSync() as Float32Array), a.weights, 'restored moments');
    expect(restored.getConfig()).toMatchObject({ learningRate: 0.02, beta1: 0.9, beta2: 0.999 });
    expect(src).toBeInstanceOf(FusedAdamOptimizer);
    tf.dispose(saved[0].tensor);
    ref.dispose();
    src.dispose();
    restored.dispose();
  });

  it('rejects invalid hyper-parameters with a ConfigError naming the option', () => {
    expect(() => adam(Number.NaN)).toThrow(/option learningRate/);
    expect(() => adam(0.1, 1)).toThrow(/option beta1/);
    expect(() => adam(0.1, 0.9, -0.1)).toThrow(/option beta2/);
  });
});

describe('fused Adam on a backend without the kernel', () => {
  const NAME = 'chainz-no-adam-kernel';
  beforeAll(async () => {
    tf.registerBackend(NAME, () => new MathBackendCPU());
    tf.copyRegisteredKernels('cpu', NAME);
    tf.unregisterKernel(ADAM_UPDATE, NAME);
    await tf.setBackend(NAME);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
    tf.removeBackend(NAME);
  });

  it("runs tfjs's op sequence and equals tf.train.adam bit for bit", async () => {
    adam(0.01).dispose(); // registers the kernel for cpu (copied above before unregistering here)
    const a = await train(tf.train.adam(0.01), 25, 4);
    const opt = adam(0.01);
    const b = await train(opt, 25, 4);
    expectBitEqual(b.values, a.values, 'parameters');
    expectBitEqual(b.weights, a.weights, 'moments');
    opt.dispose();
  });
});

describeBackends(['cpu', 'wasm'], ({ name }) => {
  it('GroupedAdamOptimizer: each slice equals its own FusedAdamOptimizer (bit for bit), inactive slices stay as they are', async () => {
    const G = 3;
    const rng = new Rng(21);
    const r = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const shapes = [[5, 3], [7]];
    const init = shapes.map((s) => r([G, ...s]));
    const stacked = init.map((v, i) => tf.variable(tf.tensor(v, [G, ...shapes[i]])));
    const single = Array.from({ length: G }, (_, g) => init.map((v, i) => tf.variable(tf.tensor(v.subarray((g * v.length) / G, ((g + 1) * v.length) / G), shapes[i]))));
    const grouped = new GroupedAdamOptimizer(G, 0.05);
    const alone = Array.from({ length: G }, () => adam(0.05));
    let before = 0;
    for (let step = 0; step < 12; step++) {
      if (step === 1) before = tf.memory().numTensors; // after the first step created the moments
      const active = [true, step % 3 !== 1, step < 5];
      const grads = shapes.map((s) => r([G, ...s]));
      const gt = grads.map((gv, i) => tf.tensor(gv, [G, ...shapes[i]]));
      grouped.applyGradients(stacked, gt, active);
      tf.dispose(gt);
      for (let g = 0; g < G; g++) {
        if (!active[g]) continue;
        const named = single[g].map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i].subarray((g * grads[i].length) / G, ((g + 1) * grads[i].length) / G), shapes[i]) }));
        alone[g].applyGradients(named);
        tf.dispose(named.map((x) => x.tensor));
      }
    }
    expect(tf.memory().numTensors, 'no leak per step').toBe(before);
    expect(grouped.steps).toEqual([12, 8, 5]);
    for (let i = 0; i < shapes.length; i++) {
      const all = await stacked[i].data();
      for (let g = 0; g < G; g++) {
        const n = all.length / G;
        expect(Array.from(all.subarray(g * n, (g + 1) * n)), `${name} variable ${i} group ${g}`).toEqual(Array.from(await single[g][i].data()));
      }
    }
    grouped.dispose();
    alone.forEach((o) => o.dispose());
    tf.dispose([...stacked, ...single.flat()]);
  });
});
