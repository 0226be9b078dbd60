// WebGPU (Dawn on Mesa llvmpipe in Node) against the cpu backend and plain-JS
// float64 references: matmul, gradients through a cubic polynomial
// activation, and a few SGD steps of a small MLP. Shapes are small on purpose
// (llvmpipe runs ~0.8 GFLOP/s) and deliberately not multiples of 4 or of the
// workgroup sizes.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Rng } from '../rng';
import { describeBackends, onBackend } from '../test';
import { resolveBackend } from './resolve';

/** Row-major float64 matrix as a plain array, shape [rows, cols]. */
type Mat = { rows: number; cols: number; v: number[] };

function randomMat(rng: Rng, rows: number, cols: number, scale = 1): Mat {
  return { rows, cols, v: Array.from({ length: rows * cols }, () => rng.normal() * scale) };
}

/** float64 reference: a [m,k] · b [k,n] → [m,n]. */
function matmul64(a: Mat, b: Mat): Mat {
  const out = new Array<number>(a.rows * b.cols).fill(0);
  for (let i = 0; i < a.rows; i++)
    for (let p = 0; p < a.cols; p++) {
      const x = a.v[i * a.cols + p];
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += x * b.v[p * b.cols + j];
    }
  return { rows: a.rows, cols: b.cols, v: out };
}

function transpose64(a: Mat): Mat {
  const v = new Array<number>(a.v.length);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) v[j * a.rows + i] = a.v[i * a.cols + j];
  return { rows: a.cols, cols: a.rows, v };
}

/** max |a − b| / max(1, max |b|): absolute error for O(1) values, relative above. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

const t2 = (m: Mat) => tf.tensor2d(m.v, [m.rows, m.cols]);

/** Cubic polynomial activation p(z) = a0 + a1 z + a2 z² + a3 z³ (Horner), with tf ops. */
function cubic(z: tf.Tensor, a: tf.Tensor1D): tf.Tensor {
  const [a0, a1, a2, a3] = tf.split(a, 4);
  return tf.add(a0, tf.mul(z, tf.add(a1, tf.mul(z, tf.add(a2, tf.mul(z, a3))))));
}

