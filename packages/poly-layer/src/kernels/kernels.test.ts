// Fused kernels on the cpu and wasm backends: parity with the composite op and
// float64 references (every guard, basis, degree 1–8, shared and per-channel
// coefficients), the dense Jacobian-norm kernel, dispatch rules (second-order
// autodiff and backends without the kernel take the composite op), and no
// tensor leak over 100 training steps.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, ConfigError, Rng, dense } from '@chainz/core';
import { describeBackends } from '@chainz/core/test';
import '../register';
import { polyActivation } from '../activation';
import { resolvePolyConfig } from '../config';
import { polyDense } from '../poly-dense';
import { initPolyCoefficients } from '../fit';
import { DENSE_JACOBIAN_FROBENIUS, POLY_ACTIVATION, POLY_ACTIVATION_GRAD } from './names';
import { denseJacobianFrobenius, getPolyImplementation, hasFusedKernels, setPolyImplementation } from './ops';
import { registerPolyKernels } from './register';
import { declareDenseJacobianParity, declareJacobianParity, declareLargeTanhParity, declarePolyKernelParity, declareWeightedSumParity, scaledError } from './parity-suite';

function kernelNames(f: () => unknown): Promise<string[]> {
  return tf.profile(() => {
    const r = f();
    tf.dispose(r as tf.TensorContainer);
  }).then((p) => p.kernels.map((k) => k.name));
}

describeBackends(['cpu', 'wasm'], ({ name }) => {
  it('has the fused kernels registered', () => {
    expect(hasFusedKernels(name)).toBe(true);
  });

  // wasm: 6 channels, so the cubic-monomial cases run the SIMD loops' four-lane and one-lane paths (cpu: the typed-array loops)
  declarePolyKernelParity([1, 2, 3, 4, 5, 6, 7, 8], { reference: 2e-6, composite: 5e-5 }, name === 'wasm' ? [5, 6] : [6, 5]);
  declareJacobianParity(2e-6);
  declareDenseJacobianParity(2e-5);
  declareLargeTanhParity(2e-5, (basis) => name === 'cpu' || basis !== 'monomial');
  declareWeightedSumParity(true);

  it('rank-4 z ([B, H, W, C]) gives the same values and gradients as the flattened [B·H·W, C]', async () => {
    const rng = new Rng(4);
    const cfg = resolvePolyConfig({ basis: 'legendre', degree: 4, guard: 'tanh' });
    const z4 = tf.tensor4d(Float32Array.from({ length: 2 * 3 * 2 * 5 }, () => rng.normal()), [2, 3, 2, 5]);
    const a = tf.tensor2d(Array.from({ length: 5 }, () => Array.from({ length: 5 }, () => rng.normal())));
    const loss = (z: tf.Tensor, c: tf.Tensor) => {
      const o = polyActivation(z, c as tf.Tensor2D, cfg, { implementation: 'fused' });
      return tf.add(tf.sum(tf.square(o.y)), tf.sum(o.dy)) as tf.Scalar;
    };
    const g4 = tf.grads(loss)([z4, a]);
    const g2 = tf.grads(loss)([tf.reshape(z4, [12, 5]), a]);
    expect(g4[0].shape).toEqual([2, 3, 2, 5]);
    expect(scaledError(await g4[0].data(), await g2[0].data())).toBeLessThan(1e-6);
    expect(scaledError(await g4[1].data(), await g2[1].data())).toBeLessThan(1e-6);
  });

  it('runs the fused kernels in a first-order step and the composite op under double backpropagation', async () => {
    const cfg = resolvePolyConfig({});
    const z = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
    const a = initPolyCoefficients(3, 'gelu', cfg).coeffs;
    const first = await kernelNames(() => tf.grad((zz: tf.Tensor) => tf.sum(polyActivation(zz, a, cfg).y))(z));
    expect(first).toContain(POLY_ACTIVATION);
    expect(first).toContain(POLY_ACTIVATION_GRAD);
    // gradient of a gradient: d/dz Σ (∂Σσ/∂z)² — fused gradients cannot be differentiated, so the composite op runs
    const f = (zz: tf.Tensor) => tf.sum(tf.square(tf.grad((t: tf.Tensor) => tf.sum(polyActivation(t, a, cfg).y))(zz)));
    const second = await kernelNames(() => tf.grad(f)(z));
    expect(second).not.toContain(POLY_ACTIVATION);
    const composite = tf.grad((zz: tf.Tensor) => tf.sum(tf.square(tf.grad((t: tf.Tensor) => tf.sum(polyActivation(t, a, cfg, { implementation: 'composite' }).y))(zz))))(z);
    expect(scaledError(await tf.grad(f)(z).data(), await composite.data())).toBeLessThan(1e-6);
  });

  it('no tensor leak over 100 training steps of a ChainzRule MLP with the fused DREG penalty', () => {
    const rng = new Rng(9);
    const cfg = resolvePolyConfig({});
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
    const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: 16 }, () => rng.int(3)), 'int32'), 3);
    const w = (i: number, o: number) => tf.variable(tf.randomNormal([i, o], 0, 0.4, 'float32', i * o)) as tf.Variable<tf.Rank.R2>;
    const p1 = { kernel: w(6, 8), bias: tf.variable(tf.zeros([8])) as tf.Variable<tf.Rank.R1>, coeffs: tf.variable(initPolyCoefficients(8, 'gelu', cfg).coeffs) };
    const p2 = { kernel: w(8, 8), bias: tf.variable(tf.zeros([8])) as tf.Variable<tf.Rank.R1>, coeffs: tf.variable(initPolyCoefficients(8, 'gelu', cfg).coeffs) };
    const out = w(8, 3);
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let s = 0; s < 100; s++) {
      const loss = opt.minimize(() => {
        const l1 = polyDense(x, p1, cfg, { jacobianNorm: true }); // ‖J‖_F² from the activation kernel
        const l2 = polyDense(l1.y, p2, cfg);
        const task = tf.losses.softmaxCrossEntropy(y, dense(l2.y, out));
        const pen = tf.add(tf.mean(l1.trace.jacobianFrobenius!), tf.mean(denseJacobianFrobenius(l2.trace.dy, p2.kernel))); // and from the separate kernel
        return tf.add(task, tf.mul(pen, 1e-2)) as tf.Scalar;
      }, true) as tf.Scalar;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    // the first step creates Adam's slots; after it the count never changes
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(losses[99]).toBeLessThan(losses[0]);
    opt.dispose();
    tf.dispose([x, y, out, ...Object.values(p1), ...Object.values(p2)]);
  });
});