describeBackends(['webgpu'], () => {
  let before = 0;
  beforeEach(() => {
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors).toBe(before);
  });

  it('really runs on Dawn (adapter, handoff threshold 0)', () => {
    expect(tf.getBackend()).toBe('webgpu');
    expect(tf.env().getNumber('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD')).toBe(0);
  });

  it('matmul (plain and transposed) matches float64 and the cpu backend', async () => {
    const rng = new Rng(1);
    const a = randomMat(rng, 37, 53);
    const b = randomMat(rng, 53, 29);
    const ref = matmul64(a, b);
    const run = async () => {
      const [ta, tb] = [t2(a), t2(b)];
      const tbT = t2(transpose64(b));
      const plain = tf.matMul(ta, tb);
      const transB = tf.matMul(ta, tbT, false, true);
      const out = [await plain.data(), await transB.data()];
      tf.dispose([ta, tb, tbT, plain, transB]);
      return out;
    };
    const [gpu, gpuT] = await run();
    const [cpu] = await onBackend('cpu', run);
    expect(relErr(gpu, ref.v)).toBeLessThan(2e-6);
    expect(relErr(gpuT, ref.v)).toBeLessThan(2e-6);
    expect(relErr(gpu, cpu)).toBeLessThan(2e-6);
  });

  it('gradients through a cubic activation match the analytic float64 gradient and cpu', async () => {
    const rng = new Rng(2);
    const x = randomMat(rng, 9, 7, 0.7);
    const w = randomMat(rng, 7, 5, 0.5);
    const c = randomMat(rng, 9, 5);
    const coeffs = [0.1, 0.9, -0.2, 0.05];
    // L = Σ c ⊙ p(x W);  dL/dZ = c ⊙ p'(Z), p'(z) = a1 + 2 a2 z + 3 a3 z²;  dW = xᵀ dZ;  dx = dZ Wᵀ.
    const z = matmul64(x, w);
    const dz: Mat = { ...z, v: z.v.map((zi, i) => c.v[i] * (coeffs[1] + 2 * coeffs[2] * zi + 3 * coeffs[3] * zi * zi)) };
    const dw64 = matmul64(transpose64(x), dz);
    const dx64 = matmul64(dz, transpose64(w));

    const run = async () => {
      const [tx, tw, tc, ta] = [t2(x), t2(w), t2(c), tf.tensor1d(coeffs)];
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tc, cubic(tf.matMul(xx, ww), ta))));
      const [gx, gw] = g([tx, tw]);
      const out = { dx: await gx.data(), dw: await gw.data() };
      tf.dispose([tx, tw, tc, ta, gx, gw]);
      return out;
    };
    const gpu = await run();
    const cpu = await onBackend('cpu', run);
    expect(relErr(gpu.dw, dw64.v)).toBeLessThan(5e-6);
    expect(relErr(gpu.dx, dx64.v)).toBeLessThan(5e-6);
    expect(relErr(gpu.dw, cpu.dw)).toBeLessThan(5e-6);
    expect(relErr(gpu.dx, cpu.dx)).toBeLessThan(5e-6);
  });

  it('a few SGD steps of an MLP with a learnable cubic activation track the cpu backend', async () => {
    const rng = new Rng(3);
    const n = 24, d = 6, h = 10, k = 3;
    const x = randomMat(rng, n, d);
    const labels = Array.from({ length: n }, () => rng.int(k));
    const init = { w1: randomMat(rng, d, h, 1 / Math.sqrt(d)), w2: randomMat(rng, h, k, 1 / Math.sqrt(h)) };
    const steps = 4;

    const train = async () => {
      const tx = t2(x);
      const ty = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), k));
      // Variables survive tidy; their initial-value tensors do not.
      const params = tf.tidy(() => ({
        w1: tf.variable(t2(init.w1), true, 'w1'),
        b1: tf.variable(tf.zeros([h]), true, 'b1'),
        a: tf.variable(tf.tensor1d([0, 1, 0, 0.1]), true, 'a'),
        w2: tf.variable(t2(init.w2), true, 'w2'),
        b2: tf.variable(tf.zeros([k]), true, 'b2'),
      }));
      const opt = tf.train.sgd(0.2);
      const losses: number[] = [];
      for (let s = 0; s < steps; s++) {
        const loss = opt.minimize(() => {
          const hid = cubic(tf.add(tf.matMul(tx, params.w1), params.b1), params.a);
          const logits = tf.add(tf.matMul(hid, params.w2), params.b2);
          return tf.losses.softmaxCrossEntropy(ty, logits);
        }, true) as tf.Scalar;
        losses.push((await loss.data())[0]);
        loss.dispose();
      }
      const w1 = await params.w1.data();
      const a = await params.a.data();
      opt.dispose();
      tf.dispose([tx, ty, ...Object.values(params)]);
      return { losses, w1, a };
    };

    const gpu = await train();
    const cpu = await onBackend('cpu', train);
    expect(gpu.losses[steps - 1]).toBeLessThan(gpu.losses[0]);
    expect(relErr(gpu.losses, cpu.losses)).toBeLessThan(1e-5);
    expect(relErr(gpu.w1, cpu.w1)).toBeLessThan(1e-5);
    expect(relErr(gpu.a, cpu.a)).toBeLessThan(1e-5);
  });

  it("resolveBackend('auto') skips the software (llvmpipe) adapter for wasm; 'webgpu' by name uses it", async () => {
    const res = await resolveBackend('auto', { env: {} });
    expect(res).toMatchObject({ name: 'wasm', source: 'argument' });
    expect(res.skipped.slice(0, 2)).toEqual([
      { name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu', reason: 'not installed' },
      { name: 'tensorflow', package: '@tensorflow/tfjs-node', reason: 'not installed' },
    ]);
    expect(res.skipped.find((s) => s.name === 'webgpu')?.reason).toMatch(/software WebGPU adapter \(.*llvmpipe.*\).*--backend webgpu/i);
    const forced = await resolveBackend('webgpu', { env: {} });
    expect(forced).toMatchObject({ name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', device: 'webgpu' });
  });
});