describe('implementation switch and backends without the kernel', () => {
  const NAME = 'chainz-no-kernels';
  beforeAll(async () => {
    // a copy of the cpu backend without the fused kernels
    tf.registerBackend(NAME, () => new MathBackendCPU());
    tf.copyRegisteredKernels('cpu', NAME);
    for (const k of [POLY_ACTIVATION, POLY_ACTIVATION_GRAD, DENSE_JACOBIAN_FROBENIUS]) tf.unregisterKernel(k, NAME);
    await tf.setBackend(NAME);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
    tf.removeBackend(NAME);
    setPolyImplementation('auto');
  });

  it("'auto' falls back to the composite op; 'fused' throws a BackendError naming the backend", async () => {
    expect(hasFusedKernels()).toBe(false);
    const cfg = resolvePolyConfig({});
    const z = tf.tensor2d([[0.5, -1]]);
    const a = tf.tensor2d([[0, 1, 0, 0.1], [0.1, 0.9, 0, 0]]);
    const y = await polyActivation(z, a, cfg).y.data();
    const ref = await polyActivation(z, a, cfg, { implementation: 'composite' }).y.data();
    expect(Array.from(y)).toEqual(Array.from(ref));
    expect(() => polyActivation(z, a, cfg, { implementation: 'fused' })).toThrow(BackendError);
    expect(() => polyActivation(z, a, cfg, { implementation: 'fused' })).toThrow(/chainz-no-kernels/);
    const r = await denseJacobianFrobenius(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 1]])).data();
    expect(Array.from(r)).toEqual([5]);
  });

  it('setPolyImplementation validates its argument and sets the default', () => {
    expect(() => setPolyImplementation('gpu' as never)).toThrow(ConfigError);
    expect(() => setPolyImplementation('gpu' as never)).toThrow(/option implementation/);
    setPolyImplementation('composite');
    expect(getPolyImplementation()).toBe('composite');
    setPolyImplementation('auto');
    expect(getPolyImplementation()).toBe('auto');
  });

  it('registerPolyKernels is idempotent (no re-registration warning)', () => {
    const warn = console.warn;
    const seen: string[] = [];
    console.warn = (...m: unknown[]) => seen.push(m.join(' '));
    try {
      registerPolyKernels();
    } finally {
      console.warn = warn;
    }
    expect(seen).toEqual([]);
  });
});
